//! Headless subcommands: human output by default, `--json` (and `--csv`) for
//! scripts. Exit 0 on success, 1 on failure, 2 on a usage error; errors go to
//! stderr as one line that says what to do.

// Every module below prints through these, not the standard macros they shadow: what
// one prints is one line, escaped as vendor text is (DESIGN §3 "Untrusted text", issue
// 10), line breaks and all, whatever it quotes and whoever writes the next command. A
// vendor's name can then neither drive the terminal nor break a line to forge another.
// JSON and CSV escape their strings and cells as they are encoded (`service::export`)
// and go out through their own writers.
macro_rules! println {
    () => {
        $crate::cli::output::line(false, "")
    };
    ($($arg:tt)*) => {
        $crate::cli::output::line(false, &format!($($arg)*))
    };
}
macro_rules! eprintln {
    ($($arg:tt)*) => {
        $crate::cli::output::line(true, &format!($($arg)*))
    };
}

mod access;
mod act;
mod activities;
mod alerts;
mod apps;
mod args;
mod connectors;
mod db;
mod demo;
mod demo_external;
mod external;
mod groups;
mod notify;
mod output;
mod policies;
mod sandbox;
mod secret;
mod serve;
mod sync;

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use crate::service::{Intervals, Service, ServiceError};
use args::{Cli, Command};

/// What a command failed with, and how the process should exit.
#[derive(Debug)]
pub enum Failure {
    Usage(String),
    Failed(String),
    /// A panic, which the panic hook reported (exit 101, as an uncaught one).
    Panicked,
}

impl From<ServiceError> for Failure {
    fn from(e: ServiceError) -> Failure {
        if e.is_usage() {
            Failure::Usage(e.to_string())
        } else {
            Failure::Failed(e.to_string())
        }
    }
}

type Outcome = Result<(), Failure>;

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print to stdout and succeed; the rest are usage errors.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let db = cli.db.clone().unwrap_or_else(default_db);
    let socket = cli
        .socket
        .clone()
        .unwrap_or_else(|| crate::service::default_socket(&db));
    let _log = init_logging(&db);
    install_panic_hook();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(Failure::Failed(format!("cannot start: {e}"))),
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(run(cli.command, db, socket, cli.read_only))
    }));
    match outcome {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(f)) => fail(f),
        // `casbah activities | head -1`: the reader left; end quietly, as a process
        // ended by SIGPIPE does, the database closed on the way out.
        Err(_) if READER_LEFT.load(std::sync::atomic::Ordering::SeqCst) => ExitCode::from(141),
        Err(_) => ExitCode::from(101),
    }
}

/// Set when printing failed because whoever read the output has gone.
static READER_LEFT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn fail(f: Failure) -> ExitCode {
    match f {
        Failure::Usage(msg) => {
            say(&msg);
            ExitCode::from(2)
        }
        Failure::Failed(msg) => {
            say(&msg);
            ExitCode::from(1)
        }
        Failure::Panicked => ExitCode::from(101),
    }
}

async fn run(command: Option<Command>, db: PathBuf, socket: PathBuf, no_actions: bool) -> Outcome {
    let Some(command) = command else {
        let svc = open_as(&db, &socket, false).await?;
        return dashboard(svc, &db, None, no_actions).await;
    };
    let read_only = reads_only(&command);
    let socket_path = socket.as_path();
    let open = |db| async move {
        let svc = open_as(db, socket_path, read_only).await?;
        if no_actions {
            svc.forbid_actions();
        }
        Ok::<_, Failure>(svc)
    };
    match command {
        Command::Sandbox(args::SandboxCommand::Serve(a)) => sandbox::serve(a).await,
        Command::Demo(a) => demo::run(a, db, no_actions).await,
        Command::Db(c) => db::run(c, &db, &socket).await,
        Command::Serve(a) => serve::serve(a, &db, &socket, no_actions).await,
        Command::Status(f) => serve::status(f, &db, &socket).await,
        Command::Connectors(c) => connectors::run(c, &open(&db).await?).await,
        Command::Groups(c) => groups::run(c, &open(&db).await?, &db).await,
        Command::Members(a) => groups::members(a, &open(&db).await?).await,
        Command::Person(a) => groups::person(a, &open(&db).await?).await,
        Command::Activities(a) => activities::list(a, &open(&db).await?).await,
        Command::Queries(c) => activities::queries(c, &open(&db).await?).await,
        Command::Sync(a) => sync::run(a, open(&db).await?, &db).await,
        Command::Settings(c) => settings(c, &open(&db).await?).await,
        Command::External(c) => external::run(c, open(&db).await?, &db).await,
        Command::Access(c) => access::run(c, &open(&db).await?).await,
        Command::Act(a) => act::act(a, &open(&db).await?, no_actions).await,
        Command::Audit(f) => act::audit(f, &open(&db).await?).await,
        Command::Apps(c) => apps::run(c, &open(&db).await?).await,
        Command::Policies(c) => policies::run(c, &open(&db).await?).await,
        Command::Alerts(c) => alerts::run(c, &open(&db).await?).await,
        Command::Notify(c) => notify::run(c, &open(&db).await?).await,
    }
}

