//! Wire-copy cleaning driven by a [`RulePack`].
//!
//! Each paragraph is matched against every rule at once (a `RegexSet`), then
//! the candidate rules are tried in pack order: the first whose zone, word
//! limit and check pass cuts the paragraph. A candidate that fails its word
//! limit or check leaves the paragraph in the body and records it as a
//! suspect. After the pass, dateline prefixes are cut from the lead
//! paragraph, and a caption-shaped paragraph next to a photo credit is taken
//! as that credit's caption.

use chrono::NaiveDate;
use std::sync::LazyLock;

use regex::{Captures, Regex};
use wirefeed_model::{Dateline, Media, Removed, RemovedKind, Rights};

use crate::dates::parse_date;
use crate::names::NameParser;
use crate::rules::{Check, Cut, Rule, RuleKind, RulePack, Zone};

/// The result of cleaning a body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cleaned {
    /// The paragraphs kept, in order.
    pub paragraphs: Vec<String>,
    /// Everything cut, in body order.
    pub removed: Vec<Removed>,
    /// Paragraphs kept that looked like boilerplate but failed a test.
    pub suspects: Vec<Removed>,
    /// The parsed copyright footer(s).
    pub rights: Option<Rights>,
    /// Names from contributor lines.
    pub contributors: Vec<String>,
    /// Names from bylines.
    pub authors: Vec<String>,
    /// Place and date from the date line and dateline prefix.
    pub dateline: Dateline,
    /// Captions and credits cut from the body.
    pub media: Vec<Media>,
}

impl Cleaned {
    /// The paragraphs kept as they are, nothing cut: what a record carries
    /// when cleaning could not run.
    pub fn uncleaned(paragraphs: &[String]) -> Self {
        Self {
            paragraphs: paragraphs.to_vec(),
            ..Self::default()
        }
    }
}

/// Facts about the article that help reading its furniture.
#[derive(Debug, Clone, Copy, Default)]
pub struct CleanHints {
    /// The publication year, for datelines that give only month and day.
    pub year: Option<i32>,
}

/// A cleaner for one rule pack. Build once, share freely (it is `Sync`).
#[derive(Debug, Clone)]
pub struct Cleaner {
    pack: RulePack,
    names: NameParser,
}

/// What a rule found in a paragraph it cuts.
enum Found {
    Plain,
    Rights(Rights),
    People {
        kind: RuleKind,
        names: Vec<String>,
    },
    Date(Option<NaiveDate>),
    Caption {
        caption: String,
        credit: Option<String>,
    },
}

impl Cleaner {
    /// Returns a cleaner for `pack`.
    pub fn new(pack: RulePack) -> Self {
        let names = NameParser::new(&pack);
        Self { pack, names }
    }

    /// Returns a cleaner for the built-in pack.
    pub fn builtin() -> Self {
        Self::new(RulePack::builtin())
    }

    /// The pack in use.
    pub fn pack(&self) -> &RulePack {
        &self.pack
    }

    /// Cleans body paragraphs without hints.
    pub fn clean(&self, paragraphs: &[String]) -> Cleaned {
        self.clean_with(paragraphs, CleanHints::default())
    }

