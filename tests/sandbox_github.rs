//! The sandbox's GitHub dialect, over real HTTP: it must behave as GitHub's
//! documentation says (reference/vendor-apis.md §4), especially where
//! clients go wrong.

use std::time::Duration;

use casbah::sandbox::{Fault, Sandbox};
use serde_json::{Value, json};

mod common;

use common::{json_of, quiet_sandbox as sandbox};

async fn get(sb: &Sandbox, path_and_query: &str, token: &str) -> reqwest::Response {
    let url = if path_and_query.starts_with("http") {
        path_and_query.to_string()
    } else {
        format!("{}{path_and_query}", sb.base_url())
    };
    reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .header("Accept", "application/vnd.github+json")
        .send()
        .await
        .expect("request")
}

fn graphql_request(
    sb: &Sandbox,
    token: &str,
    query: &str,
    variables: Value,
) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .post(format!("{}/graphql", sb.base_url()))
        .bearer_auth(token)
        .json(&json!({"query": query, "variables": variables}))
}

async fn graphql(sb: &Sandbox, token: &str, query: &str, variables: Value) -> reqwest::Response {
    graphql_request(sb, token, query, variables)
        .send()
        .await
        .expect("request")
}

/// A GraphQL answer's body.
async fn gql(sb: &Sandbox, token: &str, query: &str, variables: Value) -> Value {
    json_of(graphql_request(sb, token, query, variables)).await
}

fn header<'r>(r: &'r reqwest::Response, name: &str) -> &'r str {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// The `rel` targets of a Link header.
fn rel(link: &str, name: &str) -> Option<String> {
    link.split(", ").find_map(|part| {
        let (url, r) = part.split_once("; ")?;
        (r == format!("rel=\"{name}\"")).then(|| url.trim_matches(['<', '>']).to_string())
    })
}

// R-C3: no token, a wrong one: GitHub's 401 bodies.
#[tokio::test]
async fn tokens_are_checked_in_githubs_words() {
    let sb = sandbox(50).await;
    let none = reqwest::get(format!("{}/orgs/contoso/teams", sb.base_url()))
        .await
        .unwrap();
    assert_eq!(none.status(), 401);
    let body: Value = none.json().await.unwrap();
    assert_eq!(body["message"], "Requires authentication");
    assert_eq!(body["status"], "401");
    let wrong = get(&sb, "/orgs/contoso/teams", "ghp_nope").await;
    assert_eq!(wrong.status(), 401);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["message"], "Bad credentials");
    assert!(
        body["documentation_url"]
            .as_str()
            .unwrap()
            .starts_with("https://docs.github.com")
    );
}

// R-G2: per_page defaults to 30 and is capped at 100; pages are linked with
// next/last (then prev/first) to GitHub's `/organizations/{id}` paths, and
// every answer carries the rate-limit counters and the token's scopes.
#[tokio::test]
async fn lists_page_as_github_does() {
    let sb = sandbox(300).await;
    let token = sb.github_token();
    let r = get(&sb, "/orgs/contoso/teams", token.expose()).await;
    assert_eq!(r.status(), 200);
    let link = header(&r, "link").to_string();
    assert!(!header(&r, "x-ratelimit-remaining").is_empty());
    assert_eq!(header(&r, "x-ratelimit-limit"), "5000");
    assert!(header(&r, "x-ratelimit-reset").parse::<u64>().is_ok());
    assert_eq!(
        header(&r, "x-oauth-scopes"),
        "admin:read, read:audit_log, read:org, read:user"
    );
    assert!(header(&r, "x-accepted-oauth-scopes").contains("read:org"));
    let teams: Vec<Value> = r.json().await.unwrap();
    assert_eq!(teams.len(), 30);
    let next = rel(&link, "next").expect("next");
    assert!(
        next.contains("/organizations/") && next.ends_with("page=2"),
        "{next}"
    );
    assert!(rel(&link, "last").is_some() && rel(&link, "prev").is_none());
    let r = get(&sb, "/orgs/contoso/teams?per_page=500", token.expose()).await;
    let link = header(&r, "link").to_string();
    let page: Vec<Value> = r.json().await.unwrap();
    assert_eq!(
        page.len(),
        100.min(sb.github_teams("contoso").unwrap().len())
    );
    let r = get(&sb, &next, token.expose()).await;
    let link2 = header(&r, "link").to_string();
    assert!(
        rel(&link2, "prev").is_some() && rel(&link2, "first").is_some(),
        "{link2}"
    );
    let second: Vec<Value> = r.json().await.unwrap();
    assert_eq!(second.len(), 30);
    assert!(
        second.iter().all(|t| !teams.contains(t)),
        "page 2 follows page 1"
    );
    assert!(rel(&link, "next").is_none() || page.len() == 100);
}

