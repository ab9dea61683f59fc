//! The Office 365 Management Activity API: SharePoint, OneDrive, Exchange,
//! Entra, DLP and general workload audit records (the "Office 365
//! activities" and "Office 365 files" components). What one record says is
//! read in `office_record`.
//!
//! Content is listed by when it became available, in windows of at most 24
//! hours over the last 7 days. A cursor holds the window being read, the
//! listing page within it, and the content blobs of that page already read,
//! so a resumed read fetches no blob twice. Records inside blobs are in no
//! particular order and blobs may arrive late; the store drops duplicates by id.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::activities::BACKFILL;
use super::api::Call;
use super::auth::Scope;
use super::endpoints::{follow, url};
use super::{Microsoft365, VENDOR, clean};
use crate::connectors::http::{BodyError, Reply, json};
use crate::connectors::{ActivityBatch, ConnectorError};
use crate::domain::Activity;

const PERMISSION: &str = "ActivityFeed.Read (Office 365 Management APIs)";
/// The API refuses windows longer than this.
const MAX_WINDOW: TimeDelta = TimeDelta::hours(24);
/// A new feed starts this far inside the 7-day edge, which moves on while
/// the first windows are read.
const RETENTION_MARGIN: TimeDelta = TimeDelta::minutes(5);
/// A cursor this close to the edge is about to be refused by the API.
const EDGE_GUARD: TimeDelta = TimeDelta::seconds(30);
/// The API wants the end after the start; a shorter window waits for the next poll.
const MIN_WINDOW: TimeDelta = TimeDelta::seconds(1);
/// Blobs fetched per call, so that one batch stays a modest transaction.
const BLOBS_PER_CALL: usize = 8;
/// "The subscription is already enabled."
const ALREADY_ENABLED: &str = "AF20024";
/// "No subscription found for the specified content type."
const NO_SUBSCRIPTION: &str = "AF20022";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct FeedCursor {
    /// Start of the window being read; everything before it has been read.
    start: DateTime<Utc>,
    /// End of that window, fixed when it was first listed.
    end: Option<DateTime<Utc>>,
    /// The `NextPageUri` being read within the window, if past the first page.
    page: Option<String>,
    /// Content ids on that page already read.
    done: Vec<String>,
}

impl FeedCursor {
    fn resume(cursor: Option<&str>, content_type: &str, now: DateTime<Utc>) -> FeedCursor {
        let fresh = FeedCursor {
            start: now - BACKFILL + RETENTION_MARGIN,
            end: None,
            page: None,
            done: Vec::new(),
        };
        let c = match cursor.map(serde_json::from_str::<FeedCursor>) {
            None => return fresh,
            Some(Ok(c)) => c,
            Some(Err(e)) => {
                tracing::warn!(vendor = VENDOR, content_type, error = %e, "unreadable cursor; reading the last week again");
                return fresh;
            }
        };
        if c.start < now - BACKFILL + EDGE_GUARD {
            tracing::warn!(vendor = VENDOR, content_type, start = %c.start, "cursor older than the API keeps; content in between is lost");
            return fresh;
        }
        c
    }

    fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Blob {
    content_id: String,
    content_uri: String,
}

/// The Management API's own time format: UTC, to the second, no zone.
fn api_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

fn listing(reply: &Reply) -> Result<(Vec<Blob>, Option<String>), BodyError> {
    let blobs = json(reply)?;
    let next = reply
        .header("NextPageUri")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    Ok((blobs, next))
}

impl Microsoft365 {
    fn feed_url(&self, tail: &[&str], query: &[(&str, &str)]) -> url::Url {
        let mut segments = vec!["api", "v1.0", self.tenant.as_str(), "activity", "feed"];
        segments.extend_from_slice(tail);
        url(&self.hosts.manage, &segments, query)
    }

    /// Starts the subscription once per process; "already enabled" is success.
    async fn subscribe(&self, content_type: &'static str) -> Result<(), ConnectorError> {
        let mut subscribed = self.subscribed.lock().await;
        if subscribed.contains(&content_type) {
            return Ok(());
        }
        let mut call = Call::get(
            Scope::Manage,
            self.feed_url(
                &["subscriptions", "start"],
                &[("contentType", content_type)],
            ),
            PERMISSION,
            format!("the {content_type} subscription"),
        );
        call.method = reqwest::Method::POST;
        match self.call::<Value>(&call).await {
            Ok(_) => tracing::info!(vendor = VENDOR, content_type, "subscription started"),
            Err(ConnectorError::Vendor { code, .. }) if code == ALREADY_ENABLED => {}
            Err(e) => return Err(e),
        }
        subscribed.push(content_type);
        Ok(())
    }

