//! Full text from the article page: a teaser item, its page on the local
//! server, the enriched record in the real broker; and a page on a
//! forbidden address, refused while the item is still published.

use serde_json::Value;

use crate::util::{
    Daemon, FeedServer, Route, assert_valid_record, cnn_fixture, log_lines, read_topic,
    require_broker, value,
};

/// The CNN fixture's story paragraphs (title and the five boilerplate
/// lines left out).
fn story_paragraphs() -> Vec<String> {
    cnn_fixture()
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .skip(1)
        .filter(|line| {
            !line.starts_with("Friday, September 13")
                && !line.starts_with("Russian President Vladimir Putin chairs")
                && !line.starts_with("Alexander Kazakov")
                && !line.contains("contributed reporting")
                && !line.starts_with("The CNN Wire")
        })
        .map(str::to_owned)
        .collect()
}

/// The story as a news site serves it: JSON-LD, OpenGraph, navigation,
/// share bar, an ad and a related box inside the body, a footer.
fn article_page(canonical: &str) -> String {
    let paragraphs = story_paragraphs();
    let mut body = String::new();
    for (index, paragraph) in paragraphs.iter().enumerate() {
        body.push_str(&format!("<p>{}</p>\n", html_escape(paragraph)));
        if index == 3 {
            body.push_str("<div class=\"ad-slot\">Advertisement</div>\n<aside class=\"related\"><h3>Related</h3><ul><li><a href=\"/other\">Ukraine strikes Russian airfield</a></li></ul></aside>\n");
        }
    }
    format!(
        r##"<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Putin warns NATO | Wire Example</title>
<link rel="canonical" href="{canonical}">
<meta property="og:site_name" content="Wire Example News">
<meta property="og:image" content="/images/putin.jpg">
<meta property="article:section" content="World">
<script type="application/ld+json">{{"@context":"https://schema.org","@type":"NewsArticle",
"headline":"Russia will be 'at war' with NATO if Ukraine long-range missile restrictions lifted, Putin warns",
"author":[{{"@type":"Person","name":"Lex Harvey"}}],"datePublished":"2024-09-13T10:05:00Z",
"dateModified":"2024-09-13T12:30:00Z","publisher":{{"@type":"Organization","name":"Wire Example News"}}}}</script>
</head><body><nav><a href="/">Home</a><a href="/world">World</a></nav>
<div class="share-bar"><a href="#">Share</a></div>
<article><h1>Putin warns NATO</h1><div class="article-body">
{body}</div></article><footer>© Wire Example News</footer></body></html>"##
    )
}

fn html(page: String) -> Route {
    let mut route = Route::feed(page);
    route.content_type = "text/html; charset=utf-8";
    route
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn teaser_rss(items: &[(&str, &str)]) -> String {
    let mut rss = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Teasers</title><link>https://wire.example.com/</link><description>Teasers</description>"#,
    );
    for (guid, link) in items {
        rss.push_str(&format!(
            "<item><title>Russia will be 'at war' with NATO if Ukraine long-range missile restrictions lifted, Putin warns</title>\
             <link>{link}</link><guid isPermaLink=\"false\">{guid}</guid>\
             <pubDate>Fri, 13 Sep 2024 10:05:00 GMT</pubDate>\
             <description>Russian President Vladimir Putin has warned NATO alliance leaders that a move to lift restrictions on Ukraine's use of longer-range Western missiles…</description></item>"
        ));
    }
    rss.push_str("</channel></rss>");
    rss
}

