//! R-C2 instances and R-C5 Microsoft 365 components.

use serde::{Deserialize, Serialize};

use super::{AppKind, Micros};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct InstanceId(pub u64);

/// R-C5. The components a Microsoft 365 instance monitors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Component {
    UsersAndGroups,
    ManagementEvents,
    SignInEvents,
    Apps,
    Office365Activities,
    Office365Files,
    AzureAdFiles,
}

/// A connected app instance. Secrets are never part of this type; they live
/// in the store's credentials table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    pub id: InstanceId,
    pub app: AppKind,
    pub name: String,
    /// Tenant / organisation identifier at the vendor (Entra tenant id for Microsoft 365).
    pub tenant: String,
    pub client_id: String,
    /// R-C7: replaces every vendor host; the paths stay the vendor's.
    pub endpoint: Option<String>,
    pub components: Vec<Component>,
    pub created_at: Micros,
}
