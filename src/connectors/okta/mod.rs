//! Okta through its management API: groups, users, the System Log, and the
//! grants users gave OAuth clients.
//!
//! Two ways in, chosen by the instance's fields (the catalog's two methods):
//! `domain` alone means the secret is an API token, sent as
//! `Authorization: SSWS …`; `domain` with `client-id` means an API service app
//! whose secret is its private key (PEM or JWK), which signs a
//! `private_key_jwt` client assertion traded at `/oauth2/v1/token` for a
//! Bearer token (`auth`).
//!
//! Lists page by the `Link: <…>; rel="next"` header, followed exactly as given
//! and only to the origin they came from (`api`). Throttling is Okta's 429
//! with `X-Rate-Limit-Reset`, always waited out in full (`throttle`). Okta
//! groups do not nest, and it has no administrators group (R-G1), so
//! `admins` keeps the trait's empty answer.

mod api;
mod auth;
mod directory;
mod governance;
mod grants;
mod logs;
mod throttle;

use std::sync::Arc;

use async_trait::async_trait;
use url::Url;

use super::governance::grants_of_accounts;
use super::http::{Http, RetryPolicy};
use super::{ActivityBatch, ConnectionCheck, Connector, ConnectorError, DomainTally, Page};
use crate::domain::governance::{AccountAction, ActionReceipt};
use crate::domain::grants::Grant;
use crate::domain::{AppKind, Instance, InstanceId, RemoteGroup, RemoteUser, Secret};

pub use directory::own_domains;
pub use logs::SYSTEM_LOG;
pub use throttle::RateLimitReset;

const VENDOR: &str = "Okta";

/// Okta's largest page for users, groups and members.
pub const MAX_PAGE: u32 = 200;
/// The System Log's largest page.
pub const MAX_LOG_PAGE: u32 = 1000;

/// A connected Okta org.
pub struct Okta {
    instance: InstanceId,
    /// The org's own host name (acme.okta.com), whatever `base` says.
    domain: String,
    /// `https://{domain}`, or the instance's endpoint (R-C7).
    base: Url,
    auth: auth::Auth,
    /// The API token or the private key; kept out of every error.
    secret: Secret,
    http: Http,
    page_size: u32,
    log_page_size: u32,
}

impl std::fmt::Debug for Okta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Okta")
            .field("instance", &self.instance)
            .field("domain", &self.domain)
            .field("base", &self.base.as_str())
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

/// The connector for an Okta instance.
pub fn connector(
    instance: &Instance,
    secret: Secret,
) -> Result<Arc<dyn Connector>, ConnectorError> {
    Ok(Arc::new(Okta::new(instance, secret)?))
}

/// Okta's rate-limit windows last a minute, and a reset counted from the
/// answer's whole-second `Date` can lie a second or two beyond that: the
/// longest wait a connector must be ready to sit out rather than give up.
const LONGEST_RESET: std::time::Duration = std::time::Duration::from_secs(62);

impl Okta {
    /// With the shared retry policy, stretched to wait out a whole Okta
    /// rate-limit window.
    pub fn new(instance: &Instance, secret: Secret) -> Result<Okta, ConnectorError> {
        let policy = RetryPolicy::default();
        let policy = RetryPolicy {
            max_wait: policy.max_wait.max(LONGEST_RESET),
            ..policy
        };
        Okta::with_policy(instance, secret, policy)
    }

    /// Refuses a domain that is not a bare host name, and a service app's
    /// key that cannot sign, before any request.
    pub fn with_policy(
        instance: &Instance,
        secret: Secret,
        policy: RetryPolicy,
    ) -> Result<Okta, ConnectorError> {
        let domain = host_name(instance.field("domain"))?;
        let base = match instance.endpoint.as_deref() {
            Some(endpoint) => super::url::base(endpoint)?,
            None => super::url::base(&format!("https://{domain}"))?,
        };
        let auth = auth::Auth::new(instance.field("client-id"), &domain, &secret)?;
        Ok(Okta {
            instance: instance.id,
            domain,
            base,
            auth,
            secret,
            http: Http::new(VENDOR, policy, Arc::new(RateLimitReset))?,
            page_size: MAX_PAGE,
            log_page_size: MAX_LOG_PAGE,
        })
    }

    /// Asks for smaller pages of users, groups and members (1 to 200).
    pub fn with_page_size(mut self, page_size: u32) -> Okta {
        self.page_size = page_size.clamp(1, MAX_PAGE);
        self
    }

    /// Asks for smaller System Log pages (1 to 1000).
    pub fn with_log_page_size(mut self, page_size: u32) -> Okta {
        self.log_page_size = page_size.clamp(1, MAX_LOG_PAGE);
        self
    }
}

