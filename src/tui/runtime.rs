//! The event loop: one channel carries keys, ticks, signals, service events
//! and results. Everything waiting is handled, then one frame is drawn if
//! anything changed, at most ~30 a second, inside synchronized output.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{
    self, Event as TermEvent, KeyEventKind, MouseButton, MouseEventKind,
};
use ratatui::crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use ratatui::crossterm::{execute, queue};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::AbortHandle;

use super::app::{App, Exit};
use super::msg::{Cmd, Done, Failure, Msg, Outcome};
use super::views::connect::{ConnectForm, SecretSource, SignInCode};
use super::{TuiError, export, screen};
use crate::domain::text::sanitize;
use crate::domain::{Secret, now_micros};
use crate::service::{ConnectRequest, Service};
use crate::store::NewInstance;

const FRAME: Duration = Duration::from_millis(33);
const SEARCH_PAUSE: Duration = Duration::from_millis(300);
/// How long the input thread waits for a key before it looks at the terminal again.
const INPUT_POLL: Duration = Duration::from_millis(100);
/// How long the service may take to stop before the dashboard leaves anyway.
const SHUTDOWN: Duration = Duration::from_millis(1200);

pub(super) async fn run(svc: Service, mut app: App, mouse: bool) -> Result<(), TuiError> {
    if !std::io::stdout().is_terminal() {
        return Err(TuiError::NotATerminal);
    }
    let (tx, mut rx) = unbounded_channel();
    let signals = forward_signals(&tx)?;
    let mut terminal = screen::take(&tx, mouse)?;
    let stop = Arc::new(AtomicBool::new(false));
    let background = [forward_events(&svc, &tx), signals, tick(&tx)];
    spawn_input(tx.clone(), Arc::clone(&stop));
    let mut runner = Runner {
        svc: svc.clone(),
        tx,
        search: None,
        check: None,
        sign_in: None,
        export_cancel: None,
    };
    for cmd in app.start() {
        runner.run(cmd);
    }
    let outcome = event_loop(&mut terminal, &mut app, &mut rx, &mut runner).await;
    stop.store(true, Ordering::Relaxed);
    for task in background {
        task.abort();
    }
    // After a hang-up there is no terminal to restore, and writing to it could only fail.
    screen::hand_back(terminal, app.exit != Some(Exit::Hangup));
    if tokio::time::timeout(SHUTDOWN, svc.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("the service did not stop in time; leaving anyway");
    }
    match app.exit {
        Some(Exit::Panicked) => return Err(TuiError::Panicked),
        Some(Exit::ServerStopped) => return Err(TuiError::ServerStopped),
        _ => {}
    }
    outcome
}

async fn event_loop(
    terminal: &mut DefaultTerminal,
    app: &mut App,
    rx: &mut UnboundedReceiver<Msg>,
    runner: &mut Runner,
) -> Result<(), TuiError> {
    let mut last_frame: Option<Instant> = None;
    let mut pending = true;
    loop {
        let due = last_frame.map_or_else(Instant::now, |t| t + FRAME);
        let msg = tokio::select! {
            msg = rx.recv() => msg,
            () = tokio::time::sleep_until(due.into()), if pending => None,
        };
        if let Some(msg) = msg {
            #[cfg(debug_assertions)]
            panic_if_asked(&msg);
            app.env.now = now_micros();
            app.update(msg);
            // A burst of keys or events is handled as one.
            while let Ok(more) = rx.try_recv() {
                #[cfg(debug_assertions)]
                panic_if_asked(&more);
                app.update(more);
            }
            for cmd in app.take_cmds() {
                runner.run(cmd);
            }
            if app.exit.is_some() {
                return Ok(());
            }
            pending |= app.take_dirty();
        }
        if pending && last_frame.is_none_or(|t| t.elapsed() >= FRAME) {
            match screen::draw(terminal, |t| draw(t, app)) {
                Ok(true) => {}
                // Handed back after a panic: `Msg::Panicked` is on its way.
                Ok(false) => continue,
                Err(e) => {
                    // The terminal is gone (SSH dropped): leave without touching it again.
                    tracing::info!("terminal write failed, leaving: {e}");
                    app.exit = Some(Exit::Hangup);
                    return Ok(());
                }
            }
            pending = false;
            last_frame = Some(Instant::now());
        }
    }
}

