//! Metric names and the events that move them.
//!
//! Names follow Prometheus conventions (`wirefeed_` prefix, base units,
//! `_total` for counters) and live here as constants; `clippy.toml` bans the
//! raw `metrics` macros elsewhere so no call site invents a name. Each event
//! is logged by its caller with the same fields; label values are bounded
//! (`feed_id` comes from the config, the others from fixed sets).

#![allow(clippy::disallowed_macros)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use metrics::Label;
use wirefeed_model::FeedId;
use wirefeed_sources::{HttpObserver, RequestKind};

/// Polls by feed and outcome (`fetched`, `not_modified`, `error`).
pub const FEED_POLLS_TOTAL: &str = "wirefeed_feed_polls_total";
/// Bytes of feed documents received, by feed.
pub const FEED_RECEIVED_BYTES_TOTAL: &str = "wirefeed_feed_received_bytes_total";
/// Items parsed, by format.
pub const ITEMS_RECEIVED_TOTAL: &str = "wirefeed_items_received_total";
/// Items whose content was unchanged since the last published version.
pub const ITEMS_UNCHANGED_TOTAL: &str = "wirefeed_items_unchanged_total";
/// Records acknowledged by Kafka, by `version_kind` (`new`, `update`).
pub const RECORDS_PUBLISHED_TOTAL: &str = "wirefeed_records_published_total";
/// Feeds that became unhealthy (failing `unhealthy_after` polls in a row).
pub const FEED_UNHEALTHY_TOTAL: &str = "wirefeed_feed_unhealthy_total";
/// Errors by `stage` and `error_type`.
pub const ERRORS_TOTAL: &str = "wirefeed_errors_total";
/// Time from enqueue to acknowledgement.
pub const KAFKA_DELIVERY_DURATION_SECONDS: &str = "wirefeed_kafka_delivery_duration_seconds";
/// Size of record values.
pub const RECORD_SIZE_BYTES: &str = "wirefeed_record_size_bytes";
/// Article page fetches, by outcome (`used`, `not_better`, `refused`, `failed`).
pub const PAGE_FETCHES_TOTAL: &str = "wirefeed_page_fetches_total";
/// New stories found to near-duplicate an earlier one, by `action`
/// (`published`, `withheld`).
pub const NEAR_DUPLICATES_TOTAL: &str = "wirefeed_near_duplicates_total";
/// Stories the state store remembers.
pub const STATE_STORIES: &str = "wirefeed_state_stories";
/// Size of the state store file.
pub const STATE_FILE_BYTES: &str = "wirefeed_state_file_bytes";
/// Lines cut out of bodies by the cleaner, by `kind` (copyright,
/// contributors, caption, credit, …).
pub const REMOVED_LINES_TOTAL: &str = "wirefeed_removed_lines_total";
/// Items waiting in a queue between stages, by `queue` (`work`: parsed
/// items before the workers; `publish`: records before the producer).
pub const QUEUE_DEPTH: &str = "wirefeed_queue_depth";
/// 1 while a Kafka broker answers, 0 while none does.
pub const KAFKA_UP: &str = "wirefeed_kafka_up";
/// Records handed to Kafka and not yet acknowledged.
pub const KAFKA_IN_FLIGHT_RECORDS: &str = "wirefeed_kafka_in_flight_records";
/// Records and items sent to the dead-letter topic, by `stage` (`publish`:
/// refused by the broker; `process`: processing panicked).
pub const DEAD_LETTERS_TOTAL: &str = "wirefeed_dead_letters_total";
/// Enrichment steps that failed (panicked) and were left out of a record, by step.
pub const ENRICHMENT_FAILURES_TOTAL: &str = "wirefeed_enrichment_failures_total";

