//! Raw item to article.
//!
//! Normalizing makes every item look the same whatever format it came in:
//! HTML becomes plain-text paragraphs (block elements and `<br>` end a
//! paragraph, entities decoded, scripts and styles dropped), text is Unicode
//! NFC with whitespace folded, links are absolute and fragment-free, dates
//! are UTC, the language is an ISO 639-1 code, and the story gets its stable
//! id.
//!
//! The id rule, in order: provider + guid; else provider + canonical link;
//! else provider + title + publication time. The parser never invents ids
//! (see `wirefeed-formats`), so an id-less item keeps one id across polls as
//! long as its link (or title and date) stays the same.
//!
//! Pure and synchronous: no I/O, no async.

#![deny(missing_docs)]

mod html;
mod text;

pub use html::{html_to_paragraphs, looks_like_html};
pub use text::{clean_whitespace, text_to_paragraphs};

use chrono::{DateTime, Utc};
use url::Url;
use wirefeed_model::{Article, ArticleSource, FeedMeta, RawItem, StoryId};

/// Feed-level context for normalizing the items of one document.
#[derive(Debug, Clone)]
pub struct FeedContext<'a> {
    /// Where the items came from.
    pub source: &'a ArticleSource,
    /// Facts from the feed itself.
    pub meta: &'a FeedMeta,
    /// A configured language, used when neither item nor feed declares one.
    pub default_language: Option<&'a str>,
    /// When the document was fetched.
    pub fetched_at: DateTime<Utc>,
}

/// Why an item could not become an article.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NormalizeError {
    /// The item has neither a title nor any body text.
    #[error("item has no title and no body text")]
    Empty,
}

impl NormalizeError {
    /// Returns the bounded metric label for this error.
    pub fn error_type(&self) -> &'static str {
        match self {
            NormalizeError::Empty => "empty_item",
        }
    }
}

/// Turns one raw item into an article.
pub fn normalize(item: RawItem, ctx: &FeedContext<'_>) -> Result<Article, NormalizeError> {
    let title = item.title.as_deref().map(inline_text).unwrap_or_default();
    let content_paragraphs = item
        .content
        .as_deref()
        .map(markup_to_paragraphs)
        .unwrap_or_default();
    let summary_paragraphs = item
        .summary
        .as_deref()
        .map(markup_to_paragraphs)
        .unwrap_or_default();
    let (paragraphs, summary) = if content_paragraphs.is_empty() {
        (summary_paragraphs, None)
    } else {
        let summary = Some(summary_paragraphs.join(" ")).filter(|summary| !summary.is_empty());
        (content_paragraphs, summary)
    };
    if title.is_empty() && paragraphs.is_empty() {
        return Err(NormalizeError::Empty);
    }
    let url = item
        .url
        .as_deref()
        .and_then(|link| absolute_url(link, &ctx.source.feed_url));
    let canonical_url = url.as_deref().map(canonicalize_url);
    let guid = item
        .guid
        .map(|guid| guid.trim().to_owned())
        .filter(|guid| !guid.is_empty());
    let provider = ctx.source.provider.as_str();
    let id = match (&guid, &canonical_url) {
        (Some(guid), _) => StoryId::from_provider_guid(provider, guid),
        (None, Some(canonical)) => StoryId::from_provider_guid(provider, canonical),
        (None, None) => {
            let published = item
                .published
                .map(|time| time.to_rfc3339())
                .unwrap_or_default();
            StoryId::from_provider_guid(provider, &format!("{title}\u{1f}{published}"))
        }
    };
    let language = item
        .language
        .as_deref()
        .or(ctx.meta.language.as_deref())
        .or(ctx.default_language)
        .and_then(language_code);
    Ok(Article {
        id,
        source: ctx.source.clone(),
        guid,
        url,
        canonical_url,
        title,
        summary,
        published_at: item.published,
        updated_at: item
            .updated
            .filter(|updated| Some(*updated) != item.published),
        fetched_at: ctx.fetched_at,
        language,
        authors: item
            .authors
            .iter()
            .map(|name| clean_whitespace(name))
            .collect(),
        categories: {
            let mut categories: Vec<String> = Vec::new();
            for category in item.categories.iter().map(|category| inline_text(category)) {
                if !category.is_empty() && !categories.contains(&category) {
                    categories.push(category);
                }
            }
            categories
        },
        rights: item
            .rights
            .as_deref()
            .map(clean_whitespace)
            .or(ctx.meta.rights.clone()),
        media: item.media,
        paragraphs,
        wire: item.wire,
    })
}

/// Returns paragraphs from HTML or plain text, whichever `input` is.
pub fn markup_to_paragraphs(input: &str) -> Vec<String> {
    if looks_like_html(input) {
        html_to_paragraphs(input)
    } else {
        text_to_paragraphs(input)
    }
}

/// Returns one line of plain text from a title-like field that may carry
/// markup.
///
/// Character references are decoded even without tags: feeds often escape
/// titles twice, so `AT&amp;T` reaches us after XML decoding.
pub fn inline_text(input: &str) -> String {
    if looks_like_html(input) || has_character_reference(input) {
        html_to_paragraphs(input).join(" ")
    } else {
        clean_whitespace(input)
    }
}

