//! The Okta connector over real HTTP against the sandbox's Okta dialect
//! (two orgs, API tokens and service apps, the System Log), and two Okta
//! instances side by side in one service.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::{Duration, Instant};

use casbah::connectors::http::RetryPolicy;
use casbah::connectors::okta::{Okta, SYSTEM_LOG};
use casbah::connectors::{Connector, ConnectorError, DomainTally};
use casbah::domain::governance::AccountAction;
use casbah::domain::group::split_active;
use casbah::domain::{Activity, AppKind, Instance, InstanceId, ObjectKind, Secret, UserStatus};
mod common;
// Issue 11: app grants.
#[path = "connector_okta/grants.rs"]
mod grants;

use casbah::sandbox::{Fault, OktaStatus, PushedActivity, Sandbox, Stream};
use chrono::{TimeDelta, Utc};

/// The default week of history, no live stream.
async fn sandbox(users: usize) -> Sandbox {
    common::still_sandbox(users, 0.5).await
}

/// Backoff in milliseconds, and room for Okta's whole-second resets.
fn fast() -> RetryPolicy {
    RetryPolicy {
        backoff_base: Duration::from_millis(5),
        max_wait: Duration::from_secs(5),
        max_total_wait: Duration::from_secs(10),
        ..RetryPolicy::default()
    }
}

fn instance(sb: &Sandbox, org: usize, service_app: bool) -> Instance {
    sb.okta_instance(org, "acme", service_app)
        .into_instance(InstanceId(org as u64 + 1), 0)
}

/// Org `org` through its API token or its service app.
fn connector(sb: &Sandbox, org: usize, service_app: bool) -> Okta {
    let c = &sb.okta_orgs()[org];
    let secret = if service_app {
        c.private_key_pem.clone()
    } else {
        c.api_token.clone()
    };
    Okta::with_policy(&instance(sb, org, service_app), secret, fast()).expect("connector")
}

fn listed(sb: &Sandbox, org: usize) -> BTreeSet<String> {
    sb.okta_users(org)
        .into_iter()
        .filter(|u| u.status != OktaStatus::Deprovisioned)
        .map(|u| u.id)
        .collect()
}

async fn all_users(o: &Okta) -> (Vec<casbah::domain::RemoteUser>, usize) {
    let mut next: Option<String> = None;
    let mut users = Vec::new();
    let mut pages = 0;
    loop {
        let page = o.users(next.as_deref()).await.expect("page");
        pages += 1;
        users.extend(page.items);
        match page.next {
            Some(n) => next = Some(n),
            None => break,
        }
    }
    (users, pages)
}

// R-C3: a check obtains a service app's token (the sandbox checks the
// assertion's claims), then reads the first page of users; the token is
// kept for the calls after it.
#[tokio::test]
async fn check_with_a_service_app_then_the_token_is_reused() {
    let sb = sandbox(300).await;
    let o = connector(&sb, 0, true);
    let check = o.check().await.expect("check");
    assert_eq!(check.users_seen, listed(&sb, 0).len().min(200));
    o.first_groups(50).await.unwrap();
    o.activities(SYSTEM_LOG, None).await.unwrap();
    assert_eq!(sb.served_with("/oauth2/v1/token", 200), 1);
    // Revoked before its expiry: replaced once, transparently.
    sb.expire_okta_tokens();
    o.users(None).await.expect("a fresh token works");
    assert_eq!(sb.served_with("/oauth2/v1/token", 200), 2);
    assert_eq!(sb.served_with("/api/v1/users", 401), 1);
}

// R-C3: the API token way, and a JWK private key carrying its kid.
#[tokio::test]
async fn api_tokens_and_jwk_keys_connect() {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use pkcs1::der::Decode;
    let sb = sandbox(60).await;
    assert!(connector(&sb, 1, false).check().await.is_ok());
    assert_eq!(sb.served("/oauth2/v1/token"), 0, "an API token needs none");
    let c = &sb.okta_orgs()[0];
    let (_, der) = pkcs1::der::pem::decode_vec(c.private_key_pem.expose().as_bytes()).unwrap();
    let key = pkcs1::RsaPrivateKey::from_der(&der).unwrap();
    let b = |u: pkcs1::UintRef<'_>| URL_SAFE_NO_PAD.encode(u.as_bytes());
    let jwk = |kid: &str| {
        serde_json::json!({
            "kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
            "n": b(key.modulus), "e": b(key.public_exponent), "d": b(key.private_exponent),
            "p": b(key.prime1), "q": b(key.prime2), "dp": b(key.exponent1),
            "dq": b(key.exponent2), "qi": b(key.coefficient),
        })
        .to_string()
    };
    let inst = instance(&sb, 0, true);
    let ok = Okta::with_policy(&inst, Secret::new(jwk(&c.key_id)), fast()).unwrap();
    assert!(ok.check().await.is_ok());
    let err = Okta::with_policy(&inst, Secret::new(jwk("another-key")), fast())
        .unwrap()
        .check()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Auth { code, message, .. } if code == "invalid_client" && message.contains("kid")),
        "{err}"
    );
}

