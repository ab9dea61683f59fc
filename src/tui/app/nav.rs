//! Esc's way back. A pivot (Enter on an instance or a group today; from
//! an activity to its user, or from an alert to its events, later) records
//! where it came from and what it changed in the pane it went to, so that
//! Esc returns to the pane the user was in and puts the other back as it
//! was: scope, filter, selection and scroll.

use super::App;
use crate::tui::format::safe;
use crate::tui::pane::{Out, PaneId, Snapshot, Target};

/// How many pivots are remembered; the oldest are forgotten first.
const KEPT: usize = 32;

/// One pivot: from `from` to `to`, and `to` as it was before.
#[derive(Debug, Clone, PartialEq)]
pub struct Visit {
    pub from: PaneId,
    pub to: PaneId,
    pub saved: Option<Snapshot>,
    /// The breadcrumbs while this visit is the latest: the path that led
    /// here and the pivot's own crumb (`Activities › alice@… › 203.0.113.9`).
    pub trail: Option<Vec<String>>,
}

#[derive(Debug, Default)]
pub struct BackStack {
    visits: Vec<Visit>,
}

impl BackStack {
    pub fn push(&mut self, visit: Visit) {
        if self.visits.len() == KEPT {
            self.visits.remove(0);
        }
        self.visits.push(visit);
    }

    /// The latest pivot, if it led to `pane`: the user is still where it went.
    pub fn current(&self, pane: PaneId) -> Option<&Visit> {
        self.visits.last().filter(|v| v.to == pane)
    }

    /// The latest pivot into `pane`, forgetting those made after it: the
    /// user left them by other ways (Tab, a digit, a command).
    pub fn pop_to(&mut self, pane: PaneId) -> Option<Visit> {
        let at = self.visits.iter().rposition(|v| v.to == pane)?;
        self.visits.truncate(at + 1);
        self.visits.pop()
    }
}

impl App {
    /// Goes where `target` says, remembering where from: Esc comes back,
    /// and puts back what the pivot changed in the pane it went to.
    pub fn pivot(&mut self, target: Target) {
        let to = target.pane();
        let trail = target.crumb().map(|crumb| {
            let mut trail = match self.back.current(self.focus) {
                Some(Visit {
                    trail: Some(trail), ..
                }) => trail.clone(),
                _ => vec![self.focus.title().to_owned()],
            };
            trail.push(crumb);
            trail
        });
        self.back.push(Visit {
            from: self.focus,
            to,
            saved: self.panes.get(to).snapshot(),
            trail,
        });
        self.show(target);
    }
    /// Goes where `target` says, with no way back but the pane's parent.
    pub(super) fn show(&mut self, target: Target) {
        let to = target.pane();
        let mut out = Out::default();
        self.panes.get_mut(to).show(&target, &self.env, &mut out);
        self.focus = to;
        self.apply(out);
    }
    /// Esc that no pane took: back along the latest pivot into this pane,
    /// else up to the pane's parent.
    pub(super) fn back(&mut self) {
        if let Some(visit) = self.back.pop_to(self.focus) {
            if let Some(saved) = visit.saved {
                let mut out = Out::default();
                self.panes
                    .get_mut(visit.to)
                    .restore(saved, &self.env, &mut out);
                self.apply(out);
            }
            self.focus = visit.from;
        } else if let Some(parent) = self.focus.parent() {
            self.focus = parent;
        }
    }
    /// The breadcrumbs: the pivots that led here, else the pane's own
    /// drill-down path. Vendor text, made safe and cut to a readable length.
    pub fn breadcrumbs(&self) -> Vec<String> {
        let path = match self.back.current(self.focus) {
            Some(Visit {
                trail: Some(trail), ..
            }) => trail.clone(),
            _ => self.panes.get(self.focus).breadcrumbs(&self.env),
        };
        path.iter().map(|p| crumb(&safe(p))).collect()
    }
}

/// The longest a crumb is shown: a long group name or filter value leaves
/// room for the rest of the path.
const CRUMB_CHARS: usize = 32;

fn crumb(text: &str) -> String {
    if text.chars().count() <= CRUMB_CHARS {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(CRUMB_CHARS - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visit(from: PaneId, to: PaneId) -> Visit {
        Visit {
            from,
            to,
            saved: None,
            trail: None,
        }
    }

    #[test]
    fn back_goes_to_the_latest_pivot_into_the_pane_in_view() {
        let mut stack = BackStack::default();
        stack.push(visit(PaneId::Connectors, PaneId::Groups));
        stack.push(visit(PaneId::Groups, PaneId::Members));
        assert_eq!(stack.pop_to(PaneId::Activities), None);
        // From Members the user went to Groups by a digit: Esc there skips Members.
        let back = stack.pop_to(PaneId::Groups).expect("the pivot into Groups");
        assert_eq!(back.from, PaneId::Connectors);
        assert_eq!(stack.pop_to(PaneId::Members), None, "left by other ways");
        for _ in 0..KEPT + 5 {
            stack.push(visit(PaneId::Groups, PaneId::Members));
        }
        let remembered = std::iter::from_fn(|| stack.pop_to(PaneId::Members)).count();
        assert_eq!(remembered, KEPT, "the oldest are forgotten");
    }
}
