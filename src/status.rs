//! The status page: a small read-only HTML page on the health listener
//! (`/` and `/status`) for the people who watch a daemon they did not
//! write. It lists every feed with its last poll, the last outcome, the
//! next poll, its error streak and the stories it published, failing feeds
//! first, and the pipeline's throughput.
//!
//! The page is rendered on the server and complete without JavaScript: it
//! refreshes itself with `<meta http-equiv="refresh">` and shows times in
//! UTC with "42 s ago" computed at render time. A small script
//! (`/status.js`), where allowed, shows times in the browser's zone, keeps
//! the relative times ticking and adds a filter box. A strict
//! Content-Security-Policy allows nothing else.

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};

use crate::health::Health;
use crate::metrics;
use crate::pipeline::RunSummary;

/// How a feed's last poll went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Not polled since the daemon started.
    NotYet,
    /// A document was read: its items and what became of them.
    Fetched {
        /// Items in the document.
        items: usize,
        /// Records Kafka acknowledged.
        published: usize,
        /// Items unchanged since their last version.
        unchanged: usize,
        /// Items rejected or dead-lettered.
        rejected: usize,
        /// Items not delivered (offered again at the next poll).
        failed: usize,
    },
    /// The server answered `304 Not Modified`.
    NotModified,
    /// The poll failed at `stage`.
    Failed {
        /// `fetch` or `parse`.
        stage: &'static str,
        /// The error, as logged.
        error: String,
    },
}

/// One feed's row.
#[derive(Debug, Clone)]
struct FeedRow {
    url: String,
    provider: String,
    spool: bool,
    interval_secs: u64,
    last_poll_at: Option<i64>,
    next_poll_at: Option<i64>,
    last_success_at: Option<i64>,
    error_streak: u32,
    outcome: Outcome,
    published: u64,
}

/// The rows, and how many of them are in each [`Standing`] (kept as rows
/// change, so a poll costs no walk over every feed).
#[derive(Debug, Default)]
struct Feeds {
    rows: BTreeMap<String, FeedRow>,
    by_health: [usize; 3],
}

/// How a feed stands, by its error streak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    Healthy,
    Failing,
    Unhealthy,
}

impl Standing {
    fn of(error_streak: u32, unhealthy_after: u32) -> Self {
        match error_streak {
            0 => Standing::Healthy,
            streak if streak >= unhealthy_after => Standing::Unhealthy,
            _ => Standing::Failing,
        }
    }

    /// The row's CSS class on the page.
    fn class(self) -> &'static str {
        match self {
            Standing::Healthy => "ok",
            Standing::Failing => "warn",
            Standing::Unhealthy => "bad",
        }
    }
}

impl Feeds {
    /// Moves a row's count from one health to another.
    fn moved(&mut self, from: Option<Standing>, to: Option<Standing>) {
        if let Some(from) = from {
            self.by_health[from as usize] -= 1;
        }
        if let Some(to) = to {
            self.by_health[to as usize] += 1;
        }
    }

    /// Counts every row again (the threshold changed).
    fn recount(&mut self, unhealthy_after: u32) {
        self.by_health = [0; 3];
        for row in self.rows.values() {
            self.by_health[Standing::of(row.error_streak, unhealthy_after) as usize] += 1;
        }
    }

    /// Sets the `wirefeed_feeds` gauges.
    fn publish(&self) {
        let [healthy, failing, unhealthy] = self.by_health;
        metrics::feeds_by_health(healthy, failing, unhealthy);
    }
}

/// A sample of the pipeline's counters, for rates.
#[derive(Debug, Clone, Copy)]
struct Sample {
    at: i64,
    items: u64,
    published: u64,
}

/// Samples kept: one every [`SAMPLE_EVERY_SECS`] for 15 minutes.
const SAMPLES: usize = 15 * 60 / SAMPLE_EVERY_SECS as usize + 1;

/// Seconds between samples of the pipeline's counters.
pub const SAMPLE_EVERY_SECS: u64 = 5;