// R-C3: a wrong API token, a key the app does not hold and an unknown
// client id are refused with Okta's code in one line, never the secret.
#[tokio::test]
async fn wrong_credentials_are_refused_with_oktas_code() {
    let sb = sandbox(40).await;
    let orgs = sb.okta_orgs();
    let wrong = "00WrongTokenValue0000000000000000000000000";
    let err = Okta::with_policy(&instance(&sb, 0, false), Secret::new(wrong), fast())
        .unwrap()
        .check()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Auth { code, .. } if code == "E0000011"),
        "{err}"
    );
    let text = format!("{err} {err:?}");
    assert!(text.contains("Invalid token provided"), "{text}");
    assert!(!text.contains(wrong), "{text}");
    assert_eq!(sb.served_with("/api/v1/users", 401), 1, "not retried");

    // Org 1's key for org 0's app: the signature does not verify.
    let other_key = orgs[1].private_key_pem.clone();
    let err = Okta::with_policy(&instance(&sb, 0, true), other_key.clone(), fast())
        .unwrap()
        .check()
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(&err, ConnectorError::Auth { code, .. } if code == "invalid_client"),
        "{err}"
    );
    assert!(text.contains("signature"), "{text}");
    assert!(!text.contains("PRIVATE KEY") && !text.contains(&other_key.expose()[40..80]));

    let mut unknown = instance(&sb, 0, true);
    unknown
        .fields
        .insert("client-id".into(), "0oaNoSuchApp000000".into());
    let err = Okta::with_policy(&unknown, orgs[0].private_key_pem.clone(), fast())
        .unwrap()
        .check()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Auth { code, message, .. }
            if code == "invalid_client" && message.contains("client id")),
        "{err}"
    );
    assert_eq!(sb.served("/api/v1/users"), 1, "no API call without a token");

    // The scopes casbah asks for, not granted: Okta refuses the whole request.
    sb.set_okta_scopes(0, &["okta.users.read", "okta.groups.read"])
        .unwrap();
    let err = connector(&sb, 0, true).check().await.unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Auth { code, message, .. }
            if code == "invalid_scope" && message.contains("okta.logs.read")),
        "{err}"
    );
}

// R-C3: a domain with a scheme or a path, or a key that is not one, is one
// clear error before any request.
#[tokio::test]
async fn unusable_fields_fail_before_any_request() {
    let sb = sandbox(20).await;
    let mut bad = instance(&sb, 0, false);
    bad.fields
        .insert("domain".into(), "https://contoso.okta.com/".into());
    let err = Okta::with_policy(&bad, Secret::new("00token"), fast()).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ConnectorError::Invalid { .. }), "{text}");
    assert!(text.contains("such as acme.okta.com"), "{text}");
    let err =
        Okta::with_policy(&instance(&sb, 0, true), Secret::new("not a key"), fast()).unwrap_err();
    assert!(err.to_string().contains("private key"), "{err}");
    assert!(sb.served_all().is_empty());
    // Through the catalog's dispatch as well.
    assert!(casbah::connectors::for_instance(&bad, Secret::new("00token")).is_err());
    assert_eq!(instance(&sb, 0, false).app, AppKind::Okta);
}

// R-G2 paging, R-G4: users page through Link `next` across many pages,
// each once, DEPROVISIONED left out, every status in its own words.
#[tokio::test]
async fn users_page_across_many_pages_with_statuses() {
    let sb = sandbox(300).await;
    let o = connector(&sb, 0, false).with_page_size(40);
    let (users, pages) = all_users(&o).await;
    assert!(pages >= 3, "{pages}");
    let ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
    assert_eq!(ids.iter().cloned().collect::<BTreeSet<_>>(), listed(&sb, 0));
    assert_eq!(ids.len(), listed(&sb, 0).len(), "each once");
    let accounts: BTreeMap<String, _> = sb
        .okta_users(0)
        .into_iter()
        .map(|u| (u.id.clone(), u))
        .collect();
    let reasons: BTreeSet<String> = users
        .iter()
        .map(|u| u.status.reason().to_string())
        .collect();
    for u in &users {
        let a = &accounts[&u.id];
        assert_eq!(u.email, a.email);
        assert_eq!(
            u.status == UserStatus::Active,
            a.status == OktaStatus::Active
        );
        assert_eq!(
            u.principal_name.is_some(),
            !a.login.eq_ignore_ascii_case(&a.email),
            "{}",
            a.login
        );
    }
    for reason in [
        "active",
        "suspended",
        "staged",
        "provisioned",
        "in recovery",
        "locked out",
        "password expired",
    ] {
        assert!(reasons.contains(reason), "{reason} in {reasons:?}");
    }
    assert!(!reasons.contains("deprovisioned"));
    assert!(users.iter().any(|u| u.principal_name.is_some()));
}

