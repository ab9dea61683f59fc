//! Issue 12: the built-in policies, stored off until enabled.

use super::{Detector, MINUTE, Per, Rule, Severity};

/// A template: what `policies add --template NAME` starts from. Templates are stored off.
#[derive(Debug, Clone, Copy)]
pub struct Template {
    pub name: &'static str,
    pub title: &'static str,
    pub filter: &'static str,
    pub rule: Rule,
    pub detector: Detector,
    pub severity: Severity,
}

const fn rule(count: u32, minutes: i64, per: Per) -> Rule {
    Rule {
        count,
        window: minutes * MINUTE,
        per,
    }
}

/// `{countries}` in a filter is replaced by the organisation's countries.
pub const COUNTRIES_SLOT: &str = "{countries}";

static TEMPLATES: [Template; 6] = [
    Template {
        name: "admin-abroad",
        title: "Administrator activity from outside the organisation's countries",
        filter: "admin -country:({countries})",
        rule: rule(1, 60, Per::Actor),
        detector: Detector::Matches,
        severity: Severity::High,
    },
    Template {
        name: "mass-download",
        title: "Mass download by one user",
        filter: "action:download",
        rule: rule(25, 5, Per::Actor),
        detector: Detector::Matches,
        severity: Severity::High,
    },
    Template {
        name: "failed-sign-ins",
        title: "Failed sign-ins from one IP address",
        filter: "action:sign-in failed",
        rule: rule(10, 10, Per::Ip),
        detector: Detector::Matches,
        severity: Severity::Medium,
    },
    Template {
        name: "impossible-travel",
        title: "Sign-ins from two countries too far apart for the time between them",
        filter: "action:sign-in succeeded",
        rule: rule(1, 24 * 60, Per::Actor),
        detector: Detector::ImpossibleTravel { kmh: 900 },
        severity: Severity::High,
    },
    Template {
        name: "risky-grant",
        title: "A new OAuth grant with high-risk scopes",
        filter: "",
        rule: rule(1, 60, Per::Actor),
        detector: Detector::RiskyGrant,
        severity: Severity::High,
    },
    Template {
        name: "inactive-actor",
        title: "Activity by a suspended or deleted account",
        filter: "",
        rule: rule(1, 60, Per::Actor),
        detector: Detector::InactiveActor,
        severity: Severity::Critical,
    },
];

pub fn templates() -> &'static [Template] {
    &TEMPLATES
}

pub fn template(name: &str) -> Option<&'static Template> {
    TEMPLATES
        .iter()
        .find(|t| t.name.eq_ignore_ascii_case(name.trim()))
}
