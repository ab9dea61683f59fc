//! `POST /graphql`: the part of GitHub's GraphQL schema a connector reads
//! for an organisation (teams with search, members with their role and
//! e-mails, verified domains, nodes by id), checked and answered as GitHub
//! does: a document that names an unknown field, lacks a scope or asks for
//! more than 100 records gets `{"errors":[…]}` and no data; an unknown
//! organisation gets `null` with a `NOT_FOUND` error; all with HTTP 200.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use graphql_parser::query::{
    Definition, Document, Field, OperationDefinition, Selection, SelectionSet, TypeCondition,
};
use serde_json::{Map, Value, json};

use super::errors;
use super::model::GhOrg;
use super::rest::{ORG_READ, with_scopes};
use super::{Grant, State as GitHubState};
use crate::sandbox::Shared;
use crate::sandbox::paging;

const DOCS: &str = "https://docs.github.com/graphql";
/// The largest `first` or `last` a connection takes.
const MAX_RECORDS: usize = 100;

type Doc<'a> = Document<'a, &'a str>;
type Set<'a> = SelectionSet<'a, &'a str>;
type GqlField<'a> = Field<'a, &'a str>;

/// A GraphQL error in GitHub's shape.
fn gql_error(
    message: String,
    f: Option<&GqlField<'_>>,
    path: &[String],
    kind: Option<&str>,
) -> Value {
    let mut e = json!({ "message": message });
    if let Some(kind) = kind {
        e["type"] = json!(kind);
    }
    if !path.is_empty() {
        e["path"] = json!(path);
    }
    if let Some(f) = f {
        e["locations"] = json!([{"line": f.position.line, "column": f.position.column}]);
    }
    e
}

/// The type of `field` on `parent`: an object type's name, or a scalar's
/// (see `scalar`). `None` when the schema has no such field.
fn field_type(parent: &str, field: &str) -> Option<&'static str> {
    Some(match (parent, field) {
        (_, "__typename") => "String",
        ("Query", "organization") => "Organization",
        ("Query", "nodes" | "node") => "Node",
        ("Query", "viewer") => "User",
        ("Organization", "login" | "name" | "description" | "url") => "String",
        ("Organization" | "Team" | "User" | "VerifiableDomain", "id") => "ID",
        ("Organization" | "Team" | "User", "databaseId") => "Int",
        ("Organization", "teams") => "TeamConnection",
        ("Organization", "team") => "Team",
        ("Organization", "membersWithRole") => "OrganizationMemberConnection",
        ("Organization", "domains") => "VerifiableDomainConnection",
        (
            "TeamConnection" | "OrganizationMemberConnection" | "VerifiableDomainConnection",
            "totalCount",
        ) => "Int",
        (_, "pageInfo") if parent.ends_with("Connection") => "PageInfo",
        ("TeamConnection", "nodes") => "Team",
        ("TeamConnection", "edges") => "TeamEdge",
        ("TeamEdge" | "OrganizationMemberEdge", "cursor") => "String",
        ("TeamEdge", "node") => "Team",
        ("Team", "slug" | "name" | "description" | "privacy" | "url" | "combinedSlug") => "String",
        ("Team", "parentTeam") => "Team",
        ("OrganizationMemberConnection", "nodes") => "User",
        ("OrganizationMemberConnection", "edges") => "OrganizationMemberEdge",
        ("OrganizationMemberEdge", "role") => "String",
        ("OrganizationMemberEdge", "hasTwoFactorEnabled") => "Boolean",
        ("OrganizationMemberEdge", "node") => "User",
        ("User", "login" | "name" | "email" | "url" | "company" | "location") => "String",
        ("User", "organizationVerifiedDomainEmails") => "[String!]",
        ("VerifiableDomainConnection", "nodes") => "VerifiableDomain",
        ("VerifiableDomain", "domain") => "String",
        ("VerifiableDomain", "isVerified" | "isApproved") => "Boolean",
        ("PageInfo", "hasNextPage" | "hasPreviousPage") => "Boolean",
        ("PageInfo", "endCursor" | "startCursor") => "String",
        _ => return None,
    })
}

fn scalar(kind: &str) -> bool {
    matches!(kind, "String" | "ID" | "Int" | "Boolean" | "[String!]")
}

