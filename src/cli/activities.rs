//! `casbah activities` and `casbah queries`.

use serde::Serialize;

use super::args::{ActivitiesArgs, QueriesCommand};
use super::output::{self, print_json, print_table, short_time};
use super::{Failure, Outcome};
use crate::domain::Activity;
use crate::service::export::{CSV_HEADER, ExportNames, safe_json};
use crate::service::{Service, suggested_queries};

/// Pages are read from the store this many at a time, so a large export
/// streams instead of piling up in memory.
const PAGE: usize = 500;

/// The filter to run: a saved or suggested query by name, and/or `--filter`.
async fn filter_text(a: &ActivitiesArgs, svc: &Service) -> Result<String, Failure> {
    let Some(name) = &a.query else {
        return Ok(a.filter.clone());
    };
    let saved = svc.saved_queries().await?;
    let named = saved
        .iter()
        .map(|(n, f)| (n.as_str(), f.as_str()))
        .chain(suggested_queries().iter().copied())
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, f)| f.to_owned())
        .ok_or_else(|| {
            Failure::Usage(format!(
                "no saved or suggested query named {name:?}; see `casbah queries list`"
            ))
        })?;
    Ok(format!("{named} {}", a.filter).trim().to_owned())
}

pub async fn list(a: ActivitiesArgs, svc: &Service) -> Outcome {
    let filter = filter_text(&a, svc).await?;
    let names = svc.export_names().await?;
    let mut out = Output::new(&a)?;
    let mut after = None;
    let mut written = 0;
    while written < a.limit {
        let page = svc
            .activities(&filter, PAGE.min(a.limit - written), after)
            .await?;
        for activity in &page.items {
            out.write(&names, activity)?;
        }
        written += page.items.len();
        match page.next {
            Some(next) if !page.items.is_empty() => after = Some(next),
            _ => break,
        }
    }
    out.finish(written)
}

/// Streams activities as a table, a JSON array or CSV.
enum Output {
    Table(Vec<Vec<String>>),
    Json { first: bool },
    Csv(Box<csv::Writer<std::io::Stdout>>),
}

fn io_error(e: impl std::fmt::Display) -> Failure {
    Failure::Failed(format!("cannot write the output: {e}"))
}

impl Output {
    fn new(a: &ActivitiesArgs) -> Result<Output, Failure> {
        if a.csv {
            let mut w = csv::Writer::from_writer(std::io::stdout());
            w.write_record(CSV_HEADER).map_err(io_error)?;
            Ok(Output::Csv(Box::new(w)))
        } else if a.json {
            output::json("[");
            Ok(Output::Json { first: true })
        } else {
            Ok(Output::Table(Vec::new()))
        }
    }

    fn write(&mut self, names: &ExportNames, a: &Activity) -> Result<(), Failure> {
        let j = names.row(a);
        match self {
            Output::Table(rows) => rows.push(vec![
                short_time(Some(a.time)),
                j.instance.clone(),
                a.actor.clone(),
                a.label().into_owned(),
                a.objects
                    .first()
                    .map(|o| o.name.clone())
                    .unwrap_or_default(),
                a.country.clone().unwrap_or_default(),
                a.ip.clone().unwrap_or_default(),
                j.groups.join(", "),
            ]),
            Output::Json { first } => {
                let text = safe_json(&j, true).map_err(io_error)?;
                output::json(&format!("{}\n{text}", if *first { "" } else { "," }));
                *first = false;
            }
            Output::Csv(w) => w.write_record(j.csv_record()).map_err(io_error)?,
        }
        Ok(())
    }

    fn finish(self, count: usize) -> Outcome {
        match self {
            Output::Table(rows) => {
                if rows.is_empty() {
                    println!("No activities match; widen the filter or run `casbah sync --wait`");
                } else {
                    print_table(
                        &[
                            "TIME", "INSTANCE", "ACTOR", "ACTIVITY", "OBJECT", "COUNTRY", "IP",
                            "GROUPS",
                        ],
                        &rows,
                    );
                    eprintln!("{count} activities, newest first");
                }
            }
            Output::Json { first } => output::json(if first { "]\n" } else { "\n]\n" }),
            Output::Csv(mut w) => w.flush().map_err(io_error)?,
        }
        Ok(())
    }
}

pub async fn queries(command: QueriesCommand, svc: &Service) -> Outcome {
    match command {
        QueriesCommand::List(f) => {
            #[derive(Serialize)]
            struct QueryJson {
                name: String,
                filter: String,
                suggested: bool,
            }
            let saved = svc.saved_queries().await?;
            let rows: Vec<QueryJson> = suggested_queries()
                .iter()
                .map(|(n, q)| QueryJson {
                    name: (*n).to_owned(),
                    filter: (*q).to_owned(),
                    suggested: true,
                })
                .chain(saved.into_iter().map(|(name, filter)| QueryJson {
                    name,
                    filter,
                    suggested: false,
                }))
                .collect();
            if f.json {
                return print_json(&rows);
            }
            let table: Vec<Vec<String>> = rows
                .iter()
                .map(|q| {
                    vec![
                        q.name.clone(),
                        if q.suggested { "suggested" } else { "saved" }.into(),
                        q.filter.clone(),
                    ]
                })
                .collect();
            print_table(&["NAME", "KIND", "FILTER"], &table);
            Ok(())
        }
        QueriesCommand::Save { name, filter } => {
            svc.save_query(&name, &filter).await?;
            println!("saved {name:?}");
            Ok(())
        }
        QueriesCommand::Delete { name } => {
            svc.delete_query(&name).await?;
            println!("deleted {name:?}");
            Ok(())
        }
    }
}
