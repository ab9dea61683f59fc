//! GitHub: an organisation's teams, members and audit log, through the REST
//! and GraphQL APIs; the OAuth device flow for signing in.
//!
//! The secret is a token: a personal access token (classic or fine-grained)
//! or a GitHub App installation token, or the OAuth app token the device flow
//! yields when the instance has a `client-id`. It goes as `Authorization:
//! Bearer` to the API host only, with GitHub's media type and API version.
//! R-C7: an endpoint replaces both `https://api.github.com` and
//! `https://github.com`; the paths stay GitHub's.

mod api;
mod apps;
mod audit;
mod device;
mod directory;
mod signal;

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use url::Url;

use super::http::{Http, RetryPolicy};
use super::url::base;
use super::{
    ActivityBatch, ConnectionCheck, Connector, ConnectorError, DeviceCode, DomainTally, Page,
};
use crate::domain::{AppKind, Instance, InstanceId, RemoteGroup, RemoteUser, Secret};

pub use device::SCOPES as DEVICE_FLOW_SCOPES;
pub use signal::GitHubSignal;

const VENDOR: &str = "GitHub";
const API: &str = "https://api.github.com";
const WEB: &str = "https://github.com";

/// GitHub's two hosts, or the one endpoint that stands in for both.
#[derive(Debug, Clone, PartialEq)]
struct Hosts {
    api: Url,
    /// Where the OAuth endpoints live.
    web: Url,
}

impl Hosts {
    fn new(endpoint: Option<&str>) -> Result<Hosts, ConnectorError> {
        match endpoint {
            None => Ok(Hosts {
                api: base(API)?,
                web: base(WEB)?,
            }),
            Some(e) => {
                let one = base(e)?;
                Ok(Hosts {
                    api: one.clone(),
                    web: one,
                })
            }
        }
    }
}

/// A connected GitHub organisation.
pub struct GitHub {
    instance: InstanceId,
    /// The organisation's login.
    org: String,
    secret: Secret,
    api: Url,
    http: Http,
    page_size: u32,
    /// GraphQL refused this token: REST only from now on.
    graphql_refused: AtomicBool,
    /// The token may not read public e-mails (GraphQL `email`).
    public_email_refused: AtomicBool,
    /// Domains of verified-domain e-mails: of the member scan under way, and
    /// of the last complete one.
    scan_domains: Mutex<(DomainTally, DomainTally)>,
}

impl std::fmt::Debug for GitHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHub")
            .field("instance", &self.instance)
            .field("org", &self.org)
            .field("api", &self.api.as_str())
            .finish_non_exhaustive()
    }
}

impl GitHub {
    pub fn new(instance: &Instance, secret: Secret) -> Result<GitHub, ConnectorError> {
        GitHub::with_policy(instance, secret, RetryPolicy::default())
    }

    pub fn with_policy(
        instance: &Instance,
        secret: Secret,
        policy: RetryPolicy,
    ) -> Result<GitHub, ConnectorError> {
        GitHub::build(instance, secret, policy, GitHubSignal::default())
    }

    /// Tests: GitHub's one-minute wait after a secondary limit that names no
    /// wait, shortened.
    pub fn with_secondary_wait(
        instance: &Instance,
        secret: Secret,
        policy: RetryPolicy,
        secondary: Duration,
    ) -> Result<GitHub, ConnectorError> {
        GitHub::build(instance, secret, policy, GitHubSignal::new(secondary))
    }

    fn build(
        instance: &Instance,
        secret: Secret,
        policy: RetryPolicy,
        signal: GitHubSignal,
    ) -> Result<GitHub, ConnectorError> {
        let org = instance.field("organization").trim().to_string();
        if org.is_empty() {
            return Err(ConnectorError::Auth {
                vendor: VENDOR,
                code: "organization".into(),
                message: "no organization given; give the organization's login with --organization"
                    .into(),
            });
        }
        Ok(GitHub {
            instance: instance.id,
            org,
            secret,
            api: Hosts::new(instance.endpoint.as_deref())?.api,
            http: Http::new(VENDOR, policy, Arc::new(signal))?,
            page_size: directory::MAX_PAGE,
            graphql_refused: AtomicBool::new(false),
            public_email_refused: AtomicBool::new(false),
            scan_domains: Mutex::new(Default::default()),
        })
    }

