//! The redb store: persistence, indexes, paging, group rules, crash safety, file handling.

mod common;

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use casbah::domain::filter::{Hints, Query};
use casbah::domain::{
    Activity, AppKind, AutoGroup, Component, GroupId, GroupKind, GroupStatus, InstanceId,
    RemoteGroup, RemoteUser, Secret, SkipCounts, UserStatus, UserType,
};
use casbah::store::{
    ActivityCursor, ActivityLog, IMPORT_LIMIT, IngestContext, IngestPipeline, KeyStore,
    NewInstance, ScanKind, Store, StoreError,
};
use proptest::prelude::*;

const HOUR: i64 = 3_600_000_000;
const DAY: i64 = 24 * HOUR;

fn new_instance(app: AppKind, name: &str) -> NewInstance {
    NewInstance {
        app,
        name: name.to_string(),
        fields: [("tenant-id", "tenant"), ("client-id", "client")]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .into(),
        endpoint: None,
        components: vec![Component::UsersAndGroups],
    }
}

fn user(email: &str, name: &str) -> RemoteUser {
    RemoteUser {
        id: format!("id-{email}"),
        display_name: name.to_string(),
        email: email.to_string(),
        status: UserStatus::Active,
        user_type: UserType::Member,
        principal_name: None,
        admin: false,
        org_unit: None,
        on_premises_sync: false,
    }
}

fn remote_group(id: &str) -> RemoteGroup {
    RemoteGroup {
        id: id.to_string(),
        display_name: format!("Group {id}"),
        description: None,
        email: None,
        microsoft365: false,
    }
}

fn activity(instance: InstanceId, app: AppKind, id: &str, time: i64, actor: &str) -> Activity {
    Activity {
        id: id.to_string(),
        app,
        instance,
        time,
        actor: actor.to_string(),
        actor_name: actor.to_string(),
        activity_type: "Download file".to_string(),
        action_type: "download".to_string(),
        objects: Vec::new(),
        admin: false,
        impersonated: false,
        succeeded: true,
        ip: None,
        address_text: None,
        country: Some("FR".to_string()),
        isp: None,
        device_type: None,
        user_agent: None,
        source: "test".to_string(),
        groups: Vec::new(),
        office_app: None,
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
    store: Store,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("casbah.redb");
    let store = common::open_store(&path).expect("open");
    Fixture {
        _dir: dir,
        path,
        store,
    }
}

fn all_activities(store: &Store, query: &Query, page: usize) -> Vec<Activity> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let p = store.query_activities(query, page, after).expect("query");
        let n = p.items.len();
        out.extend(p.items);
        match p.next {
            Some(c) if n == page => after = Some(c),
            _ => return out,
        }
    }
}

fn ids(list: &[Activity]) -> Vec<String> {
    list.iter().map(|a| a.id.clone()).collect()
}

// The service shares one store between blocking tasks.
#[test]
fn store_is_shareable_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Store>();
    let f = fixture();
    let store = std::sync::Arc::new(f.store);
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let store = store.clone();
            std::thread::spawn(move || store.set_setting(&format!("k{i}"), "v"))
        })
        .collect();
    for t in threads {
        t.join().unwrap().unwrap();
    }
    assert_eq!(store.setting("k3").unwrap().as_deref(), Some("v"));
}

// R-X5, R-G8: a complete user scan marks accounts the vendor stopped
// listing as deleted, so a purged account is neither counted active nor
// granted access; other instances and already-deleted accounts are left.
#[test]
fn users_missing_from_a_complete_scan_are_marked_deleted() {
    let f = fixture();
    let s = &f.store;
    let a = s
        .add_instance(new_instance(AppKind::Okta, "okta"), &Secret::new("x"), 0)
        .unwrap();
    let b = s
        .add_instance(new_instance(AppKind::Box, "box"), &Secret::new("y"), 0)
        .unwrap();
    s.upsert_users(
        a.id,
        &[user("ann@corp.com", "Ann"), user("bob@corp.com", "Bob")],
    )
    .unwrap();
    s.upsert_users(b.id, &[user("bob@corp.com", "Bob")])
        .unwrap();
    let seen: HashSet<String> = HashSet::from(["id-ann@corp.com".to_string()]);

    assert_eq!(s.retire_missing_users(a.id, &seen).unwrap(), 1);
    assert_eq!(s.retire_missing_users(a.id, &seen).unwrap(), 0);

    let status = |key: &str, instance: InstanceId| {
        s.person(key, 0)
            .unwrap()
            .accounts
            .into_iter()
            .find(|(i, _)| *i == instance)
            .map(|(_, u)| u.status)
    };
    assert_eq!(status("bob@corp.com", a.id), Some(UserStatus::Deleted));
    assert_eq!(status("bob@corp.com", b.id), Some(UserStatus::Active));
    assert_eq!(status("ann@corp.com", a.id), Some(UserStatus::Active));
}

// R-C2, R-C4, R-A3: every table survives a close and reopen.
#[test]
fn every_table_persists_across_reopen() {
    let f = fixture();
    let s = &f.store;
    let inst = s
        .add_instance(
            new_instance(AppKind::Okta, "Okta prod"),
            &Secret::new("s3cret"),
            10,
        )
        .unwrap();
    s.record_scan(inst.id, ScanKind::Users, 11, Ok(None))
        .unwrap();
    s.record_scan(inst.id, ScanKind::Activities, 12, Err("HTTP 500".into()))
        .unwrap();
    s.upsert_users(
        inst.id,
        &[user("a@corp.com", "Ann"), user("b@corp.com", "Bob")],
    )
    .unwrap();
    let g = s
        .create_imported_group(inst.id, &remote_group("g1"), true, 0)
        .unwrap();
    s.sync_membership(
        g.id,
        &[user("a@corp.com", "Ann")],
        SkipCounts::default(),
        20,
    )
    .unwrap();
    let auto = s
        .ensure_auto_group(&AutoGroup::BoxAdministrator, "Box administrator", 5)
        .unwrap();
    s.ingest(
        inst.id,
        "events",
        vec![activity(inst.id, AppKind::Okta, "e1", 30, "a@corp.com")],
        "cursor-1",
        &IngestContext::default(),
    )
    .unwrap();
    s.save_query("downloads", "action:download").unwrap();
    s.set_setting("scan.users.minutes", "60").unwrap();
    let Fixture { _dir, path, store } = f;
    drop(store);

    let s = common::open_store(&path).unwrap();
    assert_eq!(s.instances().unwrap(), vec![inst.clone()]);
    assert_eq!(s.secret(inst.id).unwrap().expose(), "s3cret");
    let scans = s.scans(inst.id).unwrap();
    assert_eq!(scans.len(), 2);
    assert_eq!(scans[0].0, ScanKind::Users);
    assert_eq!(scans[0].1.last_success, Some(11));
    assert_eq!(scans[1].1.last_error.as_deref(), Some("HTTP 500"));
    assert_eq!(scans[1].1.last_success, None);
    assert_eq!(s.user_count(inst.id).unwrap(), 2);
    let group = s.group(g.id).unwrap();
    assert_eq!(group.status, GroupStatus::Ready);
    assert_eq!(group.member_count, 1);
    assert_eq!(s.group(auto.id).unwrap(), auto);
    assert_eq!(s.members(g.id).unwrap().len(), 1);
    assert_eq!(s.membership_history(g.id).unwrap().len(), 1);
    assert_eq!(
        s.cursor(inst.id, "events").unwrap().as_deref(),
        Some("cursor-1")
    );
    assert_eq!(s.activity_count().unwrap(), 1);
    let page = s.query_activities(&Query::all(), 10, None).unwrap();
    assert_eq!(page.items[0].groups, vec![g.id]);
    assert_eq!(
        s.saved_queries().unwrap(),
        vec![("downloads".to_string(), "action:download".to_string())]
    );
    assert_eq!(
        s.setting("scan.users.minutes").unwrap().as_deref(),
        Some("60")
    );
    assert_eq!(s.setting("missing").unwrap(), None);
    drop(_dir);
}

// R-C2: names are unique within an app, case-insensitively; Azure and 365 allow one instance.
#[test]
fn instance_names_and_single_instance_apps() {
    let f = fixture();
    let s = &f.store;
    let secret = Secret::new("x");
    s.add_instance(new_instance(AppKind::Salesforce, "Sales EU"), &secret, 0)
        .unwrap();
    let dup = s.add_instance(new_instance(AppKind::Salesforce, "sales eu"), &secret, 0);
    assert!(
        matches!(dup, Err(StoreError::DuplicateInstance { .. })),
        "{dup:?}"
    );
    // Another app may reuse the name.
    s.add_instance(new_instance(AppKind::Box, "Sales EU"), &secret, 0)
        .unwrap();
    s.add_instance(new_instance(AppKind::Salesforce, "Sales US"), &secret, 0)
        .unwrap();
    for app in [AppKind::Microsoft365, AppKind::MicrosoftAzure] {
        s.add_instance(new_instance(app, "first"), &secret, 0)
            .unwrap();
        let second = s.add_instance(new_instance(app, "second"), &secret, 0);
        assert!(
            matches!(second, Err(StoreError::SingleInstance { .. })),
            "{second:?}"
        );
    }
    let ids: HashSet<InstanceId> = s.instances().unwrap().iter().map(|i| i.id).collect();
    assert_eq!(ids.len(), 5);
}

// R-C2: removing an instance drops its secret, cursors, users and imported groups; activities stay.
#[test]
fn remove_instance_drops_its_data_but_keeps_history() {
    let f = fixture();
    let s = &f.store;
    let a = s
        .add_instance(new_instance(AppKind::Github, "gh"), &Secret::new("x"), 0)
        .unwrap();
    let b = s
        .add_instance(new_instance(AppKind::Box, "box"), &Secret::new("y"), 0)
        .unwrap();
    s.upsert_users(a.id, &[user("a@corp.com", "Ann")]).unwrap();
    s.upsert_users(b.id, &[user("a@corp.com", "Ann B")])
        .unwrap();
    let g = s
        .create_imported_group(a.id, &remote_group("devs"), false, 0)
        .unwrap();
    s.sync_membership(g.id, &[user("a@corp.com", "Ann")], SkipCounts::default(), 1)
        .unwrap();
    let kept = s
        .create_imported_group(b.id, &remote_group("devs"), false, 0)
        .unwrap();
    s.ingest(
        a.id,
        "audit",
        vec![activity(a.id, AppKind::Github, "1", 5, "a@corp.com")],
        "c",
        &IngestContext::default(),
    )
    .unwrap();
    s.record_scan(a.id, ScanKind::Users, 3, Ok(None)).unwrap();

    s.remove_instance(a.id).unwrap();
    assert!(matches!(s.instance(a.id), Err(StoreError::NotFound(_))));
    assert!(matches!(s.secret(a.id), Err(StoreError::NotFound(_))));
    assert_eq!(s.cursor(a.id, "audit").unwrap(), None);
    assert_eq!(s.user_count(a.id).unwrap(), 0);
    assert_eq!(s.scans(a.id).unwrap(), vec![]);
    assert!(matches!(s.group(g.id), Err(StoreError::NotFound(_))));
    assert_eq!(s.groups().unwrap(), vec![kept]);
    let person = s.person("a@corp.com", 10).unwrap();
    assert_eq!(person.accounts.len(), 1);
    assert_eq!(person.accounts[0].0, b.id);
    assert!(person.groups.is_empty());
    assert_eq!(s.activity_count().unwrap(), 1);
    // An app filter still finds the removed instance's history.
    let q = Query::with_hints(Hints {
        apps: Some(vec![AppKind::Github]),
        ..Hints::default()
    });
    assert_eq!(ids(&all_activities(s, &q, 10)), vec!["1"]);
    assert!(matches!(
        s.remove_instance(a.id),
        Err(StoreError::NotFound(_))
    ));
}

