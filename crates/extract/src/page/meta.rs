//! Page metadata: JSON-LD, OpenGraph and `article:*` meta, other meta
//! tags, microdata and the document itself, merged by a fixed precedence.
//!
//! For every field the first source that has it wins:
//!
//! 1. the JSON-LD article node (NewsArticle, Article, BlogPosting,
//!    LiveBlogPosting and their kin, found at the top level, in arrays or
//!    in `@graph`, with `@id` references resolved);
//! 2. OpenGraph and `article:*` meta;
//! 3. other meta tags (`author`, `date`, `pubdate`, `description`, Dublin
//!    Core, Parse.ly);
//! 4. microdata (`itemprop`) and the document: `<h1>`, `<title>`, the
//!    visible byline, the first `<time datetime>`.
//!
//! Two fields differ on purpose: the canonical URL is `<link
//! rel=canonical>` first (that is what the element is for), then
//! `og:url`, then the JSON-LD `url`; the language is JSON-LD `inLanguage`,
//! then `<html lang>`, then `og:locale`.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::Value;
use url::Url;

/// Metadata read from an article page.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PageMeta {
    /// The headline.
    pub headline: Option<String>,
    /// Bylined authors, as plain names.
    pub authors: Vec<String>,
    /// First publication, UTC.
    pub published_at: Option<DateTime<Utc>>,
    /// Last modification, UTC.
    pub modified_at: Option<DateTime<Utc>>,
    /// The publisher (site or organisation name).
    pub publisher: Option<String>,
    /// The section.
    pub section: Option<String>,
    /// The lead image, absolute URL.
    pub image: Option<String>,
    /// The canonical URL, absolute.
    pub canonical_url: Option<String>,
    /// ISO 639-1 code.
    pub language: Option<String>,
    /// The page's summary.
    pub description: Option<String>,
}

/// Schema.org types that describe an article.
const ARTICLE_TYPES: &[&str] = &[
    "NewsArticle",
    "Article",
    "ReportageNewsArticle",
    "AnalysisNewsArticle",
    "OpinionNewsArticle",
    "BackgroundNewsArticle",
    "ReviewNewsArticle",
    "AskPublicNewsArticle",
    "BlogPosting",
    "LiveBlogPosting",
    "Report",
    "ScholarlyArticle",
    "TechArticle",
    "SatiricalArticle",
];

/// JSON-LD blocks larger than this are not parsed.
const MAX_JSON_LD_BYTES: usize = 2 * 1024 * 1024;

/// Raw facts gathered while walking the document, before precedence.
#[derive(Debug, Default)]
pub(crate) struct MetaSources {
    /// `<script type=application/ld+json>` texts.
    pub json_ld: Vec<String>,
    /// `<meta>` name/property (lower-case) and content, in order.
    pub meta: Vec<(String, String)>,
    /// `<link rel=canonical>`.
    pub canonical: Option<String>,
    /// `<html lang>`.
    pub html_lang: Option<String>,
    /// `<title>`.
    pub title: Option<String>,
    /// The first `<h1>`.
    pub h1: Option<String>,
    /// The first visible byline text.
    pub byline: Option<String>,
    /// The first `<time datetime>`.
    pub time: Option<String>,
    /// Microdata `itemprop` values (first of each).
    pub itemprops: HashMap<String, String>,
}

/// What the JSON-LD article node says.
#[derive(Debug, Default)]
pub(crate) struct JsonLdArticle {
    pub headline: Option<String>,
    pub authors: Vec<String>,
    pub published: Option<String>,
    pub modified: Option<String>,
    pub publisher: Option<String>,
    pub section: Option<String>,
    pub image: Option<String>,
    pub language: Option<String>,
    pub url: Option<String>,
    pub description: Option<String>,
    pub body: Option<String>,
}

impl MetaSources {
    fn meta(&self, keys: &[&str]) -> Option<&str> {
        keys.iter().find_map(|key| {
            self.meta
                .iter()
                .find(|(name, content)| name == key && !content.is_empty())
                .map(|(_, content)| content.as_str())
        })
    }

    fn meta_all(&self, key: &str) -> impl Iterator<Item = &str> {
        self.meta
            .iter()
            .filter(move |(name, content)| name == key && !content.is_empty())
            .map(|(_, content)| content.as_str())
    }

    fn itemprop(&self, key: &str) -> Option<&str> {
        self.itemprops
            .get(key)
            .map(String::as_str)
            .filter(|value| !value.is_empty())
    }
}

