//! The sandbox's two Okta orgs, derived from the generated organisation:
//! org 0 (`contoso.okta.com`) holds the whole workforce, org 1
//! (`contoso-emea.okta.com`) the EMEA staff and some colleagues who work with
//! them, so the two overlap in part. Each has its own user ids, statuses,
//! groups (flat: Okta groups do not nest), contractors with personal
//! addresses, API token and service app. Deterministic from the seed.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::DecodingKey;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::sandbox::org::{MemberRef, Org, VOCABULARY};

/// An Okta user status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OktaStatus {
    Staged,
    Provisioned,
    Active,
    Recovery,
    LockedOut,
    PasswordExpired,
    Suspended,
    Deprovisioned,
}

impl OktaStatus {
    pub const ALL: [OktaStatus; 8] = [
        OktaStatus::Staged,
        OktaStatus::Provisioned,
        OktaStatus::Active,
        OktaStatus::Recovery,
        OktaStatus::LockedOut,
        OktaStatus::PasswordExpired,
        OktaStatus::Suspended,
        OktaStatus::Deprovisioned,
    ];

    /// As Okta writes it (`LOCKED_OUT`).
    pub fn as_str(self) -> &'static str {
        match self {
            OktaStatus::Staged => "STAGED",
            OktaStatus::Provisioned => "PROVISIONED",
            OktaStatus::Active => "ACTIVE",
            OktaStatus::Recovery => "RECOVERY",
            OktaStatus::LockedOut => "LOCKED_OUT",
            OktaStatus::PasswordExpired => "PASSWORD_EXPIRED",
            OktaStatus::Suspended => "SUSPENDED",
            OktaStatus::Deprovisioned => "DEPROVISIONED",
        }
    }
}

/// Where an Okta account's person comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Person {
    /// A user of the generated organisation (index into `Org.users`).
    Staff(u32),
    /// Someone only this Okta org knows, with a personal address.
    Contractor,
}

pub(crate) struct User {
    pub id: String,
    pub person: Person,
    pub login: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub display_name: Option<String>,
    pub status: OktaStatus,
    /// Index into `VOCABULARY.countries`.
    pub country: usize,
    pub department: Option<&'static str>,
    pub title: Option<&'static str>,
    pub created: DateTime<Utc>,
    pub status_changed: DateTime<Utc>,
    pub last_updated: DateTime<Utc>,
    /// Served without its `id` (a test's broken record).
    pub broken: bool,
}

