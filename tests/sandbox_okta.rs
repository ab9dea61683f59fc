//! The sandbox's Okta dialect, over real HTTP: it must behave as
//! reference/vendor-apis.md §3 says Okta behaves, where clients go wrong.

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

mod common;
// Issue 11: app grants.
#[path = "sandbox_okta/grants.rs"]
mod grants;

use casbah::sandbox::{Fault, OktaStatus, PushedActivity, Sandbox, Stream};
use chrono::{TimeDelta, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

/// The default week of history, no live stream.
async fn sandbox(users: usize) -> Sandbox {
    common::still_sandbox(users, 0.5).await
}

fn ssws(sb: &Sandbox, org: usize) -> String {
    format!("SSWS {}", sb.okta_orgs()[org].api_token.expose())
}

async fn get(sb: &Sandbox, auth: &str, path_and_query: &str) -> reqwest::Response {
    let url = if path_and_query.starts_with("http") {
        path_and_query.to_string()
    } else {
        format!("{}{path_and_query}", sb.base_url())
    };
    reqwest::Client::new()
        .get(url)
        .header("Authorization", auth)
        .header("Accept", "application/json")
        .send()
        .await
        .expect("request")
}

/// The records and the `next` link of a list answer, which must carry `self`.
async fn page(response: reqwest::Response) -> (Vec<Value>, Option<String>) {
    assert_eq!(response.status(), 200, "{:?}", response.headers());
    let links: Vec<String> = response
        .headers()
        .get_all("link")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert!(
        links.iter().any(|l| l.contains("rel=\"self\"")),
        "self link always: {links:?}"
    );
    let mut headers = reqwest::header::HeaderMap::new();
    for l in &links {
        headers.append("link", l.parse().unwrap());
    }
    let next = casbah::connectors::url::next_link(&headers);
    let body: Value = response.json().await.unwrap();
    (body.as_array().expect("a JSON array").clone(), next)
}

/// Every record of a list, following `next` links; and how many pages.
async fn all(sb: &Sandbox, auth: &str, first: &str) -> (Vec<Value>, usize) {
    let (mut records, mut next) = page(get(sb, auth, first).await).await;
    let mut pages = 1;
    while let Some(link) = next {
        assert!(link.starts_with(&sb.base_url()), "{link}");
        let (more, after) = page(get(sb, auth, &link).await).await;
        records.extend(more);
        next = after;
        pages += 1;
        assert!(pages < 1000, "paging never ends");
    }
    (records, pages)
}

fn ids(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

async fn okta_error(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    for field in [
        "errorCode",
        "errorSummary",
        "errorLink",
        "errorId",
        "errorCauses",
    ] {
        assert!(body.get(field).is_some(), "{field} in {body}");
    }
    (status, body)
}

// R-C2, R-C3: each org's API token reads that org, and only it; a wrong
// token gets Okta's 401 E0000011.
#[tokio::test]
async fn api_tokens_name_their_org() {
    let sb = sandbox(300).await;
    let orgs = sb.okta_orgs();
    assert_eq!(orgs.len(), 2);
    assert_eq!(orgs[0].domain, "contoso.okta.com");
    assert_eq!(orgs[1].domain, "contoso-emea.okta.com");
    for org in 0..2 {
        let (users, _) = all(&sb, &ssws(&sb, org), "/api/v1/users?limit=200").await;
        let want: BTreeSet<String> = sb
            .okta_users(org)
            .into_iter()
            .filter(|u| u.status != OktaStatus::Deprovisioned)
            .map(|u| u.id)
            .collect();
        assert_eq!(ids(&users).into_iter().collect::<BTreeSet<_>>(), want);
    }
    let theirs: HashSet<String> = sb.okta_users(1).into_iter().map(|u| u.id).collect();
    let mine: HashSet<String> = sb.okta_users(0).into_iter().map(|u| u.id).collect();
    assert!(mine.is_disjoint(&theirs), "each org has its own ids");
    // A group of org 1 is not found with org 0's token.
    let emea_group = &sb.okta_groups(1)[1].id;
    let (status, body) =
        okta_error(get(&sb, &ssws(&sb, 0), &format!("/api/v1/groups/{emea_group}")).await).await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (404, Some("E0000007"))
    );
    for wrong in ["SSWS 00nope", "Bearer nope", "", "Basic abc"] {
        let (status, body) = okta_error(get(&sb, wrong, "/api/v1/users").await).await;
        assert_eq!(status, 401, "{wrong}");
        assert_eq!(body["errorCode"], "E0000011");
        assert_eq!(body["errorSummary"], "Invalid token provided");
    }
}

fn now() -> u64 {
    Utc::now().timestamp() as u64
}

/// A client assertion for org `org`'s service app, with `change` applied to
/// its claims, signed by `pem`.
fn assertion(
    sb: &Sandbox,
    org: usize,
    pem: &str,
    kid: Option<&str>,
    change: impl FnOnce(&mut Value),
) -> String {
    let c = &sb.okta_orgs()[org];
    let mut claims = json!({
        "iss": c.client_id, "sub": c.client_id,
        "aud": format!("https://{}/oauth2/v1/token", c.domain),
        "iat": now(), "exp": now() + 300,
        "jti": uuid::Uuid::new_v4().to_string(),
    });
    change(&mut claims);
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(str::to_string);
    jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
    )
    .unwrap()
}

