//! Graph connectors (R-X1…R-X4): external connections, external groups,
//! their members and item ACLs, over the connector's tokens, retry policy
//! and error mapping.
//!
//! Ids are typed, so every id rule was checked before a request is made.
//! Members go out in the v1.0 shape `{id, type}`; the beta shape with
//! `identitySource` is accepted when reading.

use std::collections::BTreeSet;

use async_trait::async_trait;
use reqwest::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::api::{Call, Collection, api_error};
use super::auth::Scope;
use super::endpoints::{follow, url};
use super::{Microsoft365, VENDOR, clean, scrub};
use crate::connectors::ConnectorError;
use crate::connectors::http::{BodyError, Reply, json as decode_json};
use crate::domain::external::{
    Connection, ConnectionId, ConnectionState, ExternalGroup, ExternalGroupId, Item, ItemId,
    Member, MirrorPlan,
};

const CONNECTION_PERMISSION: &str =
    "ExternalConnection.ReadWrite.OwnedBy (or ExternalConnection.ReadWrite.All)";
const ITEM_PERMISSION: &str = "ExternalItem.ReadWrite.OwnedBy (or ExternalItem.ReadWrite.All)";

/// Why a Graph connectors call did not take effect.
#[derive(Debug, thiserror::Error)]
pub enum ExternalApiError {
    /// Graph's 409: the object is there already. Nothing was changed, here
    /// or at Graph.
    #[error("{what} already exists; nothing was changed (Graph answered 409: {message})")]
    Conflict { what: String, message: String },
    #[error("an external item needs at least one property; add one to the item (Graph rule)")]
    NoProperties,
    #[error(transparent)]
    Connector(#[from] ConnectorError),
}

/// An external item's `content`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemContent {
    /// `text` or `html`.
    #[serde(rename = "type")]
    pub kind: ContentKind,
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContentKind {
    Text,
    Html,
}

/// What `PUT …/items/{id}` sends: the ACL with the properties and content
/// Graph requires alongside it.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemUpload {
    pub item: Item,
    pub properties: Map<String, Value>,
    pub content: Option<ItemContent>,
}

/// The Graph connectors operations casbah uses.
#[async_trait]
pub trait ExternalConnections: Send + Sync {
    async fn connections(&self) -> Result<Vec<Connection>, ExternalApiError>;
    async fn create_connection(&self, connection: &Connection) -> Result<(), ExternalApiError>;
    /// Deletes the connection with its groups and items (Graph's 204; 404
    /// when there is no such connection).
    async fn delete_connection(&self, connection: &ConnectionId) -> Result<(), ExternalApiError>;
    /// Creates the group (id, display name, description); members are
    /// added one by one with `add_member`.
    async fn create_group(
        &self,
        connection: &ConnectionId,
        group: &ExternalGroup,
    ) -> Result<(), ExternalApiError>;
    /// Sends the group's display name and description.
    async fn update_group(
        &self,
        connection: &ConnectionId,
        group: &ExternalGroup,
    ) -> Result<(), ExternalApiError>;
    async fn delete_group(
        &self,
        connection: &ConnectionId,
        group: &ExternalGroupId,
    ) -> Result<(), ExternalApiError>;
    /// The group's properties; Graph v1.0 does not list members.
    async fn group(
        &self,
        connection: &ConnectionId,
        group: &ExternalGroupId,
    ) -> Result<ExternalGroup, ExternalApiError>;
    async fn add_member(
        &self,
        connection: &ConnectionId,
        group: &ExternalGroupId,
        member: &Member,
    ) -> Result<(), ExternalApiError>;
    async fn remove_member(
        &self,
        connection: &ConnectionId,
        group: &ExternalGroupId,
        member: &Member,
    ) -> Result<(), ExternalApiError>;
    async fn put_item(
        &self,
        connection: &ConnectionId,
        upload: &ItemUpload,
    ) -> Result<(), ExternalApiError>;
    async fn delete_item(
        &self,
        connection: &ConnectionId,
        item: &ItemId,
    ) -> Result<(), ExternalApiError>;
}

#[derive(Debug, Deserialize)]
struct GraphConnection {
    id: String,
    name: Option<String>,
    description: Option<String>,
    state: Option<ConnectionState>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphExternalGroup {
    id: String,
    display_name: Option<String>,
    description: Option<String>,
}

fn nothing(_: &Reply) -> Result<(), BodyError> {
    Ok(())
}

fn group_what(connection: &ConnectionId, group: &ExternalGroupId) -> String {
    format!("external group `{group}` in connection `{connection}`")
}

impl Microsoft365 {
    fn connector_url(&self, segments: &[&str]) -> url::Url {
        let mut all = vec!["v1.0", "external", "connections"];
        all.extend_from_slice(segments);
        url(&self.hosts.graph, &all, &[])
    }

