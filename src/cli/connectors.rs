//! `casbah connectors …`

use serde::Serialize;

use super::args::{AddArgs, ConnectorsCommand};
use super::output::{print_json, print_table, short_time, time};
use super::secret::read_secret;
use super::{Failure, Outcome};
use crate::domain::catalog::AuthMethod;
use crate::domain::instance::Component;
use crate::domain::{AppKind, Micros};
use crate::service::{ConnectRequest, InstanceSummary, Service};
use crate::store::NewInstance;
use crate::store::ScanState;

pub async fn run(command: ConnectorsCommand, svc: &Service) -> Outcome {
    match command {
        ConnectorsCommand::Add(args) => add(*args, svc).await,
        ConnectorsCommand::List(f) => list(svc, f.json).await,
        ConnectorsCommand::Test { name } => {
            let check = svc.test(&name).await?;
            println!(
                "{name}: credentials work; {} users on the first page",
                check.users_seen
            );
            Ok(())
        }
        ConnectorsCommand::SetSecret { name, secret_file } => {
            set_secret(&name, secret_file.as_deref(), svc).await
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
    let fields = args.fields();
    let method = app
        .info()
        .method_for(fields.keys().map(String::as_str))
        .map_err(|e| Failure::Usage(e.to_string()))?;
    let components = match (&args.components, app) {
        (Some(list), AppKind::Microsoft365) => {
            Component::parse_list(list).map_err(|e| Failure::Usage(e.to_string()))?
        }
        (None, AppKind::Microsoft365) => Component::default_set(),
        (Some(_), _) => {
            return Err(Failure::Usage(
                "--components is for Microsoft 365 only; drop it".into(),
            ));
        }
        (None, _) => Vec::new(),
    };
    let instance = NewInstance {
        app,
        name: args.name,
        fields,
        endpoint: args.endpoint,
        components,
    };
    let secret = secret_for(method, &instance, args.secret_file.as_deref(), svc).await?;
    let instance = svc.connect(ConnectRequest { instance, secret }).await?;
    println!(
        "connected {} ({}); run `casbah sync --wait` for its users and activities",
        instance.name,
        app.display_name()
    );
    Ok(())
}

/// The secret `method` takes: read (see `read_secret`), or a token from signing in.
async fn secret_for(
    method: &AuthMethod,
    instance: &NewInstance,
    file: Option<&std::path::Path>,
    svc: &Service,
) -> Result<crate::domain::Secret, Failure> {
    match method.secret_field() {
        Some(field) => read_secret(field, file),
        None if file.is_some() => Err(Failure::Usage(format!(
            "{} needs no secret: you sign in at {}; drop --secret-file",
            method.label,
            instance.app.display_name()
        ))),
        None => sign_in(svc, instance).await,
    }
}

/// Rotation: the instance's way of signing in decides what is asked for.
async fn set_secret(name: &str, file: Option<&std::path::Path>, svc: &Service) -> Outcome {
    let instance = svc.find_instance(name).await?;
    let method = instance
        .app
        .info()
        .method_for(instance.fields.keys().map(String::as_str))
        .map_err(|e| Failure::Failed(e.to_string()))?;
    let new = NewInstance {
        app: instance.app,
        name: instance.name.clone(),
        fields: instance.fields.clone(),
        endpoint: instance.endpoint.clone(),
        components: instance.components.clone(),
    };
    let secret = secret_for(method, &new, file, svc).await?;
    let instance = svc.set_secret(&instance.reference(), secret).await?;
    println!(
        "{}: the new secret works and is saved; the next scans use it",
        instance.name
    );
    Ok(())
}

/// GitHub's device flow: the person signs in at the vendor with a code shown here.
async fn sign_in(svc: &Service, instance: &NewInstance) -> Result<crate::domain::Secret, Failure> {
    let code = svc.begin_sign_in(instance).await?;
    eprintln!(
        "To connect {}, open {} and enter the code {} (valid for {} minutes); waiting…",
        instance.app.display_name(),
        code.verification_uri,
        code.user_code,
        code.expires_in.as_secs().div_ceil(60)
    );
    Ok(svc.finish_sign_in(instance, code).await?)
}

#[derive(Serialize)]
struct ScanJson {
    last_success: Option<String>,
    last_attempt: Option<String>,
    last_error: Option<String>,
    /// What the last successful scan found worth saying (no audit log, …).
    note: Option<String>,
}

#[derive(Serialize)]
struct InstanceJson {
    id: u64,
    name: String,
    app: &'static str,
    /// The non-secret credential fields by the catalog's names.
    fields: std::collections::BTreeMap<String, String>,
    tenant_id: Option<String>,
    client_id: Option<String>,
    endpoint: Option<String>,
    components: Vec<Component>,
    users: u64,
    status: &'static str,
    scans: std::collections::BTreeMap<String, ScanJson>,
    /// Each activity stream's own last success, attempt, error and note.
    streams: std::collections::BTreeMap<String, ScanJson>,
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
    InstanceJson {
        id: i.id.0,
        name: i.name.clone(),
        app: i.app.slug(),
        fields: i.fields.clone(),
        tenant_id: i.fields.get("tenant-id").cloned(),
        client_id: i.fields.get("client-id").cloned(),
        endpoint: i.endpoint.clone(),
        components: i.components.clone(),
        users: summary.users,
        status: status(summary),
        scans: summary
            .scans
            .iter()
            .map(|(kind, s)| {
                let name = serde_json::to_value(kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                (name, scan_json(s))
            })
            .collect(),
        streams: summary
            .streams
            .iter()
            .map(|(stream, s)| (stream.clone(), scan_json(s)))
            .collect(),
    }
}

fn scan_json(s: &ScanState) -> ScanJson {
    let opt = |t: Option<Micros>| t.map(time);
    ScanJson {
        last_success: opt(s.last_success),
        last_attempt: opt(s.last_attempt),
        last_error: s.last_error.clone(),
        note: s.note.clone(),
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
            "No instance connected; add one with `casbah connectors add APP --name NAME …` (`casbah connectors catalog` lists the apps)"
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
            let said = s
                .scans
                .iter()
                .find_map(|(_, st)| st.last_error.clone())
                .or_else(|| s.scans.iter().find_map(|(_, st)| st.note.clone()))
                .unwrap_or_default();
            vec![
                j.name.clone(),
                s.instance.app.display_name().to_owned(),
                j.status.to_owned(),
                j.users.to_string(),
                last(crate::store::ScanKind::Users),
                last(crate::store::ScanKind::Activities),
                said,
            ]
        })
        .collect();
    if let Some(limits) = svc.geoip_sources().await?.limits() {
        eprintln!("casbah: note: {limits}");
    }
    print_table(
        &[
            "NAME",
            "APP",
            "STATUS",
            "USERS",
            "USERS SCANNED",
            "ACTIVITIES SCANNED",
            "ERROR OR NOTE",
        ],
        &table,
    );
    Ok(())
}

fn catalog(json: bool) -> Outcome {
    if json {
        let apps: Vec<_> = AppKind::by_display_name()
            .iter()
            .map(|a| a.info())
            .collect();
        return print_json(&apps);
    }
    let rows: Vec<Vec<String>> = AppKind::by_display_name()
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
