//! GitHub's REST endpoints for organisations, teams and members: bearer
//! check, scope check, numbered pages with `Link` headers.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Grant;
use super::errors;
use super::model::{Account, GhOrg, Team, TeamRole};
use crate::sandbox::paging::{self, PageSize};
use crate::sandbox::{Shared, lock_mutex};

/// `per_page`: 30 unless asked, at most 100 (more is served as 100).
pub(crate) const PER_PAGE: PageSize = PageSize {
    default: 30,
    max: 100,
    cap: true,
};

/// Scopes that let a classic token read teams and members.
pub(crate) const ORG_READ: &[&str] = &["admin:org", "read:org", "write:org"];

const TEAMS_DOCS: &str = "https://docs.github.com/rest/teams/teams";
const MEMBERS_DOCS: &str = "https://docs.github.com/rest/teams/members";
const ORG_MEMBERS_DOCS: &str = "https://docs.github.com/rest/orgs/members";

/// How a request names its organisation: by login (`/orgs/{org}`) or by id
/// (`/organizations/{id}`, in GitHub's own links).
#[derive(Debug, Clone, Copy)]
pub(crate) enum OrgRef<'a> {
    Login(&'a str),
    Id(u64),
}

impl<'a> OrgRef<'a> {
    /// The organisation a request path names: `/organizations/{id}/…` by
    /// id, `/orgs/{login}/…` by login.
    pub fn of(uri: &Uri, org: &'a str) -> OrgRef<'a> {
        match org.parse() {
            Ok(id) if uri.path().starts_with("/organizations/") => OrgRef::Id(id),
            _ => OrgRef::Login(org),
        }
    }
}

/// The token of a request: `Authorization: Bearer X` or `token X`.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token"))
        .then(|| token.trim())
}

/// The token's grant, or GitHub's 401.
pub(crate) fn authenticate(shared: &Shared, headers: &HeaderMap) -> Result<Grant, Box<Response>> {
    let token = bearer(headers).ok_or_else(|| Box::new(errors::requires_authentication()))?;
    shared
        .github
        .grant(token)
        .ok_or_else(|| Box::new(errors::bad_credentials()))
}

/// A request allowed to read an organisation.
pub(crate) struct Access {
    pub org: usize,
    pub grant: Grant,
    pub accepted: &'static [&'static str],
}

impl Access {
    /// Adds the scope headers classic tokens get on every REST answer.
    pub fn finish(&self, response: impl IntoResponse) -> Response {
        with_scopes(response.into_response(), &self.grant, self.accepted)
    }
}

pub(crate) fn with_scopes(mut response: Response, grant: &Grant, accepted: &[&str]) -> Response {
    if let Some(scopes) = &grant.scopes {
        let headers = response.headers_mut();
        for (name, value) in [
            ("x-oauth-scopes", scopes.join(", ")),
            ("x-accepted-oauth-scopes", accepted.join(", ")),
        ] {
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(HeaderName::from_static(name), v);
            }
        }
    }
    response
}

/// 401 without a good token; 404 for an organisation the token cannot see
/// (GitHub does not say whether it exists) or whose scopes it lacks.
pub(crate) fn authorize(
    shared: &Shared,
    headers: &HeaderMap,
    org: OrgRef<'_>,
    accepted: &'static [&'static str],
    docs: &str,
) -> Result<Access, Box<Response>> {
    let grant = authenticate(shared, headers)?;
    let orgs = shared.github.orgs();
    let found = orgs.iter().position(|o| match org {
        OrgRef::Login(login) => o.login.eq_ignore_ascii_case(login),
        OrgRef::Id(id) => o.id == id,
    });
    let hidden = |grant: &Grant| Box::new(with_scopes(errors::not_found(docs), grant, accepted));
    let Some(index) = found.filter(|i| grant.orgs.contains(i)) else {
        return Err(hidden(&grant));
    };
    if !grant.allows(accepted) {
        return Err(hidden(&grant));
    }
    Ok(Access {
        org: index,
        grant,
        accepted,
    })
}

fn number(pairs: &[(String, String)], key: &str) -> Option<usize> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.trim().parse().ok())
}

pub(crate) fn param<'p>(pairs: &'p [(String, String)], key: &str) -> Option<&'p str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// `per_page` as GitHub reads it: absent, zero or unreadable is the default.
pub(crate) fn per_page(pairs: &[(String, String)]) -> usize {
    PER_PAGE
        .resolve(number(pairs, "per_page"))
        .unwrap_or(PER_PAGE.default)
}

