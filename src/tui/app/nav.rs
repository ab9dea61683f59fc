//! Esc's way back. A pivot (Enter on an instance or a group today; from
//! an activity to its user, or from an alert to its events, later) records
//! where it came from and what it changed in the pane it went to, so that
//! Esc returns to the pane the user was in and puts the other back as it
//! was: scope, filter, selection and scroll.

use crate::tui::pane::{PaneId, Snapshot};

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
