//! `/api/v1/groups`, `/api/v1/groups/{id}`, `/api/v1/groups/{id}/users`,
//! `/api/v1/users` and `/api/v1/users/{id}`, for the caller's org.
//!
//! What clients get wrong, served as Okta serves it: `q` is a starts-with
//! name search with exact matches first, 300 results by default and no
//! paging; `search` and `filter` are SCIM expressions (`filter` only on a
//! few attributes); `limit` is capped at 200; a plain user list leaves
//! DEPROVISIONED users out (a `status` clause brings them back); a group's
//! users come in any status.

use std::sync::Arc;

use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::auth::Caller;
use super::errors::OktaError;
use super::listing::{Params, answer, scope};
use super::orgs::{OktaOrg, OktaStatus};
use super::scim::Expression;
use crate::sandbox::Shared;
use crate::sandbox::paging::{self, PageSize};

type Answer = Result<Response, OktaError>;

/// Lists of users, groups and members.
const DIRECTORY_PAGE: PageSize = PageSize {
    default: 200,
    max: 200,
    cap: true,
};
/// `q` on groups: meant for pickers, no paging.
const GROUP_QUERY: PageSize = PageSize {
    default: 300,
    max: 300,
    cap: true,
};
/// `q` on users.
const USER_QUERY: PageSize = PageSize {
    default: 10,
    max: 200,
    cap: true,
};

const GROUP_FILTERABLE: &[&str] = &["id", "type", "lastUpdated", "lastMembershipUpdated"];
const USER_FILTERABLE: &[&str] = &[
    "id",
    "status",
    "lastUpdated",
    "profile.login",
    "profile.email",
    "profile.firstName",
    "profile.lastName",
];

/// The request's `search` and `filter`, each parsed (`filter` only on the
/// attributes Okta lets it name).
fn expressions(params: &Params, filterable: &[&str]) -> Result<Vec<Expression>, OktaError> {
    let mut out = Vec::new();
    if let Some(text) = params.get("search") {
        out.push(Expression::parse(text).map_err(|_| OktaError::bad_search())?);
    }
    if let Some(text) = params.get("filter") {
        let e = Expression::parse(text).map_err(|_| OktaError::bad_search())?;
        if e.attributes().any(|a| !filterable.contains(&a)) {
            return Err(OktaError::bad_search());
        }
        out.push(e);
    }
    Ok(out)
}

/// The records among `count` that `keep` lets through and every
/// expression selects (each rendered by `render` to be matched), keyed by
/// their index.
fn selected(
    count: usize,
    exprs: &[Expression],
    keep: impl Fn(u32) -> bool,
    render: impl Fn(u32) -> Value,
) -> Vec<(u64, u32)> {
    (0..count as u32)
        .filter(|&i| keep(i))
        .filter(|&i| exprs.is_empty() || exprs.iter().all(|e| e.matches(&render(i))))
        .map(|i| (u64::from(i), i))
        .collect()
}

/// `q` on groups: names starting with the text, exact matches first.
fn group_query(org: &OktaOrg, text: &str, size: usize) -> Vec<u32> {
    let needle = text.trim().to_lowercase();
    let (mut exact, mut starts) = (Vec::new(), Vec::new());
    for (i, g) in org.groups.iter().enumerate() {
        let name = g.name.to_lowercase();
        if name == needle {
            exact.push(i as u32);
        } else if name.starts_with(&needle) {
            starts.push(i as u32);
        }
    }
    exact.extend(starts);
    exact.truncate(size);
    exact
}

/// A list request for the caller's org.
struct List<'a> {
    shared: &'a Shared,
    org: &'a OktaOrg,
    number: usize,
    uri: &'a Uri,
    params: Params,
}

