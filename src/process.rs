//! The synchronous per-item work shared by the daemon and the one-shot
//! commands: normalize, then clean and build the record.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use wirefeed_extract::Cleaner;
use wirefeed_model::{
    Article, ArticleSource, FeedFormat, FeedId, FeedMeta, RawItem, Record, StoryId,
};
use wirefeed_normalize::{FeedContext, NormalizeError};

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
}

/// Turns one raw item into a version-1 record.
pub fn item_to_record(raw: RawItem, ctx: &DocumentContext) -> Result<Record, NormalizeError> {
    let feed_ctx = FeedContext {
        source: &ctx.source,
        meta: &ctx.meta,
        default_language: ctx.default_language.as_deref(),
        fetched_at: ctx.fetched_at,
    };
    let article = wirefeed_normalize::normalize(raw, &feed_ctx)?;
    Ok(wirefeed_extract::enrich(article, &ctx.cleaner))
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
    let (title, paragraphs, language, canonical_url) = if wirefeed_normalize::looks_like_html(input)
    {
        let parts = wirefeed_normalize::html_page_to_article_parts(input);
        (
            parts.title.unwrap_or_default(),
            parts.paragraphs,
            parts.language,
            parts.canonical_url,
        )
    } else {
        let mut lines = wirefeed_normalize::text_to_paragraphs(input).into_iter();
        let title = lines.next().unwrap_or_default();
        (title, lines.collect(), None, None)
    };
    if title.is_empty() && paragraphs.is_empty() {
        return Err(NormalizeError::Empty);
    }
    let feed_url = if name == "-" {
        "stdin".to_owned()
    } else {
        std::path::absolute(Path::new(name))
            .ok()
            .and_then(|path| url::Url::from_file_path(path).ok())
            .map_or_else(|| name.to_owned(), |url| url.to_string())
    };
    let identity = canonical_url.clone().unwrap_or_else(|| title.clone());
    let article = Article {
        id: StoryId::from_provider_guid(provider, &identity),
        source: ArticleSource {
            feed_id: FeedId::new("clean"),
            feed_url,
            provider: provider.to_owned(),
            format: FeedFormat::Text,
        },
        guid: None,
        url: canonical_url.clone(),
        canonical_url,
        title,
        summary: None,
        published_at: None,
        updated_at: None,
        fetched_at: Utc::now(),
        language: language
            .as_deref()
            .and_then(wirefeed_normalize::language_code),
        authors: Vec::new(),
        categories: Vec::new(),
        rights: None,
        media: Vec::new(),
        paragraphs,
    };
    Ok(wirefeed_extract::enrich(article, cleaner))
}
