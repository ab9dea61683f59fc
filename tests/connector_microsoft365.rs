//! The Microsoft 365 connector over real HTTP against the sandbox's Microsoft
//! dialect (Entra tokens, Graph v1.0, Office 365 Management API).

mod common;

use std::collections::{BTreeSet, HashSet};
use std::time::{Duration, Instant};

use casbah::connectors::http::RetryPolicy;
use casbah::connectors::microsoft365::Microsoft365;
use casbah::connectors::{Connector, ConnectorError};
use casbah::domain::activity::ACTION_TYPES;
use casbah::domain::governance::AccountAction;
use casbah::domain::{
    Activity, AppKind, Component, Instance, InstanceId, ObjectKind, RemoteUser, Secret, UserStatus,
    UserType,
};
use casbah::sandbox::{Fault, PushedActivity, Sandbox, SandboxConfig, Stream};
use chrono::{TimeDelta, Utc};

async fn sandbox(users: usize) -> Sandbox {
    Sandbox::start(SandboxConfig {
        users,
        live_rate: 0.0,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts")
}

fn instance(sb: &Sandbox, components: &[Component]) -> Instance {
    sb.microsoft365_instance("Contoso", components.to_vec())
        .into_instance(InstanceId(1), 0)
}

use common::{
    all_users, assert_a_sweep_resumes, fast_retries as fast, pushed, read_stream, still_sandbox,
};

fn connector(sb: &Sandbox) -> Microsoft365 {
    connector_with(sb, &[Component::UsersAndGroups])
}

fn connector_with(sb: &Sandbox, components: &[Component]) -> Microsoft365 {
    Microsoft365::with_policy(&instance(sb, components), sb.client_secret.clone(), fast())
        .expect("connector")
}

fn upn(sb: &Sandbox, i: usize) -> String {
    sb.org().users[i].user_principal_name.clone()
}

/// Every directory user's UPN, lower-cased as records key people.
fn directory_upns(sb: &Sandbox) -> HashSet<String> {
    sb.org()
        .users
        .iter()
        .map(|u| u.user_principal_name.to_lowercase())
        .collect()
}

fn token_path(sb: &Sandbox) -> String {
    format!("/{}/oauth2/v2.0/token", sb.tenant_id)
}

// R-C3: a check obtains a token, then reads the first page of users.
#[tokio::test]
async fn check_reads_the_first_page_of_users() {
    let sb = sandbox(120).await;
    let check = connector(&sb).check().await.expect("check");
    let listed = sb.org().listed_users().count();
    assert_eq!(check.users_seen, listed.min(999));
    assert_eq!(sb.served_with(&token_path(&sb), 200), 1);
    assert_eq!(sb.served_with("/v1.0/users", 200), 1);
}

// R-C3: one token serves many calls until it nears expiry.
#[tokio::test]
async fn the_token_is_cached_across_calls() {
    let sb = sandbox(60).await;
    let m = connector(&sb);
    m.check().await.unwrap();
    m.first_groups(50).await.unwrap();
    m.users(None).await.unwrap();
    m.org_domains(&Default::default()).await.unwrap();
    assert_eq!(sb.served(&token_path(&sb)), 1);
}

// R-C3: a wrong secret is refused in one line naming Entra's code, never the secret.
#[tokio::test]
async fn a_wrong_secret_is_an_auth_error_without_the_secret() {
    let sb = sandbox(20).await;
    let wrong = "Wr0ng~secret-value-1234567890";
    let m = Microsoft365::with_policy(
        &instance(&sb, &[Component::UsersAndGroups]),
        Secret::new(wrong),
        fast(),
    )
    .unwrap();
    let err = m.check().await.unwrap_err();
    assert!(matches!(err, ConnectorError::Auth { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("AADSTS7000215"), "{text}");
    assert!(!text.contains(wrong), "{text}");
    assert!(!text.contains(sb.client_secret.expose()), "{text}");
    assert!(!format!("{err:?}").contains(wrong));
    // Refused credentials are not retried.
    assert_eq!(sb.served(&token_path(&sb)), 1);
}

// R-C7: an endpoint nobody listens on says the host is unreachable.
#[tokio::test]
async fn an_unreachable_endpoint_is_reported_as_such() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let inst = Instance {
        id: InstanceId(1),
        app: AppKind::Microsoft365,
        name: "Nowhere".into(),
        fields: [("tenant-id", "t"), ("client-id", "c")]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .into(),
        endpoint: Some(format!("http://127.0.0.1:{port}")),
        components: vec![Component::UsersAndGroups],
        created_at: 0,
    };
    let err = Microsoft365::with_policy(&inst, Secret::new("s3cret-value"), fast())
        .unwrap()
        .check()
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectorError::Unreachable { .. }), "{err}");
}

// R-G2 paging: every @odata.nextLink is followed as given, across many pages.
#[tokio::test]
async fn users_page_across_many_pages_without_duplicates() {
    let sb = sandbox(100).await;
    let m = connector(&sb).with_page_size(30);
    let (users, pages) = all_users(&m).await;
    let ids: HashSet<&str> = users.iter().map(|u| u.id.as_str()).collect();
    let of = |f: &dyn Fn(&RemoteUser) -> bool| -> BTreeSet<String> {
        users
            .iter()
            .filter(|u| f(u))
            .map(|u| u.id.clone())
            .collect()
    };
    let guests = of(&|u| u.user_type == UserType::Guest);
    let disabled = of(&|u| u.status == UserStatus::Disabled);
    let org = sb.org();
    let listed: Vec<_> = org.listed_users().map(|(_, u)| u).collect();
    assert!(pages >= 3, "{pages} pages");
    assert_eq!(ids.len(), listed.len());
    let want_guests: BTreeSet<_> = listed
        .iter()
        .filter(|u| u.guest)
        .map(|u| u.id.to_string())
        .collect();
    let want_disabled: BTreeSet<_> = listed
        .iter()
        .filter(|u| !u.account_enabled)
        .map(|u| u.id.to_string())
        .collect();
    assert_eq!(guests, want_guests);
    assert_eq!(disabled, want_disabled);
}

// R-G2: the picker lists the first 50 groups, in the app's order.
#[tokio::test]
async fn first_groups_are_the_first_fifty() {
    let sb = sandbox(300).await;
    let groups = connector(&sb).first_groups(50).await.unwrap();
    let org = sb.org();
    assert!(
        org.groups.len() > 50,
        "the sandbox should have more than 50 groups"
    );
    let want: Vec<String> = org
        .groups
        .iter()
        .take(50)
        .map(|g| g.id.to_string())
        .collect();
    let got: Vec<String> = groups.iter().map(|g| g.id.clone()).collect();
    assert_eq!(got, want);
    assert_eq!(groups[0].display_name, org.groups[0].display_name);
    assert_eq!(groups[0].description, org.groups[0].description);
    assert_eq!(sb.served("/v1.0/groups"), 1, "one page is enough");
}

// R-G2: search uses Graph's $search, which the sandbox refuses without
// `ConsistencyLevel: eventual`.
#[tokio::test]
async fn search_finds_groups_beyond_the_first_fifty() {
    let sb = sandbox(300).await;
    let m = connector(&sb).with_page_size(5);
    let found = m.search_groups("Engineering", 500).await.expect("search");
    assert!(found.iter().any(|g| g.display_name == "Engineering - All"));
    let want: BTreeSet<String> = sb
        .org()
        .groups
        .iter()
        .filter(|g| {
            g.display_name
                .split(|c: char| !c.is_alphanumeric())
                .any(|w| w.to_lowercase().starts_with("engineering"))
        })
        .map(|g| g.id.to_string())
        .collect();
    let got: BTreeSet<String> = found.iter().map(|g| g.id.clone()).collect();
    assert_eq!(got, want);
    assert_eq!(sb.served_with("/v1.0/groups", 400), 0);
    // An empty search box lists groups in the app's order.
    let listed = m.search_groups("  ", 3).await.unwrap();
    assert_eq!(listed, m.first_groups(3).await.unwrap());
    // A limit stops paging.
    let two = m.search_groups("Engineering", 2).await.unwrap();
    assert_eq!(two.len(), 2.min(want.len()));
}

// R-G10: `groupTypes` is read, so Microsoft 365 (Unified) groups are told
// from security and distribution groups in the first 50, in search results
// and by id; the sandbox's first 50 and its search hold both kinds.
#[tokio::test]
async fn microsoft365_groups_are_marked_from_group_types() {
    let sb = sandbox(300).await;
    let m = connector(&sb);
    let unified: HashSet<String> = sb
        .org()
        .groups
        .iter()
        .filter(|g| g.kind == casbah::sandbox::org::GroupKind::Unified)
        .map(|g| g.id.to_string())
        .collect();
    let marked = |groups: &[casbah::domain::RemoteGroup]| -> HashSet<String> {
        groups
            .iter()
            .filter(|g| g.microsoft365)
            .map(|g| g.id.clone())
            .collect()
    };
    let first = m.first_groups(50).await.unwrap();
    let want: HashSet<String> = first
        .iter()
        .filter(|g| unified.contains(&g.id))
        .map(|g| g.id.clone())
        .collect();
    assert_eq!(marked(&first), want);
    assert!(
        !want.is_empty(),
        "the first 50 should hold Microsoft 365 groups"
    );
    assert!(
        want.len() < first.len(),
        "the first 50 should hold security groups too"
    );
    let found = m.search_groups("Project", 200).await.unwrap();
    let want: HashSet<String> = found
        .iter()
        .filter(|g| unified.contains(&g.id))
        .map(|g| g.id.clone())
        .collect();
    assert_eq!(marked(&found), want);
    assert!(!want.is_empty());
    let mixed = m.search_groups("Engineering", 200).await.unwrap();
    assert!(
        mixed.iter().any(|g| g.microsoft365),
        "Engineering teams are Microsoft 365 groups"
    );
    assert!(
        mixed.iter().any(|g| !g.microsoft365),
        "Engineering regions are security groups"
    );
    let one = unified.iter().next().expect("a Microsoft 365 group");
    assert!(m.group(one).await.unwrap().microsoft365);
    let security = first
        .iter()
        .find(|g| !g.microsoft365)
        .expect("a security group");
    assert!(!m.group(&security.id).await.unwrap().microsoft365);
}

// R-G4: nested groups are flattened to users; devices, contacts and groups
// are left out; disabled users are reported Disabled so the import can skip them.
#[tokio::test]
async fn members_are_flattened_users_with_status() {
    let sb = sandbox(300).await;
    let (group, device, contact, someone) = {
        let org = sb.org();
        let g = org
            .group_by_name("Engineering - All")
            .expect("nested group");
        let first_user = org.transitive_users(&g.id).unwrap()[0].id;
        (g.id, org.devices[0].id, org.contacts[0].id, first_user)
    };
    sb.add_member(group, device).unwrap();
    sb.add_member(group, contact).unwrap();
    sb.set_account_enabled(someone, false).unwrap();

    let members = connector(&sb)
        .with_page_size(25)
        .group_members(&group.to_string())
        .await
        .unwrap()
        .items;

    let org = sb.org();
    let want: BTreeSet<String> = org
        .transitive_users(&group)
        .unwrap()
        .iter()
        .map(|u| u.id.to_string())
        .collect();
    let got: BTreeSet<String> = members.iter().map(|u| u.id.clone()).collect();
    assert_eq!(got, want);
    assert_eq!(members.len(), want.len(), "each user once");
    assert!(!got.contains(&device.to_string()) && !got.contains(&contact.to_string()));
    let me = members
        .iter()
        .find(|u| u.id == someone.to_string())
        .unwrap();
    assert_eq!(me.status, UserStatus::Disabled);
    for u in &members {
        let src = org.user(&u.id.parse().unwrap()).unwrap();
        assert_eq!(
            u.status == UserStatus::Active,
            src.account_enabled,
            "{}",
            u.email
        );
        assert_eq!(u.email, src.mail);
    }
    let path = format!("/v1.0/groups/{group}/transitiveMembers/microsoft.graph.user");
    assert!(
        sb.served_with(&path, 200) >= 3,
        "paged across at least 3 pages"
    );
}

// R-G1: Microsoft 365 administrators are the users of every directory role, once.
#[tokio::test]
async fn admins_are_role_members_deduplicated() {
    let sb = sandbox(200).await;
    let admins = connector(&sb).admins().await.unwrap().items;
    let org = sb.org();
    let want: BTreeSet<String> = org
        .roles
        .iter()
        .flat_map(|r| {
            r.members
                .iter()
                .map(|&i| org.users[i as usize].id.to_string())
        })
        .collect();
    let got: Vec<String> = admins.iter().map(|u| u.id.clone()).collect();
    assert!(!want.is_empty());
    assert_eq!(got.iter().cloned().collect::<BTreeSet<_>>(), want);
    assert_eq!(got.len(), want.len(), "no duplicates");
}

// R-G1: the organisation's own domains, lower case; anyone else is External.
#[tokio::test]
async fn org_domains_are_the_verified_domains() {
    let sb = sandbox(20).await;
    let domains = connector(&sb)
        .org_domains(&Default::default())
        .await
        .unwrap();
    let mut want: Vec<String> = sb
        .org()
        .domains()
        .iter()
        .map(|d| d.to_lowercase())
        .collect();
    want.sort();
    assert_eq!(domains, want);
}

#[tokio::test]
async fn a_missing_group_is_not_found() {
    let sb = sandbox(20).await;
    let err = connector(&sb)
        .group("00000000-0000-0000-0000-000000000000")
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectorError::NotFound { .. }), "{err}");
}

