//! `casbah external …`: Graph connections, external groups, members, item
//! ACLs and mirrors (R-X1…R-X6).

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use serde::Serialize;

use super::args::{
    AclCommand, ConnectionsCommand, ExternalCommand, ExternalGroupsCommand, ExternalMembersCommand,
    GroupFields, ItemsCommand, MemberArgs, MirrorArgs,
};
use super::output::{print_json, print_table, short_time, time};
use super::{Failure, Outcome, sync};
use crate::domain::AppKind;
use crate::domain::external::{
    AclEntry, ExternalGroupId, Member, UnmatchedUser, parse_item_document,
};
use crate::domain::text::sanitize;
use crate::service::{
    ConnectionSummary, ExternalGroupView, ItemView, MemberRef, MemberView, Service,
};

pub async fn run(command: ExternalCommand, svc: Service, db: &Path) -> Outcome {
    match command {
        ExternalCommand::Connections(c) => connections(c, &svc).await,
        ExternalCommand::Groups(c) => groups(c, &svc).await,
        ExternalCommand::Members(c) => members(c, &svc).await,
        ExternalCommand::Items(c) => items(c, &svc).await,
        ExternalCommand::Acl(c) => acl(c, &svc).await,
        ExternalCommand::Mirror(a) => mirror(a, svc, db).await,
    }
}

#[derive(Serialize)]
struct ConnectionJson<'a> {
    instance: &'a str,
    id: &'a str,
    name: &'a str,
    description: Option<&'a str>,
    state: Option<crate::domain::external::ConnectionState>,
    groups: usize,
    items: usize,
    pending: usize,
}

fn connection_json(s: &ConnectionSummary) -> ConnectionJson<'_> {
    ConnectionJson {
        instance: &s.instance,
        id: s.connection.id.as_str(),
        name: &s.connection.name,
        description: s.connection.description.as_deref(),
        state: s.connection.state,
        groups: s.groups,
        items: s.items,
        pending: s.pending,
    }
}

async fn connections(command: ConnectionsCommand, svc: &Service) -> Outcome {
    match command {
        ConnectionsCommand::List(a) => {
            let list = match (&a.instance, a.refresh) {
                (Some(instance), true) => svc.refresh_connections(instance).await?,
                (None, true) => {
                    let mut all = Vec::new();
                    for i in svc.instances().await? {
                        if i.instance.app == AppKind::Microsoft365 {
                            all.extend(svc.refresh_connections(&i.instance.name).await?);
                        }
                    }
                    all
                }
                (instance, false) => svc.external_connections(instance.as_deref()).await?,
            };
            if a.json {
                let rows: Vec<ConnectionJson> = list.iter().map(connection_json).collect();
                return print_json(&rows);
            }
            if list.is_empty() {
                println!(
                    "no connections; `casbah external connections list --instance NAME --refresh` reads them from Graph"
                );
                return Ok(());
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|s| {
                    vec![
                        s.instance.clone(),
                        s.connection.id.to_string(),
                        s.groups.to_string(),
                        s.items.to_string(),
                        s.pending.to_string(),
                        s.connection.name.clone(),
                    ]
                })
                .collect();
            print_table(
                &["INSTANCE", "ID", "GROUPS", "ITEMS", "PENDING", "NAME"],
                &rows,
            );
            Ok(())
        }
        ConnectionsCommand::Add(a) => {
            let c = svc
                .add_connection(&a.instance, &a.id, &a.name, a.description.as_deref())
                .await?;
            println!("created connection {} ({}) in {}", c.id, c.name, a.instance);
            Ok(())
        }
        ConnectionsCommand::Delete(a) => {
            svc.delete_connection(&a.connection).await?;
            println!("deleted connection {}", a.connection);
            Ok(())
        }
    }
}

#[derive(Serialize)]
struct MemberJson<'a> {
    #[serde(flatten)]
    member: &'a Member,
    label: &'a str,
    pending: bool,
}

#[derive(Serialize)]
struct MirrorJson<'a> {
    source: u64,
    source_name: &'a str,
    published: usize,
    unmatched: &'a [UnmatchedUser],
    last_sync: Option<String>,
    error: Option<&'a str>,
}

#[derive(Serialize)]
struct GroupJson<'a> {
    id: &'a str,
    display_name: Option<&'a str>,
    description: Option<&'a str>,
    members: Vec<MemberJson<'a>>,
    mirror: Option<MirrorJson<'a>>,
}

fn group_json(v: &ExternalGroupView) -> GroupJson<'_> {
    GroupJson {
        id: v.group.id.as_str(),
        display_name: v.group.display_name.as_deref(),
        description: v.group.description.as_deref(),
        members: v
            .members
            .iter()
            .map(|m| MemberJson {
                member: &m.member,
                label: &m.label,
                pending: m.pending,
            })
            .collect(),
        mirror: v.mirror.as_ref().map(|m| MirrorJson {
            source: m.source.0,
            source_name: &m.source_name,
            published: m.published,
            unmatched: &m.unmatched,
            last_sync: m.last_sync.map(time),
            error: m.error.as_deref(),
        }),
    }
}

