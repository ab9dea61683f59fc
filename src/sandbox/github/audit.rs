//! `GET /orgs/{org}/audit-log`: the organisation's audit log, computed from
//! the `GitHubAudit` timeline (plus pushed events). `phrase` takes GitHub's
//! search qualifiers (`created:>=2026-11-29T10:00:00+00:00`, `action:team`,
//! `-action:git.fetch`, `actor:`, `country:`, `repo:`, `user:`, `team:`),
//! `include=web|git|all` (web by default: git events only when asked),
//! `order=desc|asc` (newest first by default), `per_page` ≤ 100, and the
//! cursors `after`/`before` that the `Link` header carries. An organisation
//! without GitHub Enterprise Cloud, or a token without `read:audit_log` (or
//! `admin:org`), gets 404.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use rand::RngExt;
use serde_json::{Value, json};

use super::errors;
use super::model::GhOrg;
use super::rest::{OrgRef, authorize, param, per_page};
use crate::sandbox::Shared;
use crate::sandbox::activity::{Item, Stream};
use crate::sandbox::filter::{Clause, Literal, Op, all_hold, split_outside_quotes};
use crate::sandbox::org::VOCABULARY;
use crate::sandbox::paging::{self, decode_cursor, encode_cursor};

const DOCS: &str = "https://docs.github.com/rest/orgs/orgs#get-the-audit-log-for-an-organization";
/// Scopes that open the audit log to a classic token.
const AUDIT_READ: &[&str] = &["admin:org", "read:audit_log"];

/// The generated actions and how often each happens.
const ACTIONS: &[(&str, u32)] = &[
    ("git.clone", 22),
    ("git.push", 18),
    ("git.fetch", 10),
    ("repo.create", 4),
    ("repo.destroy", 1),
    ("repo.access", 2),
    ("repo.update", 3),
    ("repo.add_member", 3),
    ("repo.remove_member", 1),
    ("repo.download_zip", 3),
    ("team.add_member", 5),
    ("team.remove_member", 2),
    ("team.create", 1),
    ("org.add_member", 2),
    ("org.remove_member", 1),
    ("org.update_member", 1),
    ("org.invite_member", 2),
    ("protected_branch.update", 2),
    ("oauth_authorization.create", 3),
    ("personal_access_token.access_granted", 2),
    ("org.update_default_repository_permission", 1),
];

const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "GitHub CLI 2.49.0",
];

/// The `_document_id` of an item: 22 characters of URL-safe base64.
fn document_id(shared: &Shared, item: Item) -> String {
    use base64::Engine;
    let uuid = shared.timeline.id(Stream::GitHubAudit, item);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(uuid.as_bytes())
}

fn operation_type(action: &str) -> &'static str {
    let verb = action.rsplit('.').next().unwrap_or_default();
    match verb {
        "create" | "add_member" | "invite_member" | "access_granted" => "create",
        "destroy" | "remove_member" => "remove",
        "clone" | "fetch" | "download_zip" => "access",
        _ => "modify",
    }
}

/// Where the object of an action goes in the record, by its category.
fn object_field(action: &str) -> &'static str {
    let category = action.split('.').next().unwrap_or_default();
    match category {
        "team" => "team",
        "org" if action.ends_with("_member") => "user",
        "git" => "repository",
        "repo" | "protected_branch" => "repo",
        _ => "",
    }
}