async fn token_request(sb: &Sandbox, assertion: &str, scope: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/oauth2/v1/token", sb.base_url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", scope),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion),
        ])
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

const ALL_SCOPES: &str = "okta.users.read okta.groups.read okta.logs.read";

// R-C3: the service app's private_key_jwt assertion is checked as Okta
// checks it: signature by the app's key, iss = sub = client id, aud = the
// org's own token URL, exp within the hour, a jti used once.
#[tokio::test]
async fn client_assertions_are_checked_claim_by_claim() {
    let sb = sandbox(50).await;
    let orgs = sb.okta_orgs();
    let pem = orgs[0].private_key_pem.expose().to_string();
    let other_pem = orgs[1].private_key_pem.expose().to_string();
    let good = assertion(&sb, 0, &pem, None, |_| {});
    let (status, body) = token_request(&sb, &good, ALL_SCOPES).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], ALL_SCOPES);
    assert!(body["expires_in"].as_u64().unwrap() > 0);
    let (status, body) = token_request(&sb, &good, ALL_SCOPES).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("already been used")
    );

    let refused = [
        (
            assertion(&sb, 0, &other_pem, None, |_| {}),
            "signature is invalid",
        ),
        (
            assertion(&sb, 0, &pem, None, |c| c["iss"] = json!("0oaUnknown")),
            "client_id",
        ),
        (
            assertion(&sb, 0, &pem, None, |c| c["sub"] = json!("someone")),
            "'sub'",
        ),
        (
            assertion(&sb, 0, &pem, None, |c| {
                c["aud"] = json!(format!("{}/oauth2/v1/token", sb.base_url()))
            }),
            "audience",
        ),
        (
            assertion(&sb, 0, &pem, None, |c| c["exp"] = json!(now() + 7200)),
            "too far into the future",
        ),
        (
            assertion(&sb, 0, &pem, None, |c| c["exp"] = json!(now() - 10)),
            "expired",
        ),
        (
            assertion(&sb, 0, &pem, None, |c| {
                c.as_object_mut().unwrap().remove("jti");
            }),
            "jti",
        ),
        (
            assertion(&sb, 0, &pem, Some("not-the-kid"), |_| {}),
            "kid is invalid",
        ),
        // Org 1's app with org 0's audience.
        (
            assertion(&sb, 1, &other_pem, None, |c| {
                c["aud"] = json!("https://contoso.okta.com/oauth2/v1/token")
            }),
            "audience",
        ),
    ];
    for (jwt, says) in refused {
        let (status, body) = token_request(&sb, &jwt, ALL_SCOPES).await;
        assert_eq!(status, 401, "{says}: {body}");
        assert_eq!(body["error"], "invalid_client", "{says}");
        assert!(
            body["error_description"].as_str().unwrap().contains(says),
            "{says}: {body}"
        );
    }
    // The app's own kid is accepted.
    let with_kid = assertion(&sb, 1, &other_pem, Some(&orgs[1].key_id), |_| {});
    assert_eq!(token_request(&sb, &with_kid, ALL_SCOPES).await.0, 200);
    // A client secret is no way in.
    let secret = reqwest::Client::new()
        .post(format!("{}/oauth2/v1/token", sb.base_url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", orgs[0].client_id.as_str()),
            ("client_secret", "s3cret"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(secret.status(), 401);
}

async fn bearer(sb: &Sandbox, org: usize, scope: &str) -> String {
    let pem = sb.okta_orgs()[org].private_key_pem.expose().to_string();
    let (status, body) = token_request(sb, &assertion(sb, org, &pem, None, |_| {}), scope).await;
    assert_eq!(status, 200, "{body}");
    format!("Bearer {}", body["access_token"].as_str().unwrap())
}

// R-C3: a Bearer token reads only what its scopes allow, each endpoint
// naming the scope it needs; scopes the app was not granted are refused.
#[tokio::test]
async fn scopes_are_enforced_per_endpoint() {
    let sb = sandbox(50).await;
    let token = bearer(&sb, 1, "okta.users.read").await;
    assert_eq!(get(&sb, &token, "/api/v1/users").await.status(), 200);
    for (path, scope) in [
        ("/api/v1/groups", "okta.groups.read"),
        ("/api/v1/logs", "okta.logs.read"),
    ] {
        let response = get(&sb, &token, path).await;
        let challenge = response
            .headers()
            .get("www-authenticate")
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            challenge.contains(&format!("scope=\"{scope}\"")),
            "{challenge}"
        );
        assert!(challenge.contains("insufficient_scope"));
        let (status, body) = okta_error(response).await;
        assert_eq!(
            (status, body["errorCode"].as_str()),
            (403, Some("E0000006"))
        );
    }
    // The token reads org 1, whose users it lists.
    let (users, _) = all(&sb, &token, "/api/v1/users").await;
    assert!(users.iter().all(|u| {
        sb.okta_users(1)
            .iter()
            .any(|mine| u["id"] == mine.id.as_str())
    }));
    sb.set_okta_scopes(1, &["okta.users.read", "okta.groups.read"])
        .unwrap();
    let pem = sb.okta_orgs()[1].private_key_pem.expose().to_string();
    let (status, body) =
        token_request(&sb, &assertion(&sb, 1, &pem, None, |_| {}), ALL_SCOPES).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    // Expired tokens are refused like unknown ones.
    sb.expire_okta_tokens();
    assert_eq!(get(&sb, &token, "/api/v1/users").await.status(), 401);
}

// R-G2: groups page by the Link header, limit capped at 200, each group once.
#[tokio::test]
async fn groups_page_by_link_header_with_a_capped_limit() {
    let sb = sandbox(300).await;
    let auth = ssws(&sb, 0);
    let want = sb.okta_groups(0);
    assert!(want.len() > 200, "{} groups", want.len());
    let (groups, pages) = all(&sb, &auth, "/api/v1/groups?limit=37").await;
    assert_eq!(
        ids(&groups),
        want.iter().map(|g| g.id.clone()).collect::<Vec<_>>()
    );
    assert_eq!(pages, want.len().div_ceil(37));
    let (first, next) = page(get(&sb, &auth, "/api/v1/groups?limit=1000").await).await;
    assert_eq!(first.len(), 200, "limit capped at 200");
    assert!(next.is_some());
    let (first, _) = page(get(&sb, &auth, "/api/v1/groups").await).await;
    assert_eq!(first.len(), 200);
    let g = &groups[0];
    assert_eq!(g["profile"]["name"], "Everyone");
    assert_eq!(g["type"], "BUILT_IN");
    assert!(
        g["_links"]["users"]["href"]
            .as_str()
            .unwrap()
            .ends_with("/users")
    );
    // One list's cursor is refused by another (and by the other org).
    let (_, next) = page(get(&sb, &auth, "/api/v1/groups?limit=5").await).await;
    let after = next.unwrap().split("after=").nth(1).unwrap().to_string();
    let (status, body) =
        okta_error(get(&sb, &auth, &format!("/api/v1/users?after={after}")).await).await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (400, Some("E0000001"))
    );
    let other = get(&sb, &ssws(&sb, 1), &format!("/api/v1/groups?after={after}")).await;
    assert_eq!(other.status(), 400);
}

