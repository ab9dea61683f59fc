//! Typing into a filtered list (issue 13), for 100,000 and 1,000,000 names.
//!
//! `cargo bench --bench fuzzy`. For each engine, the time from a key to the ranked list
//! as the members pane once did it on the UI thread (a key that extends the query ranks
//! among the last hits; a backspace ranks every row again): frizbee (casbah's engine),
//! nucleo's matcher (the engine before it) and skim's (the one before that), in the same
//! run so that one choice is made by measurement. Typed keys and backspaces are reported
//! apart, so that cheap backspaces cannot pull the typed keys' median down.
//!
//! Then casbah as it runs: `Ranking` asks for a pass off the UI thread, which sends the
//! best hits so far after a frame and then all of them; reported are the time the UI
//! thread spends on a key, the time to the first answer drawn (partial or whole) and
//! to the whole ranking, and the backspaces (given back from the rankings kept).
//! Targets, typed keys: ≤ 5 ms median and ≤ 16 ms p95 at 100,000; ≤ 40 ms at 1,000,000.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use casbah::tui::fuzzy::{Hit, fold, rank_among};
use casbah::tui::msg::Cmd;
use casbah::tui::ranking::{Ranked, Ranking, SYNC_BELOW, prefer_small_pages};
use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;
use nucleo_matcher::pattern::{AtomKind, CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};
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

/// frizbee's ranking as casbah runs it on one thread (`rank_among`): positions, best
/// first.
fn frizbee_rank(texts: &[String], among: &[usize], query: &str) -> Vec<usize> {
    let hits = rank_among(texts, Some(among), query);
    hits.into_iter().map(Hit::index).collect()
}

/// skim's ranking as casbah did it first: every word must match, scores add up.
fn skim_rank(
    matcher: &SkimMatcherV2,
    texts: &[String],
    among: &[usize],
    query: &str,
) -> Vec<usize> {
    let mut hits: Vec<(i64, usize)> = among
        .iter()
        .filter_map(|&index| {
            let score = query
                .split_whitespace()
                .map(|w| matcher.fuzzy_match(&texts[index], w))
                .sum::<Option<i64>>()?;
            Some((score, index))
        })
        .collect();
    hits.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    hits.into_iter().map(|(_, index)| index).collect()
}

/// nucleo's ranking as casbah did it before frizbee: words as fuzzy atoms, accents
/// folded, two threads above 20,000 rows, ties to the shorter text.
fn nucleo_rank(texts: &[String], among: &[usize], query: &str) -> Vec<usize> {
    let pattern = Pattern::new(
        query,
        CaseMatching::Ignore,
        Normalization::Smart,
        AtomKind::Fuzzy,
    );
    let score = |part: &[usize]| {
        let mut matcher = Matcher::new(Config::DEFAULT);
        let mut buf = Vec::new();
        part.iter()
            .filter_map(|&index| {
                let s = pattern.score(Utf32Str::new(&texts[index], &mut buf), &mut matcher)?;
                Some((i64::from(s), texts[index].len(), index))
            })
            .collect::<Vec<_>>()
    };
    let mut hits = if among.len() > 20_000 {
        let (first, second) = among.split_at(among.len() / 2);
        std::thread::scope(|s| {
            let other = s.spawn(|| score(second));
            let mut hits = score(first);
            hits.extend(other.join().expect("nucleo thread"));
            hits
        })
    } else {
        score(among)
    };
    hits.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    hits.into_iter().map(|(_, _, index)| index).collect()
}

/// Types each query key by key and takes it back, timing each key: (typed, backspaces).
fn typing(
    texts: &[String],
    rank: &mut dyn FnMut(&[usize], &str) -> Vec<usize>,
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
            hits = ranked;
            hits.sort_unstable();
        }
        // A backspace ranks every row again (no earlier results kept here).
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

fn median(d: &[Duration]) -> Duration {
    let mut sorted = d.to_vec();
    sorted.sort_unstable();
    sorted[sorted.len() / 2]
}

fn p95(d: &[Duration]) -> Duration {
    let mut sorted = d.to_vec();
    sorted.sort_unstable();
    sorted[(sorted.len() * 95 / 100).min(sorted.len() - 1)]
}

/// (first key, median, p95) of the typed keys, and the backspaces' median.
fn summary(typed: &[Duration], erased: &[Duration]) -> String {
    format!(
        "first {:>7.2} ms  median {:>7.2} ms  p95 {:>7.2} ms  backspace median {:>7.2} ms",
        ms(typed[0]),
        ms(median(typed)),
        ms(p95(typed)),
        ms(median(erased))
    )
}

