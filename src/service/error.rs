//! One error type for every command, each printing as one actionable line.

use crate::connectors::ConnectorError;
use crate::connectors::microsoft365::external::ExternalApiError;
use crate::domain::external::ExternalError;
use crate::domain::filter::FilterError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Connector(#[from] ConnectorError),
    #[error(transparent)]
    Filter(#[from] FilterError),
    /// Input that can never work as given (a usage error).
    #[error("{0}")]
    Invalid(String),
    #[error("{}", unknown_message(what, name, suggestions))]
    Unknown {
        what: &'static str,
        name: String,
        suggestions: Vec<String>,
    },
    /// A name that fits several things; the candidates say how to name each.
    #[error("{} {name:?} is ambiguous; say which: {}", what, candidates.join(", "))]
    Ambiguous {
        what: &'static str,
        name: String,
        candidates: Vec<String>,
    },
    /// The vendor already has what was to be created (Graph's 409); nothing
    /// was changed, there or here.
    #[error("{0}")]
    Conflict(String),
    /// Several things failed at once (streams of one scan), each in its own words.
    #[error("{0}")]
    Failed(String),
    #[error("internal error: {0}; see the log file")]
    Internal(String),
}

fn unknown_message(what: &str, name: &str, suggestions: &[String]) -> String {
    match suggestions {
        [] => format!("no {what} named {name:?}"),
        [one] => format!("no {what} named {name:?}; did you mean {one:?}?"),
        many => {
            let list: Vec<String> = many.iter().map(|s| format!("{s:?}")).collect();
            format!("no {what} named {name:?}; closest: {}", list.join(", "))
        }
    }
}

impl From<ExternalApiError> for ServiceError {
    fn from(e: ExternalApiError) -> ServiceError {
        match e {
            ExternalApiError::Conflict { .. } => ServiceError::Conflict(e.to_string()),
            ExternalApiError::NoProperties => ServiceError::Invalid(e.to_string()),
            ExternalApiError::Connector(c) => ServiceError::Connector(c),
        }
    }
}

/// R-X1…R-X4: a refused id, member or ACL entry is a usage error, caught
/// before any request.
impl From<ExternalError> for ServiceError {
    fn from(e: ExternalError) -> ServiceError {
        ServiceError::Invalid(e.to_string())
    }
}

impl ServiceError {
    pub(super) fn join(e: tokio::task::JoinError) -> ServiceError {
        ServiceError::Internal(format!("a background task stopped: {e}"))
    }

    /// True when the input itself is wrong, as opposed to a failure while
    /// carrying it out; the CLI exits 2 for these.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            ServiceError::Invalid(_) | ServiceError::Filter(_) | ServiceError::Ambiguous { .. }
        )
    }
}
