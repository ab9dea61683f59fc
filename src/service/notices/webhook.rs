//! One webhook notice (issue 12): an HTTPS POST of JSON, signed when a shared
//! secret is set, so a receiver can tell casbah's posts from anyone else's.

use std::time::Duration;

use aws_lc_rs::hmac;
use reqwest::header::{CONTENT_TYPE, USER_AGENT};
use url::Url;

use super::{NoticeError, WebhookConfig, WebhookFormat, invalid};
use crate::connectors::http::describe;
use crate::domain::Secret;

/// The header that carries [`signature`].
pub const SIGNATURE_HEADER: &str = "X-Casbah-Signature";

const AGENT: &str = concat!("casbah/", env!("CARGO_PKG_VERSION"));

/// A receiver that takes longer is treated as down: the delivery queue retries.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The client to post with. It follows no redirect: a redirect would carry the
/// alert, and with 307/308 its signature, to an address nobody configured.
pub fn client() -> Result<reqwest::Client, NoticeError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .user_agent(AGENT)
        .build()
        .map_err(|e| invalid(format!("cannot set up the HTTP client for webhooks: {e}")))
}

/// The value of [`SIGNATURE_HEADER`] for `body`: `sha256=` and the lowercase hex
/// HMAC-SHA256 of the exact body bytes, keyed with the shared secret.
pub fn signature(secret: &Secret, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.expose().as_bytes());
    format!("sha256={}", hex::encode(hmac::sign(&key, body)))
}

/// Posts `payload` (format `json`) or `{"text": text}` (format `text`) to the
/// configured URL; any 2xx is delivered. `client` should come from [`client`].
pub async fn post(
    client: &reqwest::Client,
    config: &WebhookConfig,
    secret: Option<&Secret>,
    payload: &serde_json::Value,
    text: &str,
) -> Result<(), NoticeError> {
    let url = config.check()?;
    let host = host(&url);
    let body = match config.format {
        WebhookFormat::Json => payload.to_string(),
        WebhookFormat::Text => serde_json::json!({ "text": text }).to_string(),
    }
    .into_bytes();
    let mut request = client
        .post(url.clone())
        .timeout(TIMEOUT)
        .header(CONTENT_TYPE, "application/json")
        .header(USER_AGENT, AGENT);
    if let Some(secret) = secret {
        request = request.header(SIGNATURE_HEADER, signature(secret, &body));
    }
    let response = request.body(body).send().await.map_err(|e| {
        if e.is_timeout() {
            NoticeError::Timeout {
                host: host.clone(),
                seconds: TIMEOUT.as_secs(),
            }
        } else {
            NoticeError::Unreachable {
                host: host.clone(),
                detail: describe(&e),
            }
        }
    })?;
    let status = response.status().as_u16();
    // A client that follows redirects has already reached the other address;
    // still, the notice was not delivered where it was configured to go.
    if response.status().is_redirection() || response.url() != &url {
        return Err(NoticeError::Redirect { host, status });
    }
    if response.status().is_success() {
        Ok(())
    } else {
        Err(NoticeError::Http { host, status })
    }
}