// R-G2: the picker shows Okta's first 50 groups from one request; the
// search finds groups beyond them through `q` and, for longer lists,
// through `search` with paging.
#[tokio::test]
async fn first_fifty_and_search_beyond_them() {
    let sb = sandbox(300).await;
    let o = connector(&sb, 0, true);
    let groups = sb.okta_groups(0);
    let first = o.first_groups(50).await.unwrap();
    let want: Vec<String> = groups.iter().take(50).map(|g| g.id.clone()).collect();
    assert_eq!(first.iter().map(|g| g.id.clone()).collect::<Vec<_>>(), want);
    assert_eq!(first[0].display_name, "Everyone");
    assert_eq!(sb.served("/api/v1/groups"), 1);
    let late = groups
        .iter()
        .skip(50)
        .find(|g| g.name.starts_with("Project"))
        .expect("a Project group after the first 50");
    let found = o.search_groups(&late.name, 200).await.unwrap();
    assert_eq!(found[0].id, late.id, "the exact match first");
    let projects: BTreeSet<String> = groups
        .iter()
        .filter(|g| g.name.starts_with("Project"))
        .map(|g| g.id.clone())
        .collect();
    let by_q = o.search_groups("project", 200).await.unwrap();
    assert_eq!(
        by_q.iter().map(|g| g.id.clone()).collect::<BTreeSet<_>>(),
        projects
    );
    // More than `q` can answer: the SCIM search, page by page.
    let before = sb.served("/api/v1/groups");
    let small = connector(&sb, 0, true).with_page_size(10);
    let by_search = small.search_groups("Project", 400).await.unwrap();
    assert_eq!(
        by_search
            .iter()
            .map(|g| g.id.clone())
            .collect::<BTreeSet<_>>(),
        projects
    );
    assert!(sb.served("/api/v1/groups") - before >= 3, "paged");
    assert_eq!(
        o.search_groups("", 3).await.unwrap(),
        o.first_groups(3).await.unwrap()
    );
    assert_eq!(o.group(&late.id).await.unwrap().display_name, late.name);
    assert!(matches!(
        o.group("00gNoSuchGroup").await,
        Err(ConnectorError::NotFound { .. })
    ));
}

// R-G4: a group's members in any status across pages; the import keeps
// exactly the active ones and counts the rest by Okta's reasons.
#[tokio::test]
async fn members_import_active_only_with_skips_by_reason() {
    let sb = sandbox(300).await;
    let group = sb
        .okta_groups(0)
        .into_iter()
        .find(|g| g.name == "Engineering - All")
        .unwrap();
    assert!(group.members.len() >= 12);
    let statuses = [
        OktaStatus::Suspended,
        OktaStatus::Deprovisioned,
        OktaStatus::Staged,
        OktaStatus::Provisioned,
        OktaStatus::Recovery,
        OktaStatus::LockedOut,
        OktaStatus::PasswordExpired,
    ];
    for (member, status) in group.members.iter().zip(statuses) {
        sb.set_okta_status(0, member, status).unwrap();
    }
    let members = connector(&sb, 0, true)
        .with_page_size(25)
        .group_members(&group.id)
        .await
        .unwrap()
        .items;
    assert_eq!(
        members.iter().map(|u| u.id.clone()).collect::<Vec<_>>(),
        group.members
    );
    assert!(sb.served_with(&format!("/api/v1/groups/{}/users", group.id), 200) >= 3);
    let accounts: BTreeMap<String, OktaStatus> = sb
        .okta_users(0)
        .into_iter()
        .map(|u| (u.id, u.status))
        .collect();
    let want_active: BTreeSet<String> = group
        .members
        .iter()
        .filter(|m| accounts[*m] == OktaStatus::Active)
        .cloned()
        .collect();
    let (active, skipped) = split_active(members);
    assert_eq!(
        active.iter().map(|u| u.id.clone()).collect::<BTreeSet<_>>(),
        want_active
    );
    let count = |s: OktaStatus| group.members.iter().filter(|m| accounts[*m] == s).count() as u32;
    assert_eq!(skipped.suspended, count(OktaStatus::Suspended));
    for (reason, status) in [
        ("deprovisioned", OktaStatus::Deprovisioned),
        ("staged", OktaStatus::Staged),
        ("provisioned", OktaStatus::Provisioned),
        ("in recovery", OktaStatus::Recovery),
        ("locked out", OktaStatus::LockedOut),
        ("password expired", OktaStatus::PasswordExpired),
    ] {
        assert_eq!(
            skipped.other.get(reason).copied(),
            Some(count(status)),
            "{reason}"
        );
    }
    assert_eq!(skipped.disabled + skipped.deleted, 0);
}