/// The scopes a classic token needs for a field.
fn needs(parent: &str, field: &str) -> Option<&'static [&'static str]> {
    match (parent, field) {
        ("Organization", "teams" | "team" | "membersWithRole") => Some(ORG_READ),
        ("Organization", "domains") => Some(&["admin:org"]),
        ("User", "email") => Some(&["user:email", "read:user"]),
        _ => None,
    }
}

fn quoted_list(items: &[&str]) -> String {
    let inner: Vec<String> = items.iter().map(|s| format!("'{s}'")).collect();
    format!("[{}]", inner.join(", "))
}

/// Static checks of a document against the schema and the token's scopes.
fn validate<'a>(
    doc: &Doc<'a>,
    set: &Set<'a>,
    parent: &str,
    path: &mut Vec<String>,
    grant: &Grant,
    errors: &mut Vec<Value>,
) {
    for item in &set.items {
        match item {
            Selection::Field(f) => {
                let name = f.name;
                path.push(f.alias.unwrap_or(name).to_string());
                match field_type(parent, name) {
                    None => {
                        let mut e = gql_error(
                            format!("Field '{name}' doesn't exist on type '{parent}'"),
                            Some(f),
                            path,
                            None,
                        );
                        e["extensions"] = json!({"code": "undefinedField", "typeName": parent, "fieldName": name});
                        errors.push(e);
                    }
                    Some(kind) => {
                        if let (Some(accepted), Some(scopes)) = (needs(parent, name), &grant.scopes)
                            && !grant.allows(accepted)
                        {
                            let has: Vec<&str> = scopes.iter().map(String::as_str).collect();
                            errors.push(gql_error(
                                format!(
                                    "Your token has not been granted the required scopes to execute this query. The '{name}' field requires one of the following scopes: {}, but your token has only been granted the: {} scopes. Please modify your token's scopes at: https://github.com/settings/tokens.",
                                    quoted_list(accepted),
                                    quoted_list(&has)
                                ),
                                Some(f),
                                &[],
                                Some("INSUFFICIENT_SCOPES"),
                            ));
                        }
                        if scalar(kind) && !f.selection_set.items.is_empty() {
                            errors.push(gql_error(format!("Selections can't be made on scalars (field '{name}' returns {kind} but has selections)"), Some(f), path, None));
                        } else if !scalar(kind) && f.selection_set.items.is_empty() {
                            errors.push(gql_error(format!("Field must have selections (field '{name}' returns {kind} but has no selections. Did you mean '{name} {{ ... }}'?)"), Some(f), path, None));
                        } else {
                            validate(doc, &f.selection_set, kind, path, grant, errors);
                        }
                    }
                }
                path.pop();
            }
            Selection::InlineFragment(frag) => {
                let kind = match &frag.type_condition {
                    Some(TypeCondition::On(t)) => *t,
                    None => parent,
                };
                validate(doc, &frag.selection_set, kind, path, grant, errors);
            }
            Selection::FragmentSpread(spread) => match fragment(doc, spread.fragment_name) {
                Some((kind, set)) => validate(doc, set, kind, path, grant, errors),
                None => errors.push(gql_error(
                    format!(
                        "Fragment {} was used, but not defined",
                        spread.fragment_name
                    ),
                    None,
                    path,
                    None,
                )),
            },
        }
    }
}

fn fragment<'d, 'a>(doc: &'d Doc<'a>, name: &str) -> Option<(&'a str, &'d Set<'a>)> {
    doc.definitions.iter().find_map(|d| match d {
        Definition::Fragment(f) if f.name == name => {
            let TypeCondition::On(t) = f.type_condition;
            Some((t, &f.selection_set))
        }
        _ => None,
    })
}

/// A value being resolved.
#[derive(Debug, Clone)]
enum Obj {
    Query,
    Org(usize),
    Team(usize, usize),
    User(u32),
    MemberEdge {
        account: u32,
        owner: bool,
        cursor: String,
    },
    TeamEdge {
        org: usize,
        team: usize,
        cursor: String,
    },
    Domain(String),
    PageInfo {
        next: Option<String>,
        start: Option<String>,
        end: Option<String>,
    },
    Connection {
        nodes: Vec<Obj>,
        edges: Vec<Obj>,
        info: Box<Obj>,
        total: usize,
    },
}

