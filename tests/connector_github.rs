//! The GitHub connector over real HTTP against the sandbox's GitHub dialect
//! (REST with GitHub's links and scopes, GraphQL, the device flow, the audit
//! log, GitHub's rate limits).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

use casbah::connectors::github::GitHub;
use casbah::connectors::http::RetryPolicy;
use casbah::connectors::{self, Connector, ConnectorError, DeviceCode};
use casbah::domain::activity::ACTION_TYPES;
use casbah::domain::governance::AccountAction;
use casbah::domain::{Activity, Instance, InstanceId, ObjectKind, RemoteUser, Secret, UserStatus};
use casbah::sandbox::{Fault, Sandbox};
use chrono::{TimeDelta, Utc};

mod common;

use common::{quiet_sandbox as sandbox, read_stream};

/// Small waits so retries cost milliseconds, not seconds.
fn fast() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        backoff_base: Duration::from_millis(5),
        max_wait: Duration::from_secs(5),
        max_total_wait: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(10),
        ..RetryPolicy::default()
    }
}

fn instance(sb: &Sandbox, org: &str) -> Instance {
    sb.github_instance("Contoso", org)
        .into_instance(InstanceId(3), 0)
}

fn connector_for(sb: &Sandbox, org: &str, token: Secret) -> GitHub {
    GitHub::with_policy(&instance(sb, org), token, fast()).expect("connector")
}

fn connector(sb: &Sandbox) -> GitHub {
    connector_for(sb, &sb.github_org(), sb.github_token())
}

fn org_id_path(sb: &Sandbox, rest: &str) -> String {
    // GitHub's links name the organisation by id; the sandbox's first team
    // url tells it.
    let served = sb.served_all();
    let prefix = served
        .keys()
        .map(|(p, _)| p.clone())
        .find(|p| p.starts_with("/organizations/"))
        .unwrap_or_default();
    let id = prefix.split('/').nth(2).unwrap_or_default().to_string();
    format!("/organizations/{id}{rest}")
}

async fn all_users(g: &GitHub) -> (Vec<RemoteUser>, usize) {
    let mut users = Vec::new();
    let mut next: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = g.users(next.as_deref()).await.expect("a page of members");
        pages += 1;
        users.extend(page.items);
        match page.next {
            Some(n) => next = Some(n),
            None => break,
        }
        assert!(pages < 1000, "the member list never ended");
    }
    (users, pages)
}

async fn read_all(g: &GitHub, cursor: Option<String>) -> (Vec<Activity>, String, usize) {
    read_stream(g, "audit-log", cursor).await
}

/// What the sandbox says a member's key is: the verified-domain e-mail,
/// else (when the token may read it) the public one, else the login.
fn expected_keys(sb: &Sandbox, public: bool) -> HashMap<String, (String, bool)> {
    sb.github_members(&sb.github_org())
        .unwrap()
        .into_iter()
        .map(|m| {
            let email =
                m.verified_email
                    .clone()
                    .or(if public { m.public_email.clone() } else { None });
            let key = email.unwrap_or_else(|| m.login.clone()).to_lowercase();
            (m.login.clone(), (key, m.owner))
        })
        .collect()
}

// R-C3: a token needs no exchange; the first page of members proves it.
#[tokio::test]
async fn check_reads_the_first_page_of_members() {
    let sb = sandbox(400).await;
    let check = connector(&sb).check().await.expect("check");
    let members = sb.github_members(&sb.github_org()).unwrap().len();
    assert_eq!(check.users_seen, members.min(100));
    assert_eq!(sb.served_with("/graphql", 200), 1);
}

// R-C3: a wrong token is refused in one line, and the token is never in it.
#[tokio::test]
async fn a_wrong_token_is_refused_in_one_line() {
    let sb = sandbox(50).await;
    let wrong = "ghp_WrongTokenWrongTokenWrongToken0000";
    let g = connector_for(&sb, &sb.github_org(), Secret::new(wrong));
    let err = g.check().await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ConnectorError::Auth { .. }), "{text}");
    assert!(text.contains("Bad credentials"), "{text}");
    assert!(!text.contains(wrong), "{text}");
    assert_eq!(text.lines().count(), 1);
    let err = g.first_groups(50).await.unwrap_err();
    assert!(matches!(err, ConnectorError::Auth { .. }), "{err}");
}

