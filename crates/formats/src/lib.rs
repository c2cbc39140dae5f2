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

mod wire;

pub use wire::{Detected, detect};

use std::borrow::Cow;
use std::time::Duration;

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
    /// ANPA/7901 messages in the stream that could not be read (e.g.
    /// truncated); the others are in `items`.
    pub broken_messages: usize,
    /// The feed's own scheduling hints.
    pub hints: FeedHints,
}

/// What a feed says about how often to poll it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FeedHints {
    /// RSS `<ttl>`: how long the feed may be cached.
    pub ttl: Option<Duration>,
    /// Syndication module `sy:updatePeriod` / `sy:updateFrequency`: how
    /// often the feed is updated.
    pub update_every: Option<Duration>,
    /// RSS `<skipHours>`: hours (0–23, UTC) not to poll.
    pub skip_hours: Vec<u32>,
    /// RSS `<skipDays>`: days not to poll (0 = Monday … 6 = Sunday).
    pub skip_days: Vec<u32>,
}

impl FeedHints {
    /// The longest delay the hints ask for between polls.
    pub fn min_interval(&self) -> Option<Duration> {
        self.ttl.into_iter().chain(self.update_every).max()
    }
}

/// Reads the syndication and skip hints from the channel part of an RSS
/// document (before its first item); feed-rs reads `<ttl>` itself.
fn read_hints(bytes: &[u8], ttl_minutes: Option<u32>) -> FeedHints {
    let head = &bytes[..bytes.len().min(64 * 1024)];
    let head = String::from_utf8_lossy(head);
    let head = head.find("<item").map_or(&head[..], |end| &head[..end]);
    let element = |name: &str| -> Option<String> {
        let open = head.find(&format!("{name}>"))? + name.len() + 1;
        let close = head[open..].find('<')? + open;
        Some(head[open..close].trim().to_owned())
    };
    let elements = |container: &str, name: &str| -> Vec<String> {
        let Some(start) = head.find(&format!("<{container}>")) else {
            return Vec::new();
        };
        let end = head[start..]
            .find(&format!("</{container}>"))
            .map_or(head.len(), |end| start + end);
        head[start..end]
            .split(&format!("<{name}>"))
            .skip(1)
            .filter_map(|part| part.split('<').next())
            .map(|value| value.trim().to_owned())
            .collect()
    };
    let period =
        element(":updatePeriod").and_then(|period| match period.to_ascii_lowercase().as_str() {
            "hourly" => Some(3600u64),
            "daily" => Some(86_400),
            "weekly" => Some(7 * 86_400),
            "monthly" => Some(30 * 86_400),
            "yearly" => Some(365 * 86_400),
            _ => None,
        });
    let frequency = element(":updateFrequency")
        .and_then(|frequency| frequency.parse::<u64>().ok())
        .filter(|frequency| *frequency > 0)
        .unwrap_or(1);
    const DAYS: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    FeedHints {
        ttl: ttl_minutes.map(|minutes| Duration::from_secs(u64::from(minutes) * 60)),
        update_every: period.map(|seconds| Duration::from_secs(seconds / frequency)),
        skip_hours: elements("skipHours", "hour")
            .iter()
            .filter_map(|hour| hour.parse().ok())
            .filter(|hour| *hour < 24)
            .collect(),
        skip_days: elements("skipDays", "day")
            .iter()
            .filter_map(|day| DAYS.iter().position(|name| day.eq_ignore_ascii_case(name)))
            .filter_map(|day| u32::try_from(day).ok())
            .collect(),
    }
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
    /// An agency document (NewsML-G2, NewsML 1.2, NITF, ANPA/7901) that
    /// is broken.
    #[error("malformed {format} document: {reason}")]
    Wire {
        /// The detected format.
        format: FeedFormat,
        /// What is wrong.
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
            ParseError::Malformed { .. } | ParseError::Wire { .. } => "malformed",
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
    let detected = detect(bytes);
    if let Detected::Wire(format) = detected {
        return parse_agency(format, bytes, limits);
    }
    if looks_like_html(bytes) {
        return Err(ParseError::NotAFeed {
            reason: "the document is an HTML page".to_owned(),
        });
    }
    let bytes = fix_charset(bytes);
    let parser = feed_rs::parser::Builder::new()
        .base_uri(base_url)
        .id_generator(|_links, _title, _uri| String::new())
        .build();
    let feed = parser.parse(bytes.as_ref()).map_err(|err| match err {
        feed_rs::parser::ParseFeedError::ParseError(kind) => ParseError::NotAFeed {
            reason: if detected == Detected::Unknown {
                format!(
                    "neither a feed (RSS, Atom, JSON Feed) nor an agency document \
                     (NewsML-G2, NewsML 1.2, NITF, ANPA-1312, IPTC 7901): {kind}"
                )
            } else {
                kind.to_string()
            },
        },
        other => ParseError::Malformed { source: other },
    })?;
    let ttl = feed.ttl;
    let mut parsed = convert(feed, limits);
    parsed.hints = read_hints(&bytes, ttl);
    Ok(parsed)
}

/// Parses a document as the given agency format (NewsML-G2, NewsML 1.2,
/// NITF, ANPA-1312 or IPTC 7901), without detection. [`parse_feed`]
/// detects the format and calls this for agency documents.
pub fn parse_agency(
    format: FeedFormat,
    bytes: &[u8],
    limits: ParseLimits,
) -> Result<ParsedFeed, ParseError> {
    let mut provider = None;
    let (mut items, broken_messages) = match format {
        FeedFormat::Anpa1312 | FeedFormat::Iptc7901 => {
            let (items, broken) = wire::parse_anpa(format, bytes);
            if items.is_empty() && broken > 0 {
                return Err(ParseError::Wire {
                    format,
                    reason: format!("none of its {broken} messages could be read"),
                });
            }
            (items, broken)
        }
        _ => {
            let (items, named) = wire::parse_xml(format, bytes)
                .map_err(|reason| ParseError::Wire { format, reason })?;
            provider = named;
            (items, 0)
        }
    };
    let total = items.len();
    items.truncate(limits.max_items);
    Ok(ParsedFeed {
        format,
        // The agency the document names stands where a feed's title would.
        meta: FeedMeta {
            title: provider,
            ..FeedMeta::default()
        },
        dropped_items: total - items.len(),
        items,
        broken_messages,
        hints: FeedHints::default(),
    })
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
        broken_messages: 0,
        hints: FeedHints::default(),
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
        wire: None,
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

/// Repairs the two charset lies feeds tell most often, so the text comes
/// out right instead of as mojibake or with fields silently dropped:
///
/// - declared (or defaulting to) UTF-8 but not valid UTF-8: the bytes are
///   Windows-1252 (a superset of Latin-1), decoded as such;
/// - declared ISO-8859-1 / Windows-1252 but valid UTF-8 with non-ASCII
///   characters: the bytes are UTF-8 (real Latin-1 text is almost never
///   valid UTF-8), and the declaration is corrected.
///
/// Other declared encodings are left to the XML parser.
fn fix_charset(bytes: &[u8]) -> Cow<'_, [u8]> {
    let declared = declared_encoding(bytes).map(|label| label.to_ascii_lowercase());
    let valid_utf8 = std::str::from_utf8(bytes).is_ok();
    match declared.as_deref() {
        None | Some("utf-8" | "utf8") if !valid_utf8 && !looks_like_utf16(bytes) => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            Cow::Owned(redeclare_utf8(text.as_bytes()))
        }
        Some("iso-8859-1" | "latin1" | "latin-1" | "windows-1252" | "cp1252" | "us-ascii")
            if valid_utf8 && !bytes.is_ascii() =>
        {
            Cow::Owned(redeclare_utf8(bytes))
        }
        _ => Cow::Borrowed(bytes),
    }
}

