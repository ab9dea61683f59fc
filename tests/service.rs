//! The service layer end to end: real store file, real connector, real HTTP
//! against the in-process sandbox.

mod common;

use std::time::{Duration, Instant};

use casbah::domain::{
    Activity, AppKind, Component, GroupKind, GroupStatus, RemoteGroup, now_micros,
};
use casbah::domain::{GroupApp, OfficeApp};
use casbah::sandbox::org::{GroupKind as OrgGroupKind, MemberRef};
use casbah::sandbox::{self, PushedActivity, Sandbox, SandboxConfig, Stream};
use casbah::service::{ConnectRequest, Event, Intervals, Service, ServiceError};
use casbah::store::{IMPORT_LIMIT, Store, StoreError};
use tokio::sync::broadcast::Receiver;

struct World {
    sandbox: Sandbox,
    svc: Service,
    _dir: tempfile::TempDir,
}

fn fast() -> Intervals {
    Intervals {
        users: Duration::from_secs(3600),
        groups: Duration::from_secs(3600),
        activities: Duration::from_millis(200),
        tick: Duration::from_millis(50),
    }
}

async fn world_with(prepare: impl FnOnce(&Store, &Sandbox)) -> World {
    let sandbox = sandbox::start(SandboxConfig {
        users: 300,
        live_rate: 0.0,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = common::open_store(&dir.path().join("casbah.redb")).expect("store");
    prepare(&store, &sandbox);
    let svc = Service::with_store(store, fast());
    World {
        sandbox,
        svc,
        _dir: dir,
    }
}

async fn world() -> World {
    world_with(|_, _| {}).await
}

impl World {
    async fn connect(&self) {
        self.connect_as("contoso", Component::default_set()).await;
    }

    async fn connect_as(&self, name: &str, components: Vec<Component>) {
        self.svc
            .connect(ConnectRequest {
                instance: self.sandbox.microsoft365_instance(name, components),
                secret: self.sandbox.client_secret.clone(),
            })
            .await
            .expect("connect");
    }

    /// The first sandbox group of `kind` with at least two active users.
    fn group_of_kind(&self, kind: OrgGroupKind) -> (String, String) {
        let org = self.sandbox.org();
        let g = org
            .groups
            .iter()
            .filter(|g| g.kind == kind)
            .find(|g| {
                org.transitive_users(&g.id).is_ok_and(|users| {
                    users
                        .iter()
                        .filter(|u| u.account_enabled && u.deleted.is_none() && !u.guest)
                        .count()
                        >= 2
                })
            })
            .expect("a group of that kind with members");
        (g.id.to_string(), g.display_name.clone())
    }

    async fn sync(&self) {
        for job in self.svc.sync_now(None).await.expect("sync") {
            job.wait().await.expect("scan");
        }
    }

    /// A sandbox group with at least `min` users, nesting included.
    fn group_with_users(&self, min: usize) -> (uuid::Uuid, String) {
        let org = self.sandbox.org();
        let g = org
            .groups
            .iter()
            .find(|g| {
                org.transitive_users(&g.id)
                    .map(|u| u.len() >= min)
                    .unwrap_or(false)
            })
            .expect("a big enough group");
        (g.id, g.display_name.clone())
    }
}

/// Waits for an event matching `pred`, with a deadline.
async fn expect_event(
    rx: &mut Receiver<Event>,
    what: &str,
    pred: impl Fn(&Event) -> bool,
) -> Event {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Ok(e)) if pred(&e) => return e,
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(e)) => panic!("event stream ended waiting for {what}: {e}"),
            Err(_) => panic!("no {what} within 30 s"),
        }
    }
}

