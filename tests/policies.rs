//! Issue 12: policies evaluated as activities arrive, their alerts, and the notices
//! that leave the terminal. Real store file, real Microsoft 365 connector, real HTTP
//! against the in-process sandbox, a real SMTP conversation and a real webhook post.

mod common;

use std::time::{Duration, Instant};

use casbah::domain::notice::DeliveryState;
use casbah::domain::policy::{AlertState, MINUTE, Per, Policy, Rule, Severity};
use casbah::domain::{Secret, now_micros};
use casbah::sandbox::hooks::HookSink;
use casbah::sandbox::mail::MailSink;
use casbah::sandbox::{PushedActivity, Sandbox, Stream};
use casbah::service::{Intervals, Service, SmtpConfig, SmtpSecurity, WebhookConfig, WebhookFormat};

const ATTACKER_IP: &str = "198.51.100.9";

fn policy(name: &str, filter: &str, count: u32, per: Per) -> Policy {
    Policy {
        rule: Rule {
            count,
            window: 10 * MINUTE,
            per,
        },
        severity: Severity::High,
        enabled: true,
        ..Policy::new(name, filter)
    }
}

/// An active employee of the sandbox.
fn employee(sandbox: &Sandbox, n: usize) -> String {
    let org = sandbox.org();
    let domains = org.domains();
    org.users
        .iter()
        .filter(|u| u.account_enabled && u.deleted.is_none() && !u.guest)
        .filter(|u| domains.iter().any(|d| u.mail.ends_with(&format!("@{d}"))))
        .nth(n)
        .expect("enough employees")
        .mail
        .to_lowercase()
}

/// A failed sign-in now: after the policies of the test were switched on.
fn failed_sign_in(actor: &str) -> PushedActivity {
    let mut a = PushedActivity::new(Stream::SignIns, actor, "Office 365 Exchange Online");
    a.success = false;
    a.ip = ATTACKER_IP.into();
    a
}

async fn sync(svc: &Service) {
    for job in svc.sync_now(None).await.expect("sync") {
        job.wait().await.expect("scan");
    }
}

/// Stops `svc` and opens its database again, as a new process would.
async fn restart(svc: Service, dir: &std::path::Path) -> Service {
    svc.shutdown().await;
    drop(svc);
    // Its last blocking calls may still hold the file for a moment.
    eventually("the database to reopen", || async {
        Service::open(&dir.join("casbah.redb"), Intervals::default())
            .await
            .ok()
    })
    .await
}

/// Polls `check` until it returns something, with a deadline.
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(Instant::now() < deadline, "{what} within 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// Issue 12: activities that cross a threshold raise exactly one alert; those that
// follow within the window join it, with a count, rather than flood.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crossing_a_threshold_raises_one_alert_and_repeats_join_it() {
    let (sandbox, svc, _dir) = common::connected_service(40).await;
    sync(&svc).await;
    let rule = policy("Failed sign-ins", "action:sign-in failed", 5, Per::Ip);
    svc.save_policy(rule, false).await.expect("policy saved");
    let victim = employee(&sandbox, 0);
    for _ in 0..4 {
        sandbox.push_activity(failed_sign_in(&victim));
    }
    sync(&svc).await;
    assert!(
        svc.alerts().await.unwrap().is_empty(),
        "4 of 5: no alert yet"
    );

    for _ in 0..3 {
        sandbox.push_activity(failed_sign_in(&victim));
    }
    sync(&svc).await;
    let alerts = svc.alerts().await.unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let alert = &alerts[0];
    assert_eq!(alert.count, 7, "the fifth raised it, two more joined");
    assert_eq!(alert.key, ATTACKER_IP);
    assert_eq!(alert.actors, vec![victim.clone()]);
    assert_eq!(alert.state, AlertState::Open);
    assert_eq!(alert.links.len(), 7);

    // Its filter shows exactly its activities.
    let shown = svc
        .activities(&alert.activities_filter(), 100, None)
        .await
        .unwrap()
        .items;
    let mut ids: Vec<&str> = shown.iter().map(|a| a.id.as_str()).collect();
    let mut linked: Vec<&str> = alert.links.iter().map(|l| l.id.as_str()).collect();
    ids.sort_unstable();
    linked.sort_unstable();
    assert_eq!(ids, linked);

    // Resolved, the next crossing is a new alert.
    svc.change_alert(
        alert.id,
        AlertState::Resolved,
        Some("blocked the address".into()),
    )
    .await
    .unwrap();
    for _ in 0..5 {
        sandbox.push_activity(failed_sign_in(&victim));
    }
    sync(&svc).await;
    let alerts = svc.alerts().await.unwrap();
    assert_eq!(alerts.len(), 2);
    assert_eq!(alerts[0].count, 5);
    assert_eq!(alerts[1].state, AlertState::Resolved);
    assert_eq!(
        alerts[1].history[0].comment.as_deref(),
        Some("blocked the address")
    );
}

