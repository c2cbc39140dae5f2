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
//! Pure and synchronous: no I/O.

#![deny(missing_docs)]

mod clean;
mod dates;
pub mod eval;
mod language;
mod names;
pub mod page;
mod quotes;
mod rules;

pub use clean::{CleanHints, Cleaned, Cleaner};
pub use language::detect_language;
pub use names::{NameList, NameParser};
pub use page::{BodySource, Page, PageError, PageMeta, extract_page};
pub use quotes::extract_quotes;
pub use rules::{BUILTIN_RULES, Check, Cut, Rule, RuleKind, RulePack, RulesError, Zone};

use chrono::Datelike;
use wirefeed_model::{
    Article, Body, Entities, Media, Record, RecordSource, SCHEMA, content_hash, simhash,
};

/// Cleans an article and builds its record as version 1.
///
/// The caller (which knows the story's history) sets `version` and
/// `previous_content_hash` before publishing.
pub fn enrich(article: Article, cleaner: &Cleaner) -> Record {
    let hints = CleanHints {
        year: article.published_at.map(|time| time.year()),
    };
    let cleaned = cleaner.clean_with(&article.paragraphs, hints);
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
    let quotes = extract_quotes(&cleaned.paragraphs);
    // The declared language wins unless the text clearly says otherwise.
    let detected = detect_language(cleaned.paragraphs.iter().map(String::as_str));
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
        entities: Entities::default(),
        quotes,
        content_hash,
        previous_content_hash: None,
        simhash,
    }
}
