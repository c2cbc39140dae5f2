//! The one-shot commands: `clean` and `fetch` need no broker.

use serde_json::Value;

use crate::util::{assert_valid_record, repo_path, wirefeed};

#[test]
fn clean_prints_the_fixture_record() {
    let fixture = repo_path("crates/extract/tests/fixtures/cnn-wire-putin-nato.txt");
    let output = wirefeed(&["clean", "--provider", "CNN Wire", fixture.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let record: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_valid_record(&record);
    assert_eq!(record["rights"]["holder"], "Cable News Network, Inc.");
    assert_eq!(record["contributors"].as_array().unwrap().len(), 4);
    assert_eq!(record["dateline"]["date"], "2024-09-13");
    assert_eq!(record["source"]["format"], "text");
}

#[test]
fn clean_reads_html_pages_and_stdin() {
    let page = "<!doctype html><html lang=\"en\"><head><title>Markets rally</title></head><body>\
                <nav>Home | World</nav><article><h1>Markets rally</h1>\
                <p>NEW YORK (AP) — Stocks rose on Wall Street.</p><p>The S&amp;P 500 gained 1%.</p>\
                <p>Copyright 2024 The Associated Press. All rights reserved.</p></article></body></html>";
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .args(["clean", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), page.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let record: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_valid_record(&record);
    assert_eq!(record["title"], "Markets rally");
    assert_eq!(record["language"], "en");
    assert_eq!(
        record["body"]["paragraphs"],
        serde_json::json!(["Stocks rose on Wall Street.", "The S&P 500 gained 1%."])
    );
    assert_eq!(record["dateline"]["place"], "NEW YORK");
    assert_eq!(record["rights"]["holder"], "The Associated Press");
}

#[test]
fn bad_input_is_one_clear_line_and_a_failure() {
    let output = wirefeed(&["clean", "/nonexistent/story.txt"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("/nonexistent/story.txt"), "{stderr}");

    let empty = tempfile::NamedTempFile::new().unwrap();
    let output = wirefeed(&["clean", empty.path().to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no title and no body"));

    let html = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        html.path(),
        "<!doctype html><html><body>moved</body></html>",
    )
    .unwrap();
    let output = wirefeed(&["fetch", html.path().to_str().unwrap()]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a feed"), "{stderr}");
}

#[test]
fn fetch_prints_records_of_every_sample_feed() {
    for (sample, format) in [
        ("config/samples/cnn-wire.rss", "rss"),
        ("config/samples/ap-world.atom", "atom"),
        ("config/samples/afp-world.json", "json-feed"),
    ] {
        let output = wirefeed(&["fetch", repo_path(sample).to_str().unwrap()]);
        assert!(
            output.status.success(),
            "{sample}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let records: Vec<Value> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(records.len(), 3, "{sample}");
        for record in &records {
            assert_valid_record(record);
            assert_eq!(record["source"]["format"], format);
            assert!(!record["body"]["paragraphs"].as_array().unwrap().is_empty());
            assert!(
                record["rights"].is_object(),
                "{sample}: no rights in {}",
                record["title"]
            );
            assert!(
                !record["contributors"].as_array().unwrap().is_empty()
                    || record["source"]["format"] == "json-feed",
                "{sample}: no contributors in {}",
                record["title"]
            );
        }
    }
}