// R-G3: 500 imported groups are accepted, the 501st is refused.
#[test]
fn import_limit_is_500() {
    let f = fixture();
    let s = &f.store;
    let inst = s
        .add_instance(new_instance(AppKind::Okta, "okta"), &Secret::new("x"), 0)
        .unwrap();
    // Automatic groups do not count towards the limit.
    s.ensure_auto_group(&AutoGroup::External, "External", 0)
        .unwrap();
    for i in 0..IMPORT_LIMIT {
        s.create_imported_group(inst.id, &remote_group(&format!("g{i}")), false, 0)
            .unwrap();
    }
    let over = s.create_imported_group(inst.id, &remote_group("one-too-many"), false, 0);
    assert!(matches!(over, Err(StoreError::ImportLimit)), "{over:?}");
    assert_eq!(s.groups().unwrap().len(), IMPORT_LIMIT + 1);
    // Removing one frees a place.
    let first = s
        .groups()
        .unwrap()
        .into_iter()
        .find(|g| g.name == "Group g0")
        .unwrap();
    s.remove_group(first.id).unwrap();
    s.create_imported_group(inst.id, &remote_group("one-too-many"), false, 0)
        .unwrap();
}

// R-G2: the same remote group cannot be imported twice; R-G5: it is Importing until synced.
#[test]
fn second_import_of_same_group_is_refused() {
    let f = fixture();
    let s = &f.store;
    let inst = s
        .add_instance(new_instance(AppKind::Okta, "okta"), &Secret::new("x"), 0)
        .unwrap();
    let g = s
        .create_imported_group(inst.id, &remote_group("g"), true, 7)
        .unwrap();
    assert_eq!(g.status, GroupStatus::Importing);
    assert!(g.notify);
    assert_eq!(g.imported_at, 7);
    assert_eq!(
        g.kind,
        GroupKind::Imported {
            instance: inst.id,
            remote_id: "g".into()
        }
    );
    let again = s.create_imported_group(inst.id, &remote_group("g"), false, 8);
    assert!(
        matches!(again, Err(StoreError::AlreadyImported { .. })),
        "{again:?}"
    );
    s.set_group_status(
        g.id,
        GroupStatus::SyncFailed {
            message: "HTTP 403".into(),
        },
    )
    .unwrap();
    assert!(matches!(
        s.group(g.id).unwrap().status,
        GroupStatus::SyncFailed { .. }
    ));
}

// R-G6, R-G8, R-G1: a guest signs in with a UPN that is not their mail. Their
// activities are filed under the mail, so they carry the guest's groups, join
// their account, and make them External by their real domain.
#[test]
fn activities_by_a_sign_in_name_join_the_account_by_mail() {
    let f = fixture();
    let s = &f.store;
    let inst = s
        .add_instance(
            new_instance(AppKind::Microsoft365, "m365"),
            &Secret::new("x"),
            0,
        )
        .unwrap();
    let upn = "bo_fabrikam.com#ext#@corp.com";
    let mut bo = user("bo@fabrikam.com", "Bo");
    bo.principal_name = Some("Bo_fabrikam.com#EXT#@corp.com".to_string());
    s.upsert_users(inst.id, std::slice::from_ref(&bo)).unwrap();
    let g = s
        .create_imported_group(inst.id, &remote_group("partners"), false, 0)
        .unwrap();
    s.sync_membership(g.id, std::slice::from_ref(&bo), SkipCounts::default(), 10)
        .unwrap();
    let ctx = IngestContext {
        org_domains: vec!["corp.com".into()],
        ..IngestContext::default()
    };
    let signin = activity(inst.id, AppKind::Microsoft365, "s1", 100, upn);
    s.ingest(inst.id, "signins", vec![signin], "c", &ctx)
        .unwrap();

    let stored = all_activities(s, &Query::all(), 10);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].actor, "bo@fabrikam.com");
    assert!(stored[0].groups.contains(&g.id), "{:?}", stored[0].groups);
    let person = s.person(upn, 200).unwrap();
    assert_eq!(person.key, "bo@fabrikam.com");
    assert_eq!(person.accounts.len(), 1);
    assert_eq!(person.by_app, vec![(AppKind::Microsoft365, 1)]);
    let external = s
        .groups()
        .unwrap()
        .into_iter()
        .find(|g| g.kind == GroupKind::Automatic(AutoGroup::External))
        .expect("External");
    let members = s.members(external.id).unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].key, "bo@fabrikam.com");

    // A guest synced after activities were first filed is mapped as well.
    let mut cy = user("cy@fabrikam.com", "Cy");
    cy.principal_name = Some("cy_fabrikam.com#EXT#@corp.com".to_string());
    s.upsert_users(inst.id, &[cy]).unwrap();
    let later = activity(
        inst.id,
        AppKind::Microsoft365,
        "s2",
        300,
        "cy_fabrikam.com#ext#@corp.com",
    );
    s.ingest(inst.id, "signins", vec![later], "c2", &ctx)
        .unwrap();
    let actors: Vec<String> = all_activities(s, &Query::all(), 10)
        .into_iter()
        .map(|a| a.actor)
        .collect();
    assert_eq!(actors, ["cy@fabrikam.com", "bo@fabrikam.com"]);
}

// R-G6: tags only for activities after the import, by members, once the group is usable;
// automatic groups always.
#[test]
fn tagging_follows_import_time_and_membership() {
    let f = fixture();
    let s = &f.store;
    let inst = s
        .add_instance(new_instance(AppKind::Okta, "okta"), &Secret::new("x"), 0)
        .unwrap();
    let imported_at = 1_000;
    let g = s
        .create_imported_group(inst.id, &remote_group("g"), false, imported_at)
        .unwrap();
    let ctx = IngestContext::default();
    // While Importing (R-G5) nothing is tagged yet, even after imported_at.
    s.upsert_users(inst.id, &[user("ann@corp.com", "Ann")])
        .unwrap();
    s.ingest(
        inst.id,
        "s",
        vec![activity(
            inst.id,
            AppKind::Okta,
            "while-importing",
            1_500,
            "ann@corp.com",
        )],
        "c0",
        &ctx,
    )
    .unwrap();
    s.sync_membership(
        g.id,
        &[user("ann@corp.com", "Ann")],
        SkipCounts::default(),
        2_000,
    )
    .unwrap();
    let admin = s
        .ensure_auto_group(
            &AutoGroup::Microsoft365Administrator,
            "Microsoft 365 administrator",
            5_000,
        )
        .unwrap();
    // Automatic membership arrives through the same reverse index as imported ones.
    s.sync_membership(
        admin.id,
        &[user("bob@corp.com", "Bob")],
        SkipCounts::default(),
        5_000,
    )
    .unwrap();
    s.ingest(
        inst.id,
        "s",
        vec![
            activity(inst.id, AppKind::Okta, "before-import", 500, "ann@corp.com"),
            activity(
                inst.id,
                AppKind::Okta,
                "after-import",
                3_000,
                "ann@corp.com",
            ),
            activity(inst.id, AppKind::Okta, "not-member", 3_000, "carl@corp.com"),
            activity(inst.id, AppKind::Okta, "auto-old", 10, "bob@corp.com"),
        ],
        "c1",
        &ctx,
    )
    .unwrap();
    let all = all_activities(s, &Query::all(), 100);
    let tags: HashMap<String, Vec<GroupId>> = all
        .iter()
        .map(|a| (a.id.clone(), a.groups.clone()))
        .collect();
    assert_eq!(tags["while-importing"], vec![]);
    assert_eq!(tags["before-import"], vec![]);
    assert_eq!(tags["after-import"], vec![g.id]);
    assert_eq!(tags["not-member"], vec![]);
    assert_eq!(tags["auto-old"], vec![admin.id]);
    // Leaving the group stops tagging; old tags stay (no retroactive change).
    s.sync_membership(g.id, &[], SkipCounts::default(), 4_000)
        .unwrap();
    s.ingest(
        inst.id,
        "s",
        vec![activity(
            inst.id,
            AppKind::Okta,
            "after-leaving",
            4_500,
            "ann@corp.com",
        )],
        "c2",
        &ctx,
    )
    .unwrap();
    let by_group = Query::with_hints(Hints {
        groups: Some(vec![g.id]),
        ..Hints::default()
    });
    assert_eq!(ids(&all_activities(s, &by_group, 10)), vec!["after-import"]);
}

// R-G7: each sync records who joined and who left, with the time.
#[test]
fn sync_records_joins_and_leaves() {
    let f = fixture();
    let s = &f.store;
    let inst = s
        .add_instance(new_instance(AppKind::Okta, "okta"), &Secret::new("x"), 0)
        .unwrap();
    let g = s
        .create_imported_group(inst.id, &remote_group("g"), false, 0)
        .unwrap();
    let skipped = SkipCounts {
        suspended: 7,
        disabled: 2,
        deleted: 0,
        other: [("locked out".to_string(), 1)].into(),
    };
    let d1 = s
        .sync_membership(
            g.id,
            &[user("Ann@corp.com", "Ann"), user("bob@corp.com", "Bob")],
            skipped.clone(),
            100,
        )
        .unwrap();
    assert_eq!(d1.joined, vec!["ann@corp.com", "bob@corp.com"]);
    assert!(d1.left.is_empty());
    let group = s.group(g.id).unwrap();
    assert_eq!(group.skipped, skipped);
    assert_eq!(group.last_sync, Some(100));
    assert_eq!(group.member_count, 2);
    let d2 = s
        .sync_membership(
            g.id,
            &[user("bob@corp.com", "Bob"), user("cy@corp.com", "Cy")],
            SkipCounts::default(),
            200,
        )
        .unwrap();
    assert_eq!(d2.joined, vec!["cy@corp.com"]);
    assert_eq!(d2.left, vec!["ann@corp.com"]);
    let history: Vec<(String, bool, i64)> = s
        .membership_history(g.id)
        .unwrap()
        .into_iter()
        .map(|c| (c.user, c.joined, c.at))
        .collect();
    assert_eq!(
        history,
        vec![
            ("ann@corp.com".into(), true, 100),
            ("bob@corp.com".into(), true, 100),
            ("ann@corp.com".into(), false, 200),
            ("cy@corp.com".into(), true, 200),
        ]
    );
    let members = s.members(g.id).unwrap();
    let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, vec!["Bob", "Cy"]);
    // Bob kept his first join time.
    assert_eq!(members[0].joined_at, 100);
    assert_eq!(members[1].joined_at, 200);
    let unchanged = s
        .sync_membership(
            g.id,
            &[user("bob@corp.com", "Bob"), user("cy@corp.com", "Cy")],
            SkipCounts::default(),
            300,
        )
        .unwrap();
    assert_eq!(unchanged, Default::default());
    assert_eq!(s.membership_history(g.id).unwrap().len(), 4);
}