/// HTTP responses by request `kind` (`feed`, `page`) and `status_class`
/// (`1xx` … `5xx`); every hop of a redirect chain counts, and a `304`
/// is a `3xx`.
pub const HTTP_RESPONSES_TOTAL: &str = "wirefeed_http_responses_total";
/// HTTP requests that got no response, by `kind` and `error_type`
/// (`connect`, `timeout`, `forbidden_address`, …).
pub const HTTP_REQUEST_FAILURES_TOTAL: &str = "wirefeed_http_request_failures_total";
/// Articles that completed a stage, by `stage`: `parsed` (read from a
/// document), `normalized`, `extracted` (cleaned and enriched),
/// `versioned` (new or changed, so to be published), `published`
/// (acknowledged by Kafka). The gaps between stages are the unchanged,
/// rejected, withheld and dead-lettered items, each counted on its own.
pub const ARTICLES_TOTAL: &str = "wirefeed_articles_total";
/// Configured feeds by `health`: `healthy` (last poll succeeded or not
/// yet polled), `failing` (failed, fewer than `unhealthy_after` times in a
/// row), `unhealthy`.
pub const FEEDS: &str = "wirefeed_feeds";
/// Consecutive failed polls of a feed (0 after a success), by feed.
pub const FEED_ERROR_STREAK: &str = "wirefeed_feed_error_streak";
/// When a feed was last polled successfully, Unix seconds, by feed; alert
/// on `time() - wirefeed_feed_last_success_timestamp_seconds`.
pub const FEED_LAST_SUCCESS_TIMESTAMP_SECONDS: &str =
    "wirefeed_feed_last_success_timestamp_seconds";

/// Whether feed metrics carry a `feed_id` label (`[health]
/// per_feed_metrics`); off, every feed shares one series.
static PER_FEED: AtomicBool = AtomicBool::new(true);

/// Sets whether feed metrics carry a `feed_id` label.
pub fn set_per_feed(on: bool) {
    PER_FEED.store(on, Ordering::Relaxed);
}

/// The labels of a feed metric: `feed_id` when per-feed metrics are on,
/// then `rest`.
fn feed_labels(feed_id: &FeedId, rest: &[(&'static str, &'static str)]) -> Vec<Label> {
    let mut labels = Vec::with_capacity(rest.len() + 1);
    if PER_FEED.load(Ordering::Relaxed) {
        labels.push(Label::new("feed_id", feed_id.to_string()));
    }
    labels.extend(rest.iter().map(|(key, value)| Label::new(*key, *value)));
    labels
}

/// Pipeline stages, as used in the `stage` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Fetching a feed document.
    Fetch,
    /// Parsing a document into items.
    Parse,
    /// Normalizing an item.
    Normalize,
    /// Reading or writing the state store.
    State,
    /// Publishing to Kafka.
    Publish,
}

impl Stage {
    /// Returns the label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Fetch => "fetch",
            Stage::Parse => "parse",
            Stage::Normalize => "normalize",
            Stage::State => "state",
            Stage::Publish => "publish",
        }
    }
}

/// Counts a poll and its outcome.
pub fn feed_polled(feed_id: &FeedId, outcome: &'static str) {
    metrics::counter!(
        FEED_POLLS_TOTAL,
        feed_labels(feed_id, &[("outcome", outcome)])
    )
    .increment(1);
}

/// Counts a feed turning unhealthy.
pub fn feed_unhealthy(feed_id: &FeedId) {
    metrics::counter!(FEED_UNHEALTHY_TOTAL, feed_labels(feed_id, &[])).increment(1);
}

/// Counts bytes received for a feed.
pub fn feed_bytes(feed_id: &FeedId, bytes: usize) {
    metrics::counter!(FEED_RECEIVED_BYTES_TOTAL, feed_labels(feed_id, &[])).increment(bytes as u64);
}

/// Sets a feed's health gauges after a poll: its error streak and, after
/// a success, the time of it. Per feed only, so nothing when per-feed
/// metrics are off (the `wirefeed_feeds` gauge still counts them).
pub fn feed_health(feed_id: &FeedId, error_streak: u32, succeeded_at: Option<i64>) {
    if !PER_FEED.load(Ordering::Relaxed) {
        return;
    }
    metrics::gauge!(FEED_ERROR_STREAK, feed_labels(feed_id, &[])).set(f64::from(error_streak));
    if let Some(at) = succeeded_at {
        #[allow(clippy::cast_precision_loss)]
        metrics::gauge!(
            FEED_LAST_SUCCESS_TIMESTAMP_SECONDS,
            feed_labels(feed_id, &[])
        )
        .set(at as f64);
    }
}

/// Forgets a feed's own gauges (a reload removed it).
pub fn feed_removed(feed_id: &FeedId) {
    if !PER_FEED.load(Ordering::Relaxed) {
        return;
    }
    metrics::gauge!(FEED_ERROR_STREAK, feed_labels(feed_id, &[])).set(0.0);
}

/// Sets how many feeds are healthy, failing and unhealthy.
pub fn feeds_by_health(healthy: usize, failing: usize, unhealthy: usize) {
    #[allow(clippy::cast_precision_loss)]
    for (health, count) in [
        ("healthy", healthy),
        ("failing", failing),
        ("unhealthy", unhealthy),
    ] {
        metrics::gauge!(FEEDS, "health" => health).set(count as f64);
    }
}

