//! `c` in Connectors: connect an app (R-C1…R-C5). Pick from the catalog,
//! fill in the credentials (secrets masked), choose Microsoft 365
//! components with their prerequisites enforced, and connect; the service
//! checks the credentials before anything is saved.

use std::collections::BTreeMap;

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use crate::domain::{AppKind, Component, Secret, validate_components};
use crate::tui::app::App;
use crate::tui::input::Input;
use crate::tui::widgets::list::Cursor;
use crate::tui::widgets::{centered, input_line, pane_block};

/// What the wizard hands to the service.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectForm {
    pub app: AppKind,
    pub name: String,
    /// The non-secret credential fields, by the catalog's names.
    pub fields: BTreeMap<String, String>,
    pub endpoint: Option<String>,
    pub components: Vec<Component>,
    pub secret: Secret,
}

#[derive(Debug)]
pub struct Field {
    /// The catalog's key (`client-secret`), or `name` / `endpoint`.
    pub key: String,
    pub label: String,
    pub secret: bool,
    pub optional: bool,
    pub input: Input,
}

#[derive(Debug)]
pub struct Wizard {
    pub cursor: Cursor,
    /// Chosen app; until then the catalog is listed.
    pub app: Option<AppKind>,
    pub fields: Vec<Field>,
    pub components: Vec<(Component, bool)>,
    /// Which field or component row has the keyboard.
    pub focus: usize,
    pub error: Option<String>,
    pub busy: bool,
    /// Apps with an instance already, for R-C2.
    connected: Vec<AppKind>,
}

impl Wizard {
    pub fn new(connected: Vec<AppKind>) -> Wizard {
        Wizard {
            cursor: Cursor::default(),
            app: None,
            fields: Vec::new(),
            components: Vec::new(),
            focus: 0,
            error: None,
            busy: false,
            connected,
        }
    }

    fn rows(&self) -> usize {
        self.fields.len() + self.components.len()
    }

    pub fn up(&mut self) {
        match self.app {
            None => self.cursor.up(),
            Some(_) => self.focus = self.focus.saturating_sub(1),
        }
    }

    pub fn down(&mut self) {
        match self.app {
            None => self.cursor.down(AppKind::ALL.len()),
            Some(_) => self.focus = (self.focus + 1).min(self.rows().saturating_sub(1)),
        }
    }

    /// Esc: from the form back to the catalog; false when the wizard should close.
    pub fn back(&mut self) -> bool {
        if self.app.is_some() && !self.busy {
            self.app = None;
            self.fields.clear();
            self.components.clear();
            self.error = None;
            return true;
        }
        false
    }

    /// A typed key: text for a field, space toggles a component.
    pub fn edit(&mut self, key: KeyEvent) {
        if self.busy {
            return;
        }
        if let Some(field) = self.fields.get_mut(self.focus) {
            field.input.edit(key);
            self.error = None;
        } else if key.code == KeyCode::Char(' ')
            && let Some((_, on)) = self.components.get_mut(self.focus - self.fields.len())
        {
            *on = !*on;
            // R-C5: an impossible selection is shown at once, with the reason.
            self.error = validate_components(&self.selected_components(), false)
                .err()
                .map(|e| e.to_string());
        }
    }

    fn selected_components(&self) -> Vec<Component> {
        self.components
            .iter()
            .filter(|(_, on)| *on)
            .map(|(c, _)| *c)
            .collect()
    }

    fn value(&self, keys: &[&str]) -> String {
        self.fields
            .iter()
            .find(|f| keys.contains(&f.key.as_str()))
            .map(|f| f.input.text().trim().to_owned())
            .unwrap_or_default()
    }