// R-G4: a team's members include its child teams' (any depth); pending
// invitees are not members, and their membership says pending.
#[tokio::test]
async fn team_members_include_children_and_not_invitees() {
    let sb = sandbox(1000).await;
    let token = sb.github_token();
    let mut logins = Vec::new();
    let mut url = "/orgs/contoso/teams/everyone/members?per_page=100".to_string();
    loop {
        let r = get(&sb, &url, token.expose()).await;
        assert_eq!(r.status(), 200);
        let next = rel(header(&r, "link"), "next");
        let page: Vec<Value> = r.json().await.unwrap();
        assert!(
            page.iter().all(|u| u.get("email").is_none()),
            "REST lists no e-mail"
        );
        logins.extend(
            page.into_iter()
                .map(|u| u["login"].as_str().unwrap().to_string()),
        );
        match next {
            Some(n) => url = n,
            None => break,
        }
    }
    assert!(logins.len() >= 250);
    assert_eq!(
        logins,
        sb.github_team_members("contoso", "everyone").unwrap()
    );
    let r = get(
        &sb,
        "/orgs/contoso/invitations?per_page=100",
        token.expose(),
    )
    .await;
    let invitations: Vec<Value> = r.json().await.unwrap();
    assert!(!invitations.is_empty());
    let invited = invitations
        .iter()
        .find_map(|i| i["login"].as_str())
        .expect("one invited by login");
    assert!(!logins.iter().any(|l| l == invited));
    // The invitee's team lists them as pending.
    let mut pending = false;
    for slug in sb.github_teams("contoso").unwrap() {
        let r = get(
            &sb,
            &format!("/orgs/contoso/teams/{slug}/memberships/{invited}"),
            token.expose(),
        )
        .await;
        if r.status() == 200 {
            let m: Value = r.json().await.unwrap();
            assert_eq!(m["state"], "pending");
            pending = true;
        }
    }
    assert!(pending);
}

// R-C3: a token sees only its own organisation, and a token without the
// scope is told nothing more than 404 with the scope headers.
#[tokio::test]
async fn hidden_organizations_and_missing_scopes_are_404() {
    let sb = sandbox(100).await;
    let labs = sb.github_org_without_audit_log();
    let r = get(
        &sb,
        &format!("/orgs/{labs}/teams"),
        sb.github_token().expose(),
    )
    .await;
    assert_eq!(r.status(), 404);
    let token = sb.github_token_with_scopes(&["repo"]);
    let r = get(&sb, "/orgs/contoso/teams", token.expose()).await;
    assert_eq!(r.status(), 404);
    assert_eq!(header(&r, "x-oauth-scopes"), "repo");
    assert_eq!(
        header(&r, "x-accepted-oauth-scopes"),
        "admin:org, read:org, write:org"
    );
}

// R-A1: the audit log: newest first unless asked, web events unless asked,
// a phrase of qualifiers, cursors in the Link header, 404 without
// Enterprise Cloud.
#[tokio::test]
async fn the_audit_log_answers_as_github_does() {
    let sb = sandbox(400).await;
    let token = sb.github_token();
    let r = get(&sb, "/orgs/contoso/audit-log", token.expose()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "x-ratelimit-resource"), "audit_log");
    let link = header(&r, "link").to_string();
    let web: Vec<Value> = r.json().await.unwrap();
    assert_eq!(web.len(), 30);
    assert!(
        web.iter()
            .all(|e| !e["action"].as_str().unwrap().starts_with("git.")),
        "git events only when asked"
    );
    let times: Vec<i64> = web
        .iter()
        .map(|e| e["@timestamp"].as_i64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");
    let next = rel(&link, "next").expect("next");
    assert!(
        next.contains("/organizations/") && next.contains("after=") && next.ends_with("before="),
        "{next}"
    );
    let all = get(
        &sb,
        "/orgs/contoso/audit-log?include=all&order=asc&per_page=100&phrase=action:git",
        token.expose(),
    )
    .await;
    let git: Vec<Value> = all.json().await.unwrap();
    assert!(
        !git.is_empty()
            && git
                .iter()
                .all(|e| e["action"].as_str().unwrap().starts_with("git."))
    );
    let e = &git[0];
    for field in [
        "_document_id",
        "@timestamp",
        "created_at",
        "actor",
        "actor_location",
        "org",
    ] {
        assert!(e.get(field).is_some(), "{field} in {e}");
    }
    // A '+' sent unencoded arrives as a space: GitHub cannot read the date.
    let bad = get(
        &sb,
        "/orgs/contoso/audit-log?phrase=created:>=2026-01-01T00:00:00+00:00",
        token.expose(),
    )
    .await;
    assert_eq!(bad.status(), 422);
    let good = get(
        &sb,
        "/orgs/contoso/audit-log?phrase=created:%3E%3D2026-01-01T00:00:00%2B00:00",
        token.expose(),
    )
    .await;
    assert_eq!(good.status(), 200);
    let labs = sb.github_org_without_audit_log();
    let r = get(
        &sb,
        &format!("/orgs/{labs}/audit-log"),
        sb.github_token_for(&labs).unwrap().expose(),
    )
    .await;
    assert_eq!(r.status(), 404);
}

