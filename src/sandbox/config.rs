//! What the sandbox serves and how badly it behaves.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

/// What the sandbox serves and how badly it behaves.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Must be a loopback address; port 0 picks a free one.
    pub listen: SocketAddr,
    pub seed: u64,
    pub users: usize,
    /// New activities per second in each live stream (0 = none).
    pub live_rate: f64,
    /// How many past activities the busiest streams (sign-ins, SharePoint)
    /// hold per user and day, over the seven days before the sandbox started;
    /// quieter streams hold a fixed fraction. The default keeps a first sync
    /// of the default organisation (about 22,000 activities) quick in tests.
    pub history_per_user_per_day: f64,
    /// Lifetime of the access tokens the sandbox issues (Entra: 3599 s).
    pub token_lifetime: Duration,
    pub faults: FaultSpec,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            seed: 42,
            users: 2000,
            live_rate: 1.0,
            history_per_user_per_day: 0.5,
            token_lifetime: Duration::from_secs(3599),
            faults: FaultSpec::default(),
        }
    }
}

/// Fault injection, parsed from e.g.
/// `latency=20ms,429=0.1,5xx=0.05,drop=0.01,truncate=0.01,retry-after=0.5`.
///
/// Probabilities are drawn per request from a generator seeded by the
/// sandbox seed, so a run repeats when the requests do.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultSpec {
    /// Added before every faulted-or-not response.
    pub latency: Duration,
    /// Probability of a 429 TooManyRequests with `Retry-After`.
    pub throttle: f64,
    /// Probability of a 503 with the generic error envelope.
    pub server_error: f64,
    /// Probability of closing the connection without any response.
    pub drop: f64,
    /// Probability of a body cut short.
    pub truncate: f64,
    /// The `Retry-After` value sent with a 429, in seconds (fractional allowed).
    pub retry_after: Option<f64>,
    /// Whether faults also hit the token endpoint (off unless asked).
    pub token_endpoint: bool,
}

/// A fault specification that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad fault spec part '{part}': {reason}")]
pub struct FaultSpecError {
    pub part: String,
    pub reason: String,
}

/// The `Retry-After` a throttled response carries when the spec sets none.
pub const DEFAULT_RETRY_AFTER: f64 = 1.0;

impl FaultSpec {
    /// Parses `key=value` pairs separated by commas. Keys: `latency` (e.g.
    /// `20ms`, `1s`), `429`, `5xx`, `drop`, `truncate` (probabilities 0..=1),
    /// `retry-after` (seconds), `token` (true/false); `none` for no faults.
    pub fn parse(text: &str) -> Result<FaultSpec, FaultSpecError> {
        let mut spec = FaultSpec::default();
        if text.trim().eq_ignore_ascii_case("none") {
            return Ok(spec);
        }
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let bad = |reason: &str| FaultSpecError {
                part: part.to_string(),
                reason: reason.to_string(),
            };
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| bad("expected key=value"))?;
            let (key, value) = (key.trim(), value.trim());
            match key {
                "latency" => {
                    spec.latency = parse_duration(value)
                        .ok_or_else(|| bad("expected a duration such as 20ms or 1s"))?
                }
                "429" => {
                    spec.throttle = parse_probability(value)
                        .ok_or_else(|| bad("expected a probability between 0 and 1"))?
                }
                "5xx" => {
                    spec.server_error = parse_probability(value)
                        .ok_or_else(|| bad("expected a probability between 0 and 1"))?
                }
                "drop" => {
                    spec.drop = parse_probability(value)
                        .ok_or_else(|| bad("expected a probability between 0 and 1"))?
                }
                "truncate" => {
                    spec.truncate = parse_probability(value)
                        .ok_or_else(|| bad("expected a probability between 0 and 1"))?
                }
                "retry-after" => {
                    let secs: f64 = value
                        .parse()
                        .map_err(|_| bad("expected seconds such as 0.5"))?;
                    if !secs.is_finite() || secs < 0.0 {
                        return Err(bad("expected a non-negative number of seconds"));
                    }
                    spec.retry_after = Some(secs);
                }
                "token" => {
                    spec.token_endpoint =
                        value.parse().map_err(|_| bad("expected true or false"))?
                }
                _ => {
                    return Err(bad(
                        "unknown key; use latency, 429, 5xx, drop, truncate, retry-after or token",
                    ));
                }
            }
        }
        Ok(spec)
    }

    /// True when no fault can happen and no latency is added.
    pub fn is_none(&self) -> bool {
        self.latency.is_zero()
            && self.throttle == 0.0
            && self.server_error == 0.0
            && self.drop == 0.0
            && self.truncate == 0.0
    }
}

/// The spec in the form `parse` reads, non-default parts only ("none" when
/// nothing is set), so a running sandbox can say how it misbehaves.
impl std::fmt::Display for FaultSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = Vec::new();
        if !self.latency.is_zero() {
            parts.push(format!("latency={}ms", self.latency.as_millis()));
        }
        for (key, p) in [
            ("429", self.throttle),
            ("5xx", self.server_error),
            ("drop", self.drop),
            ("truncate", self.truncate),
        ] {
            if p > 0.0 {
                parts.push(format!("{key}={p}"));
            }
        }
        if let Some(secs) = self.retry_after {
            parts.push(format!("retry-after={secs}"));
        }
        if self.token_endpoint {
            parts.push("token=true".to_string());
        }
        if parts.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&parts.join(","))
        }
    }
}

impl std::str::FromStr for FaultSpec {
    type Err = FaultSpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FaultSpec::parse(s)
    }
}

fn parse_probability(value: &str) -> Option<f64> {
    let p: f64 = value.parse().ok()?;
    (0.0..=1.0).contains(&p).then_some(p)
}

fn parse_duration(value: &str) -> Option<Duration> {
    let (number, unit) = match value.find(|c: char| c.is_ascii_alphabetic()) {
        Some(at) => value.split_at(at),
        None => (value, "ms"),
    };
    let n: f64 = number.trim().parse().ok()?;
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        _ => return None,
    };
    Some(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_key() {
        let spec = FaultSpec::parse(
            "latency=20ms,429=0.1,5xx=0.05,drop=0.01,truncate=0.01,retry-after=0.5",
        )
        .unwrap();
        assert_eq!(spec.latency, Duration::from_millis(20));
        assert_eq!(spec.throttle, 0.1);
        assert_eq!(spec.server_error, 0.05);
        assert_eq!(spec.drop, 0.01);
        assert_eq!(spec.truncate, 0.01);
        assert_eq!(spec.retry_after, Some(0.5));
        assert!(!spec.token_endpoint);
        assert_eq!(FaultSpec::parse(&spec.to_string()).unwrap(), spec);
        assert_eq!(FaultSpec::default().to_string(), "none");
        assert_eq!(FaultSpec::parse("none").unwrap(), FaultSpec::default());
    }

    #[test]
    fn names_the_bad_part() {
        let err = FaultSpec::parse("429=0.1,5xx=2").unwrap_err();
        assert_eq!(err.part, "5xx=2");
        assert!(err.to_string().contains("5xx=2"));
        let err = FaultSpec::parse("latency=fast").unwrap_err();
        assert_eq!(err.part, "latency=fast");
        assert!(FaultSpec::parse("teapot=1").is_err());
        assert!(FaultSpec::parse("").unwrap().is_none());
    }
}
