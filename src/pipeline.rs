//! The daemon: feed pollers → normalize/clean workers → Kafka publisher →
//! state commits, joined by bounded channels.
//!
//! ```text
//!  feed tasks ──work(queue_capacity)──► workers ──publish(queue_capacity)──► publisher
//!     ▲                                  (spawn_blocking:        (≤ max_in_flight awaiting
//!     │                                   normalize, clean,       delivery reports; state
//!     └──────────── per-item acks ◄────── version decision)       commit per ack batch)
//! ```
//!
//! A feed task hands every item of a document to the workers with a
//! one-shot ack and waits for all of them. It stores the document's HTTP
//! validators only when no item failed delivery, so a record that did not
//! reach Kafka is fetched and offered again at the next poll instead of
//! hiding behind a `304`.
//!
//! Dead letters: a record the broker can never take (too large, rejected)
//! and an item whose processing panicked go to the dead-letter topic with
//! the reason; the item then counts as settled, so the document's
//! validators are stored and the rest of the feed flows on.
//!
//! Versions: a worker compares the record's content hash with the latest
//! version known — the one in flight, else the one in the state store — and
//! either drops it as unchanged or gives it the next version. The state
//! store learns a version only from its delivery report.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, error, info, info_span, warn};
use url::Url;
use wirefeed_extract::{Cleaner, PageInput};
use wirefeed_formats::{FeedHints, ParseLimits};
use wirefeed_kafka::{DeliveryReceipt, PublishError, Publisher, TxnMessage, TxnTopic};
use wirefeed_model::{
    ArticleSource, DEAD_LETTER_SCHEMA, DeadLetter, FeedFormat, RawItem, Record, StoryId,
};
use wirefeed_sources::{FetchOutcome, Fetcher, SpoolDir, Validators};
use wirefeed_state::{FeedState, Published, StateError, StateStore, StoryState};

use crate::config::{DedupSection, DeliveryMode, FaultProbe, Feed, Settings};
use crate::health::Health;
use crate::metrics::{self, Stage};
use crate::process::{DocumentContext, normalize_item, page_wanted};
use crate::schedule::{Jitter, ScheduleConfig, adapt_interval, next_delay, skip_forward};
use crate::status::{Outcome, StatusBoard};

/// How the daemon runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    /// Poll every feed on its interval until shut down.
    Daemon,
    /// Poll every feed once, wait for every delivery report, return.
    Once,
}

/// What a run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RunSummary {
    /// Polls that fetched (or found unchanged) and parsed their feed.
    pub polls_ok: u64,
    /// Polls that failed to fetch or parse.
    pub polls_failed: u64,
    /// Items parsed.
    pub items: u64,
    /// Records acknowledged by Kafka.
    pub published: u64,
    /// Items unchanged since their last published version.
    pub unchanged: u64,
    /// Items that could not become records (e.g. empty).
    pub rejected: u64,
    /// Records and items sent to the dead-letter topic instead.
    pub dead_lettered: u64,
    /// Records not acknowledged (delivery failed, or the run stopped first).
    pub undelivered: u64,
    /// Whether the shutdown drain finished before its deadline.
    pub drained: bool,
}

impl RunSummary {
    /// Returns the process exit code of a run in `mode`.
    ///
    /// `Once`: 0 when every poll worked and every record was delivered, 2
    /// when polls or items failed but every record made was delivered (or
    /// dead-lettered), 3 when records were not delivered.
    ///
    /// `Daemon`: 0 after a clean shutdown, 3 when the drain deadline passed
    /// with records in flight. Failures along the way (a feed down, a
    /// delivery that timed out while the broker was away) were retried by
    /// later polls and do not count.
    pub fn exit_code(&self, mode: RunMode) -> u8 {
        if mode == RunMode::Daemon {
            return if self.drained { 0 } else { 3 };
        }
        if self.undelivered > 0 || !self.drained {
            3
        } else if self.polls_failed > 0 || self.rejected > 0 || self.dead_lettered > 0 {
            2
        } else {
            0
        }
    }
}

#[derive(Debug, Default)]
struct Stats {
    polls_ok: AtomicU64,
    polls_failed: AtomicU64,
    items: AtomicU64,
    published: AtomicU64,
    unchanged: AtomicU64,
    rejected: AtomicU64,
    dead_lettered: AtomicU64,
    undelivered: AtomicU64,
}

impl Stats {
    fn add(counter: &AtomicU64, value: u64) {
        counter.fetch_add(value, Ordering::Relaxed);
    }

    fn count_poll(&self, ok: bool) {
        Self::add(
            if ok {
                &self.polls_ok
            } else {
                &self.polls_failed
            },
            1,
        );
    }

    fn summary(&self, drained: bool) -> RunSummary {
        RunSummary {
            polls_ok: self.polls_ok.load(Ordering::Relaxed),
            polls_failed: self.polls_failed.load(Ordering::Relaxed),
            items: self.items.load(Ordering::Relaxed),
            published: self.published.load(Ordering::Relaxed),
            unchanged: self.unchanged.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            dead_lettered: self.dead_lettered.load(Ordering::Relaxed),
            undelivered: self.undelivered.load(Ordering::Relaxed),
            drained,
        }
    }
}

/// What became of one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ItemOutcome {
    /// Acknowledged by Kafka and committed to the state store.
    Published,
    /// Same content as the last version; nothing sent.
    Unchanged,
    /// Could never become a record (bad item); retrying will not help.
    Rejected,
    /// Can never be published; went to the dead-letter topic instead.
    DeadLettered,
    /// Not delivered or not committed; must be offered again.
    Failed,
}

struct WorkItem {
    raw: RawItem,
    ctx: Arc<DocumentContext>,
    ack: oneshot::Sender<ItemOutcome>,
}

struct PublishItem {
    outgoing: Outgoing,
    ack: oneshot::Sender<ItemOutcome>,
}

/// What the publisher sends.
enum Outgoing {
    /// A record, to the record topic.
    Record(Box<Record>),
    /// A dead letter, to the dead-letter topic.
    Dead(Box<DeadJob>),
    /// Changelog keys of expired entries to delete (exactly-once mode).
    Tombstones(Vec<String>),
}

/// A dead letter and what to remember once the broker has it, so the same
/// content is not dead-lettered again at the next poll.
struct DeadJob {
    letter: DeadLetter,
    settle: DeadSettle,
}

enum DeadSettle {
    /// A record's version: stored as the story's latest, marked dead.
    Story(Published),
    /// An item that never became a record, by fingerprint.
    Item(String),
}

/// An item's fingerprint: its feed and everything the parser gave.
fn item_fingerprint(feed_id: &wirefeed_model::FeedId, raw: &RawItem) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(feed_id.as_str().as_bytes());
    hasher.update([0]);
    // A raw item is strings, dates and lists: it always serializes.
    hasher.update(serde_json::to_vec(raw).unwrap_or_default());
    format!("{feed_id}:{}", hex::encode(&hasher.finalize()[..16]))
}

/// A dead letter for an item whose processing panicked.
fn panicked_item(
    stage: &str,
    feed_id: &wirefeed_model::FeedId,
    topic: &str,
    raw: RawItem,
    error: String,
) -> DeadLetter {
    DeadLetter {
        schema: DEAD_LETTER_SCHEMA,
        reason: format!("{stage} panicked on an item of feed {feed_id}: {error}"),
        error_type: "panic".to_owned(),
        stage: stage.to_owned(),
        topic: topic.to_owned(),
        feed_id: feed_id.clone(),
        id: None,
        version: None,
        guid: raw.guid.clone(),
        url: raw.url.clone(),
        title: raw.title.clone(),
        dead_at: chrono::Utc::now(),
        shrunk: false,
        original_bytes: None,
        record: None,
        item: Some(raw),
    }
}

/// The text of a panic caught by `spawn_blocking`.
fn panic_text(err: tokio::task::JoinError) -> String {
    match err.try_into_panic() {
        Ok(payload) => payload
            .downcast_ref::<&str>()
            .map(|text| (*text).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned()),
        Err(err) => err.to_string(),
    }
}

/// The latest version of each story handed to the publisher and not yet
/// settled, in front of the state store.
struct Versions {
    state: Arc<StateStore>,
    pending: Mutex<HashMap<StoryId, StoryState>>,
    dedup: DedupSection,
}

/// What to do with a record.
#[derive(Debug)]
enum Decision {
    /// Publish it (its id, version and duplicate mark are set).
    Publish,
    /// Same content as the story's latest version: nothing to send.
    Unchanged,
    /// A near-duplicate held back by configuration; already recorded.
    Withheld,
}

/// How close two bodies published under one URL must be to count as
/// versions of one story (when their titles differ).
const SAME_STORY_MAX_DISTANCE: u32 = 16;

/// A story is remembered as seen again at most this often (retention is
/// counted in days; re-marking every poll would write for nothing).
const TOUCH_EVERY_SECS: i64 = 86_400;

/// The state a record's delivery leaves for its story.
fn story_state(record: &Record, now: i64) -> StoryState {
    let mut state = StoryState::new(record.version, record.content_hash.clone(), now);
    state.simhash = u64::from_str_radix(&record.simhash, 16).ok();
    state.url_hash = url_key(record).map(|url| wirefeed_state::url_hash(&url));
    state.title_hash = Some(title_hash(&record.title));
    state.duplicate_of = record.duplicate_of.as_ref().map(ToString::to_string);
    state
}

/// The URL a story is known by across guids: canonical, else its link.
fn url_key(record: &Record) -> Option<String> {
    record
        .canonical_url
        .clone()
        .or_else(|| record.url.clone())
        .filter(|url| {
            // A bare site or section root is shared by unrelated items.
            Url::parse(url).is_ok_and(|url| {
                url.path().trim_matches('/').contains('/') || url.path().len() > 12
            })
        })
}

fn title_hash(title: &str) -> u64 {
    let folded: String = title
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    let digest = <sha2::Sha256 as sha2::Digest>::digest(folded.as_bytes());
    digest[..8]
        .iter()
        .fold(0u64, |hash, byte| hash << 8 | u64::from(*byte))
}

impl Versions {
    /// The latest known version of a story: in flight, else stored.
    fn latest(
        &self,
        pending: &HashMap<StoryId, StoryState>,
        id: &StoryId,
    ) -> Result<Option<StoryState>, StateError> {
        match pending.get(id) {
            Some(state) => Ok(Some(state.clone())),
            None => self.state.story(id),
        }
    }

