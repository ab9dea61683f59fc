//! Graph connector external groups and item ACLs (R-X1…R-X6): the model,
//! its validation, and access evaluation (R-X5).

pub mod access;
pub mod audience;
pub mod error;
pub mod ids;
pub mod mirror;
pub mod model;
pub mod path;
pub mod snapshot;

pub use access::{AccessError, Decision};
pub use audience::{Audience, AudienceRow};
pub use error::ExternalError;
pub use ids::{
    ConnectionId, ExternalGroupId, ItemId, MAX_GROUP_ID_LEN, RESERVED_CONNECTION_IDS, is_object_id,
};
pub use mirror::{EntraAccount, MirrorPlan, Unmatched, UnmatchedUser, plan_mirror};
pub use model::{
    AccessType, AclEntry, AclEntryWire, AclFileError, Connection, ConnectionState, ExternalGroup,
    IdentitySource, Item, ItemDocument, Member, MemberWire, Principal, parse_item_document,
};
pub use path::{Access, Cycle, Reason, Step, StepKind};
pub use snapshot::{AccessIndex, AccessSnapshot, DirectoryUser, EntraGroup, NodeKind};
