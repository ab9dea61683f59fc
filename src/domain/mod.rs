//! Plain types and the rules of DESIGN.md §1. No I/O lives here.

pub mod activity;
pub mod catalog;
pub mod country;
pub mod external;
pub mod filter;
pub mod governance;
pub mod grants;
pub mod group;
pub mod instance;
pub mod ip;
pub mod notice;
pub mod office;
pub mod policy;
pub mod secret;
pub mod text;
pub mod user;
pub mod vocabulary;

pub use activity::{ACTION_TYPES, Activity, ActivityObject, ObjectKind};
pub use catalog::{AppInfo, AppKind, Capability, GovernanceAction};
pub use group::{AutoGroup, Group, GroupId, GroupKind, GroupStatus, RemoteGroup, SkipCounts};
pub use instance::{Component, ComponentError, Instance, InstanceId, validate_components};
pub use office::{GroupApp, OfficeApp};
pub use secret::Secret;
pub use user::{RemoteUser, UserKey, UserStatus, UserType, is_guest_principal, user_key};
pub use vocabulary::activity_label;

/// Microseconds since the Unix epoch, UTC. Used in every store key so that
/// byte order is time order.
pub type Micros = i64;

pub fn now_micros() -> Micros {
    chrono::Utc::now().timestamp_micros()
}
