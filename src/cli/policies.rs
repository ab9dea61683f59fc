//! `casbah policies` (issue 12): activity policies, from filters or templates.

use super::args::{PoliciesCommand, PolicyArgs, PolicyName};
use super::output::{print_json, print_table, short_time};
use super::{Failure, Outcome};
use crate::domain::policy::{
    self, COUNTRIES_SLOT, Detector, Per, Policy, Severity, parse_window, window_text,
};
use crate::service::Service;

pub async fn run(command: PoliciesCommand, svc: &Service) -> Outcome {
    match command {
        PoliciesCommand::List(f) => {
            let views = svc.policies().await?;
            if f.json {
                return print_json(&views);
            }
            if views.is_empty() {
                println!(
                    "no policies yet: `casbah policies templates` lists ready ones, \
                     `casbah policies add NAME --filter …` makes one"
                );
                return Ok(());
            }
            let rows: Vec<Vec<String>> = views
                .iter()
                .map(|v| {
                    let p = &v.policy;
                    let state = match (&v.problem, p.enabled) {
                        (Some(problem), true) => format!("broken: {problem}"),
                        (None, true) => "on".into(),
                        (_, false) => "off".into(),
                    };
                    vec![
                        p.id.to_string(),
                        p.name.clone(),
                        state,
                        p.severity.name().into(),
                        if p.filter.is_empty() {
                            "(every activity)".into()
                        } else {
                            p.filter.clone()
                        },
                        rule_text(p),
                        p.notify.describe(),
                        v.open_alerts.to_string(),
                    ]
                })
                .collect();
            print_table(
                &[
                    "ID", "NAME", "STATE", "SEVERITY", "FILTER", "RULE", "NOTICES", "OPEN",
                ],
                &rows,
            );
            Ok(())
        }
        PoliciesCommand::Templates(f) => {
            let list: Vec<serde_json::Value> = policy::templates()
                .iter()
                .map(|t| {
                    serde_json::json!({
                        "name": t.name,
                        "title": t.title,
                        "filter": t.filter,
                        "threshold": t.rule.count,
                        "window": window_text(t.rule.window),
                        "per": t.rule.per.name(),
                        "severity": t.severity.name(),
                    })
                })
                .collect();
            if f.json {
                return print_json(&list);
            }
            let rows: Vec<Vec<String>> = policy::templates()
                .iter()
                .map(|t| {
                    vec![
                        t.name.into(),
                        t.title.into(),
                        t.filter.into(),
                        t.rule.describe(),
                        t.severity.name().into(),
                    ]
                })
                .collect();
            print_table(
                &["TEMPLATE", "WATCHES FOR", "FILTER", "RULE", "SEVERITY"],
                &rows,
            );
            Ok(())
        }
        PoliciesCommand::Add(a) => {
            let mut p = match &a.template {
                Some(name) => from_template(name, &a, svc).await?,
                None => Policy::new(&a.name, ""),
            };
            if a.template.is_none() && a.filter.is_none() {
                return Err(Failure::Usage(
                    "a policy needs --filter FILTER (or --template NAME; \"\" watches every activity)"
                        .into(),
                ));
            }
            p.name = a.name.clone();
            p.enabled = a.enable;
            apply(&mut p, &a)?;
            let saved = svc.save_policy(p, a.yes).await?;
            report(&saved, "added", a.json)
        }
        PoliciesCommand::Edit(a) => {
            let mut p = svc.find_policy(&a.name).await?;
            if let Some(name) = &a.rename {
                p.name = name.clone();
            }
            apply(&mut p, &a)?;
            let saved = svc.save_policy(p, a.yes).await?;
            report(&saved, "changed", a.json)
        }
        PoliciesCommand::Enable(n) => switch(svc, n, true).await,
        PoliciesCommand::Disable(n) => switch(svc, n, false).await,
        PoliciesCommand::Delete(n) => {
            let gone = svc.delete_policy(&n.name).await?;
            report(&gone, "deleted (its alerts stay)", n.json)
        }
        PoliciesCommand::Test { name, days, json } => {
            let p = svc.find_policy(&name).await?;
            let test = svc.test_policy(p.clone(), days).await?;
            if json {
                return print_json(&test);
            }
            let more = if test.truncated {
                " (the newest; more matched)"
            } else {
                ""
            };
            println!(
                "{}: over the last {days} days, {} matching activities{more} would have raised {} alert(s); nothing was raised",
                p.name,
                test.matched,
                test.alerts.len()
            );
            let rows: Vec<Vec<String>> = test
                .alerts
                .iter()
                .rev()
                .take(50)
                .map(|a| {
                    vec![
                        short_time(Some(a.last)),
                        a.count.to_string(),
                        a.key.clone(),
                        a.detail.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            if !rows.is_empty() {
                print_table(&["LAST ACTIVITY", "COUNT", "FOR", "DETAIL"], &rows);
            }
            Ok(())
        }
    }
}

async fn switch(svc: &Service, n: PolicyName, on: bool) -> Outcome {
    let p = svc.set_policy_enabled(&n.name, on).await?;
    report(&p, if on { "enabled" } else { "disabled" }, n.json)
}

fn report(p: &Policy, what: &str, json: bool) -> Outcome {
    if json {
        return print_json(p);
    }
    println!(
        "policy {} {:?} {what}: {} — {}, {}, {}",
        p.id,
        p.name,
        if p.filter.is_empty() {
            "every activity"
        } else {
            &p.filter
        },
        rule_text(p),
        p.severity.name(),
        p.notify.describe()
    );
    Ok(())
}

fn rule_text(p: &Policy) -> String {
    match p.detector {
        Detector::Matches => p.rule.describe(),
        Detector::InactiveActor => {
            format!("by a suspended or deleted account; {}", p.rule.describe())
        }
        Detector::RiskyGrant => "each new app grant with a risky scope".into(),
        Detector::ImpossibleTravel { kmh } => {
            format!("countries further apart than {kmh} km/h allows")
        }
    }
}

/// A template's policy; the admin-abroad template's countries are the given ones, or the
/// most frequent country of the stored activities.
async fn from_template(name: &str, a: &PolicyArgs, svc: &Service) -> Result<Policy, Failure> {
    let t = policy::template(name).ok_or_else(|| {
        let names: Vec<&str> = policy::templates().iter().map(|t| t.name).collect();
        Failure::Usage(format!(
            "no template {name:?}; templates: {}",
            names.join(", ")
        ))
    })?;
    let mut filter = t.filter.to_string();
    if filter.contains(COUNTRIES_SLOT) {
        let countries = match &a.countries {
            Some(list) => list.join(","),
            None => home_country(svc).await?,
        };
        filter = filter.replace(COUNTRIES_SLOT, &countries);
    }
    Ok(Policy {
        rule: t.rule,
        detector: t.detector,
        severity: t.severity,
        template: Some(t.name.to_string()),
        ..Policy::new("", &filter)
    })
}

async fn home_country(svc: &Service) -> Result<String, Failure> {
    let page = svc.activities("", 5_000, None).await?;
    let mut counts: std::collections::HashMap<&str, usize> = Default::default();
    for a in &page.items {
        if let Some(c) = &a.country {
            *counts.entry(c.as_str()).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .max_by_key(|(c, n)| (*n, std::cmp::Reverse(*c)))
        .map(|(c, _)| c.to_string())
        .ok_or_else(|| {
            Failure::Usage(
                "no activity says where the organisation is yet; name its countries with --countries US,CA"
                    .into(),
            )
        })
}

/// The flags given, over what the policy had.
fn apply(p: &mut Policy, a: &PolicyArgs) -> Result<(), Failure> {
    if let Some(f) = &a.filter {
        p.filter = f.trim().to_string();
    }
    if let Some(n) = a.threshold {
        p.rule.count = n;
    }
    if let Some(w) = &a.window {
        p.rule.window = parse_window(w).map_err(|e| {
            Failure::Usage(format!(
                "--window {w:?}: column {}: {}",
                e.column, e.message
            ))
        })?;
    }
    if let Some(per) = &a.per {
        p.rule.per = Per::parse(per).map_err(Failure::Usage)?;
    }
    if let Some(s) = &a.severity {
        p.severity = Severity::parse(s).map_err(Failure::Usage)?;
    }
    if let Some(to) = &a.email {
        p.notify.email = Some(
            to.iter()
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect(),
        );
    }
    if a.no_email {
        p.notify.email = None;
    }
    if a.webhook {
        p.notify.webhook = true;
    }
    if a.no_webhook {
        p.notify.webhook = false;
    }
    Ok(())
}
