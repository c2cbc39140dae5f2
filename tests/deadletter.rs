//! Dead letters: a record the broker can never take, and an item whose
//! processing panics, go to the dead-letter topic with the reason while
//! every other story flows on.

use std::sync::Arc;

use serde_json::Value;
use tokio_util::sync::CancellationToken;
use wirefeed::config::{FaultProbe, Settings};
use wirefeed::pipeline::{self, RunMode};

use crate::util::{
    Daemon, FeedServer, Route, assert_valid_dead_letter, assert_valid_record, cnn_rss,
    create_topic, log_lines, read_topic, require_broker, topic_record_count, value,
};

/// Live-blog entries as a wire service files them through a long day.
const ENTRIES: &[&str] = &[
    "Emergency crews reopened the northbound lanes of the coastal highway shortly after dawn, the state transport department said, although a 12-mile stretch south of the harbour remains closed while engineers inspect two bridges.",
    "The harbour master said about 40 fishing boats had broken their moorings overnight and at least six had sunk at the quay. Divers will not be sent in until the swell drops below two metres.",
    "Power had been restored to roughly 61,000 of the 148,000 homes and businesses that lost it at the height of the storm, the regional grid operator said in its 9 a.m. update.",
    "Schools in three districts will stay closed on Thursday. The education authority said several buildings were being used as shelters and others had lost their roofs.",
    "The mayor told reporters at the fire station that the town had \"never seen water come that far up Main Street\" and asked residents to keep off the promenade while the sea wall is checked.",
    "Forecasters expect winds to ease through the afternoon, but warned of a second band of heavy rain crossing the hills after dark, with a risk of flash flooding in the river valleys.",
    "The coastguard said it had winched 23 people from stranded cars and caravans since midnight, and that a search for a kayaker reported missing on Tuesday evening had resumed at first light.",
    "Insurers said it was too early to estimate losses. One broker said claims from the 2019 storm, which struck the same coast, had taken more than two years to settle.",
];

/// A live blog of `entries` timestamped entries, as `<p>` paragraphs.
fn live_blog(entries: usize) -> String {
    (0..entries)
        .map(|index| {
            let (hour, minute) = (6 + index / 60 % 12, index % 60);
            format!(
                "<p>{hour:02}:{minute:02} — {}</p>\n",
                ENTRIES[index % ENTRIES.len()]
            )
        })
        .collect()
}

/// A feed of the CNN fixture item plus live blogs of the given sizes.
fn feed(blogs: &[(&str, usize)]) -> String {
    let cnn = cnn_rss("cnn-putin-1", None);
    let mut items = String::new();
    for (guid, entries) in blogs {
        items.push_str(&format!(
            "<item>\n<title>Storm live: coast counts the damage ({guid})</title>\n\
             <link>https://wire.example.com/live/{guid}.html</link>\n\
             <guid isPermaLink=\"false\">{guid}</guid>\n\
             <pubDate>Wed, 25 Nov 2026 06:00:00 GMT</pubDate>\n\
             <content:encoded><![CDATA[{}]]></content:encoded>\n</item>\n",
            live_blog(*entries)
        ));
    }
    cnn.replace("</channel>", &format!("{items}</channel>"))
}

