//! Graph connectors in the sandbox: `/v1.0/external/connections`, their
//! external groups, members and items, with Graph's validation (id rules
//! and their errors, 201 on create, 204 on delete, 409 on duplicates). What
//! is sent is stored, and tests read it back with
//! [`Sandbox::external_connection`] and [`Sandbox::external_changes`].
//!
//! Connection ids are looked up without regard to case, as Graph does;
//! external group ids and member ids exactly.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::{Map, Value, json};

use super::auth;
use super::errors::GraphError;
use crate::domain::external::{AclEntry, AclEntryWire, Member, MemberWire};
use crate::sandbox::{Sandbox, Shared, lock_mutex};

const RESERVED: [&str; 16] = [
    "None",
    "Directory",
    "Exchange",
    "ExchangeArchive",
    "LinkedIn",
    "Mailbox",
    "OneDriveBusiness",
    "SharePoint",
    "Teams",
    "Yammer",
    "Connectors",
    "TaskFabric",
    "PowerBI",
    "Assistant",
    "TopicEngine",
    "MSFT_All_Connectors",
];

/// Graph's limit of connections per tenant.
const MAX_CONNECTIONS: usize = 30;

/// A connection as the sandbox holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredConnection {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub groups: BTreeMap<String, StoredGroup>,
    pub items: BTreeMap<String, StoredItem>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoredGroup {
    pub id: String,
    pub display_name: Option<String>,
    pub description: Option<String>,
    /// In the order they were added, as they were sent.
    pub members: Vec<MemberWire>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoredItem {
    pub acl: Vec<AclEntryWire>,
    pub properties: Map<String, Value>,
    pub content: Option<Value>,
}

/// A change the sandbox accepted, in order: what a sync really sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExternalChange {
    ConnectionCreated(String),
    ConnectionDeleted(String),
    GroupCreated {
        connection: String,
        group: String,
    },
    GroupUpdated {
        connection: String,
        group: String,
    },
    GroupDeleted {
        connection: String,
        group: String,
    },
    MemberAdded {
        connection: String,
        group: String,
        member: String,
    },
    MemberRemoved {
        connection: String,
        group: String,
        member: String,
    },
    ItemPut {
        connection: String,
        item: String,
    },
    ItemDeleted {
        connection: String,
        item: String,
    },
}

#[derive(Default)]
struct Inner {
    /// By lower-cased connection id.
    connections: BTreeMap<String, StoredConnection>,
    changes: Vec<ExternalChange>,
}

/// Graph connectors state of one sandbox.
#[derive(Default)]
pub(crate) struct ExternalState(Mutex<Inner>);

impl Sandbox {
    /// A connection with its groups, members and items, as stored.
    pub fn external_connection(&self, id: &str) -> Option<StoredConnection> {
        lock_mutex(&self.shared.microsoft.external.0)
            .connections
            .get(&id.to_ascii_lowercase())
            .cloned()
    }

    /// Every change accepted so far, oldest first.
    pub fn external_changes(&self) -> Vec<ExternalChange> {
        lock_mutex(&self.shared.microsoft.external.0)
            .changes
            .clone()
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router<Arc<Shared>> {
    let base = "/v1.0/external/connections";
    Router::new()
        .route(base, get(list_connections).post(create_connection))
        .route(
            &format!("{base}/{{cid}}"),
            get(get_connection).delete(delete_connection),
        )
        .route(&format!("{base}/{{cid}}/groups"), post(create_group))
        .route(
            &format!("{base}/{{cid}}/groups/{{gid}}"),
            get(get_group).patch(update_group).delete(delete_group),
        )
        .route(
            &format!("{base}/{{cid}}/groups/{{gid}}/members"),
            post(add_member),
        )
        .route(
            &format!("{base}/{{cid}}/groups/{{gid}}/members/{{mid}}"),
            axum::routing::delete(remove_member),
        )
        .route(
            &format!("{base}/{{cid}}/items/{{iid}}"),
            put(put_item).delete(delete_item),
        )
        .route_layer(from_fn_with_state(shared, auth::require_graph))
}

type Answer = Result<Response, GraphError>;

fn bad(message: impl Into<String>) -> GraphError {
    GraphError::new(StatusCode::BAD_REQUEST, "BadRequest", message)
}

fn conflict(message: impl Into<String>) -> GraphError {
    GraphError::new(StatusCode::CONFLICT, "Conflict", message)
}

fn missing(what: &str) -> GraphError {
    GraphError::new(
        StatusCode::NOT_FOUND,
        "ItemNotFound",
        format!("{what} was not found."),
    )
}

fn body(bytes: &Bytes) -> Result<Map<String, Value>, GraphError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(bad("The request body is not a JSON object.")),
    }
}

