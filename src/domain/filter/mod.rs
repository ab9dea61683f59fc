//! R-A2…R-A4: the filter language shared by the CLI and the dashboard.
//!
//! `parse` turns text into a `Filter` (syntax only); `Filter::bind` resolves
//! names (groups, instances) and relative dates into a `Query` that the store
//! runs. A `Query` carries `Hints`: facts every matching activity satisfies,
//! which the store uses to choose an index; `Query::matches` is always the
//! final word.
//!
//! The grammar, by example:
//!
//! ```text
//! group:"Finance EMEA" country!=US app:microsoft365 after:2026-11-01 type:(download,share) -admin
//! ```
//!
//! A filter is terms separated by spaces, all of which must hold. A term is
//! `field:value`, `field:(a,b)` (any of), `field^=prefix` (or `field:^prefix`),
//! `field~=text`, a flag (`admin`), or free text; `-term` and `field!=value`
//! negate. Values may be quoted, with `\"` for a quote. Fields are listed by
//! `fields()`.
//!
//! `app:` takes a catalog app or, R-G10, an Office app of Microsoft 365
//! (`sharepoint`, `onedrive`, `exchange`, `teams`, or their full names): an
//! Office app selects the Microsoft 365 records of its workload, while
//! `app:microsoft365` still selects every Microsoft 365 record.
//!
//! Comparisons ignore case. Dates are whole days in UTC (`after:` includes
//! its day, `before:` excludes its day, `date:a..b` includes both); `7d`,
//! `24h`, `30m` and `2w` count back from the `now` given to `bind`. Free
//! text is looked for in the actor, the actor's name, the activity type (as
//! shown or in the vendor's words) and the objects' names.

use std::fmt;

mod bind;
mod display;
mod fields;
mod parse;
mod query;
mod suggest;
mod suggested;
mod time;

#[cfg(test)]
pub(crate) mod arbitrary;
#[cfg(test)]
mod props;

pub use bind::{Names, NoNames};
pub use fields::{Field, FieldInfo, Flag, Op, Syntax, TimeField, fields, lookup};
pub use parse::parse;
pub use query::{Hints, Query};
pub use suggested::suggested_queries;
pub use time::{TimePoint, TimeTerm, TimeUnit};

/// Parsed filter text: every term must hold. An empty filter matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub terms: Vec<Term>,
}

/// One term, possibly negated.
#[derive(Debug, Clone)]
pub struct Term {
    pub negated: bool,
    pub kind: TermKind,
    /// Where the term starts in the text it was parsed from (1-based); not
    /// part of its meaning, so equality ignores it.
    pub column: usize,
}

impl Term {
    /// `field:value`, built in code (a pivot's "more like this"): its text,
    /// by `Display`, quotes and escapes the value as parsing expects.
    pub fn equals(field: Field, value: impl Into<String>) -> Term {
        Term {
            negated: false,
            kind: TermKind::Match {
                field,
                op: Op::Eq,
                values: vec![Value::new(value)],
            },
            column: 0,
        }
    }
}

impl PartialEq for Term {
    fn eq(&self, other: &Term) -> bool {
        self.negated == other.negated && self.kind == other.kind
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum TermKind {
    /// Free text, matched against actor, actor name, activity type and objects.
    Text(Value),
    Flag(Flag),
    /// Holds when the field compares true with any of the values.
    Match {
        field: Field,
        op: Op,
        values: Vec<Value>,
    },
    Time(TimeTerm),
}

/// A value as written (after unquoting and normalising app, action, kind and
/// country names).
#[derive(Debug, Clone)]
pub struct Value {
    pub text: String,
    /// 1-based; equality ignores it.
    pub column: usize,
}

impl Value {
    /// A value built in code rather than parsed; it has no column.
    pub fn new(text: impl Into<String>) -> Value {
        Value {
            text: text.into(),
            column: 0,
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        self.text == other.text
    }
}

/// A mistake in filter text, pointing at the offending column (1-based, in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub column: usize,
    /// One line, sanitized: it quotes what was typed, which may hold line
    /// breaks or escapes (pasted from vendor data), and is shown on one line.
    pub message: String,
}

impl FilterError {
    pub(crate) fn new(column: usize, message: impl Into<String>) -> FilterError {
        FilterError {
            column,
            message: crate::domain::text::sanitize(&message.into()),
        }
    }
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