    /// Like `call_with`, with a JSON body, and Graph's 409 kept apart so the
    /// caller can say that nothing changed.
    pub(super) async fn send<T>(
        &self,
        call: &Call,
        body: Option<Value>,
        decode: impl Fn(&Reply) -> Result<T, BodyError>,
    ) -> Result<T, ExternalApiError> {
        let body = body.map(|b| b.to_string().into_bytes());
        let (body, decode) = (&body, &decode);
        let reply = self
            .tokens
            .authorized(call.scope, &self.credentials(), |token| async move {
                self.http
                    .send(
                        |c| {
                            let b = c
                                .request(call.method.clone(), call.url.clone())
                                .bearer_auth(token.expose())
                                .header(ACCEPT, "application/json");
                            match body {
                                Some(bytes) => b
                                    .header(CONTENT_TYPE, "application/json")
                                    .body(bytes.clone()),
                                None => b,
                            }
                        },
                        decode,
                    )
                    .await
            })
            .await?;
        match reply {
            Ok(value) => Ok(value),
            Err(r) if r.status.as_u16() == 409 => Err(ExternalApiError::Conflict {
                what: call.what.clone(),
                message: graph_message(&r, &self.secret),
            }),
            Err(r) => Err(api_error(&r, call, &self.secret).into()),
        }
    }
}

/// Graph's own message from an error reply, made safe to show.
fn graph_message(reply: &Reply, secret: &crate::domain::Secret) -> String {
    let message = serde_json::from_slice::<Value>(&reply.body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "no message".to_owned());
    scrub(&clean(message.lines().next().unwrap_or_default()), secret)
}

pub(super) fn call(method: Method, url: url::Url, permission: &'static str, what: String) -> Call {
    let mut call = Call::get(Scope::Graph, url, permission, what);
    call.method = method;
    call
}

#[async_trait]
impl ExternalConnections for Microsoft365 {
    async fn connections(&self) -> Result<Vec<Connection>, ExternalApiError> {
        let mut out = Vec::new();
        let mut next = call(
            Method::GET,
            self.connector_url(&[]),
            CONNECTION_PERMISSION,
            "the list of connections".into(),
        );
        loop {
            let page: Collection<GraphConnection> = self.send(&next, None, decode_json).await?;
            for c in page.value {
                match ConnectionId::parse(&c.id) {
                    Ok(id) => out.push(Connection {
                        id,
                        name: clean(c.name.as_deref().unwrap_or_default()),
                        description: c.description.as_deref().map(clean),
                        state: c.state,
                    }),
                    // Graph holds its connections to the same rule; one
                    // that breaks it cannot be addressed by id anyway.
                    Err(e) => {
                        tracing::warn!(vendor = VENDOR, id = %clean(&c.id), error = %e, "connection left out")
                    }
                }
            }
            match page.next_link {
                Some(link) => next.url = follow(&link, &self.hosts.graph)?,
                None => return Ok(out),
            }
        }
    }

    async fn create_connection(&self, connection: &Connection) -> Result<(), ExternalApiError> {
        let mut body = json!({"id": connection.id, "name": connection.name});
        if let Some(d) = &connection.description {
            body["description"] = json!(d);
        }
        let c = call(
            Method::POST,
            self.connector_url(&[]),
            CONNECTION_PERMISSION,
            format!("connection `{}`", connection.id),
        );
        self.send(&c, Some(body), nothing).await
    }

    async fn delete_connection(&self, connection: &ConnectionId) -> Result<(), ExternalApiError> {
        let c = call(
            Method::DELETE,
            self.connector_url(&[connection.as_str()]),
            CONNECTION_PERMISSION,
            format!("connection `{connection}`"),
        );
        self.send(&c, None, nothing).await
    }

    async fn create_group(
        &self,
        connection: &ConnectionId,
        group: &ExternalGroup,
    ) -> Result<(), ExternalApiError> {
        let mut body = json!({"id": group.id});
        if let Some(n) = &group.display_name {
            body["displayName"] = json!(n);
        }
        if let Some(d) = &group.description {
            body["description"] = json!(d);
        }
        let c = call(
            Method::POST,
            self.connector_url(&[connection.as_str(), "groups"]),
            ITEM_PERMISSION,
            group_what(connection, &group.id),
        );
        self.send(&c, Some(body), nothing).await
    }

    async fn update_group(
        &self,
        connection: &ConnectionId,
        group: &ExternalGroup,
    ) -> Result<(), ExternalApiError> {
        let body = json!({"displayName": group.display_name, "description": group.description});
        let c = call(
            Method::PATCH,
            self.connector_url(&[connection.as_str(), "groups", group.id.as_str()]),
            ITEM_PERMISSION,
            group_what(connection, &group.id),
        );
        self.send(&c, Some(body), nothing).await
    }

    async fn delete_group(
        &self,
        connection: &ConnectionId,
        group: &ExternalGroupId,
    ) -> Result<(), ExternalApiError> {
        let c = call(
            Method::DELETE,
            self.connector_url(&[connection.as_str(), "groups", group.as_str()]),
            ITEM_PERMISSION,
            group_what(connection, group),
        );
        self.send(&c, None, nothing).await
    }