#[tokio::test]
async fn a_teaser_item_is_published_with_its_article_page() {
    require_broker();
    let server = FeedServer::start();
    let page_url = server.url("/world/putin-nato.html");
    server.set(
        "/world/putin-nato.html",
        html(article_page("https://wire.example.com/world/putin-nato")),
    );
    server.set(
        "/teasers.rss",
        Route::feed(teaser_rss(&[("teaser-1", &page_url)])),
    );
    let daemon = Daemon::new("fulltext", &[]);
    daemon.write_config_full(
        &[("teasers", &server.url("/teasers.rss"))],
        300,
        "fulltext = \"auto\"",
        "[pages]\nallow_addresses = [\"127.0.0.1\"]",
    );
    let output = daemon.run_once();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(server.requests("/world/putin-nato.html").len(), 1);

    let records = read_topic(&daemon.topic).await;
    assert_eq!(records.len(), 1, "{stderr}");
    let record = value(&records[0]);
    assert_valid_record(&record);
    assert_eq!(record["schema"], "wirefeed.article/1.4");
    assert_eq!(record["enrichment"]["body_source"], "page_html");
    assert_eq!(record["enrichment"]["page"]["outcome"], "used");
    assert_eq!(record["enrichment"]["failed"], Value::Array(Vec::new()));

    // The full body, without the page's furniture.
    let body: Vec<String> = record["body"]["paragraphs"]
        .as_array()
        .expect("paragraphs")
        .iter()
        .map(|p| p.as_str().expect("text").to_owned())
        .collect();
    let expected = story_paragraphs();
    assert_eq!(body.len(), expected.len(), "{body:#?}");
    assert!(body[0].starts_with("Russian President Vladimir Putin has warned NATO"));
    for furniture in ["Advertisement", "Related", "Share", "Home"] {
        assert!(!body.iter().any(|p| p == furniture), "{furniture} in body");
    }

    // Metadata: the page fills what the feed left out.
    assert_eq!(
        record["canonical_url"],
        "https://wire.example.com/world/putin-nato"
    );
    assert_eq!(record["authors"], serde_json::json!(["Lex Harvey"]));
    assert_eq!(record["section"], "World");
    assert_eq!(record["publisher"], "Wire Example News");
    assert_eq!(record["updated_at"], "2024-09-13T12:30:00Z");
    assert_eq!(
        record["image"],
        format!("{}", server.url("/images/putin.jpg"))
    );

    // Entities and quotes from the full text.
    let names = |kind: &str| -> Vec<String> {
        record["entities"][kind]
            .as_array()
            .expect("names")
            .iter()
            .map(|name| name.as_str().expect("name").to_owned())
            .collect()
    };
    for person in [
        "Vladimir Putin",
        "Antony Blinken",
        "Keir Starmer",
        "Joe Biden",
    ] {
        assert!(
            names("people").contains(&person.to_owned()),
            "{person}: {:?}",
            names("people")
        );
    }
    assert!(names("organizations").contains(&"NATO".to_owned()));
    for place in ["Ukraine", "Russia", "Kyiv", "Crimea"] {
        assert!(
            names("places").contains(&place.to_owned()),
            "{place}: {:?}",
            names("places")
        );
    }
    let quotes = record["quotes"].as_array().expect("quotes");
    let putin = quotes
        .iter()
        .find(|quote| {
            quote["text"]
                .as_str()
                .is_some_and(|text| text.starts_with("This will mean that NATO countries"))
        })
        .expect("Putin's quote");
    assert_eq!(putin["speaker"], "Vladimir Putin");
    assert!(!record["keywords"].as_array().expect("keywords").is_empty());
}

#[tokio::test]
async fn a_page_on_a_forbidden_address_is_refused_and_the_item_still_published() {
    require_broker();
    let server = FeedServer::start();
    // "localhost" resolves to loopback: refused by the resolver guard.
    let by_name = server.url("/secret.html").replace("127.0.0.1", "localhost");
    // A literal metadata-service address: refused before any connection.
    let metadata = "http://169.254.169.254/latest/meta-data/".to_owned();
    server.set(
        "/secret.html",
        html(article_page("https://wire.example.com/secret")),
    );
    server.set(
        "/teasers.rss",
        Route::feed(teaser_rss(&[
            ("by-name", &by_name),
            ("metadata", &metadata),
        ])),
    );
    let daemon = Daemon::new("forbidden", &[]);
    daemon.write_config_full(
        &[("teasers", &server.url("/teasers.rss"))],
        300,
        "fulltext = \"always\"",
        "",
    );
    let output = daemon.run_once();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        server.requests("/secret.html").is_empty(),
        "the page was fetched"
    );

    let refusals: Vec<Value> = log_lines(&output)
        .into_iter()
        .filter(|line| line["message"] == "article page not fetched; the feed text is published")
        .collect();
    assert_eq!(refusals.len(), 2, "{stderr}");
    assert!(refusals.iter().all(|line| line["feed_id"] == "teasers"));

    let records = read_topic(&daemon.topic).await;
    assert_eq!(records.len(), 2, "{stderr}");
    for record in records.iter().map(value) {
        // The warning was logged in the article's span: its feed, guid and
        // story id.
        let refusal = refusals
            .iter()
            .find(|line| line["span"]["guid"] == record["guid"])
            .unwrap_or_else(|| panic!("no refusal logged for {}: {stderr}", record["guid"]));
        assert_eq!(refusal["span"]["name"], "article", "{refusal}");
        assert_eq!(refusal["span"]["feed_id"], "teasers", "{refusal}");
        assert_eq!(refusal["span"]["article_id"], record["id"], "{refusal}");
        assert_valid_record(&record);
        assert_eq!(record["enrichment"]["body_source"], "feed");
        assert_eq!(record["enrichment"]["page"]["outcome"], "refused");
        let error = record["enrichment"]["page"]["error"]
            .as_str()
            .expect("error");
        let reason = if record["guid"] == "by-name" {
            "a loopback address"
        } else {
            "a cloud metadata service address"
        };
        assert!(error.contains(reason), "{error}");
        assert!(
            record["body"]["paragraphs"][0]
                .as_str()
                .expect("teaser")
                .starts_with("Russian President Vladimir Putin has warned NATO")
        );
    }
}
