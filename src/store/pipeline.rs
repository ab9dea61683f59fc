//! Ingesting pages one after another with each commit overlapping the next page's
//! preparation (issue 2).
//!
//! A page's durable commit ends in a flush that keeps the disk, not the CPU, busy for a
//! few milliseconds. The pipeline commits page N on its commit thread while the caller
//! fetches and prepares page N+1. Pages still commit one at a time, in order, each in its
//! own durable transaction with its cursor (DESIGN §3 Durability), and nothing is
//! committed after a page that failed.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use super::{IngestReport, PreparedPage, Result, Store, StoreError};

/// A page that was committed, and what it held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    pub stream: String,
    pub report: IngestReport,
}

type Outcome = (Result<Committed>, PreparedPage);

/// Commits prepared pages in order, one in flight at a time, on one thread for the
/// pipeline's life: its memory stays warm from page to page, where a thread a page
/// took fresh memory from the kernel for every commit and gave it back at its end.
pub struct IngestPipeline {
    store: Arc<Store>,
    worker: Option<Worker>,
    /// Whether a page was sent and its outcome not yet received.
    in_flight: bool,
}

struct Worker {
    pages: Sender<PreparedPage>,
    /// The page comes back to be dropped while the next one commits.
    outcomes: Receiver<Outcome>,
    thread: JoinHandle<()>,
}

impl IngestPipeline {
    pub fn new(store: Arc<Store>) -> IngestPipeline {
        IngestPipeline {
            store,
            worker: None,
            in_flight: false,
        }
    }

    /// Waits for the page being committed, then starts committing `page` and returns at
    /// once, with the page waited for. When that page failed, `page` is dropped without
    /// being committed and the error is returned: a scan stops at its first failed page.
    pub fn push(&mut self, page: PreparedPage) -> Result<Option<Committed>> {
        let (done, old) = self.wait()?;
        let worker = match &mut self.worker {
            Some(worker) => worker,
            none => none.insert(Worker::start(Arc::clone(&self.store))?),
        };
        worker.pages.send(page).map_err(|_| gone())?;
        self.in_flight = true;
        drop(old);
        Ok(done)
    }

    /// Waits for the page being committed, if any.
    pub fn finish(&mut self) -> Result<Option<Committed>> {
        Ok(self.wait()?.0)
    }

    fn wait(&mut self) -> Result<(Option<Committed>, Option<PreparedPage>)> {
        let Some(worker) = self.worker.as_ref().filter(|_| self.in_flight) else {
            return Ok((None, None));
        };
        self.in_flight = false;
        match worker.outcomes.recv() {
            Ok((outcome, page)) => Ok((Some(outcome?), Some(page))),
            Err(_) => {
                self.worker = None;
                Err(gone())
            }
        }
    }
}

impl Worker {
    fn start(store: Arc<Store>) -> Result<Worker> {
        let (pages, inbox) = channel::<PreparedPage>();
        let (outbox, outcomes) = channel::<Outcome>();
        let thread = std::thread::Builder::new()
            .name("casbah-commit".to_string())
            .spawn(move || {
                for mut page in inbox {
                    let outcome =
                        store
                            .guard(|s| s.commit_prepared_impl(&mut page))
                            .map(|report| Committed {
                                stream: page.stream.clone(),
                                report,
                            });
                    if outbox.send((outcome, page)).is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| StoreError::Internal(format!("cannot start a commit thread: {e}")))?;
        Ok(Worker {
            pages,
            outcomes,
            thread,
        })
    }
}

impl Drop for IngestPipeline {
    /// Ends the thread, after the page it is committing, if any: once the pipeline is
    /// gone, so is its hold on the store (which may then be closed and opened again).
    fn drop(&mut self) {
        if let Some(Worker {
            pages,
            outcomes,
            thread,
        }) = self.worker.take()
        {
            drop((pages, outcomes));
            let _ = thread.join();
        }
    }
}

fn gone() -> StoreError {
    StoreError::Internal(
        "the commit thread stopped unexpectedly; the page was not committed: sync again"
            .to_string(),
    )
}
