//! The generated organisation: users, groups (nested, with devices and
//! contacts among the members), directory roles. Deterministic from the seed.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::LazyLock;

use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use uuid::Uuid;

const FIRST_NAMES: &str = include_str!("../../assets/names/first.txt");
const LAST_NAMES: &str = include_str!("../../assets/names/last.txt");

/// The organisation's own domain and its initial `onmicrosoft.com` domain.
pub const PRIMARY_DOMAIN: &str = "contoso.com";
pub const INITIAL_DOMAIN: &str = "contoso.onmicrosoft.com";

/// Domains of guests and of people outside the organisation.
pub const PARTNER_DOMAINS: &[&str] = &[
    "fabrikam.com",
    "northwindtraders.com",
    "adventure-works.com",
    "tailspintoys.com",
    "wingtiptoys.com",
    "litwareinc.com",
];

/// The organisation's fixed vocabulary, from `assets/org.toml`.
#[derive(Debug, Deserialize)]
pub struct Vocabulary {
    pub regions: Vec<String>,
    region_weights: Vec<u32>,
    pub projects: Vec<String>,
    pub countries: Vec<Country>,
    pub departments: Vec<Department>,
    roles: Vec<RoleTemplate>,
}

#[derive(Debug, Deserialize)]
pub struct Country {
    /// ISO 3166-1 alpha-2.
    pub code: String,
    /// The English name, as Okta writes it.
    pub name: String,
    pub region: usize,
    pub cities: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct Department {
    pub name: String,
    pub code: String,
    weight: u32,
    pub titles: Vec<String>,
    pub teams: Vec<String>,
}

/// A directory role and how many people hold it.
#[derive(Debug, Deserialize)]
struct RoleTemplate {
    name: String,
    template: String,
    holders: usize,
}

/// Parsed once; the asset is compiled in and checked by a test, so a failure
/// here is a build defect, not bad input.
pub static VOCABULARY: LazyLock<Vocabulary> = LazyLock::new(|| {
    toml::from_str(include_str!("../../assets/org.toml"))
        .unwrap_or_else(|e| panic!("assets/org.toml: {e}"))
});

/// First octets of the public blocks the sandbox gives each country's people:
/// country i has the /16 `NETS[i].(i·37 + 11) mod 250 + 1`, in every dialect,
/// which the sandbox's own GeoIP databases map back to the country.
const NETS: &[u8] = &[
    20, 24, 31, 37, 41, 46, 51, 62, 77, 81, 85, 88, 91, 94, 102, 103, 106, 110, 112, 114, 117, 177,
    187, 181, 190, 191,
];

/// The /16 block of a country's people (an index into `VOCABULARY.countries`).
pub fn country_block(country: usize) -> (std::net::Ipv4Addr, u8) {
    let net = NETS[country % NETS.len()];
    let second = ((country * 37 + 11) % 250 + 1) as u8;
    (std::net::Ipv4Addr::new(net, second, 0, 0), 16)
}

/// An address in a country's block; the same host for the same number.
pub fn address(country: usize, host: u64) -> String {
    let (net, _) = country_block(country);
    let [a, b, _, _] = net.octets();
    format!("{a}.{b}.{}.{}", (host >> 8) % 254 + 1, host % 254 + 1)
}

/// A member of a group. Ordered so member lists can be paged by key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MemberRef {
    User(u32),
    Group(u32),
    Device(u32),
    Contact(u32),
}

impl MemberRef {
    /// A stable key, ordered like `MemberRef` itself, for skip tokens.
    pub fn key(self) -> u64 {
        let (kind, idx) = match self {
            MemberRef::User(i) => (0u64, i),
            MemberRef::Group(i) => (1, i),
            MemberRef::Device(i) => (2, i),
            MemberRef::Contact(i) => (3, i),
        };
        (kind << 32) | u64::from(idx)
    }
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: Uuid,
    pub given_name: String,
    pub surname: String,
    pub display_name: String,
    pub user_principal_name: String,
    pub mail: String,
    pub account_enabled: bool,
    /// Soft-deleted: still a group member, absent from `/users`.
    pub deleted: Option<DateTime<Utc>>,
    pub guest: bool,
    pub country: usize,
    pub city: usize,
    pub department: usize,
    pub job_title: &'static str,
    pub created: DateTime<Utc>,
}

