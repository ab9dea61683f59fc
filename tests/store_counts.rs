//! Issue 13: the hour counts the timeline reads (per instance, country, group, person and
//! kind) say what counting the records says, as pages arrive, as memberships change
//! between them (R-G6), and after a file of schema 7 is migrated.

mod common;

use std::path::PathBuf;

use casbah::domain::filter::{self, Hints, NoNames, Query};
use casbah::domain::{
    Activity, AppKind, Component, GroupId, InstanceId, RemoteGroup, RemoteUser, Secret, SkipCounts,
    UserStatus, UserType,
};
use casbah::store::{ActivityLog, IngestContext, NewInstance, Store};
use proptest::prelude::*;

const MINUTE: i64 = 60_000_000;
const HOUR: i64 = 60 * MINUTE;
/// Records fall in the first ten hours; filters are bound at this "now".
const NOW: i64 = 10 * HOUR;
const APPS: [AppKind; 3] = [AppKind::Okta, AppKind::Box, AppKind::Github];
const ACTORS: [&str; 4] = [
    "ann@corp.com",
    "bob@corp.com",
    "cy@corp.com",
    "dee@partner.com",
];
const TYPES: [(&str, &str); 3] = [
    ("Download file", "download"),
    ("Sign in", "sign-in"),
    ("Share file", "share"),
];
/// Filters decided by kind, one cutting an hour (`after:`), and a person's.
const FILTERS: [&str; 11] = [
    r#"type:"Download file""#,
    "type:download",
    "-type:download",
    "type:download app:okta",
    "action:share",
    "failed",
    "admin",
    r#"-admin type:"Sign in""#,
    "type:download after:330m",
    "source:feed",
    "user:ann@corp.com",
];
/// (from, width, buckets): hours whole in buckets of one and three hours, and half hours,
/// which the counts cannot answer.
const LAYOUTS: [(i64, i64, usize); 3] = [
    (0, HOUR, 12),
    (-3 * HOUR, 3 * HOUR, 6),
    (0, 30 * MINUTE, 22),
];

fn new_instance(app: AppKind) -> NewInstance {
    NewInstance {
        app,
        name: "i".to_string(),
        fields: [("tenant-id", "tenant"), ("client-id", "client")]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .into(),
        endpoint: None,
        components: vec![Component::UsersAndGroups],
    }
}

fn user(email: &str) -> RemoteUser {
    RemoteUser {
        id: format!("id-{email}"),
        display_name: email.to_string(),
        email: email.to_string(),
        status: UserStatus::Active,
        user_type: UserType::Member,
        principal_name: None,
        admin: false,
        org_unit: None,
        on_premises_sync: false,
    }
}

#[derive(Debug, Clone)]
struct Gen {
    instance: usize,
    actor: usize,
    kind: usize,
    admin: bool,
    succeeded: bool,
    /// In quarter hours.
    time: i64,
}

fn gen_activity() -> impl Strategy<Value = Gen> {
    (
        0..3usize,
        0..4usize,
        0..3usize,
        any::<bool>(),
        any::<bool>(),
        0..40i64,
    )
        .prop_map(|(instance, actor, kind, admin, succeeded, time)| Gen {
            instance,
            actor,
            kind,
            admin,
            succeeded,
            time,
        })
}

fn activity(instance: InstanceId, n: usize, g: &Gen) -> Activity {
    let (activity_type, action_type) = TYPES[g.kind];
    Activity {
        id: format!("e{n}"),
        app: APPS[g.instance],
        instance,
        time: g.time * 15 * MINUTE,
        actor: ACTORS[g.actor].to_string(),
        actor_name: ACTORS[g.actor].to_string(),
        activity_type: activity_type.to_string(),
        action_type: action_type.to_string(),
        objects: Vec::new(),
        admin: g.admin,
        impersonated: false,
        succeeded: g.succeeded,
        ip: None,
        address_text: None,
        country: Some(["FR", "US"][g.actor % 2].to_string()),
        isp: None,
        device_type: None,
        user_agent: None,
        source: ["feed", "audit"][g.kind % 2].to_string(),
        groups: Vec::new(),
        office_app: None,
    }
}

