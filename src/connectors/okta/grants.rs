//! Issue 11: app permissions in Okta, from its User Grants API: the consents a
//! user gave OAuth clients, one Okta grant per scope
//! (`GET /api/v1/users/{userId}/grants`, `okta.users.read`, paged by `Link`).
//!
//! casbah shows one grant per user and client, with all its scopes, because that
//! is what an administrator revokes: `DELETE /api/v1/users/{userId}/clients/
//! {clientId}/grants` ends every grant the user gave the client at once
//! (`okta.users.manage`, 204), where revoking scope by scope would leave the app
//! half in.

use std::collections::BTreeMap;

use chrono::DateTime;
use reqwest::Method;
use serde::Deserialize;

use super::api::{Call, Reads};
use super::{Okta, VENDOR, clean};
use crate::connectors::ConnectorError;
use crate::connectors::governance::grant_target;
use crate::connectors::http::{RawRecord, read_record};
use crate::domain::governance::ActionReceipt;
use crate::domain::grants::{Grant, GrantKind};
use crate::domain::{Micros, RemoteUser};

/// An `OAuth2ScopeConsentGrant`, as far as casbah reads it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScopeGrant {
    status: Option<String>,
    client_id: Option<String>,
    scope_id: Option<String>,
    created: Option<String>,
    #[serde(rename = "_links")]
    links: Option<Links>,
    #[serde(rename = "_embedded")]
    embedded: Option<Embedded>,
}

#[derive(Deserialize)]
struct Links {
    client: Option<Titled>,
}

#[derive(Deserialize)]
struct Titled {
    title: Option<String>,
}

/// What `expand=scope` adds: the scope itself, whose `name` is what the app may
/// do (a custom scope's `scopeId` is an id such as `scpCmCCV1DpxVkCaye2X`).
#[derive(Deserialize)]
struct Embedded {
    scope: Option<Named>,
}

#[derive(Deserialize)]
struct Named {
    name: Option<String>,
}

fn text(s: Option<&str>) -> Option<String> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(clean)
}

/// One scope the client holds for the account: the client, its name, the scope,
/// when it was granted. `None` (logged) for one that is not in force (`status`
/// other than ACTIVE) or names no client or scope.
fn scope_grant(raw: RawRecord) -> Option<(String, String, String, Option<Micros>)> {
    let g: ScopeGrant = read_record(VENDOR, "grant", &raw)?;
    if !g
        .status
        .as_deref()
        .is_some_and(|s| s.eq_ignore_ascii_case("ACTIVE"))
    {
        return None;
    }
    let named = g.embedded.and_then(|e| e.scope).and_then(|s| s.name);
    let (Some(client), Some(scope)) = (
        text(g.client_id.as_deref()),
        text(named.as_deref()).or_else(|| text(g.scope_id.as_deref())),
    ) else {
        tracing::warn!(vendor = VENDOR, "grant without a client or a scope skipped");
        return None;
    };
    let title = g.links.and_then(|l| l.client).and_then(|c| c.title);
    let name = text(title.as_deref()).unwrap_or_else(|| client.clone());
    let created = g
        .created
        .as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t.trim()).ok())
        .map(|t| t.timestamp_micros());
    Some((client, name, scope, created))
}

/// The account's scope grants, one `Grant` per client: its scopes in Okta's
/// order, since the first of them was granted.
fn by_client(account: &RemoteUser, records: Vec<RawRecord>) -> Vec<Grant> {
    let mut clients: BTreeMap<String, Grant> = BTreeMap::new();
    for (client, name, scope, created) in records.into_iter().filter_map(scope_grant) {
        let g = clients.entry(client.clone()).or_insert_with(|| Grant {
            id: format!("{}/{client}", account.id),
            kind: GrantKind::User,
            app_id: client,
            app_name: name,
            user: Some(account.key()),
            account_id: Some(account.id.clone()),
            scopes: Vec::new(),
            granted_at: None,
            revocable: true,
        });
        if !g.scopes.contains(&scope) {
            g.scopes.push(scope);
        }
        g.granted_at = match (g.granted_at, created) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    clients.into_values().collect()
}

impl Okta {
    /// One user's grants, every page of them.
    pub(super) async fn grants_of(
        &self,
        account: &RemoteUser,
    ) -> Result<Vec<Grant>, ConnectorError> {
        let limit = self.page_size.to_string();
        let first = Call {
            url: self.url(
                &["api", "v1", "users", &account.id, "grants"],
                &[("limit", &limit), ("expand", "scope")],
            ),
            reads: Reads::Users,
            what: format!("the app grants of user {}", account.id),
        };
        let records = self.collect(first, usize::MAX).await?;
        Ok(by_client(account, records))
    }

    /// Every grant the user gave the client, at once.
    pub(super) async fn revoke_client(&self, g: &Grant) -> Result<ActionReceipt, ConnectorError> {
        let (user, client) = grant_target(VENDOR, g)?;
        let call = Call {
            url: self.url(
                &["api", "v1", "users", user, "clients", client, "grants"],
                &[],
            ),
            reads: Reads::RevokeGrants,
            what: format!(
                "the grants of user {} to app {}",
                clean(user),
                clean(client)
            ),
        };
        self.send_manage(Method::DELETE, &call, true).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::active_account;
    use serde_json::{Value, json};

    fn raw(v: Value) -> RawRecord {
        crate::test_support::raw(&v)
    }

    fn okta_grant(client: &str, scope: &str, created: &str) -> Value {
        json!({"id": format!("oag{scope}"), "status": "ACTIVE", "clientId": client,
            "userId": "00u1", "scopeId": scope, "created": created, "source": "END_USER",
            "issuer": "https://acme.okta.com",
            "_links": {"client": {"href": "https://acme.okta.com/oauth2/v1/clients/x", "title": "Expense\u{1b}[2J app"}}})
    }

    // Issue 11: Okta's grants, one per scope, are one grant per client with all its
    // scopes, since the earliest; what is not in force is left out.
    #[test]
    fn scope_grants_are_one_grant_per_client() {
        let mut named = okta_grant("0oaA", "scpX", "2024-05-02T10:00:00.000Z");
        named["_embedded"] = json!({"scope": {"id": "scpX", "name": "calendar.read"}});
        let records = vec![
            raw(okta_grant(
                "0oaA",
                "okta.users.read",
                "2024-05-03T10:00:00.000Z",
            )),
            raw(named),
            raw(okta_grant("0oaB", "openid", "not a time")),
            raw(json!({"status": "REVOKED", "clientId": "0oaC", "scopeId": "email"})),
            raw(json!({"status": "ACTIVE", "scopeId": "email"})),
            raw(json!(7)),
        ];
        let grants = by_client(&active_account("00u1", "Bo@Acme.com"), records);
        assert_eq!(grants.len(), 2, "{grants:?}");
        let a = &grants[0];
        assert_eq!((a.id.as_str(), a.app_id.as_str()), ("00u1/0oaA", "0oaA"));
        assert_eq!(a.scopes, ["okta.users.read", "calendar.read"]);
        assert_eq!(
            a.granted_at,
            Some(
                chrono::DateTime::parse_from_rfc3339("2024-05-02T10:00:00Z")
                    .unwrap()
                    .timestamp_micros()
            )
        );
        assert_eq!(a.user.as_deref(), Some("bo@acme.com"));
        assert!(
            !a.app_name.chars().any(char::is_control),
            "{:?}",
            a.app_name
        );
        assert_eq!(
            (grants[1].app_id.as_str(), grants[1].granted_at),
            ("0oaB", None)
        );
    }
}
