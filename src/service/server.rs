//! `casbah serve` (issue 9): one process owns the database and the schedule, and
//! dashboards and commands attach to it over a Unix socket, each as its own session.
//!
//! The socket is 0600 for the serving user (0660 with a group, in a 0750 folder), and
//! each connection's peer credentials (SO_PEERCRED) are checked again before its
//! handshake: the file's mode is the first lock, the peer check the second.

use std::collections::BTreeMap;
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use tarpc::server::{BaseChannel, Channel};
use tarpc::tokio_util::codec::LengthDelimitedCodec;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{broadcast, watch};

use super::api::{Events, Rpc};
use super::remote::{Remote, RemoteError, user_name};
use super::{Event, Intervals, JobHandle, JobId, Local, Result, Service, ServiceError};
use crate::domain::{Micros, now_micros};

/// The socket protocol's version: a client of another one is refused by name.
pub const PROTOCOL: u32 = 1;

/// What a server says of itself (`casbah status`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ServerInfo {
    pub version: String,
    pub protocol: u32,
    pub pid: u32,
    /// When it started serving.
    pub started: Micros,
    /// Dashboards and commands attached now, this one included.
    pub clients: usize,
    pub db: PathBuf,
    pub socket: PathBuf,
    /// The user it runs as.
    pub user: String,
    pub intervals: Intervals,
}

/// Where the server of `db` listens unless told otherwise: beside the database
/// (`casbah.redb` → `casbah.sock`), or under `$XDG_RUNTIME_DIR` when that path is too
/// long for a Unix socket.
pub fn default_socket(db: &Path) -> PathBuf {
    let db = std::path::absolute(db).unwrap_or_else(|_| db.to_owned());
    let beside = db.with_extension("sock");
    // sun_path holds 108 bytes with its terminating NUL.
    if beside.as_os_str().len() < 100 {
        return beside;
    }
    match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(dir) => {
            use std::hash::{Hash, Hasher};
            let mut hash = std::collections::hash_map::DefaultHasher::new();
            db.hash(&mut hash);
            PathBuf::from(dir).join(format!("casbah-{:016x}.sock", hash.finish()))
        }
        None => beside,
    }
}

/// The first line a client sends: protocol and version.
pub(super) fn handshake_line() -> String {
    format!("casbah {PROTOCOL} {}\n", env!("CARGO_PKG_VERSION"))
}

/// One handshake line, at most 512 bytes.
pub(super) async fn read_line<R: AsyncBufRead + Unpin>(r: &mut R) -> std::io::Result<String> {
    let mut buf = Vec::new();
    (&mut *r).take(512).read_until(b'\n', &mut buf).await?;
    if !buf.ends_with(b"\n") {
        return Err(std::io::Error::new(
            ErrorKind::InvalidData,
            "the handshake ended early",
        ));
    }
    Ok(String::from_utf8_lossy(&buf).trim_end().to_owned())
}

/// Frames of the socket: length-delimited, as large as a page of activities can be.
pub(super) fn codec() -> tarpc::tokio_util::codec::length_delimited::Builder {
    let mut codec = LengthDelimitedCodec::builder();
    codec.max_frame_length(256 << 20);
    codec
}

/// The frames' encoding: MessagePack with field names (rmp-serde's map form), compact and
/// quick to read, and self-describing, as the service's tagged enums need.
pub(super) struct Pack;

impl<T: serde::Serialize> tarpc::tokio_serde::Serializer<T> for Pack {
    type Error = std::io::Error;
    fn serialize(self: std::pin::Pin<&mut Self>, item: &T) -> std::io::Result<bytes::Bytes> {
        rmp_serde::to_vec_named(item)
            .map(Into::into)
            .map_err(std::io::Error::other)
    }
}

impl<T: serde::de::DeserializeOwned> tarpc::tokio_serde::Deserializer<T> for Pack {
    type Error = std::io::Error;
    fn deserialize(self: std::pin::Pin<&mut Self>, src: &bytes::BytesMut) -> std::io::Result<T> {
        rmp_serde::from_slice(src).map_err(std::io::Error::other)
    }
}

