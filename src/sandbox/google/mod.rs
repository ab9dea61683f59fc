//! The Google Workspace dialect, at the vendor's own paths (only the host differs).

use std::sync::Arc;

use axum::Router;

use super::{Org, SandboxConfig, Shared};

/// Per-sandbox Google Workspace state, derived from the generated organisation.
pub(crate) struct State;

impl State {
    pub(crate) fn new(org: &Org, config: &SandboxConfig) -> State {
        let _ = (org, config);
        State
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let _ = shared;
    Router::new()
}