// R-C3: an organisation the token cannot see (or that does not exist) is
// one line saying what to check.
#[tokio::test]
async fn an_unseen_organization_is_refused_in_one_line() {
    let sb = sandbox(50).await;
    let token = sb.github_token();
    for org in [sb.github_org_without_audit_log(), "no-such-org".to_string()] {
        let g = connector_for(&sb, &org, token.clone());
        for err in [
            g.check().await.unwrap_err(),
            g.first_groups(50).await.unwrap_err(),
        ] {
            let text = err.to_string();
            assert!(
                matches!(err, ConnectorError::Vendor { status: 404, .. }),
                "{text}"
            );
            assert!(
                text.contains(&org) && text.contains("check the organization's login"),
                "{text}"
            );
            assert!(!text.contains(token.expose()), "{text}");
            assert_eq!(text.lines().count(), 1);
        }
    }
}

// R-C3: a token without a scope casbah needs is told which to add.
#[tokio::test]
async fn a_missing_scope_is_named() {
    let sb = sandbox(50).await;
    let token = sb.github_token_with_scopes(&["read:user"]);
    let g = connector_for(&sb, &sb.github_org(), token.clone());
    let err = g.first_groups(50).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ConnectorError::Permission { .. }), "{text}");
    assert!(
        text.contains("read:org") && text.contains("read:user"),
        "{text}"
    );
    assert!(!text.contains(token.expose()));
    let err = g.check().await.unwrap_err();
    assert!(matches!(err, ConnectorError::Permission { .. }), "{err}");
    assert!(err.to_string().contains("read:org"), "{err}");
}

// R-G2: the first 50 teams in GitHub's order, read across pages by
// following the Link header as given (GitHub's links name the org by id).
#[tokio::test]
async fn the_first_50_teams_page_across_links() {
    let sb = sandbox(300).await;
    let g = connector(&sb).with_page_size(20);
    let teams = g.first_groups(50).await.expect("teams");
    let slugs: Vec<String> = teams.iter().map(|t| t.id.clone()).collect();
    let expected = sb.github_teams(&sb.github_org()).unwrap();
    assert_eq!(slugs, expected[..50].to_vec());
    assert_eq!(sb.served("/orgs/contoso/teams"), 1);
    assert_eq!(
        sb.served(&org_id_path(&sb, "/teams")),
        2,
        "pages 2 and 3 by link"
    );
    let everyone = &teams[0];
    assert_eq!(everyone.display_name, "Everyone");
    assert!(everyone.description.is_some());
}

// R-G2: GitHub's REST API has no team search: GraphQL finds teams beyond
// the first 50 by name.
#[tokio::test]
async fn search_finds_teams_beyond_the_first_50() {
    let sb = sandbox(300).await;
    let g = connector(&sb);
    let first: BTreeSet<String> = g
        .first_groups(50)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert!(!first.contains("zenith"));
    let found = g.search_groups("zeni", 10).await.expect("search");
    assert_eq!(
        found.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
        ["zenith"]
    );
    assert_eq!(found[0].display_name, "Zenith");
    assert_eq!(sb.served_with("/graphql", 200), 1);
    // Case does not matter, and several pages of results are gathered.
    let tier = g.search_groups("TIER", 10).await.unwrap();
    assert_eq!(tier.len(), 2);
    let many = g.with_page_size(3).search_groups("e", 20).await.unwrap();
    assert_eq!(many.len(), 20);
}

// R-G2: where GraphQL is refused, every team is listed and filtered here.
#[tokio::test]
async fn search_falls_back_to_filtering_when_graphql_is_refused() {
    let sb = sandbox(300).await;
    sb.github_refuse_graphql(true);
    let g = connector(&sb);
    let found = g.search_groups("Zenith", 10).await.expect("search");
    assert_eq!(
        found.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
        ["zenith"]
    );
    assert_eq!(sb.served_with("/graphql", 403), 1);
    let again = g.search_groups("tier", 10).await.unwrap();
    assert_eq!(again.len(), 2);
    assert_eq!(sb.served("/graphql"), 1, "GraphQL is not asked again");
}

// R-G2: a team is known by its slug.
#[tokio::test]
async fn a_team_is_found_by_its_slug() {
    let sb = sandbox(100).await;
    let g = connector(&sb);
    let t = g.group("applied-ai").await.expect("team");
    assert_eq!(
        (t.id.as_str(), t.display_name.as_str()),
        ("applied-ai", "Applied AI")
    );
    let err = g.group("no-such-team").await.unwrap_err();
    assert!(matches!(err, ConnectorError::NotFound { .. }), "{err}");
}