    /// Cleans body paragraphs.
    pub fn clean_with(&self, paragraphs: &[String], hints: CleanHints) -> Cleaned {
        let count = paragraphs.len();
        let mut cleaned = Cleaned::default();
        let mut keep = vec![true; count];
        let mut cuts: Vec<(usize, RemovedKind, Option<Found>)> = Vec::new();
        let mut suspects: Vec<(usize, RemovedKind)> = Vec::new();
        let mut top_run = true;

        let mut lowercase: Vec<u8> = Vec::new();
        let mut index = 0;
        while index < count {
            let text = paragraphs[index].trim();
            let words = word_count(text);
            lowercase.clear();
            lowercase.extend(text.bytes().map(|byte| byte.to_ascii_lowercase()));
            let mut suspect = None;
            let mut decided = None;
            let first_byte = text.as_bytes().first().copied().unwrap_or(0);
            for rule in self.pack.by_first_byte[usize::from(first_byte)]
                .iter()
                .map(|rule_index| &self.pack.rules[*rule_index])
            {
                let zone_ok = match rule.zone {
                    Zone::Any => true,
                    Zone::Top => top_run && index < self.pack.top_zone,
                    Zone::Bottom => index + self.pack.bottom_zone >= count,
                    Zone::Lead => false,
                };
                // Position and length are cheap; the pattern is tried only
                // where the rule could apply. A paragraph somewhat over a
                // rule's word limit is still tried, to report it as a suspect.
                if rule.cut == Cut::Prefix || !zone_ok || words > rule.max_words * 2 {
                    continue;
                }
                if !rule.may_match(text, &lowercase) {
                    continue;
                }
                if !rule.regex.is_match(text) {
                    continue;
                }
                let found = if words > rule.max_words {
                    None
                } else {
                    self.apply(rule, text, hints)
                };
                match found {
                    Some(found) => {
                        decided = Some((rule, found));
                        break;
                    }
                    None => suspect = suspect.or(Some(rule.kind)),
                }
            }
            let Some((rule, found)) = decided else {
                top_run = false;
                if let Some(kind) = suspect {
                    suspects.push((index, removed_kind(kind)));
                }
                index += 1;
                continue;
            };
            let kind = removed_kind(rule.kind);
            keep[index] = false;
            cuts.push((index, kind, Some(found)));
            // What goes with the paragraph: a list under a heading, or the
            // rest of a box up to its end marker.
            let last = if let Some(block_end) = &rule.block_end {
                (index + 1..count.min(index + 1 + rule.block_max))
                    .find(|next| block_end.is_match(paragraphs[*next].trim()))
                    .unwrap_or(index)
            } else if rule.takes_list {
                (index + 1..count.min(index + 13))
                    .take_while(|next| headline_shaped(&paragraphs[*next]))
                    .last()
                    .unwrap_or(index)
            } else {
                index
            };
            for (with, kept) in keep.iter_mut().enumerate().take(last + 1).skip(index + 1) {
                *kept = false;
                cuts.push((with, kind, Some(Found::Plain)));
            }
            index = last + 1;
        }

        self.take_captions(paragraphs, &mut keep, &mut cuts);
        let lead = keep.iter().position(|kept| *kept);
        let mut lead_prefix = None;
        if let Some(lead) = lead
            && let Some((prefix_len, place, date)) = self.dateline_prefix(&paragraphs[lead], hints)
        {
            lead_prefix = Some(prefix_len);
            cleaned.dateline.place = place;
            cleaned.dateline.date = date;
            cuts.push((lead, RemovedKind::Dateline, None));
        }
        cuts.sort_by_key(|(index, _, _)| *index);

        let mut pictures: Vec<(usize, Picture)> = Vec::new();
        for (index, kind, found) in cuts {
            let text = match (found.is_none(), lead_prefix) {
                (true, Some(prefix_len)) => paragraphs[index][..prefix_len].trim(),
                _ => paragraphs[index].trim(),
            };
            cleaned.removed.push(Removed {
                kind,
                text: text.to_owned(),
            });
            match found {
                None | Some(Found::Plain) if kind == RemovedKind::Credit => {
                    pictures.push((index, Picture::Credit(text.to_owned())));
                }
                None | Some(Found::Plain) => {}
                Some(Found::Caption {
                    caption,
                    credit: Some(credit),
                }) => {
                    pictures.push((index, Picture::Both(caption, credit)));
                }
                Some(Found::Caption {
                    caption,
                    credit: None,
                }) => {
                    pictures.push((index, Picture::Caption(caption)));
                }
                Some(Found::Rights(rights)) => merge_rights(&mut cleaned.rights, rights),
                Some(Found::People {
                    kind: RuleKind::Byline,
                    names,
                }) => {
                    push_unique(&mut cleaned.authors, names);
                }
                Some(Found::People { names, .. }) => push_unique(&mut cleaned.contributors, names),
                Some(Found::Date(date)) => {
                    cleaned.dateline.date = cleaned.dateline.date.or(date);
                }
            }
        }
        cleaned.media = pair_pictures(pictures);
        cleaned.suspects = suspects
            .into_iter()
            .filter(|(index, _)| keep[*index])
            .map(|(index, kind)| Removed {
                kind,
                text: paragraphs[index].trim().to_owned(),
            })
            .collect();
        for (index, paragraph) in paragraphs.iter().enumerate() {
            if !keep[index] {
                continue;
            }
            let text = match (Some(index) == lead, lead_prefix) {
                (true, Some(prefix_len)) => paragraph[prefix_len..].trim(),
                _ => paragraph.trim(),
            };
            cleaned.paragraphs.push(text.to_owned());
        }
        cleaned
    }

