//! Fetching feed documents: HTTP(S) with conditional GET, timeouts, a
//! redirect limit and a body-size limit checked while streaming, and local
//! files (`file://`).
//!
//! This crate returns bytes and never parses them. Every error names the
//! feed and the URL and says what went wrong, with a bounded
//! [`FetchError::error_type`] for metrics.

#![deny(missing_docs)]

mod guard;
mod hosts;
mod spool;

pub use guard::{AddressGuard, AddressRange, ForbiddenAddress, GuardedResolver, forbidden_reason};
pub use hosts::{HostGates, HostLimits, HostPass};
pub use spool::SpoolDir;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT, CACHE_CONTROL, ETAG, EXPIRES, HeaderMap, HeaderValue, IF_MODIFIED_SINCE, IF_NONE_MATCH,
    LAST_MODIFIED, LOCATION, RETRY_AFTER,
};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;
use url::Url;
use wirefeed_model::FeedId;

/// The `Accept` header sent with article page requests.
const PAGE_ACCEPT: &str = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5";

/// The `Accept` header sent with feed requests: feeds first, anything else
/// accepted so that a server with odd content types still answers.
const FEED_ACCEPT: &str = "application/rss+xml, application/atom+xml, application/feed+json, \
                           application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5";

/// HTTP client settings shared by all feeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    /// The `User-Agent` header.
    pub user_agent: String,
    /// Time allowed to establish a connection.
    pub connect_timeout: Duration,
    /// Time allowed for a whole request, body included.
    pub timeout: Duration,
    /// Largest body accepted, after decompression.
    pub max_body_bytes: u64,
    /// Redirects followed before giving up.
    pub max_redirects: usize,
    /// Per-host concurrency and request spacing.
    pub host_limits: HostLimits,
    /// Fetches in flight at once over all hosts: with `max_body_bytes`,
    /// this bounds the memory bodies can take.
    pub max_concurrent: usize,
    /// Proxy for all feeds (a feed's own proxy wins). Unset: the
    /// `HTTP_PROXY` / `HTTPS_PROXY` / `NO_PROXY` environment variables.
    pub proxy: Option<Url>,
    /// Internal addresses article page fetches may reach anyway (public
    /// addresses always may).
    pub page_allow: Vec<AddressRange>,
}

/// A secret (token, password, header value): usable, but never shown by
/// `Debug` or `Display`, so it cannot leak into a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// Returns the value, for the request that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How a feed authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// HTTP basic authentication.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: Secret,
    },
    /// A bearer token.
    Bearer(Secret),
}

/// Per-feed access settings: credentials, extra headers, a proxy.
///
/// Credentials and headers go only to the feed's own origin; a redirect to
/// another host does not carry them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    /// Authentication, if the feed needs it.
    pub auth: Option<Auth>,
    /// Extra request headers (API keys and the like).
    pub headers: Vec<(String, Secret)>,
    /// A proxy for this feed, instead of the global one.
    pub proxy: Option<Url>,
}

/// The validators a server gave for the last copy we processed, sent back
/// as a conditional GET so an unchanged feed costs a `304`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Validators {
    /// The `ETag` header.
    pub etag: Option<String>,
    /// The `Last-Modified` header (for files: modification time and size).
    pub last_modified: Option<String>,
}

impl Validators {
    /// Returns true when there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// A fetched document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The body, decompressed.
    pub bytes: Vec<u8>,
    /// The validators to store once the document's items are published.
    pub validators: Validators,
    /// The URL the body came from after redirects.
    pub final_url: Url,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// How long the server says the document stays fresh
    /// (`Cache-Control: max-age`, else `Expires`): the next poll waits at
    /// least this long.
    pub fresh_for: Option<Duration>,
    /// Where the feed moved for good (every redirect on the way was a 301 or
    /// 308): later polls should go there directly.
    pub moved_to: Option<Url>,
}

