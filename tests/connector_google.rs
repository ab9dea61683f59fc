//! The Google Workspace connector over real HTTP against the sandbox's
//! Google dialect (service-account tokens, the Directory API, the Reports API).

mod common;
// Issue 11: app grants.
#[path = "connector_google/grants.rs"]
mod grants;

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use casbah::connectors::google::{GoogleWorkspace, MANAGE_SCOPES, SCOPES};
use casbah::connectors::{Connector, ConnectorError, DomainTally};
use casbah::domain::activity::ACTION_TYPES;
use casbah::domain::governance::AccountAction;
use casbah::domain::{Activity, Instance, InstanceId, ObjectKind, RemoteUser, Secret, UserStatus};
use casbah::sandbox::google::{GoogleAccount, GoogleGroup};
use casbah::sandbox::{Fault, PushedActivity, Sandbox, SandboxConfig, Stream};
use chrono::{TimeDelta, Utc};

const TOKEN: &str = "/token";
const USERS: &str = "/admin/directory/v1/users";
const GROUPS: &str = "/admin/directory/v1/groups";

use common::{
    all_users, assert_a_sweep_resumes, fast_retries, ids_inside_the_week, pushed, read_stream,
};

async fn start(config: SandboxConfig) -> Sandbox {
    Sandbox::start(config).await.expect("sandbox starts")
}

/// A sandbox without activity, for the directory.
async fn sandbox(users: usize) -> Sandbox {
    common::still_sandbox(users, 0.0).await
}

/// A sandbox with a week of history and no live stream, so reads are stable.
async fn history(users: usize) -> Sandbox {
    common::still_sandbox(users, 2.0).await
}

fn instance(sb: &Sandbox, admin: &str) -> Instance {
    let mut new = sb.google_instance("Contoso");
    new.fields.insert("admin-email".into(), admin.into());
    new.into_instance(InstanceId(1), 0)
}

fn connector_with(
    sb: &Sandbox,
    admin: &str,
    key: Secret,
) -> Result<GoogleWorkspace, ConnectorError> {
    GoogleWorkspace::with_policy(&instance(sb, admin), key, fast_retries())
}

fn connector(sb: &Sandbox) -> GoogleWorkspace {
    connector_with(
        sb,
        &sb.google_admin_email(),
        sb.google_service_account_key(),
    )
    .expect("connector")
}

/// R-C3: a refusal's kind, Google's code and its text, which is one line
/// and carries nothing of the key file.
fn refusal(err: &ConnectorError, sb: &Sandbox) -> (&'static str, String, String) {
    let text = err.to_string();
    assert!(!text.contains('\n'), "one line: {text}");
    let key: serde_json::Value =
        serde_json::from_str(sb.google_service_account_key().expose()).unwrap();
    let pem = key["private_key"].as_str().unwrap();
    for line in pem.lines().filter(|l| !l.starts_with("-----")) {
        assert!(
            !text.contains(line) && !format!("{err:?}").contains(line),
            "{text}"
        );
    }
    assert!(
        !text.contains(key["private_key_id"].as_str().unwrap()),
        "{text}"
    );
    let (kind, code) = match err {
        ConnectorError::Auth { code, .. } => ("auth", code.clone()),
        ConnectorError::Permission { code, .. } => ("permission", code.clone()),
        other => panic!("not a refusal: {other}"),
    };
    (kind, code, text)
}

// R-C3: a check signs a JWT, gets a token, then reads the first page of users.
#[tokio::test]
async fn check_gets_a_token_then_reads_the_first_page_of_users() {
    let sb = sandbox(120).await;
    let check = connector(&sb).check().await.expect("check");
    assert_eq!(check.users_seen, sb.google_accounts().len().min(500));
    assert_eq!(sb.served_with(TOKEN, 200), 1);
    assert_eq!(sb.served_with(USERS, 200), 1);
}

// R-C3: one token serves many calls, and is renewed before it expires (the
// sandbox's tokens live two seconds here), never refused on the way.
#[tokio::test]
async fn the_token_is_cached_then_renewed_before_it_expires() {
    let sb = start(SandboxConfig {
        users: 40,
        live_rate: 0.0,
        history_per_user_per_day: 0.0,
        token_lifetime: Duration::from_secs(2),
        ..SandboxConfig::default()
    })
    .await;
    let g = connector(&sb);
    g.check().await.unwrap();
    g.first_groups(10).await.unwrap();
    g.users(None).await.unwrap();
    assert_eq!(sb.served(TOKEN), 1);
    // Waiting out half the lifetime the token endpoint announced.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    g.users(None).await.unwrap();
    assert_eq!(sb.served_with(TOKEN, 200), 2, "renewed at half its life");
    assert_eq!(sb.served_with(USERS, 401), 0, "never used past its expiry");
}

