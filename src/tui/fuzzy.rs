//! Fuzzy matching for lists: every word of the query must match somewhere
//! (`fin emea` finds "Finance - EMEA Approvers"), scores add up, and the
//! matched characters are returned for highlighting.

use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;

pub struct Fuzzy {
    matcher: SkimMatcherV2,
}

impl Default for Fuzzy {
    fn default() -> Fuzzy {
        Fuzzy {
            matcher: SkimMatcherV2::default().ignore_case(),
        }
    }
}

/// A match: the item's position and its score. Matched characters are
/// worked out only for the rows drawn (`highlights`), which keeps ranking a
/// long list cheap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub index: usize,
    pub score: i64,
}

impl Fuzzy {
    /// The score when every word matches.
    pub fn score(&self, text: &str, query: &str) -> Option<i64> {
        query
            .split_whitespace()
            .map(|word| self.matcher.fuzzy_match(text, word))
            .sum()
    }

    /// The character positions to highlight in `text` for `query`.
    pub fn highlights(&self, text: &str, query: &str) -> Vec<usize> {
        self.matches(text, query)
            .map(|(_, chars)| chars)
            .unwrap_or_default()
    }

    pub fn matches(&self, text: &str, query: &str) -> Option<(i64, Vec<usize>)> {
        let mut score = 0;
        let mut chars = Vec::new();
        for word in query.split_whitespace() {
            let (s, idx) = self.matcher.fuzzy_indices(text, word)?;
            score += s;
            chars.extend(idx);
        }
        chars.sort_unstable();
        chars.dedup();
        Some((score, chars))
    }

    /// Like `rank`, over the items at `candidates` (ascending positions in
    /// `texts`); the hits carry positions in `texts`.
    pub fn rank_among(&self, texts: &[String], candidates: &[usize], query: &str) -> Vec<Hit> {
        let mut hits = self.rank(candidates.iter().map(|i| texts[*i].as_str()), query);
        for h in &mut hits {
            h.index = candidates[h.index];
        }
        hits
    }

    /// The items that match, best first; with an empty query, all in order.
    pub fn rank<'a>(&self, items: impl Iterator<Item = &'a str>, query: &str) -> Vec<Hit> {
        let mut hits: Vec<(Hit, usize)> = items
            .enumerate()
            .filter_map(|(index, text)| {
                let score = self.score(text, query)?;
                Some((Hit { index, score }, text.len()))
            })
            .collect();
        if !query.trim().is_empty() {
            // Equal scores: the shorter name is the closer match.
            hits.sort_by(|(a, al), (b, bl)| {
                b.score
                    .cmp(&a.score)
                    .then(al.cmp(bl))
                    .then(a.index.cmp(&b.index))
            });
        }
        hits.into_iter().map(|(h, _)| h).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // R-G2: several words all have to match, matched characters come back.
    #[test]
    fn every_word_must_match() {
        let f = Fuzzy::default();
        let (_, chars) = f
            .matches("Finance - EMEA Approvers", "fin emea")
            .expect("match");
        assert_eq!(&chars[..3], &[0, 1, 2]);
        assert!(chars.contains(&10));
        assert!(f.matches("Finance - APAC", "fin emea").is_none());
    }

    // A query that extends the previous one can only match fewer items, so
    // ranking among the previous hits gives the same answer as ranking all.
    #[test]
    fn narrowing_among_previous_hits_equals_ranking_all() {
        let f = Fuzzy::default();
        let texts: Vec<String> = [
            "Finance EMEA",
            "Finance - EMEA Approvers",
            "Sales EMEA",
            "Fin Ops",
            "Marketing",
        ]
        .map(String::from)
        .to_vec();
        let all: Vec<usize> = (0..texts.len()).collect();
        let first = f.rank_among(&texts, &all, "fin e");
        let mut previous: Vec<usize> = first.iter().map(|h| h.index).collect();
        previous.sort_unstable();
        assert_eq!(
            f.rank_among(&texts, &previous, "fin emea"),
            f.rank_among(&texts, &all, "fin emea")
        );
    }

    #[test]
    fn best_match_first_and_empty_query_keeps_order() {
        let f = Fuzzy::default();
        let names = ["Sales EMEA", "Finance - EMEA Approvers", "Finance"];
        let ranked = f.rank(names.iter().copied(), "finance");
        assert_eq!(ranked.len(), 2);
        assert_eq!(ranked[0].index, 2, "the exact name ranks first");
        let all = f.rank(names.iter().copied(), "  ");
        assert_eq!(all.iter().map(|h| h.index).collect::<Vec<_>>(), [0, 1, 2]);
    }
}