    /// Runs a matched rule's extraction and check; `None` when the check
    /// fails.
    fn apply(&self, rule: &Rule, text: &str, hints: CleanHints) -> Option<Found> {
        let captures = rule.regex.captures(text)?;
        let group = |name: &str| captures.name(name).map(|found| found.as_str().trim());
        match rule.check {
            Some(Check::Names) | Some(Check::Byline) => {
                let list = group("names")?;
                let list = if rule.check == Some(Check::Byline) {
                    self.strip_byline_org(list)
                } else {
                    list
                };
                let parsed = self.names.parse(list)?;
                if rule.kind == RuleKind::Byline && parsed.people.is_empty() {
                    return None;
                }
                return Some(Found::People {
                    kind: rule.kind,
                    names: parsed.people,
                });
            }
            Some(Check::Date) => {
                return parse_date(group("date")?, hints.year).map(|date| Found::Date(Some(date)));
            }
            Some(Check::Credit) if !credit_shaped(text) => return None,
            Some(Check::Place) if group("place").is_none_or(is_label) => return None,
            Some(Check::Caption)
                if !(self.caption_shaped(group("caption").unwrap_or(text))
                    && self.pack.caption_cues.is_match(text)) =>
            {
                return None;
            }
            Some(Check::Copyright) if !copyright_shaped(text, &captures) => return None,
            _ => {}
        }
        Some(match rule.kind {
            RuleKind::Copyright => Found::Rights(rights(rule, text, &captures)),
            RuleKind::Caption => Found::Caption {
                caption: group("caption").unwrap_or(text).to_owned(),
                credit: group("credit").map(str::to_owned),
            },
            RuleKind::Dateline => {
                Found::Date(group("date").and_then(|date| parse_date(date, hints.year)))
            }
            RuleKind::Contributors | RuleKind::Byline => Found::People {
                kind: rule.kind,
                names: group("names")
                    .and_then(|list| self.names.parse(list))
                    .map(|parsed| parsed.people)
                    .unwrap_or_default(),
            },
            _ => Found::Plain,
        })
    }

    /// "Jane Doe and John Roe, Associated Press" → "Jane Doe and John Roe".
    fn strip_byline_org<'a>(&self, list: &'a str) -> &'a str {
        let mut list = list;
        while let Some((names, tail)) = list.rsplit_once(',') {
            if self.names.is_organization(tail.trim()) {
                list = names.trim_end();
            } else {
                break;
            }
        }
        list
    }

    /// A dateline prefix on the lead: its length, place and date.
    fn dateline_prefix(
        &self,
        paragraph: &str,
        hints: CleanHints,
    ) -> Option<(usize, Option<String>, Option<NaiveDate>)> {
        let start = paragraph.len() - paragraph.trim_start().len();
        let text = &paragraph[start..];
        for rule in self
            .pack
            .prefix_rules
            .iter()
            .map(|rule_index| &self.pack.rules[*rule_index])
        {
            let Some(captures) = rule.regex.captures(text) else {
                continue;
            };
            let whole = captures.get(0)?;
            let rest = &text[whole.end()..];
            if rest.trim().is_empty() || whole.as_str().split_whitespace().count() > 14 {
                continue;
            }
            let place = captures
                .name("place")
                .map(|place| place.as_str().trim().to_owned());
            let date = captures
                .name("date")
                .and_then(|date| parse_date(date.as_str(), hints.year));
            return Some((start + whole.end(), place, date));
        }
        None
    }

    /// Takes the caption-shaped paragraph just before (or just after) each
    /// credit that has none.
    fn take_captions(
        &self,
        paragraphs: &[String],
        keep: &mut [bool],
        cuts: &mut Vec<(usize, RemovedKind, Option<Found>)>,
    ) {
        let credits: Vec<usize> = cuts
            .iter()
            .filter(|(_, kind, found)| {
                *kind == RemovedKind::Credit && matches!(found, Some(Found::Plain))
            })
            .map(|(index, _, _)| *index)
            .collect();
        for credit in credits {
            let taken = |cuts: &Vec<(usize, RemovedKind, Option<Found>)>, index: usize| {
                cuts.iter()
                    .any(|(cut, kind, _)| *cut == index && *kind == RemovedKind::Caption)
            };
            if (credit > 0 && taken(cuts, credit - 1)) || taken(cuts, credit + 1) {
                continue;
            }
            let first_kept = keep.iter().position(|kept| *kept);
            let candidate = |index: usize| {
                index < paragraphs.len()
                    && keep[index]
                    && Some(index) != first_kept
                    && self.caption_shaped(&paragraphs[index])
            };
            let caption = credit
                .checked_sub(1)
                .filter(|before| candidate(*before))
                .or_else(|| Some(credit + 1).filter(|after| candidate(*after)));
            if let Some(caption) = caption {
                keep[caption] = false;
                cuts.push((
                    caption,
                    RemovedKind::Caption,
                    Some(Found::Caption {
                        caption: paragraphs[caption].trim().to_owned(),
                        credit: None,
                    }),
                ));
            }
        }
    }

    /// A picture caption: a description, not speech. Quotations and
    /// attributions ("said", "told") belong to story paragraphs.
    fn caption_shaped(&self, paragraph: &str) -> bool {
        let text = paragraph.trim();
        let words = text.split_whitespace().count();
        (3..=70).contains(&words) && !text.contains(['"', '“', '”']) && !ATTRIBUTION.is_match(text)
    }
}

