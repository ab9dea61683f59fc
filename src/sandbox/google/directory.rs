//! The Directory API (`/admin/directory/v1`): `groups.list` and `groups.get`,
//! `members.list` (derived membership only when asked), `users.list` and
//! `users.get`, with Google's page-size limits (400 beyond them),
//! `nextPageToken` paging and the `query` syntax.

use std::sync::Arc;

use axum::Json;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use serde_json::{Map, Value, json};

use super::errors::GoogleError;
use super::query::{self, Field};
use super::workspace::{Member, Workspace};
use crate::sandbox::Shared;
use crate::sandbox::filter::all_hold;
use crate::sandbox::paging::{self, PageSize};

type Answer = Result<Json<Value>, GoogleError>;

/// A Directory list: its `kind`, where its records go, its page sizes.
pub(crate) struct Listing {
    pub kind: &'static str,
    pub field: &'static str,
    pub page: PageSize,
}

const GROUPS: Listing = Listing {
    kind: "admin#directory#groups",
    field: "groups",
    page: PageSize {
        default: 200,
        max: 200,
        cap: false,
    },
};
const MEMBERS: Listing = Listing {
    kind: "admin#directory#members",
    field: "members",
    page: GROUPS.page,
};
const USERS: Listing = Listing {
    kind: "admin#directory#users",
    field: "users",
    page: PageSize {
        default: 100,
        max: 500,
        cap: false,
    },
};

const GROUP_FIELDS: &[(&str, Field)] = &[
    ("name", Field::Text { prefix: true }),
    ("email", Field::Text { prefix: true }),
];
const USER_FIELDS: &[(&str, Field)] = &[
    ("email", Field::Text { prefix: true }),
    ("givenName", Field::Text { prefix: true }),
    ("familyName", Field::Text { prefix: true }),
    ("name", Field::Text { prefix: false }),
    ("isAdmin", Field::Bool),
    ("isDelegatedAdmin", Field::Bool),
    ("isSuspended", Field::Bool),
    ("isArchived", Field::Bool),
];

/// A request's path and its parameters, as sent.
pub(crate) struct Params {
    pub path: String,
    pairs: Vec<(String, String)>,
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Params, Self::Rejection> {
        Ok(Params {
            path: parts.uri.path().to_owned(),
            pairs: paging::pairs(parts.uri.query()),
        })
    }
}

impl Params {
    /// The last value of `name`: Google takes the last of repeated parameters.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `maxResults` under `rule`.
    pub(crate) fn page_size(&self, rule: PageSize) -> Result<usize, GoogleError> {
        let asked = match self.get("maxResults") {
            None => None,
            Some(v) => Some(v.trim().parse::<usize>().map_err(|_| {
                GoogleError::invalid(format!("Invalid value '{v}'. Value must be an integer."))
            })?),
        };
        rule.resolve(asked)
            .map_err(|n| GoogleError::out_of_range(&n.to_string(), rule.max))
    }
}

impl Listing {
    /// The page of `items` (keyed, in list order) the request asks for, in
    /// Google's shape: `kind`, `etag`, the records (left out when there are
    /// none) and `nextPageToken`. `scope` names the list its tokens belong to.
    pub(crate) fn answer<T>(
        &self,
        p: &Params,
        scope: &str,
        items: &[(u64, T)],
        render: impl Fn(&T) -> Value,
    ) -> Answer {
        let size = p.page_size(self.page)?;
        let (page, next) = paging::page(items, scope, p.get("pageToken"), size)
            .map_err(|_| GoogleError::invalid("Invalid Input: pageToken"))?;
        let mut body = Map::new();
        body.insert("kind".into(), Value::from(self.kind));
        body.insert("etag".into(), Value::from(etag(scope)));
        if !page.is_empty() {
            body.insert(
                self.field.into(),
                Value::Array(page.iter().map(|(_, t)| render(t)).collect()),
            );
        }
        if let Some(next) = next {
            body.insert("nextPageToken".into(), Value::from(next));
        }
        Ok(Json(Value::Object(body)))
    }
}

/// An opaque, quoted etag as Google writes them.
pub(crate) fn etag(of: &str) -> String {
    let hash = of.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    format!("\"{hash:016x}/sandbox\"")
}

