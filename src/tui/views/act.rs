//! The act dialog (issue 11): `!` on a person or on marked members. It asks which
//! action in which app, shows the plan the service made (every account, every
//! warning), asks why, and sends only after `y` on a last question that names the
//! action and the count. The report names each account that failed, with the app's
//! reason. Nothing is sent before that `y`.

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph, Wrap};

use crate::domain::InstanceId;
use crate::domain::governance::{AccountAction, offered};
use crate::service::{ActionPlan, ActionReport};
use crate::tui::action::Action;
use crate::tui::format::{instance_label, safe};
use crate::tui::govern::{GovernCmd, GovernDone};
use crate::tui::input::Input;
use crate::tui::keymap::Context;
use crate::tui::msg::{Cmd, Done};
use crate::tui::pane::{Component, Effect, Env, Handled, Out};
use crate::tui::widgets::{centered, input_line, pane_block};

/// Whom `!` acts on: per instance, the accounts there (by key or the app's id),
/// and how the dialog names them all.
#[derive(Debug, Clone, PartialEq)]
pub struct ActTargets {
    pub per_instance: Vec<(InstanceId, Vec<String>)>,
    pub label: String,
    /// The targets are app grants, by id: the one action is revoking them.
    pub grants: bool,
}

/// One line of the first menu: an action in one instance.
#[derive(Debug, Clone, PartialEq)]
struct Choice {
    instance: String,
    label: String,
    action: AccountAction,
    users: Vec<String>,
}

#[derive(Debug)]
enum Step {
    Choose(usize),
    Planning,
    Reason {
        plan: ActionPlan,
        reason: Input,
        missing: bool,
    },
    Confirm {
        plan: ActionPlan,
        reason: String,
    },
    Acting,
    Reported(ActionReport),
    /// Why it stopped, and whether anything may have been sent before it did.
    Failed {
        error: String,
        sent: bool,
    },
}

#[derive(Debug)]
pub struct ActDialog {
    label: String,
    choices: Vec<Choice>,
    chosen: usize,
    step: Step,
}

impl ActDialog {
    /// The dialog for `targets`, or why there is nothing to offer them.
    pub fn new(targets: ActTargets, env: &Env) -> Result<ActDialog, String> {
        let mut choices = Vec::new();
        let mut without = Vec::new();
        for (id, users) in targets.per_instance {
            let Some(instance) = env.instance(id) else {
                continue;
            };
            let actions = if targets.grants {
                vec![AccountAction::RevokeGrant]
            } else {
                offered(instance.app)
            };
            if actions.is_empty() {
                without.push(instance.app.display_name());
            }
            let label = instance_label(instance.app, &instance.name);
            choices.extend(actions.into_iter().map(|action| Choice {
                instance: instance.reference(),
                label: label.clone(),
                action,
                users: users.clone(),
            }));
        }
        if choices.is_empty() {
            return Err(match without.as_slice() {
                [] => "no connected instance holds these accounts".to_owned(),
                apps => format!(
                    "{}: the API offers no account action (see the catalog)",
                    apps.join(", ")
                ),
            });
        }
        Ok(ActDialog {
            label: targets.label,
            choices,
            chosen: 0,
            step: Step::Choose(0),
        })
    }

    fn choice(&self) -> &Choice {
        &self.choices[self.chosen]
    }

