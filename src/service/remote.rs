//! The client side of `casbah serve` (issue 9): attaching to the server of a database,
//! its events, and the jobs it runs.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tarpc::context::Context;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::broadcast;

use super::api::{Events, RpcClient};
use super::server::{ServerInfo, handshake_line, read_line};
use super::{Event, JobId, ServiceError};

/// Why a client could not attach, each in one line.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("the casbah server's socket {} belongs to {owner}; run casbah as {owner}", socket.display())]
    NotYours { socket: PathBuf, owner: String },
    /// The server's own words: another version, another user.
    #[error("{0}")]
    Refused(String),
    #[error("cannot reach the casbah server at {}: {detail}", socket.display())]
    Unreachable { socket: PathBuf, detail: String },
}

/// A connection to the server of a database. Clones share it.
#[derive(Clone)]
pub struct Remote {
    inner: Arc<Inner>,
}

struct Inner {
    client: RpcClient,
    info: ServerInfo,
    events: broadcast::Sender<Event>,
    pump: OnceLock<tokio::task::JoinHandle<()>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(pump) = self.pump.get() {
            pump.abort();
        }
    }
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote")
            .field("pid", &self.inner.info.pid)
            .field("socket", &self.inner.info.socket)
            .finish()
    }
}

/// Requests may take as long as the work they ask for (a vendor's check, a backup):
/// the server's own limits apply, not tarpc's default ten seconds.
const REQUEST_DEADLINE: Duration = Duration::from_secs(24 * 3600);
/// How long the server has to answer the handshake.
const HANDSHAKE: Duration = Duration::from_secs(5);

impl Remote {
    /// Attaches to the server listening at `socket`: `None` when none is running there
    /// (no socket, or a stale one left by a server that died), so the caller opens the
    /// database itself.
    pub async fn attach(socket: &Path) -> Result<Option<Remote>, RemoteError> {
        let stream = match UnixStream::connect(socket).await {
            Ok(stream) => stream,
            Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::ConnectionRefused) => {
                return Ok(None);
            }
            Err(e) if e.kind() == ErrorKind::PermissionDenied => {
                return Err(RemoteError::NotYours {
                    socket: socket.to_owned(),
                    owner: owner_of(socket),
                });
            }
            Err(e) => return Err(unreachable(socket, e)),
        };
        let stream = tokio::time::timeout(HANDSHAKE, handshake(stream))
            .await
            .map_err(|_| RemoteError::Unreachable {
                socket: socket.to_owned(),
                detail: "it did not answer; is it a casbah server?".into(),
            })?
            .map_err(|e| match e {
                Handshake::Io(e) => unreachable(socket, e),
                Handshake::Refused(line) => RemoteError::Refused(line),
            })?;
        let transport = tarpc::serde_transport::new(
            super::server::codec().new_framed(stream),
            super::server::Pack,
        );
        let client = RpcClient::new(tarpc::client::Config::default(), transport).spawn();
        let info = client.hello(tarpc::context::current()).await.map_err(|e| {
            RemoteError::Unreachable {
                socket: socket.to_owned(),
                detail: e.to_string(),
            }
        })?;
        let (events, _) = broadcast::channel(1024);
        Ok(Some(Remote {
            inner: Arc::new(Inner {
                client,
                info,
                events,
                pump: OnceLock::new(),
            }),
        }))
    }

    pub(super) fn client(&self) -> &RpcClient {
        &self.inner.client
    }

    pub(super) fn context(&self) -> Context {
        request_context()
    }

    /// What the server said of itself when this client attached.
    pub fn info(&self) -> &ServerInfo {
        &self.inner.info
    }

    /// The server as it is now (clients attached, uptime).
    pub async fn status(&self) -> Result<ServerInfo, ServiceError> {
        self.client()
            .hello(self.context())
            .await
            .map_err(|e| self.lost(e))
    }

    /// The one line for a request that got no answer.
    pub(super) fn lost(&self, e: tarpc::client::RpcError) -> ServiceError {
        tracing::warn!("request to the casbah server failed: {e}");
        ServiceError::Failed(match e {
            tarpc::client::RpcError::DeadlineExceeded => {
                "the casbah server did not answer in time".into()
            }
            _ => STOPPED.into(),
        })
    }

    pub(super) async fn wait_job(&self, id: JobId) -> Result<String, String> {
        match self.client().wait_job(self.context(), id).await {
            Ok(end) => end,
            Err(e) => Err(self.lost(e).to_string()),
        }
    }

    /// The server's events from now on, as `Local::subscribe` gives its own; they
    /// end with `Event::ServerStopped` when the server goes away.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        let rx = self.inner.events.subscribe();
        // The pump holds the client and the sender, not the `Remote`: dropping the last
        // `Remote` aborts it (see `Inner`'s drop).
        self.inner.pump.get_or_init(|| {
            let (client, events) = (self.client().clone(), self.inner.events.clone());
            tokio::spawn(async move {
                loop {
                    let reply = client.events(request_context()).await;
                    let batch = match reply {
                        Ok(Events::Some(batch)) => batch,
                        Ok(Events::Reload) => vec![Event::Reload],
                        Ok(Events::Stopped) | Err(_) => vec![Event::ServerStopped],
                    };
                    let stopped = batch.last() == Some(&Event::ServerStopped);
                    for event in batch {
                        let _ = events.send(event);
                    }
                    if stopped {
                        return;
                    }
                }
            })
        });
        rx
    }
}

fn request_context() -> Context {
    let mut ctx = tarpc::context::current();
    ctx.deadline = std::time::Instant::now() + REQUEST_DEADLINE;
    ctx
}

pub(super) const STOPPED: &str = "the casbah server stopped; run the command again (it opens the database itself when no server runs)";

enum Handshake {
    Io(std::io::Error),
    Refused(String),
}

/// The first line each way, before any frame: the server answers `ok`, or `no` and
/// why (another version, another user), so that two versions never misread frames.
async fn handshake(stream: UnixStream) -> Result<UnixStream, Handshake> {
    let mut stream = BufReader::new(stream);
    stream
        .get_mut()
        .write_all(handshake_line().as_bytes())
        .await
        .map_err(Handshake::Io)?;
    let line = read_line(&mut stream).await.map_err(Handshake::Io)?;
    match line.split_once(' ') {
        _ if line == "ok" => {}
        Some(("no", why)) => {
            return Err(Handshake::Refused(crate::domain::text::sanitize(why)));
        }
        _ => {
            return Err(Handshake::Refused(
                "the process at the socket is not a casbah server of this kind".into(),
            ));
        }
    }
    if !stream.buffer().is_empty() {
        return Err(Handshake::Refused(
            "the casbah server sent more than its handshake".into(),
        ));
    }
    Ok(stream.into_inner())
}

fn unreachable(socket: &Path, e: std::io::Error) -> RemoteError {
    RemoteError::Unreachable {
        socket: socket.to_owned(),
        detail: e.to_string(),
    }
}

/// The user who owns the socket, or its folder when the socket cannot be seen.
fn owner_of(socket: &Path) -> String {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata(socket)
        .or_else(|_| std::fs::metadata(socket.parent().unwrap_or(Path::new("/"))))
        .map(|m| m.uid());
    match uid {
        Ok(uid) => user_name(uid),
        Err(_) => "another user".into(),
    }
}

/// A user's name, or `uid N` when the system has none for it.
pub(super) fn user_name(uid: u32) -> String {
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| crate::domain::text::sanitize(&u.name))
        .unwrap_or_else(|| format!("uid {uid}"))
}