// R-G1: Okta lists no domains; the org's own come from its accounts'
// tally, and its few contractors at gmail.com do not make gmail.com its.
#[tokio::test]
async fn org_domains_come_from_the_tally() {
    let sb = sandbox(600).await;
    let o = connector(&sb, 0, false);
    let (users, _) = all_users(&o).await;
    let mut tally = DomainTally::new();
    for u in &users {
        let domain = u.email.rsplit('@').next().unwrap().to_lowercase();
        *tally.entry(domain).or_default() += 1;
    }
    assert!(tally.contains_key("gmail.com"), "{tally:?}");
    assert_eq!(o.org_domains(&tally).await.unwrap(), ["contoso.com"]);
    // Before any user scan: a first page of accounts stands in.
    let before = sb.served("/api/v1/users");
    assert_eq!(
        o.org_domains(&DomainTally::new()).await.unwrap(),
        ["contoso.com"]
    );
    assert_eq!(sb.served("/api/v1/users"), before + 1);
}

/// One System Log event per user and day over the week, no live stream.
async fn history(users: usize) -> Sandbox {
    common::still_sandbox(users, 1.0).await
}

/// Reads the System Log from `from` until caught up: the activities, the
/// cursor to go on from, and how many reads it took.
async fn read_all(o: &Okta, from: Option<String>) -> (Vec<Activity>, String, usize) {
    let (mut got, mut cursor, mut reads, mut more) = (Vec::new(), from, 0, true);
    while more {
        let batch = o
            .activities(SYSTEM_LOG, cursor.as_deref())
            .await
            .expect("batch");
        got.extend(batch.activities);
        (cursor, more, reads) = (Some(batch.cursor), batch.more, reads + 1);
        assert!(reads < 1000, "never caught up");
    }
    (got, cursor.unwrap_or_default(), reads)
}

// R-C6: a first read goes a week back, page by page, and is caught up when
// a page comes back empty; the stored `next` link picks up what comes later.
#[tokio::test]
async fn the_system_log_backfills_a_week_then_polls_from_its_cursor() {
    let sb = history(50).await;
    let o = connector(&sb, 1, true).with_log_page_size(100);
    let (week, cursor, calls) = read_all(&o, None).await;
    // The oldest event lies exactly a week before the sandbox started, a
    // moment before "a week back" when the connector asks.
    assert!(
        (50 * 7 - 1..=50 * 7).contains(&week.len()),
        "{}",
        week.len()
    );
    assert!(calls >= 4, "{calls}");
    let ids: HashSet<&str> = week.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids.len(), week.len());
    let oldest = week.iter().map(|a| a.time).min().unwrap();
    assert!(
        Utc::now().timestamp_micros() - oldest <= TimeDelta::days(7).num_microseconds().unwrap()
    );
    assert!(
        week.iter()
            .all(|a| a.app == AppKind::Okta && a.instance == InstanceId(2))
    );
    // Caught up: another read is empty and keeps a cursor.
    let quiet = o.activities(SYSTEM_LOG, Some(&cursor)).await.unwrap();
    assert!(quiet.activities.is_empty() && !quiet.more);
    // Pushed later (published a while ago): read from the cursor.
    let actor = sb.okta_users(1)[3].login.clone();
    sb.push_activity(PushedActivity {
        at: Utc::now() - TimeDelta::minutes(30),
        ..PushedActivity::new(Stream::OktaSystemLog(1), &actor, "user.session.end")
    });
    let (later, _, _) = read_all(&o, Some(quiet.cursor)).await;
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].action_type, "sign-out");
    assert_eq!(later[0].actor, actor.to_lowercase());
    // Org 0's log is another stream.
    assert!(sb.served("/api/v1/logs") > 0);
    let other = connector(&sb, 0, false)
        .activities(SYSTEM_LOG, None)
        .await
        .unwrap();
    assert!(
        other
            .activities
            .iter()
            .all(|a| !ids.contains(a.id.as_str()))
    );
    assert!(matches!(
        o.activities("audit", None).await,
        Err(ConnectorError::NotFound { .. })
    ));
}

