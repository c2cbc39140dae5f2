//! Delivery under faults: the daemon killed with SIGKILL at random points
//! while its feed keeps growing loses no story, and re-sends at most what
//! was in flight.
//!
//! The normal suite runs 10 kills; `WIREFEED_SOAK_KILLS=N` runs more.
//! The broker outage test stops and restarts a broker of its own (port
//! 19092) for `WIREFEED_OUTAGE_SECS` (default 60).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use crate::util::{
    Daemon, FeedServer, OwnBroker, Route, briefs_rss, http_get, read_committed_until_idle,
    read_topic_on, require_broker, topic_record_count_on, value, wire_brief,
};

/// A feed that gains one story every `every` until stopped; keeps every
/// story, so a story can only go missing through the daemon.
struct GrowingFeed {
    added: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl GrowingFeed {
    fn start(server: &FeedServer, path: &str, every: Duration) -> Self {
        let added = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (server, path) = (server.clone(), path.to_owned());
        let (thread_added, thread_stop) = (added.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut items = String::new();
            let mut n = 0;
            while !thread_stop.load(Ordering::SeqCst) {
                items.insert_str(0, &wire_brief(n));
                server.set(&path, Route::feed(briefs_rss(&items)));
                n += 1;
                thread_added.store(n, Ordering::SeqCst);
                std::thread::sleep(every);
            }
        });
        Self {
            added,
            stop,
            thread: Some(thread),
        }
    }

    /// Stops growing; returns how many stories the feed holds.
    fn stop(mut self) -> usize {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
        self.added.load(Ordering::SeqCst)
    }
}

/// xorshift64*: reproducible random kill points from a printed seed.
struct Random(u64);

impl Random {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % bound
    }
}

