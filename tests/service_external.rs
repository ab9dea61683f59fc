//! Mirroring a casbah group into an external group through the service, with
//! a real store, the real connector and the in-process sandbox (R-X6).

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use casbah::connectors::microsoft365::Microsoft365;
use casbah::connectors::microsoft365::external::ExternalConnections;
use casbah::domain::Component;
use casbah::domain::external::{Connection, ConnectionId, ExternalGroupId, Member, Unmatched};
use casbah::sandbox::org::MemberRef as OrgMember;
use casbah::sandbox::{ExternalChange, Sandbox};
use casbah::service::{Event, JobKind, Level, MemberRef, Service};
use tokio::sync::broadcast::Receiver;
use uuid::Uuid;

async fn connected() -> (Sandbox, Service, tempfile::TempDir) {
    common::connected_service(200).await
}

async fn sync_all(svc: &Service) {
    for job in svc.sync_now(None).await.expect("sync") {
        job.wait().await.expect("scan");
    }
}

/// A group with at least four active direct user members, one of them (to
/// leave later), and a user outside it (to join later).
fn pick(sandbox: &Sandbox) -> (Uuid, String, Vec<Uuid>, Uuid) {
    let org = sandbox.org();
    let active = |i: u32| {
        let u = &org.users[i as usize];
        u.account_enabled && u.deleted.is_none()
    };
    let g = org
        .groups
        .iter()
        .find(|g| {
            let direct = g
                .members
                .iter()
                .filter(|m| matches!(m, OrgMember::User(i) if active(*i)))
                .count();
            direct >= 4
                && g.members.iter().all(|m| matches!(m, OrgMember::User(_)))
                && org
                    .groups
                    .iter()
                    .filter(|o| o.display_name == g.display_name)
                    .count()
                    == 1
        })
        .expect("a group of active users");
    let members: Vec<Uuid> = g
        .members
        .iter()
        .filter_map(|m| match m {
            OrgMember::User(i) if active(*i) => Some(org.users[*i as usize].id),
            _ => None,
        })
        .collect();
    let outsider = org
        .users
        .iter()
        .find(|u| u.account_enabled && u.deleted.is_none() && !members.contains(&u.id))
        .expect("an outsider")
        .id;
    (g.id, g.display_name.clone(), members, outsider)
}

/// An active user whose UPN is not their mail (a guest's UPN carries
/// #EXT#): their object id, UPN and mail.
fn upn_not_mail(sandbox: &Sandbox) -> (String, String, String) {
    let org = sandbox.org();
    let u = org
        .users
        .iter()
        .find(|u| {
            u.account_enabled
                && u.deleted.is_none()
                && !u.user_principal_name.eq_ignore_ascii_case(&u.mail)
        })
        .expect("a user whose UPN is not their mail");
    (
        u.id.to_string(),
        u.user_principal_name.clone(),
        u.mail.clone(),
    )
}

/// Users scanned, and the connection `tickets`.
async fn with_tickets(svc: &Service) {
    sync_all(svc).await;
    svc.add_connection("contoso", "tickets", "Tickets", None)
        .await
        .expect("connection");
}

/// An item document with this ACL and a title.
fn doc(acl: serde_json::Value) -> casbah::domain::external::ItemDocument {
    casbah::domain::external::parse_item_document(
        &serde_json::json!({"acl": acl, "properties": {"title": "T-1"}}).to_string(),
    )
    .expect("document")
}

async fn warning(rx: &mut Receiver<Event>, containing: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Ok(Event::Notification {
                level: Level::Warning,
                text,
            })) if text.contains(containing) => return text,
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(e)) => panic!("events ended: {e}"),
            Err(_) => panic!("no warning naming {containing} within 20 s"),
        }
    }
}

fn member_changes(changes: &[ExternalChange]) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut added = BTreeSet::new();
    let mut removed = BTreeSet::new();
    for c in changes {
        match c {
            ExternalChange::MemberAdded { member, .. } => {
                added.insert(member.clone());
            }
            ExternalChange::MemberRemoved { member, .. } => {
                removed.insert(member.clone());
            }
            _ => {}
        }
    }
    (added, removed)
}