/// The receiver as errors name it: host and port only, since the path or query
/// of a Slack or Teams webhook is its secret.
fn host(url: &Url) -> String {
    let name = url.host_str().unwrap_or("the webhook receiver");
    match url.port() {
        Some(port) => format!("{name}:{port}"),
        None => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::hooks::HookSink;

    const WAIT: Duration = Duration::from_secs(10);

    fn hook(sink: &HookSink, format: WebhookFormat) -> WebhookConfig {
        WebhookConfig {
            url: sink.url(),
            format,
        }
    }

    async fn refused(client: &reqwest::Client, config: &WebhookConfig) -> NoticeError {
        post(client, config, None, &serde_json::Value::Null, "")
            .await
            .unwrap_err()
    }

    // Issue 12: "a webhook delivered to a local … HTTP-loopback receiver with a
    // valid signature".
    #[tokio::test]
    async fn a_signed_post_arrives_and_verifies() {
        let secret = Secret::new("shared-secret");
        let sink = HookSink::start(Some(secret.clone())).await.unwrap();
        let payload = serde_json::json!({"alert": "a1", "policy": "mass download", "n": 12});
        let config = hook(&sink, WebhookFormat::Json);
        post(
            &client().unwrap(),
            &config,
            Some(&secret),
            &payload,
            "unused",
        )
        .await
        .unwrap();
        let posts = sink.wait_for(1, WAIT).await;
        assert_eq!(posts[0].body, payload);
        assert!(posts[0].verified);
        assert_eq!(posts[0].content_type.as_deref(), Some("application/json"));
        assert_eq!(posts[0].user_agent.as_deref(), Some(AGENT));

        // A receiver with another secret, or none sent, does not verify.
        post(&client().unwrap(), &config, None, &payload, "")
            .await
            .unwrap();
        let wrong = Secret::new("another");
        post(&client().unwrap(), &config, Some(&wrong), &payload, "")
            .await
            .unwrap();
        let posts = sink.wait_for(3, WAIT).await;
        assert_eq!(
            (posts[1].signature.as_deref(), posts[1].verified),
            (None, false)
        );
        assert!(!posts[2].verified);
    }

    #[test]
    fn the_signature_is_the_hex_hmac_of_the_body() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature(&Secret::new("Jefe"), b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[tokio::test]
    async fn the_text_format_is_what_slack_and_teams_accept() {
        let sink = HookSink::start(None).await.unwrap();
        let payload = serde_json::json!({"alert": "a1"});
        let text = "Alert: mass download by ana@example.com";
        let config = hook(&sink, WebhookFormat::Text);
        post(&client().unwrap(), &config, None, &payload, text)
            .await
            .unwrap();
        let posts = sink.wait_for(1, WAIT).await;
        assert_eq!(posts[0].body, serde_json::json!({ "text": text }));
    }

    // Issue 12: a receiver that is down or busy is retried; one that refuses the
    // post is not.
    #[tokio::test]
    async fn failures_say_whether_a_retry_can_help() {
        let sink = HookSink::start(None).await.unwrap();
        let config = hook(&sink, WebhookFormat::Json);
        let client = client().unwrap();

        sink.fail_next(1, 503);
        let err = refused(&client, &config).await;
        assert!(
            matches!(err, NoticeError::Http { status: 503, .. }),
            "{err:?}"
        );
        assert!(err.retryable());

        sink.fail_next(1, 400);
        let err = refused(&client, &config).await;
        assert!(
            matches!(err, NoticeError::Http { status: 400, .. }),
            "{err:?}"
        );
        assert!(!err.retryable());

        sink.fail_next(1, 307);
        let err = refused(&client, &config).await;
        assert!(
            matches!(err, NoticeError::Redirect { status: 307, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("redirect"), "{err}");
        assert!(!err.retryable());

        post(&client, &config, None, &serde_json::Value::Null, "")
            .await
            .unwrap();
        let answered: Vec<u16> = sink
            .wait_for(4, WAIT)
            .await
            .iter()
            .map(|p| p.status)
            .collect();
        assert_eq!(
            answered,
            [503, 400, 307, 200],
            "the redirect was not followed"
        );
    }

    #[tokio::test]
    async fn a_redirect_followed_by_another_client_is_still_refused() {
        let sink = HookSink::start(None).await.unwrap();
        sink.fail_next(1, 308);
        let following = reqwest::Client::new();
        let config = hook(&sink, WebhookFormat::Json);
        let err = refused(&following, &config).await;
        assert!(matches!(err, NoticeError::Redirect { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn a_closed_port_is_retryable_and_the_url_is_never_shown() {
        let sink = HookSink::start(None).await.unwrap();
        let config = WebhookConfig {
            url: format!("{}/services/T0/B0/SECRETTOKEN", sink.url()),
            format: WebhookFormat::Json,
        };
        drop(sink);
        let err = refused(&client().unwrap(), &config).await;
        assert!(matches!(err, NoticeError::Unreachable { .. }), "{err:?}");
        assert!(err.retryable());
        assert!(!err.to_string().contains("SECRETTOKEN"), "{err}");
    }

    #[tokio::test]
    async fn plain_http_beyond_loopback_is_refused_before_posting() {
        let config = WebhookConfig {
            url: "http://example.com/hook".into(),
            format: WebhookFormat::Json,
        };
        let err = refused(&client().unwrap(), &config).await;
        assert!(matches!(err, NoticeError::Invalid(_)), "{err:?}");
        assert!(!err.retryable());
    }
}