/// What a fetch found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchOutcome {
    /// A new copy of the document.
    Fetched(Document),
    /// The document is unchanged since the validators were issued.
    NotModified {
        /// How long the server says it stays fresh.
        fresh_for: Option<Duration>,
        /// Where the feed moved for good, as for [`Document::moved_to`].
        moved_to: Option<Url>,
    },
}

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// DNS, connect or TLS failure.
    #[error("failed to fetch feed {feed_id} ({url}): cannot connect: {source}")]
    Connect {
        /// The feed.
        feed_id: FeedId,
        /// The URL requested.
        url: Url,
        /// The client error.
        #[source]
        source: reqwest::Error,
    },
    /// The request took longer than the configured timeout.
    #[error("failed to fetch feed {feed_id} ({url}): timed out after {timeout:?}")]
    Timeout {
        /// The feed.
        feed_id: FeedId,
        /// The URL requested.
        url: Url,
        /// The timeout.
        timeout: Duration,
    },
    /// Too many redirects.
    #[error("failed to fetch feed {feed_id} ({url}): more than {limit} redirects")]
    Redirects {
        /// The feed.
        feed_id: FeedId,
        /// The URL requested.
        url: Url,
        /// The limit.
        limit: usize,
    },
    /// The server answered with an error status.
    #[error("failed to fetch feed {feed_id} ({url}): HTTP {status}")]
    Status {
        /// The feed.
        feed_id: FeedId,
        /// The URL requested.
        url: Url,
        /// The status.
        status: u16,
        /// `Retry-After` (on 429 and 503): the next poll waits at least this
        /// long.
        retry_after: Option<Duration>,
    },
    /// The body is larger than allowed.
    #[error("failed to fetch feed {feed_id} ({url}): body larger than {limit} bytes")]
    TooLarge {
        /// The feed.
        feed_id: FeedId,
        /// The URL requested.
        url: Url,
        /// The limit.
        limit: u64,
    },
    /// The connection broke while reading the body, or another HTTP error.
    #[error("failed to fetch feed {feed_id} ({url}): {source}")]
    Http {
        /// The feed.
        feed_id: FeedId,
        /// The URL requested.
        url: Url,
        /// The client error.
        #[source]
        source: reqwest::Error,
    },
    /// A local file could not be read.
    #[error("failed to read feed {feed_id} ({path}): {source}", path = path.display())]
    File {
        /// The feed.
        feed_id: FeedId,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The URL's scheme is not one we fetch.
    #[error("failed to fetch feed {feed_id} ({url}): unsupported URL scheme")]
    Scheme {
        /// The feed.
        feed_id: FeedId,
        /// The URL.
        url: Url,
    },
    /// An article page's address (or a redirect's) is internal and not on
    /// the allowlist.
    #[error("refused to fetch page for feed {feed_id} ({url}): {source}")]
    Forbidden {
        /// The feed.
        feed_id: FeedId,
        /// The URL requested.
        url: Url,
        /// The address refused.
        #[source]
        source: ForbiddenAddress,
    },
}

impl FetchError {
    /// Returns the bounded metric label for this error.
    pub fn error_type(&self) -> &'static str {
        match self {
            FetchError::Connect { .. } => "connect",
            FetchError::Timeout { .. } => "timeout",
            FetchError::Redirects { .. } => "redirects",
            FetchError::Status { .. } => "http_status",
            FetchError::TooLarge { .. } => "too_large",
            FetchError::Http { .. } => "http",
            FetchError::File { .. } => "file",
            FetchError::Scheme { .. } => "scheme",
            FetchError::Forbidden { .. } => "forbidden_address",
        }
    }

    /// How long the server asked us to wait before trying again, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// What an HTTP request was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// A feed document (or agency document) poll.
    Feed,
    /// An article page fetched for its full text.
    Page,
}

impl RequestKind {
    /// Returns the bounded label for metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Feed => "feed",
            RequestKind::Page => "page",
        }
    }
}

