//! The GitHub side of the generated organisation: one account per person who
//! uses GitHub (login from the name, ids, e-mails), and two organisations:
//! `contoso` (engineering-heavy membership, a few owners, nested teams, pending
//! invitations, an audit log) and `contoso-labs` (Research, no audit log).
//! Deterministic from the seed; people are `Org.users` by index.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::sandbox::org::{Org, PRIMARY_DOMAIN, VOCABULARY};

/// Where people's private addresses live when they use one on GitHub.
const PERSONAL_DOMAINS: &[&str] = &["gmail.com", "outlook.com", "proton.me", "fastmail.com"];

/// A GitHub login is at most 39 characters.
const MAX_LOGIN: usize = 39;

/// A GitHub user account.
#[derive(Debug, Clone)]
pub(crate) struct Account {
    /// The person (`Org.users` index).
    pub person: u32,
    pub login: String,
    pub id: u64,
    /// The profile name; some leave it empty.
    pub name: Option<String>,
    /// Every verified address on the account, private ones included.
    pub verified: Vec<String>,
    /// The address shown on the profile, if any (always a verified one).
    pub public_email: Option<String>,
    /// ISO code of where the person usually works from.
    pub country: String,
}

impl Account {
    /// GitHub's legacy global node id ("04:User123").
    pub fn node_id(&self) -> String {
        node_id("User", self.id)
    }

    /// `organizationVerifiedDomainEmails(login:)`: the verified addresses in
    /// the organisation's verified domains.
    pub fn verified_in(&self, org: &GhOrg) -> Vec<String> {
        self.verified
            .iter()
            .filter(|e| {
                e.rsplit_once('@')
                    .is_some_and(|(_, d)| org.domains.iter().any(|o| o.eq_ignore_ascii_case(d)))
            })
            .cloned()
            .collect()
    }
}

