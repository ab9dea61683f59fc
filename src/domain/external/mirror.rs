//! R-X6: an external group that mirrors a group of another app. Each sync
//! computes the difference between the Entra users the source group maps
//! to now and the members casbah published last time; only that difference
//! is sent. Source users are matched to Entra users by e-mail or UPN; those
//! that match nobody (or more than one) are listed, never dropped silently.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::model::Member;
use crate::domain::RemoteUser;
use crate::domain::text::sanitize;

/// An Entra user as matching needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntraAccount {
    /// Object id: what the external group's member carries.
    pub id: String,
    pub user_principal_name: String,
    pub mail: Option<String>,
}

/// Why a source user has no Entra counterpart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unmatched {
    /// No Entra user has this e-mail or UPN.
    NoEntraUser,
    /// The address is ambiguous: these Entra users all carry it.
    Ambiguous(Vec<String>),
    /// The source user has no address to match on.
    NoAddress,
}

/// A source user that could not be published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnmatchedUser {
    pub source_id: String,
    pub email: String,
    pub why: Unmatched,
}

impl std::fmt::Display for UnmatchedUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let who = if self.email.is_empty() {
            &self.source_id
        } else {
            &self.email
        };
        match &self.why {
            Unmatched::NoEntraUser => write!(
                f,
                "{who}: no Entra user has this e-mail or UPN; invite them or fix the address"
            ),
            Unmatched::Ambiguous(ids) => write!(
                f,
                "{who}: {} Entra users carry this address ({}); make it unique",
                ids.len(),
                ids.join(", ")
            ),
            Unmatched::NoAddress => write!(
                f,
                "{who}: has no e-mail in the source app, so cannot be matched"
            ),
        }
    }
}

/// What one mirror sync must send.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MirrorPlan {
    pub add: Vec<Member>,
    pub remove: Vec<Member>,
    pub unmatched: Vec<UnmatchedUser>,
    /// Entra user ids the group holds once the plan is applied.
    pub target: BTreeSet<String>,
}

impl MirrorPlan {
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty()
    }
}

/// Addresses compared the way mail systems do: without case and without
/// surrounding space.
fn address(s: &str) -> String {
    s.trim().to_lowercase()
}

/// R-X6: the members to add and remove so that the external group holds
/// exactly the Entra users the source group's members map to. `published`
/// is what casbah sent before (Entra user ids); members added to the group
/// by other means are not casbah's to remove and are not in it.
pub fn plan_mirror(
    source: &[RemoteUser],
    entra: &[EntraAccount],
    published: &BTreeSet<String>,
) -> MirrorPlan {
    let mut by_address: HashMap<String, BTreeSet<&str>> = HashMap::new();
    for account in entra {
        for a in
            std::iter::once(account.user_principal_name.as_str()).chain(account.mail.as_deref())
        {
            let a = address(a);
            if !a.is_empty() {
                by_address.entry(a).or_default().insert(&account.id);
            }
        }
    }
    let mut target = BTreeSet::new();
    let mut unmatched = Vec::new();
    for user in source {
        let key = address(&user.email);
        let found = (!key.is_empty()).then(|| by_address.get(&key)).flatten();
        let why = match found {
            _ if key.is_empty() => Unmatched::NoAddress,
            None => Unmatched::NoEntraUser,
            Some(ids) if ids.len() == 1 => {
                target.extend(ids.iter().map(|id| id.to_string()));
                continue;
            }
            Some(ids) => Unmatched::Ambiguous(ids.iter().map(|id| sanitize(id)).collect()),
        };
        unmatched.push(UnmatchedUser {
            source_id: sanitize(&user.id),
            email: sanitize(&user.email),
            why,
        });
    }
    MirrorPlan {
        add: target
            .difference(published)
            .map(|id| Member::User(id.clone()))
            .collect(),
        remove: published
            .difference(&target)
            .map(|id| Member::User(id.clone()))
            .collect(),
        unmatched,
        target,
    }
}