    /// Decides a record's fate and, when it is to be published, gives it
    /// its story id (a re-issued story under a new guid but the same URL
    /// keeps the first id), its version, and its near-duplicate mark.
    fn assign(&self, record: &mut Record) -> Result<Decision, StateError> {
        let now = chrono::Utc::now().timestamp();
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let mut previous = self.latest(&pending, &record.id)?;
        let mut candidate = story_state(record, now);
        if previous.is_none()
            && let Some(key) = &url_key(record)
            && let Some(other) = self.state.alias(key)?
            && other != record.id
            && let Some(known) = self.latest(&pending, &other)?
        {
            let same_title = known.title_hash.is_some() && known.title_hash == candidate.title_hash;
            let close = match (known.simhash, candidate.simhash) {
                (Some(a), Some(b)) => (a ^ b).count_ones() <= SAME_STORY_MAX_DISTANCE,
                _ => false,
            };
            if same_title || close {
                debug!(id = %other, guid = ?record.guid, url = %key, "same URL as a known story: a new version of it");
                record.id = other;
                previous = Some(known);
            }
        }
        if let Some(known) = &previous {
            if known.content_hash == record.content_hash {
                if now - known.seen_at.max(known.published_at) >= TOUCH_EVERY_SECS {
                    self.state.touch(std::slice::from_ref(&record.id), now)?;
                }
                return Ok(Decision::Unchanged);
            }
            record.version = known.version + 1;
            record.previous_content_hash = Some(known.content_hash.clone());
            record.duplicate_of = known.duplicate_of.clone().map(StoryId::from_stored);
        } else if self.dedup.near_duplicates
            && record.body.word_count >= self.dedup.min_words
            && let Some(simhash) = candidate.simhash
            && let Some((first, known)) =
                self.state
                    .near_duplicate(simhash, self.dedup.max_distance, &record.id)?
        {
            let original = known.duplicate_of.map_or(first, StoryId::from_stored);
            debug!(id = %record.id, duplicate_of = %original, "near-duplicate of an earlier story");
            record.duplicate_of = Some(original);
        }
        // What the decision changed; the rest of the state stands.
        candidate.version = record.version;
        candidate.content_hash.clone_from(&record.content_hash);
        candidate.duplicate_of = record.duplicate_of.as_ref().map(ToString::to_string);
        let mut state = candidate;
        if record.duplicate_of.is_some() {
            metrics::near_duplicate(self.dedup.publish_duplicates);
            if !self.dedup.publish_duplicates {
                state.withheld = true;
                self.state.commit_published(&[Published {
                    id: record.id.clone(),
                    state,
                }])?;
                return Ok(Decision::Withheld);
            }
        }
        pending.insert(record.id.clone(), state);
        Ok(Decision::Publish)
    }

    /// Forgets the in-flight version once delivered and committed, or
    /// failed, unless a newer version replaced it meanwhile.
    fn settle(&self, id: &StoryId, version: u32) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        if pending
            .get(id)
            .is_some_and(|pending| pending.version == version)
        {
            pending.remove(id);
        }
    }
}

/// Runs the pipeline until every feed was polled once (`RunMode::Once`) or
/// `shutdown` is cancelled, then drains: queued items are processed, records
/// in flight are delivered and committed, the producer is flushed.
pub async fn run(
    settings: Settings,
    mode: RunMode,
    shutdown: CancellationToken,
    reload: Option<mpsc::Receiver<Settings>>,
) -> anyhow::Result<RunSummary> {
    let health = Arc::new(Health::default());
    let board = Arc::new(StatusBoard::new(settings.schedule.unhealthy_after));
    metrics::set_per_feed(settings.per_feed_metrics);
    let listener_stop = CancellationToken::new();
    if let Some(address) = settings.health_listen {
        let listener = crate::health::bind(address).await?;
        let bound = listener.local_addr().unwrap_or(address);
        if settings.status_page {
            info!(address = %bound, "health and metrics listener on http://{bound}/ (status page, healthz, readyz, metrics)");
        } else {
            info!(address = %bound, "health and metrics listener on http://{bound}/ (healthz, readyz, metrics)");
        }
        tokio::spawn(crate::health::serve(
            listener,
            health.clone(),
            settings.status_page.then(|| board.clone()),
            listener_stop.clone(),
        ));
    }
    {
        let health = health.clone();
        let shutdown = shutdown.clone();
        let listener_stop = listener_stop.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = shutdown.cancelled() => health.set_stopping(),
                () = listener_stop.cancelled() => {}
            }
        });
    }
    let _stop_listener = listener_stop.drop_guard();
    let exactly_once = settings.delivery == DeliveryMode::ExactlyOnce;
    let state_existed = settings.state_path.exists();
    let opened = match StateStore::open(&settings.state_path) {
        // In exactly-once mode the store is a cache of the changelog: an
        // unreadable one is kept aside for inspection and rebuilt.
        Err(err) if exactly_once && state_existed => {
            let aside = settings
                .state_path
                .with_extension(format!("corrupt-{}", chrono::Utc::now().timestamp()));
            error!(
                path = %settings.state_path.display(),
                moved_to = %aside.display(),
                error = %err,
                "state store cannot be opened; moved aside, rebuilding it from the changelog"
            );
            metrics::error(Stage::State, err.error_type());
            std::fs::rename(&settings.state_path, &aside).with_context(|| {
                format!("cannot move the state store aside to {}", aside.display())
            })?;
            StateStore::open(&settings.state_path)
        }
        other => other,
    };
    let state = Arc::new(opened.with_context(|| {
        format!(
            "state store {} cannot be opened; if it is corrupt, move it aside and start again: \
             in exactly-once mode it is rebuilt from the changelog topic, otherwise stories \
             still in the feeds are published again",
            settings.state_path.display()
        )
    })?);
    health.set_state_open(true);
    if !state_existed {
        warn!(
            path = %settings.state_path.display(),
            "state store did not exist and was created: a first start, or a lost store \
             (then stories still in the feeds are published again as version 1, unless \
             exactly-once mode restores them from the changelog)"
        );
    }
    let publisher = Arc::new(Publisher::new(settings.producer.clone())?);
    match publisher.prepare_topic(settings.startup_timeout).await {
        Ok(()) => {
            health.set_kafka_up(true);
            info!(topic = %publisher.topic(), "kafka topic ready");
        }
        Err(err) if mode == RunMode::Once || exactly_once => {
            return Err(err).context("kafka is not reachable");
        }
        Err(err) => warn!(error = %err, "kafka not ready at start-up; records wait in the queue"),
    }
    if exactly_once {
        publisher
            .init_transactions(settings.startup_timeout)
            .await
            .context("cannot start exactly-once delivery")?;
        restore_from_changelog(publisher.clone(), state.clone(), settings.startup_timeout).await?;
    }
    let fetcher =
        Fetcher::new(settings.http.clone())?.with_observer(Arc::new(metrics::HttpMetrics));
    let stats = Arc::new(Stats::default());
    let sampler = tokio::spawn(sample_pipeline(
        board.clone(),
        stats.clone(),
        state.clone(),
        shutdown.clone(),
    ));
    let versions = Arc::new(Versions {
        state: state.clone(),
        pending: Mutex::new(HashMap::new()),
        dedup: settings.dedup,
    });

    let capacity = settings.queue_capacity.get();
    let (work_tx, work_rx) = mpsc::channel::<WorkItem>(capacity);
    let (publish_tx, publish_rx) = mpsc::channel::<PublishItem>(capacity);
    let work_rx = Arc::new(tokio::sync::Mutex::new(work_rx));

    let pages = Arc::new(PageFetching {
        fetcher: fetcher.clone(),
        slots: Arc::new(tokio::sync::Semaphore::new(
            settings.pages.max_concurrent.get(),
        )),
    });
    let shared = Arc::new(WorkerShared {
        publish_tx: publish_tx.clone(),
        versions: versions.clone(),
        stats: stats.clone(),
        pages,
        topic: publisher.topic().to_owned(),
        probe: settings.fault_probe.clone(),
    });
    let mut workers = JoinSet::new();
    for _ in 0..settings.workers.get() {
        workers.spawn(worker(work_rx.clone(), shared.clone()));
    }
    drop(shared);
    let changelog_tx = exactly_once.then(|| publish_tx.downgrade());
    drop(publish_tx);
    let publisher_task = if exactly_once {
        tokio::spawn(publish_transactions(
            publish_rx,
            publisher.clone(),
            versions,
            state.clone(),
            stats.clone(),
            settings.max_in_flight.get(),
            settings.dead_letter_max_bytes,
            shutdown.clone(),
        ))
    } else {
        tokio::spawn(publish_loop(
            publish_rx,
            publisher.clone(),
            versions,
            state.clone(),
            stats.clone(),
            settings.max_in_flight.get(),
            settings.dead_letter_max_bytes,
        ))
    };

    let sweeper = tokio::spawn(sweep_state(
        state.clone(),
        settings.retention,
        shutdown.clone(),
        changelog_tx,
    ));
    let broker_watch = tokio::spawn(watch_broker(
        publisher.clone(),
        health.clone(),
        shutdown.clone(),
        BROKER_CHECK_INTERVAL,
    ));
    info!(
        feeds = settings.feeds.len(),
        workers = settings.workers.get(),
        "wirefeed started"
    );
    let pollers = Pollers {
        mode,
        max_body_bytes: settings.http.max_body_bytes,
        fetcher,
        state: state.clone(),
        work_tx,
        stats: stats.clone(),
        board: board.clone(),
        shutdown: shutdown.clone(),
    };
    let mut running = pollers.start(&settings);
    // Daemon mode: a reload (SIGHUP) restarts the pollers on the new feed
    // list, rule pack and schedule settings; each feed keeps its stored
    // schedule and validators, so nothing is polled early or twice.
    if let Some(mut reload) = reload.filter(|_| mode == RunMode::Daemon) {
        loop {
            tokio::select! {
                next = reload.recv() => {
                    let Some(next) = next else { break };
                    let before: Vec<String> = running.feeds.clone();
                    running.stop().await;
                    running = pollers.start(&next);
                    let added = running.feeds.iter().filter(|id| !before.contains(id)).count();
                    let removed = before.iter().filter(|id| !running.feeds.contains(id)).count();
                    info!(feeds = running.feeds.len(), added, removed, "configuration reloaded");
                }
                () = shutdown.cancelled() => break,
            }
        }
    }
    running.wait().await;
    let queued_items = pollers.work_tx.max_capacity() - pollers.work_tx.capacity();
    drop(pollers);

    let drain = async {
        while workers.join_next().await.is_some() {}
        if let Err(err) = publisher_task.await {
            error!(error = %err, "publisher task failed");
        }
    };
    let drained = if shutdown.is_cancelled() {
        // What the drain has to do: items waiting for a worker and records
        // awaiting their delivery report.
        info!(
            deadline_secs = settings.shutdown_timeout.as_secs(),
            queued_items,
            in_flight = publisher.in_flight(),
            "draining queued records"
        );
        tokio::time::timeout(settings.shutdown_timeout, drain)
            .await
            .is_ok()
    } else {
        drain.await;
        true
    };
    broker_watch.abort();
    sweeper.abort();
    sampler.abort();
    let flushed = publisher.flush(Duration::from_secs(5)).await;
    if !drained || !flushed {
        warn!(
            in_flight = publisher.in_flight(),
            "shutdown deadline passed with records in flight"
        );
    }
    let summary = stats.summary(drained && flushed);
    info!(
        polls_ok = summary.polls_ok,
        polls_failed = summary.polls_failed,
        items = summary.items,
        published = summary.published,
        unchanged = summary.unchanged,
        rejected = summary.rejected,
        dead_lettered = summary.dead_lettered,
        undelivered = summary.undelivered,
        "wirefeed stopped"
    );
    Ok(summary)
}

