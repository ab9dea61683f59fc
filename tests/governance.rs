//! Issue 11: account actions through the service, over HTTP against the sandbox: the
//! plan sends nothing, every attempt is on the record before it is sent, the vendor's
//! answer after it, partial failures are reported target by target, refusals send and
//! write nothing, and the users are read again.

mod common;

use std::time::{Duration, Instant};

use casbah::domain::UserStatus;
use casbah::domain::governance::{AccountAction, AuditOutcome};
use casbah::sandbox::{FaultSpec, OktaStatus, Sandbox};
use casbah::service::{ConnectRequest, Service};
use casbah::store::ScanKind;

fn enabled_members(sb: &Sandbox, n: usize) -> Vec<(uuid::Uuid, String)> {
    sb.org()
        .users
        .iter()
        .filter(|u| u.account_enabled && !u.guest && u.deleted.is_none())
        .take(n)
        .map(|u| (u.id, u.mail.to_lowercase()))
        .collect()
}

async fn scan_users(svc: &Service, instance: &str) {
    for job in svc.scan_now(instance, ScanKind::Users).await.expect("scan") {
        job.wait().await.expect("users read");
    }
}

async fn connect_okta(sb: &Sandbox, svc: &Service) {
    svc.connect(ConnectRequest {
        instance: sb.okta_instance(0, "okta", false),
        secret: sb.okta_orgs()[0].api_token.clone(),
    })
    .await
    .expect("okta connects");
    scan_users(svc, "okta").await;
}

/// Requests other than reads the sandbox has answered: what an action would send.
fn writes(sb: &Sandbox) -> u64 {
    sb.served_all()
        .iter()
        .filter(|((path, _), _)| {
            path.contains("lifecycle")
                || path.contains("sessions")
                || path.contains("revokeSignInSessions")
        })
        .map(|(_, n)| n)
        .sum()
}

fn os_user() -> String {
    nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map(|u| u.name)
        .expect("a user name")
}

// Issue 11: the plan names every target and warning and sends nothing; acting sends
// each request once, writes who, when, why and Graph's answer to the trail, and the
// users read again show the new state.
#[tokio::test]
async fn a_planned_action_is_sent_once_and_on_the_record() {
    let (sb, svc, _dir) = common::connected_service(40).await;
    scan_users(&svc, "contoso").await;
    let targets = enabled_members(&sb, 2);
    let names: Vec<String> = targets.iter().map(|(_, m)| m.clone()).collect();

    let plan = svc
        .plan_action("contoso", AccountAction::Suspend, names.clone())
        .await
        .expect("plan");
    assert_eq!(plan.targets.len(), 2);
    assert_eq!(plan.targets[0].account_id, targets[0].0.to_string());
    assert!(plan.can_be_undone);
    // Members of the sandbox tenant sync from on-premises AD: the seed's warning.
    assert!(
        plan.warnings().iter().any(|w| w.contains("on-premises AD")),
        "{:?}",
        plan.warnings()
    );
    assert_eq!(
        sb.graph_acted(targets[0].0, "disable"),
        0,
        "a plan sends nothing"
    );
    assert!(svc.audit_trail().await.unwrap().is_empty());
    // An Entra administrator is known by the administrators group (R-G1), and said.
    let admins = svc
        .find_group("Microsoft 365 administrator")
        .await
        .expect("the administrators group");
    let admin = svc.members(admins.id).await.expect("its members")[0]
        .key
        .clone();
    let plan_admin = svc
        .plan_action("contoso", AccountAction::SignOut, vec![admin.clone()])
        .await
        .expect("plan");
    assert!(
        plan_admin
            .warnings()
            .contains(&format!("{admin} is an administrator of the app")),
        "{:?}",
        plan_admin.warnings()
    );

    let (report, rescan) = svc
        .act(
            "contoso",
            AccountAction::Suspend,
            names.clone(),
            "phished on 12-06",
        )
        .await
        .expect("act");
    assert_eq!(report.done.len(), 2, "{report:?}");
    assert!(report.failed.is_empty());
    for (id, _) in &targets {
        assert_eq!(sb.graph_acted(*id, "disable"), 1, "sent once");
    }
    let trail = svc.audit_trail().await.unwrap();
    assert_eq!(trail.len(), 2);
    // Several requests are out at once, so the trail is in the order they left.
    for (id, mail) in &targets {
        let entry = trail
            .iter()
            .find(|e| e.attempt.target == *mail)
            .expect("an entry per account");
        assert_eq!(entry.attempt.account_id, id.to_string());
        assert_eq!(entry.attempt.action, "suspend");
        assert_eq!(entry.attempt.reason, "phished on 12-06");
        assert_eq!(entry.attempt.instance_name, "contoso");
        assert_eq!(entry.attempt.by, os_user());
        assert!(entry.settled.is_some_and(|t| t >= entry.attempt.at));
        assert!(
            matches!(&entry.outcome, AuditOutcome::Done { status: 204, request_id: Some(r) } if !r.is_empty()),
            "{:?}",
            entry.outcome
        );
    }
    for job in rescan {
        job.wait().await.expect("users read again");
    }
    let person = svc.person(&names[0]).await.expect("person");
    assert_eq!(person.accounts[0].1.status, UserStatus::Disabled);
}

