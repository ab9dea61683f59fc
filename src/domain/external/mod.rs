//! Graph connector external groups and item ACLs (R-X1…R-X6): the model,
//! its validation, and access evaluation.

pub mod error;
pub mod ids;
pub mod model;

pub use error::ExternalError;
pub use ids::{ConnectionId, ExternalGroupId, ItemId, MAX_GROUP_ID_LEN, RESERVED_CONNECTION_IDS};
pub use model::{
    AccessType, AclEntry, AclEntryWire, Connection, ConnectionState, ExternalGroup, IdentitySource,
    Item, Member, MemberWire, Principal, parse_acl,
};
