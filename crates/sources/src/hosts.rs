//! Per-host manners: at most `concurrency` requests in flight to one host,
//! and requests to it spaced at least `spacing` apart. Every feed of a host
//! shares its gate, so a publisher sees one polite client however many of
//! its feeds are configured; feeds of other hosts are never held up.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Limits applied to each host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostLimits {
    /// Requests in flight to one host, at most.
    pub concurrency: usize,
    /// Least time between the starts of two requests to one host.
    pub spacing: Duration,
}

#[derive(Debug)]
struct Gate {
    permits: Arc<Semaphore>,
    next_start: Mutex<Option<Instant>>,
}

/// The gates of all hosts seen so far (bounded by the configured feeds and
/// where they redirect).
#[derive(Debug)]
pub struct HostGates {
    limits: HostLimits,
    gates: Mutex<HashMap<String, Arc<Gate>>>,
}

/// Held while a request to a host is in flight.
#[derive(Debug)]
pub struct HostPass {
    _permit: OwnedSemaphorePermit,
}

impl HostGates {
    /// Returns gates with `limits` for every host.
    pub fn new(limits: HostLimits) -> Self {
        Self {
            limits,
            gates: Mutex::new(HashMap::new()),
        }
    }

    /// Waits until a request to `host` (host and port) may start.
    pub async fn enter(&self, host: &str) -> HostPass {
        let gate = {
            let mut gates = self.gates.lock().unwrap_or_else(PoisonError::into_inner);
            gates
                .entry(host.to_owned())
                .or_insert_with(|| {
                    Arc::new(Gate {
                        permits: Arc::new(Semaphore::new(self.limits.concurrency.max(1))),
                        next_start: Mutex::new(None),
                    })
                })
                .clone()
        };
        let permit = gate
            .permits
            .clone()
            .acquire_owned()
            .await
            .expect("host semaphores are never closed");
        let start = {
            let mut next_start = gate
                .next_start
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let now = Instant::now();
            let start = next_start.map_or(now, |next| next.max(now));
            *next_start = Some(start + self.limits.spacing);
            start
        };
        tokio::time::sleep_until(start).await;
        HostPass { _permit: permit }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn requests_to_one_host_are_spaced_and_others_are_not() {
        let gates = HostGates::new(HostLimits {
            concurrency: 4,
            spacing: Duration::from_secs(2),
        });
        let begin = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..3 {
            let _pass = gates.enter("wire.example:443").await;
            starts.push(begin.elapsed());
        }
        assert_eq!(
            starts,
            vec![
                Duration::ZERO,
                Duration::from_secs(2),
                Duration::from_secs(4)
            ]
        );
        // Another host is not held up by the first one's spacing.
        let other = Instant::now();
        let _pass = gates.enter("other.example:443").await;
        assert_eq!(other.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_per_host_is_capped() {
        let gates = HostGates::new(HostLimits {
            concurrency: 2,
            spacing: Duration::ZERO,
        });
        let first = gates.enter("wire.example:80").await;
        let _second = gates.enter("wire.example:80").await;
        let third =
            tokio::time::timeout(Duration::from_secs(60), gates.enter("wire.example:80")).await;
        assert!(
            third.is_err(),
            "a third request started while two were in flight"
        );
        drop(first);
        let third =
            tokio::time::timeout(Duration::from_secs(1), gates.enter("wire.example:80")).await;
        assert!(third.is_ok());
    }
}
