//! Graph v1.0 directory endpoints: groups, members, users, organization,
//! directory roles.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::directory::{self as dir, member_prop, member_type};
use super::errors::GraphError;
use super::odata::{Matcher, Query, Selection, next_link};
use crate::sandbox::Shared;
use crate::sandbox::org::{MemberRef, ObjectRef, Org};
use crate::sandbox::paging;

type Answer = Result<Json<Value>, GraphError>;

fn parse_id(id: &str) -> Result<Uuid, GraphError> {
    Uuid::parse_str(id)
        .map_err(|_| GraphError::bad_request(format!("Invalid object identifier '{id}'.")))
}

/// One page of a keyed list: items after the skiptoken's key, at most
/// `page_size`, with `@odata.count` and `@odata.nextLink` as Graph writes them.
pub(super) struct Listing<'a> {
    pub shared: &'a Shared,
    pub uri: &'a Uri,
    pub query: &'a Query,
    pub context: &'a str,
    pub page_size: usize,
}

impl Listing<'_> {
    pub(super) fn respond<T: Clone>(
        &self,
        items: Vec<(u64, T)>,
        render: impl Fn(T) -> Map<String, Value>,
    ) -> Answer {
        let scope = self.uri.path();
        let (page, next) = paging::page(
            &items,
            scope,
            self.query.skiptoken.as_deref(),
            self.page_size,
        )
        .map_err(|_| {
            GraphError::bad_request("The specified page token value has expired or is invalid.")
        })?;
        let mut body = Map::new();
        body.insert(
            "@odata.context".into(),
            Value::from(format!(
                "{}/v1.0/$metadata#{}",
                self.shared.base_url, self.context
            )),
        );
        if self.query.count {
            body.insert("@odata.count".into(), Value::from(items.len()));
        }
        if let Some(token) = next {
            body.insert(
                "@odata.nextLink".into(),
                Value::from(next_link(&self.shared.base_url, scope, self.query, &token)),
            );
        }
        body.insert(
            "value".into(),
            Value::Array(
                page.iter()
                    .map(|(_, m)| Value::Object(render(m.clone())))
                    .collect(),
            ),
        );
        Ok(Json(Value::Object(body)))
    }
}

/// A top-level directory list: what it serves and how.
struct Directory {
    entity: &'static str,
    type_name: &'static str,
    properties: &'static [&'static str],
    defaults: &'static [&'static str],
    matching: fn(&Org, &Query) -> Result<Vec<u32>, GraphError>,
    member: fn(u32) -> MemberRef,
}

const GROUPS: Directory = Directory {
    entity: "groups",
    type_name: "microsoft.graph.group",
    properties: dir::GROUP_PROPERTIES,
    defaults: dir::GROUP_PROPERTIES,
    matching: matching_groups,
    member: MemberRef::Group,
};

const USERS: Directory = Directory {
    entity: "users",
    type_name: "microsoft.graph.user",
    properties: dir::USER_PROPERTIES,
    defaults: dir::USER_DEFAULTS,
    matching: matching_users,
    member: MemberRef::User,
};

/// `GET /v1.0/groups` and `GET /v1.0/users`: `$top`, `$select`, `$search`, `$filter`, paged.
async fn list(
    shared: Arc<Shared>,
    uri: Uri,
    headers: HeaderMap,
    raw: Option<String>,
    what: &Directory,
) -> Answer {
    let q = Query::parse(raw.as_deref(), &headers)?;
    let page_size = q.directory_page_size()?;
    q.check_advanced()?;
    let select = Selection::new(
        q.select.as_deref(),
        what.properties,
        what.defaults,
        what.type_name,
    )?;
    let org = shared.org();
    let items: Vec<(u64, MemberRef)> = (what.matching)(&org, &q)?
        .into_iter()
        .map(|i| (u64::from(i), (what.member)(i)))
        .collect();
    let context = context_with_select(what.entity, &q);
    Listing {
        shared: &shared,
        uri: &uri,
        query: &q,
        context: &context,
        page_size,
    }
    .respond(items, |m| select.render(|p| member_prop(&org, m, p)))
}

