//! The External groups tree (R-X1, R-X3, R-X4): connections → groups →
//! members, nested external groups expanded inline. Pure data: the pane
//! turns it into rows, the view draws the rows.
//!
//! A group that is already on the branch being expanded is shown once more
//! with a cycle mark and not expanded again, so any nesting, cyclic or not,
//! gives a finite tree. A member naming an external group the connection
//! does not have is shown as pending.

use std::collections::{HashMap, HashSet};

use super::draw::count;
use crate::domain::external::{AclEntry, ExternalGroupId, ItemId, Member};
use crate::tui::fuzzy::{fold, rank_among};
use crate::tui::widgets::list::Cursor;

/// Rows a fully expanded (filtered) tree may produce: nesting through
/// shared groups can multiply rows, and the screen needs only a window.
pub const MAX_ROWS: usize = 20_000;

/// A Graph connection as the tree shows it; text already safe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnNode {
    pub id: String,
    pub name: String,
    pub instance: String,
    pub groups: usize,
    pub items: usize,
    pub pending: usize,
}

/// R-X6: what the tree says about a mirrored group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirrorNote {
    pub source: String,
    pub published: usize,
    pub unmatched: usize,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupNode {
    pub id: ExternalGroupId,
    pub label: String,
    pub description: Option<String>,
    pub members: Vec<MemberNode>,
    pub mirror: Option<MirrorNote>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberNode {
    pub member: Member,
    pub label: String,
    /// R-X4: an external group the connection does not have (yet).
    pub pending: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemNode {
    pub id: ItemId,
    pub title: Option<String>,
    pub acl: Vec<AclEntry>,
    /// One per ACL entry: who it names, in words.
    pub labels: Vec<String>,
    pub pending: Vec<ExternalGroupId>,
}

impl ItemNode {
    /// Title and id, for lists and matching.
    pub fn text(&self) -> String {
        match &self.title {
            Some(t) => format!("{}  {}", self.id, t),
            None => self.id.to_string(),
        }
    }
}

/// Something loaded on demand.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Load<T> {
    #[default]
    Idle,
    Loading,
    Ready(T),
    Failed(String),
}

impl<T> Load<T> {
    pub fn ready(&self) -> Option<&T> {
        match self {
            Load::Ready(t) => Some(t),
            _ => None,
        }
    }
}

impl<T> Load<Vec<T>> {
    /// The rows, once there are some; until then, what stands in their place is
    /// drawn in `area`: loading, the error, or `empty`.
    pub fn rows_or_note(
        &self,
        f: &mut ratatui::Frame,
        area: ratatui::layout::Rect,
        empty: &str,
        theme: &crate::tui::theme::Theme,
    ) -> Option<&[T]> {
        use ratatui::text::Span;
        use ratatui::widgets::{Paragraph, Wrap};
        let note = match self {
            Load::Ready(rows) if !rows.is_empty() => return Some(rows),
            Load::Ready(_) => Span::styled(empty.to_owned(), theme.dim()),
            Load::Failed(e) => Span::styled(e.clone(), theme.error()),
            Load::Idle | Load::Loading => Span::styled("loading…", theme.dim()),
        };
        f.render_widget(Paragraph::new(note).wrap(Wrap { trim: false }), area);
        None
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnData {
    pub conn: ConnNode,
    pub groups: Load<Vec<GroupNode>>,
    pub items: Load<Vec<ItemNode>>,
    /// Group id → position in `groups`, renewed at each rebuild: nested
    /// members are looked up once per row, in connections of thousands.
    index: HashMap<ExternalGroupId, usize>,
}

impl ConnData {
    pub fn group(&self, id: &ExternalGroupId) -> Option<&GroupNode> {
        let groups = self.groups.ready()?;
        match self.index.get(id).and_then(|&i| groups.get(i)) {
            Some(g) if g.id == *id => Some(g),
            // Changed since the last rebuild.
            _ => groups.iter().find(|g| g.id == *id),
        }
    }

    fn reindex(&mut self) {
        self.index = self
            .groups
            .ready()
            .map(|groups| {
                groups
                    .iter()
                    .enumerate()
                    .map(|(i, g)| (g.id.clone(), i))
                    .collect()
            })
            .unwrap_or_default();
    }
}

/// One step of a row's path from its connection; the path is the row's
/// identity across reloads, so the selection and what is expanded survive them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    Conn(String),
    Group(ExternalGroupId),
    Member(Member),
    Items,
    Item(ItemId),
    Note,
}

pub type Path = Vec<Key>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    Connection,
    Group,
    User,
    EntraGroup,
    /// A group already on this branch: shown, not expanded again (R-X5).
    Cycle,
    /// R-X4: named but not created yet.
    Pending,
    Items,
    Item,
    Loading,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub path: Path,
    pub depth: usize,
    pub kind: RowKind,
    pub label: String,
    /// Dimmed after the label.
    pub detail: String,
    pub expandable: bool,
    pub expanded: bool,
    /// The connection the row belongs to.
    pub conn: usize,
    /// For item rows: the item's position in the connection's items.
    pub item: Option<usize>,
    /// Something about the row went wrong (a failed mirror).
    pub warn: bool,
}

#[derive(Debug, Default)]
pub struct Tree {
    pub conns: Vec<ConnData>,
    expanded: HashSet<Path>,
    pub rows: Vec<Row>,
    pub cursor: Cursor,
    /// More rows than `MAX_ROWS` would have been shown.
    pub truncated: bool,
}

impl Tree {
    /// New connections; the groups and items already loaded for those
    /// still there are kept until their reload arrives.
    pub fn set_connections(&mut self, conns: Vec<ConnNode>) {
        let mut old = std::mem::take(&mut self.conns);
        self.conns = conns
            .into_iter()
            .map(|conn| match old.iter().position(|d| d.conn.id == conn.id) {
                Some(i) => {
                    let mut data = old.swap_remove(i);
                    data.conn = conn;
                    data
                }
                None => ConnData {
                    conn,
                    groups: Load::Idle,
                    items: Load::Idle,
                    index: HashMap::new(),
                },
            })
            .collect();
    }

    pub fn conn_mut(&mut self, id: &str) -> Option<&mut ConnData> {
        self.conns.iter_mut().find(|d| d.conn.id == id)
    }

    pub fn conn(&self, id: &str) -> Option<&ConnData> {
        self.conns.iter().find(|d| d.conn.id == id)
    }

    pub fn is_expanded(&self, path: &[Key]) -> bool {
        self.expanded.contains(path)
    }

    pub fn expand(&mut self, path: Path) {
        self.expanded.insert(path);
    }

    /// Collapses `path`; a selection inside it moves to it.
    pub fn collapse(&mut self, path: &[Key]) {
        self.expanded.remove(path);
    }

    pub fn selected(&self) -> Option<&Row> {
        self.rows.get(self.cursor.selected)
    }

    /// Rebuilds the rows. With a filter, everything loaded is expanded and
    /// only matching rows and their ancestors stay. The selected row stays
    /// selected; when it is gone, its nearest ancestor that is still shown.
    ///
    /// At most `MAX_ROWS` rows, which frizbee filters in about a millisecond: the tree
    /// filters on the UI thread, in one batch.
    pub fn rebuild(&mut self, filter: &str) {
        let selected = self.selected().map(|r| r.path.clone());
        for data in &mut self.conns {
            data.reindex();
        }
        let force = !filter.trim().is_empty();
        let mut rows = Vec::new();
        let mut truncated = false;
        for (ci, data) in self.conns.iter().enumerate() {
            if !self.flatten_conn(ci, data, force, &mut rows) {
                truncated = true;
                break;
            }
        }
        if force {
            let labels: Vec<String> = rows.iter().map(|r| fold(&r.label).into_owned()).collect();
            let mut hit = vec![false; rows.len()];
            for h in rank_among(&labels, None, filter) {
                hit[h.index()] = true;
            }
            rows = keep_matches(rows, |i| hit[i]);
        }
        self.rows = rows;
        self.truncated = truncated;
        self.reselect(selected.as_deref());
    }

    fn reselect(&mut self, selected: Option<&[Key]>) {
        let Some(mut path) = selected else {
            self.cursor.clamp(self.rows.len());
            return;
        };
        loop {
            if let Some(i) = self.rows.iter().position(|r| r.path == path) {
                self.cursor.selected = i;
                return;
            }
            match path.split_last() {
                Some((_, parent)) if !parent.is_empty() => path = parent,
                _ => break,
            }
        }
        self.cursor.clamp(self.rows.len());
    }

    /// Appends a connection's rows; false when the row cap was reached.
    fn flatten_conn(&self, ci: usize, data: &ConnData, force: bool, rows: &mut Vec<Row>) -> bool {
        let c = &data.conn;
        let path = vec![Key::Conn(c.id.clone())];
        let expanded = force || self.is_expanded(&path);
        let mut detail = format!(
            "{} · {} · {} · {}",
            c.name,
            c.instance,
            count(c.groups, "group", "groups"),
            count(c.items, "item", "items")
        );
        if c.pending > 0 {
            detail.push_str(&format!(" · {} pending", c.pending));
        }
        rows.push(Row {
            path: path.clone(),
            depth: 0,
            kind: RowKind::Connection,
            label: c.id.clone(),
            detail,
            expandable: true,
            expanded,
            conn: ci,
            item: None,
            warn: false,
        });
        if !expanded {
            return true;
        }
        match &data.groups {
            Load::Ready(groups) => {
                for g in groups {
                    let mut branch = vec![g.id.clone()];
                    let mut p = path.clone();
                    p.push(Key::Group(g.id.clone()));
                    if !self.flatten_group(ci, data, g, p, 1, &mut branch, force, rows) {
                        return false;
                    }
                }
            }
            Load::Idle => {}
            other => rows.push(note(ci, &path, 1, other)),
        }
        let mut items_path = path.clone();
        items_path.push(Key::Items);
        let items_open = force || self.is_expanded(&items_path);
        rows.push(Row {
            path: items_path.clone(),
            depth: 1,
            kind: RowKind::Items,
            label: "Items".into(),
            detail: match &data.items {
                Load::Ready(items) => items.len().to_string(),
                _ => c.items.to_string(),
            },
            expandable: true,
            expanded: items_open,
            conn: ci,
            item: None,
            warn: false,
        });
        if items_open {
            match &data.items {
                Load::Ready(items) => {
                    for (ii, item) in items.iter().enumerate() {
                        if rows.len() >= MAX_ROWS {
                            return false;
                        }
                        let mut p = items_path.clone();
                        p.push(Key::Item(item.id.clone()));
                        let mut detail = count(item.acl.len(), "ACL entry", "ACL entries");
                        if !item.pending.is_empty() {
                            detail.push_str(&format!(" · ◌ {} pending", item.pending.len()));
                        }
                        rows.push(Row {
                            path: p,
                            depth: 2,
                            kind: RowKind::Item,
                            label: item.text(),
                            detail,
                            expandable: false,
                            expanded: false,
                            conn: ci,
                            item: Some(ii),
                            warn: false,
                        });
                    }
                }
                Load::Idle => {}
                other => rows.push(note(ci, &items_path, 2, other)),
            }
        }
        rows.len() < MAX_ROWS
    }

    /// Appends a group and, when expanded, its members; `branch` holds the
    /// groups from the top of this branch down to `g`.
    #[allow(clippy::too_many_arguments)]
    fn flatten_group(
        &self,
        ci: usize,
        data: &ConnData,
        g: &GroupNode,
        path: Path,
        depth: usize,
        branch: &mut Vec<ExternalGroupId>,
        force: bool,
        rows: &mut Vec<Row>,
    ) -> bool {
        if rows.len() >= MAX_ROWS {
            return false;
        }
        let expanded = !g.members.is_empty() && (force || self.is_expanded(&path));
        let mut detail = format!("{} · {}", g.id, count(g.members.len(), "member", "members"));
        if let Some(d) = g.description.as_deref().filter(|d| !d.trim().is_empty()) {
            detail.push_str(&format!(" · {d}"));
        }
        let mut warn = false;
        if let Some(m) = &g.mirror {
            detail.push_str(&format!(
                " · mirrors {} ({} published",
                m.source, m.published
            ));
            if m.unmatched > 0 {
                detail.push_str(&format!(", {} unmatched", m.unmatched));
            }
            detail.push(')');
            if let Some(e) = &m.error {
                detail.push_str(&format!(" · ✗ mirror failing: {e}"));
                warn = true;
            }
        }
        rows.push(Row {
            path: path.clone(),
            depth,
            kind: RowKind::Group,
            label: g.label.clone(),
            detail,
            expandable: !g.members.is_empty(),
            expanded,
            conn: ci,
            item: None,
            warn,
        });
        if !expanded {
            return true;
        }
        for m in &g.members {
            if rows.len() >= MAX_ROWS {
                return false;
            }
            let mut p = path.clone();
            match &m.member {
                Member::ExternalGroup(id) => {
                    p.push(Key::Group(id.clone()));
                    let nested = data.group(id).filter(|_| !m.pending);
                    if branch.contains(id) {
                        let detail = "cycle: already on this branch";
                        rows.push(leaf(ci, p, depth + 1, RowKind::Cycle, m, detail));
                    } else if let Some(child) = nested {
                        branch.push(id.clone());
                        let ok =
                            self.flatten_group(ci, data, child, p, depth + 1, branch, force, rows);
                        branch.pop();
                        if !ok {
                            return false;
                        }
                    } else {
                        let detail = "pending: not created yet";
                        rows.push(leaf(ci, p, depth + 1, RowKind::Pending, m, detail));
                    }
                }
                Member::User(_) => {
                    p.push(Key::Member(m.member.clone()));
                    rows.push(leaf(ci, p, depth + 1, RowKind::User, m, "user"));
                }
                Member::EntraGroup(_) => {
                    p.push(Key::Member(m.member.clone()));
                    rows.push(leaf(
                        ci,
                        p,
                        depth + 1,
                        RowKind::EntraGroup,
                        m,
                        "Entra group",
                    ));
                }
            }
        }
        true
    }

    /// The labels of the groups on the selected row's path, for breadcrumbs.
    pub fn trail(&self) -> Vec<String> {
        let Some(row) = self.selected() else {
            return Vec::new();
        };
        let Some(data) = self.conns.get(row.conn) else {
            return Vec::new();
        };
        let mut out = vec![data.conn.id.clone()];
        for key in &row.path[1..] {
            match key {
                Key::Group(id) => out.push(
                    data.group(id)
                        .map_or_else(|| id.to_string(), |g| g.label.clone()),
                ),
                Key::Items => out.push("Items".into()),
                Key::Item(id) => out.push(id.to_string()),
                _ => {}
            }
        }
        out
    }
}

fn leaf(ci: usize, path: Path, depth: usize, kind: RowKind, m: &MemberNode, detail: &str) -> Row {
    Row {
        path,
        depth,
        kind,
        label: m.label.clone(),
        detail: detail.to_owned(),
        expandable: false,
        expanded: false,
        conn: ci,
        item: None,
        warn: false,
    }
}

fn note<T>(ci: usize, parent: &[Key], depth: usize, load: &Load<T>) -> Row {
    let (kind, label) = match load {
        Load::Failed(e) => (RowKind::Error, e.clone()),
        _ => (RowKind::Loading, "loading…".to_owned()),
    };
    let mut path = parent.to_vec();
    path.push(Key::Note);
    Row {
        path,
        depth,
        kind,
        label,
        detail: String::new(),
        expandable: false,
        expanded: false,
        conn: ci,
        item: None,
        warn: false,
    }
}

/// Keeps the rows that match and every ancestor of one that does, so a
/// match is always shown where it sits in the tree.
fn keep_matches(rows: Vec<Row>, matches: impl Fn(usize) -> bool) -> Vec<Row> {
    let deepest = rows.iter().map(|r| r.depth).max().unwrap_or(0);
    // below[d]: a row at depth d under the row being looked at is kept.
    let mut below = vec![false; deepest + 2];
    let mut keep = vec![false; rows.len()];
    for (i, r) in rows.iter().enumerate().rev() {
        let d = r.depth;
        let kept = matches(i) || below[d + 1];
        below[d + 1..].iter_mut().for_each(|b| *b = false);
        if kept {
            below[d] = true;
            keep[i] = true;
        }
    }
    rows.into_iter()
        .zip(keep)
        .filter_map(|(r, k)| k.then_some(r))
        .collect()
}

#[cfg(test)]
#[path = "tree_tests.rs"]
mod tests;
