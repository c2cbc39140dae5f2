//! Scoring the cleaner on a labelled corpus.
//!
//! The corpus format is described in
//! `crates/extract/tests/corpus/README.md`: a header of expected fields, then
//! one paragraph per line, each labelled keep (no label), `[kind]` (remove
//! the paragraph) or `[dateline:PREFIX]` (cut the prefix, keep the rest).
//!
//! Removed lines are compared as (kind, text) multisets: a cut counts as
//! correct overall when that text should have been cut, and correct for its
//! kind when the kind matches too. Kept paragraphs are checked verbatim.

use std::collections::BTreeMap;
use std::fmt::Write;

use wirefeed_model::RemovedKind;

use crate::clean::{CleanHints, Cleaned, Cleaner};

/// One labelled line of a corpus article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Label {
    /// A story paragraph, kept verbatim.
    Keep,
    /// Boilerplate, removed whole.
    Remove(RemovedKind),
    /// A dateline prefix (as cut) before a kept rest.
    Dateline {
        /// The prefix, separator included.
        prefix: String,
        /// The paragraph after the prefix.
        rest: String,
    },
}

/// A labelled article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorpusArticle {
    /// Where it came from (file path).
    pub name: String,
    /// Header fields (`title`, `service`, `contributors`, …).
    pub header: BTreeMap<String, String>,
    /// The body as delivered, one paragraph per entry.
    pub paragraphs: Vec<String>,
    /// The label of each paragraph.
    pub labels: Vec<Label>,
}

/// Why a corpus file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// The file does not follow the format.
    #[error("corpus file {name}, line {line}: {message}")]
    Format {
        /// The file.
        name: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

const HEADER_KEYS: &[&str] = &[
    "title",
    "service",
    "contributors",
    "authors",
    "dateline-place",
    "dateline-date",
    "rights-holder",
    "rights-year",
    "rights-service",
    "notes",
];

/// Parses one corpus file.
pub fn parse_article(text: &str, name: &str) -> Result<CorpusArticle, CorpusError> {
    let error = |line: usize, message: String| CorpusError::Format {
        name: name.to_owned(),
        line,
        message,
    };
    let mut header = BTreeMap::new();
    let mut lines = text.lines().enumerate();
    let mut body_started = false;
    for (number, line) in lines.by_ref() {
        if line.trim() == "---" {
            body_started = true;
            break;
        }
        if line.trim().is_empty() {
            continue;
        }
        let (key, value) = line
            .split_once(':')
            .ok_or_else(|| error(number + 1, "header line without `key: value`".to_owned()))?;
        let key = key.trim();
        if !HEADER_KEYS.contains(&key) {
            return Err(error(number + 1, format!("unknown header key {key}")));
        }
        header.insert(key.to_owned(), value.trim().to_owned());
    }
    if !body_started {
        return Err(error(1, "no `---` line before the body".to_owned()));
    }
    for required in ["title", "service"] {
        if !header.contains_key(required) {
            return Err(error(1, format!("missing header key {required}")));
        }
    }
    let mut paragraphs = Vec::new();
    let mut labels = Vec::new();
    for (number, line) in lines {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (label, paragraph) = parse_line(line).map_err(|message| error(number + 1, message))?;
        paragraphs.push(paragraph);
        labels.push(label);
    }
    Ok(CorpusArticle {
        name: name.to_owned(),
        header,
        paragraphs,
        labels,
    })
}

fn parse_line(line: &str) -> Result<(Label, String), String> {
    let Some(rest) = line.strip_prefix('[') else {
        return Ok((Label::Keep, line.to_owned()));
    };
    if let Some(rest) = rest.strip_prefix("dateline:") {
        // The prefix may itself contain brackets ("New Delhi [India], …"),
        // so the label ends at the last "] " before the kept text.
        let (prefix, kept) = split_label(rest).ok_or("unterminated [dateline:…] label")?;
        return Ok((
            Label::Dateline {
                prefix: prefix.to_owned(),
                rest: kept.to_owned(),
            },
            format!("{prefix} {kept}"),
        ));
    }
    let (kind, text) = rest.split_once(']').ok_or("unterminated label")?;
    let kind = match kind {
        "copyright" => RemovedKind::Copyright,
        "contributors" => RemovedKind::Contributors,
        "byline" => RemovedKind::Byline,
        "dateline" => RemovedKind::Dateline,
        "caption" => RemovedKind::Caption,
        "credit" => RemovedKind::Credit,
        "promo" => RemovedKind::Promo,
        "update_note" => RemovedKind::UpdateNote,
        "editors_note" => RemovedKind::EditorsNote,
        other => return Err(format!("unknown label kind {other}")),
    };
    Ok((Label::Remove(kind), text.trim().to_owned()))
}

/// Splits "PREFIX] rest" where PREFIX may contain a bracketed part.
fn split_label(text: &str) -> Option<(&str, &str)> {
    let mut depth = 0usize;
    for (at, c) in text.char_indices() {
        match c {
            '[' => depth += 1,
            ']' if depth > 0 => depth -= 1,
            ']' => return Some((text[..at].trim(), text[at + 1..].trim())),
            _ => {}
        }
    }
    None
}

impl CorpusArticle {
    /// True when nothing in the article is boilerplate.
    pub fn has_no_boilerplate(&self) -> bool {
        self.labels.iter().all(|label| *label == Label::Keep)
    }

    /// The paragraphs a perfect cleaner keeps.
    pub fn expected_body(&self) -> Vec<String> {
        self.labels
            .iter()
            .zip(&self.paragraphs)
            .filter_map(|(label, paragraph)| match label {
                Label::Keep => Some(paragraph.clone()),
                Label::Dateline { rest, .. } => Some(rest.clone()),
                Label::Remove(_) => None,
            })
            .collect()
    }

    /// The (kind, text) cuts a perfect cleaner makes.
    pub fn expected_cuts(&self) -> Vec<(RemovedKind, String)> {
        self.labels
            .iter()
            .zip(&self.paragraphs)
            .filter_map(|(label, paragraph)| match label {
                Label::Keep => None,
                Label::Remove(kind) => Some((*kind, paragraph.clone())),
                Label::Dateline { prefix, .. } => Some((RemovedKind::Dateline, prefix.clone())),
            })
            .collect()
    }
}

/// True/false positive and negative counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Cut, and should have been.
    pub correct: usize,
    /// Cut, but should not have been (or not as this kind).
    pub wrong: usize,
    /// Should have been cut, but was not (or not as this kind).
    pub missed: usize,
}

