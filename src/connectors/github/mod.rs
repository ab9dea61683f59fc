//! GitHub: an organisation's teams, members and audit log, through the REST
//! and GraphQL APIs; the OAuth device flow for signing in.

use std::sync::Arc;

use super::{Connector, ConnectorError, DeviceCode};
use crate::domain::{Instance, Secret};

/// The connector for a GitHub organisation.
pub fn connector(
    instance: &Instance,
    secret: Secret,
) -> Result<Arc<dyn Connector>, ConnectorError> {
    let _ = (instance, secret);
    Err(ConnectorError::Unsupported("GitHub"))
}

/// The device flow's first step: a code for the person to enter at GitHub.
pub async fn begin_device_flow(instance: &Instance) -> Result<DeviceCode, ConnectorError> {
    let _ = instance;
    Err(ConnectorError::Unsupported("GitHub"))
}

/// Polls until the person has entered the code; the token it yields.
pub async fn finish_device_flow(
    instance: &Instance,
    code: &DeviceCode,
) -> Result<Secret, ConnectorError> {
    let _ = (instance, code);
    Err(ConnectorError::Unsupported("GitHub"))
}