/// What the status page shows; the pollers and the pipeline keep it up to
/// date. Bounded: one row per configured feed, 15 minutes of samples.
#[derive(Debug)]
pub struct StatusBoard {
    started_at: DateTime<Utc>,
    unhealthy_after: AtomicU32,
    feeds: Mutex<Feeds>,
    samples: Mutex<VecDeque<Sample>>,
    totals: Mutex<RunSummary>,
    state: Mutex<Option<(u64, u64)>>,
    /// Polls (and spool files) recorded since start.
    polls: AtomicU64,
    /// Of those, polls answered `304 Not Modified`.
    not_modified: AtomicU64,
}

impl StatusBoard {
    /// A board for a daemon starting now.
    pub fn new(unhealthy_after: u32) -> Self {
        Self {
            started_at: Utc::now(),
            unhealthy_after: AtomicU32::new(unhealthy_after),
            feeds: Mutex::new(Feeds::default()),
            samples: Mutex::new(VecDeque::with_capacity(SAMPLES)),
            totals: Mutex::new(RunSummary::default()),
            state: Mutex::new(None),
            polls: AtomicU64::new(0),
            not_modified: AtomicU64::new(0),
        }
    }

    /// Sets the streak after which a feed counts as unhealthy.
    pub fn set_unhealthy_after(&self, polls: u32) {
        if self.unhealthy_after.swap(polls, Ordering::Relaxed) != polls {
            let mut feeds = self.feeds.lock().unwrap_or_else(PoisonError::into_inner);
            feeds.recount(polls);
            feeds.publish();
        }
    }

    /// Keeps only the feeds in `ids` (after a reload).
    pub fn retain(&self, ids: &[String]) {
        let unhealthy_after = self.unhealthy_after.load(Ordering::Relaxed);
        let mut feeds = self.feeds.lock().unwrap_or_else(PoisonError::into_inner);
        let removed: Vec<String> = feeds
            .rows
            .keys()
            .filter(|id| !ids.contains(id))
            .cloned()
            .collect();
        for id in removed {
            if let Some(row) = feeds.rows.remove(&id) {
                feeds.moved(Some(Standing::of(row.error_streak, unhealthy_after)), None);
            }
            metrics::feed_removed(&wirefeed_model::FeedId::new(id));
        }
        feeds.publish();
    }

    /// Lists a feed as it starts, with what the state store remembers of
    /// its schedule.
    #[allow(clippy::too_many_arguments)]
    pub fn register(
        &self,
        id: &str,
        url: &str,
        provider: &str,
        spool: bool,
        interval_secs: u64,
        last_poll_at: Option<i64>,
        next_poll_at: Option<i64>,
        error_streak: u32,
    ) {
        let unhealthy_after = self.unhealthy_after.load(Ordering::Relaxed);
        let mut feeds = self.feeds.lock().unwrap_or_else(PoisonError::into_inner);
        if !feeds.rows.contains_key(id) {
            feeds.moved(None, Some(Standing::of(error_streak, unhealthy_after)));
        }
        let row = feeds.rows.entry(id.to_owned()).or_insert_with(|| FeedRow {
            url: String::new(),
            provider: String::new(),
            spool,
            interval_secs,
            last_poll_at,
            next_poll_at,
            last_success_at: None,
            error_streak,
            outcome: Outcome::NotYet,
            published: 0,
        });
        url.clone_into(&mut row.url);
        provider.clone_into(&mut row.provider);
        row.spool = spool;
        row.interval_secs = interval_secs;
        feeds.publish();
    }