impl Counts {
    /// correct / (correct + wrong); 1 when nothing was cut.
    pub fn precision(&self) -> f64 {
        ratio(self.correct, self.correct + self.wrong)
    }

    /// correct / (correct + missed); 1 when nothing was to be cut.
    pub fn recall(&self) -> f64 {
        ratio(self.correct, self.correct + self.missed)
    }
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

/// One field check: how many articles stated it and how many matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FieldScore {
    /// Articles whose header states the field.
    pub checked: usize,
    /// Of those, the cleaner got it right.
    pub matched: usize,
}

/// The score of a corpus.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Articles scored.
    pub articles: usize,
    /// Services seen.
    pub services: usize,
    /// Cuts regardless of kind.
    pub overall: Counts,
    /// Cuts by kind.
    pub by_kind: BTreeMap<RemovedKind, Counts>,
    /// Story paragraphs that should be kept.
    pub body_expected: usize,
    /// Of those, kept verbatim.
    pub body_kept: usize,
    /// Articles with no boilerplate.
    pub clean_articles: usize,
    /// Of those, left exactly as they were.
    pub clean_articles_intact: usize,
    /// Structured fields by header key.
    pub fields: BTreeMap<String, FieldScore>,
    /// What went wrong, one line each.
    pub mistakes: Vec<String>,
}

impl Report {
    /// Share of story paragraphs kept verbatim.
    pub fn body_kept_share(&self) -> f64 {
        ratio(self.body_kept, self.body_expected)
    }

    /// Share of boilerplate-free articles left whole.
    pub fn clean_articles_share(&self) -> f64 {
        ratio(self.clean_articles_intact, self.clean_articles)
    }

