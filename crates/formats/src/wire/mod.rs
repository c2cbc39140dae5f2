//! Agency formats: NewsML-G2, NewsML 1.2, NITF 3.x (XML) and ANPA-1312 /
//! IPTC 7901 (character streams).
//!
//! Each document becomes raw items like a feed's, with the agency's own
//! facts in [`WireMeta`]: ids and versions, urgency or priority, subject
//! codes, slugline, rights, embargo, and whether the item is an article, a
//! kill or withhold notice, or a package. Body text is handed on as simple
//! `<p>` markup, so normalization and cleaning treat it like any feed's;
//! captions, taglines and contributor notes are kept out of it.
//!
//! The format is detected from the content, not the file name. XML is
//! decoded by what the bytes are when the declaration lies (UTF-8 bytes
//! declared ISO-8859-1) and by the declaration otherwise; undeclared bytes
//! that are not UTF-8 are read as Windows-1252, the superset of Latin-1
//! old wire systems send.

mod anpa;
mod dom;
mod g2;
mod newsml12;
mod nitf;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use wirefeed_model::{FeedFormat, RawItem, RawMedia, WireMeta};

pub(crate) use anpa::parse as parse_anpa;

/// What a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detected {
    /// RSS, Atom or JSON Feed (feed-rs reads it).
    Feed,
    /// One of the agency formats.
    Wire(FeedFormat),
    /// None of them.
    Unknown,
}

/// Tells the format from the first bytes of a document.
pub fn detect(bytes: &[u8]) -> Detected {
    let start = bytes
        .iter()
        .position(|byte| !byte.is_ascii_whitespace() && *byte != 0x16 && *byte != 0)
        .unwrap_or(bytes.len());
    let rest = &bytes[start..];
    if rest.first() == Some(&0x01) {
        return Detected::Wire(anpa::flavour(rest));
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    let head = head.trim_start_matches('\u{feff}').trim_start();
    if head.starts_with('{') {
        return Detected::Feed;
    }
    match root_name(head).as_deref() {
        Some("rss" | "feed" | "RDF" | "channel") => Detected::Feed,
        Some("newsMessage" | "newsItem" | "packageItem") => Detected::Wire(FeedFormat::NewsMlG2),
        Some("NewsML") => Detected::Wire(FeedFormat::NewsMl12),
        Some("nitf") => Detected::Wire(FeedFormat::Nitf),
        Some(_) | None if head.starts_with('<') => Detected::Unknown,
        _ => Detected::Unknown,
    }
}

/// The local name of the first element, skipping the prolog.
fn root_name(head: &str) -> Option<String> {
    let mut rest = head;
    loop {
        let open = rest.find('<')?;
        rest = &rest[open + 1..];
        if rest.starts_with('?') || rest.starts_with('!') {
            if let Some(after) = rest.strip_prefix("!--") {
                rest = &after[after.find("-->")? + 3..];
            } else {
                rest = &rest[rest.find('>')? + 1..];
            }
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
            .collect();
        let local = name.rsplit(':').next().unwrap_or(&name).to_owned();
        return Some(local);
    }
}

/// Decodes an XML document to text by what its bytes really are.
pub(crate) fn decode_xml(bytes: &[u8]) -> String {
    if let Some((encoding, _)) = encoding_rs::Encoding::for_bom(bytes) {
        return encoding.decode_with_bom_removal(bytes).0.into_owned();
    }
    let declared = crate::declared_encoding(bytes)
        .and_then(|label| encoding_rs::Encoding::for_label(label.trim().as_bytes()));
    match std::str::from_utf8(bytes) {
        // Valid UTF-8 is UTF-8, whatever a single-byte declaration says:
        // Latin-1 text with accents is almost never valid UTF-8.
        Ok(text) => text.to_owned(),
        Err(_) => declared
            .filter(|encoding| *encoding != encoding_rs::UTF_8)
            .unwrap_or(encoding_rs::WINDOWS_1252)
            .decode_without_bom_handling(bytes)
            .0
            .into_owned(),
    }
}

/// Parses the agency time forms: RFC 3339, ISO 8601 basic
/// (`20261125T081400Z`, `20261125T091400+0100`), and bare dates.
pub(crate) fn parse_time(value: &str) -> Option<DateTime<Utc>> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if let Ok(time) = DateTime::parse_from_rfc3339(value) {
        return Some(time.with_timezone(&Utc));
    }
    for format in ["%Y%m%dT%H%M%S%z", "%Y%m%dT%H%M%S%:z", "%Y-%m-%dT%H:%M:%S%z"] {
        if let Ok(time) = DateTime::parse_from_str(value, format) {
            return Some(time.with_timezone(&Utc));
        }
    }
    if let Some(utc) = value.strip_suffix('Z') {
        for format in ["%Y%m%dT%H%M%S", "%Y%m%dT%H%M"] {
            if let Ok(time) = NaiveDateTime::parse_from_str(utc, format) {
                return Some(Utc.from_utc_datetime(&time));
            }
        }
    }
    for format in ["%Y%m%dT%H%M%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(time) = NaiveDateTime::parse_from_str(value, format) {
            return Some(Utc.from_utc_datetime(&time));
        }
    }
    for format in ["%Y%m%d", "%Y-%m-%d"] {
        if let Ok(date) = NaiveDate::parse_from_str(value, format) {
            return date
                .and_hms_opt(0, 0, 0)
                .map(|time| Utc.from_utc_datetime(&time));
        }
    }
    None
}