// R-G4: a team's members are exactly GitHub's list: child teams' members
// included (any depth), pending invitees excluded; paged by links.
#[tokio::test]
async fn team_members_include_child_teams_and_exclude_invitations() {
    let sb = sandbox(1000).await;
    let org = sb.github_org();
    let g = connector(&sb);
    let members = g.group_members("everyone").await.expect("members").items;
    let expected: BTreeSet<String> = sb
        .github_team_members(&org, "everyone")
        .unwrap()
        .into_iter()
        .collect();
    assert!(
        expected.len() >= 250,
        "a team that pages: {}",
        expected.len()
    );
    let logins: BTreeSet<String> = members
        .iter()
        .filter_map(|u| u.principal_name.clone())
        .collect();
    assert_eq!(logins, expected);
    assert_eq!(members.len(), expected.len(), "each once");
    let by_link = sb
        .served_all()
        .iter()
        .filter(|((p, _), _)| p.contains("/team/") && p.ends_with("/members"))
        .map(|(_, n)| n)
        .sum::<u64>();
    assert!(
        by_link >= 2,
        "pages after the first come by link: {by_link}"
    );
    // The team itself has no direct members: all come from its children.
    assert!(sb.github_team_members(&org, "engineering").unwrap().len() < expected.len());
    let invitees: HashSet<String> = sb.github_invitees(&org).unwrap().into_iter().collect();
    assert!(!invitees.is_empty());
    for u in &members {
        assert!(!invitees.contains(u.principal_name.as_deref().unwrap_or_default()));
        assert!(!invitees.contains(&u.email));
        assert_eq!(u.status, UserStatus::Active);
    }
    // Keys join the people's other accounts: the same rule as the member list.
    let keys = expected_keys(&sb, true);
    for u in &members {
        let login = u.principal_name.clone().unwrap();
        assert_eq!(u.key(), keys[&login].0, "{login}");
    }
}

// R-G7: membership follows changes made at GitHub.
#[tokio::test]
async fn team_changes_are_seen_at_the_next_read() {
    let sb = sandbox(300).await;
    let org = sb.github_org();
    let g = connector(&sb);
    let before = g.group_members("zenith").await.unwrap().items;
    let outsider = sb
        .github_members(&org)
        .unwrap()
        .into_iter()
        .find(|m| {
            !before
                .iter()
                .any(|u| u.principal_name.as_deref() == Some(m.login.as_str()))
        })
        .unwrap();
    sb.github_add_team_member(&org, "zenith", &outsider.login)
        .unwrap();
    let after = g.group_members("zenith").await.unwrap().items;
    assert_eq!(after.len(), before.len() + 1);
    sb.github_remove_team_member(&org, "zenith", &outsider.login)
        .unwrap();
    assert_eq!(
        g.group_members("zenith").await.unwrap().items.len(),
        before.len()
    );
}

// R-G8: a member is the person behind the verified-domain e-mail, else the
// public e-mail, else stands alone under the login; the login is always
// known; owners are marked; all are active; the list pages.
#[tokio::test]
async fn members_are_keyed_by_email_else_login_and_owners_marked() {
    let sb = sandbox(1000).await;
    let (users, pages) = all_users(&connector(&sb)).await;
    assert!(pages >= 3, "{pages} pages");
    let expected = expected_keys(&sb, true);
    assert_eq!(users.len(), expected.len());
    let mut kinds = (0, 0, 0);
    for u in &users {
        let login = u.principal_name.clone().expect("the login is kept");
        let (key, owner) = &expected[&login];
        assert_eq!(&u.key(), key, "{login}");
        assert_eq!(u.admin, *owner, "{login}");
        assert_eq!(u.status, UserStatus::Active);
        assert!(u.id.parse::<u64>().is_ok(), "GitHub's numeric id");
        match (u.email.is_empty(), u.email.ends_with("@contoso.com")) {
            (true, _) => kinds.2 += 1,
            (false, true) => kinds.0 += 1,
            (false, false) => kinds.1 += 1,
        }
    }
    assert!(
        kinds.0 > 0 && kinds.1 > 0 && kinds.2 > 0,
        "every kind of account: {kinds:?}"
    );
    assert!(users.iter().any(|u| u.admin));
}

// R-G8: a token that may not read public e-mails (GraphQL's `email` needs
// user:email or read:user) still reads the verified-domain ones.
#[tokio::test]
async fn without_a_user_scope_only_verified_domain_emails_join() {
    let sb = sandbox(400).await;
    let token = sb.github_token_with_scopes(&["read:org", "read:audit_log"]);
    let (users, _) = all_users(&connector_for(&sb, &sb.github_org(), token)).await;
    let expected = expected_keys(&sb, false);
    for u in &users {
        let login = u.principal_name.clone().unwrap();
        assert_eq!(u.key(), expected[&login].0, "{login}");
    }
    assert!(
        sb.served_with("/graphql", 200) >= 2,
        "asked again without the public e-mail"
    );
}