impl User {
    /// The name Okta shows: the display name, else first and last name.
    pub fn name(&self) -> String {
        self.display_name
            .clone()
            .unwrap_or_else(|| format!("{} {}", self.first_name, self.last_name))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GroupType {
    Okta,
    BuiltIn,
}

pub(crate) struct Group {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub kind: GroupType,
    pub created: DateTime<Utc>,
    pub last_updated: DateTime<Utc>,
    pub last_membership_updated: DateTime<Utc>,
    /// User indices, each keyed by itself, ascending (for `paging::page`).
    pub members: Vec<(u64, u32)>,
}

/// One Okta org: its credentials and its directory.
pub(crate) struct OktaOrg {
    pub domain: String,
    pub api_token: String,
    pub client_id: String,
    pub key_id: String,
    pub private_pem: &'static str,
    pub public_key: Option<DecodingKey>,
    /// The scopes granted to the service app.
    pub scopes: Vec<String>,
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    /// Users who act as administrators in the System Log.
    pub admins: Vec<u32>,
    /// The OAuth clients users consented to, and their consents (issue 11).
    pub grants: super::grants::Consents,
    user_index: HashMap<String, u32>,
    group_index: HashMap<String, u32>,
}

/// The scopes a service app is granted unless a test takes one away: the
/// read scopes, and the one account governance needs (issue 11).
pub(crate) const GRANTED_SCOPES: [&str; 4] = [
    "okta.users.read",
    "okta.groups.read",
    "okta.logs.read",
    "okta.users.manage",
];

const KEYS: [(&str, &str); 2] = [
    (
        include_str!("../../../assets/sandbox/okta-service-app.pem"),
        include_str!("../../../assets/sandbox/okta-service-app.pub.pem"),
    ),
    (
        include_str!("../../../assets/sandbox/okta-emea-service-app.pem"),
        include_str!("../../../assets/sandbox/okta-emea-service-app.pub.pem"),
    ),
];

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// An Okta-shaped id: a prefix ("00u", "00g", "0oa") and random characters.
pub(crate) fn okta_id(rng: &mut ChaCha8Rng, prefix: &str, len: usize) -> String {
    let mut id = prefix.to_string();
    id.extend((0..len).map(|_| BASE62[rng.random_range(0..BASE62.len())] as char));
    id
}

/// Okta's timestamps: milliseconds and a Z.
pub(crate) fn okta_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A status drawn for an account whose person is enabled and not deleted in
/// the directory: mostly active, every other status now and then.
fn drawn_status(rng: &mut ChaCha8Rng) -> OktaStatus {
    match rng.random_range(0..100u32) {
        0 | 1 => OktaStatus::LockedOut,
        2 | 3 => OktaStatus::PasswordExpired,
        4 => OktaStatus::Recovery,
        5 => OktaStatus::Staged,
        6 => OktaStatus::Provisioned,
        7 => OktaStatus::Suspended,
        8 => OktaStatus::Deprovisioned,
        _ => OktaStatus::Active,
    }
}

/// What makes one org differ from the other.
struct Plan {
    number: u8,
    domain: String,
    /// The directory people this org holds (indices into `Org.users`).
    people: Vec<u32>,
    contractors: usize,
    contractor_group: (&'static str, &'static str),
    /// Which directory groups this org mirrors.
    keeps_group: fn(&str) -> bool,
}

pub(crate) fn generate(org: &Org, seed: u64) -> Vec<OktaOrg> {
    let slug: String = org
        .display_name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    let employees: Vec<u32> = (0..org.users.len() as u32)
        .filter(|&i| !org.users[i as usize].guest)
        .collect();
    let emea = VOCABULARY.regions.iter().position(|r| r == "EMEA");
    let mut pick = ChaCha8Rng::seed_from_u64(seed ^ 0x0C7A_0E3E_A000_0001);
    let emea_people: Vec<u32> = employees
        .iter()
        .copied()
        .filter(|&i| Some(org.users[i as usize].country().region) == emea || pick.random_bool(0.1))
        .collect();
    let plans = [
        Plan {
            number: 0,
            domain: format!("{slug}.okta.com"),
            contractors: (employees.len() / 150).max(1),
            people: employees,
            contractor_group: ("Contractors", "Contractors with personal accounts"),
            keeps_group: |_| true,
        },
        Plan {
            number: 1,
            domain: format!("{slug}-emea.okta.com"),
            contractors: (emea_people.len() / 100).max(1),
            people: emea_people,
            contractor_group: ("EMEA Contractors", "Contractors working for EMEA"),
            keeps_group: |name| name.contains("EMEA") || name.starts_with("Project "),
        },
    ];
    // The directory's groups, flattened once for both orgs.
    let flattened: Vec<Vec<u32>> = (0..org.groups.len())
        .map(|g| {
            org.transitive_members(g)
                .into_iter()
                .filter_map(|m| match m {
                    MemberRef::User(i) => Some(i),
                    _ => None,
                })
                .collect()
        })
        .collect();
    plans
        .into_iter()
        .map(|plan| build(org, seed, plan, &flattened))
        .collect()
}

fn build(org: &Org, seed: u64, plan: Plan, flattened: &[Vec<u32>]) -> OktaOrg {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0C7A_5EED ^ (u64::from(plan.number) << 40));
    let api_token = okta_id(&mut rng, "00", 40);
    let client_id = okta_id(&mut rng, "0oa", 17);
    let key_id = okta_id(&mut rng, "", 43);
    let (private_pem, public_pem) = KEYS[plan.number as usize % KEYS.len()];
    let mut users = Vec::with_capacity(plan.people.len() + plan.contractors);
    let mut of_person: HashMap<u32, u32> = HashMap::with_capacity(plan.people.len());
    for &p in &plan.people {
        let u = &org.users[p as usize];
        let status = if u.deleted.is_some() {
            OktaStatus::Deprovisioned
        } else if !u.account_enabled {
            OktaStatus::Suspended
        } else {
            drawn_status(&mut rng)
        };
        // Now and then an old-style login that is not the e-mail.
        let login = if rng.random_bool(0.04) {
            let domain = u.mail.rsplit('@').next().unwrap_or_default();
            let initial = u.given_name.chars().next().unwrap_or('x');
            format!(
                "{}{}{p}@{domain}",
                initial.to_ascii_lowercase(),
                u.surname.to_ascii_lowercase()
            )
        } else {
            u.mail.clone()
        };
        let changed = u.created + Duration::days(rng.random_range(0..400));
        of_person.insert(p, users.len() as u32);
        users.push(User {
            id: okta_id(&mut rng, "00u", 17),
            person: Person::Staff(p),
            login,
            email: u.mail.clone(),
            first_name: u.given_name.clone(),
            last_name: u.surname.clone(),
            display_name: Some(u.display_name.clone()),
            status,
            country: u.country,
            department: Some(u.department()),
            title: Some(u.job_title),
            created: u.created,
            status_changed: changed,
            last_updated: changed,
            broken: false,
        });
    }
    ensure_every_status(&mut users);
    for n in 0..plan.contractors {
        let like = &org.users[rng.random_range(0..org.users.len())];
        let email = format!(
            "{}.{}.{}{n}@gmail.com",
            like.given_name.to_ascii_lowercase(),
            like.surname.to_ascii_lowercase(),
            plan.number
        );
        let created = org.created + Duration::days(rng.random_range(1000..2400));
        users.push(User {
            id: okta_id(&mut rng, "00u", 17),
            person: Person::Contractor,
            login: email.clone(),
            email,
            first_name: like.given_name.clone(),
            last_name: like.surname.clone(),
            display_name: None,
            status: OktaStatus::Active,
            country: like.country,
            department: None,
            title: Some("Contractor"),
            created,
            status_changed: created,
            last_updated: created,
            broken: false,
        });
    }
    let everyone: Vec<(u64, u32)> = (0..users.len() as u32).map(|i| (u64::from(i), i)).collect();
    let mut groups = vec![Group {
        id: okta_id(&mut rng, "00g", 17),
        name: "Everyone".to_string(),
        description: Some("All users in your organization".to_string()),
        kind: GroupType::BuiltIn,
        created: org.created,
        last_updated: org.created,
        last_membership_updated: org.created,
        members: everyone,
    }];
    for (g, source) in org.groups.iter().enumerate() {
        if !(plan.keeps_group)(&source.display_name) {
            continue;
        }
        let mut members: Vec<(u64, u32)> = flattened[g]
            .iter()
            .filter_map(|p| of_person.get(p))
            .map(|&i| (u64::from(i), i))
            .collect();
        if members.is_empty() {
            continue;
        }
        members.sort_unstable();
        let updated = source.created + Duration::days(rng.random_range(0..300));
        groups.push(Group {
            id: okta_id(&mut rng, "00g", 17),
            name: source.display_name.clone(),
            description: source.description.clone(),
            kind: GroupType::Okta,
            created: source.created,
            last_updated: updated,
            last_membership_updated: updated,
            members,
        });
    }
    let contractors: Vec<(u64, u32)> = users
        .iter()
        .enumerate()
        .filter(|(_, u)| u.person == Person::Contractor)
        .map(|(i, _)| (i as u64, i as u32))
        .collect();
    let (name, description) = plan.contractor_group;
    groups.push(Group {
        id: okta_id(&mut rng, "00g", 17),
        name: name.to_string(),
        description: Some(description.to_string()),
        kind: GroupType::Okta,
        created: org.created,
        last_updated: org.created,
        last_membership_updated: org.created,
        members: contractors,
    });
    let active: Vec<u32> = (0..users.len() as u32)
        .filter(|&i| {
            let u = &users[i as usize];
            u.status == OktaStatus::Active && u.person != Person::Contractor
        })
        .collect();
    let admins = if active.is_empty() {
        Vec::new()
    } else {
        (0..3)
            .map(|_| active[rng.random_range(0..active.len())])
            .collect()
    };
    let mut okta = OktaOrg {
        domain: plan.domain,
        api_token,
        client_id,
        key_id,
        private_pem,
        public_key: DecodingKey::from_rsa_pem(public_pem.as_bytes()).ok(),
        scopes: GRANTED_SCOPES.iter().map(|s| s.to_string()).collect(),
        grants: super::grants::generate(&users, seed, plan.number),
        users,
        groups,
        admins,
        user_index: HashMap::new(),
        group_index: HashMap::new(),
    };
    okta.reindex();
    okta
}

/// Every status appears at least once (in an org of a dozen or more): active
/// accounts spread evenly over the list take the missing ones.
fn ensure_every_status(users: &mut [User]) {
    if users.len() < 12 {
        return;
    }
    let missing: Vec<OktaStatus> = OktaStatus::ALL
        .into_iter()
        .filter(|s| !users.iter().any(|u| u.status == *s))
        .collect();
    let active: Vec<usize> = (0..users.len())
        .filter(|&i| users[i].status == OktaStatus::Active)
        .collect();
    if missing.is_empty() || active.len() <= missing.len() {
        return;
    }
    let step = active.len() / (missing.len() + 1);
    for (k, status) in missing.into_iter().enumerate() {
        users[active[(k + 1) * step]].status = status;
    }
}

impl OktaOrg {
    fn reindex(&mut self) {
        self.user_index = self
            .users
            .iter()
            .enumerate()
            .flat_map(|(i, u)| {
                [
                    (u.id.clone(), i as u32),
                    (u.login.to_ascii_lowercase(), i as u32),
                ]
            })
            .collect();
        self.group_index = self
            .groups
            .iter()
            .enumerate()
            .map(|(i, g)| (g.id.clone(), i as u32))
            .collect();
    }

