//! Issue 12, R-G11: where notices go, and the worker that sends the queued ones.
//!
//! Notices are queued in the database in the transaction that raised their alert (or
//! when an import finished), so none is lost to a crash or a receiver that is down. The
//! worker sends what is due, one notice at a time, and records each attempt: delivered,
//! or the error and the next try after a backoff (30 s doubling to an hour, for a day).
//! It runs beside ingestion and never holds it up.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::notices::{NoticeError, SmtpConfig, WebhookConfig, smtp, webhook};
use super::{Event, Level, Local, Result, ServiceError};
use crate::domain::notice::{Channel, Delivery, DeliveryState};
use crate::domain::{Micros, Secret, now_micros};
use crate::store::NoticeSecret;

const SMTP_SETTING: &str = "notify.smtp";
const WEBHOOK_SETTING: &str = "notify.webhook";
/// How often the worker looks for notices due again, besides being woken by new ones.
const IDLE: Duration = Duration::from_secs(15);

/// Where notices go, as `casbah notify show` tells it: never a secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoticeSettings {
    pub smtp: Option<SmtpConfig>,
    pub smtp_password: bool,
    /// The receiver's scheme and host only: a chat webhook's path is its secret.
    pub webhook: Option<String>,
    pub webhook_format: Option<super::notices::WebhookFormat>,
    pub webhook_signed: bool,
}

/// Which way `notify test` sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TestChannel {
    Email,
    Webhook,
}

impl Local {
    pub(super) async fn smtp_config(&self) -> Result<Option<SmtpConfig>> {
        self.json_setting(SMTP_SETTING).await
    }

    pub(super) async fn webhook_config(&self) -> Result<Option<WebhookConfig>> {
        self.json_setting(WEBHOOK_SETTING).await
    }

