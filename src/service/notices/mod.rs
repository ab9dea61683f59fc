//! Notices that leave the terminal (issue 12): e-mail through an SMTP relay and
//! webhook posts. This module holds what they are configured with and how they
//! fail; `smtp` and `webhook` send one notice each and leave retries, backoff and
//! bookkeeping to the delivery queue, which asks [`NoticeError::retryable`].

use std::net::IpAddr;
use std::str::FromStr;

use lettre::message::Mailbox;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::connectors::url::is_loopback;

pub mod smtp;
pub mod webhook;

/// The SMTP relay that e-mail notices go through. The password is a secret
/// stored apart from these settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    #[serde(default)]
    pub user: Option<String>,
    pub from: String,
    /// The recipients of a notice that names none of its own.
    #[serde(default)]
    pub to: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SmtpSecurity {
    /// TLS from the first byte (usually port 465).
    Tls,
    /// Plain, then upgraded with STARTTLS, which must succeed (usually port 587).
    #[serde(rename = "starttls", alias = "start-tls")]
    StartTls,
    /// No encryption at all: only to a relay on this machine.
    Plain,
}

impl SmtpConfig {
    /// Refuses settings that could never deliver, or would deliver in clear over
    /// a network, before anything is sent.
    pub fn check(&self) -> Result<(), NoticeError> {
        let host = self.host.trim();
        if host.is_empty() {
            return Err(invalid(
                "the SMTP host is empty; give the relay's host name",
            ));
        }
        let Some(parsed) = smtp_host(host) else {
            return Err(invalid(format!(
                "the SMTP host {:?} is not a host name or IP address; give one without a port or brackets",
                crate::domain::text::sanitize(host)
            )));
        };
        if self.port == 0 {
            return Err(invalid(
                "the SMTP port is 0; give the relay's port (465 for tls, 587 for starttls)",
            ));
        }
        // Whoever can read the wire reads the password and every alert: only this
        // machine is on the way to a loopback relay.
        if self.security == SmtpSecurity::Plain && !is_loopback(&parsed) {
            return Err(invalid(
                "plain SMTP is allowed only to this machine (127.0.0.1, ::1, localhost); use tls or starttls",
            ));
        }
        mailbox("sender", &self.from)?;
        for to in &self.to {
            mailbox("recipient", to)?;
        }
        Ok(())
    }
}

/// The host as the loopback rule sees it: an IPv6 address comes without
/// brackets here, since the relay is named apart from its port.
fn smtp_host(host: &str) -> Option<url::Host> {
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => Some(url::Host::Ipv4(ip)),
        Ok(IpAddr::V6(ip)) => Some(url::Host::Ipv6(ip)),
        Err(_) => match url::Host::parse(host) {
            Ok(domain @ url::Host::Domain(_)) => Some(domain),
            _ => None,
        },
    }
}

/// An address as lettre will send it: `alerts@example.com` or
/// `Security <alerts@example.com>`.
fn mailbox(role: &str, address: &str) -> Result<Mailbox, NoticeError> {
    Mailbox::from_str(address.trim()).map_err(|_| {
        invalid(format!(
            "the {role} {:?} is not an e-mail address; give one like alerts@example.com",
            crate::domain::text::sanitize(address)
        ))
    })
}

/// Where webhook notices are posted. The signing secret is stored apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct WebhookConfig {
    pub url: String,
    pub format: WebhookFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WebhookFormat {
    /// The notice's own JSON document.
    Json,
    /// `{"text": "…"}`, the shape Slack and Teams incoming webhooks accept.
    Text,
}