/// Issue 10's end-to-end test of a panic, in debug builds only: with
/// `CASBAH_DEBUG_PANIC=task` a key starts a task that panics (as a bug in a background
/// load would), with `=loop` the event loop itself panics.
#[cfg(debug_assertions)]
fn panic_if_asked(msg: &Msg) {
    if !matches!(msg, Msg::Key(_)) {
        return;
    }
    match std::env::var("CASBAH_DEBUG_PANIC").as_deref() {
        Ok("task") => drop(tokio::spawn(async { panic!("CASBAH_DEBUG_PANIC=task") })),
        Ok("loop") => panic!("CASBAH_DEBUG_PANIC=loop"),
        _ => {}
    }
}

fn draw(terminal: &mut DefaultTerminal, app: &mut App) -> std::io::Result<()> {
    if std::mem::take(&mut app.clear) {
        terminal.clear()?;
    }
    queue!(terminal.backend_mut(), BeginSynchronizedUpdate)?;
    terminal.draw(|f| app.draw(f))?;
    if let Some(text) = app.clipboard.take() {
        // OSC 52, written by casbah: the text goes in base64 only, so nothing
        // in it (vendor text included) reaches the terminal as a control.
        let payload = base64::engine::general_purpose::STANDARD.encode(text);
        write!(terminal.backend_mut(), "\x1b]52;c;{payload}\x07")?;
    }
    execute!(terminal.backend_mut(), EndSynchronizedUpdate)?;
    terminal.backend_mut().flush()
}

fn forward_events(svc: &Service, tx: &UnboundedSender<Msg>) -> AbortHandle {
    let mut events = svc.subscribe();
    let tx = tx.clone();
    tokio::spawn(async move {
        loop {
            let msg = match events.recv().await {
                Ok(e) => Msg::Service(e),
                Err(RecvError::Lagged(_)) => Msg::Lagged,
                Err(RecvError::Closed) => return,
            };
            if tx.send(msg).is_err() {
                return;
            }
        }
    })
    .abort_handle()
}

/// SIGTERM and SIGINT quit cleanly; SIGHUP means the terminal is gone.
fn forward_signals(tx: &UnboundedSender<Msg>) -> Result<AbortHandle, TuiError> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).map_err(TuiError::Signals)?;
    let mut int = signal(SignalKind::interrupt()).map_err(TuiError::Signals)?;
    let mut hup = signal(SignalKind::hangup()).map_err(TuiError::Signals)?;
    let tx = tx.clone();
    Ok(tokio::spawn(async move {
        loop {
            let msg = tokio::select! {
                _ = term.recv() => Msg::Terminate,
                _ = int.recv() => Msg::Terminate,
                _ = hup.recv() => Msg::Hangup,
            };
            if tx.send(msg).is_err() {
                return;
            }
        }
    })
    .abort_handle())
}

fn tick(tx: &UnboundedSender<Msg>) -> AbortHandle {
    let tx = tx.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(1));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            every.tick().await;
            if tx.send(Msg::Tick).is_err() {
                return;
            }
        }
    })
    .abort_handle()
}