impl Obj {
    fn type_name(&self) -> &'static str {
        match self {
            Obj::Query => "Query",
            Obj::Org(_) => "Organization",
            Obj::Team(..) => "Team",
            Obj::User(_) => "User",
            Obj::MemberEdge { .. } => "OrganizationMemberEdge",
            Obj::TeamEdge { .. } => "TeamEdge",
            Obj::Domain(_) => "VerifiableDomain",
            Obj::PageInfo { .. } => "PageInfo",
            Obj::Connection { .. } => "Connection",
        }
    }
}

/// What resolving a field gives: a scalar, an object, a list, or null.
enum Resolved {
    Scalar(Value),
    One(Obj),
    Many(Vec<Option<Obj>>),
}

/// Errors that void the whole answer (GitHub sends no data with them).
struct Fatal(Value);

struct Ctx<'a> {
    doc: &'a Doc<'a>,
    variables: &'a Map<String, Value>,
    state: &'a GitHubState,
    orgs: &'a [GhOrg],
    grant: &'a Grant,
    errors: Vec<Value>,
}

impl<'a> Ctx<'a> {
    fn arg(&self, f: &GqlField<'a>, name: &str) -> Value {
        f.arguments
            .iter()
            .find(|(k, _)| *k == name)
            .map_or(Value::Null, |(_, v)| self.value(v))
    }

