//! Background jobs: one at a time per kind of work, each reporting through
//! events and a handle that can be awaited.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use tokio::task::AbortHandle;

use super::{Event, JobId, JobKind, Local, Result};

#[derive(Debug, Clone, PartialEq)]
enum JobState {
    Running,
    Finished(String),
    Failed(String),
}

struct Running {
    id: JobId,
    label: String,
    state: watch::Receiver<JobState>,
    /// Shared with the task, so that a cancelled job still tells its waiters.
    publish: Arc<watch::Sender<JobState>>,
    abort: AbortHandle,
}

#[derive(Default)]
pub(super) struct Registry {
    next: AtomicU64,
    running: Mutex<HashMap<JobKind, Running>>,
}

impl Registry {
    pub(super) async fn abort_all(&self) {
        let running: Vec<Running> = self
            .running
            .lock()
            .expect("jobs lock")
            .drain()
            .map(|(_, r)| r)
            .collect();
        for job in running {
            job.abort.abort();
        }
    }
}

/// A job running now, as `Event::JobStarted` described it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunningJob {
    pub id: JobId,
    pub job: JobKind,
    pub label: String,
}

/// A job that was started, or the one already doing the same work.
#[derive(Debug, Clone)]
pub struct JobHandle {
    pub id: JobId,
    pub label: String,
    waiter: Waiter,
}

/// Where the job's end is learnt: in this process, or from the server that runs it.
#[derive(Debug, Clone)]
enum Waiter {
    Here(watch::Receiver<JobState>),
    Server(super::remote::Remote),
}

impl JobHandle {
    fn here(id: JobId, label: String, state: watch::Receiver<JobState>) -> JobHandle {
        JobHandle {
            id,
            label,
            waiter: Waiter::Here(state),
        }
    }

    /// A job the server at `remote` runs.
    pub(super) fn on_server(id: JobId, label: String, remote: super::remote::Remote) -> JobHandle {
        JobHandle {
            id,
            label,
            waiter: Waiter::Server(remote),
        }
    }

    /// Waits for the job to end: its summary, or its one-line error.
    pub async fn wait(self) -> std::result::Result<String, String> {
        let mut state = match self.waiter {
            Waiter::Here(state) => state,
            Waiter::Server(remote) => return remote.wait_job(self.id).await,
        };
        loop {
            let now = state.borrow_and_update().clone();
            match now {
                JobState::Finished(summary) => return Ok(summary),
                JobState::Failed(error) => return Err(error),
                JobState::Running => {}
            }
            if state.changed().await.is_err() {
                return match state.borrow().clone() {
                    JobState::Finished(summary) => Ok(summary),
                    JobState::Failed(error) => Err(error),
                    JobState::Running => Err("the job was stopped before it finished".into()),
                };
            }
        }
    }
}

impl Local {
    /// Starts `work` in the background unless the same kind of work is
    /// already running, in which case that job's handle is returned.
    pub(super) fn spawn_job<F, Fut>(&self, kind: JobKind, label: String, work: F) -> JobHandle
    where
        F: FnOnce(Local, JobId) -> Fut,
        Fut: Future<Output = Result<String>> + Send + 'static,
    {
        let jobs = &self.inner.jobs;
        let mut running = jobs.running.lock().expect("jobs lock");
        if let Some(job) = running.get(&kind) {
            return JobHandle::here(job.id, job.label.clone(), job.state.clone());
        }
        let id = JobId(jobs.next.fetch_add(1, Ordering::Relaxed) + 1);
        let (tx, rx) = watch::channel(JobState::Running);
        let tx = Arc::new(tx);
        let publish = Arc::clone(&tx);
        self.emit(Event::JobStarted {
            id,
            job: kind.clone(),
            label: label.clone(),
        });
        let handle_label = label.clone();
        let work = work(self.clone(), id);
        let service = self.clone();
        let key = kind.clone();
        // A vendor's request to wait (throttling, a retried failure) shows as the
        // job's progress, so a scan that seems stuck says why and until when.
        let notices = self.clone();
        let waits: crate::connectors::WaitNotice = Arc::new(move |until, why| {
            notices.progress(
                id,
                0,
                None,
                format!(
                    "{why}; waiting until {}",
                    chrono::DateTime::<chrono::Utc>::from(until).format("%H:%M:%S UTC")
                ),
            );
        });
        let task = tokio::spawn(async move {
            let outcome = crate::connectors::WAITS.scope(waits, work).await;
            // Free the slot before publishing, so a waiter may start the same work again at
            // once; unless a cancel freed it already and the same work runs anew there.
            {
                let mut running = service.inner.jobs.running.lock().expect("jobs lock");
                if running.get(&key).is_some_and(|r| r.id == id) {
                    running.remove(&key);
                }
            }
            match outcome {
                Ok(summary) => {
                    tracing::info!(job = id.0, "{label}: {summary}");
                    service.emit(Event::JobFinished {
                        id,
                        summary: summary.clone(),
                    });
                    let _ = tx.send(JobState::Finished(summary));
                }
                Err(error) => {
                    let error = format!("{label}: {error}");
                    tracing::warn!(job = id.0, "{error}");
                    service.emit(Event::JobFailed {
                        id,
                        error: error.clone(),
                    });
                    let _ = tx.send(JobState::Failed(error));
                }
            }
        });
        running.insert(
            kind,
            Running {
                id,
                label: handle_label.clone(),
                state: rx.clone(),
                publish,
                abort: task.abort_handle(),
            },
        );
        JobHandle::here(id, handle_label, rx)
    }

    /// The jobs running now: what a screen that starts while they run
    /// cannot learn from their events.
    pub async fn running_jobs(&self) -> Result<Vec<RunningJob>> {
        let running = self.inner.jobs.running.lock().expect("jobs lock");
        let mut jobs: Vec<RunningJob> = running
            .iter()
            .map(|(kind, r)| RunningJob {
                id: r.id,
                job: kind.clone(),
                label: r.label.clone(),
            })
            .collect();
        jobs.sort_by_key(|j| j.id);
        Ok(jobs)
    }

    /// Stops a running job where it is: what it committed stays (each page
    /// with its cursor, so the next run goes on from there), the rest is not
    /// done. Its waiters learn that it was cancelled.
    pub async fn cancel_job(&self, id: JobId) -> Result<String> {
        let job = {
            let mut running = self.inner.jobs.running.lock().expect("jobs lock");
            let kind = running
                .iter()
                .find(|(_, r)| r.id == id)
                .map(|(kind, _)| kind.clone());
            kind.and_then(|kind| running.remove(&kind))
        };
        let Some(job) = job else {
            return Err(super::ServiceError::Invalid(format!(
                "no job {} is running (it may have just finished)",
                id.0
            )));
        };
        job.abort.abort();
        let said = format!("{}: cancelled", job.label);
        tracing::info!(job = id.0, "{said}");
        // Asked for, so not an error on screens; a waiter still learns it did not finish.
        self.emit(Event::JobFinished {
            id,
            summary: "cancelled".into(),
        });
        self.emit(Event::Notification {
            level: super::Level::Info,
            text: said.clone(),
        });
        let _ = job.publish.send(JobState::Failed(said));
        Ok(job.label)
    }

    pub(super) fn progress(
        &self,
        id: JobId,
        done: u64,
        total: Option<u64>,
        label: impl Into<String>,
    ) {
        self.emit(Event::JobProgress {
            id,
            done,
            total,
            label: label.into(),
        });
    }
}
