//! Bytes to raw items.
//!
//! RSS 0.9x/1.0/2.0, Atom and JSON Feed are read with feed-rs. The parser is
//! built per call (feed-rs' `Parser` is `!Send`) with an id generator that
//! leaves missing ids empty: feed-rs would otherwise invent a random UUID for
//! every id-less item, and every poll would look like a new story. Identity
//! is decided later, in normalize, from what the document really carried.
//!
//! Parsing is synchronous and CPU-bound; callers run it off the async
//! reactor.

#![deny(missing_docs)]

use feed_rs::model::{Entry, Feed, FeedType, Text};
use wirefeed_model::{FeedFormat, FeedMeta, RawItem, RawMedia};

/// Limits applied while turning a document into items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseLimits {
    /// Items past this count are not returned (and counted in
    /// [`ParsedFeed::dropped_items`]).
    pub max_items: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        Self { max_items: 1000 }
    }
}

/// A parsed document: feed-level facts and its items in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedFeed {
    /// The detected format.
    pub format: FeedFormat,
    /// Feed-level metadata.
    pub meta: FeedMeta,
    /// The items, at most `max_items`.
    pub items: Vec<RawItem>,
    /// How many items were past the limit and left out.
    pub dropped_items: usize,
}

/// Why a document could not be read as a feed.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The bytes are not a feed in any supported format.
    #[error("not a feed: {reason}")]
    NotAFeed {
        /// What the parser saw.
        reason: String,
    },
    /// The document looks like a feed but is malformed.
    #[error("malformed feed: {source}")]
    Malformed {
        /// The parser's error.
        #[source]
        source: feed_rs::parser::ParseFeedError,
    },
}

impl ParseError {
    /// Returns the bounded metric label for this error.
    pub fn error_type(&self) -> &'static str {
        match self {
            ParseError::NotAFeed { .. } => "not_a_feed",
            ParseError::Malformed { .. } => "malformed",
        }
    }
}

/// Parses an RSS, Atom or JSON Feed document.
///
/// `base_url` resolves relative links (usually the URL the feed was fetched
/// from).
pub fn parse_feed(
    bytes: &[u8],
    base_url: Option<&str>,
    limits: ParseLimits,
) -> Result<ParsedFeed, ParseError> {
    if looks_like_html(bytes) {
        return Err(ParseError::NotAFeed {
            reason: "the document is an HTML page".to_owned(),
        });
    }
    let parser = feed_rs::parser::Builder::new()
        .base_uri(base_url)
        .id_generator(|_links, _title, _uri| String::new())
        .build();
    let feed = parser.parse(bytes).map_err(|err| match err {
        feed_rs::parser::ParseFeedError::ParseError(kind) => ParseError::NotAFeed {
            reason: kind.to_string(),
        },
        other => ParseError::Malformed { source: other },
    })?;
    Ok(convert(feed, limits))
}

fn convert(feed: Feed, limits: ParseLimits) -> ParsedFeed {
    let format = match feed.feed_type {
        FeedType::Atom => FeedFormat::Atom,
        FeedType::JSON => FeedFormat::JsonFeed,
        FeedType::RSS0 | FeedType::RSS1 | FeedType::RSS2 => FeedFormat::Rss,
    };
    let meta = FeedMeta {
        title: feed.title.map(|text| text.content),
        language: feed.language,
        rights: feed.rights.map(|text| text.content),
    };
    let total = feed.entries.len();
    let items: Vec<RawItem> = feed
        .entries
        .into_iter()
        .take(limits.max_items)
        .map(convert_entry)
        .collect();
    let dropped_items = total - items.len();
    ParsedFeed {
        format,
        meta,
        items,
        dropped_items,
    }
}

