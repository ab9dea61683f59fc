//! Issue 13 part 3: the log sorted by any of its columns. `o` moves the sort
//! to the next column, `O` turns it around; the header marks it ▲ or ▼.
//! The rows loaded are sorted in place (the store pages newest first), and
//! again after each load, so live arrivals take their sorted place.

use std::cmp::Ordering;

use super::{ActivitiesPane, key};
use crate::domain::{Activity, AppKind};

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

    /// A number that never orders two rows against `compare`.
    fn rank(self, a: &Activity) -> u64 {
        match self {
            // Times are after 1970; the sign bit flipped keeps any order anyway.
            Column::Time => (a.time as u64) ^ (1 << 63),
            // The app's place among the apps by name, then the instance: exact.
            Column::Place => {
                let app = AppKind::ALL
                    .iter()
                    .filter(|k| k.slug() < a.app.slug())
                    .count();
                ((app as u64) << 32) | (a.instance.0 & 0xFFFF_FFFF)
            }
            Column::Actor => prefix(&a.actor),
            Column::Activity => prefix(&a.activity_type),
            Column::Country => prefix_of(a.country.as_deref()),
            Column::Ip => prefix_of(a.ip.as_deref()),
        }
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
///
/// Rows are large and their texts far apart in memory, so what is sorted is
/// small tuples: a number that orders as the column does wherever it differs
/// (a text's first eight bytes), the time, the position. Only a run of equal
/// numbers whose values still differ is ordered again by the rows themselves.
pub fn sort(rows: &mut Vec<Activity>, key: SortKey) {
    let column = key.column;
    let directed = |by: Ordering| if key.descending { by.reverse() } else { by };
    // Newest first among equals: the time's order turned around.
    let newest = |a: &Activity| !((a.time as u64) ^ (1 << 63));
    let mut order: Vec<(u64, u64, u32)> = rows
        .iter()
        .enumerate()
        .map(|(i, a)| (column.rank(a), newest(a), i as u32))
        .collect();
    order.sort_unstable_by(|x, y| directed(x.0.cmp(&y.0)).then((x.1, x.2).cmp(&(y.1, y.2))));
    let mut start = 0;
    while start < order.len() {
        let rank = order[start].0;
        let end = start + order[start..].iter().take_while(|o| o.0 == rank).count();
        let first = &rows[order[start].2 as usize];
        let run = &mut order[start..end];
        if run[1..]
            .iter()
            .any(|o| column.compare(&rows[o.2 as usize], first) != Ordering::Equal)
        {
            run.sort_unstable_by(|x, y| {
                let by = column.compare(&rows[x.2 as usize], &rows[y.2 as usize]);
                directed(by).then((x.1, x.2).cmp(&(y.1, y.2)))
            });
        }
        start = end;
    }
    let mut taken: Vec<Option<Activity>> = rows.drain(..).map(Some).collect();
    rows.extend(order.iter().filter_map(|o| taken[o.2 as usize].take()));
}

/// The first eight bytes of `s`, big-endian, zero-padded: ordered as `s` is
/// wherever they differ.
fn prefix(s: &str) -> u64 {
    let mut bytes = [0u8; 8];
    let n = s.len().min(8);
    bytes[..n].copy_from_slice(&s.as_bytes()[..n]);
    u64::from_be_bytes(bytes)
}

/// An absent value sorts first, as `None` does.
fn prefix_of(s: Option<&str>) -> u64 {
    s.map_or(0, |s| prefix(s).saturating_add(1).max(1))
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