/// A command that only reads opens the database read-only: it never writes to the file,
/// so a damaged one stays as it was, and it skips the integrity check that comes before
/// every open for writing (see `store::open`). Opened for writing, redb syncs the file
/// five times (its open and close) even when nothing is written (issue 13).
fn reads_only(command: &Command) -> bool {
    use args::{
        AclCommand, AlertsCommand, ConnectionsCommand, ConnectionsListArgs, ConnectorsCommand,
        ExternalCommand, ExternalGroupsCommand, GroupsCommand, ItemsCommand, NotifyCommand,
        PoliciesCommand, QueriesCommand, SettingsCommand,
    };
    matches!(
        command,
        Command::Members(_)
            | Command::Person(_)
            | Command::Activities(_)
            | Command::Access(_)
            | Command::External(
                ExternalCommand::Groups(ExternalGroupsCommand::List { .. })
                    | ExternalCommand::Items(ItemsCommand::List { .. })
                    | ExternalCommand::Acl(AclCommand::Show { .. })
            )
            | Command::Groups(GroupsCommand::List(_) | GroupsCommand::History(_))
            | Command::Connectors(ConnectorsCommand::List(_) | ConnectorsCommand::Catalog(_))
            | Command::Queries(QueriesCommand::List(_))
            | Command::Settings(SettingsCommand::List(_))
            | Command::Audit(_)
            | Command::Apps(_)
            | Command::Policies(
                PoliciesCommand::List(_)
                    | PoliciesCommand::Templates(_)
                    | PoliciesCommand::Test { .. }
            )
            | Command::Alerts(AlertsCommand::List { .. } | AlertsCommand::Show { .. })
            | Command::Notify(NotifyCommand::Show(_))
            | Command::External(ExternalCommand::Connections(ConnectionsCommand::List(
                ConnectionsListArgs { refresh: false, .. }
            )))
    )
}

async fn settings(command: args::SettingsCommand, svc: &Service) -> Outcome {
    match command {
        args::SettingsCommand::List(f) => {
            let all = svc.settings().await?;
            if f.json {
                let map: serde_json::Map<String, serde_json::Value> = all
                    .into_iter()
                    .map(|(k, v, _)| (k, serde_json::Value::String(v)))
                    .collect();
                return output::print_json(&map);
            }
            let rows: Vec<Vec<String>> = all
                .into_iter()
                .map(|(k, v, about)| vec![k, v, about])
                .collect();
            output::print_table(&["SETTING", "VALUE", "MEANING"], &rows);
            if let Some(limits) = svc.geoip_sources().await?.limits() {
                println!();
                println!("{limits}");
            }
            Ok(())
        }
        args::SettingsCommand::Set { key, value } => {
            svc.set_setting(&key, &value).await?;
            let when = if key.starts_with("geoip.") {
                "from the next activity scan on"
            } else {
                "the next time casbah starts"
            };
            println!("{key} = {value}; it takes effect {when}");
            Ok(())
        }
    }
}

/// The dashboard over `db`, syncing while it is open (attached, the server syncs);
/// `read_only` hides and refuses every account action.
async fn dashboard(
    svc: Service,
    db: &std::path::Path,
    notice: Option<String>,
    read_only: bool,
) -> Outcome {
    if read_only {
        svc.forbid_actions();
    }
    svc.start_scheduler();
    crate::tui::run(svc, db, notice, read_only)
        .await
        .map_err(|e| match e {
            // The panic said so itself, once the terminal was back.
            crate::tui::TuiError::Panicked => Failure::Panicked,
            e => Failure::Failed(e.to_string()),
        })
}

/// Issue 9: the service of the `casbah serve` listening at `socket`, if one runs.
async fn attach(socket: &std::path::Path) -> Result<Option<Service>, Failure> {
    let remote = crate::service::Remote::attach(socket)
        .await
        .map_err(|e| Failure::Failed(e.to_string()))?;
    Ok(remote.map(Service::attached))
}

