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
use std::ops::{ControlFlow, Range};

use frizbee::{CaseMatching, Config, Matcher, Pattern, PatternConfig, SortStrategy};
use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;

use super::scoring::{Items, score_chunks};

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

/// A match: the item's position and its score, packed in one number so that sorting
/// hits ranks them: best score first, then the shorter text (the closer match), then
/// list order. A million hits take 8 MB, which a key that ranks them all writes anew.
/// Matched characters are worked out only for the rows drawn (`highlights`), which
/// keeps ranking a long list cheap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Hit(Key);

/// A hit as the number it is packed in.
pub(crate) type Key = u64;

impl Hit {
    pub(crate) fn new(score: u16, len: usize, index: usize) -> Hit {
        let len = len.min(usize::from(u16::MAX)) as u64;
        Hit((u64::from(u16::MAX - score) << 48) | (len << 32) | index as u64)
    }

    /// Item `index`, unscored: lists in their own order.
    pub fn at(index: usize) -> Hit {
        Hit::new(0, 0, index)
    }

    pub(crate) fn from_key(key: Key) -> Hit {
        Hit(key)
    }

    pub(crate) fn key(self) -> Key {
        self.0
    }

    /// The same hit, for the item at `index` of another list.
    pub fn moved_to(self, index: usize) -> Hit {
        Hit((self.0 & !0xffff_ffff) | index as u64)
    }

    pub fn index(self) -> usize {
        (self.0 & 0xffff_ffff) as usize
    }

    pub fn score(self) -> u16 {
        u16::MAX - (self.0 >> 48) as u16
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

/// A query made ready to score lists with: a matcher a word.
///
/// frizbee scores each word of a query on its own and adds the scores up (saturating);
/// matching the words one at a time does the same, and tells apart the score of the
/// words before the last, which typing on can then carry over (`Scores`).
#[derive(Clone)]
pub(crate) struct Scorer {
    words: Vec<Matcher>,
}

impl Scorer {
    /// `None` for a query with no words, which every item matches.
    ///
    /// Each word is its own pattern, built directly rather than parsed: what a person
    /// types into a list's filter is text to find, not fzf's operators (`!`, `^`, `'`
    /// and `$` are letters here). No typos: a hit has every letter of each word, in
    /// order, as before.
    pub(crate) fn new(query: &str) -> Option<Scorer> {
        let config = Config::default()
            .casing(CaseMatching::Ignore)
            .max_typos(Some(0))
            .sort(SortStrategy::IndexAsc);
        let words: Vec<Matcher> = fold(query)
            .split_whitespace()
            .map(|w| Matcher::new(Pattern::new(w, PatternConfig::default()), &config))
            .collect();
        (!words.is_empty()).then_some(Scorer { words })
    }

    /// Scores `items` (of `texts`, folded), adding a `Scored` for those every word
    /// matches, in the order given, and the same hits' keys.
    pub(crate) fn score(
        &mut self,
        texts: &[String],
        mut items: Chunk<'_>,
        scored: &mut Vec<Scored>,
        keys: &mut Vec<Key>,
    ) {
        let (last, before) = self.words.split_last_mut().expect("a word");
        for word in before {
            let mut matched = Vec::with_capacity(items.len());
            each_match(word, texts, &items, |index, carried, score| {
                matched.push((index, carried.saturating_add(score)));
            });
            items = Chunk::Carrying(matched);
        }
        each_match(last, texts, &items, |index, base, score| {
            let total = base.saturating_add(score);
            scored.push(Scored::new(index, total, base));
            keys.push(Hit::new(total, texts[index].len(), index).key());
        });
    }
}

/// Items to score: a run of the list (given straight to frizbee), the hits of a
/// shorter query, or these positions, in any order; each with the score it carries
/// from words matched before.
pub(crate) enum Chunk<'a> {
    Run(Range<usize>),
    Hits(&'a [Scored], Carry),
    Carrying(Vec<(usize, u16)>),
}

/// Which score of a hit a narrowing pass starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Carry {
    /// Words were added: every word matched before still counts.
    Total,
    /// The last word grew: it is matched again, on top of the words before it.
    Base,
}

impl Chunk<'_> {
    pub(crate) fn len(&self) -> usize {
        match self {
            Chunk::Run(run) => run.len(),
            Chunk::Hits(hits, _) => hits.len(),
            Chunk::Carrying(items) => items.len(),
        }
    }

    fn at(&self, i: usize) -> (usize, u16) {
        match self {
            Chunk::Run(run) => (run.start + i, 0),
            Chunk::Hits(hits, Carry::Total) => (hits[i].index(), hits[i].total()),
            Chunk::Hits(hits, Carry::Base) => (hits[i].index(), hits[i].base()),
            Chunk::Carrying(items) => items[i],
        }
    }
}

/// Calls `found` with the position, the score carried and the word's score of each
/// item `word` matches, in order.
fn each_match(
    word: &mut Matcher,
    texts: &[String],
    items: &Chunk<'_>,
    mut found: impl FnMut(usize, u16, u16),
) {
    let matched = match items {
        Chunk::Run(run) => word.match_list(&texts[run.clone()]),
        Chunk::Hits(hits, _) => {
            let texts: Vec<&str> = hits.iter().map(|h| texts[h.index()].as_str()).collect();
            word.match_list(&texts)
        }
        Chunk::Carrying(items) => {
            let texts: Vec<&str> = items.iter().map(|&(i, _)| texts[i].as_str()).collect();
            word.match_list(&texts)
        }
    };
    for m in matched {
        let (index, carried) = items.at(m.index as usize);
        found(index, carried, m.score);
    }
}

