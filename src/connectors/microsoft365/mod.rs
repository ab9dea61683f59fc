//! Microsoft 365 through Microsoft Graph v1.0 and the Office 365 Management Activity API.
//!
//! One Entra ID app registration (tenant, client id, client secret) reads the
//! directory (groups, members, users, roles, domains) and the activity feeds
//! the instance's components ask for (R-C5): sign-ins and directory audits
//! from Graph, file and mailbox activity from the Management API.

mod activities;
mod api;
mod audits;
mod auth;
mod directory;
mod endpoints;
pub mod external;
mod governance;
mod grants;
mod management;
mod office_record;
mod signins;

use std::sync::Arc;

use async_trait::async_trait;

use super::http::{Http, RetryAfterSignal, RetryPolicy};
use super::{ActivityBatch, ConnectionCheck, Connector, ConnectorError, DomainTally, Page};
use crate::domain::governance::{AccountAction, ActionReceipt};
use crate::domain::grants::Grant;
use crate::domain::{AppKind, Component, Instance, InstanceId, RemoteGroup, RemoteUser, Secret};

use auth::{Credentials, Scope, Tokens};
use endpoints::Hosts;

const VENDOR: &str = "Microsoft 365";

/// A connected Microsoft 365 tenant.
pub struct Microsoft365 {
    instance: InstanceId,
    tenant: String,
    client_id: String,
    secret: Secret,
    components: Vec<Component>,
    hosts: Hosts,
    http: Http,
    tokens: Tokens,
    /// Largest page asked of Graph; each API's own maximum still applies.
    page_size: u32,
    /// Management API content types whose subscription this process started.
    subscribed: tokio::sync::Mutex<Vec<&'static str>>,
}

impl std::fmt::Debug for Microsoft365 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Microsoft365")
            .field("instance", &self.instance)
            .field("tenant", &self.tenant)
            .field("client_id", &self.client_id)
            .field("hosts", &self.hosts)
            .finish_non_exhaustive()
    }
}

impl Microsoft365 {
    /// R-C7: `instance.endpoint`, when set, stands in for every Microsoft host.
    pub fn new(instance: &Instance, secret: Secret) -> Result<Microsoft365, ConnectorError> {
        Microsoft365::with_policy(instance, secret, RetryPolicy::default())
    }

    pub fn with_policy(
        instance: &Instance,
        secret: Secret,
        policy: RetryPolicy,
    ) -> Result<Microsoft365, ConnectorError> {
        Ok(Microsoft365 {
            instance: instance.id,
            tenant: instance.field("tenant-id").to_owned(),
            client_id: instance.field("client-id").to_owned(),
            secret,
            components: instance.components.clone(),
            hosts: Hosts::new(instance.endpoint.as_deref())?,
            http: Http::new(VENDOR, policy, Arc::new(RetryAfterSignal))?,
            tokens: Tokens::default(),
            page_size: directory::MAX_DIRECTORY_PAGE,
            subscribed: tokio::sync::Mutex::new(Vec::new()),
        })
    }

    /// Asks for smaller pages than the APIs' maximum (at least 1).
    pub fn with_page_size(mut self, page_size: u32) -> Microsoft365 {
        self.page_size = page_size.max(1);
        self
    }

    fn credentials(&self) -> Credentials<'_> {
        Credentials {
            http: &self.http,
            hosts: &self.hosts,
            tenant: &self.tenant,
            client_id: &self.client_id,
            secret: &self.secret,
        }
    }

    async fn token(&self, scope: Scope) -> Result<Secret, ConnectorError> {
        self.tokens.get(scope, &self.credentials()).await
    }
}

#[async_trait]
impl Connector for Microsoft365 {
    fn app(&self) -> AppKind {
        AppKind::Microsoft365
    }

    async fn check(&self) -> Result<ConnectionCheck, ConnectorError> {
        self.token(Scope::Graph).await?;
        let page = self.user_page(None).await?;
        Ok(ConnectionCheck {
            users_seen: page.items.len(),
        })
    }

    async fn first_groups(&self, limit: usize) -> Result<Vec<RemoteGroup>, ConnectorError> {
        self.list_groups(limit).await
    }

    async fn search_groups(
        &self,
        text: &str,
        limit: usize,
    ) -> Result<Vec<RemoteGroup>, ConnectorError> {
        self.find_groups(text, limit).await
    }

