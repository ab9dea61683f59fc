//! The Google Workspace customer the dialect serves, derived from the
//! generated organisation: a Workspace account for every employee (the
//! primary e-mail is their mail), some suspended, some archived, a few super
//! administrators; the organisation's groups with e-mails and their nesting,
//! guests and contacts as external members, the whole customer as a member
//! of the company-wide list, and two groups of the same name.

use std::collections::{BTreeSet, HashMap, HashSet};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::sandbox::org::{MemberRef, Org, PRIMARY_DOMAIN, flatten};

/// A member of a group, ordered (and keyed) by kind, then index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Member {
    User(u32),
    Group(u32),
    /// Every account of the customer at once.
    Customer,
    /// An address outside the customer: `Workspace::externals[i]`.
    External(u32),
}

impl Member {
    /// A stable key, ordered like `Member`, for page tokens.
    pub(crate) fn key(self) -> u64 {
        let (kind, i) = match self {
            Member::User(i) => (0u64, i),
            Member::Group(i) => (1, i),
            Member::Customer => (2, 0),
            Member::External(i) => (3, i),
        };
        (kind << 32) | u64::from(i)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Account {
    /// Google's numeric user id (21 digits).
    pub id: String,
    pub primary_email: String,
    pub given_name: String,
    pub family_name: String,
    pub suspended: bool,
    pub archived: bool,
    /// A super administrator (`isAdmin`).
    pub is_admin: bool,
    /// The organisation's person behind the account.
    pub person: u32,
    pub org_unit: String,
    /// A test hook: the account's records are served without their id.
    pub id_withheld: bool,
}

impl Account {
    pub(crate) fn full_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
    }

    /// A group member's `status`.
    pub(crate) fn status(&self) -> &'static str {
        if self.suspended {
            "SUSPENDED"
        } else if self.archived {
            "ARCHIVED"
        } else {
            "ACTIVE"
        }
    }

    /// May act in the Admin console and read the audit log.
    pub(crate) fn administers(&self) -> bool {
        self.is_admin && !self.suspended && !self.archived
    }
}

#[derive(Debug, Clone)]
pub(crate) struct WorkspaceGroup {
    /// Google's group id (15 characters).
    pub id: String,
    pub email: String,
    pub name: String,
    pub description: String,
    /// Direct members, sorted, each once.
    pub members: Vec<Member>,
}

/// Errors from changing the Workspace through the test handle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkspaceError {
    #[error("no Google Workspace account {0} in the sandbox")]
    NoAccount(String),
    #[error("no Google Workspace group {0} in the sandbox")]
    NoGroup(String),
    #[error("a group cannot contain itself ({0})")]
    SelfMember(String),
}

pub(crate) struct Workspace {
    /// Google's customer id, e.g. `C03az79cb`.
    pub customer_id: String,
    pub domains: Vec<String>,
    pub accounts: Vec<Account>,
    /// The super administrators' accounts (nothing changes who they are).
    pub admins: Vec<u32>,
    pub groups: Vec<WorkspaceGroup>,
    /// Addresses outside the customer that are group members.
    pub externals: Vec<String>,
    /// The tokens each account issued to apps, by account (issue 11, `tokens`).
    pub tokens: Vec<Vec<u8>>,
    /// Lower-case e-mail → account or group.
    by_email: HashMap<String, Member>,
    /// Google id → account or group.
    by_id: HashMap<String, Member>,
}

fn digits(rng: &mut ChaCha8Rng, first: char, n: usize) -> String {
    let mut s = String::with_capacity(n);
    s.push(first);
    s.extend((1..n).map(|_| char::from(b'0' + rng.random_range(0..10u8))));
    s
}

