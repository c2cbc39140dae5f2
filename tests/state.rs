//! The state store lost or damaged: a corrupt store stops start-up with a
//! clear error; in exactly-once mode a lost store is rebuilt from the
//! changelog topic, so nothing is published twice.

use std::time::Duration;

use crate::util::{
    Daemon, FeedServer, Route, cnn_rss, log_lines, read_committed_until_idle, require_broker,
};

fn state_file(daemon: &Daemon) -> std::path::PathBuf {
    daemon.dir.path().join("state/wirefeed.redb")
}

#[tokio::test]
async fn a_corrupt_state_store_stops_start_up_naming_the_file() {
    require_broker();
    let server = FeedServer::start();
    server.set("/cnn.rss", Route::feed(cnn_rss("cnn-putin-nato", None)));
    let daemon = Daemon::new("state-corrupt", &[("cnn", &server.url("/cnn.rss"))]);
    let first = daemon.run_once();
    assert_eq!(first.status.code(), Some(0));

    // A disk fault: the middle of the file overwritten.
    let path = state_file(&daemon);
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    for byte in &mut bytes[..middle] {
        *byte = 0x5a;
    }
    std::fs::write(&path, bytes).unwrap();

    let second = daemon.run_once();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("wirefeed.redb"), "names the file: {stderr}");
    assert!(stderr.contains("cannot be opened"), "{stderr}");
    assert!(
        stderr.contains("move it aside"),
        "says what to do: {stderr}"
    );
}

#[tokio::test]
async fn exactly_once_rebuilds_a_lost_state_store_from_the_changelog() {
    require_broker();
    let server = FeedServer::start();
    server.set("/cnn.rss", Route::feed(cnn_rss("cnn-putin-nato", None)));
    server.set("/world.rss", Route::feed(cnn_rss("cnn-world-1", None)));
    let daemon = Daemon::new(
        "state-changelog",
        &[
            ("cnn", &server.url("/cnn.rss")),
            ("world", &server.url("/world.rss")),
        ],
    );
    daemon.edit_config(
        "delivery_timeout_secs = 60\n",
        "delivery_timeout_secs = 60\ndelivery = \"exactly-once\"\n",
    );
    let first = daemon.run_once();
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let bootstrap = crate::util::bootstrap();
    let records =
        read_committed_until_idle(&bootstrap, &daemon.topic, Duration::from_secs(5)).await;
    assert_eq!(records.len(), 2);

    // The volume with the store is lost.
    std::fs::remove_file(state_file(&daemon)).unwrap();
    let second = daemon.run_once();
    assert_eq!(
        second.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let logs = log_lines(&second);
    assert!(logs.iter().any(|line| {
        line["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("state store did not exist"))
    }));
    let restored = logs
        .iter()
        .find(|line| line["message"] == "state restored from the changelog")
        .expect("restore logged");
    assert!(restored["entries"].as_u64().unwrap() >= 2);
    let summary = logs
        .iter()
        .find(|line| line["message"] == "wirefeed stopped")
        .unwrap();
    assert_eq!(summary["published"], 0);
    assert_eq!(summary["unchanged"], 2);
    let records =
        read_committed_until_idle(&bootstrap, &daemon.topic, Duration::from_secs(5)).await;
    assert_eq!(records.len(), 2, "nothing published twice");

    // A damaged store: kept aside, rebuilt from the changelog, nothing
    // published twice.
    std::fs::write(
        state_file(&daemon),
        b"this is not a redb file, a disk ate it",
    )
    .unwrap();
    let third = daemon.run_once();
    assert_eq!(
        third.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&third.stderr)
    );
    let logs = log_lines(&third);
    assert!(logs.iter().any(|line| {
        line["message"]
            == "state store cannot be opened; moved aside, rebuilding it from the changelog"
    }));
    let aside = std::fs::read_dir(daemon.dir.path().join("state"))
        .unwrap()
        .filter_map(Result::ok)
        .any(|entry| entry.file_name().to_string_lossy().contains("corrupt-"));
    assert!(aside, "the damaged file is kept for inspection");
    let summary = logs
        .iter()
        .find(|line| line["message"] == "wirefeed stopped")
        .unwrap();
    assert_eq!(summary["published"], 0);
    let records =
        read_committed_until_idle(&bootstrap, &daemon.topic, Duration::from_secs(5)).await;
    assert_eq!(records.len(), 2, "nothing published twice");
}