// Shared HTTP policy: a 429 is waited out for as long as Retry-After says.
#[tokio::test]
async fn throttling_honours_retry_after() {
    let sb = sandbox(20).await;
    let m = connector(&sb);
    m.check().await.unwrap(); // token fetched outside the timed part
    sb.fail_next(
        "/v1.0/users",
        Fault::Throttle {
            retry_after: Some(0.6),
        },
        1,
    );
    let started = Instant::now();
    let page = m.users(None).await.expect("succeeds after the throttle");
    assert!(!page.items.is_empty());
    assert_eq!(sb.served_with("/v1.0/users", 429), 1);
    assert_eq!(
        sb.early_retries("Microsoft"),
        0,
        "never back before the wait"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(600),
        "{:?}",
        started.elapsed()
    );
}

// Shared HTTP policy: server errors, dropped connections and cut bodies are retried.
#[tokio::test]
async fn transient_failures_are_retried() {
    let sb = sandbox(20).await;
    let m = connector(&sb);
    sb.fail_next("/v1.0/users", Fault::ServerError, 1);
    sb.fail_next("/v1.0/users", Fault::Drop, 1);
    sb.fail_next("/v1.0/users", Fault::Truncate, 1);
    let page = m.users(None).await.expect("succeeds after three failures");
    assert_eq!(page.items.len(), sb.org().listed_users().count());
    assert_eq!(sb.served_with("/v1.0/users", 503), 1);
    assert_eq!(sb.served_with("/v1.0/users", casbah::sandbox::DROPPED), 1);
    assert_eq!(sb.served("/v1.0/users"), 4);
}

