//! Person names out of contributor lines and bylines.
//!
//! A list such as "Associated Press writers Sylvie Corbet in Paris and
//! Frances D’Emilio in Rome" or "Reporting by X; Additional reporting by Y;
//! Editing by Z" becomes the bare names. Every part must be a person name or
//! an organisation ("The Associated Press" in "With files from The Associated
//! Press"); anything else means the line is not a credit line after all.

use regex::Regex;

use crate::rules::RulePack;

/// Parses name lists with a pack's vocabulary.
#[derive(Debug, Clone)]
pub struct NameParser {
    role: Regex,
    writers: Regex,
    place_suffix: Regex,
    agency: Regex,
    org: Regex,
    particles: Vec<String>,
}

/// What a name list holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NameList {
    /// Person names, in order.
    pub people: Vec<String>,
    /// Organisations named instead of people.
    pub organizations: Vec<String>,
}

impl NameParser {
    /// Builds a parser from the pack's agencies, organisations and name
    /// particles.
    ///
    /// # Panics
    ///
    /// Never: the patterns are built from escaped agency names and fixed
    /// text.
    pub fn new(pack: &RulePack) -> Self {
        let agencies = if pack.agencies.is_empty() {
            "(?!)".to_owned()
        } else {
            pack.agencies
                .iter()
                .map(|agency| regex::escape(agency))
                .collect::<Vec<_>>()
                .join("|")
        };
        let build = |pattern: String| Regex::new(&pattern).expect("name patterns are fixed text");
        Self {
            role: build(
                r"(?i)^(?:and\s+)?(?:(?:additional|further)\s+)?(?:reporting|writing|editing|compiled|compiling|research|fact-checking|graphics|production|translation|translated|written|edited)\s+by:?\s+".to_owned(),
            ),
            writers: build(format!(
                r"^(?:(?:The\s+)?(?:{agencies}|Associated Press|\p{{Lu}}[\p{{L}}]+(?:\s+\p{{Lu}}[\p{{L}}]+){{0,2}})(?:’s|'s)?\s+(?:staff\s+)?(?:writers?|reporters?|correspondents?|journalists?|photographers?)\s+|(?:The\s+)?(?:{agencies}|Associated Press)(?:’s|'s)?\s+(?:(?:staff|senior|chief|political|business|sports|economics|science|health)\s+)*(?:(?:writers?|reporters?|correspondents?|journalists?|photographers?|editors?|producers?)\s+)?|(?:(?:staff|senior|chief)\s+)?(?:writers?|reporters?|correspondents?|journalists?|photographers?)\s+)"
            )),
            place_suffix: build(r"\s+(?:in|from|at)\s+\p{Lu}[\p{L} .,'’-]*$".to_owned()),
            agency: build(format!(r"^(?:the\s+)?(?:{agencies})(?:\s+\p{{Lu}}[\p{{L}}]+){{0,2}}$")),
            org: pack.org.clone(),
            particles: pack.name_particles.clone(),
        }
    }

    /// Parses a name list, or returns `None` when a part is neither a
    /// person nor an organisation.
    pub fn parse(&self, list: &str) -> Option<NameList> {
        let mut names = NameList::default();
        let list = list
            .trim()
            .trim_end_matches(['.', ')', ']'])
            .trim_start_matches(['(', '[']);
        for segment in list.split(';') {
            let segment = self.role.replace(segment.trim(), "");
            let segment = self.writers.replace(segment.trim(), "");
            let mut after_place = false;
            for part in segment
                .split([',', '&'])
                .flat_map(|part| part.split(" and "))
            {
                let part = part.trim();
                let part = part.strip_prefix("and ").unwrap_or(part).trim();
                if part.is_empty() {
                    continue;
                }
                // "X in Mombasa, Kenya, contributed": the region after a
                // place is not a name.
                if after_place && !part.contains(' ') {
                    after_place = false;
                    continue;
                }
                let name = self.place_suffix.replace(part, "");
                after_place = name.len() != part.len();
                let name = name.trim();
                if self.is_organization(name) {
                    names.organizations.push(name.to_owned());
                } else if self.is_person(name) {
                    names.people.push(name.to_owned());
                } else {
                    return None;
                }
            }
        }
        (!names.people.is_empty() || !names.organizations.is_empty()).then_some(names)
    }

    /// True for "The Associated Press", "Reuters", "AFP", "PA Political
    /// Correspondent".
    pub fn is_organization(&self, text: &str) -> bool {
        let generic = matches!(
            text.to_lowercase().as_str(),
            "agencies" | "news agencies" | "wires" | "wire services" | "staff" | "our staff"
        );
        generic || self.agency.is_match(text) || self.org.is_match(text)
    }

    fn is_person(&self, candidate: &str) -> bool {
        let words: Vec<&str> = candidate.split_whitespace().collect();
        if words.is_empty() || words.len() > 5 {
            return false;
        }
        let capitalised = |word: &str| word.chars().next().is_some_and(char::is_uppercase);
        let first_ok = words.first().is_some_and(|word| capitalised(word));
        let last_ok = words.last().is_some_and(|word| capitalised(word));
        let all_ok = words.iter().all(|word| {
            let lower = word.to_lowercase();
            (capitalised(word) || self.particles.contains(&lower))
                && word
                    .chars()
                    .all(|c| c.is_alphabetic() || ".'’-".contains(c))
        });
        first_ok && last_ok && all_ok && !matches!(words[0], "The" | "A" | "An" | "This" | "Our")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parser() -> NameParser {
        NameParser::new(&RulePack::builtin())
    }

    #[test]
    fn writers_places_and_roles_are_stripped() {
        let parser = parser();
        let names = parser
            .parse("Associated Press writers Sylvie Corbet in Paris and Frances D’Emilio in Rome")
            .unwrap();
        assert_eq!(names.people, vec!["Sylvie Corbet", "Frances D’Emilio"]);
        let names = parser
            .parse("Reporting by Andrew Osborn in Moscow; Additional reporting by Jane Doe; Editing by Alex Richardson")
            .unwrap();
        assert_eq!(
            names.people,
            vec!["Andrew Osborn", "Jane Doe", "Alex Richardson"]
        );
        let names = parser
            .parse("Associated Press writer Samuel Kiprotich in Mombasa, Kenya")
            .unwrap();
        assert_eq!(names.people, vec!["Samuel Kiprotich"]);
        let names = parser.parse("CNN’s Jonah Feld and Aisha Rahimi").unwrap();
        assert_eq!(names.people, vec!["Jonah Feld", "Aisha Rahimi"]);
    }

    #[test]
    fn organisations_are_told_apart_from_people() {
        let parser = parser();
        let names = parser.parse("The Associated Press").unwrap();
        assert!(names.people.is_empty());
        assert_eq!(names.organizations, vec!["The Associated Press"]);
        assert!(parser.is_organization("PA Political Correspondent"));
        assert!(!parser.is_organization("Jane Doe"));
        assert!(parser.is_organization("agencies"));
        let names = parser.parse("Times staff writer Ben Albrecht").unwrap();
        assert_eq!(names.people, vec!["Ben Albrecht"]);
    }

    #[test]
    fn sentences_are_not_name_lists() {
        let parser = parser();
        assert_eq!(parser.parse("Many donors"), None);
        assert_eq!(parser.parse("the fund that rebuilt the school"), None);
        assert_eq!(
            parser.parse("Reuters"),
            Some(NameList {
                people: vec![],
                organizations: vec!["Reuters".to_owned()]
            })
        );
    }
}