/// How often the state store is swept of stories past their retention.
const SWEEP_EVERY: Duration = Duration::from_secs(3_600);

/// Stories removed per sweep transaction.
const SWEEP_BATCH: usize = 10_000;

/// Removes stories no feed has listed within `retention`, at start-up and
/// then hourly, in batches; keeps the state size gauges. In exactly-once
/// mode the removed entries are also removed from the changelog
/// (tombstones, through the publisher's transactions), so it stays as
/// bounded as the store.
async fn sweep_state(
    state: Arc<StateStore>,
    retention: Duration,
    shutdown: CancellationToken,
    changelog: Option<mpsc::WeakSender<PublishItem>>,
) {
    loop {
        let store = state.clone();
        let swept = tokio::task::spawn_blocking(move || {
            let before = chrono::Utc::now().timestamp()
                - i64::try_from(retention.as_secs()).unwrap_or(i64::MAX / 2);
            let mut total = wirefeed_state::Expired::default();
            loop {
                let expired = store.expire(before, SWEEP_BATCH)?;
                total.stories += expired.stories;
                total.dead_items += expired.dead_items;
                total.story_ids.extend(expired.story_ids);
                total.fingerprints.extend(expired.fingerprints);
                if expired.stories < SWEEP_BATCH as u64 {
                    return Ok::<_, StateError>((total, store.story_count()?, store.file_size()));
                }
            }
        })
        .await;
        match swept {
            Ok(Ok((mut expired, stories, bytes))) => {
                metrics::state_size(stories, bytes);
                if let Some(publish_tx) = changelog.as_ref().and_then(mpsc::WeakSender::upgrade) {
                    let keys: Vec<String> = expired
                        .story_ids
                        .drain(..)
                        .map(|id| format!("story:{id}"))
                        .chain(
                            expired
                                .fingerprints
                                .drain(..)
                                .map(|fp| format!("dead:{fp}")),
                        )
                        .collect();
                    for chunk in keys.chunks(SWEEP_BATCH) {
                        let (ack, _) = oneshot::channel();
                        let item = PublishItem {
                            outgoing: Outgoing::Tombstones(chunk.to_vec()),
                            ack,
                        };
                        if publish_tx.send(item).await.is_err() {
                            break;
                        }
                    }
                }
                if expired.stories + expired.dead_items > 0 {
                    info!(
                        expired_stories = expired.stories,
                        expired_dead_items = expired.dead_items,
                        stories,
                        file_bytes = bytes,
                        retention_days = retention.as_secs() / 86_400,
                        "state store swept"
                    );
                }
            }
            Ok(Err(err)) => {
                metrics::error(Stage::State, err.error_type());
                warn!(error = %err, "state store sweep failed; retried at the next sweep");
            }
            Err(err) => {
                metrics::error(Stage::State, "panic");
                error!(error = %err, "state store sweep panicked");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(SWEEP_EVERY) => {}
            () = shutdown.cancelled() => return,
        }
    }
}

/// How often the broker watch asks a broker for metadata.
const BROKER_CHECK_INTERVAL: Duration = Duration::from_secs(3);

/// Watches the broker: logs when it stops answering (records then wait in
/// librdkafka and the bounded queues fill, so polling pauses) and when it
/// answers again, and keeps the `wirefeed_kafka_up` and in-flight gauges.
async fn watch_broker(
    publisher: Arc<Publisher>,
    health: Arc<Health>,
    shutdown: CancellationToken,
    every: Duration,
) {
    let mut up = health.kafka_up();
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = shutdown.cancelled() => return,
        }
        let reachable = publisher.reachable(every).await;
        health.set_kafka_up(reachable);
        metrics::kafka_up(reachable);
        metrics::kafka_in_flight(publisher.in_flight());
        if reachable != up {
            up = reachable;
            if up {
                info!(
                    topic = %publisher.topic(),
                    in_flight = publisher.in_flight(),
                    "kafka reachable again; delivering held records"
                );
            } else {
                warn!(
                    topic = %publisher.topic(),
                    in_flight = publisher.in_flight(),
                    "kafka unreachable; records are held and polling pauses once the queues are full"
                );
            }
        }
    }
}

/// What every poller shares; starts a set of pollers for a feed list.
struct Pollers {
    mode: RunMode,
    max_body_bytes: u64,
    fetcher: Fetcher,
    state: Arc<StateStore>,
    work_tx: mpsc::Sender<WorkItem>,
    stats: Arc<Stats>,
    board: Arc<StatusBoard>,
    shutdown: CancellationToken,
}

/// The pollers of one feed list, stoppable together.
struct RunningPollers {
    feeds: Vec<String>,
    stop: CancellationToken,
    tasks: JoinSet<()>,
}

impl Pollers {
    fn start(&self, settings: &Settings) -> RunningPollers {
        let stop = self.shutdown.child_token();
        let mut tasks = JoinSet::new();
        let ids: Vec<String> = settings
            .feeds
            .iter()
            .map(|feed| feed.id.to_string())
            .collect();
        self.board
            .set_unhealthy_after(settings.schedule.unhealthy_after);
        self.board.retain(&ids);
        for feed in settings.feeds.iter().cloned() {
            let poller = Poller {
                feed,
                schedule: settings.schedule,
                cleaner: settings.cleaner.clone(),
                teaser_max_chars: settings.pages.teaser_max_chars,
                fetcher: self.fetcher.clone(),
                state: self.state.clone(),
                work_tx: self.work_tx.clone(),
                stats: self.stats.clone(),
                board: self.board.clone(),
                shutdown: stop.clone(),
            };
            match poller.feed.spool.clone() {
                Some(spool) => tasks.spawn(poller.run_spool(spool, self.mode, self.max_body_bytes)),
                None => tasks.spawn(poller.run(self.mode)),
            };
        }
        RunningPollers {
            feeds: ids,
            stop,
            tasks,
        }
    }
}

impl RunningPollers {
    async fn stop(mut self) {
        self.stop.cancel();
        while self.tasks.join_next().await.is_some() {}
    }

    async fn wait(mut self) {
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Polls one feed on its interval.
struct Poller {
    feed: Feed,
    schedule: ScheduleConfig,
    cleaner: Arc<Cleaner>,
    teaser_max_chars: usize,
    fetcher: Fetcher,
    state: Arc<StateStore>,
    work_tx: mpsc::Sender<WorkItem>,
    stats: Arc<Stats>,
    board: Arc<StatusBoard>,
    shutdown: CancellationToken,
}

/// What one poll of a feed came to.
struct PollReport {
    /// Fetched (or unchanged) and parsed, or why not.
    result: Result<PollCounts, PollFailure>,
    /// How long the server said the document stays fresh.
    fresh_for: Option<Duration>,
    /// Validators to store: only when every item of the copy was delivered.
    validators: Option<Validators>,
    /// Where the feed moved for good, when a poll found out.
    moved_to: Option<Url>,
    /// The feed's own scheduling hints, when the document was parsed.
    hints: Option<FeedHints>,
}

/// Item counts of a successful poll; `None` when the feed was unchanged.
type PollCounts = Option<ItemCounts>;

/// What became of the items of one document.
#[derive(Debug, Clone, Copy, Default)]
struct ItemCounts {
    items: usize,
    published: usize,
    unchanged: usize,
    rejected: usize,
    dead_lettered: usize,
    /// Not delivered: the document must be offered again.
    failed: usize,
}

struct PollFailure {
    stage: &'static str,
    error_type: &'static str,
    error: String,
    retry_after: Option<Duration>,
}

impl Poller {
    async fn run(self, mode: RunMode) {
        let feed = &self.feed;
        let mut jitter = Jitter::new(feed.id.as_str());
        let stored = self.feed_state();
        let mut error_streak = stored.as_ref().map_or(0, |stored| stored.error_streak);
        self.register(stored.as_ref());
        if mode == RunMode::Daemon {
            // A restart keeps each feed's schedule; feeds with none (new, or
            // due already) are spread over the first seconds.
            let now = chrono::Utc::now().timestamp();
            let due_in = stored
                .as_ref()
                .and_then(|stored| stored.next_poll_at)
                .map(|at| Duration::from_secs(u64::try_from(at - now).unwrap_or(0)))
                .unwrap_or_default()
                .min(feed.poll_interval.max(self.schedule.backoff_max));
            let spread = self
                .schedule
                .startup_spread
                .min(feed.poll_interval)
                .mul_f64(jitter.draw());
            let wait = if due_in.is_zero() { spread } else { due_in };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.shutdown.cancelled() => return,
            }
        }
        loop {
            let span = info_span!("poll", feed_id = %feed.id);
            let Some(report) = self.poll().instrument(span).await else {
                return;
            };
            let before = self.feed_state().unwrap_or_default();
            let hint_interval = report.hints.as_ref().map_or(
                before.hint_interval_secs.map(Duration::from_secs),
                FeedHints::min_interval,
            );
            let (skip_hours, skip_days) = match &report.hints {
                Some(hints) => (hints.skip_hours.clone(), hints.skip_days.clone()),
                None => (before.skip_hours.clone(), before.skip_days.clone()),
            };
            let server_delay = match &report.result {
                Ok(_) => report.fresh_for.into_iter().chain(hint_interval).max(),
                Err(failure) => failure.retry_after,
            };
            error_streak = if report.result.is_ok() {
                0
            } else {
                error_streak.saturating_add(1)
            };
            let interval = self.next_interval(&before, &report);
            let delay = next_delay(
                &self.schedule,
                interval,
                error_streak,
                server_delay,
                jitter.draw(),
            );
            let now = chrono::Utc::now();
            let due = skip_forward(
                now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX),
                &skip_hours,
                &skip_days,
            );
            let delay = (due - now).to_std().unwrap_or(delay);
            self.record(before, &report, error_streak, delay, interval);
            self.board.polled(
                feed.id.as_str(),
                board_outcome(&report.result, &feed.url),
                error_streak,
                chrono::Utc::now()
                    .timestamp()
                    .checked_add(i64::try_from(delay.as_secs()).unwrap_or(i64::MAX / 2)),
            );
            match &report.result {
                Ok(Some(counts)) => info!(
                    feed_id = %feed.id,
                    items = counts.items,
                    published = counts.published,
                    unchanged = counts.unchanged,
                    rejected = counts.rejected,
                    dead_lettered = counts.dead_lettered,
                    failed = counts.failed,
                    next_poll_secs = delay.as_secs(),
                    "feed polled"
                ),
                Ok(None) => debug!(
                    feed_id = %feed.id,
                    next_poll_secs = delay.as_secs(),
                    "feed not modified"
                ),
                Err(failure) => {
                    warn!(
                        feed_id = %feed.id,
                        url = %feed.url,
                        stage = failure.stage,
                        error_type = failure.error_type,
                        error = %failure.error,
                        error_streak,
                        next_poll_secs = delay.as_secs(),
                        "feed {} failed",
                        failure.stage
                    );
                    if error_streak == self.schedule.unhealthy_after {
                        metrics::feed_unhealthy(&feed.id);
                        error!(
                            feed_id = %feed.id,
                            url = %feed.url,
                            error_streak,
                            next_poll_secs = delay.as_secs(),
                            "feed unhealthy: failing repeatedly; still retried at the backoff cap"
                        );
                    }
                }
            }
            self.stats.count_poll(report.result.is_ok());
            if !self.pause(mode, delay).await {
                return;
            }
        }
    }

