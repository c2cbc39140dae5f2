//! The types every wirefeed stage shares: ids, the raw item a format parser
//! produces, the normalized article, and the enriched record published to
//! Kafka (schema [`SCHEMA`]).
//!
//! This crate does no I/O. It owns the two hashes that decide identity and
//! change: [`StoryId`] (who a story is, stable across polls and edits) and
//! [`content_hash`] (what a version of it says). A story whose content hash
//! changes is published again with the same id and the next version.

#![deny(missing_docs)]

mod dead_letter;
mod hash;
mod record;

pub use dead_letter::{DEAD_LETTER_SCHEMA, DeadLetter, DeadLetterPayload};

pub use hash::{content_hash, simhash};
pub use record::{
    Body, BodySource, Dateline, Enrichment, Entities, EntityKind, EntityMention, Media, PageFetch,
    PageOutcome, Quote, Record, RecordSource, Removed, RemovedKind, Rights, StepFailure,
};

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The record schema name and version carried in every record and header.
///
/// The major version changes only when a field is removed or changes
/// meaning; a minor bump adds fields. Consumers check the major version.
pub const SCHEMA: &str = "wirefeed.article/1.4";

/// The identifier of a configured feed, as written in the config file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FeedId(String);

impl FeedId {
    /// Returns a feed id wrapping `id` as given.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// Returns the id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FeedId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The stable identifier of a story: every version of a story carries the
/// same id, and it is the Kafka key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StoryId(String);

impl StoryId {
    /// Returns the id of the story a provider identifies by `guid`.
    ///
    /// The id is the first 128 bits of SHA-256 over provider and guid, as
    /// lowercase hex, so the same guid from two providers gives two stories
    /// and the same guid from one provider through two feeds gives one.
    pub fn from_provider_guid(provider: &str, guid: &str) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(provider.trim().as_bytes());
        hasher.update([0x1f]);
        hasher.update(guid.trim().as_bytes());
        let digest = hasher.finalize();
        Self(hex::encode(&digest[..16]))
    }

    /// Returns a story id wrapping an id computed earlier (e.g. read back from
    /// the state store).
    pub fn from_stored(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// Returns the id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StoryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The format a document arrived in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FeedFormat {
    /// RSS 0.9x, 1.0 (RDF) or 2.0.
    Rss,
    /// Atom 1.0.
    Atom,
    /// JSON Feed 1.x.
    JsonFeed,
    /// A single article given as plain text or HTML (the `clean` command).
    Text,
    /// IPTC NewsML-G2 (newsItem, packageItem, newsMessage).
    #[serde(rename = "newsml-g2")]
    NewsMlG2,
    /// IPTC NewsML 1.2.
    #[serde(rename = "newsml-1.2")]
    NewsMl12,
    /// IPTC NITF 3.x.
    #[serde(rename = "nitf")]
    Nitf,
    /// ANPA-1312 wire stream.
    #[serde(rename = "anpa-1312")]
    Anpa1312,
    /// IPTC 7901 wire stream.
    #[serde(rename = "iptc-7901")]
    Iptc7901,
}

impl FeedFormat {
    /// Returns the lowercase name used in records and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            FeedFormat::Rss => "rss",
            FeedFormat::Atom => "atom",
            FeedFormat::JsonFeed => "json-feed",
            FeedFormat::Text => "text",
            FeedFormat::NewsMlG2 => "newsml-g2",
            FeedFormat::NewsMl12 => "newsml-1.2",
            FeedFormat::Nitf => "nitf",
            FeedFormat::Anpa1312 => "anpa-1312",
            FeedFormat::Iptc7901 => "iptc-7901",
        }
    }
}

impl fmt::Display for FeedFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Feed-level facts a parser found, used as defaults for every item.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FeedMeta {
    /// The feed's own title.
    pub title: Option<String>,
    /// The feed's declared language tag, as written (e.g. `en-us`).
    pub language: Option<String>,
    /// The feed's rights statement.
    pub rights: Option<String>,
}

/// A picture or other media object attached to an item by the feed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct RawMedia {
    /// The media URL.
    pub url: Option<String>,
    /// The caption or description the feed gives.
    pub caption: Option<String>,
    /// The credit the feed gives.
    pub credit: Option<String>,
}

/// One item as a format parser found it: strings as they appeared (HTML
/// still HTML), nothing computed yet.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct RawItem {
    /// The item's guid/id as the document gave it; `None` when absent, never
    /// invented.
    pub guid: Option<String>,
    /// The item's link.
    pub url: Option<String>,
    /// The title, possibly with markup.
    pub title: Option<String>,
    /// The summary/description, possibly HTML.
    pub summary: Option<String>,
    /// The full content (`content:encoded`, Atom content), possibly HTML.
    pub content: Option<String>,
    /// When the item was first published.
    pub published: Option<DateTime<Utc>>,
    /// When the item was last updated.
    pub updated: Option<DateTime<Utc>>,
    /// Author names.
    pub authors: Vec<String>,
    /// Categories or keywords.
    pub categories: Vec<String>,
    /// The item's own language tag, when it has one.
    pub language: Option<String>,
    /// The item's own rights statement, when it has one.
    pub rights: Option<String>,
    /// Attached media.
    pub media: Vec<RawMedia>,
    /// What an agency document says of itself (ids, versions, urgency,
    /// subject codes …); `None` for syndication feeds.
    pub wire: Option<WireMeta>,
}

