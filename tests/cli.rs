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
    // No language was declared: it is detected from the body.
    assert_eq!(record["language"], "en");
    assert!(
        record["language_confidence"].as_f64().unwrap() > 0.5,
        "{}",
        record["language_confidence"]
    );
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

#[test]
fn eval_clean_scores_the_corpus_and_enforces_a_bar() {
    let corpus = repo_path("crates/extract/tests/corpus");
    let corpus = corpus.to_str().unwrap();
    let output = wirefeed(&[
        "eval-clean",
        corpus,
        "--min-precision",
        "0.99",
        "--min-recall",
        "0.97",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for kind in [
        "copyright",
        "contributors",
        "caption",
        "credit",
        "promo",
        "all",
    ] {
        assert!(
            stdout.lines().any(|line| line.starts_with(kind)),
            "no {kind} row:\n{stdout}"
        );
    }
    assert!(stdout.contains("body paragraphs kept verbatim"), "{stdout}");

    let output = wirefeed(&["eval-clean", corpus, "--min-recall", "1.01"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("below the bar"));
}

#[test]
fn clean_uses_a_custom_rule_pack_and_refuses_a_broken_one() {
    let dir = tempfile::tempdir().unwrap();
    let story = dir.path().join("story.txt");
    std::fs::write(
        &story,
        "Harbour reopens\nThe harbour reopened on Monday.\nWIREX-FOOTER-2024 internal routing line\n",
    )
    .unwrap();
    let builtin = wirefeed(&["clean", story.to_str().unwrap()]);
    let record: Value = serde_json::from_slice(&builtin.stdout).unwrap();
    assert_eq!(record["body"]["paragraphs"].as_array().unwrap().len(), 2);

    // An operator teaches wirefeed a new service's footer without a rebuild.
    let pack = std::fs::read_to_string(repo_path("config/rules/cleaning.toml")).unwrap()
        + "\n[services.wirex]\nname = \"Wirex\"\nagencies = [\"Wirex\"]\n\n\
           [[services.wirex.rules]]\nkind = \"copyright\"\nholder = \"Wirex Ltd\"\n\
           pattern = '^WIREX-FOOTER-\\d{4}\\b'\n";
    let rules = dir.path().join("rules.toml");
    std::fs::write(&rules, pack).unwrap();
    let custom = wirefeed(&[
        "clean",
        "--rules",
        rules.to_str().unwrap(),
        story.to_str().unwrap(),
    ]);
    assert!(
        custom.status.success(),
        "{}",
        String::from_utf8_lossy(&custom.stderr)
    );
    let record: Value = serde_json::from_slice(&custom.stdout).unwrap();
    assert_valid_record(&record);
    assert_eq!(
        record["body"]["paragraphs"],
        serde_json::json!(["The harbour reopened on Monday."])
    );
    assert_eq!(record["rights"]["holder"], "Wirex Ltd");

    std::fs::write(&rules, "version = 1\n[vocabulary]\nmonths = '('\n").unwrap();
    let broken = wirefeed(&[
        "clean",
        "--rules",
        rules.to_str().unwrap(),
        story.to_str().unwrap(),
    ]);
    assert!(!broken.status.success());
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert!(stderr.contains("rules.toml"), "{stderr}");
}

#[test]
fn clean_writes_one_record_per_input_into_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = repo_path("crates/extract/tests/fixtures/cnn-wire-putin-nato.txt");
    let page = dir.path().join("markets.html");
    std::fs::write(
        &page,
        "<html lang=\"en\"><head><title>Markets rally</title></head><body><article>\
         <p>NEW YORK (AP) — Stocks rose on Wall Street.</p></article></body></html>",
    )
    .unwrap();
    let out = dir.path().join("records");
    let output = wirefeed(&[
        "clean",
        "--out",
        out.to_str().unwrap(),
        fixture.to_str().unwrap(),
        page.to_str().unwrap(),
        "/nonexistent/missing.txt",
    ]);
    // The missing file is named and fails the run; the others are written.
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("/nonexistent/missing.txt"), "{stderr}");
    let cnn: Value =
        serde_json::from_slice(&std::fs::read(out.join("cnn-wire-putin-nato.json")).unwrap())
            .unwrap();
    assert_valid_record(&cnn);
    assert_eq!(cnn["rights"]["holder"], "Cable News Network, Inc.");
    let markets: Value =
        serde_json::from_slice(&std::fs::read(out.join("markets.json")).unwrap()).unwrap();
    assert_valid_record(&markets);
    assert_eq!(
        markets["body"]["paragraphs"],
        serde_json::json!(["Stocks rose on Wall Street."])
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn fetch_prints_the_records_of_an_agency_document_or_stream() {
    let nitf = repo_path("crates/formats/tests/wire/nitf/02-contributor-tagline.xml");
    let output = wirefeed(&["fetch", nitf.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let record: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_valid_record(&record);
    assert_eq!(record["source"]["format"], "nitf");
    assert_eq!(record["kind"], "article");
    assert!(!record["wire"]["taglines"].as_array().unwrap().is_empty());

    let stream = repo_path("crates/formats/tests/wire/anpa/02-three-stories.anpa");
    let output = wirefeed(&["fetch", stream.to_str().unwrap()]);
    assert!(output.status.success());
    let records: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(records.len(), 3);
    for record in &records {
        assert_valid_record(record);
        assert_eq!(record["source"]["format"], "anpa-1312");
    }
    let priorities: Vec<&str> = records
        .iter()
        .map(|record| record["wire"]["priority"].as_str().unwrap())
        .collect();
    assert_eq!(priorities, ["b", "u", "r"]);
}

#[test]
fn check_reports_every_problem_with_its_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("wirefeed.toml");
    std::fs::write(
        &config,
        "[state]\npath = \"state.redb\"\nretention_dayz = 3\n\n\
         [kafka]\ntopic = \"articles\"\nmax_in_flight = \"lots\"\n\n\
         [pipline]\nworkers = 2\n\n\
         [[feeds]]\nid = \"good\"\nurl = \"https://wire.example.com/a.rss\"\n\n\
         [[feeds]]\nid = \"typo\"\nurl = \"https://wire.example.com/b.rss\"\ncolour = \"blue\"\n",
    )
    .unwrap();
    let output = wirefeed(&["check", "--config", config.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let report = String::from_utf8_lossy(&output.stdout);
    let name = config.display().to_string();
    for expected in [
        format!("{name}:3: state.retention_dayz: unknown field `retention_dayz`"),
        format!("{name}:7: kafka.max_in_flight: invalid type: string \"lots\""),
        format!("{name}:9: pipline: unknown section [pipline]"),
        format!("{name}:19: feeds[1].colour: unknown field `colour`"),
    ] {
        assert!(report.contains(&expected), "no {expected:?} in\n{report}");
    }

    // Values: each section's and each feed's mistakes, on their lines.
    std::fs::write(
        &config,
        "[kafka]\ntopic = \"articles\"\ncompression = \"brotli\"\n\n\
         [cleaning]\nrules = \"missing/rules.toml\"\n\n\
         [feed_defaults]\njitter = 0.9\n\n\
         [[feeds]]\nid = \"good\"\nurl = \"https://wire.example.com/a.rss\"\n\n\
         [[feeds]]\nid = \"ftp\"\nurl = \"ftp://wire.example.com/b.rss\"\n\n\
         [[feeds]]\nid = \"good\"\nprovider = \"X\"\n",
    )
    .unwrap();
    let output = wirefeed(&["check", "--config", config.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let report = String::from_utf8_lossy(&output.stdout);
    for expected in [
        format!("{name}:3: kafka.compression: must be none, gzip, snappy, lz4 or zstd"),
        format!("{name}:6: cleaning.rules: cannot read rule pack"),
        format!("{name}:9: feed_defaults.jitter: must be between 0 and 0.5"),
        format!("{name}:17: feeds[1].url: unsupported scheme ftp"),
        format!("{name}:19: feeds[2].url: give exactly one of url or spool"),
        format!("{name}:20: feeds[2].id: duplicate feed id good (also feeds[0])"),
        "6 problem(s)".to_owned(),
    ] {
        assert!(report.contains(&expected), "no {expected:?} in\n{report}");
    }

    let shipped = repo_path("config/wirefeed.toml");
    let output = wirefeed(&["check", "--config", shipped.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn check_reports_problems_in_included_files_of_feeds_with_their_own_lines() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("wirefeed.toml");
    std::fs::create_dir(dir.path().join("feeds.d")).unwrap();
    std::fs::write(
        &config,
        "[include]\nfeeds = [\"feeds.d/*.toml\"]\n\n\
         [kafka]\ntopic = \"articles\"\n\n\
         [[feeds]]\nid = \"ap-top\"\nurl = \"https://ap.example.com/top.rss\"\n",
    )
    .unwrap();
    let agencies = dir.path().join("feeds.d/agencies.toml");
    std::fs::write(
        &agencies,
        "# Agency feeds, owned by the wire desk.\n\n\
         [[feeds]]\nid = \"reuters-world\"\nurl = \"https://reuters.example.com/world.xml\"\n\n\
         [[feeds]]\nid = \"afp-fr\"\nurl = \"gopher://afp.example.com/fr\"\n\n\
         [[feeds]]\nid = \"ap-top\"\nurl = \"https://ap.example.com/top-again.rss\"\n",
    )
    .unwrap();
    let sports = dir.path().join("feeds.d/sports.toml");
    std::fs::write(
        &sports,
        "[[feeds]]\nid = \"scores\"\nurl = \"https://sports.example.com/scores.rss\"\npoll_every = 30\n",
    )
    .unwrap();

    let output = wirefeed(&["check", "--config", config.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let report = String::from_utf8_lossy(&output.stdout);
    let main = config.display().to_string();
    for expected in [
        format!(
            "{}:9: feeds[1].url: unsupported scheme gopher",
            agencies.display()
        ),
        format!(
            "{}:12: feeds[2].id: duplicate feed id ap-top (also feeds[0] in {main})",
            agencies.display()
        ),
        format!(
            "{}:4: feeds[0].poll_every: unknown field `poll_every`",
            sports.display()
        ),
        "3 problem(s)".to_owned(),
    ] {
        assert!(report.contains(&expected), "no {expected:?} in\n{report}");
    }

    // Fixed, the whole set is valid and the daemon's loader agrees.
    std::fs::write(
        &agencies,
        "[[feeds]]\nid = \"reuters-world\"\nurl = \"https://reuters.example.com/world.xml\"\n",
    )
    .unwrap();
    std::fs::write(
        &sports,
        "[[feeds]]\nid = \"scores\"\nurl = \"https://sports.example.com/scores.rss\"\n",
    )
    .unwrap();
    let output = wirefeed(&["check", "--config", config.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let settings = wirefeed::Settings::load(&config).unwrap();
    let ids: Vec<&str> = settings.feeds.iter().map(|feed| feed.id.as_str()).collect();
    assert_eq!(ids, ["ap-top", "reuters-world", "scores"]);
}
