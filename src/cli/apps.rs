//! `casbah apps` (issue 11): the OAuth apps granted access, and who granted what.

use super::Outcome;
use super::args::AppsCommand;
use super::output::{print_json, print_table, short_time};
use crate::domain::grants::is_risky;
use crate::service::Service;

pub async fn run(command: AppsCommand, svc: &Service) -> Outcome {
    match command {
        AppsCommand::List { instance, json } => {
            let apps = svc.apps(instance.as_deref()).await?;
            if json {
                return print_json(&apps);
            }
            if apps.is_empty() {
                println!(
                    "no app grants read yet: they are read with the users (`casbah sync --wait`), \
                     for apps whose API lists them"
                );
                return Ok(());
            }
            let rows: Vec<Vec<String>> = apps
                .iter()
                .map(|a| {
                    let reach = match (a.all_users, a.application) {
                        (true, _) => "all users".to_owned(),
                        (_, true) if a.users == 0 => "the app itself".to_owned(),
                        _ => a.users.to_string(),
                    };
                    vec![
                        a.name.clone(),
                        a.instance.clone(),
                        reach,
                        a.risky.len().to_string(),
                        a.risky
                            .iter()
                            .take(3)
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(" "),
                        short_time(a.last_granted),
                    ]
                })
                .collect();
            print_table(
                &[
                    "APP",
                    "INSTANCE",
                    "USERS",
                    "RISKY",
                    "RISKIEST SCOPES",
                    "LAST GRANTED",
                ],
                &rows,
            );
            Ok(())
        }
        AppsCommand::Show {
            instance,
            app,
            json,
        } => {
            let detail = svc.app_grants(&instance, &app).await?;
            if json {
                return print_json(&detail);
            }
            let s = &detail.summary;
            println!("{} ({}) in {}", s.name, s.app_id, s.instance);
            let marked: Vec<String> = s
                .scopes
                .iter()
                .map(|sc| {
                    if is_risky(sc) {
                        format!("{sc}!")
                    } else {
                        sc.clone()
                    }
                })
                .collect();
            println!(
                "scopes: {} (! reads mail, files or the directory, or writes)",
                marked.join(" ")
            );
            let rows: Vec<Vec<String>> = detail
                .grants
                .iter()
                .map(|g| {
                    vec![
                        g.user.clone().unwrap_or_else(|| g.kind.label().to_owned()),
                        g.scopes.join(" "),
                        short_time(g.granted_at),
                        g.id.clone(),
                    ]
                })
                .collect();
            print_table(&["GRANTED BY", "SCOPES", "WHEN", "GRANT"], &rows);
            Ok(())
        }
    }
}
