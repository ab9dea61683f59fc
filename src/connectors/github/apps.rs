//! Issue 11: the GitHub Apps installed in the organisation and the permissions each
//! holds (`GET /orgs/{org}/installations`, an owner's token with `admin:read`).
//! Each installation is a grant the organisation gave the app as itself. GitHub
//! offers an organisation owner no API to uninstall a third-party app, so those
//! are not revocable here.
//!
//! With SAML single sign-on, the OAuth app tokens and personal access tokens
//! members authorised for the organisation (`GET /orgs/{org}/credential-
//! authorizations`, `read:org`): each a grant of its member, its app named by the
//! credential's title. Removing the authorization (`DELETE …/{credential_id}`,
//! `admin:org`) cuts the credential off from the organisation. Without SSO GitHub
//! answers 404, read as none.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use super::api::Missing;
use super::{GitHub, VENDOR, clean};
use crate::connectors::http::RawRecord;
use crate::connectors::url::follow;
use crate::connectors::{ConnectorError, Page};
use crate::domain::RemoteUser;
use crate::domain::governance::ActionReceipt;
use crate::domain::grants::{Grant, GrantKind};

#[derive(Debug, Deserialize)]
struct Installations {
    #[serde(default)]
    installations: Vec<RawRecord>,
}

#[derive(Debug, Deserialize)]
struct Installation {
    id: u64,
    app_slug: String,
    #[serde(default)]
    permissions: BTreeMap<String, String>,
    #[serde(default)]
    created_at: Option<String>,
}

impl GitHub {
    /// The installed apps, and the SSO authorizations where the organisation has SSO.
    pub(super) async fn app_grants(
        &self,
        accounts: &[RemoteUser],
    ) -> Result<Vec<Grant>, ConnectorError> {
        let per_page = self.page().to_string();
        let mut call = self.rest(
            &["orgs", &self.org, "installations"],
            &[("per_page", &per_page)],
            "the app installations".into(),
            Missing::Organization,
        );
        call.scope = "admin:read";
        let mut grants = Vec::new();
        loop {
            let (page, next): (Installations, _) = self.get(&call).await?;
            let empty = page.installations.is_empty();
            let read = Page::<Installation>::read(VENDOR, "installation", page.installations, None);
            grants.extend(read.items.into_iter().map(|i| {
                Grant {
                    id: format!("installation/{}", i.id),
                    kind: GrantKind::Application,
                    app_id: clean(&i.app_slug),
                    app_name: clean(&i.app_slug),
                    user: None,
                    account_id: None,
                    // As a scope reads: `contents:write`.
                    scopes: i
                        .permissions
                        .iter()
                        .map(|(what, level)| clean(&format!("{what}:{level}")))
                        .collect(),
                    granted_at: time(i.created_at.as_deref()),
                    revocable: false,
                }
            }));
            match next {
                Some(link) if !empty => call.url = follow(VENDOR, &link, &self.api)?,
                _ => break,
            }
        }
        grants.extend(self.sso_authorizations(accounts).await?);
        Ok(grants)
    }

    /// The credentials members authorised for SSO; none where the organisation
    /// has no SSO (404).
    async fn sso_authorizations(
        &self,
        accounts: &[RemoteUser],
    ) -> Result<Vec<Grant>, ConnectorError> {
        let per_page = self.page().to_string();
        let call = self.rest(
            &["orgs", &self.org, "credential-authorizations"],
            &[("per_page", &per_page)],
            "the SAML SSO authorizations".into(),
            Missing::Item,
        );
        let listed: Page<Authorization> = match self.all(call, usize::MAX, "credential").await {
            Ok(page) => page,
            Err(ConnectorError::NotFound { .. }) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let keys: HashMap<String, String> = accounts
            .iter()
            .filter_map(|a| Some((a.principal_name.as_deref()?.to_lowercase(), a.key())))
            .collect();
        Ok(listed
            .items
            .into_iter()
            .filter(|a| !a.credential_type.eq_ignore_ascii_case("SSH key"))
            .map(|a| {
                let login = clean(&a.login);
                let title = a
                    .authorized_credential_title
                    .as_deref()
                    .filter(|t| !t.trim().is_empty())
                    .map_or_else(|| clean(&a.credential_type), clean);
                Grant {
                    id: format!("sso/{}", a.credential_id),
                    kind: GrantKind::User,
                    app_id: title.clone(),
                    app_name: title,
                    user: Some(
                        keys.get(&login.to_lowercase())
                            .cloned()
                            .unwrap_or(login.to_lowercase()),
                    ),
                    account_id: Some(login),
                    scopes: a.scopes.iter().map(|s| clean(s)).collect(),
                    granted_at: time(a.credential_authorized_at.as_deref()),
                    revocable: true,
                }
            })
            .collect())
    }

    pub(super) async fn revoke(&self, grant: &Grant) -> Result<ActionReceipt, ConnectorError> {
        let Some(credential) = grant.id.strip_prefix("sso/") else {
            return Err(ConnectorError::NotAvailable {
                vendor: VENDOR,
                what: format!(
                    "its API offers no way to uninstall {}: an owner uninstalls it in the organisation's settings",
                    grant.app_name
                ),
            });
        };
        let mut call = self.rest(
            &["orgs", &self.org, "credential-authorizations", credential],
            &[],
            format!("credential {}", clean(credential)),
            Missing::Item,
        );
        call.scope = "admin:org";
        self.delete(&call).await
    }
}

#[derive(Debug, Deserialize)]
struct Authorization {
    login: String,
    credential_id: u64,
    #[serde(default)]
    credential_type: String,
    #[serde(default)]
    authorized_credential_title: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    credential_authorized_at: Option<String>,
}

fn time(t: Option<&str>) -> Option<i64> {
    t.and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.timestamp_micros())
}