/// Renders one audit event in GitHub's shape.
fn render(shared: &Shared, org: &GhOrg, item: Item, time_ms: i64) -> Option<Value> {
    let accounts = &shared.github.accounts;
    let (actor, action, object, country, ip, agent) = match item {
        Item::Generated(n) => {
            let mut rng = shared.timeline.rng(Stream::GitHubAudit, n);
            if org.members.is_empty() {
                return None;
            }
            let total: u32 = ACTIONS.iter().map(|a| a.1).sum();
            let mut pick = rng.random_range(0..total);
            let action = ACTIONS
                .iter()
                .find(|(_, w)| {
                    let hit = pick < *w;
                    pick = pick.saturating_sub(*w);
                    hit
                })
                .map_or("git.clone", |a| a.0);
            let a = org.members[rng.random_range(0..org.members.len())].0;
            let account = &accounts[a as usize];
            let object = match object_field(action) {
                "team" if !org.teams.is_empty() => {
                    format!(
                        "{}/{}",
                        org.login,
                        org.teams[rng.random_range(0..org.teams.len())].slug
                    )
                }
                "user" => {
                    let other = org.members[rng.random_range(0..org.members.len())].0;
                    accounts[other as usize].login.clone()
                }
                _ => {
                    let p = &VOCABULARY.projects[rng.random_range(0..VOCABULARY.projects.len())];
                    let suffix = ["", "-api", "-web", "-infra"][rng.random_range(0..4)];
                    format!("{}/{}{suffix}", org.login, p.to_ascii_lowercase())
                }
            };
            let country = if rng.random_bool(0.05) {
                VOCABULARY.countries[rng.random_range(0..VOCABULARY.countries.len())]
                    .code
                    .clone()
            } else {
                account.country.clone()
            };
            let ip = format!("198.51.100.{}", rng.random_range(1..255));
            let agent = if action.starts_with("git.") {
                "git/2.45.1".to_string()
            } else {
                USER_AGENTS[rng.random_range(0..USER_AGENTS.len())].to_string()
            };
            (
                account.login.clone(),
                action.to_string(),
                object,
                country,
                ip,
                agent,
            )
        }
        Item::Pushed(k) => {
            let p = shared.timeline.pushed(Stream::GitHubAudit, k)?;
            let home = shared
                .github
                .account_by_login(&p.actor)
                .map(|a| accounts[a as usize].country.clone());
            let country = p.country.or(home).unwrap_or_else(|| "US".to_string());
            let object = match (object_field(&p.operation), p.object) {
                (_, None) => String::new(),
                ("team" | "repo" | "repository", Some(o)) if !o.contains('/') => {
                    format!("{}/{o}", org.login)
                }
                (_, Some(o)) => o,
            };
            (
                p.actor,
                p.operation,
                object,
                country,
                p.ip,
                USER_AGENTS[0].to_string(),
            )
        }
    };
    let actor_id = shared
        .github
        .account_by_login(&actor)
        .map(|a| accounts[a as usize].id);
    let mut record = json!({
        "@timestamp": time_ms,
        "_document_id": document_id(shared, item),
        "action": action,
        "actor": actor,
        "actor_id": actor_id,
        "actor_ip": ip,
        "actor_location": {"country_code": country},
        "created_at": time_ms,
        "operation_type": operation_type(&action),
        "business": format!("{}-enterprise", org.login),
        "user_agent": agent,
    });
    // GitHub sends `org` as a list on some events.
    if action.starts_with("git.") {
        record["org"] = json!([org.login]);
        record["org_id"] = json!([org.id]);
        record["transport_protocol_name"] = json!("ssh");
        record["repository_public"] = json!(false);
    } else {
        record["org"] = json!(org.login);
        record["org_id"] = json!(org.id);
    }
    let field = object_field(&action);
    if !field.is_empty() && !object.is_empty() {
        record[field] = json!(object);
        if field == "user" {
            let id = shared
                .github
                .account_by_login(&object)
                .map(|a| accounts[a as usize].id);
            record["user_id"] = json!(id);
        }
    }
    if action == "repo.access" {
        record["visibility"] = json!("private");
        record["previous_visibility"] = json!("internal");
    }
    Some(record)
}

/// The record's value for a phrase qualifier.
fn property(record: &Value, name: &str) -> Option<Value> {
    let action = record["action"].as_str().unwrap_or_default();
    match name {
        "created" => Some(record["@timestamp"].clone()),
        "action" => Some(Value::from(action)),
        "category" => Some(Value::from(action.split('.').next().unwrap_or_default())),
        "actor" | "user" | "team" | "operation" => {
            let key = if name == "operation" {
                "operation_type"
            } else {
                name
            };
            Some(record[key].clone())
        }
        "repo" => Some(
            record
                .get("repo")
                .or(record.get("repository"))
                .cloned()
                .unwrap_or(Value::Null),
        ),
        "country" => Some(record["actor_location"]["country_code"].clone()),
        _ => None,
    }
}

/// A moment of the `created` qualifier: a date (the whole day) or a date
/// and time with an offset (that second), as [start, end) in milliseconds.
fn moment(text: &str) -> Option<(i64, i64)> {
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let start = day.and_hms_opt(0, 0, 0)?.and_utc();
        return Some((
            start.timestamp_millis(),
            (start + TimeDelta::days(1)).timestamp_millis(),
        ));
    }
    let t = DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%:z"))
        .ok()?
        .with_timezone(&Utc);
    let ms = t.timestamp_millis();
    Some((ms, ms + 1000))
}

