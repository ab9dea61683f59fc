//! `casbah activities` and `casbah queries`.

use std::collections::HashMap;

use serde::Serialize;

use super::args::{ActivitiesArgs, QueriesCommand};
use super::output::{print_json, print_table, short_time, time};
use super::{Failure, Outcome};
use crate::domain::{Activity, ActivityObject, GroupId, InstanceId};
use crate::service::{Service, suggested_queries};

/// Pages are read from the store this many at a time, so a large export
/// streams instead of piling up in memory.
const PAGE: usize = 500;

/// One activity as `--json` prints it (documented in the README).
#[derive(Serialize)]
struct ActivityJson<'a> {
    id: &'a str,
    time: String,
    app: &'static str,
    instance: String,
    actor: &'a str,
    actor_name: &'a str,
    activity_type: &'a str,
    action_type: &'a str,
    objects: &'a [ActivityObject],
    admin: bool,
    impersonated: bool,
    succeeded: bool,
    ip: Option<&'a str>,
    country: Option<&'a str>,
    isp: Option<&'a str>,
    device_type: Option<&'a str>,
    user_agent: Option<&'a str>,
    source: &'a str,
    groups: Vec<String>,
}

const CSV_HEADER: [&str; 19] = [
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

struct Names {
    groups: HashMap<GroupId, String>,
    instances: HashMap<InstanceId, String>,
}

impl Names {
    async fn load(svc: &Service) -> Result<Names, Failure> {
        Ok(Names {
            groups: svc
                .groups()
                .await?
                .into_iter()
                .map(|g| (g.id, g.name))
                .collect(),
            instances: svc
                .instances()
                .await?
                .into_iter()
                .map(|s| (s.instance.id, s.instance.name))
                .collect(),
        })
    }

    fn json<'a>(&self, a: &'a Activity) -> ActivityJson<'a> {
        ActivityJson {
            id: &a.id,
            time: time(a.time),
            app: a.app.slug(),
            instance: self
                .instances
                .get(&a.instance)
                .cloned()
                .unwrap_or_else(|| a.instance.0.to_string()),
            actor: &a.actor,
            actor_name: &a.actor_name,
            activity_type: &a.activity_type,
            action_type: &a.action_type,
            objects: &a.objects,
            admin: a.admin,
            impersonated: a.impersonated,
            succeeded: a.succeeded,
            ip: a.ip.as_deref(),
            country: a.country.as_deref(),
            isp: a.isp.as_deref(),
            device_type: a.device_type.as_deref(),
            user_agent: a.user_agent.as_deref(),
            source: &a.source,
            groups: a
                .groups
                .iter()
                .filter_map(|g| self.groups.get(g).cloned())
                .collect(),
        }
    }
}

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
    let names = Names::load(svc).await?;
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
            print!("[");
            Ok(Output::Json { first: true })
        } else {
            Ok(Output::Table(Vec::new()))
        }
    }

    fn write(&mut self, names: &Names, a: &Activity) -> Result<(), Failure> {
        let j = names.json(a);
        match self {
            Output::Table(rows) => rows.push(vec![
                short_time(Some(a.time)),
                j.instance.clone(),
                a.actor.clone(),
                a.activity_type.clone(),
                a.objects
                    .first()
                    .map(|o| o.name.clone())
                    .unwrap_or_default(),
                a.country.clone().unwrap_or_default(),
                a.ip.clone().unwrap_or_default(),
                j.groups.join(", "),
            ]),
            Output::Json { first } => {
                let text = serde_json::to_string_pretty(&j).map_err(io_error)?;
                print!("{}\n{text}", if *first { "" } else { "," });
                *first = false;
            }
            Output::Csv(w) => {
                let objects: Vec<&str> = a.objects.iter().map(|o| o.name.as_str()).collect();
                let flag = |b: bool| if b { "true" } else { "false" };
                w.write_record([
                    j.id,
                    &j.time,
                    j.app,
                    &j.instance,
                    j.actor,
                    j.actor_name,
                    j.activity_type,
                    j.action_type,
                    &objects.join("; "),
                    flag(j.admin),
                    flag(j.impersonated),
                    flag(j.succeeded),
                    j.ip.unwrap_or(""),
                    j.country.unwrap_or(""),
                    j.isp.unwrap_or(""),
                    j.device_type.unwrap_or(""),
                    j.user_agent.unwrap_or(""),
                    j.source,
                    &j.groups.join("; "),
                ])
                .map_err(io_error)?;
            }
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
            Output::Json { first } => println!("{}]", if first { "" } else { "\n" }),
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