fn text(map: &Map<String, Value>, key: &str) -> Result<Option<String>, GraphError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad(format!("The property '{key}' must be a string."))),
    }
}

/// Graph's connection id rule.
fn check_connection_id(id: &str) -> Result<(), GraphError> {
    let ok = (3..=32).contains(&id.len())
        && id.chars().all(|c| c.is_ascii_alphanumeric())
        && !id
            .get(..9)
            .is_some_and(|p| p.eq_ignore_ascii_case("microsoft"))
        && !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(id));
    if ok {
        Ok(())
    } else {
        Err(bad(format!(
            "The connection id '{id}' is invalid. It must be 3 to 32 alphanumeric characters, must not start with 'Microsoft' and must not be a reserved name."
        )))
    }
}

/// Graph's external group id rule (URL- and file-name-safe base64).
fn check_group_id(id: &str) -> Result<(), GraphError> {
    let ok = !id.is_empty()
        && id.chars().count() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(bad(format!(
            "The external group id '{id}' is invalid. It must be 1 to 128 characters from A-Z, a-z, 0-9, '-' and '_'."
        )))
    }
}

fn connection_json(c: &StoredConnection) -> Value {
    json!({"id": c.id, "name": c.name, "description": c.description, "state": "ready"})
}

fn group_json(g: &StoredGroup) -> Value {
    json!({"id": g.id, "displayName": g.display_name, "description": g.description})
}

impl ExternalState {
    fn with<T>(
        &self,
        f: impl FnOnce(&mut Inner) -> Result<T, GraphError>,
    ) -> Result<T, GraphError> {
        f(&mut lock_mutex(&self.0))
    }
}

impl Inner {
    fn connection(&mut self, cid: &str) -> Result<&mut StoredConnection, GraphError> {
        self.connections
            .get_mut(&cid.to_ascii_lowercase())
            .ok_or_else(|| missing(&format!("The connection '{cid}'")))
    }

    fn group(&mut self, cid: &str, gid: &str) -> Result<&mut StoredGroup, GraphError> {
        self.connection(cid)?
            .groups
            .get_mut(gid)
            .ok_or_else(|| missing(&format!("The external group '{gid}'")))
    }
}

async fn list_connections(State(shared): State<Arc<Shared>>) -> Answer {
    shared.microsoft.external.with(|s| {
        let value: Vec<Value> = s.connections.values().map(connection_json).collect();
        Ok(Json(json!({"value": value})).into_response())
    })
}

async fn create_connection(State(shared): State<Arc<Shared>>, bytes: Bytes) -> Answer {
    let map = body(&bytes)?;
    let id = text(&map, "id")?.ok_or_else(|| bad("The property 'id' is required."))?;
    check_connection_id(&id)?;
    let name = text(&map, "name")?
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| bad("The property 'name' is required."))?;
    if name.chars().count() > 128 {
        return Err(bad("The property 'name' must be at most 128 characters."));
    }
    let description = text(&map, "description")?;
    shared.microsoft.external.with(|s| {
        let key = id.to_ascii_lowercase();
        if s.connections.contains_key(&key) {
            return Err(conflict(format!(
                "A connection with id '{id}' already exists."
            )));
        }
        if s.connections.len() >= MAX_CONNECTIONS {
            return Err(GraphError::new(
                StatusCode::FORBIDDEN,
                "QuotaLimitExceeded",
                "The tenant already has the maximum of 30 connections.",
            ));
        }
        let c = StoredConnection {
            id: id.clone(),
            name,
            description,
            groups: BTreeMap::new(),
            items: BTreeMap::new(),
        };
        let answer = (StatusCode::CREATED, Json(connection_json(&c))).into_response();
        s.connections.insert(key, c);
        s.changes.push(ExternalChange::ConnectionCreated(id));
        Ok(answer)
    })
}

