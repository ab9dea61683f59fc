//! Issue 11: what every connector's account actions and app grants share.

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};

use futures::{StreamExt, TryStreamExt};
use reqwest::{Method, StatusCode};

use super::ConnectorError;
use super::http::{BodyError, Reply};
use crate::domain::governance::ActionReceipt;
use crate::domain::grants::Grant;
use crate::domain::text::sanitize;
use crate::domain::{RemoteUser, UserStatus};

/// How many accounts' grants are read at once where a vendor lists them account
/// by account: a scan of a few thousand accounts ends in minutes, and stays far
/// below each vendor's per-minute quota.
const GRANT_READS_IN_FLIGHT: usize = 8;

/// The account an action names, by its id in the app; none is refused before
/// any request.
pub(crate) fn account_id<'a>(
    vendor: &'static str,
    user: &'a str,
) -> Result<&'a str, ConnectorError> {
    match user.trim() {
        "" => Err(ConnectorError::Invalid {
            vendor,
            message: "an account action needs the account's id in the app".into(),
        }),
        id => Ok(id),
    }
}

/// Revoking a grant names the grant (`Connector::revoke_grant`), not an account.
pub(crate) fn not_on_an_account(vendor: &'static str) -> ConnectorError {
    ConnectorError::Invalid {
        vendor,
        message: "revoking a grant names the grant, not the account that gave it".into(),
    }
}

/// Decodes an action's answer: its status, and the request id the vendor
/// sends in `header` (where it sends one), which its support can look up.
pub(crate) fn receipt(
    header: Option<&'static str>,
) -> impl Fn(&Reply) -> Result<ActionReceipt, BodyError> {
    move |reply| Ok(receipt_of(header, reply))
}

/// The receipt of `reply`, as `receipt` reads it.
pub(crate) fn receipt_of(header: Option<&'static str>, reply: &Reply) -> ActionReceipt {
    ActionReceipt {
        status: reply.status.as_u16(),
        request_id: header
            .and_then(|h| reply.headers.get(h))
            .and_then(|v| v.to_str().ok())
            .map(sanitize),
    }
}

/// How many times one request was sent: the HTTP layer builds a request once for
/// each attempt, so a builder that counts here counts the attempts.
#[derive(Debug, Default)]
pub(crate) struct Sends(AtomicU32);

impl Sends {
    /// Called by the request builder, once an attempt.
    pub(crate) fn count(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// A DELETE answered 404 after it was sent again: an attempt whose answer was
    /// lost (a 5xx, a cut connection) had removed it already, so what was asked
    /// for is done. A 404 to the first attempt is a real "not found".
    pub(crate) fn gone(&self, method: &Method, reply: &Reply) -> bool {
        *method == Method::DELETE
            && reply.status == StatusCode::NOT_FOUND
            && self.0.load(Ordering::Relaxed) > 1
    }
}

/// The account and the app a grant names, which a revocation sends; a grant
/// without them (none `grants` lists) is refused before any request.
pub(crate) fn grant_target<'a>(
    vendor: &'static str,
    grant: &'a Grant,
) -> Result<(&'a str, &'a str), ConnectorError> {
    let account = grant.account_id.as_deref().map(str::trim).unwrap_or("");
    match (account, grant.app_id.trim()) {
        ("", _) | (_, "") => Err(ConnectorError::Invalid {
            vendor,
            message: format!(
                "the grant {} names no account or no app; run a user scan to read the grants again",
                sanitize(&grant.id)
            ),
        }),
        (account, app) => Ok((account, app)),
    }
}

/// The grants of every active account (others cannot use theirs), each account's
/// read by `read`, a few at once. An account gone since the user scan (a 404) has
/// none; any other error ends the read, as that one error.
pub(crate) async fn grants_of_accounts<'a, Read, Fut>(
    vendor: &'static str,
    accounts: &'a [RemoteUser],
    read: Read,
) -> Result<Vec<Grant>, ConnectorError>
where
    Read: Fn(&'a RemoteUser) -> Fut,
    Fut: Future<Output = Result<Vec<Grant>, ConnectorError>>,
{
    let mut active = accounts.iter().filter(|a| a.status == UserStatus::Active);
    let Some(first) = active.next() else {
        return Ok(Vec::new());
    };
    // The first alone: a refusal every account would meet (a missing scope) is
    // then one request, not one for each account in flight.
    let mut grants = unless_gone(vendor, &first.id, read(first)).await?;
    // Made here, not in the stream: a closure inside it would have to be `Send`
    // for every lifetime, which the compiler cannot show for a borrowed account.
    let reads: Vec<_> = active
        .map(|account| unless_gone(vendor, &account.id, read(account)))
        .collect();
    let lists: Vec<Vec<Grant>> = futures::stream::iter(reads)
        .buffered(GRANT_READS_IN_FLIGHT)
        .try_collect()
        .await?;
    grants.extend(lists.into_iter().flatten());
    Ok(grants)
}

/// The account's grants, or none where the account is gone.
async fn unless_gone(
    vendor: &'static str,
    account: &str,
    read: impl Future<Output = Result<Vec<Grant>, ConnectorError>>,
) -> Result<Vec<Grant>, ConnectorError> {
    match read.await {
        Err(ConnectorError::NotFound { .. }) => {
            tracing::info!(
                vendor,
                account,
                "account gone since the user scan; no grants read"
            );
            Ok(Vec::new())
        }
        other => other,
    }
}
