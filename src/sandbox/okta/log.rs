//! `GET /api/v1/logs`: each org's System Log, from the shared timeline
//! (`Stream::OktaSystemLog(org)`) and the events tests push to it.
//!
//! The two kinds of request, as Okta documents them:
//! - polling (no `until`, ascending): events by persistence time, which for
//!   a pushed event is when it was pushed, whatever its `published`; every
//!   answer links `next`, with an empty array once caught up;
//! - bounded (`since` and `until`, or descending): events by `published`,
//!   finite, no `next` on the last page.
//!
//! `since` more than 180 days back is refused (`E0000053`); `limit` is
//! capped at 1000; `filter` is SCIM (not on `published`), `q` keywords.

use std::sync::Arc;

use axum::extract::{Extension, RawQuery, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use chrono::{DateTime, Utc};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use super::auth::Caller;
use super::errors::OktaError;
use super::listing::{Params, answer, scope};
use super::orgs::{OktaOrg, OktaStatus, okta_id, okta_time};
use super::scim::Expression;
use crate::sandbox::Shared;
use crate::sandbox::activity::{HISTORY_MS, Item, PushedActivity, Stream, Timeline, ms_to_time};
use crate::sandbox::org::VOCABULARY;
use crate::sandbox::paging::{PageSize, decode_cursor, encode_cursor};

const LOG_PAGE: PageSize = PageSize {
    default: 100,
    max: 1000,
    cap: true,
};
/// `since` may not reach further back than this.
const MAX_SINCE_MS: i64 = 180 * 24 * 3600 * 1000;
/// Items looked at in one answer at most, however selective a filter.
const SCAN_LIMIT: usize = 50_000;

/// An event's place in a read: its time (persistence or published), then
/// generated before pushed, then its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    ms: i64,
    /// 0 for generated item `n`, 1 for pushed event number `n`.
    kind: u8,
    n: u64,
}

impl Key {
    fn encode(self) -> String {
        format!("{}.{}.{}", self.ms, self.kind, self.n)
    }

    /// A cursor's position: the key, and the read's lower time bound (which
    /// the next link does not repeat as `since`).
    fn position(self, lo_ms: i64) -> String {
        format!("{};{lo_ms}", self.encode())
    }

    fn from_position(text: &str) -> Option<(Key, i64)> {
        let (key, lo) = text.split_once(';')?;
        Some((Key::decode(key)?, lo.parse().ok()?))
    }

    fn decode(text: &str) -> Option<Key> {
        let mut parts = text.split('.');
        let key = Key {
            ms: parts.next()?.parse().ok()?,
            kind: parts.next()?.parse().ok()?,
            n: parts.next()?.parse().ok()?,
        };
        (parts.next().is_none() && key.kind <= 1).then_some(key)
    }
}

/// Where a read begins: after a cursor's key, or at a time (included).
#[derive(Debug, Clone, Copy)]
enum Start {
    After(Key),
    At(i64),
}

/// A read of one stream in one direction between two times (both included).
struct Read<'a> {
    timeline: &'a Timeline,
    stream: Stream,
    /// Pushed events in push order, with the moment each was pushed.
    arrivals: &'a [(i64, PushedActivity)],
    /// Order pushed events by when they were pushed (polling) rather than
    /// by `published`.
    by_persistence: bool,
    descending: bool,
    lo_ms: i64,
    hi_ms: i64,
}

/// What a read found: the records kept, the last key looked at, and
/// whether anything is left.
struct Found {
    records: Vec<Value>,
    last: Option<Key>,
    more: bool,
}

