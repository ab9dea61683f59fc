//! The tenant's OAuth apps and what they were granted (issue 11), at Graph's paths:
//!
//! - `GET /v1.0/servicePrincipals`: the apps, Microsoft Graph among them with its
//!   `appRoles` (the application permissions it defines).
//! - `GET /v1.0/oauth2PermissionGrants`: delegated grants, one per user who
//!   consented (`consentType: Principal`, `principalId`) or one for everyone an
//!   administrator consented for (`AllPrincipals`), with space-separated `scope`.
//! - `GET /v1.0/servicePrincipals/{id}/appRoleAssignments`: the application
//!   permissions an app holds as itself (`appRoleId` names one of the resource's
//!   `appRoles`).
//! - `DELETE /v1.0/oauth2PermissionGrants/{id}` (needs
//!   `DelegatedPermissionGrant.ReadWrite.All`) and
//!   `DELETE /v1.0/servicePrincipals/{id}/appRoleAssignments/{assignmentId}` (needs
//!   `AppRoleAssignment.ReadWrite.All`): 204, then 404 for the same id.
//!
//! Reading needs `Application.Read.All` or `Directory.Read.All` (granted by
//! default). Lists page by `$top` and `@odata.nextLink` like every directory list,
//! and clients that read only the first page miss most grants: the default page
//! is 100 and a tenant of a few hundred users has more grants than that.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::errors::GraphError;
use super::governance::require;
use super::graph::Listing;
use super::odata::Query;
use crate::sandbox::{Shared, lock_mutex};

/// An app of the tenant, fixed so that tests can name it.
struct AppSpec {
    name: &'static str,
    publisher: &'static str,
    /// Delegated scopes, and which users consented (every `every`-th enabled member);
    /// `every == 0` is an administrator's consent for all users.
    delegated: Option<(&'static str, usize)>,
    /// Application permissions it holds, by Graph's `appRoles` value.
    roles: &'static [&'static str],
}

const APPS: [AppSpec; 7] = [
    AppSpec {
        name: "Zoom",
        publisher: "Zoom Video Communications",
        delegated: Some(("openid profile User.Read Calendars.ReadWrite", 5)),
        roles: &[],
    },
    AppSpec {
        name: "Slack",
        publisher: "Slack Technologies",
        delegated: Some(("openid profile email User.Read", 3)),
        roles: &[],
    },
    AppSpec {
        name: "MailSync Pro",
        publisher: "Unverified",
        delegated: Some(("Mail.ReadWrite Mail.Send offline_access", 17)),
        roles: &[],
    },
    AppSpec {
        name: "Grammarly",
        publisher: "Grammarly",
        delegated: Some(("openid email Mail.Read", 11)),
        roles: &[],
    },
    AppSpec {
        name: "DocuSign",
        publisher: "DocuSign",
        delegated: Some(("User.Read Files.Read.All", 0)),
        roles: &[],
    },
    AppSpec {
        name: "Backup Vault",
        publisher: "Contoso IT",
        delegated: None,
        roles: &["Mail.Read", "Files.Read.All"],
    },
    AppSpec {
        name: "HR Portal",
        publisher: "Contoso IT",
        delegated: None,
        roles: &["User.Read.All"],
    },
];

/// Microsoft Graph's own app and the application permissions it defines.
const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
const GRAPH_ROLES: [(&str, &str); 3] = [
    ("810c84a8-4a9e-49e6-bf7d-12d183f40d01", "Mail.Read"),
    ("01d4889c-1287-42c6-ac1f-5d1e02578ef6", "Files.Read.All"),
    ("df021288-bdef-4463-88db-98f22de89214", "User.Read.All"),
];

#[derive(Debug, Clone)]
struct Delegated {
    id: String,
    client: Uuid,
    principal: Option<Uuid>,
    scope: &'static str,
}

#[derive(Debug, Clone)]
struct Assignment {
    id: String,
    principal: Uuid,
    role: &'static str,
}

