//! What access evaluation reads (R-X5): the directory of a Microsoft 365
//! instance and the external groups of one connection, indexed once so that
//! each question walks only the part of the graph it needs.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::ids::ExternalGroupId;
use super::model::{ExternalGroup, Member};
use crate::domain::text::sanitize;
use crate::domain::{RemoteUser, UserType};

/// An Entra user as the Microsoft 365 connector synced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryUser {
    /// Entra object id: what ACLs and members name.
    pub id: String,
    /// UPN or e-mail, shown in explanations.
    pub name: String,
    pub guest: bool,
}

impl From<&RemoteUser> for DirectoryUser {
    fn from(u: &RemoteUser) -> DirectoryUser {
        DirectoryUser {
            id: u.id.clone(),
            name: u.email.clone(),
            guest: u.user_type == UserType::Guest,
        }
    }
}

/// An Entra group with its direct members: users and nested Entra groups.
/// A transitive (flattened) member list works as well.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntraGroup {
    pub id: String,
    pub name: String,
    pub users: Vec<String>,
    pub groups: Vec<String>,
}

/// Everything one access question needs.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AccessSnapshot {
    /// The value `everyone` and `everyoneExceptGuests` entries must carry.
    pub tenant_id: String,
    pub users: Vec<DirectoryUser>,
    pub entra_groups: Vec<EntraGroup>,
    /// The external groups of one connection (R-X1).
    pub external_groups: Vec<ExternalGroup>,
}

/// What a node of the membership graph is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum NodeKind {
    User,
    EntraGroup,
    ExternalGroup,
}

pub(crate) type Node = u32;

/// The membership graph with both directions of every edge. Built once per
/// snapshot; every check, audience and visibility question then reads it.
#[derive(Debug, Clone)]
pub struct AccessIndex {
    pub(crate) tenant_id: String,
    pub(crate) kind: Vec<NodeKind>,
    pub(crate) id: Vec<String>,
    pub(crate) label: Vec<String>,
    pub(crate) guest: Vec<bool>,
    /// False for groups that are named (as a member) but not defined: an
    /// external group not created yet, an Entra group not synced.
    pub(crate) defined: Vec<bool>,
    /// group → its direct members.
    pub(crate) down: Vec<Vec<Node>>,
    /// member → the groups that contain it directly.
    pub(crate) up: Vec<Vec<Node>>,
    /// By lower-cased object id.
    users: HashMap<String, Node>,
    /// By lower-cased object id.
    entra: HashMap<String, Node>,
    pub(crate) external: HashMap<String, Node>,
    /// Users in the directory, in snapshot order.
    pub(crate) user_nodes: Vec<Node>,
    unresolved_users: usize,
}

impl AccessIndex {
    pub fn build(snapshot: &AccessSnapshot) -> AccessIndex {
        let mut index = AccessIndex {
            tenant_id: snapshot.tenant_id.clone(),
            kind: Vec::new(),
            id: Vec::new(),
            label: Vec::new(),
            guest: Vec::new(),
            defined: Vec::new(),
            down: Vec::new(),
            up: Vec::new(),
            users: HashMap::with_capacity(snapshot.users.len()),
            entra: HashMap::with_capacity(snapshot.entra_groups.len()),
            external: HashMap::with_capacity(snapshot.external_groups.len()),
            user_nodes: Vec::with_capacity(snapshot.users.len()),
            unresolved_users: 0,
        };
        for u in &snapshot.users {
            let key = object_key(&u.id);
            if index.users.contains_key(&key) {
                continue;
            }
            let n = index.push(NodeKind::User, &u.id, sanitize(&u.name), true);
            index.guest[n as usize] = u.guest;
            index.users.insert(key, n);
            index.user_nodes.push(n);
        }
        for g in &snapshot.entra_groups {
            let n = index.entra_node(&g.id);
            index.define(n, sanitize(&g.name));
        }
        for g in &snapshot.external_groups {
            let n = index.external_node(&g.id);
            index.define(n, g.label());
        }
        for g in &snapshot.entra_groups {
            let parent = index.entra_node(&g.id);
            for u in &g.users {
                index.link_user(parent, u);
            }
            for child in &g.groups {
                let child = index.entra_node(child);
                index.link(parent, child);
            }
        }
        for g in &snapshot.external_groups {
            let parent = index.external[g.id.as_str()];
            for m in &g.members {
                match m {
                    Member::User(u) => index.link_user(parent, u),
                    Member::EntraGroup(id) => {
                        let child = index.entra_node(id);
                        index.link(parent, child);
                    }
                    Member::ExternalGroup(id) => {
                        let child = index.external_node(id);
                        index.link(parent, child);
                    }
                }
            }
        }
        index
    }

