use std::sync::mpsc;

use super::*;
use crate::tui::scoring::{CHUNK, PARTIAL_ROWS};

fn names(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!(
                "user{i} {}@corp{}.example",
                ["ann", "bob", "chloé"][i % 3],
                i % 40
            )
        })
        .collect()
}

fn ranking_of(texts: &[String]) -> (Ranking, Option<Cmd>) {
    let mut r = Ranking::default();
    let cmd = r.set_texts(texts.iter().map(String::as_str));
    (r, cmd)
}

/// The whole ranking of `texts` for `query`, in one go.
fn in_one_go(texts: &[String], query: &str) -> Vec<Hit> {
    let folded: Vec<String> = texts.iter().map(|t| fold(t).into_owned()).collect();
    rank_among(&folded, None, query)
}

fn job(cmd: Option<Cmd>) -> RankJob {
    match cmd {
        Some(Cmd::Rank(job)) => job,
        other => panic!("expected a pass to run, got {other:?}"),
    }
}

/// Every answer the pass sends, in order.
fn answers(job: RankJob) -> Vec<Ranked> {
    let mut all = Vec::new();
    job.run(&mut |r| all.push(r));
    all
}

fn indices(hits: &[Hit]) -> Vec<usize> {
    hits.iter().map(|h| h.index()).collect()
}

// Issue 13: a short list ranks at once, with nothing to run.
#[test]
fn a_short_list_ranks_at_once() {
    let texts = names(100);
    let (mut r, cmd) = ranking_of(&texts);
    assert!(cmd.is_none());
    assert_eq!(r.hits().len(), 100, "an empty query shows every item");
    assert!(r.query("bob corp1").is_none());
    assert!(!r.pending());
    assert!(!r.hits().is_empty());
    assert_eq!(r.hits(), in_one_go(&texts, "bob corp1"));
}

// Issue 13: a long list asks for a pass and shows what it showed until the answer.
#[test]
fn a_long_list_is_ranked_off_the_ui_thread() {
    let texts = names(SYNC_BELOW * 2);
    let (mut r, cmd) = ranking_of(&texts);
    assert!(cmd.is_none(), "the empty query needs no pass");
    let pass = job(r.query("bob"));
    assert!(r.pending());
    assert_eq!(
        r.hits().len(),
        texts.len(),
        "the previous rows stay until the answer"
    );
    for ranked in answers(pass) {
        assert!(matches!(r.answer(ranked), Ok(true)));
    }
    assert!(!r.pending());
    assert_eq!(r.hits(), in_one_go(&texts, "bob"));
}

// Issue 13: the answer to an older key never replaces a newer one's, and an older
// pass stops rather than finish.
#[test]
fn a_stale_generation_never_replaces_a_newer_one() {
    let texts = names(SYNC_BELOW * 2);
    let (mut r, _) = ranking_of(&texts);
    let older = job(r.query("ann"));
    let newer = job(r.query("bob"));
    assert!(
        answers(older.clone()).is_empty(),
        "a stale pass sends nothing"
    );
    let newest = answers(newer);
    for ranked in newest {
        r.answer(ranked).unwrap();
    }
    let shown = r.hits().to_vec();
    // Even an answer that made it out before the newer key is dropped.
    let late = Ranked {
        list: older.list,
        generation: older.generation,
        hits: vec![Hit::new(1, 0, 0)],
        partial: false,
        scores: Scores::default(),
    };
    assert!(matches!(r.answer(late), Ok(false)));
    assert_eq!(r.hits(), shown);
    // Another list's answer is handed on.
    let other = Ranked {
        list: older.list + 1_000_000,
        generation: 1,
        hits: Vec::new(),
        partial: false,
        scores: Scores::default(),
    };
    assert!(r.answer(other).is_err());
}

// Issue 13: a pass longer than a frame sends the best hits found so far first.
// The pass runs on a thread of its own, as `Cmd::Rank` does, and the test waits on
// its channel.
#[test]
fn partial_results_arrive_for_a_long_list() {
    let texts = names(CHUNK * 3);
    let (mut r, _) = ranking_of(&texts);
    let mut pass = job(r.query("user1"));
    // Every chunk is "a frame late", so each sends what it found.
    pass.partial_every = Duration::ZERO;
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::spawn(move || pass.run(&mut |ranked| tx.send(ranked).unwrap()));
    let mut got = Vec::new();
    while let Ok(ranked) = rx.recv_timeout(Duration::from_secs(60)) {
        got.push(ranked);
    }
    worker.join().unwrap();
    let partial: Vec<&Ranked> = got.iter().filter(|a| a.partial).collect();
    assert_eq!(partial.len(), 2, "one after each chunk but the last");
    assert!(partial.iter().all(|p| p.hits.len() <= PARTIAL_ROWS));
    assert!(
        got.last().is_some_and(|a| !a.partial),
        "the whole ranking comes last"
    );
    let whole = got.last().unwrap().hits.clone();
    // The best so far are, in order, the best of the items matched so far: the first
    // of one chunk's, whichever the two threads finished first.
    let first = &partial[0].hits;
    let chunk = first[0].index() / CHUNK;
    assert!(first.iter().all(|h| h.index() / CHUNK == chunk));
    let mut sorted = first.clone();
    sorted.sort_by_key(|h| std::cmp::Reverse(h.score()));
    assert_eq!(sorted.first(), first.first());
    let mut shown_partial = false;
    for ranked in got {
        let partial = ranked.partial;
        assert!(matches!(r.answer(ranked), Ok(true)));
        shown_partial |= partial && r.pending();
    }
    assert!(
        shown_partial,
        "a partial answer is drawn while the pass runs"
    );
    assert_eq!(r.hits(), whole);
    assert!(!r.pending());
}

