//! A generated organisation served on loopback through each vendor's own API
//! dialect, with its paging, errors and throttling.

use std::net::SocketAddr;

use crate::domain::Secret;

/// What the sandbox serves and how badly it behaves.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Must be a loopback address; port 0 picks a free one.
    pub listen: SocketAddr,
    pub seed: u64,
    pub users: usize,
    /// New activities per second in the live stream (0 = none).
    pub live_rate: f64,
    pub faults: FaultSpec,
}

/// Fault injection, parsed from e.g. `latency=20ms,429=0.1,5xx=0.05,drop=0.01,truncate=0.01`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FaultSpec {}

/// A running sandbox. Dropping it stops the server.
pub struct Sandbox {
    pub addr: SocketAddr,
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: Secret,
}
