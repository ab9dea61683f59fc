//! The sandbox's Google Workspace dialect, over real HTTP: it must behave as
//! Google's OAuth 2.0 for service accounts page and the Admin SDK's Directory
//! and Reports discovery documents say Google behaves, where clients go wrong.

// Issue 11: app grants.
#[path = "sandbox_google/grants.rs"]
mod grants;

use std::collections::{BTreeSet, HashSet};

use casbah::connectors::google::SCOPES;
use casbah::sandbox::{Fault, Sandbox, SandboxConfig};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

const AUDIENCE: &str = "https://oauth2.googleapis.com/token";
const DIRECTORY: &str = "/admin/directory/v1";

async fn sandbox(users: usize, history: f64) -> Sandbox {
    Sandbox::start(SandboxConfig {
        users,
        live_rate: 0.0,
        history_per_user_per_day: history,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts")
}

fn key_file(sb: &Sandbox) -> Value {
    serde_json::from_str(sb.google_service_account_key().expose()).expect("key file JSON")
}

/// The claims casbah sends, acting as `sub`.
fn claims(sb: &Sandbox, sub: Option<&str>) -> Value {
    let now = chrono::Utc::now().timestamp();
    let mut c = json!({
        "iss": key_file(sb)["client_email"],
        "scope": SCOPES.join(" "),
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 3600,
    });
    if let Some(sub) = sub {
        c["sub"] = Value::from(sub);
    }
    c
}

fn sign_with(pem: &str, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_rsa_pem(pem.as_bytes()).expect("PEM"),
    )
    .expect("signed")
}

fn sign(sb: &Sandbox, claims: &Value) -> String {
    let key = key_file(sb);
    sign_with(
        key["private_key"].as_str().unwrap(),
        key["private_key_id"].as_str().unwrap(),
        claims,
    )
}

async fn exchange(sb: &Sandbox, grant: &str, assertion: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/token", sb.base_url()))
        .form(&[("grant_type", grant), ("assertion", assertion)])
        .send()
        .await
        .expect("token request");
    (r.status().as_u16(), r.json().await.expect("JSON"))
}

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

async fn token_for(sb: &Sandbox, claims: &Value) -> String {
    let (status, body) = exchange(sb, JWT_BEARER, &sign(sb, claims)).await;
    assert_eq!(status, 200, "{body}");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

async fn admin_token(sb: &Sandbox) -> String {
    token_for(sb, &claims(sb, Some(&sb.google_admin_email()))).await
}

async fn get(sb: &Sandbox, path: &str, token: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .get(format!("{}{path}", sb.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn reason(body: &Value) -> &str {
    body["error"]["errors"][0]["reason"]
        .as_str()
        .unwrap_or_default()
}

/// Every record of a list, following nextPageToken: the records and the pages.
async fn all_pages(sb: &Sandbox, path: &str, field: &str, token: &str) -> (Vec<Value>, usize) {
    let mut records = Vec::new();
    let mut page_token: Option<String> = None;
    let mut pages = 0;
    loop {
        let url = match &page_token {
            Some(t) => format!("{path}&pageToken={t}"),
            None => path.to_owned(),
        };
        let (status, body) = get(sb, &url, token).await;
        assert_eq!(status, 200, "{body}");
        pages += 1;
        records.extend(body[field].as_array().cloned().unwrap_or_default());
        match body["nextPageToken"].as_str() {
            Some(t) => page_token = Some(t.to_owned()),
            None => break,
        }
    }
    (records, pages)
}

// R-C3: the token endpoint checks the assertion as Google does and answers
// each mistake in Google's words.
#[tokio::test]
async fn the_token_endpoint_checks_the_assertion_as_google_does() {
    let sb = sandbox(40, 0.0).await;
    let admin = sb.google_admin_email();
    let good = claims(&sb, Some(&admin));
    let (status, body) = exchange(&sb, JWT_BEARER, &sign(&sb, &good)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["token_type"].as_str(), body["expires_in"].as_u64()),
        (Some("Bearer"), Some(3599))
    );

    let refused = |claims: Value| {
        let jwt = sign(&sb, &claims);
        let sb = &sb;
        async move { exchange(sb, JWT_BEARER, &jwt).await }
    };
    let mut c = good.clone();
    // The commonest mistake behind an endpoint override: the audience.
    c["aud"] = Value::from(format!("{}/token", sb.base_url()));
    let (status, body) = refused(c).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("audience"),
        "{body}"
    );
    let mut c = good.clone();
    c["exp"] = Value::from(c["iat"].as_i64().unwrap() + 7200);
    let (status, body) = refused(c).await;
    assert_eq!(status, 400);
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("short-lived"),
        "{body}"
    );
    let mut c = good.clone();
    c["iat"] = Value::from(c["iat"].as_i64().unwrap() - 7200);
    c["exp"] = Value::from(c["iat"].as_i64().unwrap() + 3600);
    let (_, body) = refused(c).await;
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("short-lived"),
        "expired: {body}"
    );
    let mut c = good.clone();
    c["iss"] = Value::from("someone-else@casbah-sandbox.iam.gserviceaccount.com");
    let (_, body) = refused(c).await;
    assert_eq!(
        body["error_description"],
        "Invalid grant: account not found"
    );
    let mut c = good.clone();
    c["sub"] = Value::from("nobody@contoso.com");
    let (status, body) = refused(c).await;
    assert_eq!(
        (status, body["error_description"].as_str()),
        (400, Some("Invalid email or User ID"))
    );
    let mut c = good.clone();
    c["scope"] = Value::from(format!("{} https://mail.google.com/", SCOPES.join(" ")));
    let (status, body) = refused(c).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("unauthorized_client"))
    );
    let mut c = good.clone();
    c.as_object_mut().unwrap().remove("scope");
    let (status, body) = refused(c).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );

    // Signed by another key, or naming another key of the account.
    let other = include_str!("../assets/sandbox/okta-service-app.pem");
    let kid = key_file(&sb)["private_key_id"].as_str().unwrap().to_owned();
    let (status, body) = exchange(&sb, JWT_BEARER, &sign_with(other, &kid, &good)).await;
    assert_eq!(
        (status, body["error_description"].as_str()),
        (400, Some("Invalid JWT Signature."))
    );
    let pem = key_file(&sb)["private_key"].as_str().unwrap().to_owned();
    let (_, body) = exchange(&sb, JWT_BEARER, &sign_with(&pem, "0000", &good)).await;
    assert_eq!(body["error_description"], "Invalid JWT Signature.");

    let (status, body) = exchange(&sb, "client_credentials", &sign(&sb, &good)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let (_, body) = exchange(&sb, JWT_BEARER, "").await;
    assert_eq!(body["error"], "invalid_request");
    let (_, body) = exchange(&sb, JWT_BEARER, "not.a.jwt").await;
    assert_eq!(body["error"], "invalid_grant");
}

