//! The synchronous per-item work shared by the daemon and the one-shot
//! commands: normalize, then clean and build the record.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use wirefeed_extract::{Cleaner, PageInput};
use wirefeed_model::{
    Article, ArticleSource, FeedFormat, FeedId, FeedMeta, RawItem, Record, StoryId,
};
use wirefeed_normalize::{FeedContext, NormalizeError};

use crate::config::FullText;

/// What every item of one fetched document shares.
#[derive(Debug, Clone)]
pub struct DocumentContext {
    /// Where the document came from.
    pub source: ArticleSource,
    /// Facts from the document itself.
    pub meta: FeedMeta,
    /// The configured fallback language.
    pub default_language: Option<String>,
    /// When the document was fetched.
    pub fetched_at: DateTime<Utc>,
    /// The cleaner (rule pack) to apply.
    pub cleaner: Arc<Cleaner>,
    /// When the feed's items get their article page fetched.
    pub fulltext: FullText,
    /// Feed text shorter than this (characters) is a teaser.
    pub teaser_max_chars: usize,
}

/// Turns one raw item into a normalized article.
pub fn normalize_item(raw: RawItem, ctx: &DocumentContext) -> Result<Article, NormalizeError> {
    let feed_ctx = FeedContext {
        source: &ctx.source,
        meta: &ctx.meta,
        default_language: ctx.default_language.as_deref(),
        fetched_at: ctx.fetched_at,
    };
    wirefeed_normalize::normalize(raw, &feed_ctx)
}

/// Turns one raw item into a version-1 record from the feed's text alone.
pub fn item_to_record(raw: RawItem, ctx: &DocumentContext) -> Result<Record, NormalizeError> {
    let article = normalize_item(raw, ctx)?;
    Ok(wirefeed_extract::enrich(
        article,
        PageInput::None,
        &ctx.cleaner,
    ))
}

/// Closing words of a feed text that only leads to the article.
const TEASER_ENDINGS: &[&str] = &[
    "…",
    "...",
    "[…]",
    "read more",
    "continue reading",
    "read the full story",
    "read the full article",
    "full story",
    "more »",
    "weiterlesen",
    "lire la suite",
    "leer más",
    "leia mais",
    "continua a leggere",
];

/// The article page to fetch for `article`, if its feed wants one: always,
/// or (auto) when the feed text is a teaser — shorter than
/// `teaser_max_chars`, or ending in an ellipsis or a "Read more" link.
pub fn page_wanted(article: &Article, ctx: &DocumentContext) -> Option<url::Url> {
    let link = article
        .url
        .as_deref()
        .and_then(|link| url::Url::parse(link).ok())?;
    match ctx.fulltext {
        FullText::Never => None,
        FullText::Always => Some(link),
        FullText::Auto => {
            let chars: usize = article
                .paragraphs
                .iter()
                .map(|paragraph| paragraph.chars().count())
                .sum();
            let ending = article
                .paragraphs
                .last()
                .map(|last| last.trim_end().to_lowercase())
                .unwrap_or_default();
            let teaser = chars < ctx.teaser_max_chars
                || TEASER_ENDINGS.iter().any(|end| ending.ends_with(end));
            teaser.then_some(link)
        }
    }
}

/// Turns a single article given as text into a record: an HTML page, or
/// plain text whose first line is the title and whose other lines are
/// paragraphs (blank lines ignored).
///
/// `name` (a file path, or `-` for stdin) identifies the document.
pub fn document_to_record(
    input: &str,
    name: &str,
    provider: &str,
    cleaner: &Cleaner,
) -> Result<Record, NormalizeError> {
    let feed_url = if name == "-" {
        "stdin".to_owned()
    } else {
        std::path::absolute(Path::new(name))
            .ok()
            .and_then(|path| url::Url::from_file_path(path).ok())
            .map_or_else(|| name.to_owned(), |url| url.to_string())
    };
    let is_html = wirefeed_normalize::looks_like_html(input);
    // An HTML page goes through the page extractor (main text and
    // metadata), exactly as a fetched article page does.
    let (title, paragraphs, page) = if is_html {
        let page = PageInput::Fetched {
            url: feed_url.clone(),
            html: input.to_owned(),
        };
        (String::new(), Vec::new(), page)
    } else {
        let mut lines = wirefeed_normalize::text_to_paragraphs(input).into_iter();
        let title = lines.next().unwrap_or_default();
        let paragraphs: Vec<String> = lines.collect();
        if title.is_empty() && paragraphs.is_empty() {
            return Err(NormalizeError::Empty);
        }
        (title, paragraphs, PageInput::None)
    };
    let article = Article {
        id: StoryId::from_provider_guid(provider, name),
        source: ArticleSource {
            feed_id: FeedId::new("clean"),
            feed_url,
            provider: provider.to_owned(),
            format: FeedFormat::Text,
        },
        guid: None,
        url: None,
        canonical_url: None,
        title,
        summary: None,
        published_at: None,
        updated_at: None,
        fetched_at: Utc::now(),
        language: None,
        authors: Vec::new(),
        categories: Vec::new(),
        rights: None,
        media: Vec::new(),
        paragraphs,
        wire: None,
    };
    let mut record = wirefeed_extract::enrich(article, page, cleaner);
    if record.title.is_empty() && record.body.paragraphs.is_empty() {
        return Err(NormalizeError::Empty);
    }
    // The story id: the canonical URL when the page names one, else the
    // title, so the same story saved twice gets the same id.
    let identity = record
        .canonical_url
        .clone()
        .unwrap_or_else(|| record.title.clone());
    record.id = StoryId::from_provider_guid(provider, &identity);
    Ok(record)
}