    async fn group(
        &self,
        connection: &ConnectionId,
        group: &ExternalGroupId,
    ) -> Result<ExternalGroup, ExternalApiError> {
        let c = call(
            Method::GET,
            self.connector_url(&[connection.as_str(), "groups", group.as_str()]),
            ITEM_PERMISSION,
            group_what(connection, group),
        );
        let g: GraphExternalGroup = self.send(&c, None, decode_json).await?;
        let id = ExternalGroupId::parse(&g.id).map_err(|e| ConnectorError::Protocol {
            vendor: VENDOR,
            detail: format!("Graph returned an external group id it should not accept: {e}"),
        })?;
        Ok(ExternalGroup {
            id,
            display_name: g.display_name.as_deref().map(clean),
            description: g.description.as_deref().map(clean),
            members: Vec::new(),
        })
    }

    async fn add_member(
        &self,
        connection: &ConnectionId,
        group: &ExternalGroupId,
        member: &Member,
    ) -> Result<(), ExternalApiError> {
        let body =
            serde_json::to_value(member.to_wire()).map_err(|e| ConnectorError::Protocol {
                vendor: VENDOR,
                detail: format!("cannot write a member: {e}"),
            })?;
        let c = call(
            Method::POST,
            self.connector_url(&[connection.as_str(), "groups", group.as_str(), "members"]),
            ITEM_PERMISSION,
            format!(
                "member `{}` of {}",
                clean(member.id()),
                group_what(connection, group)
            ),
        );
        self.send(&c, Some(body), nothing).await
    }

    async fn remove_member(
        &self,
        connection: &ConnectionId,
        group: &ExternalGroupId,
        member: &Member,
    ) -> Result<(), ExternalApiError> {
        let c = call(
            Method::DELETE,
            self.connector_url(&[
                connection.as_str(),
                "groups",
                group.as_str(),
                "members",
                member.id(),
            ]),
            ITEM_PERMISSION,
            format!(
                "member `{}` of {}",
                clean(member.id()),
                group_what(connection, group)
            ),
        );
        self.send(&c, None, nothing).await
    }

    async fn put_item(
        &self,
        connection: &ConnectionId,
        upload: &ItemUpload,
    ) -> Result<(), ExternalApiError> {
        if upload.properties.is_empty() {
            return Err(ExternalApiError::NoProperties);
        }
        let acl: Vec<_> = upload.item.acl.iter().map(|e| e.to_wire()).collect();
        let mut body = json!({"acl": acl, "properties": upload.properties});
        if let Some(content) = &upload.content {
            body["content"] = json!(content);
        }
        let c = call(
            Method::PUT,
            self.connector_url(&[connection.as_str(), "items", upload.item.id.as_str()]),
            ITEM_PERMISSION,
            format!("item `{}` in connection `{connection}`", upload.item.id),
        );
        self.send(&c, Some(body), nothing).await
    }

    async fn delete_item(
        &self,
        connection: &ConnectionId,
        item: &ItemId,
    ) -> Result<(), ExternalApiError> {
        let c = call(
            Method::DELETE,
            self.connector_url(&[connection.as_str(), "items", item.as_str()]),
            ITEM_PERMISSION,
            format!("item `{item}` in connection `{connection}`"),
        );
        self.send(&c, None, nothing).await
    }
}

/// What a mirror sync (R-X6) sent before it finished or stopped.
#[derive(Debug)]
pub struct MirrorApplied {
    /// Entra user ids the group holds as casbah published them; keep this
    /// as `published` for the next sync, even after a failure, so that
    /// the next sync sends only what is still missing.
    pub published: BTreeSet<String>,
    pub added: usize,
    pub removed: usize,
    /// The failure that stopped the sync; nothing after it was sent.
    pub error: Option<ExternalApiError>,
}

/// R-X6: sends a mirror plan, adds first, one member at a time. A member
/// that is already there (409) or already gone (404) counts as done: the
/// group is as the plan wants it.
pub async fn apply_mirror(
    client: &dyn ExternalConnections,
    connection: &ConnectionId,
    group: &ExternalGroupId,
    published: &BTreeSet<String>,
    plan: &MirrorPlan,
) -> MirrorApplied {
    let mut done = MirrorApplied {
        published: published.clone(),
        added: 0,
        removed: 0,
        error: None,
    };
    for member in &plan.add {
        match client.add_member(connection, group, member).await {
            Ok(()) => done.added += 1,
            Err(ExternalApiError::Conflict { .. }) => {}
            Err(e) => {
                done.error = Some(e);
                return done;
            }
        }
        done.published.insert(member.id().to_string());
    }
    for member in &plan.remove {
        match client.remove_member(connection, group, member).await {
            Ok(()) => done.removed += 1,
            Err(ExternalApiError::Connector(ConnectorError::NotFound { .. })) => {}
            Err(e) => {
                done.error = Some(e);
                return done;
            }
        }
        done.published.remove(member.id());
    }
    done
}