// R-C3: API calls need a live token with the API's scope, acting as an
// administrator; the Reports API refuses others with its own 401.
#[tokio::test]
async fn api_calls_check_the_token_its_scopes_and_the_administrator() {
    let sb = sandbox(40, 0.0).await;
    let customer = sb.google_customer_id();
    let groups = format!("{DIRECTORY}/groups?customer={customer}");
    let users = format!("{DIRECTORY}/users?customer={customer}");
    let login = "/admin/reports/v1/activity/users/all/applications/login";

    let (status, body) = get(&sb, &groups, "ya29.unknown").await;
    assert_eq!((status, reason(&body)), (401, "authError"));
    assert_eq!(body["error"]["status"], "UNAUTHENTICATED");

    let mut users_only = claims(&sb, Some(&sb.google_admin_email()));
    users_only["scope"] = Value::from(SCOPES[2]);
    let token = token_for(&sb, &users_only).await;
    assert_eq!(get(&sb, &users, &token).await.0, 200);
    let (status, body) = get(&sb, &groups, &token).await;
    assert_eq!((status, reason(&body)), (403, "insufficientPermissions"));

    let plain = token_for(&sb, &claims(&sb, Some(&sb.google_user_email()))).await;
    let (status, body) = get(&sb, &groups, &plain).await;
    assert_eq!((status, reason(&body)), (403, "forbidden"));
    assert_eq!(
        body["error"]["message"],
        "Not Authorized to access this resource/api"
    );
    let (status, body) = get(&sb, login, &plain).await;
    assert_eq!(status, 401);
    assert_eq!(
        body["error"]["message"],
        "Access denied. You are not authorized to read activity records."
    );
    // The service account acting as itself is no administrator either.
    let itself = token_for(&sb, &claims(&sb, None)).await;
    assert_eq!(get(&sb, &users, &itself).await.0, 403);

    let admin = admin_token(&sb).await;
    assert_eq!(get(&sb, login, &admin).await.0, 200);
    sb.google_expire_tokens();
    assert_eq!(get(&sb, &users, &admin).await.0, 401);
}

