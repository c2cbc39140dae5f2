//! Graceful shutdown with work in flight: SIGTERM while a large feed is
//! being processed and records wait in the producer. The daemon turns
//! not-ready at once, drains what it took, exits 0, and loses nothing: the
//! next run publishes exactly the stories the first did not.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::util::{
    Daemon, FeedServer, Route, briefs_rss, read_topic, require_broker, value, wire_brief,
};

/// Stories in the feed: enough that the daemon is still working on them
/// when the first record reaches the topic.
const STORIES: usize = 1_200;

/// Answers from `/readyz` until the listener goes away, polled as fast as
/// the listener answers.
fn watch_readiness(address: String, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Vec<String>> {
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        while !stop.load(Ordering::SeqCst) {
            let Ok(mut stream) = std::net::TcpStream::connect(&address) else {
                break;
            };
            use std::io::{Read, Write};
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            if write!(stream, "GET /readyz HTTP/1.1\r\nHost: {address}\r\n\r\n").is_err() {
                break;
            }
            let mut response = String::new();
            if stream.read_to_string(&mut response).is_err() {
                break;
            }
            let line = response.lines().next().unwrap_or_default().to_owned();
            let body = response
                .split_once("\r\n\r\n")
                .map(|(_, body)| body.trim().to_owned())
                .unwrap_or_default();
            seen.push(format!("{line} {body}"));
            std::thread::sleep(Duration::from_millis(10));
        }
        seen
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_records_in_flight_drains_them_and_loses_none() {
    require_broker();
    let server = FeedServer::start();
    let items: String = (0..STORIES).map(wire_brief).collect();
    server.set("/briefs.xml", Route::feed(briefs_rss(&items)));
    let daemon = Daemon::new("graceful", &[]);
    // Records linger in the producer for half a second, so SIGTERM finds
    // some awaiting their delivery report; the work queue is small, so the
    // poller is still handing items over.
    daemon.write_config_full(
        &[("briefs", &server.url("/briefs.xml"))],
        300,
        "startup_spread_secs = 0\nmax_items = 5000",
        "",
    );
    daemon.edit_config(
        "delivery_timeout_secs = 60",
        "delivery_timeout_secs = 60\nlinger_ms = 500",
    );
    daemon.edit_config("[pipeline]\n", "[pipeline]\nqueue_capacity = 32\n");
    let running = daemon.spawn();
    let health = running.health_address().await;
    crate::util::eventually("the daemon to be ready", || {
        crate::util::http_get(&health, "/readyz").0 == 200
    })
    .await;

    // SIGTERM as soon as the first record is in the topic: the rest of the
    // feed is queued, being processed or in flight.
    let reader = wirefeed_kafka::TopicReader::new(
        &crate::util::bootstrap(),
        &daemon.topic,
        wirefeed_kafka::StartAt::Beginning,
    )
    .unwrap();
    reader
        .next(Duration::from_secs(120))
        .await
        .unwrap()
        .expect("no record from the daemon");
    let stop_watch = Arc::new(AtomicBool::new(false));
    let watcher = watch_readiness(health.clone(), stop_watch.clone());
    let (code, log) = running.stop();
    stop_watch.store(true, Ordering::SeqCst);
    let answers = watcher.join().unwrap();
    assert_eq!(code, Some(0), "{log}");

    // It had work to drain, and did.
    let lines: Vec<Value> = log
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let draining = lines
        .iter()
        .find(|line| line["message"] == "draining queued records")
        .unwrap_or_else(|| panic!("no drain in\n{log}"));
    let pending =
        draining["queued_items"].as_u64().unwrap() + draining["in_flight"].as_u64().unwrap();
    assert!(pending > 0, "nothing was in flight at SIGTERM: {draining}");
    let stopped = lines
        .iter()
        .find(|line| line["message"] == "wirefeed stopped")
        .unwrap_or_else(|| panic!("no stop line in\n{log}"));
    assert_eq!(stopped["undelivered"], 0, "{stopped}");
    assert!(
        !log.contains("shutdown deadline passed"),
        "the drain ran out of time:\n{log}"
    );

    // Not ready from the signal on, while still answering.
    assert!(
        answers
            .iter()
            .any(|answer| answer.contains("503") && answer.contains("shutting down")),
        "readiness never reported the shutdown: {answers:?}"
    );
    let first_not_ready = answers
        .iter()
        .position(|answer| answer.contains("503"))
        .unwrap();
    assert!(
        answers[first_not_ready..]
            .iter()
            .all(|answer| answer.contains("shutting down")),
        "{answers:?}"
    );

    // Every record the first run acknowledged is in the topic, once.
    let first: Vec<String> = read_topic(&daemon.topic)
        .await
        .iter()
        .map(|record| value(record)["guid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        stopped["published"].as_u64().unwrap() as usize,
        first.len(),
        "{stopped}"
    );

    // The next run publishes the rest and nothing twice.
    daemon.run_once_ok();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for record in read_topic(&daemon.topic).await {
        *counts
            .entry(value(&record)["guid"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    let missing: Vec<usize> = (0..STORIES)
        .filter(|n| !counts.contains_key(&format!("urn:wire:brief:{n}")))
        .collect();
    assert!(missing.is_empty(), "lost stories: {missing:?}");
    let doubled: Vec<(&String, &usize)> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubled.is_empty(), "published twice: {doubled:?}");
    assert_eq!(counts.len(), STORIES);
    println!(
        "first run published {} of {STORIES}, drained {} queued items and {} in flight",
        first.len(),
        draining["queued_items"],
        draining["in_flight"]
    );
}