// R-G8, issue 13: typing narrows among the previous hits; backspace gives back
// exactly what the shorter query showed, without a pass.
#[test]
fn narrowing_and_backspace() {
    let texts = names(SYNC_BELOW * 2);
    let (mut r, _) = ranking_of(&texts);
    let mut shown = Vec::new();
    // Each query matches a third of the list: the three kept for backspace fit within
    // its size (`rankings_kept_for_backspace_stay_within_the_list`).
    for q in ["bob", "bob c", "bob co", "bob corp1"] {
        if let Some(cmd) = r.query(q) {
            let pass = job(Some(cmd));
            if q != "bob" {
                assert!(pass.among.is_some(), "{q:?} ranks only the previous hits");
            }
            for ranked in answers(pass) {
                r.answer(ranked).unwrap();
            }
        }
        shown.push(indices(r.hits()));
    }
    assert_eq!(
        shown.last().unwrap(),
        &indices(&in_one_go(&texts, "bob corp1"))
    );
    for (q, expected) in ["bob co", "bob c", "bob"]
        .iter()
        .zip(shown.iter().rev().skip(1))
    {
        assert!(r.query(q).is_none(), "{q:?} is given back, not ranked");
        assert_eq!(&indices(r.hits()), expected, "after deleting back to {q:?}");
    }
    assert!(r.query("").is_none());
    assert_eq!(r.hits().len(), texts.len());
}

// Issue 13: each key typed, ranked among the last hits with their scores carried
// over, on two threads and counted into order, ranks as a full sort of every item.
#[test]
fn every_key_typed_ranks_as_a_full_sort() {
    let texts = names(CHUNK * 2 + 1000);
    let (mut r, _) = ranking_of(&texts);
    for q in [
        "b",
        "bo",
        "bob",
        "bob c",
        "bob co",
        "bob corp1 u",
        "bob corp1 us",
        "e",
    ] {
        if let Some(cmd) = r.query(q) {
            for ranked in answers(job(Some(cmd))) {
                r.answer(ranked).unwrap();
            }
        }
        assert!(!r.pending());
        assert_eq!(r.hits(), in_one_go(&texts, q), "{q:?}");
    }
}

// Issue 13: spaces alone change nothing, so they rank nothing.
#[test]
fn a_space_between_words_ranks_nothing_again() {
    let texts = names(SYNC_BELOW * 2);
    let (mut r, _) = ranking_of(&texts);
    for ranked in answers(job(r.query("bob"))) {
        r.answer(ranked).unwrap();
    }
    assert!(r.query("bob ").is_none());
    assert!(r.query(" bob").is_none());
    assert!(!r.pending());
}

// R-X5: a field to pick one from shows no one until something is typed.
#[test]
fn none_when_empty_shows_nothing_for_an_empty_query() {
    let texts = names(10);
    let mut r = Ranking::none_when_empty();
    assert!(r.set_texts(texts.iter().map(String::as_str)).is_none());
    assert!(r.hits().is_empty());
    r.query("ann");
    assert!(!r.hits().is_empty());
    r.query("");
    assert!(r.hits().is_empty());
}

// R-G2: rows added later go below those listed, ranked among themselves.
#[test]
fn extended_rows_go_below() {
    let mut r = Ranking::default();
    r.set_texts(["Finance EMEA", "Sales"]);
    r.query("fin");
    assert_eq!(indices(r.hits()), [0]);
    r.extend(["Finance", "Marketing"]);
    assert_eq!(indices(r.hits()), [0, 2], "the better newcomer stays below");
    r.query("fina");
    assert_eq!(
        indices(r.hits()),
        [2, 0],
        "the next key ranks them together"
    );
}

// Issue 13: while a pass runs, keys that match nearly every row of a long list keep
// no more hits for backspace than the list has items, and a backspace to a ranking
// let go of ranks again, to the same rows.
#[test]
fn rankings_kept_for_backspace_stay_within_the_list() {
    let texts = names(SYNC_BELOW * 2);
    let (mut r, _) = ranking_of(&texts);
    for q in ["e", "ex", "exa", "exam", "examp"] {
        let pass = job(r.query(q));
        let kept: usize = r.earlier.iter().map(|(_, k)| k.hits.len()).sum();
        assert!(kept <= texts.len(), "{q:?}: {kept} hits kept");
        for ranked in answers(pass) {
            r.answer(ranked).unwrap();
        }
        assert_eq!(r.hits().len(), texts.len(), "{q:?} matches every row");
    }
    for q in ["exam", "exa"] {
        assert!(
            r.query(q).is_none(),
            "{q:?}: the last rankings are still kept"
        );
        assert_eq!(r.hits(), in_one_go(&texts, q), "{q:?}");
    }
    for q in ["ex", "e"] {
        let pass = job(r.query(q));
        assert!(
            pass.among.is_none(),
            "{q:?} was let go: every row is ranked again"
        );
        for ranked in answers(pass) {
            r.answer(ranked).unwrap();
        }
        assert_eq!(r.hits(), in_one_go(&texts, q), "{q:?}");
    }
}

// Issue 13: the dashboard asks the kernel for small pages, where it can be asked.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn the_dashboard_asks_for_small_pages() {
    prefer_small_pages();
    assert_eq!(nix::sys::prctl::get_thp_disable(), Ok(true));
}
