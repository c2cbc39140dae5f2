//! The configuration file: parsed (unknown keys rejected), validated, then
//! turned into [`Settings`] whose values the pipeline trusts.
//!
//! Every option is documented in `config/wirefeed.toml`; the `default_*`
//! functions here are the single source of the defaults it lists.

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use url::Url;
use wirefeed_extract::{Cleaner, RulePack, RulesError};
use wirefeed_kafka::ProducerConfig;
use wirefeed_model::FeedId;
use wirefeed_sources::{Access, Auth, HostLimits, HttpConfig, Secret, SpoolDir};

use crate::schedule::ScheduleConfig;

/// The file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// State store options.
    #[serde(default)]
    pub state: StateSection,
    /// Kafka options.
    pub kafka: KafkaSection,
    /// HTTP client options.
    #[serde(default)]
    pub http: HttpSection,
    /// Pipeline sizing.
    #[serde(default)]
    pub pipeline: PipelineSection,
    /// Cleaning options.
    #[serde(default)]
    pub cleaning: CleaningSection,
    /// `[pages]`
    #[serde(default)]
    pub pages: PagesSection,
    /// `[dedup]`
    #[serde(default)]
    pub dedup: DedupSection,
    /// `[health]`
    #[serde(default)]
    pub health: HealthSection,
    /// Defaults applied to every feed.
    #[serde(default)]
    pub feed_defaults: FeedDefaults,
    /// Logging.
    #[serde(default)]
    pub log: LogSection,
    /// Files holding more feeds.
    #[serde(default)]
    pub include: IncludeSection,
    /// The feeds: this file's, then those of the included files.
    #[serde(default)]
    pub feeds: Vec<FeedSection>,
    /// Where each entry of `feeds` was written, when not in this file
    /// (filled by [`FileConfig::load`]; empty: all in this file).
    #[serde(skip)]
    pub feed_origins: Vec<FeedOrigin>,
}

/// `[include]`: feeds kept in files of their own, e.g. one per provider or
/// one per team, so a feed list can be generated or owned apart from the
/// daemon's settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncludeSection {
    /// Files of `[[feeds]]` tables: paths relative to the config file, the
    /// last part of which may hold `*` and `?` wildcards
    /// (`feeds.d/*.toml`). A plain path must exist; a pattern may match
    /// nothing. Matches are read in name order.
    #[serde(default)]
    pub feeds: Vec<String>,
}

/// A file holding only `[[feeds]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedFile {
    #[serde(default)]
    feeds: Vec<FeedSection>,
}

/// Where a feed entry was written: its file and its index among that
/// file's `[[feeds]]` tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedOrigin {
    /// The file.
    pub file: PathBuf,
    /// 0-based index among the file's `[[feeds]]`.
    pub index: usize,
}

impl FeedOrigin {
    /// The problem of feed `id` written here when `first` already has it.
    pub fn duplicate_of(&self, id: &str, first: &FeedOrigin) -> String {
        let place = if first.file == self.file {
            String::new()
        } else {
            format!(" in {}", first.file.display())
        };
        format!(
            "duplicate feed id {id} (also feeds[{}]{place})",
            first.index
        )
    }
}

/// `[log]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSection {
    /// Level filter in `RUST_LOG` syntax (`info`, `wirefeed=debug,info`);
    /// `RUST_LOG` wins when set.
    #[serde(default = "default_log_level")]
    pub level: String,
    /// The log format; `--log-format` wins when given.
    #[serde(default)]
    pub format: LogFormat,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable on a terminal, JSON lines otherwise.
    #[default]
    Auto,
    /// JSON lines.
    Json,
    /// Human-readable.
    Pretty,
}

impl Default for LogSection {
    fn default() -> Self {
        Self {
            level: default_log_level(),
            format: LogFormat::Auto,
        }
    }
}

fn default_log_level() -> String {
    "info".to_owned()
}

/// `[state]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateSection {
    /// The redb file; relative paths are relative to the config file.
    #[serde(default = "default_state_path")]
    pub path: PathBuf,
    /// Days a story is remembered after a feed last listed it.
    #[serde(default = "default_retention_days")]
    pub retention_days: u64,
}

impl Default for StateSection {
    fn default() -> Self {
        Self {
            path: default_state_path(),
            retention_days: default_retention_days(),
        }
    }
}

const fn default_retention_days() -> u64 {
    30
}

/// `[health]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthSection {
    /// `host:port` of the health and metrics listener; empty: none.
    #[serde(default = "default_health_listen")]
    pub listen: String,
    /// Serve the read-only status page at `/` (and `/status`).
    #[serde(default = "default_true")]
    pub status_page: bool,
    /// Label feed metrics with `feed_id` (one series per feed and
    /// outcome); off: one series for all feeds.
    #[serde(default = "default_true")]
    pub per_feed_metrics: bool,
}

impl Default for HealthSection {
    fn default() -> Self {
        Self {
            listen: default_health_listen(),
            status_page: true,
            per_feed_metrics: true,
        }
    }
}

fn default_health_listen() -> String {
    "127.0.0.1:9464".to_owned()
}

/// `[dedup]`
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DedupSection {
    /// Mark near-duplicate stories (`duplicate_of`).
    #[serde(default = "default_true")]
    pub near_duplicates: bool,
    /// Largest SimHash distance (bits) that counts as a near-duplicate.
    #[serde(default = "default_max_distance")]
    pub max_distance: u32,
    /// Publish near-duplicates (marked) or hold them back.
    #[serde(default = "default_true")]
    pub publish_duplicates: bool,
    /// Bodies shorter than this (words) are never compared.
    #[serde(default = "default_dedup_min_words")]
    pub min_words: usize,
}

impl Default for DedupSection {
    fn default() -> Self {
        Self {
            near_duplicates: true,
            max_distance: default_max_distance(),
            publish_duplicates: true,
            min_words: default_dedup_min_words(),
        }
    }
}

const fn default_max_distance() -> u32 {
    3
}

const fn default_dedup_min_words() -> usize {
    50
}

fn default_state_path() -> PathBuf {
    PathBuf::from("data/wirefeed-state.redb")
}

/// `[kafka]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaSection {
    /// Comma-separated `host:port` list.
    #[serde(default = "default_bootstrap_servers")]
    pub bootstrap_servers: String,
    /// The enriched article topic.
    pub topic: String,
    /// At-least-once (default) or exactly-once delivery.
    #[serde(default)]
    pub delivery: DeliveryMode,
    /// Exactly-once: the transactional id; default `wirefeed-<topic>`.
    #[serde(default)]
    pub transactional_id: Option<String>,
    /// Exactly-once: the state changelog topic; default `<topic>.state`.
    #[serde(default)]
    pub state_topic: Option<String>,
    /// Where records and items that can never be published go; default
    /// `<topic>.dead-letter`.
    #[serde(default)]
    pub dead_letter_topic: Option<String>,
    /// Largest dead letter, bytes; larger ones are shrunk.
    #[serde(default = "default_dead_letter_max_bytes")]
    pub dead_letter_max_bytes: usize,
    /// Client id shown in broker logs and quotas.
    #[serde(default = "default_client_id")]
    pub client_id: String,
    /// Seconds librdkafka retries a record before reporting failure.
    #[serde(default = "default_delivery_timeout_secs")]
    pub delivery_timeout_secs: u64,
    /// Milliseconds to wait to fill a batch.
    #[serde(default = "default_linger_ms")]
    pub linger_ms: u64,
    /// Batch compression.
    #[serde(default = "default_compression")]
    pub compression: String,
    /// Records handed to Kafka and not yet acknowledged, at most.
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight: usize,
    /// Create the topic at start-up when missing.
    #[serde(default = "default_true")]
    pub create_topic: bool,
    /// Partitions of a created topic; -1 for the broker default.
    #[serde(default = "default_topic_partitions")]
    pub topic_partitions: i32,
    /// Replication factor of a created topic; -1 for the broker default.
    #[serde(default = "default_replication")]
    pub topic_replication_factor: i32,
    /// Seconds to wait for the broker at start-up.
    #[serde(default = "default_startup_timeout_secs")]
    pub startup_timeout_secs: u64,
    /// Other librdkafka properties, passed through.
    #[serde(default)]
    pub librdkafka: BTreeMap<String, String>,
}

