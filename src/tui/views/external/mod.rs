//! External groups pane (R-X1…R-X6): Graph connections → external groups
//! → members as a tree, an item's ACL, who can see an item, and the access
//! checker. Esc walks back from the checker and the item views to the tree.

pub mod checker;
mod checker_view;
mod draw;
mod keys;
mod nodes;
pub mod tree;
mod who;

pub use checker::{Answer, Checker, Field, Shown, VisibleNode};
use nodes::sorted_audience;
pub use nodes::{AudienceNode, WhoRow};
pub use tree::{
    ConnData, ConnNode, GroupNode, ItemNode, Key, Load, MemberNode, MirrorNote, RowKind, Tree,
};
use who::rank_who;

use crate::domain::external::{ExternalGroupId, ItemId, Principal};
use crate::tui::action::Action;
use crate::tui::input::Input;
use crate::tui::msg::{Cmd, Outcome};
use crate::tui::pane::Handled;
use crate::tui::ranking::{Ranked, Ranking};
use crate::tui::widgets::list::Cursor;

/// A view opened over the tree from an item.
#[derive(Debug)]
pub enum Detail {
    /// R-X4: the item's ACL, entries numbered as explanations number them.
    Acl {
        conn: String,
        item: ItemId,
        cursor: Cursor,
    },
    /// R-X5: everyone the item's ACL grants or denies.
    Who {
        conn: String,
        item: ItemId,
        audience: Load<AudienceNode>,
        cursor: Cursor,
        filter: Input,
        /// The rows matching the filter, best first.
        visible: Box<Ranking>,
    },
}

impl Detail {
    fn conn(&self) -> &str {
        match self {
            Detail::Acl { conn, .. } | Detail::Who { conn, .. } => conn,
        }
    }

    fn item(&self) -> &ItemId {
        match self {
            Detail::Acl { item, .. } | Detail::Who { item, .. } => item,
        }
    }
}

#[derive(Debug, Default)]
pub struct ExternalPane {
    pub tree: Tree,
    pub loaded: bool,
    pub error: Option<String>,
    pub filter: Input,
    pub editing: bool,
    pub stack: Vec<Detail>,
    /// The details an ACL entry's group was shown from in the tree, which Esc
    /// goes back to.
    revealed_from: Vec<Detail>,
    pub checker: Option<Checker>,
}

impl ExternalPane {
    pub fn rebuild(&mut self) {
        self.tree.rebuild(self.filter.text());
    }

    pub fn connections_loaded(&mut self, result: Outcome<Vec<ConnNode>>) -> Vec<Cmd> {
        let conns = match result {
            Ok(conns) => conns,
            Err(e) => {
                self.error = Some(e.message);
                return Vec::new();
            }
        };
        let first = !self.loaded;
        self.loaded = true;
        self.error = None;
        self.tree.set_connections(conns);
        // With one connection there is nothing to choose: it opens.
        if first && let [only] = self.tree.conns.as_slice() {
            self.tree.expand(vec![Key::Conn(only.conn.id.clone())]);
        }
        let mut cmds = Vec::new();
        for i in 0..self.tree.conns.len() {
            let id = self.tree.conns[i].conn.id.clone();
            if self.tree.is_expanded(&[Key::Conn(id.clone())]) {
                cmds.extend(self.ensure_loaded(&id));
            }
        }
        self.rebuild();
        cmds
    }

    /// Loads a connection's groups and items unless they are (being) loaded.
    fn ensure_loaded(&mut self, conn: &str) -> Vec<Cmd> {
        let mut cmds = Vec::new();
        if let Some(data) = self.tree.conn_mut(conn) {
            if matches!(data.groups, Load::Idle | Load::Failed(_)) {
                data.groups = Load::Loading;
                cmds.push(Cmd::LoadExternalGroups(conn.to_owned()));
            }
            if matches!(data.items, Load::Idle | Load::Failed(_)) {
                data.items = Load::Loading;
                cmds.push(Cmd::LoadExternalItems(conn.to_owned()));
            }
        }
        cmds
    }

    pub fn groups_loaded(&mut self, conn: &str, result: Outcome<Vec<GroupNode>>) {
        if let Some(data) = self.tree.conn_mut(conn) {
            data.groups = match result {
                Ok(groups) => Load::Ready(groups),
                Err(e) => Load::Failed(e.message),
            };
            self.rebuild();
        }
    }

    pub fn items_loaded(&mut self, conn: &str, result: Outcome<Vec<ItemNode>>) -> Option<Cmd> {
        let data = self.tree.conn_mut(conn)?;
        data.items = match result {
            Ok(items) => Load::Ready(items),
            Err(e) => Load::Failed(e.message),
        };
        let mut pass = None;
        if let (Some(c), Some(items)) = (&mut self.checker, data.items.ready())
            && c.connection == conn
        {
            pass = c.set_items(items);
        }
        self.rebuild();
        pass
    }