fn all_activities(store: &Store) -> Vec<Activity> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let p = store.query_activities(&Query::all(), 500, after).unwrap();
        let full = p.items.len() == 500;
        out.extend(p.items);
        match p.next {
            Some(c) if full => after = Some(c),
            _ => return out,
        }
    }
}

fn queries(groups: &[GroupId]) -> Vec<Query> {
    let parsed = FILTERS.iter().map(|text| {
        filter::parse(text)
            .and_then(|f| f.bind(&NoNames, NOW))
            .unwrap_or_else(|e| panic!("{text}: {e}"))
    });
    let people = ACTORS.iter().map(|a| Hints {
        actors: Some(vec![a.to_string()]),
        ..Hints::default()
    });
    let groups = groups.iter().map(|g| Hints {
        groups: Some(vec![*g]),
        ..Hints::default()
    });
    parsed
        .chain(people.chain(groups).map(Query::with_hints))
        .chain([Query::all()])
        .collect()
}

/// Every query's timeline in every layout equals counting the records it matches.
fn assert_counts_agree(store: &Store, groups: &[GroupId]) -> Result<(), TestCaseError> {
    let everything = all_activities(store);
    for query in queries(groups) {
        for (from, width, buckets) in LAYOUTS {
            let h = ActivityLog::histogram(store, &query, from, width, buckets).unwrap();
            let expected = common::expected_counts(&everything, &query, (from, width, buckets));
            prop_assert_eq!(&h.counts, &expected, "{:?}, width {}", query, width);
        }
    }
    Ok(())
}

struct Org {
    _dir: tempfile::TempDir,
    path: PathBuf,
    store: Store,
    instances: Vec<InstanceId>,
    groups: Vec<GroupId>,
}

fn org() -> Org {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("casbah.redb");
    let store = common::open_store(&path).unwrap();
    let instances: Vec<InstanceId> = APPS
        .iter()
        .map(|app| {
            store
                .add_instance(new_instance(*app), &Secret::new("x"), 0)
                .unwrap()
                .id
        })
        .collect();
    let groups = ["g0", "g1"]
        .iter()
        .map(|id| {
            let remote = RemoteGroup {
                id: id.to_string(),
                display_name: id.to_string(),
                description: None,
                email: None,
                microsoft365: false,
            };
            let g = store
                .create_imported_group(instances[0], &remote, false, 0)
                .unwrap();
            store
                .sync_membership(g.id, &[], SkipCounts::default(), 0)
                .unwrap();
            g.id
        })
        .collect();
    Org {
        _dir: dir,
        path,
        store,
        instances,
        groups,
    }
}

/// Ingests `records` in pages of `page`, each instance's apart; before each page, the
/// groups' members become those `memberships` gives for it (R-G6).
fn ingest(o: &Org, records: &[Gen], page: usize, memberships: &[Vec<Vec<usize>>]) {
    let ctx = IngestContext {
        org_domains: vec!["corp.com".into()],
        ..IngestContext::default()
    };
    for (n, chunk) in records.chunks(page).enumerate() {
        for (g, group) in o.groups.iter().enumerate() {
            let members = &memberships[n % memberships.len()][g];
            let users: Vec<RemoteUser> = members.iter().map(|a| user(ACTORS[*a])).collect();
            o.store
                .sync_membership(*group, &users, SkipCounts::default(), 0)
                .unwrap();
        }
        for (i, inst) in o.instances.iter().enumerate() {
            let batch: Vec<Activity> = chunk
                .iter()
                .enumerate()
                .filter(|(_, g)| g.instance == i)
                .map(|(j, g)| activity(*inst, n * page + j, g))
                .collect();
            o.store.ingest(*inst, "s", batch, "c", &ctx).unwrap();
        }
    }
}