// R-X6: the first sync publishes every matched member and lists the one that
// matches no Entra user; after a membership change, the next sync sends
// exactly the user who joined and the one who left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mirror_sends_only_the_difference_and_lists_unmatched_users() {
    let (sandbox, svc, _dir) = connected().await;
    let (group, name, members, outsider) = pick(&sandbox);
    // One member is deleted in Entra when the users are scanned, then
    // restored: the group sync sees them, the directory casbah holds does not.
    let stale = members[0];
    sandbox.set_deleted(stale, true).unwrap();
    sync_all(&svc).await;
    sandbox.set_deleted(stale, false).unwrap();
    let (imported, job) = svc
        .import_group("contoso", &name, false)
        .await
        .expect("import");
    job.wait().await.expect("first group sync");

    svc.add_connection("contoso", "mirrorhr", "Mirror HR", None)
        .await
        .expect("connection");
    let mut events = svc.subscribe();
    let summary = svc
        .mirror_group("mirrorhr", "finance", &name)
        .await
        .expect("mirror")
        .wait()
        .await
        .expect("first mirror sync");
    let stale_mail = sandbox.org().user(&stale).unwrap().mail.to_lowercase();
    warning(&mut events, &stale_mail).await;

    let matched: BTreeSet<String> = members[1..].iter().map(Uuid::to_string).collect();
    assert_eq!(
        summary,
        format!("{} added, 0 removed, 1 unmatched", matched.len())
    );
    let stored = sandbox.external_connection("mirrorhr").expect("connection");
    let published: BTreeSet<String> = stored.groups["finance"]
        .members
        .iter()
        .map(|m| m.id.clone())
        .collect();
    assert_eq!(published, matched, "every matched member, nobody else");
    assert_eq!(
        stored.groups["finance"].display_name.as_deref(),
        Some(name.as_str())
    );

    let views = svc.external_groups("mirrorhr").await.expect("groups");
    let mirror = views[0].mirror.as_ref().expect("mirror status");
    assert_eq!(mirror.source, imported.id);
    assert_eq!(mirror.published, matched.len());
    assert_eq!(mirror.unmatched.len(), 1, "listed, not dropped");
    assert_eq!(mirror.unmatched[0].email.to_lowercase(), stale_mail);
    assert_eq!(mirror.unmatched[0].why, Unmatched::NoEntraUser);
    assert!(mirror.last_sync.is_some() && mirror.error.is_none());

    // The source changes: one member leaves, one user joins.
    let leaver = members[1];
    sandbox.remove_member(group, leaver).unwrap();
    sandbox.add_member(group, outsider).unwrap();
    svc.sync_group(imported.id, &name)
        .await
        .expect("sync starts")
        .wait()
        .await
        .expect("group sync");
    let before = sandbox.external_changes().len();
    let handles = svc.sync_mirrors().await.expect("mirrors");
    assert_eq!(handles.len(), 1);
    let summary = handles
        .into_iter()
        .next()
        .unwrap()
        .wait()
        .await
        .expect("sync");
    assert_eq!(summary, "1 added, 1 removed, 1 unmatched");
    let sent = &sandbox.external_changes()[before..];
    assert_eq!(sent.len(), 2, "only the difference: {sent:?}");
    let (added, removed) = member_changes(sent);
    assert_eq!(added, BTreeSet::from([outsider.to_string()]));
    assert_eq!(removed, BTreeSet::from([leaver.to_string()]));

    // Nothing changed since: a sync sends nothing.
    let before = sandbox.external_changes().len();
    let summary = svc
        .sync_mirrors()
        .await
        .expect("mirrors")
        .into_iter()
        .next()
        .unwrap()
        .wait()
        .await
        .expect("sync");
    assert_eq!(summary, "0 added, 0 removed, 1 unmatched");
    assert_eq!(sandbox.external_changes().len(), before);

    // The casbah side agrees with Graph.
    let views = svc.external_groups("mirrorhr").await.expect("groups");
    let here: BTreeSet<String> = views[0]
        .members
        .iter()
        .map(|m| m.member.id().to_string())
        .collect();
    let there: BTreeSet<String> =
        sandbox.external_connection("mirrorhr").unwrap().groups["finance"]
            .members
            .iter()
            .map(|m| m.id.clone())
            .collect();
    assert_eq!(here, there);

    // R-X6: a sync of the source group (`casbah sync`, the scheduler) is
    // followed by its mirror's sync.
    let joiner = {
        let org = sandbox.org();
        org.users
            .iter()
            .find(|u| {
                u.account_enabled
                    && u.deleted.is_none()
                    && u.id != outsider
                    && !members.contains(&u.id)
            })
            .expect("another outsider")
            .id
    };
    sandbox.add_member(group, joiner).unwrap();
    // The unmatched user leaves Entra for good: the group sync drops them
    // from the source, and whether the users scan running beside it has
    // finished or not, they match nobody.
    sandbox.set_deleted(stale, true).unwrap();
    let mut events = svc.subscribe();
    let before = sandbox.external_changes().len();
    for job in svc.sync_now(Some("contoso")).await.expect("sync") {
        job.wait().await.expect("scan");
    }
    let summary = mirror_finished(&mut events).await;
    assert_eq!(summary, "1 added, 0 removed, 0 unmatched");
    let (added, removed) = member_changes(&sandbox.external_changes()[before..]);
    assert_eq!(added, BTreeSet::from([joiner.to_string()]));
    assert!(removed.is_empty());
}