/// What an agency item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// A story to publish.
    #[default]
    Article,
    /// A kill notice: the story with this id must be withdrawn.
    Kill,
    /// A withhold notice: the story must not be used until further notice.
    Withhold,
    /// A package: a list of references to other items.
    Package,
}

/// The agency's own facts about an item, kept as they were sent.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WireMeta {
    /// Article, kill, withhold or package.
    pub kind: ItemKind,
    /// The agency's id (NewsML-G2 guid, NewsML 1.2 public identifier, NITF
    /// doc-id, ANPA/7901 selector and message number).
    pub agency_id: Option<String>,
    /// The agency's version / revision number.
    pub version: Option<u32>,
    /// The revision this one replaces (NewsML 1.2).
    pub previous_version: Option<u32>,
    /// Urgency 1 (highest) to 9, as the document gives it.
    pub urgency: Option<u8>,
    /// ANPA priority letter or 7901 priority digit.
    pub priority: Option<String>,
    /// ANPA/7901 category code(s).
    pub category: Option<String>,
    /// ANPA selector code or 7901 service identification.
    pub selector: Option<String>,
    /// Keyword/slug line.
    pub slugline: Option<String>,
    /// Subject codes (IPTC media topics, subject codes), in document order.
    pub subjects: Vec<String>,
    /// Genre code.
    pub genre: Option<String>,
    /// The dateline as sent.
    pub dateline: Option<String>,
    /// Where the story happened (located, dateline city).
    pub located: Option<String>,
    /// Credit line.
    pub credit: Option<String>,
    /// Copyright holder.
    pub copyright_holder: Option<String>,
    /// Copyright notice.
    pub copyright_notice: Option<String>,
    /// Usage terms.
    pub usage_terms: Option<String>,
    /// Not to be published before this time.
    pub embargoed_until: Option<DateTime<Utc>>,
    /// NITF release time.
    pub release_at: Option<DateTime<Utc>>,
    /// Keywords the document lists.
    pub keywords: Vec<String>,
    /// Taglines and contributor notes from the end of the story.
    pub taglines: Vec<String>,
    /// Items a package refers to.
    pub refs: Vec<String>,
    /// The word count the header gives.
    pub word_count: Option<u32>,
    /// ANPA/7901: the take ends with MORE; another take follows.
    pub continues: bool,
    /// ANPA/7901 format identifier, version and reference fields.
    pub format_id: Option<String>,
    /// ANPA/7901 version field (e.g. "1stAdd", "Correction").
    pub take: Option<String>,
    /// ANPA/7901 reference field.
    pub reference: Option<String>,
}

/// Where an article came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleSource {
    /// The configured feed id.
    pub feed_id: FeedId,
    /// The URL the feed was fetched from.
    pub feed_url: String,
    /// The provider name (from config, else the feed id).
    pub provider: String,
    /// The document format.
    pub format: FeedFormat,
}

/// A normalized article: clean Unicode text split into paragraphs, dates in
/// UTC, a stable id. The input of the extraction stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Article {
    /// The stable story id.
    pub id: StoryId,
    /// Where it came from.
    pub source: ArticleSource,
    /// The provider's guid, when the item had one.
    pub guid: Option<String>,
    /// The item's link, absolute.
    pub url: Option<String>,
    /// The canonical URL, when known.
    pub canonical_url: Option<String>,
    /// The title as plain text.
    pub title: String,
    /// The summary as plain text, when the item had one besides its body.
    pub summary: Option<String>,
    /// When it was published.
    pub published_at: Option<DateTime<Utc>>,
    /// When it was last updated.
    pub updated_at: Option<DateTime<Utc>>,
    /// When wirefeed fetched it.
    pub fetched_at: DateTime<Utc>,
    /// ISO 639-1 language code, when known.
    pub language: Option<String>,
    /// Author names from the feed.
    pub authors: Vec<String>,
    /// Categories or keywords from the feed (`<category>`, `dc:subject`).
    pub categories: Vec<String>,
    /// The feed's rights statement for the item, if any.
    pub rights: Option<String>,
    /// Media attached by the feed.
    pub media: Vec<RawMedia>,
    /// The body as plain-text paragraphs, in order.
    pub paragraphs: Vec<String>,
    /// The agency's own facts, for agency documents.
    pub wire: Option<WireMeta>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn story_id_is_stable_and_provider_scoped() {
        let first = StoryId::from_provider_guid("CNN Wire", "cnn-2024-09-13-putin");
        let again = StoryId::from_provider_guid("CNN Wire", " cnn-2024-09-13-putin ");
        let other = StoryId::from_provider_guid("Reuters", "cnn-2024-09-13-putin");
        assert_eq!(first, again);
        assert_ne!(first, other);
        assert_eq!(first.as_str().len(), 32);
        assert!(first.as_str().chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn format_names_are_lowercase() {
        assert_eq!(FeedFormat::JsonFeed.as_str(), "json-feed");
        assert_eq!(serde_json::to_string(&FeedFormat::Rss).unwrap(), "\"rss\"");
    }
}