/// How long an events call waits for the first event before answering with none.
const EVENT_WAIT: Duration = Duration::from_secs(20);
/// How many events one answer carries at most.
const EVENT_BATCH: usize = 512;
/// Job handles kept for clients that wait on them.
const KEPT_JOBS: usize = 1024;
/// How long stopping waits for the service's work to end (the page in flight commits
/// or is dropped, DESIGN Durability) so that the whole stop stays within 5 s.
const SERVICE_STOP: Duration = Duration::from_secs(4);
/// How long a client has to send its handshake.
const HANDSHAKE: Duration = Duration::from_secs(5);
/// Requests one client may have in flight at once.
const REQUESTS_PER_CLIENT: usize = 64;

/// Who may attach: the serving user, and the members of its group when one is given.
#[derive(Debug, Clone)]
struct Access {
    owner: u32,
    group: Option<u32>,
}

impl Access {
    fn allows(&self, uid: u32, gid: u32, pid: Option<i32>) -> bool {
        if uid == self.owner {
            return true;
        }
        let Some(group) = self.group else {
            return false;
        };
        gid == group || pid.is_some_and(|pid| supplementary_groups(pid).contains(&group))
    }
}

/// A process's supplementary groups, from /proc (SO_PEERCRED gives only the primary).
fn supplementary_groups(pid: i32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Groups:"))
                .map(|g| {
                    g.split_whitespace()
                        .filter_map(|n| n.parse().ok())
                        .collect()
                })
        })
        .unwrap_or_default()
}

struct Shared {
    local: Local,
    db: PathBuf,
    socket: PathBuf,
    started: Micros,
    user: String,
    access: Access,
    clients: AtomicUsize,
    /// events calls waiting now: stopping lets them answer first.
    listening: AtomicUsize,
    jobs: Mutex<BTreeMap<JobId, JobHandle>>,
    stop: watch::Sender<bool>,
}

/// The person behind one connection.
#[derive(Debug)]
struct Peer {
    uid: u32,
    name: String,
    pid: Option<i32>,
}

tokio::task_local! {
    /// The user of the attached client whose request runs.
    static CALLER: String;
}

/// Who asked for what runs now: an attached client's user, else this process's.
pub(super) fn caller() -> String {
    CALLER
        .try_with(Clone::clone)
        .unwrap_or_else(|_| super::remote::user_name(nix::unistd::getuid().as_raw()))
}

/// One attached client: its peer and its own place in the event stream.
#[derive(Clone)]
pub(super) struct Session {
    shared: Arc<Shared>,
    peer: Arc<Peer>,
    events: Arc<tokio::sync::Mutex<broadcast::Receiver<Event>>>,
}

impl Session {
    pub(super) fn local(&self) -> &Local {
        &self.shared.local
    }

    pub(super) fn info(&self) -> ServerInfo {
        let s = &self.shared;
        ServerInfo {
            version: env!("CARGO_PKG_VERSION").into(),
            protocol: PROTOCOL,
            pid: std::process::id(),
            started: s.started,
            clients: s.clients.load(Ordering::SeqCst),
            db: s.db.clone(),
            socket: s.socket.clone(),
            user: s.user.clone(),
            intervals: s.local.intervals(),
        }
    }

    /// Issue 9: a request that changes something names the person who made it.
    pub(super) fn audit(&self, changes: bool, call: &str) {
        if changes {
            tracing::info!(
                user = %self.peer.name,
                uid = self.peer.uid,
                pid = self.peer.pid,
                call,
                "request from an attached client"
            );
        }
    }

    /// Runs a request as this client's user, whom `caller` names (issue 11: the audit
    /// trail records who acted).
    pub(super) fn as_caller<F: std::future::Future>(
        &self,
        request: F,
    ) -> impl std::future::Future<Output = F::Output> {
        CALLER.scope(self.peer.name.clone(), request)
    }

    pub(super) fn keep_job(&self, job: JobHandle) {
        let mut jobs = self.shared.jobs.lock().expect("jobs lock");
        jobs.insert(job.id, job);
        while jobs.len() > KEPT_JOBS {
            jobs.pop_first();
        }
    }

    pub(super) async fn job_end(&self, id: JobId) -> std::result::Result<String, String> {
        let job = self
            .shared
            .jobs
            .lock()
            .expect("jobs lock")
            .get(&id)
            .cloned();
        match job {
            Some(job) => job.wait().await,
            None => Err(format!(
                "job {} is not known to the casbah server; see `casbah status`",
                id.0
            )),
        }
    }

