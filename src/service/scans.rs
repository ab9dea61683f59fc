//! The periodic scans of an instance (R-C4): users with admins and domains,
//! and activities from every stream, each page committed with its cursor.

use std::sync::Arc;

use super::{Event, JobHandle, JobId, JobKind, Local, Result};
use crate::connectors::{Connector, ConnectorError, DomainTally};
use crate::domain::group::split_active;
use crate::domain::{Activity, AutoGroup, Instance, InstanceId, Micros, now_micros};
use crate::store::{Appender, Committed, IngestContext, NewPage, ScanKind};

/// A scan never reads more than this many pages in one run, so one busy
/// stream cannot starve the others; the next run resumes from the cursor.
const MAX_PAGES_PER_SCAN: usize = 2_000;

/// Records gathered from a stream's pages before they are committed together.
const COMMIT_RECORDS: usize = 1_000;

fn domains_key(instance: InstanceId) -> String {
    format!("org-domains/{}", instance.0)
}

impl Local {
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

    /// R-C4: every scan leaves its time and, on failure, its reason; a
    /// successful one its note.
    pub(super) async fn recorded(
        &self,
        instance: InstanceId,
        kind: ScanKind,
        scan: impl std::future::Future<Output = Result<Scanned>>,
    ) -> Result<String> {
        let outcome = scan.await;
        let stored = match &outcome {
            Ok(scanned) => Ok(scanned.note.clone()),
            Err(e) => Err(e.to_string()),
        };
        self.db(move |s| s.record_scan(instance, kind, now_micros(), stored))
            .await?;
        self.emit(Event::InstancesChanged);
        outcome.map(|s| match s.note {
            Some(note) => format!("{}; {note}", s.summary),
            None => s.summary,
        })
    }

    async fn run_user_scan(&self, job: JobId, id: InstanceId) -> Result<Scanned> {
        let instance = self.db(move |s| s.instance(id)).await?;
        let connector = self.connector(&instance).await?;
        let mut next: Option<String> = None;
        let mut count = 0u64;
        let mut seen = std::collections::HashSet::new();
        let mut domains = DomainTally::new();
        let mut unreadable = 0;
        // The last scan's count is what this one will about come to.
        let expected = self
            .db(move |s| s.user_count(id))
            .await
            .ok()
            .filter(|n| *n > 0);
        loop {
            let page = connector.users(next.as_deref()).await?;
            count += page.items.len() as u64;
            unreadable += page.skipped;
            let users = page.items;
            seen.extend(users.iter().map(|u| u.id.clone()));
            tally_domains(&mut domains, &users);
            self.db(move |s| s.upsert_users(id, &users)).await?;
            let of = expected.map_or_else(String::new, |n| format!(" of about {n}"));
            self.progress(job, count, expected, format!("users {count}{of}"));
            match page.next {
                Some(n) => next = Some(n),
                None => break,
            }
        }
        // Only a scan that read every page knows who is gone.
        let retired = self.db(move |s| s.retire_missing_users(id, &seen)).await?;
        if let Some(auto) = AutoGroup::administrators_of(instance.app) {
            let listed = connector.admins().await?;
            let (admins, mut skipped) = split_active(listed.items);
            skipped.add_unreadable(listed.skipped);
            let admin_count = admins.len();
            self.db(move |s| {
                let group = s.ensure_auto_group(&auto, &auto.name(), now_micros())?;
                s.sync_membership(group.id, &admins, skipped, now_micros())
            })
            .await?;
            self.emit(Event::GroupsChanged);
            tracing::debug!(instance = %instance.name, admin_count, "administrators synced");
        }
        self.refresh_org_domains(id, connector.as_ref(), &domains)
            .await?;
        self.progress(job, count, expected, "app grants");
        let grants = self.scan_grants(id, connector.as_ref()).await;
        let mut summary = match retired {
            0 => format!("{count} users"),
            n => format!("{count} users, {n} no longer listed by the vendor (marked deleted)"),
        };
        if let Ok(Some(n)) = &grants {
            summary.push_str(&format!(", {n} app grants"));
        }
        // One bad record is one skipped record, said where the administrator looks.
        let mut notes: Vec<String> = match unreadable {
            0 => Vec::new(),
            1 => {
                vec!["1 account record could not be read and was left out (see casbah.log)".into()]
            }
            n => vec![format!(
                "{n} account records could not be read and were left out (see casbah.log)"
            )],
        };
        // The users are read; grants that cannot be are said, not a failed scan.
        if let Err(e) = grants {
            notes.push(format!("app grants not read: {e}"));
        }
        let note = (!notes.is_empty()).then(|| notes.join("; "));
        Ok(Scanned { summary, note })
    }

