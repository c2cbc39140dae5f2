//! The daemon end to end: feed server → wirefeed → real broker → consumer.

use std::time::Duration;

use serde_json::{Value, json};

use crate::util::{
    Daemon, FeedServer, Route, assert_valid_record, closed_port, cnn_fixture, cnn_rss, eventually,
    log_lines, read_topic, require_broker, topic_record_count, value,
};

const DATE_LINE: &str = "Friday, September 13, 2024";
const CAPTION: &str = "Russian President Vladimir Putin chairs a meeting with members of the government via videoconference at the Novo-Ogaryovo state residence Sept. 11, 2024.";
const CREDIT: &str = "Alexander Kazakov, Sputnik, Kremlin Pool Photo via AP";
const CONTRIBUTORS: &str =
    "Michael Callahan, Natasha Bertrand, Oren Liebermann and Lex Harvey contributed reporting.";
const COPYRIGHT: &str = "The CNN Wire™ & © 2023 Cable News Network, Inc., a Warner Bros. Discovery Company. All rights reserved.";

/// The fixture's body paragraphs a reader should see: every non-blank line
/// after the title except the five boilerplate lines.
fn expected_body() -> Vec<String> {
    let boilerplate = [DATE_LINE, CAPTION, CREDIT, CONTRIBUTORS, COPYRIGHT];
    cnn_fixture()
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .skip(1)
        .filter(|line| !boilerplate.contains(line))
        .map(str::to_owned)
        .collect()
}

fn assert_fixture_record(record: &Value) {
    assert_valid_record(record);
    assert_eq!(record["schema"], "wirefeed.article/1.4");
    assert_eq!(
        record["title"],
        "Russia will be 'at war' with NATO if Ukraine long-range missile restrictions lifted, Putin warns"
    );
    let body: Vec<String> = serde_json::from_value(record["body"]["paragraphs"].clone()).unwrap();
    assert_eq!(body, expected_body());
    assert_eq!(
        record["rights"],
        json!({
            "holder": "Cable News Network, Inc.",
            "year": 2023,
            "service": "The CNN Wire",
            "statement": COPYRIGHT,
        })
    );
    assert_eq!(
        record["contributors"],
        json!([
            "Michael Callahan",
            "Natasha Bertrand",
            "Oren Liebermann",
            "Lex Harvey"
        ])
    );
    assert_eq!(
        record["media"],
        json!([{ "caption": CAPTION, "credit": CREDIT }])
    );
    assert_eq!(record["dateline"]["date"], "2024-09-13");
    assert_eq!(
        record["removed"],
        json!([
            { "kind": "dateline", "text": DATE_LINE },
            { "kind": "caption", "text": CAPTION },
            { "kind": "credit", "text": CREDIT },
            { "kind": "contributors", "text": CONTRIBUTORS },
            { "kind": "copyright", "text": COPYRIGHT },
        ])
    );
    assert_eq!(record["suspects"], json!([]));
    let quotes = record["quotes"].as_array().unwrap();
    let said = |speaker: &str, start: &str| {
        quotes.iter().any(|quote| {
            quote["speaker"] == speaker && quote["text"].as_str().unwrap().starts_with(start)
        })
    };
    assert!(
        said("Vladimir Putin", "This will mean that NATO countries"),
        "{quotes:?}"
    );
    assert!(
        said("Antony Blinken", "certainly not the only factor"),
        "{quotes:?}"
    );
    let body_text = body.join("\n");
    for removed in record["removed"].as_array().unwrap() {
        let text = removed["text"].as_str().unwrap();
        assert!(
            !body_text.contains(text),
            "removed text still in body: {text}"
        );
    }
}

