//! R-A2…R-A4: the filter language shared by the CLI and the dashboard.
//!
//! `parse` turns text into a `Filter` (syntax only); `Filter::bind` resolves
//! names (groups, instances) into a `Query` that the store runs. A `Query`
//! carries `Hints`: facts every matching activity satisfies, which the store
//! uses to choose an index; `Query::matches` is always the final word.

use std::fmt;

use super::{Activity, AppKind, GroupId, InstanceId, Micros, UserKey};

/// Facts that every activity matching a query satisfies. `Some(list)` means
/// "one of these"; only positive, non-negated terms produce hints.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Hints {
    pub groups: Option<Vec<GroupId>>,
    pub instances: Option<Vec<InstanceId>>,
    pub apps: Option<Vec<AppKind>>,
    pub countries: Option<Vec<String>>,
    pub actors: Option<Vec<UserKey>>,
    /// Inclusive lower bound on `Activity::time`.
    pub after: Option<Micros>,
    /// Exclusive upper bound on `Activity::time`.
    pub before: Option<Micros>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    hints: Hints,
}

impl Query {
    /// Matches every activity.
    pub fn all() -> Query {
        Query::default()
    }

    /// A query made only of the given facts.
    pub fn with_hints(hints: Hints) -> Query {
        Query { hints }
    }

    pub fn hints(&self) -> &Hints {
        &self.hints
    }

    pub fn matches(&self, a: &Activity) -> bool {
        let h = &self.hints;
        fn one_of<T: PartialEq>(list: &Option<Vec<T>>, v: &T) -> bool {
            list.as_ref().is_none_or(|l| l.contains(v))
        }
        one_of(&h.instances, &a.instance)
            && one_of(&h.apps, &a.app)
            && one_of(&h.actors, &a.actor)
            && h.countries
                .as_ref()
                .is_none_or(|l| a.country.as_ref().is_some_and(|c| l.contains(c)))
            && h.groups
                .as_ref()
                .is_none_or(|l| a.groups.iter().any(|g| l.contains(g)))
            && h.after.is_none_or(|t| a.time >= t)
            && h.before.is_none_or(|t| a.time < t)
    }
}

/// A mistake in filter text, pointing at the offending column (1-based, in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub column: usize,
    pub message: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "filter error at column {}: {}",
            self.column, self.message
        )
    }
}

impl std::error::Error for FilterError {}
