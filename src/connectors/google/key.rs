//! The service account's JSON key file, as Google's console downloads it:
//! `type` "service_account", `project_id`, `private_key_id`, `private_key`
//! (PEM), `client_email`, `client_id`, `token_uri`, and a few URLs casbah
//! does not need.

use serde::Deserialize;

use super::{VENDOR, clean};
use crate::connectors::ConnectorError;
use crate::connectors::jwt::SigningKey;
use crate::domain::Secret;

/// Google's token endpoint, when a key file names none.
const TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// Where to get a JSON key, for every refusal of one.
const HOW_TO: &str = "create a JSON key for the service account (Google Cloud console › IAM & Admin › Service accounts › Keys › Add key) and pass the whole file";

#[derive(Deserialize)]
struct KeyFile {
    #[serde(rename = "type")]
    kind: Option<String>,
    private_key_id: Option<String>,
    private_key: Option<String>,
    client_email: Option<String>,
    client_id: Option<String>,
    token_uri: Option<String>,
}

/// What casbah takes from a key file: who signs, with which key, and where
/// the token is asked for.
pub(super) struct ServiceAccountKey {
    /// The service account's address: the JWT's `iss`.
    pub client_email: String,
    /// The number an administrator authorises for domain-wide delegation.
    pub client_id: String,
    /// The JWT header's `kid`.
    pub private_key_id: String,
    pub token_uri: String,
    pub signing: SigningKey,
    /// The PEM, kept only to be masked if Google ever echoes it.
    private_key: Secret,
}

impl std::fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("client_email", &self.client_email)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

fn refused(code: &str, message: String) -> ConnectorError {
    ConnectorError::Auth {
        vendor: VENDOR,
        code: code.to_owned(),
        message,
    }
}

impl ServiceAccountKey {
    /// Reads the key file; says in one line what is wrong with one that
    /// cannot be used, never quoting it.
    pub fn parse(secret: &Secret) -> Result<ServiceAccountKey, ConnectorError> {
        let file: KeyFile = serde_json::from_str(secret.expose().trim()).map_err(|_| {
            refused(
                "unreadable key file",
                format!("the secret is not a service account's JSON key file; {HOW_TO}"),
            )
        })?;
        match file.kind.as_deref() {
            Some("service_account") => {}
            Some(other) => {
                return Err(refused(
                    "not a service account key",
                    format!(
                        "the key file is of type \"{}\" (an OAuth client or a person's credentials), not a service account's key; {HOW_TO}",
                        clean(other)
                    ),
                ));
            }
            None => {
                return Err(refused(
                    "not a service account key",
                    format!("the JSON has no \"type\": \"service_account\"; {HOW_TO}"),
                ));
            }
        }
        let field = |value: Option<String>, name: &str| {
            value.filter(|v| !v.trim().is_empty()).ok_or_else(|| {
                refused(
                    "incomplete key file",
                    format!("the key file has no {name}; {HOW_TO}"),
                )
            })
        };
        let private_key = Secret::new(field(file.private_key, "private_key")?);
        let private_key_id = field(file.private_key_id, "private_key_id")?;
        let signing = SigningKey::parse(&private_key)
            .map_err(|e| refused("unreadable private key", format!("{e}; {HOW_TO}")))?
            .with_kid(private_key_id.clone());
        Ok(ServiceAccountKey {
            client_email: field(file.client_email, "client_email")?,
            client_id: field(file.client_id, "client_id")?,
            private_key_id,
            token_uri: file
                .token_uri
                .filter(|u| !u.trim().is_empty())
                .unwrap_or_else(|| TOKEN_URI.to_owned()),
            signing,
            private_key,
        })
    }

    /// Masks the private key and its id wherever they appear.
    pub fn scrub(&self, text: &str) -> String {
        let text = crate::connectors::scrub(text, &self.private_key);
        // The PEM's lines, each on its own, in case it came back re-wrapped.
        let mut text = self
            .private_key
            .expose()
            .lines()
            .map(str::trim)
            .filter(|l| l.len() >= 16 && !l.starts_with("-----"))
            .fold(text, |t, line| t.replace(line, "****"));
        if !self.private_key_id.is_empty() {
            text = text.replace(&self.private_key_id, "****");
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEM: &str = include_str!("../../../assets/sandbox/google-service-account.pem");

    fn file(kind: &str) -> serde_json::Value {
        serde_json::json!({
            "type": kind, "project_id": "p", "private_key_id": "abc123def456",
            "private_key": PEM, "client_email": "r@p.iam.gserviceaccount.com",
            "client_id": "1234567890", "token_uri": "https://oauth2.googleapis.com/token"
        })
    }

    #[test]
    fn a_service_account_key_is_read() {
        let key =
            ServiceAccountKey::parse(&Secret::new(file("service_account").to_string())).unwrap();
        assert_eq!(key.client_email, "r@p.iam.gserviceaccount.com");
        assert_eq!(key.client_id, "1234567890");
        assert_eq!(key.private_key_id, "abc123def456");
        assert!(!format!("{key:?}").contains("PRIVATE"));
    }

    // R-C3: a file that is not a service account's key says so, in one line,
    // without quoting it.
    #[test]
    fn other_files_are_refused_without_being_quoted() {
        let err = ServiceAccountKey::parse(&Secret::new(file("authorized_user").to_string()))
            .unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, ConnectorError::Auth { .. }), "{text}");
        assert!(text.contains("\"authorized_user\""), "{text}");
        assert!(
            !text.contains("PRIVATE KEY") && !text.contains('\n'),
            "{text}"
        );
        let err = ServiceAccountKey::parse(&Secret::new(PEM)).unwrap_err();
        assert!(
            err.to_string()
                .contains("not a service account's JSON key file")
        );
        let mut missing = file("service_account");
        missing.as_object_mut().unwrap().remove("client_email");
        let err = ServiceAccountKey::parse(&Secret::new(missing.to_string())).unwrap_err();
        assert!(err.to_string().contains("no client_email"), "{err}");
        let mut bad = file("service_account");
        bad["private_key"] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----".into();
        let err = ServiceAccountKey::parse(&Secret::new(bad.to_string())).unwrap_err();
        assert!(!err.to_string().contains("AAAA"), "{err}");
    }

    #[test]
    fn the_key_is_masked_even_in_pieces() {
        let key =
            ServiceAccountKey::parse(&Secret::new(file("service_account").to_string())).unwrap();
        let line = PEM.lines().nth(3).unwrap();
        let echoed = format!("bad key {line} id abc123def456");
        let masked = key.scrub(&echoed);
        assert!(
            !masked.contains(line) && !masked.contains("abc123def456"),
            "{masked}"
        );
    }
}
