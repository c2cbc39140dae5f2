//! A handful of key terms per article.
//!
//! Candidates are the story's entities (weighted by mentions) and its
//! content words and two-word phrases (stop words, reporting verbs and
//! numbers left out), counted in the body and boosted when the title uses
//! them. A phrase absorbs the single words it is made of; the best few
//! are kept.

use std::collections::HashMap;

use wirefeed_model::Entities;

/// Keywords returned at most.
pub const MAX_KEYWORDS: usize = 8;

/// Words never worth a keyword: function words in the main wire
/// languages, reporting verbs and newsroom filler.
const COMMON: &[&str] = &[
    "the",
    "a",
    "an",
    "and",
    "or",
    "but",
    "of",
    "to",
    "in",
    "on",
    "at",
    "for",
    "with",
    "by",
    "from",
    "as",
    "is",
    "was",
    "are",
    "were",
    "be",
    "been",
    "being",
    "has",
    "have",
    "had",
    "it",
    "its",
    "this",
    "that",
    "these",
    "those",
    "he",
    "she",
    "they",
    "we",
    "you",
    "i",
    "his",
    "her",
    "their",
    "our",
    "not",
    "no",
    "will",
    "would",
    "could",
    "should",
    "can",
    "may",
    "might",
    "must",
    "said",
    "says",
    "say",
    "told",
    "tells",
    "added",
    "according",
    "also",
    "after",
    "before",
    "about",
    "into",
    "over",
    "than",
    "then",
    "there",
    "here",
    "when",
    "where",
    "which",
    "who",
    "what",
    "how",
    "while",
    "more",
    "most",
    "some",
    "many",
    "much",
    "any",
    "all",
    "other",
    "such",
    "only",
    "just",
    "very",
    "even",
    "still",
    "now",
    "new",
    "year",
    "years",
    "last",
    "first",
    "one",
    "two",
    "three",
    "week",
    "weeks",
    "day",
    "days",
    "time",
    "times",
    "people",
    "percent",
    "like",
    "because",
    "if",
    "so",
    "do",
    "does",
    "did",
    "done",
    "make",
    "made",
    "get",
    "got",
    "per",
    "both",
    "each",
    "between",
    "during",
    "under",
    "against",
    "without",
    "within",
    "since",
    "until",
    "around",
    "through",
    "among",
    "them",
    "him",
    "us",
    "me",
    "my",
    "your",
    "own",
    "same",
    "several",
    "including",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "statement",
    "reporters",
    "news",
    "news",
    "way",
    "part",
    "der",
    "die",
    "das",
    "und",
    "den",
    "von",
    "zu",
    "mit",
    "sich",
    "des",
    "auf",
    "für",
    "ist",
    "im",
    "dem",
    "nicht",
    "ein",
    "eine",
    "als",
    "auch",
    "es",
    "an",
    "werden",
    "aus",
    "er",
    "hat",
    "dass",
    "sie",
    "nach",
    "le",
    "la",
    "de",
    "et",
    "les",
    "des",
    "en",
    "un",
    "une",
    "du",
    "est",
    "que",
    "pour",
    "dans",
    "qui",
    "au",
    "sur",
    "par",
    "pas",
    "il",
    "ce",
    "avec",
    "sont",
    "aux",
    "ont",
    "été",
    "plus",
    "son",
    "elle",
    "el",
    "los",
    "del",
    "se",
    "las",
    "por",
    "para",
    "con",
    "una",
    "su",
    "al",
    "es",
    "lo",
    "como",
    "más",
    "pero",
    "sus",
    "ha",
    "este",
    "sido",
    "fue",
    "según",
    "sobre",
    "il",
    "di",
    "che",
    "e",
    "per",
    "non",
    "della",
    "nel",
    "alla",
    "o",
    "os",
    "da",
    "do",
    "em",
    "um",
    "uma",
    "com",
    "não",
    "mais",
];

