//! Everything a fetched feed body goes through before publishing: charset
//! repair and parsing (RSS, Atom, JSON Feed), normalizing every item (HTML
//! to paragraphs, Unicode, URLs, dates, ids) and cleaning it into a record.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use wirefeed_extract::{Cleaner, enrich};
use wirefeed_formats::{ParseLimits, parse_feed};
use wirefeed_model::{ArticleSource, FeedFormat, FeedId};
use wirefeed_normalize::{FeedContext, normalize};

static CLEANER: LazyLock<Cleaner> = LazyLock::new(Cleaner::builtin);

fuzz_target!(|bytes: &[u8]| {
    let feed_url = "https://wire.example/feed.xml";
    let Ok(parsed) = parse_feed(bytes, Some(feed_url), ParseLimits { max_items: 50 }) else {
        return;
    };
    let source = ArticleSource {
        feed_id: FeedId::new("fuzz"),
        feed_url: feed_url.to_owned(),
        provider: "Fuzz".to_owned(),
        format: FeedFormat::Rss,
    };
    let ctx = FeedContext {
        source: &source,
        meta: &parsed.meta,
        default_language: None,
        fetched_at: chrono::Utc::now(),
    };
    for item in parsed.items {
        if let Ok(article) = normalize(item, &ctx) {
            let record = enrich(article, wirefeed_extract::PageInput::None, &CLEANER);
            assert_eq!(record.content_hash.len(), 64);
            assert!(
                record
                    .body
                    .paragraphs
                    .iter()
                    .all(|paragraph| !paragraph.trim().is_empty())
            );
        }
    }
});
