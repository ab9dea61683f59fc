//! One filtered list's ranking, which typing never waits for (issue 13).
//!
//! A list hands its texts over once (`set_texts`), then each change of its filter
//! (`query`). A short list is ranked there and then; a long one asks for a pass off the
//! UI thread (`Cmd::Rank`), keeps showing what it showed, and takes the answer
//! (`answer`) when it comes: the hits found so far once a pass has run a frame, then
//! the whole ranking. Every query gets a new generation; a pass that sees a newer one
//! stops, and an answer for an older one is dropped, so the newest key always wins.
//!
//! Typing on only narrows (every word must still match), so the next pass ranks only
//! the previous hits; the rankings on the way are kept, and a backspace gives the last
//! one back without matching again.

use std::fmt;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::fuzzy::{Carry, Chunk, Hit, Key, Scorer, fold, rank_among, words};
use super::msg::{Cmd, Done};
pub use super::scoring::Scores;
use super::scoring::{Items, Part, keep_best, rank_keys, score_chunks};
use super::widgets::list::Cursor;

/// Below this many items a list ranks on the UI thread: frizbee ranks 10,000 names in
/// well under a millisecond (`cargo bench --bench fuzzy`), less than a trip through the
/// channel and a frame would add.
pub const SYNC_BELOW: usize = 10_000;
/// A pass that has run this long sends the best hits found so far, and again each
/// time as long again has passed, so that a frame is never late for it.
const PARTIAL_EVERY: Duration = Duration::from_millis(16);

/// Asks the kernel to back this process's memory with small pages only. Where
/// transparent huge pages are always on (as many distributions ship), the first touch
/// of memory the allocator took back from the system clears 2 MiB at a time; a pass
/// over a million names writes tens of megabytes, and clearing pages took a quarter of
/// the ranking benchmark's time: its p95 per key fell by a quarter without them
/// (`cargo bench --bench fuzzy`). Nothing to do where the kernel cannot be asked.
pub fn prefer_small_pages() {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let _ = nix::sys::prctl::set_thp_disable(true);
}

/// Lists are told apart by a number no other list has.
static LISTS: AtomicU64 = AtomicU64::new(1);

pub type Hits = Arc<Vec<Hit>>;

/// A ranking pass, run by `Cmd::Rank` off the UI thread.
#[derive(Clone)]
pub struct RankJob {
    list: u64,
    generation: u64,
    /// The list's newest generation: the pass stops when it is no longer its own.
    latest: Arc<AtomicU64>,
    texts: Arc<[String]>,
    /// Rank only the hits of a shorter query, carrying their scores.
    among: Option<Among>,
    query: String,
    partial_every: Duration,
}

/// The complete ranking a narrowing pass ranks among: its query and its hits.
#[derive(Clone)]
struct Among {
    query: String,
    scores: Scores,
}

impl fmt::Debug for RankJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RankJob(list {} #{} {:?} of {})",
            self.list,
            self.generation,
            self.query,
            self.among
                .as_ref()
                .map_or(self.texts.len(), |a| a.scores.len())
        )
    }
}

impl PartialEq for RankJob {
    fn eq(&self, other: &RankJob) -> bool {
        (self.list, self.generation) == (other.list, other.generation)
    }
}

/// What a pass found: all of it, or (`partial`) the best so far.
#[derive(Debug)]
pub struct Ranked {
    pub list: u64,
    pub generation: u64,
    pub hits: Vec<Hit>,
    pub partial: bool,
    /// The hits in list order with their scores, for the next key to narrow (none
    /// when partial).
    pub scores: Scores,
}

/// The words a narrowing pass matches (from the first of `to`'s words not matched
/// whole by `from`), and the score it starts from: `to` is `from` typed on, both
/// `words`.
fn typed_on<'a>(from: &str, to: &'a str) -> (&'a str, Carry) {
    let kept = from.split(' ').count() - 1;
    let last_start = to.split(' ').take(kept).map(|w| w.len() + 1).sum::<usize>();
    let rest = &to[last_start..];
    match rest.strip_prefix(&from[last_start..]) {
        Some(more) if more.starts_with(' ') => (&more[1..], Carry::Total),
        _ => (rest, Carry::Base),
    }
}

impl RankJob {
    fn stale(&self) -> bool {
        self.latest.load(Ordering::Acquire) != self.generation
    }