// R-C3: a token revoked before its expiry is replaced once, transparently.
#[tokio::test]
async fn an_expired_token_is_refreshed_once() {
    let sb = sandbox(30).await;
    let g = connector(&sb);
    g.check().await.unwrap();
    sb.google_expire_tokens();
    let page = g.users(None).await.expect("a new token works");
    assert!(!page.items.is_empty());
    assert_eq!(sb.served_with(USERS, 401), 1);
    assert_eq!(sb.served_with(TOKEN, 200), 2);
}

// R-C3: a key that is not the service account's fails the signature check:
// Google's invalid_grant in one line, the key never in it, not retried.
#[tokio::test]
async fn a_bad_signature_is_refused_with_invalid_grant() {
    let sb = sandbox(20).await;
    let mut key: serde_json::Value =
        serde_json::from_str(sb.google_service_account_key().expose()).unwrap();
    let other = include_str!("../assets/sandbox/okta-service-app.pem");
    key["private_key"] = other.into();
    let g = connector_with(&sb, &sb.google_admin_email(), Secret::new(key.to_string())).unwrap();
    let err = g.check().await.unwrap_err();
    let (kind, code, text) = refusal(&err, &sb);
    assert_eq!((kind, code.as_str()), ("auth", "invalid_grant"), "{text}");
    assert!(text.contains("not a current key"), "{text}");
    for line in other.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!text.contains(line));
    }
    assert_eq!(sb.served_with(TOKEN, 400), 1, "refusals are not retried");
}

// R-C3: the administrator e-mail must name an account of the customer.
#[tokio::test]
async fn an_unknown_subject_is_refused_with_invalid_grant() {
    let sb = sandbox(20).await;
    let g = connector_with(&sb, "nobody@contoso.com", sb.google_service_account_key()).unwrap();
    let err = g.check().await.unwrap_err();
    let (kind, code, text) = refusal(&err, &sb);
    assert_eq!((kind, code.as_str()), ("auth", "invalid_grant"), "{text}");
    assert!(
        text.contains("nobody@contoso.com is not an account"),
        "{text}"
    );
}

// R-C3: impersonating someone who is not an administrator gets a token, then
// Google's 403 from the Directory API and its 401 from the Reports API —
// a 401 no new token cures, so it is not retried with one.
#[tokio::test]
async fn a_subject_who_is_not_an_administrator_is_refused() {
    let sb = sandbox(40).await;
    let user = sb.google_user_email();
    let g = connector_with(&sb, &user, sb.google_service_account_key()).unwrap();
    let err = g.check().await.unwrap_err();
    let (kind, code, text) = refusal(&err, &sb);
    assert_eq!((kind, code.as_str()), ("permission", "forbidden"), "{text}");
    assert!(
        text.contains("Not Authorized to access this resource/api"),
        "{text}"
    );
    assert!(
        text.contains(&user) && text.contains("administrator"),
        "{text}"
    );
    let err = g.activities("login", None).await.unwrap_err();
    let (kind, code, text) = refusal(&err, &sb);
    assert_eq!((kind, code.as_str()), ("permission", "authError"), "{text}");
    assert!(
        text.contains("not authorized to read activity records"),
        "{text}"
    );
    let reports = "/admin/reports/v1/activity/users/all/applications/login";
    assert_eq!(sb.served_with(reports, 401), 1);
    assert_eq!(sb.served(TOKEN), 1);
}

// R-C3: domain-wide delegation fails the whole token request when one scope
// asked for is not authorised; the error names the client id and the scopes.
#[tokio::test]
async fn an_unauthorised_scope_is_refused_with_unauthorized_client() {
    let sb = sandbox(20).await;
    sb.google_delegate_scopes(&SCOPES[..3]);
    let err = connector(&sb).check().await.unwrap_err();
    let (kind, code, text) = refusal(&err, &sb);
    assert_eq!(
        (kind, code.as_str()),
        ("permission", "unauthorized_client"),
        "{text}"
    );
    assert!(text.contains(&sb.google_credentials().client_id), "{text}");
    assert!(SCOPES.iter().all(|s| text.contains(s)), "{text}");
    assert_eq!(sb.served_with(TOKEN, 401), 1);
}

// R-C3: a JSON file that is not a service account's key is refused before
// anything is sent, in one line, without quoting it.
#[tokio::test]
async fn a_key_file_that_is_no_service_account_key_is_refused() {
    let sb = sandbox(10).await;
    let oauth_client = r#"{"type":"authorized_user","client_id":"x.apps.googleusercontent.com","client_secret":"d-FL95Q19q7MQmFpd7hHD0Ty","refresh_token":"1//0gSecretRefresh"}"#;
    let err = connector_with(&sb, &sb.google_admin_email(), Secret::new(oauth_client)).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ConnectorError::Auth { .. }), "{text}");
    assert!(
        text.contains("authorized_user") && text.contains("not a service account"),
        "{text}"
    );
    assert!(!text.contains("d-FL95Q19q7MQmFpd7hHD0Ty") && !text.contains("1//0gSecretRefresh"));
    assert_eq!(sb.served(TOKEN), 0);
}

