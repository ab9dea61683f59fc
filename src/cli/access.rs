//! `casbah access check|who`: who can see an external item, and why (R-X5).

use serde_json::json;

use super::Outcome;
use super::args::AccessCommand;
use super::output::{print_json, print_table};
use crate::domain::external::Decision;
use crate::service::Service;

pub async fn run(command: AccessCommand, svc: &Service) -> Outcome {
    match command {
        AccessCommand::Check {
            connection,
            item,
            user,
            json,
        } => {
            let answer = svc
                .access_check(&connection.connection, &item, &user)
                .await?;
            if json {
                let mut out = answer.decision.to_json();
                out["user"] = json!({"id": answer.user.id, "name": answer.user.name});
                out["item"] = json!(answer.item);
                return print_json(&out);
            }
            println!("{}", answer.decision);
            print_details(&answer.decision);
            Ok(())
        }
        AccessCommand::Items {
            connection,
            user,
            json,
        } => {
            let items = svc.access_items(&connection.connection, &user).await?;
            if json {
                let rows: Vec<serde_json::Value> = items
                    .iter()
                    .map(|v| json!({"item": v.item, "title": v.title, "decision": v.decision.to_json()}))
                    .collect();
                return print_json(&rows);
            }
            for v in &items {
                match &v.title {
                    Some(t) => println!("{}  {t}", v.item),
                    None => println!("{}", v.item),
                }
                println!("  {}", v.decision);
            }
            println!("{} items visible", items.len());
            Ok(())
        }
        AccessCommand::Who {
            connection,
            item,
            json,
        } => {
            let audience = svc.access_who(&connection.connection, &item).await?;
            if json {
                return print_json(&audience);
            }
            let rows: Vec<Vec<String>> = audience
                .rows
                .iter()
                .map(|r| vec![r.decision.to_string(), r.entry.to_string(), r.name.clone()])
                .collect();
            print_table(&["ACCESS", "ENTRY", "USER"], &rows);
            println!("{} granted, {} denied", audience.granted, audience.denied);
            print_notes(&audience.pending, &audience.cycles, &audience.notes);
            Ok(())
        }
    }
}

/// What else decided or could not be followed: an overridden grant,
/// pending groups, cycles, notes.
fn print_details(d: &Decision) {
    if let Some(o) = &d.overridden {
        println!("overridden: {o} (deny wins over grant)");
    }
    print_notes(&d.pending, &d.cycles, &d.notes);
}

fn print_notes(
    pending: &[crate::domain::external::ExternalGroupId],
    cycles: &[crate::domain::external::Cycle],
    notes: &[String],
) {
    for id in pending {
        println!("pending: external group {id} is named but not created yet; it grants nobody");
    }
    for c in cycles {
        println!("{c} (evaluation stopped there)");
    }
    for n in notes {
        println!("note: {n}");
    }
}