/// Applies the precedence rule.
pub(crate) fn merge(sources: &MetaSources, ld: &JsonLdArticle, base: Option<&Url>) -> PageMeta {
    let absolute = |link: &str| absolute_url(link, base);
    let headline = ld
        .headline
        .clone()
        .or_else(|| sources.meta(&["og:title", "twitter:title"]).map(clean))
        .or_else(|| sources.itemprop("headline").map(clean))
        .or_else(|| sources.h1.clone())
        .or_else(|| sources.title.clone())
        .filter(|text| !text.is_empty());

    let mut authors = ld.authors.clone();
    if authors.is_empty() {
        authors = sources
            .meta_all("article:author")
            .filter(|value| !looks_like_url(value))
            .flat_map(split_names)
            .collect();
    }
    if authors.is_empty()
        && let Some(value) = sources.meta(&["author", "dc.creator", "parsely-author", "byl"])
    {
        authors = split_names(value);
    }
    if authors.is_empty()
        && let Some(value) = sources.itemprop("author")
    {
        authors = split_names(value);
    }
    if authors.is_empty()
        && let Some(byline) = &sources.byline
    {
        authors = split_names(byline);
    }
    dedup(&mut authors);

    let published_at = ld
        .published
        .as_deref()
        .and_then(parse_datetime)
        .or_else(|| {
            sources
                .meta(&["article:published_time", "og:article:published_time"])
                .and_then(parse_datetime)
        })
        .or_else(|| {
            sources
                .meta(&[
                    "date",
                    "pubdate",
                    "publishdate",
                    "publish-date",
                    "article.published",
                    "parsely-pub-date",
                    "dc.date.issued",
                    "dc.date",
                    "dcterms.date",
                    "sailthru.date",
                ])
                .and_then(parse_datetime)
        })
        .or_else(|| sources.itemprop("datepublished").and_then(parse_datetime))
        .or_else(|| sources.time.as_deref().and_then(parse_datetime));
    let modified_at = ld
        .modified
        .as_deref()
        .and_then(parse_datetime)
        .or_else(|| {
            sources
                .meta(&["article:modified_time", "og:updated_time"])
                .and_then(parse_datetime)
        })
        .or_else(|| {
            sources
                .meta(&["last-modified", "dcterms.modified", "article.updated"])
                .and_then(parse_datetime)
        })
        .or_else(|| sources.itemprop("datemodified").and_then(parse_datetime));
    let publisher = ld
        .publisher
        .clone()
        .or_else(|| sources.meta(&["og:site_name"]).map(clean))
        .or_else(|| sources.meta(&["publisher", "dc.publisher"]).map(clean))
        .or_else(|| sources.itemprop("publisher").map(clean));
    let section = ld
        .section
        .clone()
        .or_else(|| sources.meta(&["article:section"]).map(clean))
        .or_else(|| sources.meta(&["section", "parsely-section"]).map(clean))
        .or_else(|| sources.itemprop("articlesection").map(clean));
    let image = ld
        .image
        .as_deref()
        .and_then(&absolute)
        .or_else(|| {
            sources
                .meta(&["og:image", "og:image:url", "og:image:secure_url"])
                .and_then(&absolute)
        })
        .or_else(|| sources.meta(&["twitter:image"]).and_then(&absolute))
        .or_else(|| sources.itemprop("image").and_then(&absolute));
    let canonical_url = sources
        .canonical
        .as_deref()
        .and_then(&absolute)
        .or_else(|| sources.meta(&["og:url"]).and_then(&absolute))
        .or_else(|| ld.url.as_deref().and_then(&absolute));
    let language = ld
        .language
        .as_deref()
        .and_then(language_code)
        .or_else(|| sources.html_lang.as_deref().and_then(language_code))
        .or_else(|| sources.meta(&["og:locale"]).and_then(language_code))
        .or_else(|| {
            sources
                .meta(&["content-language", "language", "dc.language"])
                .and_then(language_code)
        });
    let description = ld
        .description
        .clone()
        .or_else(|| sources.meta(&["og:description"]).map(clean))
        .or_else(|| {
            sources
                .meta(&["description", "twitter:description"])
                .map(clean)
        })
        .filter(|text| !text.is_empty());
    PageMeta {
        headline,
        authors,
        published_at,
        modified_at,
        publisher: publisher.filter(|text| !text.is_empty()),
        section: section.filter(|text| !text.is_empty()),
        image,
        canonical_url,
        language,
        description,
    }
}

