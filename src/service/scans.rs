//! The periodic scans of an instance (R-C4): users with admins and domains,
//! and activities from every stream, each page committed with its cursor.

use super::{Event, JobHandle, JobId, JobKind, Result, Service};
use crate::connectors::Connector;
use crate::domain::group::split_active;
use crate::domain::{AutoGroup, Instance, InstanceId, now_micros};
use crate::store::{IngestContext, ScanKind};

/// A scan never reads more than this many pages in one run, so one busy
/// stream cannot starve the others; the next run resumes from the cursor.
const MAX_PAGES_PER_SCAN: usize = 2_000;

fn domains_key(instance: InstanceId) -> String {
    format!("org-domains/{}", instance.0)
}

impl Service {
    pub(super) fn scan_users(&self, instance: &Instance) -> JobHandle {
        let id = instance.id;
        let label = format!("scan users of {}", instance.name);
        self.spawn_job(
            JobKind::ScanUsers { instance: id },
            label,
            move |svc, job| async move {
                svc.recorded(id, ScanKind::Users, svc.run_user_scan(job, id))
                    .await
            },
        )
    }

    pub(super) fn scan_activities(&self, instance: &Instance) -> JobHandle {
        let id = instance.id;
        let label = format!("scan activities of {}", instance.name);
        self.spawn_job(
            JobKind::ScanActivities { instance: id },
            label,
            move |svc, job| async move {
                svc.recorded(id, ScanKind::Activities, svc.run_activity_scan(job, id))
                    .await
            },
        )
    }

    /// R-C4: every scan leaves its time and, on failure, its reason.
    pub(super) async fn recorded(
        &self,
        instance: InstanceId,
        kind: ScanKind,
        scan: impl std::future::Future<Output = Result<String>>,
    ) -> Result<String> {
        let outcome = scan.await;
        let error = outcome.as_ref().err().map(ToString::to_string);
        self.db(move |s| s.record_scan(instance, kind, now_micros(), error))
            .await?;
        self.emit(Event::InstancesChanged);
        outcome
    }

    async fn run_user_scan(&self, job: JobId, id: InstanceId) -> Result<String> {
        let instance = self.db(move |s| s.instance(id)).await?;
        let connector = self.connector(&instance).await?;
        let mut next: Option<String> = None;
        let mut count = 0u64;
        let mut seen = std::collections::HashSet::new();
        loop {
            let page = connector.users(next.as_deref()).await?;
            count += page.items.len() as u64;
            let users = page.items;
            seen.extend(users.iter().map(|u| u.id.clone()));
            self.db(move |s| s.upsert_users(id, &users)).await?;
            self.progress(job, count, None, format!("{count} users"));
            match page.next {
                Some(n) => next = Some(n),
                None => break,
            }
        }
        // Only a scan that read every page knows who is gone.
        let retired = self.db(move |s| s.retire_missing_users(id, &seen)).await?;
        if let Some(auto) = AutoGroup::administrators_of(instance.app) {
            let (admins, skipped) = split_active(connector.admins().await?);
            let admin_count = admins.len();
            self.db(move |s| {
                let group = s.ensure_auto_group(&auto, &auto.name(), now_micros())?;
                s.sync_membership(group.id, &admins, skipped, now_micros())
            })
            .await?;
            self.emit(Event::GroupsChanged);
            tracing::debug!(instance = %instance.name, admin_count, "administrators synced");
        }
        self.refresh_org_domains(id, connector.as_ref()).await?;
        Ok(match retired {
            0 => format!("{count} users"),
            n => format!("{count} users, {n} no longer listed by the vendor (marked deleted)"),
        })
    }

    async fn refresh_org_domains(
        &self,
        id: InstanceId,
        connector: &dyn Connector,
    ) -> Result<Vec<String>> {
        let domains = connector.org_domains().await?;
        let value = serde_json::to_string(&domains)
            .map_err(|e| super::ServiceError::Internal(e.to_string()))?;
        self.db(move |s| s.set_setting(&domains_key(id), &value))
            .await?;
        Ok(domains)
    }

    /// The organisation's domains across all instances (R-G1 External). An
    /// instance whose domains were never read is asked now, so the first
    /// activity scan already knows who is external.
    async fn org_domains(&self, id: InstanceId, connector: &dyn Connector) -> Result<Vec<String>> {
        let (mut all, known) = self
            .db(move |s| {
                let mut all = Vec::new();
                let mut known = false;
                for instance in s.instances()? {
                    if let Some(json) = s.setting(&domains_key(instance.id))? {
                        known |= instance.id == id;
                        // A value casbah wrote itself; an unreadable one only means "unknown".
                        all.extend(serde_json::from_str::<Vec<String>>(&json).unwrap_or_default());
                    }
                }
                Ok((all, known))
            })
            .await?;
        if !known {
            all.extend(self.refresh_org_domains(id, connector).await?);
        }
        all.sort();
        all.dedup();
        Ok(all)
    }

    async fn run_activity_scan(&self, job: JobId, id: InstanceId) -> Result<String> {
        let instance = self.db(move |s| s.instance(id)).await?;
        let connector = self.connector(&instance).await?;
        let ctx = IngestContext {
            org_domains: self.org_domains(id, connector.as_ref()).await?,
        };
        let mut inserted = 0u64;
        for stream in connector.activity_streams() {
            for _ in 0..MAX_PAGES_PER_SCAN {
                let cursor = self.db(move |s| s.cursor(id, stream)).await?;
                let batch = connector.activities(stream, cursor.as_deref()).await?;
                let more = batch.more;
                let ctx = ctx.clone();
                let report = self
                    .db(move |s| s.ingest(id, stream, batch.activities, &batch.cursor, &ctx))
                    .await?;
                inserted += report.inserted as u64;
                tracing::info!(
                    instance = id.0,
                    stream,
                    inserted = report.inserted,
                    duplicates = report.duplicates,
                    "ingested"
                );
                if report.inserted > 0 {
                    self.emit(Event::ActivitiesIngested {
                        instance: id,
                        count: report.inserted,
                    });
                }
                self.progress(
                    job,
                    inserted,
                    None,
                    format!("{stream}: {inserted} new activities"),
                );
                if !more {
                    break;
                }
            }
        }
        Ok(format!("{inserted} new activities"))
    }
}