// R-A1: following `after` cursors in ascending order reads each event once.
#[tokio::test]
async fn audit_log_cursors_cover_the_log_once() {
    let sb = sandbox(300).await;
    let token = sb.github_token();
    let mut url = "/orgs/contoso/audit-log?include=all&order=asc&per_page=37".to_string();
    let mut ids = std::collections::HashSet::new();
    let mut last = i64::MIN;
    let mut pages = 0;
    loop {
        let r = get(&sb, &url, token.expose()).await;
        let next = rel(header(&r, "link"), "next");
        let page: Vec<Value> = r.json().await.unwrap();
        pages += 1;
        for e in page {
            let t = e["@timestamp"].as_i64().unwrap();
            assert!(t >= last);
            last = t;
            assert!(ids.insert(e["_document_id"].as_str().unwrap().to_string()));
        }
        match next {
            Some(n) => url = n,
            None => break,
        }
    }
    assert!(pages >= 3, "{pages}");
}

// GraphQL: errors in GitHub's shape, with HTTP 200; scopes checked per field.
#[tokio::test]
async fn graphql_answers_in_githubs_shape() {
    let sb = sandbox(200).await;
    let token = sb.github_token();
    let q = "query($org: String!) { organization(login: $org) { membersWithRole(first: 5) { pageInfo { hasNextPage endCursor } edges { role node { login email organizationVerifiedDomainEmails(login: $org) } } } } }";
    let r = graphql(&sb, token.expose(), q, json!({"org": "contoso"})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "x-ratelimit-resource"), "graphql");
    let body: Value = r.json().await.unwrap();
    let edges = body["data"]["organization"]["membersWithRole"]["edges"]
        .as_array()
        .unwrap();
    assert_eq!(edges.len(), 5);
    assert!(
        edges
            .iter()
            .all(|e| e["role"] == "ADMIN" || e["role"] == "MEMBER")
    );
    assert!(
        body["data"]["organization"]["membersWithRole"]["pageInfo"]["hasNextPage"]
            .as_bool()
            .unwrap()
    );
    let scoped = sb.github_token_with_scopes(&["read:org"]);
    let body = gql(&sb, scoped.expose(), q, json!({"org": "contoso"})).await;
    assert_eq!(body["errors"][0]["type"], "INSUFFICIENT_SCOPES");
    assert!(body.get("data").is_none());
    let body = gql(&sb, token.expose(), q, json!({"org": "nope"})).await;
    assert_eq!(body["errors"][0]["type"], "NOT_FOUND");
    assert_eq!(body["data"]["organization"], Value::Null);
    let too_many = q.replace("first: 5", "first: 101");
    let body = gql(&sb, token.expose(), &too_many, json!({"org": "contoso"})).await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("exceeds the `first` limit of 100")
    );
    let none = q.replace("(first: 5)", "");
    let body = gql(&sb, token.expose(), &none, json!({"org": "contoso"})).await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("You must provide a `first` or `last`")
    );
    let search = "query { organization(login: \"contoso\") { teams(first: 10, query: \"tier\") { nodes { slug } } } }";
    let body = gql(&sb, token.expose(), search, json!({})).await;
    assert_eq!(
        body["data"]["organization"]["teams"]["nodes"],
        json!([{"slug": "tier-1"}, {"slug": "tier-2"}])
    );
    sb.github_refuse_graphql(true);
    assert_eq!(
        graphql(&sb, token.expose(), search, json!({}))
            .await
            .status(),
        403
    );
}

