//! Article to enriched record.
//!
//! The main job here is wire-copy cleaning ([`Cleaner`]): copyright
//! footers, contributor lines, bylines, datelines, photo captions and
//! credits, promotions and notes are cut out of the body and kept as
//! structured fields (`rights`, `contributors`, `authors`, `dateline`,
//! `media`), and every cut is listed in `removed` with its kind, so a
//! consumer can audit it. What is recognised lives in a TOML rule pack
//! ([`RulePack`]), so a service's footer can be added without a rebuild.
//!
//! Precision comes before recall: a paragraph is cut only when its whole
//! shape says boilerplate (short, no sentence around the match, the
//! expected position). A story paragraph that merely mentions copyright,
//! Reuters or a photo stays; one that looks like boilerplate but fails a
//! test stays too and is listed in `suspects`. Kept paragraphs are never
//! rewritten, except that a dateline prefix ("WASHINGTON (AP) — ") is cut
//! from the front of the lead paragraph.
//!
//! Around it, the other enrichment steps: the article page's main text
//! and metadata ([`extract_page`]), entities ([`extract_entities`]),
//! quotes, keywords and the body's language. Each step runs guarded: a
//! step that panics is recorded in the record's `enrichment.failed` and
//! the record is built without it.
//!
//! Page and feed are merged by one rule ([`enrich`]): the feed is the
//! wire's own statement about the item and wins for what it says; the page
//! fills what the feed leaves out, gives the canonical URL, and replaces
//! the body only when its text is longer than the feed's (a teaser).
//!
//! Pure and synchronous: no I/O.

#![deny(missing_docs)]

mod clean;
mod dates;
mod entities;
pub mod eval;
mod keywords;
mod language;
mod names;
pub mod page;
mod quotes;
mod rules;

pub use clean::{CleanHints, Cleaned, Cleaner};
pub use entities::extract_entities;
pub use keywords::{MAX_KEYWORDS, extract_keywords};
pub use language::detect_language;
pub use names::{NameList, NameParser};
pub use page::{Page, PageError, PageMeta, decode_html, extract_page};
pub use quotes::extract_quotes;
pub use rules::{BUILTIN_RULES, Check, Cut, Rule, RuleKind, RulePack, RulesError, Zone};

use std::panic::{AssertUnwindSafe, catch_unwind};

use chrono::Datelike;
use wirefeed_model::{
    Article, Body, BodySource, Enrichment, Entities, Media, PageFetch, PageOutcome, Record,
    RecordSource, SCHEMA, StepFailure, content_hash, simhash,
};

/// What became of the article page before enrichment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PageInput {
    /// No page was wanted.
    #[default]
    None,
    /// The page was fetched; `html` is its decoded text.
    Fetched {
        /// The page URL after redirects.
        url: String,
        /// The page.
        html: String,
    },
    /// The page's address is not allowed.
    Refused {
        /// The page URL.
        url: String,
        /// Why.
        error: String,
    },
    /// The fetch failed.
    Failed {
        /// The page URL.
        url: String,
        /// Why.
        error: String,
    },
}

/// Runs one enrichment step; a panic is caught, recorded in `failed` with
/// the step's name, and the step's result is `None`.
pub fn guarded<T>(
    step: &str,
    failed: &mut Vec<StepFailure>,
    work: impl FnOnce() -> T,
) -> Option<T> {
    match catch_unwind(AssertUnwindSafe(work)) {
        Ok(value) => Some(value),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|text| (*text).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            failed.push(StepFailure {
                step: step.to_owned(),
                error: format!("panicked: {message}"),
            });
            None
        }
    }
}

fn guarded_with<T>(
    probe: StepProbe<'_>,
    step: &str,
    failed: &mut Vec<StepFailure>,
    work: impl FnOnce() -> T,
) -> Option<T> {
    guarded(step, failed, || {
        probe(step);
        work()
    })
}

/// Page facts kept for the record after the merge.
#[derive(Debug, Default)]
struct PageFacts {
    section: Option<String>,
    publisher: Option<String>,
    image: Option<String>,
}

