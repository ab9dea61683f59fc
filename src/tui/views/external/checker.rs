//! The access checker (R-X5): pick an item, type a user (fuzzy over the
//! directory), see the decision and the path that decided it; a user
//! without an item shows the items they can see. Each change of the item
//! or the highlighted user asks again; only the latest answer is shown.

use ratatui::crossterm::event::KeyEvent;

use super::tree::{ItemNode, Load};
use crate::domain::external::{Decision, DirectoryUser, ItemId};
use crate::tui::format::safe;
use crate::tui::fuzzy::Hit;
use crate::tui::input::Input;
use crate::tui::msg::{Cmd, Outcome};
use crate::tui::ranking::{Ranked, Ranking};
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
    item_hits: Ranking,
    pub item_cursor: Cursor,
    /// The item checked against, once chosen.
    pub item: Option<ItemId>,
    pub users: Load<Vec<DirectoryUser>>,
    /// "name  id", safe, index for index with the users.
    user_texts: Vec<String>,
    pub user_query: Input,
    /// A large directory ranks off the UI thread (`Ranking`).
    user_hits: Ranking,
    pub user_cursor: Cursor,
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
            item_hits: Ranking::default(),
            item_cursor: Cursor::default(),
            item,
            users: Load::Loading,
            user_texts: Vec::new(),
            user_query: Input::default(),
            // An empty field is no one yet, rather than the first user.
            user_hits: Ranking::none_when_empty(),
            user_cursor: Cursor::default(),
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

    pub fn set_items(&mut self, items: &[ItemNode]) -> Option<Cmd> {
        let items: Vec<(ItemId, String)> = items
            .iter()
            .map(|i| (i.id.clone(), safe(&i.text()).into_owned()))
            .collect();
        let pass = self
            .item_hits
            .set_texts(items.iter().map(|(_, t)| t.as_str()));
        self.items = Some(items);
        self.item_cursor.clamp(self.item_hits.hits().len());
        pass
    }

    /// The directory arrived; a name typed meanwhile is ranked now.
    pub fn users_loaded(&mut self, result: Outcome<Vec<DirectoryUser>>) -> Vec<Cmd> {
        match result {
            Ok(users) => {
                self.user_texts = users
                    .iter()
                    .map(|u| safe(&format!("{}  {}", u.name, u.id)).into_owned())
                    .collect();
                self.users = Load::Ready(users);
                let pass = self
                    .user_hits
                    .set_texts(self.user_texts.iter().map(String::as_str));
                pass.into_iter().chain(self.users_ranked()).collect()
            }
            Err(e) => {
                self.users = Load::Failed(e.message);
                Vec::new()
            }
        }
    }

    /// Presets the user (from "who can see"): their name typed in the
    /// field, and that very user highlighted once the directory is in.
    pub fn preset_user(&mut self, name: &str, id: &str) -> Vec<Cmd> {
        self.field = Field::User;
        self.user_query.set(name);
        self.preset = Some(id.to_owned());
        self.rank_users()
    }

    fn rank_users(&mut self) -> Vec<Cmd> {
        let pass = self.user_hits.query(self.user_query.text());
        pass.into_iter().chain(self.users_ranked()).collect()
    }

    /// The users shown changed: the preset user highlighted if among them, and the
    /// highlighted one checked once the ranking is complete (the rows of a pass under
    /// way are an older query's, or only the best so far).
    fn users_ranked(&mut self) -> Option<Cmd> {
        self.user_cursor.clamp(self.user_hits().len());
        if let (Some(id), Some(users)) = (&self.preset, self.users.ready())
            && let Some(i) = self
                .user_hits()
                .iter()
                .position(|h| users[h.index()].id == *id)
        {
            self.user_cursor.selected = i;
        }
        if self.user_hits.pending() {
            return None;
        }
        self.want()
    }

    /// A ranking answered: the items' or the users' (with the check it leads to);
    /// handed back when it is neither.
    pub fn ranked(&mut self, ranked: Ranked) -> Result<Option<Cmd>, Ranked> {
        let ranked = match self.item_hits.answer(ranked) {
            Ok(_) => {
                self.item_cursor.clamp(self.item_hits().len());
                return Ok(None);
            }
            Err(ranked) => ranked,
        };
        self.user_hits.answer(ranked)?;
        Ok(self.users_ranked())
    }

    /// The items matching the item field, best first.
    pub fn item_hits(&self) -> &[Hit] {
        self.item_hits.hits()
    }

    /// The users matching the user field, best first.
    pub fn user_hits(&self) -> &[Hit] {
        self.user_hits.hits()
    }

    /// The user highlighted now.
    pub fn candidate(&self) -> Option<&DirectoryUser> {
        let hit = self.user_hits().get(self.user_cursor.selected)?;
        self.users.ready()?.get(hit.index())
    }

    /// A typed key for the field with the keyboard; a check when the user
    /// highlighted changed.
    pub fn edit(&mut self, key: KeyEvent) -> Vec<Cmd> {
        match self.field {
            Field::Item => {
                if !self.item_query.edit(key) {
                    return Vec::new();
                }
                self.item_cursor.top();
                let pass = self.item_hits.query(self.item_query.text());
                self.item_cursor.clamp(self.item_hits().len());
                pass.into_iter().collect()
            }
            Field::User => {
                if !self.user_query.edit(key) {
                    return Vec::new();
                }
                self.preset = None;
                self.user_cursor.top();
                self.rank_users()
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
                self.item_cursor.down(self.item_hits().len());
                None
            }
            Field::User => {
                self.user_cursor.down(self.user_hits().len());
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
                let hit = self.item_hits().get(self.item_cursor.selected)?;
                self.item = Some(self.items()?.get(hit.index())?.0.clone());
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

    fn typed(c: &mut Checker, text: &str) -> Vec<Cmd> {
        text.chars()
            .flat_map(|ch| c.edit(KeyEvent::new(KeyCode::Char(ch), KeyModifiers::NONE)))
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
        let mut c = Checker::new("kb".into(), None);
        let pass = c.set_items(&[item("kb1", "Payment gateway"), item("kb2", "Holiday plan")]);
        assert!(pass.is_none(), "a short list ranks at once");
        assert_eq!(c.field, Field::Item);
        // R-X5: a user without an item: the items they can see.
        c.users_loaded(Ok(users()));
        c.switch();
        let cmds = typed(&mut c, "bob");
        assert!(
            matches!(cmds.as_slice(), [Cmd::VisibleItems { user, .. }] if user == "id-bob"),
            "{cmds:?}"
        );
        c.user_query.set("");
        c.users = Load::Loading;
        c.switch();
        assert!(typed(&mut c, "holi").is_empty());
        assert_eq!(c.item_hits().len(), 1);
        assert!(c.submit().is_none(), "no user yet: nothing to check");
        assert_eq!(c.item.as_ref().map(ItemId::as_str), Some("kb2"));
        assert_eq!(c.field, Field::User);
        // Typed before the directory arrived: ranked and checked when it does.
        assert!(typed(&mut c, "ali").is_empty());
        let cmd = c.users_loaded(Ok(users()));
        assert!(
            matches!(cmd.as_slice(), [Cmd::CheckAccess { item, user, .. }] if item == "kb2" && user == "id-ali"),
            "{cmd:?}"
        );
        // Narrowing keeps alice highlighted: no second check.
        assert!(typed(&mut c, "ce").is_empty());
        // Wider again, another highlighted user is another check.
        for _ in 0.."ice".len() {
            c.edit(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE));
        }
        assert!(c.user_hits().len() >= 2, "al matches alice and alec");
        let before = c.candidate().map(|u| u.id.clone());
        let cmd = c.down();
        assert!(
            matches!(&cmd, Some(Cmd::CheckAccess { user, .. }) if Some(user) != before.as_ref()),
            "{cmd:?}"
        );
        // Emptying the field clears the answer and asks nothing.
        c.user_query.set("");
        assert!(
            c.edit(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE))
                .is_empty()
        );
        assert_eq!(c.answer, Load::Idle);
    }

    // R-X5: answers to earlier questions never replace the latest one.
    #[test]
    fn latest_answer_wins() {
        let mut c = Checker::new("kb".into(), Some(ItemId::parse("kb1").expect("id")));
        c.users_loaded(Ok(users()));
        let first = typed(&mut c, "bob");
        assert_eq!(first.len(), 1);
        let cmds = c.preset_user("al", "id-ale");
        assert!(
            matches!(cmds.as_slice(), [Cmd::CheckAccess { seq: 2, user, .. }] if user == "id-ale"),
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