// R-G4: users come page after page through nextPageToken, with Google's
// statuses: suspended, archived (counted by that word), active; R-G1 the
// administrators are marked.
#[tokio::test]
async fn users_page_across_many_pages_with_statuses_and_admin_marks() {
    let sb = sandbox(200).await;
    let g = connector(&sb).with_page_size(30);
    let (users, pages) = all_users(&g).await;
    let accounts = sb.google_accounts();
    assert!(pages >= 3, "{pages} pages");
    assert_eq!(users.len(), accounts.len());
    let ids: HashSet<&str> = users.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids.len(), users.len(), "no user twice");
    let got = |f: &dyn Fn(&RemoteUser) -> bool| -> BTreeSet<String> {
        users
            .iter()
            .filter(|u| f(u))
            .map(|u| u.email.clone())
            .collect()
    };
    let want = |f: &dyn Fn(&GoogleAccount) -> bool| -> BTreeSet<String> {
        accounts
            .iter()
            .filter(|a| f(a))
            .map(|a| a.email.clone())
            .collect()
    };
    assert_eq!(
        got(&|u| u.status == UserStatus::Suspended),
        want(&|a| a.suspended)
    );
    assert_eq!(
        got(&|u| u.status == UserStatus::Inactive("archived".into())),
        want(&|a| a.archived && !a.suspended)
    );
    assert!(!want(&|a| a.suspended).is_empty());
    assert_eq!(got(&|u| u.admin), want(&|a| a.admin));
    let first = &accounts[0];
    let u = users.iter().find(|u| u.id == first.id).unwrap();
    assert_eq!(
        (u.email.as_str(), u.display_name.as_str()),
        (first.email.as_str(), first.name.as_str())
    );
}

// R-G1: the Google Workspace administrator group is exactly the users Google
// marks isAdmin, read with Google's own isAdmin=true search.
#[tokio::test]
async fn admins_are_the_users_google_marks_is_admin() {
    let sb = sandbox(300).await;
    let admins = connector(&sb)
        .with_page_size(2)
        .admins()
        .await
        .unwrap()
        .items;
    let got: BTreeSet<String> = admins.iter().map(|u| u.email.clone()).collect();
    let want: BTreeSet<String> = sb
        .google_accounts()
        .into_iter()
        .filter(|a| a.admin)
        .map(|a| a.email)
        .collect();
    assert!(want.len() >= 3);
    assert_eq!(got, want);
    assert!(sb.served_with(USERS, 200) >= 2, "paged");
}

// R-G1: the organisation's domains are those of its own accounts; before
// the first scan, the administrator's.
#[tokio::test]
async fn org_domains_are_the_accounts_domains() {
    let sb = sandbox(20).await;
    let g = connector(&sb);
    assert_eq!(
        g.org_domains(&DomainTally::new()).await.unwrap(),
        ["contoso.com"]
    );
    let tally: DomainTally = [
        ("contoso.com".to_string(), 12),
        ("contoso.co.uk".to_string(), 3),
    ]
    .into();
    assert_eq!(
        g.org_domains(&tally).await.unwrap(),
        ["contoso.co.uk", "contoso.com"]
    );
}

// R-G2: the picker lists the first 50 groups in Google's order, page by page.
#[tokio::test]
async fn first_groups_are_the_first_fifty() {
    let sb = sandbox(300).await;
    let groups = connector(&sb)
        .with_page_size(20)
        .first_groups(50)
        .await
        .unwrap();
    let want: Vec<String> = sb
        .google_groups()
        .into_iter()
        .take(50)
        .map(|g| g.id)
        .collect();
    let got: Vec<String> = groups.iter().map(|g| g.id.clone()).collect();
    assert_eq!(got, want);
    assert_eq!(sb.served_with(GROUPS, 200), 3, "20 + 20 + 10");
    assert!(groups.iter().all(|g| {
        g.email
            .as_deref()
            .is_some_and(|e| e.ends_with("@contoso.com"))
    }));
}

// R-G2: Google's own search (`name:'…*'`, `email:…*`) finds groups beyond the first 50.
#[tokio::test]
async fn search_finds_groups_beyond_the_first_fifty() {
    let sb = sandbox(300).await;
    let all = sb.google_groups();
    let far = all
        .iter()
        .skip(50)
        .find(|g| g.name.contains(' '))
        .expect("a group with a space in its name beyond the first 50");
    let g = connector(&sb);
    let prefix: String = far
        .name
        .chars()
        .take(far.name.chars().count() - 2)
        .collect();
    let found = g.search_groups(&prefix, 100).await.unwrap();
    assert!(
        found.iter().any(|x| x.id == far.id),
        "by name prefix {prefix:?}"
    );
    assert!(
        found.iter().all(|x| x
            .display_name
            .to_lowercase()
            .starts_with(&prefix.to_lowercase())),
        "only matches"
    );
    let local: String = far.email.split('@').next().unwrap().to_string();
    let by_email = g.search_groups(&local, 100).await.unwrap();
    assert!(
        by_email.iter().any(|x| x.id == far.id),
        "by e-mail prefix {local:?}"
    );
    assert!(
        g.search_groups("Zz no such group", 10)
            .await
            .unwrap()
            .is_empty()
    );
}