/// Terminal input on its own thread: crossterm's reader blocks.
///
/// It also notices a terminal that hung up, which crossterm's reader does not report:
/// SIGHUP says so too, but waits for a runtime worker, which a busy sync can keep for a
/// while; asking whether stdout is still a terminal (the dashboard runs only on one) does
/// not.
fn spawn_input(tx: UnboundedSender<Msg>, stop: Arc<AtomicBool>) {
    let spawned = std::thread::Builder::new()
        .name("casbah-input".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let msg = match event::poll(INPUT_POLL) {
                    Ok(false) if std::io::stdout().is_terminal() => continue,
                    Ok(false) => Msg::Hangup,
                    Ok(true) => match event::read() {
                        Ok(TermEvent::Key(k)) if k.kind != KeyEventKind::Release => Msg::Key(k),
                        Ok(TermEvent::Paste(text)) => Msg::Paste(text),
                        Ok(TermEvent::Resize(..)) => Msg::Resize,
                        // Clicks and the wheel; moves and drags would only flood the channel.
                        Ok(TermEvent::Mouse(m))
                            if matches!(
                                m.kind,
                                MouseEventKind::Down(MouseButton::Left)
                                    | MouseEventKind::ScrollUp
                                    | MouseEventKind::ScrollDown
                            ) =>
                        {
                            Msg::Mouse(m)
                        }
                        Ok(_) => continue,
                        Err(_) => Msg::Hangup,
                    },
                    Err(_) => Msg::Hangup,
                };
                let hangup = matches!(msg, Msg::Hangup);
                if tx.send(msg).is_err() || hangup {
                    return;
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!("cannot start the input thread: {e}");
    }
}

/// Starts each `Cmd` as a task whose result comes back on the channel.
struct Runner {
    svc: Service,
    tx: UnboundedSender<Msg>,
    /// The picker's running search: a newer one replaces it (latest wins).
    search: Option<AbortHandle>,
    /// The access checker's running check: a newer one replaces it.
    check: Option<AbortHandle>,
    /// The wizard's sign-in, aborted on Esc so that polling the vendor stops.
    sign_in: Option<AbortHandle>,
    /// Set to stop the running export.
    export_cancel: Option<Arc<AtomicBool>>,
}

impl Runner {
    fn run(&mut self, cmd: Cmd) {
        let svc = self.svc.clone();
        let tx = self.tx.clone();
        let send = move |done: Done| {
            let _ = tx.send(Msg::Done(done));
        };
        match cmd {
            Cmd::LoadJobs => {
                spawn(
                    async move { send(Done::Jobs(svc.running_jobs().await.map_err(Failure::from))) },
                )
            }
            Cmd::LoadInstances => spawn(async move {
                send(Done::Instances(
                    svc.instances().await.map_err(Failure::from),
                ))
            }),
            Cmd::LoadGroups => {
                spawn(async move { send(Done::Groups(svc.groups().await.map_err(Failure::from))) })
            }
            Cmd::LoadMembers(group) => spawn(async move {
                let result = svc.members(group).await.map_err(Failure::from);
                send(Done::Members { group, result });
            }),
            Cmd::LoadLog => send(Done::Log(crate::service::recent::recent())),
            Cmd::Govern(g) => {
                spawn(async move { send(Done::Govern(super::govern::run(svc, g).await)) })
            }
            Cmd::Watch(w) => {
                spawn(async move { send(Done::Watch(super::watch::run(svc, w).await)) })
            }
            Cmd::LoadHistory(group) => spawn(async move {
                let result = svc.membership_history(group).await.map_err(Failure::from);
                send(Done::History { group, result });
            }),
            Cmd::LoadPerson(key) => spawn(async move {
                let result = svc.person(&key).await.map_err(Failure::from);
                send(Done::Person { key, result });
            }),
            Cmd::LoadActivities {
                filter,
                limit,
                after,
            } => spawn(async move {
                let result = svc
                    .activities(&filter, limit, after)
                    .await
                    .map_err(Failure::from);
                send(Done::Activities {
                    filter,
                    more: after.is_some(),
                    result,
                });
            }),
            Cmd::LoadTimeline {
                filter,
                end,
                span,
                buckets,
                seq,
            } => spawn(async move {
                // The pane asks again only once this answers: latest wins without aborting.
                let to = end.unwrap_or_else(crate::domain::now_micros);
                let result = svc
                    .timeline(&filter, to - span, to, buckets)
                    .await
                    .map_err(Failure::from);
                send(Done::Timeline { seq, result });
            }),
            Cmd::LoadAvailable { instance, search } => {
                let searching = search.is_some();
                let task = tokio::spawn(async move {
                    let result = svc
                        .available_groups(&instance, search.as_deref())
                        .await
                        .map_err(Failure::from);
                    send(Done::Available {
                        instance,
                        search,
                        result,
                    });
                });
                if searching && let Some(old) = self.search.replace(task.abort_handle()) {
                    old.abort();
                }
            }
            Cmd::SearchAfterPause(seq) => {
                let tx = self.tx.clone();
                spawn(async move {
                    tokio::time::sleep(SEARCH_PAUSE).await;
                    let _ = tx.send(Msg::SearchDue(seq));
                });
            }
            Cmd::Import {
                instance,
                group_id,
                name,
                notify,
            } => spawn(async move {
                let result = svc
                    .import_group(&instance, &group_id, notify)
                    .await
                    .map(|_| ())
                    .map_err(Failure::from);
                send(Done::Imported { name, result });
            }),
            Cmd::Sync(instance) => spawn(async move {
                let result = svc
                    .sync_now(instance.as_deref())
                    .await
                    .map(|jobs| jobs.len())
                    .map_err(Failure::from);
                send(Done::Synced(result));
            }),
            Cmd::CancelJob(id) => spawn(async move {
                send(Done::Cancelled(
                    svc.cancel_job(id).await.map_err(Failure::from),
                ))
            }),
            Cmd::LoadSavedQueries => spawn(async move {
                send(Done::SavedQueries(
                    svc.saved_queries().await.map_err(Failure::from),
                ))
            }),
            Cmd::SaveQuery { name, text } => spawn(async move {
                let result = svc.save_query(&name, &text).await.map_err(Failure::from);
                send(Done::QuerySaved { name, result });
            }),
            Cmd::DeleteQuery { name } => spawn(async move {
                let result = svc.delete_query(&name).await.map_err(Failure::from);
                let what = format!("deleted the saved query {name}");
                send(Done::QueryChanged { what, result });
            }),
            Cmd::RenameQuery { from, to, text } => spawn(async move {
                let result = match svc.save_query(&to, &text).await {
                    Ok(()) => svc.delete_query(&from).await,
                    Err(e) => Err(e),
                };
                let what = format!("renamed the saved query {from} to {to}");
                send(Done::QueryChanged {
                    what,
                    result: result.map_err(Failure::from),
                });
            }),
            Cmd::Connect { form, secret } => spawn(async move {
                send(Done::Connected(connect(&svc, *form, secret).await));
            }),
            Cmd::SignIn { form, seq } => {
                let task = tokio::spawn(async move {
                    let instance = new_instance(*form);
                    let code = match svc.begin_sign_in(&instance).await {
                        Ok(code) => code,
                        Err(e) => {
                            let result = Err(Failure::from(e));
                            return send(Done::SignInCode { seq, result });
                        }
                    };
                    let shown = SignInCode {
                        verification_uri: sanitize(&code.verification_uri),
                        user_code: sanitize(&code.user_code),
                        expires_in: code.expires_in,
                    };
                    send(Done::SignInCode {
                        seq,
                        result: Ok(shown),
                    });
                    let result = svc.finish_sign_in(&instance, code).await;
                    send(Done::SignedIn {
                        seq,
                        result: result.map_err(Failure::from),
                    });
                });
                if let Some(old) = self.sign_in.replace(task.abort_handle()) {
                    old.abort();
                }
            }
            Cmd::CancelSignIn => {
                if let Some(task) = self.sign_in.take() {
                    task.abort();
                }
            }
            Cmd::LoadExternalConnections => spawn(async move {
                let result = svc
                    .external_connections(None)
                    .await
                    .map(|list| list.into_iter().map(Into::into).collect())
                    .map_err(Failure::from);
                send(Done::ExternalConnections(result));
            }),
            Cmd::LoadExternalGroups(connection) => spawn(async move {
                let result = svc
                    .external_groups(&connection)
                    .await
                    .map(|list| list.into_iter().map(Into::into).collect())
                    .map_err(Failure::from);
                send(Done::ExternalGroups { connection, result });
            }),
            Cmd::LoadExternalItems(connection) => spawn(async move {
                let result = svc
                    .external_items(&connection)
                    .await
                    .map(|list| list.into_iter().map(Into::into).collect())
                    .map_err(Failure::from);
                send(Done::ExternalItems { connection, result });
            }),
            Cmd::LoadDirectoryUsers(connection) => spawn(async move {
                let result = svc
                    .directory_users(&connection)
                    .await
                    .map_err(Failure::from);
                send(Done::DirectoryUsers { connection, result });
            }),
            Cmd::CheckAccess {
                connection,
                item,
                user,
                seq,
            } => {
                let task = tokio::spawn(async move {
                    let result = svc
                        .access_check(&connection, &item, &user)
                        .await
                        .map(Into::into)
                        .map_err(Failure::from);
                    send(Done::AccessChecked { seq, result });
                });
                if let Some(old) = self.check.replace(task.abort_handle()) {
                    old.abort();
                }
            }
            Cmd::VisibleItems {
                connection,
                user,
                seq,
            } => {
                let task = tokio::spawn(async move {
                    let result = svc
                        .access_items(&connection, &user)
                        .await
                        .map(|list| list.into_iter().map(Into::into).collect())
                        .map_err(Failure::from);
                    send(Done::VisibleItems { seq, result });
                });
                if let Some(old) = self.check.replace(task.abort_handle()) {
                    old.abort();
                }
            }
            Cmd::LoadAudience { connection, item } => spawn(async move {
                let result = svc
                    .access_who(&connection, &item)
                    .await
                    .map(Into::into)
                    .map_err(Failure::from);
                send(Done::Audience {
                    connection,
                    item,
                    result,
                });
            }),
            // Matching is pure work on the items: a blocking thread, never the loop.
            Cmd::Rank(job) => drop(tokio::task::spawn_blocking(move || {
                job.run(&mut |ranked| send(Done::Ranked(ranked)));
            })),
            Cmd::RefreshConnections(instance) => spawn(async move {
                let result = svc
                    .refresh_connections(&instance)
                    .await
                    .map(|list| format!("{instance}: {} Graph connections", list.len()))
                    .map_err(Failure::from);
                send(Done::ConnectionsRefreshed(result));
            }),
            Cmd::Export { filter, format } => {
                let handle = tokio::runtime::Handle::current();
                let tx = self.tx.clone();
                let cancelled = Arc::new(AtomicBool::new(false));
                self.export_cancel = Some(Arc::clone(&cancelled));
                tokio::task::spawn_blocking(move || {
                    let progress = |rows| {
                        let _ = tx.send(Msg::Done(Done::ExportProgress { rows }));
                    };
                    let result = std::env::current_dir()
                        .map_err(|e| Failure {
                            message: format!("export failed: no current folder: {e}"),
                            column: None,
                        })
                        .and_then(|dir| {
                            let what = (filter.as_str(), format);
                            export::run(&svc, &handle, &dir, what, progress, &cancelled)
                        });
                    let _ = tx.send(Msg::Done(Done::Exported(result)));
                });
            }
            Cmd::CancelExport => {
                if let Some(flag) = self.export_cancel.take() {
                    flag.store(true, Ordering::Relaxed);
                }
            }
        }
    }
}

fn new_instance(form: ConnectForm) -> NewInstance {
    NewInstance {
        app: form.app,
        name: form.name,
        fields: form.fields,
        endpoint: form.endpoint,
        components: form.components,
    }
}

/// R-C3: the secret (read from its file here, off the dashboard's thread),
/// then the service's check and save.
async fn connect(svc: &Service, form: ConnectForm, secret: SecretSource) -> Outcome<String> {
    let secret = match secret {
        SecretSource::Given(secret) => secret,
        SecretSource::File(path) => read_key(&path).await?,
    };
    let request = ConnectRequest {
        instance: new_instance(form),
        secret,
    };
    let instance = svc.connect(request).await?;
    Ok(instance.name)
}

/// A key file named in the wizard; `~/` is the home folder, as in a shell.
async fn read_key(path: &Path) -> Outcome<Secret> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let full = match (path.strip_prefix("~"), home) {
        (Ok(rest), Some(home)) => home.join(rest),
        _ => path.to_owned(),
    };
    let fail = |why: String| Failure {
        message: sanitize(&format!(
            "cannot read the key file {}: {why}",
            path.display()
        )),
        column: None,
    };
    let text = tokio::fs::read_to_string(&full)
        .await
        .map_err(|e| fail(e.to_string()))?;
    if text.trim().is_empty() {
        return Err(fail("it is empty".into()));
    }
    Ok(Secret::new(text.trim()))
}

fn spawn(f: impl std::future::Future<Output = ()> + Send + 'static) {
    tokio::spawn(f);
}

#[cfg(test)]
mod tests {
    use super::*;

    // R-C3: a key file that cannot be read is one line that names it.
    #[tokio::test]
    async fn a_missing_key_file_is_one_line_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("key.json");
        let err = read_key(&missing).await.expect_err("missing");
        assert!(err.message.contains(&*missing.to_string_lossy()), "{err:?}");
        assert_eq!(err.message.lines().count(), 1);
        let empty = dir.path().join("empty.json");
        std::fs::write(&empty, "\n").expect("write");
        let err = read_key(&empty).await.expect_err("empty");
        assert!(err.message.ends_with("it is empty"), "{err:?}");
        let pem = dir.path().join("key.pem");
        std::fs::write(
            &pem,
            "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n",
        )
        .expect("write");
        let key = read_key(&pem).await.expect("read");
        assert_eq!(key.expose().lines().count(), 3, "the lines are kept");
    }
}