// Google's documented maxima: 200 groups or members, 500 users, 1000
// activities a page; more (or none) is refused with 400.
#[tokio::test]
async fn page_sizes_beyond_googles_maxima_are_refused() {
    let sb = sandbox(30, 0.0).await;
    let token = admin_token(&sb).await;
    let c = sb.google_customer_id();
    let group = "support@contoso.com";
    for (path, max) in [
        (format!("{DIRECTORY}/groups?customer={c}&"), 200),
        (format!("{DIRECTORY}/groups/{group}/members?"), 200),
        (format!("{DIRECTORY}/users?customer={c}&"), 500),
        (
            "/admin/reports/v1/activity/users/all/applications/drive?".to_owned(),
            1000,
        ),
    ] {
        assert_eq!(
            get(&sb, &format!("{path}maxResults={max}"), &token).await.0,
            200,
            "{path}"
        );
        let (status, body) = get(&sb, &format!("{path}maxResults={}", max + 1), &token).await;
        assert_eq!(status, 400, "{path}");
        assert_eq!(
            body["error"]["message"],
            format!(
                "Invalid value '{}'. Values must be within the range: [1, {max}]",
                max + 1
            )
        );
        assert_eq!(
            get(&sb, &format!("{path}maxResults=0"), &token).await.0,
            400
        );
    }
}

// Lists page by nextPageToken, each record once; a page token belongs to its
// list; an empty page leaves its list out.
#[tokio::test]
async fn lists_page_by_next_page_token() {
    let sb = sandbox(120, 0.0).await;
    let token = admin_token(&sb).await;
    let c = sb.google_customer_id();
    let (users, pages) = all_pages(
        &sb,
        &format!("{DIRECTORY}/users?customer={c}&maxResults=7"),
        "users",
        &token,
    )
    .await;
    assert!(pages >= 3);
    assert_eq!(users.len(), sb.google_accounts().len());
    let ids: HashSet<&str> = users.iter().filter_map(|u| u["id"].as_str()).collect();
    assert_eq!(ids.len(), users.len());
    assert_eq!(users[0]["kind"], "admin#directory#user");

    let (_, first) = get(
        &sb,
        &format!("{DIRECTORY}/users?customer={c}&maxResults=7"),
        &token,
    )
    .await;
    let foreign = first["nextPageToken"].as_str().unwrap();
    let (status, body) = get(
        &sb,
        &format!("{DIRECTORY}/groups?customer={c}&pageToken={foreign}"),
        &token,
    )
    .await;
    assert_eq!((status, reason(&body)), (400, "invalid"));

    let (status, body) = get(
        &sb,
        &format!("{DIRECTORY}/groups?customer={c}&query=name:'Nothing%20like%20it*'"),
        &token,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["kind"], "admin#directory#groups");
    assert!(
        body.get("groups").is_none() && body.get("nextPageToken").is_none(),
        "{body}"
    );
}