// Shared HTTP policy: attempts are bounded, and the error says what happened.
#[tokio::test]
async fn retries_are_exhausted() {
    let sb = sandbox(20).await;
    let m = connector(&sb);
    sb.fail_next("/v1.0/groups", Fault::ServerError, 10);
    let err = m.first_groups(50).await.unwrap_err();
    match &err {
        ConnectorError::Exhausted { attempts, last, .. } => {
            assert_eq!(*attempts, 4);
            assert!(last.contains("503"), "{last}");
        }
        other => panic!("{other}"),
    }
    assert_eq!(sb.served_with("/v1.0/groups", 503), 4);
}

/// A sandbox with a week of history and no live stream, so reads are stable.
async fn history(users: usize) -> Sandbox {
    still_sandbox(users, 2.0).await
}

// R-C6: a first read goes about a week back. R-C8: only interactive sign-ins
// become activities. A resumed read picks up what is new and loses nothing.
#[tokio::test]
async fn sign_ins_backfill_a_week_then_resume_from_the_cursor() {
    let sb = history(40).await;
    let (alice, bob) = (upn(&sb, 1), upn(&sb, 2));
    sb.push_activity(PushedActivity {
        ip: "198.51.100.23".into(),
        country: Some("JP".into()),
        ..pushed(
            Stream::SignIns,
            &alice,
            "Pushed Interactive",
            TimeDelta::days(2),
        )
    });
    sb.push_activity(PushedActivity {
        success: false,
        ..pushed(Stream::SignIns, &bob, "Pushed Failure", TimeDelta::hours(3))
    });
    sb.push_activity(PushedActivity {
        interactive: false,
        ..pushed(
            Stream::SignIns,
            &bob,
            "Pushed Background",
            TimeDelta::days(1),
        )
    });
    sb.push_activity(pushed(
        Stream::SignIns,
        &alice,
        "Pushed Ancient",
        TimeDelta::days(8),
    ));
    let m = connector_with(&sb, &[Component::UsersAndGroups, Component::SignInEvents])
        .with_page_size(50);
    assert_eq!(m.activity_streams(), vec!["signins"]);

    let (first, cursor, calls) = read_stream(&m, "signins", None).await;
    assert!(calls >= 3, "{calls} calls: one page per call");
    let now = Utc::now();
    let oldest = first.iter().map(|a| a.time).min().expect("history");
    assert!(oldest >= (now - TimeDelta::days(7) - TimeDelta::minutes(1)).timestamp_micros());
    assert!(
        oldest <= (now - TimeDelta::days(6)).timestamp_micros(),
        "about a week back"
    );
    let app = |a: &Activity| {
        a.objects
            .first()
            .map(|o| o.name.clone())
            .unwrap_or_default()
    };
    let mine = first
        .iter()
        .find(|a| app(a) == "Pushed Interactive")
        .expect("interactive sign-in");
    assert_eq!(mine.actor, alice.to_lowercase());
    assert_eq!(
        (mine.action_type.as_str(), mine.activity_type.as_str()),
        ("sign-in", "Log on")
    );
    assert_eq!(mine.objects[0].kind, ObjectKind::App);
    assert!(mine.succeeded);
    assert_eq!(mine.ip.as_deref(), Some("198.51.100.23"));
    assert_eq!(mine.country.as_deref(), Some("JP"));
    let failed = first
        .iter()
        .find(|a| app(a) == "Pushed Failure")
        .expect("failed sign-in");
    assert_eq!(
        (failed.activity_type.as_str(), failed.succeeded),
        ("Failed log on", false)
    );
    assert_eq!(failed.actor, bob.to_lowercase());
    assert!(
        !first.iter().any(|a| app(a) == "Pushed Background"),
        "non-interactive dropped"
    );
    assert!(
        !first.iter().any(|a| app(a) == "Pushed Ancient"),
        "older than a week"
    );
    assert!(
        first
            .iter()
            .all(|a| a.action_type == "sign-in" && a.source == "Azure AD sign-ins")
    );
    assert!(
        first
            .iter()
            .all(|a| a.country.as_ref().is_none_or(|c| c.len() == 2))
    );
    let first_ids: HashSet<&str> = first.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(
        first_ids.len(),
        first.len(),
        "no record twice within a sweep"
    );

    sb.push_activity(pushed(
        Stream::SignIns,
        &alice,
        "Pushed Later",
        TimeDelta::zero(),
    ));
    sb.push_activity(PushedActivity {
        interactive: false,
        ..pushed(
            Stream::SignIns,
            &bob,
            "Pushed Later Background",
            TimeDelta::zero(),
        )
    });
    let (second, _, _) = read_stream(&m, "signins", Some(cursor)).await;
    let new: Vec<&Activity> = second
        .iter()
        .filter(|a| !first_ids.contains(a.id.as_str()))
        .collect();
    assert_eq!(new.len(), 1, "only the new interactive sign-in is new");
    assert_eq!(app(new[0]), "Pushed Later");
    assert!(
        second.len() < 10,
        "the week is not read again ({} records)",
        second.len()
    );
}