fn convert_entry(entry: Entry) -> RawItem {
    let url = entry
        .links
        .iter()
        .find(|link| link.rel.as_deref().is_none_or(|rel| rel == "alternate"))
        .or_else(|| entry.links.first())
        .map(|link| link.href.clone());
    let content = entry.content.and_then(|content| content.body);
    let media = entry
        .media
        .into_iter()
        .map(|object| RawMedia {
            url: object
                .content
                .iter()
                .find_map(|content| content.url.as_ref().map(|url| url.to_string())),
            caption: object
                .description
                .map(text_content)
                .or(object.title.map(text_content)),
            credit: non_empty_join(object.credits.into_iter().map(|credit| credit.entity)),
        })
        .collect();
    RawItem {
        guid: Some(entry.id).filter(|id| !id.trim().is_empty()),
        url,
        title: entry.title.map(text_content),
        summary: entry.summary.map(text_content),
        content,
        published: entry.published,
        updated: entry.updated,
        authors: entry
            .authors
            .into_iter()
            .map(|person| person.name)
            .filter(|name| !name.trim().is_empty())
            .collect(),
        categories: entry
            .categories
            .into_iter()
            .map(|category| category.label.unwrap_or(category.term))
            .collect(),
        language: entry.language,
        rights: entry.rights.map(text_content),
        media,
    }
}

fn text_content(text: Text) -> String {
    text.content
}

