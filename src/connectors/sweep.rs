//! Sweeps over an audit log that answers newest first (Graph's sign-ins,
//! Google's Reports API), where no single page is a high-water mark.
//!
//! A sweep lists every record at or after `since`, one page per call, its
//! continuation (a link, a page token) kept in the cursor; only when it
//! reaches its last page does `since` move up to the newest record seen. The
//! boundary record is read again by the next sweep; the store drops the
//! repeats by id. The cursor is JSON, so a sweep cut short after any page
//! resumes where it stopped, even in another process.

use std::future::Future;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::{ActivityBatch, ConnectorError};
use crate::domain::Activity;

/// R-C6: how far back a new instance starts.
pub const BACKFILL: TimeDelta = TimeDelta::days(7);

/// Where a sweep stands: committed with each page as the stream's cursor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sweep {
    /// Every record at or after this moment is read by the sweep.
    pub since: DateTime<Utc>,
    /// The continuation of the sweep under way, as the vendor gave it.
    pub next: Option<String>,
    /// The newest record this sweep has seen so far.
    pub max_seen: Option<DateTime<Utc>>,
}

impl Sweep {
    /// The sweep a stored cursor describes; a first read (or a cursor casbah
    /// cannot read) starts `BACKFILL` back.
    pub fn resume(cursor: Option<&str>, vendor: &'static str, stream: &str) -> Sweep {
        let fresh = || Sweep {
            since: Utc::now() - BACKFILL,
            next: None,
            max_seen: None,
        };
        match cursor {
            None => fresh(),
            Some(c) => serde_json::from_str(c).unwrap_or_else(|e| {
                tracing::warn!(vendor, stream, error = %e, "unreadable cursor; reading the last week again");
                fresh()
            }),
        }
    }

    pub fn encode(&self) -> String {
        // A struct of strings and dates always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A record of this time was read.
    pub fn saw(&mut self, time: DateTime<Utc>) {
        self.max_seen = self.max_seen.max(Some(time));
    }

    /// The continuation outlived its server-side state: list from `since` again.
    pub fn restart(&mut self) {
        self.next = None;
        self.max_seen = None;
    }

    /// The page the sweep reads next: at its continuation (`follow`), or
    /// from `since` (`first`) when it starts — and when the continuation has
    /// outlived its server-side state (400, 404, 410), which restarts it.
    pub async fn page<P, First, FirstFut, FollowFut>(
        &mut self,
        vendor: &'static str,
        stream: &str,
        first: First,
        follow: impl FnOnce(String) -> FollowFut,
    ) -> Result<P, ConnectorError>
    where
        First: Fn(DateTime<Utc>) -> FirstFut,
        FirstFut: Future<Output = Result<P, ConnectorError>>,
        FollowFut: Future<Output = Result<P, ConnectorError>>,
    {
        let Some(next) = self.next.clone() else {
            return first(self.since).await;
        };
        match follow(next).await {
            Err(
                ConnectorError::Vendor {
                    status: 400 | 410, ..
                }
                | ConnectorError::NotFound { .. },
            ) => {
                tracing::warn!(vendor, stream, "stale continuation; restarting the sweep");
                self.restart();
                first(self.since).await
            }
            other => other,
        }
    }

    /// The batch a page makes: the activities of its records (each read
    /// with its time), and the cursor after it (`next` continuing the sweep).
    pub fn batch<A>(
        &mut self,
        records: impl IntoIterator<Item = (DateTime<Utc>, A)>,
        next: Option<String>,
    ) -> ActivityBatch
    where
        A: IntoIterator<Item = Activity>,
    {
        let mut activities = Vec::new();
        for (time, made) in records {
            self.saw(time);
            activities.extend(made);
        }
        let more = self.turn(next);
        ActivityBatch {
            activities,
            cursor: self.encode(),
            more,
        }
    }

    /// Ends a page: `next` continues the sweep; `None` closes it, moving
    /// `since` up to the newest record seen. Returns whether more remain.
    pub fn turn(&mut self, next: Option<String>) -> bool {
        if next.is_some() {
            self.next = next;
            return true;
        }
        // Never past now: one record stamped in the future must not hide
        // everything logged before that moment.
        let newest = self.max_seen.unwrap_or(self.since).min(Utc::now());
        self.since = newest.max(self.since);
        self.restart();
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A continuation the vendor no longer knows starts the sweep over from
    // `since`; any other failure is the caller's.
    #[tokio::test]
    async fn a_stale_continuation_restarts_the_sweep() {
        let since = at("2024-01-01T00:00:00Z");
        let mut s = Sweep {
            since,
            next: Some("old".into()),
            max_seen: Some(at("2024-01-02T00:00:00Z")),
        };
        let first = |from: DateTime<Utc>| async move { Ok(format!("from {from}")) };
        let stale = |_| async {
            Err::<String, _>(ConnectorError::Vendor {
                vendor: "T",
                status: 400,
                code: "invalid".into(),
                message: "Invalid Input: pageToken".into(),
            })
        };
        assert_eq!(
            s.page("T", "s", first, stale).await.unwrap(),
            format!("from {since}")
        );
        assert_eq!((s.next.as_deref(), s.max_seen), (None, None));
        s.next = Some("next".into());
        let followed = |t: String| async move { Ok(format!("at {t}")) };
        assert_eq!(s.page("T", "s", first, followed).await.unwrap(), "at next");
        let broken = |_| async {
            Err::<String, _>(ConnectorError::Protocol {
                vendor: "T",
                detail: "x".into(),
            })
        };
        assert!(s.page("T", "s", first, broken).await.is_err());
        assert_eq!(s.next.as_deref(), Some("next"), "kept for the next try");
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    // R-C6: a first read starts about a week back.
    #[test]
    fn a_new_cursor_starts_a_week_back() {
        let s = Sweep::resume(None, "T", "s");
        let age = Utc::now() - s.since;
        assert!(
            age >= BACKFILL && age < BACKFILL + TimeDelta::minutes(1),
            "{age}"
        );
        let garbled = Sweep::resume(Some("{not json"), "T", "s");
        assert!(Utc::now() - garbled.since >= BACKFILL);
    }

    #[test]
    fn cursors_round_trip() {
        let s = Sweep {
            since: at("2024-01-01T00:00:00Z"),
            next: Some("http://x/v1.0/auditLogs/signIns?$skiptoken=a".into()),
            max_seen: Some(at("2024-01-02T03:04:05.1234567Z")),
        };
        assert_eq!(Sweep::resume(Some(&s.encode()), "T", "s"), s);
    }

    #[test]
    fn since_moves_only_when_a_sweep_ends() {
        let mut s = Sweep {
            since: at("2024-01-01T00:00:00Z"),
            next: None,
            max_seen: None,
        };
        s.saw(at("2024-01-03T00:00:00Z"));
        s.saw(at("2024-01-02T00:00:00Z"));
        assert!(s.turn(Some("page 2".into())));
        assert_eq!(s.since, at("2024-01-01T00:00:00Z"));
        assert!(!s.turn(None));
        assert_eq!(s.since, at("2024-01-03T00:00:00Z"));
        assert_eq!((s.next, s.max_seen), (None, None));
        // A sweep that saw nothing, or only the future, never moves past now.
        let mut future = Sweep::resume(None, "T", "s");
        future.saw(Utc::now() + TimeDelta::days(30));
        future.turn(None);
        assert!(future.since <= Utc::now());
    }
}