// R-G4, R-G5, R-G11: an import runs in the background, keeps active users
// only, counts the skipped ones and tells the user when done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_keeps_active_users_counts_skips_and_notifies() {
    let w = world().await;
    w.connect().await;
    let (gid, name) = w.group_with_users(6);
    // Make sure there is something to skip: disable one member, soft-delete another.
    let (disabled, deleted, expected_active) = {
        let org = w.sandbox.org();
        let users = org.transitive_users(&gid).unwrap();
        let active: Vec<_> = users
            .iter()
            .filter(|u| u.account_enabled && u.deleted.is_none())
            .collect();
        (active[0].id, active[1].id, active.len() - 2)
    };
    w.sandbox.set_account_enabled(disabled, false).unwrap();
    w.sandbox.set_deleted(deleted, true).unwrap();

    let mut events = w.svc.subscribe();
    let (group, job) = w
        .svc
        .import_group("contoso", &name, true)
        .await
        .expect("import");
    assert_eq!(
        group.status,
        GroupStatus::Importing,
        "R-G5: importing until the first sync"
    );
    let summary = job.wait().await.expect("first sync");
    let notice = expect_event(&mut events, "the import notification", |e| {
        matches!(e, Event::Notification { .. })
    })
    .await;
    let Event::Notification { text, .. } = notice else {
        unreachable!()
    };
    assert!(
        text.starts_with(&name) && text.contains(" imported"),
        "{text}"
    );
    assert!(
        text.contains("disabled") && text.contains("deleted"),
        "{text}"
    );

    let group = w.svc.find_group(&name).await.unwrap();
    assert_eq!(group.status, GroupStatus::Ready);
    assert_eq!(group.member_count as usize, expected_active, "{summary}");
    assert!(group.skipped.disabled >= 1 && group.skipped.deleted >= 1);
    let members = w.svc.members(group.id).await.unwrap();
    assert_eq!(members.len(), expected_active);
    let org = w.sandbox.org();
    let disabled_mail = org.user(&disabled).unwrap().mail.to_lowercase();
    assert!(
        members.iter().all(|m| m.key != disabled_mail),
        "disabled users are not imported"
    );
}

// R-G6, R-G9: activities after the import are tagged when their actor is a
// member; others are not; the group works as a filter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_activities_of_members_are_tagged_and_filterable() {
    let w = world().await;
    w.connect().await;
    w.sync().await;
    let (gid, name) = w.group_with_users(2);
    let (_, job) = w.svc.import_group("contoso", &name, false).await.unwrap();
    job.wait().await.unwrap();
    let group = w.svc.find_group(&name).await.unwrap();
    let member = w.svc.members(group.id).await.unwrap()[0].key.clone();
    let outsider = {
        let org = w.sandbox.org();
        let inside: Vec<String> = org
            .transitive_users(&gid)
            .unwrap()
            .iter()
            .map(|u| u.mail.to_lowercase())
            .collect();
        org.users
            .iter()
            .find(|u| u.account_enabled && !u.guest && !inside.contains(&u.mail.to_lowercase()))
            .unwrap()
            .mail
            .clone()
    };
    w.sandbox.push_activity(PushedActivity::new(
        Stream::SignIns,
        &member,
        "Office 365 Exchange Online",
    ));
    w.sandbox.push_activity(PushedActivity::new(
        Stream::SignIns,
        &outsider,
        "Office 365 Exchange Online",
    ));
    w.sync().await;

    let filter = format!("group:\"{name}\"");
    let tagged = w.svc.activities(&filter, 100, None).await.unwrap().items;
    assert!(!tagged.is_empty(), "the member's new sign-in is tagged");
    assert!(
        tagged
            .iter()
            .all(|a| a.actor == member && a.time >= group.imported_at)
    );
    let outsider_rows = w
        .svc
        .activities(&format!("user:{}", outsider.to_lowercase()), 100, None)
        .await
        .unwrap()
        .items;
    let newest = outsider_rows
        .first()
        .expect("the outsider's sign-in is stored");
    assert!(!newest.groups.contains(&group.id));
}