// R-G2: `q` is Okta's picker search: names starting with the text, exact
// matches first, 300 at most by default, and no paging.
#[tokio::test]
async fn q_is_a_starts_with_picker_search_without_paging() {
    let sb = sandbox(300).await;
    let auth = ssws(&sb, 0);
    let groups = sb.okta_groups(0);
    let starts = |p: &str| {
        groups
            .iter()
            .filter(|g| g.name.to_lowercase().starts_with(&p.to_lowercase()))
            .count()
    };
    // "Engineering" is a prefix of many names and the exact name of none:
    // then "Engineering - All" asked exactly comes first.
    let (found, next) = page(get(&sb, &auth, "/api/v1/groups?q=engineering%20-%20all").await).await;
    assert_eq!(found[0]["profile"]["name"], "Engineering - All");
    assert_eq!(next, None);
    let (found, next) = page(get(&sb, &auth, "/api/v1/groups?q=Engineering&limit=3").await).await;
    assert!(starts("Engineering") > 3);
    assert_eq!(found.len(), 3);
    assert_eq!(next, None, "paging and searching are mutually exclusive");
    assert!(found.iter().all(|g| {
        g["profile"]["name"]
            .as_str()
            .unwrap()
            .starts_with("Engineering")
    }));
    // Not a word search: a name containing the text elsewhere is not found.
    let (found, _) = page(get(&sb, &auth, "/api/v1/groups?q=All").await).await;
    assert!(found.iter().all(|g| {
        g["profile"]["name"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .starts_with("all")
    }));
    // Default limit 300: every match (fewer than 300 here) in one answer.
    let (found, _) = page(get(&sb, &auth, "/api/v1/groups?q=E").await).await;
    assert_eq!(found.len(), starts("E").min(300));
}

// R-G2: `search` is SCIM (sw, eq, gt/lt on dates, and, or) and pages;
// `filter` takes only id, type, lastUpdated and lastMembershipUpdated.
#[tokio::test]
async fn search_and_filter_are_scim() {
    let sb = sandbox(300).await;
    let auth = ssws(&sb, 0);
    let (found, pages) = all(
        &sb,
        &auth,
        "/api/v1/groups?search=profile.name%20sw%20%22project%22&limit=5",
    )
    .await;
    let want: Vec<String> = sb
        .okta_groups(0)
        .into_iter()
        .filter(|g| g.name.starts_with("Project"))
        .map(|g| g.id)
        .collect();
    assert!(want.len() > 10);
    assert_eq!(ids(&found), want);
    assert!(pages >= 3);
    let (everyone, _) = page(
        get(
            &sb,
            &auth,
            "/api/v1/groups?filter=type%20eq%20%22BUILT_IN%22",
        )
        .await,
    )
    .await;
    assert_eq!(everyone.len(), 1);
    assert_eq!(everyone[0]["profile"]["name"], "Everyone");
    let (recent, _) = all(
        &sb,
        &auth,
        "/api/v1/groups?search=lastUpdated%20gt%20%222000-01-01T00:00:00.000Z%22%20and%20type%20eq%20%22OKTA_GROUP%22",
    )
    .await;
    assert_eq!(recent.len(), sb.okta_groups(0).len() - 1);
    let (either, _) = all(
        &sb,
        &auth,
        "/api/v1/groups?search=type%20eq%20%22BUILT_IN%22%20or%20profile.name%20eq%20%22contractors%22",
    )
    .await;
    assert_eq!(either.len(), 2);
    for bad in [
        "/api/v1/groups?filter=profile.name%20eq%20%22Everyone%22",
        "/api/v1/groups?search=profile.name%20eqq%20%22x%22",
    ] {
        let (status, body) = okta_error(get(&sb, &auth, bad).await).await;
        assert_eq!(
            (status, body["errorCode"].as_str()),
            (400, Some("E0000031")),
            "{bad}"
        );
    }
}

// R-G4: every status is present; a plain user list leaves DEPROVISIONED
// users out, a status filter finds them; a group's users come in any status.
#[tokio::test]
async fn user_statuses_as_okta_reports_them() {
    let sb = sandbox(300).await;
    let auth = ssws(&sb, 0);
    let accounts = sb.okta_users(0);
    for status in [
        "STAGED",
        "PROVISIONED",
        "ACTIVE",
        "RECOVERY",
        "LOCKED_OUT",
        "PASSWORD_EXPIRED",
        "SUSPENDED",
        "DEPROVISIONED",
    ] {
        let (found, _) = all(
            &sb,
            &auth,
            &format!("/api/v1/users?filter=status%20eq%20%22{status}%22"),
        )
        .await;
        assert!(!found.is_empty(), "no {status} user");
        assert!(found.iter().all(|u| u["status"] == status));
    }
    let (listed, _) = all(&sb, &auth, "/api/v1/users").await;
    assert!(listed.iter().all(|u| u["status"] != "DEPROVISIONED"));
    let gone = accounts
        .iter()
        .filter(|u| u.status == OktaStatus::Deprovisioned)
        .count();
    assert!(gone > 0);
    assert_eq!(listed.len(), accounts.len() - gone);

    let group = sb
        .okta_groups(0)
        .into_iter()
        .find(|g| g.name == "Engineering - All")
        .unwrap();
    let member = group.members[0].clone();
    sb.set_okta_status(0, &member, OktaStatus::Deprovisioned)
        .unwrap();
    let (users, pages) = all(
        &sb,
        &auth,
        &format!("/api/v1/groups/{}/users?limit=10", group.id),
    )
    .await;
    assert_eq!(ids(&users), group.members);
    assert!(pages >= 3);
    let theirs = users.iter().find(|u| u["id"] == member.as_str()).unwrap();
    assert_eq!(theirs["status"], "DEPROVISIONED");
    // Membership changes show at once.
    sb.set_okta_member(0, &group.id, &member, false).unwrap();
    let (users, _) = all(&sb, &auth, &format!("/api/v1/groups/{}/users", group.id)).await;
    assert!(!ids(&users).contains(&member));
    let (status, body) = okta_error(get(&sb, &auth, "/api/v1/groups/00gNope/users").await).await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (404, Some("E0000007"))
    );
}

