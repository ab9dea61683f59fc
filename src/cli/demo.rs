//! `casbah demo`: the whole product on the sandbox, in the dashboard; when
//! stdout is not a terminal it keeps syncing and prints a live summary.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::args::DemoArgs;
use super::sandbox::{start, wait_for_shutdown};
use super::{Failure, Outcome};
use crate::sandbox::SandboxConfig;
use crate::service::{ConnectRequest, Event, Intervals, Level, Server, Service};

/// Groups the demo imports from each instance, so that filters by group have
/// something to show in every app.
const DEMO_GROUPS: usize = 2;

pub async fn run(a: DemoArgs, db: PathBuf, read_only: bool) -> Outcome {
    // The demo never touches the real database unless --db/CASBAH_DB names one.
    let (db, _tmp) = demo_db(db)?;
    // Beside its own database, the sandbox's GeoIP databases place the addresses it
    // hands out (casbah finds them there); a database of yours is left as it is.
    if let Some(dir) = &_tmp {
        crate::sandbox::geoip::write_databases(dir.path()).map_err(|e| {
            Failure::Failed(format!("cannot write the sandbox's GeoIP databases: {e}"))
        })?;
    }
    let sandbox = start(SandboxConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        seed: a.seed,
        users: a.users,
        live_rate: a.rate,
        ..SandboxConfig::default()
    })
    .await?;
    let svc = Service::open(&db, Intervals::demo()).await?;
    // Listen before anything starts, so no notice of the first imports is missed.
    let events = svc.subscribe();
    // Every app the sandbox serves, each organisation once: Microsoft 365, two Okta
    // orgs, Google Workspace, and two GitHub organisations (one without an audit log).
    let saved: Vec<String> = svc
        .instances()
        .await?
        .into_iter()
        .map(|i| i.instance.reference())
        .collect();
    let mut new = Vec::new();
    for (instance, secret) in sandbox.organisations() {
        let request = ConnectRequest { instance, secret };
        let reference =
            crate::domain::instance::reference(request.instance.app, &request.instance.name);
        if saved.contains(&reference) {
            // An earlier demo on this database: the sandbox listens on another port
            // now. Pointed at it before the scans start, keeping what was collected.
            svc.reconnect(request).await?;
        } else {
            new.push((reference, request));
        }
    }
    // Issue 9: the demo serves its database, so a second terminal can attach.
    let socket = crate::service::default_socket(&db);
    let server = Server::start(&svc, &db, &socket, None).await?;
    let attach = format!(
        "attach from another terminal: casbah --db {} (or any command, e.g. casbah --db {} activities)",
        db.display(),
        db.display()
    );
    println!(
        "sandbox tenant at {}; database {}",
        sandbox.base_url(),
        db.display()
    );
    println!("{attach}");
    for (reference, request) in new {
        svc.connect(request).await?;
        for group in svc
            .available_groups(&reference, None)
            .await?
            .into_iter()
            .take(DEMO_GROUPS)
        {
            svc.import_group(&reference, &group.group.id, true).await?;
        }
    }
    watch_for_demo(&svc).await?;
    tokio::spawn(super::demo_external::seed(
        svc.clone(),
        sandbox.tenant_id.clone(),
    ));
    let outcome = if std::io::stdout().is_terminal() {
        super::dashboard(svc, &db, Some(attach), read_only).await
    } else {
        println!("syncing; press Ctrl-C to stop");
        tokio::select! {
            _ = wait_for_shutdown() => Ok(()),
            result = live_summary(&svc, events) => result,
        }
    };
    // Attached clients are told; the scheduler and jobs stop.
    server.stop().await;
    outcome
}

/// Issue 12: policies that the sandbox's live activity sets off, so that alerts appear in
/// the header and the Alerts pane while the demo runs; kept when the demo runs again.
async fn watch_for_demo(svc: &Service) -> Outcome {
    use crate::domain::policy::{Per, Policy, Severity, template};
    let mut policies = Vec::new();
    if let Some(t) = template("failed-sign-ins") {
        policies.push(Policy {
            rule: t.rule,
            severity: t.severity,
            template: Some(t.name.into()),
            ..Policy::new("Failed sign-ins from one address", t.filter)
        });
    }
    // Administrators of the sandbox's organisation work from its head office's country.
    let mut abroad = Policy::new("Administrator activity abroad", "admin -country:US");
    (abroad.severity, abroad.rule.per) = (Severity::High, Per::Actor);
    policies.push(abroad);
    for mut policy in policies {
        if svc.find_policy(&policy.name).await.is_err() {
            policy.enabled = true;
            svc.save_policy(policy, true).await?;
        }
    }
    Ok(())
}

fn demo_db(db: PathBuf) -> Result<(PathBuf, Option<tempfile::TempDir>), Failure> {
    if std::env::var_os("CASBAH_DB").is_some() || db != super::default_db() {
        return Ok((db, None));
    }
    let dir = tempfile::Builder::new()
        .prefix("casbah-demo-")
        .tempdir()
        .map_err(|e| {
            Failure::Failed(format!("cannot create a folder for the demo database: {e}"))
        })?;
    let path = Path::new(dir.path()).join("demo.redb");
    Ok((path, Some(dir)))
}

/// Prints notices as they come and a status line every few seconds.
async fn live_summary(
    svc: &Service,
    mut events: tokio::sync::broadcast::Receiver<Event>,
) -> Outcome {
    let mut tick = tokio::time::interval(Duration::from_secs(3));
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok(Event::Notification { level, text }) => {
                    let mark = match level { Level::Info => "·", Level::Warning => "!", Level::Error => "✗" };
                    println!("{mark} {text}");
                }
                Ok(Event::JobFailed { error, .. }) => println!("✗ {error}"),
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return Ok(()),
            },
            _ = tick.tick() => {
                let count = svc.activity_count().await?;
                let groups = svc.groups().await?;
                let newest = svc.activities("", 1, None).await?.items.into_iter().next();
                let last = newest
                    .map(|a| format!("{} {} {}", a.actor, a.label(), a.country.as_deref().unwrap_or_default()))
                    .unwrap_or_default();
                println!("activities {count} · groups {} · newest: {last}", groups.len());
                let _ = std::io::stdout().flush();
            }
        }
    }
}
