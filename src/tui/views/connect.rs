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

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use crate::domain::catalog::{AuthMethod, CredentialField};
use crate::domain::{AppKind, Component, Micros, Secret, validate_components};
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::format::safe;
use crate::tui::input::{Input, one_line};
use crate::tui::keymap::Context;
use crate::tui::msg::{Cmd, Outcome};
use crate::tui::widgets::list::Cursor;
use crate::tui::widgets::{centered, input_line, pane_block};

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

/// What the dashboard does after the wizard took a key.
#[derive(Debug, PartialEq)]
pub enum Step {
    Stay,
    Close,
    Quit,
    Run(Cmd),
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

#[derive(Debug)]
pub struct Field {
    /// The catalog's key (`client-secret`), or `name` / `endpoint`.
    pub key: String,
    pub label: String,
    pub secret: bool,
    /// A key of several lines: the path to its file, or pasted whole.
    pub multiline: bool,
    pub optional: bool,
    pub input: Input,
    /// A key pasted into a multiline field, its newlines kept.
    pasted: Option<Secret>,
}

impl Field {
    fn new(key: &str, label: &str, optional: bool) -> Field {
        Field {
            key: key.into(),
            label: label.into(),
            secret: false,
            multiline: false,
            optional,
            input: Input::default(),
            pasted: None,
        }
    }

    fn of(c: &CredentialField) -> Field {
        Field {
            secret: c.secret,
            multiline: c.multiline,
            ..Field::new(&c.name, &c.label, false)
        }
    }

    fn filled(&self) -> bool {
        self.pasted.is_some() || !self.input.text().trim().is_empty()
    }

    fn edit(&mut self, key: KeyEvent) {
        if self.pasted.is_some() {
            // A pasted key is replaced whole, never edited in place.
            match key.code {
                KeyCode::Backspace | KeyCode::Delete => return self.pasted = None,
                KeyCode::Char(_) => self.pasted = None,
                _ => return,
            }
        }
        self.input.edit(key);
    }

    fn paste(&mut self, text: &str) {
        if self.multiline && looks_like_key(text) {
            // Terminals may send a pasted line break as CR; a PEM needs LF.
            let text = text.replace("\r\n", "\n").replace('\r', "\n");
            self.pasted = Some(Secret::new(text.trim()));
            self.input = Input::default();
        } else {
            self.pasted = None;
            self.input.insert(&one_line(text));
        }
    }

    fn source(&self) -> SecretSource {
        if let Some(key) = &self.pasted {
            return SecretSource::Given(key.clone());
        }
        let text = self.input.text().trim();
        if self.is_path(text) {
            SecretSource::File(PathBuf::from(text))
        } else {
            SecretSource::Given(Secret::new(text))
        }
    }

    /// What was typed into a key field names the key's file.
    fn is_path(&self, text: &str) -> bool {
        self.multiline && !looks_like_key(text)
    }