// DESIGN Durability: a sweep cut short after any page resumes from its
// cursor, even in another process, and misses nothing.
#[tokio::test]
async fn a_sweep_resumes_from_a_mid_sweep_cursor() {
    let sb = history(30).await;
    let components = [Component::UsersAndGroups, Component::SignInEvents];
    assert_a_sweep_resumes(
        |n| connector_with(&sb, &components).with_page_size(n),
        "signins",
    )
    .await;
}

// R-C5 management events: directory audits are administrative activities
// with normalised action types.
#[tokio::test]
async fn directory_audits_are_admin_activities() {
    let sb = history(40).await;
    let admin = upn(&sb, 0);
    sb.push_activity(pushed(
        Stream::DirectoryAudits,
        &admin,
        "Reset user password",
        TimeDelta::hours(5),
    ));
    let m = connector_with(
        &sb,
        &[Component::UsersAndGroups, Component::ManagementEvents],
    )
    .with_page_size(20);
    assert_eq!(m.activity_streams(), vec!["directory-audits"]);
    let (all, _, _) = read_stream(&m, "directory-audits", None).await;
    assert!(all.len() > 1);
    assert!(all.iter().all(|a| a.admin && a.source == "Azure AD audit"));
    assert!(
        all.iter()
            .all(|a| ACTION_TYPES.contains(&a.action_type.as_str())),
        "fixed action list"
    );
    let reset = all
        .iter()
        .find(|a| a.actor == admin.to_lowercase() && a.activity_type == "Reset user password")
        .expect("pushed audit");
    assert_eq!(reset.action_type, "password-reset");
    assert!(reset.objects.iter().any(|o| o.kind == ObjectKind::User));
}