// Issue 11: acting on several accounts where some fail reports each: the ones done,
// and the others with the vendor's code; nothing is sent twice after a 4xx or a 5xx.
#[tokio::test]
async fn a_partial_failure_is_reported_target_by_target() {
    let (sb, svc, _dir) = common::connected_service(60).await;
    connect_okta(&sb, &svc).await;
    let users = sb.okta_users(0);
    let active: Vec<_> = users
        .iter()
        .filter(|u| u.status == OktaStatus::Active)
        .take(3)
        .collect();
    let suspended = users
        .iter()
        .find(|u| u.status == OktaStatus::Suspended)
        .expect("a suspended account");
    let broken = &active[2];
    let broken_path = format!("/api/v1/users/{}/lifecycle/suspend", broken.id);
    sb.fail_next(&broken_path, casbah::sandbox::Fault::ServerError, 1);
    let names = vec![
        active[0].login.clone(),
        suspended.login.clone(),
        active[1].id.clone(),
        broken.email.clone(),
    ];
    let plan = svc
        .plan_action("okta", AccountAction::Suspend, names.clone())
        .await
        .expect("plan");
    assert!(
        plan.warnings()
            .iter()
            .any(|w| w.contains("already suspended")),
        "{:?}",
        plan.warnings()
    );
    let (report, _) = svc
        .act("okta", AccountAction::Suspend, names, "incident 7")
        .await
        .expect("act");
    assert_eq!(report.done.len(), 2, "{report:?}");
    assert_eq!(report.failed.len(), 2, "{report:?}");
    let codes: Vec<(Option<u16>, Option<String>)> = report
        .failed
        .iter()
        .map(|f| match &f.outcome {
            AuditOutcome::Failed { status, code, .. } => (*status, code.clone()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(
        codes.contains(&(Some(400), Some("E0000001".into()))),
        "{codes:?}"
    );
    assert!(
        codes.iter().any(|(s, _)| s.is_some_and(|s| s >= 500)),
        "{codes:?}"
    );
    assert_eq!(sb.served(&broken_path), 1, "a 5xx is not resent");
    assert_eq!(sb.okta_acted(0, &active[0].id, "suspend"), 1);
    assert_eq!(sb.okta_acted(0, &suspended.id, "suspend"), 0);
    let trail = svc.audit_trail().await.unwrap();
    assert_eq!(trail.len(), 4, "every attempt on the record");
    assert_eq!(
        trail
            .iter()
            .filter(|e| matches!(e.outcome, AuditOutcome::Failed { .. }))
            .count(),
        2
    );
}

// Issue 11: an unknown account, an app without the action, read-only mode and a
// missing reason are refused in one line, with nothing sent and nothing written.
#[tokio::test]
async fn refusals_send_nothing_and_write_nothing() {
    let (sb, svc, _dir) = common::connected_service(30).await;
    scan_users(&svc, "contoso").await;
    let known = enabled_members(&sb, 1).remove(0).1;
    let unknown = svc
        .act(
            "contoso",
            AccountAction::Suspend,
            vec![known.clone(), "nobody@nowhere.test".into()],
            "x",
        )
        .await
        .expect_err("unknown account");
    let line = unknown.to_string();
    assert!(
        line.contains("\"nobody@nowhere.test\"") && line.contains("nothing was sent"),
        "{line}"
    );
    assert!(unknown.is_usage());
    let no_reason = svc
        .act("contoso", AccountAction::Suspend, vec![known.clone()], "  ")
        .await
        .expect_err("no reason");
    assert!(no_reason.to_string().contains("--reason"), "{no_reason}");

    svc.set_setting(casbah::service::READ_ONLY_SETTING, "on")
        .await
        .unwrap();
    assert!(svc.read_only().await.unwrap());
    for action in AccountAction::EVERY {
        let refused = svc
            .plan_action("contoso", action, vec![known.clone()])
            .await
            .expect_err("read-only");
        assert!(refused.to_string().contains("read-only"), "{refused}");
        let refused = svc
            .act("contoso", action, vec![known.clone()], "x")
            .await
            .expect_err("read-only");
        assert!(refused.to_string().contains("read-only"), "{refused}");
    }
    svc.set_setting(casbah::service::READ_ONLY_SETTING, "off")
        .await
        .unwrap();
    svc.forbid_actions();
    assert!(
        svc.read_only().await.unwrap(),
        "--read-only outlasts the setting"
    );
    let refused = svc
        .act("contoso", AccountAction::SignOut, vec![known], "x")
        .await
        .expect_err("read-only");
    assert!(refused.to_string().contains("read-only"), "{refused}");

    assert_eq!(writes(&sb), 0, "nothing sent");
    assert!(
        svc.audit_trail().await.unwrap().is_empty(),
        "nothing written"
    );
}

// Issue 11: GitHub's API has no account action, nor a way to uninstall an app; casbah
// says so before any request.
#[tokio::test]
async fn an_app_without_the_action_says_so() {
    let (sb, svc, _dir) = common::connected_service(20).await;
    svc.connect(ConnectRequest {
        instance: sb.github_instance("gh", &sb.github_org()),
        secret: sb.github_token(),
    })
    .await
    .expect("github connects");
    let login = sb.github_members(&sb.github_org()).unwrap()[0]
        .login
        .clone();
    let refused = svc
        .plan_action("gh", AccountAction::Suspend, vec![login])
        .await
        .expect_err("no action");
    assert!(
        refused
            .to_string()
            .contains("offers no such account action"),
        "{refused}"
    );
    // Its installed apps are listed, and taking one back is refused before any request.
    scan_users(&svc, "gh").await;
    let detail = svc
        .app_grants("gh", "release-deployer")
        .await
        .expect("listed");
    let refused = svc
        .plan_action(
            "gh",
            AccountAction::RevokeGrant,
            vec![detail.grants[0].id.clone()],
        )
        .await
        .expect_err("not revocable");
    assert!(
        refused
            .to_string()
            .contains("removes it in the app's settings"),
        "{refused}"
    );
    assert!(svc.audit_trail().await.unwrap().is_empty());
}

// Issue 11: an attempt is on the record before its request leaves: casbah stopping
// while the vendor has not answered leaves it "sent, result unknown", never missing.
#[tokio::test]
async fn an_attempt_without_an_answer_stays_on_the_record() {
    let (sb, svc, _dir) = common::connected_service(20).await;
    scan_users(&svc, "contoso").await;
    let (id, mail) = enabled_members(&sb, 1).remove(0);
    sb.set_faults(FaultSpec {
        latency: Duration::from_secs(60),
        ..FaultSpec::default()
    });
    let acting = {
        let svc = svc.clone();
        tokio::spawn(async move {
            svc.act(
                "contoso",
                AccountAction::SignOut,
                vec![mail],
                "stolen laptop",
            )
            .await
        })
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while svc.audit_trail().await.unwrap().is_empty() {
        assert!(Instant::now() < deadline, "the attempt was never recorded");
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    acting.abort();
    assert!(acting.await.is_err(), "stopped before the answer");
    sb.set_faults(FaultSpec::default());
    let trail = svc.audit_trail().await.unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].outcome, AuditOutcome::Unknown);
    assert_eq!(trail[0].outcome.label(), "sent, result unknown");
    assert_eq!(trail[0].attempt.account_id, id.to_string());
}

// Issue 11: app permissions are read with the users; apps are listed riskiest first
// with who granted them; revoking a grant is planned, recorded and sent once, and
// the app's list shows it gone at once.
#[tokio::test]
async fn app_grants_are_listed_and_revoked_on_the_record() {
    let (sb, svc, _dir) = common::connected_service(60).await;
    scan_users(&svc, "contoso").await;
    let apps = svc.apps(None).await.expect("apps");
    let names: Vec<&str> = apps.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(apps[0].risky.len(), 2, "riskiest first: {names:?}");
    let docusign = apps
        .iter()
        .find(|a| a.name == "DocuSign")
        .expect("DocuSign");
    assert!(docusign.all_users);
    let vault = apps
        .iter()
        .find(|a| a.name == "Backup Vault")
        .expect("vault");
    assert!(vault.application && vault.users == 0);

    let detail = svc
        .app_grants("contoso", "mailsync pro")
        .await
        .expect("one app");
    let before = detail.summary.users;
    let grant = detail.grants[0].clone();
    let user = grant.user.clone().expect("a user's grant");
    let mine = svc.person_grants(&user).await.expect("person grants");
    assert!(mine.iter().any(|(_, g)| g.id == grant.id), "{mine:?}");

    let unknown = svc
        .plan_action("contoso", AccountAction::RevokeGrant, vec!["nope".into()])
        .await
        .expect_err("an unknown grant");
    assert!(
        unknown.to_string().contains("nothing was sent"),
        "{unknown}"
    );
    let plan = svc
        .plan_action(
            "contoso",
            AccountAction::RevokeGrant,
            vec![grant.id.clone()],
        )
        .await
        .expect("plan");
    assert_eq!(plan.targets[0].key, user);
    assert!(plan.targets[0].status.contains("Mail.Send"), "{plan:?}");
    assert_eq!(sb.graph_revoked(&grant.id), 0, "a plan sends nothing");
    let (report, _) = svc
        .act(
            "contoso",
            AccountAction::RevokeGrant,
            vec![grant.id.clone()],
            "unverified publisher",
        )
        .await
        .expect("revoke");
    assert_eq!(report.done.len(), 1, "{report:?}");
    assert_eq!(sb.graph_revoked(&grant.id), 1);
    let trail = svc.audit_trail().await.unwrap();
    assert_eq!(trail[0].attempt.action, "revoke-grant");
    assert_eq!(trail[0].attempt.target, user);
    assert_eq!(trail[0].attempt.account_id, grant.id);
    let after = svc.app_grants("contoso", "MailSync Pro").await.unwrap();
    assert_eq!(after.summary.users, before - 1, "gone at once");
}