/// Told of every HTTP exchange a [`Fetcher`] makes: each response
/// (every hop of a redirect chain, a `304` as much as a `200`) and each
/// request that got none. The binary counts them in its metrics; this
/// crate keeps no metrics of its own.
pub trait HttpObserver: Send + Sync {
    /// A response arrived with `status`.
    fn response(&self, kind: RequestKind, status: u16);
    /// A request got no response (connect error, timeout, refused
    /// address, …); `error_type` is [`FetchError::error_type`].
    fn no_response(&self, kind: RequestKind, error_type: &'static str);
}

/// Why the client could not be built.
#[derive(Debug, thiserror::Error)]
#[error("failed to build the HTTP client: {0}")]
pub struct ClientError(#[source] reqwest::Error);

/// Fetches feed documents over HTTP(S) and from local files.
///
/// Cheap to clone; clones share one connection pool.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    config: HttpConfig,
    hosts: Arc<HostGates>,
    /// Clients for feeds with a proxy of their own, by proxy URL.
    proxied: Arc<Mutex<HashMap<String, reqwest::Client>>>,
    /// Fetches in flight, over all hosts.
    in_flight: Arc<tokio::sync::Semaphore>,
    /// The client for article pages: names resolve through the guard.
    page_client: reqwest::Client,
    guard: Arc<AddressGuard>,
    observer: Option<Arc<dyn HttpObserver>>,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher")
            .field("config", &self.config)
            .field("observed", &self.observer.is_some())
            .finish_non_exhaustive()
    }
}

impl Fetcher {
    /// Returns a fetcher with `config`.
    pub fn new(config: HttpConfig) -> Result<Self, ClientError> {
        let client = build_client(&config, config.proxy.as_ref())?;
        let guard = Arc::new(AddressGuard::new(config.page_allow.clone()));
        let page_client = build_page_client(&config, guard.clone())?;
        Ok(Self {
            client,
            page_client,
            guard,
            hosts: Arc::new(HostGates::new(config.host_limits)),
            proxied: Arc::new(Mutex::new(HashMap::new())),
            in_flight: Arc::new(tokio::sync::Semaphore::new(config.max_concurrent.max(1))),
            config,
            observer: None,
        })
    }

