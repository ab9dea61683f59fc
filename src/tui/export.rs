//! `e`/`E` in Activities: writes what the filter selects to a CSV or JSON
//! file in the current folder, page by page, reporting progress, in the same
//! shape as `casbah activities --csv/--json`.

use std::io::Write;
use std::path::PathBuf;

use super::msg::{ExportFormat, Failure};
use crate::service::Service;
use crate::service::export::CSV_HEADER;

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
    let names = runtime
        .block_on(svc.export_names())
        .map_err(Failure::from)?;
    let file = std::fs::File::create(&path).map_err(|e| failed(&path.display().to_string(), e))?;
    let out = std::io::BufWriter::new(file);
    let write_err = |e: std::io::Error| failed(&path.display().to_string(), e);
    let csv_err = |e: csv::Error| failed(&path.display().to_string(), e);
    let mut sink = match format {
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(CSV_HEADER).map_err(csv_err)?;
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
            let row = names.row(a);
            match &mut sink {
                Sink::Csv(w) => w.write_record(row.csv_record()).map_err(csv_err)?,
                Sink::Json(out) => {
                    let json = serde_json::to_string(&row).map_err(|e| failed("json", e))?;
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
