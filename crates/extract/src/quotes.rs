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

/// A quotation left open at the end of a paragraph, to be continued by
/// the next one (wire style: the next paragraph opens with a quotation
/// mark again, and only the last one closes).
struct Open {
    text: String,
    speaker: Option<String>,
}

/// Text after the last opening quotation mark that is not closed in
/// `paragraph`.
fn unclosed_tail(paragraph: &str) -> Option<&str> {
    if let Some(at) = paragraph.rfind('“') {
        if !paragraph[at..].contains('”') {
            return Some(&paragraph[at + '“'.len_utf8()..]);
        }
        return None;
    }
    if paragraph.matches('"').count() % 2 == 1 {
        let at = paragraph.rfind('"')?;
        return Some(&paragraph[at + 1..]);
    }
    None
}

/// Returns the direct quotations in `paragraphs`, in order, including
/// quotations that run over several paragraphs.
pub fn extract_quotes(paragraphs: &[String]) -> Vec<Quote> {
    let text = paragraphs.join("\n");
    let mut quotes = Vec::new();
    let mut last_speaker: Option<(usize, String)> = None;
    let mut open: Option<Open> = None;
    for (index, whole) in paragraphs.iter().enumerate() {
        let mut paragraph = whole.as_str();
        // A quotation open from the paragraph before continues only when
        // this one opens with a quotation mark; otherwise it is dropped.
        let continuing = open.take().and_then(|continued| {
            let rest = paragraph
                .strip_prefix('“')
                .or_else(|| paragraph.strip_prefix('"'))?;
            Some((continued, rest))
        });
        if let Some((mut continued, rest)) = continuing {
            continued.text.push(' ');
            let Some(close) = rest.find(['”', '"']) else {
                continued.text.push_str(rest.trim());
                open = Some(continued);
                continue;
            };
            continued.text.push_str(rest[..close].trim());
            let after = &rest[close..];
            let after = after
                .strip_prefix('”')
                .or_else(|| after.strip_prefix('"'))
                .unwrap_or(after);
            let speaker = continued
                .speaker
                .or_else(|| speaker_after(after).map(|name| full_name(&name, &text)));
            if let Some(speaker) = &speaker {
                last_speaker = Some((index, speaker.clone()));
            }
            quotes.push(Quote {
                speaker,
                text: continued
                    .text
                    .trim()
                    .trim_end_matches(',')
                    .trim()
                    .to_owned(),
            });
            paragraph = after;
        }
        process_paragraph(
            paragraph,
            index,
            &text,
            &mut quotes,
            &mut last_speaker,
            &mut open,
        );
    }
    quotes
}

/// The quotations closed within one paragraph; a quotation left open at
/// its end goes to `open`.
fn process_paragraph(
    paragraph: &str,
    index: usize,
    text: &str,
    quotes: &mut Vec<Quote>,
    last_speaker: &mut Option<(usize, String)>,
    open: &mut Option<Open>,
) {
    {
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
                Some(name) => Some(full_name(&name, text)),
                None => None,
            };
            if let Some(speaker) = &speaker {
                *last_speaker = Some((index, speaker.clone()));
            }
            quotes.push(Quote {
                speaker,
                text: quoted.to_owned(),
            });
        }
    }
    if let Some(tail) = unclosed_tail(paragraph)
        && !tail.trim().is_empty()
    {
        let head = &paragraph[..paragraph.len() - tail.len()];
        let speaker = last_speaker
            .as_ref()
            .filter(|(at, _)| *at == index)
            .map(|(_, name)| name.clone())
            .or_else(|| {
                speaker_before(head.trim_end_matches(['“', '"']))
                    .filter(|name| !PRONOUNS.contains(&name.as_str()))
                    .map(|name| full_name(&name, text))
            });
        *open = Some(Open {
            text: tail.trim().to_owned(),
            speaker,
        });
    }
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
    fn quotations_over_several_paragraphs() {
        let quotes = extract_quotes(&paragraphs(&[
            "Mayor Ana Ruiz defended the plan on Monday.",
            "“We will not close a single library,” Ruiz said. “The money is there, and the council voted for it.",
            "“Anyone who says otherwise has not read the budget.”",
            "“This is a second quotation that stands on its own,” said Tom Lee.",
        ]));
        assert_eq!(quotes.len(), 3, "{quotes:?}");
        assert_eq!(quotes[1].speaker.as_deref(), Some("Ana Ruiz"));
        assert_eq!(
            quotes[1].text,
            "The money is there, and the council voted for it. Anyone who says otherwise has not read the budget."
        );
        assert_eq!(quotes[2].speaker.as_deref(), Some("Tom Lee"));
        // Closed only in the last paragraph, attributed after it.
        let quotes = extract_quotes(&paragraphs(&[
            "“The water came up faster than anyone expected.",
            "“By midnight the street was a river,” said Karl Obi, a shop owner.",
        ]));
        assert_eq!(quotes.len(), 1, "{quotes:?}");
        assert_eq!(quotes[0].speaker.as_deref(), Some("Karl Obi"));
        assert!(quotes[0].text.starts_with("The water came up"));
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