    fn value(&self, v: &graphql_parser::query::Value<'a, &'a str>) -> Value {
        use graphql_parser::query::Value as V;
        match v {
            V::Variable(name) => self.variables.get(*name).cloned().unwrap_or(Value::Null),
            V::Int(n) => n.as_i64().map_or(Value::Null, Value::from),
            V::Float(x) => json!(x),
            V::String(s) => json!(s),
            V::Boolean(b) => json!(b),
            V::Null => Value::Null,
            V::Enum(e) => json!(e),
            V::List(items) => Value::Array(items.iter().map(|i| self.value(i)).collect()),
            V::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.to_string(), self.value(v)))
                    .collect(),
            ),
        }
    }

    fn visible_org(&self, login: &str) -> Option<usize> {
        self.orgs
            .iter()
            .position(|o| o.login.eq_ignore_ascii_case(login))
            .filter(|i| self.grant.orgs.contains(i))
    }

    fn selection(
        &mut self,
        obj: &Obj,
        set: &Set<'a>,
        path: &mut Vec<String>,
    ) -> Result<Map<String, Value>, Fatal> {
        let mut out = Map::new();
        for item in &set.items {
            match item {
                Selection::Field(f) => {
                    let key = f.alias.unwrap_or(f.name).to_string();
                    path.push(key.clone());
                    let value = match self.field(obj, f, path)? {
                        Resolved::Scalar(v) => v,
                        Resolved::One(child) => {
                            Value::Object(self.selection(&child, &f.selection_set, path)?)
                        }
                        Resolved::Many(children) => {
                            let mut list = Vec::new();
                            for (i, child) in children.into_iter().enumerate() {
                                path.push(i.to_string());
                                list.push(match child {
                                    Some(c) => {
                                        Value::Object(self.selection(&c, &f.selection_set, path)?)
                                    }
                                    None => Value::Null,
                                });
                                path.pop();
                            }
                            Value::Array(list)
                        }
                    };
                    path.pop();
                    out.insert(key, value);
                }
                Selection::InlineFragment(frag) => {
                    let applies = match &frag.type_condition {
                        Some(TypeCondition::On(t)) => *t == obj.type_name(),
                        None => true,
                    };
                    if applies {
                        out.extend(self.selection(obj, &frag.selection_set, path)?);
                    }
                }
                Selection::FragmentSpread(spread) => {
                    if let Some((kind, set)) = fragment(self.doc, spread.fragment_name)
                        && kind == obj.type_name()
                    {
                        out.extend(self.selection(obj, set, path)?);
                    }
                }
            }
        }
        Ok(out)
    }

    /// `first`/`after` of a connection, checked as GitHub checks them.
    fn bounds(&self, f: &GqlField<'a>, path: &[String]) -> Result<(usize, Option<String>), Fatal> {
        let first = self.arg(f, "first");
        let last = self.arg(f, "last");
        let Some(n) = first.as_u64().or(last.as_u64()) else {
            return Err(Fatal(gql_error(
                format!(
                    "You must provide a `first` or `last` value to properly paginate the `{}` connection.",
                    f.name
                ),
                Some(f),
                path,
                Some("MISSING_PAGINATION_BOUNDARIES"),
            )));
        };
        if n as usize > MAX_RECORDS {
            return Err(Fatal(gql_error(
                format!(
                    "Requesting {n} records on the `{}` connection exceeds the `first` limit of {MAX_RECORDS} records.",
                    f.name
                ),
                Some(f),
                path,
                Some("EXCESSIVE_PAGINATION"),
            )));
        }
        let after = self.arg(f, "after").as_str().map(str::to_string);
        Ok((n as usize, after))
    }

    fn connection<T: Clone>(
        &self,
        f: &GqlField<'a>,
        path: &[String],
        scope: &str,
        items: &[(u64, T)],
        node: impl Fn(&T) -> Obj,
        edge: impl Fn(&T, String) -> Obj,
    ) -> Result<Resolved, Fatal> {
        let (size, after) = self.bounds(f, path)?;
        let (page, next) = paging::page(items, scope, after.as_deref(), size).map_err(|_| {
            Fatal(gql_error(
                format!(
                    "`{}` does not appear to be a valid cursor.",
                    after.as_deref().unwrap_or_default()
                ),
                Some(f),
                path,
                Some("INVALID_CURSOR_ARGUMENTS"),
            ))
        })?;
        let cursor = |k: u64| paging::encode_cursor(scope, &k.to_string());
        let info = Obj::PageInfo {
            next,
            start: page.first().map(|(k, _)| cursor(*k)),
            end: page.last().map(|(k, _)| cursor(*k)),
        };
        Ok(Resolved::One(Obj::Connection {
            nodes: page.iter().map(|(_, t)| node(t)).collect(),
            edges: page.iter().map(|(k, t)| edge(t, cursor(*k))).collect(),
            info: Box::new(info),
            total: items.len(),
        }))
    }

    fn field(&mut self, obj: &Obj, f: &GqlField<'a>, path: &[String]) -> Result<Resolved, Fatal> {
        let scalar = |v: Value| Ok(Resolved::Scalar(v));
        if f.name == "__typename" {
            return scalar(json!(obj.type_name()));
        }
        let accounts = &self.state.accounts;
        match obj {
            Obj::Query => match f.name {
                "organization" => {
                    let login = self.arg(f, "login");
                    let login = login.as_str().unwrap_or_default();
                    match self.visible_org(login) {
                        Some(o) => Ok(Resolved::One(Obj::Org(o))),
                        None => {
                            self.errors.push(gql_error(format!("Could not resolve to an Organization with the login of '{login}'."), Some(f), path, Some("NOT_FOUND")));
                            scalar(Value::Null)
                        }
                    }
                }
                "viewer" => Ok(Resolved::One(Obj::User(self.grant.account))),
                "node" | "nodes" => {
                    let ids = match self.arg(f, "ids") {
                        Value::Array(ids) => ids,
                        Value::Null => vec![self.arg(f, "id")],
                        one => vec![one],
                    };
                    let found: Vec<Option<Obj>> = ids
                        .iter()
                        .map(|id| self.node(id.as_str().unwrap_or_default()))
                        .collect();
                    for (i, (id, obj)) in ids.iter().zip(&found).enumerate() {
                        if obj.is_none() {
                            let mut at = path.to_vec();
                            at.push(i.to_string());
                            self.errors.push(gql_error(
                                format!(
                                    "Could not resolve to a node with the global id of '{}'",
                                    id.as_str().unwrap_or_default()
                                ),
                                Some(f),
                                &at,
                                Some("NOT_FOUND"),
                            ));
                        }
                    }
                    if f.name == "node" {
                        return Ok(found
                            .into_iter()
                            .next()
                            .flatten()
                            .map_or(Resolved::Scalar(Value::Null), Resolved::One));
                    }
                    Ok(Resolved::Many(found))
                }
                _ => scalar(Value::Null),
            },
            Obj::Org(o) => {
                let org = &self.orgs[*o];
                match f.name {
                    "login" => scalar(json!(org.login)),
                    "name" => scalar(json!(org.name)),
                    "description" => scalar(Value::Null),
                    "url" => scalar(json!(format!("https://github.com/{}", org.login))),
                    "id" => scalar(json!(org.node_id())),
                    "databaseId" => scalar(json!(org.id)),
                    "team" => {
                        let slug = self.arg(f, "slug");
                        Ok(org
                            .team_by_slug(slug.as_str().unwrap_or_default())
                            .map_or(Resolved::Scalar(Value::Null), |t| {
                                Resolved::One(Obj::Team(*o, t))
                            }))
                    }
                    "teams" => {
                        let query = self.arg(f, "query");
                        let query = query.as_str().unwrap_or_default().to_lowercase();
                        let roots = self.arg(f, "rootTeamsOnly").as_bool().unwrap_or(false);
                        let mut by_name: Vec<usize> = (0..org.teams.len()).collect();
                        by_name.sort_by_key(|&t| org.teams[t].name.to_lowercase());
                        let items: Vec<(u64, usize)> = by_name
                            .into_iter()
                            .enumerate()
                            .filter(|&(_, t)| {
                                let team = &org.teams[t];
                                (!roots || team.parent.is_none())
                                    && (team.name.to_lowercase().contains(&query)
                                        || team.slug.contains(&query))
                            })
                            .map(|(rank, t)| (rank as u64, t))
                            .collect();
                        let o = *o;
                        self.connection(
                            f,
                            path,
                            &format!("teams:{}", org.id),
                            &items,
                            |&t| Obj::Team(o, t),
                            |&t, cursor| Obj::TeamEdge {
                                org: o,
                                team: t,
                                cursor,
                            },
                        )
                    }
                    "membersWithRole" => {
                        let items: Vec<(u64, (u32, bool))> = org
                            .members
                            .iter()
                            .map(|&(a, owner)| (u64::from(a), (a, owner)))
                            .collect();
                        self.connection(
                            f,
                            path,
                            &format!("members:{}", org.id),
                            &items,
                            |&(a, _)| Obj::User(a),
                            |&(account, owner), cursor| Obj::MemberEdge {
                                account,
                                owner,
                                cursor,
                            },
                        )
                    }
                    "domains" => {
                        let verified_only = self.arg(f, "isVerified").as_bool();
                        let items: Vec<(u64, String)> = org
                            .domains
                            .iter()
                            .filter(|_| verified_only != Some(false))
                            .enumerate()
                            .map(|(i, d)| (i as u64, d.clone()))
                            .collect();
                        self.connection(
                            f,
                            path,
                            &format!("domains:{}", org.id),
                            &items,
                            |d| Obj::Domain(d.clone()),
                            |d, _| Obj::Domain(d.clone()),
                        )
                    }
                    _ => scalar(Value::Null),
                }
            }
            Obj::Team(o, t) => {
                let org = &self.orgs[*o];
                let team = &org.teams[*t];
                match f.name {
                    "id" => scalar(json!(team.node_id())),
                    "databaseId" => scalar(json!(team.id)),
                    "slug" => scalar(json!(team.slug)),
                    "name" => scalar(json!(team.name)),
                    "description" => scalar(json!(team.description)),
                    "privacy" => scalar(json!(team.privacy.to_uppercase())),
                    "combinedSlug" => scalar(json!(format!("{}/{}", org.login, team.slug))),
                    "url" => scalar(json!(format!(
                        "https://github.com/orgs/{}/teams/{}",
                        org.login, team.slug
                    ))),
                    "parentTeam" => Ok(team.parent.map_or(Resolved::Scalar(Value::Null), |p| {
                        Resolved::One(Obj::Team(*o, p))
                    })),
                    _ => scalar(Value::Null),
                }
            }
            Obj::User(a) => {
                let account = &accounts[*a as usize];
                if let Some(v) = self.state.mistyped(&account.login, f.name) {
                    return scalar(v);
                }
                match f.name {
                    "id" => scalar(json!(account.node_id())),
                    "databaseId" => scalar(json!(account.id)),
                    "login" => scalar(json!(account.login)),
                    "name" => scalar(json!(account.name)),
                    // Non-null in GitHub's schema: empty when not public.
                    "email" => scalar(json!(account.public_email.clone().unwrap_or_default())),
                    "url" => scalar(json!(format!("https://github.com/{}", account.login))),
                    "company" | "location" => scalar(Value::Null),
                    "organizationVerifiedDomainEmails" => {
                        let login = self.arg(f, "login");
                        let emails = self
                            .visible_org(login.as_str().unwrap_or_default())
                            .map(|o| account.verified_in(&self.orgs[o]))
                            .unwrap_or_default();
                        scalar(json!(emails))
                    }
                    _ => scalar(Value::Null),
                }
            }
            Obj::MemberEdge {
                account,
                owner,
                cursor,
            } => match f.name {
                "cursor" => scalar(json!(cursor)),
                "role" => scalar(json!(if *owner { "ADMIN" } else { "MEMBER" })),
                "hasTwoFactorEnabled" => scalar(json!(true)),
                "node" => Ok(Resolved::One(Obj::User(*account))),
                _ => scalar(Value::Null),
            },
            Obj::TeamEdge { org, team, cursor } => match f.name {
                "cursor" => scalar(json!(cursor)),
                "node" => Ok(Resolved::One(Obj::Team(*org, *team))),
                _ => scalar(Value::Null),
            },
            Obj::Domain(d) => match f.name {
                "domain" => scalar(json!(d)),
                "isVerified" | "isApproved" => scalar(json!(true)),
                "id" => scalar(json!(super::model::node_id(
                    "VerifiableDomain",
                    d.len() as u64
                ))),
                _ => scalar(Value::Null),
            },
            Obj::PageInfo { next, start, end } => match f.name {
                "hasNextPage" => scalar(json!(next.is_some())),
                "hasPreviousPage" => scalar(json!(false)),
                "startCursor" => scalar(json!(start)),
                "endCursor" => scalar(json!(end)),
                _ => scalar(Value::Null),
            },
            Obj::Connection {
                nodes,
                edges,
                info,
                total,
            } => match f.name {
                "nodes" => Ok(Resolved::Many(nodes.iter().cloned().map(Some).collect())),
                "edges" => Ok(Resolved::Many(edges.iter().cloned().map(Some).collect())),
                "pageInfo" => Ok(Resolved::One((**info).clone())),
                "totalCount" => scalar(json!(total)),
                _ => scalar(Value::Null),
            },
        }
    }

    /// A node by its global id, if the token may see it.
    fn node(&self, id: &str) -> Option<Obj> {
        use base64::Engine;
        let raw = base64::engine::general_purpose::STANDARD.decode(id).ok()?;
        let text = String::from_utf8(raw).ok()?;
        let rest = text.strip_prefix("04:")?;
        if let Some(n) = rest.strip_prefix("User") {
            let n: u64 = n.parse().ok()?;
            let a = self.state.accounts.iter().position(|a| a.id == n)? as u32;
            // Only people in an organisation the token sees.
            self.grant
                .orgs
                .iter()
                .any(|&o| self.orgs[o].is_member(a))
                .then_some(Obj::User(a))
        } else if let Some(n) = rest.strip_prefix("Team") {
            let n: u64 = n.parse().ok()?;
            self.grant
                .orgs
                .iter()
                .find_map(|&o| self.orgs[o].team_by_id(n).map(|t| Obj::Team(o, t)))
        } else {
            None
        }
    }
}

