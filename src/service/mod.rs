//! The async service layer: the only door to the store and the connectors.
//!
//! The CLI and the dashboard call its commands and listen to its events.
//! Store calls run on the blocking pool; connector calls are async. Slow work
//! runs as background jobs that report through `Event`s.

mod activities;
mod api;
mod database;
mod error;
pub mod events;
pub mod export;
mod external;
mod geoip;
mod governance;
mod grants;
mod groups;
mod instances;
mod jobs;
mod names;
pub mod notices;
mod notify;
mod policies;
pub mod recent;
mod remote;
mod scans;
mod scheduler;
mod server;
mod settings;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::broadcast;

pub use crate::domain::filter::suggested_queries;
pub use activities::{MAX_BUCKETS, Timeline, bucket_width};
pub use error::ServiceError;
pub use events::{Event, JobId, JobKind, Level};
pub use external::{
    AccessAnswer, AudienceEntry, AudienceView, ConnectionSummary, ExternalGroupView, ItemView,
    MemberRef, MemberView, MirrorStatus, VisibleItem,
};
pub use geoip::{GeoIp, GeoIpSources};
pub use governance::{ActedOn, ActionPlan, ActionReport, PlannedTarget, READ_ONLY_SETTING};
pub use grants::{AppDetail, AppSummary};
pub use groups::{AvailableGroup, ListedGroup};
pub use instances::{ConnectRequest, InstanceSummary};
pub use jobs::{JobHandle, RunningJob};
pub use notices::{SmtpConfig, SmtpSecurity, WebhookConfig, WebhookFormat};
pub use notify::{NoticeSettings, TestChannel};
pub use policies::{AlertCounts, AlertView, PolicyTest, PolicyView, TEST_DAYS};
pub use remote::{Remote, RemoteError};
pub use server::{PROTOCOL, Server, ServerInfo, default_socket};
pub use settings::{MOUSE_SETTING, SETTINGS};

use crate::connectors::Connector;
use crate::connectors::microsoft365::Microsoft365;
use crate::domain::{GroupId, InstanceId, Micros};
use crate::store::{ActivityLog, Store};

pub type Result<T> = std::result::Result<T, ServiceError>;

/// How often each scan runs (R-C4, R-G7). Settings, so a demo can run them
/// far more often than production.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Intervals {
    pub users: Duration,
    pub groups: Duration,
    pub activities: Duration,
    /// How often the scheduler looks for due work.
    pub tick: Duration,
}

impl Default for Intervals {
    fn default() -> Intervals {
        Intervals {
            users: Duration::from_secs(3600),
            groups: Duration::from_secs(3600),
            activities: Duration::from_secs(300),
            tick: Duration::from_secs(15),
        }
    }
}

impl Intervals {
    /// For `casbah demo`: everything moves while you watch.
    pub fn demo() -> Intervals {
        Intervals {
            users: Duration::from_secs(60),
            groups: Duration::from_secs(30),
            activities: Duration::from_secs(3),
            tick: Duration::from_secs(1),
        }
    }
}

/// What every screen and command talks to: the service of this process (embedded), or
/// that of the `casbah serve` running for the database (attached, issue 9). Its calls
/// are listed once, in `api.rs`.
#[derive(Clone)]
pub struct Service {
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Embedded(Local),
    Attached(Remote),
}

impl Service {
    /// Opens the database at `path` in this process (see `Store::open` for its errors).
    pub async fn open(path: &Path, intervals: Intervals) -> Result<Service> {
        Local::open(path, intervals).await.map(Service::embedded)
    }

    /// Opens the database in this process for commands that only read.
    pub async fn open_read_only(path: &Path, intervals: Intervals) -> Result<Service> {
        Local::open_read_only(path, intervals)
            .await
            .map(Service::embedded)
    }

    pub fn with_store(store: Store, intervals: Intervals) -> Service {
        Service::embedded(Local::with_store(store, intervals))
    }

    /// Configuration in `store`, activities in `log`: another engine's activity log
    /// plugs in here (see `store::ActivityLog`).
    pub fn with_activity_log(
        store: Store,
        log: Arc<dyn ActivityLog>,
        intervals: Intervals,
    ) -> Service {
        Service::embedded(Local::build(Arc::new(store), Some(log), intervals, None))
    }

