//! Background jobs: one at a time per kind of work, each reporting through
//! events and a handle that can be awaited.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

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
        self.emit(Event::JobStarted {
            id,
            job: kind.clone(),
            label: label.clone(),
        });
        let handle_label = label.clone();
        let work = work(self.clone(), id);
        let service = self.clone();
        let key = kind.clone();
        let task = tokio::spawn(async move {
            let outcome = work.await;
            // Free the slot before publishing, so a waiter may start the same work again at once.
            service
                .inner
                .jobs
                .running
                .lock()
                .expect("jobs lock")
                .remove(&key);
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
                abort: task.abort_handle(),
            },
        );
        JobHandle::here(id, handle_label, rx)
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
