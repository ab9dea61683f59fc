//! One e-mail notice through the configured SMTP relay (issue 12, R-G11).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{NoticeError, SmtpConfig, SmtpSecurity, invalid, mailbox};
use crate::domain::Secret;
use crate::domain::text::sanitize;

/// The whole exchange, from connecting to the relay's last reply: a relay that
/// hangs must not hold a delivery worker for long.
const TIMEOUT: Duration = Duration::from_secs(20);

/// Sends `subject` and `body` as plain text to `to`, or to the configured
/// recipients when `to` is empty. Signs in when a user is configured.
pub async fn send(
    config: &SmtpConfig,
    password: Option<&Secret>,
    to: &[String],
    subject: &str,
    body: &str,
) -> Result<(), NoticeError> {
    config.check()?;
    let host = config.host.trim();
    let recipients = if to.is_empty() { &config.to[..] } else { to };
    if recipients.is_empty() {
        return Err(NoticeError::NoRecipients);
    }
    // The subject holds vendor text (names, file names): a line break in it would
    // end the header early in some readers, other controls garble terminals.
    let mut message = Message::builder()
        .from(mailbox("sender", &config.from)?)
        .subject(sanitize(subject))
        .header(ContentType::TEXT_PLAIN);
    for recipient in recipients {
        message = message.to(mailbox("recipient", recipient)?);
    }
    let message = message
        .body(body.to_owned())
        .map_err(|e| NoticeError::Smtp {
            host: host.to_owned(),
            detail: format!("the message could not be built: {e}"),
        })?;

    let transport = match config.security {
        SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host),
        SmtpSecurity::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host),
        SmtpSecurity::Plain => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
            host,
        )),
    }
    .map_err(|e| failure(host, &e, None))?
    .port(config.port)
    .timeout(Some(TIMEOUT));
    let transport = match (&config.user, password) {
        (Some(user), Some(password)) => transport.credentials(Credentials::new(
            user.clone(),
            password.expose().to_owned(),
        )),
        (Some(user), None) => {
            return Err(invalid(format!(
                "the SMTP user {:?} has no password stored; set the password, or remove the user if the relay needs no sign-in",
                sanitize(user)
            )));
        }
        (None, _) => transport,
    }
    .build();

    let signing_in = config.user.as_deref().zip(password);
    match tokio::time::timeout(TIMEOUT, transport.send(message)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(failure(host, &e, signing_in)),
        Err(_) => Err(NoticeError::Timeout {
            host: host.to_owned(),
            seconds: TIMEOUT.as_secs(),
        }),
    }
}

/// lettre's error as a `NoticeError`: the relay's reply code decides
/// transient or permanent, and nothing of the password survives in the text.
fn failure(
    host: &str,
    e: &lettre::transport::smtp::Error,
    signing_in: Option<(&str, &Secret)>,
) -> NoticeError {
    let host = host.to_owned();
    let detail = redact(&sanitize(&root_cause(e)), signing_in);
    if e.is_timeout() {
        return NoticeError::Timeout {
            host,
            seconds: TIMEOUT.as_secs(),
        };
    }
    if let Some(code) = e.status() {
        let code = u16::from(code);
        // Only the relay's words, not lettre's "permanent error (535)" around them.
        let message = std::error::Error::source(e)
            .map(|m| redact(&sanitize(&m.to_string()), signing_in))
            .unwrap_or_default();
        return match code {
            400..=499 => NoticeError::SmtpTransient {
                host,
                code,
                message,
            },
            // 530 sign-in required, 534 mechanism too weak, 535 credentials refused.
            530 | 534 | 535 => NoticeError::SmtpAuth {
                host,
                code,
                message,
            },
            _ => NoticeError::SmtpRejected {
                host,
                code,
                message,
            },
        };
    }
    if e.is_tls() {
        NoticeError::Tls { host, detail }
    } else if e.is_response() || e.is_client() {
        NoticeError::Smtp { host, detail }
    } else {
        // Connecting failed, or the connection broke during the exchange.
        NoticeError::Unreachable { host, detail }
    }
}

fn root_cause(e: &lettre::transport::smtp::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(next) = source {
        text = next.to_string();
        source = next.source();
    }
    text
}