    /// The next events of this client. One that fell behind is told to reload rather
    /// than have the server keep what it missed (issue 9: a slow client costs nothing).
    pub(super) async fn next_events(&self) -> Events {
        let mut stop = self.shared.stop.subscribe();
        if *stop.borrow_and_update() {
            return Events::Stopped;
        }
        let mut rx = self.events.lock().await;
        let first = {
            let _listening = Counted::count(&self.shared.listening);
            tokio::select! {
                first = rx.recv() => first,
                _ = stop.changed() => return Events::Stopped,
                _ = tokio::time::sleep(EVENT_WAIT) => return Events::Some(Vec::new()),
            }
        };
        // After a reload the client reads everything afresh: what is still queued from
        // before it is dropped, not sent after the reload.
        let mut batch = match first {
            Ok(event) => vec![event],
            Err(broadcast::error::RecvError::Lagged(_)) => {
                *rx = rx.resubscribe();
                return Events::Reload;
            }
            Err(broadcast::error::RecvError::Closed) => return Events::Stopped,
        };
        while batch.len() < EVENT_BATCH {
            match rx.try_recv() {
                Ok(event) => batch.push(event),
                Err(broadcast::error::TryRecvError::Lagged(_)) => {
                    *rx = rx.resubscribe();
                    return Events::Reload;
                }
                Err(_) => break,
            }
        }
        Events::Some(batch)
    }
}

/// One more in a count (attached clients, waiting events calls) for as long as it lives,
/// however it ends.
struct Counted<'a>(&'a AtomicUsize);