// R-G2: groups.list takes `customer` or `domain`, and Google's query
// syntax: `name`/`email` with `=` or the prefix form `:{PREFIX}*`, values
// quoted with '; users.list its boolean fields.
#[tokio::test]
async fn searches_take_googles_query_syntax() {
    let sb = sandbox(200, 0.0).await;
    let token = admin_token(&sb).await;
    let c = sb.google_customer_id();
    let names = |body: &Value| -> BTreeSet<String> {
        body["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|g| g["email"].as_str().unwrap().to_owned())
            .collect()
    };
    let support = BTreeSet::from([
        "support-partners@contoso.com".to_owned(),
        "support@contoso.com".to_owned(),
    ]);
    for query in [
        "name:'Support*'",
        "name:Supp*",
        "email:support*",
        "name=Support",
        "name='support'",
    ] {
        let (status, body) = get(
            &sb,
            &format!("{DIRECTORY}/groups?customer={c}&query={query}"),
            &token,
        )
        .await;
        assert_eq!(status, 200, "{query}: {body}");
        assert_eq!(names(&body), support, "{query}");
    }
    let spaced = sb
        .google_groups()
        .into_iter()
        .find(|g| g.name.contains(' '))
        .unwrap();
    let prefix = &spaced.name[..spaced.name.len() - 1];
    let (_, body) = get(
        &sb,
        &format!("{DIRECTORY}/groups?customer={c}&query=name:'{prefix}*'"),
        &token,
    )
    .await;
    assert!(names(&body).contains(&spaced.email), "{prefix}");
    for bad in ["name:Support", "owner=me", "name:'Support"] {
        let (status, body) = get(
            &sb,
            &format!("{DIRECTORY}/groups?customer={c}&query={bad}"),
            &token,
        )
        .await;
        assert_eq!(
            (status, body["error"]["message"].as_str()),
            (400, Some("Invalid Input")),
            "{bad}"
        );
    }

    let count = |body: &Value| body["users"].as_array().map_or(0, Vec::len);
    let accounts = sb.google_accounts();
    let (_, body) = get(
        &sb,
        &format!("{DIRECTORY}/users?customer={c}&maxResults=500&query=isAdmin=true"),
        &token,
    )
    .await;
    assert_eq!(count(&body), accounts.iter().filter(|a| a.admin).count());
    assert!(
        body["users"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["isAdmin"] == true)
    );
    let (_, body) = get(
        &sb,
        &format!("{DIRECTORY}/users?customer={c}&maxResults=500&query=isSuspended=true"),
        &token,
    )
    .await;
    assert_eq!(
        count(&body),
        accounts.iter().filter(|a| a.suspended).count()
    );
    let (_, body) = get(
        &sb,
        &format!("{DIRECTORY}/users?customer=my_customer&maxResults=500&query=isArchived=true"),
        &token,
    )
    .await;
    assert_eq!(count(&body), accounts.iter().filter(|a| a.archived).count());

    let (status, body) = get(&sb, &format!("{DIRECTORY}/groups"), &token).await;
    assert_eq!((status, reason(&body)), (400, "badRequest"));
    assert_eq!(
        get(
            &sb,
            &format!("{DIRECTORY}/users?domain=contoso.com"),
            &token
        )
        .await
        .0,
        200
    );
    assert_eq!(
        get(
            &sb,
            &format!("{DIRECTORY}/users?domain=fabrikam.com"),
            &token
        )
        .await
        .0,
        403
    );
}

// R-G4: members.list lists nested groups as GROUP members unless asked for
// derived membership, which flattens them; the whole customer and outside
// addresses are members of their own types.
#[tokio::test]
async fn derived_membership_only_when_asked() {
    let sb = sandbox(300, 0.0).await;
    let token = admin_token(&sb).await;
    let everyone = sb
        .google_groups()
        .into_iter()
        .find(|g| g.name == "Everyone at Contoso")
        .unwrap();
    let path = format!(
        "{DIRECTORY}/groups/{}/members?maxResults=50",
        everyone.email
    );
    let (direct, _) = all_pages(&sb, &path, "members", &token).await;
    let types: BTreeSet<&str> = direct.iter().filter_map(|m| m["type"].as_str()).collect();
    assert_eq!(
        types,
        BTreeSet::from(["CUSTOMER", "GROUP"]),
        "nested groups, not their users"
    );
    let customer = direct.iter().find(|m| m["type"] == "CUSTOMER").unwrap();
    assert_eq!(customer["id"], sb.google_customer_id());
    assert!(customer.get("email").is_none());

    let (derived, pages) = all_pages(
        &sb,
        &format!("{path}&includeDerivedMembership=true"),
        "members",
        &token,
    )
    .await;
    assert!(pages >= 3);
    let users: BTreeSet<(String, String)> = derived
        .iter()
        .filter(|m| m["type"] == "USER")
        .map(|m| {
            (
                m["email"].as_str().unwrap().to_owned(),
                m["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want: BTreeSet<(String, String)> = everyone
        .users
        .iter()
        .map(|(e, s)| (e.clone(), s.to_string()))
        .collect();
    assert_eq!(users, want);
    assert!(users.iter().any(|(_, s)| s == "SUSPENDED"));
    assert!(
        derived.iter().any(|m| m["type"] == "GROUP"),
        "the nested groups themselves too"
    );

    let (partners, _) = all_pages(
        &sb,
        &format!("{DIRECTORY}/groups/support-partners@contoso.com/members?maxResults=200"),
        "members",
        &token,
    )
    .await;
    assert!(partners.iter().any(|m| {
        m["type"] == "EXTERNAL"
            && m["email"]
                .as_str()
                .is_some_and(|e| !e.ends_with("@contoso.com"))
    }));
    let (status, _) = get(
        &sb,
        &format!("{path}&includeDerivedMembership=maybe"),
        &token,
    )
    .await;
    assert_eq!(status, 400);
}

// R-G2: a group is found by its id or its e-mail; an unknown key is Google's 404.
#[tokio::test]
async fn groups_are_found_by_id_or_email() {
    let sb = sandbox(40, 0.0).await;
    let token = admin_token(&sb).await;
    let (status, by_email) = get(
        &sb,
        &format!("{DIRECTORY}/groups/SUPPORT@contoso.com"),
        &token,
    )
    .await;
    assert_eq!(status, 200);
    let id = by_email["id"].as_str().unwrap();
    let (_, by_id) = get(&sb, &format!("{DIRECTORY}/groups/{id}"), &token).await;
    assert_eq!(by_email, by_id);
    assert_eq!(by_id["name"], "Support");
    assert!(by_id["directMembersCount"].is_string());
    let (status, body) = get(&sb, &format!("{DIRECTORY}/groups/nope@contoso.com"), &token).await;
    assert_eq!((status, reason(&body)), (404, "notFound"));
    assert_eq!(body["error"]["message"], "Resource Not Found: groupKey");
}

// R-C6: the Reports API answers newest first, within startTime..endTime,
// page by page, each record once, in Google's record shape.
#[tokio::test]
async fn reports_are_newest_first_within_the_window() {
    let sb = sandbox(40, 2.0).await;
    let token = admin_token(&sb).await;
    let now = chrono::Utc::now();
    let start =
        (now - chrono::TimeDelta::days(3)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let end =
        (now - chrono::TimeDelta::days(1)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let path = format!(
        "/admin/reports/v1/activity/users/all/applications/login?maxResults=20&startTime={start}&endTime={end}"
    );
    let (records, pages) = all_pages(&sb, &path, "items", &token).await;
    assert!(pages >= 3, "{pages}");
    let mut last = String::from("9999");
    let mut seen = HashSet::new();
    for r in &records {
        let time = r["id"]["time"].as_str().unwrap().to_owned();
        assert!(time <= last, "newest first");
        assert!(time >= start && time <= end, "{time} outside the window");
        assert!(seen.insert((
            time.clone(),
            r["id"]["uniqueQualifier"].as_str().unwrap().to_owned()
        )));
        last = time;
        assert_eq!(r["id"]["applicationName"], "login");
        assert_eq!(r["id"]["customerId"], sb.google_customer_id());
        assert!(
            r["actor"]["email"]
                .as_str()
                .unwrap()
                .ends_with("@contoso.com")
        );
        assert!(r["events"].as_array().is_some_and(|e| !e.is_empty()));
    }
    let reports = "/admin/reports/v1/activity/users/all/applications";
    let future = (now + chrono::TimeDelta::hours(1)).to_rfc3339();
    let (status, _) = get(
        &sb,
        &format!("{reports}/login?startTime={}", future.replace('+', "%2B")),
        &token,
    )
    .await;
    assert_eq!(status, 400, "a start in the future");
    assert_eq!(
        get(&sb, &format!("{reports}/nonsense"), &token).await.0,
        400
    );
    let (status, body) = get(&sb, &format!("{reports}/calendar"), &token).await;
    assert_eq!(status, 200);
    assert!(body.get("items").is_none(), "{body}");
}

// Throttling in Google's words: 403 userRateLimitExceeded and 429
// rateLimitExceeded with no wait named, 503 backendError, and Google's HTML
// 404 for a path nothing serves.
#[tokio::test]
async fn faults_answer_in_googles_words() {
    let sb = sandbox(20, 0.0).await;
    let token = admin_token(&sb).await;
    let users = format!("{DIRECTORY}/users?customer=my_customer");
    let reply = |fault: Fault| {
        sb.fail_next(DIRECTORY, fault, 1);
        let url = format!("{}{users}", sb.base_url());
        let token = token.clone();
        async move {
            reqwest::Client::new()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    };
    let r = reply(Fault::Throttle {
        retry_after: Some(0.0),
    })
    .await;
    assert_eq!(r.status(), 403);
    assert!(
        r.headers().get("retry-after").is_none(),
        "Google names no wait"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(reason(&body), "userRateLimitExceeded");
    assert_eq!(body["error"]["errors"][0]["domain"], "usageLimits");
    let r = reply(Fault::Exhausted { reset_after: 0.0 }).await;
    assert_eq!(r.status(), 429);
    assert_eq!(reason(&r.json().await.unwrap()), "rateLimitExceeded");
    let r = reply(Fault::ServerError).await;
    assert_eq!(r.status(), 503);
    assert_eq!(reason(&r.json().await.unwrap()), "backendError");
    let (status, body) = get(&sb, &format!("{DIRECTORY}/nothing/here"), &token).await;
    assert_eq!(status, 404);
    assert!(
        body.as_str()
            .is_some_and(|page| page.contains("Error 404 (Not Found)")),
        "{body}"
    );
}