/// Words in a paragraph. Paragraphs arrive whitespace-folded (normalize
/// does that), so counting single spaces is exact and much cheaper than a
/// Unicode-aware split on this hot path.
fn word_count(text: &str) -> usize {
    if text.is_empty() {
        return 0;
    }
    1 + text.bytes().filter(|byte| *byte == b' ').count()
}

/// Verbs of speech: a paragraph with them reports what someone said.
static ATTRIBUTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:said|says|told|tells|according to|asked|added|stated|announced|wrote)\b")
        .expect("fixed pattern")
});

/// A headline or topic in a list under a heading: short, capitalised, no
/// sentence end.
fn headline_shaped(paragraph: &str) -> bool {
    let text = paragraph.trim();
    let words = text.split_whitespace().count();
    (1..=16).contains(&words)
        && !text.ends_with(['.', '!', '?', ':', ';', '"', '”'])
        && text
            .chars()
            .next()
            .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
}

fn removed_kind(kind: RuleKind) -> RemovedKind {
    match kind {
        RuleKind::Copyright => RemovedKind::Copyright,
        RuleKind::Contributors => RemovedKind::Contributors,
        RuleKind::Byline => RemovedKind::Byline,
        RuleKind::Dateline => RemovedKind::Dateline,
        RuleKind::Caption => RemovedKind::Caption,
        RuleKind::Credit => RemovedKind::Credit,
        RuleKind::Promo => RemovedKind::Promo,
        RuleKind::UpdateNote => RemovedKind::UpdateNote,
        RuleKind::EditorsNote => RemovedKind::EditorsNote,
    }
}

/// A picture part cut from the body.
enum Picture {
    Caption(String),
    Credit(String),
    Both(String, String),
}

/// Pairs each caption with the credit right before or after it.
fn pair_pictures(pictures: Vec<(usize, Picture)>) -> Vec<Media> {
    let mut media_list = Vec::new();
    let mut pending: Option<(usize, Picture)> = None;
    for (index, picture) in pictures {
        let paired = match (pending.take(), picture) {
            (Some((before, Picture::Caption(caption))), Picture::Credit(credit))
            | (Some((before, Picture::Credit(credit))), Picture::Caption(caption))
                if before + 1 == index =>
            {
                media_list.push(media(Some(caption), Some(credit)));
                None
            }
            (earlier, Picture::Both(caption, credit)) => {
                media_list.extend(earlier.map(|(_, picture)| single(picture)));
                media_list.push(media(Some(caption), Some(credit)));
                None
            }
            (earlier, picture) => {
                media_list.extend(earlier.map(|(_, picture)| single(picture)));
                Some((index, picture))
            }
        };
        pending = paired;
    }
    media_list.extend(pending.map(|(_, picture)| single(picture)));
    media_list
}