// R-A1: an event's fields as casbah records them: the country name turned
// into its code, failure, the actor lower-cased, objects by type, admin.
#[tokio::test]
async fn events_are_mapped_field_by_field() {
    let sb = sandbox(80).await;
    let o = connector(&sb, 0, false);
    let (_, cursor, _) = read_all(&o, None).await;
    let someone = sb.okta_users(0).into_iter().find(|u| u.staff).unwrap();
    let shouting = someone.login.to_uppercase();
    let group = sb.okta_groups(0)[5].clone();
    sb.push_activity(PushedActivity {
        country: Some("KR".into()),
        success: false,
        ip: "198.51.100.23".into(),
        ..PushedActivity::new(Stream::OktaSystemLog(0), &shouting, "user.session.start")
    });
    sb.push_activity(PushedActivity {
        object: Some(group.name.clone()),
        ..PushedActivity::new(
            Stream::OktaSystemLog(0),
            &someone.login,
            "group.user_membership.add",
        )
    });
    let (got, _, _) = read_all(&o, Some(cursor)).await;
    assert_eq!(got.len(), 2);
    let sign_in = &got[0];
    assert_eq!(sign_in.actor, someone.login.to_lowercase());
    assert_eq!(sign_in.activity_type, "user.session.start");
    assert_eq!(sign_in.action_type, "sign-in");
    assert!(!sign_in.succeeded && !sign_in.admin);
    assert_eq!(sign_in.country.as_deref(), Some("KR"), "South Korea → KR");
    assert_eq!(sign_in.ip.as_deref(), Some("198.51.100.23"));
    assert_eq!(sign_in.source, "Okta System Log");
    assert!(sign_in.user_agent.is_some() && sign_in.device_type.is_some());
    let added = &got[1];
    assert_eq!(added.action_type, "member-add");
    assert!(added.admin && added.succeeded);
    assert_eq!(added.objects.len(), 1);
    assert_eq!(added.objects[0].kind, ObjectKind::Group);
    assert_eq!(
        (added.objects[0].id.as_str(), added.objects[0].name.as_str()),
        (group.id.as_str(), group.name.as_str())
    );
    // Generated events: names become codes everywhere; targets are typed.
    let (week, _, _) = read_all(&connector(&sb, 0, false), None).await;
    assert!(
        week.iter()
            .all(|a| a.country.as_deref().is_none_or(|c| c.len() == 2))
    );
    assert!(week.iter().any(|a| a.country.is_some()));
    assert!(week.iter().any(|a| !a.succeeded));
    assert!(
        week.iter()
            .any(|a| a.objects.iter().any(|o| o.kind == ObjectKind::App))
    );
    assert!(
        week.iter()
            .any(|a| a.objects.iter().any(|o| o.kind == ObjectKind::User))
    );
    assert!(week.iter().all(|a| a.actor == a.actor.to_lowercase()));
    assert!(
        week.iter()
            .all(|a| casbah::domain::activity::ACTION_TYPES.contains(&a.action_type.as_str()))
    );
}

// Rate limits: Okta's 429 with X-Rate-Limit-Reset is waited out in full,
// never retried early, for the API and the token endpoint alike; 5xx is
// retried.
#[tokio::test]
async fn throttling_waits_for_the_reset_and_never_comes_back_early() {
    let sb = sandbox(60).await;
    let o = connector(&sb, 0, true);
    sb.set_faults(casbah::sandbox::FaultSpec {
        token_endpoint: true,
        ..Default::default()
    });
    sb.fail_next(
        "/oauth2/v1/token",
        Fault::Throttle {
            retry_after: Some(0.3),
        },
        1,
    );
    sb.fail_next(
        "/api/v1/users",
        Fault::Throttle {
            retry_after: Some(0.3),
        },
        2,
    );
    let started = Instant::now();
    o.users(None).await.expect("read after the waits");
    let took = started.elapsed();
    assert_eq!(sb.early_retries("Okta"), 0);
    assert_eq!(sb.served_with("/api/v1/users", 429), 2);
    assert_eq!(sb.served_with("/oauth2/v1/token", 429), 1);
    // Three waits, each until a reset at least 0.3 s away.
    assert!(took >= Duration::from_millis(900), "{took:?}");
    sb.fail_next("/api/v1/groups", Fault::ServerError, 2);
    sb.fail_next("/api/v1/logs", Fault::Drop, 1);
    o.first_groups(5).await.expect("retried");
    o.activities(SYSTEM_LOG, None).await.expect("retried");
    assert_eq!(sb.served_with("/api/v1/groups", 500), 2);
    assert_eq!(sb.early_retries("Okta"), 0);
}

// Shared HTTP policy: a wait longer than casbah allows is not cut short;
// the call gives up instead of coming back early.
#[tokio::test]
async fn a_reset_beyond_the_longest_wait_gives_up_rather_than_retry_early() {
    let sb = sandbox(20).await;
    let policy = RetryPolicy {
        max_wait: Duration::from_millis(500),
        ..fast()
    };
    let o = Okta::with_policy(
        &instance(&sb, 0, false),
        sb.okta_orgs()[0].api_token.clone(),
        policy,
    )
    .unwrap();
    sb.fail_next(
        "/api/v1/users",
        Fault::Throttle {
            retry_after: Some(3.0),
        },
        1,
    );
    let err = o.users(None).await.unwrap_err();
    assert!(
        matches!(err, ConnectorError::Exhausted { attempts: 1, .. }),
        "{err}"
    );
    assert_eq!(sb.early_retries("Okta"), 0);
}

