//! Issue 13 part 3: a list sorted by any of its columns, k9s-style. `o` moves
//! the sort to the next column and, after the last, back to the list's own
//! order (best match first while a filter is typed); `O` turns it around. The
//! header marks the column ▲ or ▼. Each pane keeps its own.

use std::cmp::Ordering;

use crate::tui::fuzzy::Hit;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListSort {
    /// `None`: the list's own order.
    pub column: Option<usize>,
    pub descending: bool,
}

impl ListSort {
    /// `o`: the next of `columns`, ascending; after the last, none.
    pub fn next(self, columns: usize) -> ListSort {
        let column = match self.column {
            None => Some(0),
            Some(c) if c + 1 < columns => Some(c + 1),
            Some(_) => None,
        };
        ListSort {
            column,
            descending: false,
        }
    }

    /// `O`: the other way round; from the list's own order, the first column
    /// descending.
    pub fn reversed(self) -> ListSort {
        ListSort {
            column: self.column.or(Some(0)),
            descending: self.column.is_none() || !self.descending,
        }
    }

    /// The column titles, the sorted one marked "▲" or "▼".
    pub fn titles<const N: usize>(self, titles: [&str; N]) -> [String; N] {
        std::array::from_fn(|i| match (self.column == Some(i), self.descending) {
            (false, _) => titles[i].to_owned(),
            (true, false) => format!("{} ▲", titles[i]),
            (true, true) => format!("{} ▼", titles[i]),
        })
    }

    /// Widens the sorted column, where its width is fixed, to its marked title.
    pub fn fit<const N: usize>(self, titles: &[String; N], widths: &mut [Option<u16>; N]) {
        use unicode_width::UnicodeWidthStr;
        if let Some(c) = self.column
            && let Some(w) = &mut widths[c]
        {
            *w = (*w).max(u16::try_from(titles[c].width()).unwrap_or(u16::MAX));
        }
    }

    /// Orders `hits` by the column, with `compare(a, b, column)` comparing the
    /// rows at two indexes. The sort is stable, so rows the column holds equal
    /// keep the list's own order (the best match first) whichever the direction.
    /// With no column, `hits` are left as they came.
    pub fn apply(self, hits: &mut [Hit], compare: impl Fn(usize, usize, usize) -> Ordering) {
        let Some(column) = self.column else {
            return;
        };
        hits.sort_by(|a, b| {
            let by = compare(a.index(), b.index(), column);
            if self.descending { by.reverse() } else { by }
        });
    }
}

/// Two texts in the order of their lower case, without making copies: a sort of
/// 100,000 names compares them about two million times.
pub fn caseless(a: &str, b: &str) -> Ordering {
    a.chars()
        .flat_map(char::to_lowercase)
        .cmp(b.chars().flat_map(char::to_lowercase))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(n: usize) -> Vec<Hit> {
        (0..n).map(Hit::at).collect()
    }

    // Issue 13: o goes through every column and back to the list's own order; O
    // turns the column round; the title says which.
    #[test]
    fn o_goes_round_the_columns_and_o_shift_turns_round() {
        let mut sort = ListSort::default();
        let mut seen = Vec::new();
        for _ in 0..4 {
            sort = sort.next(3);
            seen.push(sort.column);
        }
        assert_eq!(seen, [Some(0), Some(1), Some(2), None]);
        let titles = ["Name", "E-mail", "Status"];
        assert_eq!(ListSort::default().reversed().titles(titles)[0], "Name ▼");
        let by_name = ListSort::default().next(3);
        assert_eq!(by_name.titles(titles), ["Name ▲", "E-mail", "Status"]);
        assert_eq!(by_name.reversed().titles(titles)[0], "Name ▼");
        assert_eq!(by_name.reversed().reversed(), by_name);
        assert_eq!(ListSort::default().titles(titles), titles);
    }

    // Issue 13: ties keep the list's order in both directions.
    #[test]
    fn ties_keep_the_order_they_came_in() {
        let keys = [2, 1, 2, 1, 3];
        let compare = |a: usize, b: usize, _| keys[a].cmp(&keys[b]);
        let mut list = hits(5);
        ListSort::default().next(1).apply(&mut list, compare);
        let order: Vec<usize> = list.iter().map(|h| h.index()).collect();
        assert_eq!(order, [1, 3, 0, 2, 4]);
        let mut list = hits(5);
        ListSort::default()
            .next(1)
            .reversed()
            .apply(&mut list, compare);
        let order: Vec<usize> = list.iter().map(|h| h.index()).collect();
        assert_eq!(order, [4, 0, 2, 1, 3]);
        let mut list = hits(5);
        ListSort::default().apply(&mut list, compare);
        assert_eq!(list, hits(5), "no column: untouched");
    }
}