async fn get_connection(State(shared): State<Arc<Shared>>, Path(cid): Path<String>) -> Answer {
    shared
        .microsoft
        .external
        .with(|s| Ok(Json(connection_json(s.connection(&cid)?)).into_response()))
}

async fn delete_connection(State(shared): State<Arc<Shared>>, Path(cid): Path<String>) -> Answer {
    shared.microsoft.external.with(|s| {
        let c = s
            .connections
            .remove(&cid.to_ascii_lowercase())
            .ok_or_else(|| missing(&format!("The connection '{cid}'")))?;
        s.changes.push(ExternalChange::ConnectionDeleted(c.id));
        Ok(StatusCode::NO_CONTENT.into_response())
    })
}

async fn create_group(
    State(shared): State<Arc<Shared>>,
    Path(cid): Path<String>,
    bytes: Bytes,
) -> Answer {
    let map = body(&bytes)?;
    let id = text(&map, "id")?.ok_or_else(|| bad("The property 'id' is required."))?;
    check_group_id(&id)?;
    let group = StoredGroup {
        id: id.clone(),
        display_name: text(&map, "displayName")?,
        description: text(&map, "description")?,
        members: Vec::new(),
    };
    shared.microsoft.external.with(|s| {
        let c = s.connection(&cid)?;
        if c.groups.contains_key(&id) {
            return Err(conflict(format!(
                "An external group with id '{id}' already exists in the connection."
            )));
        }
        let answer = (StatusCode::CREATED, Json(group_json(&group))).into_response();
        c.groups.insert(id.clone(), group);
        let connection = c.id.clone();
        s.changes.push(ExternalChange::GroupCreated {
            connection,
            group: id,
        });
        Ok(answer)
    })
}

async fn get_group(
    State(shared): State<Arc<Shared>>,
    Path((cid, gid)): Path<(String, String)>,
) -> Answer {
    shared
        .microsoft
        .external
        .with(|s| Ok(Json(group_json(s.group(&cid, &gid)?)).into_response()))
}

async fn update_group(
    State(shared): State<Arc<Shared>>,
    Path((cid, gid)): Path<(String, String)>,
    bytes: Bytes,
) -> Answer {
    let map = body(&bytes)?;
    if map.contains_key("id") {
        return Err(bad("The property 'id' cannot be changed."));
    }
    let display_name = text(&map, "displayName")?;
    let description = text(&map, "description")?;
    shared.microsoft.external.with(|s| {
        let g = s.group(&cid, &gid)?;
        if map.contains_key("displayName") {
            g.display_name = display_name;
        }
        if map.contains_key("description") {
            g.description = description;
        }
        let answer = Json(group_json(g)).into_response();
        let connection = s.connection(&cid)?.id.clone();
        s.changes.push(ExternalChange::GroupUpdated {
            connection,
            group: gid,
        });
        Ok(answer)
    })
}

async fn delete_group(
    State(shared): State<Arc<Shared>>,
    Path((cid, gid)): Path<(String, String)>,
) -> Answer {
    shared.microsoft.external.with(|s| {
        let c = s.connection(&cid)?;
        c.groups
            .remove(&gid)
            .ok_or_else(|| missing(&format!("The external group '{gid}'")))?;
        let connection = c.id.clone();
        s.changes.push(ExternalChange::GroupDeleted {
            connection,
            group: gid,
        });
        Ok(StatusCode::NO_CONTENT.into_response())
    })
}

