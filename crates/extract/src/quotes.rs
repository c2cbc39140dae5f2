//! Direct quotations and who said them.
//!
//! A quotation is text between quotation marks of at least four words (so
//! scare quotes and titles are left alone). Its speaker is read from the
//! attribution around it, in the forms wire copy uses:
//!
//! - after it: `"…," Putin told reporters`, `"…," said Blinken`;
//! - before it: `Blinken said: "…"`, `Blinken said Wednesday that …
//!   "…"`, `Putin … , saying "…"`;
//! - a pronoun (`"…," he said`) takes the speaker of an earlier quotation
//!   in the same paragraph; otherwise it is left unresolved.
//!
//! A surname is expanded to the full name the story used first ("Putin" →
//! "Vladimir Putin"). A quotation whose speaker the text does not say is
//! kept with no speaker rather than guessed.

use std::sync::LazyLock;

use regex::Regex;
use wirefeed_model::Quote;

const VERBS: &str = "said|says|told|tells|added|adds|asked|warned|wrote|stated|explained|noted|insisted|argued|declared|replied|recalled|continued|urged|announced|acknowledged|conceded|emphasized|stressed";
const NAME: &str = r"\p{Lu}[\p{L}'’-]+(?:\s+\p{Lu}[\p{L}'’.-]+){0,3}";
const PRONOUNS: &[&str] = &["he", "she", "they", "He", "She", "They"];

/// Capitalised words that start a sentence or name a role, never a speaker.
const NOT_NAMES: &[&str] = &[
    "But",
    "And",
    "The",
    "A",
    "An",
    "Asked",
    "In",
    "On",
    "At",
    "As",
    "When",
    "After",
    "Before",
    "He",
    "She",
    "They",
    "It",
    "This",
    "That",
    "While",
    "Although",
    "However",
    "Meanwhile",
    "President",
    "Secretary",
    "Minister",
    "Prime",
    "Foreign",
    "Defense",
    "Chancellor",
    "Mr",
    "Mrs",
    "Ms",
    "Dr",
    "US",
    "UK",
    "Russian",
    "Ukrainian",
    "British",
    "American",
    "Former",
];

static AFTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"^\s*[,.!?]?\s*(?:(?P<name>{NAME}|he|she|they)\s+(?:{VERBS})\b|(?:{VERBS})\s+(?P<name2>{NAME}|he|she|they)\b)"
    ))
    .expect("fixed pattern")
});

static BEFORE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?P<name>{NAME}|\b(?:he|she|they))\s+(?:{VERBS})\b[^.!?]{{0,80}}$"
    ))
    .expect("fixed pattern")
});

static SAYING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?:^|[.!?]\s+)(?:But\s+|And\s+)?(?P<name>{NAME})\b[^.!?]{{0,200}},\s+saying\s*$"
    ))
    .expect("fixed pattern")
});

