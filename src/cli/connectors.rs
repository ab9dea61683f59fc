//! `casbah connectors …`

use serde::Serialize;

use super::args::{AddArgs, ConnectorsCommand};
use super::output::{print_json, print_table, short_time, time};
use super::secret::read_secret;
use super::{Failure, Outcome};
use crate::domain::instance::Component;
use crate::domain::{AppKind, Micros};
use crate::service::{ConnectRequest, InstanceSummary, Service};
use crate::store::NewInstance;
use crate::store::ScanState;

pub async fn run(command: ConnectorsCommand, svc: &Service) -> Outcome {
    match command {
        ConnectorsCommand::Add(args) => add(args, svc).await,
        ConnectorsCommand::List(f) => list(svc, f.json).await,
        ConnectorsCommand::Test { name } => {
            let check = svc.test(&name).await?;
            println!(
                "{name}: credentials work; {} users on the first page",
                check.users_seen
            );
            Ok(())
        }
        ConnectorsCommand::Remove { name } => {
            let removed = svc.remove_instance(&name).await?;
            println!("removed {} ({})", removed.name, removed.app.display_name());
            Ok(())
        }
        ConnectorsCommand::Catalog(f) => catalog(f.json),
    }
}

async fn add(args: AddArgs, svc: &Service) -> Outcome {
    let app = AppKind::from_slug(&args.app).ok_or_else(|| {
        let slugs: Vec<&str> = AppKind::ALL.iter().map(|a| a.slug()).collect();
        Failure::Usage(format!(
            "unknown app {:?}; choose one of {}",
            args.app,
            slugs.join(", ")
        ))
    })?;
    let components = match &args.components {
        Some(list) => Component::parse_list(list).map_err(|e| Failure::Usage(e.to_string()))?,
        None => Component::default_set(),
    };
    let secret = read_secret("client secret: ")?;
    let instance = svc
        .connect(ConnectRequest {
            instance: NewInstance {
                app,
                name: args.name,
                tenant: args.tenant_id,
                client_id: args.client_id,
                endpoint: args.endpoint,
                components,
            },
            secret,
        })
        .await?;
    println!(
        "connected {} ({}); run `casbah sync --wait` for its users and activities",
        instance.name,
        app.display_name()
    );
    Ok(())
}

#[derive(Serialize)]
struct ScanJson {
    last_success: Option<String>,
    last_attempt: Option<String>,
    last_error: Option<String>,
}

#[derive(Serialize)]
struct InstanceJson {
    id: u64,
    name: String,
    app: &'static str,
    tenant_id: String,
    client_id: String,
    endpoint: Option<String>,
    components: Vec<Component>,
    users: u64,
    status: &'static str,
    scans: std::collections::BTreeMap<String, ScanJson>,
}

/// "connected" until a scan fails; the last scan decides.
fn status(summary: &InstanceSummary) -> &'static str {
    let latest = summary.scans.iter().max_by_key(|(_, s)| s.last_attempt);
    match latest {
        None => "connected",
        Some((_, s)) if s.last_error.is_some() => "error",
        Some(_) => "connected",
    }
}

fn json_of(summary: &InstanceSummary) -> InstanceJson {
    let i = &summary.instance;
    let opt = |t: Option<Micros>| t.map(time);
    InstanceJson {
        id: i.id.0,
        name: i.name.clone(),
        app: i.app.slug(),
        tenant_id: i.tenant.clone(),
        client_id: i.client_id.clone(),
        endpoint: i.endpoint.clone(),
        components: i.components.clone(),
        users: summary.users,
        status: status(summary),
        scans: summary
            .scans
            .iter()
            .map(|(kind, s): &(_, ScanState)| {
                let name = serde_json::to_value(kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                (
                    name,
                    ScanJson {
                        last_success: opt(s.last_success),
                        last_attempt: opt(s.last_attempt),
                        last_error: s.last_error.clone(),
                    },
                )
            })
            .collect(),
    }
}

async fn list(svc: &Service, json: bool) -> Outcome {
    let instances = svc.instances().await?;
    let rows: Vec<InstanceJson> = instances.iter().map(json_of).collect();
    if json {
        return print_json(&rows);
    }
    if rows.is_empty() {
        println!(
            "No instance connected; add one with `casbah connectors add microsoft365 --name NAME --tenant-id ID --client-id ID`"
        );
        return Ok(());
    }
    let table: Vec<Vec<String>> = instances
        .iter()
        .zip(&rows)
        .map(|(s, j)| {
            let last = |kind| {
                s.scans
                    .iter()
                    .find(|(k, _)| *k == kind)
                    .map(|(_, st)| short_time(st.last_success))
                    .unwrap_or_else(|| "never".into())
            };
            let error = s
                .scans
                .iter()
                .find_map(|(_, st)| st.last_error.clone())
                .unwrap_or_default();
            vec![
                j.name.clone(),
                s.instance.app.display_name().to_owned(),
                j.status.to_owned(),
                j.users.to_string(),
                last(crate::store::ScanKind::Users),
                last(crate::store::ScanKind::Activities),
                error,
            ]
        })
        .collect();
    print_table(
        &[
            "NAME",
            "APP",
            "STATUS",
            "USERS",
            "USERS SCANNED",
            "ACTIVITIES SCANNED",
            "LAST ERROR",
        ],
        &table,
    );
    Ok(())
}

fn catalog(json: bool) -> Outcome {
    if json {
        let apps: Vec<_> = AppKind::ALL.iter().map(|a| a.info()).collect();
        return print_json(&apps);
    }
    let rows: Vec<Vec<String>> = AppKind::ALL
        .iter()
        .map(|a| {
            let info = a.info();
            vec![
                a.slug().to_owned(),
                a.display_name().to_owned(),
                if info.multi_instance { "many" } else { "one" }.to_owned(),
                if info.connector { "yes" } else { "not yet" }.to_owned(),
            ]
        })
        .collect();
    print_table(&["APP", "NAME", "INSTANCES", "CONNECTOR"], &rows);
    Ok(())
}