// R-G7: a later sync records who joined and who left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_membership_sync_records_joins_and_leaves() {
    let w = world().await;
    w.connect().await;
    let (gid, name) = w.group_with_users(3);
    let (_, job) = w.svc.import_group("contoso", &name, false).await.unwrap();
    job.wait().await.unwrap();
    let group = w.svc.find_group(&name).await.unwrap();
    // The leaver is a direct member reached through no nested group, so removing it removes the person.
    let (leaver, joiner, leaver_key, joiner_key) = {
        let org = w.sandbox.org();
        let inside = org.transitive_users(&gid).unwrap();
        let direct = &org.groups.iter().find(|g| g.id == gid).unwrap().members;
        let mut nested = std::collections::HashSet::new();
        for m in direct {
            if let MemberRef::Group(i) = m {
                nested.extend(
                    org.transitive_users(&org.groups[*i as usize].id)
                        .unwrap()
                        .iter()
                        .map(|u| u.id),
                );
            }
        }
        let leaver = direct
            .iter()
            .find_map(|m| match m {
                MemberRef::User(i) => {
                    let u = &org.users[*i as usize];
                    (u.account_enabled && u.deleted.is_none() && !nested.contains(&u.id))
                        .then_some(u)
                }
                _ => None,
            })
            .expect("a direct, active user member");
        let joiner = org
            .users
            .iter()
            .find(|u| {
                u.account_enabled && u.deleted.is_none() && !inside.iter().any(|i| i.id == u.id)
            })
            .unwrap();
        (
            leaver.id,
            joiner.id,
            leaver.mail.to_lowercase(),
            joiner.mail.to_lowercase(),
        )
    };
    let before = w.svc.members(group.id).await.unwrap().len();
    w.sandbox.remove_member(gid, leaver).unwrap();
    w.sandbox.add_member(gid, joiner).unwrap();
    w.svc
        .sync_group(group.id, &name)
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();

    let history = w.svc.membership_history(group.id).await.unwrap();
    assert!(history.iter().any(|c| c.user == joiner_key && c.joined));
    assert!(history.iter().any(|c| c.user == leaver_key && !c.joined));
    let after = w.svc.members(group.id).await.unwrap();
    assert!(after.iter().any(|m| m.key == joiner_key));
    assert!(!after.iter().any(|m| m.key == leaver_key));
    assert_eq!(after.len(), before);
    assert!(w.svc.find_group(&name).await.unwrap().last_sync.is_some());
}

// R-G1: administrators and External users are groups without any import.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrators_and_external_users_form_automatic_groups() {
    let w = world().await;
    w.connect().await;
    w.sync().await;
    let groups = w.svc.groups().await.unwrap();
    let admins = groups
        .iter()
        .find(|g| g.name == "Microsoft 365 administrator")
        .expect("admin group");
    assert!(matches!(admins.kind, GroupKind::Automatic(_)));
    let expected_admins = {
        let org = w.sandbox.org();
        let mut ids: Vec<u32> = org
            .roles
            .iter()
            .flat_map(|r| r.members.iter().copied())
            .collect();
        ids.sort();
        ids.dedup();
        ids.iter()
            .filter(|&&i| {
                org.users[i as usize].account_enabled && org.users[i as usize].deleted.is_none()
            })
            .count()
    };
    assert_eq!(admins.member_count as usize, expected_admins);

    let external = groups
        .iter()
        .find(|g| g.name == "External")
        .expect("External group");
    let members = w.svc.members(external.id).await.unwrap();
    assert!(
        !members.is_empty(),
        "guests and outsiders appear in activities"
    );
    // Entra guests sign in with a UPN in an org domain; their activities
    // are filed under their own mail, outside the organisation's domains.
    let org = w.sandbox.org();
    let domains = org.domains();
    assert!(
        members
            .iter()
            .all(|m| !domains.iter().any(|d| m.key.ends_with(&format!("@{d}"))))
    );
    let guest_mails: Vec<String> = org
        .users
        .iter()
        .filter(|u| u.guest)
        .map(|u| u.mail.to_lowercase())
        .collect();
    assert!(
        members.iter().any(|m| guest_mails.contains(&m.key)),
        "guests sign in too"
    );
}

// R-G3: the 501st import is refused, naming the limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_501st_import_is_refused() {
    // Connect and fill the quota straight through the store, as 500 earlier imports would have.
    let w = world_with(|store, sandbox| {
        let new = sandbox.microsoft365_instance("contoso", Component::default_set());
        let instance = store
            .add_instance(new, &sandbox.client_secret, now_micros())
            .unwrap()
            .id;
        for i in 0..IMPORT_LIMIT {
            let g = RemoteGroup {
                id: format!("filler-{i}"),
                display_name: format!("Filler {i}"),
                description: None,
                email: None,
                microsoft365: false,
            };
            store
                .create_imported_group(instance, &g, false, now_micros())
                .unwrap();
        }
    })
    .await;
    let (_, name) = w.group_with_users(1);
    let err = w
        .svc
        .import_group("contoso", &name, false)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ServiceError::Store(StoreError::ImportLimit)),
        "{err}"
    );
    assert!(err.to_string().contains("500"));
}