fn created(value: &str) -> Option<Vec<Clause>> {
    let raw = |ms: i64| Literal::Raw(ms.to_string());
    let c = |op, ms| Clause::new("created", op, raw(ms));
    if let Some((a, b)) = value.split_once("..") {
        let (from, _) = moment(a)?;
        let (_, to) = moment(b)?;
        return Some(vec![c(Op::Ge, from), c(Op::Lt, to)]);
    }
    for (prefix, op) in [(">=", Op::Ge), ("<=", Op::Le), (">", Op::Gt), ("<", Op::Lt)] {
        if let Some(rest) = value.strip_prefix(prefix) {
            let (start, end) = moment(rest)?;
            return Some(vec![match op {
                Op::Ge => c(Op::Ge, start),
                Op::Gt => c(Op::Ge, end),
                Op::Lt => c(Op::Lt, start),
                _ => c(Op::Lt, end),
            }]);
        }
    }
    let (start, end) = moment(value)?;
    Some(vec![c(Op::Ge, start), c(Op::Lt, end)])
}

/// GitHub's audit-log search phrase as clauses; `Err` names the bad part.
fn phrase(text: &str) -> Result<Vec<Clause>, String> {
    let mut clauses = Vec::new();
    for part in split_outside_quotes(text.trim(), " ", b"\"") {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (negated, term) = match part.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, part),
        };
        let Some((key, value)) = term.split_once(':') else {
            return Err(part.to_string());
        };
        let value = value.trim_matches('"');
        if key == "created" {
            clauses.extend(created(value).ok_or_else(|| part.to_string())?);
            continue;
        }
        let key = if key == "action" && !value.contains('.') {
            "category"
        } else {
            key
        };
        let op = if negated { Op::Ne } else { Op::Eq };
        clauses.push(Clause::new(key, op, Literal::Text(value.to_string())));
    }
    Ok(clauses)
}

/// An item's place in the log: time, then generated before pushed, then number.
type Key = (i64, u8, u64);

fn key(item: Item, time: i64) -> Key {
    match item {
        Item::Generated(n) => (time, 0, n),
        Item::Pushed(k) => (time, 1, k as u64),
    }
}

fn encode_key(scope: &str, k: Key) -> String {
    encode_cursor(scope, &format!("{}.{}.{}", k.0, k.1, k.2))
}

fn decode_key(scope: &str, token: &str) -> Option<Key> {
    let text = decode_cursor(token, scope)?;
    let mut parts = text.split('.');
    let key = (
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
    );
    parts.next().is_none().then_some(key)
}

fn unprocessable(message: &str) -> Response {
    errors::error(StatusCode::UNPROCESSABLE_ENTITY, message, DOCS)
}

