//! Typing into a filtered list (issue 13): the time from a key to the ranked list, as the
//! members pane does it (a key that extends the query ranks among the last hits; any other
//! ranks every row), for 100,000 and 1,000,000 names.
//!
//! `cargo bench --bench fuzzy`. Typed keys and backspaces are reported apart, so that
//! cheap backspaces cannot pull the typed keys' median down; skim's matcher (the engine
//! before) is measured in the same run for comparison.
//! Targets, typed keys: ≤ 5 ms median and ≤ 16 ms p95 at 100,000; ≤ 40 ms at 1,000,000.

use std::time::{Duration, Instant};

use casbah::tui::fuzzy::{Fuzzy, Hit};
use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const GIVEN: [&str; 16] = [
    "Ann", "Bob", "Chloé", "Dmitri", "Emeka", "Fatima", "Grace", "Hiro", "Ines", "Jonas", "Kofi",
    "Lena", "Mateo", "Nadia", "Omar", "Priya",
];
const FAMILY: [&str; 16] = [
    "Smith",
    "García",
    "Okafor",
    "Nguyen",
    "Müller",
    "Kowalski",
    "Haddad",
    "Tanaka",
    "Silva",
    "Andersson",
    "Novak",
    "Rossi",
    "Dubois",
    "Ivanova",
    "Mensah",
    "Chen",
];
/// What an investigator types, then takes back: the keys of a search for a person.
const QUERIES: [&str; 3] = ["jonas silva", "priya corp", "mat ross"];

/// Rows as the members pane keeps them: name, e-mail and status in one text.
fn names(n: usize) -> Vec<String> {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    (0..n)
        .map(|i| {
            let given = GIVEN[rng.random_range(0..GIVEN.len())];
            let family = FAMILY[rng.random_range(0..FAMILY.len())];
            format!(
                "{given} {family} {}.{}{i}@corp{}.example active",
                given.to_lowercase(),
                family.to_lowercase(),
                i % 40
            )
        })
        .collect()
}

/// skim's ranking as casbah did it before: every word must match, scores add up.
fn skim_rank(matcher: &SkimMatcherV2, texts: &[String], among: &[usize], query: &str) -> Vec<Hit> {
    let mut hits: Vec<Hit> = among
        .iter()
        .filter_map(|&index| {
            let score = query
                .split_whitespace()
                .map(|w| matcher.fuzzy_match(&texts[index], w))
                .sum::<Option<i64>>()?;
            Some(Hit { index, score })
        })
        .collect();
    hits.sort_unstable_by(|a, b| b.score.cmp(&a.score).then(a.index.cmp(&b.index)));
    hits
}

/// Types each query key by key and takes it back, timing each key: (typed, backspaces).
fn typing(
    texts: &[String],
    rank: &mut dyn FnMut(&[usize], &str) -> Vec<Hit>,
) -> (Vec<Duration>, Vec<Duration>) {
    let every: Vec<usize> = (0..texts.len()).collect();
    let (mut typed, mut erased) = (Vec::new(), Vec::new());
    for query in QUERIES {
        let keys: Vec<&str> = (1..=query.len()).map(|n| &query[..n]).collect();
        let mut hits: Vec<usize> = every.clone();
        for key in &keys {
            let started = Instant::now();
            let ranked = rank(&hits, key);
            typed.push(started.elapsed());
            hits = ranked.iter().map(|h| h.index).collect();
            hits.sort_unstable();
        }
        // A backspace ranks every row again (the pane keeps no earlier results here).
        for key in keys.iter().rev().skip(1) {
            let started = Instant::now();
            std::hint::black_box(rank(&every, key));
            erased.push(started.elapsed());
        }
    }
    (typed, erased)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// (first key, median, p95) of the typed keys, and the backspaces' median.
fn summary(typed: &[Duration], erased: &[Duration]) -> String {
    let first = typed[0];
    let mut sorted = typed.to_vec();
    sorted.sort_unstable();
    let median = sorted[sorted.len() / 2];
    let p95 = sorted[(sorted.len() * 95 / 100).min(sorted.len() - 1)];
    let mut erased = erased.to_vec();
    erased.sort_unstable();
    format!(
        "first {:>7.2} ms  median {:>7.2} ms  p95 {:>7.2} ms  backspace median {:>7.2} ms",
        ms(first),
        ms(median),
        ms(p95),
        ms(erased[erased.len() / 2])
    )
}

fn main() {
    let fuzzy = Fuzzy::default();
    let skim = SkimMatcherV2::default().ignore_case();
    println!("casbah fuzzy benchmark: typed keys of {QUERIES:?}");
    for n in [100_000, 1_000_000] {
        let texts = names(n);
        let (typed, erased) = typing(&texts, &mut |among, q| fuzzy.rank_among(&texts, among, q));
        println!("{n:>9} names, nucleo: {}", summary(&typed, &erased));
        let (typed, erased) = typing(&texts, &mut |among, q| skim_rank(&skim, &texts, among, q));
        println!("{n:>9} names, skim:   {}", summary(&typed, &erased));
    }
}
