//! Story identity across guids, feeds and outlets: corrections are the
//! next version of one story, a story in several feeds is published once
//! per version, and the same wire story from another outlet is marked as a
//! near-duplicate.

use serde_json::Value;

use crate::util::{
    Daemon, FeedServer, Route, assert_valid_record, cnn_rss, read_topic, require_broker,
    topic_record_count, value,
};

/// `cnn_rss` with another guid and link (the same story re-issued, or
/// carried by another outlet).
fn reissued(guid: &str, link: &str, edit: Option<(&str, &str)>) -> String {
    cnn_rss(guid, edit).replace(
        &format!("https://wire.example.com/cnn/2024/09/13/{guid}.html"),
        link,
    )
}

/// Writes a config whose feeds each have their own provider.
fn write_config(daemon: &Daemon, feeds: &[(&str, &str, &str)], dedup: &str) {
    daemon.write_config(&[], 300);
    let mut config = std::fs::read_to_string(daemon.config_path()).unwrap();
    config.push_str(&format!("\n[dedup]\n{dedup}\n"));
    for (id, url, provider) in feeds {
        config.push_str(&format!(
            "\n[[feeds]]\nid = \"{id}\"\nurl = \"{url}\"\nprovider = \"{provider}\"\n"
        ));
    }
    std::fs::write(daemon.config_path(), config).unwrap();
}

#[tokio::test]
async fn a_correction_under_a_new_guid_is_the_next_version_of_the_story() {
    require_broker();
    let server = FeedServer::start();
    let link = "https://wire.example.com/cnn/2024/09/13/europe/putin-nato-long-range-missiles";
    server.set(
        "/cnn.rss",
        Route::feed(reissued("cnn-putin-0913", link, None)),
    );
    let daemon = Daemon::new("versions-reissue", &[]);
    write_config(&daemon, &[("cnn", &server.url("/cnn.rss"), "CNN Wire")], "");
    daemon.run_once_ok();

    // The desk re-issues the story with a correction and a new guid.
    server.set(
        "/cnn.rss",
        Route::feed(reissued(
            "cnn-putin-0913-corrected",
            link,
            Some(("told reporters on Thursday", "told reporters on Friday")),
        )),
    );
    daemon.run_once_ok();
    let records: Vec<Value> = read_topic(&daemon.topic).await.iter().map(value).collect();
    assert_eq!(records.len(), 2);
    let (first, second) = if records[0]["version"] == 1 {
        (&records[0], &records[1])
    } else {
        (&records[1], &records[0])
    };
    assert_valid_record(second);
    assert_eq!(second["id"], first["id"]);
    assert_eq!(second["version"], 2);
    assert_eq!(second["guid"], "cnn-putin-0913-corrected");
    assert_eq!(second["previous_content_hash"], first["content_hash"]);

    // A desk that links every item to its section front: items sharing
    // only that URL stay separate stories, even under one title.
    let front = |guid: &str, edit| {
        let item = reissued(guid, "https://wire.example.com/world/", edit);
        let start = item.find("<item>").unwrap();
        let end = item.find("</item>").unwrap() + "</item>".len();
        item[start..end].to_owned()
    };
    let feed = cnn_rss("unused", None);
    let start = feed.find("<item>").unwrap();
    let end = feed.find("</item>").unwrap() + "</item>".len();
    let items = format!(
        "{}\n{}",
        front("front-1", None),
        front("front-2", Some(("Putin", "Russian leader Putin")))
    );
    server.set(
        "/cnn.rss",
        Route::feed(format!("{}{items}{}", &feed[..start], &feed[end..])),
    );
    daemon.run_once_ok();
    let records: Vec<Value> = read_topic(&daemon.topic).await.iter().map(value).collect();
    let fronts: Vec<&Value> = records
        .iter()
        .filter(|record| record["guid"].as_str().unwrap().starts_with("front-"))
        .collect();
    assert_eq!(fronts.len(), 2);
    assert_ne!(fronts[0]["id"], fronts[1]["id"]);
    assert!(fronts.iter().all(|record| record["version"] == 1));
    assert!(fronts.iter().all(|record| record["id"] != first["id"]));
}

#[tokio::test]
async fn a_story_carried_by_two_feeds_is_published_once_per_version() {
    require_broker();
    let server = FeedServer::start();
    server.set("/top.rss", Route::feed(cnn_rss("cnn-putin-nato", None)));
    server.set("/world.rss", Route::feed(cnn_rss("cnn-putin-nato", None)));
    let daemon = Daemon::new("versions-two-feeds", &[]);
    write_config(
        &daemon,
        &[
            ("cnn-top", &server.url("/top.rss"), "CNN Wire"),
            ("cnn-world", &server.url("/world.rss"), "CNN Wire"),
        ],
        "",
    );
    daemon.run_once_ok();
    assert_eq!(topic_record_count(&daemon.topic), 1);

    let edit = Some(("told reporters on Thursday", "told reporters on Friday"));
    server.set("/top.rss", Route::feed(cnn_rss("cnn-putin-nato", edit)));
    server.set("/world.rss", Route::feed(cnn_rss("cnn-putin-nato", edit)));
    daemon.run_once_ok();
    let records: Vec<Value> = read_topic(&daemon.topic).await.iter().map(value).collect();
    let mut versions: Vec<u64> = records
        .iter()
        .map(|record| record["version"].as_u64().unwrap())
        .collect();
    versions.sort_unstable();
    assert_eq!(versions, [1, 2]);
}

