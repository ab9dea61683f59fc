//! Issue 12, R-G11: notices that leave the terminal, queued in the database with the
//! alert or import that calls for them, and sent (and retried) by the service.

use serde::{Deserialize, Serialize};

use super::Micros;
use super::policy::Alert;

/// Retries stop after this long; the notice stays, marked failed, with its last error.
pub const GIVE_UP_AFTER: Micros = 24 * 3_600 * 1_000_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Channel {
    /// To these addresses, or the SMTP setting's recipients when empty.
    Email {
        to: Vec<String>,
    },
    Webhook,
}

impl Channel {
    pub fn name(&self) -> &'static str {
        match self {
            Channel::Email { .. } => "e-mail",
            Channel::Webhook => "webhook",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeliveryState {
    Pending,
    Delivered {
        at: Micros,
    },
    /// Gave up after `GIVE_UP_AFTER`, or the receiver refused it for good.
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: u64,
    /// The alert it tells of; none for an import's notice.
    pub alert: Option<u64>,
    pub channel: Channel,
    pub subject: String,
    pub text: String,
    /// The webhook body (`payload`), fixed when the notice was queued.
    pub payload: String,
    pub created_at: Micros,
    pub attempts: u32,
    pub next_at: Micros,
    pub state: DeliveryState,
    pub last_error: Option<String>,
}

impl Delivery {
    pub fn new(alert: Option<u64>, channel: Channel, subject: String, text: String) -> Delivery {
        Delivery {
            id: 0,
            alert,
            channel,
            subject,
            text,
            payload: String::new(),
            created_at: 0,
            attempts: 0,
            next_at: 0,
            state: DeliveryState::Pending,
            last_error: None,
        }
    }

    /// Not delivered, and tried at least once.
    pub fn is_failing(&self) -> bool {
        self.last_error.is_some() && !matches!(self.state, DeliveryState::Delivered { .. })
    }

    /// "webhook: delivered", "e-mail: failing (3 attempts): connection refused".
    pub fn describe(&self) -> String {
        let state = match (&self.state, &self.last_error) {
            (DeliveryState::Delivered { .. }, _) => "delivered".to_string(),
            (DeliveryState::Pending, None) => "waiting to be sent".to_string(),
            (DeliveryState::Pending, Some(e)) => format!(
                "failing ({} attempts, retried with backoff): {e}",
                self.attempts
            ),
            (DeliveryState::Failed, e) => format!(
                "failed after {} attempts: {}",
                self.attempts,
                e.as_deref().unwrap_or("no reason given")
            ),
        };
        format!("{}: {state}", self.channel.name())
    }

    /// The wait before attempt `attempts + 1`: 30 s doubling to an hour.
    pub fn backoff(attempts: u32) -> Micros {
        const FIRST: Micros = 30_000_000;
        const MOST: Micros = 3_600_000_000;
        FIRST.saturating_mul(1 << attempts.min(10)).min(MOST)
    }
}

/// The webhook body of an alert. Its fields are documented in the README and stay
/// stable: receivers parse them.
pub fn payload(alert: &Alert) -> serde_json::Value {
    let rfc3339 = |t: Micros| {
        chrono::DateTime::from_timestamp_micros(t)
            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    };
    serde_json::json!({
        "version": 1,
        "alert": alert.id,
        "policy": alert.policy_name,
        "policy_id": alert.policy,
        "severity": alert.severity.name(),
        "state": alert.state.name(),
        "summary": alert.summary(),
        "per": alert.per.name(),
        "key": alert.key,
        "count": alert.count,
        "actors": alert.actors,
        "first_activity": rfc3339(alert.first),
        "last_activity": rfc3339(alert.last),
        "raised_at": rfc3339(alert.raised_at),
        "activity_ids": alert.links.iter().map(|l| l.id.as_str()).collect::<Vec<_>>(),
        "filter": alert.activities_filter(),
    })
}

/// An alert's subject and text, for e-mail and chat.
pub fn alert_text(alert: &Alert) -> (String, String) {
    let subject = format!(
        "[casbah] {} alert: {}",
        alert.severity.name(),
        alert.summary()
    );
    let mut text = format!(
        "{}\n\nPolicy: {}\nSeverity: {}\nActivities: {}\n",
        alert.summary(),
        alert.policy_name,
        alert.severity.name(),
        alert.count
    );
    if !alert.actors.is_empty() {
        text.push_str(&format!("Actors: {}\n", alert.actors.join(", ")));
    }
    text.push_str(&format!(
        "\nSee them: casbah activities --filter '{}'\nAcknowledge: casbah alerts ack {}\n",
        alert.activities_filter().replace('\'', "'\\''"),
        alert.id
    ));
    (subject, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_an_hour() {
        assert_eq!(Delivery::backoff(0), 30_000_000);
        assert_eq!(Delivery::backoff(1), 60_000_000);
        assert_eq!(Delivery::backoff(30), 3_600_000_000);
    }
}