/// Lists need `customer` (this customer's id or `my_customer`) or one of
/// its `domain`s.
fn check_customer(ws: &Workspace, p: &Params) -> Result<(), GoogleError> {
    match (p.get("customer"), p.get("domain")) {
        (Some(c), _) if c == "my_customer" || c == ws.customer_id => Ok(()),
        (Some(_), _) => Err(GoogleError::bad_request()),
        (None, Some(d)) if ws.domains.iter().any(|x| x.eq_ignore_ascii_case(d)) => Ok(()),
        (None, Some(_)) => Err(GoogleError::not_authorized()),
        (None, None) => Err(GoogleError::bad_request()),
    }
}

fn invalid_query(_: query::InvalidInput) -> GoogleError {
    GoogleError::invalid("Invalid Input")
}

fn group_json(ws: &Workspace, i: usize) -> Value {
    let g = &ws.groups[i];
    let local = g.email.split('@').next().unwrap_or_default();
    json!({
        "kind": "admin#directory#group",
        "id": g.id,
        "etag": etag(&g.id),
        "email": g.email,
        "name": g.name,
        "directMembersCount": g.members.len().to_string(),
        "description": g.description,
        "adminCreated": true,
        "nonEditableAliases": [format!("{local}@{}.test-google-a.com", ws.domains[0].split('.').next().unwrap_or("contoso"))],
    })
}

pub(crate) fn user_json(ws: &Workspace, i: usize) -> Value {
    let a = &ws.accounts[i];
    let mut user = json!({
        "kind": "admin#directory#user",
        "id": a.id,
        "etag": etag(&a.id),
        "primaryEmail": a.primary_email,
        "name": {"givenName": a.given_name, "familyName": a.family_name, "fullName": a.full_name()},
        "isAdmin": a.is_admin,
        "isDelegatedAdmin": false,
        "agreedToTerms": true,
        "suspended": a.suspended,
        "archived": a.archived,
        "changePasswordAtNextLogin": false,
        "ipWhitelisted": false,
        "emails": [{"address": a.primary_email, "primary": true}],
        "customerId": ws.customer_id,
        "orgUnitPath": a.org_unit,
        "isMailboxSetup": true,
        "isEnrolledIn2Sv": a.is_admin,
        "isEnforcedIn2Sv": false,
        "includeInGlobalAddressList": true,
    });
    if a.suspended {
        user["suspensionReason"] = Value::from("ADMIN");
    }
    if a.id_withheld {
        user.as_object_mut().map(|u| u.remove("id"));
    }
    user
}

/// A member record; `role` as the membership has it.
fn member_json(ws: &Workspace, m: Member, role: &str) -> Value {
    let (id, email, kind, status) = match m {
        Member::User(i) => {
            let a = &ws.accounts[i as usize];
            let id = (!a.id_withheld).then(|| a.id.clone());
            (id, Some(a.primary_email.clone()), "USER", a.status())
        }
        Member::Group(i) => {
            let g = &ws.groups[i as usize];
            (Some(g.id.clone()), Some(g.email.clone()), "GROUP", "ACTIVE")
        }
        Member::Customer => (Some(ws.customer_id.clone()), None, "CUSTOMER", "ACTIVE"),
        Member::External(i) => (
            Some(format!("1{:020}", 7_000_000_000u64 + u64::from(i))),
            Some(ws.externals[i as usize].clone()),
            "EXTERNAL",
            "ACTIVE",
        ),
    };
    let mut record = json!({
        "kind": "admin#directory#member",
        "etag": etag(&format!("{m:?}")),
        "role": role,
        "type": kind,
        "status": status,
    });
    if let Some(id) = id {
        record["id"] = Value::from(id);
    }
    if let Some(email) = email {
        record["email"] = Value::from(email);
    }
    if kind == "USER" {
        record["delivery_settings"] = Value::from("ALL_MAIL");
    }
    record
}

/// `GET /admin/directory/v1/groups`.
pub(crate) async fn list_groups(State(shared): State<Arc<Shared>>, p: Params) -> Answer {
    let ws = shared.google.workspace();
    let of_member = match p.get("userKey") {
        Some(key) => Some(
            ws.find(key)
                .ok_or_else(|| GoogleError::not_found("userKey"))?,
        ),
        None => {
            check_customer(&ws, &p)?;
            None
        }
    };
    let text = p.get("query").unwrap_or_default();
    let clauses = query::parse(text, GROUP_FIELDS).map_err(invalid_query)?;
    let items: Vec<(u64, usize)> = (0..ws.groups.len())
        .filter(|&i| {
            let g = &ws.groups[i];
            of_member.is_none_or(|m| g.members.contains(&m))
                && all_hold(&clauses, |field| match field {
                    "name" => Some(Value::from(g.name.as_str())),
                    "email" => Some(Value::from(g.email.as_str())),
                    _ => None,
                })
        })
        .map(|i| (i as u64, i))
        .collect();
    let scope = format!("{} {text} {:?}", p.path, p.get("userKey"));
    GROUPS.answer(&p, &scope, &items, |&i| group_json(&ws, i))
}