// R-C4: the scheduler runs due scans by itself and records them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_runs_due_scans_by_itself() {
    let w = world().await;
    let mut events = w.svc.subscribe();
    w.svc.start_scheduler();
    w.connect().await;
    expect_event(&mut events, "ingested activities", |e| {
        matches!(e, Event::ActivitiesIngested { .. })
    })
    .await;
    // A live activity is picked up by a later scan without being asked.
    w.sandbox.push_activity(PushedActivity::new(
        Stream::SignIns,
        "live.user@fabrikam.com",
        "Azure Portal",
    ));
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let page = w
            .svc
            .activities("user:live.user@fabrikam.com", 10, None)
            .await
            .unwrap();
        if !page.items.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the scheduler never picked up the live activity"
        );
        expect_event(&mut events, "another scan", |e| {
            matches!(e, Event::JobFinished { .. })
        })
        .await;
    }
    let summary = &w.svc.instances().await.unwrap()[0];
    assert!(
        summary
            .scans
            .iter()
            .all(|(_, s)| s.last_success.is_some() && s.last_error.is_none())
    );
    w.svc.shutdown().await;
}

// R-G10: with Office 365 activities on, an imported Microsoft 365 group is
// also a group of SharePoint, OneDrive, Exchange and Teams; a security group
// is not. The picker says so before the import.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn microsoft365_groups_are_also_groups_of_the_enabled_office_apps() {
    let w = world().await;
    w.connect().await;
    let (unified_id, unified) = w.group_of_kind(OrgGroupKind::Unified);
    let (security_id, security) = w.group_of_kind(OrgGroupKind::Security);

    let offered = w
        .svc
        .available_groups("contoso", Some(&unified))
        .await
        .unwrap();
    let row = offered
        .iter()
        .find(|g| g.group.id == unified_id)
        .expect("the Microsoft 365 group is offered");
    assert!(row.group.microsoft365);
    assert_eq!(row.also_in, OfficeApp::ALL);
    let offered = w.svc.available_groups("contoso", None).await.unwrap();
    assert!(
        offered
            .iter()
            .any(|g| !g.group.microsoft365 && g.also_in.is_empty())
    );

    for id in [&unified_id, &security_id] {
        let (_, job) = w.svc.import_group("contoso", id, false).await.unwrap();
        job.wait().await.expect("first sync");
    }
    let of_sharepoint = w.svc.listed_groups(Some("sharepoint")).await.unwrap();
    let names: Vec<&str> = of_sharepoint
        .iter()
        .map(|g| g.group.name.as_str())
        .collect();
    assert_eq!(
        names,
        [unified.as_str()],
        "{security} is not a SharePoint group"
    );
    assert!(of_sharepoint[0].group.microsoft365);
    // issue 10: all ten Office apps of the seed, with Office 365 activities.
    let mut apps = vec![GroupApp::App(AppKind::Microsoft365)];
    apps.extend(OfficeApp::ALL.map(GroupApp::Office));
    assert_eq!(of_sharepoint[0].apps, apps);
    assert_eq!(
        w.svc.listed_groups(Some("yammer")).await.unwrap(),
        of_sharepoint,
        "Yammer lists the same group"
    );
    // By full name too; Teams lists the same group.
    let teams = w.svc.listed_groups(Some("Microsoft Teams")).await.unwrap();
    assert_eq!(teams, of_sharepoint);
    // Both imports are groups of Microsoft 365 itself.
    let of_m365 = w.svc.listed_groups(Some("microsoft365")).await.unwrap();
    for name in [&unified, &security] {
        assert!(of_m365.iter().any(|g| &g.group.name == name), "{name}");
    }
    let err = w.svc.listed_groups(Some("sharepont")).await.unwrap_err();
    let ServiceError::Unknown { suggestions, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!(suggestions.first().map(String::as_str), Some("sharepoint"));
}