// R-G2: group names are not unique in Google Workspace; the e-mail tells two
// groups of the same name apart, and finds each.
#[tokio::test]
async fn groups_of_the_same_name_are_told_apart_by_email() {
    let sb = sandbox(100).await;
    let g = connector(&sb);
    let found = g.search_groups("Support", 10).await.unwrap();
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found.iter().all(|x| x.display_name == "Support"));
    let emails: BTreeSet<&str> = found.iter().filter_map(|x| x.email.as_deref()).collect();
    assert_eq!(
        emails,
        BTreeSet::from(["support-partners@contoso.com", "support@contoso.com"])
    );
    let by_email = g.group("support-partners@contoso.com").await.unwrap();
    let by_id = g.group(&by_email.id).await.unwrap();
    assert_eq!(by_email, by_id);
    assert_eq!(
        by_email.description.as_deref(),
        Some("Help desk for partners")
    );
    let err = g.group("no-such-group@contoso.com").await.unwrap_err();
    assert!(matches!(err, ConnectorError::NotFound { .. }), "{err}");
}

// R-G4: a group's members are its users, nested groups flattened by Google
// (includeDerivedMembership), read page by page, each once, with status;
// groups, the whole customer and outside addresses are not users.
#[tokio::test]
async fn members_are_users_nested_ones_included_with_status() {
    let sb = sandbox(400).await;
    let everyone = group_named(&sb, "Everyone at Contoso");
    let suspended = everyone.users[0].0.clone();
    let archived = everyone.users[1].0.clone();
    sb.google_set_suspended(&suspended, true).unwrap();
    sb.google_set_archived(&archived, true).unwrap();
    let want: BTreeSet<(String, &str)> = group_named(&sb, "Everyone at Contoso")
        .users
        .into_iter()
        .collect();
    let g = connector(&sb).with_page_size(60);
    let members = g.group_members(&everyone.email).await.unwrap().items;
    assert!(
        sb.served_with(&format!("{GROUPS}/{}/members", everyone.email), 200) >= 3,
        "paged"
    );
    let status = |s: &UserStatus| match s {
        UserStatus::Active => "ACTIVE",
        UserStatus::Suspended => "SUSPENDED",
        UserStatus::Inactive(r) if r == "archived" => "ARCHIVED",
        other => panic!("unexpected {other:?}"),
    };
    let got: BTreeSet<(String, &str)> = members
        .iter()
        .map(|u| (u.email.clone(), status(&u.status)))
        .collect();
    assert_eq!(got.len(), members.len(), "each user once");
    assert_eq!(got, want);
    assert!(
        everyone.direct_members < want.len(),
        "reached through nesting"
    );
    assert!(got.contains(&(suspended, "SUSPENDED")) && got.contains(&(archived, "ARCHIVED")));
    assert!(
        members.iter().all(|u| u.email.ends_with("@contoso.com")),
        "no outside address"
    );
}

// R-G4: removing and adding members shows at the next read.
#[tokio::test]
async fn membership_changes_show_at_the_next_read() {
    let sb = sandbox(100).await;
    let g = connector(&sb);
    let support = "support@contoso.com";
    let before = g.group_members(support).await.unwrap().items;
    let leaver = before[0].email.clone();
    let joiner = sb
        .google_accounts()
        .into_iter()
        .find(|a| !before.iter().any(|m| m.email == a.email))
        .unwrap()
        .email;
    sb.google_remove_member(support, &leaver).unwrap();
    sb.google_add_member(support, &joiner).unwrap();
    sb.google_add_member(support, "someone@fabrikam.com")
        .unwrap();
    let after = g.group_members(support).await.unwrap().items;
    assert!(!after.iter().any(|m| m.email == leaver));
    assert!(after.iter().any(|m| m.email == joiner));
    assert_eq!(after.len(), before.len(), "an outside address is no user");
}

// Google's quota answers (403 userRateLimitExceeded, 429 rateLimitExceeded)
// carry no wait: backed off and retried until the call succeeds; 5xx too.
#[tokio::test]
async fn quota_errors_are_retried_with_backoff_until_success() {
    let sb = sandbox(30).await;
    let g = connector(&sb);
    g.check().await.unwrap();
    sb.fail_next(USERS, Fault::Throttle { retry_after: None }, 2);
    let page = g.users(None).await.expect("through after two refusals");
    assert!(!page.items.is_empty());
    assert_eq!(sb.served_with(USERS, 403), 2);
    assert_eq!(sb.served_with(USERS, 200), 2);
    sb.fail_next(GROUPS, Fault::Exhausted { reset_after: 0.0 }, 1);
    sb.fail_next(GROUPS, Fault::ServerError, 1);
    g.first_groups(5)
        .await
        .expect("through after a 429 and a 503");
    assert_eq!(sb.served_with(GROUPS, 429), 1);
    assert_eq!(sb.served_with(GROUPS, 503), 1);
    assert_eq!(sb.served_with(GROUPS, 200), 1);
    assert_eq!(sb.early_retries("Google"), 0);
}