    /// Issue 11: the instance's app grants, read whole and kept in place of the
    /// last ones; how many, where its app lists them.
    async fn scan_grants(
        &self,
        id: InstanceId,
        connector: &dyn Connector,
    ) -> Result<Option<usize>> {
        let accounts = self.db(move |s| s.instance_users(id)).await?;
        let Some(grants) = connector.grants(&accounts).await? else {
            return Ok(None);
        };
        let n = grants.len();
        // The first read finds every grant new: only later ones tell of new grants.
        let read_before = self
            .db(move |s| s.scans(id))
            .await?
            .iter()
            .any(|(kind, s)| *kind == ScanKind::Users && s.last_success.is_some());
        let raised = self
            .db(move |s| s.replace_grants(id, &grants, read_before))
            .await?;
        self.emit(Event::GrantsChanged);
        if raised > 0 {
            self.emit(Event::AlertsChanged);
            self.wake_notifier();
        }
        Ok(Some(n))
    }

    async fn refresh_org_domains(
        &self,
        id: InstanceId,
        connector: &dyn Connector,
        accounts: &DomainTally,
    ) -> Result<Vec<String>> {
        let domains = connector.org_domains(accounts).await?;
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
            let domains = self
                .refresh_org_domains(id, connector, &DomainTally::new())
                .await?;
            all.extend(domains);
        }
        all.sort();
        all.dedup();
        Ok(all)
    }

    /// Each page is fetched and prepared while the one before it commits (issue 2); pages
    /// still commit in order, each with its cursor. A stream stops at its first page that
    /// fails, with nothing after it committed (DESIGN §3 Durability), and the scan goes on
    /// with the other streams: one failing feed does not starve the rest.
    async fn run_activity_scan(&self, job: JobId, id: InstanceId) -> Result<Scanned> {
        let instance = self.db(move |s| s.instance(id)).await?;
        // How a record is filed (a sign-in name joined to the account's e-mail, an
        // administrator's tags) depends on the accounts: the first time, read them first,
        // so the result does not depend on which scan happened to finish first.
        let scans = self.db(move |s| s.scans(id)).await?;
        let users_read = scans
            .iter()
            .any(|(kind, s)| *kind == ScanKind::Users && s.last_success.is_some());
        if !users_read && let Err(e) = self.scan_users(&instance).wait().await {
            tracing::warn!(instance = %instance.name, "activities read before the accounts: {e}");
        }
        let connector = self.connector(&instance).await?;
        self.refresh_policies().await?;
        let ctx = IngestContext {
            org_domains: self.org_domains(id, connector.as_ref()).await?,
            locator: self.locator().await?,
            watching: Some(self.inner.watching.clone()),
        };
        let mut intake = Intake {
            job,
            id,
            appender: Some(Arc::clone(&self.inner.log).appender(ctx.clone())),
            ctx,
            inserted: 0,
            reading: Reading::default(),
        };
        let mut failed = Vec::new();
        let mut notes = Vec::new();
        let read = async {
            for stream in connector.activity_streams() {
                let outcome = self
                    .read_stream(&mut intake, stream, connector.as_ref())
                    .await?;
                // Each stream has its own last success and error (R-C4).
                let stored = match &outcome {
                    Ok(note) => Ok(note.clone()),
                    Err(e) => Err(e.to_string()),
                };
                self.db(move |s| s.record_stream(id, stream, now_micros(), stored))
                    .await?;
                match outcome {
                    Ok(note) => notes.extend(note),
                    Err(e) => {
                        tracing::warn!(instance = id.0, stream, error = %e, "activity stream failed");
                        failed.push(e);
                    }
                }
            }
            Ok::<(), super::ServiceError>(())
        };
        let outcome = read.await;
        // Also after a failure: the page in flight is committed or not before the scan ends.
        if let Some(done) = appended(&mut intake.appender, |a| a.finish()).await? {
            self.committed(&mut intake, done);
        }
        outcome?;
        let summary = format!("{} new activities", intake.inserted);
        match failed.len() {
            0 => Ok(Scanned {
                summary,
                note: (!notes.is_empty()).then(|| notes.join("; ")),
            }),
            // The vendor's own words say most; the other streams' count says what still came in.
            1 => Err(failed.remove(0).into()),
            n => Err(super::ServiceError::Failed(format!(
                "{n} activity streams failed ({summary} from the others): {}",
                failed
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ))),
        }
    }

    /// Reads one stream from its cursor until it is caught up (or `MAX_PAGES_PER_SCAN`),
    /// each page into the pipeline. The vendor's failure is the stream's outcome (its note,
    /// or its error), for the scan to go on with the next stream; the store's ends the scan.
    async fn read_stream(
        &self,
        intake: &mut Intake,
        stream: &'static str,
        connector: &dyn Connector,
    ) -> Result<std::result::Result<Option<String>, ConnectorError>> {
        let id = intake.id;
        intake.reading = Reading::default();
        let cursor = self.log(move |l| l.cursor(id, stream)).await?;
        let mut fetched = connector.activities(stream, cursor.as_deref()).await;
        let mut records = Vec::new();
        for _ in 0..MAX_PAGES_PER_SCAN {
            let batch = match fetched {
                Ok(batch) => batch,
                Err(e @ ConnectorError::NotAvailable { .. }) => return Ok(Ok(Some(e.to_string()))),
                Err(e) => return Ok(Err(e)),
            };
            let more = batch.more;
            let next = batch.cursor;
            records.extend(batch.activities);
            // Small vendor pages (GitHub's hundred) are gathered into one commit: each
            // commit waits for the disk, and holds the records with the cursor after them.
            if more && records.len() < COMMIT_RECORDS {
                fetched = connector.activities(stream, Some(&next)).await;
                continue;
            }
            // The next page is asked for while this one is prepared and committed: the
            // vendor's answer and its decoding overlap with the store's work. It follows
            // this page, committed or not yet: if this one fails, the stream stops there,
            // the next page is dropped, and the next run starts from the stored cursor.
            let mut page = NewPage {
                instance: id,
                stream: stream.to_string(),
                records: std::mem::take(&mut records),
                cursor: next.clone(),
            };
            intake.reading.read(&page.records);
            let (config, ctx) = (Arc::clone(&self.inner.store), intake.ctx.clone());
            let store = appended(&mut intake.appender, move |a| {
                config.guard(|s| s.settle(&mut page.records, &ctx))?;
                a.push(page)
            });
            let following = async {
                match more {
                    true => Some(connector.activities(stream, Some(&next)).await),
                    false => None,
                }
            };
            let (stored, following) = tokio::join!(store, following);
            if let Some(done) = stored? {
                self.committed(intake, done);
            }
            match following {
                Some(f) => fetched = f,
                None => break,
            }
        }
        Ok(Ok(None))
    }

    /// Reports a committed page.
    fn committed(&self, intake: &mut Intake, done: Committed) {
        let Committed { stream, report } = done;
        intake.inserted += report.inserted as u64;
        tracing::info!(
            instance = intake.id.0,
            stream,
            inserted = report.inserted,
            duplicates = report.duplicates,
            "ingested"
        );
        if report.inserted > 0 {
            self.emit(Event::ActivitiesIngested {
                instance: intake.id,
                count: report.inserted,
            });
        }
        if report.alerts != Default::default() {
            tracing::info!(
                raised = report.alerts.raised,
                joined = report.alerts.joined,
                "alerts"
            );
            self.emit(Event::AlertsChanged);
            if report.alerts.raised > 0 {
                self.wake_notifier();
            }
        }
        let (done, total, reach) = intake.reading.reach(now_micros());
        self.progress(
            intake.job,
            done,
            total,
            format!("{stream}: {} new activities{reach}", intake.inserted),
        );
    }
}