// A vendor answer of the wrong shape is one Protocol error, not a panic
// and not a retry; a garbled one is retried; one bad record (a user
// without an id) is skipped, not the end of the scan.
#[tokio::test]
async fn bad_answers_and_bad_records() {
    let sb = sandbox(120).await;
    let o = connector(&sb, 0, false).with_page_size(50);
    sb.okta_answer_next("/api/v1/users", 200, r#"{"errorCode":"E0000001"}"#);
    let err = o.users(None).await.unwrap_err();
    assert!(matches!(err, ConnectorError::Protocol { .. }), "{err}");
    assert_eq!(sb.served("/api/v1/users"), 1);
    sb.okta_answer_next("/api/v1/groups", 200, "<html>not json");
    assert_eq!(o.first_groups(3).await.unwrap().len(), 3);
    sb.okta_answer_next("/api/v1/logs", 200, r#"[{"uuid": 5}, {"uuid":"u1","published":"2024-05-01T10:00:00Z","eventType":"user.session.start"}]"#);
    let batch = o.activities(SYSTEM_LOG, None).await.unwrap();
    assert_eq!(batch.activities.len(), 1, "the unreadable event is skipped");

    let broken = sb.okta_users(0)[60].id.clone();
    sb.break_okta_user(0, &broken).unwrap();
    let (users, pages) = all_users(&o).await;
    assert!(pages >= 2);
    let mut want = listed(&sb, 0);
    want.remove(&broken);
    assert_eq!(
        users.iter().map(|u| u.id.clone()).collect::<BTreeSet<_>>(),
        want
    );
}

mod service {
    use super::*;
    use casbah::service::{ConnectRequest, Intervals, Service};

    fn quiet() -> Intervals {
        Intervals {
            users: Duration::from_secs(3600),
            groups: Duration::from_secs(3600),
            activities: Duration::from_secs(3600),
            tick: Duration::from_secs(3600),
        }
    }

    async fn select(svc: &Service, filter: &str) -> Vec<Activity> {
        svc.activities(filter, 100_000, None)
            .await
            .unwrap_or_else(|e| panic!("{filter}: {e}"))
            .items
    }

    // R-C2, R-G4: two Okta instances connected and synced in one process
    // keep their records apart: every activity is filed under its own
    // instance, `instance:NAME` selects exactly it, an import keeps the
    // active members and counts the rest by reason, and removing one
    // instance leaves the other's users, groups and records.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_okta_instances_keep_their_records_apart() {
        let sb = history(60).await;
        let dir = tempfile::tempdir().unwrap();
        let store = common::open_store(&dir.path().join("casbah.redb")).unwrap();
        let svc = Service::with_store(store, quiet());
        let orgs = sb.okta_orgs();
        svc.connect(ConnectRequest {
            instance: sb.okta_instance(0, "contoso", false),
            secret: orgs[0].api_token.clone(),
        })
        .await
        .expect("connect org 0 by API token");
        svc.connect(ConnectRequest {
            instance: sb.okta_instance(1, "contoso-emea", true),
            secret: orgs[1].private_key_pem.clone(),
        })
        .await
        .expect("connect org 1 by service app");
        // Each org's log, read straight from the sandbox.
        let (log0, _, _) = read_all(&connector(&sb, 0, false), None).await;
        let (log1, _, _) = read_all(&connector(&sb, 1, false), None).await;
        let ids = |a: &[Activity]| a.iter().map(|a| a.id.clone()).collect::<BTreeSet<_>>();
        for job in svc.sync_now(None).await.unwrap() {
            job.wait().await.expect("scan");
        }
        let a = svc.find_instance("contoso").await.unwrap();
        let b = svc.find_instance("contoso-emea").await.unwrap();
        assert_ne!(a.id, b.id);
        let of_a = select(&svc, "instance:contoso").await;
        let of_b = select(&svc, "instance:contoso-emea").await;
        assert_eq!(ids(&of_a), ids(&log0));
        assert_eq!(ids(&of_b), ids(&log1));
        assert!(
            of_a.iter()
                .all(|x| x.instance == a.id && x.app == AppKind::Okta)
        );
        assert!(of_b.iter().all(|x| x.instance == b.id));
        assert_eq!(select(&svc, "").await.len(), of_a.len() + of_b.len());
        let summaries = svc.instances().await.unwrap();
        let users_of = |id| {
            summaries
                .iter()
                .find(|s| s.instance.id == id)
                .unwrap()
                .users
        };
        assert_eq!(users_of(a.id) as usize, listed(&sb, 0).len());
        assert_eq!(users_of(b.id) as usize, listed(&sb, 1).len());

        // The same group name in both orgs: each import reads its own org.
        let name = sb
            .okta_groups(1)
            .into_iter()
            .find(|g| g.name.starts_with("Project") && g.members.len() >= 3)
            .map(|g| g.name)
            .expect("a Project group in both orgs");
        let member = sb
            .okta_groups(1)
            .into_iter()
            .find(|g| g.name == name)
            .unwrap()
            .members[0]
            .clone();
        sb.set_okta_status(1, &member, OktaStatus::LockedOut)
            .unwrap();
        let (_, job) = svc.import_group("contoso", &name, false).await.unwrap();
        job.wait().await.unwrap();
        let (_, job) = svc
            .import_group("contoso-emea", &name, false)
            .await
            .unwrap();
        job.wait().await.unwrap();
        let imported: Vec<_> = svc
            .groups()
            .await
            .unwrap()
            .into_iter()
            .filter(|g| g.name.contains(&name))
            .collect();
        assert_eq!(imported.len(), 2, "{imported:?}");
        let emea = sb
            .okta_groups(1)
            .into_iter()
            .find(|g| g.name == name)
            .unwrap();
        let statuses: BTreeMap<String, OktaStatus> = sb
            .okta_users(1)
            .into_iter()
            .map(|u| (u.id, u.status))
            .collect();
        let active = emea
            .members
            .iter()
            .filter(|m| statuses[*m] == OktaStatus::Active)
            .count();
        let of_emea = imported
            .iter()
            .find(|g| matches!(&g.kind, casbah::domain::GroupKind::Imported { instance, .. } if *instance == b.id))
            .unwrap();
        assert_eq!(of_emea.member_count as usize, active);
        assert!(
            of_emea
                .skipped
                .other
                .get("locked out")
                .copied()
                .unwrap_or(0)
                >= 1
        );

        svc.remove_instance("contoso-emea").await.unwrap();
        assert_eq!(select(&svc, "instance:contoso").await.len(), of_a.len());
        let left = svc.groups().await.unwrap();
        assert!(left.iter().any(|g| matches!(&g.kind, casbah::domain::GroupKind::Imported { instance, .. } if *instance == a.id)));
        assert!(!left.iter().any(|g| matches!(&g.kind, casbah::domain::GroupKind::Imported { instance, .. } if *instance == b.id)));
        let summaries = svc.instances().await.unwrap();
        assert_eq!(summaries.len(), 1);
        assert_eq!(summaries[0].users as usize, listed(&sb, 0).len());
        svc.shutdown().await;
    }

    // R-G1: External spans every connected app and is worked out from each instance's own
    // domains: a contractor whom only Okta knows, at a public mail provider, is External
    // when they act; nobody of the organisation's domains is.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn external_spans_the_apps_from_each_instances_own_domains() {
        let sb = history(80).await;
        let contractor = sb
            .okta_users(0)
            .into_iter()
            .find(|u| !u.staff && u.status == OktaStatus::Active && u.email.ends_with("@gmail.com"))
            .expect("an active contractor at gmail.com")
            .email;
        sb.push_activity(PushedActivity::new(
            Stream::OktaSystemLog(0),
            &contractor,
            "user.session.start",
        ));
        let dir = tempfile::tempdir().unwrap();
        let store = common::open_store(&dir.path().join("casbah.redb")).unwrap();
        let svc = Service::with_store(store, quiet());
        svc.connect(ConnectRequest {
            instance: sb.microsoft365_instance("tenant", casbah::domain::Component::default_set()),
            secret: sb.client_secret.clone(),
        })
        .await
        .expect("connect Microsoft 365");
        svc.connect(ConnectRequest {
            instance: sb.okta_instance(0, "workforce", false),
            secret: sb.okta_orgs()[0].api_token.clone(),
        })
        .await
        .expect("connect Okta");
        for job in svc.sync_now(None).await.unwrap() {
            job.wait().await.expect("scan");
        }
        let external = select(&svc, "group:External").await;
        assert!(
            external
                .iter()
                .any(|a| a.actor == contractor.to_lowercase() && a.app == AppKind::Okta),
            "the contractor's Okta sign-in is External"
        );
        assert!(
            external.iter().all(|a| !a.actor.ends_with("@contoso.com")),
            "nobody of the organisation's own domain is External"
        );
        svc.shutdown().await;
    }
}