// R-G6, issue 12: a policy on a group sees only activities tagged with it: none from
// before the group's import, even one the policy watched for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_policy_ignores_activity_from_before_the_import() {
    let (sandbox, svc, _dir) = common::connected_service(60).await;
    sync(&svc).await;
    // On before the group exists, so that it watches what happened before the import.
    let watching = svc
        .save_policy(
            policy("Group sign-ins", "action:sign-in failed", 1, Per::Actor),
            false,
        )
        .await
        .expect("policy saved");
    let remote_id = {
        let org = sandbox.org();
        org.groups
            .iter()
            .find(|g| {
                org.transitive_users(&g.id).is_ok_and(|users| {
                    users
                        .iter()
                        .filter(|u| u.account_enabled && u.deleted.is_none() && !u.guest)
                        .count()
                        >= 2
                })
            })
            .expect("a group with members")
            .id
            .to_string()
    };
    let (imported, job) = svc
        .import_group("contoso", &remote_id, false)
        .await
        .unwrap();
    job.wait().await.unwrap();
    let imported = svc.find_group(&imported.name).await.unwrap();
    let member = svc.members(imported.id).await.unwrap()[0].key.clone();
    let filter = format!("group:\"{}\" action:sign-in", imported.name);
    let edited = svc
        .save_policy(
            Policy {
                filter,
                ..watching.clone()
            },
            false,
        )
        .await
        .expect("policy edited");
    assert_eq!(
        edited.watching_since, watching.watching_since,
        "still on since then"
    );

    // Happened after the policy was on but before the import; read only now.
    let mut old = PushedActivity::new(Stream::SignIns, &member, "Office 365 Exchange Online");
    let between = (watching.watching_since + imported.imported_at) / 2;
    assert!(watching.watching_since < between && between < imported.imported_at);
    old.at = chrono::DateTime::from_timestamp_micros(between).unwrap();
    sandbox.push_activity(old);
    sync(&svc).await;
    assert!(
        svc.alerts().await.unwrap().is_empty(),
        "R-G6: not tagged, no alert"
    );

    sandbox.push_activity(PushedActivity::new(
        Stream::SignIns,
        &member,
        "Office 365 Exchange Online",
    ));
    sync(&svc).await;
    let alerts = svc.alerts().await.unwrap();
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].actors, vec![member]);
}

// Issue 12: the window is in the database: a restart in the middle of one neither loses
// the count nor raises twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_mid_window_keeps_the_count_and_raises_once() {
    let (sandbox, svc, dir) = common::connected_service(40).await;
    sync(&svc).await;
    svc.save_policy(
        policy("Failed sign-ins", "action:sign-in failed", 4, Per::Ip),
        false,
    )
    .await
    .unwrap();
    let victim = employee(&sandbox, 1);
    for _ in 0..2 {
        sandbox.push_activity(failed_sign_in(&victim));
    }
    sync(&svc).await;
    let svc = restart(svc, dir.path()).await;
    for _ in 0..2 {
        sandbox.push_activity(failed_sign_in(&victim));
    }
    sync(&svc).await;
    sync(&svc).await;
    let alerts = svc.alerts().await.unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!(alerts[0].count, 4, "two before the restart, two after");

    // Restarted again, a later match within the window joins the open alert.
    let svc = restart(svc, dir.path()).await;
    sandbox.push_activity(failed_sign_in(&victim));
    sync(&svc).await;
    let alerts = svc.alerts().await.unwrap();
    assert_eq!(alerts.len(), 1, "not raised twice: {alerts:#?}");
    assert_eq!(alerts[0].count, 5);
}