/// One System Log event per user and day over the week, no live stream.
async fn history(users: usize) -> Sandbox {
    common::still_sandbox(users, 1.0).await
}

fn since(ago: TimeDelta) -> String {
    (Utc::now() - ago)
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

// R-C6: a polling read (no until, ascending) always links `next`, even
// when caught up with an empty array, and picks up what is pushed later by
// when it was pushed, whatever its `published`.
#[tokio::test]
async fn system_log_polling_never_ends() {
    let sb = history(40).await;
    let auth = ssws(&sb, 0);
    let first = format!(
        "/api/v1/logs?since={}&sortOrder=ASCENDING&limit=1000",
        since(TimeDelta::days(7) + TimeDelta::minutes(1))
    );
    let (mut events, mut next) = page(get(&sb, &auth, &first).await).await;
    let mut pages = 1;
    loop {
        let link = next.expect("polling always links next");
        assert!(
            !link.contains("since="),
            "since and after do not go together"
        );
        let (more, after) = page(get(&sb, &auth, &link).await).await;
        pages += 1;
        next = after;
        if more.is_empty() {
            break;
        }
        events.extend(more);
    }
    assert!(pages >= 2);
    assert_eq!(events.len(), 40 * 7, "a week at one event per user and day");
    let uuids: HashSet<&str> = events.iter().map(|e| e["uuid"].as_str().unwrap()).collect();
    assert_eq!(uuids.len(), events.len());
    // Caught up: the same link answers empty again, with a next.
    let link = next.unwrap();
    let (none, again) = page(get(&sb, &auth, &link).await).await;
    assert!(none.is_empty() && again.is_some());
    // Pushed now, but published an hour ago: polling still sees it.
    sb.push_activity(PushedActivity {
        at: Utc::now() - TimeDelta::hours(1),
        country: Some("GB".into()),
        ..PushedActivity::new(
            Stream::OktaSystemLog(0),
            "Someone@Partner.example",
            "user.session.start",
        )
    });
    sb.push_activity(PushedActivity::new(
        Stream::OktaSystemLog(1),
        "x@y.z",
        "user.session.start",
    ));
    let (late, _) = page(get(&sb, &auth, &link).await).await;
    assert_eq!(late.len(), 1, "{late:?}");
    assert_eq!(late[0]["actor"]["alternateId"], "Someone@Partner.example");
    assert_eq!(
        late[0]["client"]["geographicalContext"]["country"],
        "United Kingdom"
    );
}

// Bounded reads (since and until) come in `published` order, end with no
// next; DESCENDING reverses them; limit is capped at 1000.
#[tokio::test]
async fn bounded_reads_are_ordered_and_finite() {
    let sb = history(200).await;
    let auth = ssws(&sb, 1);
    let window = format!(
        "since={}&until={}",
        since(TimeDelta::days(3)),
        since(TimeDelta::days(1))
    );
    let (asc, pages) = all(&sb, &auth, &format!("/api/v1/logs?{window}&limit=97")).await;
    assert!(pages >= 3, "{pages}");
    let times: Vec<&str> = asc
        .iter()
        .map(|e| e["published"].as_str().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "ascending by published"
    );
    let (desc, _) = all(
        &sb,
        &auth,
        &format!("/api/v1/logs?{window}&limit=97&sortOrder=DESCENDING"),
    )
    .await;
    let mut reversed = ids_of(&desc);
    reversed.reverse();
    assert_eq!(ids_of(&asc), reversed);
    let (capped, _) =
        page(get(&sb, &auth, &format!("/api/v1/logs?{window}&limit=5000")).await).await;
    assert_eq!(capped.len(), 1000.min(asc.len()));
    // A filter narrows what comes back; `published` cannot be filtered on.
    let (sign_ins, _) = all(
        &sb,
        &auth,
        &format!("/api/v1/logs?{window}&filter=eventType%20eq%20%22user.session.start%22"),
    )
    .await;
    assert!(!sign_ins.is_empty() && sign_ins.len() < asc.len());
    assert!(
        sign_ins
            .iter()
            .all(|e| e["eventType"] == "user.session.start")
    );
    for bad in [
        format!("/api/v1/logs?since={}", since(TimeDelta::days(181))),
        "/api/v1/logs?filter=published%20gt%20%222024-01-01T00:00:00Z%22".to_string(),
    ] {
        let (status, body) = okta_error(get(&sb, &auth, &bad).await).await;
        assert_eq!(
            (status, body["errorCode"].as_str()),
            (400, Some("E0000053")),
            "{bad}"
        );
    }
}

fn ids_of(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["uuid"].as_str().unwrap().to_string())
        .collect()
}