/// An ACTIVE account of org `org`: its id.
fn active_user(sb: &Sandbox, org: usize) -> String {
    sb.okta_users(org)
        .into_iter()
        .find(|u| u.status == OktaStatus::Active)
        .map(|u| u.id)
        .expect("an active account")
}

use common::scanned_status as scanned;

// Issue 11: each account action is the documented request (the lifecycle operation or
// the sessions' DELETE, with the manage scope), answered with Okta's request id, and its
// effect is what the next user scan reads. Okta's suspend is not idempotent: a second one
// is refused with E0000001, sent once and counted once.
#[tokio::test]
async fn account_actions_are_the_documented_requests_and_show_in_the_next_scan() {
    let sb = sandbox(60).await;
    let o = connector(&sb, 0, true);
    assert_eq!(o.account_actions(), AccountAction::ALL);
    common::assert_catalog_agrees(&o);
    let id = active_user(&sb, 0);
    let path = |rest: &str| format!("/api/v1/users/{id}/{rest}");

    let done = o.act_on_account(AccountAction::Suspend, &id).await.unwrap();
    assert_eq!(done.status, 200);
    assert!(done.request_id.is_some_and(|r| !r.is_empty()));
    assert_eq!(sb.okta_acted(0, &id, "suspend"), 1);
    assert_eq!(scanned(&o, &id).await, UserStatus::Suspended);

    let again = o.act_on_account(AccountAction::Suspend, &id).await;
    assert!(
        matches!(&again, Err(ConnectorError::Vendor { status: 400, code, message, .. })
            if code == "E0000001" && message.contains("SUSPENDED")),
        "{again:?}"
    );
    assert_eq!(sb.served(&path("lifecycle/suspend")), 2, "each sent once");
    assert_eq!(sb.okta_acted(0, &id, "suspend"), 1);

    o.act_on_account(AccountAction::Unsuspend, &id)
        .await
        .unwrap();
    assert_eq!(scanned(&o, &id).await, UserStatus::Active);
    let out = o.act_on_account(AccountAction::SignOut, &id).await.unwrap();
    assert_eq!(out.status, 204);
    assert_eq!(sb.served_with(&path("sessions"), 204), 1);
    let expired = o
        .act_on_account(AccountAction::RequirePasswordChange, &id)
        .await
        .unwrap();
    assert_eq!(expired.status, 200);
    assert_eq!(
        scanned(&o, &id).await,
        UserStatus::Inactive("password expired".into())
    );
    let nobody = o.act_on_account(AccountAction::Suspend, "00unobody").await;
    assert!(
        matches!(&nobody, Err(ConnectorError::NotFound { what, .. }) if what == "user 00unobody"),
        "{nobody:?}"
    );
    // With the org's API token, the same requests.
    let token = connector(&sb, 1, false);
    let other = active_user(&sb, 1);
    token
        .act_on_account(AccountAction::SignOut, &other)
        .await
        .unwrap();
    assert_eq!(sb.okta_acted(1, &other, "sessions"), 1);
}

