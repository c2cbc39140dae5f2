//! People, organisations and places named in a body, with mention counts.
//!
//! A rule- and gazetteer-based tagger, no model and no network: the lists
//! under `data/` (places, organisations, titles, given names, organisation
//! words; see `data/README.md`) are compiled into the binary.
//!
//! The text is cut into runs of capitalised words (connectors such as
//! "of", "for", "de", "al" may sit inside a run). In each run, from left
//! to right:
//!
//! 1. the longest gazetteer name (place or organisation, any listed
//!    surface form) wins;
//! 2. a title ("President", "Sen.", "Secretary of State") makes the
//!    capitalised words after it a person;
//! 3. a known given name followed by capitalised words is a person;
//! 4. words ending in an organisation word ("… Corporation", "… Ministry")
//!    or starting with one ("Ministry of …") are an organisation;
//! 5. a lone capitalised word that is the surname of a person named in
//!    full elsewhere in the story is a mention of that person.
//!
//! Surface forms are merged: gazetteer aliases map to one canonical name
//! ("U.S." → "United States"), and a person's surname, title forms and
//! full name count as one person ("President Joe Biden", "Biden").

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use wirefeed_model::{Entities, EntityKind, EntityMention};

const PLACES: &str = include_str!("../data/places.txt");
const ORGANIZATIONS: &str = include_str!("../data/organizations.txt");
const TITLES: &str = include_str!("../data/person_titles.txt");
const GIVEN_NAMES: &str = include_str!("../data/given_names.txt");
const ORG_WORDS: &str = include_str!("../data/org_words.txt");

/// Longest gazetteer name, in words.
const MAX_NAME_WORDS: usize = 8;

/// Lower-case words that may stand inside a capitalised name.
const CONNECTORS: &[&str] = &[
    "of", "for", "on", "the", "and", "de", "del", "della", "di", "da", "do", "dos", "das", "du",
    "des", "la", "le", "van", "von", "der", "den", "al", "bin", "ibn", "el", "y", "zu", "&",
];

/// Name particles that may stand inside a person's name.
const PARTICLES: &[&str] = &[
    "de", "del", "della", "di", "da", "dos", "van", "von", "der", "den", "al", "bin", "ibn", "el",
    "la", "le",
];

/// Capitalised words that never start or make a name: sentence starters,
/// days, months, pronouns.
const NOT_NAME_WORDS: &[&str] = &[
    "The",
    "A",
    "An",
    "In",
    "On",
    "At",
    "As",
    "But",
    "And",
    "Or",
    "If",
    "When",
    "While",
    "After",
    "Before",
    "Since",
    "This",
    "That",
    "These",
    "Those",
    "It",
    "Its",
    "He",
    "She",
    "They",
    "We",
    "I",
    "You",
    "His",
    "Her",
    "Their",
    "Our",
    "My",
    "Your",
    "There",
    "Here",
    "What",
    "Who",
    "How",
    "Why",
    "Where",
    "Which",
    "Some",
    "Many",
    "Most",
    "More",
    "All",
    "Any",
    "Each",
    "Every",
    "No",
    "Not",
    "Now",
    "Then",
    "Also",
    "Still",
    "Yet",
    "So",
    "For",
    "From",
    "To",
    "Of",
    "By",
    "With",
    "About",
    "Under",
    "Over",
    "Despite",
    "During",
    "Although",
    "However",
    "Meanwhile",
    "Asked",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Sept",
    "Oct",
    "Nov",
    "Dec",
    "Mr",
    "Mrs",
    "Ms",
    "Dr",
    "Der",
    "Die",
    "Das",
    "Le",
    "La",
    "Les",
    "El",
    "Los",
    "Las",
    "Il",
    "Un",
    "Una",
    "Une",
    "Ein",
    "Eine",
    "Según",
    "Laut",
    "Selon",
    "Para",
    "Por",
    "Pour",
    "Mit",
    "Und",
    "Et",
    "Y",
    "E",
    "Western",
    "Eastern",
    "Northern",
    "Southern",
    "Officials",
    "Read",
    "Watch",
    "Related",
    "Editor",
    "Updated",
    "Photo",
    "Video",
    "Breaking",
    "Copyright",
    "Today",
    "Yesterday",
    "Tomorrow",
    "Last",
    "Next",
    "Earlier",
    "Later",
    "Even",
];

