//! `c` in Connectors: connect an app (R-C1…R-C5). Pick from the catalog,
//! choose how to sign in when the app offers several ways, fill in the
//! credentials, choose Microsoft 365 components with their prerequisites
//! enforced, and connect; the service checks the credentials before
//! anything is saved.
//!
//! Secrets are masked. A key of several lines (a Google service account's
//! JSON, an Okta PEM or JWK) cannot be typed: its field takes the path to
//! the key file, which the runtime reads, or the key pasted whole. An
//! interactive method (GitHub's device flow) shows the code to enter at the
//! vendor, waits for the person to sign in, and connects with the token.

mod draw;
mod field;

pub use field::Field;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;

use crate::domain::catalog::AuthMethod;
use crate::domain::{AppKind, Component, Micros, Secret, validate_components};
use crate::tui::action::Action;
use crate::tui::keymap::Context;
use crate::tui::msg::{Cmd, Done, Outcome};
use crate::tui::pane::{self, Effect, Env, Handled, Out};
use crate::tui::widgets::list::Cursor;

/// The instance the wizard asks the service to create.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectForm {
    pub app: AppKind,
    pub name: String,
    /// The chosen method's non-secret fields, by the catalog's names.
    pub fields: BTreeMap<String, String>,
    pub endpoint: Option<String>,
    pub components: Vec<Component>,
}

/// Where the secret to connect with comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum SecretSource {
    /// Typed, pasted, or the token of a sign-in.
    Given(Secret),
    /// A key file, read by the runtime: the view never touches the disk.
    File(PathBuf),
}

/// What the person needs to sign in at the vendor. The device code that
/// goes with it stays in the runtime.
#[derive(Debug, Clone, PartialEq)]
pub struct SignInCode {
    pub verification_uri: String,
    pub user_code: String,
    pub expires_in: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    /// The form has the keyboard.
    Editing,
    /// Asking the vendor for a sign-in code.
    Asking,
    /// The person signs in at the vendor; the code is good until `until`.
    Waiting { code: SignInCode, until: Micros },
    /// The service checks the credentials.
    Checking,
}