    /// Members that name a user missing from the synced directory. They
    /// cannot be evaluated and are left out; the count is shown so that
    /// nothing disappears silently.
    pub fn unresolved_users(&self) -> usize {
        self.unresolved_users
    }

    /// The node of a directory user, by Entra object id in any case.
    pub(crate) fn user_node(&self, id: &str) -> Option<Node> {
        self.users.get(&object_key(id)).copied()
    }

    /// The node of an Entra group, by object id in any case; it may be a
    /// group that is only named, not synced (`defined` false).
    pub(crate) fn entra_node_of(&self, id: &str) -> Option<Node> {
        self.entra.get(&object_key(id)).copied()
    }

    pub fn user_count(&self) -> usize {
        self.user_nodes.len()
    }

    /// Whether the connection has this external group (false: pending).
    pub fn has_external_group(&self, id: &ExternalGroupId) -> bool {
        self.external
            .get(id.as_str())
            .is_some_and(|&n| self.defined[n as usize])
    }

    fn push(&mut self, kind: NodeKind, id: &str, label: String, defined: bool) -> Node {
        let n = self.kind.len() as Node;
        self.kind.push(kind);
        self.id.push(id.to_string());
        self.label.push(label);
        self.guest.push(false);
        self.defined.push(defined);
        self.down.push(Vec::new());
        self.up.push(Vec::new());
        n
    }

    fn define(&mut self, n: Node, label: String) {
        self.defined[n as usize] = true;
        self.label[n as usize] = label;
    }

    fn entra_node(&mut self, id: &str) -> Node {
        let key = object_key(id);
        if let Some(&n) = self.entra.get(&key) {
            return n;
        }
        let n = self.push(NodeKind::EntraGroup, id, sanitize(id), false);
        self.entra.insert(key, n);
        n
    }

    fn external_node(&mut self, id: &ExternalGroupId) -> Node {
        if let Some(&n) = self.external.get(id.as_str()) {
            return n;
        }
        let n = self.push(NodeKind::ExternalGroup, id.as_str(), id.to_string(), false);
        self.external.insert(id.to_string(), n);
        n
    }

    fn link_user(&mut self, parent: Node, user: &str) {
        match self.users.get(&object_key(user)) {
            Some(&child) => self.link(parent, child),
            None => self.unresolved_users += 1,
        }
    }

    fn link(&mut self, parent: Node, child: Node) {
        self.down[parent as usize].push(child);
        self.up[child as usize].push(parent);
    }
}

/// Entra object ids are GUIDs, which compare without regard to case: an
/// ACL typed by hand may spell them in capitals.
fn object_key(id: &str) -> String {
    id.to_ascii_lowercase()
}

/// Hashes a node number with one multiplication. Node numbers are dense
/// small integers made by `AccessIndex`, never chosen by an outsider, so the
/// flooding resistance of the default hasher buys nothing here and costs
/// most of an access check's time.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct NodeHasher(u64);

impl std::hash::Hasher for NodeHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A map keyed by node number.
pub(crate) type NodeMap<V> = HashMap<Node, V, std::hash::BuildHasherDefault<NodeHasher>>;