// R-G10: without the Office 365 components no Office app is enabled, so a
// Microsoft 365 group is a group of Microsoft 365 only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_office_components_no_group_is_an_office_app_group() {
    let w = world().await;
    w.connect_as(
        "contoso",
        vec![
            Component::UsersAndGroups,
            Component::SignInEvents,
            Component::ManagementEvents,
        ],
    )
    .await;
    let (unified_id, _) = w.group_of_kind(OrgGroupKind::Unified);
    let (security_id, _) = w.group_of_kind(OrgGroupKind::Security);
    let offered = w.svc.available_groups("contoso", None).await.unwrap();
    assert!(offered.iter().any(|g| g.group.microsoft365));
    assert!(offered.iter().all(|g| g.also_in.is_empty()));
    for id in [&unified_id, &security_id] {
        let (_, job) = w.svc.import_group("contoso", id, false).await.unwrap();
        job.wait().await.expect("first sync");
    }
    for app in OfficeApp::ALL {
        assert_eq!(
            w.svc.listed_groups(Some(app.slug())).await.unwrap(),
            [],
            "{app:?}"
        );
    }
    let all = w.svc.listed_groups(None).await.unwrap();
    let unified = all
        .iter()
        .find(|g| g.group.microsoft365)
        .expect("the Microsoft 365 group is imported");
    assert_eq!(unified.apps, [GroupApp::App(AppKind::Microsoft365)]);
}

// R-G10, R-G6, R-G9: an Office 365 SharePoint activity by a member of an
// imported Microsoft 365 group is tagged with the group, and the group with
// the app selects it. Office 365 activities are activities of the
// microsoft365 app from the "Office 365" source.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharepoint_activities_of_microsoft365_group_members_are_filterable() {
    let w = world().await;
    w.connect().await;
    w.sync().await;
    let (unified_id, unified) = w.group_of_kind(OrgGroupKind::Unified);
    let (_, job) = w
        .svc
        .import_group("contoso", &unified_id, false)
        .await
        .unwrap();
    job.wait().await.unwrap();
    let group = w.svc.find_group(&unified).await.unwrap();
    // An employee, so that only the imported group tags the activity.
    let domains = w.sandbox.org().domains();
    let member = w
        .svc
        .members(group.id)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.key)
        .find(|k| domains.iter().any(|d| k.ends_with(&format!("@{d}"))))
        .expect("an employee member");
    let mut download = PushedActivity::new(Stream::SharePoint, &member, "FileDownloaded");
    download.object = Some("r10.docx".into());
    // Audit records carry whole seconds: the first whole second after the
    // import, so that R-G6 lets the group tag it.
    download.at = chrono::DateTime::from_timestamp(group.imported_at.div_euclid(1_000_000) + 1, 0)
        .expect("a time");
    w.sandbox.push_activity(download);

    let filter =
        format!("group:\"{unified}\" app:microsoft365 source:\"Office 365\" type:FileDownloaded");
    // The Management API serves whole seconds that have passed: poll until
    // the second of the push is served.
    let deadline = Instant::now() + Duration::from_secs(20);
    let (rows, row) = loop {
        w.sync().await;
        let rows = w.svc.activities(&filter, 100, None).await.unwrap().items;
        if let Some(row) = rows
            .iter()
            .find(|a| a.objects.iter().any(|o| o.name == "r10.docx"))
            .cloned()
        {
            break (rows, row);
        }
        assert!(
            Instant::now() < deadline,
            "the member's SharePoint download was never tagged and selected"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(row.actor, member);
    assert!(row.groups.contains(&group.id));
    assert!(
        rows.iter()
            .all(|a| a.groups.contains(&group.id) && a.source == "Office 365")
    );

    // R-G10, R-A1: the natural question once Microsoft 365 groups are
    // SharePoint groups. The sandbox puts pushed file activity on team sites.
    assert_eq!(row.office_app, Some(OfficeApp::SharePoint));
    let of_sharepoint = select(&w, &format!("app:sharepoint group:\"{unified}\"")).await;
    assert!(of_sharepoint.iter().any(|a| a.id == row.id));
    assert!(
        of_sharepoint.iter().all(|a| {
            a.office_app == Some(OfficeApp::SharePoint) && a.groups.contains(&group.id)
        })
    );
    let of_onedrive = select(&w, &format!("app:onedrive group:\"{unified}\"")).await;
    assert!(of_onedrive.iter().all(|a| a.id != row.id));
}

/// Every activity `filter` selects.
async fn select(w: &World, filter: &str) -> Vec<Activity> {
    w.svc
        .activities(filter, 100_000, None)
        .await
        .unwrap_or_else(|e| panic!("{filter}: {e}"))
        .items
}

// R-G10, R-A1: over HTTP, Office 365 records keep the Office app of their
// Workload. With Office 365 activities on, `app:sharepoint` selects SharePoint
// records only, each with office_app SharePoint, and so on for every Office
// app; `app:microsoft365` still selects every Microsoft 365 record, sign-ins
// (of no Office app) included; `-app:sharepoint` leaves exactly the
// SharePoint ones out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn office_apps_select_the_activities_of_their_workload() {
    let w = world().await;
    w.connect().await;
    w.sync().await;

    let microsoft365 = select(&w, "app:microsoft365").await;
    assert!(microsoft365.iter().all(|a| a.app == AppKind::Microsoft365));
    assert!(
        microsoft365
            .iter()
            .any(|a| a.office_app.is_none() && a.source == "Azure AD sign-ins"),
        "sign-ins are Microsoft 365 records of no Office app"
    );
    for office in OfficeApp::ALL {
        let rows = select(&w, &format!("app:{}", office.slug())).await;
        assert!(!rows.is_empty(), "no {} activity", office.slug());
        assert!(
            rows.iter().all(|a| a.office_app == Some(office)
                && a.app == AppKind::Microsoft365
                && a.source == "Office 365"),
            "{}",
            office.slug()
        );
        let in_microsoft365 = microsoft365
            .iter()
            .filter(|a| a.office_app == Some(office))
            .count();
        assert_eq!(rows.len(), in_microsoft365, "{}", office.slug());
    }

    let sharepoint = select(&w, "app:sharepoint").await;
    let by_name = select(&w, "app:\"SharePoint Online\"").await;
    assert_eq!(by_name, sharepoint);
    let rest = select(&w, "app:microsoft365 -app:sharepoint").await;
    assert_eq!(rest.len() + sharepoint.len(), microsoft365.len());
    assert!(
        rest.iter()
            .all(|a| a.office_app != Some(OfficeApp::SharePoint))
    );

    let err = w
        .svc
        .activities("app:sharepont", 10, None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("sharepoint"), "{err}");
}