fn alnum(rng: &mut ChaCha8Rng, n: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    (0..n)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// A group's address: its name's letters and digits, lower case, made unique.
fn group_email(name: &str, taken: &mut HashSet<String>) -> String {
    let local: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    let local = if local.is_empty() {
        "group".into()
    } else {
        local
    };
    let mut candidate = local.clone();
    let mut n = 1;
    while !taken.insert(candidate.clone()) {
        n += 1;
        candidate = format!("{local}{n}");
    }
    format!("{candidate}@{PRIMARY_DOMAIN}")
}

impl Workspace {
    /// Derives the customer from the organisation, deterministically from `seed`.
    pub(crate) fn generate(org: &Org, seed: u64) -> Workspace {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6000_91E5);
        let customer_id = format!("C0{}", alnum(&mut rng, 7));
        let mut accounts = Vec::new();
        let mut account_of = vec![None; org.users.len()];
        for (i, u) in org.users.iter().enumerate() {
            // Guests are other organisations' people; a person deleted from
            // the directory has no account left either.
            if u.guest || u.deleted.is_some() {
                continue;
            }
            let suspended = !u.account_enabled || rng.random_bool(0.02);
            let archived = !suspended && rng.random_bool(0.015);
            account_of[i] = Some(accounts.len() as u32);
            accounts.push(Account {
                id: digits(&mut rng, '1', 21),
                primary_email: u.mail.to_lowercase(),
                given_name: u.given_name.clone(),
                family_name: u.surname.clone(),
                suspended,
                archived,
                is_admin: false,
                person: i as u32,
                org_unit: format!("/{}", u.department()),
                id_withheld: false,
            });
        }
        // A few super administrators among the accounts in use.
        let usable: Vec<usize> = (0..accounts.len())
            .filter(|&a| !accounts[a].suspended && !accounts[a].archived)
            .collect();
        let wanted = (accounts.len() / 150).max(3).min(usable.len());
        let mut admins = BTreeSet::new();
        while admins.len() < wanted {
            admins.insert(usable[rng.random_range(0..usable.len())]);
        }
        for &a in &admins {
            accounts[a].is_admin = true;
        }
        let admins: Vec<u32> = admins.into_iter().map(|a| a as u32).collect();

        let mut externals: Vec<String> = Vec::new();
        let mut external_of: HashMap<String, u32> = HashMap::new();
        let mut external = |mail: &str| {
            let mail = mail.to_lowercase();
            let next = external_of.len() as u32;
            let at = *external_of.entry(mail.clone()).or_insert(next);
            if at == next {
                externals.push(mail);
            }
            Member::External(at)
        };
        let mut taken = HashSet::new();
        let mut groups: Vec<WorkspaceGroup> = org
            .groups
            .iter()
            .map(|g| {
                let mut members: Vec<Member> = g
                    .members
                    .iter()
                    .filter_map(|&m| match m {
                        MemberRef::User(u) => match account_of[u as usize] {
                            Some(a) => Some(Member::User(a)),
                            None if org.users[u as usize].guest => {
                                Some(external(&org.users[u as usize].mail))
                            }
                            None => None,
                        },
                        MemberRef::Group(k) => Some(Member::Group(k)),
                        MemberRef::Contact(c) => Some(external(&org.contacts[c as usize].mail)),
                        // Google groups hold no devices.
                        MemberRef::Device(_) => None,
                    })
                    .collect();
                members.sort_unstable();
                members.dedup();
                WorkspaceGroup {
                    id: format!("0{}", alnum(&mut rng, 14)),
                    email: group_email(&g.display_name, &mut taken),
                    name: g.display_name.clone(),
                    description: g.description.clone().unwrap_or_default(),
                    members,
                }
            })
            .collect();
        // The company-wide list also takes everyone of the customer at once.
        if let Some(everyone) = groups.iter_mut().find(|g| g.name == "Everyone at Contoso") {
            everyone.members.push(Member::Customer);
            everyone.members.sort_unstable();
        }
        // Names are not unique in Google Workspace; e-mails are.
        let staff: Vec<Member> = (0..accounts.len().min(12) as u32)
            .map(Member::User)
            .collect();
        let mut partners: Vec<Member> = (0..externals.len().min(5) as u32)
            .map(Member::External)
            .collect();
        partners.extend(staff.iter().take(2));
        partners.sort_unstable();
        for (local, description, members) in [
            ("support", "Help desk for employees", staff),
            ("support-partners", "Help desk for partners", partners),
        ] {
            taken.insert(local.to_owned());
            groups.push(WorkspaceGroup {
                id: format!("0{}", alnum(&mut rng, 14)),
                email: format!("{local}@{PRIMARY_DOMAIN}"),
                name: "Support".to_owned(),
                description: description.to_owned(),
                members,
            });
        }
        let mut ws = Workspace {
            customer_id,
            domains: vec![PRIMARY_DOMAIN.to_owned()],
            tokens: super::tokens::issued(accounts.len(), seed),
            accounts,
            admins,
            groups,
            externals,
            by_email: HashMap::new(),
            by_id: HashMap::new(),
        };
        ws.reindex();
        ws
    }

    fn reindex(&mut self) {
        self.by_email.clear();
        self.by_id.clear();
        for (i, a) in self.accounts.iter().enumerate() {
            self.by_email
                .insert(a.primary_email.clone(), Member::User(i as u32));
            self.by_id.insert(a.id.clone(), Member::User(i as u32));
        }
        for (i, g) in self.groups.iter().enumerate() {
            self.by_email
                .insert(g.email.clone(), Member::Group(i as u32));
            self.by_id.insert(g.id.clone(), Member::Group(i as u32));
        }
    }

    /// An account or group by its id or e-mail (Google's `userKey`/`groupKey`).
    pub(crate) fn find(&self, key: &str) -> Option<Member> {
        self.by_id
            .get(key)
            .or_else(|| self.by_email.get(&key.to_lowercase()))
            .copied()
    }

    pub(crate) fn account(&self, key: &str) -> Option<usize> {
        match self.find(key)? {
            Member::User(i) => Some(i as usize),
            _ => None,
        }
    }

    pub(crate) fn group(&self, key: &str) -> Option<usize> {
        match self.find(key)? {
            Member::Group(i) => Some(i as usize),
            _ => None,
        }
    }

    /// Every member reachable from the group, each once, nested groups
    /// included; cycles end and a group is not its own member.
    pub(crate) fn derived_members(&self, group: usize) -> BTreeSet<Member> {
        flatten(
            group,
            |g| &self.groups[g].members,
            |m| match m {
                Member::Group(i) => Some(i as usize),
                _ => None,
            },
        )
    }

    /// The first account that administers the customer: the one casbah
    /// impersonates.
    pub(crate) fn admin(&self) -> Option<&Account> {
        self.accounts.iter().find(|a| a.administers())
    }

    fn account_mut(&mut self, email: &str) -> Result<&mut Account, WorkspaceError> {
        let i = self
            .account(email)
            .ok_or_else(|| WorkspaceError::NoAccount(email.to_owned()))?;
        Ok(&mut self.accounts[i])
    }

    pub(crate) fn set_suspended(&mut self, email: &str, on: bool) -> Result<(), WorkspaceError> {
        self.account_mut(email)?.suspended = on;
        Ok(())
    }

    pub(crate) fn set_archived(&mut self, email: &str, on: bool) -> Result<(), WorkspaceError> {
        self.account_mut(email)?.archived = on;
        Ok(())
    }

    pub(crate) fn withhold_id(&mut self, email: &str) -> Result<(), WorkspaceError> {
        self.account_mut(email)?.id_withheld = true;
        Ok(())
    }

    /// The member an address names: an account, a group, or else an
    /// external address.
    fn member_for(&mut self, email: &str) -> Member {
        match self.find(email) {
            Some(m) => m,
            None => {
                let mail = email.to_lowercase();
                let at = match self.externals.iter().position(|e| *e == mail) {
                    Some(at) => at,
                    None => {
                        self.externals.push(mail);
                        self.externals.len() - 1
                    }
                };
                Member::External(at as u32)
            }
        }
    }

    pub(crate) fn add_member(&mut self, group: &str, email: &str) -> Result<(), WorkspaceError> {
        let g = self
            .group(group)
            .ok_or_else(|| WorkspaceError::NoGroup(group.to_owned()))?;
        let m = self.member_for(email);
        if m == Member::Group(g as u32) {
            return Err(WorkspaceError::SelfMember(group.to_owned()));
        }
        let members = &mut self.groups[g].members;
        if let Err(at) = members.binary_search(&m) {
            members.insert(at, m);
        }
        Ok(())
    }

    pub(crate) fn remove_member(&mut self, group: &str, email: &str) -> Result<(), WorkspaceError> {
        let g = self
            .group(group)
            .ok_or_else(|| WorkspaceError::NoGroup(group.to_owned()))?;
        let m = self.member_for(email);
        let members = &mut self.groups[g].members;
        if let Ok(at) = members.binary_search(&m) {
            members.remove(at);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace(users: usize) -> (Org, Workspace) {
        let org = Org::generate(42, users);
        let ws = Workspace::generate(&org, 42);
        (org, ws)
    }

    #[test]
    fn accounts_are_the_employees_with_statuses_and_admins() {
        let (org, ws) = workspace(2000);
        let employees = org
            .users
            .iter()
            .filter(|u| !u.guest && u.deleted.is_none())
            .count();
        assert_eq!(ws.accounts.len(), employees);
        assert!(ws.accounts.iter().any(|a| a.suspended));
        assert!(ws.accounts.iter().any(|a| a.archived));
        let admins = ws.accounts.iter().filter(|a| a.is_admin).count();
        assert!((3..=20).contains(&admins), "{admins}");
        assert!(ws.admin().is_some_and(Account::administers));
        let ids: HashSet<&str> = ws.accounts.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids.len(), ws.accounts.len());
        assert!(ws.customer_id.starts_with("C0") && ws.customer_id.len() == 9);
        // Deterministic from the seed.
        let again = Workspace::generate(&org, 42);
        assert_eq!(again.customer_id, ws.customer_id);
        assert_eq!(again.groups[7].email, ws.groups[7].email);
    }

    #[test]
    fn groups_have_unique_emails_and_every_kind_of_member() {
        let (_, ws) = workspace(500);
        let emails: HashSet<&str> = ws.groups.iter().map(|g| g.email.as_str()).collect();
        assert_eq!(emails.len(), ws.groups.len());
        let support: Vec<&WorkspaceGroup> =
            ws.groups.iter().filter(|g| g.name == "Support").collect();
        assert_eq!(support.len(), 2);
        assert_ne!(support[0].email, support[1].email);
        let all: Vec<Member> = ws.groups.iter().flat_map(|g| g.members.clone()).collect();
        assert!(all.iter().any(|m| matches!(m, Member::Group(_))));
        assert!(all.iter().any(|m| matches!(m, Member::External(_))));
        assert!(all.contains(&Member::Customer));
    }

    #[test]
    fn derived_membership_ends_cycles() {
        let (_, mut ws) = workspace(100);
        let (a, b) = (ws.groups[0].email.clone(), ws.groups[1].email.clone());
        ws.add_member(&a, &b).unwrap();
        ws.add_member(&b, &a).unwrap();
        let derived = ws.derived_members(0);
        assert!(derived.contains(&Member::Group(1)));
        assert!(!derived.contains(&Member::Group(0)));
        assert!(ws.add_member(&a, &a).is_err());
    }
}
