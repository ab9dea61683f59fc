//! Okta through its management API: groups, users and the System Log.

use std::sync::Arc;

use super::{Connector, ConnectorError};
use crate::domain::{Instance, Secret};

/// The connector for an Okta instance.
pub fn connector(
    instance: &Instance,
    secret: Secret,
) -> Result<Arc<dyn Connector>, ConnectorError> {
    let _ = (instance, secret);
    Err(ConnectorError::Unsupported("Okta"))
}