fn single(picture: Picture) -> Media {
    match picture {
        Picture::Caption(caption) => media(Some(caption), None),
        Picture::Credit(credit) => media(None, Some(credit)),
        Picture::Both(caption, credit) => media(Some(caption), Some(credit)),
    }
}

fn media(caption: Option<String>, credit: Option<String>) -> Media {
    Media {
        url: None,
        caption,
        credit,
    }
}

/// A credit line: short, no sentence punctuation at the end, mostly
/// capitalised words (names and agencies).
fn credit_shaped(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() > 16 || text.ends_with(['.', '!', '?', '"', '”', ':']) {
        return false;
    }
    let capitalised = words
        .iter()
        .filter(|word| {
            word.trim_start_matches(['(', '/', '['])
                .chars()
                .next()
                .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
        })
        .count();
    capitalised * 3 >= words.len() * 2
}

/// Section labels that stand alone at the top like a place would.
fn is_label(text: &str) -> bool {
    const LABELS: &[&str] = &[
        "BREAKING",
        "UPDATE",
        "UPDATED",
        "ANALYSIS",
        "EXCLUSIVE",
        "OPINION",
        "LIVE",
        "WATCH",
        "VIDEO",
        "PHOTOS",
        "FACTBOX",
        "EXPLAINER",
        "COMMENT",
        "EDITORIAL",
        "REVIEW",
        "FEATURE",
        "INTERVIEW",
        "URGENT",
        "FLASH",
        "ADVISORY",
        "CORRECTION",
        "NEWS",
        "WORLD",
        "SPORT",
        "SPORTS",
        "BUSINESS",
        "POLITICS",
    ];
    LABELS.contains(&text)
}

/// Words that, right after "copyright", make it the subject of a sentence
/// ("the Copyright Act", "copyright claims"), not a notice.
const COPYRIGHT_SUBJECTS: &[&str] = &[
    "act",
    "law",
    "laws",
    "office",
    "board",
    "tribunal",
    "directive",
    "amendment",
    "bill",
    "treaty",
    "claim",
    "claims",
    "infringement",
    "lawsuit",
    "case",
    "cases",
    "holder",
    "holders",
    "protection",
    "rules",
    "regime",
    "term",
    "reform",
    "royalty",
    "royalties",
    "owner",
];

/// A rights line has its mark early or is short: a story sentence may say
/// "all rights reserved" in passing.
fn copyright_shaped(text: &str, captures: &Captures<'_>) -> bool {
    let Some(mark) = captures.get(0) else {
        return false;
    };
    // A quotation is somebody speaking, not a footer.
    if text.contains(['"', '“', '”']) {
        return false;
    }
    let lower = text.to_lowercase();
    let about_copyright = lower.match_indices("copyright").any(|(at, word)| {
        let next = lower[at + word.len()..]
            .split_whitespace()
            .next()
            .unwrap_or("");
        COPYRIGHT_SUBJECTS.contains(&next.trim_matches(|c: char| !c.is_alphanumeric()))
    });
    if about_copyright {
        return false;
    }
    let words = text.split_whitespace().count();
    words <= 25 || mark.start() <= 20
}

/// Reads holder, year and service out of a rights line.
fn rights(rule: &Rule, text: &str, captures: &Captures<'_>) -> Rights {
    let group = |name: &str| {
        captures
            .name(name)
            .map(|found| found.as_str().trim().to_owned())
    };
    let mut rights = Rights {
        holder: rule.holder.clone().or_else(|| group("holder")),
        year: group("year").and_then(|year| year.parse().ok()),
        service: rule.service.clone().or_else(|| group("service")),
        statement: text.to_owned(),
    };
    if rule.check == Some(Check::Copyright)
        && let Some(mark) = captures.get(0)
    {
        let parsed = parse_copyright(text, mark.start());
        rights.year = rights.year.or(parsed.year);
        rights.holder = rights.holder.or(parsed.holder);
        rights.service = rights.service.or(parsed.service);
    }
    rights
}

