//! Agency files end to end: NewsML-G2, NewsML 1.2, NITF and ANPA files
//! dropped into a watched spool folder come out of the real broker as
//! enriched records carrying the agency's facts; a correction is the next
//! version, a kill notice a kill record for the same story; broken files
//! land in failed/ with the reason.

use serde_json::Value;

use crate::util::{
    Daemon, assert_valid_record, bootstrap, read_topic, repo_path, require_broker, value,
};

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(repo_path(&format!("crates/formats/tests/wire/{path}"))).unwrap()
}

#[tokio::test]
async fn agency_files_in_a_spool_folder_become_records_versions_and_kills() {
    require_broker();
    let daemon = Daemon::new("agency-spool", &[]);
    let spool = daemon.dir.path().join("incoming");
    std::fs::create_dir_all(&spool).unwrap();
    let config = format!(
        "[state]\npath = \"state/wirefeed.redb\"\n\n[kafka]\nbootstrap_servers = \"{}\"\ntopic = \"{}\"\n\n\
         [health]\nlisten = \"\"\n\n\
         [[feeds]]\nid = \"tna-spool\"\nspool = \"incoming\"\nspool_settle_secs = 0\nprovider = \"Tidewater News Agency\"\n",
        bootstrap(),
        daemon.topic
    );
    std::fs::write(daemon.config_path(), config).unwrap();
    let run = |expected_code: i32| {
        let output = daemon.run_once();
        assert_eq!(
            output.status.code(),
            Some(expected_code),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };

    // First delivery: a G2 story, a G2 message with two stories, a NITF
    // document, a NewsML 1.2 item, an ANPA stream of three stories; and two
    // files that are not what they claim.
    let drop = |name: &str, bytes: &[u8]| std::fs::write(spool.join(name), bytes).unwrap();
    drop(
        "01-port-strike.xml",
        &fixture("newsml-g2/01-port-strike-v1.xml"),
    );
    drop(
        "06-two-items.xml",
        &fixture("newsml-g2/06-newsmessage-two-items.xml"),
    );
    drop(
        "nitf-contributor.xml",
        &fixture("nitf/02-contributor-tagline.xml"),
    );
    drop(
        "flood-rev1.xml",
        &fixture("newsml-1.2/01-flood-halverstad-rev1.xml"),
    );
    drop("three.anpa", &fixture("anpa/02-three-stories.anpa"));
    let g2 = String::from_utf8(fixture("newsml-g2/05-embargoed.xml")).unwrap();
    drop("cut-off.xml", &g2.as_bytes()[..g2.len() / 2]);
    drop(
        "notes.txt",
        b"Call the desk before 6 pm about the weekend rota.\n",
    );
    run(2);

    assert!(spool.join("done/01-port-strike.xml").exists());
    assert!(spool.join("done/three.anpa").exists());
    let cut = std::fs::read_to_string(spool.join("failed/cut-off.xml.reason")).unwrap();
    assert!(
        cut.contains("tna-spool") && cut.contains("cut-off.xml") && cut.contains("newsml-g2"),
        "{cut}"
    );
    let notes = std::fs::read_to_string(spool.join("failed/notes.txt.reason")).unwrap();
    assert!(notes.contains("nor an agency document"), "{notes}");

    let records: Vec<Value> = read_topic(&daemon.topic).await.iter().map(value).collect();
    assert_eq!(records.len(), 8, "1 + 2 + 1 + 1 + 3 stories");
    for record in &records {
        assert_valid_record(record);
        assert!(record["wire"].is_object(), "agency facts kept: {record:#}");
    }
    let by_guid = |guid: &str| -> Value {
        read_by_guid(&records, guid).unwrap_or_else(|| panic!("no record for {guid}"))
    };
    let strike = by_guid("urn:newsml:tidewaternews.example:20261125:TNA-PORTS-STRIKE-BRAKMOOR");
    assert_eq!(strike["source"]["format"], "newsml-g2");
    assert_eq!(strike["kind"], "article");
    assert_eq!(strike["wire"]["version"], 1);
    assert_eq!(strike["wire"]["urgency"], 4);
    assert_eq!(strike["wire"]["slugline"], "PORTS-STRIKE/BRAKMOOR");
    assert!(strike["wire"]["subjects"].as_array().unwrap().len() >= 2);
    assert!(strike["body"]["paragraphs"].as_array().unwrap().len() >= 5);
    assert!(
        !strike["entities"]["places"].as_array().unwrap().is_empty()
            || !strike["keywords"].as_array().unwrap().is_empty()
    );

    let nitf = records
        .iter()
        .find(|record| record["source"]["format"] == "nitf")
        .unwrap();
    let taglines = nitf["wire"]["taglines"].as_array().unwrap();
    assert!(!taglines.is_empty());
    let body = nitf["body"]["paragraphs"].to_string();
    for tagline in taglines {
        assert!(
            !body.contains(tagline.as_str().unwrap()),
            "tagline kept out of the body"
        );
    }
    let anpa: Vec<&Value> = records
        .iter()
        .filter(|record| record["source"]["format"] == "anpa-1312")
        .collect();
    assert_eq!(anpa.len(), 3);
    assert!(anpa.iter().any(|record| record["wire"]["priority"] == "b"));

    // The correction of the G2 story and the NewsML 1.2 revision: each the
    // next version of its story.
    drop(
        "02-port-strike-v2.xml",
        &fixture("newsml-g2/02-port-strike-v2-correction.xml"),
    );
    drop(
        "flood-rev2.xml",
        &fixture("newsml-1.2/02-flood-halverstad-rev2-corrected.xml"),
    );
    // The kill notice for the first story of the two-item message.
    drop("03-kill.xml", &fixture("newsml-g2/03-kill-notice.xml"));
    run(0);
    let records: Vec<Value> = read_topic(&daemon.topic).await.iter().map(value).collect();
    assert_eq!(records.len(), 11);
    let versions = |guid: &str| -> Vec<(u64, String, String)> {
        let mut found: Vec<(u64, String, String)> = records
            .iter()
            .filter(|record| record["guid"] == guid)
            .map(|record| {
                (
                    record["version"].as_u64().unwrap(),
                    record["kind"].as_str().unwrap().to_owned(),
                    record["id"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        found.sort();
        found
    };
    let strike_versions =
        versions("urn:newsml:tidewaternews.example:20261125:TNA-PORTS-STRIKE-BRAKMOOR");
    assert_eq!(strike_versions.len(), 2);
    assert_eq!(
        (strike_versions[1].0, strike_versions[1].1.as_str()),
        (2, "article")
    );
    assert_eq!(strike_versions[0].2, strike_versions[1].2, "same story id");
    let flood = versions("meridianpress.example:20261125:MP-WX-0412");
    assert_eq!(
        flood.iter().map(|version| version.0).collect::<Vec<_>>(),
        [1, 2]
    );
    let killed = versions("urn:newsml:tidewaternews.example:20261125:TNA-COURT-FISHERIES-VALMERE");
    assert_eq!(killed.len(), 2);
    assert_eq!((killed[1].0, killed[1].1.as_str()), (2, "kill"));
    assert_eq!(killed[0].2, killed[1].2, "the kill names the story's id");
}

fn read_by_guid(records: &[Value], guid: &str) -> Option<Value> {
    records
        .iter()
        .find(|record| record["guid"] == guid)
        .cloned()
}

#[tokio::test]
async fn agency_documents_over_http_are_published_and_broken_ones_logged() {
    require_broker();
    let server = crate::util::FeedServer::start();
    server.set(
        "/g2/latest.xml",
        crate::util::Route::feed(fixture("newsml-g2/06-newsmessage-two-items.xml")),
    );
    let nitf = fixture("nitf/01-full-document.xml");
    server.set(
        "/nitf/broken.xml",
        crate::util::Route::feed(nitf[..nitf.len() * 2 / 3].to_vec()),
    );
    let daemon = Daemon::new(
        "agency-http",
        &[
            ("tna-g2", &server.url("/g2/latest.xml")),
            ("nns-nitf", &server.url("/nitf/broken.xml")),
        ],
    );
    // The feeds name no provider of their own here: the documents do.
    let config = std::fs::read_to_string(daemon.config_path())
        .unwrap()
        .replace("provider = \"CNN Wire\"\n", "");
    std::fs::write(daemon.config_path(), config).unwrap();
    let output = daemon.run_once();
    assert_eq!(output.status.code(), Some(2));
    let failure = crate::util::log_lines(&output)
        .into_iter()
        .find(|line| line["feed_id"] == "nns-nitf" && line["stage"] == "parse")
        .expect("the broken document is logged with its feed");
    let error = failure["error"].as_str().unwrap();
    assert!(error.contains("malformed nitf document"), "{error}");
    let records: Vec<Value> = read_topic(&daemon.topic).await.iter().map(value).collect();
    assert_eq!(records.len(), 2);
    for record in &records {
        assert_valid_record(record);
        assert_eq!(record["source"]["format"], "newsml-g2");
        assert_eq!(record["source"]["provider"], "Tidewater News Agency");
    }
}