// R-C2, issue 8: an instance connected and synced by one process files every record under
// its own id (the connector that checked the credentials, built before the id existed,
// once kept reading under instance 0), so `instance:NAME` finds them all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_of_an_instance_connected_in_this_process_name_it() {
    let w = world().await;
    w.connect().await;
    w.sync().await;
    let id = w.svc.find_instance("contoso").await.unwrap().id;
    let all = select(&w, "").await;
    assert!(all.len() > 100, "a week of activities: {}", all.len());
    let stray: Vec<_> = all.iter().filter(|a| a.instance != id).collect();
    assert!(
        stray.is_empty(),
        "{} records under another instance",
        stray.len()
    );
    assert_eq!(select(&w, "instance:contoso").await.len(), all.len());
}

// R-C2: the same instance name in two apps is fine; a command naming it says which it
// means, and `APP/NAME` picks one. The same name twice in one app is refused.
#[tokio::test]
async fn an_instance_name_two_apps_share_must_say_which() {
    use casbah::domain::Secret;
    use casbah::store::NewInstance;
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_store(&dir.path().join("casbah.redb")).unwrap();
    let okta = NewInstance::new(AppKind::Okta, "acme").with_field("domain", "acme.okta.com");
    let github = NewInstance::new(AppKind::Github, "acme").with_field("organization", "acme");
    store
        .add_instance(okta.clone(), &Secret::new("t"), 0)
        .unwrap();
    store.add_instance(github, &Secret::new("t"), 0).unwrap();
    assert!(matches!(
        store.add_instance(okta, &Secret::new("t"), 0),
        Err(StoreError::DuplicateInstance { .. })
    ));
    let svc = Service::with_store(store, Intervals::default());
    let err = svc.find_instance("acme").await.unwrap_err();
    assert!(err.is_usage());
    let text = err.to_string();
    assert!(
        text.contains("okta/acme") && text.contains("github/acme"),
        "{text}"
    );
    assert_eq!(
        svc.find_instance("okta/acme").await.unwrap().app,
        AppKind::Okta
    );
    assert_eq!(
        svc.find_instance("GitHub/ACME").await.unwrap().app,
        AppKind::Github
    );
    assert!(matches!(
        svc.find_instance("box/acme").await,
        Err(ServiceError::Unknown { .. })
    ));
}