impl List<'_> {
    /// Records found without paging (`q`): `self` only.
    fn unpaged(&self, records: Vec<Value>) -> Answer {
        let base = &self.shared.base_url;
        Ok(answer(base, self.uri, &self.params, records, None, &[]))
    }

    /// One page of `items` (keyed, ascending) as Okta answers it.
    fn paged(&self, items: &[(u64, u32)], render: impl Fn(u32) -> Value) -> Answer {
        let size = self.params.limit(DIRECTORY_PAGE)?;
        let after = self.params.get("after");
        let (page, next) = paging::page(items, &scope(self.number, self.uri), after, size)
            .map_err(|_| OktaError::validation("after: the cursor is not valid for this list"))?;
        let records = page.iter().map(|&(_, i)| render(i)).collect();
        let base = &self.shared.base_url;
        Ok(answer(
            base,
            self.uri,
            &self.params,
            records,
            next.as_deref(),
            &[],
        ))
    }

    fn groups(&self) -> Answer {
        let (org, base) = (self.org, self.shared.base_url.as_str());
        let render = |i| org.group_json(base, i);
        if let Some(text) = self.params.get("q") {
            // Paging and searching are mutually exclusive: no next link, `after` ignored.
            let size = self.params.limit(GROUP_QUERY)?;
            return self.unpaged(
                group_query(org, text, size)
                    .into_iter()
                    .map(render)
                    .collect(),
            );
        }
        let exprs = expressions(&self.params, GROUP_FILTERABLE)?;
        self.paged(
            &selected(org.groups.len(), &exprs, |_| true, render),
            render,
        )
    }

    fn users(&self) -> Answer {
        let (org, base) = (self.org, self.shared.base_url.as_str());
        let render = |i| org.user_json(base, i);
        let gone = |i: u32| org.users[i as usize].status == OktaStatus::Deprovisioned;
        if let Some(text) = self.params.get("q") {
            let needle = text.trim().to_lowercase();
            let starts = |i: u32| {
                let u = &org.users[i as usize];
                [&u.first_name, &u.last_name, &u.email]
                    .iter()
                    .any(|f| f.to_lowercase().starts_with(&needle))
            };
            let size = self.params.limit(USER_QUERY)?;
            let hits = (0..org.users.len() as u32).filter(|&i| !gone(i) && starts(i));
            return self.unpaged(hits.take(size).map(render).collect());
        }
        let exprs = expressions(&self.params, USER_FILTERABLE)?;
        // Only a status clause brings deprovisioned users back.
        let by_status = exprs.iter().any(|e| e.attributes().any(|a| a == "status"));
        let items = selected(org.users.len(), &exprs, |i| by_status || !gone(i), render);
        self.paged(&items, render)
    }

    /// A group's users, in any status.
    fn members(&self, id: &str) -> Answer {
        let (org, base) = (self.org, self.shared.base_url.as_str());
        let g = org
            .group(id)
            .ok_or_else(|| OktaError::not_found(id, "UserGroup"))?;
        self.paged(&org.groups[g as usize].members, |i| org.user_json(base, i))
    }
}

/// `GET /api/v1/groups`, `/api/v1/users` and `/api/v1/groups/{id}/users`.
pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    id: Option<Path<String>>,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Answer {
    let orgs = shared.okta.read_orgs();
    let list = List {
        shared: &shared,
        org: &orgs[caller.org],
        number: caller.org,
        uri: &uri,
        params: Params::parse(raw.as_deref()),
    };
    match id {
        Some(Path(group)) => list.members(&group),
        None if uri.path().starts_with("/api/v1/groups") => list.groups(),
        None => list.users(),
    }
}

/// `GET /api/v1/groups/{id}`, and `GET /api/v1/users/{id}` by id or login.
pub(crate) async fn one(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    uri: Uri,
) -> Answer {
    let orgs = shared.okta.read_orgs();
    let (org, base) = (&orgs[caller.org], shared.base_url.as_str());
    let record = if uri.path().starts_with("/api/v1/groups/") {
        org.group(&id).map(|g| org.group_json(base, g))
    } else {
        org.user(&id).map(|u| org.user_json(base, u))
    };
    let kind = if uri.path().starts_with("/api/v1/groups/") {
        "UserGroup"
    } else {
        "User"
    };
    record
        .map(|r| axum::Json(r).into_response())
        .ok_or_else(|| OktaError::not_found(&id, kind))
}
