//! Issue 12: activity policies, the alerts they raise, and the built-in templates.
//!
//! A policy is a filter in casbah's language (R-A4, R-G9) and a rule: at least `count`
//! matching activities within `window`, counted per actor, per IP, per group (the
//! records' tags, R-G6) or overall. A plain filter is the rule "1 in the window": each
//! match raises, and repeats by the same actor within the window join its alert.
//!
//! ```text
//! casbah policies add "Mass download" --filter "action:download" --threshold 25 --window 5m --per actor
//! ```
//!
//! A few templates watch for what no filter can say: an actor whose account is suspended
//! or deleted (`Detector::InactiveActor`), and sign-ins from two countries too far apart
//! for the time between them (`Detector::ImpossibleTravel`).

use serde::{Deserialize, Serialize};

use super::Micros;
use super::filter::FilterError;

pub const MINUTE: Micros = 60_000_000;
/// A window longer than this is a report, not an alert.
pub const MAX_WINDOW: Micros = 7 * 24 * 60 * MINUTE;
/// Activity links an alert keeps; its count goes on past them.
pub const MAX_LINKS: usize = 100;
/// Actors an alert names; more are counted, not listed.
pub const MAX_ACTORS: usize = 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// 0 until stored.
    pub id: u64,
    pub name: String,
    /// Filter text; empty matches every activity.
    pub filter: String,
    pub rule: Rule,
    pub detector: Detector,
    pub severity: Severity,
    pub notify: Notify,
    pub enabled: bool,
    /// The template it was made from.
    pub template: Option<String>,
    pub changed_by: String,
    pub changed_at: Micros,
    /// When it was last switched on: it raises on what happened since, however late
    /// the record arrives, and never on history read later (a new instance's week of
    /// it, R-C6); `policies test` looks back.
    pub watching_since: Micros,
}

impl Policy {
    /// A new policy of `filter`: each match an alert, grouped per actor for an hour,
    /// medium severity, told in the dashboard only, off.
    pub fn new(name: &str, filter: &str) -> Policy {
        Policy {
            id: 0,
            name: name.to_string(),
            filter: filter.to_string(),
            rule: Rule::default(),
            detector: Detector::Matches,
            severity: Severity::Medium,
            notify: Notify::default(),
            enabled: false,
            template: None,
            changed_by: String::new(),
            changed_at: 0,
            watching_since: 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub count: u32,
    pub window: Micros,
    pub per: Per,
}

impl Default for Rule {
    fn default() -> Rule {
        Rule {
            count: 1,
            window: 60 * MINUTE,
            per: Per::Actor,
        }
    }
}

impl Rule {
    /// "25 in 5m per actor", or "each match, grouped per actor for 1h".
    pub fn describe(&self) -> String {
        let window = window_text(self.window);
        match self.count {
            1 => format!("each match, grouped {} for {window}", self.per.phrase()),
            n => format!("{n} in {window} {}", self.per.phrase()),
        }
    }
}

/// What a threshold counts per.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Per {
    Actor,
    Ip,
    Group,
    Overall,
}

impl Per {
    pub const ALL: [Per; 4] = [Per::Actor, Per::Ip, Per::Group, Per::Overall];

    pub fn name(self) -> &'static str {
        match self {
            Per::Actor => "actor",
            Per::Ip => "ip",
            Per::Group => "group",
            Per::Overall => "overall",
        }
    }

    fn phrase(self) -> &'static str {
        match self {
            Per::Actor => "per actor",
            Per::Ip => "per IP address",
            Per::Group => "per group",
            Per::Overall => "overall",
        }
    }

    /// The windows a match counts in, each by a number: its actor's and its address's
    /// (hashed), each of its groups' (its R-G6 tags, by id), or the one of every match.
    pub fn windows(
        self,
        actor: &str,
        ip: Option<&str>,
        groups: &[super::GroupId],
        mut each: impl FnMut(u64),
    ) {
        match self {
            Per::Actor => each(window_of(actor)),
            Per::Ip => ip.into_iter().for_each(|ip| each(window_of(ip))),
            Per::Group => groups.iter().for_each(|g| each(g.0)),
            Per::Overall => each(0),
        }
    }

    /// What an alert of window `window` is for, as people read it: the actor, the
    /// address, the group (by `group_name`), or nothing.
    pub fn key(
        self,
        s: &Seen,
        ip: Option<&str>,
        window: u64,
        group_name: impl FnOnce(u64) -> String,
    ) -> String {
        match self {
            Per::Actor => s.actor.to_string(),
            Per::Ip => ip.unwrap_or_default().to_string(),
            Per::Group => group_name(window),
            Per::Overall => String::new(),
        }
    }

    pub fn parse(text: &str) -> Result<Per, String> {
        let text = text.trim().to_ascii_lowercase();
        Per::ALL
            .into_iter()
            .find(|p| p.name() == text || (text == "user" && *p == Per::Actor))
            .ok_or_else(|| format!("no way to count per {text:?}; use actor, ip, group or overall"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(text: &str) -> Result<Severity, String> {
        let text = text.trim().to_ascii_lowercase();
        Severity::ALL
            .into_iter()
            .find(|s| s.name() == text)
            .ok_or_else(|| format!("no severity {text:?}; use low, medium, high or critical"))
    }
}

/// What a policy looks for besides its filter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Detector {
    /// The filter's matches, counted by the rule.
    Matches,
    /// Matches whose actor's account in the record's instance is suspended, disabled or
    /// deleted.
    InactiveActor,
    /// A successful sign-in from a country further from the actor's previous sign-in
    /// than `kmh` allows in the time between them.
    ImpossibleTravel { kmh: u32 },
    /// An app granted a risky scope (issue 11's app permissions), seen by a user scan
    /// after the first: it watches grants, not activities, and has no filter.
    RiskyGrant,
}

/// Where a policy's alerts are sent, besides the dashboard.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notify {
    /// By e-mail, to these addresses, or to the SMTP setting's recipients when empty.
    pub email: Option<Vec<String>>,
    pub webhook: bool,
}