#[tokio::test]
async fn records_the_broker_cannot_take_go_to_the_dead_letter_topic_while_the_rest_flow() {
    require_broker();
    let server = FeedServer::start();
    // ~100 KB: over the topic's 64 KiB limit, so the broker refuses it;
    // ~300 KB: over the producer's 150 KB limit, so librdkafka refuses it.
    server.set(
        "/wire.xml",
        Route::feed(feed(&[("live-1", 400), ("live-2", 1200)])),
    );
    let daemon = Daemon::new("dead-letter-size", &[]);
    create_topic(&daemon.topic, 3, &[("max.message.bytes", "65536")]).await;
    daemon.write_config_full(
        &[("wire", &server.url("/wire.xml"))],
        300,
        "",
        "[kafka.librdkafka]\n\"message.max.bytes\" = \"150000\"\n",
    );
    // Uncompressed, so the record sizes are what the limits see.
    daemon.edit_config(
        "delivery_timeout_secs = 60\n",
        "delivery_timeout_secs = 60\ncompression = \"none\"\ndead_letter_max_bytes = 32768\n",
    );

    let output = daemon.run_once();
    let logs = log_lines(&output);
    assert_eq!(
        output.status.code(),
        Some(2),
        "dead letters make a partial run: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let records = read_topic(&daemon.topic).await;
    assert_eq!(records.len(), 1, "only the fixture story fits the topic");
    let record = value(&records[0]);
    assert_valid_record(&record);
    assert_eq!(record["guid"], "cnn-putin-1");

    let dead_topic = format!("{}.dead-letter", daemon.topic);
    let letters = read_topic(&dead_topic).await;
    assert_eq!(letters.len(), 2, "one dead letter per refused record");
    let mut seen = Vec::new();
    for letter in &letters {
        let body = value(letter);
        assert_valid_dead_letter(&body);
        assert_eq!(body["schema"], "wirefeed.dead-letter/1");
        assert_eq!(body["stage"], "publish");
        assert_eq!(body["error_type"], "message_too_large");
        assert_eq!(body["topic"], daemon.topic.as_str());
        assert_eq!(
            letter.header("wirefeed_dlq_error_type"),
            Some("message_too_large")
        );
        assert_eq!(letter.header("wirefeed_dlq_stage"), Some("publish"));
        assert_eq!(
            letter.header("wirefeed_original_topic"),
            Some(daemon.topic.as_str())
        );
        let id = body["id"].as_str().unwrap();
        assert_eq!(letter.header("wirefeed_original_id"), Some(id));
        assert_eq!(letter.key.as_deref(), Some(id.as_bytes()));
        let reason = letter.header("wirefeed_dlq_reason").unwrap();
        assert!(reason.contains(id), "the reason names the story: {reason}");
        assert!(
            letter.payload.as_ref().unwrap().len() <= 32768,
            "the letter fits the dead-letter budget"
        );
        // Shrunk to fit: the body text is gone, the story's facts stay.
        assert_eq!(body["shrunk"], true);
        assert!(body["original_bytes"].as_u64().unwrap() > 65536);
        assert_eq!(
            body["record"]["body"]["paragraphs"],
            Value::Array(Vec::new())
        );
        assert!(body["record"]["body"]["word_count"].as_u64().unwrap() > 10_000);
        assert_eq!(body["record"]["id"], body["id"]);
        seen.push((
            body["guid"].as_str().unwrap().to_owned(),
            if reason.contains("was not delivered") {
                "broker"
            } else if reason.contains("failed to enqueue") {
                "producer"
            } else {
                "unknown"
            },
        ));
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            ("live-1".to_owned(), "broker"),
            ("live-2".to_owned(), "producer")
        ]
    );
    let refusals: Vec<&Value> = logs
        .iter()
        .filter(|line| {
            line["message"] == "record can never be delivered; sending it to the dead-letter topic"
                && line["error_type"] == "message_too_large"
        })
        .collect();
    assert_eq!(refusals.len(), 2, "each refusal is logged");

    // The dead-lettered versions are settled: polling again sends nothing
    // anywhere.
    let again = daemon.run_once();
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(topic_record_count(&daemon.topic), 1);
    assert_eq!(topic_record_count(&dead_topic), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_one_item_is_caught_and_the_daemon_goes_on() {
    require_broker();
    let server = FeedServer::start();
    let mut rss = cnn_rss("cnn-putin-1", None);
    for guid in ["cnn-putin-normalize-bug", "cnn-putin-entities-bug"] {
        let item = cnn_rss(guid, Some(("Kremlin", &format!("Kremlin ({guid})"))));
        let start = item.find("<item>").unwrap();
        let end = item.find("</item>").unwrap() + "</item>".len();
        rss = rss.replace("</channel>", &format!("{}\n</channel>", &item[start..end]));
    }
    server.set("/wire.xml", Route::feed(rss.clone()));
    let daemon = Daemon::new("dead-letter-panic", &[("wire", &server.url("/wire.xml"))]);
    let mut settings = Settings::load(&daemon.config_path()).unwrap();
    // Bugs a release could ship: one in normalization, one in the entity
    // tagger, each tripped by one story.
    settings.fault_probe = Some(FaultProbe(Arc::new(|point, guid| match (point, guid) {
        ("normalize", Some("cnn-putin-normalize-bug")) => {
            let positions: Vec<usize> = Vec::new();
            let _ = positions[positions.len()];
        }
        ("entities", Some("cnn-putin-entities-bug")) => {
            panic!("entity tagger: span 412..398 out of order")
        }
        _ => {}
    })));

    let first = pipeline::run(
        settings.clone(),
        RunMode::Once,
        CancellationToken::new(),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        (
            first.items,
            first.published,
            first.dead_lettered,
            first.undelivered
        ),
        (3, 2, 1, 0)
    );

    let records = read_topic(&daemon.topic).await;
    assert_eq!(records.len(), 2);
    let by_guid = |guid: &str| {
        records
            .iter()
            .map(value)
            .find(|record| record["guid"] == guid)
            .unwrap_or_else(|| panic!("no record for {guid}"))
    };
    let whole = by_guid("cnn-putin-1");
    assert_valid_record(&whole);
    assert_eq!(whole["enrichment"]["failed"], Value::Array(Vec::new()));
    assert!(whole["entities"]["people"].as_array().unwrap().len() >= 5);

    let without_entities = by_guid("cnn-putin-entities-bug");
    assert_valid_record(&without_entities);
    let failed = without_entities["enrichment"]["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["step"], "entities");
    assert!(
        failed[0]["error"]
            .as_str()
            .unwrap()
            .contains("span 412..398 out of order")
    );
    assert_eq!(
        without_entities["entities"]["people"],
        Value::Array(Vec::new())
    );
    // The other steps still ran.
    assert!(!without_entities["quotes"].as_array().unwrap().is_empty());
    assert_eq!(
        without_entities["body"]["paragraphs"]
            .as_array()
            .unwrap()
            .len(),
        whole["body"]["paragraphs"].as_array().unwrap().len()
    );

    let dead_topic = format!("{}.dead-letter", daemon.topic);
    let letters = read_topic(&dead_topic).await;
    assert_eq!(letters.len(), 1);
    let letter = value(&letters[0]);
    assert_valid_dead_letter(&letter);
    assert_eq!(letter["stage"], "normalize");
    assert_eq!(letter["error_type"], "panic");
    assert_eq!(letter["guid"], "cnn-putin-normalize-bug");
    assert_eq!(letter["id"], Value::Null);
    assert!(
        letter["reason"]
            .as_str()
            .unwrap()
            .contains("index out of bounds")
    );
    // The raw item travels with it, so it can be replayed once fixed.
    assert!(
        letter["item"]["content"]
            .as_str()
            .unwrap()
            .contains("Kremlin (cnn-putin-normalize-bug)")
    );
    assert_eq!(letters[0].header("wirefeed_dlq_stage"), Some("normalize"));
    assert_eq!(
        letters[0].key.as_deref(),
        Some(b"wire:cnn-putin-normalize-bug".as_slice())
    );

    // The feed changes one story: the dead item is not dead-lettered
    // again, the story without entities is unchanged, the edited one is
    // published as version 2.
    server.set(
        "/wire.xml",
        Route::feed(rss.replacen("long-range", "longer-range", 1)),
    );
    let second = pipeline::run(settings, RunMode::Once, CancellationToken::new(), None)
        .await
        .unwrap();
    assert_eq!(
        (second.published, second.unchanged, second.dead_lettered),
        (1, 2, 0)
    );
    assert_eq!(topic_record_count(&dead_topic), 1);
    let records = read_topic(&daemon.topic).await;
    assert_eq!(records.len(), 3);
    let versions: Vec<(String, u64)> = records
        .iter()
        .map(value)
        .map(|record| {
            (
                record["guid"].as_str().unwrap().to_owned(),
                record["version"].as_u64().unwrap(),
            )
        })
        .filter(|(guid, _)| guid == "cnn-putin-1")
        .collect();
    assert_eq!(versions.len(), 2);
    assert!(versions.iter().any(|(_, version)| *version == 2));
}