// R-C5 Office 365 files and R-C6: a week of SharePoint activity through the
// Management API, in windows of at most a day, each blob fetched once.
#[tokio::test]
async fn office_files_backfill_a_week_in_daily_windows() {
    let sb = history(30).await;
    let someone = upn(&sb, 3);
    let mut download = pushed(
        Stream::SharePoint,
        &someone,
        "FileDownloaded",
        TimeDelta::hours(30),
    );
    download.object = Some("board-pack.pdf".into());
    sb.push_activity(download);
    let components = [Component::UsersAndGroups, Component::Office365Files];
    let m = connector_with(&sb, &components);
    assert_eq!(m.activity_streams(), vec!["o365-Audit.SharePoint"]);

    let (all, cursor, calls) = read_stream(&m, "o365-Audit.SharePoint", None).await;
    assert!(
        calls >= 7,
        "a week in windows of at most 24 hours ({calls} calls)"
    );
    let now = Utc::now();
    let oldest = all.iter().map(|a| a.time).min().expect("history");
    assert!(oldest >= (now - TimeDelta::days(7) - TimeDelta::hours(2)).timestamp_micros());
    assert!(
        oldest <= (now - TimeDelta::days(6)).timestamp_micros(),
        "about a week back"
    );
    let file = all
        .iter()
        .find(|a| a.objects.iter().any(|o| o.name == "board-pack.pdf"))
        .expect("pushed download");
    assert_eq!(file.actor, someone.to_lowercase());
    assert_eq!(file.activity_type, "FileDownloaded");
    assert_eq!(file.action_type, "download");
    assert_eq!(file.source, "Office 365");
    assert_eq!(file.objects[0].kind, ObjectKind::File);
    assert_eq!(file.objects[0].name, "board-pack.pdf");
    assert!(
        all.iter()
            .all(|a| ACTION_TYPES.contains(&a.action_type.as_str()))
    );

    let feed = format!("/api/v1.0/{}/activity/feed", sb.tenant_id);
    assert_eq!(
        sb.served(&format!("{feed}/subscriptions/start")),
        1,
        "subscribed once"
    );
    let blobs: Vec<u64> = sb
        .served_all()
        .into_iter()
        .filter(|((path, _), _)| path.starts_with(&format!("{feed}/audit/")))
        .map(|(_, n)| n)
        .collect();
    assert!(!blobs.is_empty());
    assert!(blobs.iter().all(|&n| n == 1), "each blob fetched once");

    // Another process resumes: its subscription is already on, and only
    // what is new comes back (the store drops repeated ids).
    let mut upload = pushed(
        Stream::SharePoint,
        &someone,
        "FileUploaded",
        TimeDelta::zero(),
    );
    upload.object = Some("minutes.docx".into());
    sb.push_activity(upload);
    let again = connector_with(&sb, &components);
    // Windows are whole seconds on the wire: poll until the next one opens.
    let seen: HashSet<&str> = all.iter().map(|a| a.id.as_str()).collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut cursor = Some(cursor);
    let mut second = Vec::new();
    while !second
        .iter()
        .any(|a: &Activity| !seen.contains(a.id.as_str()))
    {
        assert!(Instant::now() < deadline, "the new upload never came");
        let (batch, next, _) = read_stream(&again, "o365-Audit.SharePoint", cursor).await;
        second.extend(batch);
        cursor = Some(next);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let new: Vec<&Activity> = second
        .iter()
        .filter(|a| !seen.contains(a.id.as_str()))
        .collect();
    assert_eq!(new.len(), 1, "{new:?}");
    assert_eq!(new[0].action_type, "upload");
    assert_eq!(
        sb.served_with(&format!("{feed}/subscriptions/start"), 400),
        1
    );
}

// R-C5, issue 10: Office 365 activities read every workload's content
// type, Entra's and DLP's among them; mail records keep their folders and
// messages, and their client is the agent.
#[tokio::test]
async fn office_activities_read_every_content_type() {
    let sb = history(40).await;
    let m = connector_with(
        &sb,
        &[Component::UsersAndGroups, Component::Office365Activities],
    );
    assert_eq!(
        m.activity_streams(),
        vec![
            "o365-Audit.SharePoint",
            "o365-Audit.Exchange",
            "o365-Audit.General",
            "o365-Audit.AzureActiveDirectory",
            "o365-DLP.All"
        ]
    );
    let (mail, _, _) = read_stream(&m, "o365-Audit.Exchange", None).await;
    assert!(!mail.is_empty());
    assert!(
        mail.iter()
            .all(|a| a.source == "Office 365" && !a.actor.is_empty())
    );
    let kinds: HashSet<ObjectKind> = mail
        .iter()
        .flat_map(|a| a.objects.iter().map(|o| o.kind))
        .collect();
    assert!(
        kinds.contains(&ObjectKind::Folder) && kinds.contains(&ObjectKind::Message),
        "{kinds:?}"
    );
    assert!(
        mail.iter()
            .filter(|a| a.objects.iter().any(|o| o.kind == ObjectKind::Message))
            .all(|a| a
                .user_agent
                .as_deref()
                .is_some_and(|u| u.starts_with("Client="))),
        "ClientInfoString is the agent"
    );
    let (dlp, _, _) = read_stream(&m, "o365-DLP.All", None).await;
    assert!(!dlp.is_empty(), "DLP.All is read");
    assert!(dlp.iter().all(|a| a.activity_type == "DlpRuleMatch"
        && matches!(a.objects.first(), Some(o) if matches!(o.kind, ObjectKind::File | ObjectKind::Message))));
    let err = m.activities("signins", None).await.unwrap_err();
    assert!(
        matches!(err, ConnectorError::NotFound { .. }),
        "not a stream of this instance: {err}"
    );
}

// issue 10: Entra's Management API records: logons, password logons among
// them, are sign-ins with their device and agent and an outcome read from
// their error fields; directory changes are an administrator's acts against
// users named by UPN, which `target:` finds.
#[tokio::test]
async fn entra_records_are_sign_ins_and_admin_acts() {
    let sb = history(60).await;
    let m = connector_with(
        &sb,
        &[Component::UsersAndGroups, Component::Office365Activities],
    );
    let (entra, _, _) = read_stream(&m, "o365-Audit.AzureActiveDirectory", None).await;
    let sign_ins: Vec<&Activity> = entra
        .iter()
        .filter(|a| a.action_type == "sign-in")
        .collect();
    assert!(
        sign_ins
            .iter()
            .any(|a| a.activity_type == "PasswordLogonInitialAuthUsingPassword")
    );
    assert!(sign_ins.iter().any(|a| !a.succeeded) && sign_ins.iter().any(|a| a.succeeded));
    for a in sign_ins
        .iter()
        .filter(|a| a.activity_type == "UserLoginFailed")
    {
        assert!(!a.succeeded, "{a:?}");
    }
    let sts: Vec<&&Activity> = sign_ins
        .iter()
        .filter(|a| a.activity_type.starts_with("UserLog"))
        .collect();
    assert!(!sts.is_empty());
    assert!(
        sts.iter()
            .all(|a| a.device_type.is_some() && a.user_agent.is_some())
    );
    assert!(sign_ins.iter().all(|a| !a.admin && a.ip.is_some()));

    let upns = directory_upns(&sb);
    let changes: Vec<&Activity> = entra
        .iter()
        .filter(|a| a.action_type != "sign-in")
        .collect();
    assert!(!changes.is_empty());
    assert!(
        changes
            .iter()
            .any(|a| a.activity_type == "Add user." && a.action_type == "create")
    );
    for a in &changes {
        assert!(a.admin, "{a:?}");
        assert!(
            a.ip.is_some(),
            "ActorIpAddress stands in for ClientIP: {a:?}"
        );
        let target = a
            .objects
            .iter()
            .find(|o| o.kind == ObjectKind::User)
            .expect("a user target");
        assert!(upns.contains(&target.id), "{target:?}");
    }
}

// issue 10: the directory audits' user targets are keyed by the UPN of a
// directory user, whichever case Graph writes `type` in.
#[tokio::test]
async fn directory_audit_targets_keep_their_upn() {
    let sb = history(60).await;
    let m = connector_with(
        &sb,
        &[Component::UsersAndGroups, Component::ManagementEvents],
    );
    let (audits, _, _) = read_stream(&m, "directory-audits", None).await;
    let upns = directory_upns(&sb);
    let targets: Vec<_> = audits
        .iter()
        .flat_map(|a| a.objects.iter())
        .filter(|o| o.kind == ObjectKind::User)
        .collect();
    assert_eq!(
        targets.len(),
        audits.len(),
        "every audit names its user target"
    );
    assert!(targets.iter().all(|o| upns.contains(&o.id)), "{targets:?}");
}

// issue 10, R-G10: across the Office 365 streams every one of the ten
// Office apps is known; only the documented success words are a success.
#[tokio::test]
async fn every_office_app_and_outcome_is_read() {
    let sb = history(80).await;
    let someone = upn(&sb, 4);
    for (stream, operation) in [
        (Stream::SharePoint, "FileDownloaded"),
        (Stream::Exchange, "Send"),
        (Stream::General, "MessageSent"),
        (Stream::AzureActiveDirectory, "Add user."),
    ] {
        sb.push_activity(PushedActivity {
            success: false,
            object: Some(format!("failed-{operation}")),
            ..pushed(stream, &someone, operation, TimeDelta::hours(2))
        });
    }
    let m = connector_with(
        &sb,
        &[Component::UsersAndGroups, Component::Office365Activities],
    );
    let mut apps = BTreeSet::new();
    let mut all = Vec::new();
    for stream in m.activity_streams() {
        let (batch, _, _) = read_stream(&m, stream, None).await;
        apps.extend(batch.iter().filter_map(|a| a.office_app));
        all.extend(batch);
    }
    assert_eq!(
        apps.into_iter().collect::<Vec<_>>(),
        casbah::domain::OfficeApp::ALL
            .into_iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
    );
    for operation in ["FileDownloaded", "Send", "MessageSent", "Add user."] {
        let a = all
            .iter()
            .find(|a| {
                a.activity_type == operation
                    && a.actor == someone.to_lowercase()
                    && a.objects
                        .iter()
                        .any(|o| o.name.starts_with("failed-") || o.id.starts_with("failed-"))
            })
            .unwrap_or_else(|| panic!("pushed {operation}"));
        assert!(!a.succeeded, "{operation}: {a:?}");
    }
    let failures = all.iter().filter(|a| !a.succeeded).count();
    assert!(
        failures * 100 < all.len() * 15,
        "{failures} of {}",
        all.len()
    );
}

// issue 10: every form of ClientIP is read as the address; what is not an
// address is kept apart from `ip`, escaped; the record's region is its
// country.
#[tokio::test]
async fn client_ips_and_regions_are_read_faithfully() {
    let sb = history(20).await;
    let someone = upn(&sb, 5);
    let forms = [
        ("10.1.2.3", Some("10.1.2.3"), None),
        ("10.1.2.4:5678", Some("10.1.2.4"), None),
        ("[10.1.2.5]:5678", Some("10.1.2.5"), None),
        ("::ffff:10.1.2.6", Some("10.1.2.6"), None),
        ("[2001:db8::1]:443", Some("2001:db8::1"), None),
        ("localhost", None, Some("localhost")),
        (
            "[cool.client.local]:12345",
            None,
            Some("[cool.client.local]:12345"),
        ),
        ("evil\u{1b}[2Jhost", None, Some("evil^[[2Jhost")),
    ];
    for (k, (raw, _, _)) in forms.iter().enumerate() {
        sb.push_activity(PushedActivity {
            ip: raw.to_string(),
            country: Some("NZ".into()),
            object: Some(format!("form-{k}.docx")),
            ..pushed(
                Stream::SharePoint,
                &someone,
                "FileAccessed",
                TimeDelta::hours(5),
            )
        });
    }
    let m = connector_with(&sb, &[Component::UsersAndGroups, Component::Office365Files]);
    let (all, _, _) = read_stream(&m, "o365-Audit.SharePoint", None).await;
    for (k, (raw, ip, text)) in forms.iter().enumerate() {
        let a = all
            .iter()
            .find(|a| a.objects.iter().any(|o| o.name == format!("form-{k}.docx")))
            .unwrap_or_else(|| panic!("form {k}"));
        assert_eq!(
            (a.ip.as_deref(), a.address_text.as_deref()),
            (*ip, *text),
            "{raw}"
        );
        assert_eq!(a.country.as_deref(), Some("NZ"));
    }
    // Generated records write their addresses in every form; all are read.
    assert!(
        all.iter()
            .all(|a| a.ip.is_some() || a.address_text.is_some())
    );
    assert!(all.iter().filter(|a| a.address_text.is_none()).all(|a| {
        a.ip.as_deref()
            .is_some_and(|ip| ip.parse::<std::net::IpAddr>().is_ok())
    }));
    assert!(all.iter().all(|a| a.country.is_some()));
}

// R-C3: an unknown tenant or client id is refused with Entra's code.
#[tokio::test]
async fn unknown_tenant_and_client_are_auth_errors() {
    let sb = sandbox(20).await;
    let mut wrong_tenant = instance(&sb, &[Component::UsersAndGroups]);
    wrong_tenant.fields.insert(
        "tenant-id".into(),
        "00000000-0000-0000-0000-00000000dead".into(),
    );
    let err = Microsoft365::with_policy(&wrong_tenant, sb.client_secret.clone(), fast())
        .unwrap()
        .check()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Auth { code, .. } if code == "AADSTS90002"),
        "{err}"
    );
    let mut wrong_client = instance(&sb, &[Component::UsersAndGroups]);
    wrong_client.fields.insert(
        "client-id".into(),
        "00000000-0000-0000-0000-00000000beef".into(),
    );
    let err = Microsoft365::with_policy(&wrong_client, sb.client_secret.clone(), fast())
        .unwrap()
        .check()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Auth { code, .. } if code == "AADSTS700016"),
        "{err}"
    );
    assert!(err.to_string().contains("client id"), "{err}");
}