    /// Lists this feed on the status page.
    fn register(&self, stored: Option<&FeedState>) {
        let feed = &self.feed;
        self.board.register(
            feed.id.as_str(),
            &crate::status::display_url(&feed.url),
            &feed.provider,
            feed.spool.is_some(),
            feed.poll_interval.as_secs(),
            stored.and_then(|stored| stored.last_polled_at),
            stored.and_then(|stored| stored.next_poll_at),
            stored.map_or(0, |stored| stored.error_streak),
        );
    }

    /// Waits `delay` before the next poll; false when the poller should
    /// stop instead (a one-shot run, or shutdown).
    async fn pause(&self, mode: RunMode, delay: Duration) -> bool {
        if mode == RunMode::Once {
            return false;
        }
        tokio::select! {
            () = tokio::time::sleep(delay) => true,
            () = self.shutdown.cancelled() => false,
        }
    }

    /// The stored state of this feed, when it belongs to its current URL.
    fn feed_state(&self) -> Option<FeedState> {
        match self.state.feed(&self.feed.id) {
            Ok(stored) => stored.filter(|stored| stored.url == self.feed.url.as_str()),
            Err(err) => {
                metrics::error(Stage::State, err.error_type());
                warn!(feed_id = %self.feed.id, error = %err, "cannot read feed state");
                None
            }
        }
    }

    /// Stores the schedule, the streak and (when every item was delivered)
    /// the new validators.
    /// The feed's interval after this poll: its configured one, or, when
    /// adaptive, shorter after news and longer after quiet polls.
    fn next_interval(&self, before: &FeedState, report: &PollReport) -> Duration {
        let configured = self.feed.poll_interval;
        let Some((min, max)) = self.schedule.adaptive else {
            return configured;
        };
        let lower = min.max(configured / 4).min(configured);
        let upper = max.min(configured.saturating_mul(4)).max(configured);
        let current = before
            .interval_secs
            .map_or(configured, Duration::from_secs)
            .clamp(lower, upper);
        match &report.result {
            Ok(Some(counts)) => adapt_interval(current, counts.published > 0, lower, upper),
            Ok(None) => adapt_interval(current, false, lower, upper),
            Err(_) => current,
        }
    }

    fn record(
        &self,
        mut state: FeedState,
        report: &PollReport,
        error_streak: u32,
        delay: Duration,
        interval: Duration,
    ) {
        let now = chrono::Utc::now().timestamp();
        if state.url.is_empty() {
            state.url = self.feed.url.to_string();
        }
        if let Some(validators) = &report.validators {
            state.etag.clone_from(&validators.etag);
            state.last_modified.clone_from(&validators.last_modified);
        }
        if let Some(moved_to) = &report.moved_to
            && state.moved_to.as_deref() != Some(moved_to.as_str())
        {
            info!(
                feed_id = %self.feed.id,
                url = %self.feed.url,
                moved_to = %moved_to,
                "feed moved permanently; polling the new URL from now on"
            );
            state.moved_to = Some(moved_to.to_string());
        }
        state.error_streak = error_streak;
        state.interval_secs = Some(interval.as_secs());
        if let Some(hints) = &report.hints {
            state.hint_interval_secs = hints.min_interval().map(|interval| interval.as_secs());
            state.skip_hours.clone_from(&hints.skip_hours);
            state.skip_days.clone_from(&hints.skip_days);
        }
        state.last_polled_at = Some(now);
        state.next_poll_at = Some(now + i64::try_from(delay.as_secs()).unwrap_or(i64::MAX / 2));
        state.last_error = report
            .result
            .as_ref()
            .err()
            .map(|failure| failure.error.clone());
        if let Err(err) = self.state.set_feed(&self.feed.id, &state) {
            metrics::error(Stage::State, err.error_type());
            warn!(feed_id = %self.feed.id, error = %err, "cannot store feed state");
        }
    }

    /// Polls once; `None` when shutdown interrupted the poll.
    async fn poll(&self) -> Option<PollReport> {
        let feed = &self.feed;
        let stored = self.feed_state();
        // A feed that moved permanently is polled at its new address.
        let url = stored
            .as_ref()
            .and_then(|stored| stored.moved_to.as_deref())
            .and_then(|moved_to| Url::parse(moved_to).ok())
            .unwrap_or_else(|| feed.url.clone());
        let validators = stored
            .map(|stored| Validators {
                etag: stored.etag,
                last_modified: stored.last_modified,
            })
            .unwrap_or_default();
        let failed = |stage, error_type, error: String, retry_after| PollReport {
            result: Err(PollFailure {
                stage,
                error_type,
                error,
                retry_after,
            }),
            fresh_for: None,
            validators: None,
            moved_to: None,
            hints: None,
        };
        let fetched_at = chrono::Utc::now();
        let document = match self
            .fetcher
            .fetch_with(&feed.id, &url, &validators, &feed.access)
            .await
        {
            Ok(FetchOutcome::NotModified {
                fresh_for,
                moved_to,
            }) => {
                metrics::feed_polled(&feed.id, "not_modified");
                return Some(PollReport {
                    result: Ok(None),
                    fresh_for,
                    validators: None,
                    moved_to,
                    hints: None,
                });
            }
            Ok(FetchOutcome::Fetched(document)) => document,
            Err(err) => {
                metrics::feed_polled(&feed.id, "error");
                metrics::error(Stage::Fetch, err.error_type());
                return Some(failed(
                    "fetch",
                    err.error_type(),
                    err.to_string(),
                    err.retry_after(),
                ));
            }
        };
        metrics::feed_polled(&feed.id, "fetched");
        metrics::feed_bytes(&feed.id, document.bytes.len());
        let published = self
            .publish_document(document.bytes, &document.final_url, &url, fetched_at)
            .await?;
        let (counts, hints) = match published {
            Ok(published) => published,
            Err(failure) => {
                return Some(PollReport {
                    result: Err(failure),
                    fresh_for: None,
                    validators: None,
                    moved_to: document.moved_to,
                    hints: None,
                });
            }
        };
        let failed_items = counts.failed;
        Some(PollReport {
            result: Ok(Some(counts)),
            fresh_for: document.fresh_for,
            // A record that did not reach Kafka must be offered again: keep
            // the old validators so the next poll is not answered with 304.
            validators: (failed_items == 0).then_some(document.validators),
            moved_to: document.moved_to,
            hints: Some(hints),
        })
    }