// Issue 12, R-G11: an alert whose policy asks for e-mail reaches an SMTP server, with
// the policy and the actor in the message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_is_mailed_through_the_relay() {
    let (sandbox, svc, _dir) = common::connected_service(40).await;
    sync(&svc).await;
    let sink = MailSink::start().await.expect("mail sink");
    svc.set_smtp(
        Some(SmtpConfig {
            host: "127.0.0.1".into(),
            port: sink.addr().port(),
            security: SmtpSecurity::Plain,
            user: Some("casbah".into()),
            from: "casbah@example.com".into(),
            to: vec!["soc@example.com".into()],
        }),
        Some(Secret::new("relay-password")),
    )
    .await
    .expect("smtp set");
    let mut rule = policy("Any failed sign-in", "action:sign-in failed", 1, Per::Actor);
    rule.notify.email = Some(Vec::new());
    svc.save_policy(rule, false).await.unwrap();
    let victim = employee(&sandbox, 2);
    sandbox.push_activity(failed_sign_in(&victim));
    sync(&svc).await;
    svc.start_scheduler();
    let mails = sink.wait_for(1, Duration::from_secs(30)).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.to, vec!["soc@example.com".to_string()]);
    assert!(
        mail.subject.contains("Any failed sign-in"),
        "{}",
        mail.subject
    );
    assert!(mail.subject.contains(&victim), "{}", mail.subject);
    assert!(mail.body.contains("casbah alerts ack"), "{}", mail.body);
    assert_eq!(mail.user.as_deref(), Some("casbah"));
    let alert = svc.alerts().await.unwrap().remove(0);
    let view = eventually("the delivery recorded", || {
        let svc = svc.clone();
        async move {
            let view = svc.alert(alert.id).await.unwrap();
            view.deliveries
                .iter()
                .any(|d| matches!(d.state, DeliveryState::Delivered { .. }))
                .then_some(view)
        }
    })
    .await;
    assert_eq!(view.deliveries.len(), 1);
    svc.shutdown().await;
}

// Issue 12: a webhook gets the alert as JSON, signed with the shared secret; a receiver
// that is down is retried, and the alert is kept meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_webhook_is_retried_until_the_receiver_takes_it() {
    let (sandbox, svc, _dir) = common::connected_service(40).await;
    sync(&svc).await;
    let secret = Secret::new("shared-signing-secret");
    let hook = HookSink::start(Some(secret.clone()))
        .await
        .expect("receiver");
    hook.fail_next(1, 503);
    svc.set_webhook(
        Some(WebhookConfig {
            url: hook.url(),
            format: WebhookFormat::Json,
        }),
        Some(secret),
    )
    .await
    .expect("webhook set");
    let mut rule = policy("Failed sign-ins", "action:sign-in failed", 1, Per::Actor);
    rule.notify.webhook = true;
    svc.save_policy(rule, false).await.unwrap();
    let victim = employee(&sandbox, 3);
    sandbox.push_activity(failed_sign_in(&victim));
    sync(&svc).await;
    svc.start_scheduler();

    let failing = eventually("the first attempt to fail", || {
        let svc = svc.clone();
        async move {
            svc.deliveries()
                .await
                .unwrap()
                .into_iter()
                .find(|d| d.attempts == 1)
        }
    })
    .await;
    assert_eq!(failing.state, DeliveryState::Pending, "retried later");
    assert!(
        failing.last_error.as_deref().unwrap_or("").contains("503"),
        "{failing:?}"
    );
    assert!(failing.next_at > now_micros(), "after a backoff");
    assert_eq!(svc.alerts().await.unwrap().len(), 1, "the alert is kept");
    assert_eq!(svc.alert_counts().await.unwrap().failing_notices, 1);

    // The receiver is back; an administrator retries now rather than wait.
    assert_eq!(svc.retry_notices().await.unwrap(), 1);
    let posts = hook.wait_for(2, Duration::from_secs(30)).await;
    let post = posts.last().expect("the retried post");
    assert!(post.verified, "X-Casbah-Signature verifies");
    assert_eq!(post.body["policy"], "Failed sign-ins");
    assert_eq!(post.body["severity"], "high");
    assert_eq!(post.body["actors"][0], victim.as_str());
    assert_eq!(post.body["count"], 1);
    eventually("the delivery recorded", || {
        let svc = svc.clone();
        async move {
            let d = svc.deliveries().await.unwrap().remove(0);
            matches!(d.state, DeliveryState::Delivered { .. }).then_some(())
        }
    })
    .await;
    assert_eq!(svc.alert_counts().await.unwrap().failing_notices, 0);
    svc.shutdown().await;
}