fn is_content(word: &str) -> bool {
    word.chars().count() >= 3
        && word.chars().any(char::is_alphabetic)
        && !word.chars().any(|c| c.is_ascii_digit())
        && !COMMON.contains(&word)
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '\''))
        .map(|word| word.trim_matches(['-', '\'']).to_lowercase())
        .map(|word| word.strip_suffix("'s").map(str::to_owned).unwrap_or(word))
        .filter(|word| !word.is_empty())
        .collect()
}

/// The key terms of a story: entity names and lower-case terms, most
/// telling first, at most [`MAX_KEYWORDS`].
pub fn extract_keywords(title: &str, paragraphs: &[String], entities: &Entities) -> Vec<String> {
    let title_words = words(title);
    let mut scores: HashMap<String, f64> = HashMap::new();
    // Words that belong to an entity are counted through the entity.
    let mut entity_words: Vec<String> = Vec::new();
    for mention in &entities.mentions {
        let in_title = mention.forms.iter().any(|form| {
            let form = words(form);
            !form.is_empty() && title_words.windows(form.len()).any(|window| window == form)
        });
        let score = mention.mentions as f64 * 1.5 + if in_title { 3.0 } else { 0.0 };
        scores.insert(mention.name.clone(), score);
        for form in &mention.forms {
            entity_words.extend(words(form));
        }
    }
    let mut unigrams: HashMap<String, usize> = HashMap::new();
    let mut bigrams: HashMap<String, usize> = HashMap::new();
    for paragraph in paragraphs {
        let list = words(paragraph);
        for word in &list {
            if is_content(word) && !entity_words.contains(word) {
                *unigrams.entry(word.clone()).or_default() += 1;
            }
        }
        for pair in list.windows(2) {
            if pair
                .iter()
                .all(|word| is_content(word) && !entity_words.contains(word))
            {
                *bigrams.entry(pair.join(" ")).or_default() += 1;
            }
        }
    }
    for (phrase, count) in &bigrams {
        if *count < 2 {
            continue;
        }
        let boost = if title_words.windows(2).any(|pair| pair.join(" ") == *phrase) {
            3.0
        } else {
            0.0
        };
        scores.insert(phrase.clone(), *count as f64 * 1.8 + boost);
    }
    for (word, count) in &unigrams {
        let in_title = title_words.contains(word);
        if *count < 2 && !in_title {
            continue;
        }
        // A word inside a kept phrase is not repeated on its own.
        let in_phrase = bigrams
            .iter()
            .any(|(phrase, n)| *n >= 2 && phrase.split(' ').any(|part| part == word));
        if in_phrase && !in_title {
            continue;
        }
        scores.insert(
            word.clone(),
            *count as f64 + if in_title { 2.5 } else { 0.0 },
        );
    }
    let mut ranked: Vec<(String, f64)> = scores.into_iter().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    ranked
        .into_iter()
        .take(MAX_KEYWORDS)
        .map(|(term, _)| term)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entities::extract_entities;

    #[test]
    fn entities_and_repeated_terms_lead() {
        let body: Vec<String> = [
            "The city council voted on Tuesday to close the Elm Street bridge for repairs.",
            "Engineers found cracks in the bridge deck last month, the council said.",
            "Mayor Ana Ruiz said the bridge repairs would take six months.",
            "Ruiz said ferry service would run while the bridge deck is rebuilt.",
        ]
        .iter()
        .map(|line| (*line).to_owned())
        .collect();
        let entities = extract_entities(&body);
        let keywords = extract_keywords("Council closes bridge for repairs", &body, &entities);
        assert!(keywords.len() <= MAX_KEYWORDS);
        assert!(keywords.contains(&"bridge".to_owned()), "{keywords:?}");
        assert!(keywords.contains(&"Ana Ruiz".to_owned()), "{keywords:?}");
        assert!(keywords.contains(&"bridge deck".to_owned()), "{keywords:?}");
        assert!(!keywords.iter().any(|word| word == "said" || word == "the"));
    }
}