    /// Parses a document, hands its items to the workers and waits for
    /// each item's outcome. `None` when shutdown interrupted it.
    async fn publish_document(
        &self,
        bytes: Vec<u8>,
        base_url: &Url,
        feed_url: &Url,
        fetched_at: chrono::DateTime<chrono::Utc>,
    ) -> Option<Result<(ItemCounts, FeedHints), PollFailure>> {
        let feed = &self.feed;
        let failure = |error_type, error: String| PollFailure {
            stage: "parse",
            error_type,
            error,
            retry_after: None,
        };
        let limits = ParseLimits {
            max_items: feed.max_items,
        };
        let base = base_url.to_string();
        let parsed = tokio::task::spawn_blocking(move || {
            wirefeed_formats::parse_feed(&bytes, Some(&base), limits)
        })
        .await;
        let mut parsed = match parsed {
            Ok(Ok(parsed)) => parsed,
            Ok(Err(err)) => {
                metrics::error(Stage::Parse, err.error_type());
                let error = format!("failed to parse feed {} ({base_url}): {err}", feed.id);
                return Some(Err(failure(err.error_type(), error)));
            }
            Err(err) => {
                metrics::error(Stage::Parse, "panic");
                error!(feed_id = %feed.id, url = %base_url, error = %err, "feed parser panicked");
                let error = format!(
                    "feed parser panicked on feed {} ({base_url}): {err}",
                    feed.id
                );
                return Some(Err(failure("panic", error)));
            }
        };
        if parsed.broken_messages > 0 {
            metrics::error(Stage::Parse, "broken_message");
            warn!(
                feed_id = %feed.id,
                url = %base_url,
                format = %parsed.format,
                broken = parsed.broken_messages,
                kept = parsed.items.len(),
                "messages of the stream could not be read (truncated or without framing); the rest go on"
            );
        }
        if parsed.dropped_items > 0 {
            warn!(
                feed_id = %feed.id,
                kept = parsed.items.len(),
                dropped = parsed.dropped_items,
                "feed has more items than max_items; the rest were left out"
            );
        }
        let hints = std::mem::take(&mut parsed.hints);
        metrics::items_received(parsed.format.as_str(), parsed.items.len());
        metrics::articles("parsed", parsed.items.len());
        Stats::add(&self.stats.items, parsed.items.len() as u64);
        // An agency document names its provider; a feed's title does not.
        let agency = !matches!(
            parsed.format,
            FeedFormat::Rss | FeedFormat::Atom | FeedFormat::JsonFeed | FeedFormat::Text
        );
        let provider = match &parsed.meta.title {
            Some(named) if agency && !feed.provider_configured => named.clone(),
            _ => feed.provider.clone(),
        };
        let ctx = Arc::new(DocumentContext {
            source: ArticleSource {
                feed_id: feed.id.clone(),
                feed_url: feed_url.to_string(),
                provider,
                format: parsed.format,
            },
            meta: parsed.meta,
            default_language: feed.language.clone(),
            fetched_at,
            cleaner: self.cleaner.clone(),
            fulltext: feed.fulltext,
            teaser_max_chars: self.teaser_max_chars,
        });
        let item_count = parsed.items.len();
        let mut acks = Vec::with_capacity(item_count);
        for raw in parsed.items {
            let (ack, outcome) = oneshot::channel();
            let item = WorkItem {
                raw,
                ctx: ctx.clone(),
                ack,
            };
            tokio::select! {
                sent = self.work_tx.send(item) => if sent.is_err() { return None },
                () = self.shutdown.cancelled() => return None,
            }
            acks.push(outcome);
        }
        let outcomes = tokio::select! {
            outcomes = futures::future::join_all(acks) => outcomes,
            () = self.shutdown.cancelled() => return None,
        };
        let count = |wanted: ItemOutcome| {
            outcomes
                .iter()
                .filter(|outcome| outcome.as_ref().ok() == Some(&wanted))
                .count()
        };
        let published = count(ItemOutcome::Published);
        let unchanged = count(ItemOutcome::Unchanged);
        let rejected = count(ItemOutcome::Rejected);
        let dead_lettered = count(ItemOutcome::DeadLettered);
        let counts = ItemCounts {
            items: item_count,
            published,
            unchanged,
            rejected,
            dead_lettered,
            failed: item_count - published - unchanged - rejected - dead_lettered,
        };
        Some(Ok((counts, hints)))
    }

    /// Takes the complete files of a spool folder, publishes each, and
    /// moves it to `done/` once every story in it was delivered, or to
    /// `failed/` with the reason when it cannot be read.
    async fn run_spool(self, spool: SpoolDir, mode: RunMode, max_bytes: u64) {
        let feed = &self.feed;
        self.register(None);
        let mut error_streak = 0;
        loop {
            let scan = spool.clone();
            let files = tokio::task::spawn_blocking(move || scan.ready_files(SPOOL_BATCH)).await;
            let files = match files {
                Ok(Ok(files)) => files,
                Ok(Err(err)) => {
                    metrics::error(Stage::Fetch, "spool");
                    warn!(feed_id = %feed.id, path = %spool.root().display(), error = %err, "cannot read spool folder");
                    Vec::new()
                }
                Err(_) => Vec::new(),
            };
            for file in files {
                let Some(result) = self.spool_file(&spool, &file, max_bytes).await else {
                    return;
                };
                self.stats.count_poll(result.is_ok());
                error_streak = if result.is_ok() { 0 } else { error_streak + 1 };
                self.board.polled(
                    feed.id.as_str(),
                    board_outcome(&result, &feed.url),
                    error_streak,
                    None,
                );
            }
            if !self.pause(mode, feed.poll_interval).await {
                return;
            }
        }
    }

    /// Processes one spool file; `None` on shutdown, else what became of
    /// it.
    async fn spool_file(
        &self,
        spool: &SpoolDir,
        file: &std::path::Path,
        max_bytes: u64,
    ) -> Option<Result<PollCounts, PollFailure>> {
        let feed = &self.feed;
        let file_url = Url::from_file_path(file).unwrap_or_else(|()| feed.url.clone());
        let read = std::fs::metadata(file).and_then(|metadata| {
            if metadata.len() > max_bytes {
                return Err(std::io::Error::other(format!(
                    "larger than {max_bytes} bytes"
                )));
            }
            std::fs::read(file)
        });
        let result = match read {
            Ok(bytes) => {
                metrics::feed_bytes(&feed.id, bytes.len());
                self.publish_document(bytes, &file_url, &file_url, chrono::Utc::now())
                    .await?
            }
            Err(err) => Err(PollFailure {
                stage: "fetch",
                error_type: "file",
                error: format!(
                    "cannot read spool file {} of feed {}: {err}",
                    file.display(),
                    feed.id
                ),
                retry_after: None,
            }),
        };
        let outcome = match result {
            Ok((counts, _)) if counts.failed == 0 => {
                match spool.mark_done(file) {
                    Ok(moved) => info!(
                        feed_id = %feed.id,
                        file = %moved.display(),
                        items = counts.items,
                        published = counts.published,
                        unchanged = counts.unchanged,
                        rejected = counts.rejected,
                        dead_lettered = counts.dead_lettered,
                        "spool file processed"
                    ),
                    Err(err) => {
                        warn!(feed_id = %feed.id, file = %file.display(), error = %err, "cannot move spool file to done/")
                    }
                }
                Ok(Some(counts))
            }
            Ok((counts @ ItemCounts { items, failed, .. }, _)) => {
                warn!(
                    feed_id = %feed.id,
                    file = %file.display(),
                    items,
                    failed,
                    "not every story of the spool file was delivered; it stays for the next scan"
                );
                Ok(Some(counts))
            }
            Err(failure) => {
                warn!(
                    feed_id = %feed.id,
                    file = %file.display(),
                    error_type = failure.error_type,
                    error = %failure.error,
                    "spool file failed"
                );
                if let Err(err) = spool.mark_failed(file, &failure.error) {
                    warn!(feed_id = %feed.id, file = %file.display(), error = %err, "cannot move spool file to failed/");
                }
                Err(failure)
            }
        };
        Some(outcome)
    }
}

/// How a poll's result of the feed at `url` reads on the status page (the
/// URL in an error shown as [`crate::status::display_url`] shows it).
fn board_outcome(result: &Result<PollCounts, PollFailure>, url: &Url) -> Outcome {
    match result {
        Ok(Some(counts)) => Outcome::Fetched {
            items: counts.items,
            published: counts.published,
            unchanged: counts.unchanged,
            rejected: counts.rejected + counts.dead_lettered,
            failed: counts.failed,
        },
        Ok(None) => Outcome::NotModified,
        Err(failure) => Outcome::Failed {
            stage: failure.stage,
            error: failure
                .error
                .replace(url.as_str(), &crate::status::display_url(url)),
        },
    }
}

/// Samples the pipeline's counters for the status page every few seconds,
/// and the state store's size every minute.
async fn sample_pipeline(
    board: Arc<StatusBoard>,
    stats: Arc<Stats>,
    state: Arc<StateStore>,
    shutdown: CancellationToken,
) {
    let every = Duration::from_secs(crate::status::SAMPLE_EVERY_SECS);
    let mut round: u64 = 0;
    loop {
        board.sample(stats.summary(true));
        if round % (60 / crate::status::SAMPLE_EVERY_SECS) == 0 {
            let store = state.clone();
            let size =
                tokio::task::spawn_blocking(move || (store.story_count(), store.file_size())).await;
            if let Ok((Ok(stories), bytes)) = size {
                board.state_size(stories, bytes);
                metrics::state_size(stories, bytes);
            }
        }
        round += 1;
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = shutdown.cancelled() => return,
        }
    }
}

/// Spool files taken per scan, at most.
const SPOOL_BATCH: usize = 100;

/// Article page fetching shared by the workers: the fetcher (and so the
/// feeds' host limits and fetch slots) and a bound on pages in flight.
struct PageFetching {
    fetcher: Fetcher,
    slots: Arc<tokio::sync::Semaphore>,
}

impl PageFetching {
    /// Fetches and decodes the page; never fails, the outcome says why.
    async fn fetch(&self, feed_id: &wirefeed_model::FeedId, url: Url) -> PageInput {
        match self.fetcher.fetch_page(feed_id, &url).await {
            Ok(document) => {
                let html = wirefeed_extract::decode_html(
                    &document.bytes,
                    document.content_type.as_deref(),
                );
                PageInput::Fetched {
                    url: document.final_url.to_string(),
                    html,
                }
            }
            Err(err) => {
                metrics::error(Stage::Fetch, err.error_type());
                warn!(feed_id = %feed_id, url = %url, error = %err, "article page not fetched; the feed text is published");
                let url = url.to_string();
                let error = err.to_string();
                if matches!(err, wirefeed_sources::FetchError::Forbidden { .. }) {
                    PageInput::Refused { url, error }
                } else {
                    PageInput::Failed { url, error }
                }
            }
        }
    }
}

/// What every worker shares.
struct WorkerShared {
    publish_tx: mpsc::Sender<PublishItem>,
    versions: Arc<Versions>,
    stats: Arc<Stats>,
    pages: Arc<PageFetching>,
    /// The record topic, named in dead letters.
    topic: String,
    probe: Option<FaultProbe>,
}

impl WorkerShared {
    /// Calls the fault probe, when one is set.
    fn probe(&self, point: &str, guid: Option<&str>) {
        if let Some(FaultProbe(probe)) = &self.probe {
            probe(point, guid);
        }
    }