    /// A user by id or login.
    pub fn user(&self, key: &str) -> Option<u32> {
        self.user_index
            .get(key)
            .or_else(|| self.user_index.get(&key.to_ascii_lowercase()))
            .copied()
    }

    pub fn group(&self, id: &str) -> Option<u32> {
        self.group_index.get(id).copied()
    }

    /// A user by e-mail or login, as an activity names its actor.
    pub fn user_by_address(&self, address: &str) -> Option<u32> {
        self.user(address).or_else(|| {
            self.users
                .iter()
                .position(|u| u.email.eq_ignore_ascii_case(address))
                .map(|i| i as u32)
        })
    }

    pub fn set_status(&mut self, user: u32, status: OktaStatus) {
        let u = &mut self.users[user as usize];
        u.status = status;
        u.status_changed = Utc::now();
        u.last_updated = u.status_changed;
    }

    /// Adds or removes a member; true when that changed the group.
    pub fn set_member(&mut self, group: u32, user: u32, member: bool) -> bool {
        let g = &mut self.groups[group as usize];
        let changed = match (g.members.binary_search(&(u64::from(user), user)), member) {
            (Err(at), true) => {
                g.members.insert(at, (u64::from(user), user));
                true
            }
            (Ok(at), false) => {
                g.members.remove(at);
                true
            }
            _ => false,
        };
        if changed {
            g.last_membership_updated = Utc::now();
        }
        changed
    }