impl User {
    pub fn country(&self) -> &'static Country {
        &VOCABULARY.countries[self.country]
    }
    pub fn city(&self) -> &'static str {
        &VOCABULARY.countries[self.country].cities[self.city]
    }
    pub fn department(&self) -> &'static str {
        &VOCABULARY.departments[self.department].name
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    Security,
    /// A Microsoft 365 group (`groupTypes: ["Unified"]`).
    Unified,
    Distribution,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub id: Uuid,
    pub display_name: String,
    pub description: Option<String>,
    pub kind: GroupKind,
    pub mail_nickname: String,
    /// Sorted, without duplicates.
    pub members: Vec<MemberRef>,
    pub created: DateTime<Utc>,
}

impl Group {
    pub fn mail(&self) -> Option<String> {
        (self.kind != GroupKind::Security)
            .then(|| format!("{}@{PRIMARY_DOMAIN}", self.mail_nickname))
    }
}

#[derive(Debug, Clone)]
pub struct Device {
    pub id: Uuid,
    pub device_id: Uuid,
    pub display_name: String,
    pub operating_system: &'static str,
    pub account_enabled: bool,
}

#[derive(Debug, Clone)]
pub struct Contact {
    pub id: Uuid,
    pub display_name: String,
    pub given_name: String,
    pub surname: String,
    pub mail: String,
    pub company_name: &'static str,
}

#[derive(Debug, Clone)]
pub struct Role {
    pub id: Uuid,
    pub display_name: &'static str,
    pub role_template_id: &'static str,
    pub members: Vec<u32>,
}

/// Where an object id points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectRef {
    Member(MemberRef),
    Role(u32),
}

/// Errors from changing the organisation through the test handle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrgError {
    #[error("no group with id {0} in the sandbox")]
    NoGroup(Uuid),
    #[error("no user with id {0} in the sandbox")]
    NoUser(Uuid),
    #[error("no object with id {0} in the sandbox")]
    NoObject(Uuid),
    #[error("adding {member} to group {group} would make a group contain itself")]
    SelfMember { group: Uuid, member: Uuid },
}

pub struct Org {
    pub tenant_id: Uuid,
    pub client_id: Uuid,
    pub client_secret: String,
    pub display_name: &'static str,
    pub created: DateTime<Utc>,
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    pub devices: Vec<Device>,
    pub contacts: Vec<Contact>,
    pub roles: Vec<Role>,
    index: HashMap<Uuid, ObjectRef>,
    /// Membership changes made since generation, oldest first; change n
    /// (from 1) is at index n - 1. Delta queries read it.
    changes: Vec<MembershipChange>,
    /// Bumped to invalidate every delta token handed out so far.
    delta_epoch: u32,
    /// Fields served with a test's value instead of their own, by user id
    /// (issue 10: one record with a wrongly typed field).
    mistyped: Vec<(Uuid, String, serde_json::Value)>,
}

/// A member joining or leaving a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MembershipChange {
    pub group: u32,
    pub member: MemberRef,
    pub removed: bool,
}

fn new_id(rng: &mut ChaCha8Rng) -> Uuid {
    uuid::Builder::from_random_bytes(rng.random()).into_uuid()
}

fn weighted(rng: &mut ChaCha8Rng, weights: impl Iterator<Item = u32> + Clone) -> usize {
    let total: u32 = weights.clone().sum();
    let mut pick = rng.random_range(0..total);
    for (i, w) in weights.enumerate() {
        if pick < w {
            return i;
        }
        pick -= w;
    }
    0
}

fn secret(rng: &mut ChaCha8Rng) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
    let mut s: String = (0..3)
        .map(|_| ALPHABET[rng.random_range(0..62)] as char)
        .collect();
    s.push_str("8Q~");
    s.extend((0..34).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char));
    s
}

