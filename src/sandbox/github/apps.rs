//! The GitHub Apps installed in an organisation (issue 11), at
//! `GET /orgs/{org}/installations` (and `/organizations/{id}/installations`):
//! an object, `{"total_count": N, "installations": [...]}`, paged by `page` and
//! `per_page` with a `Link` header like every list, each installation with its
//! app's slug and the permissions it holds (`{"contents": "write"}`). Only an
//! owner may list them, and a classic token needs `admin:read`; anyone else gets
//! 403 or 404 as GitHub answers. The organisation has no way to uninstall a
//! third-party app through this API, so nothing here revokes.
//!
//! With SAML single sign-on (Enterprise Cloud, here the organisations with an
//! audit log), `GET /orgs/{org}/credential-authorizations` lists the credentials
//! members authorised for the organisation: OAuth app tokens with their app's
//! name and scopes, personal access tokens, SSH keys (an array, numbered pages,
//! an owner's token with `read:org`); `DELETE
//! /orgs/{org}/credential-authorizations/{credential_id}` removes one (204; an
//! owner's token with `admin:org`), after which it is 404. Without SSO both are
//! 404.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};

use super::errors;
use super::rest::{OrgRef, authorize, numbered_page_as};
use crate::sandbox::{Shared, paging};

const DOCS: &str =
    "https://docs.github.com/rest/orgs/orgs#list-app-installations-for-an-organization";
const ADMIN_READ: &[&str] = &["admin:read"];

/// An installed app: its slug, the permissions it holds, when it was installed.
type Installed = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
);

/// The same apps in every organisation.
const INSTALLED: [Installed; 4] = [
    (
        "renovate",
        &[
            ("contents", "write"),
            ("pull_requests", "write"),
            ("metadata", "read"),
        ],
        "2026-03-02T10:00:00Z",
    ),
    (
        "slack",
        &[("issues", "read"), ("metadata", "read")],
        "2026-05-11T08:30:00Z",
    ),
    (
        "release-deployer",
        &[
            ("contents", "write"),
            ("secrets", "write"),
            ("administration", "write"),
        ],
        "2026-09-20T16:45:00Z",
    ),
    (
        "codecov",
        &[("checks", "write"), ("contents", "read")],
        "2026-06-01T12:00:00Z",
    ),
];

/// `GET /orgs/{org}/installations`.
pub(crate) async fn installations(
    State(shared): State<Arc<Shared>>,
    Path(org): Path<String>,
    RawQuery(raw): RawQuery,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let access = match authorize(&shared, &headers, OrgRef::of(&uri, &org), ADMIN_READ, DOCS) {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let orgs = shared.github.orgs();
    let o = &orgs[access.org];
    let owner = o
        .members
        .iter()
        .any(|&(account, owner)| owner && account == access.grant.account);
    if !owner {
        return access.finish(errors::error(
            StatusCode::FORBIDDEN,
            "You must be an organization owner to list its app installations.",
            DOCS,
        ));
    }
    let pairs = paging::pairs(raw.as_deref());
    let path = format!("/organizations/{}/installations", o.id);
    let base = o.id * 1000;
    let total = INSTALLED.len();
    let response = numbered_page_as(
        &shared,
        &path,
        &pairs,
        total,
        |range| {
            INSTALLED[range.clone()]
                .iter()
                .zip(range)
                .map(|((slug, permissions, created), i)| {
                    let permissions: serde_json::Map<String, Value> = permissions
                        .iter()
                        .map(|(k, v)| (k.to_string(), Value::from(*v)))
                        .collect();
                    json!({
                        "id": base + i as u64 + 1,
                        "app_id": 900 + i,
                        "app_slug": slug,
                        "target_id": o.id,
                        "target_type": "Organization",
                        "repository_selection": "all",
                        "permissions": permissions,
                        "events": ["push", "pull_request"],
                        "created_at": created,
                        "updated_at": created,
                    })
                })
                .collect()
        },
        |items| json!({"total_count": total, "installations": items}),
    );
    access.finish(response)
}

const SSO_DOCS: &str =
    "https://docs.github.com/rest/orgs/orgs#list-saml-sso-authorizations-for-an-organization";

/// (credential type, app or token title, scopes), authorised by every `every`-th
/// member of the organisation.
type Authorized = (&'static str, &'static str, &'static [&'static str], usize);