impl Notify {
    pub fn describe(&self) -> String {
        let mut out = Vec::new();
        match &self.email {
            Some(to) if to.is_empty() => out.push("e-mail".to_string()),
            Some(to) => out.push(format!("e-mail to {}", to.join(", "))),
            None => {}
        }
        if self.webhook {
            out.push("webhook".to_string());
        }
        if out.is_empty() {
            "dashboard only".to_string()
        } else {
            out.join(", ")
        }
    }
}

/// A text's window number (FNV-1a): an actor's or an address's.
fn window_of(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A window as written: a whole number of seconds, minutes, hours or days ("90s", "5m",
/// "1h", "7d"), at least a second and at most `MAX_WINDOW`. Errors point at the column.
pub fn parse_window(text: &str) -> Result<Micros, FilterError> {
    let trimmed = text.trim_start();
    let lead = text.len() - trimmed.len();
    let trimmed = trimmed.trim_end();
    let digits = trimmed.chars().take_while(char::is_ascii_digit).count();
    let at = |offset: usize, msg: String| FilterError::new(lead + offset + 1, msg);
    if digits == 0 {
        return Err(at(
            0,
            format!("a window is a number and a unit (5m, 1h, 7d), not {trimmed:?}"),
        ));
    }
    let unit = match &trimmed[digits..] {
        "s" => 1_000_000,
        "m" => MINUTE,
        "h" => 60 * MINUTE,
        "d" => 24 * 60 * MINUTE,
        "" => return Err(at(digits, "the window needs a unit: s, m, h or d".into())),
        other => {
            return Err(at(
                digits,
                format!("no time unit {other:?}; use s, m, h or d"),
            ));
        }
    };
    let window = trimmed[..digits]
        .parse::<i64>()
        .ok()
        .and_then(|n| n.checked_mul(unit))
        .filter(|w| *w > 0 && *w <= MAX_WINDOW);
    window.ok_or_else(|| at(0, "a window is from 1s to 7d".into()))
}

/// The shortest way to write `window` that `parse_window` reads back.
pub fn window_text(window: Micros) -> String {
    let secs = window / 1_000_000;
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
        if secs >= size && secs % size == 0 {
            return format!("{}{unit}", secs / size);
        }
    }
    format!("{secs}s")
}

mod alert;
mod templates;
mod window;

pub use alert::{ActivityLink, Alert, AlertState, StateChange};
pub use templates::{COUNTRIES_SLOT, Template, template, templates};
pub use window::{Mark, Seen, Step, Window};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_read_back_and_errors_point_at_the_column() {
        for (text, micros) in [("5m", 5 * MINUTE), ("90s", 90_000_000), ("7d", MAX_WINDOW)] {
            assert_eq!(parse_window(text), Ok(micros));
            assert_eq!(parse_window(&window_text(micros)), Ok(micros));
        }
        assert_eq!(window_text(90_000_000), "90s");
        let e = parse_window("5x").unwrap_err();
        assert_eq!(e.column, 2);
        assert!(e.message.contains("\"x\""), "{e}");
        assert_eq!(parse_window(" m").unwrap_err().column, 2);
        assert!(parse_window("8d").unwrap_err().message.contains("7d"));
        assert!(parse_window("0m").is_err());
        assert!(parse_window("99999999999999999d").is_err());
    }

    #[test]
    fn alert_states_move_forward_only() {
        use AlertState::*;
        assert!(Open.may_become(Acknowledged).is_ok());
        assert!(Acknowledged.may_become(Resolved).is_ok());
        assert!(Open.may_become(Dismissed).is_ok());
        assert!(Resolved.may_become(Open).is_err());
        assert!(Dismissed.may_become(Resolved).is_err());
        assert!(
            Acknowledged
                .may_become(Acknowledged)
                .unwrap_err()
                .contains("already")
        );
    }

    #[test]
    fn an_alert_names_its_activities_by_a_filter_that_parses() {
        let alert = Alert {
            id: 1,
            policy: 1,
            policy_name: "Mass download".into(),
            filter: "action:download".into(),
            severity: Severity::High,
            per: Per::Actor,
            key: "a\"b@example.com".into(),
            window: 0,
            raised_at: 0,
            updated_at: 0,
            first: 1_764_000_000_000_000,
            last: 1_764_100_000_000_000,
            count: 3,
            actors: vec![],
            links: vec![],
            state: AlertState::Open,
            history: vec![],
            detail: None,
        };
        let text = alert.activities_filter();
        assert!(
            text.starts_with(
                "action:download actor:\"a\\\"b@example.com\" date:2025-11-24..2025-11-25"
            ),
            "{text}"
        );
        assert!(crate::domain::filter::parse(&text).is_ok());
        assert_eq!(
            alert.summary(),
            "Mass download: 3 activities by a\"b@example.com"
        );
    }

    fn seen(time: Micros, country: &'static str) -> Seen<'static> {
        Seen {
            time,
            seq: time as u64,
            id: "e",
            actor: "ana@example.com",
            country: Some(country),
        }
    }

    // Issue 12: impossible travel compares a sign-in with the one before it, and
    // raises when the distance needs more than the speed allows.
    #[test]
    fn impossible_travel_needs_a_speed_no_flight_has() {
        let t = template("impossible-travel").unwrap();
        let mut p = Policy::new("Travel", t.filter);
        (p.detector, p.rule) = (t.detector, t.rule);
        let hour = 60 * MINUTE;
        let mut w = Window::default();
        assert_eq!(w.step(&p, &seen(0, "FR"), |_| true), Step::Skip);
        assert_eq!(
            w.step(&p, &seen(5 * hour, "DE"), |_| true),
            Step::Skip,
            "Paris to Berlin in 5 h"
        );
        match w.step(&p, &seen(6 * hour, "JP"), |_| true) {
            Step::Raise { marks, detail } => {
                assert_eq!(marks.len(), 1);
                let detail = detail.unwrap();
                assert!(
                    detail.starts_with("DE then JP: 8"),
                    "Berlin to Tokyo in 1 h: {detail}"
                );
                assert!(detail.ends_with("km in 1h"), "{detail}");
            }
            other => panic!("{other:?}"),
        }
        w.raised(9, 6 * hour, &p.rule);
        assert!(matches!(
            w.step(&p, &seen(7 * hour, "US"), |_| true),
            Step::Join { alert: 9, .. }
        ));
        assert_eq!(
            w.step(&p, &seen(3 * hour, "BR"), |_| true),
            Step::Skip,
            "older than the newest"
        );
    }

    // Issue 12: a threshold counts matches within the window of the newest, whatever
    // order they come in; an alert closed meanwhile is not joined.
    #[test]
    fn a_threshold_counts_within_the_window() {
        let mut p = Policy::new("Burst", "action:download");
        p.rule = Rule {
            count: 3,
            window: 10 * MINUTE,
            per: Per::Actor,
        };
        let mut w = Window::default();
        assert_eq!(w.step(&p, &seen(0, "FR"), |_| true), Step::Wait);
        assert_eq!(w.step(&p, &seen(20 * MINUTE, "FR"), |_| true), Step::Wait);
        assert_eq!(w.pending.len(), 1, "the first fell out of the window");
        assert_eq!(w.step(&p, &seen(25 * MINUTE, "FR"), |_| true), Step::Wait);
        let Step::Raise { marks: raised, .. } = w.step(&p, &seen(16 * MINUTE, "FR"), |_| true)
        else {
            panic!("three within ten minutes");
        };
        assert_eq!(
            raised.iter().map(|s| s.time / MINUTE).collect::<Vec<_>>(),
            [16, 20, 25]
        );
        w.raised(1, 25 * MINUTE, &p.rule);
        assert_eq!(
            w.step(&p, &seen(26 * MINUTE, "FR"), |_| false),
            Step::Wait,
            "closed: counts anew"
        );
        assert!(w.alert.is_none());
    }

    #[test]
    fn every_template_has_a_filter_that_parses() {
        for t in templates() {
            let text = t.filter.replace(COUNTRIES_SLOT, "US");
            assert!(crate::domain::filter::parse(&text).is_ok(), "{}", t.name);
        }
        assert!(template("Mass-Download").is_some());
    }
}