fn default_bootstrap_servers() -> String {
    "127.0.0.1:9092".to_owned()
}
/// How records reach Kafka.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeliveryMode {
    /// Idempotent producer; a crash may re-send what was in flight.
    #[default]
    AtLeastOnce,
    /// Records and their state changes in one Kafka transaction;
    /// read-committed consumers see every story once.
    ExactlyOnce,
}

const fn default_dead_letter_max_bytes() -> usize {
    512 * 1024
}
fn default_client_id() -> String {
    "wirefeed".to_owned()
}
const fn default_delivery_timeout_secs() -> u64 {
    120
}
const fn default_linger_ms() -> u64 {
    5
}
fn default_compression() -> String {
    "lz4".to_owned()
}
const fn default_max_in_flight() -> usize {
    1000
}
const fn default_true() -> bool {
    true
}
const fn default_topic_partitions() -> i32 {
    3
}
const fn default_replication() -> i32 {
    -1
}
const fn default_startup_timeout_secs() -> u64 {
    30
}

/// `[http]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSection {
    /// The `User-Agent` header.
    #[serde(default = "default_user_agent")]
    pub user_agent: String,
    /// Seconds to establish a connection.
    #[serde(default = "default_connect_timeout_secs")]
    pub connect_timeout_secs: u64,
    /// Seconds for a whole request.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// Largest feed body accepted, after decompression.
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: u64,
    /// Redirects followed per request.
    #[serde(default = "default_max_redirects")]
    pub max_redirects: usize,
    /// Proxy for all feeds; unset: the usual proxy environment variables.
    pub proxy: Option<String>,
    /// Requests in flight to one host, at most.
    #[serde(default = "default_per_host_concurrency")]
    pub per_host_concurrency: usize,
    /// Fetches in flight over all hosts, at most.
    #[serde(default = "default_max_concurrent_fetches")]
    pub max_concurrent_fetches: usize,
    /// Requests started per second to one host, at most (0: no limit).
    #[serde(default = "default_per_host_requests_per_sec")]
    pub per_host_requests_per_sec: f64,
}

impl Default for HttpSection {
    fn default() -> Self {
        Self {
            user_agent: default_user_agent(),
            connect_timeout_secs: default_connect_timeout_secs(),
            timeout_secs: default_timeout_secs(),
            max_body_bytes: default_max_body_bytes(),
            max_redirects: default_max_redirects(),
            proxy: None,
            per_host_concurrency: default_per_host_concurrency(),
            max_concurrent_fetches: default_max_concurrent_fetches(),
            per_host_requests_per_sec: default_per_host_requests_per_sec(),
        }
    }
}

impl HttpSection {
    /// Returns the client settings these options describe.
    pub fn to_http_config(&self) -> HttpConfig {
        HttpConfig {
            user_agent: self.user_agent.clone(),
            connect_timeout: Duration::from_secs(self.connect_timeout_secs),
            timeout: Duration::from_secs(self.timeout_secs),
            max_body_bytes: self.max_body_bytes,
            max_redirects: self.max_redirects,
            proxy: self
                .proxy
                .as_deref()
                .and_then(|proxy| proxy_url(proxy).ok()),
            max_concurrent: self.max_concurrent_fetches.max(1),
            page_allow: Vec::new(),
            host_limits: HostLimits {
                concurrency: self.per_host_concurrency.max(1),
                spacing: if self.per_host_requests_per_sec > 0.0 {
                    Duration::from_secs_f64(1.0 / self.per_host_requests_per_sec)
                } else {
                    Duration::ZERO
                },
            },
        }
    }
}

fn default_user_agent() -> String {
    format!("wirefeed/{} (news wire ingest)", env!("CARGO_PKG_VERSION"))
}
const fn default_connect_timeout_secs() -> u64 {
    10
}
const fn default_timeout_secs() -> u64 {
    30
}
const fn default_max_body_bytes() -> u64 {
    8 * 1024 * 1024
}
const fn default_max_redirects() -> usize {
    5
}
const fn default_per_host_concurrency() -> usize {
    2
}
const fn default_max_concurrent_fetches() -> usize {
    32
}
const fn default_per_host_requests_per_sec() -> f64 {
    2.0
}

/// `[pipeline]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineSection {
    /// Items waiting between stages, per queue.
    #[serde(default = "default_queue_capacity")]
    pub queue_capacity: usize,
    /// Normalize/clean workers; 0 means one per core.
    #[serde(default)]
    pub workers: usize,
    /// Seconds a shutdown waits for queued records to be delivered.
    #[serde(default = "default_shutdown_timeout_secs")]
    pub shutdown_timeout_secs: u64,
}

impl Default for PipelineSection {
    fn default() -> Self {
        Self {
            queue_capacity: default_queue_capacity(),
            workers: 0,
            shutdown_timeout_secs: default_shutdown_timeout_secs(),
        }
    }
}

const fn default_queue_capacity() -> usize {
    256
}
const fn default_shutdown_timeout_secs() -> u64 {
    30
}

/// `[cleaning]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CleaningSection {
    /// The rule pack; relative paths are relative to the config file. When
    /// unset, the pack built into the binary.
    pub rules: Option<PathBuf>,
}

impl CleaningSection {
    /// Loads and validates the rule pack (the built-in one when none is
    /// configured); `base_dir` resolves a relative path.
    pub fn load(&self, base_dir: &Path) -> Result<Cleaner, ConfigError> {
        let Some(rules) = &self.rules else {
            return Ok(Cleaner::builtin());
        };
        load_rules(&resolve(base_dir, rules))
    }
}

/// Loads and validates a rule pack file.
pub fn load_rules(path: &Path) -> Result<Cleaner, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    let pack = RulePack::from_toml(&text, &path.display().to_string())
        .map_err(|source| ConfigError::Rules { source })?;
    Ok(Cleaner::new(pack))
}

/// When the article page is fetched for an item's full text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FullText {
    /// Never: the feed's text is the body.
    #[default]
    Never,
    /// When the feed's text is a teaser: shorter than
    /// `pages.teaser_max_chars`, or ending in an ellipsis or "Read more".
    Auto,
    /// For every item with a link.
    Always,
}

/// `[pages]`: article page fetches for full text.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PagesSection {
    /// A feed text shorter than this many characters is a teaser.
    #[serde(default = "default_teaser_max_chars")]
    pub teaser_max_chars: usize,
    /// Page fetches in flight at once, over all feeds.
    #[serde(default = "default_page_max_concurrent")]
    pub max_concurrent: usize,
    /// Internal addresses (IPs or CIDR ranges) pages may be fetched from.
    #[serde(default)]
    pub allow_addresses: Vec<String>,
}

impl Default for PagesSection {
    fn default() -> Self {
        Self {
            teaser_max_chars: default_teaser_max_chars(),
            max_concurrent: default_page_max_concurrent(),
            allow_addresses: Vec::new(),
        }
    }
}

