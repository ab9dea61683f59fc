//! Runs each scan when it is due (R-C4, R-G7), and on demand.

use std::time::Duration;

use super::{JobHandle, Local, Result};
use crate::domain::{GroupKind, GroupStatus, Micros, now_micros};
use crate::store::ScanKind;

/// True when work last attempted at `last` is due again at `now`.
fn due(last: Option<Micros>, now: Micros, interval: Duration) -> bool {
    let interval = i64::try_from(interval.as_micros()).unwrap_or(i64::MAX);
    last.is_none_or(|last| now.saturating_sub(last) >= interval)
}

impl Local {
    /// Starts the background loop that runs due scans. Idempotent.
    pub fn start_scheduler(&self) {
        let mut slot = self.inner.scheduler.lock().expect("scheduler lock");
        if slot.is_some() {
            return;
        }
        self.start_notifier();
        let svc = self.clone();
        *slot = Some(tokio::spawn(async move {
            loop {
                if let Err(e) = svc.run_due().await {
                    tracing::warn!("scheduler: {e}");
                }
                tokio::select! {
                    _ = tokio::time::sleep(svc.inner.intervals.tick) => {}
                    _ = svc.inner.wake.notified() => {}
                }
            }
        }));
    }

    /// Makes the scheduler look for due work now (after a connect or an import).
    pub(super) fn wake_scheduler(&self) {
        self.inner.wake.notify_one();
    }

    /// Starts every scan and group sync that is due; returns their handles.
    pub async fn run_due(&self) -> Result<Vec<JobHandle>> {
        let now = now_micros();
        let intervals = self.inner.intervals;
        let instances = self
            .db(|s| {
                s.instances()?
                    .into_iter()
                    .map(|i| Ok((s.scans(i.id)?, i)))
                    .collect::<crate::store::Result<Vec<_>>>()
            })
            .await?;
        let mut started = Vec::new();
        for (scans, instance) in &instances {
            let last = |kind: ScanKind| {
                scans
                    .iter()
                    .find(|(k, _)| *k == kind)
                    .and_then(|(_, s)| s.last_attempt)
            };
            if due(last(ScanKind::Users), now, intervals.users) {
                started.push(self.scan_users(instance));
            }
            if due(last(ScanKind::Activities), now, intervals.activities) {
                started.push(self.scan_activities(instance));
            }
        }
        for group in self.groups().await? {
            if !matches!(group.kind, GroupKind::Imported { .. }) {
                continue;
            }
            let first = group.status == GroupStatus::Importing;
            let attempted = self
                .inner
                .group_attempts
                .lock()
                .expect("attempts lock")
                .get(&group.id)
                .copied();
            if first && attempted.is_none()
                || due(attempted.or(group.last_sync), now, intervals.groups)
            {
                self.inner
                    .group_attempts
                    .lock()
                    .expect("attempts lock")
                    .insert(group.id, now);
                let job = self.start_group_sync(group.id, &group.name);
                started.extend(self.mirrors_after(&job, group.id).await?);
                started.push(job);
            }
        }
        started.extend(self.due_external(now, intervals.groups).await?);
        Ok(started)
    }

    /// One kind of scan of one instance, now: its user scan, its activity
    /// scan, or the membership syncs of its imported groups.
    pub async fn scan_now(&self, instance: &str, kind: ScanKind) -> Result<Vec<JobHandle>> {
        let instance = self.find_instance(instance).await?;
        Ok(match kind {
            ScanKind::Users => vec![self.scan_users(&instance)],
            ScanKind::Activities => vec![self.scan_activities(&instance)],
            ScanKind::Groups => self
                .groups()
                .await?
                .into_iter()
                .filter(|g| matches!(g.kind, GroupKind::Imported { instance: i, .. } if i == instance.id))
                .map(|g| self.start_group_sync(g.id, &g.name))
                .collect(),
        })
    }

    /// `casbah sync`: every scan of the instance (or of all), and every
    /// imported group's membership, now.
    pub async fn sync_now(&self, instance: Option<&str>) -> Result<Vec<JobHandle>> {
        let instances = match instance {
            Some(name) => vec![self.find_instance(name).await?],
            None => self.db(|s| s.instances()).await?,
        };
        let mut started = Vec::new();
        for instance in &instances {
            started.push(self.scan_users(instance));
            started.push(self.scan_activities(instance));
        }
        for group in self.groups().await? {
            if let GroupKind::Imported { instance, .. } = group.kind
                && instances.iter().any(|i| i.id == instance)
            {
                let job = self.start_group_sync(group.id, &group.name);
                started.extend(self.mirrors_after(&job, group.id).await?);
                started.push(job);
            }
        }
        Ok(started)
    }

    /// Mirrors (R-X6) and the Entra groups access evaluation follows (R-X5)
    /// that were not synced within `interval`.
    async fn due_external(&self, now: Micros, interval: Duration) -> Result<Vec<JobHandle>> {
        let mut started = Vec::new();
        for (key, last) in self.external_work().await? {
            let attempted = self
                .inner
                .external_attempts
                .lock()
                .expect("attempts lock")
                .get(&key)
                .copied();
            if !due(attempted.or(last), now, interval) {
                continue;
            }
            self.inner
                .external_attempts
                .lock()
                .expect("attempts lock")
                .insert(key.clone(), now);
            started.extend(self.start_external(key));
        }
        Ok(started)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000_000;

    // R-C4
    #[test]
    fn work_never_done_is_due() {
        assert!(due(None, 0, Duration::from_secs(3600)));
    }

    // R-C4, R-G7
    #[test]
    fn work_is_due_once_its_interval_has_passed() {
        let hour = Duration::from_secs(3600);
        assert!(!due(Some(0), 59 * MINUTE, hour));
        assert!(due(Some(0), 60 * MINUTE, hour));
    }
}
