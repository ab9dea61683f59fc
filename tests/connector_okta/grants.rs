//! Issue 11: app grants in Okta, over HTTP against the sandbox's User Grants API.

use std::collections::BTreeMap;

use casbah::connectors::{Connector, ConnectorError};
use casbah::domain::grants::{Grant, GrantKind};
use casbah::domain::{RemoteUser, UserStatus};
use casbah::sandbox::{Fault, Sandbox};

use super::common::{all_grants, grant_beside_another};
use super::{all_users, connector};

/// What a grant shows: app id and name, person, scopes, by grant id.
type Shown = BTreeMap<String, (String, String, String, Vec<String>)>;

fn shown(grants: &[Grant]) -> Shown {
    grants
        .iter()
        .map(|g| {
            let user = g.user.clone().unwrap_or_default();
            let what = (g.app_id.clone(), g.app_name.clone(), user, g.scopes.clone());
            (g.id.clone(), what)
        })
        .collect()
}

/// The sandbox's consents of the active users, one grant per user and client.
fn expected(sb: &Sandbox, users: &[RemoteUser]) -> Shown {
    let mut out = Shown::new();
    for u in users.iter().filter(|u| u.status == UserStatus::Active) {
        for c in sb.okta_grants(0, &u.id) {
            let user = u.email.to_lowercase();
            let at = format!("{}/{}", u.id, c.client_id);
            let entry = out
                .entry(at)
                .or_insert((c.client_id, c.client_name, user, Vec::new()));
            entry.3.push(c.scope);
        }
    }
    out
}

// Issue 11: Okta's grants, one per scope and paged by `Link`, are one grant per
// active user and client with all its scopes, named by the client's title, since
// the first consent; the same through the service app and the API token.
#[tokio::test]
async fn grants_are_each_users_consents_by_client() {
    let sb = super::sandbox(60).await;
    let o = connector(&sb, 0, true).with_page_size(2);
    let (users, _) = all_users(&o).await;
    let listed = all_grants(&o, &users).await;
    assert!(
        listed
            .iter()
            .all(|g| g.kind == GrantKind::User && g.granted_at.is_some())
    );
    let want = expected(&sb, &users);
    assert!(
        want.values().any(|w| w.3.len() > 2),
        "paged: more than a page"
    );
    assert_eq!(shown(&listed), want);
    assert!(listed.iter().any(|g| !g.risky_scopes().is_empty()));
    let by_token = all_grants(&connector(&sb, 0, false), &users).await;
    assert_eq!(shown(&by_token), want);
    for u in users.iter().filter(|u| u.status != UserStatus::Active) {
        assert_eq!(sb.served(&format!("/api/v1/users/{}/grants", u.id)), 0);
    }
}

// Issue 11: revoking is one DELETE of the user's grants to the client, answered 204
// with Okta's request id; the client is gone from the next read, the user's other
// clients stay. After a 5xx it is sent again. An unknown user or client is NotFound.
#[tokio::test]
async fn revoking_deletes_the_users_grants_to_the_client_once() {
    let sb = super::sandbox(60).await;
    let o = connector(&sb, 0, true);
    let (users, _) = all_users(&o).await;
    let before = all_grants(&o, &users).await;
    let target = grant_beside_another(&before, |t| t.scopes.len() > 1);
    let (user, client) = (target.account_id.clone().unwrap(), target.app_id.clone());
    let path = format!("/api/v1/users/{user}/clients/{client}/grants");

    let done = o.revoke_grant(&target).await.expect("revoked");
    assert_eq!(done.status, 204);
    assert!(done.request_id.is_some_and(|r| !r.is_empty()));
    assert_eq!(sb.served(&path), 1);
    assert_eq!(sb.okta_revoked(0, &user, &client), 1);
    assert!(
        sb.okta_grants(0, &user)
            .iter()
            .all(|c| c.client_id != client)
    );
    let after = all_grants(&o, &users).await;
    assert!(!after.iter().any(|g| g.id == target.id));
    assert_eq!(after.len(), before.len() - 1);
    assert!(after.iter().any(|g| g.account_id == target.account_id));

    // Unlike a suspension, the DELETE is sent again after a 5xx: twice is as once.
    let other = after
        .iter()
        .find(|g| g.account_id == target.account_id)
        .unwrap();
    let path = format!("/api/v1/users/{user}/clients/{}/grants", other.app_id);
    sb.fail_next(&path, Fault::ServerError, 1);
    assert_eq!(o.revoke_grant(other).await.expect("revoked").status, 204);
    assert_eq!(sb.served(&path), 2);
    assert_eq!(sb.okta_revoked(0, &user, &other.app_id), 1);

    for (account, app) in [("00unobody", client.as_str()), (user.as_str(), "0oanobody")] {
        let unknown = Grant {
            account_id: Some(account.into()),
            app_id: app.into(),
            ..target.clone()
        };
        let err = o.revoke_grant(&unknown).await.expect_err("unknown");
        assert!(matches!(&err, ConnectorError::NotFound { .. }), "{err}");
    }
}

// Issue 11: a service app without `okta.users.manage` reads the grants (with
// `okta.users.read`), and a revocation is one error naming the scope; nothing is
// revoked.
#[tokio::test]
async fn without_the_manage_scope_grants_read_and_revoking_names_it() {
    let sb = super::sandbox(40).await;
    sb.set_okta_scopes(
        0,
        &["okta.users.read", "okta.groups.read", "okta.logs.read"],
    )
    .unwrap();
    let o = connector(&sb, 0, true);
    let (users, _) = all_users(&o).await;
    let listed = all_grants(&o, &users).await;
    let target = listed.first().expect("a grant");
    let err = o.revoke_grant(target).await.expect_err("no manage scope");
    let text = err.to_string();
    assert!(
        text.contains("okta.users.manage") && !text.contains('\n'),
        "{text}"
    );
    let user = target.account_id.clone().unwrap();
    assert_eq!(sb.okta_revoked(0, &user, &target.app_id), 0);
    assert_eq!(all_grants(&o, &users).await.len(), listed.len());
}
