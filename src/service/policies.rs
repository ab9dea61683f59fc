//! Issue 12: policies and their alerts. Policies are checked and stored here, and bound
//! into the set every page is evaluated against as it commits (`store::alerting`); the
//! set is bound again whenever the policies, or the groups their filters name, change.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::{Event, Local, Result, ServiceError};
use crate::domain::filter::{self, TermKind};
use crate::domain::notice::Delivery;
use crate::domain::policy::{
    Alert, AlertState, Detector, MAX_WINDOW, Per, Policy, Seen, StateChange, Step, Window,
};
use crate::domain::{Micros, now_micros, text};
use crate::store::{PolicySet, Watch};

/// How far back `test` looks by default, and the dashboard's editor always.
pub const TEST_DAYS: i64 = 7;
/// `test` reads at most this many matching activities, newest first.
const TEST_LIMIT: usize = 200_000;
/// A policy raising on each match of a filter that selects this share of the log (or
/// more) asks for confirmation.
const BROAD_SHARE: f64 = 0.5;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyView {
    pub policy: Policy,
    /// Why an enabled policy is not watching (a group its filter names was removed).
    pub problem: Option<String>,
    pub open_alerts: usize,
}

/// What `test` would have raised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyTest {
    pub since: Micros,
    /// Matching activities read (at most `TEST_LIMIT`, the newest).
    pub matched: usize,
    pub truncated: bool,
    pub alerts: Vec<Alert>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertView {
    pub alert: Alert,
    pub deliveries: Vec<Delivery>,
}

/// Open and acknowledged alerts, and notices that could not be sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertCounts {
    pub open: usize,
    pub acknowledged: usize,
    pub failing_notices: usize,
}

/// What compiled policies were bound from; see `Store::policy_inputs`.
#[derive(Debug, Default)]
pub(super) struct Compiled {
    inputs: Option<(u64, u64)>,
    problems: HashMap<u64, String>,
}

impl Local {
    /// Binds the enabled policies again if they, or the names they use, changed since
    /// they were last bound. Ingestion calls it before each scan.
    pub(super) async fn refresh_policies(&self) -> Result<()> {
        let inputs = self.db(|s| s.policy_inputs()).await?;
        if self.inner.compiled.lock().expect("policies lock").inputs == Some(inputs) {
            return Ok(());
        }
        let (policies, version) = self.db(|s| s.policies()).await?;
        let mut watches = Vec::new();
        let mut problems = HashMap::new();
        // Risky-grant policies watch user scans (`Store::replace_grants`), not activities.
        let watch_activities = |p: &Policy| p.enabled && p.detector != Detector::RiskyGrant;
        for policy in policies.into_iter().filter(watch_activities) {
            match self.bind_policy(&policy.filter).await {
                Ok(query) => watches.push(Watch::new(policy, query)),
                Err(e) => {
                    tracing::warn!(policy = %policy.name, "policy not watching: {e}");
                    problems.insert(policy.id, e.to_string());
                }
            }
        }
        self.inner.watching.replace(PolicySet { version, watches });
        *self.inner.compiled.lock().expect("policies lock") = Compiled {
            inputs: Some(inputs),
            problems,
        };
        Ok(())
    }

    /// A policy's filter, refusing what only makes sense looking back (dates).
    async fn bind_policy(&self, text: &str) -> Result<filter::Query> {
        let parsed = filter::parse(text)?;
        if let Some(term) = parsed
            .terms
            .iter()
            .find(|t| matches!(t.kind, TermKind::Time(_)))
        {
            return Err(filter::FilterError::new(
                term.column,
                "a policy watches activities as they arrive, so it takes no dates; \
                 `casbah policies test --days N` looks back",
            )
            .into());
        }
        self.compile_filter(text).await
    }