/// The document's one query (mutations and subscriptions are not served).
fn single_query<'d, 'a>(doc: &'d Doc<'a>) -> Option<&'d Set<'a>> {
    let operations: Vec<&Set<'a>> = doc
        .definitions
        .iter()
        .filter_map(|d| match d {
            Definition::Operation(OperationDefinition::Query(q)) => Some(&q.selection_set),
            Definition::Operation(OperationDefinition::SelectionSet(s)) => Some(s),
            _ => None,
        })
        .collect();
    match operations.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

fn answer(body: Value, grant: &Grant) -> Response {
    let mut response = with_scopes(Json(body).into_response(), grant, &[]);
    response
        .headers_mut()
        .insert("x-ratelimit-resource", HeaderValue::from_static("graphql"));
    response
}

/// `POST /graphql`.
pub(crate) async fn graphql(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if shared
        .github
        .graphql_refused
        .load(std::sync::atomic::Ordering::SeqCst)
    {
        return errors::error(
            StatusCode::FORBIDDEN,
            "Resource not accessible by personal access token",
            DOCS,
        );
    }
    if super::rest::bearer(&headers).is_none() {
        return errors::error(
            StatusCode::UNAUTHORIZED,
            "This endpoint requires you to be authenticated.",
            "https://docs.github.com/graphql/guides/forming-calls-with-graphql#authenticating-with-graphql",
        );
    }
    let grant = match super::rest::authenticate(&shared, &headers) {
        Ok(g) => g,
        Err(r) => return *r,
    };
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => return errors::error(StatusCode::BAD_REQUEST, "Problems parsing JSON", DOCS),
    };
    let Some(text) = request["query"].as_str() else {
        return answer(
            json!({"errors": [{"message": "A query attribute must be specified and must be a string."}]}),
            &grant,
        );
    };
    let doc = match graphql_parser::parse_query::<&str>(text) {
        Ok(d) => d,
        Err(e) => {
            let message = e
                .to_string()
                .lines()
                .next()
                .unwrap_or("Parse error")
                .to_string();
            return answer(json!({"errors": [{"message": message}]}), &grant);
        }
    };
    let Some(set) = single_query(&doc) else {
        return answer(
            json!({"errors": [{"message": "The sandbox answers exactly one query operation per document."}]}),
            &grant,
        );
    };
    let mut problems = Vec::new();
    validate(
        &doc,
        set,
        "Query",
        &mut vec!["query".to_string()],
        &grant,
        &mut problems,
    );
    if !problems.is_empty() {
        return answer(json!({ "errors": problems }), &grant);
    }
    let empty = Map::new();
    let variables = request["variables"].as_object().unwrap_or(&empty);
    let orgs = shared.github.orgs();
    let mut ctx = Ctx {
        doc: &doc,
        variables,
        state: &shared.github,
        orgs: &orgs,
        grant: &grant,
        errors: Vec::new(),
    };
    let body = match ctx.selection(&Obj::Query, set, &mut Vec::new()) {
        Ok(data) if ctx.errors.is_empty() => json!({ "data": data }),
        Ok(data) => json!({ "data": data, "errors": ctx.errors }),
        Err(Fatal(e)) => json!({ "errors": [e] }),
    };
    answer(body, &grant)
}

