//! The health listener: one small HTTP/1.1 listener for probes and scrapes.
//!
//! - `GET /healthz`: 200 while the process serves requests (alive).
//! - `GET /readyz`: 200 when the state store is open, a Kafka broker
//!   answers and no shutdown is under way; 503 with the reasons otherwise.
//!   An orchestrator stops routing to (or restarting on) a daemon that is
//!   not ready; a daemon waiting out a broker outage is alive but not
//!   ready.
//! - `GET /metrics`: every metric in the Prometheus text format.
//!
//! Requests are tiny and answered at once (`Connection: close`); a client
//! that sends nothing within five seconds, or a request head over 8 KiB, is
//! dropped.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use crate::metrics;

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

/// Serves probes and scrapes until `stop` is cancelled.
pub async fn serve(listener: TcpListener, health: std::sync::Arc<Health>, stop: CancellationToken) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stop.cancelled() => return,
        };
        match accepted {
            Ok((stream, _)) => {
                let health = health.clone();
                tokio::spawn(async move {
                    if let Err(err) = answer(stream, &health).await {
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

async fn answer(mut stream: TcpStream, health: &Health) -> std::io::Result<()> {
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
    let (status, content_type, body) = match (method, path) {
        ("GET" | "HEAD", "/healthz") => (200, "text/plain; charset=utf-8", "ok\n".to_owned()),
        ("GET" | "HEAD", "/readyz") => match health.readiness() {
            Ok(()) => (200, "text/plain; charset=utf-8", "ready\n".to_owned()),
            Err(reasons) => (
                503,
                "text/plain; charset=utf-8",
                format!("not ready: {}\n", reasons.join(", ")),
            ),
        },
        ("GET" | "HEAD", "/metrics") => (
            200,
            "text/plain; version=0.0.4; charset=utf-8",
            METRICS
                .get()
                .map(PrometheusHandle::render)
                .unwrap_or_default(),
        ),
        ("GET" | "HEAD", _) => (404, "text/plain; charset=utf-8", "not found\n".to_owned()),
        _ => (
            405,
            "text/plain; charset=utf-8",
            "method not allowed\n".to_owned(),
        ),
    };
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Service Unavailable",
    };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    if method != "HEAD" {
        stream.write_all(body.as_bytes()).await?;
    }
    stream.shutdown().await
}