const fn default_teaser_max_chars() -> usize {
    600
}
const fn default_page_max_concurrent() -> usize {
    8
}

/// Page fetch settings the pipeline uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagesConfig {
    /// Teaser length bound.
    pub teaser_max_chars: usize,
    /// Page fetches in flight at once.
    pub max_concurrent: NonZeroUsize,
}

/// `[feed_defaults]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedDefaults {
    /// Seconds between polls of a feed.
    #[serde(default = "default_poll_interval_secs")]
    pub poll_interval_secs: u64,
    /// Items read from one document, at most.
    #[serde(default = "default_max_items")]
    pub max_items: usize,
    /// Fraction of the interval a poll may move either way.
    #[serde(default = "default_jitter")]
    pub jitter: f64,
    /// Longest wait between polls of a failing feed.
    #[serde(default = "default_backoff_max_secs")]
    pub backoff_max_secs: u64,
    /// Consecutive failures after which a feed is reported unhealthy.
    #[serde(default = "default_unhealthy_after")]
    pub unhealthy_after: u32,
    /// Longest random delay before a feed's first poll after start-up.
    #[serde(default = "default_startup_spread_secs")]
    pub startup_spread_secs: u64,
    /// Poll busy feeds more often and quiet ones less.
    #[serde(default = "default_true")]
    pub adaptive: bool,
    /// Shortest interval an adaptive feed may move to.
    #[serde(default = "default_min_poll_interval_secs")]
    pub min_poll_interval_secs: u64,
    /// Longest interval an adaptive feed may move to.
    #[serde(default = "default_max_poll_interval_secs")]
    pub max_poll_interval_secs: u64,
    /// When to fetch the article page for full text.
    #[serde(default)]
    pub fulltext: FullText,
}

impl Default for FeedDefaults {
    fn default() -> Self {
        Self {
            poll_interval_secs: default_poll_interval_secs(),
            max_items: default_max_items(),
            jitter: default_jitter(),
            backoff_max_secs: default_backoff_max_secs(),
            unhealthy_after: default_unhealthy_after(),
            startup_spread_secs: default_startup_spread_secs(),
            adaptive: true,
            min_poll_interval_secs: default_min_poll_interval_secs(),
            max_poll_interval_secs: default_max_poll_interval_secs(),
            fulltext: FullText::default(),
        }
    }
}

const fn default_jitter() -> f64 {
    0.1
}
const fn default_backoff_max_secs() -> u64 {
    3600
}
const fn default_unhealthy_after() -> u32 {
    5
}
const fn default_startup_spread_secs() -> u64 {
    30
}
const fn default_min_poll_interval_secs() -> u64 {
    60
}
const fn default_max_poll_interval_secs() -> u64 {
    3600
}

const fn default_poll_interval_secs() -> u64 {
    300
}
const fn default_max_items() -> usize {
    500
}

/// `[[feeds]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedSection {
    /// Unique id, used in logs, metrics, records and the state store.
    pub id: String,
    /// `http(s)://` or `file://` URL, or a path relative to the config file.
    pub url: Option<String>,
    /// A spool folder to take documents from, instead of `url`.
    pub spool: Option<PathBuf>,
    /// Seconds a spool file must be left alone before it is taken.
    pub spool_settle_secs: Option<u64>,
    /// Provider name in records and story ids; defaults to the id.
    pub provider: Option<String>,
    /// Overrides `feed_defaults.poll_interval_secs`.
    pub poll_interval_secs: Option<u64>,
    /// Overrides `feed_defaults.max_items`.
    pub max_items: Option<usize>,
    /// ISO 639-1 language used when the feed declares none.
    pub language: Option<String>,
    /// Authentication.
    pub auth: Option<AuthSection>,
    /// Extra request headers, values as secrets.
    #[serde(default)]
    pub headers: BTreeMap<String, SecretSource>,
    /// A proxy for this feed.
    pub proxy: Option<String>,
    /// Overrides `feed_defaults.fulltext`.
    pub fulltext: Option<FullText>,
}

/// `[feeds.auth]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSection {
    /// `basic` or `bearer`.
    #[serde(rename = "type")]
    pub kind: AuthKind,
    /// The user name (basic).
    pub username: Option<String>,
    /// The password (basic).
    pub password: Option<SecretSource>,
    /// The token (bearer).
    pub token: Option<SecretSource>,
}

/// Authentication schemes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthKind {
    /// HTTP basic.
    Basic,
    /// Bearer token.
    Bearer,
}

/// Where a secret comes from: exactly one of an environment variable, a
/// file (trimmed), or the value itself (discouraged: config files travel).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretSource {
    /// An environment variable.
    pub env: Option<String>,
    /// A file, e.g. a mounted container secret.
    pub file: Option<PathBuf>,
    /// The value.
    pub value: Option<String>,
}

impl SecretSource {
    fn resolve(&self, base_dir: &Path) -> Result<Secret, String> {
        match (&self.env, &self.file, &self.value) {
            (Some(name), None, None) => std::env::var(name)
                .map(Secret::new)
                .map_err(|_| format!("environment variable {name} is not set")),
            (None, Some(file), None) => {
                let path = resolve(base_dir, file);
                std::fs::read_to_string(&path)
                    .map(|text| Secret::new(text.trim()))
                    .map_err(|err| format!("cannot read secret file {}: {err}", path.display()))
            }
            (None, None, Some(value)) => Ok(Secret::new(value.clone())),
            _ => Err("give exactly one of env, file or value".to_owned()),
        }
    }
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The state store file.
    pub state_path: PathBuf,
    /// Producer settings.
    pub producer: ProducerConfig,
    /// In-flight bound (records per transaction in exactly-once mode).
    pub max_in_flight: NonZeroUsize,
    /// At-least-once or exactly-once.
    pub delivery: DeliveryMode,
    /// Largest dead letter before it is shrunk, bytes.
    pub dead_letter_max_bytes: usize,
    /// Start-up wait for the broker.
    pub startup_timeout: Duration,
    /// HTTP client settings.
    pub http: HttpConfig,
    /// Queue capacity between stages.
    pub queue_capacity: NonZeroUsize,
    /// Worker count.
    pub workers: NonZeroUsize,
    /// Shutdown drain deadline.
    pub shutdown_timeout: Duration,
    /// The feeds.
    pub feeds: Vec<Feed>,
    /// The cleaner built from the rule pack.
    pub cleaner: Arc<Cleaner>,
    /// Poll scheduling.
    pub schedule: ScheduleConfig,
    /// Article page fetches.
    pub pages: PagesConfig,
    /// How long stories are remembered after a feed last listed them.
    pub retention: Duration,
    /// Where `/healthz`, `/readyz` and `/metrics` are served, if anywhere.
    pub health_listen: Option<std::net::SocketAddr>,
    /// Whether the listener serves the status page.
    pub status_page: bool,
    /// Whether feed metrics carry a `feed_id` label.
    pub per_feed_metrics: bool,
    /// Near-duplicate detection.
    pub dedup: DedupSection,
    /// Fault injection for the daemon's own tests; never set from a config
    /// file.
    #[doc(hidden)]
    pub fault_probe: Option<FaultProbe>,
}

/// A hook the pipeline calls with a stage or enrichment step name and the
/// item's guid as that work starts, on the thread doing it. Tests make it
/// panic to show what a bug at that point does to a running daemon.
#[derive(Clone)]
pub struct FaultProbe(pub Arc<ProbeFn>);

