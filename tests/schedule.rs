//! Polling manners end to end: Retry-After, backoff, Cache-Control, the
//! unhealthy mark, and a schedule that survives a restart. The schedule is
//! read from the daemon's logs and the feed server's request log, never by
//! timing.

use serde_json::Value;

use crate::util::{
    Daemon, FeedServer, Route, cnn_rss, log_lines, require_broker, topic_record_count,
};

/// The warning or info line a run logged for `feed`.
fn poll_line(output: &std::process::Output, feed: &str) -> Value {
    log_lines(output)
        .into_iter()
        .find(|line| {
            line["feed_id"] == feed
                && (line["message"] == "feed polled" || line["message"] == "feed fetch failed")
        })
        .unwrap_or_else(|| {
            panic!(
                "no poll line for {feed}:\n{}",
                String::from_utf8_lossy(&output.stderr)
            )
        })
}

fn next_poll(line: &Value) -> u64 {
    line["next_poll_secs"].as_u64().unwrap()
}

#[tokio::test]
async fn retry_after_backoff_and_freshness_shape_the_schedule() {
    require_broker();
    let server = FeedServer::start();
    server.set("/good.rss", Route::feed(cnn_rss("cnn-schedule-good", None)));
    server.set(
        "/busy.rss",
        Route::status(429).header("Retry-After", "7200"),
    );
    let daemon = Daemon::new("schedule", &[]);
    let feeds = [
        ("good-feed", server.url("/good.rss")),
        ("busy-feed", server.url("/busy.rss")),
    ];
    let feeds: Vec<(&str, &str)> = feeds.iter().map(|(id, url)| (*id, url.as_str())).collect();
    daemon.write_config_with(
        &feeds,
        300,
        "unhealthy_after = 3\nbackoff_max_secs = 3600\nadaptive = false",
    );

    // 429 with Retry-After: 7200 s: the next poll waits at least that long,
    // even beyond the backoff cap; the other feed publishes meanwhile.
    let first = daemon.run_once();
    assert_eq!(
        first.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let busy = poll_line(&first, "busy-feed");
    assert_eq!(busy["error_streak"], 1);
    assert!(next_poll(&busy) >= 7200, "{busy}");
    assert_eq!(topic_record_count(&daemon.topic), 1);
    // A healthy feed waits its interval, ±10% jitter.
    let good = poll_line(&first, "good-feed");
    assert!((270..=330).contains(&next_poll(&good)), "{good}");

    // 500s without a hint: exponential backoff with jitter, interval 300 s:
    // failure k waits between half and all of 300 × 2^(k − 1) s.
    server.set("/busy.rss", Route::status(500));
    for (streak, base) in [(2u64, 600u64), (3, 1200)] {
        let output = daemon.run_once();
        let busy = poll_line(&output, "busy-feed");
        assert_eq!(busy["error_streak"], streak);
        let next = next_poll(&busy);
        assert!(
            (base / 2..=base).contains(&next),
            "streak {streak}: next poll in {next} s"
        );
        if streak == 3 {
            let unhealthy = log_lines(&output)
                .into_iter()
                .find(|line| line["feed_id"] == "busy-feed" && line["level"] == "ERROR");
            let unhealthy = unhealthy.expect("the third failure marks the feed unhealthy");
            assert!(unhealthy["message"].as_str().unwrap().contains("unhealthy"));
        }
    }

    // Back to health with Cache-Control: max-age=5400: the streak resets and
    // the next poll waits for freshness, not the 300 s interval.
    server.set(
        "/busy.rss",
        Route::feed(cnn_rss("cnn-schedule-busy", None)).header("Cache-Control", "max-age=5400"),
    );
    let recovered = daemon.run_once();
    assert_eq!(
        recovered.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&recovered.stderr)
    );
    let busy = poll_line(&recovered, "busy-feed");
    assert_eq!(busy["message"], "feed polled");
    assert!(next_poll(&busy) >= 5400, "{busy}");

    // One more failure starts the streak again from one.
    server.set("/busy.rss", Route::status(503));
    let again = daemon.run_once();
    let busy = poll_line(&again, "busy-feed");
    assert_eq!(busy["error_streak"], 1);
    assert!((150..=300).contains(&next_poll(&busy)), "{busy}");
}