// Issue 12: the inactive-actor template raises on activity by an account the app says
// is disabled, and not on an active one's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activity_by_a_disabled_account_raises_an_alert() {
    let (sandbox, svc, _dir) = common::connected_service(60).await;
    sync(&svc).await;
    let disabled = {
        let org = sandbox.org();
        org.users
            .iter()
            .find(|u| !u.account_enabled && u.deleted.is_none() && !u.guest)
            .expect("a disabled account")
            .mail
            .to_lowercase()
    };
    let t = casbah::domain::policy::template("inactive-actor").expect("template");
    let mut rule = Policy::new("Inactive accounts", t.filter);
    (rule.detector, rule.severity, rule.enabled) = (t.detector, t.severity, true);
    // An empty filter with one match per alert would ask for confirmation, were it not
    // for its detector.
    svc.save_policy(rule, false)
        .await
        .expect("saved without confirmation");
    let active = employee(&sandbox, 4);
    for actor in [&disabled, &active] {
        sandbox.push_activity(PushedActivity::new(
            Stream::SignIns,
            actor,
            "Office 365 Exchange Online",
        ));
    }
    sync(&svc).await;
    let alerts = svc.alerts().await.unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    assert_eq!(alerts[0].actors, vec![disabled]);
    assert_eq!(alerts[0].severity, Severity::Critical);
}

// Issue 12: a policy that would raise an alert for every activity asks first; a
// filter with a date, or a group that does not exist, is refused with its column.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broad_or_broken_policies_are_refused_with_the_reason() {
    let (_sandbox, svc, _dir) = common::connected_service(20).await;
    let everything = policy("Everything", "", 1, Per::Actor);
    let e = svc
        .save_policy(everything.clone(), false)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("confirm"), "{e}");
    svc.save_policy(everything, true).await.expect("confirmed");
    let dated = svc
        .save_policy(
            policy("Dated", "admin after:2026-01-01", 1, Per::Actor),
            false,
        )
        .await
        .unwrap_err();
    assert!(dated.to_string().contains("column 7"), "{dated}");
    let unknown = svc
        .save_policy(policy("Group", "group:\"No Such\"", 1, Per::Actor), false)
        .await
        .unwrap_err();
    assert!(unknown.to_string().contains("column"), "{unknown}");
    let webhook = {
        let mut p = policy("Hooked", "admin", 1, Per::Actor);
        p.notify.webhook = true;
        svc.save_policy(p, false).await.unwrap_err()
    };
    assert!(
        webhook.to_string().contains("casbah notify webhook"),
        "{webhook}"
    );
    let refused = svc
        .set_webhook(
            Some(WebhookConfig {
                url: "http://example.com/hook".into(),
                format: WebhookFormat::Text,
            }),
            None,
        )
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("https"), "{refused}");
    let names: Vec<String> = svc
        .policies()
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.policy.name)
        .collect();
    assert_eq!(names, ["Everything"]);
}