    /// Returns this fetcher reporting every HTTP exchange to `observer`.
    #[must_use]
    pub fn with_observer(mut self, observer: Arc<dyn HttpObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    fn observe(&self, page: bool, result: Result<u16, &FetchError>) {
        let Some(observer) = &self.observer else {
            return;
        };
        let kind = if page {
            RequestKind::Page
        } else {
            RequestKind::Feed
        };
        match result {
            Ok(status) => observer.response(kind, status),
            Err(err) => observer.no_response(kind, err.error_type()),
        }
    }

    /// The client for a feed: the shared one, or one through its proxy.
    fn client_for(&self, access: &Access) -> Result<reqwest::Client, ClientError> {
        let Some(proxy) = &access.proxy else {
            return Ok(self.client.clone());
        };
        let mut proxied = self.proxied.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(client) = proxied.get(proxy.as_str()) {
            return Ok(client.clone());
        }
        let client = build_client(&self.config, Some(proxy))?;
        proxied.insert(proxy.to_string(), client.clone());
        Ok(client)
    }

    /// Fetches `url` for `feed_id`, conditionally when `validators` are
    /// given.
    pub async fn fetch(
        &self,
        feed_id: &FeedId,
        url: &Url,
        validators: &Validators,
    ) -> Result<FetchOutcome, FetchError> {
        self.fetch_with(feed_id, url, validators, &Access::default())
            .await
    }

    /// Fetches `url` for `feed_id` with the feed's own access settings.
    pub async fn fetch_with(
        &self,
        feed_id: &FeedId,
        url: &Url,
        validators: &Validators,
        access: &Access,
    ) -> Result<FetchOutcome, FetchError> {
        match url.scheme() {
            "http" | "https" => self.fetch_http(feed_id, url, validators, access).await,
            "file" => self.fetch_file(feed_id, url, validators).await,
            _ => Err(FetchError::Scheme {
                feed_id: feed_id.clone(),
                url: url.clone(),
            }),
        }
    }

    /// Fetches an article page linked from an item of `feed_id`.
    ///
    /// Shares the feeds' host limits, fetch slots, timeout, redirect and
    /// size limits. Only HTTP(S); the address of the page and of every
    /// redirect must pass the [`AddressGuard`].
    pub async fn fetch_page(&self, feed_id: &FeedId, url: &Url) -> Result<Document, FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::Scheme {
                feed_id: feed_id.clone(),
                url: url.clone(),
            });
        }
        let outcome = self
            .fetch_gated(
                feed_id,
                url,
                &Validators::default(),
                &Access::default(),
                true,
            )
            .await?;
        match outcome {
            FetchOutcome::Fetched(document) => Ok(document),
            // No validators were sent, so a 304 is a server fault.
            FetchOutcome::NotModified { .. } => Err(FetchError::Status {
                feed_id: feed_id.clone(),
                url: url.clone(),
                status: 304,
                retry_after: None,
            }),
        }
    }

    /// Checks a URL whose host is a literal IP address against the guard
    /// (names are checked when they resolve).
    fn check_literal(&self, feed_id: &FeedId, url: &Url) -> Result<(), FetchError> {
        let ip = match url.host() {
            Some(url::Host::Ipv4(ip)) => std::net::IpAddr::V4(ip),
            Some(url::Host::Ipv6(ip)) => std::net::IpAddr::V6(ip),
            _ => return Ok(()),
        };
        self.guard
            .check(&ip.to_string(), ip)
            .map_err(|source| FetchError::Forbidden {
                feed_id: feed_id.clone(),
                url: url.clone(),
                source,
            })
    }

    async fn fetch_http(
        &self,
        feed_id: &FeedId,
        url: &Url,
        validators: &Validators,
        access: &Access,
    ) -> Result<FetchOutcome, FetchError> {
        self.fetch_gated(feed_id, url, validators, access, false)
            .await
    }

    async fn fetch_gated(
        &self,
        feed_id: &FeedId,
        url: &Url,
        validators: &Validators,
        access: &Access,
        page: bool,
    ) -> Result<FetchOutcome, FetchError> {
        // Waiting for the host's turn is not part of the timeout: the feed
        // is not slow, its host is busy with our other feeds.
        let host = format!(
            "{}:{}",
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or(0)
        );
        let _pass = self.hosts.enter(&host).await;
        let _slot = self
            .in_flight
            .acquire()
            .await
            .expect("the fetch semaphore is never closed");
        // The client's timeout applies per request; this one bounds the
        // whole redirect chain and body.
        let chain = self.fetch_chain(feed_id, url, validators, access, page);
        match tokio::time::timeout(self.config.timeout, chain).await {
            Ok(result) => result,
            Err(_elapsed) => {
                let err = FetchError::Timeout {
                    feed_id: feed_id.clone(),
                    url: url.clone(),
                    timeout: self.config.timeout,
                };
                self.observe(page, Err(&err));
                Err(err)
            }
        }
    }

    async fn fetch_chain(
        &self,
        feed_id: &FeedId,
        url: &Url,
        validators: &Validators,
        access: &Access,
        page: bool,
    ) -> Result<FetchOutcome, FetchError> {
        let classify = |source: reqwest::Error| self.classify(feed_id, url, source);
        let client = if page {
            self.page_client.clone()
        } else {
            self.client_for(access).map_err(|err| FetchError::Http {
                feed_id: feed_id.clone(),
                url: url.clone(),
                source: err.0,
            })?
        };
        let redirects_error = || FetchError::Redirects {
            feed_id: feed_id.clone(),
            url: url.clone(),
            limit: self.config.max_redirects,
        };
        let mut current = url.clone();
        let mut visited = vec![url.clone()];
        let mut moved_to: Option<Url> = None;
        let mut all_permanent = true;
        let response = loop {
            if page && let Err(err) = self.check_literal(feed_id, &current) {
                self.observe(page, Err(&err));
                return Err(err);
            }
            let mut request = client.get(current.clone());
            if current.origin() == url.origin() {
                request = match &access.auth {
                    Some(Auth::Basic { username, password }) => {
                        request.basic_auth(username, Some(password.expose()))
                    }
                    Some(Auth::Bearer(token)) => request.bearer_auth(token.expose()),
                    None => request,
                };
                for (name, value) in &access.headers {
                    request = request.header(name.as_str(), value.expose());
                }
            }
            if let Some(etag) = &validators.etag {
                request = request.header(IF_NONE_MATCH, etag);
            }
            if let Some(last_modified) = &validators.last_modified {
                request = request.header(IF_MODIFIED_SINCE, last_modified);
            }
            let response = match request.send().await {
                Ok(response) => response,
                Err(source) => {
                    let err = classify(source);
                    self.observe(page, Err(&err));
                    return Err(err);
                }
            };
            let status = response.status();
            self.observe(page, Ok(status.as_u16()));
            if !status.is_redirection() || status == StatusCode::NOT_MODIFIED {
                break response;
            }
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|value| value.to_str().ok())
                .and_then(|location| current.join(location).ok());
            let Some(location) = location else {
                return Err(FetchError::Status {
                    feed_id: feed_id.clone(),
                    url: url.clone(),
                    status: status.as_u16(),
                    retry_after: None,
                });
            };
            if visited.len() > self.config.max_redirects || visited.contains(&location) {
                return Err(redirects_error());
            }
            let permanent = matches!(
                status,
                StatusCode::MOVED_PERMANENTLY | StatusCode::PERMANENT_REDIRECT
            );
            all_permanent &= permanent;
            if all_permanent {
                moved_to = Some(location.clone());
            }
            visited.push(location.clone());
            current = location;
        };
        let status = response.status();
        let now = SystemTime::now();
        let fresh_for = freshness(response.headers(), now);
        if status == StatusCode::NOT_MODIFIED {
            return Ok(FetchOutcome::NotModified {
                fresh_for,
                moved_to,
            });
        }
        if !status.is_success() {
            let retry_after = match status {
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => response
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| parse_delay(value, now)),
                _ => None,
            };
            return Err(FetchError::Status {
                feed_id: feed_id.clone(),
                url: url.clone(),
                status: status.as_u16(),
                retry_after,
            });
        }
        let too_large = || FetchError::TooLarge {
            feed_id: feed_id.clone(),
            url: url.clone(),
            limit: self.config.max_body_bytes,
        };
        if response
            .content_length()
            .is_some_and(|len| len > self.config.max_body_bytes)
        {
            return Err(too_large());
        }
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|value: &HeaderValue| value.to_str().ok())
                .map(str::to_owned)
        };
        let new_validators = Validators {
            etag: header(ETAG),
            last_modified: header(LAST_MODIFIED),
        };
        let content_type = header(reqwest::header::CONTENT_TYPE);
        let final_url = response.url().clone();
        // The length is checked on the decompressed stream, chunk by chunk,
        // so a small compressed body that inflates without bound is cut off
        // as soon as it passes the limit.
        let mut bytes = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(classify)?;
            if bytes.len() as u64 + chunk.len() as u64 > self.config.max_body_bytes {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(FetchOutcome::Fetched(Document {
            bytes,
            validators: new_validators,
            final_url,
            content_type,
            fresh_for,
            moved_to,
        }))
    }

    async fn fetch_file(
        &self,
        feed_id: &FeedId,
        url: &Url,
        validators: &Validators,
    ) -> Result<FetchOutcome, FetchError> {
        let Ok(path) = url.to_file_path() else {
            return Err(FetchError::Scheme {
                feed_id: feed_id.clone(),
                url: url.clone(),
            });
        };
        let file_error = |source| FetchError::File {
            feed_id: feed_id.clone(),
            path: path.clone(),
            source,
        };
        let file = tokio::fs::File::open(&path).await.map_err(file_error)?;
        let metadata = file.metadata().await.map_err(file_error)?;
        let modified = metadata
            .modified()
            .ok()
            .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
            .map(|since| {
                format!(
                    "mtime={}.{:09};len={}",
                    since.as_secs(),
                    since.subsec_nanos(),
                    metadata.len()
                )
            });
        if modified.is_some() && modified == validators.last_modified {
            return Ok(FetchOutcome::NotModified {
                fresh_for: None,
                moved_to: None,
            });
        }
        if metadata.len() > self.config.max_body_bytes {
            return Err(FetchError::TooLarge {
                feed_id: feed_id.clone(),
                url: url.clone(),
                limit: self.config.max_body_bytes,
            });
        }
        let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
        // `take` bounds the read even if the file grows while we read it.
        file.take(self.config.max_body_bytes + 1)
            .read_to_end(&mut bytes)
            .await
            .map_err(file_error)?;
        if bytes.len() as u64 > self.config.max_body_bytes {
            return Err(FetchError::TooLarge {
                feed_id: feed_id.clone(),
                url: url.clone(),
                limit: self.config.max_body_bytes,
            });
        }
        Ok(FetchOutcome::Fetched(Document {
            bytes,
            validators: Validators {
                etag: None,
                last_modified: modified,
            },
            final_url: url.clone(),
            content_type: None,
            fresh_for: None,
            moved_to: None,
        }))
    }

    fn classify(&self, feed_id: &FeedId, url: &Url, source: reqwest::Error) -> FetchError {
        let feed_id = feed_id.clone();
        let url = url.clone();
        if let Some(forbidden) = guard::find_forbidden(&source) {
            FetchError::Forbidden {
                feed_id,
                url,
                source: forbidden,
            }
        } else if source.is_timeout() {
            FetchError::Timeout {
                feed_id,
                url,
                timeout: self.config.timeout,
            }
        } else if source.is_redirect() {
            FetchError::Redirects {
                feed_id,
                url,
                limit: self.config.max_redirects,
            }
        } else if source.is_connect() {
            FetchError::Connect {
                feed_id,
                url,
                source,
            }
        } else {
            FetchError::Http {
                feed_id,
                url,
                source,
            }
        }
    }
}