    fn embedded(local: Local) -> Service {
        Service {
            backend: Backend::Embedded(local),
        }
    }

    /// The service of the server `remote` is attached to.
    pub fn attached(remote: Remote) -> Service {
        Service {
            backend: Backend::Attached(remote),
        }
    }

    pub(crate) fn local(&self) -> Option<&Local> {
        match &self.backend {
            Backend::Embedded(local) => Some(local),
            Backend::Attached(_) => None,
        }
    }

    /// The server this service is attached to, if it is.
    pub fn server(&self) -> Option<&Remote> {
        match &self.backend {
            Backend::Embedded(_) => None,
            Backend::Attached(remote) => Some(remote),
        }
    }

    /// Every event from now on. A receiver that falls behind loses the oldest events
    /// (`RecvError::Lagged`, or `Event::Reload` from a server) and should refresh.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        match &self.backend {
            Backend::Embedded(local) => local.subscribe(),
            Backend::Attached(remote) => remote.subscribe(),
        }
    }

    pub fn intervals(&self) -> Intervals {
        match &self.backend {
            Backend::Embedded(local) => local.intervals(),
            Backend::Attached(remote) => remote.info().intervals,
        }
    }

    /// Issue 11: refuses every account action from now on (`--read-only`). Attached,
    /// the command refuses them itself, and the server keeps its own mode.
    pub fn forbid_actions(&self) {
        if let Backend::Embedded(local) = &self.backend {
            local
                .inner
                .read_only
                .store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// Runs scans when they are due. Attached, the server does.
    pub fn start_scheduler(&self) {
        if let Backend::Embedded(local) = &self.backend {
            local.start_scheduler();
        }
    }

    /// Stops this process's scheduler and jobs. Attached, the server's go on.
    pub async fn shutdown(&self) {
        if let Backend::Embedded(local) = &self.backend {
            local.shutdown().await;
        }
    }
}

#[derive(Clone)]
pub(crate) struct Local {
    inner: Arc<Inner>,
}

struct Inner {
    /// Configuration: instances, secrets, groups, settings.
    store: Arc<Store>,
    /// Activities, reached only through `ActivityLog` (see `store::activity_log`).
    log: Arc<dyn ActivityLog>,
    events: broadcast::Sender<Event>,
    intervals: Intervals,
    /// One connector per instance, so its token cache outlives a single call.
    connectors: Mutex<HashMap<InstanceId, Arc<dyn Connector>>>,
    jobs: jobs::Registry,
    scheduler: Mutex<Option<tokio::task::JoinHandle<()>>>,
    wake: tokio::sync::Notify,
    /// When each group's sync was last started, so a failing group is not
    /// retried at every tick.
    group_attempts: Mutex<HashMap<GroupId, Micros>>,
    /// One Graph connectors client per Microsoft 365 instance (R-X1).
    graph: Mutex<HashMap<InstanceId, Arc<Microsoft365>>>,
    /// Access indexes by (instance, lower-cased connection id), dropped on
    /// any change to what they were built from (R-X5).
    access: Mutex<external::AccessCaches>,
    /// When each mirror or Entra group refresh was last started.
    external_attempts: Mutex<HashMap<JobKind, Micros>>,
    /// The folder of the database file, where GeoIP databases may be found.
    data_dir: Option<std::path::PathBuf>,
    /// The GeoIP databases read, and the sources they were read from.
    geoip: Mutex<Option<(GeoIpSources, Arc<GeoIp>)>>,
    /// Issue 11: every account action refused (`--read-only`, `serve --read-only`).
    read_only: std::sync::atomic::AtomicBool,
    /// Issue 12: the policies ingestion evaluates, and what they were bound from.
    watching: crate::store::Watching,
    compiled: Mutex<policies::Compiled>,
    /// Issue 12: the worker sending queued notices, and its wake-up call.
    notifier: Mutex<Option<tokio::task::JoinHandle<()>>>,
    notices: tokio::sync::Notify,
    sending: tokio::sync::Mutex<()>,
}

impl Local {
    /// Opens the database at `path` (see `Store::open` for its errors). Scan
    /// intervals stored as settings replace those of `intervals`.
    pub async fn open(path: &Path, intervals: Intervals) -> Result<Local> {
        Self::open_with(path, intervals, Store::open).await
    }

    /// Opens the database for commands that only read (see `Store::open_read_only`):
    /// they never write to it.
    pub async fn open_read_only(path: &Path, intervals: Intervals) -> Result<Local> {
        Self::open_with(path, intervals, Store::open_read_only).await
    }

    async fn open_with(
        path: &Path,
        intervals: Intervals,
        open: fn(&Path) -> crate::store::Result<Store>,
    ) -> Result<Local> {
        let data_dir = path.parent().map(Path::to_path_buf);
        let path = path.to_owned();
        let (store, intervals) = tokio::task::spawn_blocking(move || {
            let store = open(&path)?;
            let intervals = store.guard(|s| settings::stored_intervals(s, intervals))?;
            Ok::<_, crate::store::StoreError>((store, intervals))
        })
        .await
        .map_err(ServiceError::join)??;
        Ok(Local::build(Arc::new(store), None, intervals, data_dir))
    }

    pub fn with_store(store: Store, intervals: Intervals) -> Local {
        Local::build(Arc::new(store), None, intervals, None)
    }

    /// Activities go to `log`, or to `store` itself when none is given.
    fn build(
        store: Arc<Store>,
        log: Option<Arc<dyn ActivityLog>>,
        intervals: Intervals,
        data_dir: Option<std::path::PathBuf>,
    ) -> Local {
        let (events, _) = broadcast::channel(1024);
        Local {
            inner: Arc::new(Inner {
                log: log.unwrap_or_else(|| Arc::clone(&store) as Arc<dyn ActivityLog>),
                store,
                events,
                intervals,
                connectors: Mutex::new(HashMap::new()),
                jobs: jobs::Registry::default(),
                scheduler: Mutex::new(None),
                wake: tokio::sync::Notify::new(),
                group_attempts: Mutex::new(HashMap::new()),
                graph: Mutex::new(HashMap::new()),
                access: Mutex::new(external::AccessCaches::default()),
                external_attempts: Mutex::new(HashMap::new()),
                data_dir,
                geoip: Mutex::new(None),
                read_only: Default::default(),
                watching: Default::default(),
                compiled: Default::default(),
                notifier: Mutex::new(None),
                notices: tokio::sync::Notify::new(),
                sending: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// Every event from now on. A receiver that falls behind loses the
    /// oldest events (`RecvError::Lagged`) and should refresh what it shows.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }

    pub fn intervals(&self) -> Intervals {
        self.inner.intervals
    }

    fn emit(&self, event: Event) {
        // No receiver is fine: the CLI often listens to nothing.
        let _ = self.inner.events.send(event);
    }

    fn notify(&self, level: Level, text: impl Into<String>) {
        let text = text.into();
        match level {
            Level::Error => tracing::error!("{text}"),
            Level::Warning => tracing::warn!("{text}"),
            Level::Info => tracing::info!("{text}"),
        }
        self.emit(Event::Notification { level, text });
    }

    /// Runs a store call on the blocking pool; a read that meets damage is one error
    /// (see `Store::guard`).
    async fn db<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> crate::store::Result<T> + Send + 'static,
    {
        let store = Arc::clone(&self.inner.store);
        let out = tokio::task::spawn_blocking(move || store.guard(f))
            .await
            .map_err(ServiceError::join)??;
        Ok(out)
    }

    /// Runs an activity log call on the blocking pool.
    async fn log<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn ActivityLog) -> crate::store::Result<T> + Send + 'static,
    {
        let log = Arc::clone(&self.inner.log);
        let out = tokio::task::spawn_blocking(move || f(log.as_ref()))
            .await
            .map_err(ServiceError::join)??;
        Ok(out)
    }

    /// Stops the scheduler and every running job. Work already committed
    /// stays; a job cut mid-way resumes from its cursor next time.
    pub async fn shutdown(&self) {
        for slot in [&self.inner.scheduler, &self.inner.notifier] {
            let task = slot.lock().expect("scheduler lock").take();
            if let Some(task) = task {
                task.abort();
                let _ = task.await;
            }
        }
        self.inner.jobs.abort_all().await;
    }
}
