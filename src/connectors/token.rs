//! An access token kept until shortly before it expires, so that it never
//! dies in flight, and fetched once for every caller that needs it at the
//! same moment.

use std::future::Future;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::sync::Mutex;

use super::ConnectorError;
use super::http::Reply;
use crate::domain::Secret;

/// Renew this long before expiry.
const RENEW_MARGIN: Duration = Duration::from_secs(300);

struct Cached {
    token: Secret,
    renew_at: Instant,
}

/// One token. The lock is held while a token is fetched, so concurrent
/// callers wait for one request instead of each sending their own.
#[derive(Default)]
pub struct TokenSlot(Mutex<Option<Cached>>);

impl std::fmt::Debug for TokenSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSlot").finish_non_exhaustive()
    }
}

impl TokenSlot {
    /// The cached token, or a new one from `fetch` (the token and how long
    /// the vendor says it lives) when there is none or it is due for renewal.
    pub async fn get(
        &self,
        fetch: impl Future<Output = Result<(Secret, Duration), ConnectorError>>,
    ) -> Result<Secret, ConnectorError> {
        let mut slot = self.0.lock().await;
        if let Some(c) = slot.as_ref().filter(|c| Instant::now() < c.renew_at) {
            return Ok(c.token.clone());
        }
        let (token, lifetime) = fetch.await?;
        // Short-lived tokens (a sandbox, a test) renew at half their life.
        let margin = RENEW_MARGIN.min(lifetime / 2);
        *slot = Some(Cached {
            token: token.clone(),
            renew_at: Instant::now() + lifetime - margin,
        });
        Ok(token)
    }

    /// Drops `token` after the API refused it, unless another caller has
    /// already replaced it.
    pub async fn forget(&self, token: &Secret) {
        let mut slot = self.0.lock().await;
        if slot.as_ref().is_some_and(|c| &c.token == token) {
            *slot = None;
        }
    }

    /// `send`s a request with the token (`fetch` getting a new one when it
    /// is due). A token can be revoked before it expires: a 401 that
    /// `renewable` accepts drops it and sends once more with a fresh one.
    /// The last reply, success or not, is the caller's.
    pub async fn send_authorized<T, Fetch, Send, SendFut>(
        &self,
        vendor: &'static str,
        fetch: impl Fn() -> Fetch,
        send: Send,
        renewable: impl Fn(&Reply) -> bool,
    ) -> Result<Result<T, Reply>, ConnectorError>
    where
        Fetch: Future<Output = Result<(Secret, Duration), ConnectorError>>,
        Send: Fn(Secret) -> SendFut,
        SendFut: Future<Output = Result<Result<T, Reply>, ConnectorError>>,
    {
        let mut refreshed = false;
        loop {
            let token = self.get(fetch()).await?;
            match send(token.clone()).await? {
                Err(r) if r.status == StatusCode::UNAUTHORIZED && !refreshed && renewable(&r) => {
                    tracing::info!(vendor, "token refused; fetching a new one");
                    self.forget(&token).await;
                    refreshed = true;
                }
                last => return Ok(last),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    async fn issue(
        n: &AtomicUsize,
        lifetime: Duration,
    ) -> Result<(Secret, Duration), ConnectorError> {
        let i = n.fetch_add(1, Ordering::SeqCst) + 1;
        Ok((Secret::new(format!("t{i}")), lifetime))
    }

    #[tokio::test]
    async fn a_token_is_kept_then_renewed_before_it_expires() {
        let n = AtomicUsize::new(0);
        let slot = TokenSlot::default();
        let long = Duration::from_secs(3600);
        let first = slot.get(issue(&n, long)).await.unwrap();
        assert_eq!(slot.get(issue(&n, long)).await.unwrap(), first);
        assert_eq!(n.load(Ordering::SeqCst), 1);
        // A token living 40 ms is due for renewal after 20.
        let slot = TokenSlot::default();
        let short = Duration::from_millis(40);
        slot.get(issue(&n, short)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(25)).await;
        slot.get(issue(&n, short)).await.unwrap();
        assert_eq!(n.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn only_the_refused_token_is_forgotten() {
        let n = AtomicUsize::new(0);
        let slot = TokenSlot::default();
        let long = Duration::from_secs(3600);
        let first = slot.get(issue(&n, long)).await.unwrap();
        slot.forget(&Secret::new("someone else's")).await;
        assert_eq!(slot.get(issue(&n, long)).await.unwrap(), first);
        slot.forget(&first).await;
        assert_ne!(slot.get(issue(&n, long)).await.unwrap(), first);
    }
}