fn build_client(config: &HttpConfig, proxy: Option<&Url>) -> Result<reqwest::Client, ClientError> {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static(FEED_ACCEPT));
    let mut builder = reqwest::Client::builder()
        .user_agent(config.user_agent.clone())
        .default_headers(headers)
        .connect_timeout(config.connect_timeout)
        .timeout(config.timeout)
        // Redirects are followed by hand: permanent ones are reported so
        // the feed's URL can be updated, and loops are told apart.
        .redirect(reqwest::redirect::Policy::none())
        .gzip(true)
        .brotli(true)
        .deflate(true);
    if let Some(proxy) = proxy {
        builder = builder.proxy(reqwest::Proxy::all(proxy.as_str()).map_err(ClientError)?);
    }
    builder.build().map_err(ClientError)
}

/// The client for article pages: no proxy from the environment unless
/// configured (a proxy would resolve names out of the guard's sight), names
/// resolved through the guard, HTML accepted.
fn build_page_client(
    config: &HttpConfig,
    guard: Arc<AddressGuard>,
) -> Result<reqwest::Client, ClientError> {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static(PAGE_ACCEPT));
    reqwest::Client::builder()
        .user_agent(config.user_agent.clone())
        .default_headers(headers)
        .connect_timeout(config.connect_timeout)
        .timeout(config.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(GuardedResolver::new(guard)))
        .gzip(true)
        .brotli(true)
        .deflate(true)
        .build()
        .map_err(ClientError)
}