static QUOTED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"["“](?P<text>[^"“”]+)["”]"#).expect("fixed pattern"));

/// Returns the direct quotations in `paragraphs`, in order.
pub fn extract_quotes(paragraphs: &[String]) -> Vec<Quote> {
    let text = paragraphs.join("\n");
    let mut quotes = Vec::new();
    let mut last_speaker: Option<(usize, String)> = None;
    for (index, paragraph) in paragraphs.iter().enumerate() {
        for found in QUOTED.captures_iter(paragraph) {
            let (Some(whole), Some(inner)) = (found.get(0), found.name("text")) else {
                continue;
            };
            let quoted = inner.as_str().trim().trim_end_matches(',').trim();
            if quoted.split_whitespace().count() < 4 {
                continue;
            }
            let named = speaker_after(&paragraph[whole.end()..])
                .or_else(|| speaker_before(&paragraph[..whole.start()]));
            let speaker = match named {
                Some(name) if PRONOUNS.contains(&name.as_str()) => last_speaker
                    .as_ref()
                    .filter(|(at, _)| *at == index)
                    .map(|(_, name)| name.clone()),
                Some(name) => Some(full_name(&name, &text)),
                None => None,
            };
            if let Some(speaker) = &speaker {
                last_speaker = Some((index, speaker.clone()));
            }
            quotes.push(Quote {
                speaker,
                text: quoted.to_owned(),
            });
        }
    }
    quotes
}

fn speaker_after(tail: &str) -> Option<String> {
    let caps = AFTER.captures(tail)?;
    let name = caps.name("name").or(caps.name("name2"))?.as_str();
    usable(name)
}

fn speaker_before(head: &str) -> Option<String> {
    let sentence_start = head.rfind(['.', '!', '?']).map_or(0, |at| at + 1);
    let sentence = &head[sentence_start..];
    if let Some(caps) = BEFORE.captures(sentence) {
        return caps.name("name").and_then(|name| usable(name.as_str()));
    }
    SAYING
        .captures(head)
        .and_then(|caps| caps.name("name"))
        .and_then(|name| usable(name.as_str()))
}

/// Drops leading non-name words ("But Putin" → "Putin"); `None` when
/// nothing name-like is left.
fn usable(candidate: &str) -> Option<String> {
    if PRONOUNS.contains(&candidate) {
        return Some(candidate.to_owned());
    }
    let words: Vec<&str> = candidate
        .split_whitespace()
        .skip_while(|word| NOT_NAMES.contains(&word.trim_end_matches('.')))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// "Putin" → "Vladimir Putin" when the story names him so.
fn full_name(name: &str, text: &str) -> String {
    if name.contains(' ') {
        return name.to_owned();
    }
    for (at, _) in text.match_indices(name) {
        let after = text[at + name.len()..].chars().next();
        if after.is_some_and(char::is_alphanumeric) {
            continue;
        }
        let before = text[..at].trim_end_matches(' ');
        if before.len() == at {
            continue;
        }
        let first = before
            .rsplit([' ', '\n', '(', '"', '“'])
            .next()
            .unwrap_or("");
        let capitalised = first.chars().next().is_some_and(char::is_uppercase);
        let plain = first.chars().all(|c| c.is_alphabetic() || c == '-');
        if capitalised && plain && !NOT_NAMES.contains(&first) {
            return format!("{first} {name}");
        }
    }
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paragraphs(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|line| (*line).to_owned()).collect()
    }

    #[test]
    fn attributions_after_and_before_the_quote() {
        let body = paragraphs(&[
            "Russian President Vladimir Putin has warned NATO alliance leaders.",
            "\"This will mean that NATO countries - the United States and European countries - are at war with Russia,\" Putin told reporters on Thursday.",
            "During a recent visit to Kyiv, US Secretary of State Antony Blinken offered the strongest suggestion yet.",
            "Asked about the concerns of escalation, Blinken said Wednesday that they are one factor, but \"certainly not the only factor, and it's not necessarily a dispositive factor.\"",
            "\"We've now seen this action of Russia acquiring ballistic missiles from Iran,\" said Blinken.",
            "But Putin on Thursday raised doubts as to whether Kyiv could carry out long-range strikes alone, saying \"the Ukrainian army is not capable of using cutting-edge high-precision long-range systems supplied by the West\" without NATO assistance.",
            "\"It could hit anything at that distance and well beyond,\" he told CNN.",
            "The report called the plan a \"bridge too far\" for now.",
        ]);
        let quotes = extract_quotes(&body);
        let pairs: Vec<(Option<&str>, &str)> = quotes
            .iter()
            .map(|quote| (quote.speaker.as_deref(), &quote.text[..20]))
            .collect();
        assert_eq!(
            pairs,
            vec![
                (Some("Vladimir Putin"), "This will mean that "),
                (Some("Antony Blinken"), "certainly not the on"),
                (Some("Antony Blinken"), "We've now seen this "),
                (Some("Vladimir Putin"), "the Ukrainian army i"),
                (None, "It could hit anythin"),
            ]
        );
        assert!(quotes[0].text.ends_with("are at war with Russia"));
    }

    #[test]
    fn unattributed_quotes_have_no_speaker() {
        let quotes = extract_quotes(&paragraphs(&[
            "“The harbour will never be the same again,” the sign read.",
        ]));
        assert_eq!(quotes.len(), 1);
        assert_eq!(quotes[0].speaker, None);
    }
}