pub(crate) fn node_id(kind: &str, id: u64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("04:{kind}{id}"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TeamRole {
    Member,
    Maintainer,
}

impl TeamRole {
    pub fn as_str(self) -> &'static str {
        match self {
            TeamRole::Member => "member",
            TeamRole::Maintainer => "maintainer",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Team {
    pub id: u64,
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    /// "closed" (visible to every member) or "secret".
    pub privacy: &'static str,
    /// Index of the parent team in the organisation's list.
    pub parent: Option<usize>,
    /// Direct members: account index → role, ordered by account.
    pub members: Vec<(u32, TeamRole)>,
    pub created: DateTime<Utc>,
}

impl Team {
    pub fn node_id(&self) -> String {
        node_id("Team", self.id)
    }
}

/// A pending invitation: not a member until accepted.
#[derive(Debug, Clone)]
pub(crate) struct Invitation {
    pub id: u64,
    /// The invitee's account, when invited by login.
    pub account: Option<u32>,
    /// The address invited, when invited by e-mail.
    pub email: Option<String>,
    pub teams: Vec<usize>,
    pub inviter: u32,
    pub created: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub(crate) struct GhOrg {
    pub login: String,
    pub id: u64,
    pub name: String,
    /// Verified domains (`organizationVerifiedDomainEmails` matches these).
    pub domains: Vec<String>,
    /// GitHub Enterprise Cloud: the audit log API answers; otherwise 404.
    pub audit_log: bool,
    /// Members: account index → owner?, ordered by account.
    pub members: Vec<(u32, bool)>,
    pub teams: Vec<Team>,
    pub invitations: Vec<Invitation>,
    pub created: DateTime<Utc>,
}

impl GhOrg {
    pub fn node_id(&self) -> String {
        node_id("Organization", self.id)
    }

    pub fn is_member(&self, account: u32) -> bool {
        self.members
            .binary_search_by_key(&account, |&(a, _)| a)
            .is_ok()
    }

    pub fn team_by_slug(&self, slug: &str) -> Option<usize> {
        self.teams
            .iter()
            .position(|t| t.slug.eq_ignore_ascii_case(slug))
    }

    pub fn team_by_id(&self, id: u64) -> Option<usize> {
        self.teams.iter().position(|t| t.id == id)
    }

    /// The team and every team below it, each once.
    pub fn subtree(&self, team: usize) -> Vec<usize> {
        let mut out = vec![team];
        let mut i = 0;
        while i < out.len() {
            let t = out[i];
            let children: Vec<usize> = (0..self.teams.len())
                .filter(|&c| self.teams[c].parent == Some(t) && !out.contains(&c))
                .collect();
            out.extend(children);
            i += 1;
        }
        out
    }

    /// GitHub's team member list: the team's members and its child teams'
    /// (any depth), each once, by account; the role is the one held in the
    /// team itself, else "member". Pending invitees are not members.
    pub fn team_members(&self, team: usize) -> Vec<(u32, TeamRole)> {
        let mut roles: HashMap<u32, TeamRole> = HashMap::new();
        for t in self.subtree(team) {
            for &(a, role) in &self.teams[t].members {
                let role = if t == team { role } else { TeamRole::Member };
                let slot = roles.entry(a).or_insert(role);
                if role == TeamRole::Maintainer {
                    *slot = role;
                }
            }
        }
        let mut out: Vec<(u32, TeamRole)> = roles
            .into_iter()
            .filter(|(a, _)| self.is_member(*a))
            .collect();
        out.sort_unstable_by_key(|&(a, _)| a);
        out
    }
}

/// Why a change through the test handle could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GitHubOrgError {
    #[error("no GitHub organization {0} in the sandbox")]
    NoOrg(String),
    #[error("no team {0} in the sandbox's GitHub organization")]
    NoTeam(String),
    #[error("{0} is not a member of the GitHub organization")]
    NotMember(String),
}

/// Lower-case letters and digits of a name, for logins.
fn plain(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// A GitHub-valid login from a name, in one of the styles people pick:
/// letters, digits and single inner hyphens, at most 39 characters, unique
/// without regard to case.
fn login(rng: &mut ChaCha8Rng, given: &str, surname: &str, taken: &mut HashSet<String>) -> String {
    let (g, s) = (plain(given), plain(surname));
    let (g, s) = match (g.is_empty(), s.is_empty()) {
        (true, true) => ("user".to_string(), "gh".to_string()),
        (true, false) => (s.clone(), s),
        (false, true) => (g.clone(), g),
        (false, false) => (g, s),
    };
    let initial = &g[..1];
    let base = match rng.random_range(0..7) {
        0 => format!("{g}{s}"),
        1 => format!("{g}-{s}"),
        2 => format!("{initial}{s}"),
        3 => format!("{g}{}{}", &s[..1], rng.random_range(10..100)),
        4 => format!("{}{}", capital(&g), capital(&s)),
        5 => format!("{s}-{g}"),
        _ => format!("{g}-{s}-dev"),
    };
    let fit = |text: &str, room: usize| -> String {
        let cut: String = text.chars().take(room).collect();
        cut.trim_end_matches('-').to_string()
    };
    let mut candidate = fit(&base, MAX_LOGIN);
    let mut n = 1;
    while !taken.insert(candidate.to_ascii_lowercase()) {
        n += 1;
        let suffix = n.to_string();
        candidate = format!("{}{suffix}", fit(&base, MAX_LOGIN - suffix.len()));
    }
    candidate
}

/// GitHub's slug of a team name: lower case, runs of other characters as one hyphen.
pub(crate) fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// How likely a person of each department is to work on GitHub.
fn github_share(department: &str) -> f64 {
    match department {
        "ENG" => 0.95,
        "SEC" => 0.9,
        "RND" => 0.85,
        "IT" | "PM" => 0.6,
        "DSN" => 0.5,
        "SUP" => 0.2,
        "OPS" => 0.15,
        _ => 0.08,
    }
}

/// Everything the GitHub dialect serves.
pub(crate) struct Generated {
    pub accounts: Vec<Account>,
    pub orgs: Vec<GhOrg>,
    pub client_id: String,
    /// One personal access token per organisation, from one of its owners.
    pub tokens: Vec<String>,
    /// The account that approves device-flow sign-ins (an owner of both).
    pub approver: u32,
}

/// A token-like string: a prefix and 36 letters and digits.
pub(crate) fn token(rng: &mut ChaCha8Rng, prefix: &str) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let body: String = (0..36)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{prefix}{body}")
}

pub(crate) fn generate(org: &Org, seed: u64) -> Generated {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6769_7468_7562);
    let epoch = Utc
        .with_ymd_and_hms(2019, 3, 4, 9, 0, 0)
        .single()
        .unwrap_or_default();
    let mut taken = HashSet::new();
    let mut accounts = Vec::new();
    // Person → account, for people who use GitHub or were invited.
    let mut account_of: HashMap<u32, u32> = HashMap::new();
    let mut contoso_members = Vec::new();
    let mut invitees = Vec::new();
    for (i, u) in org.users.iter().enumerate() {
        let i = i as u32;
        let code = VOCABULARY.departments[u.department].code.as_str();
        let share = if u.guest { 0.25 } else { github_share(code) };
        let member = u.deleted.is_none() && rng.random_bool(share);
        let invited = !member && u.deleted.is_none() && !u.guest && rng.random_bool(0.04);
        let has_account = member || (invited && rng.random_bool(0.7));
        if !has_account {
            if invited {
                invitees.push((i, None));
            }
            continue;
        }
        let personal = format!(
            "{}.{}{}@{}",
            plain(&u.given_name),
            plain(&u.surname),
            rng.random_range(1..100),
            PERSONAL_DOMAINS[rng.random_range(0..PERSONAL_DOMAINS.len())]
        );
        // Employees mostly verify their work address; guests' work address
        // is their own company's, never the organisation's domain.
        let roll = rng.random_range(0..100);
        let (verified, public_email) = if u.guest {
            let public = (roll < 50).then(|| u.mail.clone());
            (vec![u.mail.clone()], public)
        } else if roll < 55 {
            let public = rng.random_bool(0.3).then(|| u.mail.clone());
            (vec![u.mail.clone(), personal], public)
        } else if roll < 70 {
            (vec![personal.clone()], Some(personal))
        } else {
            (vec![personal], None)
        };
        let account = Account {
            person: i,
            login: login(&mut rng, &u.given_name, &u.surname, &mut taken),
            id: 2_000_000 + u64::from(i) * 13 + rng.random_range(0..13),
            name: (!rng.random_bool(0.1)).then(|| u.display_name.clone()),
            verified,
            public_email,
            country: u.country().code.clone(),
        };
        let a = accounts.len() as u32;
        accounts.push(account);
        account_of.insert(i, a);
        if member {
            contoso_members.push(a);
        } else {
            invitees.push((i, Some(a)));
        }
    }
    let person = |a: u32| &org.users[accounts[a as usize].person as usize];
    let dept_of = |a: u32| person(a).department;

    // A few owners, from the people who run the infrastructure.
    let admins_pool: Vec<u32> = contoso_members
        .iter()
        .copied()
        .filter(|&a| {
            let p = person(a);
            !p.guest
                && matches!(
                    VOCABULARY.departments[p.department].code.as_str(),
                    "IT" | "SEC" | "ENG"
                )
        })
        .collect();
    let pool = if admins_pool.is_empty() {
        contoso_members.clone()
    } else {
        admins_pool
    };
    let owners: BTreeSet<u32> = pick(&mut rng, &pool, 4).into_iter().collect();
    let members: Vec<(u32, bool)> = contoso_members
        .iter()
        .map(|&a| (a, owners.contains(&a)))
        .collect();

    let mut teams: Vec<Team> = Vec::new();
    let mut next_team_id = 4_100_000u64;
    let mut new_team = |rng: &mut ChaCha8Rng,
                        name: &str,
                        description: Option<String>,
                        parent: Option<usize>,
                        members: Vec<(u32, TeamRole)>|
     -> Team {
        next_team_id += 1 + rng.random_range(0..5);
        let mut members = members;
        members.sort_unstable_by_key(|&(a, _)| a);
        members.dedup_by_key(|(a, _)| *a);
        Team {
            id: next_team_id,
            slug: slug(name),
            name: name.to_string(),
            description,
            privacy: "closed",
            parent,
            members,
            created: epoch + Duration::days(rng.random_range(0..2000)),
        }
    };
    teams.push(new_team(
        &mut rng,
        "Everyone",
        Some("Every member of Contoso, through the department teams".into()),
        None,
        Vec::new(),
    ));
    for (d, dept) in VOCABULARY.departments.iter().enumerate() {
        let people: Vec<u32> = contoso_members
            .iter()
            .copied()
            .filter(|&a| dept_of(a) == d)
            .collect();
        let mut leads = Vec::new();
        let mut rest = Vec::new();
        for &a in &people {
            if rng.random_bool(0.06) {
                leads.push((a, TeamRole::Maintainer));
            } else {
                rest.push(a);
            }
        }
        let dept_team = teams.len();
        teams.push(new_team(
            &mut rng,
            &dept.name,
            Some(format!("The {} department", dept.name)),
            Some(0),
            leads,
        ));
        let mut groups: Vec<Vec<(u32, TeamRole)>> = vec![Vec::new(); dept.teams.len()];
        for a in rest {
            let g = rng.random_range(0..dept.teams.len());
            let role = if groups[g].is_empty() {
                TeamRole::Maintainer
            } else {
                TeamRole::Member
            };
            groups[g].push((a, role));
        }
        for (name, members) in dept.teams.iter().zip(groups) {
            teams.push(new_team(
                &mut rng,
                name,
                Some(format!("{} in {}", name, dept.name)),
                Some(dept_team),
                members,
            ));
        }
    }
    let builders: Vec<u32> = contoso_members
        .iter()
        .copied()
        .filter(|&a| {
            matches!(
                VOCABULARY.departments[dept_of(a)].code.as_str(),
                "ENG" | "PM" | "DSN" | "RND" | "SEC"
            )
        })
        .collect();
    for project in &VOCABULARY.projects {
        let n = rng.random_range(3..=12);
        let members = pick(&mut rng, &builders, n)
            .into_iter()
            .map(|a| (a, TeamRole::Member))
            .collect();
        teams.push(new_team(
            &mut rng,
            project,
            Some(format!("Project {project}")),
            None,
            members,
        ));
    }
    for (name, n, secret) in [
        ("Security Champions", 8, false),
        ("Release Managers", 5, false),
        ("On-call", 10, false),
        ("Open Source Office", 4, false),
        ("Alumni", 0, false),
        ("Incident Response", 3, true),
    ] {
        let members = pick(&mut rng, &builders, n)
            .into_iter()
            .map(|a| (a, TeamRole::Member))
            .collect();
        let mut team = new_team(&mut rng, name, None, None, members);
        if secret {
            team.privacy = "secret";
        }
        teams.push(team);
    }

    // Invitations to the invitee's department team, not yet accepted.
    let owner_list: Vec<u32> = owners.iter().copied().collect();
    let inviter = owner_list.first().copied().unwrap_or(0);
    let invitations = invitees
        .iter()
        .enumerate()
        .map(|(k, &(p, account))| {
            let dept = &VOCABULARY.departments[org.users[p as usize].department];
            let team = teams.iter().position(|t| t.name == dept.name).unwrap_or(0);
            Invitation {
                id: 9_000_000 + k as u64 * 7,
                account,
                email: account
                    .is_none()
                    .then(|| org.users[p as usize].mail.clone()),
                teams: vec![team],
                inviter,
                created: Utc::now() - Duration::days(rng.random_range(1..20)),
            }
        })
        .collect();
    let contoso = GhOrg {
        login: "contoso".into(),
        id: 1_300_000 + rng.random_range(0..100_000),
        name: "Contoso".into(),
        domains: vec![PRIMARY_DOMAIN.to_string()],
        audit_log: true,
        members,
        teams,
        invitations,
        created: epoch,
    };

    // The labs: Research, a few engineers, two owners of its own.
    let research: Vec<u32> = contoso_members
        .iter()
        .copied()
        .filter(|&a| VOCABULARY.departments[dept_of(a)].code == "RND")
        .collect();
    let mut labs_set: BTreeSet<u32> = research.iter().copied().collect();
    labs_set.extend(pick(&mut rng, &builders, builders.len() / 10));
    let approver = owner_list
        .get(1)
        .or(owner_list.first())
        .copied()
        .unwrap_or(0);
    let mut labs_owners: BTreeSet<u32> = pick(&mut rng, &research, 2).into_iter().collect();
    labs_owners.remove(&inviter);
    labs_owners.insert(approver);
    labs_set.extend(labs_owners.iter().copied());
    labs_set.remove(&inviter);
    let labs_members: Vec<(u32, bool)> = labs_set
        .iter()
        .map(|&a| (a, labs_owners.contains(&a)))
        .collect();
    let in_labs: Vec<u32> = labs_set.iter().copied().collect();
    let mut labs_teams = Vec::new();
    let mut next_team_id = 4_900_000u64;
    for (name, parent) in [
        ("Research", None),
        ("Applied AI", Some(0)),
        ("Labs", Some(0)),
    ] {
        next_team_id += 3;
        let members = pick(&mut rng, &in_labs, in_labs.len() / 2)
            .into_iter()
            .map(|a| (a, TeamRole::Member))
            .collect();
        labs_teams.push(Team {
            id: next_team_id,
            slug: slug(name),
            name: name.to_string(),
            description: None,
            privacy: "closed",
            parent,
            members,
            created: epoch + Duration::days(900),
        });
    }
    let labs = GhOrg {
        login: "contoso-labs".into(),
        id: 1_500_000 + rng.random_range(0..100_000),
        name: "Contoso Labs".into(),
        domains: vec![PRIMARY_DOMAIN.to_string()],
        audit_log: false,
        members: labs_members,
        teams: labs_teams,
        invitations: Vec::new(),
        created: epoch + Duration::days(800),
    };
    let client_id = format!("Ov23li{}", &token(&mut rng, "")[..14]);
    let tokens = vec![token(&mut rng, "ghp_"), token(&mut rng, "ghp_")];
    let _ = &account_of;
    Generated {
        accounts,
        orgs: vec![contoso, labs],
        client_id,
        tokens,
        approver,
    }
}

/// Up to `n` distinct items of `from`, in `from`'s order.
fn pick(rng: &mut ChaCha8Rng, from: &[u32], n: usize) -> Vec<u32> {
    if n >= from.len() {
        return from.to_vec();
    }
    let mut chosen = BTreeSet::new();
    while chosen.len() < n {
        chosen.insert(rng.random_range(0..from.len()));
    }
    chosen.into_iter().map(|i| from[i]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generated(users: usize) -> (Org, Generated) {
        let org = Org::generate(7, users);
        let g = generate(&org, 7);
        (org, g)
    }

    #[test]
    fn logins_are_unique_and_github_valid() {
        let (_, g) = generated(3000);
        let mut seen = HashSet::new();
        for a in &g.accounts {
            let l = &a.login;
            assert!(!l.is_empty() && l.len() <= MAX_LOGIN, "{l}");
            assert!(
                l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
                "{l}"
            );
            assert!(
                !l.starts_with('-') && !l.ends_with('-') && !l.contains("--"),
                "{l}"
            );
            assert!(seen.insert(l.to_ascii_lowercase()), "{l} twice");
        }
    }

    #[test]
    fn generation_is_deterministic() {
        let (org, a) = generated(500);
        let b = generate(&org, 7);
        let logins = |g: &Generated| {
            g.accounts
                .iter()
                .map(|a| a.login.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(logins(&a), logins(&b));
        assert_eq!(a.tokens, b.tokens);
        assert_eq!(a.orgs[0].teams.len(), b.orgs[0].teams.len());
    }

    #[test]
    fn membership_is_engineering_heavy_with_owners_and_a_big_nested_team() {
        let (org, g) = generated(1000);
        let contoso = &g.orgs[0];
        let eng = VOCABULARY
            .departments
            .iter()
            .position(|d| d.code == "ENG")
            .unwrap();
        let share = |dept: usize| {
            let people = org
                .users
                .iter()
                .filter(|u| u.department == dept && !u.guest)
                .count();
            let members = contoso
                .members
                .iter()
                .filter(|&&(a, _)| {
                    org.users[g.accounts[a as usize].person as usize].department == dept
                })
                .count();
            members as f64 / people.max(1) as f64
        };
        assert!(share(eng) > 0.8);
        let owners = contoso.members.iter().filter(|m| m.1).count();
        assert!((1..=4).contains(&owners));
        assert!(
            contoso.teams.len() > 50,
            "enough teams for a search beyond the first 50"
        );
        assert!(contoso.team_members(0).len() >= 250, "Everyone pages");
        assert!(contoso.teams[0].members.is_empty(), "only through children");
        assert!(!contoso.invitations.is_empty());
        for inv in &contoso.invitations {
            if let Some(a) = inv.account {
                assert!(!contoso.is_member(a));
            }
        }
        assert!(!g.orgs[1].audit_log && contoso.audit_log);
    }

    #[test]
    fn slugs_follow_github() {
        assert_eq!(slug("Tier 1"), "tier-1");
        assert_eq!(slug("Applied AI"), "applied-ai");
        assert_eq!(slug("On-call"), "on-call");
        assert_eq!(slug("  R&D -- Team "), "r-d-team");
    }
}