impl<'a> Counted<'a> {
    fn count(n: &'a AtomicUsize) -> Counted<'a> {
        n.fetch_add(1, Ordering::SeqCst);
        Counted(n)
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A running server.
pub struct Server {
    shared: Arc<Shared>,
}

impl Server {
    /// Refuses when a server already answers at `socket` (naming its pid), and says
    /// nothing when none does. Run before the database is opened, so that the answer
    /// names the server rather than a lock.
    pub async fn probe(socket: &Path) -> Result<()> {
        if let Ok(meta) = std::fs::symlink_metadata(socket)
            && !meta.file_type().is_socket()
        {
            return Err(ServiceError::Invalid(format!(
                "{} exists and is not a socket; remove it or choose another --socket",
                socket.display()
            )));
        }
        match Remote::attach(socket).await {
            Ok(None) => Ok(()),
            Ok(Some(server)) => Err(ServiceError::Failed(format!(
                "casbah serve is already running for {} (pid {}); stop it first",
                server.info().db.display(),
                server.info().pid
            ))),
            Err(RemoteError::Refused(why)) => Err(ServiceError::Failed(format!(
                "another casbah server answers at {}: {why}",
                socket.display()
            ))),
            Err(e) => Err(ServiceError::Failed(e.to_string())),
        }
    }

    /// Serves `svc` (the database at `db`) at `socket`, and runs its scheduler. A
    /// socket file left by a server that died is replaced, never trusted.
    pub async fn start(
        svc: &Service,
        db: &Path,
        socket: &Path,
        group: Option<&str>,
    ) -> Result<Server> {
        let Some(local) = svc.local() else {
            return Err(ServiceError::Invalid(
                "a client attached to a server cannot serve".into(),
            ));
        };
        Self::probe(socket).await?;
        let owner = nix::unistd::Uid::effective().as_raw();
        let group = group.map(group_id).transpose()?;
        let listener = bind(socket, group).map_err(|e| {
            ServiceError::Failed(format!(
                "cannot listen at {}: {e}; choose another --socket",
                socket.display()
            ))
        })?;
        let (stop, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            local: local.clone(),
            db: db.to_owned(),
            socket: socket.to_owned(),
            started: now_micros(),
            user: user_name(owner),
            access: Access { owner, group },
            clients: AtomicUsize::new(0),
            listening: AtomicUsize::new(0),
            jobs: Mutex::new(BTreeMap::new()),
            stop,
        });
        tokio::spawn(accept(listener, Arc::clone(&shared)));
        local.start_scheduler();
        tracing::info!(socket = %socket.display(), db = %db.display(), "serving");
        Ok(Server { shared })
    }

    pub fn socket(&self) -> &Path {
        &self.shared.socket
    }

    /// Stops: no new client, attached clients told, the scheduler and jobs stopped (the
    /// page in flight commits or is dropped), and the socket removed.
    pub async fn stop(self) {
        self.shared.stop.send_replace(true);
        // Let the clients' waiting events calls carry the news before the process ends.
        let told = tokio::time::Instant::now() + Duration::from_millis(500);
        while self.shared.listening.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < told
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if tokio::time::timeout(SERVICE_STOP, self.shared.local.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("the service did not stop in time; leaving anyway");
        }
        let _ = std::fs::remove_file(&self.shared.socket);
        tracing::info!("stopped serving");
    }
}

fn group_id(name: &str) -> Result<u32> {
    match nix::unistd::Group::from_name(name) {
        Ok(Some(group)) => Ok(group.gid.as_raw()),
        _ => Err(ServiceError::Invalid(format!(
            "no group named {:?} on this system",
            crate::domain::text::sanitize(name)
        ))),
    }
}

/// Listens at `socket` with its final mode from the first moment: bound under a
/// temporary name, restricted, then renamed into place.
fn bind(socket: &Path, group: Option<u32>) -> std::io::Result<UnixListener> {
    let folder = socket
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let folder_mode = if group.is_some() { 0o750 } else { 0o700 };
    if !folder.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(folder_mode)
            .create(folder)?;
    }
    if let Some(gid) = group {
        std::os::unix::fs::chown(folder, None, Some(gid))?;
        std::fs::set_permissions(folder, std::fs::Permissions::from_mode(folder_mode))?;
    }
    if std::fs::symlink_metadata(socket).is_ok() {
        tracing::warn!(socket = %socket.display(), "replacing a stale socket");
        std::fs::remove_file(socket)?;
    }
    let name = socket
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let staging = folder.join(format!(".{name}.{}", std::process::id()));
    let _ = std::fs::remove_file(&staging);
    let listener = UnixListener::bind(&staging)?;
    let mode = if group.is_some() { 0o660 } else { 0o600 };
    let placed = std::fs::set_permissions(&staging, std::fs::Permissions::from_mode(mode))
        .and_then(|()| match group {
            Some(gid) => std::os::unix::fs::chown(&staging, None, Some(gid)),
            None => Ok(()),
        })
        .and_then(|()| std::fs::rename(&staging, socket));
    if let Err(e) = placed {
        let _ = std::fs::remove_file(&staging);
        return Err(e);
    }
    Ok(listener)
}

async fn accept(listener: UnixListener, shared: Arc<Shared>) {
    let mut stop = shared.stop.subscribe();
    loop {
        tokio::select! {
            conn = listener.accept() => match conn {
                Ok((stream, _)) => {
                    tokio::spawn(attend(stream, Arc::clone(&shared)));
                }
                Err(e) => {
                    // Out of descriptors, most likely: wait a moment rather than spin.
                    tracing::warn!("cannot accept a client: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            _ = stop.changed() => return,
        }
    }
}

/// One connection: who it is, its handshake, then its requests until it goes.
async fn attend(stream: UnixStream, shared: Arc<Shared>) {
    let Ok(cred) = stream.peer_cred() else {
        return;
    };
    let peer = Peer {
        uid: cred.uid(),
        name: user_name(cred.uid()),
        pid: cred.pid(),
    };
    let mut stream = BufReader::new(stream);
    let Ok(Ok(line)) = tokio::time::timeout(HANDSHAKE, read_line(&mut stream)).await else {
        return;
    };
    let refusal = if !shared.access.allows(cred.uid(), cred.gid(), cred.pid()) {
        tracing::warn!(user = %peer.name, uid = peer.uid, "refused a client of another user");
        Some(format!(
            "the casbah server of {} does not serve {} (uid {})",
            shared.user, peer.name, peer.uid
        ))
    } else if line != handshake_line().trim_end() {
        Some(version_refusal(&line))
    } else {
        None
    };
    let answer = match &refusal {
        Some(why) => format!("no {why}\n"),
        None => "ok\n".to_string(),
    };
    if stream.get_mut().write_all(answer.as_bytes()).await.is_err() || refusal.is_some() {
        return;
    }
    let _attached = Counted::count(&shared.clients);
    let session = Session {
        events: Arc::new(tokio::sync::Mutex::new(shared.local.subscribe())),
        shared: Arc::clone(&shared),
        peer: Arc::new(peer),
    };
    let transport = tarpc::serde_transport::new(codec().new_framed(stream.into_inner()), Pack);
    BaseChannel::with_defaults(transport)
        .max_concurrent_requests(REQUESTS_PER_CLIENT)
        .execute(session.serve())
        .for_each(|answer| async {
            tokio::spawn(answer);
        })
        .await;
}

/// Debug builds only: `CASBAH_DEBUG_PANIC=request:CALL` makes the handler of CALL
/// panic, so that a test can see the server answer and go on.
#[cfg(debug_assertions)]
pub(super) fn debug_panic(call: &str) {
    if std::env::var("CASBAH_DEBUG_PANIC").is_ok_and(|v| v.strip_prefix("request:") == Some(call)) {
        panic!("CASBAH_DEBUG_PANIC=request:{call}");
    }
}

/// What a client of another version is told.
fn version_refusal(line: &str) -> String {
    let theirs = match line.split(' ').collect::<Vec<_>>()[..] {
        ["casbah", _, version] => crate::domain::text::sanitize(version),
        _ => return "this is a casbah server, and the client did not speak its protocol".into(),
    };
    format!(
        "casbah server is version {}, this client is {theirs}; use the same version",
        env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // issue 9: the serving user attaches; another user only through the server's group.
    #[test]
    fn only_the_owner_and_its_group_attach() {
        let alone = Access {
            owner: 1000,
            group: None,
        };
        assert!(alone.allows(1000, 1000, None));
        assert!(!alone.allows(1001, 1000, None));
        assert!(!alone.allows(0, 0, None));
        let shared = Access {
            owner: 1000,
            group: Some(2000),
        };
        assert!(shared.allows(1001, 2000, None));
        assert!(!shared.allows(1001, 1001, None));
    }

    // issue 9: a client that stops reading its events holds back neither the server nor
    // another client, and costs no memory beyond the bounded stream: when it reads again,
    // it is told to reload.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stalled_client_is_told_to_reload_and_holds_back_no_other() {
        use crate::service::Level;
        use crate::store::{KeyStore, Store};
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("c.redb");
        let store =
            Store::open_with_keys(&db, KeyStore::File(dir.path().join("key"))).expect("store");
        let svc = Service::with_store(store, Intervals::default());
        let socket = dir.path().join("c.sock");
        let server = Server::start(&svc, &db, &socket, None)
            .await
            .expect("serve");
        let stalled = Remote::attach(&socket)
            .await
            .expect("attach")
            .expect("server");
        let reader = Remote::attach(&socket)
            .await
            .expect("attach")
            .expect("server");
        let mut rx = reader.subscribe();
        let local = svc.local().expect("embedded");
        let within = Duration::from_secs(10);
        // Five times more events than a client's queue holds, in rounds the reader keeps up with.
        for round in 0..10 {
            for i in 0..500 {
                local.emit(Event::Notification {
                    level: Level::Info,
                    text: format!("{round}-{i}"),
                });
            }
            for i in 0..500 {
                match tokio::time::timeout(within, rx.recv()).await {
                    Ok(Ok(Event::Notification { text, .. })) => {
                        assert_eq!(text, format!("{round}-{i}"));
                    }
                    other => panic!("round {round}, event {i}: {other:?}"),
                }
            }
        }
        let mut late = stalled.subscribe();
        let first = tokio::time::timeout(within, late.recv()).await;
        assert!(matches!(first, Ok(Ok(Event::Reload))), "{first:?}");
        // What it missed is not sent after the reload: the next event is a new one.
        local.emit(Event::Notification {
            level: Level::Info,
            text: "after".to_string(),
        });
        let next = tokio::time::timeout(within, late.recv()).await;
        assert!(
            matches!(&next, Ok(Ok(Event::Notification { text, .. })) if text == "after"),
            "{next:?}"
        );
        server.stop().await;
    }

    // issue 9: another version is refused by name, with both versions.
    #[test]
    fn another_version_is_named() {
        let line = version_refusal("casbah 2 9.9.9");
        assert_eq!(
            line,
            format!(
                "casbah server is version {}, this client is 9.9.9; use the same version",
                env!("CARGO_PKG_VERSION")
            )
        );
        assert!(version_refusal("GET / HTTP/1.1").contains("did not speak its protocol"));
    }
}
