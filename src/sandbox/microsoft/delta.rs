//! `GET /v1.0/groups/delta`: a full pass over the groups (members in
//! `members@delta`, large groups split over several objects), paged by
//! `@odata.nextLink`, ending in an `@odata.deltaLink`; calling that link
//! returns only the groups whose membership changed, with removed members
//! marked `@removed`. `$deltatoken=latest` skips the full pass. Tokens from
//! before [`crate::sandbox::Sandbox::expire_delta_tokens`] get 410 Gone.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::directory::{self as dir, member_type};
use super::errors::GraphError;
use super::odata::{Query, Selection, decode_skiptoken, encode_skiptoken};
use crate::sandbox::Shared;
use crate::sandbox::org::{MemberRef, Org};

const PATH: &str = "/v1.0/groups/delta";
/// Group objects per page.
const PAGE_OBJECTS: usize = 100;
/// Members per group object; a larger group comes back as several objects.
const MEMBER_CHUNK: usize = 100;

const PAGE_SCOPE: &str = "groups/delta/page";
const DELTA_SCOPE: &str = "groups/delta";

/// Where a full pass stands, carried in its skip token.
struct Pass {
    epoch: u32,
    /// The change count when the pass began: its deltaLink starts there.
    seen: u64,
    group: usize,
    offset: usize,
    select: Option<Vec<String>>,
}

fn invalid_token() -> GraphError {
    GraphError::bad_request("The specified delta or skip token is invalid.")
}

fn select_text(select: &Option<Vec<String>>) -> String {
    select.as_ref().map(|s| s.join(",")).unwrap_or_default()
}

fn parse_select(text: &str) -> Option<Vec<String>> {
    (!text.is_empty()).then(|| text.split(',').map(str::to_string).collect())
}

impl Pass {
    fn encode(&self) -> String {
        let position = format!(
            "{}:{}:{}:{}:{}",
            self.epoch,
            self.seen,
            self.group,
            self.offset,
            select_text(&self.select)
        );
        encode_skiptoken(PAGE_SCOPE, &position)
    }

    fn decode(token: &str) -> Result<Pass, GraphError> {
        let position = decode_skiptoken(token, PAGE_SCOPE)?;
        let parts: Vec<&str> = position.splitn(5, ':').collect();
        let [epoch, seen, group, offset, select] = parts.as_slice() else {
            return Err(invalid_token());
        };
        Ok(Pass {
            epoch: epoch.parse().map_err(|_| invalid_token())?,
            seen: seen.parse().map_err(|_| invalid_token())?,
            group: group.parse().map_err(|_| invalid_token())?,
            offset: offset.parse().map_err(|_| invalid_token())?,
            select: parse_select(select),
        })
    }
}

fn delta_token(epoch: u32, seen: u64, select: &Option<Vec<String>>) -> String {
    encode_skiptoken(
        DELTA_SCOPE,
        &format!("{epoch}:{seen}:{}", select_text(select)),
    )
}

fn decode_delta(token: &str) -> Result<(u32, u64, Option<Vec<String>>), GraphError> {
    let position = decode_skiptoken(token, DELTA_SCOPE)?;
    let parts: Vec<&str> = position.splitn(3, ':').collect();
    let [epoch, seen, select] = parts.as_slice() else {
        return Err(invalid_token());
    };
    Ok((
        epoch.parse().map_err(|_| invalid_token())?,
        seen.parse().map_err(|_| invalid_token())?,
        parse_select(select),
    ))
}

/// The group's selected properties; `id` always.
fn group_object(org: &Org, g: usize, select: &Selection) -> Map<String, Value> {
    let mut object = select.render(|p| dir::group_prop(org, g as u32, p));
    object.insert("id".into(), Value::from(org.groups[g].id.to_string()));
    object
}

fn member_entry(org: &Org, m: MemberRef, removed: bool) -> Value {
    let mut entry =
        json!({"@odata.type": format!("#{}", member_type(m)), "id": org.object_id(m).to_string()});
    if removed && let Value::Object(e) = &mut entry {
        e.insert("@removed".into(), json!({"reason": "deleted"}));
    }
    entry
}

fn page(
    shared: &Shared,
    select: &Option<Vec<String>>,
    value: Vec<Value>,
    next: Result<String, String>,
) -> Response {
    let context = match select {
        Some(s) => format!("groups({})", s.join(",")),
        None => "groups".to_string(),
    };
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        Value::from(format!("{}/v1.0/$metadata#{context}", shared.base_url)),
    );
    match next {
        Ok(skip) => body.insert(
            "@odata.nextLink".into(),
            Value::from(format!("{}{PATH}?$skiptoken={skip}", shared.base_url)),
        ),
        Err(delta) => body.insert(
            "@odata.deltaLink".into(),
            Value::from(format!("{}{PATH}?$deltatoken={delta}", shared.base_url)),
        ),
    };
    body.insert("value".into(), Value::Array(value));
    Json(Value::Object(body)).into_response()
}