    pub async fn policies(&self) -> Result<Vec<PolicyView>> {
        self.refresh_policies().await?;
        let (policies, _) = self.db(|s| s.policies()).await?;
        let alerts = self.db(|s| s.alerts()).await?;
        let problems = self
            .inner
            .compiled
            .lock()
            .expect("policies lock")
            .problems
            .clone();
        Ok(policies
            .into_iter()
            .map(|policy| PolicyView {
                open_alerts: alerts
                    .iter()
                    .filter(|a| a.policy == policy.id && a.state.is_active())
                    .count(),
                problem: problems.get(&policy.id).cloned(),
                policy,
            })
            .collect())
    }

    /// A policy by name (ignoring case) or number.
    pub async fn find_policy(&self, name: &str) -> Result<Policy> {
        let (policies, _) = self.db(|s| s.policies()).await?;
        let wanted = name.trim();
        if let Some(p) = policies
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(wanted) || wanted.parse() == Ok(p.id))
        {
            return Ok(p.clone());
        }
        Err(ServiceError::Unknown {
            what: "policy",
            name: wanted.to_string(),
            suggestions: super::names::closest(wanted, policies.iter().map(|p| p.name.as_str())),
        })
    }

    /// Checks `policy` as `save_policy` would. `Ok(Some(why))` when it would match
    /// almost every activity, which saving asks to confirm.
    pub async fn check_policy(&self, policy: Policy) -> Result<Option<String>> {
        let name = policy.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(ServiceError::Invalid(
                "a policy needs a name of 1 to 100 characters".into(),
            ));
        }
        if text::sanitize(name) != name {
            return Err(ServiceError::Invalid(
                "a policy's name cannot hold control characters".into(),
            ));
        }
        let rule = policy.rule;
        if rule.count == 0 || rule.count > 100_000 {
            return Err(ServiceError::Invalid(
                "a threshold counts from 1 to 100000 activities".into(),
            ));
        }
        if rule.window <= 0 || rule.window > MAX_WINDOW {
            return Err(ServiceError::Invalid("a window is from 1s to 7d".into()));
        }
        if policy.detector == Detector::RiskyGrant && !policy.filter.trim().is_empty() {
            return Err(ServiceError::Invalid(
                "a risky-grant policy watches app grants, not activities: leave its filter empty"
                    .into(),
            ));
        }
        if matches!(policy.detector, Detector::ImpossibleTravel { .. }) && rule.per != Per::Actor {
            return Err(ServiceError::Invalid(
                "impossible travel follows one person: count it per actor".into(),
            ));
        }
        if let Some(to) = &policy.notify.email {
            if let Some(bad) = to.iter().find(|a| !plausible_address(a)) {
                return Err(ServiceError::Invalid(format!(
                    "{bad:?} is not an e-mail address"
                )));
            }
            if self.smtp_config().await?.is_none() {
                return Err(ServiceError::Invalid(
                    "e-mail notices need an SMTP relay: run `casbah notify smtp` first".into(),
                ));
            }
        }
        if policy.notify.webhook && self.webhook_config().await?.is_none() {
            return Err(ServiceError::Invalid(
                "webhook notices need a receiver: run `casbah notify webhook` first".into(),
            ));
        }
        let query = self.bind_policy(&policy.filter).await?;
        if rule.count > 1 || policy.detector != Detector::Matches {
            return Ok(None);
        }
        if policy.filter.trim().is_empty() {
            return Ok(Some("it raises an alert for every activity".into()));
        }
        let to = now_micros();
        let from = to - TEST_DAYS * 24 * 3_600_000_000;
        let all = filter::Query::all();
        let width = to - from;
        let (matched, total) = self
            .log(move |l| {
                Ok((
                    l.histogram(&query, from, width, 1)?.total(),
                    l.histogram(&all, from, width, 1)?.total(),
                ))
            })
            .await?;
        let share = matched as f64 / total.max(1) as f64;
        Ok((total > 0 && share >= BROAD_SHARE).then(|| {
            format!(
                "its filter matches {:.0}% of the last {TEST_DAYS} days' activities, each an alert",
                share * 100.0
            )
        }))
    }

    /// Stores a new policy (`id` 0) or replaces one. One that would match almost every
    /// activity is refused unless `confirmed`.
    pub async fn save_policy(&self, policy: Policy, confirmed: bool) -> Result<Policy> {
        if let Some(why) = self.check_policy(policy.clone()).await?
            && !confirmed
        {
            return Err(ServiceError::Invalid(format!(
                "policy {:?} would match almost everything: {why}; confirm (--yes) to keep it",
                policy.name
            )));
        }
        let mut policy = policy;
        policy.name = policy.name.trim().to_string();
        policy.changed_by = super::server::caller();
        policy.changed_at = now_micros();
        let (stored, _) = self.db(|s| s.policies()).await?;
        let was_on = stored
            .iter()
            .any(|p| p.id == policy.id && p.id != 0 && p.enabled);
        if policy.enabled && !was_on {
            // From the start of its second: vendors stamp many records in whole seconds.
            policy.watching_since = policy.changed_at - policy.changed_at.rem_euclid(1_000_000);
        }
        let stored = policy.clone();
        let (id, _) = self.db(move |s| s.put_policy(&stored)).await?;
        policy.id = id;
        self.policies_changed().await?;
        Ok(policy)
    }

    pub async fn set_policy_enabled(&self, name: &str, enabled: bool) -> Result<Policy> {
        let mut policy = self.find_policy(name).await?;
        policy.enabled = enabled;
        // Enabling asks for what adding asked: a broad policy was confirmed then.
        self.save_policy(policy, true).await
    }

    pub async fn delete_policy(&self, name: &str) -> Result<Policy> {
        let policy = self.find_policy(name).await?;
        let id = policy.id;
        self.db(move |s| s.delete_policy(id)).await?;
        self.policies_changed().await?;
        Ok(policy)
    }

    async fn policies_changed(&self) -> Result<()> {
        self.refresh_policies().await?;
        self.emit(Event::AlertsChanged);
        Ok(())
    }

    /// What `policy` would have raised over the stored activities of the last `days`
    /// days, raising nothing.
    pub async fn test_policy(&self, policy: Policy, days: u32) -> Result<PolicyTest> {
        let since = now_micros() - i64::from(days.max(1)) * 24 * 3_600_000_000;
        if policy.detector == Detector::RiskyGrant {
            let now = now_micros();
            let grants = self.db(|s| s.grants(None)).await?;
            let risky = grants.iter().map(|(_, g)| g).filter(|g| {
                g.granted_at.is_some_and(|t| t >= since) && !g.risky_scopes().is_empty()
            });
            let alerts: Vec<Alert> = risky
                .enumerate()
                .map(|(i, g)| Alert::for_grant(i as u64 + 1, &policy, g, now))
                .collect();
            return Ok(PolicyTest {
                since,
                matched: alerts.len(),
                truncated: false,
                alerts,
            });
        }
        let query = self.bind_policy(&policy.filter).await?;
        let (mut found, truncated) = self
            .log(move |l| {
                let mut found = Vec::new();
                let mut after = None;
                loop {
                    let page = l.query(&query, 2_000, after)?;
                    let old = page.items.last().is_none_or(|a| a.time < since);
                    found.extend(page.items.into_iter().filter(|a| a.time >= since));
                    if found.len() >= TEST_LIMIT {
                        found.truncate(TEST_LIMIT);
                        return Ok((found, true));
                    }
                    match page.next {
                        Some(next) if !old => after = Some(next),
                        _ => return Ok((found, false)),
                    }
                }
            })
            .await?;
        found.reverse();
        if policy.detector == Detector::InactiveActor {
            let mut known: HashMap<(u64, String), bool> = HashMap::new();
            for a in &found {
                let key = (a.instance.0, a.actor.clone());
                if let std::collections::hash_map::Entry::Vacant(slot) = known.entry(key) {
                    let (i, actor) = slot.key().clone();
                    slot.insert(self.db(move |s| s.account_inactive(i, &actor)).await?);
                }
            }
            found.retain(|a| known[&(a.instance.0, a.actor.clone())]);
        }
        let now = now_micros();
        let groups = self.groups().await?;
        let group_name = |id: u64| {
            groups
                .iter()
                .find(|g| g.id.0 == id)
                .map_or_else(|| format!("group #{id}"), |g| g.name.clone())
        };
        let mut windows: HashMap<u64, Window> = HashMap::new();
        let mut alerts: Vec<Alert> = Vec::new();
        // A match's seq here is its place in `found`.
        let seen = |seq: usize| {
            let a = &found[seq];
            Seen {
                time: a.time,
                seq: seq as u64,
                id: &a.id,
                actor: &a.actor,
                country: a.country.as_deref(),
            }
        };
        for (i, a) in found.iter().enumerate() {
            let s = seen(i);
            let mut keys = Vec::new();
            policy
                .rule
                .per
                .windows(&a.actor, a.ip.as_deref(), &a.groups, |w| keys.push(w));
            for key in keys {
                let window = windows.entry(key).or_default();
                // Nobody closes an alert during a test: every one takes later matches.
                match window.step(&policy, &s, |_| true) {
                    Step::Skip | Step::Wait => {}
                    Step::Join { alert } => alerts[alert as usize - 1].add(&s, now),
                    Step::Raise { marks, detail } => {
                        let id = alerts.len() as u64 + 1;
                        let name = policy.rule.per.key(&s, a.ip.as_deref(), key, group_name);
                        let mut alert = Alert::new(id, &policy, name, detail, now);
                        for m in &marks {
                            alert.add(&seen(m.seq as usize), now);
                        }
                        window.raised(id, alert.last, &policy.rule);
                        alerts.push(alert);
                    }
                }
            }
        }
        Ok(PolicyTest {
            since,
            matched: found.len(),
            truncated,
            alerts,
        })
    }

    /// Every alert, newest first.
    pub async fn alerts(&self) -> Result<Vec<Alert>> {
        let mut alerts = self.db(|s| s.alerts()).await?;
        alerts.reverse();
        Ok(alerts)
    }

    pub async fn alert(&self, id: u64) -> Result<AlertView> {
        let alert = self.db(move |s| s.alert(id)).await?;
        let deliveries = self
            .db(move |s| s.deliveries())
            .await?
            .into_iter()
            .filter(|d| d.alert == Some(id))
            .collect();
        Ok(AlertView { alert, deliveries })
    }

    pub async fn alert_counts(&self) -> Result<AlertCounts> {
        let alerts = self.db(|s| s.alerts()).await?;
        let deliveries = self.db(|s| s.deliveries()).await?;
        let state = |st| alerts.iter().filter(|a| a.state == st).count();
        Ok(AlertCounts {
            open: state(AlertState::Open),
            acknowledged: state(AlertState::Acknowledged),
            failing_notices: deliveries.iter().filter(|d| d.is_failing()).count(),
        })
    }

    /// Acknowledges, resolves or dismisses an alert, on the record: who and why.
    pub async fn change_alert(
        &self,
        id: u64,
        state: AlertState,
        comment: Option<String>,
    ) -> Result<Alert> {
        let change = StateChange {
            state,
            by: super::server::caller(),
            at: now_micros(),
            comment: comment
                .map(|c| text::sanitize(c.trim()))
                .filter(|c| !c.is_empty()),
        };
        let alert = self.db(move |s| s.change_alert(id, change)).await?;
        self.emit(Event::AlertsChanged);
        Ok(alert)
    }
}

/// Enough to catch a slip (a name where an address belongs); the relay has the last word.
fn plausible_address(a: &str) -> bool {
    a.split_once('@').is_some_and(|(user, host)| {
        !user.is_empty() && host.contains('.') && !a.contains(char::is_whitespace)
    })
}
