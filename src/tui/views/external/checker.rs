//! The access checker (R-X5): pick an item, type a user (fuzzy over the
//! directory), see the decision and the path that decided it; a user
//! without an item shows the items they can see. Each change of the item
//! or the highlighted user asks again; only the latest answer is shown.

use ratatui::crossterm::event::KeyEvent;

use super::tree::{ItemNode, Load};
use crate::domain::external::{Decision, DirectoryUser, ItemId};
use crate::tui::format::safe;
use crate::tui::fuzzy::{Fuzzy, Hit};
use crate::tui::input::Input;
use crate::tui::msg::{Cmd, Outcome};
use crate::tui::widgets::list::Cursor;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Item,
    User,
}

/// The service's answer for one user and one item.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub item: ItemId,
    pub user: DirectoryUser,
    pub decision: Decision,
}

/// R-X5: an item a user can see, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct VisibleNode {
    pub item: ItemId,
    pub title: Option<String>,
    pub decision: Decision,
}

/// What the checker shows below its fields.
#[derive(Debug, Clone, PartialEq)]
pub enum Shown {
    Decision(Answer),
    /// No item chosen: everything the user can see.
    Items {
        user: String,
        items: Vec<VisibleNode>,
    },
}

/// A question the checker asked: the user, with or without an item.
type Question = (Option<ItemId>, String);

#[derive(Debug)]
pub struct Checker {
    pub connection: String,
    pub field: Field,
    /// The connection's items: id and "id  title", safe; `None` until they arrive.
    items: Option<Vec<(ItemId, String)>>,
    pub item_query: Input,
    pub item_hits: Vec<Hit>,
    pub item_cursor: Cursor,
    /// The item checked against, once chosen.
    pub item: Option<ItemId>,
    pub users: Load<Vec<DirectoryUser>>,
    /// "name  id", safe, index for index with the users.
    user_texts: Vec<String>,
    pub user_query: Input,
    pub user_hits: Vec<Hit>,
    pub user_cursor: Cursor,
    /// The text `user_hits` were ranked for.
    ranked_for: String,
    /// The user asked for by id (from "who can see"), kept highlighted.
    preset: Option<String>,
    /// The number of the latest check asked for.
    seq: u64,
    /// Item and user id of the latest check asked for.
    asked: Option<Question>,
    pub answer: Load<Shown>,
}

impl Checker {
    /// Opens on `item` if given (then the user field has the keyboard).
    pub fn new(connection: String, item: Option<ItemId>) -> Checker {
        Checker {
            connection,
            field: if item.is_some() {
                Field::User
            } else {
                Field::Item
            },
            items: None,
            item_query: Input::default(),
            item_hits: Vec::new(),
            item_cursor: Cursor::default(),
            item,
            users: Load::Loading,
            user_texts: Vec::new(),
            user_query: Input::default(),
            user_hits: Vec::new(),
            user_cursor: Cursor::default(),
            ranked_for: String::new(),
            preset: None,
            seq: 0,
            asked: None,
            answer: Load::Idle,
        }
    }

    /// The items, once they have arrived.
    pub fn items(&self) -> Option<&[(ItemId, String)]> {
        self.items.as_deref()
    }

    pub fn item_text(&self, index: usize) -> &str {
        self.items().map_or("", |items| items[index].1.as_str())
    }

    pub fn user_text(&self, index: usize) -> &str {
        &self.user_texts[index]
    }

    /// The chosen item's text.
    pub fn chosen_item(&self) -> Option<&str> {
        let id = self.item.as_ref()?;
        self.items()
            .and_then(|items| items.iter().find(|(i, _)| i == id))
            .map(|(_, t)| t.as_str())
            .or(Some(id.as_str()))
    }

    pub fn set_items(&mut self, items: &[ItemNode], fuzzy: &Fuzzy) {
        self.items = Some(
            items
                .iter()
                .map(|i| (i.id.clone(), safe(&i.text()).into_owned()))
                .collect(),
        );
        self.rank_items(fuzzy);
    }