fn member_line(m: &MemberView) -> String {
    match &m.member {
        Member::User(_) => format!("user {}", m.label),
        Member::EntraGroup(_) => format!("Entra group {}", m.label),
        Member::ExternalGroup(id) if m.pending => {
            format!("external group {id} (pending: not created yet)")
        }
        Member::ExternalGroup(_) => format!("external group {}", m.label),
    }
}

/// Prints `members` under a group, nested external groups expanded below
/// their line; a group met again on its own path is a cycle and stops there.
fn print_members(
    members: &[MemberView],
    by_id: &HashMap<&ExternalGroupId, &ExternalGroupView>,
    path: &mut Vec<ExternalGroupId>,
    depth: usize,
) {
    let indent = "  ".repeat(depth);
    for m in members {
        let line = member_line(m);
        match &m.member {
            Member::ExternalGroup(id) if path.contains(id) => {
                println!("{indent}{line} (cycle: it contains itself; evaluation stops here)");
            }
            Member::ExternalGroup(id) => {
                println!("{indent}{line}");
                if let Some(nested) = by_id.get(id) {
                    path.push(id.clone());
                    print_members(&nested.members, by_id, path, depth + 1);
                    path.pop();
                }
            }
            _ => println!("{indent}{line}"),
        }
    }
}

async fn groups(command: ExternalGroupsCommand, svc: &Service) -> Outcome {
    match command {
        ExternalGroupsCommand::List { connection, json } => {
            let views = svc.external_groups(&connection.connection).await?;
            if json {
                let rows: Vec<GroupJson> = views.iter().map(group_json).collect();
                return print_json(&rows);
            }
            if views.is_empty() {
                println!("no external groups in {}", connection.connection);
                return Ok(());
            }
            let by_id: HashMap<&ExternalGroupId, &ExternalGroupView> =
                views.iter().map(|v| (&v.group.id, v)).collect();
            for v in &views {
                let name = match &v.group.display_name {
                    Some(n) => format!("{}  {n}", v.group.id),
                    None => v.group.id.to_string(),
                };
                let n = v.members.len();
                println!("{name}  ({n} member{})", if n == 1 { "" } else { "s" });
                if let Some(m) = &v.mirror {
                    let state = match &m.error {
                        Some(e) => format!("last sync failed: {e}"),
                        None => format!("synced {}", short_time(m.last_sync)),
                    };
                    println!(
                        "  mirrors {}: {} published, {} unmatched, {state}",
                        m.source_name,
                        m.published,
                        m.unmatched.len()
                    );
                    for u in &m.unmatched {
                        println!("    unmatched: {u}");
                    }
                }
                let mut path = vec![v.group.id.clone()];
                print_members(&v.members, &by_id, &mut path, 1);
            }
            Ok(())
        }
        ExternalGroupsCommand::Create(fields) => write_group(svc, fields, true).await,
        ExternalGroupsCommand::Update(fields) => write_group(svc, fields, false).await,
        ExternalGroupsCommand::Delete { connection, id } => {
            svc.delete_external_group(&connection.connection, &id)
                .await?;
            println!("deleted external group {id} from {}", connection.connection);
            Ok(())
        }
    }
}

/// Clap insists on exactly one of the three flags.
fn member_ref(a: &MemberArgs) -> MemberRef {
    match (&a.user, &a.entra_group) {
        (Some(u), _) => MemberRef::User(u.clone()),
        (None, Some(g)) => MemberRef::EntraGroup(g.clone()),
        (None, None) => MemberRef::External(a.external.clone().unwrap_or_default()),
    }
}

async fn write_group(svc: &Service, fields: GroupFields, create: bool) -> Outcome {
    let (connection, id) = (&fields.connection.connection, &fields.id);
    let (name, description) = (fields.name.as_deref(), fields.description.as_deref());
    let g = if create {
        svc.create_external_group(connection, id, name, description)
            .await?
    } else {
        svc.update_external_group(connection, id, name, description)
            .await?
    };
    let verb = if create { "created" } else { "updated" };
    println!(
        "{verb} external group {} in {connection}: {}",
        g.id,
        g.label()
    );
    Ok(())
}

/// The member as Graph knows it, with the name the person typed when that
/// was not the id.
fn describe(member: &Member, typed: &MemberRef) -> String {
    let kind = match member {
        Member::User(_) => "user",
        Member::EntraGroup(_) => "Entra group",
        Member::ExternalGroup(_) => "external group",
    };
    let (MemberRef::User(name) | MemberRef::EntraGroup(name) | MemberRef::External(name)) = typed;
    let id = member.id();
    if name.trim().eq_ignore_ascii_case(id) {
        format!("{kind} {id}")
    } else {
        format!("{kind} {} ({id})", sanitize(name.trim()))
    }
}