/// A method's name short enough for the method row: the catalog label up to
/// its first aside ("API service app (OAuth 2.0, …)" → "API service app").
fn short_label(label: &str) -> &str {
    [" (", ", ", " or "]
        .iter()
        .filter_map(|sep| label.find(sep))
        .min()
        .map_or(label, |end| &label[..end])
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Row {
    Method,
    Field(usize),
    Component(usize),
}

#[derive(Debug)]
pub struct Wizard {
    pub cursor: Cursor,
    /// Chosen app; until then the catalog is listed.
    pub app: Option<AppKind>,
    /// The chosen way to sign in: an index into the app's `auth`.
    pub method: usize,
    pub fields: Vec<Field>,
    pub components: Vec<(Component, bool)>,
    /// Which row (method, field, component) has the keyboard.
    pub focus: usize,
    pub error: Option<String>,
    pub stage: Stage,
    /// Numbers each sign-in, so that a cancelled one's late answers are ignored.
    sign_in: u64,
    /// Apps with an instance already, for R-C2.
    connected: Vec<AppKind>,
}

impl Wizard {
    pub fn new(connected: Vec<AppKind>) -> Wizard {
        Wizard {
            cursor: Cursor::default(),
            app: None,
            method: 0,
            fields: Vec::new(),
            components: Vec::new(),
            focus: 0,
            error: None,
            stage: Stage::Editing,
            sign_in: 0,
            connected,
        }
    }

    fn methods(&self) -> &'static [AuthMethod] {
        self.app.map_or(&[], |a| &a.info().auth)
    }

    fn chosen(&self) -> Option<&'static AuthMethod> {
        self.methods().get(self.method)
    }

    /// The method row shows only when there is a choice.
    fn method_row(&self) -> usize {
        usize::from(self.methods().len() > 1)
    }

    fn rows(&self) -> usize {
        self.method_row() + self.fields.len() + self.components.len()
    }

    fn row(&self, i: usize) -> Option<Row> {
        let i = match i.checked_sub(self.method_row()) {
            None => return Some(Row::Method),
            Some(i) => i,
        };
        if i < self.fields.len() {
            return Some(Row::Field(i));
        }
        let j = i - self.fields.len();
        (j < self.components.len()).then_some(Row::Component(j))
    }

    /// The field with the keyboard, if a field has it.
    pub fn focused_field(&self) -> Option<&Field> {
        match self.row(self.focus) {
            Some(Row::Field(i)) => self.fields.get(i),
            _ => None,
        }
    }

    fn up(&mut self) {
        match self.app {
            None => self.cursor.up(),
            Some(_) => self.focus = self.focus.saturating_sub(1),
        }
    }

    fn down(&mut self) {
        match self.app {
            None => self.cursor.down(AppKind::ALL.len()),
            Some(_) => self.focus = (self.focus + 1).min(self.rows().saturating_sub(1)),
        }
    }

    /// Esc: cancels a sign-in, or goes from the form back to the catalog.
    fn back(&mut self, out: &mut Out) {
        match self.stage {
            Stage::Asking | Stage::Waiting { .. } => {
                self.stage = Stage::Editing;
                out.run(Cmd::CancelSignIn);
            }
            // The check goes on; its outcome arrives as a notice.
            Stage::Checking => out.push(Effect::Close),
            Stage::Editing if self.app.is_some() => {
                self.app = None;
                self.fields.clear();
                self.components.clear();
                self.error = None;
            }
            Stage::Editing => out.push(Effect::Close),
        }
    }

    /// A typed key: text for a field, ←/→/space choose the method, space
    /// toggles a component.
    fn edit(&mut self, key: KeyEvent) {
        match self.row(self.focus) {
            Some(Row::Method) => {
                let n = self.methods().len();
                match key.code {
                    KeyCode::Left => self.set_method((self.method + n - 1) % n),
                    KeyCode::Right | KeyCode::Char(' ') => self.set_method((self.method + 1) % n),
                    _ => {}
                }
            }
            Some(Row::Field(i)) => {
                self.fields[i].edit(key);
                self.error = None;
            }
            Some(Row::Component(j)) if key.code == KeyCode::Char(' ') => {
                self.components[j].1 = !self.components[j].1;
                // R-C5: an impossible selection is shown at once, with the reason.
                self.error = validate_components(&self.selected_components(), false)
                    .err()
                    .map(|e| e.to_string());
            }
            _ => {}
        }
    }

    /// Pasted text goes to the field with the keyboard: whole into a key
    /// field, on one line anywhere else.
    pub fn paste(&mut self, text: &str) {
        if self.stage != Stage::Editing {
            return;
        }
        if let Some(Row::Field(i)) = self.row(self.focus) {
            self.fields[i].paste(text);
            self.error = None;
        }
    }

    fn selected_components(&self) -> Vec<Component> {
        self.components
            .iter()
            .filter(|(_, on)| *on)
            .map(|(c, _)| *c)
            .collect()
    }

    fn value(&self, key: &str) -> String {
        self.fields
            .iter()
            .find(|f| f.key == key)
            .map(|f| f.input.text().trim().to_owned())
            .unwrap_or_default()
    }

    fn form(&self, app: AppKind) -> ConnectForm {
        ConnectForm {
            app,
            name: self.value("name"),
            fields: self
                .fields
                .iter()
                .filter(|f| !f.secret && !matches!(f.key.as_str(), "name" | "endpoint"))
                .map(|f| (f.key.clone(), f.input.text().trim().to_owned()))
                .collect(),
            endpoint: Some(self.value("endpoint")).filter(|e| !e.is_empty()),
            components: self.selected_components(),
        }
    }

    /// Enter: choose the app, or check the form and hand it over.
    fn submit(&mut self) -> Option<Cmd> {
        let Some(app) = self.app else {
            let kind = AppKind::by_display_name()
                .get(self.cursor.selected)
                .copied()?;
            self.choose(kind);
            return None;
        };
        if let Some(missing) = self.fields.iter().find(|f| !f.optional && !f.filled()) {
            self.error = Some(format!("{} is required", missing.label));
            return None;
        }
        if app == AppKind::Microsoft365
            && let Err(e) = validate_components(&self.selected_components(), false)
        {
            self.error = Some(e.to_string());
            return None;
        }
        self.error = None;
        let form = Box::new(self.form(app));
        if self.chosen().is_some_and(|m| m.interactive) {
            self.sign_in += 1;
            self.stage = Stage::Asking;
            return Some(Cmd::SignIn {
                form,
                seq: self.sign_in,
            });
        }
        let secret = self
            .fields
            .iter()
            .find(|f| f.secret)
            .map_or_else(|| SecretSource::Given(Secret::new("")), Field::source);
        self.stage = Stage::Checking;
        Some(Cmd::Connect { form, secret })
    }

    fn choose(&mut self, kind: AppKind) {
        let info = kind.info();
        if !info.connector {
            let ready: Vec<&str> = AppKind::by_display_name()
                .iter()
                .filter(|a| a.info().connector)
                .map(|a| a.display_name())
                .collect();
            self.error = Some(format!(
                "casbah has no connector for {} yet; these have one: {}",
                info.name,
                ready.join(", ")
            ));
            return;
        }
        if !info.multi_instance && self.connected.contains(&kind) {
            self.error = Some(format!(
                "{} allows one instance only, and it is connected already",
                info.name
            ));
            return;
        }
        self.app = Some(kind);
        self.error = None;
        self.focus = 0;
        self.fields.clear();
        self.set_method(0);
        self.components = if kind == AppKind::Microsoft365 {
            let defaults = Component::default_set();
            Component::ALL
                .iter()
                .map(|c| (*c, defaults.contains(c)))
                .collect()
        } else {
            Vec::new()
        };
    }

    /// The fields follow the method: the instance name, the method's fields
    /// in catalog order, the endpoint. What was typed into a field the
    /// methods share (Okta's domain) stays.
    fn set_method(&mut self, method: usize) {
        let Some(chosen) = self.methods().get(method) else {
            return;
        };
        self.method = method;
        let mut old = std::mem::take(&mut self.fields);
        let mut kept = |fresh: Field| match old.iter().position(|f| f.key == fresh.key) {
            Some(i) => old.swap_remove(i),
            None => fresh,
        };
        self.fields
            .push(kept(Field::new("name", "Instance name", false)));
        for c in &chosen.fields {
            self.fields.push(kept(Field::of(c)));
        }
        self.fields
            .push(kept(Field::new("endpoint", "Endpoint (optional)", true)));
        self.error = None;
    }

    /// The vendor's code for the sign-in numbered `seq`.
    fn code_arrived(&mut self, seq: u64, result: Outcome<SignInCode>, now: Micros) {
        if seq != self.sign_in || self.stage != Stage::Asking {
            return;
        }
        match result {
            Ok(code) => {
                let left = i64::try_from(code.expires_in.as_micros()).unwrap_or(i64::MAX);
                self.stage = Stage::Waiting {
                    until: now.saturating_add(left),
                    code,
                };
            }
            Err(e) => self.failed(e.message),
        }
    }

    /// The sign-in is over: with a token, the credentials are checked next.
    fn signed_in(&mut self, seq: u64, result: Outcome<Secret>) -> Option<Cmd> {
        let signing_in = matches!(self.stage, Stage::Asking | Stage::Waiting { .. });
        if seq != self.sign_in || !signing_in {
            return None;
        }
        match result {
            Ok(token) => {
                let form = Box::new(self.form(self.app?));
                self.stage = Stage::Checking;
                Some(Cmd::Connect {
                    form,
                    secret: SecretSource::Given(token),
                })
            }
            Err(e) => {
                self.failed(e.message);
                None
            }
        }
    }

    /// Once a second: a code past its time is given up here too, in case
    /// the vendor never says so.
    pub fn tick(&mut self, now: Micros) -> Option<Cmd> {
        match self.stage {
            Stage::Waiting { until, .. } if now >= until => {
                self.failed("the sign-in code expired; press enter for a new one".into());
                Some(Cmd::CancelSignIn)
            }
            _ => None,
        }
    }

    /// The service's answer: an error keeps the form for another try.
    fn failed(&mut self, message: String) {
        self.stage = Stage::Editing;
        self.error = Some(message);
    }
}