/// A hit with what typing on needs: its score, and the score of the query's words
/// before the last (its base), packed in one number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Scored(u64);

impl Scored {
    pub(crate) fn new(index: usize, total: u16, base: u16) -> Scored {
        Scored(((index as u64) << 32) | (u64::from(total) << 16) | u64::from(base))
    }

    pub(crate) fn index(self) -> usize {
        (self.0 >> 32) as usize
    }

    pub(crate) fn total(self) -> u16 {
        (self.0 >> 16) as u16
    }

    pub(crate) fn base(self) -> u16 {
        self.0 as u16
    }
}

/// Ranks the items at `among` (positions in `texts`, every item when `None`) in one
/// go: best first; with an empty query, all in the order given. `texts` are folded
/// (`fold`).
pub fn rank_among(texts: &[String], among: Option<&[usize]>, query: &str) -> Vec<Hit> {
    let Some(scorer) = Scorer::new(query) else {
        let every = Hit::at;
        return match among {
            Some(among) => among.iter().copied().map(every).collect(),
            None => (0..texts.len()).map(every).collect(),
        };
    };
    let items = among.map_or(Items::Every(texts.len()), Items::At);
    let mut keys = Vec::new();
    score_chunks(&scorer, texts, items, &|| false, &mut |part| {
        keys.extend(part.keys);
        ControlFlow::Continue(())
    });
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
    fn score(text: &str, query: &str) -> Option<u16> {
        rank_among(&owned(&[text]), None, query)
            .first()
            .map(|h| h.score())
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
        let mut previous: Vec<usize> = first.iter().map(|h| h.index()).collect();
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
        let mut scorer = Scorer::new("us 12 corp3").unwrap();
        let mut one = Vec::new();
        for at in (0..texts.len()).step_by(1000) {
            scorer.score(&texts, Chunk::Run(at..at + 1000), &mut Vec::new(), &mut one);
        }
        one.sort_unstable();
        let whole: Vec<Hit> = one.into_iter().map(Hit::from_key).collect();
        assert!(split.len() > 100, "{}", split.len());
        assert_eq!(split, whole);
    }

    // Issue 13: matching the words one at a time scores as frizbee's matcher of them
    // all does.
    #[test]
    fn words_one_at_a_time_score_as_frizbee_does() {
        let texts = owned(&[
            "Jonas Silva jonas.silva7@corp7.example active",
            "Mateo Rossi mateo.rossi12@corp12.example active",
            "Priya Müller priya.muller3@corp3.example active",
            "mat ross",
            "Ann Smith",
        ]);
        for query in ["mat r", "mat ross corp", "a a a", "jonas si ex", "e"] {
            let patterns: Vec<Pattern> = query
                .split_whitespace()
                .map(|w| Pattern::new(w, PatternConfig::default()))
                .collect();
            let config = Config::default()
                .casing(CaseMatching::Ignore)
                .max_typos(Some(0))
                .sort(SortStrategy::IndexAsc);
            let whole: Vec<(usize, u16)> = Matcher::from_patterns(&patterns, &config)
                .match_list(&texts)
                .iter()
                .map(|m| (m.index as usize, m.score))
                .collect();
            let mut scored = Vec::new();
            let items = Chunk::Carrying((0..texts.len()).map(|i| (i, 0)).collect());
            Scorer::new(query)
                .unwrap()
                .score(&texts, items, &mut scored, &mut Vec::new());
            let ours: Vec<(usize, u16)> = scored.iter().map(|s| (s.index(), s.total())).collect();
            assert_eq!(ours, whole, "{query:?}");
        }
    }

    #[test]
    fn best_match_first_and_empty_query_keeps_order() {
        let names = owned(&["Sales EMEA", "Finance - EMEA Approvers", "Finance"]);
        let ranked = rank_among(&names, None, "finance");
        assert_eq!(ranked.len(), 2);
        assert_eq!(ranked[0].index(), 2, "the exact name ranks first");
        let all = rank_among(&names, None, "  ");
        assert_eq!(all.iter().map(|h| h.index()).collect::<Vec<_>>(), [0, 1, 2]);
    }

    // Issue 13: equal scores rank the shorter text first, then in list order.
    #[test]
    fn ties_go_to_the_shorter_text_then_list_order() {
        let texts = owned(&["Ann Smith ops", "Ann Smith", "Ann Smith ops", "Ann Smith"]);
        let ranked = rank_among(&texts, None, "ann");
        assert!(ranked.iter().all(|h| h.score() == ranked[0].score()));
        let order: Vec<usize> = ranked.iter().map(|h| h.index()).collect();
        assert_eq!(order, [1, 3, 0, 2]);
    }

    // Issue 13: what a person types is text to find; fzf's operators mean nothing.
    #[test]
    fn operator_characters_are_letters() {
        let texts = owned(&["bob", "!bob", "^ann", "ann", "o'brien", "cost$"]);
        let indices = |q| -> Vec<usize> {
            let mut v: Vec<usize> = rank_among(&texts, None, q)
                .iter()
                .map(|h| h.index())
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
