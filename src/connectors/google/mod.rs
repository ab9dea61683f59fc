//! Google Workspace through the Admin SDK: the Directory API (groups, their
//! members, users, and the tokens accounts issued to apps) and the Reports
//! API (login, admin, Drive and OAuth token activity).
//!
//! casbah reads as a service account with domain-wide delegation that
//! impersonates an administrator: the instance's fields are `admin-email`
//! (the administrator) and `customer-id`, and its secret is the service
//! account's JSON key file. The account signs an RS256 JWT asking for
//! exactly [`SCOPES`] and trades it for an access token (`auth`).
//!
//! R-C7: an endpoint replaces both `https://oauth2.googleapis.com` (and the
//! key file's `token_uri`) and `https://admin.googleapis.com`; the paths stay
//! Google's.

mod activities;
mod api;
mod auth;
mod directory;
mod governance;
mod grants;
mod key;

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use url::Url;

use super::governance::grants_of_accounts;
use super::http::{Http, RetryPolicy};
use super::token::TokenSlot;
use super::url::{base, url};
use super::{ActivityBatch, ConnectionCheck, Connector, ConnectorError, DomainTally, Page};
use crate::domain::governance::{AccountAction, ActionReceipt};
use crate::domain::grants::Grant;
use crate::domain::{AppKind, Instance, InstanceId, RemoteGroup, RemoteUser, Secret};

pub use auth::{GRANT_SCOPES, MANAGE_SCOPES, SCOPES};
use directory::prefix_clause;

const VENDOR: &str = "Google Workspace";
const ADMIN_API: &str = "https://admin.googleapis.com";

/// The connector for a Google Workspace instance.
pub fn connector(
    instance: &Instance,
    secret: Secret,
) -> Result<Arc<dyn Connector>, ConnectorError> {
    let google = GoogleWorkspace::with_policy(instance, secret, RetryPolicy::default())?;
    Ok(Arc::new(google))
}

/// Where the token request and the API calls go.
#[derive(Debug, Clone, PartialEq)]
struct Hosts {
    /// The whole token URL: the key file's `token_uri`, or `{endpoint}/token`.
    token: Url,
    /// `https://admin.googleapis.com`, or the endpoint.
    api: Url,
}

impl Hosts {
    fn new(endpoint: Option<&str>, token_uri: &str) -> Result<Hosts, ConnectorError> {
        match endpoint {
            Some(e) => {
                let one = base(e)?;
                Ok(Hosts {
                    token: url(&one, &["token"], &[]),
                    api: one,
                })
            }
            None => Ok(Hosts {
                token: base(token_uri)?,
                api: base(ADMIN_API)?,
            }),
        }
    }
}

/// A connected Google Workspace customer. Its Debug shows no secret: the
/// key, the key file and the token print masked.
#[derive(Debug)]
pub struct GoogleWorkspace {
    instance: InstanceId,
    /// The administrator the service account acts as (the JWT's `sub`).
    admin: String,
    /// `customer` on Directory calls: the id, or Google's `my_customer`.
    customer: String,
    key: key::ServiceAccountKey,
    /// The whole key file, kept only to be masked wherever Google echoes it.
    secret: Secret,
    hosts: Hosts,
    http: Http,
    token: TokenSlot,
    /// The token for acting on accounts, with the read-write scopes (issue 11).
    manage_token: TokenSlot,
    /// The token for reading and revoking app grants (issue 11).
    grants_token: TokenSlot,
    /// Largest page asked for; each list's own maximum still applies.
    page_size: u32,
}

impl GoogleWorkspace {
    /// The connector, retrying as `policy` says. A key file that is not a
    /// service account's key is refused here, before anything is sent.
    pub fn with_policy(
        instance: &Instance,
        secret: Secret,
        policy: RetryPolicy,
    ) -> Result<GoogleWorkspace, ConnectorError> {
        let key = key::ServiceAccountKey::parse(&secret)?;
        let customer = match instance.field("customer-id").trim() {
            "" => "my_customer".to_owned(),
            id => id.to_owned(),
        };
        Ok(GoogleWorkspace {
            instance: instance.id,
            admin: instance.field("admin-email").trim().to_owned(),
            customer,
            hosts: Hosts::new(instance.endpoint.as_deref(), &key.token_uri)?,
            key,
            secret,
            http: Http::new(VENDOR, policy, Arc::new(api::QuotaSignal))?,
            token: TokenSlot::default(),
            manage_token: TokenSlot::default(),
            grants_token: TokenSlot::default(),
            page_size: activities::MAX_PAGE,
        })
    }

    /// Asks for smaller pages than the APIs' maxima (at least 1).
    pub fn with_page_size(mut self, page_size: u32) -> GoogleWorkspace {
        self.page_size = page_size.max(1);
        self
    }

    /// The page size for a list whose maximum is `max`.
    fn page(&self, max: u32) -> String {
        self.page_size.min(max).to_string()
    }

