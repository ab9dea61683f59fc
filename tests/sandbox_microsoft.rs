//! The sandbox's Microsoft dialect, over real HTTP: it must behave as
//! docs/reference/vendor-apis.md says Graph and the Management API behave.

use std::collections::HashSet;

use casbah::sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;

async fn sandbox(users: usize) -> Sandbox {
    Sandbox::start(SandboxConfig {
        users,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts")
}

async fn token_for(sb: &Sandbox, scope: &str, secret: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!(
            "{}/{}/oauth2/v2.0/token",
            sb.base_url(),
            sb.tenant_id
        ))
        .form(&[
            ("client_id", sb.client_id.as_str()),
            ("client_secret", secret),
            ("scope", scope),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await
        .expect("token request")
}

async fn graph_token(sb: &Sandbox) -> String {
    let body: Value = token_for(
        sb,
        "https://graph.microsoft.com/.default",
        sb.client_secret.expose(),
    )
    .await
    .json()
    .await
    .expect("token json");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

async fn get(url: &str, token: &str, eventual: bool) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(url).bearer_auth(token);
    if eventual {
        req = req.header("ConsistencyLevel", "eventual");
    }
    req.send().await.expect("request")
}

// R-C3: the right secret gets a bearer token; a wrong one gets Entra's error.
#[tokio::test]
async fn token_with_right_and_wrong_secret() {
    let sb = sandbox(50).await;
    let ok = token_for(
        &sb,
        "https://graph.microsoft.com/.default",
        sb.client_secret.expose(),
    )
    .await;
    assert_eq!(ok.status(), 200);
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);

    let bad = token_for(&sb, "https://graph.microsoft.com/.default", "wrong").await;
    assert_eq!(bad.status(), 401);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(body["error_codes"][0], 7000215);
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS7000215")
    );

    let anonymous = reqwest::Client::new()
        .get(format!("{}/v1.0/groups", sb.base_url()))
        .header("client-request-id", "c0ffee")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(anonymous.headers()["client-request-id"], "c0ffee");
    assert!(anonymous.headers().contains_key("request-id"));
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");
}

// R-G2: paging follows nextLink exactly as given, never repeating a group.
#[tokio::test]
async fn groups_page_by_next_link_without_duplicates() {
    let sb = sandbox(200).await;
    let token = graph_token(&sb).await;
    let mut url = format!(
        "{}/v1.0/groups?$top=50&$select=id,displayName",
        sb.base_url()
    );
    let mut seen = HashSet::new();
    let mut pages = 0;
    loop {
        let body: Value = get(&url, &token, false).await.json().await.unwrap();
        pages += 1;
        for g in body["value"].as_array().unwrap() {
            assert!(
                seen.insert(g["id"].as_str().unwrap().to_string()),
                "duplicate {g}"
            );
            assert!(g.get("description").is_none(), "only selected properties");
        }
        match body["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    assert!(pages >= 3);
    assert_eq!(seen.len(), sb.org().groups.len());
}

// R-G2: Graph's page-size cap and the $search header rule.
#[tokio::test]
async fn top_1000_refused_and_search_needs_the_header() {
    let sb = sandbox(100).await;
    let token = graph_token(&sb).await;
    let r = get(
        &format!("{}/v1.0/groups?$top=1000", sb.base_url()),
        &token,
        false,
    )
    .await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "Request_UnsupportedQuery");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Invalid page size specified: '1000'")
    );

    let url = format!(
        "{}/v1.0/groups?$search=\"displayName:fin\"&$count=true",
        sb.base_url()
    );
    let r = get(&url, &token, false).await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "Request_UnsupportedQuery");

    let r = get(&url, &token, true).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let names: Vec<&str> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["displayName"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Finance EMEA"));
    assert!(names.contains(&"FIN-EMEA-Ops"));
    assert!(names.iter().all(|n| n.to_lowercase().contains("fin")));
    assert_eq!(body["@odata.count"].as_u64().unwrap() as usize, names.len());

    // A prefix filter needs no header; $skip is not supported at all.
    let url = format!(
        "{}/v1.0/groups?$filter=startswith(displayName,'sales')&$top=999",
        sb.base_url()
    );
    let body: Value = get(&url, &token, false).await.json().await.unwrap();
    let names: Vec<&str> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["displayName"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Sales NA"));
    assert!(names.iter().all(|n| n.starts_with("Sales")));
    let url = format!("{}/v1.0/groups?$skip=10", sb.base_url());
    assert_eq!(get(&url, &token, false).await.status(), 400);
}

// R-G4: accountEnabled is only there when selected; non-users are members.
#[tokio::test]
async fn members_carry_types_and_account_enabled_only_when_selected() {
    let sb = sandbox(300).await;
    let token = graph_token(&sb).await;
    let ops = sb.org().group_by_name("ENG-NA-Ops").unwrap().id;
    let url = format!("{}/v1.0/groups/{ops}/members", sb.base_url());
    let body: Value = get(&url, &token, false).await.json().await.unwrap();
    let members = body["value"].as_array().unwrap();
    let types: HashSet<&str> = members
        .iter()
        .map(|m| m["@odata.type"].as_str().unwrap())
        .collect();
    assert!(types.contains("#microsoft.graph.user"));
    assert!(types.contains("#microsoft.graph.device"));
    assert!(
        members
            .iter()
            .all(|m| m.get("accountEnabled").is_none()
                || m["@odata.type"] != "#microsoft.graph.user")
    );

    let url = format!(
        "{}/v1.0/groups/{ops}/members/microsoft.graph.user?$select=id,accountEnabled&$count=true",
        sb.base_url()
    );
    assert_eq!(
        get(&url, &token, false).await.status(),
        400,
        "the cast needs the header"
    );
    let body: Value = get(&url, &token, true).await.json().await.unwrap();
    let users = body["value"].as_array().unwrap();
    assert!(!users.is_empty());
    assert!(
        users.iter().all(
            |u| u["accountEnabled"].is_boolean() && u["@odata.type"] == "#microsoft.graph.user"
        )
    );
}

// R-G4: transitiveMembers flattens nesting.
#[tokio::test]
async fn transitive_members_flatten_nesting() {
    let sb = sandbox(300).await;
    let token = graph_token(&sb).await;
    let all = sb.org().group_by_name("Engineering - All").unwrap().id;
    let direct: Value = get(
        &format!("{}/v1.0/groups/{all}/members", sb.base_url()),
        &token,
        false,
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(
        direct["value"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["@odata.type"] == "#microsoft.graph.group")
    );
    let url = format!(
        "{}/v1.0/groups/{all}/transitiveMembers/microsoft.graph.user?$count=true&$top=999",
        sb.base_url()
    );
    let body: Value = get(&url, &token, true).await.json().await.unwrap();
    let expected = sb.org().transitive_users(&all).unwrap().len();
    assert!(expected > 0);
    assert_eq!(body["value"].as_array().unwrap().len(), expected);
    assert_eq!(body["@odata.count"].as_u64().unwrap() as usize, expected);
}

// Determinism: the same seed gives the same organisation, another seed another.
#[tokio::test]
async fn same_seed_same_org() {
    let a = sandbox(100).await;
    let b = sandbox(100).await;
    let c = Sandbox::start(SandboxConfig {
        users: 100,
        seed: 7,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let ids = |s: &Sandbox| {
        s.org()
            .users
            .iter()
            .map(|u| (u.id, u.user_principal_name.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&a), ids(&b));
    assert_ne!(ids(&a), ids(&c));
    assert_eq!(a.tenant_id, b.tenant_id);
}

async fn manage_token(sb: &Sandbox) -> String {
    let body: Value = token_for(
        sb,
        "https://manage.office.com/.default",
        sb.client_secret.expose(),
    )
    .await
    .json()
    .await
    .expect("token json");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

fn graph_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

// R-C6, R-C8: sign-ins come newest first inside the asked window, page by
// nextLink without repeats, and include non-interactive and failed ones.
#[tokio::test]
async fn sign_ins_window_filter_and_paging() {
    // Busy enough that a day holds failures and non-interactive sign-ins.
    let sb = Sandbox::start(SandboxConfig {
        users: 200,
        history_per_user_per_day: 2.0,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let token = graph_token(&sb).await;
    // Whole seconds, as the filter below writes them.
    let now = chrono::DateTime::from_timestamp(chrono::Utc::now().timestamp(), 0).unwrap();
    let (from, to) = (
        now - chrono::Duration::hours(30),
        now - chrono::Duration::hours(6),
    );
    let filter = format!(
        "createdDateTime ge {} and createdDateTime le {}",
        graph_time(from),
        graph_time(to)
    );
    let mut url =
        reqwest::Url::parse(&format!("{}/v1.0/auditLogs/signIns", sb.base_url())).unwrap();
    url.query_pairs_mut()
        .append_pair("$filter", &filter)
        .append_pair("$top", "40");
    let mut url = url.to_string();
    let (mut seen, mut pages, mut last) = (HashSet::new(), 0, String::from("9999"));
    let (mut interactive, mut background, mut failed) = (0, 0, 0);
    loop {
        let r = get(&url, &token, false).await;
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        pages += 1;
        for s in body["value"].as_array().unwrap() {
            let at = s["createdDateTime"].as_str().unwrap().to_string();
            let parsed = chrono::DateTime::parse_from_rfc3339(&at).unwrap();
            assert!(
                parsed >= from && parsed <= to,
                "{at} outside the window {from} {to} page {pages} {url}"
            );
            assert!(at <= last, "newest first");
            last = at;
            assert!(seen.insert(s["id"].as_str().unwrap().to_string()));
            assert!(
                s["userPrincipalName"].is_string() && s["location"]["countryOrRegion"].is_string()
            );
            assert!(s["deviceDetail"]["operatingSystem"].is_string());
            match s["isInteractive"].as_bool().unwrap() {
                true => interactive += 1,
                false => background += 1,
            }
            if s["status"]["errorCode"] != 0 {
                failed += 1;
                assert!(s["status"]["failureReason"].is_string());
            }
        }
        match body["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    assert!(pages >= 3, "{pages} pages");
    assert!(
        interactive > 0 && background > 0 && failed > 0,
        "{interactive} {background} {failed}"
    );

    let r = get(
        &format!("{}/v1.0/auditLogs/signIns?$top=1001", sb.base_url()),
        &token,
        false,
    )
    .await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("The limit of '1000' for Top query has been exceeded")
    );
}

// R-A1, R-G1: a pushed activity is served on top; directory audits carry
// actor and targets.
#[tokio::test]
async fn pushed_sign_in_and_directory_audits() {
    use casbah::sandbox::{PushedActivity, Stream};
    let sb = sandbox(100).await;
    let token = graph_token(&sb).await;
    sb.push_activity(PushedActivity {
        interactive: false,
        ..PushedActivity::new(Stream::SignIns, "mallory@evil.example", "Azure Portal")
    });
    let body: Value = get(
        &format!("{}/v1.0/auditLogs/signIns?$top=5", sb.base_url()),
        &token,
        false,
    )
    .await
    .json()
    .await
    .unwrap();
    let top = &body["value"][0];
    assert_eq!(top["userPrincipalName"], "mallory@evil.example");
    assert_eq!(top["appDisplayName"], "Azure Portal");
    assert_eq!(top["isInteractive"], false);

    let body: Value = get(
        &format!("{}/v1.0/auditLogs/directoryAudits?$top=200", sb.base_url()),
        &token,
        false,
    )
    .await
    .json()
    .await
    .unwrap();
    let audits = body["value"].as_array().unwrap();
    assert!(!audits.is_empty());
    assert!(
        audits
            .iter()
            .any(|a| a["activityDisplayName"] == "Add member to group")
    );
    assert!(
        audits
            .iter()
            .all(|a| a["targetResources"].is_array() && a["category"].is_string())
    );
    let r = get(
        &format!("{}/v1.0/auditLogs/directoryAudits?$top=5000", sb.base_url()),
        &token,
        false,
    )
    .await;
    assert_eq!(r.status(), 400);
}

// R-C5: Office 365 activities need a started subscription; content is listed
// per window of at most 24 hours, paged by NextPageUri, and each blob holds
// SharePoint records.
#[tokio::test]
async fn management_subscription_listing_and_blobs() {
    let sb = sandbox(200).await;
    let token = manage_token(&sb).await;
    let client = reqwest::Client::new();
    let feed = format!("{}/api/v1.0/{}/activity/feed", sb.base_url(), sb.tenant_id);
    let now = chrono::Utc::now();
    let window = |from: chrono::DateTime<chrono::Utc>, hours: i64| {
        format!(
            "{feed}/subscriptions/content?contentType=Audit.SharePoint&startTime={}&endTime={}",
            from.format("%Y-%m-%dT%H:%M:%S"),
            (from + chrono::Duration::hours(hours)).format("%Y-%m-%dT%H:%M:%S")
        )
    };
    let day_ago = now - chrono::Duration::hours(24);
    let r = client
        .get(window(day_ago, 24))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "AF20022");

    let r = client
        .post(format!(
            "{feed}/subscriptions/start?contentType=Audit.SharePoint"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let list: Value = client
        .get(format!("{feed}/subscriptions/list"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["contentType"], "Audit.SharePoint");
    assert_eq!(list[0]["status"], "enabled");

    let r = client
        .get(window(now - chrono::Duration::hours(30), 25))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "windows over 24 hours are refused");
    let r = client
        .get(window(now - chrono::Duration::days(8), 2))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "content older than 7 days is gone");

    let mut url = window(day_ago - chrono::Duration::hours(1), 24);
    let mut blobs = Vec::new();
    let mut pages = 0;
    loop {
        let r = client.get(&url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let next = r
            .headers()
            .get("NextPageUri")
            .map(|v| v.to_str().unwrap().to_string());
        let page: Vec<Value> = r.json().await.unwrap();
        pages += 1;
        blobs.extend(page);
        match next {
            Some(n) => url = n,
            None => break,
        }
    }
    assert!(pages >= 2, "NextPageUri pages the listing");
    assert!(blobs.len() >= 20, "{} blobs", blobs.len());
    let uris: HashSet<&str> = blobs
        .iter()
        .map(|b| b["contentUri"].as_str().unwrap())
        .collect();
    assert_eq!(uris.len(), blobs.len());

    let records: Vec<Value> = client
        .get(blobs[0]["contentUri"].as_str().unwrap())
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!records.is_empty());
    for r in &records {
        assert_eq!(r["RecordType"], 6);
        for field in [
            "Id",
            "CreationTime",
            "Operation",
            "UserId",
            "ClientIP",
            "Workload",
            "ObjectId",
            "SiteUrl",
            "SourceFileName",
            "UserAgent",
            "ClientRegion",
        ] {
            assert!(r[field].is_string(), "{field} in {r}");
        }
        // issue 10: as the schema says, file records may carry no ResultStatus.
        assert!(
            r.get("ResultStatus").is_none()
                || ["Succeeded", "Failed", "PartiallySucceeded"]
                    .contains(&r["ResultStatus"].as_str().unwrap_or_default()),
            "{r}"
        );
    }
}

// Throttling like Graph: a 429 carries a fractional Retry-After and the
// TooManyRequests body, is counted, a retry before the wait is over is refused
// and counted as early, and the retry after it succeeds.
#[tokio::test]
async fn throttled_request_carries_retry_after() {
    use casbah::sandbox::Fault;
    let sb = sandbox(50).await;
    let token = graph_token(&sb).await;
    sb.fail_next(
        "/v1.0/users",
        Fault::Throttle {
            retry_after: Some(0.05),
        },
        1,
    );
    let url = format!("{}/v1.0/users", sb.base_url());
    let r = get(&url, &token, false).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "0.05");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "TooManyRequests");
    // Coming back before the wait is over is refused again, and counted.
    let early = get(&url, &token, false).await;
    assert_eq!(early.status(), 429);
    let left: f64 = early.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(left <= 0.05, "{left}");
    assert_eq!(sb.early_retries("Microsoft"), 1);
    // Waiting out what the server asked for, not async work.
    tokio::time::sleep(std::time::Duration::from_millis(60)).await;
    assert_eq!(get(&url, &token, false).await.status(), 200);
    assert_eq!(sb.served_with("/v1.0/users", 429), 2);
    assert_eq!(sb.served_with("/v1.0/users", 200), 1);
    assert_eq!(sb.early_retries("Microsoft"), 1);
}

// Faults: dropped connections, truncated bodies and 503s; the token
// endpoint stays clean unless asked.
#[tokio::test]
async fn random_faults_spare_the_token_endpoint() {
    use casbah::sandbox::{DROPPED, Fault, FaultSpec};
    let sb = sandbox(50).await;
    sb.set_faults(FaultSpec::parse("5xx=1").unwrap());
    let token = graph_token(&sb).await;
    let url = format!("{}/v1.0/organization", sb.base_url());
    let r = get(&url, &token, false).await;
    assert_eq!(r.status(), 503);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"]["innerError"]["request-id"].is_string());
    sb.set_faults(FaultSpec::default());

    sb.fail_next("/v1.0/organization", Fault::Drop, 1);
    assert!(
        reqwest::Client::new()
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .is_err()
    );
    assert_eq!(sb.served_with("/v1.0/organization", DROPPED), 1);

    sb.fail_next("/v1.0/organization", Fault::Truncate, 2);
    for _ in 0..2 {
        let outcome = match reqwest::Client::new()
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
        {
            Ok(r) => r.json::<Value>().await.is_ok(),
            Err(_) => false,
        };
        assert!(!outcome, "a truncated body never parses");
    }
    let body: Value = get(&url, &token, false).await.json().await.unwrap();
    let domains: Vec<&str> = body["value"][0]["verifiedDomains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(domains, ["contoso.com", "contoso.onmicrosoft.com"]);
}

// R-C3: expired tokens and tokens for another resource are refused.
#[tokio::test]
async fn expired_and_foreign_tokens_are_refused() {
    let sb = Sandbox::start(SandboxConfig {
        users: 20,
        token_lifetime: std::time::Duration::ZERO,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let token = graph_token(&sb).await;
    let r = get(&format!("{}/v1.0/users", sb.base_url()), &token, false).await;
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );

    let sb = sandbox(20).await;
    let token = graph_token(&sb).await;
    let url = format!("{}/v1.0/organization", sb.base_url());
    assert_eq!(get(&url, &token, false).await.status(), 200);
    sb.expire_tokens();
    assert_eq!(
        get(&url, &token, false).await.status(),
        401,
        "expired on demand"
    );
    let fresh = graph_token(&sb).await;
    assert_eq!(
        get(&url, &fresh, false).await.status(),
        200,
        "a new token works"
    );

    let manage = manage_token(&sb).await;
    let r = get(&format!("{}/v1.0/users", sb.base_url()), &manage, false).await;
    assert_eq!(
        r.status(),
        401,
        "a manage.office.com token is not a Graph token"
    );
}

// R-G4: disabled users filter, soft-deleted members absent from /users,
// guests with #EXT# UPNs.
#[tokio::test]
async fn user_statuses_as_graph_reports_them() {
    let sb = sandbox(400).await;
    let token = graph_token(&sb).await;
    let url = format!(
        "{}/v1.0/users?$filter=accountEnabled eq false&$select=id,accountEnabled,userType&$top=999",
        sb.base_url()
    );
    let body: Value = get(&url, &token, false).await.json().await.unwrap();
    let disabled = body["value"].as_array().unwrap();
    let expected = sb
        .org()
        .users
        .iter()
        .filter(|u| !u.account_enabled && u.deleted.is_none())
        .count();
    assert!(expected > 0);
    assert_eq!(disabled.len(), expected);
    assert!(disabled.iter().all(|u| u["accountEnabled"] == false));

    let mut listed = HashSet::new();
    let mut url = format!(
        "{}/v1.0/users?$select=id,userPrincipalName,userType,mail&$top=999",
        sb.base_url()
    );
    loop {
        let body: Value = get(&url, &token, false).await.json().await.unwrap();
        for u in body["value"].as_array().unwrap() {
            listed.insert(u["id"].as_str().unwrap().to_string());
            if u["userType"] == "Guest" {
                assert!(
                    u["userPrincipalName"]
                        .as_str()
                        .unwrap()
                        .contains("#EXT#@contoso.onmicrosoft.com")
                );
                assert!(!u["mail"].as_str().unwrap().ends_with("contoso.com"));
            }
        }
        match body["@odata.nextLink"].as_str() {
            Some(n) => url = n.to_string(),
            None => break,
        }
    }
    let org = sb.org();
    let deleted: Vec<_> = org.users.iter().filter(|u| u.deleted.is_some()).collect();
    assert!(!deleted.is_empty());
    assert!(deleted.iter().all(|u| !listed.contains(&u.id.to_string())));
    assert_eq!(listed.len(), org.users.len() - deleted.len());
}

// R-G7: membership changes made through the handle show up at once.
#[tokio::test]
async fn org_changes_are_served() {
    let sb = sandbox(100).await;
    let token = graph_token(&sb).await;
    let (group, user) = {
        let org = sb.org();
        let g = org.group_by_name("Project Atlas").unwrap().id;
        let u = org
            .users
            .iter()
            .find(|u| {
                !org.group(&g)
                    .unwrap()
                    .members
                    .iter()
                    .any(|m| org.object_id(*m) == u.id)
            })
            .unwrap()
            .id;
        (g, u)
    };
    sb.add_member(group, user).unwrap();
    sb.set_account_enabled(user, false).unwrap();
    let url = format!(
        "{}/v1.0/groups/{group}/members?$select=id,accountEnabled",
        sb.base_url()
    );
    let body: Value = get(&url, &token, false).await.json().await.unwrap();
    let member = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == user.to_string())
        .cloned()
        .unwrap();
    assert_eq!(member["accountEnabled"], false);
    sb.remove_member(group, user).unwrap();
    let body: Value = get(&url, &token, false).await.json().await.unwrap();
    assert!(
        body["value"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["id"] != user.to_string())
    );
}

// Admin roles for the automatic Microsoft 365 administrator group (R-G1).
#[tokio::test]
async fn directory_roles_have_members() {
    let sb = sandbox(100).await;
    let token = graph_token(&sb).await;
    let url = format!(
        "{}/v1.0/directoryRoles?$select=id,displayName,roleTemplateId",
        sb.base_url()
    );
    let body: Value = get(&url, &token, false).await.json().await.unwrap();
    let roles = body["value"].as_array().unwrap();
    let global = roles
        .iter()
        .find(|r| r["displayName"] == "Global Administrator")
        .unwrap();
    assert!(
        global.get("description").is_none(),
        "only what was selected"
    );
    assert_eq!(
        global["roleTemplateId"],
        "62e90394-69f5-4237-9190-012177145e10"
    );
    let url = format!(
        "{}/v1.0/directoryRoles/{}/members",
        sb.base_url(),
        global["id"].as_str().unwrap()
    );
    let body: Value = get(&url, &token, false).await.json().await.unwrap();
    let members = body["value"].as_array().unwrap();
    assert!(!members.is_empty());
    assert!(
        members
            .iter()
            .all(|m| m["@odata.type"] == "#microsoft.graph.user")
    );
}

// The sandbox never listens beyond loopback.
#[tokio::test]
async fn refuses_non_loopback_addresses() {
    let config = SandboxConfig {
        listen: "0.0.0.0:0".parse().unwrap(),
        ..SandboxConfig::default()
    };
    let err = Sandbox::start(config).await.err().expect("refused");
    assert!(err.to_string().contains("loopback"));
}

// R-C6: the live stream keeps adding sign-ins after the sandbox started.
#[tokio::test]
async fn live_stream_adds_sign_ins() {
    let sb = Sandbox::start(SandboxConfig {
        users: 50,
        live_rate: 50.0,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let token = graph_token(&sb).await;
    let started = sb.started();
    let mut url =
        reqwest::Url::parse(&format!("{}/v1.0/auditLogs/signIns", sb.base_url())).unwrap();
    url.query_pairs_mut().append_pair(
        "$filter",
        &format!(
            "createdDateTime ge {}",
            started.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        ),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let body: Value = get(url.as_str(), &token, false).await.json().await.unwrap();
        let live = body["value"].as_array().unwrap();
        if !live.is_empty() {
            assert!(live.iter().all(|s| {
                chrono::DateTime::parse_from_rfc3339(s["createdDateTime"].as_str().unwrap())
                    .unwrap()
                    >= started
            }));
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no live sign-in within 10 s"
        );
        tokio::task::yield_now().await;
    }
}

// Graph's `$count` segment needs the advanced query mode.
#[tokio::test]
async fn count_segment_needs_the_header() {
    let sb = sandbox(100).await;
    let token = graph_token(&sb).await;
    let url = format!("{}/v1.0/groups/$count", sb.base_url());
    assert_eq!(get(&url, &token, false).await.status(), 400);
    let text = get(&url, &token, true).await.text().await.unwrap();
    assert_eq!(text, sb.org().groups.len().to_string());
}

// R-G1 External, R-A1: a file download pushed now by someone outside the
// organisation is in the newest SharePoint blob; an admin change pushed to
// the directory audits is served with its actor and group.
#[tokio::test]
async fn pushed_office_and_audit_records_are_served() {
    use casbah::sandbox::{PushedActivity, Stream};
    let sb = sandbox(50).await;
    sb.push_activity(PushedActivity {
        object: Some("Payroll Export.csv".to_string()),
        country: Some("BR".to_string()),
        ..PushedActivity::new(
            Stream::SharePoint,
            "outsider@litwareinc.com",
            "FileDownloaded",
        )
    });
    let admin = sb.org().users[sb.org().roles[0].members[0] as usize]
        .user_principal_name
        .clone();
    sb.push_activity(PushedActivity {
        object: Some("Finance EMEA".to_string()),
        ..PushedActivity::new(Stream::DirectoryAudits, &admin, "Add member to group")
    });

    let token = graph_token(&sb).await;
    let body: Value = get(
        &format!("{}/v1.0/auditLogs/directoryAudits?$top=1", sb.base_url()),
        &token,
        false,
    )
    .await
    .json()
    .await
    .unwrap();
    let audit = &body["value"][0];
    assert_eq!(audit["activityDisplayName"], "Add member to group");
    assert_eq!(audit["category"], "GroupManagement");
    assert_eq!(
        audit["initiatedBy"]["user"]["userPrincipalName"],
        admin.as_str()
    );
    assert_eq!(audit["targetResources"][1]["displayName"], "Finance EMEA");

    let token = manage_token(&sb).await;
    let client = reqwest::Client::new();
    let feed = format!("{}/api/v1.0/{}/activity/feed", sb.base_url(), sb.tenant_id);
    let r = client
        .post(format!(
            "{feed}/subscriptions/start?contentType=Audit.SharePoint"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let again = client
        .post(format!(
            "{feed}/subscriptions/start?contentType=Audit.SharePoint"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 400, "AF20024: already enabled");
    let now = chrono::Utc::now();
    let url = format!(
        "{feed}/subscriptions/content?contentType=Audit.SharePoint&startTime={}&endTime={}",
        (now - chrono::Duration::hours(2)).format("%Y-%m-%dT%H:%M:%S"),
        (now + chrono::Duration::minutes(1)).format("%Y-%m-%dT%H:%M:%S"),
    );
    let blobs: Vec<Value> = client
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let newest = blobs
        .iter()
        .max_by_key(|b| b["contentCreated"].as_str().unwrap().to_string())
        .unwrap();
    let records: Vec<Value> = client
        .get(newest["contentUri"].as_str().unwrap())
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let pushed = records
        .iter()
        .find(|r| r["UserId"] == "outsider@litwareinc.com")
        .expect("pushed record in the newest blob");
    assert_eq!(pushed["Operation"], "FileDownloaded");
    assert_eq!(pushed["SourceFileName"], "Payroll Export.csv");
}

// Dropping the handle stops the server.
#[tokio::test]
async fn dropping_the_sandbox_stops_it() {
    let sb = sandbox(10).await;
    let url = format!("{}/v1.0/organization", sb.base_url());
    let client = reqwest::Client::new();
    assert_eq!(client.get(&url).send().await.unwrap().status(), 401);
    drop(sb);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        // A fresh client: no pooled connection from before the drop.
        if reqwest::Client::new().get(&url).send().await.is_err() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still serving after drop"
        );
        tokio::task::yield_now().await;
    }
}

// R-G7, R-X6: groups delta: a full pass (large groups split over several
// objects), then only the changes, with removals marked; expired tokens get
// 410 Gone and a Location to start again.
#[tokio::test]
async fn groups_delta_reports_membership_changes() {
    use std::collections::HashMap;
    // Enough people that some regional groups pass a hundred members.
    let sb = sandbox(2000).await;
    let token = graph_token(&sb).await;
    let mut url = format!(
        "{}/v1.0/groups/delta?$select=displayName,members",
        sb.base_url()
    );
    let mut members: HashMap<String, HashSet<String>> = HashMap::new();
    let mut objects = 0;
    let delta_link = loop {
        let body: Value = get(&url, &token, false).await.json().await.unwrap();
        for g in body["value"].as_array().unwrap() {
            objects += 1;
            let entry = members
                .entry(g["id"].as_str().unwrap().to_string())
                .or_default();
            for m in g["members@delta"].as_array().unwrap() {
                assert!(entry.insert(m["id"].as_str().unwrap().to_string()));
            }
        }
        if let Some(next) = body["@odata.nextLink"].as_str() {
            url = next.to_string();
        } else {
            break body["@odata.deltaLink"]
                .as_str()
                .expect("deltaLink on the last page")
                .to_string();
        }
    };
    let (group, joiner, leaver) = {
        let org = sb.org();
        assert_eq!(members.len(), org.groups.len());
        assert!(
            objects > org.groups.len(),
            "a large group spans several objects"
        );
        for g in &org.groups {
            assert_eq!(
                members[&g.id.to_string()].len(),
                g.members.len(),
                "{}",
                g.display_name
            );
        }
        let g = org.group_by_name("Finance EMEA").unwrap();
        let leaver = org.object_id(g.members[0]);
        let joiner = org
            .users
            .iter()
            .find(|u| !members[&g.id.to_string()].contains(&u.id.to_string()))
            .unwrap()
            .id;
        (g.id, joiner, leaver)
    };
    sb.add_member(group, joiner).unwrap();
    sb.remove_member(group, leaver).unwrap();

    let body: Value = get(&delta_link, &token, false).await.json().await.unwrap();
    let changed = body["value"].as_array().unwrap();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0]["id"], group.to_string());
    assert_eq!(changed[0]["displayName"], "Finance EMEA");
    let entries = changed[0]["members@delta"].as_array().unwrap();
    let joined = entries
        .iter()
        .find(|m| m["id"] == joiner.to_string())
        .unwrap();
    assert!(joined.get("@removed").is_none());
    let left = entries
        .iter()
        .find(|m| m["id"] == leaver.to_string())
        .unwrap();
    assert_eq!(left["@removed"]["reason"], "deleted");
    let next_delta = body["@odata.deltaLink"].as_str().unwrap().to_string();
    let body: Value = get(&next_delta, &token, false).await.json().await.unwrap();
    assert!(
        body["value"].as_array().unwrap().is_empty(),
        "nothing changed since"
    );

    sb.expire_delta_tokens();
    let r = get(&next_delta, &token, false).await;
    assert_eq!(r.status(), 410);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with("/v1.0/groups/delta?$select=displayName,members")
    );
}

async fn token_error(sb: &Sandbox, tenant: &str, client: &str, scope: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/{tenant}/oauth2/v2.0/token", sb.base_url()))
        .form(&[
            ("client_id", client),
            ("client_secret", sb.client_secret.expose()),
            ("scope", scope),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

// R-C3: each way of getting the connection wrong has Entra's or Graph's own
// answer, so the connector can say why in one line.
#[tokio::test]
async fn errors_carry_the_vendors_codes() {
    let sb = sandbox(30).await;
    let graph = "https://graph.microsoft.com/.default";
    let (status, body) = token_error(&sb, "fabrikam.onmicrosoft.com", &sb.client_id, graph).await;
    assert_eq!(
        (status, body["error_codes"][0].as_u64()),
        (400, Some(90002))
    );
    let (status, body) = token_error(
        &sb,
        &sb.tenant_id,
        "11111111-2222-3333-4444-555555555555",
        graph,
    )
    .await;
    assert_eq!(
        (status, body["error_codes"][0].as_u64()),
        (400, Some(700016))
    );
    let (status, body) =
        token_error(&sb, "contoso.onmicrosoft.com", &sb.client_id, "User.Read").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    let (status, _) = token_error(&sb, "contoso.com", &sb.client_id, graph).await;
    assert_eq!(status, 200, "a verified domain names the tenant too");

    let token = graph_token(&sb).await;
    let base = sb.base_url();
    let cases = [
        (
            format!("{base}/v1.0/groups/not-a-guid"),
            400,
            "Request_BadRequest",
        ),
        (
            format!("{base}/v1.0/groups/{}", uuid::Uuid::nil()),
            404,
            "Request_ResourceNotFound",
        ),
        (
            format!("{base}/v1.0/groups?$select=id,colour"),
            400,
            "Request_BadRequest",
        ),
        (
            format!("{base}/v1.0/groups?$skiptoken=forged"),
            400,
            "Request_BadRequest",
        ),
        (
            format!("{base}/v1.0/groups?$count=true"),
            400,
            "Request_BadRequest",
        ),
        (
            format!("{base}/v1.0/users?$filter=accountEnabled ne true"),
            400,
            "Request_UnsupportedQuery",
        ),
        (format!("{base}/v1.0/teams"), 400, "BadRequest"),
    ];
    for (url, status, code) in cases {
        let r = get(&url, &token, false).await;
        assert_eq!(r.status().as_u16(), status, "{url}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], code, "{url}");
        assert!(body["error"]["innerError"]["request-id"].is_string());
    }

    let manage = manage_token(&sb).await;
    let client = reqwest::Client::new();
    let other = uuid::Uuid::nil();
    let r = client
        .get(format!(
            "{base}/api/v1.0/{other}/activity/feed/subscriptions/list"
        ))
        .bearer_auth(&manage)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "AF20010");
    let r = client
        .get(format!(
            "{base}/api/v1.0/{}/activity/feed/audit/garbage",
            sb.tenant_id
        ))
        .bearer_auth(&manage)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = client
        .get(format!(
            "{base}/api/v1.0/{}/activity/feed/subscriptions/list",
            sb.tenant_id
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        401,
        "a Graph token does not open the Management API"
    );
}
