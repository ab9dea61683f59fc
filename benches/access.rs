//! R-X5 speed: an access check against an ACL that reaches 10,000 nested
//! groups up to 10 deep (target ≤ 1 ms), and "who can see this item" over
//! 100,000 users (target ≤ 100 ms). Prints medians.
//!
//! Run with `cargo bench --bench access`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use casbah::domain::external::{
    Access, AccessIndex, AccessSnapshot, AclEntry, DirectoryUser, EntraGroup, ExternalGroup,
    ExternalGroupId, Member, Principal,
};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const TENANT: &str = "bench-tenant";
const USERS: usize = 100_000;
const ROOTS: usize = 10;
/// Levels 0..DEPTH; each group has two children on the next level, so
/// ROOTS × (2^DEPTH − 1) = 10,230 groups.
const DEPTH: usize = 10;
/// The first levels are external groups; the deeper ones Entra groups
/// (an Entra group cannot contain an external group).
const EXTERNAL_LEVELS: usize = 7;

struct World {
    snapshot: AccessSnapshot,
    acl: Vec<AclEntry>,
    /// A user in one leaf group.
    typical: String,
    /// A user in 500 leaf groups spread over every tree.
    heavy: String,
    groups: usize,
}

fn world() -> World {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let users: Vec<DirectoryUser> = (0..USERS)
        .map(|u| DirectoryUser {
            id: format!("user-{u:06}"),
            name: format!("user{u}@contoso.com"),
            guest: u % 10 == 9,
        })
        .collect();
    // levels[d] = names of the groups on level d, as (is_external, id).
    let mut levels: Vec<Vec<String>> = Vec::new();
    for d in 0..DEPTH {
        let count = ROOTS << d;
        levels.push((0..count).map(|i| format!("L{d}n{i}")).collect());
    }
    let mut external_members: Vec<Vec<Member>> = Vec::new();
    let mut entra: Vec<EntraGroup> = Vec::new();
    for d in 0..DEPTH {
        for (i, _) in levels[d].iter().enumerate() {
            let mut children: Vec<usize> = if d + 1 < DEPTH {
                vec![2 * i, 2 * i + 1]
            } else {
                Vec::new()
            };
            // A cross link to a random group of the next level: a DAG, not
            // a tree, as real directories are.
            if d + 1 < DEPTH && i % 4 == 0 {
                children.push(rng.random_range(0..levels[d + 1].len()));
            }
            let child_external = d + 1 < EXTERNAL_LEVELS;
            if d < EXTERNAL_LEVELS {
                let mut members: Vec<Member> = children
                    .iter()
                    .map(|&c| {
                        let id = &levels[d + 1][c];
                        if child_external {
                            Member::ExternalGroup(gid(id))
                        } else {
                            Member::EntraGroup(id.clone())
                        }
                    })
                    .collect();
                // A few cycles back to a root (R-X5: they must end).
                if d == EXTERNAL_LEVELS - 1 && i % 97 == 0 {
                    members.push(Member::ExternalGroup(gid(&levels[0][i % ROOTS])));
                }
                external_members.push(members);
            } else {
                let users = if d == DEPTH - 1 {
                    // Leaves hold the users, about 20 each.
                    let leaves = levels[d].len();
                    (0..USERS)
                        .skip(i)
                        .step_by(leaves)
                        .map(|u| format!("user-{u:06}"))
                        .collect()
                } else {
                    Vec::new()
                };
                entra.push(EntraGroup {
                    id: levels[d][i].clone(),
                    name: format!("Group {}", levels[d][i]),
                    users,
                    groups: children.iter().map(|&c| levels[d + 1][c].clone()).collect(),
                });
            }
        }
    }
    let external_groups: Vec<ExternalGroup> = levels[..EXTERNAL_LEVELS]
        .iter()
        .flatten()
        .zip(external_members)
        .map(|(id, members)| ExternalGroup {
            id: gid(id),
            display_name: None,
            description: None,
            members,
        })
        .collect();
    // The heavy user sits in 500 leaves.
    let heavy = "user-000000".to_string();
    let leaves = DEPTH - 1;
    let leaf_count = levels[leaves].len();
    for k in 0..500 {
        let leaf = k * leaf_count / 500;
        if let Some(g) = entra.iter_mut().find(|g| g.id == levels[leaves][leaf]) {
            g.users.push(heavy.clone());
        }
    }
    let mut acl: Vec<AclEntry> = (0..ROOTS)
        .map(|r| {
            let p = Principal::ExternalGroup(gid(&levels[0][r]));
            if r < 7 {
                AclEntry::grant(p)
            } else {
                AclEntry::deny(p)
            }
        })
        .collect();
    acl.push(AclEntry::deny(Principal::User("user-000123".into())));
    acl.push(AclEntry::grant(Principal::ExternalGroup(gid(
        "notCreatedYet",
    ))));
    let groups = levels.iter().map(Vec::len).sum();
    World {
        snapshot: AccessSnapshot {
            tenant_id: TENANT.into(),
            users,
            entra_groups: entra,
            external_groups,
        },
        acl,
        typical: format!("user-{:06}", USERS / 2 + 1),
        heavy,
        groups,
    }
}

fn gid(id: &str) -> ExternalGroupId {
    ExternalGroupId::parse(id).unwrap_or_else(|e| panic!("bench id {id}: {e}"))
}

fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn report(what: &str, took: Duration, target: Duration) {
    let verdict = if took <= target { "ok" } else { "OVER TARGET" };
    println!("{what:<58} median {took:>12.3?}  (target ≤ {target:?}: {verdict})");
}

fn main() {
    let w = world();
    println!(
        "{} users, {} groups reached by the ACL ({} deep), {} ACL entries",
        w.snapshot.users.len(),
        w.groups,
        DEPTH,
        w.acl.len()
    );
    let build = median(5, || {
        black_box(AccessIndex::build(black_box(&w.snapshot)));
    });
    println!(
        "{:<58} median {build:>12.3?}  (once per snapshot)",
        "index build"
    );
    let index = AccessIndex::build(&w.snapshot);

    for (name, user) in [
        ("typical user, 1 leaf", &w.typical),
        ("heavy user, 500 leaves", &w.heavy),
    ] {
        let decision = index
            .check(&w.acl, user)
            .unwrap_or_else(|e| panic!("bench user: {e}"));
        assert_ne!(
            decision.decision,
            Access::None,
            "{name}: the ACL reaches every leaf"
        );
        let took = median(1001, || {
            black_box(index.check(black_box(&w.acl), black_box(user)).ok());
        });
        report(
            &format!("access check, {name}"),
            took,
            Duration::from_millis(1),
        );
        println!("    {decision}");
    }

    let who = index.who_can_see(&w.acl);
    assert!(who.granted > 0 && who.denied > 0);
    println!(
        "    who can see: {} granted, {} denied, {} cycles reported, {} pending",
        who.granted,
        who.denied,
        who.cycles.len(),
        who.pending.len()
    );
    let took = median(21, || {
        black_box(index.who_can_see(black_box(&w.acl)));
    });
    report(
        &format!("who can see this item, {USERS} users"),
        took,
        Duration::from_millis(100),
    );
}