/// Counts articles that completed `stage`.
pub fn articles(stage: &'static str, count: usize) {
    metrics::counter!(ARTICLES_TOTAL, "stage" => stage).increment(count as u64);
}

/// Counts HTTP exchanges for the fetcher.
#[derive(Debug, Clone, Copy, Default)]
pub struct HttpMetrics;

impl HttpObserver for HttpMetrics {
    fn response(&self, kind: RequestKind, status: u16) {
        let class = match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            500..=599 => "5xx",
            _ => "other",
        };
        metrics::counter!(HTTP_RESPONSES_TOTAL, "kind" => kind.as_str(), "status_class" => class)
            .increment(1);
    }

    fn no_response(&self, kind: RequestKind, error_type: &'static str) {
        metrics::counter!(
            HTTP_REQUEST_FAILURES_TOTAL,
            "kind" => kind.as_str(),
            "error_type" => error_type
        )
        .increment(1);
    }
}

/// Counts parsed items.
pub fn items_received(format: &'static str, count: usize) {
    metrics::counter!(ITEMS_RECEIVED_TOTAL, "format" => format).increment(count as u64);
}

/// Counts an unchanged item.
pub fn item_unchanged() {
    metrics::counter!(ITEMS_UNCHANGED_TOTAL).increment(1);
}

/// Counts an acknowledged record and its delivery time.
pub fn record_published(version: u32, delivery: Duration, size: usize) {
    let kind = if version > 1 { "update" } else { "new" };
    metrics::counter!(RECORDS_PUBLISHED_TOTAL, "version_kind" => kind).increment(1);
    articles("published", 1);
    metrics::histogram!(KAFKA_DELIVERY_DURATION_SECONDS).record(delivery.as_secs_f64());
    metrics::histogram!(RECORD_SIZE_BYTES).record(size as f64);
}

/// Counts an error.
pub fn error(stage: Stage, error_type: &'static str) {
    metrics::counter!(ERRORS_TOTAL, "stage" => stage.as_str(), "error_type" => error_type)
        .increment(1);
}

/// Counts an article page fetch and its outcome.
pub fn page_fetched(outcome: &'static str) {
    metrics::counter!(PAGE_FETCHES_TOTAL, "outcome" => outcome).increment(1);
}

/// Counts an enrichment step that failed and was left out of a record.
pub fn enrichment_failed(step: &str) {
    let step: &'static str = match step {
        "page" => "page",
        "clean" => "clean",
        "quotes" => "quotes",
        "entities" => "entities",
        "keywords" => "keywords",
        "language" => "language",
        _ => "other",
    };
    metrics::counter!(ENRICHMENT_FAILURES_TOTAL, "step" => step).increment(1);
}

/// Counts a dead letter the broker acknowledged.
pub fn dead_lettered(stage: &'static str) {
    metrics::counter!(DEAD_LETTERS_TOTAL, "stage" => stage).increment(1);
}

/// Sets whether a broker answers.
pub fn kafka_up(up: bool) {
    metrics::gauge!(KAFKA_UP).set(if up { 1.0 } else { 0.0 });
}

/// Sets the records awaiting their delivery report.
pub fn kafka_in_flight(records: i32) {
    metrics::gauge!(KAFKA_IN_FLIGHT_RECORDS).set(f64::from(records));
}

/// Counts a near-duplicate story and what was done with it.
pub fn near_duplicate(published: bool) {
    let action = if published { "published" } else { "withheld" };
    metrics::counter!(NEAR_DUPLICATES_TOTAL, "action" => action).increment(1);
}

/// Sets the state store's size gauges.
pub fn state_size(stories: u64, bytes: u64) {
    #[allow(clippy::cast_precision_loss)]
    {
        metrics::gauge!(STATE_STORIES).set(stories as f64);
        metrics::gauge!(STATE_FILE_BYTES).set(bytes as f64);
    }
}

/// Counts the lines a record's cleaning removed, by kind.
pub fn removed_lines(removed: &[wirefeed_model::Removed]) {
    for line in removed {
        metrics::counter!(REMOVED_LINES_TOTAL, "kind" => line.kind.as_str()).increment(1);
    }
}

/// Sets how many items wait in a queue.
pub fn queue_depth(queue: &'static str, depth: usize) {
    #[allow(clippy::cast_precision_loss)]
    metrics::gauge!(QUEUE_DEPTH, "queue" => queue).set(depth as f64);
}
