//! Issue 11: what every connector's account actions share.

use super::ConnectorError;
use super::http::{BodyError, Reply};
use crate::domain::governance::ActionReceipt;
use crate::domain::text::sanitize;

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
    move |reply| {
        Ok(ActionReceipt {
            status: reply.status.as_u16(),
            request_id: header
                .and_then(|h| reply.headers.get(h))
                .and_then(|v| v.to_str().ok())
                .map(sanitize),
        })
    }
}