/// Stories by guid as a consumer sees them on `topic`.
async fn guid_counts(bootstrap: &str, topic: &str) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for record in read_topic_on(bootstrap, topic).await {
        let guid = value(&record)["guid"].as_str().unwrap().to_owned();
        *counts.entry(guid).or_default() += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_points_loses_no_story() {
    sigkill_run("at-least-once").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_points_in_exactly_once_mode_loses_and_doubles_nothing() {
    sigkill_run("exactly-once").await;
}

/// Kills the daemon (delivery `mode`) at random points while its feed
/// grows, then reads the topic as a read-committed consumer.
async fn sigkill_run(mode: &str) {
    require_broker();
    let kills: usize = std::env::var("WIREFEED_SOAK_KILLS")
        .ok()
        .and_then(|kills| kills.parse().ok())
        .unwrap_or(10);
    let max_in_flight = 20;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    println!("kill points seed {seed}");
    let mut random = Random(seed);

    let server = FeedServer::start();
    let daemon = Daemon::new(&format!("delivery-sigkill-{mode}"), &[]);
    daemon.write_config_with(
        &[("briefs", &server.url("/briefs.xml"))],
        1,
        "jitter = 0.0\nstartup_spread_secs = 0\nmax_items = 10000\n",
    );
    daemon.edit_config(
        "delivery_timeout_secs = 60\n",
        &format!(
            "delivery_timeout_secs = 60\nmax_in_flight = {max_in_flight}\ndelivery = \"{mode}\"\n"
        ),
    );
    let feed = GrowingFeed::start(&server, "/briefs.xml", Duration::from_millis(40));
    for _ in 0..kills {
        let running = daemon.spawn();
        // Anywhere from start-up to a few polls in.
        tokio::time::sleep(Duration::from_millis(300 + random.below(2_700))).await;
        running.kill9();
    }
    let stories = feed.stop();

    // One last run that ends normally: it must find every story the killed
    // runs did not deliver.
    let last = daemon.run_once();
    assert!(
        last.status.success(),
        "{}",
        String::from_utf8_lossy(&last.stderr)
    );

    let mut counts: HashMap<String, usize> = HashMap::new();
    for record in read_committed_until_idle(
        &crate::util::bootstrap(),
        &daemon.topic,
        Duration::from_secs(8),
    )
    .await
    {
        let guid = value(&record)["guid"].as_str().unwrap().to_owned();
        *counts.entry(guid).or_default() += 1;
    }
    let missing: Vec<usize> = (0..stories)
        .filter(|n| !counts.contains_key(&format!("urn:wire:brief:{n}")))
        .collect();
    let records: usize = counts.values().sum();
    let duplicates = records - counts.len();
    println!(
        "{mode}: stories {stories}, kills {kills}, records {records}, missing {}, duplicates {duplicates} (bound {})",
        missing.len(),
        if mode == "exactly-once" {
            0
        } else {
            kills * max_in_flight
        }
    );
    assert!(missing.is_empty(), "stories never published: {missing:?}");
    assert_eq!(counts.len(), stories, "no story the feed never had");
    if mode == "exactly-once" {
        assert_eq!(duplicates, 0, "a read-committed consumer saw a story twice");
    } else {
        assert!(
            duplicates <= kills * max_in_flight,
            "{duplicates} duplicates: more than {max_in_flight} in flight per kill"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_outage_mid_run_loses_no_story() {
    let outage = Duration::from_secs(
        std::env::var("WIREFEED_OUTAGE_SECS")
            .ok()
            .and_then(|secs| secs.parse().ok())
            .unwrap_or(60),
    );
    let broker = OwnBroker::start(19092);
    let bootstrap = broker.bootstrap();
    let server = FeedServer::start();
    let daemon = Daemon::new("delivery-outage", &[]);
    daemon.write_config_on(
        &bootstrap,
        &[("briefs", &server.url("/briefs.xml"))],
        1,
        "jitter = 0.0\nstartup_spread_secs = 0\nmax_items = 10000\nbackoff_max_secs = 5\n",
        "",
    );
    // Small buffers, so they fill during the outage and polling pauses;
    // records time out part way through it and must be offered again, not
    // lost.
    daemon.edit_config(
        "delivery_timeout_secs = 60\n",
        "delivery_timeout_secs = 40\nmax_in_flight = 50\n",
    );
    daemon.edit_config("[pipeline]\n", "[pipeline]\nqueue_capacity = 16\n");
    let feed = GrowingFeed::start(&server, "/briefs.xml", Duration::from_millis(100));
    let running = daemon.spawn();
    let health = running.health_address().await;
    running.wait_for_log("kafka topic ready").await;
    crate::util::eventually("records before the outage", || {
        topic_record_count_on(&bootstrap, &daemon.topic) >= 20
    })
    .await;
    assert_eq!(http_get(&health, "/readyz"), (200, "ready\n".to_owned()));

    broker.script("stop");
    running.wait_for_log("kafka unreachable").await;
    // Alive but not ready, and the metrics say why.
    assert_eq!(http_get(&health, "/healthz").0, 200);
    assert_eq!(
        http_get(&health, "/readyz"),
        (503, "not ready: kafka unreachable\n".to_owned())
    );
    let (status, metrics) = http_get(&health, "/metrics");
    assert_eq!(status, 200);
    assert!(metrics.contains("wirefeed_kafka_up 0"), "{metrics}");
    assert!(
        metrics.contains("wirefeed_records_published_total"),
        "{metrics}"
    );
    let polls_before = server.requests("/briefs.xml").len();
    tokio::time::sleep(outage).await;
    let during = feed.added.load(Ordering::SeqCst);
    let polls_during = server.requests("/briefs.xml").len() - polls_before;
    broker.script("start");
    running.wait_for_log("kafka reachable again").await;
    assert_eq!(http_get(&health, "/readyz").0, 200);

    let caught_up = |stories: usize| {
        let bootstrap = bootstrap.clone();
        let topic = daemon.topic.clone();
        async move {
            for _ in 0..120 {
                let counts = guid_counts(&bootstrap, &topic).await;
                if (0..stories).all(|n| counts.contains_key(&format!("urn:wire:brief:{n}"))) {
                    return true;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            false
        }
    };
    let after_outage = feed.added.load(Ordering::SeqCst);
    assert!(
        caught_up(after_outage).await,
        "no catch-up after the outage"
    );
    let counts = guid_counts(&bootstrap, &daemon.topic).await;
    let records: usize = counts.values().sum();
    println!(
        "outage {}s: stories {after_outage} ({during} by its end), polls during it {polls_during}, records {records}, missing 0, duplicates {}",
        outage.as_secs(),
        records - counts.len()
    );
    // Polled every second while the broker answers; with it away the full
    // buffers hold the pollers back (a poll whose records time out ends,
    // and the next one stalls again).
    let polls_allowed = 2 + outage.as_secs() / 40 * 2;
    assert!(
        polls_during as u64 <= polls_allowed,
        "{polls_during} polls during a {}s outage: polling did not pause",
        outage.as_secs()
    );

    // The broker goes away for good and the daemon is told to stop: the
    // drain deadline passes with records held (exit 3), and the state
    // store is left consistent: a later run delivers the rest.
    broker.script("stop");
    running.wait_for_log_times("kafka unreachable", 2).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (code, log) = running.stop();
    assert_eq!(
        code,
        Some(3),
        "drain deadline passed with records held: {log}"
    );
    let stories = feed.stop();
    broker.script("start");
    let last = daemon.run_once();
    assert!(
        last.status.success(),
        "{}",
        String::from_utf8_lossy(&last.stderr)
    );
    let counts = guid_counts(&bootstrap, &daemon.topic).await;
    let missing: Vec<usize> = (0..stories)
        .filter(|n| !counts.contains_key(&format!("urn:wire:brief:{n}")))
        .collect();
    let records: usize = counts.values().sum();
    println!(
        "after a shutdown with the broker away: stories {stories}, records {records}, missing {}, duplicates {}",
        missing.len(),
        records - counts.len()
    );
    assert!(missing.is_empty(), "stories never published: {missing:?}");
}