impl WebhookConfig {
    /// The URL to post to, or why it can't be used. Messages never repeat the
    /// URL: a Slack or Teams webhook URL carries its secret in the path or query.
    pub fn check(&self) -> Result<Url, NoticeError> {
        let url = Url::parse(self.url.trim()).map_err(|_| {
            invalid("the webhook URL is not a URL; give the receiver's https:// address")
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(invalid(
                "the webhook URL must be an https:// address; give the receiver's https:// address",
            ));
        }
        // The same rule as for connectors (R-C7): the body and its signature in
        // clear only where nobody else is on the way.
        if url.scheme() == "http" && !url.host().is_some_and(|h| is_loopback(&h)) {
            return Err(invalid(
                "plain http webhooks are allowed only to this machine (127.0.0.1, ::1, localhost); use https",
            ));
        }
        Ok(url)
    }
}

fn invalid(message: impl Into<String>) -> NoticeError {
    NoticeError::Invalid(message.into())
}

/// Why a notice was not delivered, in one line that names what to do. No
/// variant holds a password, a signing secret or a webhook URL's path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoticeError {
    /// Settings that can never work.
    #[error("{0}")]
    Invalid(String),
    #[error(
        "the notice has no recipient; name one, or set default recipients in the SMTP settings"
    )]
    NoRecipients,
    #[error("cannot reach {host}: {detail}; check the host, the port and the network")]
    Unreachable { host: String, detail: String },
    #[error("{host} did not answer within {seconds} s; check that it is up and not blocked")]
    Timeout { host: String, seconds: u64 },
    #[error(
        "the TLS connection to {host} failed: {detail}; check the security setting (tls for port 465, starttls for 587) and the server's certificate"
    )]
    Tls { host: String, detail: String },
    #[error(
        "the mail server {host} refused the sign-in ({code} {message}); check the SMTP user and password"
    )]
    SmtpAuth {
        host: String,
        code: u16,
        message: String,
    },
    #[error(
        "the mail server {host} answered {code} {message}, a temporary refusal; try again later"
    )]
    SmtpTransient {
        host: String,
        code: u16,
        message: String,
    },
    #[error(
        "the mail server {host} refused the message ({code} {message}); check the sender and the recipients"
    )]
    SmtpRejected {
        host: String,
        code: u16,
        message: String,
    },
    /// The conversation itself went wrong: a garbled reply, no sign-in method
    /// in common, a message lettre could not build.
    #[error("sending through {host} failed: {detail}; check the SMTP settings")]
    Smtp { host: String, detail: String },
    #[error("the webhook receiver at {host} answered {status}; {}", http_advice(*.status))]
    Http { host: String, status: u16 },
    #[error(
        "the webhook receiver at {host} redirected the post ({status}); redirects are not followed, configure the address it points to"
    )]
    Redirect { host: String, status: u16 },
}

fn http_advice(status: u16) -> &'static str {
    match status {
        401 | 403 => "check the signing secret and the receiver's settings",
        404 | 410 => "check the webhook URL, the receiver may have been removed",
        408 | 429 | 500..=599 => "the receiver is busy or failing, try again later",
        _ => "check the receiver's settings and the notice format",
    }
}