/// Picks up to `n` distinct items of `from`, sorted (a hash set's order
/// would differ between runs).
fn sample(rng: &mut ChaCha8Rng, from: &[u32], n: usize) -> Vec<u32> {
    if n >= from.len() {
        return from.to_vec();
    }
    let mut picked = HashSet::with_capacity(n);
    while picked.len() < n {
        picked.insert(from[rng.random_range(0..from.len())]);
    }
    let mut picked: Vec<u32> = picked.into_iter().collect();
    picked.sort_unstable();
    picked
}

struct GroupDraft {
    display_name: String,
    description: Option<String>,
    kind: GroupKind,
    nickname: String,
    members: Vec<MemberRef>,
}

fn nickname(name: &str) -> String {
    name.chars().filter(|c| c.is_ascii_alphanumeric()).collect()
}

impl Org {
    /// Generates the organisation for `seed` with `users` users.
    pub fn generate(seed: u64, users: usize) -> Org {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let tenant_id = new_id(&mut rng);
        let client_id = new_id(&mut rng);
        let client_secret = secret(&mut rng);
        let created = Utc
            .with_ymd_and_hms(2019, 3, 4, 9, 0, 0)
            .single()
            .unwrap_or_default();

        let firsts: Vec<&str> = FIRST_NAMES.lines().filter(|l| !l.is_empty()).collect();
        let lasts: Vec<&str> = LAST_NAMES.lines().filter(|l| !l.is_empty()).collect();

        let mut taken: HashMap<String, u32> = HashMap::with_capacity(users);
        let mut user_list = Vec::with_capacity(users);
        for _ in 0..users {
            let given = firsts[rng.random_range(0..firsts.len())];
            let surname = lasts[rng.random_range(0..lasts.len())];
            let region = weighted(&mut rng, VOCABULARY.region_weights.iter().copied());
            let in_region: Vec<usize> = (0..VOCABULARY.countries.len())
                .filter(|&c| VOCABULARY.countries[c].region == region)
                .collect();
            let country = in_region[rng.random_range(0..in_region.len())];
            let city = rng.random_range(0..VOCABULARY.countries[country].cities.len());
            let department = weighted(&mut rng, VOCABULARY.departments.iter().map(|d| d.weight));
            let titles = &VOCABULARY.departments[department].titles;
            let job_title = titles[rng.random_range(0..titles.len())].as_str();
            let guest = rng.random_bool(0.05);
            let account_enabled = !rng.random_bool(0.03);
            let id = new_id(&mut rng);
            let days = rng.random_range(0..2400);

            let base = format!(
                "{}.{}",
                given.to_ascii_lowercase(),
                surname.to_ascii_lowercase()
            );
            let seen = taken.entry(base.clone()).or_insert(0);
            *seen += 1;
            let local = if *seen == 1 {
                base
            } else {
                format!("{base}{seen}")
            };
            let (upn, mail) = if guest {
                let domain = PARTNER_DOMAINS[rng.random_range(0..PARTNER_DOMAINS.len())];
                (
                    format!("{local}_{domain}#EXT#@{INITIAL_DOMAIN}"),
                    format!("{local}@{domain}"),
                )
            } else {
                let upn = format!("{local}@{PRIMARY_DOMAIN}");
                (upn.clone(), upn)
            };
            user_list.push(User {
                id,
                given_name: given.to_string(),
                surname: surname.to_string(),
                display_name: format!("{given} {surname}"),
                user_principal_name: upn,
                mail,
                account_enabled,
                deleted: None,
                guest,
                country,
                city,
                department,
                job_title,
                created: created + Duration::days(days),
            });
        }
        // A few soft-deleted members: present in groups, gone from /users.
        let deleted = (users / 400).max(3);
        // Employees only: they are all in their department's groups, so
        // every soft-deleted user lingers in some member list.
        let employees: Vec<u32> = (0..users as u32)
            .filter(|&i| !user_list[i as usize].guest)
            .collect();
        for at in sample(&mut rng, &employees, deleted) {
            let days = rng.random_range(1..20);
            user_list[at as usize].deleted = Some(Utc::now() - Duration::days(days));
        }

        let device_count = (users / 8).max(12);
        let devices: Vec<Device> = (0..device_count)
            .map(|i| {
                let (prefix, os) = match rng.random_range(0..10) {
                    0..=5 => ("LAPTOP", "Windows"),
                    6 | 7 => ("MAC", "MacMDM"),
                    8 => ("IPHONE", "iOS"),
                    _ => ("PIXEL", "Android"),
                };
                Device {
                    id: new_id(&mut rng),
                    device_id: new_id(&mut rng),
                    display_name: format!(
                        "{prefix}-{:06X}",
                        rng.random_range(0..0xFF_FFFFu32) ^ i as u32
                    ),
                    operating_system: os,
                    account_enabled: !rng.random_bool(0.05),
                }
            })
            .collect();

        let contacts: Vec<Contact> = (0..40)
            .map(|_| {
                let given = firsts[rng.random_range(0..firsts.len())];
                let surname = lasts[rng.random_range(0..lasts.len())];
                let company = PARTNER_DOMAINS[rng.random_range(0..PARTNER_DOMAINS.len())];
                Contact {
                    id: new_id(&mut rng),
                    display_name: format!("{given} {surname}"),
                    given_name: given.to_string(),
                    surname: surname.to_string(),
                    mail: format!(
                        "{}.{}@{company}",
                        given.to_ascii_lowercase(),
                        surname.to_ascii_lowercase()
                    ),
                    company_name: company,
                }
            })
            .collect();

        let drafts = draft_groups(&mut rng, &user_list, &devices, &contacts);
        let mut groups: Vec<Group> = drafts
            .into_iter()
            .map(|d| Group {
                id: new_id(&mut rng),
                display_name: d.display_name,
                description: d.description,
                kind: d.kind,
                mail_nickname: d.nickname,
                members: d.members,
                created: created + Duration::days(rng.random_range(0..2400)),
            })
            .collect();
        // Graph lists objects in no meaningful order; ordering by id mixes
        // departments so the first page is not all Engineering.
        let mut order: Vec<usize> = (0..groups.len()).collect();
        order.sort_by_key(|&i| groups[i].id);
        let mut new_pos = vec![0u32; groups.len()];
        for (pos, &old) in order.iter().enumerate() {
            new_pos[old] = pos as u32;
        }
        let mut slots: Vec<Option<Group>> = groups.drain(..).map(Some).collect();
        for &old in &order {
            if let Some(mut g) = slots[old].take() {
                for m in &mut g.members {
                    if let MemberRef::Group(i) = m {
                        *i = new_pos[*i as usize];
                    }
                }
                g.members.sort_unstable();
                g.members.dedup();
                groups.push(g);
            }
        }

        let enabled_it: Vec<u32> = (0..user_list.len() as u32)
            .filter(|&i| {
                let u = &user_list[i as usize];
                !u.guest && u.account_enabled && u.deleted.is_none()
            })
            .collect();
        let roles = VOCABULARY
            .roles
            .iter()
            .map(
                |RoleTemplate {
                     name,
                     template,
                     holders,
                 }| {
                    let mut members = sample(&mut rng, &enabled_it, *holders);
                    members.sort_unstable();
                    Role {
                        id: new_id(&mut rng),
                        display_name: name,
                        role_template_id: template,
                        members,
                    }
                },
            )
            .collect();

        let mut org = Org {
            tenant_id,
            client_id,
            client_secret,
            display_name: "Contoso",
            created,
            users: user_list,
            groups,
            devices,
            contacts,
            roles,
            index: HashMap::new(),
            changes: Vec::new(),
            delta_epoch: 0,
            mistyped: Vec::new(),
        };
        org.reindex();
        org
    }

