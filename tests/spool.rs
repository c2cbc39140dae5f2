//! Spool folders: files dropped by a wire service's FTP upload come out of
//! the real broker; each file is taken once, moved to done/ or failed/.

use crate::util::{
    Daemon, bootstrap, cnn_rss, log_lines, read_topic, require_broker, topic_record_count, value,
};

#[tokio::test]
async fn spool_files_are_published_once_and_moved() {
    require_broker();
    let daemon = Daemon::new("spool", &[]);
    let spool = daemon.dir.path().join("incoming");
    std::fs::create_dir_all(&spool).unwrap();
    std::fs::write(spool.join("cnn-1.xml"), cnn_rss("spool-cnn-1", None)).unwrap();
    std::fs::write(
        spool.join("broken.xml"),
        "<?xml version=\"1.0\"?><rss><channel><item><title>cut",
    )
    .unwrap();
    std::fs::write(spool.join("cnn-2.xml.part"), cnn_rss("spool-cnn-2", None)).unwrap();
    let config = format!(
        "[state]\npath = \"state/wirefeed.redb\"\n\n[kafka]\nbootstrap_servers = \"{}\"\ntopic = \"{}\"\n\n\
         [[feeds]]\nid = \"afp-spool\"\nspool = \"incoming\"\nspool_settle_secs = 0\nprovider = \"CNN Wire\"\n",
        bootstrap(),
        daemon.topic
    );
    std::fs::write(daemon.config_path(), config).unwrap();

    let first = daemon.run_once();
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert_eq!(first.status.code(), Some(2), "{stderr}");
    assert!(spool.join("done/cnn-1.xml").exists(), "{stderr}");
    assert!(spool.join("failed/broken.xml").exists(), "{stderr}");
    let reason = std::fs::read_to_string(spool.join("failed/broken.xml.reason")).unwrap();
    assert!(
        reason.contains("afp-spool") && reason.contains("broken.xml"),
        "{reason}"
    );
    let failure = log_lines(&first)
        .into_iter()
        .find(|line| line["message"] == "spool file failed")
        .expect("the failed file is logged");
    assert_eq!(failure["feed_id"], "afp-spool");
    // A file still being uploaded under a temporary name is left alone.
    assert!(spool.join("cnn-2.xml.part").exists());
    let records = read_topic(&daemon.topic).await;
    assert_eq!(records.len(), 1);
    assert_eq!(value(&records[0])["guid"], "spool-cnn-1");

    // The upload finishes with a rename; a restart takes only the new file.
    std::fs::rename(spool.join("cnn-2.xml.part"), spool.join("cnn-2.xml")).unwrap();
    let second = daemon.run_once();
    assert_eq!(
        second.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(spool.join("done/cnn-2.xml").exists());
    assert_eq!(topic_record_count(&daemon.topic), 2);

    // Nothing left: a third run publishes nothing.
    let third = daemon.run_once();
    assert_eq!(third.status.code(), Some(0));
    assert_eq!(topic_record_count(&daemon.topic), 2);
}