/// The service a command works through: the server of the database when one runs,
/// else the database opened in this process (read-only for commands that only read).
async fn open_as(
    db: &std::path::Path,
    socket: &std::path::Path,
    read_only: bool,
) -> Result<Service, Failure> {
    if let Some(svc) = attach(socket).await? {
        return Ok(svc);
    }
    if read_only {
        Ok(Service::open_read_only(db, Intervals::default()).await?)
    } else {
        Ok(Service::open(db, Intervals::default()).await?)
    }
}

fn data_dir() -> PathBuf {
    directories::ProjectDirs::from("", "", "casbah")
        .map(|d| d.data_dir().to_owned())
        .unwrap_or_else(|| PathBuf::from("."))
}

fn default_db() -> PathBuf {
    data_dir().join("casbah.redb")
}

/// One line on stderr. Never panics, as `eprintln!` does when stderr is gone (a terminal
/// that hung up): a panic in the panic hook aborts.
fn say(line: &str) {
    use std::io::Write;
    let line = crate::domain::text::safe(line);
    let _ = writeln!(std::io::stderr(), "casbah: {line}");
}

/// A panic is a bug: one line on stderr and the details in the log. redb's
/// panics on a damaged file are expected answers and only logged.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let at = info.location().map(ToString::to_string).unwrap_or_default();
        // println! panics when stdout is a pipe whose reader has gone: not a casbah bug.
        if message.starts_with("failed printing to std") && message.contains("Broken pipe") {
            READER_LEFT.store(true, std::sync::atomic::Ordering::SeqCst);
            return;
        }
        tracing::error!(at, "panic: {message}");
        if !crate::store::panics_are_expected() {
            let line = crate::domain::text::sanitize(&format!("{message} at {at}"));
            say(&format!(
                "internal error ({line}); please report it with casbah.log"
            ));
        }
    }));
}

/// The log's writer: each event is one line, escaped as vendor text is (DESIGN §3,
/// issue 10), whatever its message and fields quote. A vendor's name can then neither
/// drive the terminal of whoever reads the log, nor reorder it, nor forge a line of its
/// own with a line break.
struct SafeLog<M>(M);

impl<'a, M: tracing_subscriber::fmt::MakeWriter<'a>> tracing_subscriber::fmt::MakeWriter<'a>
    for SafeLog<M>
{
    type Writer = SafeLine<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        SafeLine(self.0.make_writer())
    }
}

/// One event as the formatter wrote it, in one piece, ending with its line break.
struct SafeLine<W>(W);

impl<W: std::io::Write> std::io::Write for SafeLine<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let (body, end) = match text.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (text.as_ref(), ""),
        };
        match crate::domain::text::safe(body) {
            std::borrow::Cow::Borrowed(_) if matches!(text, std::borrow::Cow::Borrowed(_)) => {
                self.0.write_all(buf)?
            }
            safe => self.0.write_all(format!("{safe}{end}").as_bytes())?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Logs go to a file beside the database, never to the terminal. The level
/// comes from `CASBAH_LOG` (e.g. `debug`), default `info`.
fn init_logging(db: &std::path::Path) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let dir = db
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(data_dir);
    // The log names people and apps: it is as private as the database (0600 in a 0700 folder).
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .ok()?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(dir.join("casbah.log"))
        .ok()?;
    // A log created before, or by another tool, is tightened like the database.
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .ok()?;
    let (writer, guard) = tracing_appender::non_blocking(file);
    let filter = tracing_subscriber::EnvFilter::try_from_env("CASBAH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    // Started by systemd (`casbah serve` as a service), the journal gets the log too.
    let journal = std::env::var_os("JOURNAL_STREAM")
        .and_then(|_| tracing_journald::layer().ok())
        .map(|l| l.with_syslog_identifier("casbah".into()));
    tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(SafeLog(writer))
                .with_ansi(false),
        )
        .with(journal)
        .with(crate::service::recent::layer())
        .try_init()
        .ok()?;
    Some(guard)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::SafeLine;

    // Issue 10, DESIGN §3 Untrusted text: an event reaches the log as one line, escaped,
    // whatever it quotes; a clean one is written as it came.
    #[test]
    fn log_events_are_one_safe_line() {
        let mut out = Vec::new();
        let event = "WARN sync group \u{202e}evil\n2026-01-01 INFO forged \x1b]2;t\x07: failed\n";
        SafeLine(&mut out)
            .write_all(event.as_bytes())
            .expect("write");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "WARN sync group \\u{202e}evil^J2026-01-01 INFO forged ^[]2;t^G: failed\n"
        );
        let mut out = Vec::new();
        SafeLine(&mut out)
            .write_all("INFO Zoë imported\n".as_bytes())
            .expect("write");
        assert_eq!(out, "INFO Zoë imported\n".as_bytes());
    }
}
