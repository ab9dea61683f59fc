//! casbah's own recent warnings and errors, kept in memory for the
//! dashboard's `:log` (issue 13): a tracing layer beside the log file's that
//! keeps the newest `KEPT` events at WARN or above, each as one escaped line.
//! It holds this process's events only; a `casbah serve` keeps its own log.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::Mutex;

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

use super::Level;
use crate::domain::Micros;

/// How many events are kept; older ones make room.
pub const KEPT: usize = 200;

static RECENT: Mutex<VecDeque<LogLine>> = Mutex::new(VecDeque::new());

/// One warning or error as the dashboard shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub at: Micros,
    pub level: Level,
    /// The module that logged it (`casbah::service::scans`).
    pub target: String,
    /// The message, then its fields as `name=value`, escaped.
    pub text: String,
}

/// The layer to add to the subscriber.
pub fn layer() -> RecentLog {
    RecentLog
}

/// The events kept, oldest first.
pub fn recent() -> Vec<LogLine> {
    RECENT
        .lock()
        .map(|r| r.iter().cloned().collect())
        .unwrap_or_default()
}

fn keep(line: LogLine) {
    // A poisoned lock only means another thread panicked mid-push: the
    // queue is still a queue.
    let mut recent = RECENT.lock().unwrap_or_else(|p| p.into_inner());
    if recent.len() == KEPT {
        recent.pop_front();
    }
    recent.push_back(line);
}

pub struct RecentLog;

#[derive(Default)]
struct Text {
    message: String,
    fields: String,
}

impl Visit for Text {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={value}", field.name());
        }
    }
}

impl<S: Subscriber> Layer<S> for RecentLog {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        let level = match *meta.level() {
            tracing::Level::ERROR => Level::Error,
            tracing::Level::WARN => Level::Warning,
            _ => return,
        };
        let mut text = Text::default();
        event.record(&mut text);
        keep(LogLine {
            at: chrono::Utc::now().timestamp_micros(),
            level,
            target: meta.target().to_owned(),
            text: crate::domain::text::safe(&format!("{}{}", text.message, text.fields))
                .into_owned(),
        });
    }
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    // issue 13: warnings and errors are kept, newest last, escaped, at most
    // KEPT of them; info is not.
    #[test]
    fn keeps_the_latest_warnings_and_errors() {
        let subscriber = tracing_subscriber::registry().with(layer());
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("not kept");
            for n in 0..KEPT {
                tracing::warn!(n, "filler");
            }
            tracing::error!(group = "Fin\x1b]2;x\x07", "sync failed");
        });
        let lines = recent();
        assert_eq!(lines.len(), KEPT, "bounded");
        let last = lines.last().expect("one");
        assert_eq!(last.level, Level::Error);
        assert_eq!(last.text, "sync failed group=Fin^[]2;x^G");
        assert!(lines.iter().all(|l| l.text != "not kept"));
    }
}