/// Paragraphs as the simple markup normalization reads.
pub(crate) fn paragraphs_html(paragraphs: &[String]) -> Option<String> {
    if paragraphs.is_empty() {
        return None;
    }
    Some(
        paragraphs
            .iter()
            .map(|paragraph| {
                format!(
                    "<p>{}</p>",
                    paragraph
                        .replace('&', "&amp;")
                        .replace('<', "&lt;")
                        .replace('>', "&gt;")
                )
            })
            .collect(),
    )
}

/// Splits a byline into names: "By Ana Ruiz and Tom Berg" → two names.
pub(crate) fn byline_names(byline: &str) -> Vec<String> {
    let text = dom::collapse(byline);
    let text = text
        .strip_prefix("By ")
        .or_else(|| text.strip_prefix("BY "))
        .or_else(|| text.strip_prefix("by "))
        .unwrap_or(&text);
    text.split(" and ")
        .flat_map(|part| part.split(','))
        .flat_map(|part| part.split(" & "))
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

/// One parsed agency item before it becomes a raw item.
#[derive(Debug, Default)]
pub(crate) struct WireItem {
    pub guid: Option<String>,
    pub url: Option<String>,
    pub title: Option<String>,
    pub summary: Option<String>,
    pub paragraphs: Vec<String>,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    pub authors: Vec<String>,
    pub categories: Vec<String>,
    pub language: Option<String>,
    pub rights: Option<String>,
    pub media: Vec<RawMedia>,
    pub meta: WireMeta,
    /// The agency the document names as its provider.
    pub provider: Option<String>,
}

impl WireItem {
    pub fn into_raw(self) -> RawItem {
        RawItem {
            guid: self.guid,
            url: self.url,
            title: self.title,
            summary: self.summary,
            content: paragraphs_html(&self.paragraphs),
            published: self.published,
            updated: self.updated,
            authors: self.authors,
            categories: self.categories,
            language: self.language,
            rights: self.rights,
            media: self.media,
            wire: Some(self.meta),
        }
    }
}

/// Parses an agency XML document into items, and the provider the
/// document names.
pub(crate) fn parse_xml(
    format: FeedFormat,
    bytes: &[u8],
) -> Result<(Vec<RawItem>, Option<String>), String> {
    let text = decode_xml(bytes);
    // The items of a message are read one at a time and turned into raw
    // items at once, so the tree never holds more than one.
    let mut items: Vec<WireItem> = Vec::new();
    match format {
        FeedFormat::NewsMlG2 => {
            let root = dom::parse_detaching(&text, &["newsItem", "packageItem"], &mut |element| {
                items.push(g2::item(&element));
            })?;
            if root.name == "newsMessage" && items.is_empty() && root.child("itemSet").is_none() {
                return Err("the newsMessage has no <itemSet>".to_owned());
            }
            if root.name != "newsMessage" {
                items = g2::items(&root)?;
            }
        }
        FeedFormat::NewsMl12 => {
            let root = dom::parse_detaching(&text, &["NewsItem"], &mut |element| {
                items.push(newsml12::item(&element));
            })?;
            if root.name != "NewsML" {
                return Err(format!("root element is <{}>, not <NewsML>", root.name));
            }
            if items.is_empty() {
                return Err("the NewsML document has no NewsItem".to_owned());
            }
        }
        FeedFormat::Nitf => items.push(nitf::item(&dom::parse(&text)?)?),
        other => return Err(format!("{other} is not an XML format")),
    }
    let provider = items.iter().find_map(|item| item.provider.clone());
    Ok((
        items.into_iter().map(WireItem::into_raw).collect(),
        provider,
    ))
}
