//! A loopback webhook receiver that keeps what it is posted, for tests and the
//! demo (issue 12): it checks each post's signature as a real receiver would,
//! and can answer with a failure to exercise retries.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::mail::Received;
use crate::domain::Secret;
use crate::service::notices::webhook::{SIGNATURE_HEADER, signature};

/// The path `url` names; posts to any path are kept.
const PATH: &str = "/hook";

/// One request as it arrived, and what the receiver answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    pub path: String,
    /// The body as JSON; `Null` when it was not JSON.
    pub body: serde_json::Value,
    pub signature: Option<String>,
    /// The signature header matched the body under the receiver's secret.
    pub verified: bool,
    pub content_type: Option<String>,
    pub user_agent: Option<String>,
    pub status: u16,
}

/// A running receiver. Dropping it closes the port.
pub struct HookSink {
    url: String,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

struct Shared {
    secret: Option<Secret>,
    posts: Received<Post>,
    /// The next `.0` requests are answered with status `.1`.
    failing: Mutex<(usize, StatusCode)>,
}

impl HookSink {
    /// Listens on 127.0.0.1 at a free port. With a secret, each post's
    /// signature header is checked against it.
    pub async fn start(secret: Option<Secret>) -> std::io::Result<HookSink> {
        let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
        let url = format!("http://{}{PATH}", listener.local_addr()?);
        let shared = Arc::new(Shared {
            secret,
            posts: Received::new(),
            failing: Mutex::new((0, StatusCode::OK)),
        });
        let app = axum::Router::new()
            .fallback(receive)
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "the webhook sink stopped with an error");
            }
        });
        Ok(HookSink { url, shared, task })
    }

    /// The address to post to (plain http on loopback, which webhook settings
    /// allow).
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Answer the next `k` requests with `status` instead of 200; a redirect
    /// status points back to this receiver. Those requests are kept too.
    pub fn fail_next(&self, k: usize, status: u16) {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        *self
            .shared
            .failing
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = (k, status);
    }

    /// Every request received so far, in the order they arrived.
    pub fn posts(&self) -> Vec<Post> {
        self.shared.posts.all()
    }

    /// The requests once at least `n` have arrived, or those there are when
    /// `timeout` runs out.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Post> {
        self.shared.posts.wait_for(n, timeout).await
    }
}

impl Drop for HookSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn receive(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let status = {
        let mut failing = shared
            .failing
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if failing.0 > 0 {
            failing.0 -= 1;
            failing.1
        } else {
            StatusCode::OK
        }
    };
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let given = text(SIGNATURE_HEADER);
    let verified = match (&shared.secret, &given) {
        (Some(secret), Some(given)) => *given == signature(secret, &body),
        _ => false,
    };
    let post = Post {
        path: uri.path().to_owned(),
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        signature: given,
        verified,
        content_type: text(header::CONTENT_TYPE.as_str()),
        user_agent: text(header::USER_AGENT.as_str()),
        status: status.as_u16(),
    };
    shared.posts.push(post);
    if status.is_redirection() {
        (status, [(header::LOCATION, "/redirected")]).into_response()
    } else {
        status.into_response()
    }
}