const AUTHORIZED: [Authorized; 4] = [
    (
        "OAuth app token",
        "GitHub CLI",
        &["repo", "read:org", "gist"],
        2,
    ),
    (
        "OAuth app token",
        "Visual Studio Code",
        &["repo", "workflow", "user:email"],
        3,
    ),
    (
        "OAuth app token",
        "Gitify",
        &["notifications", "read:user"],
        5,
    ),
    ("personal access token", "ci-bot", &["repo", "admin:org"], 7),
];

/// A credential authorised for SSO: the member (account index) and its row.
fn authorizations(o: &super::model::GhOrg) -> Vec<(u64, u32, &'static Authorized)> {
    let mut out = Vec::new();
    for (n, auth) in AUTHORIZED.iter().enumerate() {
        for (i, &(account, _)) in o.members.iter().enumerate().step_by(auth.3) {
            out.push((o.id * 100_000 + (n * 10_000 + i) as u64, account, auth));
        }
    }
    out
}

/// An SSO-less organisation, or an unknown one, is 404 to everyone.
fn sso_org(shared: &Shared, access: &super::rest::Access) -> bool {
    shared.github.orgs()[access.org].audit_log
}

/// `GET /orgs/{org}/credential-authorizations`.
pub(crate) async fn credential_authorizations(
    State(shared): State<Arc<Shared>>,
    Path(org): Path<String>,
    RawQuery(raw): RawQuery,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let accepted = super::rest::ORG_READ;
    let access = match authorize(
        &shared,
        &headers,
        OrgRef::of(&uri, &org),
        accepted,
        SSO_DOCS,
    ) {
        Ok(a) => a,
        Err(r) => return *r,
    };
    if !sso_org(&shared, &access) {
        return access.finish(errors::not_found(SSO_DOCS));
    }
    let orgs = shared.github.orgs();
    let o = &orgs[access.org];
    let revoked = crate::sandbox::lock_mutex(&shared.github.sso_revoked).clone();
    let listed: Vec<_> = authorizations(o)
        .into_iter()
        .filter(|(id, _, _)| !revoked.contains_key(id))
        .collect();
    let pairs = paging::pairs(raw.as_deref());
    let path = format!("/organizations/{}/credential-authorizations", o.id);
    let response = numbered_page_as(
        &shared,
        &path,
        &pairs,
        listed.len(),
        |range| {
            listed[range]
                .iter()
                .map(|&(id, account, (kind, title, scopes, _))| {
                    let login = &shared.github.accounts[account as usize].login;
                    json!({
                        "login": login,
                        "credential_id": id,
                        "credential_type": kind,
                        "token_last_eight": format!("{:08x}", id % 0xffff_ffff),
                        "credential_authorized_at": "2026-10-14T09:12:00Z",
                        "credential_accessed_at": "2026-12-01T17:40:00Z",
                        "scopes": scopes,
                        "authorized_credential_id": id + 7,
                        "authorized_credential_title": title,
                        "authorized_credential_note": null,
                        "authorized_credential_expires_at": null,
                    })
                })
                .collect()
        },
        Value::Array,
    );
    access.finish(response)
}

/// `DELETE /orgs/{org}/credential-authorizations/{credential_id}`.
pub(crate) async fn remove_credential_authorization(
    State(shared): State<Arc<Shared>>,
    Path((org, credential)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let access = match authorize(
        &shared,
        &headers,
        OrgRef::of(&uri, &org),
        &["admin:org"],
        SSO_DOCS,
    ) {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let orgs = shared.github.orgs();
    let o = &orgs[access.org];
    let known = credential.parse::<u64>().ok().filter(|id| {
        sso_org(&shared, &access) && authorizations(o).iter().any(|(c, _, _)| c == id)
    });
    let Some(id) = known else {
        return access.finish(errors::not_found(SSO_DOCS));
    };
    let mut revoked = crate::sandbox::lock_mutex(&shared.github.sso_revoked);
    if revoked.contains_key(&id) {
        return access.finish(errors::not_found(SSO_DOCS));
    }
    revoked.insert(id, 1);
    access.finish(StatusCode::NO_CONTENT)
}