/// Longest wait a server can ask for; a larger value is taken as this.
const MAX_SERVER_DELAY: Duration = Duration::from_secs(24 * 60 * 60);

/// Reads `Cache-Control: max-age` (preferred) or `Expires`.
fn freshness(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let cache_control = headers
        .get(CACHE_CONTROL)
        .and_then(|value| value.to_str().ok());
    if let Some(cache_control) = cache_control {
        let directives: Vec<String> = cache_control
            .split(',')
            .map(|part| part.trim().to_ascii_lowercase())
            .collect();
        if directives
            .iter()
            .any(|directive| directive == "no-cache" || directive == "no-store")
        {
            return None;
        }
        let max_age = directives
            .iter()
            .find_map(|directive| directive.strip_prefix("max-age="))
            .and_then(|seconds| seconds.trim_matches('"').parse::<u64>().ok());
        if let Some(seconds) = max_age {
            return Some(Duration::from_secs(seconds).min(MAX_SERVER_DELAY));
        }
    }
    headers
        .get(EXPIRES)
        .and_then(|value| value.to_str().ok())
        .and_then(parse_http_date)
        .and_then(|expires| expires.duration_since(now).ok())
        .map(|delay| delay.min(MAX_SERVER_DELAY))
}

/// Reads a `Retry-After` value: seconds, or an HTTP date.
pub fn parse_delay(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds).min(MAX_SERVER_DELAY));
    }
    let at = parse_http_date(value)?;
    Some(
        at.duration_since(now)
            .unwrap_or(Duration::ZERO)
            .min(MAX_SERVER_DELAY),
    )
}

