//! The enriched record: the JSON value of every message on the article
//! topic. Field names and meanings are the public contract described by
//! `schema/wirefeed.article.v1.json`; add fields, never rename them.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{FeedFormat, FeedId, StoryId};

/// One published version of a story.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Always [`crate::SCHEMA`].
    pub schema: String,
    /// The stable story id (also the Kafka key).
    pub id: StoryId,
    /// 1 for the first publication, +1 for each changed version.
    pub version: u32,
    /// Where the story came from.
    pub source: RecordSource,
    /// The provider's guid.
    pub guid: Option<String>,
    /// The item's link.
    pub url: Option<String>,
    /// The canonical URL.
    pub canonical_url: Option<String>,
    /// Plain-text title.
    pub title: String,
    /// Plain-text summary.
    pub summary: Option<String>,
    /// Publication time, UTC.
    pub published_at: Option<DateTime<Utc>>,
    /// Last update time, UTC.
    pub updated_at: Option<DateTime<Utc>>,
    /// When wirefeed fetched the item, UTC.
    pub fetched_at: DateTime<Utc>,
    /// ISO 639-1 code: the feed's, unless the body clearly is in another
    /// language; detected from the body when the feed declares none.
    pub language: Option<String>,
    /// How sure the body's language detection is, 0 to 1 (`None` when the
    /// text was too short to tell).
    pub language_confidence: Option<f64>,
    /// The dateline found at the top of the body.
    pub dateline: Dateline,
    /// Bylined authors.
    pub authors: Vec<String>,
    /// Categories or keywords the feed gave.
    pub categories: Vec<String>,
    /// People credited with contributing reporting.
    pub contributors: Vec<String>,
    /// The copyright/rights footer, parsed.
    pub rights: Option<Rights>,
    /// The cleaned body.
    pub body: Body,
    /// Pictures: captions and credits taken out of the body or given by the feed.
    pub media: Vec<Media>,
    /// Every piece of text cut from the body, with why.
    pub removed: Vec<Removed>,
    /// Paragraphs kept in the body that look like boilerplate of a kind but
    /// did not pass every test: kept, because a doubtful cut is never made.
    pub suspects: Vec<Removed>,
    /// Named entities.
    pub entities: Entities,
    /// Direct quotations.
    pub quotes: Vec<Quote>,
    /// A handful of key terms, most telling first (since 1.2).
    #[serde(default)]
    pub keywords: Vec<String>,
    /// The section the page files the story under (since 1.2).
    #[serde(default)]
    pub section: Option<String>,
    /// The publisher the page names (since 1.2).
    #[serde(default)]
    pub publisher: Option<String>,
    /// The lead image URL the page names (since 1.2).
    #[serde(default)]
    pub image: Option<String>,
    /// How the record was enriched: where its body came from, the article
    /// page fetch, and every enrichment step that failed (since 1.2).
    #[serde(default)]
    pub enrichment: Enrichment,
    /// Hash of the content that defines a version (title, summary, body).
    pub content_hash: String,
    /// The content hash of the previous version, for versions after the first.
    pub previous_content_hash: Option<String>,
    /// 64-bit SimHash of the body, hex, for near-duplicate detection.
    pub simhash: String,
    /// The id of the earlier story this one near-duplicates (the same wire
    /// story republished with small edits), when it does (since 1.3).
    #[serde(default)]
    pub duplicate_of: Option<StoryId>,
    /// What the record is: an article, or an agency's kill or withhold
    /// notice for the story with this id, or a package (since 1.4).
    #[serde(default)]
    pub kind: crate::ItemKind,
    /// The agency's own facts for agency formats (NewsML-G2, NewsML 1.2,
    /// NITF, ANPA-1312, IPTC 7901): ids, version, urgency or priority,
    /// subject codes, slugline, rights, embargo … (since 1.4).
    #[serde(default)]
    pub wire: Option<crate::WireMeta>,
}

/// The source block of a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordSource {
    /// Configured feed id.
    pub feed_id: FeedId,
    /// Feed URL.
    pub feed_url: String,
    /// Provider name.
    pub provider: String,
    /// Document format.
    pub format: FeedFormat,
}

/// Where and when the story was filed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Dateline {
    /// The place, e.g. `WASHINGTON`.
    pub place: Option<String>,
    /// The date.
    pub date: Option<NaiveDate>,
}

/// A parsed copyright footer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Rights {
    /// The copyright holder, e.g. `Cable News Network, Inc.`.
    pub holder: Option<String>,
    /// The copyright year.
    pub year: Option<i32>,
    /// The wire service named, e.g. `The CNN Wire`.
    pub service: Option<String>,
    /// The full statement as it appeared.
    pub statement: String,
}

