//! Fuzzy matching for lists: every word of the query must match somewhere
//! (`fin emea` finds "Finance - EMEA Approvers"), scores add up, and the
//! matched characters are returned for highlighting.
//!
//! Lists are ranked with frizbee (SIMD Smith-Waterman), chosen by measurement over
//! nucleo's matcher: `cargo bench --bench fuzzy` runs both, and frizbee ranks 100,000
//! names several times faster (README, "Typing into a list"). The rows drawn are
//! highlighted with skim's (fuzzy-matcher), which works out matched characters.
//!
//! Accents are folded on both sides before matching ("muller" finds "Müller"), with
//! nucleo's table of Latin letters: frizbee compares bytes, and without it a typed
//! plain letter would never meet an accented one. The table maps a character to one
//! character, so positions in the folded text are positions in the text shown.

use std::borrow::Cow;
use std::ops::Range;

use frizbee::{CaseMatching, Config, Matcher, Pattern, PatternConfig, SortStrategy};
use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;

/// Threads a long ranking is split between: the machine casbah runs on may have
/// two cores, and the other keeps drawing.
const THREADS: usize = 2;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub index: usize,
    pub score: i64,
}

/// A hit packed so that sorting the numbers ranks them: best score first, then the
/// shorter text (the closer match), then list order.
pub(crate) type Key = u64;

fn key(score: u16, len: usize, index: usize) -> Key {
    let len = len.min(usize::from(u16::MAX)) as u64;
    (u64::from(u16::MAX - score) << 48) | (len << 32) | index as u64
}

impl Hit {
    pub(crate) fn from_key(key: Key) -> Hit {
        Hit {
            index: (key & 0xffff_ffff) as usize,
            score: i64::from(u16::MAX - (key >> 48) as u16),
        }
    }
}

/// Accents off ("García" → "Garcia"), one character for one.
pub fn fold(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.chars().map(nucleo_matcher::chars::normalize).collect())
}