/// Parses an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), the HTTP date
/// format, which RFC 2822 parsing accepts.
fn parse_http_date(value: &str) -> Option<SystemTime> {
    let parsed = chrono::DateTime::parse_from_rfc2822(value.trim()).ok()?;
    let seconds = u64::try_from(parsed.timestamp()).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn config(max_body_bytes: u64) -> HttpConfig {
        HttpConfig {
            user_agent: "wirefeed-test".to_owned(),
            connect_timeout: Duration::from_secs(2),
            timeout: Duration::from_secs(5),
            max_body_bytes,
            max_redirects: 3,
            host_limits: HostLimits {
                concurrency: 2,
                spacing: Duration::ZERO,
            },
            proxy: None,
            page_allow: Vec::new(),
            max_concurrent: 8,
        }
    }

    #[tokio::test]
    async fn file_fetch_is_conditional_on_mtime_and_size() {
        let dir = std::env::temp_dir().join(format!("wirefeed-sources-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("feed.xml");
        std::fs::File::create(&path)
            .unwrap()
            .write_all(b"<rss/>")
            .unwrap();
        let url = Url::from_file_path(&path).unwrap();
        let fetcher = Fetcher::new(config(1024)).unwrap();
        let feed = FeedId::new("local");

        let FetchOutcome::Fetched(doc) = fetcher
            .fetch(&feed, &url, &Validators::default())
            .await
            .unwrap()
        else {
            panic!("first fetch must return the document");
        };
        assert_eq!(doc.bytes, b"<rss/>");
        let again = fetcher.fetch(&feed, &url, &doc.validators).await.unwrap();
        assert_eq!(
            again,
            FetchOutcome::NotModified {
                fresh_for: None,
                moved_to: None
            }
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn oversized_file_and_missing_file_are_named_errors() {
        let dir = std::env::temp_dir().join(format!("wirefeed-sources-big-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("big.xml");
        std::fs::write(&path, vec![b'x'; 2048]).unwrap();
        let fetcher = Fetcher::new(config(1024)).unwrap();
        let feed = FeedId::new("big-feed");
        let url = Url::from_file_path(&path).unwrap();
        let err = fetcher
            .fetch(&feed, &url, &Validators::default())
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "too_large");
        assert!(err.to_string().contains("big-feed"));

        let missing = Url::from_file_path(dir.join("missing.xml")).unwrap();
        let err = fetcher
            .fetch(&feed, &missing, &Validators::default())
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "file");
        assert!(err.to_string().contains("missing.xml"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn unsupported_scheme_is_refused() {
        let fetcher = Fetcher::new(config(1024)).unwrap();
        let url = Url::parse("ftp://wire.example/feed.xml").unwrap();
        let err = fetcher
            .fetch(&FeedId::new("ftp"), &url, &Validators::default())
            .await
            .unwrap_err();
        assert_eq!(err.error_type(), "scheme");
    }

    #[test]
    fn server_delays_are_read_from_headers() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(parse_delay("120", now), Some(Duration::from_secs(120)));
        assert_eq!(
            parse_delay("Sun, 06 Nov 1994 08:51:37 GMT", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_delay("Sun, 06 Nov 1994 08:40:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_delay("soon", now), None);
        assert_eq!(parse_delay("99999999", now), Some(MAX_SERVER_DELAY));

        let mut headers = HeaderMap::new();
        headers.insert(
            CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=900"),
        );
        headers.insert(
            EXPIRES,
            HeaderValue::from_static("Sun, 06 Nov 1994 09:49:37 GMT"),
        );
        assert_eq!(freshness(&headers, now), Some(Duration::from_secs(900)));
        headers.remove(CACHE_CONTROL);
        assert_eq!(freshness(&headers, now), Some(Duration::from_secs(3600)));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        assert_eq!(freshness(&headers, now), None);
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let access = Access {
            auth: Some(Auth::Bearer(Secret::new("s3cret-token"))),
            headers: vec![("X-Api-Key".to_owned(), Secret::new("k3y"))],
            proxy: None,
        };
        let shown = format!("{access:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("k3y"),
            "{shown}"
        );
    }
}
