//! The cleaning rule pack: what the cleaner recognises, as data.
//!
//! A pack is a TOML file (the default one is `config/rules/cleaning.toml`,
//! built into the binary) with a vocabulary, generic rules and one section
//! per service. [`RulePack::from_toml`] parses and validates all of it —
//! every regex compiled, every placeholder known — so a broken pack is
//! refused at start-up with the section, rule and problem named, never
//! half-applied.

use std::collections::BTreeMap;

use memchr::memmem::Finder;
use regex::Regex;
use serde::Deserialize;

/// The pack shipped with wirefeed.
pub const BUILTIN_RULES: &str = include_str!("../../../config/rules/cleaning.toml");

/// What a rule cuts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// Copyright and rights lines.
    Copyright,
    /// Contributor and credit lines.
    Contributors,
    /// Bylines.
    Byline,
    /// Lone date lines and dateline prefixes.
    Dateline,
    /// Photo captions.
    Caption,
    /// Photo credits.
    Credit,
    /// Promotions and page furniture.
    Promo,
    /// "This story has been updated" notes.
    UpdateNote,
    /// Editor's notes.
    EditorsNote,
}

/// How much of the paragraph a rule cuts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cut {
    /// The whole paragraph.
    #[default]
    Paragraph,
    /// Only the matched prefix; the rest stays.
    Prefix,
}

/// Where in the body a rule applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Zone {
    /// Anywhere.
    #[default]
    Any,
    /// In the run of removed paragraphs at the top.
    Top,
    /// The first paragraph left in the body.
    Lead,
    /// Among the last `bottom_zone` paragraphs.
    Bottom,
}

