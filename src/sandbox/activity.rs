//! The activity timeline: streams whose item number n is a pure function of
//! (seed, stream, n), with time monotone in n, so a page for a time window
//! is computed rather than stored. Seven days of history lie before the
//! sandbox started; the live stream continues after it at the live rate.
//! Activities pushed by tests are merged in by time.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, TimeZone, Utc};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use uuid::Uuid;

use super::{SandboxConfig, lock_mutex};

/// Seven days, the depth of history every vendor keeps for these feeds.
pub const HISTORY_MS: i64 = 7 * 24 * 3600 * 1000;

/// One feed of activities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stream {
    /// Entra ID sign-ins (`/auditLogs/signIns`).
    SignIns,
    /// Entra ID directory audits (`/auditLogs/directoryAudits`).
    DirectoryAudits,
    /// Office 365 Management Activity API content types.
    SharePoint,
    Exchange,
    General,
    AzureActiveDirectory,
    /// `DLP.All`: data loss prevention rule matches.
    Dlp,
    /// The System Log of the sandbox's Okta org number n.
    OktaSystemLog(u8),
    /// Google Workspace's Reports API, one application each.
    GoogleLogin,
    GoogleAdmin,
    GoogleDrive,
    GoogleToken,
    /// The GitHub organisation's audit log.
    GitHubAudit,
}

impl Stream {
    /// The streams the Microsoft dialect serves.
    pub const MICROSOFT: [Stream; 7] = [
        Stream::SignIns,
        Stream::DirectoryAudits,
        Stream::SharePoint,
        Stream::Exchange,
        Stream::General,
        Stream::AzureActiveDirectory,
        Stream::Dlp,
    ];

    /// Share of the configured rates this stream gets: admins change the
    /// directory far less often than people sign in or open files.
    fn weight(self) -> f64 {
        match self {
            Stream::SignIns | Stream::SharePoint | Stream::OktaSystemLog(_) => 1.0,
            Stream::GoogleDrive => 0.8,
            Stream::Exchange | Stream::GoogleLogin => 0.5,
            Stream::AzureActiveDirectory | Stream::GitHubAudit => 0.3,
            Stream::General | Stream::GoogleToken => 0.2,
            Stream::DirectoryAudits | Stream::GoogleAdmin => 0.1,
            Stream::Dlp => 0.05,
        }
    }

    fn salt(self) -> u64 {
        match self {
            Stream::SignIns => 0x5153_4947_4e49_4e53,
            Stream::DirectoryAudits => 0x4449_5241_5544_4954,
            Stream::SharePoint => 0x5350_4f49_4e54_0001,
            Stream::Exchange => 0x4558_4348_0000_0002,
            Stream::General => 0x4745_4e45_5241_4c03,
            Stream::AzureActiveDirectory => 0x4141_4400_0000_0004,
            Stream::OktaSystemLog(org) => 0x4f4b_5441_0000_0005 ^ (u64::from(org) << 8),
            Stream::GoogleLogin => 0x474c_4f47_0000_0006,
            Stream::GoogleAdmin => 0x4741_444d_0000_0007,
            Stream::GoogleDrive => 0x4744_5256_0000_0008,
            Stream::GoogleToken => 0x4754_4f4b_0000_0009,
            Stream::GitHubAudit => 0x4748_4155_0000_000a,
            Stream::Dlp => 0x444c_5041_4c4c_000b,
        }
    }
}

/// An activity a test adds to a stream; each dialect renders it in its own
/// record shape.
#[derive(Debug, Clone, PartialEq)]
pub struct PushedActivity {
    pub stream: Stream,
    pub at: DateTime<Utc>,
    /// Who acted: a UPN or e-mail address, in the directory or not.
    pub actor: String,
    /// The vendor's operation name, e.g. "FileDownloaded", "Add member to
    /// group", or for sign-ins the application signed in to.
    pub operation: String,
    /// The object acted on (file URL, group name), if any.
    pub object: Option<String>,
    pub ip: String,
    /// ISO 3166-1 alpha-2 code of where it came from, where the record
    /// carries a location; `None` takes the actor's home country.
    pub country: Option<String>,
    pub success: bool,
    /// Sign-ins only: interactive or not.
    pub interactive: bool,
}

