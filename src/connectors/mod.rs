//! One module per vendor behind one trait (`microsoft365`, `okta`, `google`,
//! `github`), and what they share: the HTTP policy (`http`: retries, each
//! vendor's throttling signal, redirects and body caps), URLs and links
//! (`url`), signed client assertions (`jwt`), token caches (`token`) and
//! audit-log sweeps (`sweep`).
//!
//! Paging is the connector's business: continuations are opaque strings (a
//! Graph `@odata.nextLink`, an Okta `link` URL, a Google page token, a
//! Dropbox cursor, a Box offset), so every vendor fits the same trait.

use async_trait::async_trait;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::domain::governance::{AccountAction, ActionReceipt};
use crate::domain::grants::Grant;
use crate::domain::{Activity, AppKind, Instance, RemoteGroup, RemoteUser, Secret};

pub mod github;
pub mod google;
pub(crate) mod governance;
pub mod http;
pub mod jwt;
pub mod microsoft365;
pub mod okta;
pub mod sweep;
pub mod token;
pub mod url;

pub use http::{WAITS, WaitNotice};

#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// The vendor refused the credentials (wrong secret, unknown client).
    #[error("{vendor} refused the credentials ({code}): {message}")]
    Auth {
        vendor: &'static str,
        code: String,
        message: String,
    },
    /// The credentials work but lack a permission.
    #[error("{vendor} denied access ({code}): {message}; grant the app the permission it names")]
    Permission {
        vendor: &'static str,
        code: String,
        message: String,
    },
    /// A credential that cannot work whatever the vendor would say (an Okta
    /// domain with a scheme or a path, a private key that is not one): what
    /// is wrong and how to write it, found before any request.
    #[error("{vendor}: {message}")]
    Invalid {
        vendor: &'static str,
        message: String,
    },
    #[error("cannot reach {host}: {detail}; check the endpoint and the network")]
    Unreachable { host: String, detail: String },
    /// Any other error the vendor answered with, in its own code and words.
    #[error("{vendor} answered {status} {code}: {message}")]
    Vendor {
        vendor: &'static str,
        status: u16,
        code: String,
        message: String,
    },
    /// Throttling or server errors that outlasted the retry budget.
    #[error("{vendor} still failing after {attempts} attempts ({last}); try again later")]
    Exhausted {
        vendor: &'static str,
        attempts: u32,
        last: String,
    },
    #[error("{vendor} sent a response casbah cannot read: {detail}")]
    Protocol {
        vendor: &'static str,
        detail: String,
    },
    #[error("casbah has no connector for {0} yet")]
    Unsupported(&'static str),
    #[error("{what} not found at {vendor}")]
    NotFound { vendor: &'static str, what: String },
    /// The vendor offers no such feed to this organisation (a GitHub
    /// organisation without the audit log): a fact to show, not a failure
    /// to retry.
    #[error("{vendor}: {what}")]
    NotAvailable { vendor: &'static str, what: String },
}

/// R-G1: e-mail domain (lower case) → how many of the organisation's own
/// accounts use it, counted by the user scan for apps that list no domains.
pub type DomainTally = BTreeMap<String, u64>;

/// The secret must never reach an error or a log, even if a vendor echoes it.
pub(crate) fn scrub(text: &str, secret: &Secret) -> String {
    let s = secret.expose();
    if s.is_empty() {
        text.to_owned()
    } else {
        text.replace(s, "****")
    }
}

/// One page of a list, and the opaque continuation to the next.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
    /// Records the vendor sent that could not be read (a user without an id):
    /// left out and logged by the connector, and counted here.
    pub skipped: usize,
}

impl<T> Page<T> {
    pub fn new(items: Vec<T>, next: Option<String>) -> Page<T> {
        Page {
            items,
            next,
            skipped: 0,
        }
    }

    /// A page of records each read on its own into `T`: one that does not
    /// read is logged (vendor, `what`, its id) and counted, not the end of
    /// the page (issue 10: one bad record is one skipped record).
    pub fn read(
        vendor: &'static str,
        what: &str,
        raw: impl IntoIterator<Item = http::RawRecord>,
        next: Option<String>,
    ) -> Page<T>
    where
        T: serde::de::DeserializeOwned,
    {
        Page::readable(raw, next, |r| http::read_record(vendor, what, &r))
    }

    /// Adds `more`'s records and skips to this page's; `more`'s continuation
    /// becomes this page's.
    pub fn extend(&mut self, more: Page<T>) {
        self.items.extend(more.items);
        self.skipped += more.skipped;
        self.next = more.next;
    }

    /// The records `read` makes sense of (it logs why it leaves one out); the
    /// others are counted as skipped.
    pub fn readable<R>(
        raw: impl IntoIterator<Item = R>,
        next: Option<String>,
        mut read: impl FnMut(R) -> Option<T>,
    ) -> Page<T> {
        let mut skipped = 0;
        let items = raw
            .into_iter()
            .filter_map(|r| {
                let item = read(r);
                skipped += usize::from(item.is_none());
                item
            })
            .collect();
        Page {
            items,
            next,
            skipped,
        }
    }
}

/// R-C3: what a successful connection check saw.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ConnectionCheck {
    /// Users on the first page of the user list.
    pub users_seen: usize,
}

/// A page of activities from one stream and the cursor to persist with it.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityBatch {
    /// Sanitized, with `groups` empty (tags are the store's job, R-G6).
    pub activities: Vec<Activity>,
    /// Opaque; passed back on the next call. Committed with the page.
    pub cursor: String,
    /// True when the stream has more to read now; false when caught up.
    pub more: bool,
}