/// What one key cost in casbah: on the UI thread, to the first answer drawn, to all.
struct Key {
    ui: Duration,
    first: Duration,
    whole: Duration,
    partial: bool,
}

/// A key into `Ranking`, its pass (if any) run on a thread of its own as the
/// dashboard's runner does, the answers taken as the event loop takes them.
fn key(r: &mut Ranking, query: &str) -> Key {
    let started = Instant::now();
    let cmd = r.query(query);
    let ui = started.elapsed();
    let Some(Cmd::Rank(job)) = cmd else {
        return Key {
            ui,
            first: ui,
            whole: ui,
            partial: false,
        };
    };
    let (tx, rx) = mpsc::channel::<Ranked>();
    let worker = std::thread::spawn(move || job.run(&mut |ranked| drop(tx.send(ranked))));
    let (mut first, mut partial) = (None, false);
    let mut whole = ui;
    for ranked in rx {
        let at = started.elapsed();
        first.get_or_insert(at);
        partial |= ranked.partial;
        let done = !ranked.partial;
        let _ = r.answer(ranked);
        if done {
            whole = started.elapsed();
        }
    }
    worker.join().expect("ranking thread");
    Key {
        ui,
        first: first.unwrap_or(ui),
        whole,
        partial,
    }
}

fn casbah(texts: &[String]) -> String {
    let mut r = Ranking::default();
    let _ = r.set_texts(texts.iter().map(String::as_str));
    let (mut typed, mut erased) = (Vec::new(), Vec::new());
    for query in QUERIES {
        let keys: Vec<&str> = (1..=query.len()).map(|n| &query[..n]).collect();
        for k in &keys {
            typed.push(key(&mut r, k));
        }
        for k in keys.iter().rev().skip(1) {
            erased.push(key(&mut r, k).whole);
        }
        let _ = key(&mut r, "");
    }
    let of = |f: fn(&Key) -> Duration| typed.iter().map(f).collect::<Vec<_>>();
    let (ui, first, whole) = (of(|k| k.ui), of(|k| k.first), of(|k| k.whole));
    let partial: Vec<Duration> = typed
        .iter()
        .filter(|k| k.partial)
        .map(|k| k.first)
        .collect();
    format!(
        "UI thread median {:.3} ms, max {:.3} ms; first rows drawn: first key {:.2} ms, median {:.2} ms, p95 {:.2} ms; \
         whole ranking: median {:.2} ms, p95 {:.2} ms; {} keys drew partial rows first (median {:.2} ms to them); \
         backspace median {:.3} ms, p95 {:.2} ms",
        ms(median(&ui)),
        ms(*ui.iter().max().expect("keys")),
        ms(first[0]),
        ms(median(&first)),
        ms(p95(&first)),
        ms(median(&whole)),
        ms(p95(&whole)),
        partial.len(),
        if partial.is_empty() {
            0.0
        } else {
            ms(median(&partial))
        },
        ms(median(&erased)),
        ms(p95(&erased)),
    )
}

fn main() {
    // As the dashboard does when it starts.
    if !std::env::args().any(|a| a == "huge-pages") {
        prefer_small_pages();
    }
    let skim = SkimMatcherV2::default().ignore_case();
    println!("casbah fuzzy benchmark: typed keys of {QUERIES:?}");
    // Below SYNC_BELOW a list ranks on the UI thread: what that costs.
    let small = names(SYNC_BELOW);
    let folded: Vec<String> = small.iter().map(|t| fold(t).into_owned()).collect();
    let (typed, erased) = typing(&folded, &mut |among, q| frizbee_rank(&folded, among, q));
    println!(
        "{SYNC_BELOW:>9} names, frizbee: {}",
        summary(&typed, &erased)
    );
    // `cargo bench --bench fuzzy -- casbah`: casbah's rows alone.
    let others = !std::env::args().any(|a| a == "casbah");
    for n in [100_000, 1_000_000] {
        let texts = names(n);
        if !others {
            println!("{n:>9} names, casbah:  {}", casbah(&texts));
            continue;
        }
        let folded: Vec<String> = texts.iter().map(|t| fold(t).into_owned()).collect();
        let (typed, erased) = typing(&folded, &mut |among, q| frizbee_rank(&folded, among, q));
        println!("{n:>9} names, frizbee: {}", summary(&typed, &erased));
        let (typed, erased) = typing(&texts, &mut |among, q| nucleo_rank(&texts, among, q));
        println!("{n:>9} names, nucleo:  {}", summary(&typed, &erased));
        let (typed, erased) = typing(&texts, &mut |among, q| skim_rank(&skim, &texts, among, q));
        println!("{n:>9} names, skim:    {}", summary(&typed, &erased));
        println!("{n:>9} names, casbah:  {}", casbah(&texts));
    }
}