    fn lines(&self, env: &Env, room: usize) -> Vec<Line<'static>> {
        let theme = &env.theme;
        match &self.step {
            Step::Choose(at) => self
                .choices
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let text = format!(
                        "{:<24} {}  — {}",
                        c.action.name(),
                        c.label,
                        c.action.effect()
                    );
                    if i == *at {
                        Line::styled(text, theme.selected())
                    } else {
                        Line::from(text)
                    }
                })
                .collect(),
            Step::Planning => vec![Line::styled("reading the accounts…", theme.dim())],
            Step::Acting => vec![Line::styled("sending…", theme.dim())],
            Step::Failed { error, sent } => vec![
                Line::styled(error.clone(), theme.error()),
                Line::styled(
                    if *sent {
                        "What was sent is in the audit trail (:audit). Esc closes."
                    } else {
                        "Nothing was sent. Esc closes."
                    },
                    theme.dim(),
                ),
            ],
            Step::Reported(r) => report_lines(r, env),
            Step::Reason {
                plan,
                reason,
                missing,
            } => {
                let mut lines = plan_lines(plan, env, room.saturating_sub(3));
                let (field, _) = input_line("Reason: ", reason, 200, theme);
                lines.push(field);
                lines.push(if *missing {
                    Line::styled("Type why: the audit trail records it.", theme.error())
                } else {
                    Line::styled("enter: go on   esc: back", theme.dim())
                });
                lines
            }
            Step::Confirm { plan, reason } => {
                let mut lines = plan_lines(plan, env, room.saturating_sub(3));
                lines.push(Line::from(format!("Reason: {}", safe(reason))));
                lines.push(Line::styled(
                    format!(
                        "Press y to {} {} in {} now; any other key goes back.",
                        plan.action.name(),
                        plan.action.targets(plan.targets.len()),
                        safe(&plan.instance)
                    ),
                    theme.warning(),
                ));
                lines
            }
        }
    }
}

/// The plan: what will happen, to whom, and what to know first.
fn plan_lines(plan: &ActionPlan, env: &Env, room: usize) -> Vec<Line<'static>> {
    let theme = &env.theme;
    let n = plan.targets.len();
    let mut lines = vec![Line::styled(
        format!(
            "{} {} in {} ({}): {}",
            plan.action.name(),
            plan.action.targets(n),
            safe(&plan.instance),
            plan.app.display_name(),
            plan.effect
        ),
        theme.header(),
    )];
    let warnings = plan.warnings();
    let shown = room.saturating_sub(warnings.len() + 3).max(1);
    for t in plan.targets.iter().take(shown) {
        lines.push(Line::from(format!(
            "  {}  {}  {}",
            safe(&t.key),
            safe(&t.name),
            t.status
        )));
    }
    if n > shown {
        lines.push(Line::styled(
            format!("  … and {} more", n - shown),
            theme.dim(),
        ));
    }
    for w in warnings {
        lines.push(Line::styled(format!("! {}", safe(&w)), theme.warning()));
    }
    if let Some(p) = &plan.permission {
        lines.push(Line::styled(format!("needs {p}"), theme.dim()));
    }
    lines
}

fn report_lines(r: &ActionReport, env: &Env) -> Vec<Line<'static>> {
    let theme = &env.theme;
    let mut lines = vec![Line::styled(
        format!(
            "{} in {}: {} done, {} failed — each is in the audit trail (:audit)",
            r.action.name(),
            safe(&r.instance),
            r.done.len(),
            r.failed.len()
        ),
        if r.failed.is_empty() {
            theme.ok()
        } else {
            theme.warning()
        },
    )];
    for f in &r.failed {
        lines.push(Line::styled(
            format!("✗ {}  {}", safe(&f.target), safe(&f.outcome.detail())),
            theme.error(),
        ));
    }
    lines.push(Line::styled(
        "Their accounts are being read again. Esc closes.",
        theme.dim(),
    ));
    lines
}

impl Component for ActDialog {
    fn contexts(&self) -> Vec<Context> {
        match self.step {
            Step::Reason { .. } => vec![Context::Input],
            _ => vec![Context::Menu],
        }
    }

