//! `casbah serve` and `casbah status` (issue 9).

use std::path::Path;

use chrono::Utc;
use serde::Serialize;

use super::args::{JsonFlag, ServeArgs};
use super::output::{print_json, print_table, short_time};
use super::sandbox::wait_for_shutdown;
use super::{Outcome, open_as};
use crate::domain::{Micros, now_micros};
use crate::service::{AlertCounts, InstanceSummary, Intervals, Server, ServerInfo, Service};
use crate::store::ScanKind;

/// Serves the database until SIGTERM or SIGINT, then stops within 5 s. With
/// `--read-only`, every account action an attached client asks for is refused.
pub async fn serve(a: ServeArgs, db: &Path, socket: &Path, read_only: bool) -> Outcome {
    // Before the database: a running server is named by its pid, not by a lock.
    Server::probe(socket).await?;
    let svc = Service::open(db, Intervals::default()).await?;
    if read_only {
        svc.forbid_actions();
    }
    let server = Server::start(&svc, db, socket, a.group.as_deref()).await?;
    // Under systemd (Type=notify), "ready" once clients can attach.
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    println!(
        "casbah serving {} at {}; commands and dashboards on this database attach to it; SIGTERM or Ctrl-C stops it",
        db.display(),
        server.socket().display()
    );
    wait_for_shutdown().await;
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    server.stop().await;
    Ok(())
}

#[derive(Serialize)]
struct StatusJson {
    /// "attached" when a casbah server runs for the database, else "embedded".
    mode: &'static str,
    database: String,
    socket: String,
    server: Option<ServerJson>,
    instances: Vec<InstanceScans>,
    /// R-A1: set when country and ISP are limited to what vendors send, and how to add a database.
    geoip_note: Option<String>,
    /// Issue 12: alerts waiting for someone, and notices that could not be sent.
    alerts: AlertCounts,
}

#[derive(Serialize)]
struct ServerJson {
    pid: u32,
    version: String,
    user: String,
    started: String,
    uptime_seconds: i64,
    clients: usize,
}

#[derive(Serialize)]
struct InstanceScans {
    name: String,
    app: String,
    scans: Vec<ScanJson>,
}

#[derive(Serialize)]
struct ScanJson {
    kind: &'static str,
    last_success: Option<String>,
    last_attempt: Option<String>,
    /// When the scheduler runs it next; none when no scheduler runs (embedded, no dashboard).
    next: Option<String>,
    last_error: Option<String>,
}

fn iso(t: Option<Micros>) -> Option<String> {
    t.and_then(chrono::DateTime::<Utc>::from_timestamp_micros)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

fn scans_of(s: &InstanceSummary, intervals: Intervals, scheduled: bool) -> Vec<ScanJson> {
    [
        (ScanKind::Users, "users", intervals.users),
        (ScanKind::Activities, "activities", intervals.activities),
    ]
    .into_iter()
    .map(|(kind, name, every)| {
        let state = s
            .scans
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, st)| st.clone())
            .unwrap_or_default();
        let every = i64::try_from(every.as_micros()).unwrap_or(i64::MAX);
        let next = scheduled.then(|| {
            state
                .last_attempt
                .map_or(now_micros(), |t| t.saturating_add(every))
                .max(now_micros())
        });
        ScanJson {
            kind: name,
            last_success: iso(state.last_success),
            last_attempt: iso(state.last_attempt),
            next: iso(next),
            last_error: state.last_error,
        }
    })
    .collect()
}

/// Which mode is in force, the server's pid, uptime, version and clients, and each
/// instance's last and next scans.
pub async fn status(f: JsonFlag, db: &Path, socket: &Path) -> Outcome {
    let svc = open_as(db, socket, true).await?;
    let server: Option<ServerInfo> = match svc.server() {
        Some(remote) => Some(remote.status().await?),
        None => None,
    };
    let intervals = svc.intervals();
    let instances: Vec<InstanceScans> = svc
        .instances()
        .await?
        .iter()
        .map(|s| InstanceScans {
            name: s.instance.name.clone(),
            app: s.instance.app.display_name().to_owned(),
            scans: scans_of(s, intervals, server.is_some()),
        })
        .collect();
    let report = StatusJson {
        mode: if server.is_some() {
            "attached"
        } else {
            "embedded"
        },
        database: db.display().to_string(),
        socket: socket.display().to_string(),
        server: server.map(|s| ServerJson {
            uptime_seconds: now_micros().saturating_sub(s.started) / 1_000_000,
            started: iso(Some(s.started)).unwrap_or_default(),
            pid: s.pid,
            version: s.version,
            user: s.user,
            clients: s.clients,
        }),
        instances,
        geoip_note: svc.geoip_sources().await?.limits(),
        alerts: svc.alert_counts().await?,
    };
    if f.json {
        return print_json(&report);
    }
    match &report.server {
        Some(s) => println!(
            "attached to casbah serve (pid {}, version {}, user {}), up {}, {} client(s) attached",
            s.pid,
            s.version,
            s.user,
            uptime(s.uptime_seconds),
            s.clients
        ),
        None => println!(
            "embedded: no casbah serve runs for this database; scans run only while a dashboard is open or `casbah sync` runs (start one with `casbah serve`)"
        ),
    }
    println!("database {}", report.database);
    println!("socket   {}", report.socket);
    // R-A1, issue 10: where country and ISP come from only the vendors, say so.
    if let Some(limits) = &report.geoip_note {
        println!("note     {limits}");
    }
    let a = report.alerts;
    println!(
        "alerts   {} open, {} acknowledged (`casbah alerts list`)",
        a.open, a.acknowledged
    );
    if a.failing_notices > 0 {
        println!(
            "notices  {} not delivered yet, retried with backoff (`casbah notify show`)",
            a.failing_notices
        );
    }
    if report.instances.is_empty() {
        return Ok(());
    }
    println!();
    let when = |t: &Option<String>| {
        t.as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|d| short_time(Some(d.timestamp_micros())))
            .unwrap_or_else(|| "-".into())
    };
    let rows: Vec<Vec<String>> = report
        .instances
        .iter()
        .flat_map(|i| {
            i.scans.iter().map(move |s| {
                vec![
                    i.name.clone(),
                    i.app.clone(),
                    s.kind.to_owned(),
                    when(&s.last_success),
                    when(&s.next),
                    s.last_error.clone().unwrap_or_default(),
                ]
            })
        })
        .collect();
    print_table(
        &[
            "INSTANCE",
            "APP",
            "SCAN",
            "LAST SUCCESS",
            "NEXT",
            "LAST ERROR",
        ],
        &rows,
    );
    Ok(())
}

fn uptime(seconds: i64) -> String {
    match seconds {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m {}s", s / 60, s % 60),
        s if s < 86_400 => format!("{}h {}m", s / 3600, s / 60 % 60),
        s => format!("{}d {}h", s / 86_400, s / 3600 % 24),
    }
}
