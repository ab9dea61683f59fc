//! `casbah sync`, and handing work to a background casbah.

use std::path::Path;
use std::process::{Command, Stdio};

use super::args::SyncArgs;
use super::{Failure, Outcome};
use crate::service::{Event, Service};

pub async fn run(a: SyncArgs, svc: Service, db: &Path) -> Outcome {
    if !a.wait
        && let Some(pid) = server_pid(&svc)
    {
        let jobs = svc.sync_now(a.instance.as_deref()).await?;
        println!(
            "{} scan(s) started on the casbah server (pid {pid}); `casbah status` shows them",
            jobs.len()
        );
        return Ok(());
    }
    if !a.wait {
        if let Some(name) = &a.instance {
            svc.find_instance(name).await?;
        }
        svc.shutdown().await;
        drop(svc);
        let mut args = vec!["sync", "--wait"];
        if let Some(name) = &a.instance {
            args.extend(["--instance", name.as_str()]);
        }
        let pid = in_background(db, &args)?;
        println!(
            "sync started in the background (pid {pid}); the database is busy until it finishes"
        );
        return Ok(());
    }
    let mut events = svc.subscribe();
    let jobs = svc.sync_now(a.instance.as_deref()).await?;
    if jobs.is_empty() {
        println!("nothing to sync: no instance is connected");
        return Ok(());
    }
    // Progress goes to stderr so that stdout stays a clean summary.
    let progress = tokio::spawn(async move {
        while let Ok(event) = events.recv().await {
            if let Event::JobFailed { error, .. } = event {
                eprintln!("casbah: {error}");
            }
        }
    });
    let mut failed = 0;
    for job in jobs {
        let label = job.label.clone();
        match job.wait().await {
            Ok(summary) => println!("{label}: {summary}"),
            Err(_) => failed += 1,
        }
    }
    progress.abort();
    // Issue 12: alerts the scans raised are told now, not when a dashboard next opens.
    if svc.server().is_none() {
        match svc.deliver_notices().await {
            Ok(0) => {}
            Ok(n) => println!("{n} alert notice(s) sent"),
            Err(e) => eprintln!("casbah: notices not sent: {e}"),
        }
    }
    if failed > 0 {
        return Err(Failure::Failed(format!(
            "{failed} scan(s) failed; see the errors above and `casbah connectors list`"
        )));
    }
    Ok(())
}

/// The pid of the server `svc` is attached to: work handed to it runs there, and this
/// command may exit at once (issue 9).
pub fn server_pid(svc: &Service) -> Option<u32> {
    svc.server().map(|s| s.info().pid)
}

/// Starts `casbah --db DB ARGS…` detached from this terminal; returns its pid.
/// The caller must have closed the database first.
pub fn in_background(db: &Path, args: &[&str]) -> Result<u32, Failure> {
    let exe = std::env::current_exe()
        .map_err(|e| Failure::Failed(format!("cannot find the casbah binary: {e}")))?;
    let child = {
        use std::os::unix::process::CommandExt;
        Command::new(exe)
            .arg("--db")
            .arg(db)
            .args(args)
            // Issue 10: a secret read from the environment is not handed on.
            .env_remove(super::secret::SECRET_ENV)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
    };
    child
        .map(|c| c.id())
        .map_err(|e| Failure::Failed(format!("cannot start a background casbah: {e}")))
}
