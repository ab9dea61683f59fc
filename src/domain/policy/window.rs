//! Issue 12: a threshold's window: the matches counted for one actor, address or group,
//! and the alert later matches join.

use std::collections::VecDeque;

use super::{Detector, Policy, Rule, window_text};
use crate::domain::Micros;

/// A matching activity, as counting needs it, borrowed from its record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Seen<'a> {
    pub time: Micros,
    pub seq: u64,
    pub id: &'a str,
    pub actor: &'a str,
    pub country: Option<&'a str>,
}

impl Seen<'_> {
    pub fn mark(&self) -> Mark {
        Mark {
            time: self.time,
            seq: self.seq,
        }
    }
}

/// Where a match is in the log: its record's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Mark {
    pub time: Micros,
    pub seq: u64,
}

/// A policy's state for one counting key (an actor, an address, a group).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Window {
    /// Matches not yet enough to raise, oldest first, all within the window of the newest.
    /// A queue: matches mostly arrive in order, join at the back and leave at the front.
    pub pending: VecDeque<Mark>,
    /// The alert later matches join, until `until`.
    pub alert: Option<u64>,
    pub until: Micros,
    /// Impossible travel: the newest successful sign-in, and its country.
    pub place: Option<(Micros, String)>,
}

/// What one match does.
#[derive(Debug, PartialEq)]
pub enum Step {
    /// Nothing to count (impossible travel: a sign-in from a reachable place).
    Skip,
    /// Not enough yet.
    Wait,
    /// Joins alert `alert`, raised before.
    Join { alert: u64 },
    /// Enough: raise an alert of these matches (the last is this one); call
    /// `Window::raised` with its id.
    Raise {
        marks: Vec<Mark>,
        detail: Option<String>,
    },
}

impl Window {
    /// Counts `s`, a match of `policy` for this window's key, in time order with those
    /// before it. `active` tells whether an alert raised before still takes matches
    /// (an alert resolved or dismissed does not: the next match starts anew).
    pub fn step(&mut self, policy: &Policy, s: &Seen, active: impl FnOnce(u64) -> bool) -> Step {
        let detail = match policy.detector {
            Detector::ImpossibleTravel { kmh } => match self.travel(s, kmh) {
                Some(detail) => Some(detail),
                None => return Step::Skip,
            },
            _ => None,
        };
        if let Some(id) = self.alert.filter(|_| s.time <= self.until)
            && active(id)
        {
            self.until = self.until.max(s.time + policy.rule.window);
            return Step::Join { alert: id };
        }
        self.alert = None;
        // Matches mostly come in time order: the place is at the end, and what fell out
        // of the window is at the start.
        let at = self.pending.partition_point(|p| *p <= s.mark());
        self.pending.insert(at, s.mark());
        let newest = self.pending.back().map_or(Micros::MIN, |s| s.time);
        let gone = self
            .pending
            .partition_point(|p| p.time <= newest - policy.rule.window);
        self.pending.drain(..gone);
        if self.pending.len() < policy.rule.count as usize {
            return Step::Wait;
        }
        Step::Raise {
            marks: std::mem::take(&mut self.pending).into(),
            detail,
        }
    }

    /// Later matches of the window join alert `id`, whose newest match is at `last`.
    pub fn raised(&mut self, id: u64, last: Micros, rule: &Rule) {
        self.alert = Some(id);
        self.until = last + rule.window;
    }

    /// Whether nothing in it can count with a match newer than `newest` any more: it
    /// can be forgotten.
    pub fn stale(&self, newest: Micros, window: Micros) -> bool {
        let gone = |t: Micros| t <= newest - window;
        self.pending.back().is_none_or(|s| gone(s.time))
            && self.until < newest
            && self.place.as_ref().is_none_or(|(t, _)| gone(*t))
    }

    /// Impossible travel: compares a successful sign-in with the actor's newest one
    /// before it; `Some(what was seen)` when the distance needs more than `kmh`.
    fn travel(&mut self, s: &Seen, kmh: u32) -> Option<String> {
        let here = s.country?.to_string();
        let before = self.place.clone();
        if before.as_ref().is_none_or(|(t, _)| s.time >= *t) {
            self.place = Some((s.time, here.clone()));
        }
        let (then, there) = before?;
        if there == here || s.time < then {
            return None;
        }
        let km = crate::domain::country::distance_km(&there, &here)?;
        let hours = (s.time - then) as f64 / 3.6e9;
        let fast = km > 500.0 && km > f64::from(kmh) * hours;
        fast.then(|| {
            format!(
                "{there} then {here}: {km:.0} km in {}",
                window_text((s.time - then).max(1_000_000))
            )
        })
    }
}