async fn members(command: ExternalMembersCommand, svc: &Service) -> Outcome {
    match command {
        ExternalMembersCommand::Add(a) => {
            let wanted = member_ref(&a);
            let m = svc
                .add_external_member(&a.connection.connection, &a.group, wanted.clone())
                .await?;
            println!(
                "added {} to external group {}",
                describe(&m, &wanted),
                a.group
            );
            Ok(())
        }
        ExternalMembersCommand::Remove(a) => {
            let wanted = member_ref(&a);
            let m = svc
                .remove_external_member(&a.connection.connection, &a.group, wanted.clone())
                .await?;
            println!(
                "removed {} from external group {}",
                describe(&m, &wanted),
                a.group
            );
            Ok(())
        }
    }
}

#[derive(Serialize)]
struct AclEntryJson<'a> {
    #[serde(flatten)]
    wire: crate::domain::external::AclEntryWire,
    label: &'a str,
}

#[derive(Serialize)]
struct ItemJson<'a> {
    id: &'a str,
    title: Option<&'a str>,
    acl: Vec<AclEntryJson<'a>>,
    pending: &'a [ExternalGroupId],
}

fn item_json(v: &ItemView) -> ItemJson<'_> {
    ItemJson {
        id: v.id.as_str(),
        title: v.title.as_deref(),
        acl: v
            .acl
            .iter()
            .zip(&v.labels)
            .map(|(e, label): (&AclEntry, &String)| AclEntryJson {
                wire: e.to_wire(),
                label,
            })
            .collect(),
        pending: &v.pending,
    }
}

fn print_acl(v: &ItemView) {
    let rows: Vec<Vec<String>> = v
        .acl
        .iter()
        .zip(&v.labels)
        .enumerate()
        .map(|(i, (e, label))| {
            vec![
                (i + 1).to_string(),
                e.access.wire_name().to_string(),
                label.clone(),
            ]
        })
        .collect();
    print_table(&["#", "ACCESS", "NAMES"], &rows);
    print_pending(&v.pending);
}

fn print_pending(pending: &[ExternalGroupId]) {
    for id in pending {
        println!("pending: external group {id} is named but not created yet");
    }
}

async fn items(command: ItemsCommand, svc: &Service) -> Outcome {
    match command {
        ItemsCommand::List { connection, json } => {
            let items = svc.external_items(&connection.connection).await?;
            if json {
                let rows: Vec<ItemJson> = items.iter().map(item_json).collect();
                return print_json(&rows);
            }
            let rows: Vec<Vec<String>> = items
                .iter()
                .map(|v| {
                    vec![
                        v.id.to_string(),
                        v.acl.len().to_string(),
                        v.pending.len().to_string(),
                        v.title.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            print_table(&["ID", "ENTRIES", "PENDING", "TITLE"], &rows);
            Ok(())
        }
        ItemsCommand::Delete { connection, item } => {
            svc.delete_item(&connection.connection, &item).await?;
            println!("deleted item {item} from {}", connection.connection);
            Ok(())
        }
    }
}

/// The ACL file's text; `-` is stdin.
fn read_acl_file(path: &Path) -> Result<String, Failure> {
    let mut text = String::new();
    let read = if path == Path::new("-") {
        std::io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::read_to_string(path).map(|t| text = t)
    };
    read.map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display())))?;
    Ok(text)
}

async fn acl(command: AclCommand, svc: &Service) -> Outcome {
    match command {
        AclCommand::Set {
            connection,
            item,
            file,
        } => {
            let text = read_acl_file(&file)?;
            let document = parse_item_document(&text).map_err(|e| Failure::Usage(e.to_string()))?;
            let view = svc
                .set_item_acl(&connection.connection, &item, document)
                .await?;
            println!(
                "set the ACL of item {} ({} entries)",
                view.id,
                view.acl.len()
            );
            print_pending(&view.pending);
            Ok(())
        }
        AclCommand::Show {
            connection,
            item,
            json,
        } => {
            let view = &svc.external_item(&connection.connection, &item).await?;
            if json {
                return print_json(&item_json(view));
            }
            if let Some(t) = &view.title {
                println!("{}  {t}", view.id);
            }
            print_acl(view);
            Ok(())
        }
    }
}

async fn mirror(a: MirrorArgs, svc: Service, db: &Path) -> Outcome {
    let job = svc
        .mirror_group(&a.connection.connection, &a.group, &a.from)
        .await?;
    if a.wait {
        let summary = job.wait().await.map_err(Failure::Failed)?;
        println!("{}: {summary}", a.group);
        return Ok(());
    }
    if let Some(pid) = sync::server_pid(&svc) {
        println!(
            "mirroring {} to external group {} on the casbah server (pid {pid}); `casbah external groups list --connection {}` shows its state",
            a.from, a.group, a.connection.connection
        );
        return Ok(());
    }
    // The sync runs in a background casbah of its own, so this one can exit now.
    svc.shutdown().await;
    drop(svc);
    let pid = sync::in_background(
        db,
        &[
            "external",
            "mirror",
            "--connection",
            &a.connection.connection,
            "--group",
            &a.group,
            "--from",
            &a.from,
            "--wait",
        ],
    )?;
    println!(
        "mirroring {} to external group {} in the background (pid {pid}); `casbah external groups list --connection {}` shows its state",
        a.from, a.group, a.connection.connection
    );
    Ok(())
}