    async fn json_setting<T: serde::de::DeserializeOwned>(
        &self,
        key: &'static str,
    ) -> Result<Option<T>> {
        match self.db(move |s| s.setting(key)).await? {
            None => Ok(None),
            Some(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
                ServiceError::Internal(format!("the {key} setting does not read: {e}"))
            }),
        }
    }

    pub async fn notice_settings(&self) -> Result<NoticeSettings> {
        let webhook = self.webhook_config().await?;
        Ok(NoticeSettings {
            smtp: self.smtp_config().await?,
            smtp_password: self
                .db(|s| s.notice_secret(NoticeSecret::SmtpPassword))
                .await?
                .is_some(),
            webhook: webhook.as_ref().map(|w| match w.check() {
                Ok(url) => format!("{}://{}/…", url.scheme(), url.host_str().unwrap_or("")),
                Err(_) => "(unusable)".to_string(),
            }),
            webhook_format: webhook.map(|w| w.format),
            webhook_signed: self
                .db(|s| s.notice_secret(NoticeSecret::WebhookSigning))
                .await?
                .is_some(),
        })
    }

    /// Sets the SMTP relay (checked first), or removes it with `None`. The password
    /// replaces the stored one when given.
    pub async fn set_smtp(
        &self,
        config: Option<SmtpConfig>,
        password: Option<Secret>,
    ) -> Result<()> {
        self.set_channel(
            SMTP_SETTING,
            NoticeSecret::SmtpPassword,
            config,
            password,
            |c| c.check(),
        )
        .await
    }

    /// Sets the webhook receiver (checked first), or removes it with `None`. The signing
    /// secret replaces the stored one when given.
    pub async fn set_webhook(
        &self,
        config: Option<WebhookConfig>,
        secret: Option<Secret>,
    ) -> Result<()> {
        self.set_channel(
            WEBHOOK_SETTING,
            NoticeSecret::WebhookSigning,
            config,
            secret,
            |c| c.check().map(drop),
        )
        .await
    }

    async fn set_channel<T: Serialize>(
        &self,
        key: &'static str,
        which: NoticeSecret,
        config: Option<T>,
        secret: Option<Secret>,
        check: impl FnOnce(&T) -> std::result::Result<(), NoticeError>,
    ) -> Result<()> {
        let Some(config) = config else {
            return self
                .db(move |s| {
                    s.remove_setting(key)?;
                    s.set_notice_secret(which, None)
                })
                .await;
        };
        check(&config).map_err(|e| ServiceError::Invalid(e.to_string()))?;
        let text = serde_json::to_string(&config)
            .map_err(|e| ServiceError::Internal(format!("cannot write the setting: {e}")))?;
        self.db(move |s| {
            if let Some(secret) = &secret {
                s.set_notice_secret(which, Some(secret))?;
            }
            s.set_setting(key, &text)
        })
        .await
    }

    /// Sends one message now, past the queue, and says where it went.
    pub async fn send_test_notice(&self, channel: TestChannel) -> Result<String> {
        let mut d = Delivery::new(
            None,
            match channel {
                TestChannel::Email => Channel::Email { to: Vec::new() },
                TestChannel::Webhook => Channel::Webhook,
            },
            "[casbah] test notice".into(),
            "casbah can reach you: alerts and import notices will arrive here.".into(),
        );
        d.payload = serde_json::json!({"version": 1, "test": true, "summary": d.text}).to_string();
        self.send(&d)
            .await
            .map_err(|e| ServiceError::Failed(format!("the test notice was not delivered: {e}")))?;
        Ok(match channel {
            TestChannel::Email => "the test e-mail was accepted by the relay".into(),
            TestChannel::Webhook => "the receiver accepted the test notice".into(),
        })
    }

    /// Sends again, now, every notice not delivered; returns how many.
    pub async fn retry_notices(&self) -> Result<usize> {
        let n = self.db(|s| s.retry_deliveries(now_micros())).await?;
        self.wake_notifier();
        self.emit(Event::AlertsChanged);
        Ok(n)
    }

    /// Every queued notice, oldest first.
    pub async fn deliveries(&self) -> Result<Vec<Delivery>> {
        self.db(|s| s.deliveries()).await
    }

    /// R-G11: queues the e-mail an import's finish asks for, when e-mail is set up.
    pub(super) async fn queue_import_notice(&self, group: &str, summary: &str) -> Result<()> {
        if self.smtp_config().await?.is_none() {
            self.notify(
                Level::Warning,
                format!("{group}: no e-mail sent, as no SMTP relay is set (`casbah notify smtp`)"),
            );
            return Ok(());
        }
        let d = Delivery::new(
            None,
            Channel::Email { to: Vec::new() },
            format!("[casbah] import of {group} finished"),
            format!("The import of group {group} finished: {summary}.\n"),
        );
        self.db(move |s| s.queue_notice(d, now_micros())).await?;
        self.wake_notifier();
        Ok(())
    }

    pub(super) fn wake_notifier(&self) {
        self.inner.notices.notify_one();
    }

    /// Starts the worker that sends queued notices. Idempotent.
    pub(super) fn start_notifier(&self) {
        let mut slot = self.inner.notifier.lock().expect("notifier lock");
        if slot.is_some() {
            return;
        }
        let svc = self.clone();
        *slot = Some(tokio::spawn(async move {
            loop {
                let wait = match svc.deliver_due().await {
                    Ok(next) => next.map_or(IDLE, |at| {
                        Duration::from_micros(
                            (at - now_micros()).clamp(0, IDLE.as_micros() as i64) as u64
                        )
                    }),
                    Err(e) => {
                        tracing::warn!("notices: {e}");
                        IDLE
                    }
                };
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = svc.inner.notices.notified() => {}
                }
            }
        }));
    }

    /// Sends the notices that are due now, for a process with no worker (`casbah sync`
    /// run from cron); returns how many were delivered.
    pub async fn deliver_notices(&self) -> Result<usize> {
        let before = self.delivered().await?;
        self.deliver_due().await?;
        Ok(self.delivered().await?.saturating_sub(before))
    }

    async fn delivered(&self) -> Result<usize> {
        Ok(self
            .deliveries()
            .await?
            .iter()
            .filter(|d| matches!(d.state, DeliveryState::Delivered { .. }))
            .count())
    }

    /// Sends every pending notice that is due; returns when the next one is. One sender
    /// at a time, so that a notice is never sent twice.
    async fn deliver_due(&self) -> Result<Option<Micros>> {
        let _sending = self.inner.sending.lock().await;
        let pending: Vec<Delivery> = self
            .deliveries()
            .await?
            .into_iter()
            .filter(|d| d.state == DeliveryState::Pending)
            .collect();
        let now = now_micros();
        let mut changed = false;
        for d in pending.iter().filter(|d| d.next_at <= now) {
            let outcome = self
                .send(d)
                .await
                .map_err(|e| (e.to_string(), e.retryable()));
            if let Err((error, _)) = &outcome {
                tracing::warn!(
                    delivery = d.id,
                    channel = d.channel.name(),
                    "notice not delivered: {error}"
                );
            }
            let id = d.id;
            let done = self
                .db(move |s| s.delivery_attempted(id, now_micros(), outcome))
                .await?;
            changed |= done.last_error.is_some() || d.alert.is_some();
        }
        if changed {
            self.emit(Event::AlertsChanged);
        }
        let next = self
            .deliveries()
            .await?
            .into_iter()
            .filter(|d| d.state == DeliveryState::Pending)
            .map(|d| d.next_at)
            .min();
        Ok(next)
    }

    async fn send(&self, d: &Delivery) -> std::result::Result<(), NoticeError> {
        let unset = |what: &str| NoticeError::Invalid(what.to_string());
        match &d.channel {
            Channel::Email { to } => {
                let config = self
                    .smtp_config()
                    .await
                    .map_err(|e| NoticeError::Invalid(e.to_string()))?
                    .ok_or_else(|| {
                        unset("e-mail: no SMTP relay is set; run `casbah notify smtp`")
                    })?;
                let password = self.notice_secret(NoticeSecret::SmtpPassword).await?;
                smtp::send(&config, password.as_ref(), to, &d.subject, &d.text).await
            }
            Channel::Webhook => {
                let config = self
                    .webhook_config()
                    .await
                    .map_err(|e| NoticeError::Invalid(e.to_string()))?
                    .ok_or_else(|| {
                        unset("webhook: no receiver is set; run `casbah notify webhook`")
                    })?;
                let secret = self.notice_secret(NoticeSecret::WebhookSigning).await?;
                let payload: serde_json::Value = serde_json::from_str(&d.payload)
                    .unwrap_or_else(|_| serde_json::json!({ "summary": d.subject }));
                let client = webhook::client()?;
                webhook::post(&client, &config, secret.as_ref(), &payload, &d.text).await
            }
        }
    }

    async fn notice_secret(
        &self,
        which: NoticeSecret,
    ) -> std::result::Result<Option<Secret>, NoticeError> {
        self.db(move |s| s.notice_secret(which))
            .await
            .map_err(|e| NoticeError::Invalid(format!("the secret cannot be read: {e}")))
    }
}