    /// The report as a table.
    pub fn render(&self, mistakes: bool) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "corpus: {} articles from {} services, {} without boilerplate",
            self.articles, self.services, self.clean_articles
        );
        let _ = writeln!(
            out,
            "{:<14} {:>8} {:>8} {:>8} {:>10} {:>8}",
            "kind", "labelled", "cut", "correct", "precision", "recall"
        );
        let mut row = |name: &str, counts: &Counts| {
            let _ = writeln!(
                out,
                "{:<14} {:>8} {:>8} {:>8} {:>10.4} {:>8.4}",
                name,
                counts.correct + counts.missed,
                counts.correct + counts.wrong,
                counts.correct,
                counts.precision(),
                counts.recall()
            );
        };
        for (kind, counts) in &self.by_kind {
            row(kind.as_str(), counts);
        }
        row("all", &self.overall);
        let _ = writeln!(
            out,
            "body paragraphs kept verbatim: {}/{} ({:.2}%)",
            self.body_kept,
            self.body_expected,
            self.body_kept_share() * 100.0
        );
        let _ = writeln!(
            out,
            "articles without boilerplate left whole: {}/{} ({:.2}%)",
            self.clean_articles_intact,
            self.clean_articles,
            self.clean_articles_share() * 100.0
        );
        for (field, score) in &self.fields {
            let _ = writeln!(
                out,
                "field {field}: {}/{} correct",
                score.matched, score.checked
            );
        }
        if mistakes {
            for mistake in &self.mistakes {
                let _ = writeln!(out, "  {mistake}");
            }
        }
        out
    }
}

/// Cleans every article and scores the result.
pub fn score(articles: &[CorpusArticle], cleaner: &Cleaner) -> Report {
    let mut report = Report {
        articles: articles.len(),
        ..Report::default()
    };
    let mut services: Vec<&str> = articles
        .iter()
        .filter_map(|article| article.header.get("service").map(String::as_str))
        .collect();
    services.sort_unstable();
    services.dedup();
    report.services = services.len();
    for article in articles {
        let year = article
            .header
            .get("dateline-date")
            .and_then(|date| date.get(..4))
            .and_then(|year| year.parse().ok());
        let cleaned = cleaner.clean_with(&article.paragraphs, CleanHints { year });
        score_article(article, &cleaned, &mut report);
    }
    report
}

fn score_article(article: &CorpusArticle, cleaned: &Cleaned, report: &mut Report) {
    let name = &article.name;
    let expected = article.expected_cuts();
    let mut unmatched_overall: Vec<&str> = expected.iter().map(|(_, text)| text.as_str()).collect();
    let mut unmatched_kind: Vec<(RemovedKind, &str)> = expected
        .iter()
        .map(|(kind, text)| (*kind, text.as_str()))
        .collect();
    for removed in &cleaned.removed {
        let counts = report.by_kind.entry(removed.kind).or_default();
        match unmatched_kind
            .iter()
            .position(|(kind, text)| *kind == removed.kind && *text == removed.text)
        {
            Some(at) => {
                unmatched_kind.swap_remove(at);
                counts.correct += 1;
            }
            None => counts.wrong += 1,
        }
        match unmatched_overall
            .iter()
            .position(|text| *text == removed.text)
        {
            Some(at) => {
                unmatched_overall.swap_remove(at);
                report.overall.correct += 1;
                if !expected
                    .iter()
                    .any(|(kind, text)| *kind == removed.kind && *text == removed.text)
                {
                    report.mistakes.push(format!(
                        "{name}: wrong kind {}: {}",
                        removed.kind, removed.text
                    ));
                }
            }
            None => {
                report.overall.wrong += 1;
                report
                    .mistakes
                    .push(format!("{name}: cut {}: {}", removed.kind, removed.text));
            }
        }
    }
    for (kind, _) in &unmatched_kind {
        report.by_kind.entry(*kind).or_default().missed += 1;
    }
    for text in &unmatched_overall {
        report.overall.missed += 1;
        let kind = expected
            .iter()
            .find(|(_, expected)| expected == text)
            .map_or("?", |(kind, _)| kind.as_str());
        report
            .mistakes
            .push(format!("{name}: missed {kind}: {text}"));
    }

    let body = article.expected_body();
    let mut remaining: Vec<&str> = cleaned.paragraphs.iter().map(String::as_str).collect();
    for paragraph in &body {
        report.body_expected += 1;
        match remaining.iter().position(|kept| kept == paragraph) {
            Some(at) => {
                remaining.remove(at);
                report.body_kept += 1;
            }
            None => report.mistakes.push(format!(
                "{name}: body paragraph changed or lost: {paragraph}"
            )),
        }
    }
    if article.has_no_boilerplate() {
        report.clean_articles += 1;
        if cleaned.paragraphs == body {
            report.clean_articles_intact += 1;
        }
    }
    score_fields(article, cleaned, report);
}