/// How far a stream's reading has come: pages read, and the span of time from
/// the first record read to the newest, which is what a backfill walks through.
#[derive(Debug, Default)]
struct Reading {
    pages: u64,
    first: Option<Micros>,
    newest: Option<Micros>,
}

impl Reading {
    fn read(&mut self, records: &[Activity]) {
        self.pages += 1;
        for a in records {
            self.first = Some(self.first.map_or(a.time, |f| f.min(a.time)));
            self.newest = Some(self.newest.map_or(a.time, |n| n.max(a.time)));
        }
    }

    /// Seconds read and seconds to read, and what to say of it: the pages,
    /// and on a backfill of more than a day, which day of how many.
    fn reach(&self, now: Micros) -> (u64, Option<u64>, String) {
        let pages = match self.pages {
            1 => " · 1 page".to_owned(),
            n => format!(" · {n} pages"),
        };
        let (Some(first), Some(newest)) = (self.first, self.newest) else {
            return (0, None, pages);
        };
        const DAY: Micros = 86_400_000_000;
        let secs = |t: Micros| u64::try_from(t / 1_000_000).unwrap_or(0);
        let (done, total) = (newest - first, (now - first).max(newest - first));
        let days = (total + DAY - 1) / DAY;
        let day = (done / DAY + 1).min(days);
        let backfill = if days >= 2 {
            format!(", backfill day {day} of {days}")
        } else {
            String::new()
        };
        (secs(done), Some(secs(total)), format!("{pages}{backfill}"))
    }
}

