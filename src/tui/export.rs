//! `e`/`E` in Activities: writes what the filter selects to a CSV or JSON
//! file in the current folder, page by page, reporting progress, in the same
//! shape as `casbah activities --csv/--json`.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use super::msg::{ExportFormat, Failure};
use crate::service::Service;
use crate::service::export::{CSV_HEADER, safe_json};

const PAGE: usize = 1_000;

fn failed(what: &str, e: impl std::fmt::Display) -> Failure {
    Failure {
        message: format!("export failed: {what}: {e}"),
        column: None,
    }
}

/// Runs on a blocking thread, writing into `dir`; `progress` is told the rows
/// written so far. Once `cancelled` is set, it stops before the next page and
/// removes what it wrote: half an export would pass for a whole one.
pub fn run(
    svc: &Service,
    runtime: &tokio::runtime::Handle,
    dir: &std::path::Path,
    (filter, format): (&str, ExportFormat),
    progress: impl Fn(u64),
    cancelled: &AtomicBool,
) -> Result<(PathBuf, u64), Failure> {
    let ext = match format {
        ExportFormat::Csv => "csv",
        ExportFormat::Json => "json",
    };
    let stem = format!(
        "casbah-activities-{}",
        chrono::Utc::now().format("%Y%m%d-%H%M%S")
    );
    let names = runtime
        .block_on(svc.export_names())
        .map_err(Failure::from)?;
    let (path, file) = create_new(dir, &stem, ext)?;
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
        if cancelled.load(Ordering::Relaxed) {
            drop(sink);
            let removed = match std::fs::remove_file(&path) {
                Ok(()) => "the partial file was removed".to_owned(),
                Err(e) => format!("remove the partial file {} ({e})", path.display()),
            };
            return Err(Failure {
                message: format!("export cancelled after {rows} activities; {removed}"),
                column: None,
            });
        }
        let page = runtime
            .block_on(svc.activities(filter, PAGE, after))
            .map_err(Failure::from)?;
        for a in &page.items {
            let row = names.row(a);
            match &mut sink {
                Sink::Csv(w) => w.write_record(row.csv_record()).map_err(csv_err)?,
                Sink::Json(out) => {
                    let json = safe_json(&row, false).map_err(|e| failed("json", e))?;
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

/// A new file readable by its owner only (it holds the organisation's activity), never
/// one that exists already nor one reached through a symbolic link: `stem.ext`, or
/// `stem-2.ext`, … when that name is taken.
fn create_new(
    dir: &std::path::Path,
    stem: &str,
    ext: &str,
) -> Result<(PathBuf, std::fs::File), Failure> {
    use std::os::unix::fs::OpenOptionsExt;
    for n in 1..100 {
        let name = match n {
            1 => format!("{stem}.{ext}"),
            n => format!("{stem}-{n}.{ext}"),
        };
        let path = dir.join(name);
        // create_new is O_CREAT|O_EXCL, which also refuses a symbolic link at the path.
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(failed(&path.display().to_string(), e)),
        }
    }
    Err(failed(
        &dir.join(format!("{stem}.{ext}")).display().to_string(),
        "too many exports of the same second already there",
    ))
}

enum Sink {
    Csv(Box<csv::Writer<std::io::BufWriter<std::fs::File>>>),
    Json(std::io::BufWriter<std::fs::File>),
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    // Issue 10: an export is a new 0600 file; an existing file or a symbolic link at its
    // name is left alone and the next name is taken.
    #[test]
    fn exports_are_new_private_files() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere.txt");
        std::fs::write(&target, "keep me").unwrap();
        std::os::unix::fs::symlink(&target, dir.path().join("x.csv")).unwrap();
        std::fs::write(dir.path().join("x-2.csv"), "older export").unwrap();
        let (path, _) = create_new(dir.path(), "x", "csv").unwrap();
        assert_eq!(path, dir.path().join("x-3.csv"));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("x-2.csv")).unwrap(),
            "older export"
        );
    }

    // Issue 13: a cancelled export stops and leaves no partial file behind.
    #[test]
    fn a_cancelled_export_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(&dir.path().join("c.redb")).unwrap();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let svc = runtime
            .block_on(async { Service::with_store(store, crate::service::Intervals::default()) });
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let cancelled = AtomicBool::new(true);
        let run = |cancelled: &AtomicBool| {
            let what = ("", ExportFormat::Csv);
            run(&svc, runtime.handle(), &out, what, |_| {}, cancelled)
        };
        let err = run(&cancelled).expect_err("cancelled");
        assert_eq!(
            err.message,
            "export cancelled after 0 activities; the partial file was removed"
        );
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
        cancelled.store(false, Ordering::Relaxed);
        let (path, rows) = run(&cancelled).expect("exported");
        assert_eq!((rows, path.parent()), (0, Some(out.as_path())));
    }
}
