//! Ingesting pages one after another with each commit overlapping the next page's
//! preparation (issue 2).
//!
//! A page's durable commit ends in a flush that keeps the disk, not the CPU, busy for a
//! few milliseconds. The pipeline commits page N on a thread of its own while the caller
//! fetches and prepares page N+1. Pages still commit one at a time, in order, each in its
//! own durable transaction with its cursor (DESIGN §3 Durability), and nothing is
//! committed after a page that failed.

use std::sync::Arc;
use std::thread::JoinHandle;

use super::{IngestReport, PreparedPage, Result, Store, StoreError};

/// A page that was committed, and what it held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    pub stream: String,
    pub report: IngestReport,
}

/// Commits prepared pages in order, one in flight at a time.
pub struct IngestPipeline {
    store: Arc<Store>,
    /// The page comes back to be dropped while the next one commits.
    committing: Option<JoinHandle<(Result<Committed>, PreparedPage)>>,
}

impl IngestPipeline {
    pub fn new(store: Arc<Store>) -> IngestPipeline {
        IngestPipeline {
            store,
            committing: None,
        }
    }

    /// Waits for the page being committed, then starts committing `page` and returns at
    /// once, with the page waited for. When that page failed, `page` is dropped without
    /// being committed and the error is returned: a scan stops at its first failed page.
    pub fn push(&mut self, page: PreparedPage) -> Result<Option<Committed>> {
        let (done, old) = self.wait()?;
        let store = Arc::clone(&self.store);
        let handle = std::thread::Builder::new()
            .name("casbah-commit".to_string())
            .spawn(move || {
                let mut page = page;
                let outcome = store
                    .guard(|s| s.commit_prepared_impl(&mut page))
                    .map(|report| Committed {
                        stream: page.stream.clone(),
                        report,
                    });
                (outcome, page)
            })
            .map_err(|e| StoreError::Internal(format!("cannot start a commit thread: {e}")))?;
        self.committing = Some(handle);
        drop(old);
        Ok(done)
    }

    /// Waits for the page being committed, if any.
    pub fn finish(&mut self) -> Result<Option<Committed>> {
        Ok(self.wait()?.0)
    }

    fn wait(&mut self) -> Result<(Option<Committed>, Option<PreparedPage>)> {
        let Some(handle) = self.committing.take() else {
            return Ok((None, None));
        };
        match handle.join() {
            Ok((outcome, page)) => Ok((Some(outcome?), Some(page))),
            Err(_) => Err(StoreError::Internal(
                "a commit thread panicked; the page was not committed".to_string(),
            )),
        }
    }
}
