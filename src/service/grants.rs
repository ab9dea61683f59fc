//! Issue 11: app permissions as an administrator reads them: each app with how
//! many people granted it and its riskiest scopes, who granted what and when, and a
//! person's grants. Revoking goes through `governance` like every action.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Local, Result, ServiceError};
use crate::domain::grants::{Grant, GrantKind, is_risky};
use crate::domain::{AppKind, InstanceId, Micros};

/// One app of one instance, summed over its grants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppSummary {
    pub instance: String,
    pub vendor: AppKind,
    pub app_id: String,
    pub name: String,
    /// People who granted it for themselves.
    pub users: usize,
    /// An administrator granted it for everyone.
    pub all_users: bool,
    /// It holds permissions of its own, with no user.
    pub application: bool,
    /// Every scope granted, the risky ones first.
    pub scopes: Vec<String>,
    pub risky: Vec<String>,
    pub last_granted: Option<Micros>,
    pub grants: usize,
}

/// An app and every grant it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppDetail {
    pub summary: AppSummary,
    pub grants: Vec<Grant>,
}

fn summarise(instance: &str, vendor: AppKind, grants: &[&Grant]) -> AppSummary {
    let mut scopes: Vec<String> = Vec::new();
    for s in grants.iter().flat_map(|g| &g.scopes) {
        if !scopes.contains(s) {
            scopes.push(s.clone());
        }
    }
    // Risky first, each group in its own order.
    scopes.sort_by_key(|s| !is_risky(s));
    let risky = scopes.iter().filter(|s| is_risky(s)).cloned().collect();
    let mut users: Vec<&str> = grants.iter().filter_map(|g| g.user.as_deref()).collect();
    users.sort_unstable();
    users.dedup();
    let first = grants[0];
    AppSummary {
        instance: instance.to_owned(),
        vendor,
        app_id: first.app_id.clone(),
        name: first.app_name.clone(),
        users: users.len(),
        all_users: grants.iter().any(|g| g.kind == GrantKind::AllUsers),
        application: grants.iter().any(|g| g.kind == GrantKind::Application),
        scopes,
        risky,
        last_granted: grants.iter().filter_map(|g| g.granted_at).max(),
        grants: grants.len(),
    }
}

/// The apps of `grants`, riskiest and most granted first.
fn apps_of(
    grants: &[(InstanceId, Grant)],
    names: &BTreeMap<InstanceId, (String, AppKind)>,
) -> Vec<AppSummary> {
    let mut by_app: BTreeMap<(InstanceId, &str), Vec<&Grant>> = BTreeMap::new();
    for (id, g) in grants {
        by_app.entry((*id, g.app_id.as_str())).or_default().push(g);
    }
    let mut apps: Vec<AppSummary> = by_app
        .into_iter()
        .filter_map(|((id, _), gs)| {
            let (name, vendor) = names.get(&id)?;
            Some(summarise(name, *vendor, &gs))
        })
        .collect();
    apps.sort_by(|a, b| {
        let reach = |s: &AppSummary| (s.all_users || s.application, s.users);
        (b.risky.len(), reach(b))
            .cmp(&(a.risky.len(), reach(a)))
            .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
    });
    apps
}

impl Local {
    async fn instance_names(&self) -> Result<BTreeMap<InstanceId, (String, AppKind)>> {
        let instances = self.db(|s| s.instances()).await?;
        Ok(instances
            .into_iter()
            .map(|i| (i.id, (i.name, i.app)))
            .collect())
    }

    /// Every app granted access, in one instance or all.
    pub async fn apps(&self, instance: Option<&str>) -> Result<Vec<AppSummary>> {
        let id = match instance {
            Some(name) => Some(self.find_instance(name).await?.id),
            None => None,
        };
        let grants = self.db(move |s| s.grants(id)).await?;
        Ok(apps_of(&grants, &self.instance_names().await?))
    }

    /// One app of an instance, by its client id or name, with its grants.
    pub async fn app_grants(&self, instance: &str, app: &str) -> Result<AppDetail> {
        let instance = self.find_instance(instance).await?;
        let id = instance.id;
        let grants = self.db(move |s| s.grants(Some(id))).await?;
        let wanted = app.trim();
        let mut ids: Vec<(&str, &str)> = grants
            .iter()
            .map(|(_, g)| (g.app_id.as_str(), g.app_name.as_str()))
            .filter(|(app_id, name)| *app_id == wanted || name.eq_ignore_ascii_case(wanted))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let app_id = match ids.as_slice() {
            [(one, _)] => one.to_string(),
            [] => {
                let mut names: Vec<String> =
                    grants.iter().map(|(_, g)| g.app_name.clone()).collect();
                names.sort_unstable();
                names.dedup();
                return Err(ServiceError::Unknown {
                    what: "app with grants in this instance",
                    name: wanted.to_owned(),
                    suggestions: super::names::closest(wanted, names.iter().map(String::as_str)),
                });
            }
            many => {
                return Err(ServiceError::Ambiguous {
                    what: "app",
                    name: wanted.to_owned(),
                    candidates: many
                        .iter()
                        .map(|(id, name)| format!("{name} ({id})"))
                        .collect(),
                });
            }
        };
        let mine: Vec<Grant> = grants
            .into_iter()
            .map(|(_, g)| g)
            .filter(|g| g.app_id == app_id)
            .collect();
        let refs: Vec<&Grant> = mine.iter().collect();
        Ok(AppDetail {
            summary: summarise(&instance.name, instance.app, &refs),
            grants: mine,
        })
    }

    /// The grants a person gave, in every instance: (instance name, grant).
    pub async fn person_grants(&self, key: &str) -> Result<Vec<(String, Grant)>> {
        let key = crate::domain::user_key(key);
        let grants = self.db(|s| s.grants(None)).await?;
        let names = self.instance_names().await?;
        Ok(grants
            .into_iter()
            .filter(|(_, g)| g.user.as_deref() == Some(key.as_str()))
            .filter_map(|(id, g)| Some((names.get(&id)?.0.clone(), g)))
            .collect())
    }
}
