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

    let anonymous = reqwest::get(format!("{}/v1.0/groups", sb.base_url()))
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
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