    async fn group(&self, id: &str) -> Result<RemoteGroup, ConnectorError> {
        self.one_group(id).await
    }

    async fn group_members(&self, id: &str) -> Result<Page<RemoteUser>, ConnectorError> {
        self.members(id).await
    }

    async fn users(&self, next: Option<&str>) -> Result<Page<RemoteUser>, ConnectorError> {
        self.user_page(next).await
    }

    async fn admins(&self) -> Result<Page<RemoteUser>, ConnectorError> {
        self.role_members().await
    }

    async fn org_domains(&self, _: &DomainTally) -> Result<Vec<String>, ConnectorError> {
        self.domains().await
    }

    fn activity_streams(&self) -> Vec<&'static str> {
        activities::streams(&self.components)
    }

    async fn activities(
        &self,
        stream: &str,
        cursor: Option<&str>,
    ) -> Result<ActivityBatch, ConnectorError> {
        self.read_stream(stream, cursor).await
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

    async fn grants(&self, accounts: &[RemoteUser]) -> Result<Option<Vec<Grant>>, ConnectorError> {
        self.app_grants(accounts).await
    }

    async fn revoke_grant(&self, grant: &Grant) -> Result<ActionReceipt, ConnectorError> {
        self.revoke(grant).await
    }
}

/// DESIGN §3: vendor text is made safe before it leaves the connector.
fn clean(s: &str) -> String {
    crate::domain::text::sanitize(s)
}

use super::scrub;

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use axum::http::{HeaderMap, StatusCode};
    use axum::response::IntoResponse;
    use axum::routing::{get, post};

    use super::*;

    /// Issues tokens "t1", "t2", …; `/v1.0/users` accepts only those in `good`.
    async fn server(good: &'static [&'static str]) -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
        let issued = Arc::new(AtomicUsize::new(0));
        let calls = Arc::new(AtomicUsize::new(0));
        let (i, c) = (issued.clone(), calls.clone());
        let app = axum::Router::new()
            .route(
                "/{tenant}/oauth2/v2.0/token",
                post(move || {
                    let n = i.fetch_add(1, Ordering::SeqCst) + 1;
                    async move {
                        axum::Json(serde_json::json!({
                            "token_type": "Bearer", "expires_in": 3599, "access_token": format!("t{n}")
                        }))
                    }
                }),
            )
            .route(
                "/v1.0/users",
                get(move |headers: HeaderMap| {
                    c.fetch_add(1, Ordering::SeqCst);
                    async move {
                        let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
                        if good.iter().any(|t| auth == format!("Bearer {t}")) {
                            axum::Json(serde_json::json!({"value": [{"id": "u1", "mail": "a@x.com"}]})).into_response()
                        } else {
                            (
                                StatusCode::UNAUTHORIZED,
                                axum::Json(serde_json::json!({"error": {"code": "InvalidAuthenticationToken", "message": "Access token has expired or is not yet valid."}})),
                            )
                                .into_response()
                        }
                    }
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (format!("http://{addr}"), issued, calls)
    }

    fn connector(endpoint: String) -> Microsoft365 {
        let instance = Instance {
            id: InstanceId(1),
            app: AppKind::Microsoft365,
            name: "t".into(),
            fields: [("tenant-id", "tenant"), ("client-id", "client")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .into(),
            endpoint: Some(endpoint),
            components: vec![Component::UsersAndGroups],
            created_at: 0,
        };
        let policy = RetryPolicy {
            backoff_base: Duration::from_millis(1),
            ..RetryPolicy::default()
        };
        Microsoft365::with_policy(&instance, Secret::new("client-secret-value"), policy).unwrap()
    }

    // A token revoked before its expiry is replaced once, transparently.
    #[tokio::test]
    async fn a_refused_token_is_refreshed_once() {
        let (endpoint, issued, calls) = server(&["t2"]).await;
        let page = connector(endpoint)
            .users(None)
            .await
            .expect("second token works");
        assert_eq!(page.items.len(), 1);
        assert_eq!(issued.load(Ordering::SeqCst), 2);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_token_refused_twice_is_an_auth_error() {
        let (endpoint, issued, calls) = server(&[]).await;
        let err = connector(endpoint).users(None).await.unwrap_err();
        assert!(
            matches!(&err, ConnectorError::Auth { code, .. } if code == "InvalidAuthenticationToken"),
            "{err}"
        );
        assert_eq!(issued.load(Ordering::SeqCst), 2);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
