//! Calls to Okta's management API: the credential in every request, one
//! fresh service-app token after a 401, the `Link` header's `next` followed
//! exactly as given, and Okta's error object mapped to `ConnectorError`.

use serde::Deserialize;
use url::Url;

use super::{Okta, VENDOR, clean};
use crate::connectors::http::{BodyError, RawRecord, Reply, json};
use crate::connectors::url::{follow, next_link};
use crate::connectors::{ConnectorError, scrub};
use crate::domain::Secret;

/// What a call reads (or, for account actions, changes), which says what a
/// 403 lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reads {
    Users,
    Groups,
    Logs,
    ManageUsers,
    /// Revoking the grants users gave apps (issue 11).
    RevokeGrants,
}

impl Reads {
    fn scope(self) -> &'static str {
        match self {
            Reads::Users => "okta.users.read",
            Reads::Groups => "okta.groups.read",
            Reads::Logs => "okta.logs.read",
            Reads::ManageUsers | Reads::RevokeGrants => super::auth::MANAGE_SCOPE,
        }
    }

    fn role(self) -> &'static str {
        match self {
            Reads::Users => "read users",
            Reads::Groups => "read groups and their members",
            Reads::Logs => "read the System Log",
            Reads::ManageUsers => {
                "manage users (suspend them, end their sessions, expire passwords)"
            }
            Reads::RevokeGrants => "manage users (revoke the grants they gave apps)",
        }
    }
}

/// One GET, described so it can be sent again and its failure explained.
pub(super) struct Call {
    pub url: Url,
    pub reads: Reads,
    /// What a 404 means ("group 00g1").
    pub what: String,
}

/// A page of records, each still raw so one bad record can be skipped alone,
/// and the `next` link when Okta gave one.
pub(super) struct Records {
    pub items: Vec<RawRecord>,
    pub next: Option<String>,
}

/// Okta's error object.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct OktaError {
    #[serde(default)]
    error_code: String,
    #[serde(default)]
    error_summary: String,
    #[serde(default)]
    error_causes: Vec<Cause>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Cause {
    #[serde(default)]
    error_summary: String,
}

/// A JSON array and the reply's `next` link. Anything but an array is the
/// wrong shape: one `Protocol` error, not a retry.
fn records(reply: &Reply) -> Result<Records, BodyError> {
    let items: Vec<RawRecord> = json(reply).map_err(|e| match e.retry {
        true => e,
        false => BodyError {
            retry: false,
            detail: "expected a JSON array of records".to_owned(),
        },
    })?;
    Ok(Records {
        items,
        next: next_link(&reply.headers),
    })
}