    fn reindex(&mut self) {
        let mut index = HashMap::with_capacity(self.users.len() + self.groups.len());
        for (i, u) in self.users.iter().enumerate() {
            index.insert(u.id, ObjectRef::Member(MemberRef::User(i as u32)));
        }
        for (i, g) in self.groups.iter().enumerate() {
            index.insert(g.id, ObjectRef::Member(MemberRef::Group(i as u32)));
        }
        for (i, d) in self.devices.iter().enumerate() {
            index.insert(d.id, ObjectRef::Member(MemberRef::Device(i as u32)));
        }
        for (i, c) in self.contacts.iter().enumerate() {
            index.insert(c.id, ObjectRef::Member(MemberRef::Contact(i as u32)));
        }
        for (i, r) in self.roles.iter().enumerate() {
            index.insert(r.id, ObjectRef::Role(i as u32));
        }
        self.index = index;
    }

    /// The organisation's verified domains, default first.
    pub fn domains(&self) -> [&'static str; 2] {
        [PRIMARY_DOMAIN, INITIAL_DOMAIN]
    }

    pub fn lookup(&self, id: &Uuid) -> Option<ObjectRef> {
        self.index.get(id).copied()
    }

    pub fn object_id(&self, m: MemberRef) -> Uuid {
        match m {
            MemberRef::User(i) => self.users[i as usize].id,
            MemberRef::Group(i) => self.groups[i as usize].id,
            MemberRef::Device(i) => self.devices[i as usize].id,
            MemberRef::Contact(i) => self.contacts[i as usize].id,
        }
    }

