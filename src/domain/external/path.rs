//! How a decision is explained: the ACL entry that decided it and the chain
//! of memberships from the entry's principal down to the user.

use std::fmt;

use serde::Serialize;

use super::model::AccessType;
use super::snapshot::NodeKind;

/// The outcome of R-X5 for one user and one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    Grant,
    Deny,
    None,
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Access::Grant => "grant",
            Access::Deny => "deny",
            Access::None => "none",
        })
    }
}

/// One link of a path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StepKind {
    User,
    EntraGroup,
    ExternalGroup,
    Everyone,
    EveryoneExceptGuests,
}

impl From<NodeKind> for StepKind {
    fn from(k: NodeKind) -> StepKind {
        match k {
            NodeKind::User => StepKind::User,
            NodeKind::EntraGroup => StepKind::EntraGroup,
            NodeKind::ExternalGroup => StepKind::ExternalGroup,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub struct Step {
    pub kind: StepKind,
    pub id: String,
    /// Display name (already made safe for the terminal).
    pub label: String,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            StepKind::User => write!(f, "{}", self.label),
            StepKind::EntraGroup => write!(f, "Entra group `{}`", self.label),
            StepKind::ExternalGroup => write!(f, "external group `{}`", self.label),
            StepKind::Everyone => f.write_str("everyone in the tenant"),
            StepKind::EveryoneExceptGuests => f.write_str("everyone except guests"),
        }
    }
}

/// The ACL entry that matched a user, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Reason {
    /// 1-based position of the entry in the item's ACL.
    pub entry: usize,
    pub access: AccessType,
    /// From the entry's principal down to the user; the last step is
    /// always the user.
    pub path: Vec<Step>,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = match self.access {
            AccessType::Grant => "grants",
            AccessType::Deny => "denies",
        };
        write!(f, "ACL entry {} {verb} ", self.entry)?;
        let Some((user, chain)) = self.path.split_last() else {
            return Ok(());
        };
        let Some((head, rest)) = chain.split_first() else {
            return write!(f, "{user} directly");
        };
        write!(f, "{head}")?;
        for step in rest {
            write!(f, ", which contains {step}")?;
        }
        match head.kind {
            StepKind::Everyone => write!(f, ", {user} included"),
            StepKind::EveryoneExceptGuests => write!(f, ", {user} included (not a guest)"),
            _ => write!(f, ", of which {user} is a member"),
        }
    }
}

/// A chain of memberships that comes back to where it started, e.g.
/// `a` contains `b` contains `a`. Evaluation visits each group once, so it
/// ends; the cycle is reported because it is usually a mistake.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub struct Cycle(pub Vec<Step>);

impl fmt::Display for Cycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("membership cycle: ")?;
        for (i, step) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" contains ")?;
            }
            write!(f, "{step}")?;
        }
        Ok(())
    }
}