/// Merges an extracted page into the article by the precedence rule:
///
/// - body: the page's, when it has more words than the feed's;
/// - canonical URL: the page's;
/// - title, summary, authors, publication time, language: the feed's,
///   the page's where the feed has none;
/// - update time: the later of the two;
/// - section, publisher, image: the page's (section falls back to the
///   feed's first category).
fn merge_page(article: &mut Article, page: Page) -> (PageOutcome, BodySource, PageFacts) {
    let meta = page.meta;
    let words = |paragraphs: &[String]| -> usize {
        paragraphs
            .iter()
            .map(|p| p.split_whitespace().count())
            .sum()
    };
    let (outcome, source) = if words(&page.paragraphs) > words(&article.paragraphs) {
        article.paragraphs = page.paragraphs;
        (PageOutcome::Used, page.body_source)
    } else {
        (PageOutcome::NotBetter, BodySource::Feed)
    };
    if meta.canonical_url.is_some() {
        article.canonical_url = meta.canonical_url;
    }
    if article.title.trim().is_empty()
        && let Some(headline) = meta.headline
    {
        article.title = headline;
    }
    if article.summary.is_none() {
        article.summary = meta.description;
    }
    if article.authors.is_empty() {
        article.authors = meta.authors;
    }
    article.published_at = article.published_at.or(meta.published_at);
    article.updated_at = match (article.updated_at, meta.modified_at) {
        (Some(feed), Some(page)) => Some(feed.max(page)),
        (feed, page) => feed.or(page),
    };
    if article.language.is_none() {
        article.language = meta.language;
    }
    let facts = PageFacts {
        section: meta.section,
        publisher: meta.publisher,
        image: meta.image,
    };
    (outcome, source, facts)
}

/// Builds a story's record as version 1: merges the article page (if
/// any), cleans the body, and runs the enrichment steps, each guarded.
///
/// The caller (which knows the story's history) sets `version` and
/// `previous_content_hash` before publishing.
pub fn enrich(article: Article, page: PageInput, cleaner: &Cleaner) -> Record {
    enrich_probed(article, page, cleaner, &|_| {})
}

/// A hook called with a step's name as the step starts, inside its guard.
/// The daemon's fault-injection tests use it to make a step panic the way
/// a bug would; everything else passes a no-op.
pub type StepProbe<'a> = &'a (dyn Fn(&str) + Sync);