impl Read<'_> {
    fn pushed_key(&self, n: usize) -> Key {
        let (persisted, event) = &self.arrivals[n];
        Key {
            ms: if self.by_persistence {
                *persisted
            } else {
                event.at.timestamp_millis()
            },
            kind: 1,
            n: n as u64,
        }
    }

    fn generated_key(&self, n: u64) -> Key {
        Key {
            ms: self.timeline.time_ms(self.stream, n),
            kind: 0,
            n,
        }
    }

    /// Up to `want` records `keep` accepts, in order from `start`.
    fn run(&self, start: Start, want: usize, mut keep: impl FnMut(Key) -> Option<Value>) -> Found {
        let (t, s) = (self.timeline, self.stream);
        let in_window = |k: &Key| k.ms >= self.lo_ms && k.ms <= self.hi_ms;
        let mut pushed: Vec<Key> = (0..self.arrivals.len())
            .map(|n| self.pushed_key(n))
            .filter(in_window)
            .filter(|k| match (start, self.descending) {
                (Start::After(b), false) => *k > b,
                (Start::After(b), true) => *k < b,
                (Start::At(ms), false) => k.ms >= ms,
                (Start::At(ms), true) => k.ms <= ms,
            })
            .collect();
        pushed.sort_unstable();
        let generated: Box<dyn Iterator<Item = u64>> = if self.descending {
            let top = match start {
                Start::After(b) if b.kind == 0 => b.n,
                Start::After(b) => t.count_until(s, b.ms),
                Start::At(ms) => t.count_until(s, ms),
            };
            pushed.reverse();
            Box::new((t.first_from(s, self.lo_ms)..top).rev())
        } else {
            let first = match start {
                Start::After(b) if b.kind == 0 => b.n + 1,
                Start::After(b) => t.count_until(s, b.ms),
                Start::At(ms) => t.first_from(s, ms),
            };
            Box::new(first..t.count_until(s, self.hi_ms))
        };
        let mut generated = generated.map(|n| self.generated_key(n)).peekable();
        let mut pushed = pushed.into_iter().peekable();
        let mut found = Found {
            records: Vec::new(),
            last: None,
            more: false,
        };
        let mut scanned = 0;
        while found.records.len() < want && scanned < SCAN_LIMIT {
            let take_pushed = match (generated.peek(), pushed.peek()) {
                (Some(g), Some(p)) => (p < g) != self.descending,
                (None, Some(_)) => true,
                (Some(_), None) => false,
                (None, None) => break,
            };
            let key = if take_pushed {
                pushed.next()
            } else {
                generated.next()
            };
            let Some(key) = key else { break };
            scanned += 1;
            found.last = Some(key);
            found.records.extend(keep(key));
        }
        found.more = generated.peek().is_some() || pushed.peek().is_some();
        found
    }
}

fn parse_time(name: &str, text: &str) -> Result<i64, OktaError> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.timestamp_millis())
        .map_err(|_| {
            OktaError::validation(format!(
                "'{name}': The date format in your query is not recognized. Please enter dates using ISO8601 string format."
            ))
        })
}

