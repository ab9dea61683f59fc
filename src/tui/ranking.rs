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
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::fuzzy::{Hit, Key, Scorer, fold, rank_among, words};
use super::msg::{Cmd, Done};
use super::widgets::list::Cursor;

/// Below this many items a list ranks on the UI thread: frizbee ranks 10,000 names in
/// well under a millisecond (`cargo bench --bench fuzzy`), less than a trip through the
/// channel and a frame would add.
pub const SYNC_BELOW: usize = 10_000;
/// Items matched between two looks at the clock and the generation: a few
/// milliseconds of work, so a stale pass stops soon and partial answers are on time.
const CHUNK: usize = 16_384;
/// A pass that has run this long sends the best hits found so far, and again each
/// time as long again has passed, so that a frame is never late for it.
const PARTIAL_EVERY: Duration = Duration::from_millis(16);
/// The hits a partial answer carries: more than a screen holds.
const PARTIAL_ROWS: usize = 256;

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
    /// Rank only these (the previous hits) rather than every item.
    among: Option<Hits>,
    query: String,
    partial_every: Duration,
}

impl fmt::Debug for RankJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RankJob(list {} #{} {:?} of {})",
            self.list,
            self.generation,
            self.query,
            self.among.as_ref().map_or(self.texts.len(), |a| a.len())
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
        let answer = |hits, partial| Ranked {
            list: self.list,
            generation: self.generation,
            hits,
            partial,
        };
        // The previous hits in their ranked order, unsorted: a hit's key carries its
        // position, so order changes nothing in the answer, and the likely best are
        // matched first, for the partial answers. Sorting a million took longer than
        // matching them.
        let among: Option<Vec<usize>> = self
            .among
            .as_ref()
            .map(|hits| hits.iter().map(|h| h.index).collect());
        let Some(mut scorer) = Scorer::new(&self.query) else {
            return send(answer(rank_among(&self.texts, among.as_deref(), ""), false));
        };
        let n = among.as_ref().map_or(self.texts.len(), Vec::len);
        let started = Instant::now();
        let mut due = self.partial_every;
        let mut keys: Vec<Key> = Vec::new();
        let mut best: Vec<Key> = Vec::new();
        for start in (0..n).step_by(CHUNK) {
            if self.stale() {
                return;
            }
            let end = (start + CHUNK).min(n);
            let before = keys.len();
            scorer.score_into(&self.texts, among.as_deref(), start..end, &mut keys);
            if end == n {
                break;
            }
            best.extend_from_slice(&keys[before..]);
            if best.len() > PARTIAL_ROWS {
                best.select_nth_unstable(PARTIAL_ROWS);
                best.truncate(PARTIAL_ROWS);
            }
            if started.elapsed() >= due {
                due = started.elapsed() + self.partial_every;
                let mut shown = best.clone();
                shown.sort_unstable();
                send(answer(shown.into_iter().map(Hit::from_key).collect(), true));
            }
        }
        keys.sort_unstable();
        if !self.stale() {
            send(answer(keys.into_iter().map(Hit::from_key).collect(), false));
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
    exact: Hits,
    exact_for: String,
    /// Rankings of the shorter queries typed on the way to `exact_for`.
    earlier: Vec<(String, Hits)>,
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

impl Default for Ranking {
    fn default() -> Ranking {
        let none: Hits = Arc::default();
        Ranking {
            list: LISTS.fetch_add(1, Ordering::Relaxed),
            texts: Arc::from(Vec::new()),
            all: none.clone(),
            exact: none.clone(),
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
        let fresh: Vec<usize> = (first..self.texts.len()).collect();
        let new = if self.none_when_empty && self.wanted.is_empty() {
            Vec::new()
        } else {
            rank_among(&self.texts, Some(&fresh), &self.wanted)
        };
        let mut shown = self.shown.to_vec();
        shown.extend(new);
        self.bump();
        self.earlier.clear();
        self.exact_for = self.wanted.clone();
        self.exact = Arc::new(shown);
        self.shown = self.exact.clone();
    }

    fn show_every(&mut self) {
        self.bump();
        self.earlier.clear();
        self.exact = if self.none_when_empty {
            Arc::default()
        } else {
            self.all.clone()
        };
        self.exact_for.clear();
        self.shown = self.exact.clone();
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
            self.shown = self.exact.clone();
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
            if let Some((_, hits)) = self.earlier.pop_if(|(q, _)| *q == query) {
                self.exact = hits;
                self.exact_for = query;
                self.shown = self.exact.clone();
                return None;
            }
        }
        let narrowing = !self.exact_for.is_empty() && query.starts_with(&self.exact_for);
        let among = narrowing.then(|| self.exact.clone());
        self.narrowing = narrowing.then(|| self.exact_for.clone());
        let job = RankJob {
            list: self.list,
            generation: self.generation,
            latest: Arc::clone(&self.latest),
            texts: Arc::clone(&self.texts),
            among,
            query,
            partial_every: PARTIAL_EVERY,
        };
        let n = job.among.as_ref().map_or(self.texts.len(), |a| a.len());
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
        match self.narrowing.take() {
            Some(from) if from == self.exact_for => {
                let previous = std::mem::replace(&mut self.exact, Arc::clone(&hits));
                self.earlier.push((from, previous));
            }
            _ => {
                self.earlier.clear();
                self.exact = Arc::clone(&hits);
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