async fn read(
    shared: &Shared,
    headers: &HeaderMap,
    org: OrgRef<'_>,
    raw: Option<String>,
) -> Response {
    let access = match authorize(shared, headers, org, AUDIT_READ, DOCS) {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let orgs = shared.github.orgs();
    let o = &orgs[access.org];
    if !o.audit_log {
        return access.finish(errors::not_found(DOCS));
    }
    let pairs = paging::pairs(raw.as_deref());
    let clauses = match phrase(param(&pairs, "phrase").unwrap_or_default()) {
        Ok(c) => c,
        Err(bad) => return access.finish(unprocessable(&format!("Invalid search phrase: {bad}"))),
    };
    let include = param(&pairs, "include").unwrap_or("web");
    let ascending = param(&pairs, "order") == Some("asc");
    let size = per_page(&pairs);
    let scope = format!("audit:{}", o.id);
    let cursor = |name: &str| -> Result<Option<Key>, Box<Response>> {
        match param(&pairs, name).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(token) => decode_key(&scope, token).map(Some).ok_or_else(|| {
                Box::new(access.finish(unprocessable(&format!("Invalid `{name}` cursor"))))
            }),
        }
    };
    let (after, before) = match (cursor("after"), cursor("before")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(r), _) | (_, Err(r)) => return *r,
    };
    let now = Utc::now().timestamp_millis();
    // Only the part of the log a cursor leaves to read: a backfill's pages each cost
    // their own length, not the whole log's.
    let (from_ms, to_ms) = match (ascending, after) {
        (true, Some(a)) => (a.0, now + 1),
        (false, Some(a)) => (0, a.0 + 1),
        _ => (0, now + 1),
    };
    let mut items: Vec<(Key, Item)> = shared
        .timeline
        .between(Stream::GitHubAudit, from_ms, to_ms)
        .into_iter()
        .map(|(item, t)| (key(item, t), item))
        .collect();
    items.sort_unstable_by_key(|&(k, _)| k);
    if !ascending {
        items.reverse();
    }
    // Strictly after (or before) a key in the list's own order.
    let follows = |k: &Key, c: &Key| if ascending { k > c } else { k < c };
    let keep = |record: &Value| {
        let action = record["action"].as_str().unwrap_or_default();
        let git = action.starts_with("git.");
        let included = match include {
            "all" => true,
            "git" => git,
            _ => !git,
        };
        included && all_hold(&clauses, |name| property(record, name))
    };
    let matching = |k: &Key, item: Item| render(shared, o, item, k.0).filter(|r| keep(r));
    let mut page: Vec<(Key, Value)> = Vec::new();
    let mut more = false;
    let mut earlier = false;
    if let Some(b) = before {
        // The `size` matching items just before the cursor.
        let upto = items.partition_point(|(k, _)| follows(&b, k));
        for (k, item) in items[..upto].iter().rev() {
            if let Some(r) = matching(k, *item) {
                if page.len() == size {
                    earlier = true;
                    break;
                }
                page.push((*k, r));
            }
        }
        page.reverse();
        more = upto < items.len();
    } else {
        let from = after.map_or(0, |a| items.partition_point(|(k, _)| !follows(k, &a)));
        earlier = after.is_some();
        for (k, item) in &items[from..] {
            if let Some(r) = matching(k, *item) {
                if page.len() == size {
                    more = true;
                    break;
                }
                page.push((*k, r));
            }
        }
    }
    let base: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| k != "after" && k != "before" && k != "page")
        .cloned()
        .collect();
    let path = format!("/organizations/{}/audit-log", o.id);
    let link = |after: &str, before: &str| {
        let url = paging::url_with(&shared.base_url, &path, &base, "after", after);
        format!("{url}&before={before}")
    };
    let mut rels = Vec::new();
    if let (true, Some((last, _))) = (more, page.last()) {
        rels.push((link(&encode_key(&scope, *last), ""), "next"));
    }
    rels.push((link("", ""), "first"));
    if let (true, Some((first, _))) = (earlier, page.first()) {
        rels.push((link("", &encode_key(&scope, *first)), "prev"));
    }
    let rels: Vec<(&str, &str)> = rels.iter().map(|(u, r)| (u.as_str(), *r)).collect();
    let body: Vec<Value> = page.into_iter().map(|(_, r)| r).collect();
    let mut response = Json(body).into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&paging::links_of(&rels)) {
        headers.insert(header::LINK, v);
    }
    headers.insert(
        "x-ratelimit-resource",
        HeaderValue::from_static("audit_log"),
    );
    access.finish(response)
}

/// `GET /orgs/{org}/audit-log`, and `/organizations/{id}/audit-log` where
/// GitHub's links point.
pub(crate) async fn audit_log(
    State(shared): State<Arc<Shared>>,
    Path(org): Path<String>,
    RawQuery(raw): RawQuery,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    read(&shared, &headers, OrgRef::of(&uri, &org), raw).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_become_clauses() {
        let c =
            phrase("created:>=2026-11-29T10:00:00+00:00 action:team -action:git.fetch").unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].op, Op::Ge);
        assert_eq!(c[1].property, "category");
        assert_eq!(c[2].op, Op::Ne);
        let day = phrase("created:2014-07-08").unwrap();
        assert_eq!(day.len(), 2);
        // A '+' that arrived as a space (not percent-encoded) is refused.
        assert!(phrase("created:>=2026-11-29T10:00:00 00:00").is_err());
        assert!(phrase("nonsense").is_err());
    }

    #[test]
    fn created_bounds_are_half_open() {
        let c = created(">2026-01-01T00:00:00Z").unwrap();
        let ms = DateTime::parse_from_rfc3339("2026-01-01T00:00:01Z")
            .unwrap()
            .timestamp_millis();
        assert!(c[0].holds(&Value::from(ms)));
        assert!(!c[0].holds(&Value::from(ms - 1)));
    }

    #[test]
    fn cursors_round_trip() {
        let k = (1_700_000_000_000, 1, 42);
        assert_eq!(decode_key("audit:1", &encode_key("audit:1", k)), Some(k));
        assert_eq!(decode_key("audit:2", &encode_key("audit:1", k)), None);
    }
}