/// One activity scan's ingestion: where its pages go, and how many were new.
struct Intake {
    job: JobId,
    id: InstanceId,
    /// Empty only after an append panicked, which ends the scan.
    appender: Option<Box<dyn Appender>>,
    ctx: IngestContext,
    inserted: u64,
    /// The stream being read now.
    reading: Reading,
}

/// What a scan did, and what it found worth saying besides.
pub(super) struct Scanned {
    summary: String,
    note: Option<String>,
}

impl From<String> for Scanned {
    fn from(summary: String) -> Scanned {
        Scanned {
            summary,
            note: None,
        }
    }
}

/// R-G1: counts the e-mail domains of the organisation's own live accounts.
fn tally_domains(tally: &mut DomainTally, users: &[crate::domain::RemoteUser]) {
    use crate::domain::{UserStatus, UserType};
    for user in users {
        if user.user_type == UserType::Member
            && user.status != UserStatus::Deleted
            && let Some((_, domain)) = user.email.rsplit_once('@')
            && !domain.is_empty()
        {
            *tally.entry(domain.to_lowercase()).or_default() += 1;
        }
    }
}

/// Runs an append step on the blocking pool, since it prepares a page and may wait for
/// a commit. `slot` is empty only after a step panicked, which ends the scan.
async fn appended<T, F>(slot: &mut Option<Box<dyn Appender>>, step: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(&mut dyn Appender) -> crate::store::Result<T> + Send + 'static,
{
    let mut appender = slot
        .take()
        .ok_or_else(|| super::ServiceError::Internal("the ingest pipeline stopped".to_string()))?;
    let (appender, out) = tokio::task::spawn_blocking(move || {
        let out = step(appender.as_mut());
        (appender, out)
    })
    .await
    .map_err(super::ServiceError::join)?;
    *slot = Some(appender);
    Ok(out?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::filter::arbitrary;
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::TestRunner;

    const DAY: Micros = 86_400_000_000;

    fn at(times: &[Micros]) -> Vec<Activity> {
        let mut runner = TestRunner::deterministic();
        times
            .iter()
            .map(|&time| {
                let mut a = arbitrary::activity(time)
                    .new_tree(&mut runner)
                    .expect("an activity")
                    .current();
                a.time = time;
                a
            })
            .collect()
    }

    // Issue 13 (visible operations): a backfill says which day of how many it is on,
    // with its pages, and its bar runs over the time from the first record to now.
    #[test]
    fn a_backfill_says_which_day_of_how_many() {
        let now = 100 * DAY;
        let mut reading = Reading::default();
        assert_eq!(reading.reach(now), (0, None, " · 0 pages".to_owned()));
        reading.read(&at(&[93 * DAY, 93 * DAY + 5]));
        reading.read(&at(&[95 * DAY + 1]));
        let (done, total, said) = reading.reach(now);
        assert_eq!(said, " · 2 pages, backfill day 3 of 7");
        assert_eq!((done, total), (2 * 86_400, Some(7 * 86_400)));
        let mut recent = Reading::default();
        recent.read(&at(&[now - 60_000_000]));
        assert_eq!(recent.reach(now).2, " · 1 page", "no backfill to speak of");
    }
}