    /// The User object as `/api/v1/users` returns it.
    pub fn user_json(&self, base_url: &str, i: u32) -> Value {
        let u = &self.users[i as usize];
        let country = &VOCABULARY.countries[u.country];
        let active_once = !matches!(u.status, OktaStatus::Staged | OktaStatus::Provisioned);
        let mut profile = json!({
            "firstName": u.first_name,
            "lastName": u.last_name,
            "mobilePhone": null,
            "secondEmail": null,
            "login": u.login,
            "email": u.email,
            "countryCode": country.code,
        });
        let extra = [
            ("displayName", u.display_name.as_deref()),
            ("department", u.department),
            ("title", u.title),
            (
                "userType",
                (u.person == Person::Contractor).then_some("Contractor"),
            ),
        ];
        for (key, value) in extra {
            if let Some(value) = value {
                profile[key] = Value::from(value);
            }
        }
        let mut user = json!({
            "status": u.status.as_str(),
            "created": okta_time(u.created),
            "activated": active_once.then(|| okta_time(u.created)),
            "statusChanged": okta_time(u.status_changed),
            "lastLogin": (u.status == OktaStatus::Active).then(|| okta_time(u.last_updated)),
            "lastUpdated": okta_time(u.last_updated),
            "passwordChanged": active_once.then(|| okta_time(u.created)),
            "transitioningToStatus": null,
            "type": {"id": "otyfnjfba4ye7pgjB0g4"},
            "profile": profile,
            "credentials": {"provider": {"type": "OKTA", "name": "OKTA"}},
            "_links": {"self": {"href": format!("{base_url}/api/v1/users/{}", u.id)}},
        });
        if !u.broken {
            user["id"] = Value::from(u.id.clone());
        }
        user
    }

