//! A ranking pass's work (issue 13): items scored a chunk at a time on two threads,
//! then the hits of every chunk ranked together by a radix sort.
//!
//! Items are scored in list order, never in the order of an earlier ranking: texts
//! read in the order they were made are read from memory ahead of need, and a million
//! of them read in ranked order took twice as long to score. Hits found in list order
//! are then in order of position already, and a stable sort on the rest of their key
//! (score, then length) ranks them.

use std::fmt;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, OnceLock};

use super::fuzzy::{Carry, Chunk, Hit, Key, Scored, Scorer};

/// Items scored between two looks at the generation, and handed on together: a
/// millisecond or two of work, so a stale pass stops soon and partial answers are on
/// time.
pub(crate) const CHUNK: usize = 16_384;
/// Threads a long ranking is split between: the machine casbah runs on may have
/// two cores, and the UI thread waits for keys meanwhile.
const THREADS: usize = 2;

/// A complete ranking's hits in list order, each with its score and its base, which
/// the next key typed carries over rather than match those words again. They are
/// kept in the chunks they were found in, each the next pass's chunk, rather than
/// copied into one.
#[derive(Clone, Default)]
pub struct Scores(Arc<Vec<Vec<Scored>>>);

impl Scores {
    /// Hits in chunks of at most `CHUNK`, in list order.
    pub(crate) fn new(parts: impl IntoIterator<Item = Vec<Scored>>) -> Scores {
        let parts: Vec<Vec<Scored>> = parts.into_iter().filter(|p| !p.is_empty()).collect();
        debug_assert!(parts.iter().all(|p| p.len() <= CHUNK));
        Scores(Arc::new(parts))
    }

    pub(crate) fn len(&self) -> usize {
        self.0.iter().map(Vec::len).sum()
    }

    /// These scores, then `more` (items further down the list).
    pub(crate) fn followed_by(&self, more: &[Scored]) -> Scores {
        Scores::new((self.0.iter().cloned()).chain(more.chunks(CHUNK).map(<[Scored]>::to_vec)))
    }
}

impl fmt::Debug for Scores {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scores({} hits)", self.len())
    }
}

/// What a pass scores.
#[derive(Clone, Copy)]
pub(crate) enum Items<'a> {
    Every(usize),
    /// These positions, in any order.
    At(&'a [usize]),
    /// A complete ranking's hits, each carrying a score.
    Hits(&'a Scores, Carry),
}

impl Items<'_> {
    pub(crate) fn len(&self) -> usize {
        match self {
            Items::Every(n) => *n,
            Items::At(at) => at.len(),
            Items::Hits(hits, _) => hits.len(),
        }
    }

    pub(crate) fn chunks(&self) -> usize {
        match self {
            Items::Every(n) => n.div_ceil(CHUNK),
            Items::At(at) => at.len().div_ceil(CHUNK),
            Items::Hits(hits, _) => hits.0.len(),
        }
    }

    /// The items of chunk `c`.
    fn chunk(&self, c: usize) -> Chunk<'_> {
        let part = |n| c * CHUNK..((c + 1) * CHUNK).min(n);
        match self {
            Items::Every(n) => Chunk::Run(part(*n)),
            Items::At(at) => Chunk::Carrying(at[part(at.len())].iter().map(|&i| (i, 0)).collect()),
            Items::Hits(hits, carry) => Chunk::Hits(&hits.0[c], *carry),
        }
    }
}

/// One chunk's hits, in the order of its items.
pub(crate) struct Part {
    pub(crate) chunk: usize,
    pub(crate) scored: Vec<Scored>,
    /// The same hits' keys, in the same order.
    pub(crate) keys: Vec<Key>,
    /// How many of those keys have each value of each byte the ranking sorts on:
    /// counted by the thread that scored them, while they are still in its cache.
    pub(crate) digits: Box<Digits>,
    /// The best of them (`keep_best`), for a partial answer: picked by the thread
    /// that scored them, while they are still in its cache.
    pub(crate) best: Vec<Key>,
}

/// The hits a partial answer carries: more than a screen holds.
pub(crate) const PARTIAL_ROWS: usize = 256;

/// Keeps the `PARTIAL_ROWS` best of `keys`, in no set order.
pub(crate) fn keep_best(keys: &mut Vec<Key>) {
    if keys.len() > PARTIAL_ROWS {
        keys.select_nth_unstable(PARTIAL_ROWS);
        keys.truncate(PARTIAL_ROWS);
    }
}

