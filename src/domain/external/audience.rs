//! R-X5 in reverse: who can see an item. Each group the ACL names is
//! expanded down once; a group already expanded for an earlier entry of the
//! same access is not walked again, because its users already carry that
//! earlier (and so deciding) entry.

use serde::Serialize;

use super::access::Direction;
use super::ids::ExternalGroupId;
use super::model::{AccessType, AclEntry, Principal};
use super::path::{Access, Cycle};
use super::snapshot::{AccessIndex, Node, NodeKind};
use crate::domain::text::sanitize;

const UNSET: u32 = u32::MAX;

/// One user who is granted or denied the item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AudienceRow<'a> {
    pub user_id: &'a str,
    pub name: &'a str,
    pub decision: Access,
    /// 1-based ACL entry that decided; `check` gives the full path.
    pub entry: usize,
}

/// Everyone the ACL reaches, in directory order, with counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Audience<'a> {
    pub rows: Vec<AudienceRow<'a>>,
    pub granted: usize,
    pub denied: usize,
    /// External groups named by the ACL or nested in its groups that the
    /// connection does not have yet (R-X4).
    pub pending: Vec<ExternalGroupId>,
    pub cycles: Vec<Cycle>,
    pub notes: Vec<String>,
}

/// Per access type: the deciding entry of each node, and which nodes have
/// been walked.
struct Marks {
    entry: Vec<u32>,
    seen: Vec<bool>,
}

impl Marks {
    fn new(n: usize) -> Marks {
        Marks {
            entry: vec![UNSET; n],
            seen: vec![false; n],
        }
    }

    fn set(&mut self, n: Node, number: u32) {
        let slot = &mut self.entry[n as usize];
        if *slot == UNSET {
            *slot = number;
        }
    }
}

impl AccessIndex {
    /// R-X5: every directory user the ACL grants or denies. Deny wins.
    pub fn who_can_see(&self, acl: &[AclEntry]) -> Audience<'_> {
        let n = self.kind.len();
        let mut grant = Marks::new(n);
        let mut deny = Marks::new(n);
        let mut roots = Vec::new();
        let mut pending: Vec<ExternalGroupId> = Vec::new();
        let mut notes = Vec::new();
        let mut stack = Vec::new();
        for (i, entry) in acl.iter().enumerate() {
            let number = (i + 1) as u32;
            let marks = match entry.access {
                AccessType::Grant => &mut grant,
                AccessType::Deny => &mut deny,
            };
            match &entry.principal {
                Principal::User(id) => {
                    if let Some(u) = self.user_node(id) {
                        marks.set(u, number);
                    }
                }
                Principal::EntraGroup(id) => match self.entra_node_of(id) {
                    Some(g) if self.defined[g as usize] => {
                        roots.push(g);
                        self.expand(g, number, marks, &mut stack, &mut pending);
                    }
                    _ => notes.push(format!(
                        "ACL entry {number} names Entra group `{}`, which is not in the synced directory",
                        sanitize(id)
                    )),
                },
                Principal::ExternalGroup(id) => match self.external.get(id.as_str()) {
                    Some(&g) if self.defined[g as usize] => {
                        roots.push(g);
                        self.expand(g, number, marks, &mut stack, &mut pending);
                    }
                    _ => add_pending(&mut pending, id),
                },
                Principal::Everyone(tenant) => {
                    if self.in_tenant(number as usize, tenant, &mut notes) {
                        for &u in &self.user_nodes {
                            marks.set(u, number);
                        }
                    }
                }
                Principal::EveryoneExceptGuests(tenant) => {
                    if self.in_tenant(number as usize, tenant, &mut notes) {
                        for &u in &self.user_nodes {
                            if !self.guest[u as usize] {
                                marks.set(u, number);
                            }
                        }
                    }
                }
            }
        }
        let mut rows = Vec::new();
        let (mut granted, mut denied) = (0, 0);
        for &u in &self.user_nodes {
            let (decision, entry) = match (deny.entry[u as usize], grant.entry[u as usize]) {
                (UNSET, UNSET) => continue,
                (UNSET, g) => {
                    granted += 1;
                    (Access::Grant, g)
                }
                (d, _) => {
                    denied += 1;
                    (Access::Deny, d)
                }
            };
            rows.push(AudienceRow {
                user_id: &self.id[u as usize],
                name: &self.label[u as usize],
                decision,
                entry: entry as usize,
            });
        }
        roots.sort_unstable();
        roots.dedup();
        let cycles = self.find_cycles(&roots, &self.down, Direction::Down);
        Audience {
            rows,
            granted,
            denied,
            pending,
            cycles,
            notes,
        }
    }

    /// Marks every user under `g` with entry `number`, visiting each group
    /// at most once per access type, so cycles end.
    fn expand(
        &self,
        g: Node,
        number: u32,
        marks: &mut Marks,
        stack: &mut Vec<Node>,
        pending: &mut Vec<ExternalGroupId>,
    ) {
        if marks.seen[g as usize] {
            return;
        }
        marks.seen[g as usize] = true;
        stack.push(g);
        while let Some(n) = stack.pop() {
            let i = n as usize;
            match self.kind[i] {
                NodeKind::User => marks.set(n, number),
                NodeKind::ExternalGroup if !self.defined[i] => {
                    // A nested external group named but not created yet.
                    if let Ok(id) = ExternalGroupId::parse(&self.id[i]) {
                        add_pending(pending, &id);
                    }
                }
                _ => {
                    for &c in &self.down[i] {
                        if !marks.seen[c as usize] {
                            marks.seen[c as usize] = true;
                            stack.push(c);
                        }
                    }
                }
            }
        }
    }
}

fn add_pending(pending: &mut Vec<ExternalGroupId>, id: &ExternalGroupId) {
    if !pending.contains(id) {
        pending.push(id.clone());
    }
}