    /// Ranks, sending the best hits so far each `PARTIAL_EVERY`, then all of them;
    /// nothing once a newer query has come.
    pub fn run(self, send: &mut dyn FnMut(Ranked)) {
        if self.stale() {
            return;
        }
        let answer = |hits, partial, scores| Ranked {
            list: self.list,
            generation: self.generation,
            hits,
            partial,
            scores,
        };
        let (words, items) = match &self.among {
            Some(among) => {
                let (words, carry) = typed_on(&among.query, &self.query);
                (words, Items::Hits(&among.scores, carry))
            }
            None => (self.query.as_str(), Items::Every(self.texts.len())),
        };
        let Some(scorer) = Scorer::new(words) else {
            let every = rank_among(&self.texts, None, "");
            return send(answer(every, false, Scores::default()));
        };
        let chunks = items.chunks();
        let started = Instant::now();
        let mut due = self.partial_every;
        let mut parts: Vec<Part> = Vec::with_capacity(chunks);
        let mut best: Vec<Key> = Vec::new();
        let stale = || self.stale();
        score_chunks(&scorer, &self.texts, items, &stale, &mut |part| {
            if self.stale() {
                return ControlFlow::Break(());
            }
            parts.push(part);
            if parts.len() < chunks {
                best.extend_from_slice(&parts[parts.len() - 1].best);
                keep_best(&mut best);
                if started.elapsed() >= due {
                    due = started.elapsed() + self.partial_every;
                    let mut shown = best.clone();
                    shown.sort_unstable();
                    let hits = shown.into_iter().map(Hit::from_key).collect();
                    send(answer(hits, true, Scores::default()));
                }
            }
            ControlFlow::Continue(())
        });
        if parts.len() < chunks || self.stale() {
            return;
        }
        parts.sort_unstable_by_key(|p| p.chunk);
        let hits = rank_keys(&parts);
        let scores = Scores::new(parts.into_iter().map(|p| p.scored));
        if !self.stale() {
            send(answer(hits, false, scores));
        }
    }
}

/// A list's ranking: what it shows, and the pass under way.
#[derive(Debug)]
pub struct Ranking {
    list: u64,
    /// The items, folded for matching.
    texts: Arc<[String]>,
    /// Every item in order: what an empty query shows.
    all: Hits,
    /// The last complete ranking, and its query (`words`).
    exact: Kept,
    exact_for: String,
    /// Rankings of the shorter queries typed on the way to `exact_for`.
    earlier: Vec<(String, Kept)>,
    /// What is drawn: `exact`, or the best hits so far of a pass under way.
    shown: Hits,
    /// The newest query, and its generation.
    wanted: String,
    generation: u64,
    latest: Arc<AtomicU64>,
    /// The pass under way narrows the ranking of this query.
    narrowing: Option<String>,
    pending: bool,
    /// An empty query shows nothing rather than everything (a field to pick one from).
    none_when_empty: bool,
}

/// A complete ranking kept: its hits, and their scores for a narrowing pass (none for
/// every item in order, nor when rows were added below hits of a pass cut short).
#[derive(Debug, Clone, Default)]
struct Kept {
    hits: Hits,
    scores: Option<Scores>,
}

impl Default for Ranking {
    fn default() -> Ranking {
        let none: Hits = Arc::default();
        Ranking {
            list: LISTS.fetch_add(1, Ordering::Relaxed),
            texts: Arc::from(Vec::new()),
            all: none.clone(),
            exact: Kept::default(),
            exact_for: String::new(),
            earlier: Vec::new(),
            shown: none,
            wanted: String::new(),
            generation: 0,
            latest: Arc::default(),
            narrowing: None,
            pending: false,
            none_when_empty: false,
        }
    }
}

impl Ranking {
    /// A list whose empty query shows no item.
    pub fn none_when_empty() -> Ranking {
        Ranking {
            none_when_empty: true,
            ..Ranking::default()
        }
    }

    /// The hits to draw, best first.
    pub fn hits(&self) -> &[Hit] {
        &self.shown
    }

    /// A pass is under way: the hits shown are an earlier query's, or partial.
    pub fn pending(&self) -> bool {
        self.pending
    }