/// What the tenant's apps hold now; made from the org on first use.
#[derive(Debug, Default)]
pub(crate) struct Apps {
    made: bool,
    principals: Vec<(Uuid, Uuid, &'static str, &'static str)>,
    graph: Uuid,
    delegated: Vec<Delegated>,
    assignments: Vec<Assignment>,
    /// Grant and assignment ids revoked, with how many times each was asked.
    pub revoked: std::collections::BTreeMap<String, u64>,
}

/// A fixed id for a name (FNV-1a twice), the same in every run.
fn uuid_of(text: &str) -> Uuid {
    let h = |seed: u64| {
        text.bytes().fold(seed, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    Uuid::from_u64_pair(h(0xcbf2_9ce4_8422_2325), h(0x8422_2325_cbf2_9ce4))
}

/// An id as Graph's grant ids look (opaque, URL-safe base64).
fn grant_id(client: Uuid, principal: Option<Uuid>) -> String {
    use base64::Engine;
    let mut bytes = client.as_bytes().to_vec();
    bytes.extend_from_slice(principal.unwrap_or_default().as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl Apps {
    fn make(&mut self, shared: &Shared) {
        if self.made {
            return;
        }
        self.made = true;
        self.graph = uuid_of("sp/microsoft-graph");
        self.principals.push((
            self.graph,
            Uuid::parse_str(GRAPH_APP_ID).unwrap_or_default(),
            "Microsoft Graph",
            "Microsoft Services",
        ));
        let org = shared.org();
        let members: Vec<Uuid> = org
            .users
            .iter()
            .filter(|u| u.account_enabled && !u.guest && u.deleted.is_none())
            .map(|u| u.id)
            .collect();
        for app in &APPS {
            let sp = uuid_of(&format!("sp/{}", app.name));
            self.principals.push((
                sp,
                uuid_of(&format!("app/{}", app.name)),
                app.name,
                app.publisher,
            ));
            if let Some((scope, every)) = app.delegated {
                let consenting: Vec<Option<Uuid>> = match every {
                    0 => vec![None],
                    n => members.iter().step_by(n).map(|u| Some(*u)).collect(),
                };
                self.delegated
                    .extend(consenting.into_iter().map(|principal| Delegated {
                        id: grant_id(sp, principal),
                        client: sp,
                        principal,
                        scope,
                    }));
            }
            self.assignments
                .extend(app.roles.iter().map(|role| Assignment {
                    id: grant_id(sp, Some(uuid_of(role))),
                    principal: sp,
                    role,
                }));
        }
    }
}

fn with_apps<T>(shared: &Shared, f: impl FnOnce(&mut Apps) -> T) -> T {
    let mut apps = lock_mutex(&shared.microsoft.apps);
    apps.make(shared);
    f(&mut apps)
}

/// One page of `items`, as Graph pages directory lists.
fn listing(
    shared: &Shared,
    uri: &Uri,
    q: &Query,
    context: &str,
    items: Vec<Value>,
) -> Result<Json<Value>, GraphError> {
    let keyed = items
        .into_iter()
        .enumerate()
        .map(|(i, v)| (i as u64, v))
        .collect();
    Listing {
        shared,
        uri,
        query: q,
        context,
        page_size: q.directory_page_size()?,
    }
    .respond(keyed, |v| match v {
        Value::Object(map) => map,
        _ => Map::new(),
    })
}

const READ: [&str; 2] = ["Application.Read.All", "Directory.Read.All"];

/// `GET /v1.0/servicePrincipals`.
pub(crate) async fn service_principals(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, GraphError> {
    require(&shared, &READ)?;
    let q = Query::parse(raw.as_deref(), &headers)?;
    let items = with_apps(&shared, |apps| {
        apps.principals
            .iter()
            .map(|(id, app_id, name, publisher)| {
                let roles: Vec<Value> = if *id == apps.graph {
                    GRAPH_ROLES
                        .iter()
                        .map(|(rid, value)| json!({"id": rid, "value": value, "displayName": value, "allowedMemberTypes": ["Application"]}))
                        .collect()
                } else {
                    Vec::new()
                };
                json!({"id": id, "appId": app_id, "displayName": name, "publisherName": publisher, "appRoles": roles})
            })
            .collect()
    });
    listing(&shared, &uri, &q, "servicePrincipals", items)
}

/// `GET /v1.0/oauth2PermissionGrants`.
pub(crate) async fn permission_grants(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, GraphError> {
    require(&shared, &READ)?;
    let q = Query::parse(raw.as_deref(), &headers)?;
    let items = with_apps(&shared, |apps| {
        apps.delegated
            .iter()
            .map(|g| {
                json!({
                    "id": g.id,
                    "clientId": g.client,
                    "consentType": if g.principal.is_some() { "Principal" } else { "AllPrincipals" },
                    "principalId": g.principal,
                    "resourceId": apps.graph,
                    "scope": g.scope,
                })
            })
            .collect()
    });
    listing(&shared, &uri, &q, "oauth2PermissionGrants", items)
}

/// `GET /v1.0/servicePrincipals/{id}/appRoleAssignments`.
pub(crate) async fn role_assignments(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, GraphError> {
    require(&shared, &READ)?;
    let q = Query::parse(raw.as_deref(), &headers)?;
    let sp = Uuid::parse_str(&id)
        .map_err(|_| GraphError::bad_request(format!("Invalid object identifier '{id}'.")))?;
    let items = with_apps(&shared, |apps| {
        if !apps.principals.iter().any(|p| p.0 == sp) {
            return Err(GraphError::not_found(&id));
        }
        Ok(apps
            .assignments
            .iter()
            .filter(|a| a.principal == sp)
            .map(|a| {
                let role = GRAPH_ROLES
                    .iter()
                    .find(|(_, v)| *v == a.role)
                    .map_or("", |(rid, _)| rid);
                json!({
                    "id": a.id,
                    "appRoleId": role,
                    "principalId": a.principal,
                    "principalType": "ServicePrincipal",
                    "resourceId": apps.graph,
                    "resourceDisplayName": "Microsoft Graph",
                    "createdDateTime": "2026-10-01T09:00:00Z",
                })
            })
            .collect())
    })?;
    listing(&shared, &uri, &q, "appRoleAssignments", items)
}

fn gone(apps: &mut Apps, id: &str) {
    *apps.revoked.entry(id.to_owned()).or_default() += 1;
}

/// `DELETE /v1.0/oauth2PermissionGrants/{id}`.
pub(crate) async fn delete_grant(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Response, GraphError> {
    require(&shared, &["DelegatedPermissionGrant.ReadWrite.All"])?;
    with_apps(&shared, |apps| {
        let at = apps
            .delegated
            .iter()
            .position(|g| g.id == id)
            .ok_or_else(|| GraphError::not_found(&id))?;
        apps.delegated.remove(at);
        gone(apps, &id);
        Ok(super::governance::with_request_id(
            StatusCode::NO_CONTENT,
            None,
        ))
    })
}

/// `DELETE /v1.0/servicePrincipals/{id}/appRoleAssignments/{assignment}`.
pub(crate) async fn delete_assignment(
    State(shared): State<Arc<Shared>>,
    Path((sp, id)): Path<(String, String)>,
) -> Result<Response, GraphError> {
    require(&shared, &["AppRoleAssignment.ReadWrite.All"])?;
    with_apps(&shared, |apps| {
        let at = apps
            .assignments
            .iter()
            .position(|a| a.id == id && a.principal.to_string() == sp)
            .ok_or_else(|| GraphError::not_found(&id))?;
        apps.assignments.remove(at);
        gone(apps, &id);
        Ok(super::governance::with_request_id(
            StatusCode::NO_CONTENT,
            None,
        ))
    })
    .map(IntoResponse::into_response)
}
