//! Issue 11: the tokens accounts issued to apps, served as the Directory API's
//! `tokens.list` and `tokens.delete` reference pages say.

use casbah::connectors::google::GRANT_SCOPES;
use serde_json::Value;

use super::{DIRECTORY, admin_token, claims, get, reason, sandbox, token_for};

async fn delete(sb: &casbah::sandbox::Sandbox, path: &str, token: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .delete(format!("{}{path}", sb.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    (r.status().as_u16(), r.text().await.expect("body"))
}

// Issue 11: `tokens.list` is a tokenList of `admin#directory#token`s (the list left
// out when empty), 404 for an unknown user, 403 insufficientPermissions without
// `admin.directory.user.security`; `tokens.delete` is 204 with no body, then 404.
#[tokio::test]
async fn tokens_are_listed_and_deleted_as_google_documents() {
    let sb = sandbox(60, 0.0).await;
    let admin = admin_token(&sb).await;
    let mut security = claims(&sb, Some(&sb.google_admin_email()));
    security["scope"] = Value::from(GRANT_SCOPES[0]);
    let token = token_for(&sb, &security).await;
    let accounts = sb.google_accounts();
    let holder = accounts
        .iter()
        .find(|a| !sb.google_tokens(&a.email).is_empty())
        .expect("an account with tokens");
    let path = format!("{DIRECTORY}/users/{}/tokens", holder.email);

    let (status, body) = get(&sb, &path, &admin).await;
    assert_eq!((status, reason(&body)), (403, "insufficientPermissions"));
    let (status, body) = get(&sb, &path, &token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["kind"], "admin#directory#tokenList");
    let items = body["items"].as_array().expect("items");
    let held = sb.google_tokens(&holder.email);
    assert_eq!(items.len(), held.len());
    for (item, t) in items.iter().zip(&held) {
        assert_eq!(item["kind"], "admin#directory#token");
        assert_eq!(
            (item["clientId"].as_str(), item["displayText"].as_str()),
            (Some(t.client_id.as_str()), Some(t.name.as_str()))
        );
        assert_eq!(item["userKey"], holder.id.as_str());
        assert!(item["anonymous"].is_boolean() && item["nativeApp"].is_boolean());
    }
    // By id as by e-mail.
    let by_id = format!("{DIRECTORY}/users/{}/tokens", holder.id);
    assert_eq!(get(&sb, &by_id, &token).await.1, body);
    if let Some(none) = accounts
        .iter()
        .find(|a| sb.google_tokens(&a.email).is_empty())
    {
        let (_, body) = get(
            &sb,
            &format!("{DIRECTORY}/users/{}/tokens", none.id),
            &token,
        )
        .await;
        assert!(body.get("items").is_none(), "{body}");
    }
    let (status, body) = get(
        &sb,
        &format!("{DIRECTORY}/users/nobody@x.com/tokens"),
        &token,
    )
    .await;
    assert_eq!((status, reason(&body)), (404, "notFound"));

    let one = format!("{path}/{}", held[0].client_id);
    assert_eq!(delete(&sb, &one, &token).await, (204, String::new()));
    assert_eq!(sb.google_revoked(&holder.email, &held[0].client_id), 1);
    assert_eq!(sb.google_tokens(&holder.email), held[1..]);
    assert_eq!(delete(&sb, &one, &token).await.0, 404);
    assert_eq!(sb.google_revoked(&holder.email, &held[0].client_id), 1);
}