// Rate limits: every answer carries the counters of its endpoint family;
// a throttled answer is 429 E0000047 with X-Rate-Limit-Reset and no
// Retry-After, and coming back before the reset is refused and counted.
#[tokio::test]
async fn rate_limit_headers_and_throttling() {
    let sb = sandbox(30).await;
    let auth = ssws(&sb, 0);
    let counters = |r: &reqwest::Response| -> (u64, u64, u64) {
        let h = |n: &str| {
            r.headers()
                .get(n)
                .unwrap()
                .to_str()
                .unwrap()
                .parse::<u64>()
                .unwrap()
        };
        (
            h("x-rate-limit-limit"),
            h("x-rate-limit-remaining"),
            h("x-rate-limit-reset"),
        )
    };
    let a = get(&sb, &auth, "/api/v1/users").await;
    let b = get(&sb, &auth, "/api/v1/users").await;
    let (limit, first, reset) = counters(&a);
    let (_, second, _) = counters(&b);
    assert_eq!(limit, 600);
    assert!(second < first, "{first} then {second}");
    assert!(reset > now() && reset <= now() + 61);
    assert_eq!(counters(&get(&sb, &auth, "/api/v1/logs").await).0, 120);
    assert!(
        get(&sb, "SSWS wrong", "/api/v1/users")
            .await
            .headers()
            .contains_key("x-rate-limit-remaining")
    );
    sb.fail_next(
        "/api/v1/groups",
        Fault::Throttle {
            retry_after: Some(1.5),
        },
        1,
    );
    let throttled = get(&sb, &auth, "/api/v1/groups").await;
    assert_eq!(throttled.status(), 429);
    assert!(throttled.headers().get("retry-after").is_none());
    let (_, remaining, reset) = counters(&throttled);
    assert_eq!(remaining, 0);
    assert!(reset > now(), "the reset is ahead");
    let (_, body) = okta_error(throttled).await;
    assert_eq!(body["errorCode"], "E0000047");
    assert_eq!(get(&sb, &auth, "/api/v1/groups").await.status(), 429);
    assert_eq!(sb.early_retries("Okta"), 1);
    tokio::time::sleep(Duration::from_secs(reset.saturating_sub(now()) + 1)).await;
    assert_eq!(get(&sb, &auth, "/api/v1/groups").await.status(), 200);
    sb.fail_next("/api/v1/users", Fault::ServerError, 1);
    let (status, body) = okta_error(get(&sb, &auth, "/api/v1/users").await).await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (500, Some("E0000009"))
    );
}

// Unknown paths and ids answer in Okta's words.
#[tokio::test]
async fn unknowns_get_oktas_404() {
    let sb = sandbox(20).await;
    let auth = ssws(&sb, 0);
    for path in [
        "/api/v1/groups/00gUnknown",
        "/api/v1/users/00uUnknown",
        "/api/v1/apps",
    ] {
        let (status, body) = okta_error(get(&sb, &auth, path).await).await;
        assert_eq!(
            (status, body["errorCode"].as_str()),
            (404, Some("E0000007")),
            "{path}"
        );
    }
    // A user is found by id or by login.
    let someone = &sb.okta_users(0)[0];
    for key in [&someone.id, &someone.login] {
        let user: Value = get(&sb, &auth, &format!("/api/v1/users/{key}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(user["id"], someone.id.as_str());
    }
}