/// A relay may echo what it was sent; the password, and the encodings AUTH
/// PLAIN and LOGIN send it in, are masked wherever they appear.
fn redact(text: &str, signing_in: Option<(&str, &Secret)>) -> String {
    let Some((user, password)) = signing_in else {
        return text.to_owned();
    };
    let password = password.expose();
    if password.is_empty() {
        return text.to_owned();
    }
    [
        STANDARD.encode(format!("\0{user}\0{password}")),
        STANDARD.encode(password),
        password.to_owned(),
    ]
    .iter()
    .fold(text.to_owned(), |text, secret| text.replace(secret, "****"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::mail::MailSink;

    fn relay(sink: &MailSink) -> SmtpConfig {
        SmtpConfig {
            host: "127.0.0.1".into(),
            port: sink.addr().port(),
            security: SmtpSecurity::Plain,
            user: None,
            from: "Casbah <casbah@example.com>".into(),
            to: vec!["soc@example.com".into()],
        }
    }

    const WAIT: Duration = Duration::from_secs(10);

    // Issue 12: "e-mail delivered to a local SMTP server started by the test".
    #[tokio::test]
    async fn a_notice_arrives_with_its_subject_sender_recipients_and_body() {
        let sink = MailSink::start().await.unwrap();
        let config = relay(&sink);
        let body = "Policy: mass download\nActor: ana@example.com\n.\n..leading dots\n";
        send(&config, None, &[], "Alert: mass download", body)
            .await
            .unwrap();
        let to = ["a@example.com".to_owned(), "b@example.com".to_owned()];
        send(&config, None, &to, "Ünïcödé 警报 \u{1b}[31m", "é 警报")
            .await
            .unwrap();

        let mail = sink.wait_for(2, WAIT).await;
        assert_eq!(mail.len(), 2);
        assert_eq!(mail[0].from, "casbah@example.com");
        assert_eq!(mail[0].to, ["soc@example.com"]);
        assert_eq!(mail[0].subject, "Alert: mass download");
        // lettre ends every message with a line break of its own.
        assert_eq!(
            mail[0].body.replace("\r\n", "\n").trim_end(),
            body.trim_end()
        );
        assert_eq!(mail[0].user, None);
        assert_eq!(mail[1].to, to);
        assert_eq!(mail[1].subject, "Ünïcödé 警报 ^[[31m");
        assert_eq!(mail[1].body.trim_end(), "é 警报");
    }

    #[tokio::test]
    async fn the_relay_is_signed_in_to_and_the_password_never_shows() {
        let password = Secret::new("hunter2-pass");
        let sink = MailSink::start().await.unwrap();
        let mut config = relay(&sink);
        config.user = Some("alerts".into());
        send(&config, Some(&password), &[], "s", "b").await.unwrap();
        assert_eq!(
            sink.wait_for(1, WAIT).await[0].user.as_deref(),
            Some("alerts")
        );

        let missing = send(&config, None, &[], "s", "b").await.unwrap_err();
        assert!(missing.to_string().contains("no password"), "{missing}");

        let refusing = MailSink::builder().refuse_sign_in().start().await.unwrap();
        config.port = refusing.addr().port();
        let err = send(&config, Some(&password), &[], "s", "b")
            .await
            .unwrap_err();
        assert!(
            matches!(err, NoticeError::SmtpAuth { code: 535, .. }),
            "{err:?}"
        );
        assert!(!err.retryable());
        for text in [err.to_string(), format!("{err:?}")] {
            assert!(!text.contains("hunter2"), "{text}");
            assert!(!text.contains(&STANDARD.encode("hunter2-pass")), "{text}");
        }
    }

    #[tokio::test]
    async fn a_transient_refusal_is_retryable() {
        let sink = MailSink::builder().defer_mail().start().await.unwrap();
        let err = send(&relay(&sink), None, &[], "s", "b").await.unwrap_err();
        assert!(
            matches!(err, NoticeError::SmtpTransient { code: 451, .. }),
            "{err:?}"
        );
        assert!(err.retryable());
        assert!(sink.messages().is_empty());
    }

    #[tokio::test]
    async fn a_closed_port_is_retryable_and_no_recipient_is_not() {
        let sink = MailSink::start().await.unwrap();
        let mut config = relay(&sink);
        drop(sink);
        let err = send(&config, None, &[], "s", "b").await.unwrap_err();
        assert!(matches!(err, NoticeError::Unreachable { .. }), "{err:?}");
        assert!(err.retryable());

        config.to.clear();
        let err = send(&config, None, &[], "s", "b").await.unwrap_err();
        assert_eq!(err, NoticeError::NoRecipients);
        assert!(!err.retryable());
    }

    #[test]
    fn every_encoding_of_the_password_is_masked() {
        let password = Secret::new("p@ss");
        let plain = STANDARD.encode("\0u\0p@ss");
        let text = format!("echo p@ss {plain} {}", STANDARD.encode("p@ss"));
        assert_eq!(redact(&text, Some(("u", &password))), "echo **** **** ****");
    }
}