    fn on_action(&mut self, action: Action, _env: &Env, out: &mut Out) -> Handled {
        if action == Action::Quit {
            return Handled::NotConsumed;
        }
        let step = std::mem::replace(&mut self.step, Step::Planning);
        self.step = match (step, action) {
            (Step::Choose(at), Action::Up) => Step::Choose(at.saturating_sub(1)),
            (Step::Choose(at), Action::Down) => Step::Choose((at + 1).min(self.choices.len() - 1)),
            (Step::Choose(at), Action::Submit | Action::Open) => {
                self.chosen = at;
                let c = self.choice();
                out.run(Cmd::Govern(GovernCmd::Plan {
                    instance: c.instance.clone(),
                    action: c.action,
                    users: c.users.clone(),
                }));
                Step::Planning
            }
            (Step::Reason { plan, reason, .. }, Action::Submit) => {
                let text = reason.text().trim().to_owned();
                if text.is_empty() {
                    Step::Reason {
                        plan,
                        reason,
                        missing: true,
                    }
                } else {
                    Step::Confirm { plan, reason: text }
                }
            }
            (Step::Reason { .. }, Action::Back) => Step::Choose(self.chosen),
            (Step::Confirm { plan, reason }, Action::Back) => Step::Reason {
                plan,
                reason: Input::new(&reason),
                missing: false,
            },
            // While the plan or the action is out, Esc still closes: the service's
            // notice and the trail tell how the action went.
            (
                Step::Choose(_)
                | Step::Planning
                | Step::Acting
                | Step::Reported(_)
                | Step::Failed { .. },
                Action::Back,
            ) => {
                out.push(Effect::Close);
                Step::Planning
            }
            (Step::Reported(_) | Step::Failed { .. }, Action::Submit) => {
                out.push(Effect::Close);
                Step::Planning
            }
            (step, _) => step,
        };
        Handled::Consumed
    }

    fn on_key(&mut self, key: KeyEvent, _env: &Env, out: &mut Out) -> Handled {
        match &mut self.step {
            // A change to the reason takes back the note that it is missing.
            Step::Reason {
                reason, missing, ..
            } => *missing &= !reason.edit(key),
            Step::Confirm { .. } => {
                let Step::Confirm { plan, reason } =
                    std::mem::replace(&mut self.step, Step::Acting)
                else {
                    return Handled::Consumed;
                };
                if key.code == KeyCode::Char('y') {
                    let users = plan.targets.iter().map(|t| t.account_id.clone()).collect();
                    out.run(Cmd::Govern(GovernCmd::Act {
                        instance: self.choice().instance.clone(),
                        action: plan.action,
                        users,
                        reason,
                    }));
                } else {
                    self.step = Step::Reason {
                        plan,
                        reason: Input::new(&reason),
                        missing: false,
                    };
                }
            }
            _ => {}
        }
        Handled::Consumed
    }

    fn typing(&self) -> bool {
        matches!(self.step, Step::Reason { .. })
    }

    fn done(&mut self, done: Done, _env: &Env, _out: &mut Out) -> Option<Done> {
        match done {
            Done::Govern(GovernDone::Planned(result)) if matches!(self.step, Step::Planning) => {
                self.step = match result {
                    Ok(plan) => Step::Reason {
                        plan,
                        reason: Input::default(),
                        missing: false,
                    },
                    Err(e) => Step::Failed {
                        error: e.message,
                        sent: false,
                    },
                };
                None
            }
            Done::Govern(GovernDone::Acted { result, refused })
                if matches!(self.step, Step::Acting) =>
            {
                self.step = match result {
                    Ok(report) => Step::Reported(report),
                    Err(e) => Step::Failed {
                        error: e.message,
                        sent: !refused,
                    },
                };
                None
            }
            other => Some(other),
        }
    }

    fn draw(&self, f: &mut Frame, area: Rect, _focused: bool, env: &Env) {
        let area = centered(
            area,
            area.width.saturating_sub(4).clamp(40, 110),
            area.height.saturating_sub(2).clamp(8, 30),
        );
        f.render_widget(Clear, area);
        let title = format!("Act on {}", safe(&self.label));
        let block = pane_block(&title, true, &env.theme);
        let room = usize::from(block.inner(area).height);
        f.render_widget(
            Paragraph::new(self.lines(env, room))
                .block(block)
                .wrap(Wrap { trim: false }),
            area,
        );
    }
}