/// Abbreviations whose period does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "Mr.", "Mrs.", "Ms.", "Dr.", "St.", "Jr.", "Sr.", "Gen.", "Sen.", "Rep.", "Gov.", "Lt.",
    "Col.", "Maj.", "Capt.", "Sgt.", "Adm.", "Prof.", "Rev.", "Mt.", "Ft.", "Corp.", "Inc.", "Co.",
    "Ltd.", "No.",
];

struct Gazetteer {
    /// Surface form → (kind, canonical name).
    names: HashMap<String, (EntityKind, String)>,
    /// Title surface forms (one or more words).
    titles: HashSet<String>,
    longest_title: usize,
    given: HashSet<String>,
    org_last: HashSet<String>,
    org_first: HashSet<String>,
}

fn entries(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            line.split('|')
                .map(str::trim)
                .filter(|form| !form.is_empty())
                .collect()
        })
}

static GAZETTEER: LazyLock<Gazetteer> = LazyLock::new(|| {
    let mut names = HashMap::new();
    for (text, kind) in [
        (ORGANIZATIONS, EntityKind::Organization),
        (PLACES, EntityKind::Place),
    ] {
        for forms in entries(text) {
            let Some(first) = forms.first() else { continue };
            // "Georgia (U.S. state)": the qualifier names the entity but is
            // never written in copy.
            let canonical = first.to_string();
            let bare = first.split(" (").next().unwrap_or(first);
            for form in std::iter::once(bare).chain(forms.iter().skip(1).copied()) {
                names
                    .entry(form.to_owned())
                    .or_insert_with(|| (kind, canonical.clone()));
            }
        }
    }
    let mut titles = HashSet::new();
    for forms in entries(TITLES) {
        titles.extend(forms.into_iter().map(str::to_owned));
    }
    let longest_title = titles
        .iter()
        .map(|title| title.split(' ').count())
        .max()
        .unwrap_or(1);
    let given = entries(GIVEN_NAMES).flatten().map(str::to_owned).collect();
    let mut org_last = HashSet::new();
    let mut org_first = HashSet::new();
    let mut first_section = false;
    for line in ORG_WORDS.lines().map(str::trim) {
        if line == "[first]" {
            first_section = true;
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let set = if first_section {
            &mut org_first
        } else {
            &mut org_last
        };
        set.extend(line.split('|').map(|form| form.trim().to_owned()));
    }
    Gazetteer {
        names,
        titles,
        longest_title,
        given,
        org_last,
        org_first,
    }
});

/// A word of the text and what follows it.
#[derive(Debug)]
struct Token<'a> {
    word: &'a str,
    /// Punctuation after the word ends the run it is in.
    breaks_after: bool,
    /// Punctuation before the word starts a new run.
    breaks_before: bool,
}

fn tokenize(text: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    for raw in text.split_whitespace() {
        let lead = raw
            .char_indices()
            .find(|(_, c)| c.is_alphanumeric())
            .map_or(raw.len(), |(at, _)| at);
        let breaks_before = lead > 0;
        let mut word = &raw[lead..];
        let mut breaks_after = false;
        // Trailing punctuation, except an abbreviation's period.
        loop {
            if ABBREVIATIONS.contains(&word) || is_initialism(word) {
                break;
            }
            match word.chars().last() {
                Some(c) if !c.is_alphanumeric() => {
                    word = &word[..word.len() - c.len_utf8()];
                    breaks_after = true;
                }
                _ => break,
            }
        }
        // Possessives: "Putin's" names Putin and ends the name.
        for suffix in ["'s", "’s", "'", "’"] {
            if let Some(stem) = word.strip_suffix(suffix) {
                word = stem;
                breaks_after = true;
                break;
            }
        }
        if !word.is_empty() {
            tokens.push(Token {
                word,
                breaks_after,
                breaks_before,
            });
        }
    }
    tokens
}

