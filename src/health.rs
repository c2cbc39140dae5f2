//! The health listener: one small HTTP/1.1 listener for probes and scrapes.
//!
//! - `GET /healthz`: 200 while the process serves requests (alive).
//! - `GET /readyz`: 200 when the state store is open, a Kafka broker
//!   answers and no shutdown is under way; 503 with the reasons otherwise.
//!   An orchestrator stops routing to (or restarting on) a daemon that is
//!   not ready; a daemon waiting out a broker outage is alive but not
//!   ready.
//! - `GET /metrics`: every metric in the Prometheus text format.
//! - `GET /` (or `/status`): the read-only status page (see
//!   [`crate::status`]), unless `[health] status_page` turns it off; its
//!   stylesheet and optional script at `/status.css` and `/status.js`.
//!
//! Requests are tiny and answered at once (`Connection: close`); a client
//! that sends nothing within five seconds, or a request head over 8 KiB, is
//! dropped.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::metrics;
use crate::status::StatusBoard;

/// What readiness is made of.
#[derive(Debug, Default)]
pub struct Health {
    state_open: AtomicBool,
    kafka_up: AtomicBool,
    stopping: AtomicBool,
}

impl Health {
    /// Records that the state store is open.
    pub fn set_state_open(&self, open: bool) {
        self.state_open.store(open, Ordering::Relaxed);
    }

    /// Records whether a broker answers.
    pub fn set_kafka_up(&self, up: bool) {
        self.kafka_up.store(up, Ordering::Relaxed);
    }

    /// Whether a broker answered last time it was asked.
    pub fn kafka_up(&self) -> bool {
        self.kafka_up.load(Ordering::Relaxed)
    }

    /// Records that a shutdown began.
    pub fn set_stopping(&self) {
        self.stopping.store(true, Ordering::Relaxed);
    }

    /// Whether the daemon is ready, and if not, why.
    pub fn readiness(&self) -> Result<(), Vec<&'static str>> {
        let mut reasons = Vec::new();
        if !self.state_open.load(Ordering::Relaxed) {
            reasons.push("state store not open");
        }
        if !self.kafka_up.load(Ordering::Relaxed) {
            reasons.push("kafka unreachable");
        }
        if self.stopping.load(Ordering::Relaxed) {
            reasons.push("shutting down");
        }
        if reasons.is_empty() {
            Ok(())
        } else {
            Err(reasons)
        }
    }
}

static METRICS: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the Prometheus recorder for this process (once; later calls
/// do nothing) and keeps its histograms up to date.
pub fn install_metrics() {
    if METRICS.get().is_some() {
        return;
    }
    let seconds = [
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
    ];
    let bytes = [
        1_024.0,
        4_096.0,
        16_384.0,
        65_536.0,
        262_144.0,
        1_048_576.0,
        4_194_304.0,
    ];
    let builder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(metrics::KAFKA_DELIVERY_DURATION_SECONDS.to_owned()),
            &seconds,
        )
        .and_then(|builder| {
            builder.set_buckets_for_metric(
                Matcher::Full(metrics::RECORD_SIZE_BYTES.to_owned()),
                &bytes,
            )
        });
    match builder.and_then(PrometheusBuilder::install_recorder) {
        Ok(handle) => {
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("metrics-upkeep".to_owned())
                .spawn(move || {
                    loop {
                        std::thread::sleep(Duration::from_secs(5));
                        upkeep.run_upkeep();
                    }
                })
                .ok();
            let _ = METRICS.set(handle);
        }
        Err(err) => warn!(error = %err, "metrics recorder not installed; /metrics stays empty"),
    }
}

/// Binds the listener; the error names the address.
pub async fn bind(address: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(address).await.map_err(|err| {
        std::io::Error::new(
            err.kind(),
            format!("cannot listen on {address} for health and metrics: {err}"),
        )
    })
}

/// Serves probes, scrapes and the status page (when `status` is given)
/// until `stop` is cancelled.
pub async fn serve(
    listener: TcpListener,
    health: Arc<Health>,
    status: Option<Arc<StatusBoard>>,
    stop: CancellationToken,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stop.cancelled() => return,
        };
        match accepted {
            Ok((stream, _)) => {
                let health = health.clone();
                let status = status.clone();
                tokio::spawn(async move {
                    if let Err(err) = answer(stream, &health, status.as_deref()).await {
                        debug!(error = %err, "health request dropped");
                    }
                });
            }
            Err(err) => {
                warn!(error = %err, "health listener cannot accept");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Largest request head read.
const MAX_HEAD: usize = 8 * 1024;

/// The page's policy: its own stylesheet and script, nothing else.
const PAGE_POLICY: &str = "default-src 'none'; style-src 'self'; script-src 'self'; \
                           base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

async fn answer(
    mut stream: TcpStream,
    health: &Health,
    status: Option<&StatusBoard>,
) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(512);
    let mut buffer = [0u8; 1024];
    let read = async {
        while !head.windows(4).any(|window| window == b"\r\n\r\n") {
            let count = stream.read(&mut buffer).await?;
            if count == 0 || head.len() + count > MAX_HEAD {
                return Err(std::io::Error::other("incomplete or oversized request"));
            }
            head.extend_from_slice(&buffer[..count]);
        }
        Ok(())
    };
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .map_err(|_| std::io::Error::other("request timed out"))??;
    let line = String::from_utf8_lossy(&head);
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default();
    let path = parts.next().unwrap_or("/").split('?').next().unwrap_or("/");
    let text = "text/plain; charset=utf-8";
    let (code, content_type, body) = match (method, path, status) {
        ("GET" | "HEAD", "/healthz", _) => (200, text, "ok\n".to_owned()),
        ("GET" | "HEAD", "/readyz", _) => match health.readiness() {
            Ok(()) => (200, text, "ready\n".to_owned()),
            Err(reasons) => (503, text, format!("not ready: {}\n", reasons.join(", "))),
        },
        ("GET" | "HEAD", "/metrics", _) => (
            200,
            "text/plain; version=0.0.4; charset=utf-8",
            METRICS
                .get()
                .map(PrometheusHandle::render)
                .unwrap_or_default(),
        ),
        ("GET" | "HEAD", "/" | "/status", Some(board)) => {
            (200, "text/html; charset=utf-8", board.render(health))
        }
        ("GET" | "HEAD", "/status.css", Some(_)) => (
            200,
            "text/css; charset=utf-8",
            crate::status::STYLESHEET.to_owned(),
        ),
        ("GET" | "HEAD", "/status.js", Some(_)) => (
            200,
            "text/javascript; charset=utf-8",
            crate::status::SCRIPT.to_owned(),
        ),
        ("GET" | "HEAD", _, _) => (404, text, "not found\n".to_owned()),
        _ => (405, text, "method not allowed\n".to_owned()),
    };
    let reason = match code {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Service Unavailable",
    };
    let policy = if content_type.starts_with("text/html") {
        format!("Content-Security-Policy: {PAGE_POLICY}\r\n")
    } else {
        String::new()
    };
    let response = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n{policy}Connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    if method != "HEAD" {
        stream.write_all(body.as_bytes()).await?;
    }
    stream.shutdown().await
}