// R-C2, R-A2: `instance:NAME` in a filter names one instance; a name two apps share must
// say which (`instance:okta/acme`), and the error lists how to name each.
#[tokio::test]
async fn a_filter_names_one_instance_of_a_shared_name() {
    use casbah::domain::Secret;
    use casbah::store::NewInstance;
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_store(&dir.path().join("casbah.redb")).unwrap();
    for new in [
        NewInstance::new(AppKind::Okta, "acme").with_field("domain", "acme.okta.com"),
        NewInstance::new(AppKind::Github, "acme").with_field("organization", "acme"),
        NewInstance::new(AppKind::Okta, "solo").with_field("domain", "solo.okta.com"),
    ] {
        store.add_instance(new, &Secret::new("t"), 0).unwrap();
    }
    let svc = Service::with_store(store, Intervals::default());
    let err = svc
        .compile_filter("instance:acme")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("okta/acme") && err.contains("github/acme"),
        "{err}"
    );
    assert!(svc.compile_filter("instance:okta/acme").await.is_ok());
    assert!(svc.compile_filter("instance:solo").await.is_ok());
    assert!(svc.compile_filter("instance:okta/solo").await.is_ok());
}

// R-G8, R-G1: the first activity scan of an instance waits for its accounts, so an Entra
// guest's sign-ins are filed under the guest's mail (not the #EXT# sign-in name) however
// the two scans are started.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_activity_scan_reads_the_accounts_first() {
    let w = world().await;
    w.connect().await;
    // The user list answers late: an activity scan that did not wait would go first.
    w.sandbox.fail_next(
        "/v1.0/users",
        sandbox::Fault::Throttle {
            retry_after: Some(0.5),
        },
        1,
    );
    w.sync().await;
    let all = select(&w, "").await;
    let guests = w
        .sandbox
        .org()
        .users
        .iter()
        .filter(|u| u.guest)
        .map(|u| u.mail.to_lowercase())
        .collect::<std::collections::HashSet<_>>();
    assert!(
        all.iter().any(|a| guests.contains(&a.actor)),
        "guests sign in"
    );
    let raw: Vec<_> = all.iter().filter(|a| a.actor.contains("#ext#")).collect();
    assert!(
        raw.is_empty(),
        "{} records under a guest's sign-in name",
        raw.len()
    );
}

// R-C4, issue 10: one failing stream does not starve the others, and each stream shows its
// own last success and error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_stream_does_not_starve_the_others() {
    let w = world().await;
    w.connect().await;
    // Sign-ins, read first, ask for a wait casbah does not take within one scan.
    w.sandbox.fail_next(
        "/v1.0/auditLogs/signIns",
        sandbox::Fault::Throttle {
            retry_after: Some(120.0),
        },
        1,
    );
    let mut errors = Vec::new();
    for job in w.svc.sync_now(None).await.unwrap() {
        if let Err(e) = job.wait().await {
            errors.push(e);
        }
    }
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("asked to wait"), "{errors:?}");
    let all = select(&w, "").await;
    assert!(
        all.iter().any(|a| a.office_app.is_some()),
        "Office 365 records came in"
    );
    assert!(
        all.iter().any(|a| a.source == "Azure AD audit"),
        "directory audits came in"
    );
    assert!(
        !all.iter().any(|a| a.source == "Azure AD sign-ins"),
        "no sign-in was read"
    );
    let summary = &w.svc.instances().await.unwrap()[0];
    let stream = |name: &str| {
        summary
            .streams
            .iter()
            .find(|(s, _)| s == name)
            .map(|(_, st)| st.clone())
            .unwrap_or_else(|| panic!("no state for {name}: {:?}", summary.streams))
    };
    let signins = stream("signins");
    assert!(signins.last_error.is_some() && signins.last_success.is_none());
    for other in [
        "directory-audits",
        "o365-Audit.SharePoint",
        "o365-Audit.Exchange",
    ] {
        let st = stream(other);
        assert!(
            st.last_success.is_some() && st.last_error.is_none(),
            "{other}: {st:?}"
        );
    }
}