// R-G1: actors outside the organisation's domains join External and are tagged with it.
#[test]
fn external_actors_join_the_external_group() {
    let f = fixture();
    let s = &f.store;
    let inst = s
        .add_instance(new_instance(AppKind::Box, "box"), &Secret::new("x"), 0)
        .unwrap();
    let ctx = IngestContext {
        org_domains: vec!["corp.com".into()],
        ..IngestContext::default()
    };
    // A first page without outsiders: External does not exist yet.
    s.ingest(
        inst.id,
        "events",
        vec![activity(inst.id, AppKind::Box, "0", 50, "ann@corp.com")],
        "c0",
        &ctx,
    )
    .unwrap();
    s.ingest(
        inst.id,
        "events",
        vec![
            activity(inst.id, AppKind::Box, "1", 100, "ann@corp.com"),
            activity(inst.id, AppKind::Box, "2", 200, "eve@partner.org"),
            activity(inst.id, AppKind::Box, "3", 150, "eve@partner.org"),
            // An Entra guest signs in with a UPN in the organisation's domain.
            activity(
                inst.id,
                AppKind::Box,
                "5",
                250,
                "bo_fabrikam.com#EXT#@corp.com",
            ),
        ],
        "c",
        &ctx,
    )
    .unwrap();
    let external = s
        .groups()
        .unwrap()
        .into_iter()
        .find(|g| g.kind == GroupKind::Automatic(AutoGroup::External))
        .expect("External created");
    let mut members = s.members(external.id).unwrap();
    members.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(members.len(), 2);
    assert_eq!(members[0].key, "bo_fabrikam.com#EXT#@corp.com");
    assert_eq!(members[1].key, "eve@partner.org");
    assert_eq!(members[1].joined_at, 150);
    assert_eq!(members[1].last_activity, Some(200));
    assert_eq!(s.group(external.id).unwrap().member_count, 2);
    let q = Query::with_hints(Hints {
        groups: Some(vec![external.id]),
        ..Hints::default()
    });
    assert_eq!(ids(&all_activities(s, &q, 10)), vec!["5", "2", "3"]);
    // Unknown domains: nobody is external.
    s.ingest(
        inst.id,
        "events",
        vec![activity(
            inst.id,
            AppKind::Box,
            "4",
            300,
            "mallory@else.net",
        )],
        "c2",
        &IngestContext::default(),
    )
    .unwrap();
    assert_eq!(s.members(external.id).unwrap().len(), 2);
    assert_eq!(s.membership_history(external.id).unwrap().len(), 2);
}

// R-G8: a person across apps: accounts, groups, apps, counts and the last 30 days.
#[test]
fn person_aggregates_across_instances() {
    let f = fixture();
    let s = &f.store;
    let okta = s
        .add_instance(new_instance(AppKind::Okta, "okta"), &Secret::new("x"), 0)
        .unwrap();
    let gh = s
        .add_instance(new_instance(AppKind::Github, "gh"), &Secret::new("x"), 0)
        .unwrap();
    s.upsert_users(okta.id, &[user("ann@corp.com", "Ann")])
        .unwrap();
    s.upsert_users(gh.id, &[user("ANN@corp.com", "ann-gh")])
        .unwrap();
    let g = s
        .create_imported_group(okta.id, &remote_group("g"), false, 0)
        .unwrap();
    s.sync_membership(
        g.id,
        &[user("ann@corp.com", "Ann")],
        SkipCounts::default(),
        0,
    )
    .unwrap();
    let now = 100 * DAY + 12 * HOUR;
    let mut sign_in = activity(okta.id, AppKind::Okta, "o1", now - HOUR, "ann@corp.com");
    sign_in.activity_type = "Sign in".into();
    s.ingest(
        okta.id,
        "s",
        vec![
            sign_in,
            activity(okta.id, AppKind::Okta, "o2", now - 29 * DAY, "ann@corp.com"),
            activity(okta.id, AppKind::Okta, "o3", now - 40 * DAY, "ann@corp.com"),
            activity(okta.id, AppKind::Okta, "other", now, "bob@corp.com"),
        ],
        "c",
        &IngestContext::default(),
    )
    .unwrap();
    s.ingest(
        gh.id,
        "s",
        vec![activity(
            gh.id,
            AppKind::Github,
            "g1",
            now - 2 * DAY,
            "ann@corp.com",
        )],
        "c",
        &IngestContext::default(),
    )
    .unwrap();
    let p = s.person("ann@corp.com", now).unwrap();
    assert_eq!(p.accounts.len(), 2);
    assert_eq!(p.groups, vec![g.id]);
    assert_eq!(p.apps, vec![AppKind::Github, AppKind::Okta]);
    assert_eq!(
        p.by_type,
        vec![("Download file".to_string(), 3), ("Sign in".to_string(), 1)]
    );
    assert_eq!(p.by_app, vec![(AppKind::Okta, 3), (AppKind::Github, 1)]);
    assert_eq!(p.daily.len(), 30);
    assert_eq!(p.daily[29], 1);
    assert_eq!(p.daily[27], 1);
    assert_eq!(p.daily[0], 1);
    assert_eq!(p.daily.iter().sum::<u64>(), 3);
    assert_eq!(p.last_activity, Some(now - HOUR));
    let members = s.members(g.id).unwrap();
    assert_eq!(members[0].last_activity, Some(now - HOUR));
}

// R-G8: each member's last activity, for groups both small and large (two read paths).
#[test]
fn members_show_their_last_activity() {
    let f = fixture();
    let s = &f.store;
    let inst = s
        .add_instance(new_instance(AppKind::Okta, "okta"), &Secret::new("x"), 0)
        .unwrap();
    let people: Vec<RemoteUser> = (0..20)
        .map(|i| user(&format!("p{i:02}@corp.com"), &format!("Person {i:02}")))
        .collect();
    let big = s
        .create_imported_group(inst.id, &remote_group("big"), false, 0)
        .unwrap();
    s.sync_membership(big.id, &people, SkipCounts::default(), 0)
        .unwrap();
    let small = s
        .create_imported_group(inst.id, &remote_group("small"), false, 0)
        .unwrap();
    s.sync_membership(small.id, &people[..3], SkipCounts::default(), 0)
        .unwrap();
    // Person i (for even i) acts at hours i and i + 30; odd people never act.
    let mut batch = Vec::new();
    let mut expected = HashMap::new();
    for i in (0..20).step_by(2) {
        for h in [i as i64, i as i64 + 30] {
            let key = format!("p{i:02}@corp.com");
            batch.push(activity(
                inst.id,
                AppKind::Okta,
                &format!("{i}-{h}"),
                h * HOUR + 5,
                &key,
            ));
            expected.insert(key, h * HOUR + 5);
        }
    }
    s.ingest(inst.id, "s", batch, "c", &IngestContext::default())
        .unwrap();
    for group in [big.id, small.id] {
        for m in s.members(group).unwrap() {
            assert_eq!(m.last_activity, expected.get(&m.key).copied(), "{}", m.key);
        }
    }
    assert_eq!(s.members(big.id).unwrap().len(), 20);
    assert_eq!(s.members(small.id).unwrap()[0].name, "Person 00");
}

// DESIGN §3 Durability: a dropped store loses nothing, and a resumed ingest duplicates nothing.
#[test]
fn reingest_after_reopen_inserts_nothing() {
    let f = fixture();
    let inst = f
        .store
        .add_instance(new_instance(AppKind::Okta, "okta"), &Secret::new("x"), 0)
        .unwrap();
    let batch: Vec<Activity> = (0..50)
        .map(|i| activity(inst.id, AppKind::Okta, &format!("e{i}"), i, "a@corp.com"))
        .collect();
    let mut with_repeat = batch.clone();
    with_repeat.push(batch[3].clone());
    let r = f
        .store
        .ingest(
            inst.id,
            "s",
            with_repeat,
            "after-50",
            &IngestContext::default(),
        )
        .unwrap();
    assert_eq!((r.inserted, r.duplicates), (50, 1));
    let Fixture { _dir, path, store } = f;
    drop(store);
    let store = common::open_store(&path).unwrap();
    let r = store
        .ingest(inst.id, "s", batch, "after-50", &IngestContext::default())
        .unwrap();
    assert_eq!((r.inserted, r.duplicates), (0, 50));
    assert_eq!(store.activity_count().unwrap(), 50);
    drop(_dir);
}

fn crash_page(inst: InstanceId, page: i64) -> Vec<Activity> {
    (0..PAGE)
        .map(|i| {
            activity(
                inst,
                AppKind::Okta,
                &format!("p{page}-{i}"),
                page * 1000 + i,
                "a@corp.com",
            )
        })
        .collect()
}

// The child half of `killed_ingest_keeps_committed_pages`: ingests pages until killed,
// one call at a time or through the pipeline (CASBAH_STORE_CRASH_PIPELINE).
#[test]
fn crash_child_ingest() {
    let Ok(path) = std::env::var("CASBAH_STORE_CRASH_CHILD") else {
        return;
    };
    let store = Arc::new(common::open_store(Path::new(&path)).unwrap());
    let inst = store.instances().unwrap()[0].id;
    let ctx = IngestContext::default();
    let mut pipeline = std::env::var_os("CASBAH_STORE_CRASH_PIPELINE")
        .map(|_| IngestPipeline::new(Arc::clone(&store)));
    for page in 0.. {
        let batch = crash_page(inst, page);
        let cursor = format!("page-{page}");
        match &mut pipeline {
            None => {
                store.ingest(inst, "s", batch, &cursor, &ctx).unwrap();
                println!("committed {page}");
            }
            Some(pipeline) => {
                let prepared = store.prepare(inst, "s", batch, &cursor, &ctx).unwrap();
                if pipeline.push(prepared).unwrap().is_some() {
                    println!("committed {}", page - 1);
                }
            }
        }
    }
}

const PAGE: i64 = 200;

// DESIGN §3 Durability: SIGKILL during ingestion leaves a file that opens, with every
// committed page and its cursor, and nothing duplicated on resume.
#[test]
fn killed_ingest_keeps_committed_pages() {
    killed_ingest(false);
}

// DESIGN §3 Durability, issue 2: the same with the pipeline, killed while a page commits
// and the next is being prepared: each page is all or nothing, with its own cursor.
#[test]
fn killed_pipelined_ingest_keeps_committed_pages() {
    killed_ingest(true);
}

fn killed_ingest(pipelined: bool) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("casbah.redb");
    let inst = {
        let s = common::open_store(&path).unwrap();
        s.add_instance(new_instance(AppKind::Okta, "okta"), &Secret::new("x"), 0)
            .unwrap()
            .id
    };
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash_child_ingest",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("CASBAH_STORE_CRASH_CHILD", &path)
        .envs(pipelined.then_some(("CASBAH_STORE_CRASH_PIPELINE", "1")))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut last_seen = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(n) = line.strip_prefix("committed ") {
            let n: i64 = n.trim().parse().unwrap();
            last_seen = Some(n);
            if n >= 5 {
                child.kill().unwrap(); // SIGKILL
                break;
            }
        }
    }
    child.wait().unwrap();
    let last_seen = last_seen.expect("the child committed pages");
    // The file needs a repair: `open` checks it on a scratch copy first.
    assert!(matches!(
        redb::ReadOnlyDatabase::open(&path).map(|_| ()),
        Err(redb::DatabaseError::RepairAborted)
    ));

    let store = common::open_store(&path).unwrap();
    let count = store.activity_count().unwrap() as i64;
    assert_eq!(count % PAGE, 0, "a page is all or nothing");
    let pages = count / PAGE;
    assert!(pages > last_seen, "{pages} pages, saw {last_seen}");
    assert_eq!(
        store.cursor(inst, "s").unwrap(),
        Some(format!("page-{}", pages - 1))
    );
    assert_eq!(
        all_activities(&store, &Query::all(), 500).len() as i64,
        count
    );
    let last = pages - 1;
    let resume = crash_page(inst, last);
    let r = store
        .ingest(inst, "s", resume, "again", &IngestContext::default())
        .unwrap();
    assert_eq!(r.inserted, 0);
}