    /// Records a poll of feed `id` (or a spool file read).
    pub fn polled(&self, id: &str, outcome: Outcome, error_streak: u32, next_poll_at: Option<i64>) {
        let now = Utc::now().timestamp();
        let unhealthy_after = self.unhealthy_after.load(Ordering::Relaxed);
        let mut feeds = self.feeds.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(row) = feeds.rows.get_mut(id) else {
            return;
        };
        let before = Standing::of(row.error_streak, unhealthy_after);
        row.last_poll_at = Some(now);
        if next_poll_at.is_some() {
            row.next_poll_at = next_poll_at;
        }
        row.error_streak = error_streak;
        if !matches!(outcome, Outcome::Failed { .. }) {
            row.last_success_at = Some(now);
        }
        self.polls.fetch_add(1, Ordering::Relaxed);
        if outcome == Outcome::NotModified {
            self.not_modified.fetch_add(1, Ordering::Relaxed);
        }
        if let Outcome::Fetched { published, .. } = &outcome {
            row.published += *published as u64;
        }
        let succeeded = row.last_success_at.filter(|at| *at == now);
        row.outcome = outcome;
        let after = Standing::of(error_streak, unhealthy_after);
        if before != after {
            feeds.moved(Some(before), Some(after));
            feeds.publish();
        }
        drop(feeds);
        metrics::feed_health(&wirefeed_model::FeedId::new(id), error_streak, succeeded);
    }

    /// Takes a sample of the pipeline's totals.
    pub fn sample(&self, totals: RunSummary) {
        let mut samples = self.samples.lock().unwrap_or_else(PoisonError::into_inner);
        if samples.len() == SAMPLES {
            samples.pop_front();
        }
        samples.push_back(Sample {
            at: Utc::now().timestamp(),
            items: totals.items,
            published: totals.published,
        });
        drop(samples);
        *self.totals.lock().unwrap_or_else(PoisonError::into_inner) = totals;
    }

