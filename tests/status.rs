//! The status page in a real browser: Debian's chromium, headless, loads
//! the page from a running daemon with JavaScript on and off; the DOM it
//! built is what a person would see.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{Daemon, FeedServer, Route, cnn_rss, eventually, http_get, require_broker};

/// The chromium binary: `WIREFEED_CHROMIUM`, else `chromium` or
/// `chromium-browser` on the PATH. Panics with instructions when there is
/// none.
fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("WIREFEED_CHROMIUM") {
        return PathBuf::from(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser"] {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "the status page test needs headless chromium: `apt-get install chromium` \
         (scripts/test.sh installs it when run as root), or set WIREFEED_CHROMIUM"
    );
}

/// Loads `url` in headless chromium and returns the DOM after its scripts
/// ran (with `javascript` on). Only loopback is reachable: every other
/// host name resolves to nothing and background services are off.
fn dump_dom(url: &str, javascript: bool, profile: &Path) -> String {
    let mut command = Command::new(chromium());
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-extensions",
        "--disable-sync",
        "--metrics-recording-only",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--virtual-time-budget=3000",
        "--dump-dom",
    ]);
    // JavaScript is turned off the way a person does it, in the profile's
    // content settings: the page's scripts are blocked while --dump-dom
    // (which reads the DOM through DevTools) still works.
    let settings = profile.join("Default");
    std::fs::create_dir_all(&settings).unwrap();
    let javascript_setting = if javascript { 1 } else { 2 };
    std::fs::write(
        settings.join("Preferences"),
        format!(
            "{{\"profile\":{{\"default_content_setting_values\":{{\"javascript\":{javascript_setting}}}}}}}"
        ),
    )
    .unwrap();
    command.arg(format!("--user-data-dir={}", profile.display()));
    let output = command.arg(url).output().expect("chromium runs");
    assert!(
        output.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("the DOM is UTF-8")
}

/// The `<tr>` of feed `id` in a dumped DOM.
fn feed_row<'a>(dom: &'a str, id: &str) -> &'a str {
    let attribute = dom
        .find(&format!("data-feed=\"{id}\""))
        .unwrap_or_else(|| panic!("no row for {id} in\n{dom}"));
    let start = dom[..attribute].rfind("<tr").unwrap_or(attribute);
    let end = dom[start..]
        .find("</tr>")
        .map_or(dom.len(), |end| start + end);
    &dom[start..end]
}