/// Waits for a mirror job to start and finish; returns its summary.
async fn mirror_finished(rx: &mut Receiver<Event>) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut mirror = None;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Ok(Event::JobStarted {
                id,
                job: JobKind::SyncMirror { .. },
                ..
            })) => mirror = Some(id),
            Ok(Ok(Event::JobFinished { id, summary })) if Some(id) == mirror => return summary,
            Ok(Ok(Event::JobFailed { id, error })) if Some(id) == mirror => panic!("{error}"),
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(e)) => panic!("events ended: {e}"),
            Err(_) => panic!("no mirror sync within 20 s"),
        }
    }
}

// R-X5: an Entra group named by object id is read with its users when it is
// added, so access answers follow it; a change to one connection's ACL is
// seen by the next question (the cached index is rebuilt).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_answers_follow_changes() {
    let (sandbox, svc, _dir) = connected().await;
    let (group, _name, members, outsider) = pick(&sandbox);
    sync_all(&svc).await;
    svc.add_connection("contoso", "tickets", "Tickets", None)
        .await
        .expect("connection");
    svc.create_external_group("tickets", "support", Some("Support"), None)
        .await
        .expect("group");
    svc.add_external_member(
        "tickets",
        "support",
        MemberRef::EntraGroup(group.to_string()),
    )
    .await
    .expect("Entra group member");
    let view = svc
        .set_item_acl(
            "tickets",
            "t1",
            doc(serde_json::json!([
                {"type": "externalGroup", "value": "support", "accessType": "grant"}
            ])),
        )
        .await
        .expect("acl");
    assert_eq!(view.title.as_deref(), Some("T-1"));
    assert!(view.pending.is_empty());
    assert_eq!(view.labels, ["external group Support"]);

    let member = members[0].to_string();
    let answer = svc
        .access_check("tickets", "t1", &member)
        .await
        .expect("check");
    assert_eq!(
        answer.decision.decision,
        casbah::domain::external::Access::Grant
    );
    let who = svc.access_who("tickets", "t1").await.expect("who");
    assert_eq!(who.granted, members.len());

    // The outsider joins the external group directly: the next answer sees it.
    svc.add_external_member("tickets", "support", MemberRef::User(outsider.to_string()))
        .await
        .expect("user member");
    let answer = svc
        .access_check("tickets", "t1", &outsider.to_string())
        .await
        .expect("check");
    assert_eq!(
        answer.decision.decision,
        casbah::domain::external::Access::Grant
    );
    assert_eq!(
        svc.access_who("tickets", "t1").await.unwrap().granted,
        members.len() + 1
    );

    // And a deny for them wins (R-X5).
    svc.set_item_acl(
        "tickets",
        "t1",
        doc(serde_json::json!([
            {"type": "externalGroup", "value": "support", "accessType": "grant"},
            {"type": "user", "value": outsider.to_string(), "accessType": "deny"}
        ])),
    )
    .await
    .expect("acl");
    let answer = svc
        .access_check("tickets", "t1", &outsider.to_string())
        .await
        .expect("check");
    assert_eq!(
        answer.decision.decision,
        casbah::domain::external::Access::Deny
    );

    // A member leaves the Entra group: once the Entra groups are read
    // again (by the scheduler, hourly), access follows.
    let leaver = members[1];
    sandbox.remove_member(group, leaver).unwrap();
    let due = svc.run_due().await.expect("scheduler");
    let labels: Vec<&str> = due.iter().map(|j| j.label.as_str()).collect();
    assert_eq!(labels, ["read the Entra groups named in tickets"]);
    let summary = due.into_iter().next().unwrap().wait().await.expect("read");
    assert_eq!(summary, "1 Entra groups read");
    assert!(
        svc.run_due().await.expect("scheduler").is_empty(),
        "not due again within the hour"
    );
    let answer = svc
        .access_check("tickets", "t1", &leaver.to_string())
        .await
        .expect("check");
    assert_eq!(
        answer.decision.decision,
        casbah::domain::external::Access::None
    );

    // A member removed at Graph by someone else: removing it here succeeds
    // and casbah's copy follows (R-X3).
    let instance = sandbox
        .microsoft365_instance("other admin", vec![Component::UsersAndGroups])
        .into_instance(casbah::domain::InstanceId(1), 0);
    let other = Microsoft365::new(&instance, sandbox.client_secret.clone()).expect("client");
    let cid = ConnectionId::parse("tickets").unwrap();
    let gid = ExternalGroupId::parse("support").unwrap();
    let gone = Member::User(outsider.to_string());
    other
        .remove_member(&cid, &gid, &gone)
        .await
        .expect("removed at Graph");
    let removed = svc
        .remove_external_member("tickets", "support", MemberRef::User(outsider.to_string()))
        .await
        .expect("already gone is fine");
    assert_eq!(removed, gone);
    let views = svc.external_groups("tickets").await.expect("groups");
    assert!(!views[0].group.members.contains(&gone));

    // A connection made outside casbah is found in Graph's list when named.
    let portal = Connection::new(ConnectionId::parse("portal").unwrap(), "Portal", None).unwrap();
    other
        .create_connection(&portal)
        .await
        .expect("made elsewhere");
    svc.create_external_group("Portal", "g1", None, None)
        .await
        .expect("found at Graph");
    let listed = svc.external_connections(None).await.expect("list");
    assert!(
        listed
            .iter()
            .any(|c| c.connection.id.as_str() == "portal" && c.groups == 1)
    );
    // One that is nowhere is an unknown name, with the closest ids.
    let err = svc.external_groups("portl").await.unwrap_err();
    assert!(
        err.to_string()
            .contains("no connection named \"portl\"; did you mean \"portal\"?"),
        "{err}"
    );
}