    /// Records the state store's size.
    pub fn state_size(&self, stories: u64, bytes: u64) {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner) = Some((stories, bytes));
    }

    /// Items and records per minute over the last `window_secs` (as far
    /// back as the samples reach), or `None` before two samples.
    fn rate(&self, window_secs: i64) -> Option<(f64, f64, i64)> {
        let samples = self.samples.lock().unwrap_or_else(PoisonError::into_inner);
        let last = *samples.back()?;
        let first = samples
            .iter()
            .find(|sample| sample.at >= last.at - window_secs)
            .copied()?;
        let span = last.at - first.at;
        if span <= 0 {
            return None;
        }
        #[allow(clippy::cast_precision_loss)]
        let per_minute = |from: u64, to: u64| to.saturating_sub(from) as f64 * 60.0 / span as f64;
        Some((
            per_minute(first.items, last.items),
            per_minute(first.published, last.published),
            span,
        ))
    }

    /// Renders the page.
    pub fn render(&self, health: &Health) -> String {
        let now = Utc::now();
        let mut rows: Vec<(String, FeedRow)> = self
            .feeds
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .rows
            .iter()
            .map(|(id, row)| (id.clone(), row.clone()))
            .collect();
        // Failing feeds first, longest streak first; then by id.
        rows.sort_by(|(a_id, a), (b_id, b)| {
            b.error_streak
                .cmp(&a.error_streak)
                .then_with(|| a_id.cmp(b_id))
        });
        let totals = *self.totals.lock().unwrap_or_else(PoisonError::into_inner);
        let state = *self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let unhealthy_after = self.unhealthy_after.load(Ordering::Relaxed);
        let failing = rows.iter().filter(|(_, row)| row.error_streak > 0).count();

        let mut page = String::with_capacity(4096 + rows.len() * 512);
        page.push_str(concat!(
            "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
            "<noscript><meta http-equiv=\"refresh\" content=\"15\"></noscript>\n",
            "<title>wirefeed status</title>\n",
            "<link rel=\"stylesheet\" href=\"/status.css\">\n",
            "<script src=\"/status.js\" defer></script>\n",
            "</head>\n<body>\n"
        ));
        let _ = writeln!(
            page,
            "<header><h1>wirefeed</h1><p>version {} · started <time datetime=\"{}\">{}</time> \
             (up {}) · page rendered <time id=\"rendered\" datetime=\"{}\">{}</time></p></header>",
            env!("CARGO_PKG_VERSION"),
            iso(self.started_at),
            human(self.started_at),
            span_text((now - self.started_at).num_seconds()),
            iso(now),
            human(now),
        );

        page.push_str("<section id=\"readiness\">\n<h2>Readiness</h2>\n");
        match health.readiness() {
            Ok(()) => page.push_str("<p class=\"ok\" id=\"ready\">Ready</p>\n"),
            Err(reasons) => {
                let _ = writeln!(
                    page,
                    "<p class=\"bad\" id=\"ready\">Not ready: {}</p>",
                    escape(&reasons.join(", "))
                );
            }
        }
        let _ = writeln!(
            page,
            "<ul><li>Kafka: {}</li><li>State store: {}</li></ul>\n</section>",
            if health.kafka_up() {
                "<span class=\"ok\">reachable</span>"
            } else {
                "<span class=\"bad\">unreachable</span>"
            },
            match state {
                Some((stories, bytes)) => format!("{stories} stories, {}", bytes_text(bytes)),
                None => "open".to_owned(),
            }
        );

        page.push_str("<section id=\"throughput\">\n<h2>Pipeline</h2>\n<table>\n");
        page.push_str(
            "<thead><tr><th scope=\"col\"></th><th scope=\"col\">Items parsed</th>\
             <th scope=\"col\">Records published</th></tr></thead>\n<tbody>\n",
        );
        for (label, window) in [
            ("per minute, last minute", 60),
            ("per minute, last 15 minutes", 900),
        ] {
            match self.rate(window) {
                Some((items, published, span)) => {
                    let _ = writeln!(
                        page,
                        "<tr><th scope=\"row\">{label}{}</th><td>{items:.1}</td><td>{published:.1}</td></tr>",
                        if span + i64::try_from(SAMPLE_EVERY_SECS).unwrap_or(5) < window {
                            format!(" (over {})", span_text(span))
                        } else {
                            String::new()
                        }
                    );
                }
                None => {
                    let _ = writeln!(
                        page,
                        "<tr><th scope=\"row\">{label}</th><td>–</td><td>–</td></tr>"
                    );
                }
            }
        }
        let _ = writeln!(
            page,
            "<tr><th scope=\"row\">since start</th><td>{}</td><td>{}</td></tr>\n</tbody>\n</table>",
            totals.items, totals.published
        );
        let not_modified = self.not_modified.load(Ordering::Relaxed);
        let polls = self.polls.load(Ordering::Relaxed);
        #[allow(clippy::cast_precision_loss)]
        let ratio = if polls == 0 {
            String::new()
        } else {
            format!(
                " ({:.0}% of all)",
                not_modified as f64 * 100.0 / polls as f64
            )
        };
        let _ = writeln!(
            page,
            "<p>Unchanged {} · rejected {} · dead-lettered {} · polls {} ok, {} failed · \
             <span id=\"not-modified\">{not_modified} not modified{ratio}</span></p>\n</section>",
            totals.unchanged,
            totals.rejected,
            totals.dead_lettered,
            totals.polls_ok,
            totals.polls_failed
        );

        let _ = writeln!(
            page,
            "<section id=\"feeds-section\">\n<h2>Feeds <small>{} configured, {} failing \
             (unhealthy after {} failures in a row)</small></h2>",
            rows.len(),
            failing,
            unhealthy_after
        );
        page.push_str(
            "<table id=\"feeds\">\n<thead><tr>\
             <th scope=\"col\">Feed</th><th scope=\"col\">Last poll</th>\
             <th scope=\"col\">Last outcome</th><th scope=\"col\">Next poll</th>\
             <th scope=\"col\">Error streak</th><th scope=\"col\">Published</th>\
             </tr></thead>\n<tbody>\n",
        );
        let now_secs = now.timestamp();
        for (id, row) in &rows {
            let class = Standing::of(row.error_streak, unhealthy_after).class();
            let _ = write!(
                page,
                "<tr class=\"feed {class}\" data-feed=\"{}\">\
                 <th scope=\"row\"><span class=\"id\">{}</span><br><small>{}{} · every {}</small><br>\
                 <small class=\"url\">{}</small></th>",
                escape(id),
                escape(id),
                escape(&row.provider),
                if row.spool { " · spool" } else { "" },
                span_text(i64::try_from(row.interval_secs).unwrap_or(i64::MAX)),
                escape(&row.url),
            );
            let _ = write!(
                page,
                "<td class=\"last-poll\">{}</td>",
                when(row.last_poll_at, now_secs)
            );
            let outcome = match &row.outcome {
                Outcome::NotYet => "<span class=\"muted\">not polled yet</span>".to_owned(),
                Outcome::NotModified => "not modified (304)".to_owned(),
                Outcome::Fetched {
                    items,
                    published,
                    unchanged,
                    rejected,
                    failed,
                } => {
                    let mut text = format!(
                        "fetched: {items} item{}, {published} published, {unchanged} unchanged",
                        if *items == 1 { "" } else { "s" }
                    );
                    if *rejected > 0 {
                        let _ = write!(text, ", {rejected} rejected");
                    }
                    if *failed > 0 {
                        let _ = write!(text, ", <span class=\"bad\">{failed} not delivered</span>");
                    }
                    text
                }
                Outcome::Failed { stage, error } => format!(
                    "<span class=\"bad\">{stage} failed</span>: {}",
                    escape(&truncate(error, 300))
                ),
            };
            let _ = write!(page, "<td class=\"outcome\">{outcome}");
            if row.error_streak > 0 {
                let _ = write!(
                    page,
                    "<br><small>last success: {}</small>",
                    when(row.last_success_at, now_secs)
                );
            }
            let _ = writeln!(
                page,
                "</td><td class=\"next-poll\">{}</td><td class=\"streak\">{}</td>\
                 <td class=\"published\">{}</td></tr>",
                if row.spool {
                    "<span class=\"muted\">watching</span>".to_owned()
                } else {
                    when(row.next_poll_at, now_secs)
                },
                row.error_streak,
                row.published
            );
        }
        page.push_str("</tbody>\n</table>\n</section>\n");
        page.push_str(
            "<footer><p>Read-only; refreshes every 15 s. Machine-readable: \
             <a href=\"/metrics\">/metrics</a> · <a href=\"/readyz\">/readyz</a> · \
             <a href=\"/healthz\">/healthz</a></p></footer>\n</body>\n</html>\n",
        );
        page
    }
}