fn score_fields(article: &CorpusArticle, cleaned: &Cleaned, report: &mut Report) {
    let list = |value: &str| -> Vec<String> {
        value
            .split(';')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let rights = cleaned.rights.as_ref();
    let checks: [(&str, Option<String>); 7] = [
        ("contributors", Some(cleaned.contributors.join("; "))),
        ("authors", Some(cleaned.authors.join("; "))),
        ("dateline-place", cleaned.dateline.place.clone()),
        (
            "dateline-date",
            cleaned.dateline.date.map(|date| date.to_string()),
        ),
        (
            "rights-holder",
            rights.and_then(|rights| rights.holder.clone()),
        ),
        (
            "rights-year",
            rights
                .and_then(|rights| rights.year)
                .map(|year| year.to_string()),
        ),
        (
            "rights-service",
            rights.and_then(|rights| rights.service.clone()),
        ),
    ];
    for (key, actual) in checks {
        let Some(expected) = article.header.get(key) else {
            continue;
        };
        let score = report.fields.entry(key.to_owned()).or_default();
        score.checked += 1;
        let matched = match key {
            "contributors" | "authors" => actual.as_deref().map(list) == Some(list(expected)),
            _ => actual.as_deref() == Some(expected.as_str()),
        };
        if matched {
            score.matched += 1;
        } else {
            report.mistakes.push(format!(
                "{}: field {key}: expected {expected:?}, got {:?}",
                article.name,
                actual.unwrap_or_default()
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARTICLE: &str = "title: Fed holds\nservice: Reuters\ncontributors: Howard Schneider\n\
        dateline-place: WASHINGTON\n---\n\
        [dateline:WASHINGTON, Sept 18 (Reuters) -] The Fed held rates.\n\n\
        \"Not in a hurry,\" Powell said.\n\
        [contributors] Reporting by Howard Schneider\n";

    #[test]
    fn parses_labels_and_rebuilds_the_delivered_text() {
        let article = parse_article(ARTICLE, "reuters/01.txt").unwrap();
        assert_eq!(
            article.paragraphs[0],
            "WASHINGTON, Sept 18 (Reuters) - The Fed held rates."
        );
        assert_eq!(
            article.expected_body(),
            vec!["The Fed held rates.", "\"Not in a hurry,\" Powell said."]
        );
        assert_eq!(
            article.expected_cuts(),
            vec![
                (
                    RemovedKind::Dateline,
                    "WASHINGTON, Sept 18 (Reuters) -".to_owned()
                ),
                (
                    RemovedKind::Contributors,
                    "Reporting by Howard Schneider".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn bracketed_dateline_prefixes_parse() {
        let text = "title: T\nservice: ANI\n---\n[dateline:New Delhi [India], September 13 (ANI):] The rest.\n";
        let article = parse_article(text, "ani/01.txt").unwrap();
        assert_eq!(
            article.labels[0],
            Label::Dateline {
                prefix: "New Delhi [India], September 13 (ANI):".to_owned(),
                rest: "The rest.".to_owned()
            }
        );
    }

    #[test]
    fn format_errors_name_file_and_line() {
        let err = parse_article("title: T\nservice: S\nbogus: x\n---\n", "x.txt").unwrap_err();
        assert_eq!(
            err.to_string(),
            "corpus file x.txt, line 3: unknown header key bogus"
        );
        let err = parse_article("title: T\nservice: S\n---\n[credits] x\n", "x.txt").unwrap_err();
        assert!(err.to_string().contains("unknown label kind credits"));
    }

    #[test]
    fn scoring_counts_cuts_by_kind() {
        let article = parse_article(ARTICLE, "reuters/01.txt").unwrap();
        let report = score(&[article], &Cleaner::builtin());
        assert_eq!(
            report.overall,
            Counts {
                correct: 2,
                wrong: 0,
                missed: 0
            }
        );
        assert_eq!(report.body_kept, 2);
        assert_eq!(
            report.fields["contributors"],
            FieldScore {
                checked: 1,
                matched: 1
            }
        );
        assert_eq!(
            report.fields["dateline-place"],
            FieldScore {
                checked: 1,
                matched: 1
            }
        );
    }
}
