//! A generated organisation served on loopback through each vendor's own API
//! dialect, with its paging, errors and throttling.
//!
//! `start` binds loopback only, generates the organisation from the seed and
//! serves it. Tests read and change the organisation through
//! [`Sandbox::org`] and [`Sandbox::add_member`] and its siblings (renames
//! among them, which serve hostile names), push
//! activities with [`Sandbox::push_activity`], expire credentials with
//! [`Sandbox::expire_tokens`] / [`Sandbox::expire_delta_tokens`], steer
//! faults with [`Sandbox::set_faults`] / [`Sandbox::fail_next`], and check
//! what was served with [`Sandbox::served`] / [`Sandbox::served_with`].
//!
//! Layout: `config` (what to serve, fault specs), `org` (the generator: the
//! people every dialect derives its accounts from), `activity` (the computed
//! timeline of activity streams), the mechanism every dialect configures
//! rather than copies (`paging`: keyed lists, opaque cursors, page-size rules;
//! `filter`: clauses each dialect's query syntax parses into; `dialect`: how a
//! vendor says throttled, unavailable or unknown; `faults` and `listener`:
//! misbehaviour in front of every dialect, and clients caught coming back
//! early), one module per vendor dialect (`microsoft`, `okta`, `google`,
//! `github`), and `connections` (how to connect to each, for `sandbox serve`
//! and the demo).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use uuid::Uuid;

use crate::domain::Secret;

pub mod activity;
mod config;
mod connections;
mod dialect;
mod faults;
mod filter;
pub mod geoip;
mod github;
pub mod google;
pub mod hooks;
mod listener;
pub mod mail;
mod microsoft;
mod okta;
pub mod org;
mod paging;

pub use activity::{PushedActivity, Stream};
pub use config::{DEFAULT_RETRY_AFTER, FaultSpec, FaultSpecError, SandboxConfig};
pub use connections::SandboxConnection;
pub use faults::Fault;
pub use github::{GitHubCredentials, GitHubMember, GitHubOrgError};
pub use microsoft::external::{ExternalChange, StoredConnection, StoredGroup, StoredItem};
pub use okta::{
    OktaAccount, OktaConsent, OktaCredentials, OktaGroupInfo, OktaSandboxError, OktaStatus,
};
pub use org::{Org, OrgError};

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("the sandbox only listens on loopback; {0} is not a loopback address, use 127.0.0.1")]
    NotLoopback(SocketAddr),
    #[error("cannot listen on {addr}: {source}; pick another port or use port 0")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the sandbox needs at least one user")]
    NoUsers,
    #[error("generating the organisation failed: {0}")]
    Generate(String),
}

/// A running sandbox. Dropping it stops the server.
pub struct Sandbox {
    pub addr: SocketAddr,
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: Secret,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
}

/// State shared by every request handler.
pub(crate) struct Shared {
    pub(crate) config: SandboxConfig,
    pub(crate) base_url: String,
    /// The moment the timeline is anchored to: history lies in the seven
    /// days before it, the live stream after it.
    pub(crate) started: DateTime<Utc>,
    org: RwLock<Org>,
    pub(crate) timeline: activity::Timeline,
    pub(crate) faults: faults::FaultState,
    /// Every vendor dialect; the first answers for paths none claims.
    dialects: Vec<Box<dyn dialect::Dialect>>,
    pub(crate) microsoft: microsoft::MicrosoftState,
    pub(crate) okta: okta::State,
    pub(crate) google: google::State,
    pub(crate) github: github::State,
    served: Mutex<BTreeMap<(String, u16), u64>>,
}

/// Status recorded for a request whose connection was dropped unanswered.
pub const DROPPED: u16 = 0;

impl Shared {
    pub(crate) fn org(&self) -> RwLockReadGuard<'_, Org> {
        self.org.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn org_mut(&self) -> RwLockWriteGuard<'_, Org> {
        self.org.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The dialect whose vendor serves `path`.
    fn dialect(&self, path: &str) -> &dyn dialect::Dialect {
        let found = self.dialects.iter().find(|d| d.serves(path));
        found.unwrap_or(&self.dialects[0]).as_ref()
    }

    pub(crate) fn record(&self, path: &str, status: u16) {
        *lock_mutex(&self.served)
            .entry((path.to_string(), status))
            .or_insert(0) += 1;
    }
}

/// A path no dialect routes, answered in the words of the vendor it looks like.
async fn unknown(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    uri: axum::http::Uri,
) -> axum::response::Response {
    shared.dialect(uri.path()).unknown(uri.path())
}