/// Finds the article node among the JSON-LD blocks and reads it.
pub(crate) fn read_json_ld(blocks: &[String]) -> JsonLdArticle {
    let mut nodes: Vec<Value> = Vec::new();
    for block in blocks {
        if block.len() > MAX_JSON_LD_BYTES {
            continue;
        }
        // Sites leave trailing commas, HTML comments and CDATA markers in
        // these blocks; a block that still fails to parse is skipped.
        let trimmed = block
            .trim()
            .trim_start_matches("<!--")
            .trim_end_matches("-->")
            .trim()
            .trim_start_matches("//<![CDATA[")
            .trim_end_matches("//]]>")
            .trim();
        if let Ok(value) = serde_json::from_str::<Value>(trimmed) {
            nodes.push(value);
        }
    }
    let mut flat: Vec<&Value> = Vec::new();
    for value in &nodes {
        flatten(value, &mut flat, 0);
    }
    let by_id: HashMap<&str, &Value> = flat
        .iter()
        .filter_map(|node| Some((node.get("@id")?.as_str()?, *node)))
        .collect();
    let resolve = |value: &'_ Value| -> Value {
        match value
            .get("@id")
            .and_then(Value::as_str)
            .and_then(|id| by_id.get(id))
        {
            Some(target) if value.as_object().is_some_and(|object| object.len() == 1) => {
                (*target).clone()
            }
            _ => value.clone(),
        }
    };
    let Some(article) = flat.iter().find(|node| has_type(node, ARTICLE_TYPES)) else {
        return JsonLdArticle::default();
    };
    let text = |key: &str| article.get(key).and_then(as_text);
    let mut authors = Vec::new();
    if let Some(author) = article.get("author").or_else(|| article.get("creator")) {
        for one in as_list(author) {
            let one = resolve(one);
            match &one {
                Value::String(name) => authors.extend(split_names(name)),
                Value::Object(_) => {
                    if let Some(name) = one.get("name").and_then(as_text) {
                        authors.extend(split_names(&name));
                    }
                }
                _ => {}
            }
        }
    }
    let publisher = article.get("publisher").and_then(|value| {
        let first = as_list(value).into_iter().next()?;
        let resolved = resolve(first);
        match &resolved {
            Value::String(name) => Some(clean(name)),
            _ => resolved.get("name").and_then(as_text),
        }
    });
    let image = article.get("image").and_then(|value| {
        let first = as_list(value).into_iter().next()?;
        let resolved = resolve(first);
        match &resolved {
            Value::String(link) => Some(link.trim().to_owned()),
            _ => resolved
                .get("url")
                .or_else(|| resolved.get("contentUrl"))
                .and_then(as_text),
        }
    });
    let section = article
        .get("articleSection")
        .and_then(|value| as_list(value).into_iter().find_map(as_text));
    let language = article.get("inLanguage").and_then(|value| {
        let resolved = resolve(value);
        match &resolved {
            Value::String(code) => Some(code.clone()),
            _ => resolved
                .get("alternateName")
                .or_else(|| resolved.get("name"))
                .and_then(as_text),
        }
    });
    let url = text("url").or_else(|| {
        article
            .get("mainEntityOfPage")
            .and_then(|value| match value {
                Value::String(link) => Some(link.clone()),
                _ => value.get("@id").and_then(as_text),
            })
    });
    let body = article.get("articleBody").and_then(|value| match value {
        Value::String(body) => Some(body.clone()),
        _ => None,
    });
    JsonLdArticle {
        headline: text("headline").or_else(|| text("name")),
        authors,
        published: text("datePublished").or_else(|| text("dateCreated")),
        modified: text("dateModified"),
        publisher,
        section,
        image,
        language,
        url,
        description: text("description"),
        body,
    }
}

/// Collects every object node: top level, arrays, `@graph`, and the
/// values of `mainEntity`.
fn flatten<'a>(value: &'a Value, out: &mut Vec<&'a Value>, depth: usize) {
    if depth > 8 {
        return;
    }
    match value {
        Value::Array(items) => {
            for item in items {
                flatten(item, out, depth + 1);
            }
        }
        Value::Object(object) => {
            out.push(value);
            if let Some(graph) = object.get("@graph") {
                flatten(graph, out, depth + 1);
            }
            if let Some(main) = object.get("mainEntity") {
                flatten(main, out, depth + 1);
            }
        }
        _ => {}
    }
}

fn has_type(node: &Value, types: &[&str]) -> bool {
    node.get("@type").is_some_and(|kind| {
        as_list(kind).into_iter().any(|one| {
            one.as_str().is_some_and(|name| {
                let name = name.rsplit(['/', ':']).next().unwrap_or(name);
                types.contains(&name)
            })
        })
    })
}