    pub fn group_index(&self, id: &Uuid) -> Option<usize> {
        match self.lookup(id) {
            Some(ObjectRef::Member(MemberRef::Group(i))) => Some(i as usize),
            _ => None,
        }
    }

    pub fn user_index(&self, id: &Uuid) -> Option<usize> {
        match self.lookup(id) {
            Some(ObjectRef::Member(MemberRef::User(i))) => Some(i as usize),
            _ => None,
        }
    }

    pub fn group(&self, id: &Uuid) -> Option<&Group> {
        self.group_index(id).map(|i| &self.groups[i])
    }

    pub fn user(&self, id: &Uuid) -> Option<&User> {
        self.user_index(id).map(|i| &self.users[i])
    }

    pub fn group_by_name(&self, name: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.display_name == name)
    }

    /// Every object reachable from the group through nesting, each once,
    /// nested groups included; cycles end.
    pub fn transitive_members(&self, group: usize) -> BTreeSet<MemberRef> {
        flatten(
            group,
            |g| &self.groups[g].members,
            |m| match m {
                MemberRef::Group(i) => Some(i as usize),
                _ => None,
            },
        )
    }

    /// The users of a group, nested groups flattened.
    pub fn transitive_users(&self, group_id: &Uuid) -> Result<Vec<&User>, OrgError> {
        let g = self
            .group_index(group_id)
            .ok_or(OrgError::NoGroup(*group_id))?;
        Ok(self
            .transitive_members(g)
            .into_iter()
            .filter_map(|m| match m {
                MemberRef::User(i) => Some(&self.users[i as usize]),
                _ => None,
            })
            .collect())
    }

    /// Users listed by `/users`: everyone not soft-deleted.
    pub fn listed_users(&self) -> impl Iterator<Item = (usize, &User)> {
        self.users
            .iter()
            .enumerate()
            .filter(|(_, u)| u.deleted.is_none())
    }

    pub fn add_member(&mut self, group: &Uuid, member: &Uuid) -> Result<(), OrgError> {
        let g = self.group_index(group).ok_or(OrgError::NoGroup(*group))?;
        let m = match self.lookup(member) {
            Some(ObjectRef::Member(m)) => m,
            _ => return Err(OrgError::NoObject(*member)),
        };
        if m == MemberRef::Group(g as u32) {
            return Err(OrgError::SelfMember {
                group: *group,
                member: *member,
            });
        }
        let members = &mut self.groups[g].members;
        if let Err(at) = members.binary_search(&m) {
            members.insert(at, m);
            self.changes.push(MembershipChange {
                group: g as u32,
                member: m,
                removed: false,
            });
        }
        Ok(())
    }

    pub fn remove_member(&mut self, group: &Uuid, member: &Uuid) -> Result<(), OrgError> {
        let g = self.group_index(group).ok_or(OrgError::NoGroup(*group))?;
        let m = match self.lookup(member) {
            Some(ObjectRef::Member(m)) => m,
            _ => return Err(OrgError::NoObject(*member)),
        };
        let members = &mut self.groups[g].members;
        if let Ok(at) = members.binary_search(&m) {
            members.remove(at);
            self.changes.push(MembershipChange {
                group: g as u32,
                member: m,
                removed: true,
            });
        }
        Ok(())
    }

    /// How many membership changes there have been: the position a delta
    /// token records.
    pub fn change_count(&self) -> u64 {
        self.changes.len() as u64
    }

    /// Changes after the first `seen`.
    pub fn changes_since(&self, seen: u64) -> &[MembershipChange] {
        self.changes.get(seen as usize..).unwrap_or_default()
    }

    /// Serves `field` of `user` as `value` from now on, whatever its type.
    pub fn mistype_user(
        &mut self,
        user: &Uuid,
        field: &str,
        value: serde_json::Value,
    ) -> Result<(), OrgError> {
        self.user_index(user).ok_or(OrgError::NoUser(*user))?;
        self.mistyped.retain(|(u, f, _)| !(u == user && f == field));
        self.mistyped.push((*user, field.to_owned(), value));
        Ok(())
    }

    /// The value a test set for `field` of `user`, if any.
    pub fn mistyped(&self, user: &Uuid, field: &str) -> Option<&serde_json::Value> {
        self.mistyped
            .iter()
            .find(|(u, f, _)| u == user && f == field)
            .map(|(_, _, v)| v)
    }

    pub fn delta_epoch(&self) -> u32 {
        self.delta_epoch
    }

    /// Makes every delta token handed out so far unusable (Graph: 410 Gone).
    pub fn expire_delta_tokens(&mut self) {
        self.delta_epoch += 1;
    }

    pub fn set_account_enabled(&mut self, user: &Uuid, enabled: bool) -> Result<(), OrgError> {
        let u = self.user_index(user).ok_or(OrgError::NoUser(*user))?;
        self.users[u].account_enabled = enabled;
        Ok(())
    }

    /// Renames a user, as a directory's administrator (or an intruder) may.
    pub fn rename_user(&mut self, user: &Uuid, display_name: &str) -> Result<(), OrgError> {
        let u = self.user_index(user).ok_or(OrgError::NoUser(*user))?;
        self.users[u].display_name = display_name.to_owned();
        Ok(())
    }

    /// Renames a group and replaces its description.
    pub fn rename_group(
        &mut self,
        group: &Uuid,
        display_name: &str,
        description: Option<&str>,
    ) -> Result<(), OrgError> {
        let g = self.group_index(group).ok_or(OrgError::NoGroup(*group))?;
        self.groups[g].display_name = display_name.to_owned();
        self.groups[g].description = description.map(str::to_owned);
        Ok(())
    }

    /// Soft-deletes (or restores) a user: memberships stay, `/users` hides it.
    pub fn set_deleted(&mut self, user: &Uuid, deleted: bool) -> Result<(), OrgError> {
        let u = self.user_index(user).ok_or(OrgError::NoUser(*user))?;
        self.users[u].deleted = deleted.then(Utc::now);
        Ok(())
    }
}