/// The fault probe's function: (stage or step, guid).
pub type ProbeFn = dyn Fn(&str, Option<&str>) + Send + Sync;

impl std::fmt::Debug for FaultProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FaultProbe")
    }
}

/// One validated feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feed {
    /// Its id.
    pub id: FeedId,
    /// Its URL (for a spool, the folder's `file://` URL).
    pub url: Url,
    /// The spool folder, for a spool feed.
    pub spool: Option<SpoolDir>,
    /// Its provider name.
    pub provider: String,
    /// Whether the provider was configured (else it is the feed id, or,
    /// for an agency document, the provider the document names).
    pub provider_configured: bool,
    /// Poll interval.
    pub poll_interval: Duration,
    /// Item limit per document.
    pub max_items: usize,
    /// Fallback language.
    pub language: Option<String>,
    /// Credentials, headers and proxy.
    pub access: Access,
    /// When to fetch the article page.
    pub fulltext: FullText,
}

/// A configuration problem.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}: {source}", path = path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML or has unknown or mistyped keys.
    #[error("invalid config {path}: {message}", path = path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and key.
        message: String,
    },
    /// The cleaning rule pack is invalid.
    #[error(transparent)]
    Rules {
        /// What is wrong with it.
        source: RulesError,
    },
    /// A value is out of range or inconsistent.
    #[error("invalid config {path}: {key}: {message}", path = path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The key, dotted.
        key: String,
        /// What is wrong.
        message: String,
    },
}