#[tokio::test]
async fn fixture_article_is_published_clean_once_then_as_version_2_when_changed() {
    require_broker();
    let server = FeedServer::start();
    server.set("/cnn.rss", Route::feed(cnn_rss("cnn-putin-nato", None)));
    let daemon = Daemon::new("fixture", &[("cnn-wire", &server.url("/cnn.rss"))]);

    let first = daemon.run_once();
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let records = read_topic(&daemon.topic).await;
    assert_eq!(records.len(), 1);
    let record = value(&records[0]);
    assert_fixture_record(&record);
    assert_eq!(record["version"], 1);
    assert_eq!(record["previous_content_hash"], Value::Null);
    assert_eq!(record["source"]["feed_id"], "cnn-wire");
    assert_eq!(record["source"]["format"], "rss");
    assert_eq!(record["language"], "en");
    assert_eq!(record["authors"], json!(["Lex Harvey"]));
    assert_eq!(record["published_at"], "2024-09-13T14:05:00Z");
    let id = record["id"].as_str().unwrap().to_owned();
    assert_eq!(records[0].key.as_deref(), Some(id.as_bytes()));
    assert_eq!(records[0].header("ce_specversion"), Some("1.0"));
    assert_eq!(records[0].header("ce_id"), Some(format!("{id}:1").as_str()));
    assert_eq!(records[0].header("ce_time"), Some("2024-09-13T14:05:00Z"));
    assert_eq!(records[0].header("content-type"), Some("application/json"));
    assert_eq!(
        records[0].header("wirefeed_schema"),
        Some("wirefeed.article/1.4")
    );

    // An unchanged feed: the server answers 304 to the stored ETag and
    // nothing is published.
    let second = daemon.run_once();
    assert_eq!(
        second.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert_eq!(topic_record_count(&daemon.topic), 1);
    let requests = server.requests("/cnn.rss");
    assert_eq!(requests.len(), 2);
    assert!(requests[1].headers.contains_key("if-none-match"));
    assert_eq!(requests[1].status, 304);

    // The same story with an edited paragraph: version 2, same id and key.
    server.set(
        "/cnn.rss",
        Route::feed(cnn_rss(
            "cnn-putin-nato",
            Some((
                "told reporters on Thursday",
                "told reporters in St Petersburg on Thursday",
            )),
        )),
    );
    let third = daemon.run_once();
    assert_eq!(
        third.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&third.stderr)
    );
    let records = read_topic(&daemon.topic).await;
    assert_eq!(records.len(), 2);
    let update = value(&records[1]);
    assert_valid_record(&update);
    assert_eq!(update["id"], id.as_str());
    assert_eq!(update["version"], 2);
    assert_eq!(update["previous_content_hash"], record["content_hash"]);
    assert_ne!(update["content_hash"], record["content_hash"]);
    assert_eq!(records[1].key, records[0].key);
    assert_eq!(records[1].partition, records[0].partition);
    assert!(
        update["body"]["paragraphs"][1]
            .as_str()
            .unwrap()
            .contains("told reporters in St Petersburg on Thursday")
    );

    // The changed feed, polled again without changes: nothing new.
    let fourth = daemon.run_once();
    assert_eq!(fourth.status.code(), Some(0));
    assert_eq!(topic_record_count(&daemon.topic), 2);
}

#[tokio::test]
async fn broken_feeds_are_logged_by_id_while_the_good_one_publishes() {
    require_broker();
    let server = FeedServer::start();
    server.set("/good.rss", Route::feed(cnn_rss("cnn-good", None)));
    server.set("/missing.rss", Route::status(404));
    server.set(
        "/broken.rss",
        Route::feed("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Broken</title><item><title>Half</ti"),
    );
    let unreachable = format!("http://127.0.0.1:{}/feed.rss", closed_port());
    let daemon = Daemon::new(
        "broken",
        &[
            ("good-feed", &server.url("/good.rss")),
            ("missing-feed", &server.url("/missing.rss")),
            ("unreachable-feed", &unreachable),
            ("malformed-feed", &server.url("/broken.rss")),
        ],
    );
    let output = daemon.run_once();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");

    let logs = log_lines(&output);
    let failure = |feed: &str| {
        logs.iter()
            .find(|line| line["feed_id"] == feed && line["level"] == "WARN")
            .unwrap_or_else(|| panic!("no warning names {feed}:\n{stderr}"))
            .clone()
    };
    let missing = failure("missing-feed");
    assert_eq!(missing["message"], "feed fetch failed");
    assert_eq!(missing["error_type"], "http_status");
    assert!(missing["error"].as_str().unwrap().contains("HTTP 404"));
    let unreachable = failure("unreachable-feed");
    assert_eq!(unreachable["message"], "feed fetch failed");
    assert_eq!(unreachable["error_type"], "connect");
    let malformed = failure("malformed-feed");
    assert_eq!(malformed["message"], "feed parse failed");
    assert!(malformed["error"].as_str().unwrap().contains("feed"));

    let records = read_topic(&daemon.topic).await;
    assert_eq!(records.len(), 1);
    let record = value(&records[0]);
    assert_eq!(record["source"]["feed_id"], "good-feed");
    assert_fixture_record(&record);
}

