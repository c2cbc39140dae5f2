//! Shared by the agency-format targets: parse as the given format, then
//! normalize and enrich every item; nothing may panic, and what comes out
//! must be well formed.

use std::sync::LazyLock;

use wirefeed_extract::{Cleaner, PageInput, enrich};
use wirefeed_formats::{ParseLimits, parse_agency};
use wirefeed_model::{ArticleSource, FeedFormat, FeedId};
use wirefeed_normalize::{FeedContext, normalize};

static CLEANER: LazyLock<Cleaner> = LazyLock::new(Cleaner::builtin);

pub fn check(format: FeedFormat, bytes: &[u8]) {
    let Ok(parsed) = parse_agency(format, bytes, ParseLimits { max_items: 50 }) else {
        return;
    };
    assert_eq!(parsed.format, format);
    assert!(parsed.items.len() <= 50);
    let source = ArticleSource {
        feed_id: FeedId::new("fuzz"),
        feed_url: "file:///spool/fuzz".to_owned(),
        provider: "Fuzz".to_owned(),
        format,
    };
    let ctx = FeedContext {
        source: &source,
        meta: &parsed.meta,
        default_language: None,
        fetched_at: chrono::Utc::now(),
    };
    for item in parsed.items {
        assert!(item.wire.is_some(), "agency items carry their facts");
        if let Ok(article) = normalize(item, &ctx) {
            let record = enrich(article, PageInput::None, &CLEANER);
            assert_eq!(record.content_hash.len(), 64);
            assert!(record.wire.is_some());
        }
    }
}