/// The query as it is matched: its words, folded, one space apart. Two queries that
/// differ only in spaces rank the same, and this says so.
pub fn words(query: &str) -> String {
    fold(query).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A query made ready to score lists with.
pub(crate) struct Scorer {
    matcher: Matcher,
}

impl Scorer {
    /// `None` for a query with no words, which every item matches.
    ///
    /// Each word is its own pattern, built directly rather than parsed: what a person
    /// types into a list's filter is text to find, not fzf's operators (`!`, `^`, `'`
    /// and `$` are letters here). No typos: a hit has every letter of each word, in
    /// order, as before.
    pub(crate) fn new(query: &str) -> Option<Scorer> {
        let patterns: Vec<Pattern> = fold(query)
            .split_whitespace()
            .map(|w| Pattern::new(w, PatternConfig::default()))
            .collect();
        if patterns.is_empty() {
            return None;
        }
        let config = Config::default()
            .casing(CaseMatching::Ignore)
            .max_typos(Some(0))
            .sort(SortStrategy::IndexAsc);
        Some(Scorer {
            matcher: Matcher::from_patterns(&patterns, &config),
        })
    }

    /// Scores the items at `among[part]` (or at `part` itself when `among` is `None`;
    /// `texts` folded), adding the keys of those that match.
    pub(crate) fn score_into(
        &mut self,
        texts: &[String],
        among: Option<&[usize]>,
        part: Range<usize>,
        keys: &mut Vec<Key>,
    ) {
        match among {
            None => {
                let slice = &texts[part.clone()];
                let found = self.matcher.match_list_parallel(slice, THREADS);
                keys.extend(found.iter().map(|m| {
                    let index = part.start + m.index as usize;
                    key(m.score, texts[index].len(), index)
                }));
            }
            Some(among) => {
                let at = &among[part];
                let slice: Vec<&str> = at.iter().map(|&i| texts[i].as_str()).collect();
                let found = self.matcher.match_list_parallel(&slice, THREADS);
                keys.extend(found.iter().map(|m| {
                    let index = at[m.index as usize];
                    key(m.score, texts[index].len(), index)
                }));
            }
        }
    }
}

/// Ranks the items at `among` (positions in `texts`, every item when `None`) in one
/// go: best first; with an empty query, all in the order given. `texts` are folded
/// (`fold`).
pub fn rank_among(texts: &[String], among: Option<&[usize]>, query: &str) -> Vec<Hit> {
    let n = among.map_or(texts.len(), <[usize]>::len);
    let Some(mut scorer) = Scorer::new(query) else {
        let every = |i| Hit { index: i, score: 0 };
        return match among {
            Some(among) => among.iter().copied().map(every).collect(),
            None => (0..n).map(every).collect(),
        };
    };
    let mut keys = Vec::new();
    scorer.score_into(texts, among, 0..n, &mut keys);
    keys.sort_unstable();
    keys.into_iter().map(Hit::from_key).collect()
}

impl Fuzzy {
    /// The character positions to highlight in `text` for `query`.
    pub fn highlights(&self, text: &str, query: &str) -> Vec<usize> {
        let text = fold(text);
        let mut chars = Vec::new();
        for word in fold(query).split_whitespace() {
            match self.matcher.fuzzy_indices(&text, word) {
                Some((_, idx)) => chars.extend(idx),
                None => return Vec::new(),
            }
        }
        chars.sort_unstable();
        chars.dedup();
        chars
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(texts: &[&str]) -> Vec<String> {
        texts.iter().map(|t| fold(t).into_owned()).collect()
    }

    /// The score of `text` when every word of `query` matches.
    fn score(text: &str, query: &str) -> Option<i64> {
        rank_among(&owned(&[text]), None, query)
            .first()
            .map(|h| h.score)
    }

    // R-G2: several words all have to match, matched characters come back.
    #[test]
    fn every_word_must_match() {
        let f = Fuzzy::default();
        let chars = f.highlights("Finance - EMEA Approvers", "fin emea");
        assert_eq!(&chars[..3], &[0, 1, 2]);
        assert!(chars.contains(&10));
        assert!(score("Finance - APAC", "fin emea").is_none());
        assert!(f.highlights("Finance - APAC", "fin emea").is_empty());
        assert!(score("Finance - EMEA Approvers", "emea fin").is_some());
    }

    // A query that extends the previous one can only match fewer items, so
    // ranking among the previous hits gives the same answer as ranking all.
    #[test]
    fn narrowing_among_previous_hits_equals_ranking_all() {
        let texts = owned(&[
            "Finance EMEA",
            "Finance - EMEA Approvers",
            "Sales EMEA",
            "Fin Ops",
            "Marketing",
        ]);
        let first = rank_among(&texts, None, "fin e");
        let mut previous: Vec<usize> = first.iter().map(|h| h.index).collect();
        previous.sort_unstable();
        assert_eq!(
            rank_among(&texts, Some(&previous), "fin emea"),
            rank_among(&texts, None, "fin emea")
        );
    }

    // Issue 13: a long list ranked on two threads ranks as one thread does.
    #[test]
    fn a_long_list_split_between_threads_ranks_the_same() {
        let texts: Vec<String> = (0..40_000)
            .map(|i| format!("user{i}@corp{}.example", i % 97))
            .collect();
        let split = rank_among(&texts, None, "us 12 corp3");
        let mut one = Vec::new();
        for part in texts.chunks(1000).enumerate() {
            let mut keys = Vec::new();
            let at = part.0 * 1000;
            Scorer::new("us 12 corp3").unwrap().score_into(
                &texts,
                None,
                at..at + part.1.len(),
                &mut keys,
            );
            one.extend(keys);
        }
        one.sort_unstable();
        let whole: Vec<Hit> = one.into_iter().map(Hit::from_key).collect();
        assert!(split.len() > 100, "{}", split.len());
        assert_eq!(split, whole);
    }

    #[test]
    fn best_match_first_and_empty_query_keeps_order() {
        let names = owned(&["Sales EMEA", "Finance - EMEA Approvers", "Finance"]);
        let ranked = rank_among(&names, None, "finance");
        assert_eq!(ranked.len(), 2);
        assert_eq!(ranked[0].index, 2, "the exact name ranks first");
        let all = rank_among(&names, None, "  ");
        assert_eq!(all.iter().map(|h| h.index).collect::<Vec<_>>(), [0, 1, 2]);
    }

    // Issue 13: equal scores rank the shorter text first, then in list order.
    #[test]
    fn ties_go_to_the_shorter_text_then_list_order() {
        let texts = owned(&["Ann Smith ops", "Ann Smith", "Ann Smith ops", "Ann Smith"]);
        let ranked = rank_among(&texts, None, "ann");
        assert!(ranked.iter().all(|h| h.score == ranked[0].score));
        let order: Vec<usize> = ranked.iter().map(|h| h.index).collect();
        assert_eq!(order, [1, 3, 0, 2]);
    }

    // Issue 13: what a person types is text to find; fzf's operators mean nothing.
    #[test]
    fn operator_characters_are_letters() {
        let texts = owned(&["bob", "!bob", "^ann", "ann", "o'brien", "cost$"]);
        let indices = |q| -> Vec<usize> {
            let mut v: Vec<usize> = rank_among(&texts, None, q)
                .iter()
                .map(|h| h.index)
                .collect();
            v.sort_unstable();
            v
        };
        assert_eq!(indices("!bob"), [1], "not a negation");
        assert_eq!(indices("^ann"), [2], "not an anchor");
        assert_eq!(indices("'bri"), [4], "not an exact-substring mark");
        assert_eq!(indices("cost$"), [5], "not an end anchor");
    }

    // Issue 13: accents fold on both sides; case never matters.
    #[test]
    fn accents_and_case_fold() {
        let f = Fuzzy::default();
        for (text, query) in [
            ("Jonas Müller", "muller"),
            ("Ines García", "garcia"),
            ("Ines Garcia", "garcía"),
            ("Chloé Dubois", "CHLOÉ"),
            ("CHLOE DUBOIS", "chloé dub"),
        ] {
            assert!(score(text, query).is_some(), "{query:?} finds {text:?}");
        }
        assert!(score("Ines Garcia", "garcio").is_none(), "no typos");
        // Highlights land on the characters shown, accents and all.
        assert_eq!(f.highlights("Müller", "mu"), [0, 1]);
    }

    // Issue 13: spaces between words do not change what is ranked.
    #[test]
    fn words_are_what_is_matched() {
        assert_eq!(words("  jonas   silva "), "jonas silva");
        assert_eq!(words("García"), "Garcia");
        assert_eq!(words("   "), "");
    }
}
