//! Google Workspace through the Admin SDK: the Directory API and the Reports API.

use std::sync::Arc;

use super::{Connector, ConnectorError};
use crate::domain::{Instance, Secret};

/// The connector for a Google Workspace instance.
pub fn connector(
    instance: &Instance,
    secret: Secret,
) -> Result<Arc<dyn Connector>, ConnectorError> {
    let _ = (instance, secret);
    Err(ConnectorError::Unsupported("Google Workspace"))
}