/// The cleaned body.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Body {
    /// Paragraphs in order, verbatim apart from whitespace.
    pub paragraphs: Vec<String>,
    /// Words across all paragraphs.
    pub word_count: usize,
}

impl Body {
    /// Returns a body of `paragraphs` with its word count.
    pub fn new(paragraphs: Vec<String>) -> Self {
        let word_count = paragraphs
            .iter()
            .map(|p| p.split_whitespace().count())
            .sum();
        Self {
            paragraphs,
            word_count,
        }
    }
}

/// A picture's caption and credit.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Media {
    /// The media URL, when the feed gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The caption.
    pub caption: Option<String>,
    /// The credit line.
    pub credit: Option<String>,
}

/// What kind of text was cut from a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemovedKind {
    /// Copyright or rights footer.
    Copyright,
    /// Contributor/credit line.
    Contributors,
    /// Byline.
    Byline,
    /// Dateline or lone date line.
    Dateline,
    /// Photo caption.
    Caption,
    /// Photo credit.
    Credit,
    /// Promotion or page furniture ("Related: …", newsletter sign-ups).
    Promo,
    /// A note that the story was updated or corrected.
    UpdateNote,
    /// An editor's note.
    EditorsNote,
}

impl RemovedKind {
    /// Returns the snake_case name used in records and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            RemovedKind::Copyright => "copyright",
            RemovedKind::Contributors => "contributors",
            RemovedKind::Byline => "byline",
            RemovedKind::Dateline => "dateline",
            RemovedKind::Caption => "caption",
            RemovedKind::Credit => "credit",
            RemovedKind::Promo => "promo",
            RemovedKind::UpdateNote => "update_note",
            RemovedKind::EditorsNote => "editors_note",
        }
    }
}

impl fmt::Display for RemovedKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One cut: the text exactly as it stood in the body, and its kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removed {
    /// Why it was cut.
    pub kind: RemovedKind,
    /// The text cut.
    pub text: String,
}

/// Named entities.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Entities {
    /// People, most mentioned first.
    pub people: Vec<String>,
    /// Organizations, most mentioned first.
    pub organizations: Vec<String>,
    /// Places, most mentioned first.
    pub places: Vec<String>,
    /// Every entity with its kind, mention count and the surface forms
    /// that were merged into it (since 1.2).
    #[serde(default)]
    pub mentions: Vec<EntityMention>,
}

/// What kind of thing an entity is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    /// A person.
    Person,
    /// An organization.
    Organization,
    /// A place.
    Place,
}

/// One entity and how often the body names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityMention {
    /// The canonical name ("Joe Biden", "United States").
    pub name: String,
    /// Person, organization or place.
    pub kind: EntityKind,
    /// Mentions in the body, over all surface forms.
    pub mentions: usize,
    /// The forms the body used ("President Joe Biden" counts as "Joe
    /// Biden"; "Biden"; "U.S.").
    pub forms: Vec<String>,
}

/// Where a record's body came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodySource {
    /// The feed item (or file) itself.
    #[default]
    Feed,
    /// The article page's HTML.
    PageHtml,
    /// The article page's JSON-LD `articleBody`.
    PageJsonLd,
}

/// How an article page fetch went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageOutcome {
    /// The page's text and metadata were used.
    Used,
    /// The page was read, but its text was not longer than the feed's.
    NotBetter,
    /// The page's address is not allowed (private, loopback, link-local,
    /// metadata service) or its scheme is not HTTP(S).
    Refused,
    /// The fetch or the page failed (HTTP error, timeout, too large,
    /// unreadable page).
    Failed,
}

/// The article page fetch made for a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageFetch {
    /// The page URL.
    pub url: String,
    /// What came of it.
    pub outcome: PageOutcome,
    /// Why, when it was refused or failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// An enrichment step that failed; the record was published without it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepFailure {
    /// The step: `page`, `entities`, `quotes`, `keywords`, `language`.
    pub step: String,
    /// What went wrong (a panic's message, or the error).
    pub error: String,
}

/// How a record was enriched.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Enrichment {
    /// Where the body came from.
    pub body_source: BodySource,
    /// The article page fetch, when one was made.
    #[serde(default)]
    pub page: Option<PageFetch>,
    /// Steps that failed; their fields are left empty.
    #[serde(default)]
    pub failed: Vec<StepFailure>,
}

/// A direct quotation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    /// Who said it, when the text says so.
    pub speaker: Option<String>,
    /// The quoted words.
    pub text: String,
}