/// While a sign-in or a check runs, only Esc and quit do anything.
impl pane::Component for Wizard {
    fn contexts(&self) -> Vec<Context> {
        vec![Context::Wizard]
    }

    fn on_action(&mut self, action: Action, _env: &Env, out: &mut Out) -> Handled {
        match action {
            Action::Quit => return Handled::NotConsumed,
            Action::Back => self.back(out),
            _ if self.stage != Stage::Editing => {}
            Action::Submit => out.run_all(self.submit()),
            Action::Up => self.up(),
            Action::Down => self.down(),
            _ => {}
        }
        Handled::Consumed
    }

    fn on_key(&mut self, key: KeyEvent, _env: &Env, _out: &mut Out) -> Handled {
        if self.stage == Stage::Editing {
            self.edit(key);
        }
        Handled::Consumed
    }

    fn typing(&self) -> bool {
        true
    }

    fn done(&mut self, done: Done, env: &Env, out: &mut Out) -> Option<Done> {
        match done {
            Done::Connected(Err(e)) => self.failed(e.message),
            Done::SignInCode { seq, result } => self.code_arrived(seq, result, env.now),
            Done::SignedIn { seq, result } => out.run_all(self.signed_in(seq, result)),
            other => return Some(other),
        }
        None
    }

    fn draw(&self, f: &mut Frame, area: Rect, _focused: bool, env: &Env) {
        draw::draw(self, f, area, env)
    }
}