    /// The Group object as `/api/v1/groups` returns it.
    pub fn group_json(&self, base_url: &str, i: u32) -> Value {
        let g = &self.groups[i as usize];
        let href = format!("{base_url}/api/v1/groups/{}", g.id);
        json!({
            "id": g.id,
            "created": okta_time(g.created),
            "lastUpdated": okta_time(g.last_updated),
            "lastMembershipUpdated": okta_time(g.last_membership_updated),
            "objectClass": ["okta:user_group"],
            "type": match g.kind {
                GroupType::Okta => "OKTA_GROUP",
                GroupType::BuiltIn => "BUILT_IN",
            },
            "profile": {"name": g.name, "description": g.description},
            "_links": {
                "logo": [
                    {"name": "medium", "href": format!("{base_url}/img/logos/groups/okta-medium.png"), "type": "image/png"},
                    {"name": "large", "href": format!("{base_url}/img/logos/groups/okta-large.png"), "type": "image/png"}
                ],
                "users": {"href": format!("{href}/users")},
                "apps": {"href": format!("{href}/apps")},
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_orgs_overlap_in_part_with_every_status() {
        let org = Org::generate(42, 600);
        let orgs = generate(&org, 42);
        assert_eq!(orgs.len(), 2);
        assert_eq!(orgs[0].domain, "contoso.okta.com");
        assert_eq!(orgs[1].domain, "contoso-emea.okta.com");
        for o in &orgs {
            for s in OktaStatus::ALL {
                assert!(o.users.iter().any(|u| u.status == s), "{} {s:?}", o.domain);
            }
            assert!(o.users.iter().any(|u| u.person == Person::Contractor));
            assert_eq!(o.groups[0].members.len(), o.users.len(), "Everyone");
        }
        let mail = |o: &OktaOrg| -> std::collections::HashSet<String> {
            o.users.iter().map(|u| u.email.clone()).collect()
        };
        let (a, b) = (mail(&orgs[0]), mail(&orgs[1]));
        assert!(a.intersection(&b).count() > 0, "shared people");
        assert!(b.difference(&a).count() > 0, "people of its own");
        assert!(orgs[1].users.len() < orgs[0].users.len());
        let ids: std::collections::HashSet<&str> = orgs[0]
            .users
            .iter()
            .chain(&orgs[1].users)
            .map(|u| u.id.as_str())
            .collect();
        assert_eq!(ids.len(), orgs[0].users.len() + orgs[1].users.len());
        assert_ne!(orgs[0].api_token, orgs[1].api_token);
        assert_ne!(orgs[0].client_id, orgs[1].client_id);
        assert!(orgs.iter().all(|o| o.public_key.is_some()));
        // Deterministic from the seed.
        let again = generate(&org, 42);
        assert_eq!(again[1].users[3].id, orgs[1].users[3].id);
        assert_eq!(again[0].api_token, orgs[0].api_token);
    }
}