impl NoticeError {
    /// Whether the same notice may go through later unchanged: the receiver was
    /// down, slow, busy, or said "later". Anything else needs a person first.
    pub fn retryable(&self) -> bool {
        match self {
            NoticeError::Unreachable { .. }
            | NoticeError::Timeout { .. }
            | NoticeError::SmtpTransient { .. } => true,
            NoticeError::Http { status, .. } => matches!(status, 408 | 429 | 500..=599),
            NoticeError::Invalid(_)
            | NoticeError::NoRecipients
            | NoticeError::Tls { .. }
            | NoticeError::SmtpAuth { .. }
            | NoticeError::SmtpRejected { .. }
            | NoticeError::Smtp { .. }
            | NoticeError::Redirect { .. } => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smtp(host: &str, security: SmtpSecurity) -> SmtpConfig {
        SmtpConfig {
            host: host.into(),
            port: 25,
            security,
            user: None,
            from: "casbah@example.com".into(),
            to: vec!["soc@example.com".into()],
        }
    }

    // Issue 12: plain SMTP only to this machine, with a one-line way out.
    #[test]
    fn plain_smtp_is_refused_beyond_loopback() {
        for host in ["127.0.0.1", "::1", "localhost", "LOCALHOST"] {
            assert_eq!(smtp(host, SmtpSecurity::Plain).check(), Ok(()), "{host}");
        }
        for host in ["mail.example.com", "10.0.0.1", "::2"] {
            let err = smtp(host, SmtpSecurity::Plain).check().unwrap_err();
            let text = err.to_string();
            assert!(text.contains("use tls or starttls"), "{text}");
            assert!(!text.contains('\n'));
            assert!(!err.retryable());
            assert_eq!(smtp(host, SmtpSecurity::StartTls).check(), Ok(()), "{host}");
            assert_eq!(smtp(host, SmtpSecurity::Tls).check(), Ok(()), "{host}");
        }
    }

    #[test]
    fn smtp_settings_are_checked() {
        let good = smtp("mail.example.com", SmtpSecurity::Tls);
        let mut named = good.clone();
        named.from = "Casbah alerts <casbah@example.com>".into();
        assert_eq!(named.check(), Ok(()));
        type Change = fn(&mut SmtpConfig);
        let cases: [(&str, Change); 5] = [
            ("host is empty", |c| c.host = " ".into()),
            ("not a host name", |c| c.host = "[::1]".into()),
            ("port is 0", |c| c.port = 0),
            ("sender", |c| c.from = "nobody".into()),
            ("recipient", |c| c.to.push("soc@".into())),
        ];
        for (expected, change) in cases {
            let mut config = good.clone();
            change(&mut config);
            let text = config.check().unwrap_err().to_string();
            assert!(text.contains(expected), "{text}");
        }
    }

    #[test]
    fn settings_read_and_write_as_kebab_case() {
        let config: SmtpConfig = serde_json::from_value(serde_json::json!({
            "host": "mail.example.com", "port": 587, "security": "starttls",
            "from": "casbah@example.com"
        }))
        .unwrap();
        assert_eq!(config.security, SmtpSecurity::StartTls);
        assert_eq!((config.user, config.to.len()), (None, 0));
        let hook = WebhookConfig {
            url: "https://hooks.example.com/x".into(),
            format: WebhookFormat::Text,
        };
        assert_eq!(
            serde_json::to_value(&hook).unwrap(),
            serde_json::json!({"url": "https://hooks.example.com/x", "format": "text"})
        );
    }

    // Issue 12: "A webhook URL with http:// to a non-loopback host is refused (as
    // for connectors)."
    #[test]
    fn webhook_urls_are_checked() {
        let hook = |url: &str| WebhookConfig {
            url: url.into(),
            format: WebhookFormat::Json,
        };
        for good in [
            "https://hooks.slack.com/services/T0/B0/XXXX",
            "https://prod.example.com:443/workflows/1/invoke?api-version=1&sig=abc",
            "http://127.0.0.1:8080/hook",
            "http://[::1]:9/hook",
            "http://localhost/hook",
        ] {
            assert!(hook(good).check().is_ok(), "{good}");
        }
        for bad in [
            "http://example.com/hook",
            "http://10.0.0.1/hook",
            "ftp://example.com/hook",
            "mailto:soc@example.com",
            "not a url",
        ] {
            let text = hook(bad).check().unwrap_err().to_string();
            assert!(text.contains("https"), "{bad}: {text}");
        }
        let secret_path = "http://example.com/services/T0/B0/SECRETTOKEN";
        let text = hook(secret_path).check().unwrap_err().to_string();
        assert!(!text.contains("SECRETTOKEN"), "{text}");
    }

    #[test]
    fn only_what_may_pass_later_is_retryable() {
        let http = |status| NoticeError::Http {
            host: "h".into(),
            status,
        };
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(http(status).retryable(), "{status}");
        }
        for status in [400, 401, 403, 404, 410, 413, 422] {
            assert!(!http(status).retryable(), "{status}");
        }
    }
}