// DESIGN §3 Secrets: the file is 0600 and a folder casbah creates is 0700.
#[test]
fn file_and_folder_permissions() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("state").join("casbah");
    let path = folder.join("casbah.redb");
    drop(common::open_store(&path).unwrap());
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&folder), 0o700);
    assert_eq!(mode(&path), 0o600);
    // A file someone loosened is tightened again on open.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    drop(common::open_store(&path).unwrap());
    assert_eq!(mode(&path), 0o600);
}

// One casbah per database: a second open, in this process or another, is refused at once.
#[test]
fn second_open_is_in_use() {
    let f = fixture();
    let second = common::open_store(&f.path);
    assert!(
        matches!(second, Err(StoreError::InUse)),
        "{:?}",
        second.err()
    );
    drop(f.store);
    assert!(common::open_store(&f.path).is_ok());
}

#[test]
fn in_use_child() {
    let Ok(path) = std::env::var("CASBAH_STORE_IN_USE_CHILD") else {
        return;
    };
    match common::open_store(Path::new(&path)) {
        Err(StoreError::InUse) => println!("in-use"),
        other => println!("unexpected: {:?}", other.err()),
    }
}

// One casbah per database: another process gets InUse.
#[test]
fn second_process_is_in_use() {
    let f = fixture();
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "in_use_child", "--nocapture", "--test-threads=1"])
        .env("CASBAH_STORE_IN_USE_CHILD", &f.path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("in-use"), "{stdout}");
}

// A file that is not casbah's is refused and left byte for byte as it was; one that
// starts as a redb file and then is not one is damaged (issue 10).
#[test]
fn garbage_file_is_not_casbah_and_untouched() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("text", b"hello, this is not a database\n".repeat(500)),
        ("short", b"redb".to_vec()),
        ("magic-then-junk", {
            let mut v = vec![b'r', b'e', b'd', b'b', 0x1A, 0x0A, 0xA9, 0x0D, 0x0A];
            v.extend((0..20_000u32).map(|i| (i * 7919 % 251) as u8));
            v
        }),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        let r = common::open_store(&path);
        let refused = match name {
            "magic-then-junk" => matches!(r, Err(StoreError::Damaged { .. })),
            _ => matches!(r, Err(StoreError::NotCasbah { .. })),
        };
        assert!(refused, "{name}: {:?}", r.err());
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "{name} changed");
    }
}

// Issue 10: a damaged casbah file (its header overwritten) is refused as damaged and left
// as it is.
#[test]
fn damaged_casbah_file_is_refused_and_untouched() {
    let f = fixture();
    let Fixture { _dir, path, store } = f;
    drop(store);
    let mut bytes = std::fs::read(&path).unwrap();
    for (i, b) in bytes.iter_mut().enumerate().skip(9).take(200) {
        *b = (i * 37 % 251) as u8;
    }
    std::fs::write(&path, &bytes).unwrap();
    for r in [common::open_store(&path), Store::open_read_only(&path)] {
        assert!(
            matches!(r, Err(StoreError::Damaged { .. })),
            "{:?}",
            r.err()
        );
    }
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    drop(_dir);
}

/// A closed database of 3,000 activities (ids `needle-N`) spread over many pages.
fn database_of_activities() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("casbah.redb");
    let store = common::open_store(&path).unwrap();
    let inst = store
        .add_instance(new_instance(AppKind::Okta, "okta"), &Secret::new("x"), 0)
        .unwrap()
        .id;
    for page in 0..6 {
        let batch = (0..500)
            .map(|i| {
                let n = page * 500 + i;
                activity(inst, AppKind::Okta, &format!("needle-{n}"), n, "a@corp.com")
            })
            .collect();
        let cursor = format!("page-{page}");
        store
            .ingest(inst, "s", batch, &cursor, &IngestContext::default())
            .unwrap();
    }
    (dir, path)
}

// Issue 10: a damaged page inside the database (not its header). A read-only open
// succeeds, since the pages it reads are sound; the read that meets the page gets one
// error naming the damage, not a panic; a write is refused, and an open for writing is
// refused at once by the integrity check. Nothing ever writes to the file.
#[test]
fn a_damaged_page_is_one_error_and_never_written() {
    let (_dir, path) = database_of_activities();
    assert!(common::damage_pages_holding(&path, "needle-1500") >= 1);
    let damaged = std::fs::read(&path).unwrap();

    let store = Store::open_read_only(&path).expect("the pages an open reads are sound");
    let read = store.guard(|s| s.query_activities(&Query::all(), 10_000, None));
    let Err(StoreError::Damaged { detail, .. }) = &read else {
        panic!("{:?}", read.map(|p| p.items.len()));
    };
    assert!(detail.contains("page"), "says where: {detail}");
    let message = read.unwrap_err().to_string();
    assert!(message.contains("casbah db check"), "{message}");
    assert_eq!(message.lines().count(), 1);
    // Confirmed once, known after: the next read and `check` say the same.
    assert!(matches!(
        store.guard(|s| s.activity_count()),
        Ok(3000) | Err(StoreError::Damaged { .. })
    ));
    assert!(matches!(store.check(), Err(StoreError::Damaged { .. })));
    drop(store);

    let writer = common::open_store(&path);
    assert!(
        matches!(writer, Err(StoreError::Damaged { .. })),
        "{:?}",
        writer.err()
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        damaged,
        "nothing was written"
    );
}

// Issue 10: damage that appears while the database is open for writing: once found (here
// by the check; redb's debug builds read every page at open, so a read would meet the
// cached page), every write is refused, and closing writes nothing.
#[test]
fn damage_found_while_writing_stops_every_write() {
    let (_dir, path) = database_of_activities();
    let store = common::open_store(&path).unwrap();
    assert!(common::damage_pages_holding(&path, "needle-1500") >= 1);
    let damaged = std::fs::read(&path).unwrap();

    let check = store.check();
    assert!(
        matches!(check, Err(StoreError::Damaged { .. })),
        "{check:?}"
    );
    let write = store.guard(|s| s.save_query("after", "app:okta"));
    assert!(
        matches!(write, Err(StoreError::Damaged { .. })),
        "{write:?}"
    );
    drop(store);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        damaged,
        "nothing was written"
    );
    // The damaged handle is never closed (closing writes): this process keeps it.
    assert!(matches!(
        common::open_store(&path).err(),
        Some(StoreError::InUse | StoreError::Damaged { .. })
    ));
}

// Issue 10: a file cut short, in the middle of a page or at a page boundary, is refused
// as damaged, never started afresh, and left as it is.
#[test]
fn a_truncated_file_is_damaged_and_untouched() {
    let (_dir, path) = database_of_activities();
    let whole = std::fs::read(&path).unwrap();
    let boundary = whole.len() / 2 / common::REDB_PAGE * common::REDB_PAGE;
    for cut in [boundary + common::REDB_PAGE / 2, boundary] {
        std::fs::write(&path, &whole[..cut]).unwrap();
        for (mode, r) in [
            ("read-only", Store::open_read_only(&path)),
            ("writing", common::open_store(&path)),
        ] {
            assert!(
                matches!(r, Err(StoreError::Damaged { .. })),
                "cut at {cut}, {mode}: {:?}",
                r.err()
            );
        }
        assert_eq!(std::fs::read(&path).unwrap(), &whole[..cut], "cut at {cut}");
    }
}

// Issue 10, `casbah db check`: a sound database passes, with what was checked.
#[test]
fn a_sound_database_passes_the_check() {
    let (_dir, path) = database_of_activities();
    let store = Store::open_read_only(&path).unwrap();
    let checked = store.check().expect("sound");
    assert_eq!(
        (checked.instances, checked.activities, checked.users),
        (1, 3000, 0)
    );
    assert!(checked.tables >= 20, "{checked:?}");
    assert_eq!(checked.bytes, std::fs::metadata(&path).unwrap().len());
}

// Issue 10, `casbah db backup`: copies taken while another thread ingests are each
// consistent (whole pages, each with its cursor), 0600, and open like any database.
#[test]
fn backups_taken_while_ingesting_are_consistent() {
    let (dir, path) = database_of_activities();
    let store = Arc::new(common::open_store(&path).unwrap());
    let inst = store.instances().unwrap()[0].id;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (store, stop) = (Arc::clone(&store), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut page = 6;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let batch = crash_page(inst, page);
                let cursor = format!("page-{page}");
                store
                    .ingest(inst, "s", batch, &cursor, &IngestContext::default())
                    .unwrap();
                page += 1;
            }
        })
    };
    let mut counts = Vec::new();
    for n in 0..3 {
        let copy = dir.path().join(format!("backup-{n}.redb"));
        let checked = store.backup(&copy).expect("backup");
        let mode = std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let backup = Store::open_read_only(&copy).expect("the copy opens read-only");
        let count = backup.activity_count().unwrap();
        assert_eq!(checked.activities, count);
        // 3,000 first, then whole pages of PAGE, each with its cursor.
        let pages = (count as i64 - 3000) / PAGE;
        assert_eq!((count as i64 - 3000) % PAGE, 0, "a page is all or nothing");
        assert_eq!(
            backup.cursor(inst, "s").unwrap(),
            Some(format!("page-{}", 5 + pages))
        );
        counts.push(count);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
}

// Issue 10, `casbah db backup`: an existing file, or a symbolic link, is never replaced
// nor followed; the database is fine afterwards.
#[test]
fn a_backup_never_replaces_a_file() {
    let (dir, path) = database_of_activities();
    let store = Store::open_read_only(&path).unwrap();
    let existing = dir.path().join("existing.redb");
    std::fs::write(&existing, "keep me").unwrap();
    let target = dir.path().join("target");
    let link = dir.path().join("link.redb");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    for dest in [&existing, &link, &path] {
        let r = store.backup(dest);
        assert!(
            matches!(&r, Err(StoreError::Io { detail, .. }) if detail.contains("exists")),
            "{dest:?}: {r:?}"
        );
    }
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep me");
    assert!(!target.exists());
    assert_eq!(store.activity_count().unwrap(), 3000);
}