/// Locks, shrugging off poisoning: a handler that panicked leaves the
/// sandbox's plain data (counters, queues) still usable.
pub(crate) fn lock_mutex<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Starts a sandbox; see [`Sandbox::start`].
pub async fn start(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
    Sandbox::start(config).await
}

impl Sandbox {
    /// Refuses a non-loopback address, binds, generates the organisation and
    /// serves it until the returned handle is dropped.
    pub async fn start(config: SandboxConfig) -> Result<Sandbox, SandboxError> {
        if !config.listen.ip().is_loopback() {
            return Err(SandboxError::NotLoopback(config.listen));
        }
        if config.users == 0 {
            return Err(SandboxError::NoUsers);
        }
        let tcp = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| SandboxError::Bind {
                addr: config.listen,
                source,
            })?;
        let addr = tcp.local_addr().map_err(|source| SandboxError::Bind {
            addr: config.listen,
            source,
        })?;
        // A large organisation takes a while: keep it off the async threads.
        let (seed, users) = (config.seed, config.users);
        let org = tokio::task::spawn_blocking(move || Org::generate(seed, users))
            .await
            .map_err(|e| SandboxError::Generate(e.to_string()))?;
        // Whole milliseconds: activity times are kept in milliseconds.
        let now = Utc::now();
        let started = DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now);
        let shared = Arc::new(Shared {
            base_url: format!("http://{addr}"),
            started,
            timeline: activity::Timeline::new(&config, started),
            faults: faults::FaultState::new(config.seed, config.faults.clone()),
            dialects: vec![
                Box::new(microsoft::Dialect),
                Box::<okta::Dialect>::default(),
                Box::new(google::Dialect),
                Box::<github::Dialect>::default(),
            ],
            microsoft: microsoft::MicrosoftState::default(),
            okta: okta::State::new(&org, &config),
            google: google::State::new(&org, &config),
            github: github::State::new(&org, &config),
            org: RwLock::new(org),
            served: Mutex::new(BTreeMap::new()),
            config,
        });
        let (tenant_id, client_id, client_secret) = {
            let org = shared.org();
            (
                org.tenant_id.to_string(),
                org.client_id.to_string(),
                Secret::new(org.client_secret.clone()),
            )
        };
        let app = axum::Router::new()
            .merge(microsoft::router(shared.clone()))
            .merge(okta::router(shared.clone()))
            .merge(google::router(shared.clone()))
            .merge(github::router(shared.clone()))
            .merge(
                axum::Router::new()
                    .fallback(unknown)
                    .with_state(shared.clone()),
            )
            .layer(axum::middleware::from_fn_with_state(
                shared.clone(),
                faults::layer,
            ));
        let (stop, mut stopped) = watch::channel(false);
        let listener = listener::SandboxListener { inner: tcp };
        let server = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<listener::Connection>(),
        )
        .with_graceful_shutdown(async move {
            // Either an explicit stop or the handle being dropped ends it.
            let _ = stopped.wait_for(|s| *s).await;
        });
        tokio::spawn(async move {
            if let Err(e) = server.await {
                tracing::warn!(error = %e, "sandbox server stopped with an error");
            }
        });
        Ok(Sandbox {
            addr,
            tenant_id,
            client_id,
            client_secret,
            shared,
            stop,
        })
    }

    /// "http://127.0.0.1:PORT": the host to put in place of every vendor host.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// This tenant as a Microsoft 365 instance to connect (with
    /// `client_secret`), reached through `base_url`.
    pub fn microsoft365_instance(
        &self,
        name: &str,
        components: Vec<crate::domain::Component>,
    ) -> crate::store::NewInstance {
        crate::store::NewInstance {
            endpoint: Some(self.base_url()),
            components,
            ..crate::store::NewInstance::new(crate::domain::AppKind::Microsoft365, name)
                .with_field("tenant-id", &self.tenant_id)
                .with_field("client-id", &self.client_id)
        }
    }

    /// Stops serving; also happens on drop.
    pub fn shutdown(self) {
        drop(self);
    }

    /// When the timeline was anchored (history before, live stream after).
    pub fn started(&self) -> DateTime<Utc> {
        self.shared.started
    }

    /// Reads the organisation. Drop the guard before changing the
    /// organisation through this handle or awaiting anything.
    pub fn org(&self) -> RwLockReadGuard<'_, Org> {
        self.shared.org()
    }

    /// Adds a user, group, device or contact to a group.
    pub fn add_member(&self, group: Uuid, member: Uuid) -> Result<(), OrgError> {
        self.shared.org_mut().add_member(&group, &member)
    }

    pub fn remove_member(&self, group: Uuid, member: Uuid) -> Result<(), OrgError> {
        self.shared.org_mut().remove_member(&group, &member)
    }

    pub fn set_account_enabled(&self, user: Uuid, enabled: bool) -> Result<(), OrgError> {
        self.shared.org_mut().set_account_enabled(&user, enabled)
    }

    /// The application permissions granted to casbah's app registration in
    /// the tenant (issue 11: account governance needs write ones).
    pub fn set_graph_permissions(&self, permissions: &[&str]) {
        *lock_mutex(&self.shared.microsoft.governance.granted) =
            permissions.iter().map(|p| p.to_string()).collect();
    }

    /// Issue 11: how many times Graph revoked the delegated grant or app role
    /// assignment `id` (once at most: it is gone after).
    pub fn graph_revoked(&self, id: &str) -> u64 {
        lock_mutex(&self.shared.microsoft.apps)
            .revoked
            .get(id)
            .copied()
            .unwrap_or(0)
    }

    /// How many times Graph carried out `action` (`disable`, `enable`,
    /// `revoke-sessions`, `force-password-change`) on `user`.
    pub fn graph_acted(&self, user: Uuid, action: &str) -> u64 {
        lock_mutex(&self.shared.microsoft.governance.acted)
            .get(&(user, action.to_string()))
            .copied()
            .unwrap_or(0)
    }

    /// Renames a user, with any text: tests serve hostile names this way.
    pub fn rename_user(&self, user: Uuid, display_name: &str) -> Result<(), OrgError> {
        self.shared.org_mut().rename_user(&user, display_name)
    }

    /// Renames a group and replaces its description, with any text.
    pub fn rename_group(
        &self,
        group: Uuid,
        display_name: &str,
        description: Option<&str>,
    ) -> Result<(), OrgError> {
        self.shared
            .org_mut()
            .rename_group(&group, display_name, description)
    }

    /// Issue 10: serves `field` of `user` as `value` (e.g. `"accountEnabled":
    /// "yes"`) wherever Graph lists the user, so one record does not read.
    pub fn mistype_user(
        &self,
        user: Uuid,
        field: &str,
        value: serde_json::Value,
    ) -> Result<(), OrgError> {
        self.shared.org_mut().mistype_user(&user, field, value)
    }

    /// Soft-deletes or restores a user (memberships stay either way).
    pub fn set_deleted(&self, user: Uuid, deleted: bool) -> Result<(), OrgError> {
        self.shared.org_mut().set_deleted(&user, deleted)
    }

    /// Adds an activity to a stream, served beside the generated ones.
    pub fn push_activity(&self, activity: PushedActivity) {
        self.shared.timeline.push(activity);
    }

    /// Expires every access token issued so far, so the next call with one
    /// is refused and the client must fetch a new token.
    pub fn expire_tokens(&self) {
        self.shared.microsoft.tokens.expire_all();
    }

    /// Invalidates every groups delta token handed out so far: the next
    /// call with one gets 410 Gone and must start a full pass again.
    pub fn expire_delta_tokens(&self) {
        self.shared.org_mut().expire_delta_tokens();
    }

    /// Replaces the random fault rates.
    pub fn set_faults(&self, spec: FaultSpec) {
        self.shared.faults.set_spec(spec);
    }

    /// Makes the next `count` requests whose path starts with `path_prefix`
    /// fail with `fault`, whatever the random rates say.
    pub fn fail_next(&self, path_prefix: &str, fault: Fault, count: u32) {
        self.shared.faults.fail_next(path_prefix, fault, count);
    }

    /// Requests to `vendor` ("Microsoft", "Okta", "Google", "GitHub") that came back
    /// before the wait a throttled answer asked for was over.
    pub fn early_retries(&self, vendor: &str) -> u64 {
        self.shared.faults.early(vendor)
    }

    /// Requests answered for `path` (query excluded), any status.
    pub fn served(&self, path: &str) -> u64 {
        lock_mutex(&self.shared.served)
            .iter()
            .filter(|((p, _), _)| p == path)
            .map(|(_, n)| n)
            .sum()
    }

    /// Requests answered for `path` with `status` ([`DROPPED`] for dropped).
    pub fn served_with(&self, path: &str, status: u16) -> u64 {
        lock_mutex(&self.shared.served)
            .get(&(path.to_string(), status))
            .copied()
            .unwrap_or(0)
    }

    /// Every (path, status) → count served so far.
    pub fn served_all(&self) -> BTreeMap<(String, u16), u64> {
        lock_mutex(&self.shared.served).clone()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