#[tokio::test]
async fn the_same_wire_story_from_another_outlet_is_marked_or_withheld() {
    require_broker();
    let server = FeedServer::start();
    server.set("/cnn.rss", Route::feed(cnn_rss("cnn-putin-nato", None)));
    // Another outlet runs the wire copy under its own URL with a house
    // style edit.
    server.set(
        "/courier.rss",
        Route::feed(reissued(
            "courier-2024-09-13-0412",
            "https://courier.example.org/world/putin-nato-warning",
            Some(("told reporters on Thursday", "told journalists on Thursday")),
        )),
    );
    server.set(
        "/gazette.rss",
        Route::feed(reissued(
            "gazette-88121",
            "https://gazette.example.net/news/world/putin-warns-nato",
            Some(("appear increasingly open to", "seem increasingly open to")),
        )),
    );
    let daemon = Daemon::new("versions-near-duplicates", &[]);
    write_config(&daemon, &[("cnn", &server.url("/cnn.rss"), "CNN Wire")], "");
    daemon.run_once_ok();
    write_config(
        &daemon,
        &[
            ("cnn", &server.url("/cnn.rss"), "CNN Wire"),
            ("courier", &server.url("/courier.rss"), "Harbor Courier"),
        ],
        "",
    );
    daemon.run_once_ok();
    let records: Vec<Value> = read_topic(&daemon.topic).await.iter().map(value).collect();
    assert_eq!(records.len(), 2);
    let original = records
        .iter()
        .find(|r| r["guid"] == "cnn-putin-nato")
        .unwrap();
    let copy = records
        .iter()
        .find(|r| r["guid"] == "courier-2024-09-13-0412")
        .unwrap();
    assert_valid_record(copy);
    assert_eq!(original["duplicate_of"], Value::Null);
    assert_ne!(copy["id"], original["id"]);
    assert_eq!(copy["duplicate_of"], original["id"]);

    // Held back when configured so: the third outlet's copy is recorded
    // but not published, now or at the next poll.
    write_config(
        &daemon,
        &[
            ("cnn", &server.url("/cnn.rss"), "CNN Wire"),
            ("courier", &server.url("/courier.rss"), "Harbor Courier"),
            ("gazette", &server.url("/gazette.rss"), "Valley Gazette"),
        ],
        "publish_duplicates = false",
    );
    daemon.run_once_ok();
    daemon.run_once_ok();
    assert_eq!(topic_record_count(&daemon.topic), 2);
}

/// Runs `wirefeed tail` on the daemon's topic with `args`; the records it
/// printed.
fn tail(daemon: &Daemon, args: &[&str]) -> Vec<Value> {
    let mut all = vec![
        "tail",
        "--topic",
        daemon.topic.as_str(),
        "--idle-exit-secs",
        "6",
    ];
    let brokers = crate::util::bootstrap();
    all.extend(["--brokers", brokers.as_str()]);
    all.extend(args);
    let output = crate::util::wirefeed(&all);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    serde_json::Deserializer::from_str(&text)
        .into_iter::<Value>()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test]
async fn tail_reads_what_run_wrote_filtered_from_a_time_offset_or_group() {
    require_broker();
    let server = FeedServer::start();
    server.set("/cnn.rss", Route::feed(cnn_rss("cnn-putin-nato", None)));
    server.set(
        "/courier.rss",
        Route::feed(reissued(
            "courier-0412",
            "https://courier.example.org/world/putin-nato-warning",
            Some(("Kremlin", "Russian presidency")),
        )),
    );
    let daemon = Daemon::new("tail-filters", &[]);
    write_config(
        &daemon,
        &[
            ("cnn", &server.url("/cnn.rss"), "CNN Wire"),
            ("courier", &server.url("/courier.rss"), "Harbor Courier"),
        ],
        "",
    );
    let before = chrono::Utc::now() - chrono::Duration::minutes(1);
    daemon.run_once_ok();
    assert_eq!(topic_record_count(&daemon.topic), 2);

    let cnn = tail(&daemon, &["--from-beginning", "--provider", "cnn wire"]);
    assert_eq!(cnn.len(), 1);
    assert_eq!(cnn[0]["source"]["provider"], "CNN Wire");
    assert_eq!(
        tail(
            &daemon,
            &["--from-beginning", "--keyword", "NATO", "--language", "en"]
        )
        .len(),
        2
    );
    assert!(
        tail(
            &daemon,
            &["--from-beginning", "--keyword", "harbour strike"]
        )
        .is_empty()
    );
    assert!(tail(&daemon, &["--from-beginning", "--language", "de"]).is_empty());

    let since = before.to_rfc3339();
    assert_eq!(tail(&daemon, &["--from-time", &since]).len(), 2);
    let later = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    assert!(tail(&daemon, &["--from-time", &later]).is_empty());
    assert_eq!(tail(&daemon, &["--from-offset", "0", "--pretty"]).len(), 2);

    // A consumer group resumes where it stopped.
    let group = format!("desk-{}", daemon.topic);
    assert_eq!(
        tail(&daemon, &["--group", &group, "--from-beginning"]).len(),
        2
    );
    assert!(tail(&daemon, &["--group", &group, "--from-beginning"]).is_empty());
}