// A redb file of another program gets no casbah tables written into it.
#[test]
fn foreign_redb_file_is_not_casbah_and_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.redb");
    {
        let db = redb::Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(redb::TableDefinition::<&str, u64>::new("theirs"))
            .unwrap()
            .insert("k", 1)
            .unwrap();
        txn.commit().unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let r = common::open_store(&path);
    assert!(
        matches!(r, Err(StoreError::NotCasbah { .. })),
        "{:?}",
        r.err()
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn foreign_crash_child() {
    let Ok(path) = std::env::var("CASBAH_STORE_FOREIGN_CHILD") else {
        return;
    };
    let db = redb::Database::create(&path).unwrap();
    let txn = db.begin_write().unwrap();
    txn.open_table(redb::TableDefinition::<&str, u64>::new("theirs"))
        .unwrap()
        .insert("k", 1)
        .unwrap();
    txn.commit().unwrap();
    // Dies with the file open: redb marks it as needing a repair.
    std::process::abort();
}

// A crashed redb file of another program is checked on a scratch copy: refused, untouched.
#[test]
fn crashed_foreign_redb_file_is_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.redb");
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "foreign_crash_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("CASBAH_STORE_FOREIGN_CHILD", &path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "the child aborted");
    assert!(matches!(
        redb::ReadOnlyDatabase::open(&path).map(|_| ()),
        Err(redb::DatabaseError::RepairAborted)
    ));
    let before = std::fs::read(&path).unwrap();
    let r = common::open_store(&path);
    assert!(
        matches!(r, Err(StoreError::NotCasbah { .. })),
        "{:?}",
        r.err()
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

// A casbah file of another schema is refused with both versions named.
#[test]
fn schema_mismatch_is_reported() {
    let f = fixture();
    let Fixture { _dir, path, store } = f;
    drop(store);
    {
        let db = redb::Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(redb::TableDefinition::<&str, u64>::new("casbah.meta"))
            .unwrap()
            .insert("schema", 999)
            .unwrap();
        txn.commit().unwrap();
    }
    let r = common::open_store(&path);
    assert!(
        matches!(r, Err(StoreError::Schema { found: 999, .. })),
        "{:?}",
        r.err()
    );
    drop(_dir);
}

// Paging with the cursor never repeats nor skips, even with many equal times.
#[test]
fn paging_never_repeats_or_skips() {
    let f = fixture();
    let s = &f.store;
    let inst = s
        .add_instance(new_instance(AppKind::Okta, "okta"), &Secret::new("x"), 0)
        .unwrap();
    let batch: Vec<Activity> = (0..137)
        .map(|i| {
            activity(
                inst.id,
                AppKind::Okta,
                &format!("e{i}"),
                i / 10,
                "a@corp.com",
            )
        })
        .collect();
    s.ingest(inst.id, "s", batch, "c", &IngestContext::default())
        .unwrap();
    let whole = ids(&all_activities(s, &Query::all(), 1000));
    assert_eq!(whole.len(), 137);
    for page in [1, 7, 10, 136, 137] {
        assert_eq!(
            ids(&all_activities(s, &Query::all(), page)),
            whole,
            "page {page}"
        );
    }
    let distinct: HashSet<&String> = whole.iter().collect();
    assert_eq!(distinct.len(), 137);
    // Newest first, and insertion order is the tie-break within a time.
    assert_eq!(whole[0], "e136");
    assert_eq!(whole[136], "e0");
    let tail = s
        .query_activities(&Query::all(), 5, Some(ActivityCursor { time: 0, seq: 3 }))
        .unwrap();
    assert_eq!(ids(&tail.items), vec!["e1", "e0"]);
    assert_eq!(tail.next, None);
}

const STEP: i64 = 20 * 60_000_000;

const ACTORS: [&str; 5] = [
    "ann@corp.com",
    "bob@corp.com",
    "cy@corp.com",
    "dee@partner.org",
    "svc",
];
const COUNTRIES: [&str; 3] = ["FR", "US", "DE"];
const APPS: [AppKind; 3] = [AppKind::Okta, AppKind::Box, AppKind::Github];

#[derive(Debug, Clone)]
struct Gen {
    instance: usize,
    actor: usize,
    country: Option<usize>,
    time: i64,
}

fn gen_activity() -> impl Strategy<Value = Gen> {
    (
        0..3usize,
        0..5usize,
        proptest::option::of(0..3usize),
        0..40i64,
    )
        .prop_map(|(instance, actor, country, time)| Gen {
            instance,
            actor,
            country,
            time,
        })
}

fn subset<T: Clone + std::fmt::Debug + 'static>(
    items: Vec<T>,
) -> impl Strategy<Value = Option<Vec<T>>> {
    let n = items.len();
    proptest::option::of(proptest::sample::subsequence(items, 0..=n))
}

#[derive(Debug, Clone)]
struct GenHints {
    groups: Option<Vec<usize>>,
    instances: Option<Vec<usize>>,
    apps: Option<Vec<AppKind>>,
    countries: Option<Vec<&'static str>>,
    actors: Option<Vec<&'static str>>,
    after: Option<i64>,
    before: Option<i64>,
}

fn gen_hints() -> impl Strategy<Value = GenHints> {
    (
        subset(vec![0usize, 1, 2]),
        subset(vec![0usize, 1, 2]),
        subset(APPS.to_vec()),
        subset(COUNTRIES.to_vec()),
        subset(ACTORS.to_vec()),
        proptest::option::of((-12..34i64).prop_map(|s| s * STEP)),
        proptest::option::of((-12..34i64).prop_map(|s| s * STEP)),
    )
        .prop_map(
            |(groups, instances, apps, countries, actors, after, before)| GenHints {
                groups,
                instances,
                apps,
                countries,
                actors,
                after,
                before,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    // R-A2, R-G9: every index answers exactly what a full scan filtered by `matches` answers,
    // in the same newest-first order, through pages.
    #[test]
    fn indexes_agree_with_a_full_scan(
        records in proptest::collection::vec(gen_activity(), 0..80),
        memberships in proptest::collection::vec(subset(vec![0usize, 1, 2, 3, 4]), 3),
        hint_sets in proptest::collection::vec(gen_hints(), 1..8),
        page in 1usize..6,
    ) {
        let f = fixture();
        let s = &f.store;
        let instances: Vec<InstanceId> = APPS
            .iter()
            .map(|app| s.add_instance(new_instance(*app, "i"), &Secret::new("x"), 0).unwrap().id)
            .collect();
        let mut groups = Vec::new();
        for (i, members) in memberships.iter().enumerate() {
            let g = s.create_imported_group(instances[0], &remote_group(&format!("g{i}")), false, 10).unwrap();
            let users: Vec<RemoteUser> = members
                .clone()
                .unwrap_or_default()
                .iter()
                .map(|a| user(ACTORS[*a], ACTORS[*a]))
                .collect();
            s.sync_membership(g.id, &users, SkipCounts::default(), 0).unwrap();
            groups.push(g.id);
        }
        let ctx = IngestContext {
            org_domains: vec!["corp.com".into()],
            ..IngestContext::default()
        };
        for (n, chunk) in records.chunks(17).enumerate() {
            for (i, inst) in instances.iter().enumerate() {
                let batch: Vec<Activity> = chunk
                    .iter()
                    .enumerate()
                    .filter(|(_, g)| g.instance == i)
                    .map(|(j, g)| {
                        // Five-minute steps: several hours, several records an hour, equal times.
                        let time = g.time * (STEP / 4);
                        let mut a = activity(*inst, APPS[i], &format!("{n}-{j}"), time, ACTORS[g.actor]);
                        a.country = g.country.map(|c| COUNTRIES[c].to_string());
                        a
                    })
                    .collect();
                s.ingest(*inst, "s", batch, "c", &ctx).unwrap();
            }
        }
        let everything = all_activities(s, &Query::all(), 1000);
        prop_assert_eq!(everything.len(), records.len());
        let generated = hint_sets.into_iter().map(|h| Hints {
            groups: h.groups.map(|l| l.iter().map(|i| groups[*i]).collect()),
            instances: h.instances.map(|l| l.iter().map(|i| instances[*i]).collect()),
            apps: h.apps,
            countries: h.countries.map(|l| l.iter().map(|c| c.to_string()).collect()),
            actors: h.actors.map(|l| l.iter().map(|c| c.to_string()).collect()),
            after: h.after,
            before: h.before,
        });
        // Each value of each index alone, as the timeline counts them by the hour.
        let single = groups
            .iter()
            .map(|g| Hints { groups: Some(vec![*g]), ..Hints::default() })
            .chain(COUNTRIES.iter().map(|c| Hints { countries: Some(vec![c.to_string()]), ..Hints::default() }))
            .chain(instances.iter().map(|i| Hints { instances: Some(vec![*i]), ..Hints::default() }))
            .chain([Hints::default()]);
        for hints in generated.chain(single) {
            let query = Query::with_hints(hints.clone());
            let expected: Vec<String> =
                everything.iter().filter(|a| query.matches(a)).map(|a| a.id.clone()).collect();
            let got = ids(&all_activities(s, &query, page));
            prop_assert_eq!(got, expected, "hints {:?}", hints);
            // Issue 13: the timeline counts the same records from the indexes alone,
            // in buckets narrower than an hour, of an hour, and across hours, with
            // edges that cut hours.
            for (from, width, buckets) in [(-HOUR, STEP / 2, 30), (0, HOUR, 4), (STEP, 3 * HOUR, 2)] {
                let histogram = ActivityLog::histogram(s, &query, from, width, buckets).unwrap();
                let expected = common::expected_counts(&everything, &query, (from, width, buckets));
                prop_assert_eq!(&histogram.counts, &expected, "hints {:?}, width {}", hints, width);
            }
        }
    }
}

// R-A1, R-A2, issue 10: a record with only an IP address is placed by the GeoIP
// databases (country and network operator), the same whatever was ingested before it;
// a record's own country stays; an address the databases do not know stays unplaced.
#[test]
fn records_are_placed_by_the_geoip_databases() {
    use casbah::sandbox::org::{VOCABULARY, address};
    let f = fixture();
    let id = f
        .store
        .add_instance(
            new_instance(AppKind::Microsoft365, "m"),
            &Secret::new("s"),
            0,
        )
        .unwrap()
        .id;
    let (country, asn) = casbah::sandbox::geoip::databases().unwrap();
    let geo = casbah::service::GeoIp::from_bytes(Some(country), Some(asn)).unwrap();
    let ctx = IngestContext {
        locator: Some(std::sync::Arc::new(geo)),
        ..IngestContext::default()
    };
    let de = VOCABULARY
        .countries
        .iter()
        .position(|c| c.code == "DE")
        .unwrap();
    let mut download = activity(id, AppKind::Microsoft365, "o1", 2 * HOUR, "ann@contoso.com");
    download.ip = Some(address(de, 9));
    download.country = None;
    let mut travelling = activity(id, AppKind::Microsoft365, "s1", 2 * HOUR, "ann@contoso.com");
    travelling.ip = Some(address(de, 9));
    travelling.country = Some("JP".into());
    let mut elsewhere = activity(id, AppKind::Microsoft365, "o2", 2 * HOUR, "ann@contoso.com");
    elsewhere.ip = Some("203.0.113.9".into());
    elsewhere.country = None;
    f.store
        .ingest(id, "o365", vec![download, travelling, elsewhere], "c", &ctx)
        .unwrap();
    let all = all_activities(&f.store, &Query::all(), 10);
    let get = |id: &str| all.iter().find(|a| a.id == id).unwrap().clone();
    let operator = casbah::sandbox::geoip::operator(de);
    assert_eq!(
        (get("o1").country, get("o1").isp),
        (Some("DE".into()), Some(operator.clone()))
    );
    assert_eq!(
        (get("s1").country, get("s1").isp),
        (Some("JP".into()), Some(operator)),
        "the vendor's own country wins; the operator is the address's"
    );
    assert_eq!((get("o2").country, get("o2").isp), (None, None));
    let de_only = Query::with_hints(Hints {
        countries: Some(vec!["DE".into()]),
        ..Hints::default()
    });
    let ids: Vec<String> = all_activities(&f.store, &de_only, 10)
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(ids, vec!["o1".to_string()]);
}

// R-A1, R-A2, R-G6: one busy hour, ingested in pages whose times interleave (a late page
// brings older records), fills several chunks of every index list. Each filter still
// answers what a full scan answers, newest first, and every page repeated is dropped.
#[test]
fn a_busy_hour_across_index_chunks() {
    let f = fixture();
    let s = &f.store;
    let inst = s
        .add_instance(new_instance(AppKind::Box, "box"), &Secret::new("x"), 0)
        .unwrap();
    let actors = ["ann@corp.com", "bob@corp.com", "cy@corp.com"];
    let g = s
        .create_imported_group(inst.id, &remote_group("g"), false, 0)
        .unwrap();
    let members = [user(actors[0], "Ann"), user(actors[2], "Cy")];
    s.sync_membership(g.id, &members, SkipCounts::default(), 0)
        .unwrap();
    // Five pages in one hour: every list holds several chunks of it, with overlapping times.
    let total = 3_000i64;
    let record = |i: i64| {
        // Three interleaved sweeps through the hour, with repeated times.
        let time = 5 * HOUR + (i % 1_000) * (HOUR / 1_000) + i / 1_000;
        let mut a = activity(
            inst.id,
            AppKind::Box,
            &format!("e{i}"),
            time - time % 7,
            actors[i as usize % 3],
        );
        a.country = Some(COUNTRIES[i as usize % 2].to_string());
        a
    };
    let pages: Vec<Vec<Activity>> = (0..total)
        .collect::<Vec<_>>()
        .chunks(700)
        .map(|c| c.iter().map(|&i| record(i)).collect())
        .collect();
    for (n, page) in pages.iter().enumerate() {
        let r = s
            .ingest(
                inst.id,
                "s",
                page.clone(),
                &n.to_string(),
                &IngestContext::default(),
            )
            .unwrap();
        assert_eq!(r.inserted, page.len());
    }
    for (n, page) in pages.iter().enumerate() {
        let r = s
            .ingest(
                inst.id,
                "s",
                page.clone(),
                &n.to_string(),
                &IngestContext::default(),
            )
            .unwrap();
        assert_eq!(
            (r.inserted, r.duplicates),
            (0, page.len()),
            "page {n} again"
        );
    }
    assert_eq!(s.activity_count().unwrap(), total as u64);

    let everything = all_activities(s, &Query::all(), 1_000);
    assert_eq!(everything.len(), total as usize);
    let filters = [
        Hints {
            instances: Some(vec![inst.id]),
            ..Hints::default()
        },
        Hints {
            countries: Some(vec!["US".into()]),
            ..Hints::default()
        },
        Hints {
            actors: Some(vec![actors[1].into()]),
            ..Hints::default()
        },
        Hints {
            groups: Some(vec![g.id]),
            ..Hints::default()
        },
        Hints {
            groups: Some(vec![g.id]),
            countries: Some(vec!["FR".into()]),
            after: Some(5 * HOUR + HOUR / 3),
            ..Hints::default()
        },
    ];
    for hints in filters {
        let query = Query::with_hints(hints.clone());
        let expected: Vec<String> = everything
            .iter()
            .filter(|a| query.matches(a))
            .map(|a| a.id.clone())
            .collect();
        assert!(expected.len() >= 300, "{hints:?}");
        assert_eq!(ids(&all_activities(s, &query, 128)), expected, "{hints:?}");
    }
    // R-G8: last activity and the person view read the actor list across its chunks.
    let newest_bob = everything
        .iter()
        .find(|a| a.actor == actors[1])
        .unwrap()
        .time;
    let person = s.person(actors[1], 6 * HOUR).unwrap();
    assert_eq!(person.last_activity, Some(newest_bob));
    assert_eq!(person.by_type, vec![("Download file".to_string(), 1_000)]);
    let last: HashMap<String, Option<i64>> = s
        .members(g.id)
        .unwrap()
        .into_iter()
        .map(|m| (m.email, m.last_activity))
        .collect();
    for actor in [actors[0], actors[2]] {
        let newest = everything.iter().find(|a| a.actor == actor).unwrap().time;
        assert_eq!(last[actor], Some(newest), "{actor}");
    }
}

// R-A1: a repeat is dropped in any later page, while a new record with a vendor id seen
// in another hour or another instance is kept.
#[test]
fn repeats_are_dropped_across_pages_and_instances_kept_apart() {
    let f = fixture();
    let s = &f.store;
    let a = s
        .add_instance(new_instance(AppKind::Okta, "a"), &Secret::new("x"), 0)
        .unwrap();
    let b = s
        .add_instance(new_instance(AppKind::Box, "b"), &Secret::new("x"), 0)
        .unwrap();
    let ctx = IngestContext::default();
    let first = vec![
        activity(a.id, AppKind::Okta, "x1", HOUR, "ann@corp.com"),
        activity(a.id, AppKind::Okta, "x2", 2 * HOUR, "ann@corp.com"),
    ];
    let r = s.ingest(a.id, "s", first.clone(), "1", &ctx).unwrap();
    assert_eq!((r.inserted, r.duplicates), (2, 0));
    let second = vec![
        first[1].clone(),
        activity(a.id, AppKind::Okta, "x3", HOUR, "ann@corp.com"),
        first[0].clone(),
    ];
    let r = s.ingest(a.id, "s", second, "2", &ctx).unwrap();
    assert_eq!((r.inserted, r.duplicates), (1, 2));
    let other = vec![activity(b.id, AppKind::Box, "x1", HOUR, "ann@corp.com")];
    let r = s.ingest(b.id, "s", other, "1", &ctx).unwrap();
    assert_eq!((r.inserted, r.duplicates), (1, 0));
    let mut stored: Vec<(InstanceId, String)> = all_activities(s, &Query::all(), 10)
        .into_iter()
        .map(|a| (a.instance, a.id))
        .collect();
    stored.sort();
    assert_eq!(
        stored,
        vec![
            (a.id, "x1".to_string()),
            (a.id, "x2".to_string()),
            (a.id, "x3".to_string()),
            (b.id, "x1".to_string()),
        ]
    );
    assert_eq!(s.cursor(a.id, "s").unwrap().as_deref(), Some("2"));
}

// A file of the previous schema is refused with one line that says what to do.
#[test]
fn an_older_schema_says_what_to_do() {
    let f = fixture();
    let Fixture { _dir, path, store } = f;
    drop(store);
    {
        let db = redb::Database::open(&path).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(redb::TableDefinition::<&str, u64>::new("casbah.meta"))
            .unwrap()
            .insert("schema", 1)
            .unwrap();
        txn.commit().unwrap();
    }
    let message = match common::open_store(&path) {
        Err(e @ StoreError::Schema { found: 1, .. }) => e.to_string(),
        other => panic!("{:?}", other.err()),
    };
    assert!(!message.contains('\n'), "{message}");
    assert!(message.contains("older casbah"), "{message}");
    assert!(message.contains("--db"), "{message}");
    drop(_dir);
}

fn okta_page(inst: InstanceId, ids: std::ops::Range<i64>, actor: &str) -> Vec<Activity> {
    ids.map(|i| activity(inst, AppKind::Okta, &format!("e{i}"), i * 10, actor))
        .collect()
}

/// A store shared as the pipeline shares it, with one Okta instance.
fn shared_okta_store() -> (tempfile::TempDir, Arc<Store>, InstanceId) {
    let Fixture { _dir, store, .. } = fixture();
    let inst = store
        .add_instance(new_instance(AppKind::Okta, "okta"), &Secret::new("x"), 0)
        .unwrap()
        .id;
    (_dir, Arc::new(store), inst)
}

// Issue 2, DESIGN §3 Durability: when a page fails to commit, the page pushed after it is
// dropped, never committed, and the pages before it stay with their cursor.
#[test]
fn a_failed_page_in_the_pipeline_commits_nothing_after_it() {
    let (_dir, store, inst) = shared_okta_store();
    let ctx = IngestContext::default();
    let prepare = |instance, ids, cursor: &str| {
        store
            .prepare(
                instance,
                "s",
                okta_page(instance, ids, "a@corp.com"),
                cursor,
                &ctx,
            )
            .unwrap()
    };
    let mut pipeline = IngestPipeline::new(Arc::clone(&store));
    assert_eq!(pipeline.push(prepare(inst, 0..10, "c1")).unwrap(), None);
    // No such instance: this page fails at its commit.
    let first = pipeline
        .push(prepare(InstanceId(999), 10..20, "c2"))
        .unwrap()
        .expect("c1 committed");
    assert_eq!((first.stream.as_str(), first.report.inserted), ("s", 10));
    let err = pipeline.push(prepare(inst, 20..30, "c3")).unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err}");
    assert_eq!(pipeline.finish().unwrap(), None);
    assert_eq!(store.cursor(inst, "s").unwrap().as_deref(), Some("c1"));
    assert_eq!(store.activity_count().unwrap(), 10);
}

// Issue 12, DESIGN §3 Durability: the pipeline commits on one thread for its life; dropped with a page in
// flight, it ends that thread after the page commits, so its hold on the store goes
// with it and nothing in flight is lost.
#[test]
fn a_dropped_pipeline_commits_its_page_and_lets_the_store_go() {
    let (_dir, store, inst) = shared_okta_store();
    let ctx = IngestContext::default();
    let mut pipeline = IngestPipeline::new(Arc::clone(&store));
    for (n, cursor) in [(0, "c1"), (1, "c2"), (2, "c3")] {
        let ids = n * 10..n * 10 + 10;
        let page = store
            .prepare(inst, "s", okta_page(inst, ids, "a@corp.com"), cursor, &ctx)
            .unwrap();
        pipeline.push(page).unwrap();
    }
    drop(pipeline);
    assert_eq!(
        Arc::strong_count(&store),
        1,
        "the commit thread let the store go"
    );
    assert_eq!(store.cursor(inst, "s").unwrap().as_deref(), Some("c3"));
    assert_eq!(store.activity_count().unwrap(), 30);
}

// R-A1, issue 2: a page prepared while the page it repeats has not committed yet still
// drops the repeats, since the check against stored records is part of the commit.
#[test]
fn repeats_of_a_page_in_flight_are_dropped() {
    let (_dir, store, inst) = shared_okta_store();
    let ctx = IngestContext::default();
    let a = store
        .prepare(inst, "s", okta_page(inst, 0..100, "a@corp.com"), "a", &ctx)
        .unwrap();
    let b = store
        .prepare(inst, "s", okta_page(inst, 50..150, "a@corp.com"), "b", &ctx)
        .unwrap();
    let mut pipeline = IngestPipeline::new(Arc::clone(&store));
    assert_eq!(pipeline.push(a).unwrap(), None);
    assert_eq!(pipeline.push(b).unwrap().unwrap().report.inserted, 100);
    let b = pipeline.finish().unwrap().unwrap().report;
    assert_eq!((b.inserted, b.duplicates), (50, 50));
    assert_eq!(store.activity_count().unwrap(), 150);
    let stored = all_activities(&store, &Query::all(), 64);
    assert_eq!(stored.len(), 150);
    assert_eq!(ids(&stored).into_iter().collect::<HashSet<_>>().len(), 150);
}

// R-G1, R-G6, issue 2: tags are those at the page's commit, not at its preparation: an
// outsider first met in the page before, still committing, is External in this page too,
// and a group synced between preparation and commit tags the page.
#[test]
fn tags_are_those_at_commit() {
    let (_dir, store, inst) = shared_okta_store();
    let ctx = IngestContext {
        org_domains: vec!["corp.com".into()],
        ..IngestContext::default()
    };
    let first = store
        .prepare(
            inst,
            "s",
            okta_page(inst, 0..3, "eve@partner.org"),
            "1",
            &ctx,
        )
        .unwrap();
    let mut second = okta_page(inst, 3..6, "eve@partner.org");
    second.extend(okta_page(inst, 6..8, "bob@corp.com"));
    let second = store.prepare(inst, "s", second, "2", &ctx).unwrap();
    let group = store
        .create_imported_group(inst, &remote_group("g"), false, 0)
        .unwrap();
    store
        .sync_membership(
            group.id,
            &[user("bob@corp.com", "Bob")],
            SkipCounts::default(),
            0,
        )
        .unwrap();
    let mut pipeline = IngestPipeline::new(Arc::clone(&store));
    pipeline.push(first).unwrap();
    pipeline.push(second).unwrap();
    pipeline.finish().unwrap();
    let external = store
        .groups()
        .unwrap()
        .into_iter()
        .find(|g| g.kind == GroupKind::Automatic(AutoGroup::External))
        .expect("External created");
    let members = store.members(external.id).unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(
        (members[0].key.as_str(), members[0].joined_at),
        ("eve@partner.org", 0)
    );
    let tagged = |g: GroupId| {
        let q = Query::with_hints(Hints {
            groups: Some(vec![g]),
            ..Hints::default()
        });
        let mut found = ids(&all_activities(&store, &q, 10));
        found.sort();
        found
    };
    assert_eq!(tagged(external.id), ["e0", "e1", "e2", "e3", "e4", "e5"]);
    assert_eq!(tagged(group.id), ["e6", "e7"]);
}

// R-A1, R-G1, R-G6, issue 2: the pipeline stores exactly what page-by-page ingestion
// stores, with outsiders joining External as they appear, repeats of the page before
// (prepared while that page commits), and a membership change between two pages.
#[test]
fn the_pipeline_stores_what_ingest_stores() {
    let ctx = IngestContext {
        org_domains: vec!["corp.com".into()],
        ..IngestContext::default()
    };
    let actor = |n: i64| match n % 7 {
        0 | 3 => format!("guest{}@partner.org", n % 5),
        _ => format!("u{}@corp.com", n % 4),
    };
    let page = |inst: InstanceId, p: i64| -> Vec<Activity> {
        // Each page repeats the last ten records of the one before.
        (p * 40 - 10..p * 40 + 40)
            .filter(|i| *i >= 0)
            .map(|i| activity(inst, AppKind::Okta, &format!("e{i}"), i * 1000, &actor(i)))
            .collect()
    };
    let pages = 12;
    let mut stores = Vec::new();
    for pipelined in [false, true] {
        let Fixture { _dir, store, .. } = fixture();
        let store = Arc::new(store);
        let inst = store
            .add_instance(new_instance(AppKind::Okta, "okta"), &Secret::new("x"), 0)
            .unwrap()
            .id;
        let group = store
            .create_imported_group(inst, &remote_group("g"), false, 0)
            .unwrap();
        let sync = |members: &[&str]| {
            let users: Vec<RemoteUser> = members.iter().map(|m| user(m, m)).collect();
            store
                .sync_membership(group.id, &users, SkipCounts::default(), 0)
                .unwrap();
        };
        sync(&["u0@corp.com", "u1@corp.com"]);
        let mut pipeline = IngestPipeline::new(Arc::clone(&store));
        let mut reports = Vec::new();
        for p in 0..pages {
            let batch = page(inst, p);
            let cursor = format!("c{p}");
            if p == pages / 2 {
                // After the page before has committed: with a page in flight, the change
                // may come before or after that page's commit, and its tags follow.
                reports.extend(pipeline.finish().unwrap().map(|c| c.report));
                sync(&["u1@corp.com", "u2@corp.com"]);
            }
            if pipelined {
                let prepared = store.prepare(inst, "s", batch, &cursor, &ctx).unwrap();
                reports.extend(pipeline.push(prepared).unwrap().map(|c| c.report));
            } else {
                reports.push(store.ingest(inst, "s", batch, &cursor, &ctx).unwrap());
            }
        }
        reports.extend(pipeline.finish().unwrap().map(|c| c.report));
        let stored = all_activities(&store, &Query::all(), 100);
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for g in store.groups().unwrap() {
            let mut members: Vec<String> = store
                .members(g.id)
                .unwrap()
                .into_iter()
                .map(|m| format!("{} {}", m.key, m.joined_at))
                .collect();
            members.sort();
            groups.push((g.name, members));
        }
        assert_eq!(
            store.cursor(inst, "s").unwrap(),
            Some(format!("c{}", pages - 1))
        );
        stores.push((reports, stored, groups, _dir));
    }
    let (pipelined, sequential) = (&stores[1], &stores[0]);
    assert_eq!(pipelined.0, sequential.0, "reports");
    assert_eq!(pipelined.1.len(), sequential.1.len());
    for (p, s) in pipelined.1.iter().zip(&sequential.1) {
        assert_eq!(p, s, "records and tags");
    }
    assert_eq!(pipelined.2, sequential.2, "groups and members");
    assert_eq!(sequential.1.len(), pages as usize * 40);
    let external = &sequential.2.iter().find(|g| g.0 == "External").unwrap().1;
    assert_eq!(external.len(), 5, "{external:?}");
    // u0 is tagged before the change and not after, u2 after only.
    let tagged = |actor: &str| -> Vec<bool> {
        let mut v: Vec<(i64, bool)> = sequential
            .1
            .iter()
            .filter(|a| a.actor == actor)
            .map(|a| (a.time, !a.groups.is_empty()))
            .collect();
        v.sort();
        v.dedup_by_key(|t| t.1);
        v.into_iter().map(|t| t.1).collect()
    };
    assert_eq!(tagged("u0@corp.com"), [true, false]);
    assert_eq!(tagged("u2@corp.com"), [false, true]);
}

// R-G1, issue 2: when External is removed while a page waits to commit, the outsiders of
// that page join a new External at its commit, as they would without the pipeline.
#[test]
fn outsiders_rejoin_external_removed_before_their_page_commits() {
    let Fixture { _dir, store, .. } = fixture();
    let inst = store
        .add_instance(new_instance(AppKind::Okta, "okta"), &Secret::new("x"), 0)
        .unwrap()
        .id;
    let ctx = IngestContext {
        org_domains: vec!["corp.com".into()],
        ..IngestContext::default()
    };
    let external = || {
        store
            .groups()
            .unwrap()
            .into_iter()
            .find(|g| g.kind == GroupKind::Automatic(AutoGroup::External))
    };
    store
        .ingest(
            inst,
            "s",
            okta_page(inst, 0..2, "eve@partner.org"),
            "1",
            &ctx,
        )
        .unwrap();
    let first = external().expect("External created");
    let page = store
        .prepare(
            inst,
            "s",
            okta_page(inst, 2..4, "eve@partner.org"),
            "2",
            &ctx,
        )
        .unwrap();
    store.remove_group(first.id).unwrap();
    assert_eq!(store.commit_prepared(page).unwrap().inserted, 2);
    let second = external().expect("External created again");
    assert_ne!(second.id, first.id);
    let members = store.members(second.id).unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(
        (members[0].key.as_str(), members[0].joined_at),
        ("eve@partner.org", 20)
    );
    let q = Query::with_hints(Hints {
        groups: Some(vec![second.id]),
        ..Hints::default()
    });
    assert_eq!(ids(&all_activities(&store, &q, 10)), ["e3", "e2"]);
}

// R-C2, issue 8: a page is filed under one instance; a record in it that names another
// (or one that does not exist) is refused with the whole page, cursor included.
#[test]
fn a_record_of_another_instance_is_never_stored() {
    let f = fixture();
    let s = &f.store;
    let a = s
        .add_instance(new_instance(AppKind::Okta, "a"), &Secret::new("x"), 0)
        .unwrap();
    let b = s
        .add_instance(new_instance(AppKind::Okta, "b"), &Secret::new("x"), 0)
        .unwrap();
    let ctx = IngestContext::default();
    for stray in [b.id, InstanceId(0), InstanceId(99)] {
        let page = vec![
            activity(a.id, AppKind::Okta, "x1", HOUR, "ann@corp.com"),
            activity(stray, AppKind::Okta, "x2", HOUR, "ann@corp.com"),
        ];
        let err = s.ingest(a.id, "s", page, "1", &ctx).unwrap_err();
        assert!(
            matches!(err, StoreError::WrongInstance { page, record } if page == a.id.0 && record == stray.0),
            "{err}"
        );
    }
    assert!(all_activities(s, &Query::all(), 10).is_empty());
    assert_eq!(s.cursor(a.id, "s").unwrap(), None);
    // Nor can a page be filed under an instance that does not exist.
    let page = vec![activity(
        InstanceId(99),
        AppKind::Okta,
        "x1",
        HOUR,
        "a@corp.com",
    )];
    assert!(matches!(
        s.ingest(InstanceId(99), "s", page, "1", &ctx),
        Err(StoreError::NotFound(_))
    ));
}

// Schema 3 → 4: a file of the previous schema is brought up to date when opened, its
// instances, accounts and scan states kept; nothing else is touched.
#[test]
fn a_schema_3_file_is_migrated_in_place() {
    #[derive(serde::Serialize)]
    struct InstanceV3 {
        id: InstanceId,
        app: AppKind,
        name: String,
        tenant: String,
        client_id: String,
        endpoint: Option<String>,
        components: Vec<Component>,
        created_at: i64,
    }
    #[derive(serde::Serialize)]
    struct UserV3 {
        id: String,
        display_name: String,
        email: String,
        status: UserStatus,
        user_type: UserType,
        principal_name: Option<String>,
    }
    #[derive(serde::Serialize)]
    struct ScanV3 {
        last_success: Option<i64>,
        last_attempt: Option<i64>,
        last_error: Option<String>,
    }
    #[derive(serde::Serialize)]
    struct GroupV3 {
        id: GroupId,
        kind: GroupKind,
        name: String,
        status: GroupStatus,
        member_count: u32,
        skipped: (u32, u32, u32),
        imported_at: i64,
        last_sync: Option<i64>,
        notify: bool,
        microsoft365: bool,
    }
    let Fixture { _dir, path, store } = fixture();
    let inst = store
        .add_instance(
            new_instance(AppKind::Microsoft365, "contoso"),
            &Secret::new("s"),
            5,
        )
        .unwrap();
    store
        .upsert_users(inst.id, &[user("a@corp.com", "Ann")])
        .unwrap();
    let group = store
        .create_imported_group(inst.id, &remote_group("g1"), true, 6)
        .unwrap();
    drop(store);
    {
        let db = redb::Database::open(&path).unwrap();
        let txn = db.begin_write().unwrap();
        let old = InstanceV3 {
            id: inst.id,
            app: AppKind::Microsoft365,
            name: "contoso".into(),
            tenant: "tenant-1".into(),
            client_id: "client-1".into(),
            endpoint: Some("http://127.0.0.1:1".into()),
            components: vec![Component::UsersAndGroups],
            created_at: 5,
        };
        txn.open_table(redb::TableDefinition::<u64, &[u8]>::new("instances"))
            .unwrap()
            .insert(inst.id.0, postcard::to_allocvec(&old).unwrap().as_slice())
            .unwrap();
        let old = UserV3 {
            id: "id-a@corp.com".into(),
            display_name: "Ann".into(),
            email: "a@corp.com".into(),
            status: UserStatus::Suspended,
            user_type: UserType::Guest,
            principal_name: Some("ann_x#EXT#@corp.com".into()),
        };
        txn.open_table(redb::TableDefinition::<(u64, &str), &[u8]>::new("users"))
            .unwrap()
            .insert(
                (inst.id.0, "id-a@corp.com"),
                postcard::to_allocvec(&old).unwrap().as_slice(),
            )
            .unwrap();
        let old = ScanV3 {
            last_success: Some(7),
            last_attempt: Some(8),
            last_error: Some("HTTP 500".into()),
        };
        txn.open_table(redb::TableDefinition::<(u64, u8), &[u8]>::new("scans"))
            .unwrap()
            .insert(
                (inst.id.0, 0),
                postcard::to_allocvec(&old).unwrap().as_slice(),
            )
            .unwrap();
        let old = GroupV3 {
            id: group.id,
            kind: group.kind.clone(),
            name: "g1".into(),
            status: GroupStatus::Ready,
            member_count: 12,
            skipped: (7, 2, 1),
            imported_at: 6,
            last_sync: Some(9),
            notify: true,
            microsoft365: true,
        };
        txn.open_table(redb::TableDefinition::<u64, &[u8]>::new("groups"))
            .unwrap()
            .insert(group.id.0, postcard::to_allocvec(&old).unwrap().as_slice())
            .unwrap();
        txn.open_table(redb::TableDefinition::<&str, u64>::new("casbah.meta"))
            .unwrap()
            .insert("schema", 3)
            .unwrap();
        txn.commit().unwrap();
    }
    let store = common::open_store(&path).expect("a schema 3 file opens");
    let migrated = store.instance(inst.id).unwrap();
    assert_eq!(migrated.field("tenant-id"), "tenant-1");
    assert_eq!(migrated.field("client-id"), "client-1");
    assert_eq!(migrated.endpoint.as_deref(), Some("http://127.0.0.1:1"));
    let person = store.person("a@corp.com", 0).unwrap();
    let (_, account) = &person.accounts[0];
    assert_eq!(account.status, UserStatus::Suspended);
    assert_eq!(
        account.principal_name.as_deref(),
        Some("ann_x#EXT#@corp.com")
    );
    assert!(!account.admin);
    let scans = store.scans(inst.id).unwrap();
    assert_eq!(scans[0].1.last_error.as_deref(), Some("HTTP 500"));
    assert_eq!(scans[0].1.note, None);
    assert_eq!(store.secret(inst.id).unwrap().expose(), "s");
    let migrated = store.group(group.id).unwrap();
    assert_eq!(
        (
            migrated.member_count,
            migrated.last_sync,
            migrated.notify,
            migrated.microsoft365
        ),
        (12, Some(9), true, true)
    );
    assert_eq!(
        migrated.skipped,
        SkipCounts {
            suspended: 7,
            disabled: 2,
            deleted: 1,
            other: Default::default()
        }
    );
    drop(store);
    // Opened again, it is simply of this schema.
    common::open_store(&path).unwrap();
}

/// The account `old` reads as once a file of `schema` holding it is opened.
fn migrated_account<T: serde::Serialize>(schema: u64, old: &T) -> RemoteUser {
    let Fixture { _dir, path, store } = fixture();
    let inst = store
        .add_instance(
            new_instance(AppKind::GoogleWorkspace, "ws"),
            &Secret::new("s"),
            5,
        )
        .unwrap();
    drop(store);
    {
        let db = redb::Database::open(&path).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(redb::TableDefinition::<(u64, &str), &[u8]>::new("users"))
            .unwrap()
            .insert(
                (inst.id.0, "u1"),
                postcard::to_allocvec(old).unwrap().as_slice(),
            )
            .unwrap();
        txn.open_table(redb::TableDefinition::<&str, u64>::new("casbah.meta"))
            .unwrap()
            .insert("schema", schema)
            .unwrap();
        txn.commit().unwrap();
    }
    let store = common::open_store(&path).expect("an older file opens");
    let mut accounts = store.instance_users(inst.id).unwrap();
    assert_eq!(accounts.len(), 1, "{accounts:?}");
    accounts.remove(0)
}

// Schema 5 → 6 (R-A2): an account of the previous schema gains an organisational unit,
// none until its next scan; everything else it holds is kept.
#[test]
fn a_schema_5_account_is_migrated_with_no_org_unit() {
    #[derive(serde::Serialize)]
    struct UserV5 {
        id: String,
        display_name: String,
        email: String,
        status: UserStatus,
        user_type: UserType,
        principal_name: Option<String>,
        admin: bool,
    }
    let account = migrated_account(
        5,
        &UserV5 {
            id: "u1".into(),
            display_name: "Ann".into(),
            email: "a@corp.com".into(),
            status: UserStatus::Active,
            user_type: UserType::Member,
            principal_name: None,
            admin: true,
        },
    );
    assert_eq!((account.admin, account.org_unit.as_deref()), (true, None));
    assert_eq!(account.display_name, "Ann");
}

// Schema 8 → 9 (issue 11): an account learns whether it syncs from on-premises AD at
// its next scan; until then it is taken as cloud-only, and keeps its unit.
#[test]
fn a_schema_8_account_is_migrated_as_cloud_only() {
    #[derive(serde::Serialize)]
    struct UserV8 {
        id: String,
        display_name: String,
        email: String,
        status: UserStatus,
        user_type: UserType,
        principal_name: Option<String>,
        admin: bool,
        org_unit: Option<String>,
    }
    let account = migrated_account(
        8,
        &UserV8 {
            id: "u1".into(),
            display_name: "Ann".into(),
            email: "a@corp.com".into(),
            status: UserStatus::Suspended,
            user_type: UserType::Member,
            principal_name: Some("ann".into()),
            admin: false,
            org_unit: Some("/Sales".into()),
        },
    );
    assert_eq!(account.org_unit.as_deref(), Some("/Sales"));
    assert_eq!(account.status, UserStatus::Suspended);
    assert!(!account.on_premises_sync);
}

/// The raw bytes of the database file, as a copy of it would hold them.
fn file_holds(path: &std::path::Path, text: &str) -> bool {
    let bytes = std::fs::read(path).unwrap();
    bytes.windows(text.len()).any(|w| w == text.as_bytes())
}

// Issue 10, DESIGN §3 Secrets: a copied database file alone reveals no secret. The key is
// kept apart (0600), the secret reads back after a reopen, `set_secret` replaces it, and a
// key given in another place takes the secrets along.
#[test]
fn secrets_are_sealed_with_a_key_kept_apart_from_the_database() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data").join("casbah.redb");
    let key = dir.path().join("keys").join("secrets.key");
    let open = |key: &std::path::Path| Store::open_with_keys(&path, KeyStore::File(key.into()));
    let s = open(&key).unwrap();
    let inst = s
        .add_instance(
            new_instance(AppKind::Okta, "okta"),
            &Secret::new("first-secret-7c1a"),
            0,
        )
        .unwrap();
    drop(s);
    assert!(!file_holds(&path, "first-secret-7c1a"));
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    let s = open(&key).unwrap();
    assert_eq!(s.secret(inst.id).unwrap().expose(), "first-secret-7c1a");
    s.set_secret(inst.id, &Secret::new("second-secret-d04e"))
        .unwrap();
    assert_eq!(s.secret(inst.id).unwrap().expose(), "second-secret-d04e");
    assert!(matches!(
        s.set_secret(InstanceId(99), &Secret::new("x")),
        Err(StoreError::NotFound(_))
    ));
    drop(s);
    assert!(!file_holds(&path, "second-secret-d04e"));

    // A service manager now gives another key: the secrets move to it.
    let given = dir.path().join("credentials").join("casbah.key");
    let s = open(&given).unwrap();
    assert_eq!(s.secret(inst.id).unwrap().expose(), "second-secret-d04e");
    drop(s);
    std::fs::remove_file(&key).unwrap();
    let s = open(&given).unwrap();
    assert_eq!(s.secret(inst.id).unwrap().expose(), "second-secret-d04e");
    drop(s);

    // Without its key, a secret cannot be read, and the error says what to do.
    std::fs::remove_file(&given).unwrap();
    let s = Store::open(&path).unwrap();
    let err = s.secret(inst.id).unwrap_err().to_string();
    assert!(err.contains("cannot read the secrets key"), "{err}");
    assert!(!err.contains("second-secret"), "{err}");
}

// Issue 10: a schema 4 database, whose secrets an earlier casbah kept in plain text, has
// them sealed when it is opened, and they still read.
#[test]
fn plain_text_secrets_of_an_earlier_casbah_are_sealed_on_open() {
    use redb::{ReadableDatabase, ReadableTableMetadata, TableDefinition};
    const PLAIN: TableDefinition<u64, &str> = TableDefinition::new("credentials");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("casbah.redb");
    let s = common::open_store(&path).unwrap();
    let inst = s
        .add_instance(new_instance(AppKind::Okta, "okta"), &Secret::new("x"), 0)
        .unwrap();
    drop(s);
    {
        // What casbah wrote before secrets were sealed.
        let db = redb::Database::open(&path).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(PLAIN)
            .unwrap()
            .insert(inst.id.0, "plain-secret-31f8")
            .unwrap();
        txn.delete_table(TableDefinition::<u64, &[u8]>::new("sealed-credentials"))
            .unwrap();
        txn.delete_table(TableDefinition::<&str, &str>::new("vault"))
            .unwrap();
        txn.open_table(TableDefinition::<&str, u64>::new("casbah.meta"))
            .unwrap()
            .insert("schema", 4)
            .unwrap();
        txn.commit().unwrap();
    }
    let s = common::open_store(&path).unwrap();
    assert_eq!(s.secret(inst.id).unwrap().expose(), "plain-secret-31f8");
    drop(s);
    let db = redb::Database::open(&path).unwrap();
    let txn = db.begin_read().unwrap();
    assert_eq!(txn.open_table(PLAIN).unwrap().len().unwrap(), 0);
}

// Issue 13: a schema-6 file (no hour counts) gets them from its posting lists when it is
// opened for writing, and its timelines then count exactly what a full scan does.
#[test]
fn a_schema_6_file_gets_its_hour_counts() {
    let Fixture { _dir, path, store } = fixture();
    let inst = store
        .add_instance(new_instance(AppKind::Box, "box"), &Secret::new("s"), 0)
        .unwrap();
    let g = store
        .create_imported_group(inst.id, &remote_group("g"), false, 0)
        .unwrap();
    store
        .sync_membership(
            g.id,
            &[user("ann@corp.com", "Ann")],
            SkipCounts::default(),
            0,
        )
        .unwrap();
    let batch: Vec<Activity> = (0..300i64)
        .map(|i| {
            let actor = ["ann@corp.com", "bob@corp.com"][i as usize % 2];
            let mut a = activity(inst.id, AppKind::Box, &format!("e{i}"), i * HOUR / 7, actor);
            a.country = Some(COUNTRIES[i as usize % 3].to_string());
            a
        })
        .collect();
    store
        .ingest(inst.id, "s", batch, "c", &IngestContext::default())
        .unwrap();
    drop(store);
    {
        let db = redb::Database::open(&path).unwrap();
        let txn = db.begin_write().unwrap();
        txn.delete_table(redb::TableDefinition::<(u8, i64), &[u8]>::new(
            "hour-counts",
        ))
        .unwrap();
        txn.open_table(redb::TableDefinition::<&str, u64>::new("casbah.meta"))
            .unwrap()
            .insert("schema", 6)
            .unwrap();
        txn.commit().unwrap();
    }
    let store = common::open_store(&path).unwrap();
    let everything = all_activities(&store, &Query::all(), 1000);
    for hints in [
        Hints::default(),
        Hints {
            groups: Some(vec![g.id]),
            ..Hints::default()
        },
        Hints {
            countries: Some(vec!["US".into()]),
            ..Hints::default()
        },
    ] {
        let query = Query::with_hints(hints.clone());
        let h = ActivityLog::histogram(&store, &query, 0, 6 * HOUR, 8).unwrap();
        let mut expected = vec![0u64; 8];
        for a in everything.iter().filter(|a| query.matches(a)) {
            expected[(a.time / (6 * HOUR)) as usize] += 1;
        }
        assert_eq!(h.counts, expected, "{hints:?}");
        assert!(h.total() > 0, "{hints:?}");
    }
}