fn as_list(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(clean(text)).filter(|text| !text.is_empty()),
        Value::Array(items) => items.iter().find_map(as_text),
        _ => None,
    }
}

/// Collapses whitespace; decodes the few entities metadata carries.
pub(crate) fn clean(text: &str) -> String {
    let decoded = if text.contains('&') {
        text.replace("&amp;", "&")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&apos;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&nbsp;", " ")
    } else {
        text.to_owned()
    };
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn looks_like_url(value: &str) -> bool {
    value.starts_with("http://") || value.starts_with("https://") || value.starts_with('/')
}

fn dedup(names: &mut Vec<String>) {
    let mut seen = Vec::new();
    names.retain(|name| {
        let key = name.to_lowercase();
        if seen.contains(&key) {
            false
        } else {
            seen.push(key);
            true
        }
    });
}

/// Words that end a byline's names: titles and outlet credits.
const BYLINE_STOP: &[&str] = &[
    "staff",
    "writer",
    "reporter",
    "correspondent",
    "editor",
    "contributor",
    "columnist",
    "special",
    "senior",
    "chief",
    "bureau",
    "updated",
    "published",
    "posted",
];

/// Words that mark an outlet, not a person, in a byline part.
const OUTLET_WORDS: &[&str] = &[
    "Press",
    "News",
    "Reuters",
    "Times",
    "Post",
    "Network",
    "Agency",
    "Wire",
    "Service",
    "Media",
    "Staff",
    "Newsroom",
    "Desk",
    "AP",
    "AFP",
    "CNN",
    "Bloomberg",
    "Herald",
    "Journal",
    "Tribune",
];

/// Splits a byline or author string into personal names: "By Jane Doe
/// and John Roe, Staff Writers" → ["Jane Doe", "John Roe"].
pub(crate) fn split_names(text: &str) -> Vec<String> {
    // Lines or credits split by "|": the first that names someone.
    text.split('|')
        .map(names_in)
        .find(|names| !names.is_empty())
        .unwrap_or_default()
}

fn names_in(text: &str) -> Vec<String> {
    let text = clean(text);
    let text = text
        .strip_prefix("By ")
        .or_else(|| text.strip_prefix("by "))
        .or_else(|| text.strip_prefix("BY "))
        .unwrap_or(&text);
    // Cut a trailing credit: "Jane Doe — The Herald", "Jane Doe - Reuters".
    let text = text
        .split(['\u{2014}', '\u{2013}'])
        .next()
        .unwrap_or(text)
        .split(" - ")
        .next()
        .unwrap_or(text);
    let mut names = Vec::new();
    for part in text
        .split([',', ';', '&'])
        .flat_map(|part| part.split(" and "))
        .flat_map(|part| part.split(" und "))
        .flat_map(|part| part.split(" y "))
        .flat_map(|part| part.split(" et "))
    {
        let part = part.trim().trim_end_matches('.');
        if part.is_empty() {
            continue;
        }
        let lower = part.to_lowercase();
        if BYLINE_STOP
            .iter()
            .any(|stop| lower.split(' ').any(|word| word == *stop))
            || part.split(' ').any(|word| OUTLET_WORDS.contains(&word))
        {
            continue;
        }
        let words: Vec<&str> = part.split_whitespace().collect();
        let name_like = !words.is_empty()
            && words.len() <= 5
            && !part.chars().any(|c| c.is_ascii_digit())
            && words
                .iter()
                .any(|word| word.chars().next().is_some_and(char::is_uppercase));
        if name_like {
            names.push(part.to_owned());
        }
    }
    names
}

/// Resolves `link` against `base`; `None` for empty or unusable values.
fn absolute_url(link: &str, base: Option<&Url>) -> Option<String> {
    let link = link.trim();
    if link.is_empty() {
        return None;
    }
    match Url::parse(link) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => Some(url.to_string()),
        Ok(_) => None,
        Err(_) => base?.join(link).ok().map(|url| url.to_string()),
    }
}

/// ISO 639-1 code from a language tag ("en-GB", "de_DE", "fr").
pub(crate) fn language_code(tag: &str) -> Option<String> {
    let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
    (primary.len() == 2 && primary.chars().all(|c| c.is_ascii_lowercase())).then_some(primary)
}

