//! Issue 13 part 2: the timeline above the log. A histogram of what the
//! filter selects over a span (the service counts it from the store's
//! indexes), exact totals, the selected row's bucket marked; `+` `-` zoom,
//! `<` `>` pan, `:goto` moves the span and the list to a moment.
//!
//! Requests are latest-wins: one at a time, numbered, and when something
//! changes while one runs, one more is asked for when it answers.

use std::cell::Cell;

use chrono::{NaiveDate, NaiveDateTime};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline};

use crate::domain::Micros;
use crate::service::Timeline;
use crate::tui::format::{safe, time_in};
use crate::tui::msg::{Cmd, Failure, Outcome};
use crate::tui::pane::Env;

const HOUR: Micros = 3_600_000_000;
const DAY: Micros = 24 * HOUR;

/// The spans `+` and `-` step through.
const SPANS: [Micros; 8] = [
    HOUR,
    6 * HOUR,
    DAY,
    3 * DAY,
    7 * DAY,
    30 * DAY,
    90 * DAY,
    365 * DAY,
];
const DEFAULT_SPAN: usize = 4;

/// Lines the timeline takes: totals, two of chart, the marker.
pub const HEIGHT: u16 = 4;
/// Below this many lines the pane gives them all to the list.
pub const MIN_PANE_HEIGHT: u16 = 16;

/// The span shown: what Esc after a pivot puts back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    /// Index into `SPANS`.
    zoom: usize,
    /// The span's end; `None` follows the clock.
    end: Option<Micros>,
}

impl Default for Scope {
    fn default() -> Scope {
        Scope {
            zoom: DEFAULT_SPAN,
            end: None,
        }
    }
}

#[derive(Debug, Default)]
pub struct TimelineView {
    pub scope: Scope,
    pub data: Option<Timeline>,
    pub error: Option<Failure>,
    seq: u64,
    running: bool,
    stale: bool,
    /// Columns at the last draw: as many buckets are asked for.
    width: Cell<u16>,
}

impl TimelineView {
    pub fn span(&self) -> Micros {
        SPANS[self.scope.zoom]
    }

    /// Asks for the histogram of `filter` over the span, or for another
    /// once the one running answers.
    pub fn request(&mut self, filter: &str) -> Option<Cmd> {
        if self.running {
            self.stale = true;
            return None;
        }
        self.running = true;
        self.seq += 1;
        Some(Cmd::LoadTimeline {
            filter: filter.to_owned(),
            end: self.scope.end,
            span: self.span(),
            buckets: usize::from(self.width.get().max(60)),
            seq: self.seq,
        })
    }

    /// An answer: kept if it is the latest; then the one asked for meanwhile.
    pub fn answered(&mut self, seq: u64, result: Outcome<Timeline>, filter: &str) -> Option<Cmd> {
        if seq != self.seq {
            return None;
        }
        self.running = false;
        match result {
            Ok(t) => {
                self.data = Some(t);
                self.error = None;
            }
            Err(e) => self.error = Some(e),
        }
        if std::mem::take(&mut self.stale) {
            return self.request(filter);
        }
        None
    }

    /// `+` (in: `step` < 0) and `-`.
    pub fn zoom(&mut self, step: isize) {
        let last = SPANS.len() as isize - 1;
        self.scope.zoom = (self.scope.zoom as isize + step).clamp(0, last) as usize;
    }

    /// `<` and `>`: half a span earlier or later; past now, it follows the clock again.
    pub fn pan(&mut self, step: isize, now: Micros) {
        let end = self.scope.end.unwrap_or(now) + step as Micros * self.span() / 2;
        self.scope.end = (end < now).then_some(end);
    }

    /// `:goto`: the span centred on `at`.
    pub fn center(&mut self, at: Option<Micros>, now: Micros) {
        let end = at.map(|at| at + self.span() / 2);
        self.scope.end = end.filter(|&end| end < now);
    }

    /// Draws in `area` (HEIGHT lines), marking the bucket of `selected`.
    pub fn draw(&self, f: &mut Frame, area: Rect, env: &Env, selected: Option<Micros>) {
        let theme = &env.theme;
        let [totals, chart, marker] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(2),
            Constraint::Length(1),
        ])
        .areas(area);
        self.width.set(chart.width);
        let what = match self.scope.end {
            None => format!("last {}", span_name(self.span())),
            Some(end) => format!(
                "{} … {}",
                time_in(end - self.span(), "%Y-%m-%d %H:%M"),
                time_in(end, "%Y-%m-%d %H:%M")
            ),
        };
        let line = match (&self.data, &self.error) {
            (_, Some(e)) => Line::from(Span::styled(
                format!("timeline: {}", safe(&e.message)),
                theme.error(),
            )),
            (None, None) => Line::from(Span::styled(format!("… · {what}"), theme.dim())),
            (Some(t), None) => Line::from(vec![
                Span::styled(grouped(t.histogram.total()), theme.header()),
                Span::raw(format!(" of {} · {what}", grouped(t.all))),
                Span::styled("  + - zoom  < > pan  :goto", theme.dim()),
            ]),
        };
        f.render_widget(Paragraph::new(line), totals);
        let Some(t) = &self.data else { return };
        let columns = usize::from(chart.width);
        let bars = resample(&t.histogram.counts, columns);
        f.render_widget(Sparkline::default().data(&bars).style(theme.key()), chart);
        let n = t.histogram.counts.len();
        if let Some(bucket) = selected.and_then(|time| t.histogram.bucket_of(time))
            && n > 0
        {
            let col = (bucket * columns / n).min(columns.saturating_sub(1));
            let start = t.histogram.from + bucket as Micros * t.histogram.width;
            let when = time_in(start, "%m-%d %H:%M");
            // The time goes right of the mark, or left of it at the right edge.
            let text = if col + 2 + when.chars().count() <= columns {
                format!("{}▲ {when}", " ".repeat(col))
            } else {
                let pad = (col + 1).saturating_sub(when.chars().count() + 2);
                format!("{}{when} ▲", " ".repeat(pad))
            };
            f.render_widget(Paragraph::new(Span::styled(text, theme.key())), marker);
        }
    }
}

