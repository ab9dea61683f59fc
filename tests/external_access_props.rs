//! R-X5 property tests: the indexed evaluator agrees with a brute-force
//! fixpoint evaluator on random small directories with nesting, cycles,
//! pending groups, guests and everyone entries.

use std::collections::{BTreeSet, HashMap};

use casbah::domain::external::{
    Access, AccessIndex, AccessSnapshot, AclEntry, DirectoryUser, EntraGroup, ExternalGroup,
    ExternalGroupId, Member, Principal, Step, StepKind,
};
use proptest::prelude::*;

const TENANT: &str = "tenant";
const USERS: usize = 5;
const ENTRA: usize = 4;
/// External group ids in the pool; only some are defined, the rest are
/// pending when named.
const EXTERNAL: usize = 5;

fn ext_id(k: usize) -> ExternalGroupId {
    ExternalGroupId::parse(&format!("x{k}")).unwrap()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum G {
    Entra(usize),
    Ext(usize),
}

#[derive(Debug, Clone)]
struct World {
    guests: Vec<bool>,
    /// Entra group j: users and nested Entra groups.
    entra_users: Vec<Vec<usize>>,
    entra_groups: Vec<Vec<usize>>,
    /// External group k: defined or not, and members.
    ext_defined: Vec<bool>,
    ext_members: Vec<Vec<M>>,
    acl: Vec<(P, bool)>,
}

#[derive(Debug, Clone, Copy)]
enum M {
    User(usize),
    Entra(usize),
    Ext(usize),
}

#[derive(Debug, Clone, Copy)]
enum P {
    User(usize),
    Entra(usize),
    Ext(usize),
    Everyone(bool),
    EveryoneExceptGuests(bool),
}

fn member() -> impl Strategy<Value = M> {
    prop_oneof![
        (0..USERS).prop_map(M::User),
        (0..ENTRA).prop_map(M::Entra),
        (0..EXTERNAL).prop_map(M::Ext),
    ]
}

fn principal() -> impl Strategy<Value = P> {
    prop_oneof![
        (0..USERS).prop_map(P::User),
        (0..ENTRA).prop_map(P::Entra),
        (0..EXTERNAL).prop_map(P::Ext),
        (0..EXTERNAL).prop_map(P::Ext),
        any::<bool>().prop_map(P::Everyone),
        any::<bool>().prop_map(P::EveryoneExceptGuests),
    ]
}

fn world() -> impl Strategy<Value = World> {
    (
        prop::collection::vec(any::<bool>(), USERS),
        prop::collection::vec(prop::collection::vec(0..USERS, 0..3), ENTRA),
        prop::collection::vec(prop::collection::vec(0..ENTRA, 0..2), ENTRA),
        prop::collection::vec(prop::bool::weighted(0.8), EXTERNAL),
        prop::collection::vec(prop::collection::vec(member(), 0..4), EXTERNAL),
        prop::collection::vec((principal(), any::<bool>()), 0..6),
    )
        .prop_map(
            |(guests, entra_users, entra_groups, ext_defined, ext_members, acl)| World {
                guests,
                entra_users,
                entra_groups,
                ext_defined,
                ext_members,
                acl,
            },
        )
}

impl World {
    fn snapshot(&self) -> AccessSnapshot {
        AccessSnapshot {
            tenant_id: TENANT.into(),
            users: (0..USERS)
                .map(|u| DirectoryUser {
                    id: format!("u{u}"),
                    name: format!("user{u}"),
                    guest: self.guests[u],
                })
                .collect(),
            entra_groups: (0..ENTRA)
                .map(|j| EntraGroup {
                    id: format!("e{j}"),
                    name: format!("Entra {j}"),
                    users: self.entra_users[j]
                        .iter()
                        .map(|u| format!("u{u}"))
                        .collect(),
                    groups: self.entra_groups[j]
                        .iter()
                        .map(|g| format!("e{g}"))
                        .collect(),
                })
                .collect(),
            external_groups: (0..EXTERNAL)
                .filter(|&k| self.ext_defined[k])
                .map(|k| ExternalGroup {
                    id: ext_id(k),
                    display_name: None,
                    description: None,
                    members: self.ext_members[k].iter().map(|m| to_member(*m)).collect(),
                })
                .collect(),
        }
    }

    fn acl(&self) -> Vec<AclEntry> {
        self.acl
            .iter()
            .map(|(p, is_deny)| {
                let principal = match *p {
                    P::User(u) => Principal::User(format!("u{u}")),
                    P::Entra(j) => Principal::EntraGroup(format!("e{j}")),
                    P::Ext(k) => Principal::ExternalGroup(ext_id(k)),
                    P::Everyone(ours) => Principal::Everyone(tenant(ours)),
                    P::EveryoneExceptGuests(ours) => Principal::EveryoneExceptGuests(tenant(ours)),
                };
                if *is_deny {
                    AclEntry::deny(principal)
                } else {
                    AclEntry::grant(principal)
                }
            })
            .collect()
    }

    /// Direct containment, the slow obvious way.
    fn contains(&self, g: G, m: M) -> bool {
        match (g, m) {
            (G::Entra(j), M::User(u)) => self.entra_users[j].contains(&u),
            (G::Entra(j), M::Entra(c)) => self.entra_groups[j].contains(&c),
            (G::Entra(_), M::Ext(_)) => false,
            (G::Ext(k), m) => {
                self.ext_defined[k]
                    && self.ext_members[k].iter().any(|x| match (x, m) {
                        (M::User(a), M::User(b))
                        | (M::Entra(a), M::Entra(b))
                        | (M::Ext(a), M::Ext(b)) => *a == b,
                        _ => false,
                    })
            }
        }
    }

    fn groups() -> impl Iterator<Item = G> {
        (0..ENTRA).map(G::Entra).chain((0..EXTERNAL).map(G::Ext))
    }

    /// Every group containing user `u` at any depth, by fixpoint.
    fn ancestors(&self, u: usize) -> BTreeSet<G> {
        let mut set = BTreeSet::new();
        loop {
            let before = set.len();
            for g in Self::groups() {
                if set.contains(&g) {
                    continue;
                }
                let in_it = self.contains(g, M::User(u))
                    || set.iter().any(|&h| self.contains(g, as_member(h)));
                if in_it {
                    set.insert(g);
                }
            }
            if set.len() == before {
                return set;
            }
        }
    }

    /// Brute force R-X5: (decision, deciding 1-based entry).
    fn decide(&self, u: usize) -> (Access, Option<usize>) {
        let anc = self.ancestors(u);
        let matches = |p: &P| match *p {
            P::User(v) => v == u,
            P::Entra(j) => anc.contains(&G::Entra(j)),
            P::Ext(k) => self.ext_defined[k] && anc.contains(&G::Ext(k)),
            P::Everyone(ours) => ours,
            P::EveryoneExceptGuests(ours) => ours && !self.guests[u],
        };
        let first = |deny: bool| {
            self.acl
                .iter()
                .position(|(p, d)| *d == deny && matches(p))
                .map(|i| i + 1)
        };
        match (first(true), first(false)) {
            (Some(d), _) => (Access::Deny, Some(d)),
            (None, Some(g)) => (Access::Grant, Some(g)),
            (None, None) => (Access::None, None),
        }
    }

    /// Whether the groups above `u` contain a cycle.
    fn cycle_above(&self, u: usize) -> bool {
        self.has_cycle(self.ancestors(u))
    }

    /// Whether the groups below the ACL's (defined) groups contain a cycle.
    fn cycle_below_acl(&self) -> bool {
        let mut set: BTreeSet<G> = self
            .acl
            .iter()
            .filter_map(|(p, _)| match *p {
                P::Entra(j) => Some(G::Entra(j)),
                P::Ext(k) if self.ext_defined[k] => Some(G::Ext(k)),
                _ => None,
            })
            .collect();
        loop {
            let before = set.len();
            for g in Self::groups() {
                if set.iter().any(|&h| self.contains(h, as_member(g))) {
                    set.insert(g);
                }
            }
            if set.len() == before {
                return self.has_cycle(set);
            }
        }
    }

    /// Peels off groups that no other group of the set contains; whatever
    /// is left lies on a cycle.
    fn has_cycle(&self, mut left: BTreeSet<G>) -> bool {
        loop {
            let free: Vec<G> = left
                .iter()
                .copied()
                .filter(|&g| !left.iter().any(|&h| self.contains(h, as_member(g))))
                .collect();
            if free.is_empty() {
                return !left.is_empty();
            }
            for g in free {
                left.remove(&g);
            }
        }
    }

    fn step_is(&self, step: &Step) -> Option<M> {
        let n: usize = step.id.get(1..)?.parse().ok()?;
        match step.kind {
            StepKind::User => Some(M::User(n)),
            StepKind::EntraGroup => Some(M::Entra(n)),
            StepKind::ExternalGroup => Some(M::Ext(n)),
            _ => None,
        }
    }
}

fn tenant(ours: bool) -> String {
    if ours {
        TENANT.into()
    } else {
        "elsewhere".into()
    }
}

fn to_member(m: M) -> Member {
    match m {
        M::User(u) => Member::User(format!("u{u}")),
        M::Entra(j) => Member::EntraGroup(format!("e{j}")),
        M::Ext(k) => Member::ExternalGroup(ext_id(k)),
    }
}

fn as_member(g: G) -> M {
    match g {
        G::Entra(j) => M::Entra(j),
        G::Ext(k) => M::Ext(k),
    }
}

fn as_group(m: M) -> Option<G> {
    match m {
        M::User(_) => None,
        M::Entra(j) => Some(G::Entra(j)),
        M::Ext(k) => Some(G::Ext(k)),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    // R-X5: same decision and deciding entry as the brute force, for every
    // user; the path is a real chain of memberships from the entry down to
    // the user; cycles are reported exactly when there is one above the user.
    #[test]
    fn check_agrees_with_brute_force(w in world()) {
        let index = AccessIndex::build(&w.snapshot());
        let acl = w.acl();
        for u in 0..USERS {
            let d = index.check(&acl, &format!("u{u}")).unwrap();
            let (expected, entry) = w.decide(u);
            prop_assert_eq!(d.decision, expected, "user {}", u);
            prop_assert_eq!(d.reason.as_ref().map(|r| r.entry), entry);
            if let Some(reason) = &d.reason {
                let path = &reason.path;
                prop_assert_eq!(path.last().map(|s| s.id.clone()), Some(format!("u{u}")));
                for pair in path.windows(2) {
                    let (Some(parent), Some(child)) = (w.step_is(&pair[0]), w.step_is(&pair[1])) else {
                        // everyone → user is the only non-membership link.
                        prop_assert!(matches!(pair[0].kind, StepKind::Everyone | StepKind::EveryoneExceptGuests));
                        continue;
                    };
                    let parent = as_group(parent);
                    prop_assert!(parent.is_some_and(|g| w.contains(g, child)), "{:?}", path);
                }
            }
            prop_assert_eq!(!d.cycles.is_empty(), w.cycle_above(u), "user {}", u);
            for cycle in &d.cycles {
                prop_assert_eq!(cycle.0.first(), cycle.0.last());
                for pair in cycle.0.windows(2) {
                    let parent = w.step_is(&pair[0]).and_then(as_group);
                    let child = w.step_is(&pair[1]);
                    prop_assert!(parent.zip(child).is_some_and(|(g, m)| w.contains(g, m)), "{}", cycle);
                }
            }
            let expected_pending: Vec<ExternalGroupId> = {
                let mut v = Vec::new();
                for (p, _) in &w.acl {
                    if let P::Ext(k) = p
                        && !w.ext_defined[*k] && !v.contains(&ext_id(*k)) {
                        v.push(ext_id(*k));
                    }
                }
                v
            };
            prop_assert_eq!(&d.pending, &expected_pending);
        }
    }

    // R-X5: who can see agrees with the brute force user by user, and the
    // counts add up.
    #[test]
    fn who_can_see_agrees_with_brute_force(w in world()) {
        let index = AccessIndex::build(&w.snapshot());
        let who = index.who_can_see(&w.acl());
        let rows: HashMap<&str, (Access, usize)> =
            who.rows.iter().map(|r| (r.user_id, (r.decision, r.entry))).collect();
        let (mut granted, mut denied) = (0, 0);
        for u in 0..USERS {
            let id = format!("u{u}");
            match w.decide(u) {
                (Access::None, _) => prop_assert!(!rows.contains_key(id.as_str())),
                (access, entry) => {
                    prop_assert_eq!(rows.get(id.as_str()).copied(), Some((access, entry.unwrap_or(0))));
                    if access == Access::Grant { granted += 1 } else { denied += 1 }
                }
            }
        }
        prop_assert_eq!((who.granted, who.denied), (granted, denied));
        prop_assert_eq!(!who.cycles.is_empty(), w.cycle_below_acl());
    }

    // R-X5: the items a user sees are those the check grants.
    #[test]
    fn visible_items_agree_with_check(ws in prop::collection::vec(world(), 1..4), u in 0..USERS) {
        use casbah::domain::external::{Item, ItemId};
        let index = AccessIndex::build(&ws[0].snapshot());
        let items: Vec<Item> = ws.iter().enumerate().map(|(i, w)| Item {
            id: ItemId::parse(&format!("item{i}")).unwrap(),
            acl: w.acl(),
        }).collect();
        let user = format!("u{u}");
        let visible: Vec<&str> = index.visible_items(&items, &user).unwrap()
            .iter().map(|(i, _)| i.id.as_str()).collect();
        let expected: Vec<&str> = items.iter()
            .filter(|i| index.check(&i.acl, &user).unwrap().decision == Access::Grant)
            .map(|i| i.id.as_str()).collect();
        prop_assert_eq!(visible, expected);
    }
}