/// One numbered page of `len` items rendered by `render`, with GitHub's
/// `Link` header (`prev`, `next`, `last`, `first`) pointing at `link_path`.
fn numbered_page(
    shared: &Shared,
    link_path: &str,
    pairs: &[(String, String)],
    len: usize,
    render: impl Fn(std::ops::Range<usize>) -> Vec<Value>,
) -> Response {
    numbered_page_as(shared, link_path, pairs, len, render, Value::Array)
}

/// `numbered_page`, its items in the body `wrap` makes of them (lists that
/// answer an object, such as installations with their `total_count`).
pub(crate) fn numbered_page_as(
    shared: &Shared,
    link_path: &str,
    pairs: &[(String, String)],
    len: usize,
    render: impl Fn(std::ops::Range<usize>) -> Vec<Value>,
    wrap: impl FnOnce(Vec<Value>) -> Value,
) -> Response {
    let size = per_page(pairs);
    let page = number(pairs, "page").unwrap_or(1).max(1);
    let (range, last) = paging::numbered(len, page, size);
    let mut response = Json(wrap(render(range))).into_response();
    let link =
        |n: usize| paging::url_with(&shared.base_url, link_path, pairs, "page", &n.to_string());
    let mut rels = Vec::new();
    if page > 1 {
        rels.push((link(page - 1), "prev"));
    }
    if page < last {
        rels.push((link(page + 1), "next"));
        rels.push((link(last), "last"));
    }
    if page > 1 {
        rels.push((link(1), "first"));
    }
    if !rels.is_empty() {
        let rels: Vec<(&str, &str)> = rels.iter().map(|(u, r)| (u.as_str(), *r)).collect();
        if let Ok(v) = HeaderValue::from_str(&paging::links_of(&rels)) {
            response.headers_mut().insert(header::LINK, v);
        }
    }
    response
}