    /// Asks for smaller pages than GitHub's maximum of 100 (at least 1).
    pub fn with_page_size(mut self, page_size: u32) -> GitHub {
        self.page_size = page_size.clamp(1, directory::MAX_PAGE);
        self
    }
}

/// The connector for a GitHub organisation.
pub fn connector(
    instance: &Instance,
    secret: Secret,
) -> Result<Arc<dyn Connector>, ConnectorError> {
    Ok(Arc::new(GitHub::new(instance, secret)?))
}

/// The device flow's first step: a code for the person to enter at GitHub.
pub async fn begin_device_flow(instance: &Instance) -> Result<DeviceCode, ConnectorError> {
    device::begin(instance).await
}

/// Polls until the person has entered the code; the token it yields.
pub async fn finish_device_flow(
    instance: &Instance,
    code: &DeviceCode,
) -> Result<Secret, ConnectorError> {
    device::finish(instance, code).await
}

#[async_trait]
impl Connector for GitHub {
    fn app(&self) -> AppKind {
        AppKind::Github
    }

    /// R-C3: a token needs no exchange; the first page of members proves it.
    async fn check(&self) -> Result<ConnectionCheck, ConnectorError> {
        let page = self.member_page(None).await?;
        Ok(ConnectionCheck {
            users_seen: page.items.len(),
        })
    }

    async fn first_groups(&self, limit: usize) -> Result<Vec<RemoteGroup>, ConnectorError> {
        self.list_teams(limit).await
    }

    async fn search_groups(
        &self,
        text: &str,
        limit: usize,
    ) -> Result<Vec<RemoteGroup>, ConnectorError> {
        self.find_teams(text, limit).await
    }

    async fn group(&self, slug: &str) -> Result<RemoteGroup, ConnectorError> {
        self.one_team(slug).await
    }

    async fn group_members(&self, slug: &str) -> Result<Page<RemoteUser>, ConnectorError> {
        self.team_members(slug).await
    }

    async fn users(&self, next: Option<&str>) -> Result<Page<RemoteUser>, ConnectorError> {
        self.member_page(next).await
    }

    async fn org_domains(&self, _: &DomainTally) -> Result<Vec<String>, ConnectorError> {
        self.domains().await
    }

    async fn grants(
        &self,
        accounts: &[RemoteUser],
    ) -> Result<Option<Vec<crate::domain::grants::Grant>>, ConnectorError> {
        self.app_grants(accounts).await.map(Some)
    }

    async fn revoke_grant(
        &self,
        grant: &crate::domain::grants::Grant,
    ) -> Result<crate::domain::governance::ActionReceipt, ConnectorError> {
        self.revoke(grant).await
    }

    fn activity_streams(&self) -> Vec<&'static str> {
        vec![audit::STREAM]
    }

    async fn activities(
        &self,
        stream: &str,
        cursor: Option<&str>,
    ) -> Result<ActivityBatch, ConnectorError> {
        if stream != audit::STREAM {
            return Err(ConnectorError::NotFound {
                vendor: VENDOR,
                what: format!("activity stream {}", clean(stream)),
            });
        }
        self.read_audit(cursor).await
    }
}

/// DESIGN §3: vendor text is made safe before it leaves the connector.
fn clean(s: &str) -> String {
    crate::domain::text::sanitize(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    // R-C7: no endpoint means GitHub's own hosts; one endpoint replaces both.
    #[test]
    fn an_endpoint_replaces_both_hosts() {
        let h = Hosts::new(None).unwrap();
        assert_eq!(h.api.as_str(), "https://api.github.com/");
        assert_eq!(h.web.as_str(), "https://github.com/");
        let one = Hosts::new(Some("http://127.0.0.1:9000")).unwrap();
        assert_eq!(one.api, one.web);
        assert_eq!(
            crate::connectors::url::url(
                &one.api,
                &["orgs", "contoso", "teams"],
                &[("per_page", "100")]
            )
            .as_str(),
            "http://127.0.0.1:9000/orgs/contoso/teams?per_page=100"
        );
    }
}