impl FileConfig {
    /// Reads and parses `path`, then applies `WIREFEED_…` environment
    /// overrides (see [`FileConfig::parse_with_env`]).
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config = Self::parse_with_env(&text, path, std::env::vars())?;
        config.load_included_feeds(path)?;
        Ok(config)
    }

    /// The files `[include] feeds` names, in order: each entry's matches
    /// sorted by name. A plain path that does not exist is an error, as is
    /// a folder of patterns that cannot be read.
    pub fn included_files(&self, path: &Path) -> Result<Vec<PathBuf>, ConfigError> {
        let base_dir = path.parent().unwrap_or(Path::new("."));
        let mut files = Vec::new();
        for (index, entry) in self.include.feeds.iter().enumerate() {
            let invalid = |message: String| ConfigError::Invalid {
                path: path.to_owned(),
                key: format!("include.feeds[{index}]"),
                message,
            };
            let full = resolve(base_dir, Path::new(entry.trim()));
            let name = full
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            if !name.contains(['*', '?']) {
                if !full.is_file() {
                    return Err(invalid(format!("{} is not a file", full.display())));
                }
                files.push(full);
                continue;
            }
            let dir = full.parent().unwrap_or(Path::new("."));
            let listing = std::fs::read_dir(dir)
                .map_err(|err| invalid(format!("cannot read folder {}: {err}", dir.display())))?;
            let mut matched: Vec<PathBuf> = listing
                .filter_map(Result::ok)
                .filter(|item| {
                    wildcard_match(&name, &item.file_name().to_string_lossy())
                        && item.path().is_file()
                })
                .map(|item| item.path())
                .collect();
            matched.sort();
            files.extend(matched);
        }
        files.dedup();
        Ok(files)
    }

    /// Reads the feeds of the files `[include] feeds` names and appends
    /// them to `feeds`, remembering where each was written.
    pub fn load_included_feeds(&mut self, path: &Path) -> Result<(), ConfigError> {
        let files = self.included_files(path)?;
        if files.is_empty() {
            return Ok(());
        }
        let mut origins: Vec<FeedOrigin> = (0..self.feeds.len())
            .map(|index| FeedOrigin {
                file: path.to_owned(),
                index,
            })
            .collect();
        for file in files {
            let text = std::fs::read_to_string(&file).map_err(|source| ConfigError::Read {
                path: file.clone(),
                source,
            })?;
            let feeds = parse_feed_file(&text, &file)?;
            origins.extend((0..feeds.len()).map(|index| FeedOrigin {
                file: file.clone(),
                index,
            }));
            self.feeds.extend(feeds);
        }
        self.feed_origins = origins;
        Ok(())
    }

    /// Where `feeds[index]` was written.
    pub fn feed_origin(&self, path: &Path, index: usize) -> FeedOrigin {
        self.feed_origins
            .get(index)
            .cloned()
            .unwrap_or_else(|| FeedOrigin {
                file: path.to_owned(),
                index,
            })
    }

    /// Parses `text`, then overrides its values from `vars`:
    /// `WIREFEED_<SECTION>__<KEY>` sets `[section] key` (e.g.
    /// `WIREFEED_KAFKA__BOOTSTRAP_SERVERS`, `WIREFEED_FEED_DEFAULTS__POLL_INTERVAL_SECS`),
    /// and `WIREFEED_LIBRDKAFKA__<PROPERTY>` sets a librdkafka property,
    /// underscores read as dots (`WIREFEED_LIBRDKAFKA__SASL_PASSWORD` →
    /// `sasl.password`). A value is read as a TOML literal when it is one
    /// (`500`, `true`, `"123"`), else as a string. Other variables are
    /// ignored. The file's own mistakes are reported with their lines
    /// first; an override that does not fit names its variable.
    pub fn parse_with_env(
        text: &str,
        path: &Path,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let overrides: Vec<(String, String)> = vars
            .into_iter()
            .filter(|(name, _)| {
                name.strip_prefix(ENV_PREFIX)
                    .is_some_and(|rest| rest.contains("__"))
            })
            .collect();
        let parsed = Self::parse(text, path)?;
        if overrides.is_empty() {
            return Ok(parsed);
        }
        let mut table: toml::Table = toml::from_str(text).map_err(|err| ConfigError::Parse {
            path: path.to_owned(),
            message: err.to_string().trim().replace('\n', " "),
        })?;
        for (name, value) in &overrides {
            apply_override(&mut table, name, value).map_err(|message| ConfigError::Invalid {
                path: path.to_owned(),
                key: name.clone(),
                message,
            })?;
        }
        let names: Vec<&str> = overrides.iter().map(|(name, _)| name.as_str()).collect();
        toml::Value::Table(table)
            .try_into()
            .map_err(|err: toml::de::Error| ConfigError::Parse {
                path: path.to_owned(),
                message: format!(
                    "{} (with environment overrides {})",
                    err.to_string().trim().replace('\n', " "),
                    names.join(", ")
                ),
            })
    }

    /// Parses `text` (read from `path`, for messages).
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|err| ConfigError::Parse {
            path: path.to_owned(),
            message: err.to_string().trim().replace('\n', " "),
        })
    }

    /// Checks every value and returns settings; relative paths resolve
    /// against `base_dir` (the config file's directory).
    pub fn validate_and_build(self, path: &Path) -> Result<Settings, ConfigError> {
        let base_dir = path.parent().unwrap_or(Path::new("."));
        let invalid = |key: &str, message: &str| ConfigError::Invalid {
            path: path.to_owned(),
            key: key.to_owned(),
            message: message.to_owned(),
        };
        let positive = |key: &str, value: usize| {
            NonZeroUsize::new(value).ok_or_else(|| invalid(key, "must be greater than 0"))
        };
        if self.kafka.topic.trim().is_empty() {
            return Err(invalid("kafka.topic", "must not be empty"));
        }
        if self.kafka.bootstrap_servers.trim().is_empty() {
            return Err(invalid("kafka.bootstrap_servers", "must not be empty"));
        }
        if !matches!(
            self.kafka.compression.as_str(),
            "none" | "gzip" | "snappy" | "lz4" | "zstd"
        ) {
            return Err(invalid(
                "kafka.compression",
                "must be none, gzip, snappy, lz4 or zstd",
            ));
        }
        if self.kafka.delivery_timeout_secs == 0 {
            return Err(invalid(
                "kafka.delivery_timeout_secs",
                "must be greater than 0",
            ));
        }
        let dead_letter_topic = self
            .kafka
            .dead_letter_topic
            .clone()
            .unwrap_or_else(|| format!("{}.dead-letter", self.kafka.topic));
        if dead_letter_topic.trim().is_empty() || dead_letter_topic == self.kafka.topic {
            return Err(invalid(
                "kafka.dead_letter_topic",
                "must be a topic name other than kafka.topic",
            ));
        }
        if self.kafka.dead_letter_max_bytes < 1024 {
            return Err(invalid(
                "kafka.dead_letter_max_bytes",
                "must be at least 1024",
            ));
        }
        if self.dedup.max_distance > wirefeed_state::MAX_INDEXED_DISTANCE {
            return Err(invalid(
                "dedup.max_distance",
                &format!(
                    "must be 0 to {} (the SimHash index finds every match within that)",
                    wirefeed_state::MAX_INDEXED_DISTANCE
                ),
            ));
        }
        let health_listen = match self.health.listen.trim() {
            "" => None,
            address => Some(address.parse::<std::net::SocketAddr>().map_err(|err| {
                invalid(
                    "health.listen",
                    &format!("{address} is not host:port (e.g. 0.0.0.0:9464): {err}"),
                )
            })?),
        };
        if let Err(err) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            return Err(invalid(
                "log.level",
                &format!(
                    "{} is not a level filter (e.g. \"info\" or \"wirefeed=debug,info\"): {err}",
                    self.log.level
                ),
            ));
        }
        if self.state.retention_days == 0 {
            return Err(invalid("state.retention_days", "must be at least 1"));
        }
        let state_topic = self
            .kafka
            .state_topic
            .clone()
            .unwrap_or_else(|| format!("{}.state", self.kafka.topic));
        if state_topic.trim().is_empty()
            || state_topic == self.kafka.topic
            || state_topic == dead_letter_topic
        {
            return Err(invalid(
                "kafka.state_topic",
                "must be a topic name other than kafka.topic and kafka.dead_letter_topic",
            ));
        }
        let transactional_id = match self.kafka.delivery {
            DeliveryMode::AtLeastOnce => None,
            DeliveryMode::ExactlyOnce => Some(
                self.kafka
                    .transactional_id
                    .clone()
                    .unwrap_or_else(|| format!("wirefeed-{}", self.kafka.topic)),
            ),
        };
        let producer = ProducerConfig {
            bootstrap_servers: self.kafka.bootstrap_servers.clone(),
            client_id: self.kafka.client_id.clone(),
            topic: self.kafka.topic.clone(),
            dead_letter_topic,
            state_topic,
            transactional_id,
            delivery_timeout: Duration::from_secs(self.kafka.delivery_timeout_secs),
            linger: Duration::from_millis(self.kafka.linger_ms),
            compression: self.kafka.compression.clone(),
            create_topic: self.kafka.create_topic,
            topic_partitions: self.kafka.topic_partitions,
            topic_replication_factor: self.kafka.topic_replication_factor,
            librdkafka: self.kafka.librdkafka.clone(),
        };
        producer
            .to_client_config()
            .map_err(|err| invalid("kafka.librdkafka", &err.to_string()))?;
        if self.http.timeout_secs == 0 || self.http.connect_timeout_secs == 0 {
            return Err(invalid(
                "http.timeout_secs",
                "timeouts must be greater than 0",
            ));
        }
        if self.http.max_body_bytes == 0 {
            return Err(invalid("http.max_body_bytes", "must be greater than 0"));
        }
        if let Some(proxy) = &self.http.proxy {
            proxy_url(proxy).map_err(|message| invalid("http.proxy", &message))?;
        }
        let mut page_allow = Vec::with_capacity(self.pages.allow_addresses.len());
        for (index, entry) in self.pages.allow_addresses.iter().enumerate() {
            page_allow.push(entry.parse::<wirefeed_sources::AddressRange>().map_err(
                |message| invalid(&format!("pages.allow_addresses[{index}]"), &message),
            )?);
        }
        let pages = PagesConfig {
            teaser_max_chars: self.pages.teaser_max_chars,
            max_concurrent: positive("pages.max_concurrent", self.pages.max_concurrent)?,
        };
        if self.http.per_host_concurrency == 0 {
            return Err(invalid(
                "http.per_host_concurrency",
                "must be greater than 0",
            ));
        }
        if !self.http.per_host_requests_per_sec.is_finite()
            || self.http.per_host_requests_per_sec < 0.0
        {
            return Err(invalid(
                "http.per_host_requests_per_sec",
                "must be 0 (no limit) or a positive number",
            ));
        }
        if self.feed_defaults.poll_interval_secs == 0 {
            return Err(invalid(
                "feed_defaults.poll_interval_secs",
                "must be greater than 0",
            ));
        }
        if !(0.0..=0.5).contains(&self.feed_defaults.jitter) {
            return Err(invalid("feed_defaults.jitter", "must be between 0 and 0.5"));
        }
        if self.feed_defaults.backoff_max_secs == 0 {
            return Err(invalid(
                "feed_defaults.backoff_max_secs",
                "must be greater than 0",
            ));
        }
        if self.feed_defaults.unhealthy_after == 0 {
            return Err(invalid(
                "feed_defaults.unhealthy_after",
                "must be greater than 0",
            ));
        }
        let mut seen: HashMap<String, FeedOrigin> = HashMap::new();
        let mut feeds = Vec::with_capacity(self.feeds.len());
        for (index, feed) in self.feeds.iter().enumerate() {
            // A feed from an included file is reported in that file, under
            // its index there, and its paths resolve against that file.
            let origin = self.feed_origin(path, index);
            let base_dir = origin.file.parent().unwrap_or(Path::new("."));
            let key = |field: &str| format!("feeds[{}].{field}", origin.index);
            let invalid = |key: &str, message: &str| ConfigError::Invalid {
                path: origin.file.clone(),
                key: key.to_owned(),
                message: message.to_owned(),
            };
            let id = feed.id.trim();
            if id.is_empty()
                || !id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                return Err(invalid(
                    &key("id"),
                    "must be non-empty letters, digits, '-', '_' or '.'",
                ));
            }
            if let Some(first) = seen.get(id) {
                return Err(invalid(&key("id"), &origin.duplicate_of(id, first)));
            }
            seen.insert(id.to_owned(), origin.clone());
            let (url, spool) = match (&feed.url, &feed.spool) {
                (Some(url), None) => (
                    feed_url(url, base_dir).map_err(|message| invalid(&key("url"), &message))?,
                    None,
                ),
                (None, Some(folder)) => {
                    let folder = resolve(base_dir, folder);
                    if !folder.is_dir() {
                        return Err(invalid(
                            &key("spool"),
                            &format!("{} is not a folder", folder.display()),
                        ));
                    }
                    let url = feed_url(&folder.display().to_string(), base_dir)
                        .map_err(|message| invalid(&key("spool"), &message))?;
                    let settle = Duration::from_secs(feed.spool_settle_secs.unwrap_or(2));
                    (url, Some(SpoolDir::new(folder, settle)))
                }
                _ => return Err(invalid(&key("url"), "give exactly one of url or spool")),
            };
            let poll_interval_secs = feed
                .poll_interval_secs
                .unwrap_or(self.feed_defaults.poll_interval_secs);
            if poll_interval_secs == 0 {
                return Err(invalid(
                    &key("poll_interval_secs"),
                    "must be greater than 0",
                ));
            }
            let language = match &feed.language {
                Some(tag) => Some(
                    wirefeed_normalize::language_code(tag)
                        .ok_or_else(|| invalid(&key("language"), "must be an ISO 639-1 code"))?,
                ),
                None => None,
            };
            let auth = match &feed.auth {
                None => None,
                Some(auth) => Some(match auth.kind {
                    AuthKind::Basic => Auth::Basic {
                        username: auth.username.clone().ok_or_else(|| {
                            invalid(&key("auth.username"), "basic auth needs a username")
                        })?,
                        password: auth
                            .password
                            .as_ref()
                            .ok_or_else(|| {
                                invalid(&key("auth.password"), "basic auth needs a password")
                            })?
                            .resolve(base_dir)
                            .map_err(|message| invalid(&key("auth.password"), &message))?,
                    },
                    AuthKind::Bearer => Auth::Bearer(
                        auth.token
                            .as_ref()
                            .ok_or_else(|| {
                                invalid(&key("auth.token"), "bearer auth needs a token")
                            })?
                            .resolve(base_dir)
                            .map_err(|message| invalid(&key("auth.token"), &message))?,
                    ),
                }),
            };
            let mut headers = Vec::with_capacity(feed.headers.len());
            for (name, source) in &feed.headers {
                let header_key = key(&format!("headers.{name}"));
                if reqwest_header_name_ok(name).is_none() {
                    return Err(invalid(&header_key, "is not a valid header name"));
                }
                let value = source
                    .resolve(base_dir)
                    .map_err(|message| invalid(&header_key, &message))?;
                headers.push((name.clone(), value));
            }
            let proxy = feed
                .proxy
                .as_deref()
                .map(|proxy| proxy_url(proxy).map_err(|message| invalid(&key("proxy"), &message)))
                .transpose()?;
            feeds.push(Feed {
                spool,
                access: Access {
                    auth,
                    headers,
                    proxy,
                },
                id: FeedId::new(id),
                url,
                provider: feed.provider.clone().unwrap_or_else(|| id.to_owned()),
                provider_configured: feed.provider.is_some(),
                poll_interval: Duration::from_secs(poll_interval_secs),
                max_items: feed
                    .max_items
                    .unwrap_or(self.feed_defaults.max_items)
                    .max(1),
                language,
                fulltext: feed.fulltext.unwrap_or(self.feed_defaults.fulltext),
            });
        }
        let workers = match self.pipeline.workers {
            0 => std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN),
            count => positive("pipeline.workers", count)?,
        };
        let cleaner = Arc::new(self.cleaning.load(base_dir)?);
        let schedule = ScheduleConfig {
            jitter: self.feed_defaults.jitter,
            backoff_max: Duration::from_secs(self.feed_defaults.backoff_max_secs),
            unhealthy_after: self.feed_defaults.unhealthy_after,
            startup_spread: Duration::from_secs(self.feed_defaults.startup_spread_secs),
            adaptive: self.feed_defaults.adaptive.then(|| {
                (
                    Duration::from_secs(self.feed_defaults.min_poll_interval_secs.max(1)),
                    Duration::from_secs(self.feed_defaults.max_poll_interval_secs.max(1)),
                )
            }),
        };
        Ok(Settings {
            schedule,
            cleaner,
            state_path: resolve(base_dir, &self.state.path),
            producer,
            max_in_flight: positive("kafka.max_in_flight", self.kafka.max_in_flight)?,
            dead_letter_max_bytes: self.kafka.dead_letter_max_bytes,
            delivery: self.kafka.delivery,
            startup_timeout: Duration::from_secs(self.kafka.startup_timeout_secs.max(1)),
            http: HttpConfig {
                page_allow,
                ..self.http.to_http_config()
            },
            pages,
            queue_capacity: positive("pipeline.queue_capacity", self.pipeline.queue_capacity)?,
            workers,
            shutdown_timeout: Duration::from_secs(self.pipeline.shutdown_timeout_secs),
            feeds,
            retention: Duration::from_secs(self.state.retention_days * 86_400),
            health_listen,
            status_page: self.health.status_page,
            per_feed_metrics: self.health.per_feed_metrics,
            dedup: self.dedup,
            fault_probe: None,
        })
    }
}