#[tokio::test]
async fn a_restart_keeps_each_feeds_schedule() {
    require_broker();
    let server = FeedServer::start();
    server.set("/known.rss", Route::feed(cnn_rss("cnn-known", None)));
    server.set("/new.rss", Route::feed(cnn_rss("cnn-new", None)));
    let daemon = Daemon::new("restart", &[]);
    let known = server.url("/known.rss");
    let new = server.url("/new.rss");
    daemon.write_config_with(&[("known-feed", &known)], 3600, "startup_spread_secs = 0");
    let first = daemon.run_once();
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(server.requests("/known.rss").len(), 1);

    // The daemon starts with both feeds: the new one is polled at once, the
    // known one waits for the hour its schedule says.
    daemon.write_config_with(
        &[("known-feed", &known), ("new-feed", &new)],
        3600,
        "startup_spread_secs = 0",
    );
    let running = daemon.spawn();
    running.wait_for_log("\"new-feed\"").await;
    let (code, log) = running.stop();
    assert_eq!(code, Some(0), "{log}");
    assert_eq!(server.requests("/new.rss").len(), 1);
    assert_eq!(
        server.requests("/known.rss").len(),
        1,
        "the known feed was polled again at start-up"
    );
}

#[tokio::test]
async fn feed_hints_and_adaptive_intervals() {
    require_broker();
    let server = FeedServer::start();
    let with_ttl = cnn_rss("cnn-ttl", None).replacen(
        "<language>en-us</language>",
        "<language>en-us</language><ttl>90</ttl>",
        1,
    );
    server.set("/ttl.rss", Route::feed(with_ttl));
    server.set("/busy.rss", Route::feed(cnn_rss("cnn-busy", None)));
    let daemon = Daemon::new("hints", &[]);
    let ttl = server.url("/ttl.rss");
    let busy = server.url("/busy.rss");
    daemon.write_config(&[("ttl-feed", &ttl), ("busy-feed", &busy)], 300);
    let output = daemon.run_once();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // <ttl>90</ttl>: 90 minutes before the next poll, whatever the interval.
    assert!(next_poll(&poll_line(&output, "ttl-feed")) >= 5400);
    // A poll that brought news shortens the adaptive interval: 300 s × 0.75,
    // ±10% jitter.
    let busy = next_poll(&poll_line(&output, "busy-feed"));
    assert!((202..=248).contains(&busy), "next poll in {busy} s");
}

#[tokio::test]
async fn sighup_reloads_feeds_without_a_restart() {
    require_broker();
    let server = FeedServer::start();
    server.set("/first.rss", Route::feed(cnn_rss("cnn-reload-first", None)));
    server.set(
        "/second.rss",
        Route::feed(cnn_rss("cnn-reload-second", None)),
    );
    let daemon = Daemon::new("reload", &[]);
    let first = server.url("/first.rss");
    let second = server.url("/second.rss");
    daemon.write_config_with(&[("first-feed", &first)], 3600, "startup_spread_secs = 0");
    let running = daemon.spawn();
    running.wait_for_log("\"first-feed\"").await;

    // A broken file is refused and the daemon goes on.
    std::fs::write(daemon.config_path(), "[kafka]\ntopik = 1\n").unwrap();
    running.signal("HUP");
    running.wait_for_log("reload failed").await;

    // The second feed is added and the first removed, without a restart.
    daemon.write_config_with(&[("second-feed", &second)], 3600, "startup_spread_secs = 0");
    running.signal("HUP");
    running.wait_for_log("configuration reloaded").await;
    running.wait_for_log("\"second-feed\"").await;

    // Feeds in an included file come with the next reload too.
    server.set("/third.rss", Route::feed(cnn_rss("cnn-reload-third", None)));
    std::fs::write(
        daemon.dir.path().join("more-feeds.toml"),
        format!(
            "[[feeds]]\nid = \"third-feed\"\nurl = \"{}\"\nprovider = \"CNN Wire\"\n",
            server.url("/third.rss")
        ),
    )
    .unwrap();
    daemon.edit_config(
        "[state]\n",
        "[include]\nfeeds = [\"more-feeds.toml\"]\n\n[state]\n",
    );
    running.signal("HUP");
    running
        .wait_for_log_times("configuration reloaded", 2)
        .await;
    crate::util::eventually("the included feed's record", || {
        topic_record_count(&daemon.topic) == 3
    })
    .await;

    let (code, log) = running.stop();
    assert_eq!(code, Some(0), "{log}");
    let reloaded: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("configuration reloaded"))
        .collect();
    assert_eq!(reloaded.len(), 2, "{log}");
    assert!(
        reloaded[0].contains("\"added\":1") && reloaded[0].contains("\"removed\":1"),
        "{log}"
    );
    assert!(
        reloaded[1].contains("\"feeds\":2")
            && reloaded[1].contains("\"added\":1")
            && reloaded[1].contains("\"removed\":0"),
        "{log}"
    );
    assert_eq!(server.requests("/third.rss").len(), 1);
    // The first feed was polled once, before the reload; its schedule said
    // an hour, and it is no longer configured.
    assert_eq!(server.requests("/first.rss").len(), 1);
}