/// An extra test in code after the pattern matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// The `names` group holds person names or organisations.
    Names,
    /// Like `names`, with a trailing ", Organisation" allowed.
    Byline,
    /// A copyright mark in the first half of a short paragraph.
    Copyright,
    /// Short, no sentence punctuation, mostly capitalised words.
    Credit,
    /// The `date` group is a real date.
    Date,
    /// No quotation or attribution, and a picture cue.
    Caption,
    /// The `place` group is a place, not a label like "BREAKING".
    Place,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PackFile {
    version: u32,
    #[serde(default)]
    settings: SettingsFile,
    vocabulary: VocabularyFile,
    #[serde(default)]
    generic: SectionFile,
    #[serde(default)]
    services: BTreeMap<String, ServiceFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsFile {
    #[serde(default = "default_top_zone")]
    top_zone: usize,
    #[serde(default = "default_bottom_zone")]
    bottom_zone: usize,
    #[serde(default = "default_max_words")]
    max_words: usize,
}

impl Default for SettingsFile {
    fn default() -> Self {
        Self {
            top_zone: default_top_zone(),
            bottom_zone: default_bottom_zone(),
            max_words: default_max_words(),
        }
    }
}

const fn default_top_zone() -> usize {
    4
}
const fn default_bottom_zone() -> usize {
    10
}
const fn default_max_words() -> usize {
    60
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VocabularyFile {
    months: String,
    weekdays: String,
    place: String,
    org: String,
    caption_cues: String,
    #[serde(default)]
    name_particles: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SectionFile {
    #[serde(default)]
    rules: Vec<RuleFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceFile {
    name: String,
    #[serde(default)]
    agencies: Vec<String>,
    #[serde(default)]
    rules: Vec<RuleFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    kind: RuleKind,
    pattern: String,
    #[serde(default)]
    cut: Cut,
    #[serde(default)]
    zone: Zone,
    max_words: Option<usize>,
    check: Option<Check>,
    holder: Option<String>,
    service: Option<String>,
    #[serde(default)]
    takes_list: bool,
    #[serde(default)]
    requires: Vec<String>,
    #[serde(default)]
    ends_with: Vec<String>,
    block_end: Option<String>,
    block_max: Option<usize>,
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Where it came from: `generic` or `services.<name>`, and its index.
    pub origin: String,
    /// What it cuts.
    pub kind: RuleKind,
    /// The compiled pattern.
    pub regex: Regex,
    /// Paragraph or prefix.
    pub cut: Cut,
    /// Where it applies.
    pub zone: Zone,
    /// Longest paragraph it may cut.
    pub max_words: usize,
    /// Extra test.
    pub check: Option<Check>,
    /// Fixed rights holder.
    pub holder: Option<String>,
    /// Fixed rights service.
    pub service: Option<String>,
    /// The headline-shaped paragraphs after this heading go with it.
    pub takes_list: bool,
    /// Words of which one must occur (ASCII case ignored) before the
    /// pattern is tried, as compiled searchers over the lowercased text.
    pub requires: Vec<Finder<'static>>,
    /// Endings of which one the paragraph must have before the pattern is
    /// tried.
    pub ends_with: Vec<String>,
    /// For a pattern anchored at the start: the bytes a matching paragraph
    /// can begin with, derived from the pattern (a 256-bit set).
    pub first_bytes: Option<[u64; 4]>,
    /// The paragraphs up to the first matching this go with it.
    pub block_end: Option<Regex>,
    /// How far `block_end` is looked for.
    pub block_max: usize,
}

/// A validated, compiled rule pack.
#[derive(Debug, Clone)]
pub struct RulePack {
    /// Where the pack came from (a path, or `built-in`).
    pub origin: String,
    /// Rules in evaluation order: services first, then generic.
    pub rules: Vec<Rule>,
    /// For each first byte of a paragraph, the paragraph rules (not prefix
    /// rules) that can match it, in evaluation order.
    pub by_first_byte: Vec<Vec<usize>>,
    /// The prefix (dateline) rules, in evaluation order.
    pub prefix_rules: Vec<usize>,
    /// Top zone size.
    pub top_zone: usize,
    /// Bottom zone size.
    pub bottom_zone: usize,
    /// Organisation names (bylines, credit lists).
    pub org: Regex,
    /// Caption cues.
    pub caption_cues: Regex,
    /// Lowercase words allowed inside names.
    pub name_particles: Vec<String>,
    /// Agency names, as written in the pack.
    pub agencies: Vec<String>,
    /// Service display names by section key.
    pub services: BTreeMap<String, String>,
}

/// Why a rule pack was refused.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// Not valid TOML, or unknown keys.
    #[error("invalid rule pack {origin}: {message}")]
    Parse {
        /// The pack.
        origin: String,
        /// The parser's message.
        message: String,
    },
    /// A version this build does not read.
    #[error("invalid rule pack {origin}: version {version} is not supported (expected 1)")]
    Version {
        /// The pack.
        origin: String,
        /// The version found.
        version: u32,
    },
    /// A pattern does not compile.
    #[error("invalid rule pack {origin}: {location}: {message}")]
    Pattern {
        /// The pack.
        origin: String,
        /// `generic.rules[3]`, `services.reuters.rules[0]`, `vocabulary.org`.
        location: String,
        /// What is wrong.
        message: String,
    },
}

impl RulePack {
    /// Returns the built-in pack.
    ///
    /// # Panics
    ///
    /// Never in a released build: the built-in pack is validated by the
    /// crate's tests.
    pub fn builtin() -> Self {
        Self::from_toml(BUILTIN_RULES, "built-in")
            .expect("the built-in rule pack is valid (checked by tests)")
    }

    /// Parses and validates a pack; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, RulesError> {
        let file: PackFile = toml::from_str(text).map_err(|err| RulesError::Parse {
            origin: origin.to_owned(),
            message: err.to_string().trim().replace('\n', " "),
        })?;
        if file.version != 1 {
            return Err(RulesError::Version {
                origin: origin.to_owned(),
                version: file.version,
            });
        }
        let pattern_error = |location: String, message: String| RulesError::Pattern {
            origin: origin.to_owned(),
            location,
            message,
        };
        let mut agencies: Vec<String> = file
            .services
            .values()
            .flat_map(|service| service.agencies.iter().cloned())
            .filter(|agency| !agency.trim().is_empty())
            .collect();
        agencies.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        agencies.dedup();
        let agency_alternation = if agencies.is_empty() {
            "(?!)".to_owned()
        } else {
            agencies
                .iter()
                .map(|agency| regex::escape(agency))
                .collect::<Vec<_>>()
                .join("|")
        };
        let vocabulary = &file.vocabulary;
        // Word boundaries are ASCII ones: a Unicode `\b` makes the fast
        // automaton give up on any non-ASCII text and fall back to a slow
        // engine, and the rules' boundaries all sit next to ASCII words.
        let expand = |pattern: &str| {
            pattern
                .replace("\\b", "(?-u:\\b)")
                .replace("{agencies}", &agency_alternation)
                .replace("{months}", &vocabulary.months)
                .replace("{weekdays}", &vocabulary.weekdays)
                .replace("{place}", &vocabulary.place)
                .replace("{org}", &vocabulary.org)
        };
        let compile = |location: String, pattern: &str| {
            Regex::new(&expand(pattern)).map_err(|err| pattern_error(location, err.to_string()))
        };
        let org = compile(
            "vocabulary.org".to_owned(),
            &format!("^(?:{})$", vocabulary.org),
        )?;
        let caption_cues = compile(
            "vocabulary.caption_cues".to_owned(),
            &vocabulary.caption_cues,
        )?;
        for (key, value) in [
            ("months", &vocabulary.months),
            ("weekdays", &vocabulary.weekdays),
            ("place", &vocabulary.place),
        ] {
            compile(format!("vocabulary.{key}"), value)?;
        }

        let mut sources: Vec<(String, &RuleFile)> = Vec::new();
        for (key, service) in &file.services {
            for (index, rule) in service.rules.iter().enumerate() {
                sources.push((format!("services.{key}.rules[{index}]"), rule));
            }
        }
        for (index, rule) in file.generic.rules.iter().enumerate() {
            sources.push((format!("generic.rules[{index}]"), rule));
        }
        let mut rules = Vec::with_capacity(sources.len());
        for (location, rule) in sources {
            let regex = compile(location.clone(), &rule.pattern)?;
            let groups: Vec<&str> = regex.capture_names().flatten().collect();
            let needs = |group: &str, why: &str| {
                if groups.contains(&group) {
                    Ok(())
                } else {
                    Err(pattern_error(
                        location.clone(),
                        format!("{why} needs a `{group}` group"),
                    ))
                }
            };
            match rule.check {
                Some(Check::Names | Check::Byline) => needs("names", "check = names/byline")?,
                Some(Check::Date) => needs("date", "check = date")?,
                Some(Check::Place) => needs("place", "check = place")?,
                _ => {}
            }
            if rule.cut == Cut::Prefix && rule.zone != Zone::Lead {
                return Err(pattern_error(
                    location,
                    "cut = \"prefix\" needs zone = \"lead\"".to_owned(),
                ));
            }
            if rule.cut == Cut::Prefix && !rule.pattern.starts_with('^') {
                return Err(pattern_error(
                    location,
                    "a prefix pattern must start with ^".to_owned(),
                ));
            }
            let block_end = match &rule.block_end {
                Some(pattern) => Some(compile(format!("{location}.block_end"), pattern)?),
                None => None,
            };
            if let Some(word) = rule
                .requires
                .iter()
                .find(|word| word.to_lowercase() != **word)
            {
                return Err(pattern_error(
                    location,
                    format!("requires word {word:?} must be lowercase"),
                ));
            }
            let first_bytes = required_prefixes(regex.as_str()).map(|prefixes| {
                let mut set = [0u64; 4];
                for prefix in prefixes {
                    let byte = usize::from(prefix[0]);
                    set[byte / 64] |= 1 << (byte % 64);
                }
                set
            });
            rules.push(Rule {
                first_bytes,
                takes_list: rule.takes_list,
                requires: rule
                    .requires
                    .iter()
                    .map(|word| Finder::new(word.as_bytes()).into_owned())
                    .collect(),
                ends_with: rule.ends_with.clone(),
                block_end,
                block_max: rule.block_max.unwrap_or(6),
                origin: location,
                kind: rule.kind,
                regex,
                cut: rule.cut,
                zone: rule.zone,
                max_words: rule.max_words.unwrap_or(file.settings.max_words),
                check: rule.check,
                holder: rule.holder.clone(),
                service: rule.service.clone(),
            });
        }

        let by_first_byte = (0..=u8::MAX)
            .map(|first| {
                rules
                    .iter()
                    .enumerate()
                    .filter(|(_, rule)| rule.cut == Cut::Paragraph && rule.may_start_with(first))
                    .map(|(index, _)| index)
                    .collect()
            })
            .collect();
        let prefix_rules = rules
            .iter()
            .enumerate()
            .filter(|(_, rule)| rule.cut == Cut::Prefix)
            .map(|(index, _)| index)
            .collect();
        Ok(Self {
            origin: origin.to_owned(),
            by_first_byte,
            prefix_rules,
            rules,
            top_zone: file.settings.top_zone,
            bottom_zone: file.settings.bottom_zone,
            org,
            caption_cues,
            name_particles: vocabulary.name_particles.clone(),
            agencies,
            services: file
                .services
                .into_iter()
                .map(|(key, service)| (key, service.name))
                .collect(),
        })
    }
}

impl Rule {
    /// True when the cheap pre-checks let the pattern be tried: the
    /// paragraph ends right and contains a required word (`lowercase` is the
    /// paragraph with ASCII letters lowercased).
    pub fn may_match(&self, text: &str, lowercase: &[u8]) -> bool {
        (self.ends_with.is_empty()
            || self
                .ends_with
                .iter()
                .any(|end| text.ends_with(end.as_str())))
            && (self.requires.is_empty()
                || self
                    .requires
                    .iter()
                    .any(|finder| finder.find(lowercase).is_some()))
    }

    /// True when a paragraph starting with `first` can match at all.
    pub fn may_start_with(&self, first: u8) -> bool {
        self.first_bytes.is_none_or(|set| {
            let byte = usize::from(first);
            set[byte / 64] & (1 << (byte % 64)) != 0
        })
    }
}

/// The literal prefixes every match of a start-anchored pattern begins
/// with, when there are few enough to check by hand (`None` otherwise).
///
/// This is the cheap first test of the cleaner's loop: most rules are
/// anchored at a word or two ("By ", "Related", "(AP Photo"), and most
/// paragraphs start with something else.
fn required_prefixes(pattern: &str) -> Option<Vec<Vec<u8>>> {
    use regex_syntax::hir::Look;
    use regex_syntax::hir::literal::Extractor;

    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    if !hir.properties().look_set_prefix().contains(Look::Start) {
        return None;
    }
    // Only the first byte is used, so one-byte prefixes keep even
    // case-insensitive alternations small.
    let mut extractor = Extractor::new();
    extractor
        .limit_literal_len(1)
        .limit_class(64)
        .limit_total(256);
    let literals = extractor.extract(&hir);
    let literals = literals.literals()?;
    if literals.is_empty() || literals.iter().any(|literal| literal.as_bytes().is_empty()) {
        return None;
    }
    Some(
        literals
            .iter()
            .map(|literal| literal.as_bytes().to_vec())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_pack_is_valid() {
        let pack = RulePack::builtin();
        let unfiltered: Vec<&str> = pack
            .rules
            .iter()
            .filter(|rule| {
                rule.first_bytes.is_none() && rule.requires.is_empty() && rule.ends_with.is_empty()
            })
            .map(|rule| rule.origin.as_str())
            .collect();
        eprintln!("rules tried on every paragraph: {unfiltered:?}");
        assert!(pack.rules.len() > 30);
        assert!(pack.agencies.iter().any(|agency| agency == "Reuters"));
        assert!(pack.services.len() >= 12);
        // Service rules run before generic ones.
        assert!(pack.rules[0].origin.starts_with("services."));
        assert!(pack.rules.last().unwrap().origin.starts_with("generic."));
    }

    #[test]
    fn anchored_patterns_get_prefix_checks() {
        let prefixes = required_prefixes("^(?:By|BY)\\s+(?P<names>.+)$").unwrap();
        assert!(prefixes.iter().all(|prefix| prefix.starts_with(b"B")));
        let prefixes = required_prefixes("(?i)^(?:related|read more)\\s*:").unwrap();
        let mut firsts: Vec<u8> = prefixes.iter().map(|prefix| prefix[0]).collect();
        firsts.sort_unstable();
        firsts.dedup();
        assert_eq!(firsts, b"Rr");
        // Unanchored or open-ended starts get none: every paragraph is tried.
        assert_eq!(required_prefixes("contributed\\.$"), None);
        assert_eq!(required_prefixes("^(?P<names>.+?) contributed$"), None);
    }

    #[test]
    fn broken_patterns_are_named_by_location() {
        let text = BUILTIN_RULES.replace(
            "[services.upi]\nname = \"United Press International\"\nagencies = [\"UPI\"]",
            "[services.upi]\nname = \"United Press International\"\nagencies = [\"UPI\"]\n\n\
             [[services.upi.rules]]\nkind = \"promo\"\npattern = '^(unclosed'",
        );
        let err = RulePack::from_toml(&text, "rules.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("rules.toml"), "{err}");
        assert!(err.contains("services.upi.rules[0]"), "{err}");
    }

    #[test]
    fn unknown_keys_and_kinds_are_refused() {
        let text = BUILTIN_RULES.replacen("kind = \"credit\"", "kind = \"credits\"", 1);
        let err = RulePack::from_toml(&text, "rules.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("credits"), "{err}");

        let text = BUILTIN_RULES.replacen("top_zone = 6", "top_zone = 6\ntop_zones = 5", 1);
        assert_ne!(text, BUILTIN_RULES);
        let err = RulePack::from_toml(&text, "rules.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("top_zones"), "{err}");
    }

    #[test]
    fn a_check_without_its_group_is_refused() {
        let text = BUILTIN_RULES.replacen(
            "check = \"byline\"\nmax_words = 16\npattern = '^(?:By|BY|by)\\s+(?P<names>.+?)\\.?$'",
            "check = \"byline\"\nmax_words = 16\npattern = '^(?:By|BY|by)\\s+(.+?)\\.?$'",
            1,
        );
        assert_ne!(text, BUILTIN_RULES, "the test must change the byline rule");
        let err = RulePack::from_toml(&text, "rules.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("needs a `names` group"), "{err}");
    }
}