// Shared HTTP policy: a 429 without Retry-After falls back to backoff, and
// the token endpoint gets the same retries.
#[tokio::test]
async fn throttling_without_retry_after_and_token_faults_are_retried() {
    let sb = sandbox(20).await;
    sb.fail_next(&token_path(&sb), Fault::ServerError, 1);
    sb.fail_next("/v1.0/users", Fault::Throttle { retry_after: None }, 2);
    let check = connector(&sb).check().await.expect("check");
    assert!(check.users_seen > 0);
    assert_eq!(sb.served_with(&token_path(&sb), 503), 1);
    assert_eq!(sb.served_with("/v1.0/users", 429), 2);
}

// Shared HTTP policy, end to end: with every kind of fault thrown at random,
// reads still return exactly what a clean sandbox serves.
#[tokio::test]
async fn random_faults_do_not_change_what_is_read() {
    let sb = history(60).await;
    let components = [Component::UsersAndGroups, Component::SignInEvents];
    let clean_users: BTreeSet<String> = sb
        .org()
        .listed_users()
        .map(|(_, u)| u.id.to_string())
        .collect();
    let group = sb
        .org()
        .group_by_name("Engineering - All")
        .expect("group")
        .id;
    let clean_members: BTreeSet<String> = sb
        .org()
        .transitive_users(&group)
        .unwrap()
        .iter()
        .map(|u| u.id.to_string())
        .collect();
    let (clean_signins, _, _) =
        read_stream(&connector_with(&sb, &components), "signins", None).await;

    sb.set_faults(
        casbah::sandbox::FaultSpec::parse(
            "429=0.1,5xx=0.1,drop=0.05,truncate=0.05,retry-after=0.01",
        )
        .unwrap(),
    );
    let m = Microsoft365::with_policy(
        &instance(&sb, &components),
        sb.client_secret.clone(),
        RetryPolicy {
            max_attempts: 10,
            ..fast()
        },
    )
    .unwrap()
    .with_page_size(20);
    let mut users = BTreeSet::new();
    let mut next = None;
    loop {
        let page = m
            .users(next.as_deref())
            .await
            .expect("users despite faults");
        users.extend(page.items.into_iter().map(|u| u.id));
        next = page.next;
        if next.is_none() {
            break;
        }
    }
    assert_eq!(users, clean_users);
    let members: BTreeSet<String> = m
        .group_members(&group.to_string())
        .await
        .expect("members despite faults")
        .items
        .into_iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(members, clean_members);
    let (signins, _, _) = read_stream(&m, "signins", None).await;
    let edge = (Utc::now() - TimeDelta::days(7) + TimeDelta::minutes(1)).timestamp_micros();
    let ids = |v: &[Activity]| -> BTreeSet<String> {
        v.iter()
            .filter(|a| a.time >= edge)
            .map(|a| a.id.clone())
            .collect()
    };
    assert_eq!(ids(&signins), ids(&clean_signins));
    let faulted: u64 = sb
        .served_all()
        .into_iter()
        .filter(|((_, status), _)| *status != 200)
        .map(|(_, n)| n)
        .sum();
    assert!(faulted > 0, "faults were actually served");
}

