//! `casbah db check`, `casbah db backup PATH`: the service's check and backup of the
//! database file, which a server will offer as they are.

use std::path::Path;

use super::args::DbCommand;
use super::{Failure, Outcome};
use crate::service::{Intervals, Service, ServiceError};
use crate::store::{Checked, StoreError};

pub async fn run(command: DbCommand, db: &Path, socket: &Path) -> Outcome {
    // Read-only: neither command writes to the database (see `Store::open_read_only`).
    // With a server running, it checks or copies the database it holds.
    let svc = match super::attach(socket).await? {
        Some(svc) => svc,
        None => Service::open_read_only(db, Intervals::default())
            .await
            .map_err(damage)?,
    };
    match command {
        DbCommand::Check => {
            let checked = svc.check_database().await.map_err(damage)?;
            println!(
                "{}: every page passed redb's integrity check ({}, {} tables, schema {}); {}",
                checked.path,
                size(checked.bytes),
                checked.tables,
                checked.schema,
                contents(&checked)
            );
        }
        DbCommand::Backup { path } => {
            // A server may run in another folder: it is given the whole path.
            let path = std::path::absolute(&path)
                .map_err(|e| Failure::Usage(format!("cannot use {}: {e}", path.display())))?;
            let copy = svc.backup_database(&path).await.map_err(damage)?;
            println!(
                "backed up to {} ({}, readable by you only); it passed the integrity check: {}",
                copy.path,
                size(copy.bytes),
                contents(&copy)
            );
        }
    }
    Ok(())
}

/// Damage in the words of the command that looks for it: what, and what to do.
fn damage(e: ServiceError) -> Failure {
    match e {
        ServiceError::Store(StoreError::Damaged { path, detail }) => {
            Failure::Failed(format!("{path} is damaged: {detail}; restore a backup"))
        }
        other => other.into(),
    }
}

fn contents(c: &Checked) -> String {
    let plural = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    [
        plural(c.instances, "instance", "instances"),
        plural(c.users, "user", "users"),
        plural(c.groups, "group", "groups"),
        plural(c.activities, "activity", "activities"),
    ]
    .join(", ")
}

fn size(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}