/// "U.S.", "U.K.", "R." — capitals each followed by a period.
fn is_initialism(word: &str) -> bool {
    word.len() >= 2
        && word.ends_with('.')
        && word
            .split('.')
            .filter(|part| !part.is_empty())
            .all(|part| part.chars().count() == 1 && part.chars().all(char::is_uppercase))
}

fn capitalised(word: &str) -> bool {
    word.chars().next().is_some_and(char::is_uppercase)
}

/// One mention found in the text.
#[derive(Debug)]
struct Found {
    kind: EntityKind,
    /// The canonical name (gazetteer) or the words as written.
    name: String,
    /// The text as written.
    form: String,
}

/// Finds the entities in `paragraphs`.
pub fn extract_entities(paragraphs: &[String]) -> Entities {
    let gazetteer = &*GAZETTEER;
    let mut found: Vec<Found> = Vec::new();
    // Lone capitalised words that may be a surname, by paragraph order.
    let mut singles: Vec<String> = Vec::new();
    for paragraph in paragraphs {
        let tokens = tokenize(paragraph);
        let mut start = 0;
        while start < tokens.len() {
            // A run: capitalised words, connectors inside, cut at
            // punctuation.
            if !capitalised(tokens[start].word) {
                start += 1;
                continue;
            }
            let mut end = start + 1;
            while end < tokens.len() && !tokens[end - 1].breaks_after && !tokens[end].breaks_before
            {
                let word = tokens[end].word;
                let connector = CONNECTORS.contains(&word)
                    && tokens.get(end + 1).is_some_and(|next| {
                        capitalised(next.word) && !tokens[end].breaks_after && !next.breaks_before
                    });
                if !(capitalised(word) || connector) {
                    break;
                }
                end += 1;
            }
            let words: Vec<&str> = tokens[start..end].iter().map(|token| token.word).collect();
            tag_run(gazetteer, &words, &mut found, &mut singles);
            start = end;
        }
    }
    merge(found, singles)
}

fn tag_run(
    gazetteer: &Gazetteer,
    words: &[&str],
    found: &mut Vec<Found>,
    singles: &mut Vec<String>,
) {
    let mut at = 0;
    while at < words.len() {
        // 1. The longest gazetteer name.
        let longest = (1..=MAX_NAME_WORDS.min(words.len() - at))
            .rev()
            .find_map(|len| {
                let form = words[at..at + len].join(" ");
                gazetteer
                    .names
                    .get(&form)
                    .map(|(kind, name)| (len, *kind, name.clone(), form))
            });
        if let Some((len, kind, name, form)) = longest {
            // "Washington Post" is caught as a whole above; a place name
            // followed by an organisation word is an organisation.
            if kind == EntityKind::Place
                && let Some(next) = words.get(at + len)
                && gazetteer.org_last.contains(*next)
            {
                let form = words[at..=at + len].join(" ");
                found.push(Found {
                    kind: EntityKind::Organization,
                    name: form.clone(),
                    form,
                });
                at += len + 1;
                continue;
            }
            found.push(Found { kind, name, form });
            at += len;
            continue;
        }
        // 2. A title, then the name.
        let title = (1..=gazetteer.longest_title.min(words.len() - at))
            .rev()
            .find(|len| gazetteer.titles.contains(&words[at..at + len].join(" ")));
        if let Some(len) = title {
            let name_start = at + len;
            let name_len = person_words(gazetteer, &words[name_start..]);
            if name_len > 0 {
                push_person(&words[name_start..name_start + name_len], found, singles);
                at = name_start + name_len;
                continue;
            }
            at += len;
            continue;
        }
        let word = words[at];
        if NOT_NAME_WORDS.contains(&word.trim_end_matches('.')) {
            at += 1;
            continue;
        }
        // 3. A given name and a surname.
        if gazetteer.given.contains(word) {
            let name_len = person_words(gazetteer, &words[at..]);
            if name_len >= 2 && !ends_in_org_word(gazetteer, &words[at..at + name_len]) {
                push_person(&words[at..at + name_len], found, singles);
                at += name_len;
                continue;
            }
        }
        // 4. Organisation words.
        let rest = &words[at..];
        if rest.len() >= 2 {
            if let Some(last) = rest
                .iter()
                .rposition(|word| gazetteer.org_last.contains(*word))
                && last >= 1
            {
                // The name is the capitalised words right before the
                // organisation word: "Shares of Harbor Freight
                // Corporation" names "Harbor Freight Corporation".
                let mut first = last;
                while first > 0
                    && capitalised(rest[first - 1])
                    && !NOT_NAME_WORDS.contains(&rest[first - 1])
                {
                    first -= 1;
                }
                if first == last {
                    at += 1;
                    continue;
                }
                let form = rest[first..=last].join(" ");
                found.push(Found {
                    kind: EntityKind::Organization,
                    name: form.clone(),
                    form,
                });
                at += last + 1;
                continue;
            }
            if gazetteer.org_first.contains(word) {
                let form = rest.join(" ");
                found.push(Found {
                    kind: EntityKind::Organization,
                    name: form.clone(),
                    form,
                });
                at = words.len();
                continue;
            }
        }
        // 5. Perhaps a surname; decided once every full name is known.
        if words.len() - at == 1 || !capitalised(words.get(at + 1).copied().unwrap_or("")) {
            singles.push(word.to_owned());
        }
        at += 1;
    }
}