/// Environment variables that override config values start so.
const ENV_PREFIX: &str = "WIREFEED_";

/// Sets the value a `WIREFEED_…` variable names in `table`.
fn apply_override(table: &mut toml::Table, name: &str, value: &str) -> Result<(), String> {
    let rest = name.strip_prefix(ENV_PREFIX).unwrap_or(name);
    let parts: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
    let (path, key): (Vec<String>, String) = match parts.as_slice() {
        [section, property] if section == "librdkafka" => (
            vec!["kafka".to_owned(), "librdkafka".to_owned()],
            property.replace('_', "."),
        ),
        [section, key] if !section.is_empty() && !key.is_empty() => {
            (vec![section.clone()], key.clone())
        }
        _ => {
            return Err(
                "name it WIREFEED_<SECTION>__<KEY> or WIREFEED_LIBRDKAFKA__<PROPERTY>".to_owned(),
            );
        }
    };
    let literal = toml::from_str::<toml::Table>(&format!("value = {value}"))
        .ok()
        .and_then(|mut parsed| parsed.remove("value"))
        .filter(|parsed| !parsed.is_table());
    let value = match (&path[..], literal) {
        // librdkafka takes every property as a string.
        ([_, librdkafka], _) if librdkafka == "librdkafka" => toml::Value::String(value.to_owned()),
        (_, Some(literal)) => literal,
        (_, None) => toml::Value::String(value.to_owned()),
    };
    let mut section = table;
    for name in &path {
        section = section
            .entry(name.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .ok_or_else(|| format!("[{name}] is not a table"))?;
    }
    section.insert(key, value);
    Ok(())
}

impl Settings {
    /// Loads, parses and validates the config file at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        FileConfig::load(path)?.validate_and_build(path)
    }
}

fn resolve(base_dir: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_owned()
    } else {
        base_dir.join(path)
    }
}

/// Returns a proxy URL, or why it is not one.
fn proxy_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|err| format!("{value}: {err}"))?;
    match url.scheme() {
        "http" | "https" | "socks5" | "socks5h" if url.host().is_some() => Ok(url),
        _ => Err(format!("{value} is not an http(s) or socks5 proxy URL")),
    }
}

/// Some(()) when `name` is a valid HTTP header name.
fn reqwest_header_name_ok(name: &str) -> Option<()> {
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte));
    valid.then_some(())
}

/// Returns the URL of a feed given as an http(s)/file URL or a path.
pub fn feed_url(value: &str, base_dir: &Path) -> Result<Url, String> {
    let value = value.trim();
    if let Ok(url) = Url::parse(value)
        && url.scheme().len() > 1
    {
        return match url.scheme() {
            "http" | "https" if url.host().is_some() => Ok(url),
            "file" => Ok(url),
            "http" | "https" => Err(format!("{value} has no host")),
            scheme => Err(format!(
                "unsupported scheme {scheme} (use http, https or file)"
            )),
        };
    }
    let path = resolve(base_dir, Path::new(value));
    let absolute = if path.is_absolute() {
        path
    } else {
        std::env::current_dir()
            .map_err(|err| err.to_string())?
            .join(path)
    };
    Url::from_file_path(&absolute).map_err(|()| format!("{value} is not a valid path"))
}

