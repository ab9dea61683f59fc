//! Issue 12: an alert, what it counted, and its life cycle.

use serde::{Deserialize, Serialize};

use super::{MAX_ACTORS, MAX_LINKS, Per, Policy, Seen, Severity};
use crate::domain::Micros;

/// An alert's life: open → acknowledged → resolved, or dismissed from either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AlertState {
    Open,
    Acknowledged,
    Resolved,
    Dismissed,
}

impl AlertState {
    pub fn name(self) -> &'static str {
        match self {
            AlertState::Open => "open",
            AlertState::Acknowledged => "acknowledged",
            AlertState::Resolved => "resolved",
            AlertState::Dismissed => "dismissed",
        }
    }

    /// Still asks for someone's attention; new matches join it.
    pub fn is_active(self) -> bool {
        matches!(self, AlertState::Open | AlertState::Acknowledged)
    }

    /// Whether `self` may become `to`: forward only, and a closed alert stays closed.
    pub fn may_become(self, to: AlertState) -> Result<(), String> {
        match (self, to) {
            (AlertState::Open, AlertState::Acknowledged | AlertState::Resolved)
            | (AlertState::Open | AlertState::Acknowledged, AlertState::Dismissed)
            | (AlertState::Acknowledged, AlertState::Resolved) => Ok(()),
            (from, to) if from == to => Err(format!("the alert is {} already", from.name())),
            (from, _) => Err(format!(
                "the alert is {}; it cannot become {}",
                from.name(),
                to.name()
            )),
        }
    }
}

/// A stored activity an alert points at: its key in the log, and the vendor's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityLink {
    pub time: Micros,
    pub seq: u64,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateChange {
    pub state: AlertState,
    pub by: String,
    pub at: Micros,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub id: u64,
    pub policy: u64,
    /// The policy's name, filter and severity when the alert was raised: they stay
    /// what matched, whatever the policy becomes.
    pub policy_name: String,
    pub filter: String,
    pub severity: Severity,
    pub per: Per,
    /// The actor, address or group name it counts for; empty for `Per::Overall`.
    pub key: String,
    /// The window it was counted in (`Per::window`).
    pub window: u64,
    /// When casbah raised it, and when a match last joined it.
    pub raised_at: Micros,
    pub updated_at: Micros,
    /// The oldest and newest matching activity.
    pub first: Micros,
    pub last: Micros,
    pub count: u64,
    pub actors: Vec<String>,
    pub links: Vec<ActivityLink>,
    pub state: AlertState,
    pub history: Vec<StateChange>,
    /// What the detector saw, when the filter alone does not say ("FR then JP, 9,700 km
    /// in 2h").
    pub detail: Option<String>,
}

impl Alert {
    /// One line: "Mass download: 25 activities by ana@example.com".
    pub fn summary(&self) -> String {
        let what = match self.count {
            1 => "1 activity".to_string(),
            n => format!("{n} activities"),
        };
        let whose = match (self.per, self.key.as_str()) {
            (_, "") | (Per::Overall, _) => String::new(),
            (Per::Actor, key) => format!(" by {key}"),
            (Per::Ip, key) => format!(" from {key}"),
            (Per::Group, key) => format!(" in group {key}"),
        };
        let detail = self
            .detail
            .as_deref()
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        format!("{}: {what}{whose}{detail}", self.policy_name)
    }

    /// The filter that shows its activities: the policy's, narrowed to its actor or
    /// address and to the days it spans (filters count whole days).
    pub fn activities_filter(&self) -> String {
        let mut terms = Vec::new();
        if !self.filter.trim().is_empty() {
            terms.push(self.filter.trim().to_string());
        }
        let quoted = |v: &str| format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""));
        match self.per {
            Per::Actor if !self.key.is_empty() => {
                terms.push(format!("actor:{}", quoted(&self.key)))
            }
            Per::Ip if !self.key.is_empty() => terms.push(format!("ip:{}", quoted(&self.key))),
            Per::Group if !self.key.is_empty() => {
                terms.push(format!("group:{}", quoted(&self.key)))
            }
            _ => {}
        }
        let day = |t: Micros| {
            chrono::DateTime::from_timestamp_micros(t)
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default()
        };
        terms.push(format!("date:{}..{}", day(self.first), day(self.last)));
        terms.join(" ")
    }
}

impl Alert {
    /// A new open alert of `policy` for `key`, with nothing counted yet.
    pub fn new(
        id: u64,
        policy: &Policy,
        key: String,
        detail: Option<String>,
        now: Micros,
    ) -> Alert {
        Alert {
            window: 0,
            id,
            policy: policy.id,
            policy_name: policy.name.clone(),
            filter: policy.filter.clone(),
            severity: policy.severity,
            per: policy.rule.per,
            key,
            raised_at: now,
            updated_at: now,
            first: Micros::MAX,
            last: Micros::MIN,
            count: 0,
            actors: Vec::new(),
            links: Vec::new(),
            state: AlertState::Open,
            history: Vec::new(),
            detail,
        }
    }

    /// A risky-grant policy's alert for one grant: who granted which risky scopes.
    pub fn for_grant(
        id: u64,
        policy: &Policy,
        g: &crate::domain::grants::Grant,
        now: Micros,
    ) -> Alert {
        let who = g.user.clone().unwrap_or_else(|| g.kind.label().to_string());
        let detail = format!("{} may {}", g.app_name, g.risky_scopes().join(", "));
        let mut alert = Alert::new(id, policy, who.clone(), Some(detail), now);
        let at = g.granted_at.unwrap_or(now);
        (alert.first, alert.last, alert.count) = (at, at, 1);
        alert.actors.push(who);
        alert
    }

    /// Counts one more matching activity.
    pub fn add(&mut self, s: &Seen, now: Micros) {
        self.count += 1;
        self.first = self.first.min(s.time);
        self.last = self.last.max(s.time);
        self.updated_at = now;
        if self.links.len() < MAX_LINKS {
            self.links.push(ActivityLink {
                time: s.time,
                seq: s.seq,
                id: s.id.to_string(),
            });
        }
        if self.actors.len() < MAX_ACTORS && !self.actors.iter().any(|a| a == s.actor) {
            self.actors.push(s.actor.to_string());
        }
    }
}