fn ends_in_org_word(gazetteer: &Gazetteer, words: &[&str]) -> bool {
    words
        .last()
        .is_some_and(|word| gazetteer.org_last.contains(*word))
}

/// How many of `words` form a person's name: up to four capitalised words
/// (particles and initials allowed inside), none a gazetteer name or a
/// sentence word.
fn person_words(gazetteer: &Gazetteer, words: &[&str]) -> usize {
    let mut len = 0;
    for (index, word) in words.iter().enumerate().take(5) {
        let particle = PARTICLES.contains(word) && index > 0 && index + 1 < words.len();
        if !(capitalised(word) || particle) || NOT_NAME_WORDS.contains(word) {
            break;
        }
        if index > 0 && gazetteer.names.contains_key(*word) && !particle {
            break;
        }
        len = index + 1;
    }
    // A name does not end on a particle.
    while len > 0 && PARTICLES.contains(&words[len - 1]) {
        len -= 1;
    }
    len
}

fn push_person(words: &[&str], found: &mut Vec<Found>, singles: &mut Vec<String>) {
    if words.len() == 1 {
        singles.push(words[0].to_owned());
        return;
    }
    let form = words.join(" ");
    found.push(Found {
        kind: EntityKind::Person,
        name: form.clone(),
        form,
    });
}

fn surname(name: &str) -> &str {
    name.rsplit(' ')
        .find(|word| !matches!(*word, "Jr." | "Sr." | "II" | "III"))
        .unwrap_or(name)
}