fn non_empty_join(parts: impl Iterator<Item = String>) -> Option<String> {
    let joined = parts
        .filter(|part| !part.trim().is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    Some(joined).filter(|joined| !joined.is_empty())
}

/// Tells an HTML page (a common answer from a moved or broken feed URL) from
/// a feed, so the error says so instead of a parser complaint.
fn looks_like_html(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(1024)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let trimmed = head.trim_start_matches('\u{feff}').trim_start();
    trimmed.starts_with("<!doctype html") || trimmed.starts_with("<html")
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel>
    <title>AP Top News</title>
    <link>https://apnews.example/</link>
    <language>en-us</language>
    <item>
      <title>Fed holds rates steady</title>
      <link>https://apnews.example/article/fed-rates-1</link>
      <guid isPermaLink="false">ap-fed-rates-1</guid>
      <dc:creator>Christopher Rugaber</dc:creator>
      <pubDate>Wed, 18 Sep 2024 18:00:00 GMT</pubDate>
      <description>The Federal Reserve left its key rate unchanged.</description>
      <content:encoded><![CDATA[<p>WASHINGTON (AP) — The Federal Reserve left its key rate unchanged.</p>]]></content:encoded>
    </item>
    <item>
      <title>No guid here</title>
      <description>An item without a guid or link.</description>
    </item>
  </channel>
</rss>"#;

    #[test]
    fn rss_items_keep_guid_content_and_author() {
        let parsed = parse_feed(RSS.as_bytes(), None, ParseLimits::default()).unwrap();
        assert_eq!(parsed.format, FeedFormat::Rss);
        assert_eq!(parsed.meta.language.as_deref(), Some("en-us"));
        assert_eq!(parsed.items.len(), 2);
        let first = &parsed.items[0];
        assert_eq!(first.guid.as_deref(), Some("ap-fed-rates-1"));
        assert_eq!(
            first.url.as_deref(),
            Some("https://apnews.example/article/fed-rates-1")
        );
        assert_eq!(first.authors, vec!["Christopher Rugaber".to_owned()]);
        assert!(
            first
                .content
                .as_deref()
                .unwrap()
                .contains("WASHINGTON (AP)")
        );
        assert_eq!(
            first.summary.as_deref(),
            Some("The Federal Reserve left its key rate unchanged.")
        );
        assert_eq!(
            first.published.unwrap().to_rfc3339(),
            "2024-09-18T18:00:00+00:00"
        );
    }

    #[test]
    fn missing_guid_stays_missing() {
        let parsed = parse_feed(RSS.as_bytes(), None, ParseLimits::default()).unwrap();
        assert_eq!(parsed.items[1].guid, None);
        assert_eq!(parsed.items[1].url, None);
    }

    #[test]
    fn item_limit_is_applied_and_counted() {
        let parsed = parse_feed(RSS.as_bytes(), None, ParseLimits { max_items: 1 }).unwrap();
        assert_eq!(parsed.items.len(), 1);
        assert_eq!(parsed.dropped_items, 1);
    }

    #[test]
    fn atom_and_json_feed_are_detected() {
        let atom = r#"<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">
            <title>Reuters World</title><id>urn:reuters:world</id>
            <updated>2024-09-13T10:00:00Z</updated>
            <entry><id>urn:reuters:1</id><title>Markets</title>
            <updated>2024-09-13T10:00:00Z</updated><content type="html">&lt;p&gt;Stocks rose.&lt;/p&gt;</content></entry>
            </feed>"#;
        let parsed = parse_feed(atom.as_bytes(), None, ParseLimits::default()).unwrap();
        assert_eq!(parsed.format, FeedFormat::Atom);
        assert_eq!(
            parsed.items[0].content.as_deref(),
            Some("<p>Stocks rose.</p>")
        );

        let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"AFP",
            "items":[{"id":"afp-1","content_text":"Paris (AFP) - Text.","title":"T"}]}"#;
        let parsed = parse_feed(json.as_bytes(), None, ParseLimits::default()).unwrap();
        assert_eq!(parsed.format, FeedFormat::JsonFeed);
        assert_eq!(parsed.items[0].guid.as_deref(), Some("afp-1"));
    }

    #[test]
    fn rss_1_0_rdf_and_rss_0_91_are_read() {
        let rdf = r#"<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://wire.example/dpa.rdf"><title>dpa English</title>
    <link>https://wire.example/</link><description>dpa</description></channel>
  <item rdf:about="https://wire.example/dpa/2024/09/13/bundestag">
    <title>Bundestag debates budget</title>
    <link>https://wire.example/dpa/2024/09/13/bundestag</link>
    <description>BERLIN (dpa) - The Bundestag began its budget week.</description>
    <dc:creator>Jana Weber</dc:creator>
    <dc:date>2024-09-13T08:30:00+02:00</dc:date>
  </item>
</rdf:RDF>"#;
        let parsed = parse_feed(rdf.as_bytes(), None, ParseLimits::default()).unwrap();
        assert_eq!(parsed.format, FeedFormat::Rss);
        let item = &parsed.items[0];
        assert_eq!(
            item.url.as_deref(),
            Some("https://wire.example/dpa/2024/09/13/bundestag")
        );
        assert_eq!(item.authors, vec!["Jana Weber".to_owned()]);
        assert_eq!(
            item.published.unwrap().to_rfc3339(),
            "2024-09-13T06:30:00+00:00"
        );

        let rss091 = r#"<?xml version="1.0"?><rss version="0.91"><channel>
            <title>UPI Top</title><link>https://wire.example/upi</link><description>UPI</description>
            <language>en</language>
            <item><title>Storm nears coast</title><link>https://wire.example/upi/storm</link>
            <description>MIAMI (UPI) -- The storm strengthened.</description></item>
            </channel></rss>"#;
        let parsed = parse_feed(rss091.as_bytes(), None, ParseLimits::default()).unwrap();
        assert_eq!(parsed.format, FeedFormat::Rss);
        assert_eq!(parsed.items[0].title.as_deref(), Some("Storm nears coast"));
        assert_eq!(parsed.items[0].guid, None);
    }

    #[test]
    fn html_page_and_broken_xml_are_errors_with_kinds() {
        let html = "<!DOCTYPE html><html><body>Not here</body></html>";
        let err = parse_feed(html.as_bytes(), None, ParseLimits::default()).unwrap_err();
        assert_eq!(err.error_type(), "not_a_feed");
        assert!(err.to_string().contains("HTML page"));

        let broken = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>x</title><item><title>unclosed";
        let err = parse_feed(broken.as_bytes(), None, ParseLimits::default()).unwrap_err();
        assert!(matches!(
            err,
            ParseError::Malformed { .. } | ParseError::NotAFeed { .. }
        ));
    }
}