    /// The value as drawn: secrets masked, a pasted key only as its size.
    fn shown(&self) -> (Input, Option<String>) {
        if let Some(key) = &self.pasted {
            let lines = key.expose().lines().count();
            return (
                Input::new("••••••••"),
                Some(format!(" pasted, {lines} lines")),
            );
        }
        let text = self.input.text();
        if self.multiline && text.is_empty() {
            let hint = " the path to the key file, or paste the key";
            return (Input::default(), Some(hint.into()));
        }
        // A path to a key file is no secret, and the person needs to see it.
        if self.secret && !self.is_path(text) {
            return (Input::new(&"•".repeat(text.chars().count())), None);
        }
        (self.input.clone(), None)
    }
}

/// A key's content rather than the path to its file: several lines, a JSON
/// object (Google's key file, a JWK) or a PEM block.
fn looks_like_key(text: &str) -> bool {
    // Trimmed first: a path copied from a terminal often ends in a line break.
    let text = text.trim();
    text.contains(['\n', '\r']) || text.starts_with('{') || text.starts_with("-----BEGIN")
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

    /// A key, as the keymap names it (`action`) or as typed. While a
    /// sign-in or a check runs, only Esc and quit do anything.
    pub fn key(&mut self, action: Option<Action>, key: KeyEvent) -> Step {
        match action {
            Some(Action::Quit) => return Step::Quit,
            Some(Action::Back) => return self.back(),
            _ if self.stage != Stage::Editing => {}
            Some(Action::Submit) => return self.submit().map_or(Step::Stay, Step::Run),
            Some(Action::Up) => self.up(),
            Some(Action::Down) => self.down(),
            Some(_) => {}
            None => self.edit(key),
        }
        Step::Stay
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
    fn back(&mut self) -> Step {
        match self.stage {
            Stage::Asking | Stage::Waiting { .. } => {
                self.stage = Stage::Editing;
                Step::Run(Cmd::CancelSignIn)
            }
            // The check goes on; its outcome arrives as a notice.
            Stage::Checking => Step::Close,
            Stage::Editing if self.app.is_some() => {
                self.app = None;
                self.fields.clear();
                self.components.clear();
                self.error = None;
                Step::Stay
            }
            Stage::Editing => Step::Close,
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
            let kind = AppKind::ALL.get(self.cursor.selected).copied()?;
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
            let ready: Vec<&str> = AppKind::ALL
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
    pub fn code_arrived(&mut self, seq: u64, result: Outcome<SignInCode>, now: Micros) {
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
    pub fn signed_in(&mut self, seq: u64, result: Outcome<Secret>) -> Option<Cmd> {
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
    pub fn failed(&mut self, message: String) {
        self.stage = Stage::Editing;
        self.error = Some(message);
    }
}

pub fn draw(f: &mut Frame, area: Rect, app: &App, w: &Wizard) {
    let theme = &app.theme;
    let area = centered(
        area,
        area.width.saturating_sub(4).max(60),
        area.height.saturating_sub(2).max(14),
    );
    f.render_widget(Clear, area);
    let title = match w.app {
        Some(kind) => format!("Connect {}", kind.display_name()),
        None => "Connect an app: choose from the catalog".to_owned(),
    };
    let block = pane_block(&title, true, theme);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let vendor = w.app.map_or("the app", AppKind::display_name);
    let line = match (&w.error, &w.stage) {
        (Some(e), _) => Some(Span::styled(format!("✗ {e}"), theme.error())),
        (None, Stage::Asking) => Some(Span::styled(
            format!("asking {vendor} for a sign-in code…"),
            theme.dim(),
        )),
        (None, Stage::Checking) => Some(Span::styled("checking the credentials…", theme.dim())),
        _ => None,
    };
    // One line of text; a long one (a path, an OS error) may wrap once.
    let long = line
        .as_ref()
        .is_some_and(|l| l.width() > usize::from(inner.width));
    let [body, status, hints] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(if long { 2 } else { 1 }),
        Constraint::Length(1),
    ])
    .areas(inner);
    if let Some(line) = line {
        f.render_widget(Paragraph::new(line).wrap(Wrap { trim: true }), status);
    }
    f.render_widget(Paragraph::new(hint_line(app, w)), hints);
    match (&w.stage, w.app) {
        (_, None) => draw_catalog(f, body, app, w),
        (Stage::Waiting { code, until }, Some(_)) => {
            draw_sign_in(f, body, app, code, *until, vendor)
        }
        _ => draw_form(f, body, app, w),
    }
}

/// The dialog's keys, named as the keymap binds them.
fn hint_line(app: &App, w: &Wizard) -> Line<'static> {
    let key = |action| {
        app.keymap
            .key_for(&[Context::Wizard], action)
            .map_or_else(String::new, |k| k.to_string())
    };
    let mut hints: Vec<(String, &str)> = Vec::new();
    match (&w.stage, w.app) {
        (Stage::Editing, None) => {
            hints.push((key(Action::Submit), "choose"));
            hints.push((key(Action::Back), "close"));
        }
        (Stage::Editing, Some(_)) => {
            if w.row(w.focus) == Some(Row::Method) {
                hints.push(("←→".into(), "sign-in method"));
            }
            hints.push((key(Action::Up) + &key(Action::Down), "move"));
            let submit = if w.chosen().is_some_and(|m| m.interactive) {
                "sign in"
            } else {
                "connect"
            };
            hints.push((key(Action::Submit), submit));
            hints.push((key(Action::Back), "back"));
        }
        (Stage::Asking | Stage::Waiting { .. }, _) => hints.push((key(Action::Back), "cancel")),
        (Stage::Checking, _) => hints.push((key(Action::Back), "close")),
    }
    let text: Vec<String> = hints.iter().map(|(k, d)| format!("{k} {d}")).collect();
    Line::from(Span::styled(text.join(" · "), app.theme.dim()))
}

fn draw_catalog(f: &mut Frame, body: Rect, app: &App, w: &Wizard) {
    let theme = &app.theme;
    let range = w.cursor.window(AppKind::ALL.len(), body.height as usize);
    let lines: Vec<Line> = AppKind::ALL[range.clone()]
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            let info = kind.info();
            let note = if info.connector {
                ""
            } else {
                "  (no connector yet)"
            };
            let line = Line::from(vec![
                Span::raw(format!("{:<26}", info.name)),
                Span::styled(note, theme.dim()),
            ]);
            if range.start + i == w.cursor.selected {
                line.style(theme.selected())
            } else {
                line
            }
        })
        .collect();
    f.render_widget(Paragraph::new(lines), body);
}

fn draw_form(f: &mut Frame, body: Rect, app: &App, w: &Wizard) {
    let theme = &app.theme;
    let label_style = |row: usize| {
        if row == w.focus {
            theme.selected()
        } else {
            theme.header()
        }
    };
    let mut lines: Vec<Line> = Vec::new();
    if w.method_row() == 1 {
        const LABEL: &str = "Sign in with";
        let mut spans = vec![Span::styled(LABEL, label_style(0))];
        for (i, m) in w.methods().iter().enumerate() {
            let name = short_label(&m.label);
            spans.push(Span::raw("  "));
            spans.push(if i == w.method {
                let style = if w.focus == 0 {
                    theme.selected()
                } else {
                    theme.header()
                };
                Span::styled(format!("‹ {name} ›"), style)
            } else {
                Span::styled(name, theme.dim())
            });
        }
        lines.push(Line::from(spans));
        // The short name on the row, the whole label of the chosen one under it.
        if let Some(m) = w.chosen().filter(|m| short_label(&m.label) != m.label) {
            let indent = " ".repeat(LABEL.len() + 2);
            lines.push(Line::from(Span::styled(
                format!("{indent}{}", m.label),
                theme.dim(),
            )));
        }
    }
    let widest = w.fields.iter().map(|f| f.label.chars().count()).max();
    let label_width = (widest.unwrap_or(0) + 1).min(usize::from(body.width) * 3 / 5);
    let value_width = body.width.saturating_sub(label_width as u16);
    for (i, field) in w.fields.iter().enumerate() {
        let row = w.method_row() + i;
        let label = Span::styled(
            format!("{:<label_width$.label_width$}", field.label),
            label_style(row),
        );
        let (shown, note) = field.shown();
        let mut line = if row == w.focus && w.stage == Stage::Editing {
            input_line("", &shown, value_width, theme).0
        } else {
            Line::from(safe(shown.text()).into_owned())
        };
        line.spans.insert(0, label);
        if let Some(note) = note {
            line.spans.push(Span::styled(note, theme.dim()));
        }
        lines.push(line);
    }
    if !w.components.is_empty() {
        lines.push(Line::from(Span::styled(
            "Components (space toggles)",
            theme.header(),
        )));
        for (j, (c, on)) in w.components.iter().enumerate() {
            let line = Line::from(format!("{} {}", if *on { "[x]" } else { "[ ]" }, c.label()));
            lines.push(if w.method_row() + w.fields.len() + j == w.focus {
                line.style(theme.selected())
            } else {
                line
            });
        }
    }
    f.render_widget(Paragraph::new(lines), body);
}

/// The device flow's waiting screen: where to go and what to type, plainly,
/// so both can be read off or copied; the time left; a sign of life.
fn draw_sign_in(
    f: &mut Frame,
    body: Rect,
    app: &App,
    code: &SignInCode,
    until: Micros,
    vendor: &str,
) {
    let theme = &app.theme;
    const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
    // The once-a-second tick redraws; the clock picks the frame.
    let frame = SPINNER[(app.now / 1_000_000).rem_euclid(SPINNER.len() as i64) as usize];
    let left = (until - app.now).max(0) / 1_000_000;
    let lines = vec![
        Line::from(format!("Sign in to {vendor} to let casbah read it:")),
        Line::default(),
        Line::from(vec![
            Span::raw("Open "),
            Span::styled(safe(&code.verification_uri).into_owned(), theme.key()),
            Span::raw(" and enter "),
            Span::styled(safe(&code.user_code).into_owned(), theme.key()),
        ]),
        Line::default(),
        Line::from(format!("{frame} waiting for {vendor}…")),
        Line::from(Span::styled(
            format!("the code is good for {}:{:02} more", left / 60, left % 60),
            theme.dim(),
        )),
    ];
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
}