/// Every member reachable from group `start` through nesting (`nested`
/// names the group a member is), each once, nested groups included: cycles
/// end, and through one a group is not its own member.
pub fn flatten<'a, M: Copy + Ord + 'a>(
    start: usize,
    members: impl Fn(usize) -> &'a [M],
    nested: impl Fn(M) -> Option<usize>,
) -> BTreeSet<M> {
    let mut out = BTreeSet::new();
    let mut visited = HashSet::from([start]);
    let mut stack = vec![start];
    while let Some(g) = stack.pop() {
        for &m in members(g) {
            let inner = nested(m);
            if inner != Some(start) {
                out.insert(m);
            }
            if let Some(inner) = inner
                && visited.insert(inner)
            {
                stack.push(inner);
            }
        }
    }
    out
}

fn draft_groups(
    rng: &mut ChaCha8Rng,
    users: &[User],
    devices: &[Device],
    contacts: &[Contact],
) -> Vec<GroupDraft> {
    let mut drafts: Vec<GroupDraft> = Vec::new();
    let push = |drafts: &mut Vec<GroupDraft>,
                name: String,
                description: Option<String>,
                kind: GroupKind,
                members: Vec<MemberRef>|
     -> u32 {
        let nick = nickname(&name);
        drafts.push(GroupDraft {
            display_name: name,
            description,
            kind,
            nickname: nick,
            members,
        });
        (drafts.len() - 1) as u32
    };

    let mut by_bucket: HashMap<(usize, usize), Vec<u32>> = HashMap::new();
    let mut by_department: HashMap<usize, Vec<u32>> = HashMap::new();
    for (i, u) in users.iter().enumerate() {
        if u.guest {
            continue;
        }
        by_bucket
            .entry((u.department, u.country().region))
            .or_default()
            .push(i as u32);
        by_department
            .entry(u.department)
            .or_default()
            .push(i as u32);
    }
    let users_of = |v: Vec<u32>| v.into_iter().map(MemberRef::User).collect::<Vec<_>>();
    let device_ids: Vec<u32> = (0..devices.len() as u32).collect();

    let mut department_all = Vec::new();
    for (d, dept) in VOCABULARY.departments.iter().enumerate() {
        let mut regional = Vec::new();
        for (r, region) in VOCABULARY.regions.iter().enumerate() {
            let bucket = by_bucket.get(&(d, r)).cloned().unwrap_or_default();
            let mut ops_members = users_of(sample(rng, &bucket, bucket.len() * 3 / 10 + 1));
            ops_members.extend(
                sample(rng, &device_ids, 3)
                    .into_iter()
                    .map(MemberRef::Device),
            );
            let ops = push(
                &mut drafts,
                format!("{}-{}-Ops", dept.code, region),
                Some(format!(
                    "{} operations staff and shared devices, {region}",
                    dept.name
                )),
                GroupKind::Security,
                ops_members,
            );
            push(
                &mut drafts,
                format!("{} - {region} Approvers", dept.name),
                Some(format!(
                    "Approvers for {} spend in {region}",
                    dept.name.to_lowercase()
                )),
                GroupKind::Security,
                users_of(sample(rng, &bucket, bucket.len() / 20 + 1)),
            );
            let mut members = users_of(bucket);
            members.push(MemberRef::Group(ops));
            regional.push(push(
                &mut drafts,
                format!("{} {region}", dept.name),
                Some(format!("Everyone in {} in {region}", dept.name)),
                GroupKind::Security,
                members,
            ));
        }
        department_all.push(push(
            &mut drafts,
            format!("{} - All", dept.name),
            Some(format!("All of {}, every region", dept.name)),
            GroupKind::Security,
            regional.into_iter().map(MemberRef::Group).collect(),
        ));
        let staff = by_department.get(&d).cloned().unwrap_or_default();
        for team in &dept.teams {
            let n = rng.random_range(20..60);
            push(
                &mut drafts,
                format!("{} {team}", dept.name),
                Some(format!("{team} team ({})", dept.name)),
                GroupKind::Unified,
                users_of(sample(rng, &staff, n)),
            );
        }
    }
    let dept_all_refs: Vec<MemberRef> = department_all
        .iter()
        .map(|&g| MemberRef::Group(g))
        .collect();
    push(
        &mut drafts,
        "Everyone at Contoso".to_string(),
        Some("All employees of Contoso".to_string()),
        GroupKind::Distribution,
        dept_all_refs,
    );
    for (d, dept) in VOCABULARY.departments.iter().enumerate() {
        let mut members = vec![MemberRef::Group(department_all[d])];
        members.extend(
            sample(rng, &(0..contacts.len() as u32).collect::<Vec<_>>(), 2)
                .into_iter()
                .map(MemberRef::Contact),
        );
        push(
            &mut drafts,
            format!("DL-{}-Announcements", dept.code),
            Some(format!("Announcements for {}", dept.name)),
            GroupKind::Distribution,
            members,
        );
    }

    let employees: Vec<u32> = (0..users.len() as u32)
        .filter(|&i| !users[i as usize].guest)
        .collect();
    let guests: Vec<u32> = (0..users.len() as u32)
        .filter(|&i| users[i as usize].guest)
        .collect();
    for project in &VOCABULARY.projects {
        let n = rng.random_range(5..40);
        let mut members = users_of(sample(rng, &employees, n));
        let guest_count = rng.random_range(0..4);
        members.extend(users_of(sample(rng, &guests, guest_count)));
        if rng.random_bool(0.3) {
            members.push(MemberRef::Contact(
                rng.random_range(0..contacts.len() as u32),
            ));
        }
        push(
            &mut drafts,
            format!("Project {project}"),
            Some(format!("Project {project} working group")),
            GroupKind::Unified,
            members,
        );
    }
    for domain in PARTNER_DOMAINS {
        let company = domain.split('.').next().unwrap_or(domain);
        let mut members: Vec<MemberRef> = guests
            .iter()
            .filter(|&&i| users[i as usize].mail.ends_with(domain))
            .map(|&i| MemberRef::User(i))
            .collect();
        members.extend(
            contacts
                .iter()
                .enumerate()
                .filter(|(_, c)| c.company_name == *domain)
                .map(|(i, _)| MemberRef::Contact(i as u32)),
        );
        let mut name = company.to_string();
        if let Some(first) = name.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        push(
            &mut drafts,
            format!("Partners - {name}"),
            Some(format!("Guests and contacts from {domain}")),
            GroupKind::Security,
            members,
        );
    }
    for region in &VOCABULARY.regions {
        push(
            &mut drafts,
            format!("Devices - {region}"),
            Some(format!("Managed devices in {region}")),
            GroupKind::Security,
            sample(rng, &device_ids, devices.len() / 4)
                .into_iter()
                .map(MemberRef::Device)
                .collect(),
        );
    }
    for d in &mut drafts {
        d.members.sort_unstable();
        d.members.dedup();
    }
    drafts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_org_and_nesting_is_deep() {
        let a = Org::generate(7, 500);
        let b = Org::generate(7, 500);
        assert_eq!(a.tenant_id, b.tenant_id);
        assert_eq!(a.users.len(), 500);
        assert!(
            a.users
                .iter()
                .zip(&b.users)
                .all(|(x, y)| x.id == y.id && x.user_principal_name == y.user_principal_name)
        );
        let everyone = a.group_by_name("Everyone at Contoso").unwrap();
        let g = a.group_index(&everyone.id).unwrap();
        // Everyone > Dept - All > Dept Region > CODE-REGION-Ops: four levels.
        let users = a
            .transitive_members(g)
            .into_iter()
            .filter(|m| matches!(m, MemberRef::User(_)))
            .count();
        let employees = a.users.iter().filter(|u| !u.guest).count();
        assert_eq!(users, employees);
        // Statuses in the proportions the brief asks for.
        let b = Org::generate(42, 2000);
        let share =
            |f: &dyn Fn(&User) -> bool| b.users.iter().filter(|u| f(u)).count() as f64 / 2000.0;
        assert!((0.015..0.05).contains(&share(&|u| !u.account_enabled)));
        assert!((0.03..0.08).contains(&share(&|u| u.guest)));
        let deleted: Vec<&User> = b.users.iter().filter(|u| u.deleted.is_some()).collect();
        assert!(deleted.len() >= 3);
        for d in deleted {
            let member = b
                .groups
                .iter()
                .any(|g| g.members.iter().any(|&m| b.object_id(m) == d.id));
            assert!(member, "{} is in no group", d.display_name);
        }
        let countries: HashSet<usize> = b.users.iter().map(|u| u.country).collect();
        assert!(countries.len() > 15);
        let upns: HashSet<&str> = a
            .users
            .iter()
            .map(|u| u.user_principal_name.as_str())
            .collect();
        assert_eq!(upns.len(), a.users.len());
    }

    #[test]
    fn tiny_orgs_generate() {
        for users in 1..6 {
            let org = Org::generate(users as u64, users);
            assert_eq!(org.users.len(), users);
            assert!(org.groups.len() > 200);
        }
    }

    #[test]
    fn cycles_end_and_a_group_is_not_its_own_member() {
        let mut org = Org::generate(3, 50);
        let a = org.group_by_name("Project Atlas").unwrap().id;
        let b = org.group_by_name("Project Zephyr").unwrap().id;
        org.add_member(&a, &b).unwrap();
        org.add_member(&b, &a).unwrap();
        let ai = org.group_index(&a).unwrap();
        let members = org.transitive_members(ai);
        assert!(!members.contains(&MemberRef::Group(ai as u32)));
        assert!(members.contains(&MemberRef::Group(org.group_index(&b).unwrap() as u32)));
        assert!(org.add_member(&a, &a).is_err());
    }
}
