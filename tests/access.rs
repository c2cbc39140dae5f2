//! Feeds behind credentials and proxies: secrets come from the environment
//! or files, reach the server, and never reach the logs.

use std::process::Command;

use crate::util::{
    Daemon, FeedServer, Route, bootstrap, cnn_rss, read_topic, require_broker, value,
};

#[tokio::test]
async fn credentials_and_proxies_are_used_and_never_logged() {
    require_broker();
    let server = FeedServer::start();
    server.set("/private.rss", Route::feed(cnn_rss("cnn-private", None)));
    // The proxy is a second server that answers absolute-form requests; the
    // feed's own host does not exist, so only the proxy can deliver it.
    let proxy = FeedServer::start();
    proxy.set(
        "http://feeds.invalid/wire.rss",
        Route::feed(cnn_rss("cnn-proxied", None)),
    );
    let daemon = Daemon::new("access", &[]);
    std::fs::write(daemon.dir.path().join("api-key"), "key-from-file-77\n").unwrap();
    let config = format!(
        "[state]\npath = \"state/wirefeed.redb\"\n\n\
         [kafka]\nbootstrap_servers = \"{}\"\ntopic = \"{}\"\n\n\
         [[feeds]]\nid = \"private-feed\"\nurl = \"{}\"\n\
         [feeds.auth]\ntype = \"bearer\"\ntoken = {{ env = \"WIREFEED_TEST_PRIVATE_TOKEN\" }}\n\
         [feeds.headers]\nX-Api-Key = {{ file = \"api-key\" }}\n\n\
         [[feeds]]\nid = \"proxied-feed\"\nurl = \"http://feeds.invalid/wire.rss\"\nproxy = \"{}\"\n",
        bootstrap(),
        daemon.topic,
        server.url("/private.rss"),
        proxy.url("")
    );
    std::fs::write(daemon.config_path(), config).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .args(["--log-format", "json", "run", "--once", "--config"])
        .arg(daemon.config_path())
        .env("RUST_LOG", "debug")
        .env("WIREFEED_TEST_PRIVATE_TOKEN", "tok-secret-123")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");

    let requests = server.requests("/private.rss");
    assert_eq!(
        requests[0].headers.get("authorization").map(String::as_str),
        Some("Bearer tok-secret-123")
    );
    assert_eq!(
        requests[0].headers.get("x-api-key").map(String::as_str),
        Some("key-from-file-77")
    );
    assert_eq!(proxy.requests("http://feeds.invalid/wire.rss").len(), 1);
    assert!(
        !stderr.contains("tok-secret-123") && !stderr.contains("key-from-file-77"),
        "{stderr}"
    );

    let feeds: Vec<String> = read_topic(&daemon.topic)
        .await
        .iter()
        .map(|record| {
            value(record)["source"]["feed_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(feeds.len(), 2, "{feeds:?}");
    assert!(
        feeds.contains(&"private-feed".to_owned()) && feeds.contains(&"proxied-feed".to_owned())
    );

    // Without the secret the daemon refuses to start, naming what is missing.
    let output = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .args(["run", "--once", "--config"])
        .arg(daemon.config_path())
        .env_remove("WIREFEED_TEST_PRIVATE_TOKEN")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("feeds[0].auth.token") && stderr.contains("WIREFEED_TEST_PRIVATE_TOKEN"),
        "{stderr}"
    );
}