/// Parses and validates `query` for a grant, as the handler does (tests).
#[cfg(test)]
fn problems(query: &str, grant: &Grant) -> Vec<Value> {
    let doc = graphql_parser::parse_query::<&str>(query).expect("parses");
    let set = single_query(&doc).expect("a query");
    let mut out = Vec::new();
    validate(
        &doc,
        set,
        "Query",
        &mut vec!["query".into()],
        grant,
        &mut out,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(scopes: &[&str]) -> Grant {
        Grant {
            account: 0,
            orgs: vec![0],
            scopes: Some(scopes.iter().map(|s| s.to_string()).collect()),
        }
    }

    #[test]
    fn unknown_fields_are_named() {
        let p = problems(
            "query { organization(login: \"x\") { bogus } }",
            &grant(&["read:org"]),
        );
        assert_eq!(p.len(), 1);
        assert_eq!(
            p[0]["message"],
            "Field 'bogus' doesn't exist on type 'Organization'"
        );
        assert_eq!(p[0]["extensions"]["code"], "undefinedField");
    }

    #[test]
    fn email_needs_a_user_scope() {
        let q = "query($o: String!) { organization(login: $o) { membersWithRole(first: 1) { nodes { login email } } } }";
        let p = problems(q, &grant(&["read:org"]));
        assert_eq!(p.len(), 1);
        assert_eq!(p[0]["type"], "INSUFFICIENT_SCOPES");
        assert!(p[0]["message"].as_str().unwrap().contains("'email' field"));
        assert!(problems(q, &grant(&["read:org", "read:user"])).is_empty());
        let fine_grained = Grant {
            scopes: None,
            ..grant(&[])
        };
        assert!(problems(q, &fine_grained).is_empty());
    }

    #[test]
    fn objects_need_selections_and_scalars_refuse_them() {
        let p = problems(
            "{ organization(login: \"x\") { teams(first: 1) } }",
            &grant(&["read:org"]),
        );
        assert!(
            p[0]["message"]
                .as_str()
                .unwrap()
                .starts_with("Field must have selections")
        );
        let p = problems(
            "{ organization(login: \"x\") { login { x } } }",
            &grant(&["read:org"]),
        );
        assert!(
            p[0]["message"]
                .as_str()
                .unwrap()
                .starts_with("Selections can't be made on scalars")
        );
    }
}