/// Returns true when `input` contains something like `&amp;` or `&#8217;`.
fn has_character_reference(input: &str) -> bool {
    input.match_indices('&').any(|(start, _)| {
        let rest = &input[start + 1..];
        let name_len = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '#')
            .count();
        (1..=10).contains(&name_len) && rest[name_len..].starts_with(';')
    })
}

/// Returns the ISO 639-1 code of a language tag (`en-US` → `en`), or `None`
/// when the tag has no two-letter primary subtag.
pub fn language_code(tag: &str) -> Option<String> {
    let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
    (primary.len() == 2 && primary.chars().all(|c| c.is_ascii_lowercase())).then_some(primary)
}

/// Resolves `link` against `base` and drops the fragment.
fn absolute_url(link: &str, base: &str) -> Option<String> {
    let link = link.trim();
    let parsed = Url::parse(link).or_else(|_| Url::parse(base).and_then(|base| base.join(link)));
    let mut url = parsed.ok()?;
    url.set_fragment(None);
    Some(url.to_string())
}

/// Returns a URL without tracking parameters, so the same article linked
/// from two campaigns is one story.
fn canonicalize_url(url: &str) -> String {
    let Ok(mut parsed) = Url::parse(url) else {
        return url.to_owned();
    };
    let kept: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(key, _)| !is_tracking_param(key))
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    if kept.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(kept);
    }
    parsed.to_string()
}

fn is_tracking_param(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.starts_with("utm_")
        || matches!(
            key.as_str(),
            "fbclid" | "gclid" | "mc_cid" | "mc_eid" | "cmpid" | "taid"
        )
}

#[cfg(test)]
mod tests {
    use wirefeed_model::{FeedFormat, FeedId};

    use super::*;

    fn source() -> ArticleSource {
        ArticleSource {
            feed_id: FeedId::new("cnn-wire"),
            feed_url: "https://wire.example/cnn/feed.xml".to_owned(),
            provider: "CNN Wire".to_owned(),
            format: FeedFormat::Rss,
        }
    }

    fn ctx<'a>(source: &'a ArticleSource, meta: &'a FeedMeta) -> FeedContext<'a> {
        FeedContext {
            source,
            meta,
            default_language: None,
            fetched_at: DateTime::parse_from_rfc3339("2024-09-13T12:00:00Z")
                .unwrap()
                .into(),
        }
    }

    #[test]
    fn html_content_becomes_paragraphs_and_summary_is_kept() {
        let source = source();
        let meta = FeedMeta {
            language: Some("en-US".to_owned()),
            ..FeedMeta::default()
        };
        let item = RawItem {
            guid: Some(" cnn-1 ".to_owned()),
            url: Some("/2024/09/13/putin.html?utm_source=rss#top".to_owned()),
            title: Some("Putin &amp; NATO".to_owned()),
            categories: vec![
                " World ".to_owned(),
                "World".to_owned(),
                "Europe &amp; Russia".to_owned(),
            ],
            summary: Some("Putin warns NATO.".to_owned()),
            content: Some("<p>First&nbsp;paragraph.</p><p>Second <b>bold</b> one.</p>".to_owned()),
            ..RawItem::default()
        };
        let article = normalize(item, &ctx(&source, &meta)).unwrap();
        assert_eq!(article.title, "Putin & NATO");
        assert_eq!(article.categories, vec!["World", "Europe & Russia"]);
        assert_eq!(
            article.paragraphs,
            vec!["First paragraph.", "Second bold one."]
        );
        assert_eq!(article.summary.as_deref(), Some("Putin warns NATO."));
        assert_eq!(article.language.as_deref(), Some("en"));
        assert_eq!(article.guid.as_deref(), Some("cnn-1"));
        assert_eq!(
            article.url.as_deref(),
            Some("https://wire.example/2024/09/13/putin.html?utm_source=rss")
        );
        assert_eq!(
            article.canonical_url.as_deref(),
            Some("https://wire.example/2024/09/13/putin.html")
        );
        assert_eq!(article.id, StoryId::from_provider_guid("CNN Wire", "cnn-1"));
    }

    #[test]
    fn id_falls_back_to_canonical_link_then_title() {
        let source = source();
        let meta = FeedMeta::default();
        let with_link = RawItem {
            url: Some("https://wire.example/a?utm_medium=x".to_owned()),
            title: Some("A".to_owned()),
            ..RawItem::default()
        };
        let article = normalize(with_link, &ctx(&source, &meta)).unwrap();
        assert_eq!(
            article.id,
            StoryId::from_provider_guid("CNN Wire", "https://wire.example/a")
        );

        let bare = RawItem {
            title: Some("Only a title".to_owned()),
            ..RawItem::default()
        };
        let first = normalize(bare.clone(), &ctx(&source, &meta)).unwrap();
        let second = normalize(bare, &ctx(&source, &meta)).unwrap();
        assert_eq!(first.id, second.id);
    }

    #[test]
    fn empty_item_is_an_error() {
        let source = source();
        let meta = FeedMeta::default();
        let err = normalize(RawItem::default(), &ctx(&source, &meta)).unwrap_err();
        assert_eq!(err, NormalizeError::Empty);
        assert_eq!(err.error_type(), "empty_item");
    }

    #[test]
    fn language_codes() {
        assert_eq!(language_code("en-us").as_deref(), Some("en"));
        assert_eq!(language_code("DE").as_deref(), Some("de"));
        assert_eq!(language_code("english"), None);
    }
}