// R-G8: where GraphQL is refused, REST lists owners then members, each
// under its login (REST shows no e-mail).
#[tokio::test]
async fn without_graphql_members_stand_under_their_logins() {
    let sb = sandbox(300).await;
    sb.github_refuse_graphql(true);
    let g = connector(&sb).with_page_size(50);
    let (users, pages) = all_users(&g).await;
    let members = sb.github_members(&sb.github_org()).unwrap();
    assert_eq!(users.len(), members.len());
    assert!(pages >= 3, "{pages}");
    let owners: BTreeSet<String> = members
        .iter()
        .filter(|m| m.owner)
        .map(|m| m.login.to_lowercase())
        .collect();
    let marked: BTreeSet<String> = users.iter().filter(|u| u.admin).map(|u| u.key()).collect();
    assert_eq!(marked, owners);
    assert!(
        users.iter().all(|u| u.email.is_empty()
            && u.key() == u.principal_name.as_deref().unwrap().to_lowercase())
    );
}

// R-G1: the organisation's domains: its verified domains when the token
// may read them, else those of the verified-domain e-mails it saw.
#[tokio::test]
async fn org_domains_come_from_verified_domains_or_verified_emails() {
    let sb = sandbox(300).await;
    let g = connector(&sb);
    assert_eq!(
        g.org_domains(&Default::default()).await.unwrap(),
        ["contoso.com"]
    );
    let admin = connector_for(
        &sb,
        &sb.github_org(),
        sb.github_token_with_scopes(&["admin:org", "read:user"]),
    );
    assert_eq!(
        admin.org_domains(&Default::default()).await.unwrap(),
        ["contoso.com"]
    );
    // Public e-mails at personal domains never count.
    let (users, _) = all_users(&g).await;
    assert!(
        users
            .iter()
            .any(|u| !u.email.is_empty() && !u.email.ends_with("@contoso.com"))
    );
    assert_eq!(
        g.org_domains(&Default::default()).await.unwrap(),
        ["contoso.com"]
    );
}

// R-A1: every field of an audit-log entry, mapped.
#[tokio::test]
async fn activities_are_mapped_field_by_field() {
    let sb = sandbox(200).await;
    let org = sb.github_org();
    let actor = sb.github_members(&org).unwrap()[3].login.clone();
    let at = Utc::now() - TimeDelta::minutes(5);
    let at = chrono::DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap();
    sb.push_activity(casbah::sandbox::PushedActivity {
        at,
        country: Some("DE".into()),
        object: Some("platform".into()),
        ip: "198.51.100.23".into(),
        ..casbah::sandbox::PushedActivity::new(
            casbah::sandbox::Stream::GitHubAudit,
            &actor,
            "team.add_member",
        )
    });
    sb.push_github_audit(&actor, "git.clone", Some("atlas-api"), at);
    let (all, _, _) = read_all(&connector(&sb), None).await;
    let team = all
        .iter()
        .find(|a| {
            a.activity_type == "team.add_member"
                && a.time == at.timestamp_micros()
                && a.actor_name == actor
        })
        .expect("pushed event");
    assert_eq!(team.actor, actor.to_lowercase());
    assert_eq!(team.country.as_deref(), Some("DE"));
    assert_eq!(team.action_type, "member-add");
    assert!(team.admin);
    assert_eq!(team.ip.as_deref(), Some("198.51.100.23"));
    assert_eq!(team.source, "GitHub audit log");
    assert!(team.user_agent.is_some());
    assert_eq!(team.instance, InstanceId(3));
    assert!(team.groups.is_empty());
    assert_eq!(team.objects.len(), 1);
    assert_eq!(team.objects[0].kind, ObjectKind::Group);
    assert_eq!(team.objects[0].name, format!("{org}/platform"));
    let clone = all
        .iter()
        .find(|a| a.activity_type == "git.clone" && a.time == at.timestamp_micros())
        .expect("git events are included");
    assert_eq!(clone.action_type, "download");
    assert!(!clone.admin);
    assert_eq!(clone.objects[0].name, format!("{org}/atlas-api"));
    for a in &all {
        assert!(
            ACTION_TYPES.contains(&a.action_type.as_str()),
            "{}",
            a.action_type
        );
        assert!(a.country.as_deref().is_some_and(|c| c.len() == 2));
    }
    let kinds: HashSet<&str> = all.iter().map(|a| a.action_type.as_str()).collect();
    for t in [
        "download",
        "upload",
        "member-add",
        "create",
        "permission-change",
    ] {
        assert!(kinds.contains(t), "{t} among {kinds:?}");
    }
}