    /// Hands a dead letter for an item to the publisher; the publisher
    /// answers `ack` once the broker has it.
    async fn dead_letter(
        &self,
        letter: DeadLetter,
        fingerprint: String,
        ack: oneshot::Sender<ItemOutcome>,
    ) {
        let outgoing = Outgoing::Dead(Box::new(DeadJob {
            letter,
            settle: DeadSettle::Item(fingerprint),
        }));
        if let Err(unsent) = self.publish_tx.send(PublishItem { outgoing, ack }).await {
            warn!("publisher stopped; dead letter not sent");
            let _ = unsent.0.ack.send(ItemOutcome::Failed);
        }
    }
}

/// A worker: takes items off the queue, normalizes them (CPU work on the
/// blocking pool), hands items that want their article page to a page
/// task (bounded by `pages.max_concurrent`, so a slow site holds no
/// worker), and finishes the others itself. An item whose processing
/// panics goes to the dead-letter topic; its fingerprint is remembered so
/// the same item is not dead-lettered again at every poll.
async fn worker(
    work_rx: Arc<tokio::sync::Mutex<mpsc::Receiver<WorkItem>>>,
    shared: Arc<WorkerShared>,
) {
    loop {
        let next = {
            let mut queue = work_rx.lock().await;
            let next = queue.recv().await;
            metrics::queue_depth("work", queue.len());
            next
        };
        let Some(WorkItem { raw, ctx, ack }) = next else {
            return;
        };
        let guid = raw.guid.clone();
        let feed_id = ctx.source.feed_id.clone();
        // Everything logged about this item, here and on the blocking pool,
        // carries its feed, guid and (once normalized) story id.
        let span = info_span!(
            "article",
            feed_id = %feed_id,
            guid = guid.as_deref().unwrap_or_default(),
            article_id = tracing::field::Empty,
        );
        process_item(raw, ctx, ack, guid, feed_id, &shared)
            .instrument(span)
            .await;
    }
}

/// Normalizes one item and sends it on its way (see [`worker`]).
async fn process_item(
    raw: RawItem,
    ctx: Arc<DocumentContext>,
    ack: oneshot::Sender<ItemOutcome>,
    guid: Option<String>,
    feed_id: wirefeed_model::FeedId,
    shared: &Arc<WorkerShared>,
) {
    let fingerprint = item_fingerprint(&feed_id, &raw);
    let kept = raw.clone();
    let job_ctx = ctx.clone();
    let job_shared = shared.clone();
    let job_fingerprint = fingerprint.clone();
    let job_span = tracing::Span::current();
    let normalized = tokio::task::spawn_blocking(move || {
        let _entered = job_span.enter();
        if job_shared
            .versions
            .state
            .is_dead_item(&job_fingerprint)
            .unwrap_or(false)
        {
            return None;
        }
        job_shared.probe("normalize", raw.guid.as_deref());
        Some(normalize_item(raw, &job_ctx))
    })
    .await;
    let article = match normalized {
        Ok(Some(Ok(article))) => {
            metrics::articles("normalized", 1);
            tracing::Span::current().record("article_id", tracing::field::display(&article.id));
            article
        }
        Ok(None) => {
            debug!(feed_id = %feed_id, guid = ?guid, "item was dead-lettered before; skipped");
            metrics::item_unchanged();
            Stats::add(&shared.stats.unchanged, 1);
            let _ = ack.send(ItemOutcome::Unchanged);
            return;
        }
        Ok(Some(Err(err))) => {
            metrics::error(Stage::Normalize, err.error_type());
            warn!(feed_id = %feed_id, guid = ?guid, error = %err, "item rejected");
            Stats::add(&shared.stats.rejected, 1);
            let _ = ack.send(ItemOutcome::Rejected);
            return;
        }
        Err(err) => {
            let error = panic_text(err);
            metrics::error(Stage::Normalize, "panic");
            error!(feed_id = %feed_id, guid = ?guid, error = %error, "item normalization panicked; sending it to the dead-letter topic");
            let letter = panicked_item("normalize", &feed_id, &shared.topic, kept, error);
            shared.dead_letter(letter, fingerprint, ack).await;
            return;
        }
    };
    let job = Finish {
        article,
        raw: kept,
        fingerprint,
        ctx,
        ack,
        shared: shared.clone(),
    };
    match page_wanted(&job.article, &job.ctx) {
        Some(url) => {
            let Ok(slot) = shared.pages.slots.clone().acquire_owned().await else {
                return;
            };
            let pages = shared.pages.clone();
            tokio::spawn(
                async move {
                    let page = pages.fetch(&job.ctx.source.feed_id, url).await;
                    drop(slot);
                    job.run(page).await;
                }
                .instrument(tracing::Span::current()),
            );
        }
        None => job.run(PageInput::None).await,
    }
}

/// The rest of an item's way: enrichment and the version decision on the
/// blocking pool, then the publisher.
struct Finish {
    article: wirefeed_model::Article,
    /// The item as parsed, for a dead letter should enrichment panic.
    raw: RawItem,
    fingerprint: String,
    ctx: Arc<DocumentContext>,
    ack: oneshot::Sender<ItemOutcome>,
    shared: Arc<WorkerShared>,
}

impl Finish {
    async fn run(self, page: PageInput) {
        let Finish {
            article,
            raw,
            fingerprint,
            ctx,
            ack,
            shared,
        } = self;
        let guid = article.guid.clone();
        let feed_id = ctx.source.feed_id.clone();
        let job_shared = shared.clone();
        let job_span = tracing::Span::current();
        let decided = tokio::task::spawn_blocking(move || {
            let _entered = job_span.enter();
            let guid = article.guid.clone();
            job_shared.probe("enrich", guid.as_deref());
            let probe = |step: &str| job_shared.probe(step, guid.as_deref());
            let mut record = wirefeed_extract::enrich_probed(article, page, &ctx.cleaner, &probe);
            let decision = job_shared.versions.assign(&mut record)?;
            Ok::<_, StateError>(matches!(decision, Decision::Publish).then_some(record))
        })
        .await;
        if let Ok(Ok(versioned)) = &decided {
            metrics::articles("extracted", 1);
            if versioned.is_some() {
                metrics::articles("versioned", 1);
            }
        }
        let outcome = match decided {
            Ok(Ok(Some(record))) => {
                metrics::removed_lines(&record.removed);
                if let Some(page) = &record.enrichment.page {
                    metrics::page_fetched(page_outcome(page.outcome));
                }
                for failure in &record.enrichment.failed {
                    metrics::enrichment_failed(&failure.step);
                    error!(feed_id = %feed_id, id = %record.id, step = %failure.step, error = %failure.error, "enrichment step failed; published without it");
                }
                let item = PublishItem {
                    outgoing: Outgoing::Record(Box::new(record)),
                    ack,
                };
                if let Err(unsent) = shared.publish_tx.send(item).await {
                    warn!(feed_id = %feed_id, "publisher stopped; item not published");
                    let _ = unsent.0.ack.send(ItemOutcome::Failed);
                }
                return;
            }
            Ok(Ok(None)) => {
                metrics::item_unchanged();
                Stats::add(&shared.stats.unchanged, 1);
                ItemOutcome::Unchanged
            }
            Ok(Err(err)) => {
                metrics::error(Stage::State, err.error_type());
                error!(feed_id = %feed_id, guid = ?guid, error = %err, "state store read failed");
                ItemOutcome::Failed
            }
            Err(err) => {
                let error = panic_text(err);
                metrics::error(Stage::Normalize, "panic");
                error!(feed_id = %feed_id, guid = ?guid, error = %error, "item processing panicked; sending it to the dead-letter topic");
                let letter = panicked_item("enrich", &feed_id, &shared.topic, raw, error);
                shared.dead_letter(letter, fingerprint, ack).await;
                return;
            }
        };
        // The poller may have stopped waiting (shutdown); nothing to tell.
        let _ = ack.send(outcome);
    }
}

fn page_outcome(outcome: wirefeed_model::PageOutcome) -> &'static str {
    match outcome {
        wirefeed_model::PageOutcome::Used => "used",
        wirefeed_model::PageOutcome::NotBetter => "not_better",
        wirefeed_model::PageOutcome::Refused => "refused",
        wirefeed_model::PageOutcome::Failed => "failed",
    }
}

/// What an in-flight send was, for settling it.
enum Sent {
    /// A record: its version and content hash, and the payload, kept to
    /// build a dead letter should the broker refuse it for good.
    Record {
        id: StoryId,
        version: u32,
        /// What the story's entry becomes once delivered.
        state: Box<StoryState>,
        feed_id: wirefeed_model::FeedId,
        guid: Option<String>,
        url: Option<String>,
        title: String,
        payload: Vec<u8>,
    },
    /// A dead letter and what to remember once it is delivered.
    Dead(DeadSettle),
}

struct Delivered {
    sent: Sent,
    size: usize,
    elapsed: Duration,
    result: Result<DeliveryReceipt, PublishError>,
    ack: oneshot::Sender<ItemOutcome>,
}

/// Sends records (and dead letters) with at most `max_in_flight` awaiting
/// their delivery reports, and settles reports in batches. A record the
/// broker can never take (too large, rejected) becomes a dead letter; the
/// rest flow on.
#[allow(clippy::too_many_arguments)]
async fn publish_loop(
    mut publish_rx: mpsc::Receiver<PublishItem>,
    publisher: Arc<Publisher>,
    versions: Arc<Versions>,
    state: Arc<StateStore>,
    stats: Arc<Stats>,
    max_in_flight: usize,
    dead_letter_max_bytes: usize,
) {
    let mut in_flight = FuturesUnordered::new();
    let mut dead_letters: Vec<PublishItem> = Vec::new();
    let mut receiving = true;
    loop {
        // Dead letters born from refused records go first: they hold acks
        // their pollers wait for.
        while let Some(item) = dead_letters.pop() {
            if let Some(pending) = send(
                item,
                &publisher,
                &versions,
                &stats,
                dead_letter_max_bytes,
                &mut dead_letters,
            )
            .await
            {
                in_flight.push(pending);
            }
        }
        if !receiving && in_flight.is_empty() {
            return;
        }
        tokio::select! {
            biased;
            Some(first) = in_flight.next(), if !in_flight.is_empty() => {
                let mut batch = vec![first];
                while let Some(Some(more)) = futures::FutureExt::now_or_never(in_flight.next()) {
                    batch.push(more);
                }
                dead_letters.extend(
                    settle_batch(batch, publisher.topic(), &versions, &state, &stats).await,
                );
            }
            next = publish_rx.recv(), if receiving && in_flight.len() < max_in_flight => {
                metrics::queue_depth("publish", publish_rx.len());
                let Some(item) = next else {
                    receiving = false;
                    continue;
                };
                if let Some(pending) =
                    send(item, &publisher, &versions, &stats, dead_letter_max_bytes, &mut dead_letters).await
                {
                    in_flight.push(pending);
                }
            }
        }
    }
}