fn members() -> impl Strategy<Value = Vec<Vec<usize>>> {
    proptest::collection::vec(
        proptest::sample::subsequence(vec![0usize, 1, 2, 3], 0..=4),
        2,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    // Issue 13, R-G6: the hours' counts of kinds, people and groups equal counting the
    // records, pages after pages, repeats included; a group counts the records tagged when
    // they were ingested, whoever its members are now.
    #[test]
    fn hour_counts_equal_counting_the_records(
        records in proptest::collection::vec(gen_activity(), 0..80),
        memberships in proptest::collection::vec(members(), 1..4),
        page in 5usize..30,
    ) {
        let o = org();
        ingest(&o, &records, page, &memberships);
        // A scan that reads a page again stores nothing twice, and counts nothing twice.
        ingest(&o, &records[..records.len().min(page)], page, &memberships);
        let everything = all_activities(&o.store);
        prop_assert_eq!(everything.len(), records.len());
        for a in &everything {
            let n: usize = a.id[1..].parse().unwrap();
            let members = &memberships[(n / page) % memberships.len()];
            let tagged: Vec<GroupId> = o
                .groups
                .iter()
                .zip(members)
                .filter(|(_, m)| m.iter().any(|i| ACTORS[*i] == a.actor))
                .map(|(g, _)| *g)
                .collect();
            // R-G1: an outsider joins External as well, which the model leaves out.
            let mut groups: Vec<GroupId> =
                a.groups.iter().filter(|g| o.groups.contains(g)).copied().collect();
            groups.sort();
            prop_assert_eq!(groups, tagged, "{}", a.id);
        }
        let every_group: Vec<GroupId> = o.store.groups().unwrap().iter().map(|g| g.id).collect();
        assert_counts_agree(&o.store, &every_group)?;
    }
}

// Issue 13: a schema-7 file (groups' hour counts in one value per hour, no kinds, no
// people) is counted afresh when opened for writing, its stale values gone.
#[test]
fn a_schema_7_file_gets_counts_of_kinds_and_people() {
    use redb::{ReadableDatabase, ReadableTable, TableDefinition};
    const COUNTS: TableDefinition<(u8, i64), &[u8]> = TableDefinition::new("hour-counts");
    const KINDS: TableDefinition<u64, &[u8]> = TableDefinition::new("activity-kinds");
    let o = org();
    let records: Vec<Gen> = (0..200)
        .map(|i| Gen {
            instance: i % 3,
            actor: i % 4,
            kind: i % 3,
            admin: i % 7 == 0,
            succeeded: i % 5 != 0,
            time: (i as i64 * 7) % 40,
        })
        .collect();
    ingest(
        &o,
        &records,
        50,
        &[vec![vec![0, 1], vec![2]], vec![vec![3], vec![]]],
    );
    let Org {
        _dir,
        path,
        store,
        groups,
        ..
    } = o;
    drop(store);
    {
        // What casbah 7 left: the groups' counts of an hour under what = 2.
        let db = redb::Database::open(&path).unwrap();
        let txn = db.begin_write().unwrap();
        txn.delete_table(COUNTS).unwrap();
        txn.delete_table(KINDS).unwrap();
        let mut old = Vec::new();
        old.extend_from_slice(&groups[0].0.to_be_bytes());
        old.extend_from_slice(&9u64.to_be_bytes());
        txn.open_table(COUNTS)
            .unwrap()
            .insert((2, 0), old.as_slice())
            .unwrap();
        txn.open_table(TableDefinition::<&str, u64>::new("casbah.meta"))
            .unwrap()
            .insert("schema", 7)
            .unwrap();
        txn.commit().unwrap();
    }
    let store = common::open_store(&path).unwrap();
    let result = assert_counts_agree(&store, &groups);
    assert!(result.is_ok(), "{result:?}");
    drop(store);
    let db = redb::Database::open(&path).unwrap();
    let txn = db.begin_read().unwrap();
    let counts = txn.open_table(COUNTS).unwrap();
    assert!(
        counts
            .range((2, i64::MIN)..=(2, i64::MAX))
            .unwrap()
            .next()
            .is_none()
    );
    assert!(
        txn.open_table(KINDS)
            .unwrap()
            .iter()
            .unwrap()
            .next()
            .is_some()
    );
}