// A quota answer that outlasts the retry budget says so in one line.
#[tokio::test]
async fn retries_are_bounded() {
    let sb = sandbox(20).await;
    let g = connector(&sb);
    sb.fail_next(USERS, Fault::Throttle { retry_after: None }, 10);
    let err = g.users(None).await.unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Exhausted { attempts: 4, last, .. } if last.contains("403")),
        "{err}"
    );
    assert_eq!(sb.served_with(USERS, 403), 4);
}

// An answer that does not parse is one Protocol error, not retried, never a panic.
#[tokio::test]
async fn an_answer_that_does_not_parse_is_one_protocol_error() {
    let sb = sandbox(20).await;
    let g = connector(&sb);
    g.check().await.unwrap();
    sb.google_garble_next(USERS, 1);
    let err = g.users(None).await.unwrap_err();
    assert!(matches!(err, ConnectorError::Protocol { .. }), "{err}");
    assert_eq!(sb.served_with(USERS, 200), 2, "not retried");
    sb.google_garble_next("/admin/reports/", 1);
    let err = g.activities("drive", None).await.unwrap_err();
    assert!(matches!(err, ConnectorError::Protocol { .. }), "{err}");
    assert!(g.users(None).await.is_ok(), "the next answer reads again");
}

// R-G4: one bad record (a user without an id) is skipped; the scan goes on.
#[tokio::test]
async fn a_user_without_an_id_is_skipped_not_the_end_of_the_scan() {
    let sb = sandbox(120).await;
    let accounts = sb.google_accounts();
    let bad = accounts[accounts.len() / 2].email.clone();
    sb.google_withhold_id(&bad).unwrap();
    let (users, pages) = all_users(&connector(&sb).with_page_size(25)).await;
    assert!(pages >= 3);
    assert_eq!(users.len(), accounts.len() - 1);
    assert!(!users.iter().any(|u| u.email == bad));
}

// R-A1: one activity per event, mapped field by field; login_failure is a
// failed sign-in; objects come from the event's parameters; admin events are
// administrative.
#[tokio::test]
async fn activities_are_mapped_field_by_field() {
    let sb = history(40).await;
    let accounts = sb.google_accounts();
    let (ann, bob) = (accounts[1].email.clone(), accounts[2].email.clone());
    let admin = sb.google_admin_email();
    sb.push_activity(PushedActivity {
        ip: "198.51.100.23".into(),
        country: Some("JP".into()),
        success: false,
        ..pushed(
            Stream::GoogleLogin,
            &ann,
            "login_success",
            TimeDelta::hours(30),
        )
    });
    for (stream, actor, operation, object, hours) in [
        (
            Stream::GoogleDrive,
            &bob,
            "download",
            "Board deck Q3.pptx",
            5,
        ),
        (
            Stream::GoogleAdmin,
            &admin,
            "ADD_GROUP_MEMBER",
            "support@contoso.com",
            2,
        ),
        (Stream::GoogleToken, &ann, "authorize", "Pushed App", 1),
    ] {
        sb.push_activity(PushedActivity {
            object: Some(object.into()),
            ..pushed(stream, actor, operation, TimeDelta::hours(hours))
        });
    }
    let g = connector(&sb).with_page_size(100);
    assert_eq!(g.activity_streams(), ["login", "admin", "drive", "token"]);

    let (login, _, _) = read_stream(&g, "login", None).await;
    let failed = login
        .iter()
        .find(|a| a.actor == ann && a.ip.as_deref() == Some("198.51.100.23"))
        .expect("the pushed failure");
    assert_eq!(
        (
            failed.activity_type.as_str(),
            failed.action_type.as_str(),
            failed.succeeded
        ),
        ("login_failure", "sign-in", false)
    );
    assert_eq!(failed.country.as_deref(), Some("JP"));
    assert_eq!(failed.source, "Google Workspace login");
    assert!(!failed.admin && failed.groups.is_empty() && failed.instance == InstanceId(1));
    let age = Utc::now().timestamp_micros() - failed.time;
    assert!((age - TimeDelta::hours(30).num_microseconds().unwrap()).abs() < 5_000_000);
    assert!(
        login
            .iter()
            .any(|a| a.succeeded && a.activity_type == "login_success")
    );

    let (drive, _, _) = read_stream(&g, "drive", None).await;
    let download = drive
        .iter()
        .find(|a| a.actor == bob && a.objects.iter().any(|o| o.name == "Board deck Q3.pptx"))
        .expect("the pushed download");
    assert_eq!(download.action_type, "download");
    assert_eq!(download.objects[0].kind, ObjectKind::File);
    assert_eq!(download.ip.as_deref(), Some("203.0.113.7"));
    // A record sharing with two people is two activities.
    let shares: Vec<&Activity> = drive
        .iter()
        .filter(|a| a.activity_type == "change_user_access")
        .collect();
    assert!(!shares.is_empty());
    assert!(
        shares
            .iter()
            .all(|a| a.action_type == "share"
                && a.objects.iter().any(|o| o.kind == ObjectKind::User))
    );
    let record_of = |a: &Activity| a.id.rsplit_once(':').unwrap().0.to_string();
    assert!(
        shares.iter().any(|a| shares
            .iter()
            .any(|b| b.id != a.id && record_of(a) == record_of(b))),
        "one activity per event"
    );

    let (admin_events, _, _) = read_stream(&g, "admin", None).await;
    assert!(
        admin_events
            .iter()
            .all(|a| a.admin && a.source == "Google Workspace admin")
    );
    let add = admin_events
        .iter()
        .find(|a| a.actor == admin && a.objects.iter().any(|o| o.name == "support@contoso.com"))
        .expect("the pushed admin event");
    assert_eq!(add.action_type, "member-add");
    assert_eq!(add.objects[0].kind, ObjectKind::Group);

    let (tokens, _, _) = read_stream(&g, "token", None).await;
    let grant = tokens
        .iter()
        .find(|a| a.objects.iter().any(|o| o.name == "Pushed App"))
        .expect("the pushed grant");
    assert_eq!(
        (grant.action_type.as_str(), grant.objects[0].kind),
        ("permission-change", ObjectKind::App)
    );
    for a in login
        .iter()
        .chain(&drive)
        .chain(&admin_events)
        .chain(&tokens)
    {
        assert!(
            ACTION_TYPES.contains(&a.action_type.as_str()),
            "{}",
            a.action_type
        );
        assert!(a.country.as_ref().is_none_or(|c| c.len() == 2));
    }
}