// Issue 13, R-A4: a timeline counts exactly what the filter selects, in every bucket,
// whether its hints decide it (read from the indexes) or its records must be tested
// (negations, text, types); `all` counts every record of the span, and a span that ends
// before it starts is refused in words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeline_counts_what_its_filter_selects() {
    let w = world().await;
    w.connect().await;
    w.sync().await;
    let all = select(&w, "").await;
    let (newest, oldest) = (all[0].time, all[all.len() - 1].time);
    let some_type = all[all.len() / 2].activity_type.clone();
    let some_actor = all[all.len() / 3].actor.clone();
    let filters = [
        String::new(),
        "app:microsoft365".to_string(),
        format!("user:\"{some_actor}\""),
        "-country:US".to_string(),
        format!("type:\"{some_type}\""),
        "country:(US,GB) -admin".to_string(),
    ];
    for filter in &filters {
        for buckets in [7, 60, 500] {
            let t = w
                .svc
                .timeline(filter, oldest, newest + 1, buckets)
                .await
                .unwrap_or_else(|e| panic!("{filter}: {e}"));
            let h = &t.histogram;
            assert!(
                h.from <= oldest && h.to() > newest,
                "{filter}: the span is covered"
            );
            assert!(
                h.counts.len() <= buckets + 1,
                "{filter}: {} buckets",
                h.counts.len()
            );
            let mut expected = vec![0u64; h.counts.len()];
            for a in select(&w, filter).await {
                expected[h.bucket_of(a.time).expect("in the span")] += 1;
            }
            assert_eq!(h.counts, expected, "{filter} in {buckets} buckets");
            assert_eq!(
                t.all,
                all.len() as u64,
                "{filter}: every record of the span"
            );
        }
    }
    let err = w.svc.timeline("", newest, oldest, 10).await.unwrap_err();
    assert!(err.to_string().contains("end must come after"), "{err}");
    let err = w
        .svc
        .timeline("country:", oldest, newest, 10)
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::Filter(_)), "{err}");
}

// Issue 13 (visible operations): a scan the vendor throttles says why and until when it
// waits; cancelling it ends it at once, its waiter learns so, it is gone from the jobs, and
// the next scan starts afresh.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_scan_says_until_when_and_can_be_cancelled() {
    let w = world().await;
    w.connect().await;
    w.sync().await;
    w.sandbox.fail_next(
        "/v1.0/users",
        sandbox::Fault::Throttle {
            retry_after: Some(4.0),
        },
        1,
    );
    let mut events = w.svc.subscribe();
    let scan_users = async || {
        let jobs = w.svc.scan_now("contoso", casbah::store::ScanKind::Users);
        jobs.await.expect("scan").remove(0)
    };
    let job = scan_users().await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let said = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, events.recv()).await {
            Ok(Ok(Event::JobProgress { id, label, .. })) if id == job.id => {
                if label.contains("waiting until") {
                    break label;
                }
            }
            Ok(Ok(_)) => {}
            other => panic!("no word of the wait: {other:?}"),
        }
    };
    assert!(said.contains("throttled with 429"), "{said}");
    assert!(said.ends_with(" UTC"), "{said}");
    let running = w.svc.running_jobs().await.expect("jobs");
    assert!(running.iter().any(|j| j.id == job.id), "{running:?}");
    let label = w.svc.cancel_job(job.id).await.expect("cancelled");
    let running = w.svc.running_jobs().await.expect("jobs");
    assert!(!running.iter().any(|j| j.id == job.id), "{running:?}");
    assert!(label.contains("contoso"), "{label}");
    let ended = tokio::time::timeout(Duration::from_secs(5), job.clone().wait())
        .await
        .expect("the waiter is told at once");
    assert!(ended.is_err_and(|e| e.ends_with("cancelled")));
    let again = w
        .svc
        .cancel_job(job.id)
        .await
        .expect_err("no longer running");
    assert!(again.to_string().contains("no job"), "{again}");
    let next = scan_users().await;
    assert_ne!(next.id, job.id, "a new scan, not the cancelled one");
    // After the vendor's window: it answers early requests with 429 again.
    next.wait().await.expect("the next scan runs");
}