// A token that dies before its expiry (revoked, rotated) is replaced once,
// transparently, for Graph and the Management API alike.
#[tokio::test]
async fn an_expired_token_is_refreshed_once() {
    let sb = history(20).await;
    let m = connector_with(&sb, &[Component::UsersAndGroups, Component::Office365Files]);
    m.check().await.unwrap();
    m.activities("o365-Audit.SharePoint", None).await.unwrap();
    assert_eq!(sb.served(&token_path(&sb)), 2, "one token per resource");
    sb.expire_tokens();
    m.users(None).await.expect("users with a fresh token");
    m.activities("o365-Audit.SharePoint", None)
        .await
        .expect("feed with a fresh token");
    assert_eq!(sb.served(&token_path(&sb)), 4);
    assert_eq!(sb.served_with("/v1.0/users", 401), 1);
}

// A subscription stopped from outside is started again, and reading goes on.
#[tokio::test]
async fn a_stopped_subscription_is_restarted() {
    let sb = history(20).await;
    let m = connector_with(&sb, &[Component::UsersAndGroups, Component::Office365Files]);
    let first = m.activities("o365-Audit.SharePoint", None).await.unwrap();
    let client = reqwest::Client::new();
    let token: serde_json::Value = client
        .post(format!("{}{}", sb.base_url(), token_path(&sb)))
        .form(&[
            ("client_id", sb.client_id.as_str()),
            ("client_secret", sb.client_secret.expose()),
            ("scope", "https://manage.office.com/.default"),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let feed = format!("/api/v1.0/{}/activity/feed", sb.tenant_id);
    let stopped = client
        .post(format!(
            "{}{feed}/subscriptions/stop?contentType=Audit.SharePoint",
            sb.base_url()
        ))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .header("content-length", "0")
        .send()
        .await
        .unwrap();
    assert!(stopped.status().is_success());
    m.activities("o365-Audit.SharePoint", Some(&first.cursor))
        .await
        .expect("reads after restarting the subscription");
    assert_eq!(
        sb.served_with(&format!("{feed}/subscriptions/start"), 200),
        2
    );
    assert_eq!(
        sb.served_with(&format!("{feed}/subscriptions/content"), 400),
        1
    );
}

// issue 10: one bad record is one skipped record: a user with a wrongly typed
// field is skipped and counted; every other user, the admins and the domains
// are still read.
#[tokio::test]
async fn a_mistyped_user_is_one_skipped_user() {
    let sb = sandbox(100).await;
    let (bad, listed) = {
        let org = sb.org();
        let listed: BTreeSet<String> = org.listed_users().map(|(_, u)| u.id.to_string()).collect();
        (org.listed_users().nth(40).unwrap().1.id, listed)
    };
    sb.mistype_user(bad, "accountEnabled", serde_json::json!("yes"))
        .unwrap();
    let m = connector(&sb).with_page_size(30);
    let (mut got, mut skipped, mut next) = (BTreeSet::new(), 0, None::<String>);
    loop {
        let page = m.users(next.as_deref()).await.expect("the page is read");
        skipped += page.skipped;
        got.extend(page.items.into_iter().map(|u| u.id));
        match page.next {
            Some(n) => next = Some(n),
            None => break,
        }
    }
    assert_eq!(skipped, 1);
    let mut want = listed;
    want.remove(&bad.to_string());
    assert_eq!(got, want);
    assert!(!m.admins().await.expect("admins").items.is_empty());
    assert!(!m.org_domains(&Default::default()).await.unwrap().is_empty());
}

// issue 10: a group member with a wrongly typed field is one skipped member.
#[tokio::test]
async fn a_mistyped_group_member_is_one_skipped_member() {
    let sb = sandbox(300).await;
    let (group, want, bad) = {
        let org = sb.org();
        let g = org.group_by_name("Engineering - All").unwrap();
        let users = org.transitive_users(&g.id).unwrap();
        let want: BTreeSet<String> = users.iter().map(|u| u.id.to_string()).collect();
        (g.id, want, users[3].id)
    };
    sb.mistype_user(bad, "userType", serde_json::json!({}))
        .unwrap();
    let members = connector(&sb)
        .with_page_size(25)
        .group_members(&group.to_string())
        .await
        .expect("the members are read");
    assert_eq!(members.skipped, 1);
    let got: BTreeSet<String> = members.items.into_iter().map(|u| u.id).collect();
    let mut want = want;
    want.remove(&bad.to_string());
    assert_eq!(got, want);
}

/// A member of the tenant (enabled, not a guest): its object id.
fn enabled_member(sb: &Sandbox) -> uuid::Uuid {
    sb.org()
        .users
        .iter()
        .find(|u| u.account_enabled && !u.guest && u.deleted.is_none())
        .map(|u| u.id)
        .expect("an enabled member")
}

// Issue 11: each account action is the documented Graph request (PATCH accountEnabled or
// passwordProfile, POST revokeSignInSessions), answered with Graph's request-id, and a
// suspension is what the next user scan reads.
#[tokio::test]
async fn account_actions_are_the_documented_graph_requests() {
    let sb = sandbox(80).await;
    let m = connector(&sb);
    assert_eq!(m.account_actions(), AccountAction::ALL);
    common::assert_catalog_agrees(&m);
    let user = enabled_member(&sb);
    let id = user.to_string();
    let done = m.act_on_account(AccountAction::Suspend, &id).await.unwrap();
    assert_eq!(done.status, 204);
    assert!(done.request_id.is_some_and(|r| !r.is_empty()));
    assert_eq!(sb.graph_acted(user, "disable"), 1);
    assert_eq!(common::scanned_status(&m, &id).await, UserStatus::Disabled);
    m.act_on_account(AccountAction::Unsuspend, &id)
        .await
        .unwrap();
    assert_eq!(common::scanned_status(&m, &id).await, UserStatus::Active);
    let out = m.act_on_account(AccountAction::SignOut, &id).await.unwrap();
    assert_eq!(out.status, 200);
    assert_eq!(sb.graph_acted(user, "revoke-sessions"), 1);
    m.act_on_account(AccountAction::RequirePasswordChange, &id)
        .await
        .unwrap();
    assert_eq!(sb.graph_acted(user, "force-password-change"), 1);
    let path = format!("/v1.0/users/{id}");
    assert_eq!(sb.served_with(&path, 204), 3, "three PATCHes, each once");
    let nobody = m
        .act_on_account(AccountAction::Suspend, &uuid::Uuid::nil().to_string())
        .await;
    assert!(
        matches!(&nobody, Err(ConnectorError::NotFound { .. })),
        "{nobody:?}"
    );
}

// Issue 11: with read permissions only, reading goes on and an action names the
// permission to grant; nothing happens to the account.
#[tokio::test]
async fn without_write_permissions_an_action_names_the_one_to_grant() {
    let sb = sandbox(80).await;
    sb.set_graph_permissions(&["User.Read.All", "Group.Read.All", "AuditLog.Read.All"]);
    let m = connector(&sb);
    m.check().await.expect("reads as before");
    let user = enabled_member(&sb);
    let refused = m
        .act_on_account(AccountAction::Suspend, &user.to_string())
        .await
        .expect_err("no write permission");
    assert!(
        matches!(&refused, ConnectorError::Permission { code, message, .. }
            if code == "Authorization_RequestDenied"
                && message.contains("User.EnableDisableAccount.All")),
        "{refused}"
    );
    let refused = m
        .act_on_account(AccountAction::SignOut, &user.to_string())
        .await
        .expect_err("no write permission");
    assert!(
        refused.to_string().contains("User.RevokeSessions.All"),
        "{refused}"
    );
    assert_eq!(sb.graph_acted(user, "disable"), 0);
    assert_eq!(
        common::scanned_status(&m, &user.to_string()).await,
        UserStatus::Active
    );
}

// Issue 11: with the Azure AD apps component, every grant is read across pages: each
// user's consent (keyed to the person), an administrator's for everyone, and the
// application permissions an app holds as itself, named by Graph's appRoles.
// Without the component, none is read.
#[tokio::test]
async fn app_grants_are_read_whole_and_revoked_once() {
    use casbah::domain::grants::GrantKind;
    let sb = sandbox(120).await;
    let m = connector_with(&sb, &[Component::UsersAndGroups, Component::Apps]).with_page_size(10);
    let (accounts, _) = all_users(&m).await;
    let grants = m.grants(&accounts).await.unwrap().expect("apps are read");
    let members = sb
        .org()
        .users
        .iter()
        .filter(|u| u.account_enabled && !u.guest && u.deleted.is_none())
        .count();
    let of = |name: &str| grants.iter().filter(|g| g.app_name == name).count();
    assert_eq!(of("Slack"), members.div_ceil(3), "past the first page");
    assert_eq!(of("MailSync Pro"), members.div_ceil(17));
    let docusign: Vec<_> = grants.iter().filter(|g| g.app_name == "DocuSign").collect();
    assert_eq!(docusign.len(), 1);
    assert_eq!(docusign[0].kind, GrantKind::AllUsers);
    assert_eq!(docusign[0].user, None);
    let vault: Vec<&str> = grants
        .iter()
        .filter(|g| g.app_name == "Backup Vault")
        .flat_map(|g| g.scopes.iter().map(String::as_str))
        .collect();
    assert_eq!(vault, ["Mail.Read", "Files.Read.All"]);
    let mail = grants
        .iter()
        .find(|g| g.app_name == "MailSync Pro")
        .expect("a MailSync grant");
    assert_eq!(mail.kind, GrantKind::User);
    let user = mail.user.clone().expect("keyed to its person");
    assert!(accounts.iter().any(|a| a.key() == user), "{user}");
    assert_eq!(mail.risky_scopes(), ["Mail.ReadWrite", "Mail.Send"]);

    let done = m.revoke_grant(mail).await.unwrap();
    assert_eq!(done.status, 204);
    assert!(done.request_id.is_some());
    assert_eq!(sb.graph_revoked(&mail.id), 1);
    let role = grants
        .iter()
        .find(|g| g.kind == GrantKind::Application)
        .expect("an application permission");
    m.revoke_grant(role).await.unwrap();
    let after = m.grants(&accounts).await.unwrap().unwrap();
    assert_eq!(after.len(), grants.len() - 2);
    assert!(!after.iter().any(|g| g.id == mail.id || g.id == role.id));
    let again = m.revoke_grant(mail).await;
    assert!(
        matches!(again, Err(ConnectorError::NotFound { .. })),
        "{again:?}"
    );
    assert_eq!(sb.graph_revoked(&mail.id), 1, "sent once, gone after");

    sb.set_graph_permissions(&["User.Read.All", "Directory.Read.All"]);
    let refused = m
        .revoke_grant(&grants[0])
        .await
        .expect_err("no write permission");
    assert!(
        refused
            .to_string()
            .contains("DelegatedPermissionGrant.ReadWrite.All"),
        "{refused}"
    );
    assert_eq!(connector(&sb).grants(&accounts).await.unwrap(), None);
}