    /// New items: ranked again for the query.
    pub fn set_texts<'a>(&mut self, texts: impl IntoIterator<Item = &'a str>) -> Option<Cmd> {
        self.texts = texts.into_iter().map(|t| fold(t).into_owned()).collect();
        self.all = Arc::new(rank_among(&self.texts, None, ""));
        let query = std::mem::take(&mut self.wanted);
        self.show_every();
        self.query(&query)
    }

    /// Items added after those listed, ranked among themselves for the query and
    /// shown below them, so that nothing on the screen moves; the next query ranks
    /// them all together. Added rows come a page of a vendor's answer at a time, so
    /// they are ranked here and then.
    pub fn extend<'a>(&mut self, more: impl IntoIterator<Item = &'a str>) {
        let first = self.texts.len();
        let mut texts = self.texts.to_vec();
        texts.extend(more.into_iter().map(|t| fold(t).into_owned()));
        self.texts = texts.into();
        self.all = Arc::new(rank_among(&self.texts, None, ""));
        let fresh = Chunk::Run(first..self.texts.len());
        let mut scored = Vec::new();
        let new: Vec<Hit> = match Scorer::new(&self.wanted) {
            Some(mut scorer) => {
                let mut keys = Vec::new();
                scorer.score(&self.texts, fresh, &mut scored, &mut keys);
                keys.sort_unstable();
                keys.into_iter().map(Hit::from_key).collect()
            }
            None if self.none_when_empty => Vec::new(),
            None => self.all[first..].to_vec(),
        };
        // The scores go on only from the complete ranking they were found with.
        let scores = match (&self.exact.scores, self.pending) {
            (Some(scores), false) => Some(scores.followed_by(&scored)),
            _ => None,
        };
        let mut shown = self.shown.to_vec();
        shown.extend(new);
        self.bump();
        self.earlier.clear();
        self.exact_for = self.wanted.clone();
        self.exact = Kept {
            hits: Arc::new(shown),
            scores,
        };
        self.shown = self.exact.hits.clone();
    }

    fn show_every(&mut self) {
        self.bump();
        self.earlier.clear();
        self.exact = Kept {
            hits: if self.none_when_empty {
                Arc::default()
            } else {
                self.all.clone()
            },
            scores: None,
        };
        self.exact_for.clear();
        self.shown = self.exact.hits.clone();
    }

    /// A new generation: whatever pass runs is now stale.
    fn bump(&mut self) {
        self.generation += 1;
        self.latest.store(self.generation, Ordering::Release);
        self.pending = false;
        self.narrowing = None;
    }

    /// The filter changed: ranked now, or a pass to run (`Cmd::Rank`).
    pub fn query(&mut self, query: &str) -> Option<Cmd> {
        let query = words(query);
        if query == self.wanted {
            return None;
        }
        self.wanted = query.clone();
        if query.is_empty() {
            self.show_every();
            return None;
        }
        self.bump();
        if query == self.exact_for {
            self.shown = self.exact.hits.clone();
            return None;
        }
        if self.exact_for.starts_with(&query) {
            while self
                .earlier
                .last()
                .is_some_and(|(q, _)| q.len() > query.len())
            {
                self.earlier.pop();
            }
            if let Some((_, kept)) = self.earlier.pop_if(|(q, _)| *q == query) {
                self.exact = kept;
                self.exact_for = query;
                self.shown = self.exact.hits.clone();
                return None;
            }
        }
        let among = match &self.exact.scores {
            Some(scores) if !self.exact_for.is_empty() && query.starts_with(&self.exact_for) => {
                Some(Among {
                    query: self.exact_for.clone(),
                    scores: scores.clone(),
                })
            }
            _ => None,
        };
        self.narrowing = among.as_ref().map(|a| a.query.clone());
        if among.is_some() {
            self.keep_within_budget();
        }
        let job = RankJob {
            list: self.list,
            generation: self.generation,
            latest: Arc::clone(&self.latest),
            texts: Arc::clone(&self.texts),
            among,
            query,
            partial_every: PARTIAL_EVERY,
        };
        let n = job
            .among
            .as_ref()
            .map_or(self.texts.len(), |a| a.scores.len());
        self.pending = true;
        if n >= SYNC_BELOW {
            return Some(Cmd::Rank(job));
        }
        let mut last = None;
        job.run(&mut |ranked| last = Some(ranked));
        if let Some(ranked) = last {
            let _ = self.answer(ranked);
        }
        None
    }

    /// Lets go of the oldest rankings kept for backspace until those kept hold no more
    /// hits than the list has items: the memory they free is what the pass writes its
    /// answer into. Without a bound, each key that matches nearly every row of a long
    /// list kept 16 MB a million rows more, and memory a process writes for the first
    /// time costs the most (the kernel clears it, and on a virtual machine the host may
    /// have to back it first).
    fn keep_within_budget(&mut self) {
        let mut kept: usize = self.earlier.iter().map(|(_, k)| k.hits.len()).sum();
        while kept > self.texts.len() {
            let (_, oldest) = self.earlier.remove(0);
            kept -= oldest.hits.len();
        }
    }

    /// An answer from a pass: `Ok(true)` when the hits shown changed, `Ok(false)` when
    /// it was for a query since replaced (dropped), and handed back when it is another
    /// list's.
    pub fn answer(&mut self, ranked: Ranked) -> Result<bool, Ranked> {
        if ranked.list != self.list {
            return Err(ranked);
        }
        if ranked.generation != self.generation || !self.pending {
            return Ok(false);
        }
        let hits = Arc::new(ranked.hits);
        if ranked.partial {
            self.shown = hits;
            return Ok(true);
        }
        let kept = Kept {
            hits: Arc::clone(&hits),
            scores: Some(ranked.scores),
        };
        match self.narrowing.take() {
            Some(from) if from == self.exact_for => {
                let previous = std::mem::replace(&mut self.exact, kept);
                self.earlier.push((from, previous));
            }
            _ => {
                self.earlier.clear();
                self.exact = kept;
            }
        }
        self.exact_for = self.wanted.clone();
        self.shown = hits;
        self.pending = false;
        Ok(true)
    }
}

impl Ranking {
    /// Takes `done` when it is this list's answer (the cursor kept within the rows
    /// shown); hands anything else back.
    pub fn take(&mut self, done: Done, cursor: &mut Cursor) -> Option<Done> {
        let Done::Ranked(ranked) = done else {
            return Some(done);
        };
        match self.answer(ranked) {
            Ok(_) => {
                cursor.clamp(self.hits().len());
                None
            }
            Err(ranked) => Some(Done::Ranked(ranked)),
        }
    }
}

#[cfg(test)]
#[path = "ranking_tests.rs"]
mod tests;