    /// The directory arrived; a name typed meanwhile is ranked now.
    pub fn users_loaded(
        &mut self,
        result: Outcome<Vec<DirectoryUser>>,
        fuzzy: &Fuzzy,
    ) -> Option<Cmd> {
        match result {
            Ok(users) => {
                self.user_texts = users
                    .iter()
                    .map(|u| safe(&format!("{}  {}", u.name, u.id)).into_owned())
                    .collect();
                self.users = Load::Ready(users);
                self.ranked_for.clear();
                self.rank_users(fuzzy);
                self.want()
            }
            Err(e) => {
                self.users = Load::Failed(e.message);
                None
            }
        }
    }

    /// Presets the user (from "who can see"): their name typed in the
    /// field, and that very user highlighted once the directory is in.
    pub fn preset_user(&mut self, name: &str, id: &str, fuzzy: &Fuzzy) -> Option<Cmd> {
        self.field = Field::User;
        self.user_query.set(name);
        self.preset = Some(id.to_owned());
        self.rank_users(fuzzy);
        self.want()
    }

    fn rank_items(&mut self, fuzzy: &Fuzzy) {
        self.item_hits = fuzzy.rank(
            self.items()
                .unwrap_or_default()
                .iter()
                .map(|(_, t)| t.as_str()),
            self.item_query.text(),
        );
        self.item_cursor.clamp(self.item_hits.len());
    }

    fn rank_users(&mut self, fuzzy: &Fuzzy) {
        let query = self.user_query.text().to_owned();
        self.user_hits = if query.trim().is_empty() {
            // An empty field is no one yet, rather than the first user.
            Vec::new()
        } else if !self.ranked_for.trim().is_empty() && query.starts_with(&self.ranked_for) {
            // Typing on only narrows: the previous hits are all that can
            // match, which keeps a large directory quick per keystroke.
            let mut previous: Vec<usize> = self.user_hits.iter().map(|h| h.index).collect();
            previous.sort_unstable();
            fuzzy.rank_among(&self.user_texts, &previous, &query)
        } else {
            let every: Vec<usize> = (0..self.user_texts.len()).collect();
            fuzzy.rank_among(&self.user_texts, &every, &query)
        };
        self.ranked_for = query;
        self.user_cursor.clamp(self.user_hits.len());
        if let (Some(id), Some(users)) = (&self.preset, self.users.ready())
            && let Some(i) = self.user_hits.iter().position(|h| users[h.index].id == *id)
        {
            self.user_cursor.selected = i;
        }
    }

    /// The user highlighted now.
    pub fn candidate(&self) -> Option<&DirectoryUser> {
        let hit = self.user_hits.get(self.user_cursor.selected)?;
        self.users.ready()?.get(hit.index)
    }

    /// A typed key for the field with the keyboard; a check when the user
    /// highlighted changed.
    pub fn edit(&mut self, key: KeyEvent, fuzzy: &Fuzzy) -> Option<Cmd> {
        match self.field {
            Field::Item => {
                if self.item_query.edit(key) {
                    self.item_cursor.top();
                    self.rank_items(fuzzy);
                }
                None
            }
            Field::User => {
                if !self.user_query.edit(key) {
                    return None;
                }
                self.preset = None;
                self.user_cursor.top();
                self.rank_users(fuzzy);
                self.want()
            }
        }
    }

    pub fn up(&mut self) -> Option<Cmd> {
        match self.field {
            Field::Item => {
                self.item_cursor.up();
                None
            }
            Field::User => {
                self.user_cursor.up();
                self.want()
            }
        }
    }

    pub fn down(&mut self) -> Option<Cmd> {
        match self.field {
            Field::Item => {
                self.item_cursor.down(self.item_hits.len());
                None
            }
            Field::User => {
                self.user_cursor.down(self.user_hits.len());
                self.want()
            }
        }
    }