    /// Enter: choose the app, or check the form and hand it over.
    pub fn submit(&mut self) -> Option<ConnectForm> {
        if self.busy {
            return None;
        }
        let Some(app) = self.app else {
            let kind = AppKind::ALL.get(self.cursor.selected).copied()?;
            self.choose(kind);
            return None;
        };
        if let Some(missing) = self
            .fields
            .iter()
            .find(|f| !f.optional && f.input.text().trim().is_empty())
        {
            self.error = Some(format!("{} is required", missing.label));
            return None;
        }
        let components = self.selected_components();
        if app == AppKind::Microsoft365
            && let Err(e) = validate_components(&components, false)
        {
            self.error = Some(e.to_string());
            return None;
        }
        let secret = self
            .fields
            .iter()
            .find(|f| f.secret)
            .map(|f| Secret::new(f.input.text()))
            .unwrap_or_else(|| Secret::new(""));
        let endpoint = Some(self.value(&["endpoint"])).filter(|e| !e.is_empty());
        self.busy = true;
        self.error = None;
        Some(ConnectForm {
            app,
            name: self.value(&["name"]),
            fields: self
                .fields
                .iter()
                .filter(|f| !f.secret && !matches!(f.key.as_str(), "name" | "endpoint"))
                .map(|f| (f.key.clone(), f.input.text().trim().to_owned()))
                .collect(),
            endpoint,
            components,
            secret,
        })
    }

    fn choose(&mut self, kind: AppKind) {
        let info = kind.info();
        if !info.connector {
            self.error = Some(format!(
                "casbah has no connector for {} yet; Microsoft 365 is available",
                info.name
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
        self.fields = vec![Field {
            key: "name".into(),
            label: "Instance name".into(),
            secret: false,
            optional: false,
            input: Input::default(),
        }];
        self.fields.extend(info.credentials().iter().map(|c| Field {
            key: c.name.clone(),
            label: c.label.clone(),
            secret: c.secret,
            optional: false,
            input: Input::default(),
        }));
        self.fields.push(Field {
            key: "endpoint".into(),
            label: "Endpoint (optional)".into(),
            secret: false,
            optional: true,
            input: Input::default(),
        });
        if kind == AppKind::Microsoft365 {
            let defaults = Component::default_set();
            self.components = Component::ALL
                .iter()
                .map(|c| (*c, defaults.contains(c)))
                .collect();
        }
    }

    /// The service's answer: an error keeps the form for another try.
    pub fn failed(&mut self, message: String) {
        self.busy = false;
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
    let [body, error, hints] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    if let Some(e) = &w.error {
        f.render_widget(
            Paragraph::new(Span::styled(format!("✗ {e}"), theme.error())),
            error,
        );
    } else if w.busy {
        f.render_widget(
            Paragraph::new(Span::styled("checking the credentials…", theme.dim())),
            error,
        );
    }
    if w.app.is_none() {
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
        f.render_widget(
            Paragraph::new(Span::styled("enter choose · esc close", theme.dim())),
            hints,
        );
        return;
    };
    let label_width = 24u16;
    let mut lines_area = body;
    for (i, field) in w.fields.iter().enumerate() {
        if lines_area.height == 0 {
            break;
        }
        let row = Rect {
            height: 1,
            ..lines_area
        };
        let [label, value] =
            Layout::horizontal([Constraint::Length(label_width), Constraint::Fill(1)]).areas(row);
        let style = if i == w.focus {
            theme.selected()
        } else {
            theme.header()
        };
        f.render_widget(
            Paragraph::new(Span::styled(field.label.clone(), style)),
            label,
        );
        let shown = if field.secret {
            Input::new(&"•".repeat(field.input.text().chars().count()))
        } else {
            field.input.clone()
        };
        let line = if i == w.focus {
            input_line("", &shown, value.width, theme).0
        } else {
            Line::from(shown.text().to_owned())
        };
        f.render_widget(Paragraph::new(line), value);
        lines_area.y += 1;
        lines_area.height -= 1;
    }
    if !w.components.is_empty() && lines_area.height > 0 {
        f.render_widget(
            Paragraph::new(Span::styled("Components (space toggles)", theme.header())),
            Rect {
                height: 1,
                ..lines_area
            },
        );
        lines_area.y += 1;
        lines_area.height -= 1;
        for (j, (c, on)) in w.components.iter().enumerate() {
            if lines_area.height == 0 {
                break;
            }
            let line = Line::from(format!("{} {}", if *on { "[x]" } else { "[ ]" }, c.label()));
            let line = if w.fields.len() + j == w.focus {
                line.style(theme.selected())
            } else {
                line
            };
            f.render_widget(
                Paragraph::new(line),
                Rect {
                    height: 1,
                    ..lines_area
                },
            );
            lines_area.y += 1;
            lines_area.height -= 1;
        }
    }
    f.render_widget(
        Paragraph::new(Span::styled(
            "tab/↑↓ move · enter connect · esc back",
            theme.dim(),
        )),
        hints,
    );
}