/// The Okta domain as a host name (`acme.okta.com`, or a custom domain such
/// as `login.acme.com`), lower case. A scheme, a path or a port in it is
/// refused in one sentence that shows how to write it.
fn host_name(raw: &str) -> Result<String, ConnectorError> {
    let text = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    let refuse = |why: &str| ConnectorError::Invalid {
        vendor: VENDOR,
        message: format!(
            "the domain {:?} {why}; give the org's host name only, such as acme.okta.com",
            clean(raw.trim())
        ),
    };
    if text.is_empty() {
        return Err(ConnectorError::Invalid {
            vendor: VENDOR,
            message: "the domain is missing; give the org's host name, such as acme.okta.com"
                .to_owned(),
        });
    }
    if text.contains("://") {
        return Err(refuse("carries a scheme"));
    }
    if text.contains(['/', '?', '#']) {
        return Err(refuse("carries a path"));
    }
    if text.contains(':') {
        return Err(refuse("carries a port"));
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if !text.contains('.') || !text.split('.').all(label_ok) {
        return Err(refuse("is not a host name"));
    }
    Ok(text)
}

#[async_trait]
impl Connector for Okta {
    fn app(&self) -> AppKind {
        AppKind::Okta
    }

    async fn check(&self) -> Result<ConnectionCheck, ConnectorError> {
        // A service app's token first: its refusal says more than a 401 would.
        self.auth.prepare(self).await?;
        let first = self.users_at(None).await?;
        Ok(ConnectionCheck {
            users_seen: first.items.len(),
        })
    }

    async fn users(&self, next: Option<&str>) -> Result<Page<RemoteUser>, ConnectorError> {
        self.users_at(next).await
    }

    /// R-G1: the read scopes list no domains; the org's own accounts say
    /// which are its (`own_domains`). Asked before the first user scan has
    /// counted them, a first page of accounts stands in for the tally, so
    /// the first activity scan does not take everyone for an outsider.
    async fn org_domains(&self, accounts: &DomainTally) -> Result<Vec<String>, ConnectorError> {
        if !accounts.is_empty() {
            return Ok(own_domains(accounts));
        }
        let mut sample = DomainTally::new();
        for user in self.users_at(None).await?.items {
            if let Some((_, domain)) = user.email.rsplit_once('@') {
                *sample.entry(domain.to_lowercase()).or_default() += 1;
            }
        }
        Ok(own_domains(&sample))
    }

    async fn first_groups(&self, limit: usize) -> Result<Vec<RemoteGroup>, ConnectorError> {
        let size = limit.clamp(1, self.page_size as usize);
        self.groups_where(&[("limit", size.to_string())], limit)
            .await
    }

    async fn search_groups(
        &self,
        text: &str,
        limit: usize,
    ) -> Result<Vec<RemoteGroup>, ConnectorError> {
        match text.trim() {
            "" => self.first_groups(limit).await,
            text => {
                let query = directory::group_search(text, limit, self.page_size);
                self.groups_where(&query, limit).await
            }
        }
    }

    /// An Okta group is known by its id.
    async fn group(&self, key: &str) -> Result<RemoteGroup, ConnectorError> {
        self.group_by_id(key.trim()).await
    }

    /// R-G4: in any status; the import keeps the active ones. Okta groups
    /// do not nest, so there is nothing to flatten.
    async fn group_members(&self, id: &str) -> Result<Page<RemoteUser>, ConnectorError> {
        self.users_of_group(id.trim()).await
    }

    fn activity_streams(&self) -> Vec<&'static str> {
        vec![SYSTEM_LOG]
    }

    async fn activities(
        &self,
        stream: &str,
        cursor: Option<&str>,
    ) -> Result<ActivityBatch, ConnectorError> {
        if stream == SYSTEM_LOG {
            return self.read_log(cursor).await;
        }
        Err(ConnectorError::NotFound {
            vendor: VENDOR,
            what: format!("activity stream {}", clean(stream)),
        })
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

    /// Issue 11: the consents the active users gave OAuth clients.
    async fn grants(&self, accounts: &[RemoteUser]) -> Result<Option<Vec<Grant>>, ConnectorError> {
        let read = |account| self.grants_of(account);
        grants_of_accounts(VENDOR, accounts, read).await.map(Some)
    }

    async fn revoke_grant(&self, grant: &Grant) -> Result<ActionReceipt, ConnectorError> {
        self.revoke_client(grant).await
    }
}

/// DESIGN §3: vendor text is made safe before it leaves the connector.
fn clean(s: &str) -> String {
    crate::domain::text::sanitize(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(raw: &str) -> String {
        match host_name(raw) {
            Err(ConnectorError::Invalid { message, .. }) => message,
            other => panic!("{raw:?} gave {other:?}"),
        }
    }

    #[test]
    fn domains_are_bare_host_names() {
        assert_eq!(host_name(" Acme.Okta.com ").unwrap(), "acme.okta.com");
        assert_eq!(host_name("login.acme.co.uk.").unwrap(), "login.acme.co.uk");
        assert!(invalid("https://acme.okta.com").contains("carries a scheme"));
        assert!(invalid("acme.okta.com/admin").contains("carries a path"));
        assert!(invalid("acme.okta.com:443").contains("carries a port"));
        assert!(invalid("acme").contains("is not a host name"));
        assert!(invalid("acme..okta.com").contains("is not a host name"));
        assert!(invalid("-acme.okta.com").contains("is not a host name"));
        assert!(invalid("").contains("missing"));
        // One sentence that shows the way to write it.
        let message = invalid("https://acme.okta.com/");
        assert!(message.contains("such as acme.okta.com"), "{message}");
        assert!(!message.contains('\n'));
    }
}