#[tokio::test]
async fn daemon_polls_until_sigterm_then_exits_cleanly() {
    require_broker();
    let server = FeedServer::start();
    server.set("/cnn.rss", Route::feed(cnn_rss("cnn-daemon", None)));
    let daemon = Daemon::new("daemon", &[]);
    daemon.write_config_with(
        &[("cnn-wire", &server.url("/cnn.rss"))],
        1,
        "startup_spread_secs = 0",
    );
    let running = daemon.spawn();
    let health = running.health_address().await;

    // The daemon keeps polling on its 1 s interval; wait for the record and
    // for a later conditional poll, observed on the server, not by sleeping
    // a guessed time.
    let reader = wirefeed_kafka::TopicReader::new(
        &crate::util::bootstrap(),
        &daemon.topic,
        wirefeed_kafka::StartAt::Beginning,
    )
    .unwrap();
    let record = reader
        .next(Duration::from_secs(60))
        .await
        .unwrap()
        .expect("no record from the daemon");
    assert_fixture_record(&value(&record));
    eventually("a second, conditional poll", || {
        server
            .requests("/cnn.rss")
            .iter()
            .any(|request| request.status == 304)
    })
    .await;

    // The metrics moved with the polls.
    let (status, metrics) = crate::util::http_get(&health, "/metrics");
    assert_eq!(status, 200);
    for expected in [
        "wirefeed_feed_polls_total{feed_id=\"cnn-wire\",outcome=\"fetched\"} 1",
        "wirefeed_feed_polls_total{feed_id=\"cnn-wire\",outcome=\"not_modified\"}",
        "wirefeed_records_published_total{version_kind=\"new\"} 1",
        "wirefeed_removed_lines_total{kind=\"copyright\"} 1",
        "wirefeed_items_received_total{format=\"rss\"} 1",
        "wirefeed_kafka_delivery_duration_seconds_bucket",
        "wirefeed_queue_depth{queue=\"work\"}",
        "wirefeed_http_responses_total{kind=\"feed\",status_class=\"2xx\"} 1",
        "wirefeed_http_responses_total{kind=\"feed\",status_class=\"3xx\"}",
        "wirefeed_articles_total{stage=\"parsed\"}",
        "wirefeed_articles_total{stage=\"published\"} 1",
        "wirefeed_feeds{health=\"healthy\"} 1",
        "wirefeed_feed_error_streak{feed_id=\"cnn-wire\"} 0",
        "wirefeed_feed_last_success_timestamp_seconds{feed_id=\"cnn-wire\"}",
    ] {
        assert!(metrics.contains(expected), "no {expected} in\n{metrics}");
    }
    assert_eq!(crate::util::http_get(&health, "/readyz").0, 200);

    let (code, log) = running.stop();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("wirefeed stopped"), "{log}");
    assert_eq!(topic_record_count(&daemon.topic), 1);
}

#[tokio::test]
async fn environment_overrides_reach_the_daemon() {
    require_broker();
    let server = FeedServer::start();
    server.set("/cnn.rss", Route::feed(cnn_rss("cnn-env", None)));
    let daemon = Daemon::new("env-override-file", &[("cnn", &server.url("/cnn.rss"))]);
    let topic = crate::util::unique_topic("env-override");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .args(["--log-format", "json", "run", "--once", "--config"])
        .arg(daemon.config_path())
        .env("WIREFEED_KAFKA__TOPIC", &topic)
        .env("WIREFEED_LIBRDKAFKA__CLIENT_RACK", "rack-a")
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let records = read_topic(&topic).await;
    assert_eq!(records.len(), 1, "the overridden topic got the record");
    assert_eq!(value(&records[0])["guid"], "cnn-env");

    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .args(["run", "--once", "--config"])
        .arg(daemon.config_path())
        .env("WIREFEED_PIPELINE__WORKERS", "many")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("WIREFEED_PIPELINE__WORKERS"), "{stderr}");
}