/// `counts` stretched or summed to `columns` bars.
fn resample(counts: &[u64], columns: usize) -> Vec<u64> {
    let n = counts.len();
    if n == 0 || columns == 0 {
        return Vec::new();
    }
    (0..columns)
        .map(|c| {
            let (a, b) = (
                c * n / columns,
                ((c + 1) * n / columns).max(c * n / columns + 1),
            );
            counts[a..b.min(n)].iter().sum()
        })
        .collect()
}

fn span_name(span: Micros) -> String {
    match span {
        s if s % DAY == 0 && s / DAY == 1 => "24 hours".into(),
        s if s % DAY == 0 => format!("{} days", s / DAY),
        s if s / HOUR == 1 => "hour".into(),
        s => format!("{} hours", s / HOUR),
    }
}

/// 1204331 → "1,204,331".
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `:goto` text: `2026-11-28 14:00`, `2026-11-28T14:00` or a whole day, UTC.
pub fn parse_moment(text: &str) -> Result<Micros, String> {
    let text = text.trim();
    let at = ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(23, 59, 59))
        })
        .ok_or_else(|| {
            format!(
                "cannot read {:?} as a moment: write 2026-11-28 14:00 or 2026-11-28 (UTC)",
                safe(text)
            )
        })?;
    Ok(at.and_utc().timestamp_micros())
}

#[cfg(test)]
mod tests {
    use super::*;

    // Issue 13: exact totals, read at a glance.
    #[test]
    fn totals_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1_204_331), "1,204,331");
        assert_eq!(grouped(9_882_004), "9,882,004");
    }

    #[test]
    fn bars_fill_the_width() {
        assert_eq!(resample(&[1, 2, 3, 4], 2), [3, 7]);
        assert_eq!(resample(&[5, 6], 4), [5, 5, 6, 6]);
        assert_eq!(resample(&[1, 2, 3], 3), [1, 2, 3]);
        assert!(resample(&[], 10).is_empty());
    }

    // Issue 13: `:goto` reads a moment in UTC; a day means its end, so the list shows all of it.
    #[test]
    fn goto_reads_a_moment() {
        let at = parse_moment("2026-11-28 14:00").expect("a moment");
        assert_eq!(time_in(at, "%Y-%m-%d %H:%M:%S"), "2026-11-28 14:00:00");
        let day = parse_moment("2026-11-28").expect("a day");
        assert_eq!(time_in(day, "%H:%M:%S"), "23:59:59");
        assert!(
            parse_moment("yesterday")
                .unwrap_err()
                .contains("2026-11-28 14:00")
        );
    }

    // Issue 13: zoom steps through the spans and stops at the ends; panning
    // later than now follows the clock again.
    #[test]
    fn zoom_and_pan() {
        let mut t = TimelineView::default();
        assert_eq!(t.span(), 7 * DAY);
        t.zoom(-1);
        assert_eq!(t.span(), 3 * DAY);
        (0..20).for_each(|_| t.zoom(-1));
        assert_eq!(t.span(), HOUR);
        let now = 1_000 * DAY;
        t.pan(-1, now);
        assert_eq!(t.scope.end, Some(now - HOUR / 2));
        t.pan(1, now);
        assert_eq!(t.scope.end, None, "back to now, following the clock");
        (0..20).for_each(|_| t.zoom(1));
        assert_eq!(t.span(), 365 * DAY);
    }

    // Latest wins: one request at a time, a late answer to an old one is dropped.
    #[test]
    fn one_request_at_a_time_and_the_latest_wins() {
        let mut t = TimelineView::default();
        assert!(t.request("a").is_some());
        assert!(t.request("b").is_none(), "one is running");
        let empty = Timeline {
            histogram: crate::store::Histogram {
                from: 0,
                width: 1,
                counts: vec![],
            },
            all: 0,
        };
        let again = t.answered(1, Ok(empty.clone()), "b");
        assert!(
            matches!(again, Some(Cmd::LoadTimeline { ref filter, seq: 2, .. }) if filter == "b")
        );
        assert!(
            t.answered(1, Ok(empty), "b").is_none(),
            "an old answer is dropped"
        );
    }
}
