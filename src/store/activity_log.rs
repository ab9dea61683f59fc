//! Where activities are kept: the service's one way to them (issue 9).
//!
//! Activities are the part of casbah's data that grows without end and is read by
//! filters; everything else (instances, secrets, groups and memberships, settings,
//! saved queries) is configuration, small and transactional, and stays in redb. The
//! service appends, reads and counts activities only through `ActivityLog`, so keeping
//! them in another engine is a new implementation of this trait, not a rewrite of the
//! service. `Store` implements it over redb (the tables, indexes and pipeline of
//! `activities`, `prepare`, `query` and `pipeline`).
//!
//! What an implementation must keep, whatever the engine:
//! - **At most once, never lost (DESIGN §3 Durability).** A page's records and the
//!   stream cursor after them become durable together, and a record already stored
//!   (same instance and id) is dropped. redb does both in one transaction. An engine
//!   with no transaction spanning both (ClickHouse) inserts the page idempotently,
//!   keyed by the page (`insert_deduplication_token` of instance, stream and cursor, on a
//!   `ReplacingMergeTree` ordered by instance and id), then stores the cursor in redb: a
//!   crash between the two reads the page again, and its repeat is dropped.
//! - **Tags as of ingestion (R-G6).** Records carry the groups their actor was in when
//!   they arrived; the memberships come from redb's configuration in every engine.
//! - **Newest first, resumable.** `query` answers a compiled `Query` (engine-neutral:
//!   fields, values, times) in pages that resume after an `ActivityCursor`.

use std::sync::Arc;

use super::{
    ActivityCursor, ActivityPage, ActorSummary, Committed, Histogram, IngestContext,
    IngestPipeline, Result, Store,
};
use crate::domain::filter::Query;
use crate::domain::{Activity, InstanceId, Micros};

/// The activity log of every instance.
pub trait ActivityLog: Send + Sync {
    /// Starts appending one scan's pages, in the order they are pushed.
    fn appender(self: Arc<Self>, ctx: IngestContext) -> Box<dyn Appender>;
    /// Where `stream` of `instance` was read up to, as of the last durable page.
    fn cursor(&self, instance: InstanceId, stream: &str) -> Result<Option<String>>;
    /// Newest first, starting after `after` when given. `next` is set when the page is
    /// full: the following page starts there (it may turn out empty).
    fn query(
        &self,
        query: &Query,
        limit: usize,
        after: Option<ActivityCursor>,
    ) -> Result<ActivityPage>;
    fn count(&self) -> Result<u64>;
    /// How many records `query` selects in each of `buckets` buckets of `width` from
    /// `from`: exact counts, which an engine should answer from its indexes (redb's:
    /// `histogram`) rather than by reading records.
    fn histogram(
        &self,
        query: &Query,
        from: Micros,
        width: Micros,
        buckets: usize,
    ) -> Result<Histogram>;
    /// R-G8: what `actor` (a person's key) did, counted over the whole log.
    fn actor_summary(&self, actor: &str, now: Micros) -> Result<ActorSummary>;
}

/// One vendor page of records, settled (`Store::settle`), and the stream cursor that
/// follows it.
#[derive(Debug)]
pub struct NewPage {
    pub instance: InstanceId,
    pub stream: String,
    pub records: Vec<Activity>,
    pub cursor: String,
}

/// Appends pages in order. A page may still be committing when `push` returns, so
/// that the caller fetches the next one meanwhile; nothing is committed after a page
/// that failed.
pub trait Appender: Send {
    /// Hands `page` over, and returns the page before it once that one is durable.
    fn push(&mut self, page: NewPage) -> Result<Option<Committed>>;
    /// Waits for the last page handed over.
    fn finish(&mut self) -> Result<Option<Committed>>;
}

impl ActivityLog for Store {
    fn appender(self: Arc<Self>, ctx: IngestContext) -> Box<dyn Appender> {
        Box::new(RedbAppender {
            pipeline: IngestPipeline::new(Arc::clone(&self)),
            store: self,
            ctx,
        })
    }

    fn cursor(&self, instance: InstanceId, stream: &str) -> Result<Option<String>> {
        self.guard(|s| s.cursor_impl(instance, stream))
    }

    fn query(
        &self,
        query: &Query,
        limit: usize,
        after: Option<ActivityCursor>,
    ) -> Result<ActivityPage> {
        self.guard(|s| s.query_activities_impl(query, limit, after))
    }

    fn count(&self) -> Result<u64> {
        self.guard(|s| s.activity_count_impl())
    }

    fn histogram(
        &self,
        query: &Query,
        from: Micros,
        width: Micros,
        buckets: usize,
    ) -> Result<Histogram> {
        self.guard(|s| s.histogram_impl(query, from, width, buckets))
    }

    fn actor_summary(&self, actor: &str, now: Micros) -> Result<ActorSummary> {
        self.guard(|s| s.actor_summary_impl(actor, now))
    }
}

/// Each page is prepared on the caller's thread while the one before it commits on the
/// pipeline's (see `pipeline`).
struct RedbAppender {
    store: Arc<Store>,
    pipeline: IngestPipeline,
    ctx: IngestContext,
}

impl Appender for RedbAppender {
    fn push(&mut self, page: NewPage) -> Result<Option<Committed>> {
        let NewPage {
            instance,
            stream,
            records,
            cursor,
        } = page;
        let prepared = self
            .store
            .guard(|s| s.prepare_impl(instance, &stream, records, &cursor, &self.ctx))?;
        self.pipeline.push(prepared)
    }

    fn finish(&mut self) -> Result<Option<Committed>> {
        self.pipeline.finish()
    }
}