    pub fn audience_loaded(
        &mut self,
        conn: &str,
        item: &str,
        result: Outcome<AudienceNode>,
    ) -> Vec<Cmd> {
        let mut passes = Vec::new();
        for d in &mut self.stack {
            if let Detail::Who {
                conn: c,
                item: i,
                audience,
                ..
            } = d
                && c == conn
                && i.as_str() == item
            {
                *audience = match &result {
                    Ok(a) => Load::Ready(sorted_audience(a.clone())),
                    Err(e) => Load::Failed(e.message.clone()),
                };
                passes.extend(rank_who(d, true));
            }
        }
        passes
    }

    /// Whether `/` has a list to filter: the tree, or who can see an item.
    pub fn can_filter(&self) -> bool {
        matches!(self.stack.last(), None | Some(Detail::Who { .. }))
    }

    /// The filter of the list in view.
    pub fn filter_input(&mut self) -> &mut Input {
        match self.stack.last_mut() {
            Some(Detail::Who { filter, .. }) => filter,
            _ => &mut self.filter,
        }
    }

    /// Applies the filter of the list in view, from its first row.
    pub fn refilter(&mut self) -> Option<Cmd> {
        match self.stack.last_mut() {
            Some(d @ Detail::Who { .. }) => {
                if let Detail::Who { cursor, .. } = d {
                    cursor.top();
                }
                rank_who(d, false)
            }
            _ => {
                self.tree.cursor.top();
                self.rebuild();
                None
            }
        }
    }

    /// A ranking answered: the checker's, or that of who can see an item.
    pub fn ranked(&mut self, mut ranked: Ranked) -> Result<Option<Cmd>, Ranked> {
        if let Some(c) = &mut self.checker {
            ranked = match c.ranked(ranked) {
                Ok(check) => return Ok(check),
                Err(ranked) => ranked,
            };
        }
        for d in &mut self.stack {
            ranked = match who::answered(d, ranked) {
                Ok(()) => return Ok(None),
                Err(ranked) => ranked,
            };
        }
        Err(ranked)
    }

    pub fn users_loaded(
        &mut self,
        conn: &str,
        result: Outcome<Vec<crate::domain::external::DirectoryUser>>,
    ) -> Vec<Cmd> {
        match self.checker.as_mut().filter(|c| c.connection == conn) {
            Some(c) => c.users_loaded(result),
            None => Vec::new(),
        }
    }

    /// The ids of the connections known, for `:external` completion.
    pub fn connection_ids(&self) -> impl Iterator<Item = &str> {
        self.tree.conns.iter().map(|d| d.conn.id.as_str())
    }

    /// The connection the user is looking at.
    pub fn current_conn(&self) -> Option<&ConnData> {
        match self.stack.last() {
            Some(d) => self.tree.conn(d.conn()),
            None => self
                .tree
                .selected()
                .and_then(|r| self.tree.conns.get(r.conn)),
        }
    }

    /// The item the user is looking at: the open view's, or the selected row's.
    pub fn current_item(&self) -> Option<(String, ItemId)> {
        if let Some(d) = self.stack.last() {
            return Some((d.conn().to_owned(), d.item().clone()));
        }
        let row = self.tree.selected()?;
        let data = self.tree.conns.get(row.conn)?;
        let item = data.items.ready()?.get(row.item?)?;
        Some((data.conn.id.clone(), item.id.clone()))
    }

    pub fn item(&self, conn: &str, id: &ItemId) -> Option<&ItemNode> {
        self.tree
            .conn(conn)?
            .items
            .ready()?
            .iter()
            .find(|i| i.id == *id)
    }

    pub fn navigate(&mut self, action: Action) -> Handled {
        let (cursor, len) = match self.stack.last_mut() {
            Some(Detail::Acl { conn, item, cursor }) => {
                let len = self
                    .tree
                    .conn(conn)
                    .and_then(|d| d.items.ready())
                    .and_then(|items| items.iter().find(|i| i.id == *item))
                    .map_or(0, |i| i.acl.len());
                (cursor, len)
            }
            Some(Detail::Who {
                visible, cursor, ..
            }) => {
                let len = visible.hits().len();
                (cursor, len)
            }
            None => {
                let len = self.tree.rows.len();
                (&mut self.tree.cursor, len)
            }
        };
        cursor.navigate(action, len)
    }