    async fn list_content(
        &self,
        content_type: &'static str,
        url: url::Url,
    ) -> Result<(Vec<Blob>, Option<String>), ConnectorError> {
        let list = Call::get(
            Scope::Manage,
            url,
            PERMISSION,
            format!("the {content_type} content list"),
        );
        match self.call_with(&list, listing).await {
            // Stopped from outside since this process started it.
            Err(ConnectorError::Vendor { code, .. }) if code == NO_SUBSCRIPTION => {
                self.subscribed.lock().await.retain(|t| *t != content_type);
                self.subscribe(content_type).await?;
                self.call_with(&list, listing).await
            }
            other => other,
        }
    }

    pub(super) async fn read_office(
        &self,
        content_type: &'static str,
        cursor: Option<&str>,
    ) -> Result<ActivityBatch, ConnectorError> {
        let now = Utc::now();
        let mut c = FeedCursor::resume(cursor, content_type, now);
        let end = match c.end {
            Some(end) => end,
            None if now - c.start < MIN_WINDOW => {
                return Ok(ActivityBatch {
                    activities: Vec::new(),
                    cursor: c.encode(),
                    more: false,
                });
            }
            None => (c.start + MAX_WINDOW).min(now),
        };
        c.end = Some(end);
        self.subscribe(content_type).await?;

        let first_page = self.feed_url(
            &["subscriptions", "content"],
            &[
                ("contentType", content_type),
                ("startTime", &api_time(c.start)),
                ("endTime", &api_time(end)),
            ],
        );
        let (blobs, next_page) = match &c.page {
            None => self.list_content(content_type, first_page).await?,
            Some(page) => {
                let url = follow(page, &self.hosts.manage)?;
                match self.list_content(content_type, url).await {
                    // A page link that outlived the server's state: list the
                    // window again; repeated records are dropped by id.
                    Err(
                        ConnectorError::NotFound { .. }
                        | ConnectorError::Vendor {
                            status: 400..=499, ..
                        },
                    ) => {
                        tracing::warn!(
                            vendor = VENDOR,
                            content_type,
                            "stale page link; listing the window again"
                        );
                        c.page = None;
                        c.done.clear();
                        self.list_content(content_type, first_page).await?
                    }
                    other => other?,
                }
            }
        };

        let unread: Vec<&Blob> = blobs
            .iter()
            .filter(|b| !c.done.contains(&b.content_id))
            .collect();
        let mut activities = Vec::new();
        for blob in unread.iter().take(BLOBS_PER_CALL) {
            activities.extend(self.read_blob(content_type, blob).await?);
            c.done.push(blob.content_id.clone());
        }
        let more = if unread.len() > BLOBS_PER_CALL {
            true
        } else if let Some(page) = next_page {
            c.page = Some(page);
            c.done.clear();
            true
        } else {
            c.start = end;
            c.end = None;
            c.page = None;
            c.done.clear();
            now - end >= MIN_WINDOW
        };
        Ok(ActivityBatch {
            activities,
            cursor: c.encode(),
            more,
        })
    }

    async fn read_blob(
        &self,
        content_type: &str,
        blob: &Blob,
    ) -> Result<Vec<Activity>, ConnectorError> {
        let call = Call::get(
            Scope::Manage,
            follow(&blob.content_uri, &self.hosts.manage)?,
            PERMISSION,
            format!("{content_type} content {}", clean(&blob.content_id)),
        );
        let records: Vec<Value> = match self.call(&call).await {
            Ok(r) => r,
            // Expired or withdrawn content cannot come back; holding the
            // stream on it would stop every later record.
            Err(
                e @ (ConnectorError::NotFound { .. }
                | ConnectorError::Vendor {
                    status: 400..=499, ..
                }),
            ) => {
                tracing::warn!(vendor = VENDOR, content_type, error = %e, "content blob skipped");
                return Ok(Vec::new());
            }
            Err(e) => return Err(e),
        };
        Ok(records
            .iter()
            .filter_map(|r| super::office_record::record(r, self.instance))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // R-C6: a new feed starts a week back, inside what the API keeps.
    #[test]
    fn cursors_start_a_week_back_and_never_before_retention() {
        let now = Utc::now();
        let c = FeedCursor::resume(None, "Audit.SharePoint", now);
        assert_eq!(c.start, now - BACKFILL + RETENTION_MARGIN);
        let started = FeedCursor {
            start: c.start - TimeDelta::minutes(4),
            ..c.clone()
        };
        assert_eq!(
            FeedCursor::resume(Some(&started.encode()), "Audit.SharePoint", now),
            started,
            "a cursor inside the edge is kept"
        );
        let stale = FeedCursor {
            start: now - TimeDelta::days(30),
            end: None,
            page: None,
            done: vec!["x".into()],
        };
        assert_eq!(
            FeedCursor::resume(Some(&stale.encode()), "Audit.SharePoint", now),
            c
        );
        let recent = FeedCursor {
            start: now - TimeDelta::days(1),
            end: Some(now),
            page: Some("http://x/next".into()),
            done: vec!["b1".into()],
        };
        assert_eq!(
            FeedCursor::resume(Some(&recent.encode()), "Audit.SharePoint", now),
            recent
        );
    }
}