/// Scores `items` a chunk at a time, handing each chunk's hits to `take` on the
/// calling thread as they come, in no set order. Past a chunk's worth of items, two
/// threads score while the calling one only takes; a thread stops at the next chunk
/// once `stale` says so, or once `take` has broken off.
pub(crate) fn score_chunks(
    scorer: &Scorer,
    texts: &[String],
    items: Items<'_>,
    stale: &(dyn Fn() -> bool + Sync),
    take: &mut dyn FnMut(Part) -> ControlFlow<()>,
) {
    let chunks = items.chunks();
    let score = |scorer: &mut Scorer, chunk| {
        let items = items.chunk(chunk);
        let (mut scored, mut keys) = (
            Vec::with_capacity(items.len()),
            Vec::with_capacity(items.len()),
        );
        scorer.score(texts, items, &mut scored, &mut keys);
        if scored.len() < scored.capacity() / 2 {
            // Kept with the ranking, for the next key.
            scored.shrink_to_fit();
        }
        let mut best = keys.clone();
        keep_best(&mut best);
        // Kept until the pass ends: only the best, not the room the others took.
        best.shrink_to_fit();
        Part {
            chunk,
            digits: digits(&keys),
            scored,
            keys,
            best,
        }
    };
    if items.len() <= CHUNK {
        // Short lists rank on the UI thread: no thread is started for them.
        let mut scorer = scorer.clone();
        for chunk in 0..chunks {
            if stale() || take(score(&mut scorer, chunk)).is_break() {
                return;
            }
        }
        return;
    }
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel();
    scorers().in_place_scope(|s| {
        for _ in 0..THREADS {
            let (tx, mut scorer) = (tx.clone(), scorer.clone());
            let (next, score) = (&next, &score);
            s.spawn(move |_| {
                loop {
                    let chunk = next.fetch_add(1, Ordering::Relaxed);
                    if chunk >= chunks || stale() || tx.send(score(&mut scorer, chunk)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        // Dropping the receiver on a break makes the threads' next send fail.
        for part in rx {
            if take(part).is_break() {
                break;
            }
        }
    });
}

/// The threads that score, started with the first long pass and kept: memory their
/// passes freed is theirs to use again, where threads started for each pass took
/// fresh memory from the system every time, and the kernel clearing it cost as much
/// as the scoring.
fn scorers() -> &'static rayon::ThreadPool {
    static POOL: OnceLock<rayon::ThreadPool> = OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(THREADS)
            .thread_name(|i| format!("casbah-rank-{i}"))
            .build()
            .expect("a thread pool of two threads")
    })
}

/// The hits best first, from the chunks' (`parts`, in list order).
///
/// Keys found in list order are in order of position already, so sorting them
/// stably on the rest (score, then length) ranks them: a radix sort, a byte a pass,
/// that passes over the bytes every key shares (a length's high byte, often a
/// score's). `sort_unstable` of a million keys took as long as scoring them had. The
/// first pass reads the chunks where they are and the last writes the hits: memory
/// a pass writes for the first time costs as much again (the kernel clears it), so
/// none is copied that need not be.
pub(crate) fn rank_keys(parts: &[Part]) -> Vec<Hit> {
    let found = || parts.iter().flat_map(|p| &p.keys).copied();
    let n = parts.iter().map(|p| p.keys.len()).sum();
    let mut counts = [[0; 256]; 4];
    for part in parts {
        for (count, of_part) in counts.iter_mut().zip(part.digits.iter()) {
            for (c, &d) in count.iter_mut().zip(of_part) {
                *c += d as usize;
            }
        }
    }
    let passes: Vec<usize> = (0..4).filter(|&b| !counts[b].contains(&n)).collect();
    let Some((&last, first)) = passes.split_last() else {
        return found().map(Hit::from_key).collect();
    };
    // Keys sorted on the bytes of the passes so far; empty while still in `parts`.
    let mut sorted: Vec<Key> = Vec::new();
    for &byte in first {
        let mut next = vec![0; n];
        if sorted.is_empty() {
            scatter(found(), &counts[byte], byte, &mut next, |k| k);
        } else {
            scatter(
                sorted.iter().copied(),
                &counts[byte],
                byte,
                &mut next,
                |k| k,
            );
        }
        sorted = next;
    }
    let mut hits = vec![Hit::from_key(0); n];
    if sorted.is_empty() {
        scatter(found(), &counts[last], last, &mut hits, Hit::from_key);
    } else {
        let keys = sorted.iter().copied();
        scatter(keys, &counts[last], last, &mut hits, Hit::from_key);
    }
    hits
}

/// How many keys have each value of each byte `rank_keys` sorts on.
pub(crate) type Digits = [[u32; 256]; 4];

fn digits(keys: &[Key]) -> Box<Digits> {
    let mut counts = Box::new([[0; 256]; 4]);
    for &k in keys {
        for (byte, count) in counts.iter_mut().enumerate() {
            count[digit(k, byte)] += 1;
        }
    }
    counts
}

/// One pass of the radix sort: `keys` into `out` in order of byte `byte`, keys of
/// the same byte in the order they come; `count` holds how many have each.
fn scatter<T>(
    keys: impl Iterator<Item = Key>,
    count: &[usize; 256],
    byte: usize,
    out: &mut [T],
    of: impl Fn(Key) -> T,
) {
    let mut at = [0; 256];
    for d in 1..256 {
        at[d] = at[d - 1] + count[d - 1];
    }
    for k in keys {
        let d = digit(k, byte);
        out[at[d]] = of(k);
        at[d] += 1;
    }
}

/// Byte `byte` (0 the lowest) of the score and length of `key`.
fn digit(key: Key, byte: usize) -> usize {
    ((key >> (32 + 8 * byte)) & 0xff) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::fuzzy::rank_among;

    /// The hits of `keys` by a full sort.
    fn whole_of(keys: &[Key]) -> Vec<Hit> {
        let mut sorted = keys.to_vec();
        sorted.sort_unstable();
        sorted.into_iter().map(Hit::from_key).collect()
    }

    /// The chunks of `keys` (in list order) split at `at`, as a pass finds them.
    fn parts(keys: &[Key], at: &[usize]) -> Vec<Part> {
        let mut cuts = vec![0];
        cuts.extend(at);
        cuts.push(keys.len());
        cuts.windows(2)
            .enumerate()
            .map(|(chunk, cut)| {
                let keys = &keys[cut[0]..cut[1]];
                let scored = keys.iter().map(|&k| {
                    let hit = Hit::from_key(k);
                    Scored::new(hit.index(), hit.score(), 0)
                });
                Part {
                    chunk,
                    scored: scored.collect(),
                    keys: keys.to_vec(),
                    digits: digits(keys),
                    best: Vec::new(),
                }
            })
            .collect()
    }

    // Issue 13: the radix sort of keys found in list order ranks them as a full sort
    // does.
    #[test]
    fn keys_in_list_order_rank_as_a_full_sort() {
        // Scores and lengths of every sort, ties and all; both bytes of each vary.
        let mut seed = 13u64;
        let mut next = || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            seed >> 33
        };
        let keys: Vec<Key> = (0..70_000u64)
            .map(|i| {
                let score = if i % 7 == 0 { next() % 3 } else { next() % 700 };
                let len = if i % 5 == 0 {
                    290 + next() % 3
                } else {
                    20 + next() % 40
                };
                ((0xffff - score) << 48) | (len << 32) | (i * 3)
            })
            .collect();
        let cuts = [CHUNK, CHUNK, 2 * CHUNK, 3 * CHUNK, 4 * CHUNK];
        assert_eq!(rank_keys(&parts(&keys, &cuts)), whole_of(&keys));
        let one = &keys[..CHUNK];
        assert_eq!(rank_keys(&parts(one, &[])), whole_of(one), "one chunk");
        // Every length the same, and every score: nothing to sort.
        let same: Vec<Key> = (0..1000).map(|i| (7 << 48) | (40 << 32) | i).collect();
        assert_eq!(rank_keys(&parts(&same, &[300])), whole_of(&same));
        assert!(rank_keys(&[]).is_empty());
    }

    fn names(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| format!("user{i} mat{} ross@corp{}.example active", i % 13, i % 40))
            .collect()
    }

    /// Every hit for `query` with its score, in list order.
    fn scores(texts: &[String], items: Items<'_>, query: &str) -> Vec<Scored> {
        let scorer = Scorer::new(query).expect("words");
        let mut parts = Vec::new();
        score_chunks(&scorer, texts, items, &|| false, &mut |part| {
            parts.push(part);
            ControlFlow::Continue(())
        });
        parts.sort_by_key(|p| p.chunk);
        parts.into_iter().flat_map(|p| p.scored).collect()
    }

    // Issue 13: a word typed on is matched on top of the score carried, which gives
    // the scores matching the whole query gives.
    #[test]
    fn carried_scores_equal_matching_every_word() {
        let texts = names(CHUNK * 2 + 100);
        let in_chunks = |s: &[Scored]| Scores::new(s.chunks(CHUNK).map(<[Scored]>::to_vec));
        let mat = in_chunks(&scores(&texts, Items::Every(texts.len()), "mat"));
        let mat_r = scores(&texts, Items::Every(texts.len()), "mat r");
        assert_eq!(scores(&texts, Items::Hits(&mat, Carry::Total), "r"), mat_r);
        let mat_ro = scores(&texts, Items::Every(texts.len()), "mat ro");
        let mat_r = Scores::new(mat_r.chunks(5000).map(<[Scored]>::to_vec));
        assert_eq!(
            scores(&texts, Items::Hits(&mat_r, Carry::Base), "ro"),
            mat_ro
        );
        assert!(mat_ro.iter().all(|s| s.base() < s.total()));
        let key = |s: &Scored| {
            ((0xffff - u64::from(s.total())) << 48)
                | ((texts[s.index()].len() as u64) << 32)
                | s.index() as u64
        };
        let keys: Vec<Key> = mat_ro.iter().map(key).collect();
        let cuts: Vec<usize> = (1..keys.len().div_ceil(CHUNK)).map(|c| c * CHUNK).collect();
        assert_eq!(
            rank_keys(&parts(&keys, &cuts)),
            rank_among(&texts, None, "mat ro")
        );
    }
}