/// Holder, year and service of "The CNN Wire™ & © 2023 Cable News Network,
/// Inc., a Warner Bros. Discovery Company. All rights reserved.",
/// "Copyright 2024 The Associated Press. All rights reserved.",
/// "© Agence France-Presse 2024".
fn parse_copyright(text: &str, mark_start: usize) -> Rights {
    let mut rights = Rights::default();
    let head = text[..mark_start]
        .trim()
        .trim_end_matches(['&', ',', '-', '—', '|'])
        .trim();
    let head = head.trim_end_matches(['™', '®']).trim();
    let head_words = head.split_whitespace().count();
    if !head.is_empty() && head_words <= 6 && !head.to_lowercase().contains("all rights reserved") {
        rights.service = Some(head.to_owned());
    }
    let after_mark = &text[mark_start..];
    let year = find_year(after_mark).map(|(offset, year)| (mark_start + offset, year));
    rights.year = year.map(|(_, year)| year);
    // The holder follows the year ("© 2024 The Associated Press") or, when
    // a new sentence follows the year, stands before it ("© EFE 2024. The
    // redistribution …", "© Agence France-Presse 2024").
    let before_year =
        year.and_then(|(offset, _)| holder_from(strip_copyright_words(&text[mark_start..offset])));
    let after = match year {
        Some((offset, _)) => &text[offset + 4..],
        None => &text[mark_start..],
    };
    let after_year = if after.trim_start().starts_with('.') && before_year.is_some() {
        None
    } else {
        holder_from(strip_copyright_words(after))
    };
    rights.holder = after_year.or(before_year);
    rights
}

fn find_year(text: &str) -> Option<(usize, i32)> {
    let bytes = text.as_bytes();
    (0..bytes.len().saturating_sub(3)).find_map(|start| {
        let candidate = &bytes[start..start + 4];
        let bounded = (start == 0 || !bytes[start - 1].is_ascii_digit())
            && bytes
                .get(start + 4)
                .is_none_or(|next| !next.is_ascii_digit());
        (bounded && candidate.iter().all(u8::is_ascii_digit) && matches!(candidate[0], b'1' | b'2'))
            .then(|| {
                std::str::from_utf8(candidate)
                    .ok()?
                    .parse()
                    .ok()
                    .map(|year| (start, year))
            })
            .flatten()
    })
}

fn strip_copyright_words(text: &str) -> &str {
    let mut text = text.trim();
    loop {
        let lower = text.to_lowercase();
        let stripped = ["©", "(c)", "copyright", ",", "-", "—", ":", "."]
            .iter()
            .find(|word| lower.starts_with(*word))
            .map(|word| text[word.len()..].trim_start());
        match stripped {
            Some(rest) => text = rest,
            None => return text,
        }
    }
}

fn holder_from(tail: &str) -> Option<String> {
    let lower = tail.to_lowercase();
    let end = [
        "all rights reserved",
        " or its affiliat",
        " and its affiliat",
        " and its licensors",
    ]
    .iter()
    .filter_map(|marker| lower.find(marker))
    .min();
    let cut = match end {
        // "ALL RIGHTS RESERVED © Copyright ANSA": the phrase comes first.
        Some(0) => strip_copyright_words(&tail["all rights reserved".len()..]),
        Some(at) => &tail[..at],
        None => tail,
    };
    let mut holder = cut
        .trim()
        .trim_start_matches([',', '-', '.'])
        .trim()
        .to_owned();
    // ", a Warner Bros. Discovery Company."
    if let Some(at) = holder
        .to_lowercase()
        .rfind(", a ")
        .or_else(|| holder.to_lowercase().rfind(", an "))
        && holder[at..]
            .to_lowercase()
            .trim_end_matches('.')
            .ends_with("company")
    {
        holder.truncate(at);
    }
    let holder = holder.trim().trim_end_matches([',', ';', '|']).trim();
    let holder = if holder.ends_with('.') && !ends_with_abbreviation(holder) {
        holder.trim_end_matches('.')
    } else {
        holder
    };
    let words = holder.split_whitespace().count();
    if words > 10 {
        // "Yonhap News Agency prohibits its content from being …": the
        // holder is the proper name the sentence starts with.
        let name: Vec<&str> = holder
            .split_whitespace()
            .take_while(|word| word.chars().next().is_some_and(char::is_uppercase))
            .take(6)
            .collect();
        return (!name.is_empty() && name.len() < words).then(|| name.join(" "));
    }
    (!holder.is_empty()).then(|| holder.to_owned())
}

