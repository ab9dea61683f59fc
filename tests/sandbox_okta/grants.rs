//! Issue 11: the consents users gave OAuth clients, served as Okta's User Grants
//! API reference says.

use std::collections::BTreeSet;

use casbah::sandbox::Sandbox;

use super::{all, bearer, get, ids, okta_error, page, sandbox, ssws};

async fn delete(sb: &Sandbox, auth: &str, path: &str) -> reqwest::Response {
    reqwest::Client::new()
        .delete(format!("{}{path}", sb.base_url()))
        .header("Authorization", auth)
        .send()
        .await
        .expect("request")
}

/// A user of org 0 with at least `n` grants, and their ids.
fn holder(sb: &Sandbox, n: usize) -> (String, Vec<String>) {
    sb.okta_users(0)
        .into_iter()
        .map(|u| {
            let grants = sb.okta_grants(0, &u.id);
            (u.id, grants.into_iter().map(|g| g.id).collect::<Vec<_>>())
        })
        .find(|(_, g)| g.len() >= n)
        .expect("a user with grants")
}

// Issue 11: a user's grants come 20 a page by default (at most 200), by `Link`,
// each ACTIVE with the client's title; `expand=scope` embeds the scope and
// `scopeId` filters. An unknown user is 404 E0000007.
#[tokio::test]
async fn grants_page_by_link_and_expand_their_scope() {
    let sb = sandbox(80).await;
    let token = ssws(&sb, 0);
    let (user, want) = holder(&sb, 3);
    let list = format!("/api/v1/users/{user}/grants");
    let (records, pages) = all(&sb, &token, &format!("{list}?limit=2")).await;
    assert_eq!(ids(&records), want);
    assert_eq!(pages, want.len().div_ceil(2));
    let (first, _) = page(get(&sb, &token, &format!("{list}?limit=500")).await).await;
    assert_eq!(first.len(), want.len().min(200), "capped, not refused");
    let consents = sb.okta_grants(0, &user);
    for (r, c) in records.iter().zip(&consents) {
        assert_eq!(
            (r["status"].as_str(), r["userId"].as_str()),
            (Some("ACTIVE"), Some(user.as_str()))
        );
        assert_eq!(r["clientId"], c.client_id.as_str());
        assert_eq!(r["_links"]["client"]["title"], c.client_name.as_str());
        assert!(r.get("_embedded").is_none());
    }
    let (expanded, _) = page(get(&sb, &token, &format!("{list}?expand=scope")).await).await;
    let names: Vec<&str> = expanded
        .iter()
        .map(|r| r["_embedded"]["scope"]["name"].as_str().unwrap())
        .collect();
    let scopes: Vec<&str> = consents.iter().map(|c| c.scope.as_str()).collect();
    assert_eq!(names, scopes);
    let scope_id = records[0]["scopeId"].as_str().unwrap();
    let (only, _) = page(get(&sb, &token, &format!("{list}?scopeId={scope_id}")).await).await;
    assert!(!only.is_empty() && only.iter().all(|r| r["scopeId"] == scope_id));
    let (status, body) = okta_error(get(&sb, &token, "/api/v1/users/00unobody/grants").await).await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (404, Some("E0000007"))
    );
}

// Issue 11: one grant, or all a user gave a client, are revoked with
// `okta.users.manage` (403 with the read scope only): 204, and 404 for a grant the
// user does not have or a client the org does not have.
#[tokio::test]
async fn grants_are_revoked_one_or_by_client() {
    let sb = sandbox(80).await;
    let (user, want) = holder(&sb, 3);
    let reader = bearer(&sb, 0, "okta.users.read").await;
    let manager = bearer(&sb, 0, "okta.users.manage").await;
    let one = format!("/api/v1/users/{user}/grants/{}", want[0]);
    assert_eq!(delete(&sb, &reader, &one).await.status(), 403);
    assert_eq!(delete(&sb, &manager, &one).await.status(), 204);
    let left: Vec<String> = sb.okta_grants(0, &user).into_iter().map(|g| g.id).collect();
    assert_eq!(left, want[1..]);
    let (status, _) = okta_error(delete(&sb, &manager, &one).await).await;
    assert_eq!(status, 404);

    let client = sb.okta_grants(0, &user)[0].client_id.clone();
    let by_client = format!("/api/v1/users/{user}/clients/{client}/grants");
    let counted = sb.okta_revoked(0, &user, &client);
    assert_eq!(delete(&sb, &manager, &by_client).await.status(), 204);
    let clients: BTreeSet<String> = sb
        .okta_grants(0, &user)
        .into_iter()
        .map(|g| g.client_id)
        .collect();
    assert!(!clients.contains(&client));
    assert_eq!(
        delete(&sb, &manager, &by_client).await.status(),
        204,
        "none left is no error"
    );
    assert_eq!(sb.okta_revoked(0, &user, &client), counted + 2);
    let nowhere = format!("/api/v1/users/{user}/clients/0oanobody/grants");
    let (status, body) = okta_error(delete(&sb, &manager, &nowhere).await).await;
    assert_eq!(
        (status, body["errorCode"].as_str()),
        (404, Some("E0000007"))
    );
}