/// [`enrich`], calling `probe` at the start of every guarded step.
pub fn enrich_probed(
    mut article: Article,
    page: PageInput,
    cleaner: &Cleaner,
    probe: StepProbe<'_>,
) -> Record {
    let mut failed = Vec::new();
    let mut body_source = BodySource::Feed;
    let mut facts = PageFacts::default();
    let page_fetch = match page {
        PageInput::None => None,
        PageInput::Refused { url, error } => Some(PageFetch {
            url,
            outcome: PageOutcome::Refused,
            error: Some(error),
        }),
        PageInput::Failed { url, error } => Some(PageFetch {
            url,
            outcome: PageOutcome::Failed,
            error: Some(error),
        }),
        PageInput::Fetched { url, html } => {
            let base = url::Url::parse(&url).ok();
            match guarded_with(probe, "page", &mut failed, || {
                extract_page(&html, base.as_ref())
            }) {
                Some(Ok(page)) => {
                    let (outcome, source, found) = merge_page(&mut article, page);
                    body_source = source;
                    facts = found;
                    Some(PageFetch {
                        url,
                        outcome,
                        error: None,
                    })
                }
                Some(Err(err)) => Some(PageFetch {
                    url,
                    outcome: PageOutcome::Failed,
                    error: Some(err.to_string()),
                }),
                None => Some(PageFetch {
                    url,
                    outcome: PageOutcome::Failed,
                    error: Some("page extraction panicked".to_owned()),
                }),
            }
        }
    };
    let hints = CleanHints {
        year: article.published_at.map(|time| time.year()),
    };
    let cleaned = guarded_with(probe, "clean", &mut failed, || {
        cleaner.clean_with(&article.paragraphs, hints)
    })
    .unwrap_or_else(|| Cleaned::uncleaned(&article.paragraphs));
    let mut authors = article.authors;
    for author in cleaned.authors {
        if !authors.contains(&author) {
            authors.push(author);
        }
    }
    let mut media: Vec<Media> = article
        .media
        .into_iter()
        .filter(|object| object.caption.is_some() || object.credit.is_some())
        .map(|object| Media {
            url: object.url,
            caption: object.caption,
            credit: object.credit,
        })
        .collect();
    media.extend(cleaned.media);
    let rights = cleaned.rights.or_else(|| {
        article.rights.map(|statement| wirefeed_model::Rights {
            statement,
            ..wirefeed_model::Rights::default()
        })
    });
    let content_hash = content_hash(
        &article.title,
        article.summary.as_deref(),
        cleaned.paragraphs.iter().map(String::as_str),
    );
    let paragraphs = &cleaned.paragraphs;
    let quotes = guarded_with(probe, "quotes", &mut failed, || extract_quotes(paragraphs))
        .unwrap_or_default();
    let entities = guarded_with(probe, "entities", &mut failed, || {
        extract_entities(paragraphs)
    })
    .unwrap_or_else(Entities::default);
    let keywords = guarded_with(probe, "keywords", &mut failed, || {
        extract_keywords(&article.title, paragraphs, &entities)
    })
    .unwrap_or_default();
    // The declared language wins unless the text clearly says otherwise.
    let detected = guarded_with(probe, "language", &mut failed, || {
        detect_language(paragraphs.iter().map(String::as_str))
    })
    .flatten();
    let (language, language_confidence) = match (article.language, detected) {
        (Some(declared), Some((code, confidence))) if declared != code && confidence >= 0.5 => {
            (Some(code.to_owned()), Some(confidence))
        }
        (Some(declared), Some((code, confidence))) if declared == code => {
            (Some(declared), Some(confidence))
        }
        (Some(declared), _) => (Some(declared), None),
        (None, Some((code, confidence))) => (Some(code.to_owned()), Some(confidence)),
        (None, None) => (None, None),
    };
    let simhash = simhash(cleaned.paragraphs.iter().map(String::as_str));
    let section = facts
        .section
        .or_else(|| article.categories.first().cloned());
    Record {
        schema: SCHEMA.to_owned(),
        id: article.id,
        version: 1,
        source: RecordSource {
            feed_id: article.source.feed_id,
            feed_url: article.source.feed_url,
            provider: article.source.provider,
            format: article.source.format,
        },
        guid: article.guid,
        url: article.url,
        canonical_url: article.canonical_url,
        title: article.title,
        summary: article.summary,
        published_at: article.published_at,
        updated_at: article.updated_at,
        fetched_at: article.fetched_at,
        language,
        language_confidence,
        dateline: cleaned.dateline,
        authors,
        categories: article.categories,
        contributors: cleaned.contributors,
        rights,
        body: Body::new(cleaned.paragraphs),
        media,
        removed: cleaned.removed,
        suspects: cleaned.suspects,
        entities,
        quotes,
        keywords,
        section,
        publisher: facts.publisher,
        image: facts.image,
        enrichment: Enrichment {
            body_source,
            page: page_fetch,
            failed,
        },
        content_hash,
        previous_content_hash: None,
        simhash,
        duplicate_of: None,
        kind: article
            .wire
            .as_ref()
            .map(|wire| wire.kind)
            .unwrap_or_default(),
        wire: article.wire,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_step_is_recorded_and_the_rest_goes_on() {
        let mut failed = Vec::new();
        let value: Option<usize> = guarded("entities", &mut failed, || {
            let empty: Vec<usize> = Vec::new();
            // An out-of-bounds index: the kind of bug a step can have.
            empty[empty.len()]
        });
        assert_eq!(value, None);
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].step, "entities");
        assert!(
            failed[0].error.starts_with("panicked: index out of bounds"),
            "{}",
            failed[0].error
        );
        let next = guarded("quotes", &mut failed, || 7);
        assert_eq!(next, Some(7));
        assert_eq!(failed.len(), 1);
    }
}