/// The page's stylesheet.
pub const STYLESHEET: &str = include_str!("status/status.css");

/// The page's optional script.
pub const SCRIPT: &str = include_str!("status/status.js");

/// A feed URL as the page shows it: without a password and with the query
/// cut to `?…`, since wire services often put API keys there and the page
/// may be seen by more people than the config.
pub fn display_url(url: &url::Url) -> String {
    let mut shown = url.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some("redacted"));
    }
    let query = shown.query().is_some();
    shown.set_query(None);
    shown.set_fragment(None);
    let mut text = shown.to_string();
    if query {
        text.push_str("?…");
    }
    text
}

/// `<time>` for a Unix time, with how long ago or until.
fn when(at: Option<i64>, now: i64) -> String {
    let Some(at) = at else {
        return "<span class=\"muted\">–</span>".to_owned();
    };
    let Some(time) = DateTime::<Utc>::from_timestamp(at, 0) else {
        return "<span class=\"muted\">–</span>".to_owned();
    };
    let delta = at - now;
    let relative = if delta > 0 {
        format!("in {}", span_text(delta))
    } else {
        format!("{} ago", span_text(-delta))
    };
    format!(
        "<time datetime=\"{}\">{}</time><br><small class=\"relative\">{relative}</small>",
        iso(time),
        human(time)
    )
}