/// `GET /admin/directory/v1/groups/{groupKey}`: by id or e-mail.
pub(crate) async fn get_group(
    State(shared): State<Arc<Shared>>,
    Path(key): Path<String>,
) -> Answer {
    let ws = shared.google.workspace();
    let i = ws
        .group(&key)
        .ok_or_else(|| GoogleError::not_found("groupKey"))?;
    Ok(Json(group_json(&ws, i)))
}

/// `GET /admin/directory/v1/groups/{groupKey}/members`: direct members, or
/// with `includeDerivedMembership=true` everyone reachable through nesting.
pub(crate) async fn list_members(
    State(shared): State<Arc<Shared>>,
    Path(key): Path<String>,
    p: Params,
) -> Answer {
    let ws = shared.google.workspace();
    let g = ws
        .group(&key)
        .ok_or_else(|| GoogleError::not_found("groupKey"))?;
    let derived = match p.get("includeDerivedMembership") {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(GoogleError::invalid(format!(
                "Invalid value '{other}'. Value must be true or false."
            )));
        }
    };
    let direct = &ws.groups[g].members;
    // The first person listed owns the group; everyone else is a member.
    let owner = direct
        .iter()
        .find(|m| matches!(m, Member::User(_)))
        .copied();
    let role = |m: Member| if Some(m) == owner { "OWNER" } else { "MEMBER" };
    let members: Vec<Member> = if derived {
        ws.derived_members(g).into_iter().collect()
    } else {
        direct.clone()
    };
    let roles: Option<Vec<String>> = p.get("roles").map(|r| {
        r.split(',')
            .map(|s| s.trim().to_ascii_uppercase())
            .collect()
    });
    let items: Vec<(u64, Member)> = members
        .into_iter()
        .filter(|&m| {
            roles
                .as_ref()
                .is_none_or(|r| r.iter().any(|x| x == role(m)))
        })
        .map(|m| (m.key(), m))
        .collect();
    let scope = format!("{} {derived} {:?}", p.path, p.get("roles"));
    MEMBERS.answer(&p, &scope, &items, |&m| member_json(&ws, m, role(m)))
}

/// `GET /admin/directory/v1/users`.
pub(crate) async fn list_users(State(shared): State<Arc<Shared>>, p: Params) -> Answer {
    let ws = shared.google.workspace();
    check_customer(&ws, &p)?;
    let text = p.get("query").unwrap_or_default();
    let clauses = query::parse(text, USER_FIELDS).map_err(invalid_query)?;
    let items: Vec<(u64, usize)> = (0..ws.accounts.len())
        .filter(|&i| {
            let a = &ws.accounts[i];
            all_hold(&clauses, |field| {
                Some(match field {
                    "email" => Value::from(a.primary_email.as_str()),
                    "givenName" => Value::from(a.given_name.as_str()),
                    "familyName" => Value::from(a.family_name.as_str()),
                    "name" => Value::from(a.full_name()),
                    "isAdmin" => Value::from(a.is_admin),
                    "isDelegatedAdmin" => Value::from(false),
                    "isSuspended" => Value::from(a.suspended),
                    "isArchived" => Value::from(a.archived),
                    _ => return None,
                })
            })
        })
        .map(|i| (i as u64, i))
        .collect();
    let scope = format!("{} {text}", p.path);
    USERS.answer(&p, &scope, &items, |&i| user_json(&ws, i))
}

/// `GET /admin/directory/v1/users/{userKey}`: by id or primary e-mail.
pub(crate) async fn get_user(State(shared): State<Arc<Shared>>, Path(key): Path<String>) -> Answer {
    let ws = shared.google.workspace();
    let i = ws
        .account(&key)
        .ok_or_else(|| GoogleError::not_found("userKey"))?;
    Ok(Json(user_json(&ws, i)))
}
