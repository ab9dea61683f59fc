//! The service's views of external groups, items and audiences, as the
//! pane keeps them.

use super::checker::{Answer, VisibleNode};
use super::tree::{ConnNode, GroupNode, ItemNode, MemberNode, MirrorNote};
use crate::domain::external::Access;
use crate::service::{
    AccessAnswer, AudienceView, ConnectionSummary, ExternalGroupView, ItemView, VisibleItem,
};
use crate::tui::format::safe;

/// One user the ACL reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhoRow {
    pub user_id: String,
    pub name: String,
    pub decision: Access,
    /// The ACL entry that decided, 1-based.
    pub entry: usize,
}

/// R-X5: who can see an item, with counts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AudienceNode {
    pub rows: Vec<WhoRow>,
    pub granted: usize,
    pub denied: usize,
    pub pending: Vec<String>,
    pub cycles: Vec<String>,
    pub notes: Vec<String>,
}

impl From<ConnectionSummary> for ConnNode {
    fn from(s: ConnectionSummary) -> ConnNode {
        ConnNode {
            id: s.connection.id.to_string(),
            name: s.connection.name,
            instance: s.instance,
            groups: s.groups,
            items: s.items,
            pending: s.pending,
        }
    }
}

impl From<ExternalGroupView> for GroupNode {
    fn from(v: ExternalGroupView) -> GroupNode {
        GroupNode {
            label: v.group.label(),
            id: v.group.id,
            description: v.group.description,
            members: v
                .members
                .into_iter()
                .map(|m| MemberNode {
                    member: m.member,
                    label: m.label,
                    pending: m.pending,
                })
                .collect(),
            mirror: v.mirror.map(|m| MirrorNote {
                source: m.source_name,
                published: m.published,
                unmatched: m.unmatched.len(),
                error: m.error,
            }),
        }
    }
}

impl From<ItemView> for ItemNode {
    fn from(v: ItemView) -> ItemNode {
        ItemNode {
            id: v.id,
            title: v.title,
            acl: v.acl,
            labels: v.labels,
            pending: v.pending,
        }
    }
}

impl From<AccessAnswer> for Answer {
    fn from(a: AccessAnswer) -> Answer {
        Answer {
            item: a.item,
            user: a.user,
            decision: a.decision,
        }
    }
}

impl From<VisibleItem> for VisibleNode {
    fn from(v: VisibleItem) -> VisibleNode {
        VisibleNode {
            item: v.item,
            title: v.title,
            decision: v.decision,
        }
    }
}

impl From<AudienceView> for AudienceNode {
    fn from(v: AudienceView) -> AudienceNode {
        AudienceNode {
            rows: v
                .rows
                .into_iter()
                .map(|r| WhoRow {
                    user_id: r.user_id,
                    name: r.name,
                    decision: r.decision,
                    entry: r.entry,
                })
                .collect(),
            granted: v.granted,
            denied: v.denied,
            pending: v.pending.iter().map(ToString::to_string).collect(),
            cycles: v.cycles.iter().map(ToString::to_string).collect(),
            notes: v.notes,
        }
    }
}

/// Who can see an item, as an investigator reads it (issue 13): the
/// denied first, then by name.
pub(super) fn sorted_audience(mut a: AudienceNode) -> AudienceNode {
    let rank = |d: Access| match d {
        Access::Deny => 0,
        Access::Grant => 1,
        Access::None => 2,
    };
    a.rows.sort_by(|x, y| {
        rank(x.decision)
            .cmp(&rank(y.decision))
            .then_with(|| x.name.to_lowercase().cmp(&y.name.to_lowercase()))
            .then_with(|| x.user_id.cmp(&y.user_id))
    });
    a
}

/// A row of who can see as drawn, every column of it, which the filter
/// searches (issue 13): decision, deciding entry and user.
pub(super) fn who_text(r: &WhoRow) -> String {
    format!(
        "{:<8}  #{:<5}  {}",
        r.decision.to_string(),
        r.entry,
        safe(&r.name)
    )
}