impl PushedActivity {
    /// A successful, interactive activity now from 203.0.113.7.
    pub fn new(stream: Stream, actor: &str, operation: &str) -> PushedActivity {
        PushedActivity {
            stream,
            at: Utc::now(),
            actor: actor.to_string(),
            operation: operation.to_string(),
            object: None,
            ip: "203.0.113.7".to_string(),
            country: None,
            success: true,
            interactive: true,
        }
    }
}

/// An item of a stream: generated number n, or the n-th pushed activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Item {
    Generated(u64),
    Pushed(usize),
}

/// Where a descending read stopped: exclusive upper bounds on generated
/// and pushed items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Below {
    pub generated: u64,
    pub pushed: usize,
}

pub struct Timeline {
    seed: u64,
    started_ms: i64,
    history_per_day: f64,
    live_rate: f64,
    pushed: Mutex<HashMap<Stream, Vec<PushedActivity>>>,
    /// The same activities in the order they were pushed, each with the
    /// moment it was (a log's persistence time, which Okta's polling reads by).
    arrivals: Mutex<HashMap<Stream, Vec<(i64, PushedActivity)>>>,
}

fn mix(mut z: u64) -> u64 {
    // splitmix64: spreads nearby (seed, n) pairs over unrelated seeds.
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub fn ms_to_time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

impl Timeline {
    pub fn new(config: &SandboxConfig, started: DateTime<Utc>) -> Timeline {
        Timeline {
            seed: config.seed,
            started_ms: started.timestamp_millis(),
            history_per_day: config.history_per_user_per_day.max(0.0) * config.users as f64,
            live_rate: config.live_rate.max(0.0),
            pushed: Mutex::new(HashMap::new()),
            arrivals: Mutex::new(HashMap::new()),
        }
    }

    /// The generator for item n of a stream: the same every time it is asked.
    pub fn rng(&self, stream: Stream, n: u64) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(mix(self.seed ^ stream.salt() ^ mix(n)))
    }

    /// A stable id for item n of a stream.
    pub fn id(&self, stream: Stream, item: Item) -> Uuid {
        let (kind, n) = match item {
            Item::Generated(n) => (1u64, n),
            Item::Pushed(k) => (2u64, k as u64),
        };
        let hi = mix(self.seed ^ stream.salt() ^ kind);
        let lo = mix(hi ^ n);
        uuid::Builder::from_random_bytes(
            ((u128::from(mix(hi ^ lo)) << 64) | u128::from(lo)).to_be_bytes(),
        )
        .into_uuid()
    }

    fn history(&self, stream: Stream) -> u64 {
        (self.history_per_day * 7.0 * stream.weight()) as u64
    }

    fn rate(&self, stream: Stream) -> f64 {
        self.live_rate * stream.weight()
    }

    /// Milliseconds since the epoch of generated item n.
    pub fn time_ms(&self, stream: Stream, n: u64) -> i64 {
        let history = self.history(stream);
        if n < history {
            let offset = (i128::from(n) * i128::from(HISTORY_MS) / i128::from(history)) as i64;
            self.started_ms - HISTORY_MS + offset
        } else {
            let rate = self.rate(stream);
            if rate <= 0.0 {
                return i64::MAX;
            }
            self.started_ms + ((n - history) as f64 * 1000.0 / rate) as i64
        }
    }

    /// The number of generated items with time ≤ `t_ms`: every n below it
    /// is at or before `t_ms`, every n from it on is after.
    pub fn count_until(&self, stream: Stream, t_ms: i64) -> u64 {
        let history = self.history(stream);
        let rate = self.rate(stream);
        let live = if rate > 0.0 && t_ms > self.started_ms {
            ((t_ms - self.started_ms) as f64 / 1000.0 * rate) as u64 + 2
        } else {
            0
        };
        let (mut lo, mut hi) = (0u64, history + live + 1);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.time_ms(stream, mid) <= t_ms {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// The first generated item at or after `t_ms`.
    pub fn first_from(&self, stream: Stream, t_ms: i64) -> u64 {
        self.count_until(stream, t_ms.saturating_sub(1))
    }

    pub fn push(&self, activity: PushedActivity) {
        lock_mutex(&self.arrivals)
            .entry(activity.stream)
            .or_default()
            .push((Utc::now().timestamp_millis(), activity.clone()));
        let mut pushed = lock_mutex(&self.pushed);
        let list = pushed.entry(activity.stream).or_default();
        let at = list.partition_point(|p| p.at <= activity.at);
        list.insert(at, activity);
    }

    /// Every activity pushed to a stream, in the order it was pushed (its
    /// position there is a stable number for it), with the moment it was.
    pub fn arrivals(&self, stream: Stream) -> Vec<(i64, PushedActivity)> {
        lock_mutex(&self.arrivals)
            .get(&stream)
            .cloned()
            .unwrap_or_default()
    }

    pub fn pushed(&self, stream: Stream, k: usize) -> Option<PushedActivity> {
        lock_mutex(&self.pushed)
            .get(&stream)
            .and_then(|l| l.get(k).cloned())
    }

    /// Pushed items with time in [from_ms, to_ms]: the index range.
    fn pushed_range(&self, stream: Stream, from_ms: i64, to_ms: i64) -> (usize, usize) {
        let pushed = lock_mutex(&self.pushed);
        let Some(list) = pushed.get(&stream) else {
            return (0, 0);
        };
        let lo = list.partition_point(|p| p.at.timestamp_millis() < from_ms);
        let hi = list.partition_point(|p| p.at.timestamp_millis() <= to_ms);
        (lo, hi.max(lo))
    }

    fn pushed_time(&self, stream: Stream, k: usize) -> i64 {
        lock_mutex(&self.pushed)
            .get(&stream)
            .and_then(|l| l.get(k))
            .map(|p| p.at.timestamp_millis())
            .unwrap_or(i64::MIN)
    }

    /// Items with time in [from_ms, to_ms], newest first, at most `top`,
    /// starting below `below`. Returns the items with their times, and where
    /// to continue if more remain.
    pub fn newest_first(
        &self,
        stream: Stream,
        from_ms: i64,
        to_ms: i64,
        below: Option<Below>,
        top: usize,
    ) -> (Vec<(Item, i64)>, Option<Below>) {
        let gen_lo = self.first_from(stream, from_ms);
        let mut gen_hi = self.count_until(stream, to_ms);
        let (push_lo, mut push_hi) = self.pushed_range(stream, from_ms, to_ms);
        if let Some(b) = below {
            gen_hi = gen_hi.min(b.generated);
            push_hi = push_hi.min(b.pushed);
        }
        let (mut i, mut j) = (gen_hi.max(gen_lo), push_hi.max(push_lo));
        let mut out = Vec::with_capacity(top.min(1024));
        while out.len() < top && (i > gen_lo || j > push_lo) {
            let gen_t = (i > gen_lo).then(|| self.time_ms(stream, i - 1));
            let push_t = (j > push_lo).then(|| self.pushed_time(stream, j - 1));
            match (gen_t, push_t) {
                (Some(g), Some(p)) if p >= g => {
                    j -= 1;
                    out.push((Item::Pushed(j), p));
                }
                (Some(g), _) => {
                    i -= 1;
                    out.push((Item::Generated(i), g));
                }
                (None, Some(p)) => {
                    j -= 1;
                    out.push((Item::Pushed(j), p));
                }
                (None, None) => break,
            }
        }
        let more = i > gen_lo || j > push_lo;
        (
            out,
            more.then_some(Below {
                generated: i,
                pushed: j,
            }),
        )
    }

    /// Every item with time in [from_ms, to_ms), oldest first.
    pub fn between(&self, stream: Stream, from_ms: i64, to_ms: i64) -> Vec<(Item, i64)> {
        let gen_lo = self.first_from(stream, from_ms);
        let gen_hi = self.first_from(stream, to_ms);
        let (push_lo, push_hi) = self.pushed_range(stream, from_ms, to_ms.saturating_sub(1));
        let mut out: Vec<(Item, i64)> = (gen_lo..gen_hi)
            .map(|n| (Item::Generated(n), self.time_ms(stream, n)))
            .collect();
        out.extend((push_lo..push_hi).map(|k| (Item::Pushed(k), self.pushed_time(stream, k))));
        out.sort_by_key(|&(_, t)| t);
        out
    }

    /// The time of the newest item in [from_ms, to_ms), if any.
    pub fn newest_time_between(&self, stream: Stream, from_ms: i64, to_ms: i64) -> Option<i64> {
        let (items, _) = self.newest_first(stream, from_ms, to_ms.saturating_sub(1), None, 1);
        items.first().map(|&(_, t)| t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeline() -> Timeline {
        let config = SandboxConfig {
            users: 100,
            ..SandboxConfig::default()
        };
        Timeline::new(&config, Utc::now())
    }

    #[test]
    fn time_is_monotone_and_counts_invert_it() {
        let t = timeline();
        let s = Stream::SignIns;
        let mut last = i64::MIN;
        for n in 0..3000 {
            let time = t.time_ms(s, n);
            assert!(time >= last);
            last = time;
            assert!(t.count_until(s, time) > n);
            assert!(t.first_from(s, time) <= n);
        }
    }

    #[test]
    fn newest_first_pages_without_overlap() {
        let t = timeline();
        let s = Stream::SignIns;
        let now = t.started_ms;
        let mut seen = std::collections::HashSet::new();
        let mut below = None;
        let mut last = i64::MAX;
        loop {
            let (items, next) = t.newest_first(s, now - HISTORY_MS, now, below, 97);
            for (item, time) in items {
                assert!(time <= last);
                last = time;
                assert!(seen.insert(item));
            }
            match next {
                Some(b) => below = Some(b),
                None => break,
            }
        }
        assert_eq!(
            seen.len() as u64,
            t.count_until(s, now) - t.first_from(s, now - HISTORY_MS)
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        // Any window read newest first in pages of any size yields each item
        // of the window exactly once, in time order, pushed ones included.
        #[test]
        fn pages_cover_the_window_exactly_once(
            users in 1usize..50,
            per_day in 0.0f64..5.0,
            rate in 0.0f64..20.0,
            pushes in proptest::collection::vec(-HISTORY_MS..60_000i64, 0..6),
            from_back in 0i64..HISTORY_MS,
            span in 1i64..HISTORY_MS,
            top in 1usize..300,
        ) {
            let config = SandboxConfig {
                users,
                history_per_user_per_day: per_day,
                live_rate: rate,
                ..SandboxConfig::default()
            };
            let started = ms_to_time(1_800_000_000_000);
            let t = Timeline::new(&config, started);
            let s = Stream::SignIns;
            for offset in &pushes {
                t.push(PushedActivity {
                    at: ms_to_time(t.started_ms + offset),
                    ..PushedActivity::new(s, "someone@example.com", "Azure Portal")
                });
            }
            let to = t.started_ms + 60_000 - from_back;
            let from = to - span;
            let mut seen = std::collections::HashSet::new();
            let (mut below, mut last) = (None, i64::MAX);
            loop {
                let (items, next) = t.newest_first(s, from, to, below, top);
                for (item, time) in items {
                    proptest::prop_assert!(time <= last && time >= from && time <= to);
                    last = time;
                    proptest::prop_assert!(seen.insert(item));
                }
                match next {
                    Some(b) => below = Some(b),
                    None => break,
                }
            }
            let expected = t.between(s, from, to + 1);
            proptest::prop_assert_eq!(seen.len(), expected.len());
        }
    }
}
