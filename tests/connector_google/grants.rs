//! Issue 11: app grants in Google Workspace, over HTTP against the sandbox's
//! Directory API tokens.

use std::collections::BTreeSet;

use casbah::connectors::google::{GRANT_SCOPES, MANAGE_SCOPES, SCOPES};
use casbah::connectors::{Connector, ConnectorError};
use casbah::domain::grants::{Grant, GrantKind};
use casbah::domain::{RemoteUser, UserStatus};
use casbah::sandbox::{Fault, Sandbox};

use super::common::{all_grants, grant_beside_another};
use super::{USERS, all_users, connector, sandbox};

/// What a grant shows: id, app, person, scopes.
type Shown = (String, String, String, Vec<String>);

fn shown(g: &Grant) -> Shown {
    let user = g.user.clone().unwrap_or_default();
    (g.id.clone(), g.app_name.clone(), user, g.scopes.clone())
}

/// The grants the sandbox holds for the active accounts, as the connector should
/// show them.
fn expected(sb: &Sandbox, users: &[RemoteUser]) -> BTreeSet<Shown> {
    let active = users.iter().filter(|u| u.status == UserStatus::Active);
    active
        .flat_map(|u| {
            sb.google_tokens(&u.email).into_iter().map(|t| {
                let id = format!("{}/{}", u.id, t.client_id);
                (id, t.name, u.email.to_lowercase(), t.scopes)
            })
        })
        .collect()
}

// Issue 11: the grants are the tokens each active account issued, one per app and
// account, read account by account; suspended and archived accounts are not asked.
#[tokio::test]
async fn grants_are_the_tokens_active_accounts_issued() {
    let sb = sandbox(60).await;
    let g = connector(&sb);
    let (users, _) = all_users(&g).await;
    let listed = all_grants(&g, &users).await;
    assert!(!listed.is_empty());
    assert!(
        listed
            .iter()
            .all(|g| g.kind == GrantKind::User && g.granted_at.is_none())
    );
    let shown: BTreeSet<Shown> = listed.iter().map(shown).collect();
    assert_eq!(shown.len(), listed.len(), "one grant per app and account");
    assert_eq!(shown, expected(&sb, &users));
    for u in &users {
        let asked = sb.served(&format!("{USERS}/{}/tokens", u.id));
        assert_eq!(
            asked,
            u64::from(u.status == UserStatus::Active),
            "{}",
            u.email
        );
    }
}

// Issue 11: revoking is `tokens.delete` for the account and the app, sent once and
// answered 204; the next read no longer lists it, the account's other apps stay. A
// second revocation is NotFound; one whose first answer was lost (a 503 here, after
// the token went) is done, Google's 404 to the retry saying so.
#[tokio::test]
async fn revoking_deletes_the_apps_tokens_once() {
    let sb = sandbox(60).await;
    let g = connector(&sb);
    let (users, _) = all_users(&g).await;
    let before = all_grants(&g, &users).await;
    let target = grant_beside_another(&before, |_| true);
    let (account, client) = (target.account_id.clone().unwrap(), target.app_id.clone());
    let email = target.user.clone().unwrap();
    let path = format!("{USERS}/{account}/tokens/{client}");

    let done = g.revoke_grant(&target).await.expect("revoked");
    assert_eq!((done.status, done.request_id), (204, None));
    assert_eq!(sb.served_with(&path, 204), 1);
    assert_eq!(sb.google_revoked(&email, &client), 1);
    let after = all_grants(&g, &users).await;
    assert!(!after.contains(&target));
    assert_eq!(after.len(), before.len() - 1);
    assert!(after.iter().any(|o| o.account_id == target.account_id));

    let again = g.revoke_grant(&target).await;
    assert!(
        matches!(&again, Err(ConnectorError::NotFound { .. })),
        "{again:?}"
    );
    sb.fail_next(&path, Fault::ServerError, 1);
    let retried = g.revoke_grant(&target).await.expect("gone is done");
    assert_eq!(retried.status, 404);
    assert_eq!(sb.served(&path), 4);
    assert_eq!(sb.google_revoked(&email, &client), 1);

    let nobody = Grant {
        account_id: Some("nobody".into()),
        ..target.clone()
    };
    let err = g.revoke_grant(&nobody).await.expect_err("no such account");
    assert!(
        matches!(&err, ConnectorError::NotFound { what, .. } if what.contains("nobody")),
        "{err}"
    );
    let bare = Grant {
        account_id: None,
        ..target
    };
    let err = g.revoke_grant(&bare).await.expect_err("names no account");
    assert!(matches!(err, ConnectorError::Invalid { .. }), "{err}");
}

// Issue 11: reading and revoking grants asks for `admin.directory.user.security`
// alone, in a token of its own: without it reading goes on, and the grants are one
// error naming the scope; with it (and not the other read-write scope) they read.
#[tokio::test]
async fn grants_need_the_security_scope_alone() {
    let sb = sandbox(40).await;
    sb.google_delegate_scopes(&SCOPES);
    let g = connector(&sb);
    g.check().await.expect("reads as before");
    let (users, _) = all_users(&g).await;
    let err = g.grants(&users).await.expect_err("no security scope");
    let text = err.to_string();
    assert!(
        matches!(&err, ConnectorError::Permission { code, .. } if code == "unauthorized_client"),
        "{text}"
    );
    assert!(
        text.contains(GRANT_SCOPES[0]) && text.contains("app grants"),
        "{text}"
    );
    assert!(
        !text.contains(MANAGE_SCOPES.join(",").as_str()),
        "only its own scope: {text}"
    );
    assert_eq!(
        sb.served_with("/token", 401),
        1,
        "one refused token request"
    );

    let mut only: Vec<&str> = SCOPES.to_vec();
    only.extend(GRANT_SCOPES);
    sb.google_delegate_scopes(&only);
    let g = connector(&sb);
    let listed = all_grants(&g, &users).await;
    assert_eq!(
        listed.iter().map(shown).collect::<BTreeSet<_>>(),
        expected(&sb, &users)
    );
}