#[tokio::test]
async fn the_status_page_shows_every_feed_in_a_browser_with_and_without_javascript() {
    require_broker();
    let server = FeedServer::start();
    server.set("/cnn.rss", Route::feed(cnn_rss("cnn-status", None)));
    // The failing feed's key is in its query string, as some wire services
    // want it; the page must not show it.
    server.set("/down.rss?apikey=s3cret", Route::status(503));
    let daemon = Daemon::new("status-page", &[]);
    daemon.write_config_with(
        &[
            ("cnn-wire", &server.url("/cnn.rss")),
            ("down-wire", &server.url("/down.rss?apikey=s3cret")),
        ],
        300,
        "startup_spread_secs = 0",
    );
    let running = daemon.spawn();
    let health = running.health_address().await;
    running.wait_for_log("\"feed polled\"").await;
    running.wait_for_log("\"feed fetch failed\"").await;
    eventually("the page to show both polls", || {
        let (_, page) = http_get(&health, "/");
        page.contains("fetch failed") && page.contains("1 published")
    })
    .await;
    let url = format!("http://{health}/");
    let profiles = tempfile::tempdir().unwrap();

    // Without JavaScript: the whole page, rendered by the daemon.
    let plain = dump_dom(&url, false, &profiles.path().join("plain"));
    assert!(plain.contains("<title>wirefeed status</title>"), "{plain}");
    assert!(plain.contains("id=\"ready\">Ready</p>"), "{plain}");
    let cnn = feed_row(&plain, "cnn-wire");
    assert!(cnn.contains("class=\"feed ok\""), "{cnn}");
    assert!(
        cnn.contains("fetched: 1 item, 1 published, 0 unchanged"),
        "{cnn}"
    );
    assert!(cnn.contains("CNN Wire"), "{cnn}");
    assert!(cnn.contains(" UTC</time>"), "times are shown in UTC: {cnn}");
    assert!(cnn.contains(" ago</small>"), "{cnn}");
    let next = &cnn[cnn.find("class=\"next-poll\"").unwrap()..];
    assert!(
        next.starts_with("class=\"next-poll\"><time datetime="),
        "{cnn}"
    );
    assert!(next.contains("<small class=\"relative\">in "), "{cnn}");
    assert!(cnn.contains("<td class=\"published\">1</td>"), "{cnn}");
    let down = feed_row(&plain, "down-wire");
    assert!(down.contains("fetch failed"), "{down}");
    assert!(down.contains("HTTP 503"), "{down}");
    assert!(down.contains("<td class=\"streak\">1</td>"), "{down}");
    assert!(down.contains("class=\"feed warn\""), "{down}");
    assert!(down.contains("/down.rss?…"), "{down}");
    assert!(!plain.contains("s3cret"), "the feed's key is shown: {down}");
    assert!(
        plain.find("data-feed=\"down-wire\"") < plain.find("data-feed=\"cnn-wire\""),
        "failing feeds come first"
    );
    assert!(plain.contains("2 configured, 1 failing"), "{plain}");
    assert!(plain.contains("Records published"), "{plain}");
    assert!(!plain.contains("data-enhanced"), "no script ran: {plain}");
    assert!(!plain.contains("id=\"filter\""), "{plain}");

    // With JavaScript: the same page, enhanced.
    let enhanced = dump_dom(&url, true, &profiles.path().join("enhanced"));
    assert!(enhanced.contains("data-enhanced=\"true\""), "{enhanced}");
    assert!(enhanced.contains("id=\"filter\""), "{enhanced}");
    let cnn = feed_row(&enhanced, "cnn-wire");
    assert!(
        cnn.contains("fetched: 1 item, 1 published, 0 unchanged"),
        "{cnn}"
    );
    // Times now read in the browser's zone, the UTC text kept as a title.
    assert!(cnn.contains("title=\"20"), "{cnn}");
    assert!(feed_row(&enhanced, "down-wire").contains("HTTP 503"));

    // The page's own resources, and nothing the policy does not allow.
    let (status, script) = http_get(&health, "/status.js");
    assert_eq!(status, 200);
    assert!(script.contains("data-enhanced"));
    assert_eq!(http_get(&health, "/status.css").0, 200);

    let (code, log) = running.stop();
    assert_eq!(code, Some(0), "{log}");
}

#[tokio::test]
async fn the_status_page_and_per_feed_metrics_can_be_turned_off() {
    require_broker();
    let server = FeedServer::start();
    server.set("/cnn.rss", Route::feed(cnn_rss("cnn-no-status", None)));
    let daemon = Daemon::new("no-status-page", &[]);
    daemon.write_config_with(
        &[("cnn-wire", &server.url("/cnn.rss"))],
        300,
        "startup_spread_secs = 0",
    );
    daemon.edit_config(
        "[health]\n",
        "[health]\nstatus_page = false\nper_feed_metrics = false\n",
    );
    let running = daemon.spawn();
    let health = running.health_address().await;
    running.wait_for_log("\"feed polled\"").await;
    assert_eq!(http_get(&health, "/").0, 404);
    // Feed metrics are one series for all feeds.
    let (_, metrics) = http_get(&health, "/metrics");
    assert!(
        metrics.contains("wirefeed_feed_polls_total{outcome=\"fetched\"} 1"),
        "{metrics}"
    );
    assert!(!metrics.contains("feed_id="), "{metrics}");
    assert_eq!(http_get(&health, "/status.js").0, 404);
    assert_eq!(http_get(&health, "/healthz").0, 200);
    let (code, log) = running.stop();
    assert_eq!(code, Some(0), "{log}");
}