type InFlight = std::pin::Pin<Box<dyn std::future::Future<Output = Delivered> + Send>>;

/// Hands one record or dead letter to the producer. Returns the future of
/// its delivery report, or `None` when it was settled at once (refused by
/// the producer: a permanent refusal becomes a dead letter in
/// `dead_letters`).
async fn send(
    item: PublishItem,
    publisher: &Arc<Publisher>,
    versions: &Arc<Versions>,
    stats: &Arc<Stats>,
    dead_letter_max_bytes: usize,
    dead_letters: &mut Vec<PublishItem>,
) -> Option<InFlight> {
    let PublishItem { outgoing, ack } = item;
    let started = Instant::now();
    match outgoing {
        Outgoing::Record(record) => {
            let now = chrono::Utc::now().timestamp();
            let (sent, headers, ack) = prepare_record(*record, now, versions, stats, ack)?;
            let Sent::Record { id, payload, .. } = &sent else {
                return None;
            };
            let enqueued = publisher.enqueue(id.as_str(), payload, &headers).await;
            match enqueued {
                Ok(pending) => Some(Box::pin(async move {
                    let result = pending.wait().await;
                    let size = match &sent {
                        Sent::Record { payload, .. } => payload.len(),
                        Sent::Dead(_) => 0,
                    };
                    Delivered {
                        sent,
                        size,
                        elapsed: started.elapsed(),
                        result,
                        ack,
                    }
                })),
                Err(err) => {
                    let delivered = Delivered {
                        sent,
                        size: 0,
                        elapsed: started.elapsed(),
                        result: Err(err),
                        ack,
                    };
                    if let Some(dead) =
                        settle_failed_record(delivered, publisher.topic(), versions, stats)
                    {
                        dead_letters.push(dead);
                    }
                    None
                }
            }
        }
        // Only exactly-once mode keeps a changelog.
        Outgoing::Tombstones(_) => None,
        Outgoing::Dead(job) => {
            let DeadJob { letter, settle } = *job;
            let payload = letter.to_payload(dead_letter_max_bytes);
            let key = wirefeed_kafka::dead_letter_key(&letter);
            let headers = wirefeed_kafka::dead_letter_headers(&letter);
            match publisher
                .enqueue_dead_letter(&key, &payload.bytes, &headers)
                .await
            {
                Ok(pending) => {
                    let size = payload.bytes.len();
                    Some(Box::pin(async move {
                        let result = pending.wait().await;
                        Delivered {
                            sent: Sent::Dead(settle),
                            size,
                            elapsed: started.elapsed(),
                            result,
                            ack,
                        }
                    }))
                }
                Err(err) => {
                    metrics::error(Stage::Publish, err.error_type());
                    error!(key = %key, error = %err, "dead letter not accepted by the producer");
                    if let DeadSettle::Story(published) = &settle {
                        versions.settle(&published.id, published.state.version);
                    }
                    Stats::add(&stats.undelivered, 1);
                    let _ = ack.send(ItemOutcome::Failed);
                    None
                }
            }
        }
    }
}