    /// Tab: the other field.
    pub fn switch(&mut self) {
        self.field = match self.field {
            Field::Item => Field::User,
            Field::User => Field::Item,
        };
    }

    /// Enter: on the item field, chooses the highlighted item and moves to
    /// the user; on the user field, asks again.
    pub fn submit(&mut self) -> Option<Cmd> {
        match self.field {
            Field::Item => {
                let hit = self.item_hits.get(self.item_cursor.selected)?;
                self.item = Some(self.items()?.get(hit.index)?.0.clone());
                self.field = Field::User;
                self.want()
            }
            Field::User => {
                self.asked = None;
                self.want()
            }
        }
    }

    /// The check for the chosen item and the highlighted user (without an
    /// item: what the user can see), unless that was asked already.
    fn want(&mut self) -> Option<Cmd> {
        let wanted = self
            .candidate()
            .map(|user| (self.item.clone(), user.id.clone()));
        if wanted == self.asked {
            return None;
        }
        self.asked = wanted.clone();
        self.seq += 1;
        let Some((item, user)) = wanted else {
            self.answer = Load::Idle;
            return None;
        };
        self.answer = Load::Loading;
        let connection = self.connection.clone();
        let seq = self.seq;
        Some(match item {
            Some(item) => Cmd::CheckAccess {
                connection,
                item: item.to_string(),
                user,
                seq,
            },
            None => Cmd::VisibleItems {
                connection,
                user,
                seq,
            },
        })
    }

    /// The data changed: the same question is asked again.
    pub fn recheck(&mut self) -> Option<Cmd> {
        self.asked = None;
        self.want()
    }

    /// An answer; one for an earlier question is dropped (latest wins).
    pub fn answered(&mut self, seq: u64, result: Outcome<Answer>) {
        self.show(seq, result.map(Shown::Decision));
    }

    /// The items the highlighted user can see; latest wins as well.
    pub fn items_answered(&mut self, seq: u64, result: Outcome<Vec<VisibleNode>>) {
        let user = self.candidate().map(|u| u.name.clone()).unwrap_or_default();
        self.show(seq, result.map(|items| Shown::Items { user, items }));
    }

    fn show(&mut self, seq: u64, result: Outcome<Shown>) {
        if seq != self.seq || self.asked.is_none() {
            return;
        }
        self.answer = match result {
            Ok(a) => Load::Ready(a),
            Err(e) => Load::Failed(e.message),
        };
    }
}

#[cfg(test)]
mod tests {
    use ratatui::crossterm::event::{KeyCode, KeyModifiers};

    use super::*;
    use crate::domain::external::path::Access;
    use crate::tui::msg::Failure;

    fn users() -> Vec<DirectoryUser> {
        ["alice@contoso.com", "alec@contoso.com", "bob@contoso.com"]
            .iter()
            .map(|n| DirectoryUser {
                id: format!("id-{}", &n[..3]),
                name: (*n).into(),
                guest: false,
            })
            .collect()
    }

    fn item(id: &str, title: &str) -> ItemNode {
        ItemNode {
            id: ItemId::parse(id).expect("item id"),
            title: Some(title.into()),
            acl: Vec::new(),
            labels: Vec::new(),
            pending: Vec::new(),
        }
    }

    fn typed(c: &mut Checker, text: &str, fuzzy: &Fuzzy) -> Vec<Cmd> {
        text.chars()
            .filter_map(|ch| c.edit(KeyEvent::new(KeyCode::Char(ch), KeyModifiers::NONE), fuzzy))
            .collect()
    }

    fn answer(user: &str) -> Answer {
        Answer {
            item: ItemId::parse("kb1").expect("id"),
            user: DirectoryUser {
                id: user.into(),
                name: user.into(),
                guest: false,
            },
            decision: Decision {
                decision: Access::Grant,
                reason: None,
                overridden: None,
                pending: Vec::new(),
                cycles: Vec::new(),
                notes: Vec::new(),
            },
        }
    }

