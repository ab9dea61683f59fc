//! R-X5 for one user: walk up from the user once to find every group
//! (Entra and external, at any depth) that contains them, then read the ACL
//! against that set. Deny wins over grant.

use std::collections::VecDeque;
use std::fmt;

use serde::Serialize;

use super::ids::ExternalGroupId;
use super::model::{AccessType, AclEntry, Item, Principal};
use super::path::{Access, Cycle, Reason, Step, StepKind};
use super::snapshot::{AccessIndex, Node, NodeMap};
use crate::domain::text::sanitize;

/// Cycles are reported, not enumerated: a tangled graph can hold very many.
pub(crate) const MAX_CYCLES_REPORTED: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    #[error(
        "user `{user}` is not in the synced directory of this instance; sync users first or give their Entra object id"
    )]
    UnknownUser { user: String },
}

/// The answer to "can this user see this item, and why?".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Decision {
    pub decision: Access,
    /// The entry that decided: the first matching deny, else the first
    /// matching grant; none when nothing matched.
    pub reason: Option<Reason>,
    /// When a deny decided, the first grant it overrode.
    pub overridden: Option<Reason>,
    /// External groups the ACL names that the connection does not have yet
    /// (R-X4). They contribute nothing.
    pub pending: Vec<ExternalGroupId>,
    /// Membership cycles met on the way up from the user.
    pub cycles: Vec<Cycle>,
    /// Entries that could not match for a reason worth telling (a guest
    /// under everyoneExceptGuests, another tenant's id, an unsynced group).
    pub notes: Vec<String>,
}

impl Decision {
    /// The path as the command line prints it with `--json`:
    /// `{"decision": "grant"|"deny"|"none", "path": [...], ...}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "decision": self.decision,
            "entry": self.reason.as_ref().map(|r| r.entry),
            "path": self.reason.as_ref().map(|r| r.path.as_slice()).unwrap_or(&[]),
            "explanation": self.to_string(),
            "overridden": self.overridden,
            "pending": self.pending,
            "cycles": self.cycles,
            "notes": self.notes,
        })
    }
}

impl fmt::Display for Decision {
    /// One line: "deny: ACL entry 3 denies external group `a`, which
    /// contains …, of which alice is a member".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reason {
            Some(reason) => write!(f, "{}: {reason}", self.decision),
            None => write!(f, "none: no ACL entry grants or denies this user"),
        }
    }
}

/// The groups one user belongs to, found by a single breadth-first walk up
/// the reverse membership index.
pub(crate) struct Membership {
    pub(crate) user: Node,
    /// group → the member through which it was first reached, so that the
    /// path back down to the user is a shortest one.
    pub(crate) via: NodeMap<Node>,
    pub(crate) cycles: Vec<Cycle>,
}

impl AccessIndex {
    /// R-X5: grant, deny or none for one user and one ACL, with the path.
    pub fn check(&self, acl: &[AclEntry], user_id: &str) -> Result<Decision, AccessError> {
        let membership = self.membership(user_id)?;
        Ok(self.decide(acl, &membership))
    }