/// `q`: every keyword must be one of the event's values, or a word of one
/// (hyphenated values count whole and by their parts), case aside.
fn keywords_match(record: &Value, keywords: &[String]) -> bool {
    fn words(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => {
                let s = s.to_lowercase();
                out.extend(
                    s.split(|c: char| c.is_whitespace() || c == '-')
                        .filter(|w| !w.is_empty())
                        .map(str::to_string),
                );
                out.push(s);
            }
            Value::Array(items) => items.iter().for_each(|i| words(i, out)),
            Value::Object(map) => map.values().for_each(|i| words(i, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    words(record, &mut all);
    keywords.iter().all(|k| all.contains(k))
}

/// `GET /api/v1/logs`.
pub(crate) async fn logs(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Result<Response, OktaError> {
    let params = Params::parse(raw.as_deref());
    let limit = params.limit(LOG_PAGE)?;
    let descending = match params
        .get("sortOrder")
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        None | Some("ASCENDING") => false,
        Some("DESCENDING") => true,
        Some(_) => {
            return Err(OktaError::validation(
                "sortOrder: must be ASCENDING or DESCENDING",
            ));
        }
    };
    if params.get("since").is_some() && params.get("after").is_some() {
        return Err(OktaError::validation(
            "'since' and 'after' are mutually exclusive",
        ));
    }
    let now = Utc::now().timestamp_millis();
    let until = params
        .get("until")
        .map(|u| parse_time("until", u))
        .transpose()?;
    let since = params
        .get("since")
        .map(|s| parse_time("since", s))
        .transpose()?;
    if since.is_some_and(|s| s < now - MAX_SINCE_MS) {
        return Err(OktaError::new(
            StatusCode::BAD_REQUEST,
            "E0000053",
            "Invalid parameter: The since parameter is over 180 days prior to the current day.",
        ));
    }
    let polling = until.is_none() && !descending;
    let filter = match params.get("filter") {
        None => None,
        Some(text) => {
            let e = Expression::parse(text).map_err(|why| {
                OktaError::new(
                    StatusCode::BAD_REQUEST,
                    "E0000053",
                    format!("Invalid filter '{text}': {}", why.0),
                )
            })?;
            if e.attributes().any(|a| a == "published") {
                return Err(OktaError::new(
                    StatusCode::BAD_REQUEST,
                    "E0000053",
                    "field is not valid: published",
                ));
            }
            Some(e)
        }
    };
    let keywords: Vec<String> = params
        .get("q")
        .map(|q| q.split_whitespace().map(str::to_lowercase).collect())
        .unwrap_or_default();
    if keywords.iter().any(|k| k.chars().count() > 40) || keywords.len() > 10 {
        return Err(OktaError::validation(
            "'q': Freeform search cannot contain items longer than 40 characters. Please shorten the items in your search or use an advanced filter to query by specific fields.",
        ));
    }
    let hi_ms = until.unwrap_or(now).min(now);
    let lo_ms = since.unwrap_or(hi_ms - HISTORY_MS);
    let mode = match (polling, descending) {
        (true, _) => "poll",
        (false, false) => "asc",
        (false, true) => "desc",
    };
    let cursor_scope = format!("{}/{mode}", scope(caller.org, &uri));
    let (start, lo_ms) = match params.get("after") {
        Some(after) => {
            let (key, lo) = decode_cursor(after, &cursor_scope)
                .as_deref()
                .and_then(Key::from_position)
                .ok_or_else(|| OktaError::validation("after: the cursor is not valid"))?;
            (Start::After(key), lo)
        }
        None if descending => (Start::At(hi_ms), lo_ms),
        None => (Start::At(lo_ms), lo_ms),
    };
    let stream = Stream::OktaSystemLog(caller.org as u8);
    let arrivals = shared.timeline.arrivals(stream);
    let orgs = shared.okta.read_orgs();
    let org = &orgs[caller.org];
    let read = Read {
        timeline: &shared.timeline,
        stream,
        arrivals: &arrivals,
        by_persistence: polling,
        descending,
        lo_ms,
        hi_ms,
    };
    let found = read.run(start, limit, |key| {
        let record = if key.kind == 0 {
            generated(org, &shared.timeline, stream, key.n)
        } else {
            pushed(
                org,
                &shared.timeline,
                stream,
                key.n,
                &arrivals[key.n as usize].1,
            )
        };
        let kept = filter.as_ref().is_none_or(|f| f.matches(&record))
            && keywords_match(&record, &keywords);
        kept.then_some(record)
    });
    // Polling never ends: the next link stays where the read stopped.
    let next = if polling {
        let at = found.last.or(match start {
            Start::After(k) => Some(k),
            Start::At(_) => None,
        });
        Some(match at {
            Some(k) => k,
            // Nothing yet: everything from `since` on is still ahead.
            None => Key {
                ms: lo_ms - 1,
                kind: 1,
                n: u64::MAX,
            },
        })
    } else {
        found.last.filter(|_| found.more)
    };
    let after = next.map(|k| encode_cursor(&cursor_scope, &k.position(lo_ms)));
    Ok(answer(
        &shared.base_url,
        &uri,
        &params,
        found.records,
        after.as_deref(),
        &["since"],
    ))
}

/// The apps people sign in to through Okta.
const APPS: &[&str] = &[
    "Slack",
    "Salesforce.com",
    "Zoom",
    "Workday",
    "Box",
    "Atlassian Cloud",
    "GitHub Enterprise Cloud",
    "Microsoft Office 365",
];

/// Browsers and devices: (device, os, browser, raw user agent).
const AGENTS: &[(&str, &str, &str, &str)] = &[
    (
        "Computer",
        "Windows 10",
        "CHROME",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    ),
    (
        "Computer",
        "Mac OS X",
        "SAFARI",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    ),
    (
        "Computer",
        "Linux",
        "FIREFOX",
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    ),
    (
        "Mobile",
        "iOS",
        "MOBILE_SAFARI",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    ),
    (
        "Mobile",
        "Android",
        "CHROME",
        "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
    ),
];

const ISPS: &[&str] = &[
    "comcast",
    "vodafone",
    "deutsche telekom",
    "orange",
    "ntt",
    "telstra",
    "bt",
];

/// Who does it: a person on their own account, or an administrator.
#[derive(Clone, Copy, PartialEq)]
enum Who {
    Own,
    Admin,
}

/// Generated event types: (type, display message, weight, who).
const EVENTS: &[(&str, &str, u32, Who)] = &[
    ("user.session.start", "User login to Okta", 40, Who::Own),
    (
        "user.authentication.sso",
        "User single sign on to app",
        24,
        Who::Own,
    ),
    ("user.session.end", "User logout from Okta", 8, Who::Own),
    (
        "user.authentication.auth_via_mfa",
        "Authentication of user via MFA",
        8,
        Who::Own,
    ),
    (
        "user.account.update_password",
        "User update password for Okta",
        3,
        Who::Own,
    ),
    (
        "user.account.lock",
        "Max sign in attempts exceeded",
        2,
        Who::Own,
    ),
    (
        "group.user_membership.add",
        "Add user to group membership",
        4,
        Who::Admin,
    ),
    (
        "group.user_membership.remove",
        "Remove user from group membership",
        2,
        Who::Admin,
    ),
    ("user.lifecycle.suspend", "Suspend Okta user", 1, Who::Admin),
    (
        "user.lifecycle.unsuspend",
        "Unsuspend Okta user",
        1,
        Who::Admin,
    ),
    (
        "user.account.reset_password",
        "Reset password for Okta user",
        2,
        Who::Admin,
    ),
    ("user.lifecycle.create", "Create Okta user", 1, Who::Admin),
    (
        "user.account.privilege.grant",
        "Grant user privilege",
        1,
        Who::Admin,
    ),
    (
        "application.user_membership.add",
        "Add user to application membership",
        2,
        Who::Admin,
    ),
    ("policy.rule.update", "Update policy rule", 1, Who::Admin),
];

fn target(id: &str, kind: &str, alternate: &str, name: &str) -> Value {
    json!({"id": id, "type": kind, "alternateId": alternate, "displayName": name, "detailEntry": null})
}

fn user_target(org: &OktaOrg, i: u32) -> Value {
    let u = &org.users[i as usize];
    target(&u.id, "User", &u.login, &u.name())
}

/// An app, with the same id every time it is named.
fn app_target(app: &str) -> Value {
    let seed = app.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let id = okta_id(&mut ChaCha8Rng::seed_from_u64(seed), "0oa", 17);
    target(&id, "AppInstance", app, app)
}

/// What differs between events; the rest of a LogEvent is the same shape.
struct Draft {
    uuid: String,
    published_ms: i64,
    event_type: String,
    message: String,
    actor: Value,
    success: bool,
    reason: Option<&'static str>,
    /// Index into `VOCABULARY.countries`, or a country name from elsewhere.
    country: Option<String>,
    city: Option<String>,
    ip: String,
    agent: (&'static str, &'static str, &'static str, &'static str),
    isp: &'static str,
    targets: Vec<Value>,
}

impl Draft {
    fn render(self) -> Value {
        let (device, os, browser, raw) = self.agent;
        json!({
            "uuid": self.uuid,
            "published": okta_time(ms_to_time(self.published_ms)),
            "eventType": self.event_type,
            "version": "0",
            "severity": if self.success { "INFO" } else { "WARN" },
            "legacyEventType": null,
            "displayMessage": self.message,
            "actor": self.actor,
            "client": {
                "userAgent": {"rawUserAgent": raw, "os": os, "browser": browser},
                "zone": "null",
                "device": device,
                "id": null,
                "ipAddress": self.ip,
                "geographicalContext": {
                    "city": self.city,
                    "state": null,
                    "country": self.country,
                    "postalCode": null,
                    "geolocation": {"lat": 0.0, "lon": 0.0},
                },
            },
            "outcome": {
                "result": if self.success { "SUCCESS" } else { "FAILURE" },
                "reason": self.reason,
            },
            "target": self.targets,
            "transaction": {"type": "WEB", "id": format!("W{}", &self.uuid[..8]), "detail": {}},
            "debugContext": {"debugData": {"requestUri": "/api/v1/authn"}},
            "authenticationContext": {"authenticationStep": 0, "externalSessionId": format!("trs{}", &self.uuid[..8])},
            "securityContext": {"asNumber": null, "asOrg": null, "isp": self.isp, "domain": null, "isProxy": false},
        })
    }
}

/// A user as an event's actor: the same shape as a target.
fn actor_of(org: &OktaOrg, i: u32) -> Value {
    user_target(org, i)
}

fn weighted_event(rng: &mut ChaCha8Rng) -> (&'static str, &'static str, Who) {
    let total: u32 = EVENTS.iter().map(|e| e.2).sum();
    let mut at = rng.random_range(0..total);
    for &(kind, message, weight, who) in EVENTS {
        if at < weight {
            return (kind, message, who);
        }
        at -= weight;
    }
    (EVENTS[0].0, EVENTS[0].1, EVENTS[0].3)
}

/// Generated item `n` of an org's log: a pure function of the seed and `n`.
fn generated(org: &OktaOrg, timeline: &Timeline, stream: Stream, n: u64) -> Value {
    let id = timeline.id(stream, Item::Generated(n));
    let mut rng = timeline.rng(stream, n);
    let (event_type, message, who) = weighted_event(&mut rng);
    let someone = rng.random_range(0..org.users.len().max(1)) as u32;
    let actor = match who {
        Who::Admin if !org.admins.is_empty() => org.admins[rng.random_range(0..org.admins.len())],
        _ => someone,
    };
    let Some(u) = org.users.get(actor as usize) else {
        return Value::Null;
    };
    let travelling = rng.random_bool(0.05);
    let country = if travelling {
        rng.random_range(0..VOCABULARY.countries.len())
    } else {
        u.country
    };
    let place = &VOCABULARY.countries[country];
    let host = if travelling {
        rng.random()
    } else {
        u64::from(actor) * 7919 + 17
    };
    let signs_in = matches!(
        event_type,
        "user.session.start" | "user.authentication.auth_via_mfa"
    );
    let (success, reason) = if signs_in && u.status != OktaStatus::Active {
        (false, Some("VERIFICATION_ERROR"))
    } else if signs_in && rng.random_bool(0.08) {
        (false, Some("INVALID_CREDENTIALS"))
    } else {
        (true, None)
    };
    let mut targets = Vec::new();
    match event_type {
        "user.authentication.sso" => {
            targets.push(app_target(APPS[rng.random_range(0..APPS.len())]));
        }
        "group.user_membership.add" | "group.user_membership.remove" => {
            targets.push(user_target(org, someone));
            let g = rng.random_range(0..org.groups.len().max(1));
            if let Some(group) = org.groups.get(g) {
                targets.push(target(&group.id, "UserGroup", "unknown", &group.name));
            }
        }
        "application.user_membership.add" => {
            targets.push(app_target(APPS[rng.random_range(0..APPS.len())]));
            targets.push(user_target(org, someone));
        }
        "policy.rule.update" => targets.push(target(
            &okta_id(&mut rng, "0pr", 17),
            "PolicyRule",
            "unknown",
            "Default Rule",
        )),
        "user.account.update_password" | "user.account.lock" => {
            targets.push(user_target(org, actor));
        }
        _ if who == Who::Admin => targets.push(user_target(org, someone)),
        _ => {}
    }
    Draft {
        uuid: id.to_string(),
        published_ms: timeline.time_ms(stream, n),
        event_type: event_type.to_string(),
        message: message.to_string(),
        actor: actor_of(org, actor),
        success,
        reason,
        country: Some(place.name.clone()),
        city: Some(place.cities[rng.random_range(0..place.cities.len())].clone()),
        ip: crate::sandbox::org::address(country, host),
        agent: AGENTS[rng.random_range(0..AGENTS.len())],
        isp: ISPS[rng.random_range(0..ISPS.len())],
        targets,
    }
    .render()
}

/// A pushed event (number `n` in push order) in Okta's shape: the operation
/// is the event type; the actor and the object are looked up in the org.
fn pushed(org: &OktaOrg, timeline: &Timeline, stream: Stream, n: u64, a: &PushedActivity) -> Value {
    let id = timeline.id(stream, Item::Pushed(n as usize));
    let mut rng = timeline.rng(stream, u64::MAX - n);
    let known = org.user_by_address(&a.actor);
    let actor = match known {
        Some(i) => actor_of(org, i),
        None => json!({"id": okta_id(&mut rng, "00u", 17), "type": "User",
                       "alternateId": a.actor, "displayName": a.actor, "detailEntry": null}),
    };
    let home = known.map(|i| org.users[i as usize].country);
    let country = match a.country.as_deref() {
        Some(code) => VOCABULARY
            .countries
            .iter()
            .find(|c| c.code.eq_ignore_ascii_case(code))
            .map(|c| c.name.clone())
            .or_else(|| crate::domain::country::name_of(code).map(str::to_string)),
        None => home.map(|c| VOCABULARY.countries[c].name.clone()),
    };
    let kind = a.operation.to_ascii_lowercase();
    let targets = match &a.object {
        None => Vec::new(),
        Some(object) if kind.starts_with("group.") => {
            let g = org.groups.iter().find(|g| g.name == *object);
            let id = g.map_or_else(|| okta_id(&mut rng, "00g", 17), |g| g.id.clone());
            vec![target(&id, "UserGroup", "unknown", object)]
        }
        Some(object)
            if kind.starts_with("user.session")
                || kind.starts_with("user.authentication")
                || kind.starts_with("app") =>
        {
            vec![app_target(object)]
        }
        Some(object) if kind.starts_with("user.") => match org.user_by_address(object) {
            Some(i) => vec![user_target(org, i)],
            None => vec![target(
                &okta_id(&mut rng, "00u", 17),
                "User",
                object,
                object,
            )],
        },
        Some(object) => vec![target(
            &okta_id(&mut rng, "0xx", 17),
            "Resource",
            object,
            object,
        )],
    };
    Draft {
        uuid: id.to_string(),
        published_ms: a.at.timestamp_millis(),
        event_type: a.operation.clone(),
        message: a.operation.clone(),
        actor,
        success: a.success,
        reason: (!a.success).then_some("INVALID_CREDENTIALS"),
        country,
        city: None,
        ip: a.ip.clone(),
        agent: AGENTS[0],
        isp: ISPS[0],
        targets,
    }
    .render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_order_generated_first() {
        let k = Key {
            ms: 1_700_000_000_123,
            kind: 1,
            n: 7,
        };
        assert_eq!(Key::decode(&k.encode()), Some(k));
        assert_eq!(Key::decode("1.2.3"), None);
        assert_eq!(Key::decode("x.0.1"), None);
        assert!(
            Key {
                ms: 5,
                kind: 0,
                n: 99
            } < Key {
                ms: 5,
                kind: 1,
                n: 0
            }
        );
    }

    #[test]
    fn keywords_match_whole_values_and_words() {
        let record = json!({"client": {"geographicalContext": {"city": "San Francisco"}},
                            "transaction": {"id": "XOxBw-2JIRn"}});
        let k = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
        assert!(keywords_match(&record, &k(&["san", "francisco"])));
        assert!(keywords_match(&record, &k(&["xoxbw"])));
        assert!(keywords_match(&record, &k(&["xoxbw-2jirn"])));
        assert!(!keywords_match(&record, &k(&["fran"])));
    }
}