// R-A1, DESIGN §3 Durability: runs read from their cursor lose nothing and
// repeat nothing, even for events in the same second as the last one read.
#[tokio::test]
async fn incremental_reads_neither_lose_nor_duplicate() {
    let sb = sandbox(400).await;
    let org = sb.github_org();
    let actor = sb.github_members(&org).unwrap()[0].login.clone();
    let g = connector(&sb);
    let start = Utc::now();
    let (first, cursor, calls) = read_all(&g, None).await;
    assert!(calls >= 3, "the history pages: {calls} calls");
    let ids: HashSet<&str> = first.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids.len(), first.len(), "no repeats in the first read");
    // One more event in the second of the newest one read, and one later.
    let newest = first.iter().map(|a| a.time).max().unwrap();
    let same_second = chrono::DateTime::from_timestamp_micros(newest).unwrap();
    sb.push_github_audit(&actor, "repo.create", Some("edge"), same_second);
    let later = start + TimeDelta::seconds(2);
    sb.push_github_audit(&actor, "repo.destroy", Some("later"), later.min(Utc::now()));
    let (second, cursor, _) = read_all(&g, Some(cursor)).await;
    let kinds: Vec<&str> = second.iter().map(|a| a.activity_type.as_str()).collect();
    assert_eq!(second.len(), 2, "exactly the new ones: {kinds:?}");
    assert!(second.iter().all(|a| !ids.contains(a.id.as_str())));
    let (third, _, _) = read_all(&g, Some(cursor)).await;
    assert!(
        third.is_empty(),
        "nothing new, nothing repeated: {}",
        third.len()
    );
}

// R-A1: an organisation without the audit log (not on Enterprise Cloud:
// GitHub answers 404) is a note, not a failure.
#[tokio::test]
async fn an_organization_without_an_audit_log_is_not_available() {
    let sb = sandbox(100).await;
    let labs = sb.github_org_without_audit_log();
    let g = connector_for(&sb, &labs, sb.github_token_for(&labs).unwrap());
    g.check().await.expect("its members are readable");
    let err = g.activities("audit-log", None).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ConnectorError::NotAvailable { .. }), "{text}");
    assert!(
        text.contains("Enterprise Cloud") && text.contains(&labs),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1);
    // A token without the scope is told so instead.
    let scoped = connector_for(
        &sb,
        &sb.github_org(),
        sb.github_token_with_scopes(&["read:org"]),
    );
    let err = scoped.activities("audit-log", None).await.unwrap_err();
    assert!(matches!(err, ConnectorError::Permission { .. }), "{err}");
    assert!(err.to_string().contains("read:audit_log"), "{err}");
}

