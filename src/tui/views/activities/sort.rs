//! Issue 13 part 3: the log sorted by any of its columns. `o` moves the sort
//! to the next column, `O` turns it around; the header marks it ▲ or ▼.
//! The rows loaded are sorted in place (the store pages newest first), and
//! again after each load, so live arrivals take their sorted place.

use std::cmp::Ordering;

use super::{ActivitiesPane, key};
use crate::domain::Activity;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Time,
    Place,
    Actor,
    Activity,
    Country,
    Ip,
}

impl Column {
    /// In the table's order.
    pub const ALL: [Column; 6] = [
        Column::Time,
        Column::Place,
        Column::Actor,
        Column::Activity,
        Column::Country,
        Column::Ip,
    ];

    pub fn index(self) -> usize {
        Column::ALL.iter().position(|c| *c == self).unwrap_or(0)
    }

    fn compare(self, a: &Activity, b: &Activity) -> Ordering {
        match self {
            Column::Time => a.time.cmp(&b.time),
            Column::Place => (a.app.slug(), a.instance.0).cmp(&(b.app.slug(), b.instance.0)),
            Column::Actor => a.actor.cmp(&b.actor),
            Column::Activity => a.activity_type.cmp(&b.activity_type),
            Column::Country => a.country.cmp(&b.country),
            Column::Ip => a.ip.cmp(&b.ip),
        }
    }
}

/// How the log is ordered; the default is the store's, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    pub column: Column,
    pub descending: bool,
}

impl Default for SortKey {
    fn default() -> SortKey {
        SortKey {
            column: Column::Time,
            descending: true,
        }
    }
}

impl SortKey {
    /// `o`: the next column, ascending (time, newest first).
    pub fn next(self) -> SortKey {
        let column = Column::ALL[(self.column.index() + 1) % Column::ALL.len()];
        SortKey {
            column,
            descending: column == Column::Time,
        }
    }

    /// `O`.
    pub fn reversed(self) -> SortKey {
        SortKey {
            descending: !self.descending,
            ..self
        }
    }

    /// "▲" or "▼" after the title of `column`, when the log is sorted by it.
    pub fn mark(self, column: Column) -> &'static str {
        match (self.column == column, self.descending) {
            (false, _) => "",
            (true, false) => " ▲",
            (true, true) => " ▼",
        }
    }
}

impl ActivitiesPane {
    /// `o` and `O`: the loaded rows in a new order, the same row selected.
    pub(super) fn sort_by(&mut self, by: SortKey) {
        let selected = self
            .rows
            .get(self.cursor.selected)
            .map(|a| (a.instance, a.id.clone()));
        self.sort = by;
        sort(&mut self.rows, by);
        if let Some(at) =
            selected.and_then(|(i, id)| self.rows.iter().position(|a| key(a) == (i, id.as_str())))
        {
            self.cursor.selected = at;
        }
    }
}

/// Sorts `rows` by `key`; ties stay newest first, whatever the direction.
pub fn sort(rows: &mut [Activity], key: SortKey) {
    rows.sort_unstable_by(|a, b| {
        let by = key.column.compare(a, b);
        let by = if key.descending { by.reverse() } else { by };
        by.then_with(|| b.time.cmp(&a.time))
            .then_with(|| a.id.cmp(&b.id))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::filter::arbitrary;
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    fn rows(n: usize) -> Vec<Activity> {
        let mut runner = TestRunner::deterministic();
        let strategy = proptest::collection::vec(arbitrary::activity(1_790_000_000_000_000), n);
        strategy
            .new_tree(&mut runner)
            .expect("activities")
            .current()
    }

    // Issue 13: every column sorts both ways, and ties stay newest first.
    #[test]
    fn every_column_sorts_both_ways() {
        let mut list = rows(200);
        for column in Column::ALL {
            for descending in [false, true] {
                let key = SortKey { column, descending };
                sort(&mut list, key);
                for pair in list.windows(2) {
                    let by = column.compare(&pair[0], &pair[1]);
                    let by = if descending { by.reverse() } else { by };
                    assert_ne!(by, Ordering::Greater, "{key:?}");
                    if by == Ordering::Equal {
                        assert!(pair[0].time >= pair[1].time, "{key:?}: ties newest first");
                    }
                }
            }
        }
        let mut key = SortKey::default();
        for _ in Column::ALL {
            key = key.next();
        }
        assert_eq!(
            key,
            SortKey::default(),
            "o goes round to time, newest first"
        );
        assert_eq!(key.reversed().mark(Column::Time), " ▲");
    }
}