/// Parses an included file of `[[feeds]]` tables.
pub fn parse_feed_file(text: &str, path: &Path) -> Result<Vec<FeedSection>, ConfigError> {
    toml::from_str::<FeedFile>(text)
        .map(|file| file.feeds)
        .map_err(|err| ConfigError::Parse {
            path: path.to_owned(),
            message: err.to_string().trim().replace('\n', " "),
        })
}

/// Whether `name` matches `pattern`, where `*` stands for any run of
/// characters and `?` for one.
fn wildcard_match(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, n));
                p += 1;
            }
            Some(&c) if c == '?' || c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((star_p, star_n)) => {
                    p = star_p + 1;
                    n = star_n + 1;
                    star = Some((star_p, star_n + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_set_values_and_librdkafka_properties() {
        let text = "[kafka]\ntopic = \"articles\"\nmax_in_flight = 1000\n";
        let path = Path::new("wirefeed.toml");
        let vars = [
            (
                "WIREFEED_KAFKA__BOOTSTRAP_SERVERS",
                "kafka-0.kafka:9092,kafka-1.kafka:9092",
            ),
            ("WIREFEED_KAFKA__MAX_IN_FLIGHT", "250"),
            ("WIREFEED_FEED_DEFAULTS__POLL_INTERVAL_SECS", "120"),
            ("WIREFEED_HEALTH__LISTEN", "0.0.0.0:9464"),
            ("WIREFEED_LIBRDKAFKA__SECURITY_PROTOCOL", "SASL_SSL"),
            ("WIREFEED_LIBRDKAFKA__SASL_MECHANISMS", "SCRAM-SHA-512"),
            // Not overrides: no section separator.
            ("WIREFEED_KAFKA_PORT", "19092"),
            ("HOME", "/root"),
        ]
        .map(|(name, value)| (name.to_owned(), value.to_owned()));
        let config = FileConfig::parse_with_env(text, path, vars).unwrap();
        assert_eq!(config.kafka.topic, "articles");
        assert_eq!(
            config.kafka.bootstrap_servers,
            "kafka-0.kafka:9092,kafka-1.kafka:9092"
        );
        assert_eq!(config.kafka.max_in_flight, 250);
        assert_eq!(config.feed_defaults.poll_interval_secs, 120);
        assert_eq!(config.health.listen, "0.0.0.0:9464");
        assert_eq!(
            config
                .kafka
                .librdkafka
                .get("security.protocol")
                .map(String::as_str),
            Some("SASL_SSL")
        );
        assert_eq!(
            config
                .kafka
                .librdkafka
                .get("sasl.mechanisms")
                .map(String::as_str),
            Some("SCRAM-SHA-512")
        );
    }

    #[test]
    fn a_bad_override_names_its_variable() {
        let text = "[kafka]\ntopic = \"articles\"\n";
        let path = Path::new("wirefeed.toml");
        let wrong_type = [(
            "WIREFEED_KAFKA__MAX_IN_FLIGHT".to_owned(),
            "lots".to_owned(),
        )];
        let err = FileConfig::parse_with_env(text, path, wrong_type).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("max_in_flight"), "{message}");
        assert!(
            message.contains("WIREFEED_KAFKA__MAX_IN_FLIGHT"),
            "{message}"
        );
        let unknown = [("WIREFEED_KAFKA__TOPICS".to_owned(), "x".to_owned())];
        let err = FileConfig::parse_with_env(text, path, unknown).unwrap_err();
        assert!(err.to_string().contains("topics"), "{err}");
        let shapeless = [("WIREFEED_A__B__C".to_owned(), "x".to_owned())];
        let err = FileConfig::parse_with_env(text, path, shapeless).unwrap_err();
        assert!(err.to_string().contains("WIREFEED_A__B__C"), "{err}");
    }

    const MINIMAL: &str = r#"
        [kafka]
        topic = "articles"

        [[feeds]]
        id = "ap-top"
        url = "https://wire.example/ap/top.xml"

        [[feeds]]
        id = "local"
        url = "samples/cnn.xml"
        provider = "CNN Wire"
        poll_interval_secs = 60
        language = "en-US"
    "#;

    #[test]
    fn defaults_and_relative_paths() {
        let path = Path::new("/etc/wirefeed/wirefeed.toml");
        let settings = FileConfig::parse(MINIMAL, path)
            .unwrap()
            .validate_and_build(path)
            .unwrap();
        assert_eq!(
            settings.state_path,
            PathBuf::from("/etc/wirefeed/data/wirefeed-state.redb")
        );
        assert_eq!(settings.producer.bootstrap_servers, "127.0.0.1:9092");
        assert_eq!(settings.feeds[0].provider, "ap-top");
        assert_eq!(settings.feeds[0].poll_interval, Duration::from_secs(300));
        assert_eq!(
            settings.feeds[1].url.as_str(),
            "file:///etc/wirefeed/samples/cnn.xml"
        );
        assert_eq!(settings.feeds[1].language.as_deref(), Some("en"));
        assert_eq!(settings.feeds[1].poll_interval, Duration::from_secs(60));
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let text = "[kafka]\ntopic = \"a\"\ntopik = \"b\"\n";
        let err = FileConfig::parse(text, Path::new("w.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("topik"), "{err}");
        assert!(err.contains("line 3"), "{err}");
    }

    #[test]
    fn bad_values_name_their_key() {
        let path = Path::new("w.toml");
        let duplicate =
            format!("{MINIMAL}\n[[feeds]]\nid = \"ap-top\"\nurl = \"https://x.example/\"\n");
        let err = FileConfig::parse(&duplicate, path)
            .unwrap()
            .validate_and_build(path)
            .unwrap_err();
        assert!(err.to_string().contains("feeds[2].id"), "{err}");

        let bad_scheme =
            "[kafka]\ntopic = \"a\"\n[[feeds]]\nid = \"x\"\nurl = \"ftp://wire.example/f\"\n";
        let err = FileConfig::parse(bad_scheme, path)
            .unwrap()
            .validate_and_build(path)
            .unwrap_err();
        assert!(err.to_string().contains("feeds[0].url"), "{err}");

        let conflict =
            "[kafka]\ntopic = \"a\"\n[kafka.librdkafka]\n\"enable.idempotence\" = \"false\"\n";
        let err = FileConfig::parse(conflict, path)
            .unwrap()
            .validate_and_build(path)
            .unwrap_err();
        assert!(err.to_string().contains("enable.idempotence"), "{err}");
    }

    #[test]
    fn broken_rule_pack_is_refused_with_its_location() {
        let dir = tempfile::tempdir().unwrap();
        let rules =
            wirefeed_extract::BUILTIN_RULES.replacen("kind = \"promo\"", "kind = \"promos\"", 1);
        std::fs::write(dir.path().join("rules.toml"), rules).unwrap();
        let config = "[kafka]\ntopic = \"a\"\n[cleaning]\nrules = \"rules.toml\"\n";
        let path = dir.path().join("wirefeed.toml");
        let err = FileConfig::parse(config, &path)
            .unwrap()
            .validate_and_build(&path)
            .unwrap_err();
        let message = err.to_string();
        assert!(message.contains("rules.toml"), "{message}");
        assert!(message.contains("promos"), "{message}");

        let missing = "[kafka]\ntopic = \"a\"\n[cleaning]\nrules = \"nowhere.toml\"\n";
        let err = FileConfig::parse(missing, &path)
            .unwrap()
            .validate_and_build(&path)
            .unwrap_err();
        assert!(err.to_string().contains("nowhere.toml"), "{err}");
    }

    #[test]
    fn feed_secrets_come_from_env_and_files_and_are_named_when_missing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), "file-s3cret\n").unwrap();
        // A variable name unique to this test; the test only reads it.
        let path = dir.path().join("wirefeed.toml");
        let config = "[kafka]\ntopic = \"a\"\n\
            [[feeds]]\nid = \"premium\"\nurl = \"https://wire.example/p.xml\"\n\
            proxy = \"http://proxy.example:3128\"\n\
            [feeds.auth]\ntype = \"bearer\"\ntoken = { file = \"token\" }\n\
            [feeds.headers]\nX-Api-Key = { value = \"inline-k3y\" }\n";
        let settings = FileConfig::parse(config, &path)
            .unwrap()
            .validate_and_build(&path)
            .unwrap();
        let access = &settings.feeds[0].access;
        assert_eq!(access.auth, Some(Auth::Bearer(Secret::new("file-s3cret"))));
        assert_eq!(access.headers[0].1.expose(), "inline-k3y");
        assert_eq!(
            access.proxy.as_ref().unwrap().as_str(),
            "http://proxy.example:3128/"
        );
        assert!(!format!("{settings:?}").contains("s3cret"));

        let missing = config.replace(
            "token = { file = \"token\" }",
            "token = { env = \"WIREFEED_TEST_UNSET_TOKEN_VAR\" }",
        );
        let err = FileConfig::parse(&missing, &path)
            .unwrap()
            .validate_and_build(&path)
            .unwrap_err();
        let message = err.to_string();
        assert!(message.contains("feeds[0].auth.token"), "{message}");
        assert!(
            message.contains("WIREFEED_TEST_UNSET_TOKEN_VAR"),
            "{message}"
        );

        let basic = config.replace("type = \"bearer\"", "type = \"basic\"");
        let err = FileConfig::parse(&basic, &path)
            .unwrap()
            .validate_and_build(&path)
            .unwrap_err();
        assert!(err.to_string().contains("feeds[0].auth.username"), "{err}");
    }

    #[test]
    fn bundled_config_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/wirefeed.toml");
        let settings = Settings::load(&path).unwrap();
        assert!(settings.feeds.len() >= 3);
        for feed in &settings.feeds {
            let file = feed.url.to_file_path().unwrap();
            assert!(file.exists(), "sample feed {} is missing", file.display());
        }
    }

    #[test]
    fn wildcards_match_file_names() {
        assert!(wildcard_match("*.toml", "reuters.toml"));
        assert!(wildcard_match("feeds-??.toml", "feeds-de.toml"));
        assert!(wildcard_match("*", "anything"));
        assert!(wildcard_match("a*b*c", "aXXbYYc"));
        assert!(!wildcard_match("*.toml", "reuters.toml.bak"));
        assert!(!wildcard_match("feeds-??.toml", "feeds-d.toml"));
        assert!(!wildcard_match("a*b*c", "aXXbYY"));
    }

    #[test]
    fn feeds_in_included_files_resolve_and_are_named_in_errors() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("wirefeed.toml");
        std::fs::create_dir_all(dir.path().join("feeds.d/samples")).unwrap();
        std::fs::write(
            &config,
            "[include]\nfeeds = [\"feeds.d/*.toml\", \"extra.toml\"]\n\n\
             [kafka]\ntopic = \"articles\"\n\n\
             [[feeds]]\nid = \"main\"\nurl = \"https://wire.example.com/main.rss\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("feeds.d/b-reuters.toml"),
            "[[feeds]]\nid = \"reuters-world\"\nurl = \"samples/world.xml\"\nprovider = \"Reuters\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("feeds.d/a-ap.toml"),
            "[[feeds]]\nid = \"ap-top\"\nurl = \"https://ap.example.com/top.rss\"\n\n\
             [[feeds]]\nid = \"ap-world\"\nurl = \"https://ap.example.com/world.rss\"\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("feeds.d/notes.txt"), "not a feed file").unwrap();
        std::fs::write(dir.path().join("extra.toml"), "").unwrap();

        let settings = Settings::load(&config).unwrap();
        let ids: Vec<&str> = settings.feeds.iter().map(|feed| feed.id.as_str()).collect();
        assert_eq!(ids, ["main", "ap-top", "ap-world", "reuters-world"]);
        // A relative path resolves against the file it is written in.
        assert_eq!(
            settings.feeds[3].url.to_file_path().unwrap(),
            dir.path().join("feeds.d/samples/world.xml")
        );

        // A bad value is reported in its own file, under its index there.
        let reuters = dir.path().join("feeds.d/b-reuters.toml");
        std::fs::write(
            &reuters,
            "[[feeds]]\nid = \"reuters-world\"\nurl = \"ftp://reuters.example.com/world\"\n",
        )
        .unwrap();
        match Settings::load(&config).unwrap_err() {
            ConfigError::Invalid { path, key, message } => {
                assert_eq!(path, reuters);
                assert_eq!(key, "feeds[0].url");
                assert!(message.contains("unsupported scheme ftp"), "{message}");
            }
            other => panic!("unexpected {other}"),
        }

        // The same id in two files names both.
        std::fs::write(
            &reuters,
            "[[feeds]]\nid = \"ap-world\"\nurl = \"https://reuters.example.com/world\"\n",
        )
        .unwrap();
        let err = Settings::load(&config).unwrap_err().to_string();
        assert!(err.contains("b-reuters.toml: feeds[0].id"), "{err}");
        assert!(
            err.contains("duplicate feed id ap-world (also feeds[1] in"),
            "{err}"
        );
        assert!(err.contains("a-ap.toml"), "{err}");

        // Other sections do not belong in a file of feeds.
        std::fs::write(&reuters, "[kafka]\ntopic = \"other\"\n").unwrap();
        let err = Settings::load(&config).unwrap_err().to_string();
        assert!(err.contains("b-reuters.toml"), "{err}");
        assert!(err.contains("unknown field `kafka`"), "{err}");

        // A plain path must exist; a pattern may match nothing.
        std::fs::remove_file(dir.path().join("extra.toml")).unwrap();
        std::fs::remove_file(&reuters).unwrap();
        match Settings::load(&config).unwrap_err() {
            ConfigError::Invalid { key, message, .. } => {
                assert_eq!(key, "include.feeds[1]");
                assert!(message.contains("extra.toml is not a file"), "{message}");
            }
            other => panic!("unexpected {other}"),
        }
        std::fs::write(
            &config,
            "[include]\nfeeds = [\"nowhere/*.toml\"]\n\n[kafka]\ntopic = \"articles\"\n",
        )
        .unwrap();
        match Settings::load(&config) {
            Err(ConfigError::Invalid { key, .. }) => assert_eq!(key, "include.feeds[0]"),
            other => panic!("a folder that does not exist is an error: {other:?}"),
        }
        std::fs::create_dir(dir.path().join("nowhere")).unwrap();
        assert!(Settings::load(&config).unwrap().feeds.is_empty());
    }

    #[test]
    fn log_settings_are_checked() {
        let path = Path::new("w.toml");
        let text = "[kafka]\ntopic = \"a\"\n[log]\nformat = \"xml\"\n";
        let err = FileConfig::parse(text, path).unwrap_err().to_string();
        assert!(err.contains("line 4"), "{err}");
        assert!(
            err.contains("unknown variant `xml`, expected one of `auto`, `json`, `pretty`"),
            "{err}"
        );
    }
}
