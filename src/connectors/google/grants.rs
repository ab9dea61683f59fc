//! Issue 11: app permissions in Google Workspace, from the Directory API's
//! tokens: `GET users/{userKey}/tokens` lists the OAuth tokens an account issued
//! to apps (Google has no list for the whole customer, so it is read account by
//! account), and `DELETE users/{userKey}/tokens/{clientId}` revokes every token
//! of one app for one account (204). Both take the scope `GRANT_SCOPES` names, on
//! a token of its own.
//!
//! A Google token has no id of its own and no date: a grant is one app for one
//! account, known as `{account id}/{client id}`, granted at a time Google does not
//! say.

use reqwest::Method;
use serde::Deserialize;

use super::api::{Call, list_page};
use super::auth::{Access, GRANT_SCOPES};
use super::{GoogleWorkspace, VENDOR, clean};
use crate::connectors::ConnectorError;
use crate::connectors::governance::grant_target;
use crate::connectors::http::{RawRecord, read_record};
use crate::connectors::url::url;
use crate::domain::RemoteUser;
use crate::domain::governance::ActionReceipt;
use crate::domain::grants::{Grant, GrantKind};

/// A Directory API `Token` (`admin#directory#token`), as far as casbah reads it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Token {
    client_id: Option<String>,
    display_text: Option<String>,
    scopes: Option<Vec<String>>,
}

/// The grant a token record is, for `account`; `None` (logged) for one without a
/// client id, which could not be revoked.
fn grant(account: &RemoteUser, raw: RawRecord) -> Option<Grant> {
    let token: Token = read_record(VENDOR, "token", &raw)?;
    let text = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(clean)
    };
    let Some(client) = text(&token.client_id) else {
        tracing::warn!(vendor = VENDOR, account = %account.id, "token without a client id skipped");
        return None;
    };
    let scopes = token
        .scopes
        .unwrap_or_default()
        .iter()
        .map(|s| clean(s.trim()))
        .filter(|s| !s.is_empty())
        .collect();
    Some(Grant {
        id: format!("{}/{client}", account.id),
        kind: GrantKind::User,
        app_name: text(&token.display_text).unwrap_or_else(|| client.clone()),
        app_id: client,
        user: Some(account.key()),
        account_id: Some(account.id.clone()),
        scopes,
        granted_at: None,
        revocable: true,
    })
}

impl GoogleWorkspace {
    fn tokens_path<'a>(account: &'a str, client: Option<&'a str>) -> Vec<&'a str> {
        let mut path = vec!["admin", "directory", "v1", "users", account, "tokens"];
        path.extend(client);
        path
    }

    /// `tokens.list` for one account (by its id: an e-mail can be renamed).
    pub(super) async fn tokens_of(
        &self,
        account: &RemoteUser,
    ) -> Result<Vec<Grant>, ConnectorError> {
        let call = Call::new(
            url(&self.hosts.api, &Self::tokens_path(&account.id, None), &[]),
            GRANT_SCOPES[0],
            format!("the app tokens of user {}", account.id),
        );
        // One list, never paged: Google sends no page token for it.
        let page = self
            .get_as(Access::Grants, &call, list_page("items"))
            .await?;
        Ok(page
            .items
            .into_iter()
            .filter_map(|raw| grant(account, raw))
            .collect())
    }

    /// `tokens.delete`: the app's tokens for the account, all of them.
    pub(super) async fn revoke_token(&self, g: &Grant) -> Result<ActionReceipt, ConnectorError> {
        let (account, client) = grant_target(VENDOR, g)?;
        let call = Call::new(
            url(
                &self.hosts.api,
                &Self::tokens_path(account, Some(client)),
                &[],
            ),
            GRANT_SCOPES[0],
            format!(
                "the token of app {} for user {}",
                self.clean(client),
                self.clean(account)
            ),
        );
        self.send_action(Access::Grants, Method::DELETE, &call, None)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{active_account, raw};
    use serde_json::{Value, json};

    fn grant(v: Value) -> Option<Grant> {
        super::grant(&active_account("1042", "Ann@Contoso.com"), raw(&v))
    }

    // Issue 11: a token is one app's grant for the account, known by both.
    #[test]
    fn a_token_is_a_grant_of_one_app_for_one_account() {
        let g = grant(
            json!({"kind": "admin#directory#token", "clientId": "77.apps.googleusercontent.com",
            "displayText": "Mail merge", "anonymous": false, "nativeApp": false, "userKey": "1042",
            "scopes": ["https://www.googleapis.com/auth/gmail.send", " "]}),
        )
        .unwrap();
        assert_eq!(g.id, "1042/77.apps.googleusercontent.com");
        assert_eq!(g.app_name, "Mail merge");
        assert_eq!(
            (g.user.as_deref(), g.account_id.as_deref()),
            (Some("ann@contoso.com"), Some("1042"))
        );
        assert_eq!(g.scopes, ["https://www.googleapis.com/auth/gmail.send"]);
        assert_eq!((g.kind, g.granted_at), (GrantKind::User, None));
    }

    // DESIGN §3: no client id, nothing to revoke; unnamed apps go by their client id;
    // vendor text is made safe.
    #[test]
    fn unreadable_tokens_are_skipped_and_text_is_clean() {
        assert!(grant(json!({"displayText": "x", "scopes": []})).is_none());
        assert!(grant(json!({"clientId": 7})).is_none());
        assert!(grant(json!({"clientId": "a", "scopes": [1]})).is_none());
        let g = grant(json!({"clientId": "c1", "scopes": null})).unwrap();
        assert_eq!((g.app_name.as_str(), g.scopes.len()), ("c1", 0));
        let g = grant(json!({"clientId": "c2", "displayText": "Evil\u{1b}]0;x\u{7}"})).unwrap();
        assert!(
            !g.app_name.chars().any(char::is_control),
            "{:?}",
            g.app_name
        );
    }
}