    /// Google's text with nothing of the key in it, made safe (DESIGN §3).
    fn clean(&self, text: &str) -> String {
        clean(&self.key.scrub(&super::scrub(text, &self.secret)))
    }
}

#[async_trait]
impl Connector for GoogleWorkspace {
    fn app(&self) -> AppKind {
        AppKind::GoogleWorkspace
    }

    async fn check(&self) -> Result<ConnectionCheck, ConnectorError> {
        self.token().await?;
        let page = self.user_page(None).await?;
        Ok(ConnectionCheck {
            users_seen: page.items.len(),
        })
    }

    async fn users(&self, next: Option<&str>) -> Result<Page<RemoteUser>, ConnectorError> {
        self.user_page(next).await
    }

    /// Every Workspace account's primary e-mail is in one of the customer's
    /// domains, so no call is needed (see `domains`).
    async fn org_domains(&self, accounts: &DomainTally) -> Result<Vec<String>, ConnectorError> {
        Ok(self.domains(accounts))
    }

    async fn admins(&self) -> Result<Page<RemoteUser>, ConnectorError> {
        Ok(Page::new(self.administrators().await?, None))
    }

    async fn search_groups(
        &self,
        text: &str,
        limit: usize,
    ) -> Result<Vec<RemoteGroup>, ConnectorError> {
        // Google's own search: names, then e-mails, starting with the text.
        let text = text.trim();
        if text.is_empty() {
            return self.list_groups(None, limit).await;
        }
        let mut found = self
            .list_groups(Some(prefix_clause("name", text)), limit)
            .await?;
        // An e-mail has no spaces; text with some can only be a name.
        if !text.contains(char::is_whitespace) && found.len() < limit {
            let mut seen: HashSet<String> = found.iter().map(|g| g.id.clone()).collect();
            let by_email = self
                .list_groups(Some(prefix_clause("email", text)), limit)
                .await?;
            found.extend(by_email.into_iter().filter(|g| seen.insert(g.id.clone())));
        }
        found.truncate(limit);
        Ok(found)
    }

    async fn first_groups(&self, limit: usize) -> Result<Vec<RemoteGroup>, ConnectorError> {
        self.list_groups(None, limit).await
    }

    async fn group_members(&self, id: &str) -> Result<Page<RemoteUser>, ConnectorError> {
        self.members(id).await
    }

    /// By id or by e-mail: names are not unique in Google Workspace.
    async fn group(&self, key: &str) -> Result<RemoteGroup, ConnectorError> {
        self.one_group(key).await
    }

    fn activity_streams(&self) -> Vec<&'static str> {
        activities::STREAMS.to_vec()
    }

    async fn activities(
        &self,
        stream: &str,
        cursor: Option<&str>,
    ) -> Result<ActivityBatch, ConnectorError> {
        activities::read(self, stream, cursor).await
    }

    // Every account action the API offers.
    fn account_actions(&self) -> &'static [AccountAction] {
        &AccountAction::ALL
    }

    async fn act_on_account(
        &self,
        action: AccountAction,
        user: &str,
    ) -> Result<ActionReceipt, ConnectorError> {
        self.act(action, user).await
    }

    /// Issue 11: the tokens the active accounts issued to apps.
    async fn grants(&self, accounts: &[RemoteUser]) -> Result<Option<Vec<Grant>>, ConnectorError> {
        let read = |account| self.tokens_of(account);
        grants_of_accounts(VENDOR, accounts, read).await.map(Some)
    }

    async fn revoke_grant(&self, grant: &Grant) -> Result<ActionReceipt, ConnectorError> {
        self.revoke_token(grant).await
    }
}

/// DESIGN §3: vendor text is made safe before it leaves the connector.
use crate::domain::text::sanitize as clean;

#[cfg(test)]
mod tests {
    use super::*;

    // R-C7: no endpoint: the key file's token_uri and Google's API host.
    #[test]
    fn default_hosts_are_googles() {
        let h = Hosts::new(None, "https://oauth2.googleapis.com/token").unwrap();
        assert_eq!(h.token.as_str(), "https://oauth2.googleapis.com/token");
        assert_eq!(h.api.as_str(), "https://admin.googleapis.com/");
    }

    // R-C7: an endpoint replaces both hosts and the key file's token_uri.
    #[test]
    fn an_endpoint_replaces_both_hosts_and_the_token_uri() {
        let h = Hosts::new(
            Some("http://127.0.0.1:9000"),
            "https://oauth2.googleapis.com/token",
        )
        .unwrap();
        assert_eq!(h.token.as_str(), "http://127.0.0.1:9000/token");
        assert_eq!(
            url(&h.api, &["admin", "directory", "v1", "groups"], &[]).as_str(),
            "http://127.0.0.1:9000/admin/directory/v1/groups"
        );
    }
}