// R-C6: a first read sweeps about a week back, page by page, each record
// once; a later run reads only what is new (and the boundary again).
#[tokio::test]
async fn a_week_is_swept_without_loss_or_repeats() {
    let sb = history(40).await;
    let g = connector(&sb).with_page_size(50);
    let (first, cursor, calls) = read_stream(&g, "drive", None).await;
    assert!(calls >= 3, "{calls} calls: one page per call");
    let ids: HashSet<&str> = first.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids.len(), first.len(), "no record twice within a sweep");
    let now = Utc::now();
    let oldest = first.iter().map(|a| a.time).min().unwrap();
    assert!(oldest >= (now - TimeDelta::days(7) - TimeDelta::minutes(1)).timestamp_micros());
    assert!(
        oldest <= (now - TimeDelta::days(6)).timestamp_micros(),
        "about a week back"
    );
    // The same week in one page holds the same records.
    let (whole, _, one) = read_stream(&connector(&sb), "drive", None).await;
    assert_eq!(one, 1);
    assert_eq!(ids_inside_the_week(&first), ids_inside_the_week(&whole));

    let bob = sb.google_accounts()[3].email.clone();
    sb.push_activity(PushedActivity {
        object: Some("Later.docx".into()),
        ..pushed(Stream::GoogleDrive, &bob, "edit", TimeDelta::zero())
    });
    let (second, _, _) = read_stream(&g, "drive", Some(cursor)).await;
    let new: Vec<&Activity> = second
        .iter()
        .filter(|a| !ids.contains(a.id.as_str()))
        .collect();
    assert_eq!(new.len(), 1, "only the new record is new");
    assert!(new[0].objects.iter().any(|o| o.name == "Later.docx"));
    assert!(
        second.len() < 5,
        "the week is not read again ({} records)",
        second.len()
    );
}

// DESIGN Durability: a sweep cut short after any page resumes from its
// cursor, even in another process, and misses nothing.
#[tokio::test]
async fn a_sweep_resumes_from_a_mid_sweep_cursor() {
    let sb = history(30).await;
    assert_a_sweep_resumes(|n| connector(&sb).with_page_size(n), "login").await;
}

// An unknown stream is not Google's.
#[tokio::test]
async fn an_unknown_stream_is_not_found() {
    let sb = sandbox(10).await;
    let err = connector(&sb).activities("gmail", None).await.unwrap_err();
    assert!(matches!(err, ConnectorError::NotFound { .. }), "{err}");
}

/// The keys of a stored group's members.
async fn member_keys(
    svc: &casbah::service::Service,
    group: &casbah::domain::Group,
) -> BTreeSet<String> {
    let members = svc.members(group.id).await.expect("members");
    members.into_iter().map(|m| m.key).collect()
}

/// The sandbox's group of that name (the first, if names repeat).
fn group_named(sb: &Sandbox, name: &str) -> GoogleGroup {
    let groups = sb.google_groups();
    groups
        .into_iter()
        .find(|g| g.name == name)
        .expect("the group")
}