/// Parses the date-time forms pages use: RFC 3339, ISO 8601 with a
/// `+0100` offset or none (taken as UTC), a space instead of `T`, a bare
/// date, RFC 2822.
pub fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S %z",
    ] {
        if let Ok(time) = DateTime::parse_from_str(text, format) {
            return Some(time.with_timezone(&Utc));
        }
    }
    if let Ok(time) = DateTime::parse_from_rfc2822(text) {
        return Some(time.with_timezone(&Utc));
    }
    let naive = text.trim_end_matches('Z');
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(time) = NaiveDateTime::parse_from_str(naive, format) {
            return Some(time.and_utc());
        }
    }
    let date_part = text.get(..10).unwrap_or(text);
    NaiveDate::parse_from_str(date_part, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|time| time.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_page_forms() {
        let expect = |text: &str, want: &str| {
            assert_eq!(
                parse_datetime(text).map(|time| time.to_rfc3339()),
                Some(want.to_owned()),
                "{text}"
            );
        };
        expect("2026-03-04T14:05:00Z", "2026-03-04T14:05:00+00:00");
        expect("2026-03-04T15:05:00+01:00", "2026-03-04T14:05:00+00:00");
        expect("2026-03-04T15:05:00+0100", "2026-03-04T14:05:00+00:00");
        expect("2026-03-04T14:05:00.123Z", "2026-03-04T14:05:00.123+00:00");
        expect("2026-03-04 14:05:00", "2026-03-04T14:05:00+00:00");
        expect("2026-03-04", "2026-03-04T00:00:00+00:00");
        expect("Wed, 04 Mar 2026 14:05:00 GMT", "2026-03-04T14:05:00+00:00");
        assert_eq!(parse_datetime("yesterday"), None);
    }

    #[test]
    fn bylines_become_names() {
        assert_eq!(
            split_names("By Jane Doe and John Roe, Staff Writers"),
            vec!["Jane Doe", "John Roe"]
        );
        assert_eq!(
            split_names("María José García | El Diario"),
            vec!["María José García"]
        );
        assert_eq!(split_names("By AMY LEE, Associated Press"), vec!["AMY LEE"]);
    }

    #[test]
    fn json_ld_graph_with_references() {
        let block = r##"{"@context":"https://schema.org","@graph":[
            {"@type":"Organization","@id":"#org","name":"Kessler Daily"},
            {"@type":"Person","@id":"#p1","name":"Ana Ruiz"},
            {"@type":["NewsArticle"],"headline":"Dam holds","author":{"@id":"#p1"},
             "publisher":{"@id":"#org"},"datePublished":"2026-01-02T10:00:00-05:00",
             "articleSection":["Local","Weather"],"image":[{"@type":"ImageObject","url":"https://k.example/a.jpg"}],
             "inLanguage":"en-US"}]}"##;
        let article = read_json_ld(&[block.to_owned()]);
        assert_eq!(article.headline.as_deref(), Some("Dam holds"));
        assert_eq!(article.authors, vec!["Ana Ruiz"]);
        assert_eq!(article.publisher.as_deref(), Some("Kessler Daily"));
        assert_eq!(article.section.as_deref(), Some("Local"));
        assert_eq!(article.image.as_deref(), Some("https://k.example/a.jpg"));
        assert_eq!(article.language.as_deref(), Some("en-US"));
        let meta = merge(&MetaSources::default(), &article, None);
        assert_eq!(
            meta.published_at.map(|time| time.to_rfc3339()).as_deref(),
            Some("2026-01-02T15:00:00+00:00")
        );
        assert_eq!(meta.language.as_deref(), Some("en"));
    }

    #[test]
    fn precedence_between_sources() {
        let sources = MetaSources {
            meta: vec![
                ("og:title".into(), "Short title".into()),
                (
                    "og:url".into(),
                    "https://k.example/story?utm_source=x".into(),
                ),
                ("author".into(), "Meta Author".into()),
                ("og:locale".into(), "fr_FR".into()),
            ],
            canonical: Some("/story".into()),
            html_lang: Some("en-GB".into()),
            h1: Some("The h1".into()),
            ..MetaSources::default()
        };
        let ld = JsonLdArticle {
            headline: Some("The full JSON-LD headline".into()),
            ..JsonLdArticle::default()
        };
        let base = Url::parse("https://k.example/amp/story").ok();
        let meta = merge(&sources, &ld, base.as_ref());
        assert_eq!(meta.headline.as_deref(), Some("The full JSON-LD headline"));
        assert_eq!(
            meta.canonical_url.as_deref(),
            Some("https://k.example/story")
        );
        assert_eq!(meta.authors, vec!["Meta Author"]);
        assert_eq!(meta.language.as_deref(), Some("en"));
        let meta = merge(&sources, &JsonLdArticle::default(), base.as_ref());
        assert_eq!(meta.headline.as_deref(), Some("Short title"));
    }
}