fn iso(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn human(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// "42 s", "5 min", "3 h 10 min", "2 d 4 h".
fn span_text(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        0..60 => format!("{secs} s"),
        60..3_600 => format!("{} min", secs / 60),
        3_600..86_400 => match (secs % 3_600) / 60 {
            0 => format!("{} h", secs / 3_600),
            minutes => format!("{} h {minutes} min", secs / 3_600),
        },
        _ => match (secs % 86_400) / 3_600 {
            0 => format!("{} d", secs / 86_400),
            hours => format!("{} d {hours} h", secs / 86_400),
        },
    }
}

fn bytes_text(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let value = bytes as f64;
    if bytes >= 1 << 30 {
        format!("{:.1} GiB", value / f64::from(1u32 << 30))
    } else if bytes >= 1 << 20 {
        format!("{:.1} MiB", value / f64::from(1u32 << 20))
    } else {
        format!("{:.0} KiB", value / 1024.0)
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Escapes text for HTML content and quoted attribute values.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_show_outcomes_escape_text_and_put_failing_feeds_first() {
        let board = StatusBoard::new(3);
        board.register(
            "ap-top",
            "https://ap.example.com/top.rss",
            "Associated Press",
            false,
            300,
            None,
            None,
            0,
        );
        board.register(
            "bad<feed>",
            "https://x.example.com/?a=1&b=<2>",
            "X \"Wire\"",
            false,
            60,
            None,
            None,
            0,
        );
        board.polled(
            "ap-top",
            Outcome::Fetched {
                items: 12,
                published: 3,
                unchanged: 9,
                rejected: 0,
                failed: 0,
            },
            0,
            Some(Utc::now().timestamp() + 300),
        );
        for streak in 1..=4 {
            board.polled(
                "bad<feed>",
                Outcome::Failed {
                    stage: "fetch",
                    error: "HTTP 503 <html>".to_owned(),
                },
                streak,
                None,
            );
        }
        let health = Health::default();
        let page = board.render(&health);
        assert!(page.contains("fetched: 12 items, 3 published, 9 unchanged"));
        assert!(page.contains("data-feed=\"bad&lt;feed&gt;\""));
        assert!(page.contains("https://x.example.com/?a=1&amp;b=&lt;2&gt;"));
        assert!(page.contains("X &quot;Wire&quot;"));
        assert!(page.contains("HTTP 503 &lt;html&gt;"));
        assert!(!page.contains("503 <html>"), "error text is escaped");
        let bad = page.find("data-feed=\"bad&lt;feed&gt;\"").unwrap();
        let good = page.find("data-feed=\"ap-top\"").unwrap();
        assert!(bad < good, "the failing feed comes first");
        assert!(page.contains("class=\"feed bad\""));
        assert!(page.contains("Not ready: state store not open, kafka unreachable"));
        assert!(page.contains("2 configured, 1 failing"));
        assert!(page.contains("0 not modified (0% of all)"), "{page}");
        board.polled("ap-top", Outcome::NotModified, 0, None);
        let page = board.render(&health);
        assert!(page.contains("1 not modified (17% of all)"), "{page}");

        board.retain(&["ap-top".to_owned()]);
        assert!(!board.render(&health).contains("bad&lt;feed&gt;"));
    }

    #[test]
    fn rates_come_from_the_samples() {
        let board = StatusBoard::new(5);
        assert!(board.rate(60).is_none());
        {
            let mut samples = board.samples.lock().unwrap();
            let now = Utc::now().timestamp();
            samples.push_back(Sample {
                at: now - 30,
                items: 100,
                published: 10,
            });
            samples.push_back(Sample {
                at: now,
                items: 160,
                published: 40,
            });
        }
        let (items, published, span) = board.rate(60).unwrap();
        assert_eq!(span, 30);
        assert!((items - 120.0).abs() < 1e-9, "{items}");
        assert!((published - 60.0).abs() < 1e-9, "{published}");
    }

    #[test]
    fn urls_are_shown_without_secrets() {
        let url = |text: &str| display_url(&url::Url::parse(text).unwrap());
        assert_eq!(
            url("https://wire.example.com/feeds/top.rss?apikey=s3cret&lang=en"),
            "https://wire.example.com/feeds/top.rss?…"
        );
        let shown = url("https://desk:hunter2@wire.example.com/top.rss#x");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.starts_with("https://desk:"), "{shown}");
        assert_eq!(
            url("file:///srv/wire/afp.json"),
            "file:///srv/wire/afp.json"
        );
    }

    #[test]
    fn spans_read_as_people_say_them() {
        assert_eq!(span_text(42), "42 s");
        assert_eq!(span_text(300), "5 min");
        assert_eq!(span_text(3_600), "1 h");
        assert_eq!(span_text(11_400), "3 h 10 min");
        assert_eq!(span_text(187_200), "2 d 4 h");
        assert_eq!(truncate("abcdef", 3), "abc…");
    }
}
