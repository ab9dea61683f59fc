//! `casbah alerts` (issue 12): what policies raised, and who dealt with it.

use super::args::{AlertChange, AlertsCommand};
use super::output::{print_json, print_table, short_time};
use super::{Failure, Outcome};
use crate::domain::policy::AlertState;
use crate::service::Service;

pub async fn run(command: AlertsCommand, svc: &Service) -> Outcome {
    match command {
        AlertsCommand::List {
            state,
            policy,
            json,
        } => {
            let wanted = state.as_deref().map(parse_state).transpose()?;
            let policy = match policy {
                Some(name) => Some(svc.find_policy(&name).await?.id),
                None => None,
            };
            let alerts: Vec<_> = svc
                .alerts()
                .await?
                .into_iter()
                .filter(|a| wanted.as_ref().is_none_or(|w| w.contains(&a.state)))
                .filter(|a| policy.is_none_or(|p| a.policy == p))
                .collect();
            if json {
                return print_json(&alerts);
            }
            if alerts.is_empty() {
                println!("no alerts");
                return Ok(());
            }
            let rows: Vec<Vec<String>> = alerts
                .iter()
                .map(|a| {
                    vec![
                        a.id.to_string(),
                        a.state.name().into(),
                        a.severity.name().into(),
                        short_time(Some(a.raised_at)),
                        a.summary(),
                    ]
                })
                .collect();
            print_table(&["ID", "STATE", "SEVERITY", "RAISED", "ALERT"], &rows);
            Ok(())
        }
        AlertsCommand::Show { id, json } => {
            let view = svc.alert(id).await?;
            if json {
                return print_json(&view);
            }
            let a = &view.alert;
            println!(
                "alert {} · {} · {}",
                a.id,
                a.state.name(),
                a.severity.name()
            );
            println!("{}", a.summary());
            println!(
                "policy     {} (filter: {})",
                a.policy_name,
                if a.filter.is_empty() {
                    "every activity"
                } else {
                    &a.filter
                }
            );
            println!("raised     {}", short_time(Some(a.raised_at)));
            println!(
                "activities {} from {} to {}",
                a.count,
                short_time(Some(a.first)),
                short_time(Some(a.last))
            );
            if !a.actors.is_empty() {
                println!("actors     {}", a.actors.join(", "));
            }
            println!(
                "see them   casbah activities --filter '{}'",
                a.activities_filter().replace('\'', "'\\''")
            );
            let ids: Vec<&str> = a.links.iter().map(|l| l.id.as_str()).collect();
            if !ids.is_empty() {
                let more = if a.count as usize > ids.len() {
                    ", …"
                } else {
                    ""
                };
                println!("ids        {}{more}", ids.join(", "));
            }
            for h in &a.history {
                println!(
                    "{}  {} by {}{}",
                    short_time(Some(h.at)),
                    h.state.name(),
                    h.by,
                    h.comment
                        .as_deref()
                        .map(|c| format!(": {c}"))
                        .unwrap_or_default()
                );
            }
            for d in &view.deliveries {
                println!("notice     {}", d.describe());
            }
            Ok(())
        }
        AlertsCommand::Ack(c) => change(svc, c, AlertState::Acknowledged).await,
        AlertsCommand::Resolve(c) => change(svc, c, AlertState::Resolved).await,
        AlertsCommand::Dismiss(c) => change(svc, c, AlertState::Dismissed).await,
    }
}

async fn change(svc: &Service, c: AlertChange, state: AlertState) -> Outcome {
    let alert = svc.change_alert(c.id, state, c.comment).await?;
    if c.json {
        return print_json(&alert);
    }
    println!(
        "alert {} is {}: {}",
        alert.id,
        alert.state.name(),
        alert.summary()
    );
    Ok(())
}

fn parse_state(text: &str) -> Result<Vec<AlertState>, Failure> {
    use AlertState::*;
    Ok(match text.trim().to_ascii_lowercase().as_str() {
        "open" => vec![Open],
        "acknowledged" | "ack" => vec![Acknowledged],
        "resolved" => vec![Resolved],
        "dismissed" => vec![Dismissed],
        "active" => vec![Open, Acknowledged],
        other => {
            return Err(Failure::Usage(format!(
                "no alert state {other:?}; use open, acknowledged, resolved, dismissed or active"
            )));
        }
    })
}