// R-X5, R-X6: a user whose UPN differs from their mail (a guest's UPN
// carries #EXT#) is found by either name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_is_found_by_upn_and_by_mail() {
    let (sandbox, svc, _dir) = connected().await;
    let (id, upn, mail) = upn_not_mail(&sandbox);
    with_tickets(&svc).await;
    let acl = serde_json::json!([{"type": "user", "value": id, "accessType": "grant"}]);
    svc.set_item_acl("tickets", "t1", doc(acl))
        .await
        .expect("acl");
    for name in [&upn, &mail] {
        let answer = svc
            .access_check("tickets", "t1", name)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(answer.user.id, id, "{name}");
        assert_eq!(
            answer.decision.decision,
            casbah::domain::external::Access::Grant
        );
    }
}

// issue 10, R-X4, R-X5: an ACL entry naming a user by UPN or e-mail goes to
// Graph as the user's object id, and `acl show` and `access check` agree on
// it; an object id not synced yet is sent as it is; a name no synced user
// has is refused before any request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acl_users_named_by_upn_are_sent_as_object_ids() {
    let (sandbox, svc, _dir) = connected().await;
    let (id, upn, mail) = upn_not_mail(&sandbox);
    with_tickets(&svc).await;
    let unsynced = Uuid::from_u128(7).to_string();
    let view = svc
        .set_item_acl(
            "tickets",
            "t1",
            doc(serde_json::json!([
                {"type": "user", "value": upn, "accessType": "grant"},
                {"type": "user", "value": mail.to_uppercase(), "accessType": "grant"},
                {"type": "user", "value": unsynced, "accessType": "deny"}
            ])),
        )
        .await
        .expect("acl");
    let sent: Vec<String> = sandbox.external_connection("tickets").unwrap().items["t1"]
        .acl
        .iter()
        .map(|e| e.value.clone())
        .collect();
    assert_eq!(sent, [id.clone(), id.clone(), unsynced.clone()]);
    assert_eq!(view.labels[0], format!("user {mail}"));
    assert_eq!(view.labels[1], view.labels[0]);
    assert_eq!(
        view.labels[2],
        format!("user {unsynced} (not in the synced directory)")
    );
    let shown = svc.external_item("tickets", "t1").await.expect("show");
    assert_eq!(shown.labels, view.labels);
    let answer = svc
        .access_check("tickets", "t1", &upn)
        .await
        .expect("check");
    assert_eq!(
        answer.decision.decision,
        casbah::domain::external::Access::Grant
    );
    assert_eq!(answer.decision.reason.as_ref().map(|r| r.entry), Some(1));

    let changes = sandbox.external_changes();
    let err = svc
        .set_item_acl(
            "tickets",
            "t1",
            doc(serde_json::json!([
                {"type": "user", "value": "nobody@contoso.com", "accessType": "grant"}
            ])),
        )
        .await
        .unwrap_err();
    assert!(err.is_usage(), "{err}");
    assert!(
        err.to_string()
            .contains("ACL entry 1 names user `nobody@contoso.com`"),
        "{err}"
    );
    assert_eq!(sandbox.external_changes(), changes, "nothing was sent");
    assert_eq!(
        svc.external_item("tickets", "t1").await.unwrap().acl,
        shown.acl,
        "nothing was stored"
    );
}