    /// Enter: expands or collapses the selected row, opens an item's ACL;
    /// on an ACL entry, shows its external group in the tree or checks its
    /// user; in "who can see", checks the selected user.
    pub fn open(&mut self) -> Vec<Cmd> {
        if let Some(Detail::Acl { conn, item, cursor }) = self.stack.last() {
            let Some(entry) = self
                .item(conn, item)
                .and_then(|i| i.acl.get(cursor.selected))
            else {
                return Vec::new();
            };
            let (conn, item) = (conn.clone(), item.clone());
            return match entry.principal.clone() {
                Principal::ExternalGroup(id) => {
                    self.reveal_group(&conn, &id);
                    Vec::new()
                }
                Principal::User(id) => {
                    let mut cmds = self.open_checker(conn, Some(item));
                    if let Some(c) = &mut self.checker {
                        cmds.extend(c.preset_user(&id, &id));
                    }
                    cmds
                }
                _ => Vec::new(),
            };
        }
        if let Some(Detail::Who {
            conn,
            item,
            audience,
            cursor,
            visible,
            ..
        }) = self.stack.last()
        {
            let Some(row) = visible
                .hits()
                .get(cursor.selected)
                .and_then(|h| audience.ready()?.rows.get(h.index()))
            else {
                return Vec::new();
            };
            let (conn, item) = (conn.clone(), item.clone());
            let (name, id) = (row.name.clone(), row.user_id.clone());
            let mut cmds = self.open_checker(conn, Some(item));
            if let Some(c) = &mut self.checker {
                cmds.extend(c.preset_user(&name, &id));
            }
            return cmds;
        }
        if !self.stack.is_empty() {
            return Vec::new();
        }
        let Some(row) = self.tree.selected().cloned() else {
            return Vec::new();
        };
        if row.kind == RowKind::Item {
            if let Some((conn, item)) = self.current_item() {
                self.stack.push(Detail::Acl {
                    conn,
                    item,
                    cursor: Cursor::default(),
                });
            }
            return Vec::new();
        }
        if row.expanded {
            self.tree.collapse(&row.path);
            self.rebuild();
            Vec::new()
        } else {
            self.expand()
        }
    }

    /// → : opens the selected row, or steps into it when it is open.
    pub fn expand(&mut self) -> Vec<Cmd> {
        if !self.stack.is_empty() {
            return Vec::new();
        }
        let Some(row) = self.tree.selected().cloned() else {
            return Vec::new();
        };
        if !row.expandable {
            return Vec::new();
        }
        if row.expanded {
            self.tree.cursor.down(self.tree.rows.len());
            return Vec::new();
        }
        self.tree.expand(row.path.clone());
        let cmds = match &row.path[..] {
            [Key::Conn(id)] => self.ensure_loaded(&id.clone()),
            _ => Vec::new(),
        };
        self.rebuild();
        cmds
    }

    /// ← : closes the selected row, or goes to its parent when it is closed.
    pub fn collapse(&mut self) {
        if !self.stack.is_empty() {
            return;
        }
        let Some(row) = self.tree.selected().cloned() else {
            return;
        };
        if row.expanded {
            self.tree.collapse(&row.path);
            self.rebuild();
        } else if let Some(parent) = self
            .tree
            .rows
            .iter()
            .position(|r| r.path[..] == row.path[..row.path.len().saturating_sub(1)])
        {
            self.tree.cursor.selected = parent;
        }
    }

    /// Esc: closes the checker, then the filter of who can see, then the
    /// item views, then the tree's filter; false when nothing was open.
    pub fn back(&mut self) -> bool {
        if self.checker.take().is_some() {
            return true;
        }
        if let Some(Detail::Who { filter, .. }) = self.stack.last_mut()
            && !filter.text().is_empty()
        {
            filter.set("");
            let pass = self.refilter();
            debug_assert!(pass.is_none(), "an empty filter shows every row at once");
            return true;
        }
        if self.stack.pop().is_some() {
            return true;
        }
        if !self.revealed_from.is_empty() {
            self.stack = std::mem::take(&mut self.revealed_from);
            return true;
        }
        if self.filter.text().is_empty() {
            return false;
        }
        self.filter.set("");
        self.rebuild();
        true
    }