    // R-X5: an item is picked fuzzily, then each user the fuzzy match
    // highlights is checked once; an empty field checks no one.
    #[test]
    fn choose_an_item_then_type_a_user_fuzzily() {
        let fuzzy = Fuzzy::default();
        let mut c = Checker::new("kb".into(), None);
        c.set_items(
            &[item("kb1", "Payment gateway"), item("kb2", "Holiday plan")],
            &fuzzy,
        );
        assert_eq!(c.field, Field::Item);
        // R-X5: a user without an item: the items they can see.
        c.users_loaded(Ok(users()), &fuzzy);
        c.switch();
        let cmds = typed(&mut c, "bob", &fuzzy);
        assert!(
            matches!(cmds.as_slice(), [Cmd::VisibleItems { user, .. }] if user == "id-bob"),
            "{cmds:?}"
        );
        c.user_query.set("");
        c.users = Load::Loading;
        c.switch();
        assert!(typed(&mut c, "holi", &fuzzy).is_empty());
        assert_eq!(c.item_hits.len(), 1);
        assert!(c.submit().is_none(), "no user yet: nothing to check");
        assert_eq!(c.item.as_ref().map(ItemId::as_str), Some("kb2"));
        assert_eq!(c.field, Field::User);
        // Typed before the directory arrived: ranked and checked when it does.
        assert!(typed(&mut c, "ali", &fuzzy).is_empty());
        let cmd = c.users_loaded(Ok(users()), &fuzzy);
        assert!(
            matches!(&cmd, Some(Cmd::CheckAccess { item, user, .. }) if item == "kb2" && user == "id-ali"),
            "{cmd:?}"
        );
        // Narrowing keeps alice highlighted: no second check.
        assert!(typed(&mut c, "ce", &fuzzy).is_empty());
        // Wider again, another highlighted user is another check.
        for _ in 0.."ice".len() {
            c.edit(
                KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE),
                &fuzzy,
            );
        }
        assert!(c.user_hits.len() >= 2, "al matches alice and alec");
        let before = c.candidate().map(|u| u.id.clone());
        let cmd = c.down();
        assert!(
            matches!(&cmd, Some(Cmd::CheckAccess { user, .. }) if Some(user) != before.as_ref()),
            "{cmd:?}"
        );
        // Emptying the field clears the answer and asks nothing.
        c.user_query.set("");
        assert!(
            c.edit(
                KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE),
                &fuzzy
            )
            .is_none()
        );
        assert_eq!(c.answer, Load::Idle);
    }

    // R-X5: answers to earlier questions never replace the latest one.
    #[test]
    fn latest_answer_wins() {
        let fuzzy = Fuzzy::default();
        let mut c = Checker::new("kb".into(), Some(ItemId::parse("kb1").expect("id")));
        c.users_loaded(Ok(users()), &fuzzy);
        let first = typed(&mut c, "bob", &fuzzy);
        assert_eq!(first.len(), 1);
        let cmds = c.preset_user("al", "id-ale", &fuzzy);
        assert!(
            matches!(&cmds, Some(Cmd::CheckAccess { seq: 2, user, .. }) if user == "id-ale"),
            "the preset user, not merely the best match: {cmds:?}"
        );
        c.answered(1, Ok(answer("id-bob")));
        assert_eq!(c.answer, Load::Loading, "the stale answer is dropped");
        c.answered(2, Ok(answer("id-ale")));
        assert!(matches!(&c.answer, Load::Ready(Shown::Decision(a)) if a.user.id == "id-ale"));
        // Enter asks the same question again; a failure shows its message.
        assert!(matches!(c.submit(), Some(Cmd::CheckAccess { seq: 3, .. })));
        c.answered(
            3,
            Err(Failure {
                message: "no such item".into(),
                column: None,
            }),
        );
        assert_eq!(c.answer, Load::Failed("no such item".into()));
    }
}
