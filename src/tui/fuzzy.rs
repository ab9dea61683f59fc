//! Fuzzy matching for lists: every word of the query must match somewhere
//! (`fin emea` finds "Finance - EMEA Approvers"), scores add up, and the
//! matched characters are returned for highlighting.
//!
//! Lists are ranked with nucleo's matcher (helix's), which ranks 100,000 names several
//! times faster than skim's, on two threads for long lists; the rows drawn are
//! highlighted with skim's (fuzzy-matcher), which works out matched characters.

use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;
use nucleo_matcher::pattern::{AtomKind, CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};

/// Above this many items a ranking is split between two threads.
const SPLIT_ABOVE: usize = 20_000;

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

/// The words of a query, each matched on its own, with no syntax: what a person types
/// into a list's filter is text to find, not fzf's operators.
fn pattern(query: &str) -> Pattern {
    Pattern::new(
        query,
        CaseMatching::Ignore,
        Normalization::Smart,
        AtomKind::Fuzzy,
    )
}

/// Scores each of `items` (position, text), keeping those that match.
fn score_all<'a>(
    pattern: &Pattern,
    items: impl Iterator<Item = (usize, &'a str)>,
) -> Vec<(Hit, usize)> {
    let mut matcher = Matcher::new(Config::DEFAULT);
    let mut buf = Vec::new();
    items
        .filter_map(|(index, text)| {
            let score = pattern.score(Utf32Str::new(text, &mut buf), &mut matcher)?;
            Some((
                Hit {
                    index,
                    score: i64::from(score),
                },
                text.len(),
            ))
        })
        .collect()
}

/// Best first; equal scores: the shorter name is the closer match, then list order.
fn best_first(mut hits: Vec<(Hit, usize)>) -> Vec<Hit> {
    hits.sort_unstable_by(|(a, al), (b, bl)| {
        b.score
            .cmp(&a.score)
            .then(al.cmp(bl))
            .then(a.index.cmp(&b.index))
    });
    hits.into_iter().map(|(h, _)| h).collect()
}

impl Fuzzy {
    /// The score when every word matches.
    pub fn score(&self, text: &str, query: &str) -> Option<i64> {
        score_all(&pattern(query), std::iter::once((0, text)))
            .first()
            .map(|(h, _)| h.score)
    }

    /// The character positions to highlight in `text` for `query`.
    pub fn highlights(&self, text: &str, query: &str) -> Vec<usize> {
        let mut chars = Vec::new();
        for word in query.split_whitespace() {
            match self.matcher.fuzzy_indices(text, word) {
                Some((_, idx)) => chars.extend(idx),
                None => return Vec::new(),
            }
        }
        chars.sort_unstable();
        chars.dedup();
        chars
    }

    /// Like `rank`, over the items at `candidates` (ascending positions in
    /// `texts`); the hits carry positions in `texts`.
    pub fn rank_among(&self, texts: &[String], candidates: &[usize], query: &str) -> Vec<Hit> {
        if query.trim().is_empty() {
            return candidates
                .iter()
                .map(|&index| Hit { index, score: 0 })
                .collect();
        }
        let pattern = pattern(query);
        let items = |part: &[usize]| {
            let items = part.iter().map(|&i| (i, texts[i].as_str()));
            score_all(&pattern, items)
        };
        let hits = if candidates.len() > SPLIT_ABOVE {
            let (first, second) = candidates.split_at(candidates.len() / 2);
            std::thread::scope(|s| {
                let other = s.spawn(|| items(second));
                let mut hits = items(first);
                match other.join() {
                    Ok(rest) => hits.extend(rest),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
                hits
            })
        } else {
            items(candidates)
        };
        best_first(hits)
    }

    /// The items that match, best first; with an empty query, all in order.
    pub fn rank<'a>(&self, items: impl Iterator<Item = &'a str>, query: &str) -> Vec<Hit> {
        if query.trim().is_empty() {
            return items
                .enumerate()
                .map(|(index, _)| Hit { index, score: 0 })
                .collect();
        }
        best_first(score_all(&pattern(query), items.enumerate()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // R-G2: several words all have to match, matched characters come back.
    #[test]
    fn every_word_must_match() {
        let f = Fuzzy::default();
        let chars = f.highlights("Finance - EMEA Approvers", "fin emea");
        assert_eq!(&chars[..3], &[0, 1, 2]);
        assert!(chars.contains(&10));
        assert!(f.score("Finance - APAC", "fin emea").is_none());
        assert!(f.highlights("Finance - APAC", "fin emea").is_empty());
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

    // Issue 13: a long list ranked on two threads ranks as one thread does.
    #[test]
    fn a_long_list_split_between_threads_ranks_the_same() {
        let f = Fuzzy::default();
        let texts: Vec<String> = (0..SPLIT_ABOVE * 2)
            .map(|i| format!("user{i}@corp{}.example", i % 97))
            .collect();
        let all: Vec<usize> = (0..texts.len()).collect();
        let split = f.rank_among(&texts, &all, "us 12 corp3");
        let whole = best_first(score_all(
            &pattern("us 12 corp3"),
            texts.iter().map(String::as_str).enumerate(),
        ));
        assert!(split.len() > 100, "{}", split.len());
        assert_eq!(split, whole);
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