fn looks_like_utf16(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff])
}

/// The `encoding` of the XML declaration, if there is one.
pub(crate) fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(256)];
    let head = String::from_utf8_lossy(head);
    let declaration = head.trim_start_matches('\u{feff}').trim_start();
    let declaration = declaration.strip_prefix("<?xml")?;
    let declaration = &declaration[..declaration.find("?>")?];
    let at = declaration.find("encoding")?;
    let rest = declaration[at + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &rest[1..];
    Some(value[..value.find(quote)?].to_owned())
}

/// Returns `utf8` (already UTF-8 text) with its XML declaration saying so.
fn redeclare_utf8(utf8: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(utf8);
    let Some(encoding) = declared_encoding(utf8) else {
        return text.into_owned().into_bytes();
    };
    let needle = format!("\"{encoding}\"");
    let single = format!("'{encoding}'");
    text.replacen(&needle, "\"UTF-8\"", 1)
        .replacen(&single, "'UTF-8'", 1)
        .into_bytes()
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
      <category>Business</category>
      <category domain="ap:subject">Interest rates</category>
      <enclosure url="https://apnews.example/photo/fed.jpg" length="12345" type="image/jpeg"/>
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
        assert_eq!(
            first.categories,
            vec!["Business".to_owned(), "Interest rates".to_owned()]
        );
        assert_eq!(first.media.len(), 1);
        assert_eq!(
            first.media[0].url.as_deref(),
            Some("https://apnews.example/photo/fed.jpg")
        );
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

    fn first_title(bytes: &[u8]) -> Option<String> {
        parse_feed(bytes, None, ParseLimits::default())
            .unwrap()
            .items[0]
            .title
            .clone()
    }

    #[test]
    fn charsets_as_they_really_arrive() {
        let feed = |declaration: &str, title: &[u8]| {
            let mut bytes = format!(
                "<?xml version=\"1.0\"{declaration}?><rss version=\"2.0\"><channel><title>t</title><item><title>"
            )
            .into_bytes();
            bytes.extend_from_slice(title);
            bytes.extend_from_slice(b"</title><description>x</description></item></channel></rss>");
            bytes
        };
        // Latin-1, declared correctly.
        let latin1 = feed(" encoding=\"ISO-8859-1\"", b"Caf\xe9 M\xfcnchen");
        assert_eq!(first_title(&latin1).as_deref(), Some("Café München"));
        // Latin-1 bytes declared (or defaulting to) UTF-8.
        let mislabelled = feed(" encoding=\"UTF-8\"", b"Caf\xe9 \x93quoted\x94");
        assert_eq!(first_title(&mislabelled).as_deref(), Some("Café “quoted”"));
        let undeclared = feed("", b"Caf\xe9");
        assert_eq!(first_title(&undeclared).as_deref(), Some("Café"));
        // UTF-8 bytes declared as ISO-8859-1.
        let utf8_as_latin1 = feed(" encoding='iso-8859-1'", "Café München".as_bytes());
        assert_eq!(
            first_title(&utf8_as_latin1).as_deref(),
            Some("Café München")
        );
        // Plain UTF-8 is untouched.
        let utf8 = feed(" encoding=\"utf-8\"", "Zürich – “Ja”".as_bytes());
        assert_eq!(first_title(&utf8).as_deref(), Some("Zürich – “Ja”"));
    }

    #[test]
    fn scheduling_hints_are_read() {
        let rss = r#"<?xml version="1.0"?>
<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"><channel>
<title>Wire</title><ttl>45</ttl><sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>
<skipHours><hour>0</hour><hour>1</hour><hour>25</hour></skipHours><skipDays><day>Saturday</day><day>Sunday</day></skipDays>
<item><title>x</title><description>y</description></item></channel></rss>"#;
        let hints = parse_feed(rss.as_bytes(), None, ParseLimits::default())
            .unwrap()
            .hints;
        assert_eq!(hints.ttl, Some(Duration::from_secs(45 * 60)));
        assert_eq!(hints.update_every, Some(Duration::from_secs(1800)));
        assert_eq!(hints.skip_hours, vec![0, 1]);
        assert_eq!(hints.skip_days, vec![5, 6]);
        assert_eq!(hints.min_interval(), Some(Duration::from_secs(45 * 60)));
        let plain = parse_feed(RSS.as_bytes(), None, ParseLimits::default())
            .unwrap()
            .hints;
        assert_eq!(plain, FeedHints::default());
    }

    #[test]
    fn entity_expansion_is_not_performed() {
        // Billion laughs: the DTD's entities are never expanded, so the
        // document stays as small as it came.
        let mut laughs =
            String::from("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">");
        for level in 2..=9 {
            let previous = if level == 2 {
                "lol".to_owned()
            } else {
                format!("lol{}", level - 1)
            };
            let body = format!("&{previous};").repeat(10);
            laughs.push_str(&format!("<!ENTITY lol{level} \"{body}\">"));
        }
        laughs.push_str("]><rss version=\"2.0\"><channel><title>t</title><item><title>&lol9;</title><description>x</description></item></channel></rss>");
        let parsed = parse_feed(laughs.as_bytes(), None, ParseLimits::default()).unwrap();
        let title = parsed.items[0].title.clone().unwrap_or_default();
        assert!(
            title.len() < 100,
            "entity expanded to {} bytes",
            title.len()
        );
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let depth = 50_000;
        let mut deep = String::from(
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title><item><title>x</title><description>",
        );
        deep.push_str(&"<b>".repeat(depth));
        deep.push_str(&"</b>".repeat(depth));
        deep.push_str("</description></item></channel></rss>");
        let parsed = parse_feed(deep.as_bytes(), None, ParseLimits::default()).unwrap();
        assert_eq!(parsed.items.len(), 1);
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