/// Kafka headers as the kafka crate builds them.
type Headers = Vec<(&'static str, String)>;

/// Serializes a record for the producer: the payload and what settling it
/// needs, its headers, and the ack back. A record that cannot be
/// serialized fails its item here (`None`).
fn prepare_record(
    record: Record,
    now: i64,
    versions: &Versions,
    stats: &Stats,
    ack: oneshot::Sender<ItemOutcome>,
) -> Option<(Sent, Headers, oneshot::Sender<ItemOutcome>)> {
    let payload = match serde_json::to_vec(&record) {
        Ok(payload) => payload,
        Err(err) => {
            metrics::error(Stage::Publish, "serialize");
            error!(story_id = %record.id, error = %err, "cannot serialize record");
            versions.settle(&record.id, record.version);
            Stats::add(&stats.undelivered, 1);
            let _ = ack.send(ItemOutcome::Failed);
            return None;
        }
    };
    let headers = wirefeed_kafka::record_headers(&record);
    let state = Box::new(story_state(&record, now));
    let sent = Sent::Record {
        id: record.id,
        version: record.version,
        state,
        feed_id: record.source.feed_id,
        guid: record.guid,
        url: record.url,
        title: record.title,
        payload,
    };
    Some((sent, headers, ack))
}

/// Settles a record the broker (or producer) did not take. A permanent
/// refusal is turned into a dead letter, returned for sending; anything
/// else fails the item, so its poller offers it again.
fn settle_failed_record(
    delivered: Delivered,
    topic: &str,
    versions: &Arc<Versions>,
    stats: &Arc<Stats>,
) -> Option<PublishItem> {
    let Delivered {
        sent, result, ack, ..
    } = delivered;
    let Sent::Record {
        id,
        version,
        state,
        feed_id,
        guid,
        url,
        title,
        payload,
    } = sent
    else {
        return None;
    };
    let Err(err) = result else {
        return None;
    };
    metrics::error(Stage::Publish, err.error_type());
    if !err.is_permanent() {
        error!(
            story_id = %id,
            version,
            error_type = err.error_type(),
            error = %err,
            "record delivery failed; offered again at the next poll"
        );
        versions.settle(&id, version);
        Stats::add(&stats.undelivered, 1);
        let _ = ack.send(ItemOutcome::Failed);
        return None;
    }
    error!(
        story_id = %id,
        version,
        error_type = err.error_type(),
        error = %err,
        bytes = payload.len(),
        "record can never be delivered; sending it to the dead-letter topic"
    );
    let letter = DeadLetter {
        schema: DEAD_LETTER_SCHEMA,
        reason: err.to_string(),
        error_type: err.error_type().to_owned(),
        stage: "publish".to_owned(),
        topic: topic.to_owned(),
        feed_id,
        id: Some(id.clone()),
        version: Some(version),
        guid,
        url,
        title: Some(title),
        dead_at: chrono::Utc::now(),
        shrunk: false,
        original_bytes: None,
        record: serde_json::from_slice(&payload).ok(),
        item: None,
    };
    let mut state = *state;
    state.dead_lettered = true;
    let settle = DeadSettle::Story(Published { id, state });
    Some(PublishItem {
        outgoing: Outgoing::Dead(Box::new(DeadJob { letter, settle })),
        ack,
    })
}

/// Commits a batch of delivery results: acknowledged records and dead
/// letters in one state transaction, then tells each poller its item's
/// outcome. Returns the dead letters of records refused for good.
async fn settle_batch(
    batch: Vec<Delivered>,
    topic: &str,
    versions: &Arc<Versions>,
    state: &Arc<StateStore>,
    stats: &Arc<Stats>,
) -> Vec<PublishItem> {
    let now = chrono::Utc::now().timestamp();
    let mut receipts: Vec<Published> = Vec::new();
    let mut dead_items: Vec<String> = Vec::new();
    for delivered in batch.iter().filter(|delivered| delivered.result.is_ok()) {
        match &delivered.sent {
            Sent::Record { id, state, .. } => {
                let mut state = (**state).clone();
                state.published_at = now;
                state.seen_at = now;
                receipts.push(Published {
                    id: id.clone(),
                    state,
                });
            }
            Sent::Dead(DeadSettle::Story(published)) => receipts.push(published.clone()),
            Sent::Dead(DeadSettle::Item(fingerprint)) => dead_items.push(fingerprint.clone()),
        }
    }
    let store = state.clone();
    let committed = tokio::task::spawn_blocking(move || {
        store.commit_published(&receipts)?;
        store.commit_dead_items(&dead_items, now)
    })
    .await;
    let commit_ok = match committed {
        Ok(Ok(())) => true,
        Ok(Err(err)) => {
            metrics::error(Stage::State, err.error_type());
            error!(error = %err, "cannot record delivered stories; they will be offered again");
            false
        }
        Err(err) => {
            metrics::error(Stage::State, "panic");
            error!(error = %err, "state commit panicked");
            false
        }
    };
    let mut dead_letters = Vec::new();
    for delivered in batch {
        if let Sent::Record { id, version, .. } = &delivered.sent {
            versions.settle(id, *version);
        }
        if let Sent::Dead(DeadSettle::Story(published)) = &delivered.sent {
            versions.settle(&published.id, published.state.version);
        }
        match (&delivered.sent, &delivered.result) {
            (Sent::Record { .. }, Err(_)) => {
                if let Some(dead) = settle_failed_record(delivered, topic, versions, stats) {
                    dead_letters.push(dead);
                }
            }
            (_, Ok(_)) if !commit_ok => {
                Stats::add(&stats.undelivered, 1);
                let _ = delivered.ack.send(ItemOutcome::Failed);
            }
            (Sent::Record { id, version, .. }, Ok(receipt)) => {
                metrics::record_published(*version, delivered.elapsed, delivered.size);
                Stats::add(&stats.published, 1);
                debug!(
                    story_id = %id,
                    version,
                    partition = receipt.partition,
                    offset = receipt.offset,
                    "record delivered"
                );
                let _ = delivered.ack.send(ItemOutcome::Published);
            }
            (Sent::Dead(settle), Ok(receipt)) => {
                let stage = match settle {
                    DeadSettle::Story(_) => "publish",
                    DeadSettle::Item(_) => "process",
                };
                metrics::dead_lettered(stage);
                Stats::add(&stats.dead_lettered, 1);
                info!(
                    partition = receipt.partition,
                    offset = receipt.offset,
                    "dead letter delivered"
                );
                let _ = delivered.ack.send(ItemOutcome::DeadLettered);
            }
            (Sent::Dead(_), Err(err)) => {
                metrics::error(Stage::Publish, err.error_type());
                error!(error_type = err.error_type(), error = %err, "dead letter delivery failed; the item is offered again at the next poll");
                Stats::add(&stats.undelivered, 1);
                let _ = delivered.ack.send(ItemOutcome::Failed);
            }
        }
    }
    dead_letters
}

/// Exactly-once: fills the local state cache from the changelog topic, so
/// a story whose transaction committed just before a crash is known before
/// any feed is polled.
async fn restore_from_changelog(
    publisher: Arc<Publisher>,
    state: Arc<StateStore>,
    timeout: Duration,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let restored = tokio::task::spawn_blocking(move || {
        let mut stories: Vec<Published> = Vec::new();
        let mut dead: Vec<(String, i64)> = Vec::new();
        let mut unreadable = 0u64;
        let mut failed: Option<StateError> = None;
        let flush = |stories: &mut Vec<Published>,
                     dead: &mut Vec<(String, i64)>|
         -> Result<(), StateError> {
            let committed = state.commit_published(stories);
            stories.clear();
            committed?;
            for (fingerprint, at) in dead.drain(..) {
                state.commit_dead_items(&[fingerprint], at)?;
            }
            Ok(())
        };
        let read = publisher.read_changelog(timeout, |key, value| {
            let Some(value) = value else {
                // A tombstone: the entry expired after the earlier ones
                // were written; compaction has not removed them yet.
                let forgotten =
                    flush(&mut stories, &mut dead).and_then(|()| match key.split_once(':') {
                        Some(("story", id)) => state.forget(Some(id), None),
                        Some(("dead", fingerprint)) => state.forget(None, Some(fingerprint)),
                        _ => Ok(()),
                    });
                if let Err(err) = forgotten {
                    failed.get_or_insert(err);
                }
                return;
            };
            match key.split_once(':') {
                Some(("story", id)) => match serde_json::from_slice::<StoryState>(value) {
                    Ok(story) => stories.push(Published {
                        id: StoryId::from_stored(id),
                        state: story,
                    }),
                    Err(_) => unreadable += 1,
                },
                Some(("dead", fingerprint)) => match serde_json::from_slice::<DeadEntry>(value) {
                    Ok(entry) => dead.push((fingerprint.to_owned(), entry.dead_at)),
                    Err(_) => unreadable += 1,
                },
                _ => unreadable += 1,
            }
            if stories.len() >= 1_000
                && let Err(err) = flush(&mut stories, &mut dead)
            {
                failed.get_or_insert(err);
            }
        })?;
        if let Err(err) = flush(&mut stories, &mut dead) {
            failed.get_or_insert(err);
        }
        if let Some(err) = failed {
            return Err(anyhow::Error::new(err).context("cannot restore the state store"));
        }
        Ok::<_, anyhow::Error>((read, unreadable))
    })
    .await
    .context("changelog restore panicked")?
    .context("cannot read the state changelog")?;
    let (read, unreadable) = restored;
    info!(
        entries = read,
        unreadable,
        elapsed_ms = started.elapsed().as_millis(),
        "state restored from the changelog"
    );
    if unreadable > 0 {
        warn!(
            unreadable,
            "changelog entries that could not be read were skipped"
        );
    }
    Ok(())
}

/// A dead item's changelog value.
#[derive(serde::Serialize, serde::Deserialize)]
struct DeadEntry {
    dead_at: i64,
}

/// How long a transaction waits to gather more records.
const TXN_LINGER: Duration = Duration::from_millis(50);

/// How long a transaction commit may take.
const TXN_TIMEOUT: Duration = Duration::from_secs(60);

/// One item of a transaction: what it sends (a record, whose payload is
/// in `sent`, or a dead letter's `letter`), the state changelog entry it
/// leaves, and its ack.
struct TxnPart {
    sent: Sent,
    topic: TxnTopic,
    key: String,
    headers: Headers,
    letter: Vec<u8>,
    state_key: String,
    state_value: Option<Vec<u8>>,
    ack: oneshot::Sender<ItemOutcome>,
}

impl TxnPart {
    /// The bytes of its own message.
    fn body(&self) -> &[u8] {
        match &self.sent {
            Sent::Record { payload, .. } => payload,
            Sent::Dead(_) => &self.letter,
        }
    }
}

/// Exactly-once publishing: gathers up to `max_batch` items, sends their
/// records (or dead letters) and their state changelog entries in one
/// transaction, and commits the local state cache and answers the pollers
/// only once it committed. An aborted transaction fails its items, which
/// their pollers offer again; a record refused for good becomes a dead
/// letter in the next transaction. A fenced producer (another instance
/// took over the transactional id) stops the publisher.
#[allow(clippy::too_many_arguments)]
async fn publish_transactions(
    mut publish_rx: mpsc::Receiver<PublishItem>,
    publisher: Arc<Publisher>,
    versions: Arc<Versions>,
    state: Arc<StateStore>,
    stats: Arc<Stats>,
    max_batch: usize,
    dead_letter_max_bytes: usize,
    shutdown: CancellationToken,
) {
    let mut carry: Vec<PublishItem> = Vec::new();
    loop {
        let mut batch = std::mem::take(&mut carry);
        if batch.is_empty() {
            match publish_rx.recv().await {
                Some(item) => batch.push(item),
                None => return,
            }
        }
        let linger = tokio::time::sleep(TXN_LINGER);
        tokio::pin!(linger);
        while batch.len() < max_batch {
            tokio::select! {
                biased;
                item = publish_rx.recv() => match item {
                    Some(item) => batch.push(item),
                    None => break,
                },
                () = &mut linger => break,
            }
        }
        let started = Instant::now();
        let now = chrono::Utc::now().timestamp();
        let mut parts: Vec<TxnPart> = Vec::with_capacity(batch.len());
        let mut tombstones: Vec<String> = Vec::new();
        for PublishItem { outgoing, ack } in batch {
            match outgoing {
                Outgoing::Record(record) => {
                    let Some((sent, headers, ack)) =
                        prepare_record(*record, now, &versions, &stats, ack)
                    else {
                        continue;
                    };
                    let Sent::Record { id, state, .. } = &sent else {
                        continue;
                    };
                    parts.push(TxnPart {
                        topic: TxnTopic::Records,
                        key: id.to_string(),
                        headers,
                        letter: Vec::new(),
                        state_key: format!("story:{id}"),
                        state_value: serde_json::to_vec(state).ok(),
                        sent,
                        ack,
                    });
                }
                Outgoing::Tombstones(keys) => tombstones.extend(keys),
                Outgoing::Dead(job) => {
                    let DeadJob { letter, settle } = *job;
                    let (state_key, state_value) = match &settle {
                        DeadSettle::Story(published) => (
                            format!("story:{}", published.id),
                            serde_json::to_vec(&published.state).ok(),
                        ),
                        DeadSettle::Item(fingerprint) => (
                            format!("dead:{fingerprint}"),
                            serde_json::to_vec(&DeadEntry { dead_at: now }).ok(),
                        ),
                    };
                    parts.push(TxnPart {
                        topic: TxnTopic::DeadLetters,
                        key: wirefeed_kafka::dead_letter_key(&letter),
                        headers: wirefeed_kafka::dead_letter_headers(&letter),
                        letter: letter.to_payload(dead_letter_max_bytes).bytes,
                        state_key,
                        state_value,
                        sent: Sent::Dead(settle),
                        ack,
                    });
                }
            }
        }
        if parts.is_empty() && tombstones.is_empty() {
            continue;
        }
        // Each part's own message at 2 × its index, its changelog entry
        // after it; the tombstones last.
        let mut messages: Vec<TxnMessage<'_>> =
            Vec::with_capacity(parts.len() * 2 + tombstones.len());
        for part in &parts {
            messages.push(TxnMessage {
                topic: part.topic,
                key: &part.key,
                payload: Some(part.body()),
                headers: &part.headers,
            });
            messages.push(TxnMessage {
                topic: TxnTopic::State,
                key: &part.state_key,
                payload: part.state_value.as_deref(),
                headers: &[],
            });
        }
        messages.extend(tombstones.iter().map(|key| TxnMessage {
            topic: TxnTopic::State,
            key,
            payload: None,
            headers: &[],
        }));
        let outcome = publisher.transaction(&messages, TXN_TIMEOUT).await;
        let mut results: Vec<Option<Result<DeliveryReceipt, PublishError>>> =
            outcome.results.into_iter().map(Some).collect();
        let mut own_result = |index: usize| results.get_mut(index).and_then(Option::take);
        if outcome.committed {
            let delivered: Vec<Delivered> = parts
                .into_iter()
                .enumerate()
                .map(|(index, part)| Delivered {
                    result: own_result(2 * index).unwrap_or(Ok(DeliveryReceipt {
                        partition: -1,
                        offset: -1,
                    })),
                    size: part.body().len(),
                    sent: part.sent,
                    elapsed: started.elapsed(),
                    ack: part.ack,
                })
                .collect();
            carry.extend(
                settle_batch(delivered, publisher.topic(), &versions, &state, &stats).await,
            );
            continue;
        }
        let reason = outcome
            .error
            .as_ref()
            .map_or_else(|| "a message was refused".to_owned(), ToString::to_string);
        metrics::error(Stage::Publish, "transaction");
        error!(
            items = parts.len(),
            fatal = outcome.fatal,
            error = %reason,
            "transaction aborted; its stories are offered again"
        );
        for (index, part) in parts.into_iter().enumerate() {
            let size = part.body().len();
            match (part.sent, own_result(2 * index)) {
                (sent @ Sent::Record { .. }, Some(Err(err))) => {
                    let delivered = Delivered {
                        sent,
                        size,
                        elapsed: started.elapsed(),
                        result: Err(err),
                        ack: part.ack,
                    };
                    if let Some(dead) =
                        settle_failed_record(delivered, publisher.topic(), &versions, &stats)
                    {
                        carry.push(dead);
                    }
                }
                (sent, _) => {
                    match &sent {
                        Sent::Record { id, version, .. } => versions.settle(id, *version),
                        Sent::Dead(DeadSettle::Story(published)) => {
                            versions.settle(&published.id, published.state.version);
                        }
                        Sent::Dead(DeadSettle::Item(_)) => {}
                    }
                    Stats::add(&stats.undelivered, 1);
                    let _ = part.ack.send(ItemOutcome::Failed);
                }
            }
        }
        if outcome.fatal {
            error!(
                "the transactional producer was fenced or failed fatally: another instance may use the same transactional id; stopping"
            );
            for item in carry.drain(..) {
                let _ = item.ack.send(ItemOutcome::Failed);
            }
            shutdown.cancel();
            return;
        }
    }
}