impl Okta {
    pub(super) fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        crate::connectors::url::url(&self.base, segments, query)
    }

    /// A continuation link, followed as given to the org's own origin only.
    pub(super) fn follow(&self, link: &str) -> Result<Url, ConnectorError> {
        follow(VENDOR, link, &self.base)
    }

    /// One page of a list.
    pub(super) async fn page(&self, call: &Call) -> Result<Records, ConnectorError> {
        self.send(call, records).await
    }

    /// One object.
    pub(super) async fn object(&self, call: &Call) -> Result<RawRecord, ConnectorError> {
        self.send(call, json::<RawRecord>).await
    }

    /// Every record from `first` on, through each `next` link, until `limit`.
    pub(super) async fn collect(
        &self,
        mut call: Call,
        limit: usize,
    ) -> Result<Vec<RawRecord>, ConnectorError> {
        let mut items = Vec::new();
        loop {
            let page = self.page(&call).await?;
            items.extend(page.items);
            match page.next {
                Some(next) if items.len() < limit => call.url = self.follow(&next)?,
                _ => break,
            }
        }
        items.truncate(limit);
        Ok(items)
    }

    /// Sends `call` with the instance's credential. A 401 to a service app's
    /// token drops it and tries once more with a fresh one (tokens can be
    /// revoked before they expire).
    async fn send<T>(
        &self,
        call: &Call,
        decode: impl Fn(&Reply) -> Result<T, BodyError>,
    ) -> Result<T, ConnectorError> {
        let mut renewed = false;
        loop {
            let header = self.auth.header(self).await?;
            let reply = self
                .http
                .send(|c| self.build(c, &call.url, &header), &decode)
                .await?;
            match reply {
                Ok(value) => return Ok(value),
                Err(r) if r.status.as_u16() == 401 && !renewed && self.auth.is_service_app() => {
                    tracing::info!(vendor = VENDOR, "token refused; fetching a new one");
                    self.auth.forget(&header).await;
                    renewed = true;
                }
                Err(r) => return Err(self.api_error(&r, call)),
            }
        }
    }

    fn build(&self, c: &reqwest::Client, url: &Url, header: &Secret) -> reqwest::RequestBuilder {
        c.get(url.clone())
            .header(reqwest::header::AUTHORIZATION, header.expose())
            .header(reqwest::header::ACCEPT, "application/json")
    }

    /// Okta's `{errorCode, errorSummary, errorCauses}`, mapped to what the
    /// person can act on, in one line, the secret never in it.
    pub(super) fn api_error(&self, reply: &Reply, call: &Call) -> ConnectorError {
        let e: OktaError = serde_json::from_slice(&reply.body).unwrap_or_default();
        let status = reply.status.as_u16();
        let code = match clean(&e.error_code) {
            c if c.is_empty() => format!("HTTP {status}"),
            c => c,
        };
        let mut said = e
            .error_summary
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned();
        let causes: Vec<&str> = e
            .error_causes
            .iter()
            .map(|c| c.error_summary.trim())
            .filter(|c| !c.is_empty())
            .collect();
        if !causes.is_empty() {
            said = format!("{said}: {}", causes.join("; "));
        }
        let said = scrub(&clean(said.trim()), &self.secret);
        let code = scrub(&code, &self.secret);
        let vendor = VENDOR;
        match status {
            401 => ConnectorError::Auth {
                vendor,
                code,
                message: self.refused(&said),
            },
            403 => ConnectorError::Permission {
                vendor,
                code,
                message: self.lacking(call),
            },
            404 => ConnectorError::NotFound {
                vendor,
                what: call.what.clone(),
            },
            _ if said.is_empty() => ConnectorError::Vendor {
                vendor,
                status,
                code,
                message: format!("{} failed", call.what),
            },
            _ => ConnectorError::Vendor {
                vendor,
                status,
                code,
                message: said,
            },
        }
    }

    /// What a 401 means for the credential in use.
    fn refused(&self, said: &str) -> String {
        if self.auth.is_service_app() {
            format!(
                "the service app's access token was refused ({said}); check that the app is active in the org"
            )
        } else {
            format!(
                "the API token was refused ({said}); create a new one under Security › API › Tokens"
            )
        }
    }

    /// What a 403 lacks: a scope for a service app, an admin role for a token.
    fn lacking(&self, call: &Call) -> String {
        let (what, can) = (&call.what, call.reads.role());
        if self.auth.is_service_app() {
            let scope = call.reads.scope();
            format!(
                "{what} needs the scope {scope} granted to the service app, and an admin role that can {can}"
            )
        } else {
            let who = match call.reads {
                Reads::ManageUsers | Reads::RevokeGrants => "an Organization Administrator",
                _ => "a Read-only Administrator",
            };
            format!("{what} needs an API token of an administrator who can {can} ({who} can)")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::http::tests::reply_with as reply;
    use crate::domain::{AppKind, Instance, InstanceId};

    fn okta(client_id: Option<&str>) -> Okta {
        const KEY: &str = include_str!("../../../assets/sandbox/okta-service-app.pem");
        let mut fields = vec![("domain", "acme.okta.com")];
        fields.extend(client_id.map(|c| ("client-id", c)));
        let instance = Instance {
            id: InstanceId(1),
            app: AppKind::Okta,
            name: "acme".into(),
            fields: fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            endpoint: None,
            components: Vec::new(),
            created_at: 0,
        };
        let secret = if client_id.is_some() {
            KEY
        } else {
            "00secret-api-token"
        };
        Okta::new(&instance, Secret::new(secret)).unwrap()
    }

    fn call(reads: Reads) -> Call {
        Call {
            url: Url::parse("https://acme.okta.com/api/v1/logs").unwrap(),
            reads,
            what: "the System Log".into(),
        }
    }

    // R-C3: a missing permission is named: the scope for a service app, the
    // admin role for an API token.
    #[test]
    fn denials_name_the_scope_or_the_role() {
        let body = r#"{"errorCode":"E0000006","errorSummary":"You do not have permission to perform the requested action","errorLink":"E0000006","errorId":"oae1","errorCauses":[]}"#;
        let err = okta(Some("0oa1")).api_error(&reply(403, body), &call(Reads::Logs));
        assert!(
            matches!(&err, ConnectorError::Permission { code, message, .. }
                if code == "E0000006" && message.contains("okta.logs.read")),
            "{err}"
        );
        let err = okta(None).api_error(&reply(403, body), &call(Reads::Logs));
        assert!(err.to_string().contains("read the System Log"), "{err}");
    }

    #[test]
    fn refusals_and_other_errors_keep_oktas_code() {
        let o = okta(None);
        let err = o.api_error(
            &reply(
                401,
                r#"{"errorCode":"E0000011","errorSummary":"Invalid token provided","errorCauses":[]}"#,
            ),
            &call(Reads::Users),
        );
        assert!(
            matches!(&err, ConnectorError::Auth { code, message, .. }
                if code == "E0000011" && message.contains("Invalid token provided")),
            "{err}"
        );
        let err = o.api_error(
            &reply(
                400,
                r#"{"errorCode":"E0000001","errorSummary":"Api validation failed: limit","errorCauses":[{"errorSummary":"limit: must be between 1 and 200"}]}"#,
            ),
            &call(Reads::Users),
        );
        assert!(
            matches!(&err, ConnectorError::Vendor { status: 400, code, message, .. }
                if code == "E0000001" && message == "Api validation failed: limit: limit: must be between 1 and 200"),
            "{err}"
        );
        let err = o.api_error(&reply(404, "not json"), &call(Reads::Groups));
        assert!(matches!(err, ConnectorError::NotFound { .. }), "{err}");
        let err = o.api_error(&reply(500, ""), &call(Reads::Groups));
        assert!(
            matches!(&err, ConnectorError::Vendor { code, .. } if code == "HTTP 500"),
            "{err}"
        );
    }

    #[test]
    fn an_echoed_token_never_reaches_the_error() {
        let err = okta(None).api_error(
            &reply(
                400,
                r#"{"errorCode":"E0000001","errorSummary":"bad header SSWS 00secret-api-token"}"#,
            ),
            &call(Reads::Users),
        );
        assert!(!err.to_string().contains("00secret-api-token"), "{err}");
    }

    #[test]
    fn only_arrays_are_pages() {
        let err = records(&reply(200, r#"{"errorCode":"E0000001"}"#))
            .err()
            .unwrap();
        assert!(!err.retry);
        let page = records(&reply(200, r#"[{"id":"00u1"},{"profile":{}}]"#)).unwrap();
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.next, None);
    }
}