/// Merges surface forms and counts mentions.
fn merge(found: Vec<Found>, singles: Vec<String>) -> Entities {
    // People: full names, then surnames pointing at them. A longer full
    // name with the same surname and first name ("Joseph R. Biden") joins
    // the shorter one.
    let mut people: Vec<(String, usize, Vec<String>)> = Vec::new();
    let mut others: Vec<(EntityKind, String, usize, Vec<String>)> = Vec::new();
    for item in found {
        if item.kind == EntityKind::Person {
            let existing = people.iter_mut().find(|(name, _, _)| {
                *name == item.name
                    || (surname(name) == surname(&item.name)
                        && name.split(' ').next() == item.name.split(' ').next())
            });
            match existing {
                Some((_, count, forms)) => {
                    *count += 1;
                    if !forms.contains(&item.form) {
                        forms.push(item.form);
                    }
                }
                None => people.push((item.name, 1, vec![item.form])),
            }
        } else {
            match others
                .iter_mut()
                .find(|(kind, name, _, _)| *kind == item.kind && *name == item.name)
            {
                Some((_, _, count, forms)) => {
                    *count += 1;
                    if !forms.contains(&item.form) {
                        forms.push(item.form);
                    }
                }
                None => others.push((item.kind, item.name, 1, vec![item.form])),
            }
        }
    }
    for single in singles {
        let matches: Vec<usize> = people
            .iter()
            .enumerate()
            .filter(|(_, (name, _, _))| surname(name) == single)
            .map(|(index, _)| index)
            .collect();
        // A surname shared by two people in the story is left out rather
        // than guessed.
        if let [index] = matches[..] {
            let (_, count, forms) = &mut people[index];
            *count += 1;
            if !forms.contains(&single) {
                forms.push(single);
            }
        }
    }
    let mut mentions: Vec<EntityMention> = people
        .into_iter()
        .map(|(name, count, forms)| EntityMention {
            name,
            kind: EntityKind::Person,
            mentions: count,
            forms,
        })
        .chain(
            others
                .into_iter()
                .map(|(kind, name, count, forms)| EntityMention {
                    name,
                    kind,
                    mentions: count,
                    forms,
                }),
        )
        .collect();
    // Most mentioned first; ties keep the order of first appearance.
    mentions.sort_by_key(|mention| std::cmp::Reverse(mention.mentions));
    let names = |kind: EntityKind| {
        mentions
            .iter()
            .filter(|mention| mention.kind == kind)
            .map(|mention| mention.name.clone())
            .collect()
    };
    Entities {
        people: names(EntityKind::Person),
        organizations: names(EntityKind::Organization),
        places: names(EntityKind::Place),
        mentions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(text: &[&str]) -> Entities {
        extract_entities(
            &text
                .iter()
                .map(|line| (*line).to_owned())
                .collect::<Vec<_>>(),
        )
    }

    fn count(entities: &Entities, name: &str) -> usize {
        entities
            .mentions
            .iter()
            .find(|mention| mention.name == name)
            .map_or(0, |mention| mention.mentions)
    }

    #[test]
    fn titles_surnames_and_aliases_merge() {
        let entities = of(&[
            "President Joe Biden met Prime Minister Keir Starmer in Washington on Friday.",
            "Biden told reporters the U.S. would not change course. Starmer agreed.",
            "Officials in the United States and Britain said NATO was consulted.",
        ]);
        assert_eq!(count(&entities, "Joe Biden"), 2);
        assert_eq!(count(&entities, "Keir Starmer"), 2);
        assert_eq!(count(&entities, "United States"), 2);
        assert_eq!(count(&entities, "United Kingdom"), 1);
        assert!(entities.organizations.contains(&"NATO".to_owned()));
        assert!(entities.places.contains(&"Washington".to_owned()));
        let biden = entities
            .mentions
            .iter()
            .find(|mention| mention.name == "Joe Biden")
            .expect("Biden");
        assert_eq!(biden.forms, vec!["Joe Biden", "Biden"]);
    }

    #[test]
    fn sentence_words_are_not_people() {
        let entities = of(&["But Tuesday was different. The Kremlin said Moscow would respond."]);
        assert!(entities.people.is_empty(), "{:?}", entities.people);
        assert_eq!(entities.places, vec!["Moscow"]);
        assert_eq!(entities.organizations, vec!["Kremlin"]);
    }

    #[test]
    fn organisation_words_make_organisations() {
        let entities = of(&[
            "Shares of Harbor Freight Corporation fell after the Ministry of Fisheries spoke.",
        ]);
        assert!(
            entities
                .organizations
                .contains(&"Harbor Freight Corporation".to_owned()),
            "{:?}",
            entities.organizations
        );
        assert!(
            entities
                .organizations
                .contains(&"Ministry of Fisheries".to_owned()),
            "{:?}",
            entities.organizations
        );
    }

    #[test]
    fn shared_surnames_are_not_guessed() {
        let entities = of(&["Anna Smith and John Smith disagreed. Smith left early."]);
        assert_eq!(count(&entities, "Anna Smith"), 1);
        assert_eq!(count(&entities, "John Smith"), 1);
    }
}