// Rate limits: the primary limit (403, remaining 0, reset; GraphQL: 200
// RATE_LIMITED) and the secondary one (403 with GitHub's words, retry-after
// in whole seconds); coming back early is refused again and counted.
#[tokio::test]
async fn rate_limits_are_said_as_github_says_them() {
    let sb = sandbox(50).await;
    let token = sb.github_token();
    sb.fail_next(
        "/orgs/contoso/teams",
        Fault::Exhausted { reset_after: 2.0 },
        1,
    );
    let r = get(&sb, "/orgs/contoso/teams", token.expose()).await;
    assert_eq!(r.status(), 403);
    assert_eq!(header(&r, "x-ratelimit-remaining"), "0");
    let reset: u64 = header(&r, "x-ratelimit-reset").parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(reset > now && reset <= now + 3, "{reset} vs {now}");
    let body: Value = r.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("API rate limit exceeded")
    );
    let early = get(&sb, "/orgs/contoso/teams", token.expose()).await;
    assert_eq!(early.status(), 403);
    assert_eq!(sb.early_retries("GitHub"), 1);
    sb.fail_next("/graphql", Fault::Exhausted { reset_after: 1.0 }, 1);
    let r = graphql(&sb, token.expose(), "{ viewer { login } }", json!({})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "x-ratelimit-remaining"), "0");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["type"], "RATE_LIMITED");
    sb.fail_next(
        "/orgs/contoso/members",
        Fault::Throttle {
            retry_after: Some(0.2),
        },
        1,
    );
    let r = get(&sb, "/orgs/contoso/members", token.expose()).await;
    assert_eq!(r.status(), 403);
    assert_eq!(header(&r, "retry-after"), "1");
    assert_ne!(header(&r, "x-ratelimit-remaining"), "0");
    let body: Value = r.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("secondary rate limit")
    );
}

// R-C3: the device flow as GitHub runs it: form-encoded unless JSON is
// asked for, errors with HTTP 200, slow_down (+step) when polled faster
// than the interval, and a token that works once approved.
#[tokio::test]
async fn the_device_flow_answers_as_github_does() {
    let sb = sandbox(50).await;
    sb.set_github_device_timing(
        Duration::from_secs(5),
        Duration::from_secs(900),
        Duration::from_secs(5),
    );
    let client = reqwest::Client::new();
    let form = [
        ("client_id", sb.github_client_id()),
        ("scope", "read:org read:audit_log".to_string()),
    ];
    let plain = client
        .post(format!("{}/login/device/code", sb.base_url()))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert!(header(&plain, "content-type").starts_with("application/x-www-form-urlencoded"));
    let text = plain.text().await.unwrap();
    assert!(
        text.contains("device_code=") && text.contains("interval=5"),
        "{text}"
    );
    let code = json_of(
        client
            .post(format!("{}/login/device/code", sb.base_url()))
            .header("Accept", "application/json")
            .form(&form),
    )
    .await;
    assert_eq!(code["interval"], 5);
    assert_eq!(code["expires_in"], 900);
    assert_eq!(code["device_code"].as_str().unwrap().len(), 40);
    let poll = || async {
        client
            .post(format!("{}/login/oauth/access_token", sb.base_url()))
            .header("Accept", "application/json")
            .form(&[
                ("client_id", sb.github_client_id().as_str()),
                ("device_code", code["device_code"].as_str().unwrap()),
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ])
            .send()
            .await
            .unwrap()
    };
    let first = poll().await;
    assert_eq!(first.status(), 200);
    assert_eq!(
        first.json::<Value>().await.unwrap()["error"],
        "authorization_pending"
    );
    let fast: Value = poll().await.json().await.unwrap();
    assert_eq!(fast["error"], "slow_down");
    assert_eq!(fast["interval"], 10);
    assert_eq!(sb.github_device_polls_too_fast(), 1);
    let user_code = code["user_code"].as_str().unwrap();
    assert!(sb.github_approve_device(user_code));
    // Still too soon after the last poll: the interval holds even once approved.
    assert_eq!(
        poll().await.json::<Value>().await.unwrap()["error"],
        "slow_down"
    );
    let unknown = json_of(
        client
            .post(format!("{}/login/device/code", sb.base_url()))
            .header("Accept", "application/json")
            .form(&[("client_id", "Ov23liUnknown")]),
    )
    .await;
    assert_eq!(unknown["error"], "incorrect_client_credentials");
}
