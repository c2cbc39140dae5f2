//! Feeds that misbehave on purpose, all polled in one run next to a good
//! feed: each gets a clear error naming it and its cause, and the good feed
//! still publishes.

use std::time::Duration;

use serde_json::Value;

use crate::util::{
    Daemon, FeedServer, Route, cnn_rss, log_lines, read_topic, require_broker, value,
};

fn failure<'a>(logs: &'a [Value], feed: &str, stderr: &str) -> &'a Value {
    logs.iter()
        .find(|line| line["feed_id"] == feed && line["level"] == "WARN")
        .unwrap_or_else(|| panic!("no warning names {feed}:\n{stderr}"))
}

#[tokio::test]
async fn hostile_feeds_fail_alone_and_clearly() {
    require_broker();
    let server = FeedServer::start();
    server.set("/good.rss", Route::feed(cnn_rss("cnn-hostile-good", None)));
    // 64 MiB of zeros, about 64 KiB on the wire.
    server.set("/bomb.rss", Route::gzip_bomb(64 << 20));
    // 2 MiB of plain text against a 1 MiB limit.
    server.set("/huge.rss", Route::feed(vec![b'x'; 2 << 20]));
    server.set(
        "/drip.rss",
        Route::drip(cnn_rss("cnn-drip", None), Duration::from_millis(200)),
    );
    server.set("/loop-a.rss", Route::redirect(302, "/loop-b.rss"));
    server.set("/loop-b.rss", Route::redirect(302, "/loop-a.rss"));
    server.set(
        "/page.rss",
        Route::feed("<!DOCTYPE html><html><head><title>Moved</title></head><body>Our feeds moved.</body></html>"),
    );
    server.set(
        "/truncated.rss",
        Route::feed(cnn_rss("cnn-truncated", None).split_at(900).0.to_owned()),
    );
    let mut latin1 = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel>\
        <title>Wire</title><item><guid>latin-1</guid><title>Caf\xe9 owners in M\xfcnchen protest</title>\
        <description>MUNICH (dpa) - Caf\xe9 owners marched on Tuesday.</description></item></channel></rss>"
        .to_vec();
    latin1.shrink_to_fit();
    server.set("/latin1.rss", Route::feed(latin1));
    // Billion laughs: nine levels of entities, each ten times the last.
    let mut laughs = String::from("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">");
    for level in 2..=9 {
        let previous = if level == 2 {
            "lol".to_owned()
        } else {
            format!("lol{}", level - 1)
        };
        laughs.push_str(&format!(
            "<!ENTITY lol{level} \"{}\">",
            format!("&{previous};").repeat(10)
        ));
    }
    laughs.push_str(
        "]><rss version=\"2.0\"><channel><title>t</title><item><guid>laughs</guid>\
         <title>&lol9;</title><description>LONDON (Reuters) - Markets were calm.</description>\
         </item></channel></rss>",
    );
    server.set("/laughs.rss", Route::feed(laughs));
    let daemon = Daemon::new("hostile", &[]);
    let feeds: Vec<(String, String)> = [
        ("good-feed", "/good.rss"),
        ("bomb-feed", "/bomb.rss"),
        ("huge-feed", "/huge.rss"),
        ("drip-feed", "/drip.rss"),
        ("loop-feed", "/loop-a.rss"),
        ("page-feed", "/page.rss"),
        ("truncated-feed", "/truncated.rss"),
        ("latin1-feed", "/latin1.rss"),
        ("laughs-feed", "/laughs.rss"),
    ]
    .iter()
    .map(|(id, path)| ((*id).to_owned(), server.url(path)))
    .collect();
    let feeds: Vec<(&str, &str)> = feeds
        .iter()
        .map(|(id, url)| (id.as_str(), url.as_str()))
        .collect();
    daemon.write_config_full(
        &feeds,
        300,
        "",
        "[http]\ntimeout_secs = 2\nconnect_timeout_secs = 2\nmax_body_bytes = 1048576\nmax_redirects = 4",
    );

    let output = daemon.run_once();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let logs = log_lines(&output);
    let expect = |feed: &str, error_type: &str, words: &str| {
        let line = failure(&logs, feed, &stderr);
        assert_eq!(line["error_type"], error_type, "{line}");
        let error = line["error"].as_str().unwrap();
        assert!(error.contains(feed), "{line}");
        assert!(error.contains(words), "{line}");
    };
    expect("bomb-feed", "too_large", "larger than 1048576 bytes");
    expect("huge-feed", "too_large", "larger than 1048576 bytes");
    expect("drip-feed", "timeout", "timed out");
    expect("loop-feed", "redirects", "redirects");
    expect("page-feed", "not_a_feed", "HTML page");
    let truncated = failure(&logs, "truncated-feed", &stderr);
    assert_eq!(truncated["message"], "feed parse failed");

    let records: Vec<Value> = read_topic(&daemon.topic).await.iter().map(value).collect();
    let feeds_published: Vec<&str> = records
        .iter()
        .map(|record| record["source"]["feed_id"].as_str().unwrap())
        .collect();
    assert_eq!(records.len(), 3, "{feeds_published:?}");
    // The entities were never expanded: the item stays as small as it came.
    let laughs = records
        .iter()
        .find(|record| record["source"]["feed_id"] == "laughs-feed")
        .unwrap();
    assert!(
        laughs["title"].as_str().unwrap().len() < 100,
        "{}",
        laughs["title"]
    );
    assert!(feeds_published.contains(&"good-feed"));
    let latin1 = records
        .iter()
        .find(|record| record["source"]["feed_id"] == "latin1-feed")
        .unwrap();
    assert_eq!(latin1["title"], "Café owners in München protest");
    assert_eq!(
        latin1["body"]["paragraphs"][0],
        "Café owners marched on Tuesday."
    );
    assert_eq!(latin1["dateline"]["place"], "MUNICH");
}

#[tokio::test]
async fn permanent_redirects_move_the_feed_and_temporary_ones_do_not() {
    require_broker();
    let server = FeedServer::start();
    server.set("/old.rss", Route::redirect(301, "/new.rss"));
    server.set("/new.rss", Route::feed(cnn_rss("cnn-moved", None)));
    server.set("/temp.rss", Route::redirect(302, "/target.rss"));
    server.set("/target.rss", Route::feed(cnn_rss("cnn-temporary", None)));
    let daemon = Daemon::new("redirects", &[]);
    let old = server.url("/old.rss");
    let temp = server.url("/temp.rss");
    daemon.write_config(&[("moved-feed", &old), ("temp-feed", &temp)], 300);

    let first = daemon.run_once();
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let moved = log_lines(&first)
        .into_iter()
        .find(|line| {
            line["message"]
                .as_str()
                .is_some_and(|message| message.contains("moved permanently"))
        })
        .expect("the move is logged");
    assert_eq!(moved["feed_id"], "moved-feed");
    assert_eq!(moved["moved_to"], server.url("/new.rss"));
    assert_eq!(read_topic(&daemon.topic).await.len(), 2);

    let second = daemon.run_once();
    assert_eq!(
        second.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert_eq!(
        server.requests("/old.rss").len(),
        1,
        "the old URL was polled again"
    );
    assert_eq!(server.requests("/new.rss").len(), 2);
    assert_eq!(
        server.requests("/temp.rss").len(),
        2,
        "a temporary redirect moved the feed"
    );
}
