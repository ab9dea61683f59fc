//! `e`/`E` in Activities: writes what the filter selects to a CSV or JSON
//! file in the current folder, page by page, reporting progress.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

use super::msg::{ExportFormat, Failure};
use crate::domain::{Activity, GroupId};
use crate::service::Service;

const PAGE: usize = 1_000;

fn failed(what: &str, e: impl std::fmt::Display) -> Failure {
    Failure {
        message: format!("export failed: {what}: {e}"),
        column: None,
    }
}

/// Runs on a blocking thread; `progress` is told the rows written so far.
pub fn run(
    svc: &Service,
    runtime: &tokio::runtime::Handle,
    filter: &str,
    format: ExportFormat,
    progress: impl Fn(u64),
) -> Result<(PathBuf, u64), Failure> {
    let ext = match format {
        ExportFormat::Csv => "csv",
        ExportFormat::Json => "json",
    };
    let dir = std::env::current_dir().map_err(|e| failed("no current folder", e))?;
    let path = dir.join(format!(
        "casbah-activities-{}.{ext}",
        chrono::Utc::now().format("%Y%m%d-%H%M%S")
    ));
    let groups: HashMap<GroupId, String> = runtime
        .block_on(svc.groups())
        .map_err(Failure::from)?
        .into_iter()
        .map(|g| (g.id, g.name))
        .collect();
    let file = std::fs::File::create(&path).map_err(|e| failed(&path.display().to_string(), e))?;
    let out = std::io::BufWriter::new(file);
    let write_err = |e: std::io::Error| failed(&path.display().to_string(), e);
    let csv_err = |e: csv::Error| failed(&path.display().to_string(), e);
    let mut sink = match format {
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(HEADER).map_err(csv_err)?;
            Sink::Csv(Box::new(w))
        }
        ExportFormat::Json => {
            let mut out = out;
            out.write_all(b"[").map_err(write_err)?;
            Sink::Json(out)
        }
    };
    let mut rows = 0u64;
    let mut after = None;
    loop {
        let page = runtime
            .block_on(svc.activities(filter, PAGE, after))
            .map_err(Failure::from)?;
        for a in &page.items {
            match &mut sink {
                Sink::Csv(w) => w.write_record(record(a, &groups)).map_err(csv_err)?,
                Sink::Json(out) => {
                    let json = serde_json::to_string(a).map_err(|e| failed("json", e))?;
                    let sep = if rows == 0 { "\n" } else { ",\n" };
                    out.write_all(sep.as_bytes())
                        .and_then(|()| out.write_all(json.as_bytes()))
                        .map_err(write_err)?;
                }
            }
            rows += 1;
        }
        progress(rows);
        match page.next {
            Some(next) if !page.items.is_empty() => after = Some(next),
            _ => break,
        }
    }
    match sink {
        Sink::Csv(mut w) => w.flush().map_err(write_err)?,
        Sink::Json(mut out) => out
            .write_all(b"\n]\n")
            .and_then(|()| out.flush())
            .map_err(write_err)?,
    }
    Ok((path, rows))
}

enum Sink {
    Csv(Box<csv::Writer<std::io::BufWriter<std::fs::File>>>),
    Json(std::io::BufWriter<std::fs::File>),
}

const HEADER: [&str; 19] = [
    "id",
    "time",
    "app",
    "instance",
    "actor",
    "actor_name",
    "activity_type",
    "action_type",
    "objects",
    "admin",
    "impersonated",
    "succeeded",
    "ip",
    "country",
    "isp",
    "device_type",
    "user_agent",
    "source",
    "groups",
];

fn record(a: &Activity, groups: &HashMap<GroupId, String>) -> Vec<String> {
    let time = chrono::DateTime::from_timestamp_micros(a.time)
        .map(|t| t.to_rfc3339())
        .unwrap_or_default();
    let objects: Vec<String> = a
        .objects
        .iter()
        .map(|o| format!("{}:{}", o.kind.slug(), o.name))
        .collect();
    let tags: Vec<String> = a
        .groups
        .iter()
        .map(|id| {
            groups
                .get(id)
                .cloned()
                .unwrap_or_else(|| format!("#{}", id.0))
        })
        .collect();
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    vec![
        a.id.clone(),
        time,
        a.app.slug().to_owned(),
        a.instance.0.to_string(),
        a.actor.clone(),
        a.actor_name.clone(),
        a.activity_type.clone(),
        a.action_type.clone(),
        objects.join("; "),
        a.admin.to_string(),
        a.impersonated.to_string(),
        a.succeeded.to_string(),
        opt(&a.ip),
        opt(&a.country),
        opt(&a.isp),
        opt(&a.device_type),
        opt(&a.user_agent),
        a.source.clone(),
        tags.join("; "),
    ]
}
