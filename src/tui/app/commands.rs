//! What the App does itself with an action no pane or dialog took, from a key or a
//! `:` command: switching panes, opening dialogs, and commands that name a group.

use super::{App, Exit, Overlay};
use crate::service::Level;
use crate::tui::action::Action;
use crate::tui::input::Input;
use crate::tui::msg::Cmd;
use crate::tui::pane::{Out, PaneId, Target};
use crate::tui::views::act::{ActDialog, ActTargets};
use crate::tui::views::connect::Wizard;
use crate::tui::views::picker::Picker;

impl App {
    /// Carries out an action no pane took, from a key or a `:` command
    /// (with its argument).
    pub fn perform(&mut self, action: Action, arg: Option<String>) {
        let mut out = Out::default();
        match action {
            Action::Quit => self.exit = Some(Exit::Quit),
            Action::Help => self.help(arg.as_deref()),
            Action::Redraw => self.clear = true,
            Action::Log => self.cmds.push(Cmd::LoadLog),
            Action::Audit => self.focus = PaneId::Audit,
            Action::Apps => self.focus = PaneId::Apps,
            Action::Alerts => self.focus = PaneId::Alerts,
            Action::Policies => {
                self.focus = PaneId::Alerts;
                self.panes.alerts.show_policies(&mut out);
            }
            Action::Zoom => self.zoomed = !self.zoomed,
            Action::CommandLine => {
                self.overlay = Overlay::Command {
                    input: Input::default(),
                    completions: Vec::new(),
                    chosen: None,
                }
            }
            Action::NextPane => self.focus = self.focus.next(1),
            Action::PrevPane => self.focus = self.focus.next(-1),
            Action::Connectors => self.focus = PaneId::Connectors,
            Action::Groups => {
                self.focus = PaneId::Groups;
                if let Some(text) = arg {
                    self.panes.groups.set_filter(&text, &self.env);
                }
            }
            Action::Members => match arg {
                Some(name) => self.open_group_named(&name),
                None => self.focus = PaneId::Members,
            },
            Action::History => {
                self.focus = PaneId::Groups;
                match arg {
                    Some(name) => match self.group_named(&name).cloned() {
                        Some(g) => self.panes.groups.open_history(&g, &mut out),
                        None => self.no_group(&name),
                    },
                    None => self.forward(PaneId::Groups, action),
                }
            }
            Action::Activities => {
                self.focus = PaneId::Activities;
                if let Some(text) = arg {
                    self.panes.activities.command_filter(text, &mut out);
                }
            }
            Action::External => {
                self.focus = PaneId::External;
                if let Some(name) = arg {
                    self.panes.external.show_named(&name, &mut out);
                }
            }
            Action::Import => self.open_picker(),
            Action::Sync => {
                let selected = self.panes.connectors.selected(&self.env);
                let name = arg.or_else(|| selected.map(|s| s.instance.reference()));
                self.cmds.push(Cmd::Sync(name));
            }
            Action::Connect => {
                let connected = self.env.instances.iter().map(|s| s.instance.app).collect();
                self.focus = PaneId::Connectors;
                self.wizard = Some(Wizard::new(connected));
            }
            Action::ExportCsv | Action::ExportJson => self.forward(PaneId::Activities, action),
            Action::Queries => {
                self.focus = PaneId::Activities;
                self.forward(PaneId::Activities, action);
            }
            Action::SaveQuery => {
                if self.panes.activities.filter().trim().is_empty() {
                    self.toast(
                        Level::Warning,
                        "the filter is empty: press / to write one first",
                    );
                } else {
                    self.overlay = Overlay::SaveQuery {
                        input: Input::default(),
                    };
                }
            }
            Action::AccessCheck => {
                self.focus = PaneId::External;
                self.forward(PaneId::External, action);
            }
            Action::Back => self.back(),
            // A pane's own, where the pane in view has no use for it.
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom
            | Action::Open
            | Action::Filter
            | Action::ToggleNotify
            | Action::Mark
            | Action::Rename
            | Action::Delete
            | Action::Submit
            | Action::Complete
            | Action::Expand
            | Action::Collapse
            | Action::WhoCanSee
            | Action::Refresh
            | Action::Person
            | Action::MoreLike
            | Action::OnlyLike
            | Action::ActivitiesOf
            | Action::SpanIn
            | Action::SpanOut
            | Action::Earlier
            | Action::Later
            | Action::CopyValue
            | Action::CopyRow
            | Action::Sort
            | Action::SortReverse
            | Action::Cancel
            | Action::Act
            | Action::Acknowledge
            | Action::Resolve
            | Action::Dismiss
            | Action::Toggle
            | Action::NewPolicy
            | Action::TestPolicy => {}
            Action::Goto => {
                self.focus = PaneId::Activities;
                self.panes
                    .activities
                    .goto(arg.as_deref(), &self.env, &mut out);
            }
        }
        self.apply(out);
    }

    /// A `:` command that belongs to a pane, wherever the user is.
    fn forward(&mut self, pane: PaneId, action: Action) {
        let mut out = Out::default();
        self.panes
            .get_mut(pane)
            .on_action(action, &self.env, &mut out);
        self.apply(out);
    }

    fn group_named(&self, name: &str) -> Option<&crate::domain::Group> {
        self.env
            .groups
            .iter()
            .find(|g| g.name.eq_ignore_ascii_case(name.trim()))
    }

    fn no_group(&mut self, name: &str) {
        self.toast(
            Level::Error,
            format!("no group named {:?}; see :groups", name.trim()),
        );
    }

    fn open_group_named(&mut self, name: &str) {
        let found = self.group_named(name).map(|g| Target::Members {
            group: g.id,
            name: g.name.clone(),
        });
        match found {
            Some(target) => self.show(target),
            None => self.no_group(name),
        }
    }

    /// Issue 11: the act dialog, unless actions are off or nothing can be done.
    pub(super) fn open_act(&mut self, targets: ActTargets) {
        if self.env.read_only {
            return self.toast(Level::Warning, "read-only mode: account actions are off");
        }
        match ActDialog::new(targets, &self.env) {
            Ok(dialog) => self.act = Some(dialog),
            Err(why) => self.toast(Level::Warning, why),
        }
    }

    fn open_picker(&mut self) {
        match Picker::for_env(&self.env) {
            Some((picker, cmd)) => {
                self.cmds.extend(cmd);
                self.picker = Some(picker);
            }
            None => {
                if self.panes.connectors.loaded {
                    self.focus = PaneId::Connectors;
                }
                let hint = crate::tui::views::connectors::connect_hint(&self.env);
                self.toast(Level::Warning, format!("{hint} first"));
            }
        }
    }
}