    /// `:external NAME`: opens and selects that connection.
    pub fn show_connection(&mut self, name: &str) -> Result<Vec<Cmd>, String> {
        let name = name.trim();
        let Some(id) = self
            .tree
            .conns
            .iter()
            .find(|d| {
                d.conn.id.eq_ignore_ascii_case(name) || d.conn.name.eq_ignore_ascii_case(name)
            })
            .map(|d| d.conn.id.clone())
        else {
            let known: Vec<&str> = self.tree.conns.iter().map(|d| d.conn.id.as_str()).collect();
            return Err(if known.is_empty() {
                format!(
                    "no Graph connection named {name:?}: none is known yet; press r to read them from Graph"
                )
            } else {
                format!(
                    "no Graph connection named {name:?}; connections: {}",
                    known.join(", ")
                )
            });
        };
        self.stack.clear();
        self.checker = None;
        self.filter.set("");
        let path = vec![Key::Conn(id.clone())];
        self.tree.expand(path.clone());
        let cmds = self.ensure_loaded(&id);
        self.rebuild();
        if let Some(i) = self.tree.rows.iter().position(|r| r.path == path) {
            self.tree.cursor.selected = i;
        }
        Ok(cmds)
    }

    /// Back to the tree with a connection's top-level group selected; a
    /// group the connection does not have (pending) leaves the view as it is.
    fn reveal_group(&mut self, conn: &str, id: &ExternalGroupId) {
        let path = vec![Key::Conn(conn.to_owned()), Key::Group(id.clone())];
        self.tree.expand(path[..1].to_vec());
        self.filter.set("");
        self.rebuild();
        if let Some(i) = self.tree.rows.iter().position(|r| r.path == path) {
            self.revealed_from = std::mem::take(&mut self.stack);
            self.tree.cursor.selected = i;
        }
    }

    /// `a`: the access checker, on the item in view if there is one.
    pub fn open_checker(&mut self, conn: String, item: Option<ItemId>) -> Vec<Cmd> {
        let mut checker = Checker::new(conn.clone(), item);
        let mut cmds = self.ensure_loaded(&conn);
        if let Some(items) = self.tree.conn(&conn).and_then(|d| d.items.ready()) {
            cmds.extend(checker.set_items(items));
        }
        cmds.push(Cmd::LoadDirectoryUsers(conn));
        self.checker = Some(checker);
        cmds
    }

    /// `w`: who can see the item in view.
    pub fn open_who(&mut self) -> Result<Cmd, &'static str> {
        let (conn, item) = self
            .current_item()
            .ok_or("choose an item first (Items under a connection), then press w")?;
        if matches!(self.stack.last(), Some(Detail::Who { .. })) {
            self.stack.pop();
        }
        let cmd = Cmd::LoadAudience {
            connection: conn.clone(),
            item: item.to_string(),
        };
        self.stack.push(Detail::Who {
            conn,
            item,
            audience: Load::Loading,
            cursor: Cursor::default(),
            filter: Input::default(),
            visible: Box::default(),
        });
        Ok(cmd)
    }

    /// The service says `conn` changed: everything shown of it is read
    /// again; what is on screen stays until the new data arrives.
    pub fn changed(&mut self, conn: &str) -> Vec<Cmd> {
        let mut cmds = vec![Cmd::LoadExternalConnections];
        if let Some(data) = self.tree.conn(conn) {
            if !matches!(data.groups, Load::Idle) {
                cmds.push(Cmd::LoadExternalGroups(conn.to_owned()));
            }
            if !matches!(data.items, Load::Idle) {
                cmds.push(Cmd::LoadExternalItems(conn.to_owned()));
            }
        }
        for d in &self.stack {
            if let Detail::Who { conn: c, item, .. } = d
                && c == conn
            {
                cmds.push(Cmd::LoadAudience {
                    connection: c.clone(),
                    item: item.to_string(),
                });
            }
        }
        if let Some(c) = self.checker.as_mut().filter(|c| c.connection == conn) {
            cmds.extend(c.recheck());
        }
        cmds
    }

    /// Events were lost: every connection shown is read again.
    pub fn reload_all(&mut self) -> Vec<Cmd> {
        let ids: Vec<String> = self.tree.conns.iter().map(|d| d.conn.id.clone()).collect();
        let mut cmds: Vec<Cmd> = Vec::new();
        for id in ids {
            for cmd in self.changed(&id) {
                if !cmds.contains(&cmd) {
                    cmds.push(cmd);
                }
            }
        }
        if cmds.is_empty() {
            cmds.push(Cmd::LoadExternalConnections);
        }
        cmds
    }

    /// Breadcrumbs below the pane title: connection › group › … or the item view.
    pub fn trail(&self) -> Vec<String> {
        let mut out = match self.stack.first() {
            Some(d) => vec![d.conn().to_owned(), "Items".into(), d.item().to_string()],
            None => self.tree.trail(),
        };
        for d in &self.stack {
            out.push(
                match d {
                    Detail::Acl { .. } => "ACL",
                    Detail::Who { .. } => "Who can see",
                }
                .into(),
            );
        }
        if self.checker.is_some() {
            out.push("Access check".into());
        }
        out
    }
}
