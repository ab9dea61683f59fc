//! `casbah groups …`, `casbah members`, `casbah person`.

use std::path::Path;

use serde::Serialize;

use super::args::{
    GroupListArgs, GroupSyncArgs, GroupsCommand, ImportArgs, MembersArgs, PersonArgs,
};
use super::output::{print_json, print_table, short_time, time};
use super::{Failure, Outcome, sync};
use crate::domain::office::{office_only, short_names};
use crate::domain::{Group, GroupApp, GroupKind, GroupStatus, SkipCounts};
use crate::service::{ListedGroup, Service};

pub async fn run(command: GroupsCommand, svc: &Service, db: &Path) -> Outcome {
    match command {
        GroupsCommand::Available(a) => {
            let groups = svc
                .available_groups(&a.instance, a.search.as_deref())
                .await?;
            if a.json {
                return print_json(&groups);
            }
            let rows: Vec<Vec<String>> = groups
                .iter()
                .map(|g| {
                    vec![
                        if g.imported { "imported" } else { "" }.to_owned(),
                        g.group.display_name.clone(),
                        g.group.id.clone(),
                        short_names(&g.also_in),
                        g.group.description.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            print_table(&["", "NAME", "ID", "ALSO IN", "DESCRIPTION"], &rows);
            Ok(())
        }
        GroupsCommand::Import(a) => import(a, svc, db).await,
        GroupsCommand::List(a) => list(svc, a).await,
        GroupsCommand::Sync(a) => group_sync(a, svc, db).await,
        GroupsCommand::Remove { group } => {
            let removed = svc.remove_group(&group).await?;
            println!("removed {}", removed.name);
            Ok(())
        }
        GroupsCommand::History(a) => history(a, svc).await,
    }
}

#[derive(Serialize)]
struct ChangeJson {
    user: String,
    change: &'static str,
    at: String,
}

fn change_word(joined: bool) -> &'static str {
    if joined { "joined" } else { "left" }
}

/// R-G7: each sync's joins and leaves, oldest first; the first sync's joins are
/// the members the import found.
async fn history(a: MembersArgs, svc: &Service) -> Outcome {
    let group = svc.find_group(&a.group).await?;
    let changes = svc.membership_history(group.id).await?;
    if a.json {
        let rows: Vec<ChangeJson> = changes
            .iter()
            .map(|c| ChangeJson {
                user: c.user.clone(),
                change: change_word(c.joined),
                at: time(c.at),
            })
            .collect();
        return print_json(&rows);
    }
    if changes.is_empty() {
        println!(
            "{} has no membership changes yet; they are recorded from its first sync on",
            group.name
        );
        return Ok(());
    }
    let (joined, left) =
        changes.iter().fold(
            (0, 0),
            |(j, l), c| {
                if c.joined { (j + 1, l) } else { (j, l + 1) }
            },
        );
    let rows: Vec<Vec<String>> = changes
        .iter()
        .map(|c| {
            vec![
                short_time(Some(c.at)),
                change_word(c.joined).to_owned(),
                c.user.clone(),
            ]
        })
        .collect();
    println!("{}: {joined} joined, {left} left", group.name);
    print_table(&["WHEN", "CHANGE", "USER"], &rows);
    Ok(())
}

async fn import(a: ImportArgs, svc: &Service, db: &Path) -> Outcome {
    let (group, job) = svc.import_group(&a.instance, &a.group, a.notify).await?;
    if a.wait {
        let summary = job.wait().await.map_err(Failure::Failed)?;
        println!("{}: {summary}", group.name);
        return Ok(());
    }
    if let Some(pid) = sync::server_pid(svc) {
        println!(
            "importing {} on the casbah server (pid {pid}); `casbah groups list` shows when it is ready",
            group.name
        );
        return Ok(());
    }
    // The first sync runs in a background casbah of its own, so this one can exit now.
    svc.shutdown().await;
    let pid = sync::in_background(db, &["groups", "sync", &group.id.0.to_string(), "--wait"])?;
    println!(
        "importing {} in the background (pid {pid}); `casbah groups list` shows when it is ready",
        group.name
    );
    Ok(())
}

async fn group_sync(a: GroupSyncArgs, svc: &Service, db: &Path) -> Outcome {
    let group = svc.find_group(&a.group).await?;
    if !a.wait
        && let Some(pid) = sync::server_pid(svc)
    {
        svc.sync_group(group.id, &group.name).await?;
        println!("syncing {} on the casbah server (pid {pid})", group.name);
        return Ok(());
    }
    if !a.wait {
        svc.shutdown().await;
        let pid = sync::in_background(db, &["groups", "sync", &group.id.0.to_string(), "--wait"])?;
        println!("syncing {} in the background (pid {pid})", group.name);
        return Ok(());
    }
    let summary = svc
        .sync_group(group.id, &group.name)
        .await?
        .wait()
        .await
        .map_err(Failure::Failed)?;
    println!("{}: {summary}", group.name);
    Ok(())
}

#[derive(Serialize)]
struct GroupJson {
    id: u64,
    name: String,
    kind: &'static str,
    instance: Option<u64>,
    remote_id: Option<String>,
    status: &'static str,
    status_message: Option<String>,
    members: u32,
    /// suspended, disabled and deleted always; a vendor's other reasons as they come.
    skipped: std::collections::BTreeMap<String, u32>,
    imported_at: String,
    last_sync: Option<String>,
    notify: bool,
    /// R-G10: imported from a Microsoft 365 (Unified) group.
    microsoft365: bool,
    /// Slugs of the apps the group belongs to: its instance's app, then the
    /// Office apps it also appears in (R-G10).
    apps: Vec<&'static str>,
}

fn status(g: &Group) -> (&'static str, Option<String>) {
    match &g.status {
        GroupStatus::Importing => ("importing", None),
        GroupStatus::Ready => ("ready", None),
        GroupStatus::SyncFailed { message } => ("sync-failed", Some(message.clone())),
    }
}

fn skipped_json(skipped: &SkipCounts) -> std::collections::BTreeMap<String, u32> {
    let mut out: std::collections::BTreeMap<String, u32> = ["suspended", "disabled", "deleted"]
        .map(|k| (k.to_string(), 0))
        .into();
    out.extend(skipped.reasons().map(|(k, n)| (k.to_string(), n)));
    out
}

fn json_of(listed: &ListedGroup) -> GroupJson {
    let g = &listed.group;
    let (instance, remote_id) = match &g.kind {
        GroupKind::Imported {
            instance,
            remote_id,
        } => (Some(instance.0), Some(remote_id.clone())),
        GroupKind::Automatic(_) => (None, None),
    };
    let (status, status_message) = status(g);
    GroupJson {
        id: g.id.0,
        name: g.name.clone(),
        kind: if instance.is_some() {
            "imported"
        } else {
            "automatic"
        },
        instance,
        remote_id,
        status,
        status_message,
        members: g.member_count,
        skipped: skipped_json(&g.skipped),
        imported_at: time(g.imported_at),
        last_sync: g.last_sync.map(time),
        notify: g.notify,
        microsoft365: g.microsoft365,
        apps: listed.apps.iter().map(|a| a.slug()).collect(),
    }
}

async fn list(svc: &Service, a: GroupListArgs) -> Outcome {
    let groups = svc.listed_groups(a.app.as_deref()).await?;
    if a.json {
        let rows: Vec<GroupJson> = groups.iter().map(json_of).collect();
        return print_json(&rows);
    }
    let imported = groups
        .iter()
        .filter(|g| matches!(g.group.kind, GroupKind::Imported { .. }))
        .count();
    // The app as the user typed it was resolved by the service; name it fully.
    let of_app = a
        .app
        .as_deref()
        .and_then(GroupApp::from_name)
        .map(|app| format!(" of {}", app.display_name()))
        .unwrap_or_default();
    println!(
        "Groups{of_app}: {imported}/{} imported, {} automatic",
        crate::store::IMPORT_LIMIT,
        groups.len() - imported
    );
    let rows: Vec<Vec<String>> = groups
        .iter()
        .map(|listed| {
            let g = &listed.group;
            let j = json_of(listed);
            let app = match listed.apps.first() {
                Some(GroupApp::App(app)) => app.display_name(),
                _ => "",
            };
            vec![
                g.id.0.to_string(),
                g.name.clone(),
                j.kind.to_owned(),
                app.to_owned(),
                short_names(&office_only(&listed.apps)),
                j.status.to_owned(),
                g.member_count.to_string(),
                short_time(g.last_sync),
                j.status_message.unwrap_or_default(),
            ]
        })
        .collect();
    print_table(
        &[
            "ID",
            "NAME",
            "KIND",
            "APP",
            "ALSO IN",
            "STATUS",
            "MEMBERS",
            "LAST SYNC",
            "",
        ],
        &rows,
    );
    Ok(())
}

#[derive(Serialize)]
struct MemberJson {
    key: String,
    name: String,
    email: String,
    instance: Option<u64>,
    joined_at: String,
    last_activity: Option<String>,
}

pub async fn members(a: MembersArgs, svc: &Service) -> Outcome {
    let group = svc.find_group(&a.group).await?;
    let members = svc.members(group.id).await?;
    if a.json {
        let rows: Vec<MemberJson> = members
            .iter()
            .map(|m| MemberJson {
                key: m.key.clone(),
                name: m.name.clone(),
                email: m.email.clone(),
                instance: m.instance.map(|i| i.0),
                joined_at: time(m.joined_at),
                last_activity: m.last_activity.map(time),
            })
            .collect();
        return print_json(&rows);
    }
    if members.is_empty() && group.status == GroupStatus::Importing {
        println!(
            "{} is still importing; try again when `casbah groups list` shows it ready",
            group.name
        );
        return Ok(());
    }
    let rows: Vec<Vec<String>> = members
        .iter()
        .map(|m| {
            vec![
                m.name.clone(),
                m.email.clone(),
                short_time(Some(m.joined_at)),
                short_time(m.last_activity),
            ]
        })
        .collect();
    println!("{}: {} members", group.name, members.len());
    print_table(&["NAME", "E-MAIL", "JOINED", "LAST ACTIVITY"], &rows);
    Ok(())
}

pub async fn person(a: PersonArgs, svc: &Service) -> Outcome {
    let person = svc.person(&a.user).await?;
    if a.json {
        return print_json(&person);
    }
    let groups = svc.groups().await?;
    let group_names: Vec<&str> = groups
        .iter()
        .filter(|g| person.groups.contains(&g.id))
        .map(|g| g.name.as_str())
        .collect();
    let name = person
        .accounts
        .first()
        .map(|(_, u)| u.display_name.as_str())
        .unwrap_or(person.key.as_str());
    println!("{name} <{}>", person.key);
    let apps: Vec<&str> = person.apps.iter().map(|a| a.display_name()).collect();
    println!("apps:           {}", apps.join(", "));
    println!("groups:         {}", group_names.join(", "));
    println!("last activity:  {}", short_time(person.last_activity));
    println!("last 30 days:   {}", person.daily.iter().sum::<u64>());
    let rows: Vec<Vec<String>> = person
        .by_type
        .iter()
        .map(|(t, n)| vec![t.clone(), n.to_string()])
        .collect();
    print_table(&["ACTIVITY", "COUNT"], &rows);
    Ok(())
}