/// `GET /v1.0/groups`.
pub(crate) async fn list_groups(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Answer {
    list(shared, uri, headers, raw, &GROUPS).await
}

/// Groups that pass the request's `$search` and `$filter`, in list order.
fn matching_groups(org: &Org, q: &Query) -> Result<Vec<u32>, GraphError> {
    let m = Matcher::new(q, dir::GROUP_SEARCHABLE, dir::GROUP_PROPERTIES, "Group")?;
    Ok((0..org.groups.len() as u32)
        .filter(|&i| m.matches(|p| dir::group_prop(org, i, p)))
        .collect())
}

/// Listed (not soft-deleted) users that pass `$search` and `$filter`.
fn matching_users(org: &Org, q: &Query) -> Result<Vec<u32>, GraphError> {
    let m = Matcher::new(q, dir::USER_SEARCHABLE, dir::USER_PROPERTIES, "User")?;
    Ok(org
        .listed_users()
        .map(|(i, _)| i as u32)
        .filter(|&i| m.matches(|p| dir::user_prop(org, i, p)))
        .collect())
}

/// `GET /v1.0/groups/$count` and `/users/$count`: a plain-text number,
/// only in the advanced query mode.
fn count_response(
    headers: &HeaderMap,
    raw: Option<&str>,
    count: impl FnOnce(&Query) -> Result<usize, GraphError>,
) -> Result<Response, GraphError> {
    let q = Query::parse(raw, headers)?;
    if !q.eventual {
        return Err(GraphError::bad_request(
            "$count is not currently supported.",
        ));
    }
    q.check_advanced()?;
    let n = count(&q)?;
    Ok(([(header::CONTENT_TYPE, "text/plain")], n.to_string()).into_response())
}

pub(crate) async fn count_groups(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, GraphError> {
    count_response(&headers, raw.as_deref(), |q| {
        Ok(matching_groups(&shared.org(), q)?.len())
    })
}

pub(crate) async fn count_users(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, GraphError> {
    count_response(&headers, raw.as_deref(), |q| {
        Ok(matching_users(&shared.org(), q)?.len())
    })
}

fn context_with_select(entity: &str, q: &Query) -> String {
    match &q.select {
        Some(s) => format!("{entity}({})", s.join(",")),
        None => entity.to_string(),
    }
}

/// `GET /v1.0/groups/{id}`.
pub(crate) async fn get_group(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Answer {
    let q = Query::parse(raw.as_deref(), &headers)?;
    let select = Selection::new(
        q.select.as_deref(),
        dir::GROUP_PROPERTIES,
        dir::GROUP_PROPERTIES,
        "microsoft.graph.group",
    )?;
    let uuid = parse_id(&id)?;
    let org = shared.org();
    let i = org
        .group_index(&uuid)
        .ok_or_else(|| GraphError::not_found(&id))?;
    let mut body = select.render(|p| dir::group_prop(&org, i as u32, p));
    body.insert(
        "@odata.context".into(),
        Value::from(format!("{}/v1.0/$metadata#groups/$entity", shared.base_url)),
    );
    Ok(Json(Value::Object(body)))
}

/// Which members a request lists.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Depth {
    Direct,
    Transitive,
}

async fn members(
    shared: Arc<Shared>,
    uri: Uri,
    headers: HeaderMap,
    raw: Option<String>,
    id: String,
    cast: Option<String>,
    depth: Depth,
) -> Answer {
    let q = Query::parse(raw.as_deref(), &headers)?;
    let page_size = q.directory_page_size()?;
    q.check_advanced()?;
    let kind = match cast.as_deref() {
        None => None,
        Some(c) => {
            let kind = [
                dir::USER_TYPE,
                dir::GROUP_TYPE,
                dir::DEVICE_TYPE,
                dir::CONTACT_TYPE,
            ]
            .into_iter()
            .find(|t| t.eq_ignore_ascii_case(c))
            .ok_or_else(|| {
                GraphError::bad_request(format!("Resource not found for the segment '{c}'."))
            })?;
            if !(q.eventual && q.count) {
                return Err(GraphError::unsupported(
                    "The specified OData cast requires the 'ConsistencyLevel: eventual' header and the '$count=true' query parameter.",
                ));
            }
            Some(kind)
        }
    };
    let known = match kind {
        Some(dir::USER_TYPE) => dir::USER_PROPERTIES.to_vec(),
        Some(dir::GROUP_TYPE) => dir::GROUP_PROPERTIES.to_vec(),
        Some(dir::DEVICE_TYPE) => dir::DEVICE_PROPERTIES.to_vec(),
        Some(_) => dir::CONTACT_PROPERTIES.to_vec(),
        None => dir::any_properties(),
    };
    let type_name = kind.unwrap_or("microsoft.graph.directoryObject");
    let explicit = q
        .select
        .as_deref()
        .map(|s| Selection::new(Some(s), &known, &known, type_name))
        .transpose()?;
    let mut searchable: Vec<&str> = dir::USER_SEARCHABLE.to_vec();
    searchable.extend(dir::GROUP_SEARCHABLE);
    let matcher = Matcher::new(&q, &searchable, &known, type_name)?;
    let uuid = parse_id(&id)?;
    let org = shared.org();
    let g = org
        .group_index(&uuid)
        .ok_or_else(|| GraphError::not_found(&id))?;
    let all: Vec<MemberRef> = match depth {
        Depth::Direct => org.groups[g].members.clone(),
        Depth::Transitive => org.transitive_members(g).into_iter().collect(),
    };
    let items: Vec<(u64, MemberRef)> = all
        .into_iter()
        .filter(|&m| kind.is_none_or(|k| member_type(m) == k))
        .filter(|&m| matcher.matches(|p| member_prop(&org, m, p)))
        .map(|m| (m.key(), m))
        .collect();
    let context = if kind == Some(dir::USER_TYPE) {
        "users"
    } else {
        "directoryObjects"
    };
    let context = context_with_select(context, &q);
    Listing {
        shared: &shared,
        uri: &uri,
        query: &q,
        context: &context,
        page_size,
    }
    .respond(items, |m| render_member(&org, m, explicit.as_ref()))
}

/// A member as a directoryObject: `@odata.type` first, then its properties.
fn render_member(org: &Org, m: MemberRef, explicit: Option<&Selection>) -> Map<String, Value> {
    let defaults = Selection::explicit(dir::member_defaults(m).to_vec());
    let select = explicit.unwrap_or(&defaults);
    let mut out = Map::new();
    out.insert(
        "@odata.type".into(),
        Value::from(format!("#{}", member_type(m))),
    );
    out.extend(select.render(|p| member_prop(org, m, p)));
    out
}

pub(crate) async fn direct_members(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Answer {
    members(shared, uri, headers, raw, id, None, Depth::Direct).await
}

pub(crate) async fn direct_members_cast(
    State(shared): State<Arc<Shared>>,
    Path((id, cast)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Answer {
    members(shared, uri, headers, raw, id, Some(cast), Depth::Direct).await
}

pub(crate) async fn transitive_members(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Answer {
    members(shared, uri, headers, raw, id, None, Depth::Transitive).await
}

pub(crate) async fn transitive_members_cast(
    State(shared): State<Arc<Shared>>,
    Path((id, cast)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Answer {
    members(shared, uri, headers, raw, id, Some(cast), Depth::Transitive).await
}

/// `GET /v1.0/users`.
pub(crate) async fn list_users(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Answer {
    list(shared, uri, headers, raw, &USERS).await
}

/// `GET /v1.0/users/{id}` (by id or userPrincipalName).
pub(crate) async fn get_user(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Answer {
    let q = Query::parse(raw.as_deref(), &headers)?;
    let select = Selection::new(
        q.select.as_deref(),
        dir::USER_PROPERTIES,
        dir::USER_DEFAULTS,
        "microsoft.graph.user",
    )?;
    let org = shared.org();
    let found = match Uuid::parse_str(&id) {
        Ok(uuid) => org.user_index(&uuid),
        Err(_) => org
            .users
            .iter()
            .position(|u| u.user_principal_name.eq_ignore_ascii_case(&id)),
    };
    let i = found
        .filter(|&i| org.users[i].deleted.is_none())
        .ok_or_else(|| GraphError::not_found(&id))?;
    let mut body = select.render(|p| dir::user_prop(&org, i as u32, p));
    body.insert(
        "@odata.context".into(),
        Value::from(format!("{}/v1.0/$metadata#users/$entity", shared.base_url)),
    );
    Ok(Json(Value::Object(body)))
}

/// Keeps the `$select`ed properties of a fully built object; a name the
/// object does not have is refused as Graph refuses it.
fn project(full: Value, select: Option<&[String]>, type_name: &str) -> Result<Value, GraphError> {
    let (mut full, select) = match (full, select) {
        (Value::Object(full), Some(select)) => (full, select),
        (other, _) => return Ok(other),
    };
    let mut out = Map::new();
    for name in select {
        let key = full
            .keys()
            .find(|k| k.eq_ignore_ascii_case(name))
            .cloned()
            .ok_or_else(|| {
                GraphError::bad_request(format!(
                    "Could not find a property named '{name}' on type '{type_name}'."
                ))
            })?;
        if let Some(v) = full.remove(&key) {
            out.insert(key, v);
        }
    }
    Ok(Value::Object(out))
}

/// `GET /v1.0/organization`.
pub(crate) async fn organization(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Answer {
    let q = Query::parse(raw.as_deref(), &headers)?;
    let org = shared.org();
    let value = project(
        dir::organization(&org),
        q.select.as_deref(),
        "microsoft.graph.organization",
    )?;
    Ok(Json(json!({
        "@odata.context": format!("{}/v1.0/$metadata#{}", shared.base_url, context_with_select("organization", &q)),
        "value": [value],
    })))
}

fn role_json(org: &Org, i: usize) -> Value {
    let r = &org.roles[i];
    json!({
        "id": r.id.to_string(),
        "deletedDateTime": null,
        "displayName": r.display_name,
        "description": format!("Can manage what the {} role covers.", r.display_name),
        "roleTemplateId": r.role_template_id,
    })
}

const ROLE_TYPE: &str = "microsoft.graph.directoryRole";

/// `GET /v1.0/directoryRoles`: only activated roles, no paging.
pub(crate) async fn directory_roles(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Answer {
    let q = Query::parse(raw.as_deref(), &headers)?;
    let org = shared.org();
    let roles = (0..org.roles.len())
        .map(|i| project(role_json(&org, i), q.select.as_deref(), ROLE_TYPE))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(json!({
        "@odata.context": format!("{}/v1.0/$metadata#{}", shared.base_url, context_with_select("directoryRoles", &q)),
        "value": roles,
    })))
}

fn role_index(org: &Org, id: &str) -> Result<usize, GraphError> {
    let uuid = parse_id(id)?;
    match org.lookup(&uuid) {
        Some(ObjectRef::Role(i)) => Ok(i as usize),
        _ => Err(GraphError::not_found(id)),
    }
}

/// `GET /v1.0/directoryRoles/{id}`.
pub(crate) async fn directory_role(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Answer {
    let q = Query::parse(raw.as_deref(), &headers)?;
    let org = shared.org();
    let i = role_index(&org, &id)?;
    Ok(Json(project(
        role_json(&org, i),
        q.select.as_deref(),
        ROLE_TYPE,
    )?))
}

/// `GET /v1.0/directoryRoles/{id}/members`.
pub(crate) async fn directory_role_members(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Answer {
    let q = Query::parse(raw.as_deref(), &headers)?;
    let page_size = q.directory_page_size()?;
    q.check_advanced()?;
    let explicit = q
        .select
        .as_deref()
        .map(|s| {
            Selection::new(
                Some(s),
                dir::USER_PROPERTIES,
                dir::USER_DEFAULTS,
                "microsoft.graph.directoryObject",
            )
        })
        .transpose()?;
    let org = shared.org();
    let i = role_index(&org, &id)?;
    let items: Vec<(u64, MemberRef)> = org.roles[i]
        .members
        .iter()
        .map(|&u| (u64::from(u), MemberRef::User(u)))
        .collect();
    Listing {
        shared: &shared,
        uri: &uri,
        query: &q,
        context: "directoryObjects",
        page_size,
    }
    .respond(items, |m| render_member(&org, m, explicit.as_ref()))
}