// Rate limits (DESIGN §3 shared HTTP policy): the primary limit is waited
// out until its reset, never less.
#[tokio::test]
async fn the_primary_rate_limit_is_waited_out_until_the_reset() {
    let sb = sandbox(100).await;
    let g = connector(&sb);
    sb.fail_next(
        "/orgs/contoso/teams",
        Fault::Exhausted { reset_after: 0.4 },
        1,
    );
    let started = Instant::now();
    let teams = g.first_groups(10).await.expect("succeeds after the reset");
    assert_eq!(teams.len(), 10);
    assert_eq!(sb.served_with("/orgs/contoso/teams", 403), 1);
    assert_eq!(sb.early_retries("GitHub"), 0, "never back before the reset");
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
    // GraphQL says it with HTTP 200 and RATE_LIMITED; the same wait.
    sb.fail_next("/graphql", Fault::Exhausted { reset_after: 0.3 }, 1);
    let started = Instant::now();
    g.check().await.expect("succeeds after the reset");
    assert_eq!(sb.early_retries("GitHub"), 0);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

// Rate limits: a secondary limit is waited out as long as retry-after says,
// or a minute (shortened here) when it names no wait.
#[tokio::test]
async fn a_secondary_rate_limit_is_waited_out() {
    let sb = sandbox(100).await;
    sb.fail_next(
        "/orgs/contoso/teams",
        Fault::Throttle {
            retry_after: Some(0.5),
        },
        1,
    );
    let g = connector(&sb);
    let started = Instant::now();
    g.first_groups(5).await.expect("succeeds after the wait");
    assert_eq!(sb.served_with("/orgs/contoso/teams", 403), 1);
    assert_eq!(sb.early_retries("GitHub"), 0);
    // GitHub's retry-after is whole seconds: 0.5 s is announced as 1.
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let floor = Duration::from_millis(300);
    let g = GitHub::with_secondary_wait(
        &instance(&sb, &sb.github_org()),
        sb.github_token(),
        fast(),
        floor,
    )
    .unwrap();
    sb.fail_next(
        "/orgs/contoso/teams",
        Fault::Throttle { retry_after: None },
        1,
    );
    let started = Instant::now();
    g.first_groups(5).await.expect("succeeds after the floor");
    assert!(started.elapsed() >= floor, "{:?}", started.elapsed());
    assert_eq!(sb.early_retries("GitHub"), 0);
}

// Rate limits: a reset further away than the policy allows ends the call at
// once instead of coming back early.
#[tokio::test]
async fn a_distant_reset_is_not_cut_short() {
    let sb = sandbox(50).await;
    sb.fail_next(
        "/orgs/contoso/teams",
        Fault::Exhausted { reset_after: 30.0 },
        1,
    );
    let started = Instant::now();
    let err = connector(&sb).first_groups(5).await.unwrap_err();
    assert!(
        matches!(err, ConnectorError::Exhausted { attempts: 1, .. }),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(sb.early_retries("GitHub"), 0);
    assert_eq!(sb.served("/orgs/contoso/teams"), 1);
}

// DESIGN §3: an answer that does not parse is one Protocol error, never a
// panic; a cut body is tried again.
#[tokio::test]
async fn an_answer_that_does_not_parse_is_a_protocol_error() {
    let sb = sandbox(50).await;
    let g = connector(&sb);
    sb.github_garble_next("/orgs/contoso/teams", r#"{"slug": 5}"#);
    let err = g.first_groups(5).await.unwrap_err();
    assert!(matches!(err, ConnectorError::Protocol { .. }), "{err}");
    assert_eq!(err.to_string().lines().count(), 1);
    sb.github_garble_next(
        "/graphql",
        r#"{"data":{"organization":{"membersWithRole":7}}}"#,
    );
    let err = g.users(None).await.unwrap_err();
    assert!(matches!(err, ConnectorError::Protocol { .. }), "{err}");
    sb.github_garble_next("/orgs/contoso/audit-log", r#"{"not":"a list"}"#);
    let err = g.activities("audit-log", None).await.unwrap_err();
    assert!(matches!(err, ConnectorError::Protocol { .. }), "{err}");
    sb.github_garble_next("/orgs/contoso/teams", "[{\"slug\":\"x\"");
    assert_eq!(g.first_groups(5).await.expect("tried again").len(), 5);
    assert_eq!(sb.served_with("/orgs/contoso/teams", 200), 3);
}

/// A device-flow instance with short timings.
async fn device_sandbox(interval_ms: u64, expires_s: u64, step_ms: u64) -> (Sandbox, Instance) {
    let sb = sandbox(100).await;
    sb.set_github_device_timing(
        Duration::from_millis(interval_ms),
        Duration::from_secs(expires_s),
        Duration::from_millis(step_ms),
    );
    let instance = sb
        .github_device_instance("Contoso", &sb.github_org())
        .into_instance(InstanceId(0), 0);
    (sb, instance)
}

/// The device flow's wait, running on its own.
fn finish_in_background(
    instance: &Instance,
    code: &DeviceCode,
) -> tokio::task::JoinHandle<Result<Secret, ConnectorError>> {
    let (instance, code) = (instance.clone(), code.clone());
    tokio::spawn(async move { connectors::finish_device_flow(&instance, &code).await })
}

/// Waits (with a deadline) until the sandbox has seen `n` polls for a code.
async fn polls_reach(sb: &Sandbox, code: &DeviceCode, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while sb.github_device_polls(&code.user_code) < n {
        assert!(
            Instant::now() < deadline,
            "only {} polls",
            sb.github_device_polls(&code.user_code)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

// R-C3: the device flow end to end: a code, pending polls, the person
// approves, a token that connects; never faster than the interval.
#[tokio::test]
async fn the_device_flow_signs_in() {
    let (sb, instance) = device_sandbox(100, 60, 100).await;
    let code = connectors::begin_device_flow(&instance)
        .await
        .expect("a code");
    assert_eq!(code.interval, Duration::from_millis(100));
    assert_eq!(code.expires_in, Duration::from_secs(60));
    assert!(code.verification_uri.ends_with("/login/device"));
    assert_eq!(code.user_code.len(), 9);
    let poll = finish_in_background(&instance, &code);
    polls_reach(&sb, &code, 2).await;
    assert!(sb.github_approve_device(&code.user_code));
    let token = poll.await.unwrap().expect("a token");
    assert!(token.expose().starts_with("gho_"));
    assert_eq!(sb.github_device_polls_too_fast(), 0);
    // The token connects, though it may not read public e-mails.
    let g = GitHub::with_policy(&instance, token, fast()).unwrap();
    assert!(g.check().await.expect("connects").users_seen > 0);
}

// R-C3: slow_down makes the interval what GitHub says, and it is kept.
#[tokio::test]
async fn slow_down_is_respected() {
    let (sb, instance) = device_sandbox(80, 60, 300).await;
    let code = connectors::begin_device_flow(&instance).await.unwrap();
    let poll = finish_in_background(&instance, &code);
    polls_reach(&sb, &code, 1).await;
    assert!(sb.github_slow_down_device(&code.user_code));
    let before = sb.github_device_polls(&code.user_code);
    polls_reach(&sb, &code, before + 3).await;
    assert!(sb.github_approve_device(&code.user_code));
    poll.await.unwrap().expect("a token");
    assert_eq!(
        sb.github_device_polls_too_fast(),
        0,
        "every poll after slow_down waited the new interval"
    );
}

// R-C3: a code nobody enters expires, in one line.
#[tokio::test]
async fn an_unentered_code_expires() {
    let (_sb, instance) = device_sandbox(200, 1, 200).await;
    let code = connectors::begin_device_flow(&instance).await.unwrap();
    let err = connectors::finish_device_flow(&instance, &code)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ConnectorError::Auth { .. }), "{text}");
    assert!(text.contains("expired"), "{text}");
    assert!(!text.contains(code.device_code.expose()));
}

// R-C3: a refused sign-in says so.
#[tokio::test]
async fn a_denied_sign_in_is_refused() {
    let (sb, instance) = device_sandbox(50, 60, 50).await;
    let code = connectors::begin_device_flow(&instance).await.unwrap();
    let poll = finish_in_background(&instance, &code);
    polls_reach(&sb, &code, 1).await;
    assert!(sb.github_deny_device(&code.user_code));
    let err = poll.await.unwrap().unwrap_err();
    assert!(
        matches!(&err, ConnectorError::Auth { code, .. } if code == "access_denied"),
        "{err}"
    );
    assert!(err.to_string().contains("cancelled"), "{err}");
}

// R-C3: dropping the wait stops the polling.
#[tokio::test]
async fn dropping_the_wait_stops_polling() {
    let (sb, instance) = device_sandbox(50, 60, 50).await;
    let code = connectors::begin_device_flow(&instance).await.unwrap();
    let poll = finish_in_background(&instance, &code);
    polls_reach(&sb, &code, 2).await;
    poll.abort();
    let _ = poll.await;
    let seen = sb.github_device_polls(&code.user_code);
    // Absence takes time to show: six intervals with nobody polling.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sb.github_device_polls(&code.user_code), seen);
}

// R-C3: an OAuth app GitHub does not know is named.
#[tokio::test]
async fn an_unknown_client_id_is_refused_in_one_line() {
    let (sb, mut instance) = device_sandbox(50, 60, 50).await;
    instance
        .fields
        .insert("client-id".into(), "Ov23liNoSuchApp0000".into());
    let err = connectors::begin_device_flow(&instance).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ConnectorError::Auth { .. }), "{text}");
    assert!(text.contains("Ov23liNoSuchApp0000"), "{text}");
    assert_eq!(text.lines().count(), 1);
    drop(sb);
}

// issue 10: one bad record is one skipped record: a team with `"slug": null`
// is left out, the other teams are listed.
#[tokio::test]
async fn a_mistyped_team_is_one_skipped_team() {
    let sb = sandbox(300).await;
    let expected = sb.github_teams(&sb.github_org()).unwrap();
    sb.github_mistype(&expected[5], "slug", serde_json::Value::Null);
    let g = connector(&sb).with_page_size(20);
    let teams = g.first_groups(50).await.expect("the teams are read");
    let slugs: Vec<String> = teams.iter().map(|t| t.id.clone()).collect();
    let mut want = expected[..51].to_vec();
    want.remove(5);
    assert_eq!(slugs, want);
}

// issue 10: a team member with a wrongly typed field is one skipped member.
#[tokio::test]
async fn a_mistyped_team_member_is_one_skipped_member() {
    let sb = sandbox(300).await;
    let org = sb.github_org();
    let expected: BTreeSet<String> = sb
        .github_team_members(&org, "everyone")
        .unwrap()
        .into_iter()
        .collect();
    let bad = expected.iter().nth(7).unwrap().clone();
    sb.github_mistype(&bad, "login", serde_json::json!(5));
    let members = connector(&sb)
        .group_members("everyone")
        .await
        .expect("the members are read");
    assert_eq!(members.skipped, 1);
    let logins: BTreeSet<String> = members
        .items
        .iter()
        .filter_map(|u| u.principal_name.clone())
        .collect();
    let mut want = expected;
    want.remove(&bad);
    assert_eq!(logins, want);
}

// Issue 11: GitHub's API has no account governance for organisation members; the
// connector says so in one line and sends nothing.
#[tokio::test]
async fn github_offers_no_account_action_and_says_so() {
    let sb = sandbox(50).await;
    let g = connector(&sb);
    assert!(g.account_actions().is_empty());
    common::assert_catalog_agrees(&g);
    let before = sb.served_all();
    let err = g
        .act_on_account(AccountAction::Suspend, "octocat")
        .await
        .expect_err("none");
    assert!(
        matches!(&err, ConnectorError::NotAvailable { .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "GitHub: its API offers no way to suspend an account"
    );
    assert_eq!(sb.served_all(), before, "nothing sent");
}

// Issue 11: the GitHub Apps installed in the organisation are read across pages, each
// a grant the organisation gave the app, its permissions as scopes, not revocable
// through the API; with SSO, the tokens members authorised are read too (not SSH
// keys) and one is removed by DELETE with admin:org, after which it is gone. A token
// without admin:read is told which scope to add.
#[tokio::test]
async fn installed_apps_and_sso_authorizations_are_read_as_grants() {
    use casbah::domain::grants::GrantKind;
    let sb = sandbox(30).await;
    let org = sb.github_org();
    let g = connector_for(&sb, &org, sb.github_token()).with_page_size(3);
    let grants = g.grants(&[]).await.unwrap().expect("grants");
    let installed: Vec<&str> = grants
        .iter()
        .filter(|g| g.kind == GrantKind::Application)
        .map(|g| g.app_name.as_str())
        .collect();
    assert_eq!(
        installed,
        ["renovate", "slack", "release-deployer", "codecov"],
        "past page one"
    );
    let deployer = grants
        .iter()
        .find(|g| g.app_name == "release-deployer")
        .unwrap();
    assert_eq!(
        deployer.risky_scopes(),
        ["administration:write", "contents:write", "secrets:write"]
    );
    assert!(deployer.granted_at.is_some() && !deployer.revocable);
    let cli: Vec<_> = grants
        .iter()
        .filter(|g| g.app_name == "GitHub CLI")
        .collect();
    let members = sb.github_members(&org).unwrap().len();
    assert_eq!(
        cli.len(),
        members.div_ceil(2),
        "every page of authorizations"
    );
    assert!(cli.iter().all(|g| g.revocable && g.user.is_some()));
    assert!(
        grants.iter().any(|g| g.app_name == "ci-bot"),
        "personal access tokens too"
    );

    let revoke = g.revoke_grant(deployer).await;
    assert!(
        matches!(&revoke, Err(ConnectorError::NotAvailable { what, .. }) if what.contains("uninstall")),
        "{revoke:?}"
    );
    let refused = g.revoke_grant(cli[0]).await.expect_err("no admin:org");
    assert!(refused.to_string().contains("admin:org"), "{refused}");
    let owner = connector_for(
        &sb,
        &org,
        sb.github_token_with_scopes(&["read:org", "admin:org", "admin:read"]),
    );
    let done = owner.revoke_grant(cli[0]).await.expect("removed");
    assert_eq!(done.status, 204);
    let after = owner.grants(&[]).await.unwrap().unwrap();
    assert_eq!(after.len(), grants.len() - 1);
    assert!(!after.iter().any(|g| g.id == cli[0].id));

    let narrow = connector_for(&sb, &org, sb.github_token_with_scopes(&["read:org"]));
    let refused = narrow.grants(&[]).await.expect_err("no admin:read");
    assert!(refused.to_string().contains("admin:read"), "{refused}");
    // Without SSO there are no authorizations, and that is not an error.
    let plain = sb.github_org_without_audit_log();
    let token = sb.github_token_for(&plain).expect("its token");
    let none = connector_for(&sb, &plain, token)
        .grants(&[])
        .await
        .unwrap()
        .unwrap();
    assert!(
        none.iter().all(|g| g.kind == GrantKind::Application),
        "{none:?}"
    );
}