/// A service over a fresh store with the sandbox's customer connected as `contoso-google`.
async fn connected(sb: &Sandbox) -> (casbah::service::Service, tempfile::TempDir) {
    use casbah::service::{ConnectRequest, Intervals, Service};
    let dir = tempfile::tempdir().expect("tempdir");
    let store = common::open_store(&dir.path().join("casbah.redb")).expect("store");
    let svc = Service::with_store(store, Intervals::default());
    svc.connect(ConnectRequest {
        instance: sb.google_instance("contoso-google"),
        secret: sb.google_service_account_key(),
    })
    .await
    .expect("connect");
    (svc, dir)
}

// R-G1: the service's user scan fills the automatic group "Google Workspace
// administrator" with exactly the users Google marks isAdmin; a suspended
// administrator is counted as skipped, not a member.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_user_scan_fills_the_google_workspace_administrator_group() {
    let sb = sandbox(300).await;
    let impersonated = sb.google_admin_email();
    let other_admin = sb
        .google_accounts()
        .into_iter()
        .find(|a| a.admin && a.email != impersonated)
        .expect("a second administrator")
        .email;
    sb.google_set_suspended(&other_admin, true).unwrap();
    let (svc, _dir) = connected(&sb).await;
    for job in svc.sync_now(None).await.expect("sync") {
        job.wait().await.expect("scan");
    }
    let group = svc
        .groups()
        .await
        .unwrap()
        .into_iter()
        .find(|g| g.name == "Google Workspace administrator")
        .expect("the automatic group");
    let members = member_keys(&svc, &group).await;
    let want: BTreeSet<String> = sb
        .google_accounts()
        .into_iter()
        .filter(|a| a.admin && !a.suspended && !a.archived)
        .map(|a| a.email)
        .collect();
    assert!(want.len() >= 2);
    assert_eq!(members, want);
    assert!(!members.contains(&other_admin));
    assert_eq!(group.skipped.suspended, 1);
}

// R-G4: importing a group holds exactly its active users, nested ones
// included, and counts the others by reason ("… skipped: 3 suspended, 2 archived").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_holds_the_active_users_and_counts_the_rest_by_reason() {
    let sb = sandbox(300).await;
    let everyone = group_named(&sb, "Everyone at Contoso");
    for (email, _) in everyone
        .users
        .iter()
        .filter(|(_, s)| *s == "ACTIVE")
        .take(2)
    {
        sb.google_set_suspended(email, true).unwrap();
    }
    let archived = everyone
        .users
        .iter()
        .rev()
        .find(|(_, s)| *s == "ACTIVE")
        .unwrap()
        .0
        .clone();
    sb.google_set_archived(&archived, true).unwrap();
    let users = group_named(&sb, "Everyone at Contoso").users;
    let count = |status: &str| users.iter().filter(|(_, s)| *s == status).count();
    let (active, suspended, archived_n) = (count("ACTIVE"), count("SUSPENDED"), count("ARCHIVED"));
    assert!(suspended >= 2 && archived_n >= 1);
    let (svc, _dir) = connected(&sb).await;
    // By e-mail: the name alone would not say which group is meant.
    let (group, job) = svc
        .import_group("contoso-google", &everyone.email, false)
        .await
        .expect("import");
    let summary = job.wait().await.expect("first sync");
    assert_eq!(
        summary,
        format!(
            "{active} imported, {} skipped: {suspended} suspended, {archived_n} archived",
            suspended + archived_n
        )
    );
    let members = member_keys(&svc, &group).await;
    let want: BTreeSet<String> = users
        .iter()
        .filter(|(_, s)| *s == "ACTIVE")
        .map(|(e, _)| e.clone())
        .collect();
    assert_eq!(members, want);
    assert!(everyone.direct_members < want.len(), "nested members count");
}

// R-C3: a customer id Google does not know is named in the one-line error.
#[tokio::test]
async fn a_wrong_customer_id_is_named() {
    let sb = sandbox(10).await;
    let mut inst = instance(&sb, &sb.google_admin_email());
    inst.fields.insert("customer-id".into(), "C0nosuch1".into());
    let g = GoogleWorkspace::with_policy(&inst, sb.google_service_account_key(), fast_retries())
        .unwrap();
    let err = g.check().await.unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Vendor { status: 400, code, .. } if code == "badRequest"),
        "{err}"
    );
    assert!(
        err.to_string().contains("check --customer-id (C0nosuch1)"),
        "{err}"
    );
}

