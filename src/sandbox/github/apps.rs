//! The GitHub Apps installed in an organisation (issue 11), at
//! `GET /orgs/{org}/installations` (and `/organizations/{id}/installations`):
//! an object, `{"total_count": N, "installations": [...]}`, paged by `page` and
//! `per_page` with a `Link` header like every list, each installation with its
//! app's slug and the permissions it holds (`{"contents": "write"}`). Only an
//! owner may list them, and a classic token needs `admin:read`; anyone else gets
//! 403 or 404 as GitHub answers. The organisation has no way to uninstall a
//! third-party app through this API, so nothing here revokes.

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