#[async_trait]
pub trait Connector: Send + Sync {
    fn app(&self) -> AppKind;

    /// R-C3: obtain a token, then read the first page of users.
    async fn check(&self) -> Result<ConnectionCheck, ConnectorError>;

    /// R-G2: the first `limit` groups, in the vendor's order.
    async fn first_groups(&self, limit: usize) -> Result<Vec<RemoteGroup>, ConnectorError>;

    /// R-G2: the vendor's own search over group names.
    async fn search_groups(
        &self,
        text: &str,
        limit: usize,
    ) -> Result<Vec<RemoteGroup>, ConnectorError>;

    /// A group by what identifies it in the app: its id everywhere, its
    /// e-mail in Google Workspace, its slug in GitHub.
    async fn group(&self, key: &str) -> Result<RemoteGroup, ConnectorError>;

    /// R-G4: every user in the group, nested groups flattened, with status so
    /// the caller can skip inactive ones. Non-user members are left out.
    /// Members the vendor sent that could not be read are counted in `skipped`.
    async fn group_members(&self, id: &str) -> Result<Page<RemoteUser>, ConnectorError>;

    async fn users(&self, next: Option<&str>) -> Result<Page<RemoteUser>, ConnectorError>;

    /// R-G1: the members of the app's automatic administrators group
    /// (`AutoGroup::administrators_of`), e.g. members of Entra directory roles.
    /// Apps without one need not answer.
    async fn admins(&self) -> Result<Page<RemoteUser>, ConnectorError> {
        Ok(Page::new(Vec::new(), None))
    }

    /// R-G1: the organisation's own domains; anyone else is External.
    /// `accounts` tallies the domains of the accounts the last complete user
    /// scan read (empty before the first), for apps that list no domains.
    async fn org_domains(&self, accounts: &DomainTally) -> Result<Vec<String>, ConnectorError>;

    /// The activity feeds this instance reads, each with its own cursor.
    fn activity_streams(&self) -> Vec<&'static str>;

    /// The next batch of a stream. `cursor` is `None` on first connect, which
    /// starts about a week back (R-C6).
    async fn activities(
        &self,
        stream: &str,
        cursor: Option<&str>,
    ) -> Result<ActivityBatch, ConnectorError>;

    /// Issue 11: the account actions this app's API allows.
    fn account_actions(&self) -> &'static [AccountAction] {
        &[]
    }

    /// Issue 11: carries out `action` on the account whose id in the app is
    /// `user`. Sent at most once where the app's API is not idempotent: an
    /// answer that never came is an error, and the account's state says
    /// what happened.
    async fn act_on_account(
        &self,
        action: AccountAction,
        user: &str,
    ) -> Result<ActionReceipt, ConnectorError> {
        let _ = user;
        Err(ConnectorError::NotAvailable {
            vendor: self.app().display_name(),
            what: format!("its API offers no way to {} an account", action.name()),
        })
    }

    /// Issue 11: the apps the organisation's accounts granted access to, each grant
    /// with its scopes; `accounts` are the instance's, as the last user scan read
    /// them, for apps that list grants user by user. `None` where the app's API (or
    /// the instance's components) offers no list.
    async fn grants(&self, accounts: &[RemoteUser]) -> Result<Option<Vec<Grant>>, ConnectorError> {
        let _ = accounts;
        Ok(None)
    }

    /// Issue 11: revokes one grant, as `grants` listed it.
    async fn revoke_grant(&self, grant: &Grant) -> Result<ActionReceipt, ConnectorError> {
        let _ = grant;
        Err(ConnectorError::NotAvailable {
            vendor: self.app().display_name(),
            what: "its API offers no way to revoke an app's grant".into(),
        })
    }
}

/// An interactive sign-in under way (GitHub's device flow): what the person
/// must do, and what casbah polls with until they have done it.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct DeviceCode {
    /// The page where the person enters the code.
    pub verification_uri: String,
    /// The code to enter, shown to the person.
    pub user_code: String,
    /// How long the code can be entered.
    pub expires_in: std::time::Duration,
    /// How long to wait between polls, as the vendor asks.
    pub interval: std::time::Duration,
    /// Sent back when polling; never shown.
    pub device_code: Secret,
}

/// Starts the sign-in of an app whose secret is obtained interactively.
pub async fn begin_device_flow(instance: &Instance) -> Result<DeviceCode, ConnectorError> {
    match instance.app {
        AppKind::Github => github::begin_device_flow(instance).await,
        other => Err(ConnectorError::Unsupported(other.display_name())),
    }
}

/// Polls until the person has signed in (or the code expired, or they
/// refused), and returns the token to connect with.
pub async fn finish_device_flow(
    instance: &Instance,
    code: &DeviceCode,
) -> Result<Secret, ConnectorError> {
    match instance.app {
        AppKind::Github => github::finish_device_flow(instance, code).await,
        other => Err(ConnectorError::Unsupported(other.display_name())),
    }
}

/// The connector for an instance's app.
pub fn for_instance(
    instance: &Instance,
    secret: Secret,
) -> Result<Arc<dyn Connector>, ConnectorError> {
    match instance.app {
        AppKind::Microsoft365 => Ok(Arc::new(microsoft365::Microsoft365::new(instance, secret)?)),
        AppKind::Okta => okta::connector(instance, secret),
        AppKind::GoogleWorkspace => google::connector(instance, secret),
        AppKind::Github => github::connector(instance, secret),
        other => Err(ConnectorError::Unsupported(other.display_name())),
    }
}