    /// R-X5: the items this user can see (decision grant), each with its
    /// explanation. The user's groups are found once for all items.
    pub fn visible_items<'i>(
        &self,
        items: &'i [Item],
        user_id: &str,
    ) -> Result<Vec<(&'i Item, Decision)>, AccessError> {
        let membership = self.membership(user_id)?;
        Ok(items
            .iter()
            .map(|item| (item, self.decide(&item.acl, &membership)))
            .filter(|(_, d)| d.decision == Access::Grant)
            .collect())
    }

    pub(crate) fn membership(&self, user_id: &str) -> Result<Membership, AccessError> {
        let user = self
            .user_node(user_id)
            .ok_or_else(|| AccessError::UnknownUser {
                user: sanitize(user_id),
            })?;
        let mut via = NodeMap::default();
        let mut queue = VecDeque::from([user]);
        while let Some(n) = queue.pop_front() {
            for &parent in &self.up[n as usize] {
                if let std::collections::hash_map::Entry::Vacant(slot) = via.entry(parent) {
                    slot.insert(n);
                    queue.push_back(parent);
                }
            }
        }
        let cycles = self.find_cycles(&[user], &self.up, Direction::Up);
        Ok(Membership { user, via, cycles })
    }

    pub(crate) fn decide(&self, acl: &[AclEntry], m: &Membership) -> Decision {
        let user = m.user;
        let mut deny: Option<Reason> = None;
        let mut grant: Option<Reason> = None;
        let mut pending: Vec<ExternalGroupId> = Vec::new();
        let mut notes = Vec::new();
        for (i, entry) in acl.iter().enumerate() {
            let number = i + 1;
            // Only the first match of each access type is explained; later
            // ones are still read for their notes and pending groups.
            let wanted = match entry.access {
                AccessType::Deny => deny.is_none(),
                AccessType::Grant => grant.is_none(),
            };
            let path = match &entry.principal {
                Principal::User(id) => {
                    (self.user_node(id) == Some(user)).then(|| vec![self.step(user)])
                }
                Principal::EntraGroup(id) => match self.entra_node_of(id) {
                    Some(g) if self.defined[g as usize] => {
                        wanted.then(|| self.chain(g, m)).flatten()
                    }
                    _ => {
                        notes.push(format!(
                            "ACL entry {number} names Entra group `{}`, which is not in the synced directory",
                            sanitize(id)
                        ));
                        None
                    }
                },
                Principal::ExternalGroup(id) => match self.external.get(id.as_str()) {
                    Some(&g) if self.defined[g as usize] => {
                        wanted.then(|| self.chain(g, m)).flatten()
                    }
                    _ => {
                        if !pending.contains(id) {
                            pending.push(id.clone());
                        }
                        None
                    }
                },
                Principal::Everyone(tenant) => self
                    .in_tenant(number, tenant, &mut notes)
                    .then(|| self.everyone(StepKind::Everyone, user)),
                Principal::EveryoneExceptGuests(tenant) => {
                    if !self.in_tenant(number, tenant, &mut notes) {
                        None
                    } else if self.guest[user as usize] {
                        notes.push(format!(
                            "ACL entry {number} {} everyone except guests; {} is a guest",
                            verb(entry.access),
                            self.label[user as usize]
                        ));
                        None
                    } else {
                        Some(self.everyone(StepKind::EveryoneExceptGuests, user))
                    }
                }
            };
            let Some(path) = path.filter(|_| wanted) else {
                continue;
            };
            let reason = Some(Reason {
                entry: number,
                access: entry.access,
                path,
            });
            match entry.access {
                AccessType::Deny => deny = reason,
                AccessType::Grant => grant = reason,
            }
        }
        let (decision, reason, overridden) = match (deny, grant) {
            (Some(d), g) => (Access::Deny, Some(d), g),
            (None, Some(g)) => (Access::Grant, Some(g), None),
            (None, None) => (Access::None, None, None),
        };
        Decision {
            decision,
            reason,
            overridden,
            pending,
            cycles: m.cycles.clone(),
            notes,
        }
    }

    /// Whether an everyone entry names this tenant; a note when it does not.
    pub(crate) fn in_tenant(&self, number: usize, tenant: &str, notes: &mut Vec<String>) -> bool {
        let same = tenant.eq_ignore_ascii_case(&self.tenant_id);
        if !same {
            notes.push(format!(
                "ACL entry {number} names the tenant `{}`, not this tenant `{}`; it matches nobody",
                sanitize(tenant),
                sanitize(&self.tenant_id)
            ));
        }
        same
    }

    /// The path from group `g` down to the user, if the user is in it.
    fn chain(&self, g: Node, m: &Membership) -> Option<Vec<Step>> {
        let mut path = vec![self.step(g)];
        let mut n = *m.via.get(&g)?;
        while n != m.user {
            path.push(self.step(n));
            // Every node on the walk was reached from a member, down to the
            // user; a missing link would be a bug in `membership`, and the
            // path then simply ends early.
            let Some(&next) = m.via.get(&n) else { break };
            n = next;
        }
        path.push(self.step(m.user));
        Some(path)
    }

    fn everyone(&self, kind: StepKind, user: Node) -> Vec<Step> {
        let label = match kind {
            StepKind::EveryoneExceptGuests => "everyone except guests",
            _ => "everyone",
        };
        vec![
            Step {
                kind,
                id: self.tenant_id.clone(),
                label: label.to_string(),
            },
            self.step(user),
        ]
    }

    pub(crate) fn step(&self, n: Node) -> Step {
        Step {
            kind: self.kind[n as usize].into(),
            id: self.id[n as usize].clone(),
            label: self.label[n as usize].clone(),
        }
    }

    /// Depth-first search for membership cycles reachable from `roots`
    /// along `edges`. Each back edge closes one cycle; at most
    /// `MAX_CYCLES_REPORTED` are kept.
    pub(crate) fn find_cycles(
        &self,
        roots: &[Node],
        edges: &[Vec<Node>],
        direction: Direction,
    ) -> Vec<Cycle> {
        const GREY: u8 = 1;
        const BLACK: u8 = 2;
        let mut colour: NodeMap<u8> = NodeMap::default();
        let mut cycles = Vec::new();
        for &root in roots {
            if colour.contains_key(&root) {
                continue;
            }
            colour.insert(root, GREY);
            let mut stack: Vec<(Node, usize)> = vec![(root, 0)];
            while let Some(top) = stack.last_mut() {
                let (n, next) = (top.0, top.1);
                let Some(&m) = edges[n as usize].get(next) else {
                    colour.insert(n, BLACK);
                    stack.pop();
                    continue;
                };
                top.1 += 1;
                match colour.get(&m) {
                    None => {
                        colour.insert(m, GREY);
                        stack.push((m, 0));
                    }
                    Some(&GREY) if cycles.len() < MAX_CYCLES_REPORTED => {
                        if let Some(start) = stack.iter().rposition(|(s, _)| *s == m) {
                            let mut nodes: Vec<Node> =
                                stack[start..].iter().map(|(s, _)| *s).collect();
                            if direction == Direction::Up {
                                // Up edges point from member to group:
                                // reverse to read "contains" left to right.
                                nodes[1..].reverse();
                            }
                            nodes.push(m);
                            cycles.push(Cycle(nodes.into_iter().map(|s| self.step(s)).collect()));
                        }
                    }
                    Some(_) => {}
                }
            }
        }
        cycles
    }
}

/// Which way `find_cycles` walks: down (group → member) or up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Down,
    Up,
}

fn verb(access: AccessType) -> &'static str {
    match access {
        AccessType::Grant => "grants",
        AccessType::Deny => "denies",
    }
}