async fn add_member(
    State(shared): State<Arc<Shared>>,
    Path((cid, gid)): Path<(String, String)>,
    bytes: Bytes,
) -> Answer {
    let wire: MemberWire = serde_json::from_slice(&bytes)
        .map_err(|_| bad("The member must have the properties 'id' and 'type'."))?;
    // Both the v1.0 and the beta shape; a nested external group must have
    // a valid external group id.
    let member = Member::from_wire(&wire).map_err(|e| bad(format!("Invalid member: {e}")))?;
    shared.microsoft.external.with(|s| {
        let g = s.group(&cid, &gid)?;
        if g.members.iter().any(|m| m.id == member.id()) {
            return Err(conflict(format!(
                "The member '{}' is already in the external group '{gid}'.",
                member.id()
            )));
        }
        g.members.push(wire.clone());
        let connection = s.connection(&cid)?.id.clone();
        s.changes.push(ExternalChange::MemberAdded {
            connection,
            group: gid,
            member: member.id().to_string(),
        });
        Ok((StatusCode::CREATED, Json(wire)).into_response())
    })
}

async fn remove_member(
    State(shared): State<Arc<Shared>>,
    Path((cid, gid, mid)): Path<(String, String, String)>,
) -> Answer {
    shared.microsoft.external.with(|s| {
        let g = s.group(&cid, &gid)?;
        let at = g
            .members
            .iter()
            .position(|m| m.id == mid)
            .ok_or_else(|| missing(&format!("The member '{mid}'")))?;
        g.members.remove(at);
        let connection = s.connection(&cid)?.id.clone();
        s.changes.push(ExternalChange::MemberRemoved {
            connection,
            group: gid,
            member: mid,
        });
        Ok(StatusCode::NO_CONTENT.into_response())
    })
}

async fn put_item(
    State(shared): State<Arc<Shared>>,
    Path((cid, iid)): Path<(String, String)>,
    bytes: Bytes,
) -> Answer {
    let mut map = body(&bytes)?;
    let acl: Vec<AclEntryWire> = match map.remove("acl") {
        Some(v) => serde_json::from_value(v)
            .map_err(|_| bad("Each ACL entry must have 'type', 'value' and 'accessType'."))?,
        None => return Err(bad("The property 'acl' is required.")),
    };
    for (i, entry) in acl.iter().enumerate() {
        AclEntry::from_wire(entry).map_err(|e| bad(format!("ACL entry {}: {e}", i + 1)))?;
    }
    let properties = match map.remove("properties") {
        Some(Value::Object(p)) if !p.is_empty() => p,
        _ => {
            return Err(bad(
                "The property 'properties' is required and must have at least one property.",
            ));
        }
    };
    let content = map.remove("content");
    if let Some(c) = &content
        && !matches!(c["type"].as_str(), Some("text" | "html"))
    {
        return Err(bad("The content type must be 'text' or 'html'."));
    }
    shared.microsoft.external.with(|s| {
        let c = s.connection(&cid)?;
        let echo = json!({"id": iid, "acl": acl, "properties": properties, "content": content});
        c.items.insert(
            iid.clone(),
            StoredItem {
                acl,
                properties,
                content,
            },
        );
        let connection = c.id.clone();
        s.changes.push(ExternalChange::ItemPut {
            connection,
            item: iid,
        });
        Ok(Json(echo).into_response())
    })
}

async fn delete_item(
    State(shared): State<Arc<Shared>>,
    Path((cid, iid)): Path<(String, String)>,
) -> Answer {
    shared.microsoft.external.with(|s| {
        let c = s.connection(&cid)?;
        c.items
            .remove(&iid)
            .ok_or_else(|| missing(&format!("The external item '{iid}'")))?;
        let connection = c.id.clone();
        s.changes.push(ExternalChange::ItemDeleted {
            connection,
            item: iid,
        });
        Ok(StatusCode::NO_CONTENT.into_response())
    })
}