// R-G2: group names are not unique in Google Workspace: `groups import` by a name two
// groups share is refused with their e-mails, and either e-mail imports that group.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_two_groups_share_is_refused_with_their_emails() {
    let sb = sandbox(300).await;
    let (svc, _dir) = connected(&sb).await;
    let support: Vec<String> = sb
        .google_groups()
        .into_iter()
        .filter(|g| g.name == "Support")
        .map(|g| g.email)
        .collect();
    assert_eq!(support.len(), 2, "{support:?}");
    let err = svc
        .import_group("contoso-google", "Support", false)
        .await
        .unwrap_err();
    assert!(err.is_usage(), "{err}");
    let text = err.to_string();
    for email in &support {
        assert!(text.contains(email.as_str()), "{text}");
    }
    assert!(
        svc.groups()
            .await
            .unwrap()
            .iter()
            .all(|g| g.name != "Support"),
        "nothing imported"
    );
    let (group, job) = svc
        .import_group("contoso-google", &support[1], false)
        .await
        .expect("by e-mail");
    job.wait().await.expect("first sync");
    let casbah::domain::GroupKind::Imported { remote_id, .. } = group.kind else {
        panic!("an imported group")
    };
    let wanted = sb
        .google_groups()
        .into_iter()
        .find(|g| g.email == support[1])
        .unwrap();
    assert_eq!(remote_id, wanted.id);
}

// Issue 8, issue 10: a record that cannot be read is one skipped record: the user scan
// goes on, counts it, and says so in the instance's notes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_user_scan_counts_and_shows_a_record_it_could_not_read() {
    let sb = sandbox(120).await;
    let accounts = sb.google_accounts();
    sb.google_withhold_id(&accounts[5].email).unwrap();
    let (svc, _dir) = connected(&sb).await;
    for job in svc
        .scan_now("contoso-google", casbah::store::ScanKind::Users)
        .await
        .unwrap()
    {
        let summary = job.wait().await.expect("the scan goes on");
        assert!(
            summary.contains(&format!("{} users", accounts.len() - 1)),
            "{summary}"
        );
    }
    let summary = &svc.instances().await.unwrap()[0];
    let (_, users) = summary
        .scans
        .iter()
        .find(|(k, _)| *k == casbah::store::ScanKind::Users)
        .expect("a user scan");
    let note = users.note.as_deref().unwrap_or_default();
    assert!(
        note.starts_with("1 account record could not be read"),
        "{note}"
    );
    assert!(users.last_error.is_none());
}

/// An active account that is not an administrator: its id and e-mail.
fn plain_account(sb: &Sandbox) -> (String, String) {
    sb.google_accounts()
        .into_iter()
        .find(|a| !a.suspended && !a.archived && !a.admin)
        .map(|a| (a.id, a.email))
        .expect("a plain account")
}

// Issue 11: each account action is the documented Directory API request (PATCH
// suspended or changePasswordAtNextLogin, POST signOut) on a token of its own with the
// read-write scopes, and a suspension is what the next user scan reads.
#[tokio::test]
async fn account_actions_are_the_documented_directory_requests() {
    let sb = sandbox(60).await;
    let g = connector(&sb);
    assert_eq!(g.account_actions(), AccountAction::ALL);
    common::assert_catalog_agrees(&g);
    let (id, email) = plain_account(&sb);
    let done = g.act_on_account(AccountAction::Suspend, &id).await.unwrap();
    assert_eq!((done.status, done.request_id), (200, None));
    assert_eq!(sb.google_acted(&email, "suspend"), 1);
    assert_eq!(common::scanned_status(&g, &id).await, UserStatus::Suspended);
    g.act_on_account(AccountAction::Unsuspend, &id)
        .await
        .unwrap();
    assert_eq!(common::scanned_status(&g, &id).await, UserStatus::Active);
    let out = g.act_on_account(AccountAction::SignOut, &id).await.unwrap();
    assert_eq!(out.status, 204);
    assert_eq!(sb.served_with(&format!("{USERS}/{id}/signOut"), 204), 1);
    g.act_on_account(AccountAction::RequirePasswordChange, &id)
        .await
        .unwrap();
    assert_eq!(sb.google_acted(&email, "change-password"), 1);
    let nobody = g.act_on_account(AccountAction::Suspend, "nobody").await;
    assert!(
        matches!(&nobody, Err(ConnectorError::NotFound { what, .. }) if what == "user nobody"),
        "{nobody:?}"
    );
}

// Issue 11: with only the read scopes delegated, reading goes on (the read token never
// asks for the others) and an action names the scopes to add; nothing happens.
#[tokio::test]
async fn without_the_read_write_scopes_an_action_names_them() {
    let sb = sandbox(60).await;
    sb.google_delegate_scopes(&SCOPES);
    let g = connector(&sb);
    g.check().await.expect("reads as before");
    let (id, email) = plain_account(&sb);
    let refused = g
        .act_on_account(AccountAction::Suspend, &id)
        .await
        .expect_err("no read-write scope");
    assert!(
        matches!(&refused, ConnectorError::Permission { code, message, .. }
            if code == "unauthorized_client" && message.contains(MANAGE_SCOPES[0])),
        "{refused}"
    );
    assert_eq!(sb.google_acted(&email, "suspend"), 0);
    assert_eq!(common::scanned_status(&g, &id).await, UserStatus::Active);
}
