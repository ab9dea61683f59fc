//! Issue 11: the tenant's app permissions, with the Azure AD apps component. The
//! apps are its service principals; what they hold is the delegated grants
//! (`oauth2PermissionGrants`: a user's consent, or an administrator's for all
//! users) and the application permissions assigned to each app
//! (`servicePrincipals/{id}/appRoleAssignments`, named by the resource's
//! `appRoles`). Every list is read to its last `@odata.nextLink`.
//!
//! Revoking deletes the grant, or the app role assignment (whose path names the
//! app, so its id is kept as `{app}/{assignment}`). Both are idempotent at Graph:
//! a second DELETE of the same id is a 404, which the caller reads as gone.

use std::collections::HashMap;

use reqwest::Method;
use serde::Deserialize;

use super::api::Call;
use super::auth::Scope;
use super::endpoints::url;
use super::external::call;
use super::{Microsoft365, VENDOR, clean};
use crate::connectors::ConnectorError;
use crate::connectors::governance::receipt;
use crate::domain::governance::ActionReceipt;
use crate::domain::grants::{Grant, GrantKind};
use crate::domain::{Component, RemoteUser};

const READ_PERMISSION: &str = "Application.Read.All (or Directory.Read.All)";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Principal {
    id: String,
    #[serde(default)]
    app_id: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    app_roles: Vec<AppRole>,
}

#[derive(Debug, Deserialize)]
struct AppRole {
    id: String,
    #[serde(default)]
    value: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PermissionGrant {
    id: String,
    client_id: String,
    #[serde(default)]
    consent_type: String,
    #[serde(default)]
    principal_id: Option<String>,
    #[serde(default)]
    scope: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Assignment {
    id: String,
    app_role_id: String,
    #[serde(default)]
    created_date_time: Option<String>,
}

impl Microsoft365 {
    fn graph_list(&self, path: &[&str], query: &[(&str, &str)], what: &str) -> Call {
        let mut segments = vec!["v1.0"];
        segments.extend_from_slice(path);
        let mut query = query.to_vec();
        let top = self
            .page_size
            .min(super::directory::MAX_DIRECTORY_PAGE)
            .to_string();
        query.push(("$top", &top));
        Call::get(
            Scope::Graph,
            url(&self.hosts.graph, &segments, &query),
            READ_PERMISSION,
            what.to_owned(),
        )
    }

    pub(super) async fn app_grants(
        &self,
        accounts: &[RemoteUser],
    ) -> Result<Option<Vec<Grant>>, ConnectorError> {
        if !self.components.contains(&Component::Apps) {
            return Ok(None);
        }
        let principals: Vec<Principal> = self
            .collect(
                self.graph_list(
                    &["servicePrincipals"],
                    &[("$select", "id,appId,displayName,appRoles")],
                    "the service principals",
                ),
                usize::MAX,
                "service principal",
            )
            .await?
            .items;
        let roles: HashMap<&str, &str> = principals
            .iter()
            .flat_map(|p| &p.app_roles)
            .filter_map(|r| Some((r.id.as_str(), r.value.as_deref()?)))
            .collect();
        let apps: HashMap<&str, &Principal> =
            principals.iter().map(|p| (p.id.as_str(), p)).collect();
        let users: HashMap<&str, &RemoteUser> =
            accounts.iter().map(|a| (a.id.as_str(), a)).collect();
        let name_of = |p: &Principal| clean(p.display_name.as_deref().unwrap_or(&p.app_id));

        let delegated: Vec<PermissionGrant> = self
            .collect(
                self.graph_list(&["oauth2PermissionGrants"], &[], "the delegated grants"),
                usize::MAX,
                "delegated permission grant",
            )
            .await?
            .items;
        let mut grants = Vec::new();
        for g in delegated {
            let Some(app) = apps.get(g.client_id.as_str()) else {
                continue;
            };
            let everyone = g.consent_type.eq_ignore_ascii_case("AllPrincipals");
            let user = g.principal_id.as_deref().and_then(|id| users.get(id));
            grants.push(Grant {
                id: clean(&g.id),
                kind: if everyone {
                    GrantKind::AllUsers
                } else {
                    GrantKind::User
                },
                app_id: clean(&app.app_id),
                app_name: name_of(app),
                user: user.map(|u| u.key()),
                account_id: g.principal_id.as_deref().map(clean),
                scopes: g
                    .scope
                    .as_deref()
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(clean)
                    .collect(),
                granted_at: None,
                revocable: true,
            });
        }
        // Application permissions: what each app was assigned as itself.
        for p in &principals {
            let path = ["servicePrincipals", p.id.as_str(), "appRoleAssignments"];
            let assigned: Vec<Assignment> = self
                .collect(
                    self.graph_list(&path, &[], &format!("app {}", clean(&p.id))),
                    usize::MAX,
                    "app role assignment",
                )
                .await?
                .items;
            for a in assigned {
                let role = roles
                    .get(a.app_role_id.as_str())
                    .copied()
                    .unwrap_or("(unnamed role)");
                grants.push(Grant {
                    id: format!("{}/{}", clean(&p.id), clean(&a.id)),
                    kind: GrantKind::Application,
                    app_id: clean(&p.app_id),
                    app_name: name_of(p),
                    user: None,
                    account_id: None,
                    scopes: vec![clean(role)],
                    granted_at: a
                        .created_date_time
                        .as_deref()
                        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                        .map(|t| t.timestamp_micros()),
                    revocable: true,
                });
            }
        }
        Ok(Some(grants))
    }

    pub(super) async fn revoke(&self, grant: &Grant) -> Result<ActionReceipt, ConnectorError> {
        let (target, permission) = match (grant.kind, grant.id.split_once('/')) {
            (GrantKind::Application, Some((app, assignment))) => (
                url(
                    &self.hosts.graph,
                    &[
                        "v1.0",
                        "servicePrincipals",
                        app,
                        "appRoleAssignments",
                        assignment,
                    ],
                    &[],
                ),
                "AppRoleAssignment.ReadWrite.All",
            ),
            (GrantKind::Application, None) => {
                return Err(ConnectorError::Invalid {
                    vendor: VENDOR,
                    message: format!(
                        "app role assignment {:?} does not name its app; read the users again",
                        grant.id
                    ),
                });
            }
            _ => (
                url(
                    &self.hosts.graph,
                    &["v1.0", "oauth2PermissionGrants", &grant.id],
                    &[],
                ),
                "DelegatedPermissionGrant.ReadWrite.All",
            ),
        };
        let c = call(
            Method::DELETE,
            target,
            permission,
            format!("grant {}", clean(&grant.id)),
        );
        self.send(&c, None, receipt(Some("request-id")))
            .await
            .map_err(super::governance::as_connector_error)
    }
}