// Issue 11: an action whose answer is a 5xx or never comes is not sent again (it may
// have been carried out), and the error says so; one Okta throttled was not, and goes once
// the reset has passed.
#[tokio::test]
async fn an_action_is_never_resent_after_a_5xx_but_waits_out_a_429() {
    let sb = sandbox(60).await;
    let o = connector(&sb, 0, true);
    let id = active_user(&sb, 0);
    let suspend = format!("/api/v1/users/{id}/lifecycle/suspend");
    sb.fail_next(&suspend, Fault::ServerError, 1);
    let failed = o.act_on_account(AccountAction::Suspend, &id).await;
    assert!(
        matches!(&failed, Err(ConnectorError::Vendor { status: 500, code, .. }) if code == "E0000009"),
        "{failed:?}"
    );
    assert_eq!(sb.served(&suspend), 1, "not resent");
    sb.fail_next(&suspend, Fault::Drop, 1);
    let unanswered = o
        .act_on_account(AccountAction::Suspend, &id)
        .await
        .expect_err("no answer");
    assert!(
        unanswered.to_string().contains("not sent again"),
        "{unanswered}"
    );
    assert_eq!(sb.served(&suspend), 2, "not resent after no answer either");
    sb.fail_next(
        &suspend,
        Fault::Throttle {
            retry_after: Some(1.0),
        },
        1,
    );
    o.act_on_account(AccountAction::Suspend, &id).await.unwrap();
    assert_eq!(sb.served(&suspend), 4);
    assert_eq!(sb.okta_acted(0, &id, "suspend"), 1);
}

// Issue 11: a service app granted the read scopes alone connects and reads as before;
// an action then names the scope to grant, and nothing reaches the account.
#[tokio::test]
async fn without_the_manage_scope_reading_works_and_acting_names_it() {
    let sb = sandbox(60).await;
    sb.set_okta_scopes(
        0,
        &["okta.users.read", "okta.groups.read", "okta.logs.read"],
    )
    .unwrap();
    let o = connector(&sb, 0, true);
    o.check().await.expect("reads as before");
    let id = active_user(&sb, 0);
    let refused = o.act_on_account(AccountAction::Suspend, &id).await;
    let err = refused.expect_err("no manage scope");
    assert!(err.to_string().contains("okta.users.manage"), "{err}");
    assert!(err.to_string().contains("Okta API Scopes"), "{err}");
    assert_eq!(sb.okta_acted(0, &id, "suspend"), 0);
    assert_eq!(scanned(&o, &id).await, UserStatus::Active);
}