fn ends_with_abbreviation(text: &str) -> bool {
    let last = text.rsplit(' ').next().unwrap_or("");
    matches!(
        last,
        "Inc." | "Ltd." | "Co." | "Corp." | "Bros." | "S.A." | "L.P." | "N.V." | "Cie."
    )
}

fn push_unique(into: &mut Vec<String>, names: Vec<String>) {
    for name in names {
        if !into.contains(&name) {
            into.push(name);
        }
    }
}

/// Folds a second rights paragraph (e.g. a redistribution notice after the
/// copyright line) into the first: fields fill gaps, statements join.
fn merge_rights(into: &mut Option<Rights>, next: Rights) {
    match into {
        None => *into = Some(next),
        Some(current) => {
            current.holder = current.holder.take().or(next.holder);
            current.year = current.year.or(next.year);
            current.service = current.service.take().or(next.service);
            current.statement = format!("{} {}", current.statement, next.statement);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clean(lines: &[&str]) -> Cleaned {
        let paragraphs: Vec<String> = lines.iter().map(|line| (*line).to_owned()).collect();
        Cleaner::builtin().clean_with(&paragraphs, CleanHints { year: Some(2024) })
    }

    fn kinds(cleaned: &Cleaned) -> Vec<RemovedKind> {
        cleaned.removed.iter().map(|removed| removed.kind).collect()
    }

    #[test]
    fn ap_story_top_and_bottom() {
        let cleaned = clean(&[
            "By Lisa Mascaro, Associated Press",
            "WASHINGTON (AP) — The Senate passed the bill late Thursday.",
            "The vote was 68-31.",
            "Associated Press writer Mary Clare Jalonick contributed to this report.",
            "Copyright 2024 The Associated Press. All rights reserved.",
        ]);
        assert_eq!(
            cleaned.paragraphs,
            vec![
                "The Senate passed the bill late Thursday.",
                "The vote was 68-31."
            ]
        );
        assert_eq!(cleaned.authors, vec!["Lisa Mascaro"]);
        assert_eq!(cleaned.contributors, vec!["Mary Clare Jalonick"]);
        assert_eq!(cleaned.dateline.place.as_deref(), Some("WASHINGTON"));
        let rights = cleaned.rights.as_ref().unwrap();
        assert_eq!(rights.holder.as_deref(), Some("The Associated Press"));
        assert_eq!(rights.year, Some(2024));
        assert_eq!(
            kinds(&cleaned),
            vec![
                RemovedKind::Byline,
                RemovedKind::Dateline,
                RemovedKind::Contributors,
                RemovedKind::Copyright
            ]
        );
        assert_eq!(cleaned.removed[1].text, "WASHINGTON (AP) —");
        assert!(cleaned.suspects.is_empty());
    }

    #[test]
    fn cnn_footer_and_caption_next_to_credit() {
        let cleaned = clean(&[
            "Friday, September 13, 2024",
            "The leaders met in Brussels.",
            "NATO Secretary General Jens Stoltenberg speaks to the press in Brussels on Sept. 12, 2024.",
            "Omar Havana/Getty Images",
            "Talks continue on Monday.",
            "CNN’s Jonah Feld and Aisha Rahimi contributed to this report.",
            "The CNN Wire™ & © 2023 Cable News Network, Inc., a Warner Bros. Discovery Company. All rights reserved.",
        ]);
        assert_eq!(
            cleaned.paragraphs,
            vec!["The leaders met in Brussels.", "Talks continue on Monday."]
        );
        assert_eq!(cleaned.dateline.date, NaiveDate::from_ymd_opt(2024, 9, 13));
        assert_eq!(cleaned.media.len(), 1);
        assert_eq!(
            cleaned.media[0].credit.as_deref(),
            Some("Omar Havana/Getty Images")
        );
        assert!(
            cleaned.media[0]
                .caption
                .as_deref()
                .unwrap()
                .starts_with("NATO Secretary")
        );
        assert_eq!(cleaned.contributors, vec!["Jonah Feld", "Aisha Rahimi"]);
        let rights = cleaned.rights.unwrap();
        assert_eq!(rights.holder.as_deref(), Some("Cable News Network, Inc."));
        assert_eq!(rights.service.as_deref(), Some("The CNN Wire"));
        assert_eq!(rights.year, Some(2023));
    }

    #[test]
    fn reuters_dateline_credits_and_standards() {
        let cleaned = clean(&[
            "LONDON, Sept 13 (Reuters) - Britain's economy grew 0.2% in July.",
            "Sterling rose after the data.",
            "Reporting by Andy Bruce in Manchester; Editing by Toby Chopra",
            "Our Standards: The Thomson Reuters Trust Principles.",
        ]);
        assert_eq!(
            cleaned.paragraphs,
            vec![
                "Britain's economy grew 0.2% in July.",
                "Sterling rose after the data."
            ]
        );
        assert_eq!(cleaned.dateline.place.as_deref(), Some("LONDON"));
        assert_eq!(cleaned.dateline.date, NaiveDate::from_ymd_opt(2024, 9, 13));
        assert_eq!(cleaned.contributors, vec!["Andy Bruce", "Toby Chopra"]);
        assert_eq!(
            cleaned.rights.unwrap().holder.as_deref(),
            Some("Thomson Reuters")
        );
    }

    #[test]
    fn furniture_kinds() {
        let cleaned = clean(&[
            "Editor’s note: This story contains graphic descriptions.",
            "Paris (AFP) - Air traffic controllers will strike on Monday.",
            "Related: Airlines cancel flights",
            "Sign up for our morning newsletter to get the news in your inbox.",
            "Flights to Nice are most affected.",
            "Follow us on X for live updates.",
            "This story has been updated with comment from the airline.",
            "© Agence France-Presse 2024",
        ]);
        assert_eq!(
            cleaned.paragraphs,
            vec![
                "Air traffic controllers will strike on Monday.",
                "Flights to Nice are most affected."
            ]
        );
        assert_eq!(
            kinds(&cleaned),
            vec![
                RemovedKind::EditorsNote,
                RemovedKind::Dateline,
                RemovedKind::Promo,
                RemovedKind::Promo,
                RemovedKind::Promo,
                RemovedKind::UpdateNote,
                RemovedKind::Copyright
            ]
        );
        let rights = cleaned.rights.unwrap();
        assert_eq!(rights.holder.as_deref(), Some("Agence France-Presse"));
        assert_eq!(rights.year, Some(2024));
    }

    #[test]
    fn story_paragraphs_that_mention_boilerplate_words_stay() {
        let body = [
            "The court ruled the copyright claim was filed too late.",
            "Reuters contributed to the fund that rebuilt the school.",
            "A photo of the scene, taken by a bystander, was shared widely.",
            "\"We will appeal,\" the photographer's lawyer said.",
            "Many donors contributed.",
            "\"All rights reserved, all of them,\" the singer joked, holding up the contract she had signed in 1998 with the label that later sued her over the recordings.",
        ];
        let cleaned = clean(&body);
        assert_eq!(cleaned.paragraphs, body);
        assert!(cleaned.removed.is_empty());
        // The doubtful ones are kept, and said to be doubtful.
        let suspects: Vec<(RemovedKind, &str)> = cleaned
            .suspects
            .iter()
            .map(|suspect| (suspect.kind, suspect.text.as_str()))
            .collect();
        assert_eq!(
            suspects,
            vec![
                (RemovedKind::Contributors, body[4]),
                (RemovedKind::Copyright, body[5])
            ]
        );
    }

    #[test]
    fn caption_with_inline_credit_and_bbc_image_lines() {
        let cleaned = clean(&[
            "Rescue teams worked through the night.",
            "Image source, Getty Images",
            "Image caption, Rescuers search the rubble in Antakya",
            "Rescuers search the rubble in Antakya [Jane Doe/Reuters]",
            "More than 200 people were pulled out alive.",
        ]);
        assert_eq!(
            cleaned.paragraphs,
            vec![
                "Rescue teams worked through the night.",
                "More than 200 people were pulled out alive."
            ]
        );
        assert_eq!(
            cleaned.media,
            vec![
                media(
                    Some("Rescuers search the rubble in Antakya".to_owned()),
                    Some("Image source, Getty Images".to_owned())
                ),
                media(
                    Some("Rescuers search the rubble in Antakya".to_owned()),
                    Some("Jane Doe/Reuters".to_owned())
                ),
            ]
        );
    }
}