fn resync(shared: &Shared, select: &Option<Vec<String>>) -> Response {
    let mut location = format!("{}{PATH}", shared.base_url);
    if let Some(s) = select {
        location.push_str(&format!("?$select={}", s.join(",")));
    }
    let mut response = GraphError::new(
        StatusCode::GONE,
        "resyncRequired",
        "Resync required. Replace any local cached copies of the groups collection with the results of a new delta query, starting at the Location header.",
    )
    .into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

pub(crate) async fn groups_delta(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, GraphError> {
    let q = Query::parse(raw.as_deref(), &headers)?;
    if q.search.is_some() || q.filter.is_some() || q.count || q.top.is_some() {
        return Err(GraphError::unsupported(
            "Only $select, $skiptoken and $deltatoken are supported with delta by the casbah sandbox.",
        ));
    }
    let mut known = dir::GROUP_PROPERTIES.to_vec();
    known.push("members");
    let org = shared.org();
    if let Some(token) = &q.deltatoken {
        if token == "latest" {
            let select = q.select.clone();
            Selection::new(select.as_deref(), &known, &known, "microsoft.graph.group")?;
            let delta = delta_token(org.delta_epoch(), org.change_count(), &select);
            return Ok(page(&shared, &select, Vec::new(), Err(delta)));
        }
        let (epoch, seen, select) = decode_delta(token)?;
        if epoch != org.delta_epoch() {
            return Ok(resync(&shared, &select));
        }
        if seen > org.change_count() {
            return Err(invalid_token());
        }
        let selection = Selection::new(
            select.as_deref(),
            &known,
            dir::GROUP_PROPERTIES,
            "microsoft.graph.group",
        )?;
        let with_members = select
            .as_ref()
            .is_some_and(|s| s.iter().any(|p| p.eq_ignore_ascii_case("members")));
        // The last change to each (group, member) pair is the one that counts.
        let mut changed: BTreeMap<u32, BTreeMap<MemberRef, bool>> = BTreeMap::new();
        for c in org.changes_since(seen) {
            changed
                .entry(c.group)
                .or_default()
                .insert(c.member, c.removed);
        }
        let value = changed
            .into_iter()
            .map(|(g, members)| {
                let mut object = group_object(&org, g as usize, &selection);
                if with_members {
                    let entries = members
                        .into_iter()
                        .map(|(m, removed)| member_entry(&org, m, removed));
                    object.insert("members@delta".into(), Value::Array(entries.collect()));
                }
                Value::Object(object)
            })
            .collect();
        let delta = delta_token(org.delta_epoch(), org.change_count(), &select);
        return Ok(page(&shared, &select, value, Err(delta)));
    }
    let mut pass = match &q.skiptoken {
        Some(token) => Pass::decode(token)?,
        None => Pass {
            epoch: org.delta_epoch(),
            seen: org.change_count(),
            group: 0,
            offset: 0,
            select: q.select.clone(),
        },
    };
    if pass.epoch != org.delta_epoch() {
        return Ok(resync(&shared, &pass.select));
    }
    let selection = Selection::new(
        pass.select.as_deref(),
        &known,
        dir::GROUP_PROPERTIES,
        "microsoft.graph.group",
    )?;
    let with_members = pass
        .select
        .as_ref()
        .is_some_and(|s| s.iter().any(|p| p.eq_ignore_ascii_case("members")));
    let mut value = Vec::new();
    while value.len() < PAGE_OBJECTS && pass.group < org.groups.len() {
        let mut object = group_object(&org, pass.group, &selection);
        let members = &org.groups[pass.group].members;
        if with_members {
            let end = (pass.offset + MEMBER_CHUNK).min(members.len());
            let chunk = members.get(pass.offset..end).unwrap_or_default();
            let entries = chunk.iter().map(|&m| member_entry(&org, m, false));
            object.insert("members@delta".into(), Value::Array(entries.collect()));
            if end < members.len() {
                pass.offset = end;
            } else {
                pass.group += 1;
                pass.offset = 0;
            }
        } else {
            pass.group += 1;
        }
        value.push(Value::Object(object));
    }
    let next = if pass.group < org.groups.len() {
        Ok(pass.encode())
    } else {
        Err(delta_token(pass.epoch, pass.seen, &pass.select))
    };
    Ok(page(&shared, &pass.select, value, next))
}