/// A list of an organisation's: authorised with `read:org`, `select` picks
/// the items (and the path GitHub's links use), `None` for a team that is
/// not there; one numbered page of them, rendered.
fn listed<T>(
    shared: &Shared,
    headers: &HeaderMap,
    org: OrgRef<'_>,
    docs: &str,
    raw: Option<String>,
    select: impl FnOnce(&GhOrg, &[(String, String)]) -> Option<(String, Vec<T>)>,
    render: impl Fn(&GhOrg, &T) -> Value,
) -> Response {
    let access = match authorize(shared, headers, org, ORG_READ, docs) {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let pairs = paging::pairs(raw.as_deref());
    let orgs = shared.github.orgs();
    let o = &orgs[access.org];
    let Some((path, items)) = select(o, &pairs) else {
        return access.finish(errors::not_found(docs));
    };
    let response = numbered_page(shared, &path, &pairs, items.len(), |range| {
        items[range].iter().map(|t| render(o, t)).collect()
    });
    access.finish(response)
}

/// An account as member lists show it, with any field a test mistyped.
fn listed_user(shared: &Shared, a: u32) -> Value {
    let account = &shared.github.accounts[a as usize];
    let body = user_json(&shared.base_url, account);
    shared.github.with_mistyped(&account.login, body)
}

/// A "simple user" as lists show it: no name, no e-mail.
pub(crate) fn user_json(base: &str, a: &Account) -> Value {
    json!({
        "login": a.login,
        "id": a.id,
        "node_id": a.node_id(),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{}?v=4", a.id),
        "gravatar_id": "",
        "url": format!("{base}/users/{}", a.login),
        "html_url": format!("https://github.com/{}", a.login),
        "type": "User",
        "site_admin": false,
        "user_view_type": "public",
    })
}

fn team_json(base: &str, org: &GhOrg, t: &Team) -> Value {
    let parent = t.parent.map(|p| team_json(base, org, &org.teams[p]));
    json!({
        "id": t.id,
        "node_id": t.node_id(),
        "url": format!("{base}/organizations/{}/team/{}", org.id, t.id),
        "html_url": format!("https://github.com/orgs/{}/teams/{}", org.login, t.slug),
        "name": t.name,
        "slug": t.slug,
        "description": t.description,
        "privacy": t.privacy,
        "notification_setting": "notifications_enabled",
        "permission": "pull",
        "members_url": format!("{base}/organizations/{}/team/{}/members{{/member}}", org.id, t.id),
        "repositories_url": format!("{base}/organizations/{}/team/{}/repos", org.id, t.id),
        "parent": parent,
    })
}

fn org_json(base: &str, org: &GhOrg) -> Value {
    json!({
        "login": org.login,
        "id": org.id,
        "node_id": org.node_id(),
        "url": format!("{base}/orgs/{}", org.login),
        "description": null,
        "name": org.name,
        "is_verified": true,
        "type": "Organization",
        "created_at": org.created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "plan": {"name": if org.audit_log { "enterprise" } else { "team" }},
    })
}

/// `GET /orgs/{org}`.
pub(crate) async fn organization(
    State(shared): State<Arc<Shared>>,
    Path(org): Path<String>,
    headers: HeaderMap,
) -> Response {
    let access = match authorize(
        &shared,
        &headers,
        OrgRef::Login(&org),
        ORG_READ,
        "https://docs.github.com/rest/orgs/orgs#get-an-organization",
    ) {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let body = org_json(&shared.base_url, &shared.github.orgs()[access.org]);
    access.finish(Json(body))
}

async fn list_teams(
    shared: &Shared,
    headers: &HeaderMap,
    org: OrgRef<'_>,
    raw: Option<String>,
) -> Response {
    let docs = format!("{TEAMS_DOCS}#list-teams");
    listed(
        shared,
        headers,
        org,
        &docs,
        raw,
        |o, _| {
            let teams = (0..o.teams.len()).collect();
            Some((format!("/organizations/{}/teams", o.id), teams))
        },
        |o, &t| {
            let team = &o.teams[t];
            let body = team_json(&shared.base_url, o, team);
            shared.github.with_mistyped(&team.slug, body)
        },
    )
}

/// `GET /orgs/{org}/teams`, and `/organizations/{id}/teams` where GitHub's
/// links point.
pub(crate) async fn teams(
    State(shared): State<Arc<Shared>>,
    Path(org): Path<String>,
    RawQuery(raw): RawQuery,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    list_teams(&shared, &headers, OrgRef::of(&uri, &org), raw).await
}

/// `GET /orgs/{org}/teams/{slug}`.
pub(crate) async fn team(
    State(shared): State<Arc<Shared>>,
    Path((org, slug)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let docs = format!("{TEAMS_DOCS}#get-a-team-by-name");
    let access = match authorize(&shared, &headers, OrgRef::Login(&org), ORG_READ, &docs) {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let orgs = shared.github.orgs();
    let o = &orgs[access.org];
    let Some(t) = o.team_by_slug(&slug) else {
        return access.finish(errors::not_found(&docs));
    };
    let team = &o.teams[t];
    let mut body = team_json(&shared.base_url, o, team);
    body["members_count"] = json!(o.team_members(t).len());
    body["repos_count"] = json!(0);
    body["created_at"] = json!(
        team.created
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    body["updated_at"] = body["created_at"].clone();
    body["organization"] = org_json(&shared.base_url, o);
    access.finish(Json(body))
}

enum TeamRef<'a> {
    Slug(&'a str),
    Id(u64),
}

async fn list_team_members(
    shared: &Shared,
    headers: &HeaderMap,
    org: OrgRef<'_>,
    team: TeamRef<'_>,
    raw: Option<String>,
) -> Response {
    let docs = format!("{MEMBERS_DOCS}#list-team-members");
    listed(
        shared,
        headers,
        org,
        &docs,
        raw,
        |o, pairs| {
            let t = match team {
                TeamRef::Slug(s) => o.team_by_slug(s),
                TeamRef::Id(id) => o.team_by_id(id),
            }?;
            let role = param(pairs, "role").unwrap_or("all");
            let members = o
                .team_members(t)
                .into_iter()
                .filter(|&(_, r)| match role {
                    "member" => r == TeamRole::Member,
                    "maintainer" => r == TeamRole::Maintainer,
                    _ => true,
                })
                .map(|(a, _)| a)
                .collect();
            Some((
                format!("/organizations/{}/team/{}/members", o.id, o.teams[t].id),
                members,
            ))
        },
        |_, &a| listed_user(shared, a),
    )
}

/// `GET /orgs/{org}/teams/{slug}/members`, and
/// `/organizations/{id}/team/{id}/members` where GitHub's links point.
pub(crate) async fn team_members(
    State(shared): State<Arc<Shared>>,
    Path((org, team)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let org_ref = OrgRef::of(&uri, &org);
    let team_ref = match (org_ref, team.parse()) {
        (OrgRef::Id(_), Ok(id)) => TeamRef::Id(id),
        _ => TeamRef::Slug(&team),
    };
    list_team_members(&shared, &headers, org_ref, team_ref, raw).await
}

/// `GET /orgs/{org}/teams/{slug}/memberships/{login}`: active or pending.
pub(crate) async fn team_membership(
    State(shared): State<Arc<Shared>>,
    Path((org, slug, login)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let docs = format!("{MEMBERS_DOCS}#get-team-membership-for-a-user");
    let access = match authorize(&shared, &headers, OrgRef::Login(&org), ORG_READ, &docs) {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let orgs = shared.github.orgs();
    let o = &orgs[access.org];
    let (Some(t), Some(a)) = (
        o.team_by_slug(&slug),
        shared.github.account_by_login(&login),
    ) else {
        return access.finish(errors::not_found(&docs));
    };
    let url = format!(
        "{}/organizations/{}/team/{}/memberships/{}",
        shared.base_url, o.id, o.teams[t].id, shared.github.accounts[a as usize].login
    );
    if let Some(&(_, role)) = o.team_members(t).iter().find(|(m, _)| *m == a) {
        return access.finish(Json(
            json!({"url": url, "role": role.as_str(), "state": "active"}),
        ));
    }
    let pending = o
        .invitations
        .iter()
        .any(|i| i.account == Some(a) && i.teams.iter().any(|&it| o.subtree(it).contains(&t)));
    if pending {
        return access.finish(Json(
            json!({"url": url, "role": "member", "state": "pending"}),
        ));
    }
    access.finish(errors::not_found(&docs))
}

fn invitation_json(shared: &Shared, o: &GhOrg, i: &super::model::Invitation) -> Value {
    let accounts = &shared.github.accounts;
    let account = i.account.map(|a| &accounts[a as usize]);
    json!({
        "id": i.id,
        "login": account.map(|a| a.login.clone()),
        "email": i.email,
        "role": "direct_member",
        "created_at": i.created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "failed_at": null,
        "failed_reason": null,
        "inviter": user_json(&shared.base_url, &accounts[i.inviter as usize]),
        "team_count": i.teams.len(),
        "node_id": super::model::node_id("OrganizationInvitation", i.id),
        "invitation_teams_url": format!("{}/organizations/{}/invitations/{}/teams", shared.base_url, o.id, i.id),
    })
}

/// `GET /orgs/{org}/invitations`: pending invitations, not members.
pub(crate) async fn invitations(
    State(shared): State<Arc<Shared>>,
    Path(org): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let docs = format!("{ORG_MEMBERS_DOCS}#list-pending-organization-invitations");
    listed(
        &shared,
        &headers,
        OrgRef::Login(&org),
        &docs,
        raw,
        |o, _| {
            let all = (0..o.invitations.len()).collect();
            Some((format!("/organizations/{}/invitations", o.id), all))
        },
        |o, &i| invitation_json(&shared, o, &o.invitations[i]),
    )
}

/// `GET /orgs/{org}/teams/{slug}/invitations`.
pub(crate) async fn team_invitations(
    State(shared): State<Arc<Shared>>,
    Path((org, slug)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let docs = format!("{MEMBERS_DOCS}#list-pending-team-invitations");
    let access = match authorize(&shared, &headers, OrgRef::Login(&org), ORG_READ, &docs) {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let orgs = shared.github.orgs();
    let o = &orgs[access.org];
    let Some(t) = o.team_by_slug(&slug) else {
        return access.finish(errors::not_found(&docs));
    };
    let list: Vec<Value> = o
        .invitations
        .iter()
        .filter(|i| i.teams.contains(&t))
        .map(|i| invitation_json(&shared, o, i))
        .collect();
    access.finish(Json(list))
}

async fn list_members(
    shared: &Shared,
    headers: &HeaderMap,
    org: OrgRef<'_>,
    raw: Option<String>,
) -> Response {
    let docs = format!("{ORG_MEMBERS_DOCS}#list-organization-members");
    listed(
        shared,
        headers,
        org,
        &docs,
        raw,
        |o, pairs| {
            let role = param(pairs, "role").unwrap_or("all");
            let members = o
                .members
                .iter()
                .filter(|&&(_, owner)| match role {
                    "admin" => owner,
                    "member" => !owner,
                    _ => true,
                })
                .map(|&(a, _)| a)
                .collect();
            Some((format!("/organizations/{}/members", o.id), members))
        },
        |_, &a| listed_user(shared, a),
    )
}

/// `GET /orgs/{org}/members`, and `/organizations/{id}/members`.
pub(crate) async fn members(
    State(shared): State<Arc<Shared>>,
    Path(org): Path<String>,
    RawQuery(raw): RawQuery,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    list_members(&shared, &headers, OrgRef::of(&uri, &org), raw).await
}

/// Replaces the body of a successful answer a test asked to garble.
pub(crate) async fn garble(
    State(shared): State<Arc<Shared>>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_string();
    let body = {
        let mut garbled = lock_mutex(&shared.github.garbled);
        let at = garbled
            .iter()
            .position(|(p, _)| path.starts_with(p.as_str()));
        at.map(|i| garbled.remove(i).1)
    };
    let response = next.run(req).await;
    match body {
        Some(body) if response.status() == StatusCode::OK => {
            let (mut parts, _) = response.into_parts();
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(body))
        }
        _ => response,
    }
}
