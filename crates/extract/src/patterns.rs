//! The recognisers behind cleaning: each takes one paragraph and says
//! whether its whole shape is a piece of wire furniture, returning what it
//! carries. They are deliberately strict; `clean` decides by position.

use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;
use wirefeed_model::Rights;

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("built-in pattern is valid (covered by unit tests)")
}

const MONTHS: &str = r"(?:Jan(?:uary|\.)?|Feb(?:ruary|\.)?|Mar(?:ch|\.)?|Apr(?:il|\.)?|May|June?|July?|Aug(?:ust|\.)?|Sept?(?:ember|\.)?|Oct(?:ober|\.)?|Nov(?:ember|\.)?|Dec(?:ember|\.)?)";
const WEEKDAYS: &str = r"(?:Mon|Tues?|Wed(?:nes)?|Thu(?:rs)?|Fri|Sat(?:ur)?|Sun)(?:day)?\.?";

/// Wire services named in datelines ("(AP) —") and two-part bylines.
const AGENCIES: &str = r"AP|Reuters|CNN|AFP|UPI|Bloomberg|dpa|DPA|PA|EFE|ANSA|Xinhua|Kyodo|ANI|AAP|CP|RTRS|AJ|BBC|NPR|Yonhap";

static LONE_DATE: LazyLock<Regex> = LazyLock::new(|| {
    regex(&format!(
        r"^(?:{WEEKDAYS},?\s+)?(?:(?P<month>{MONTHS})\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>\d{{4}})|(?P<day2>\d{{1,2}})\s+(?P<month2>{MONTHS})\.?,?\s+(?P<year2>\d{{4}})|(?P<iso>\d{{4}}-\d{{2}}-\d{{2}}))\.?$"
    ))
});

static DATELINE_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    regex(&format!(
        r"^(?P<place>\p{{Lu}}[\p{{L}}.'’-]*(?:\s+\p{{Lu}}[\p{{L}}.'’-]*){{0,3}}(?:,\s+\p{{Lu}}[\p{{L}}.]*(?:\s+\p{{Lu}}[\p{{L}}.]*)?)?)?(?:,?\s+(?P<date>{MONTHS}\s+\d{{1,2}}))?\s*\((?P<agency>{AGENCIES})\)\s*(?:[-—–]+|:)\s*"
    ))
});

static ORGANIZATION: LazyLock<Regex> = LazyLock::new(|| {
    regex(&format!(
        r"^(?:The\s+)?(?:{AGENCIES}|Associated Press|Agence France-Presse|\p{{Lu}}[\p{{L}} .&]*\b(?:Press|News|Agency|Times|Post|Journal|Network|Service|Wire|Media|Magazine|Radio|Television|TV))$"
    ))
});

static COPYRIGHT_MARK: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(?i)©|\(c\)\s*\d{4}|\bcopyright\s+(?:©\s*)?\d{4}|\ball rights reserved\b")
});
static YEAR: LazyLock<Regex> = LazyLock::new(|| regex(r"\b(?:19|20)\d{2}\b"));
static ALL_RIGHTS: LazyLock<Regex> = LazyLock::new(|| regex(r"(?i)\.?\s*all rights reserved\.?"));
static APPOSITIVE_COMPANY: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?i),\s+an?\s+[^,]*?\bcompany\b\.?$"));
static REDISTRIBUTION: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)^this (?:material|article|story|content) may not be (?:published|reproduced|copied)(?:,?\s*(?:or\s+)?(?:broadcast|rewritten|redistributed|published|distributed))*(?:\s+in whole or in part)?(?: without [^.]+)?\.?$",
    )
});

static CONTRIBUTED: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^(?P<names>.+?)\s+(?:also\s+)?contributed(?:\s+(?:reporting|research|additional reporting|to this (?:report|story|article)|reporting to this (?:report|story|article)))?(?:\s+from\s+[^.]+)?\.?$",
    )
});
static REPORTING_BY: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^(?:\(|\[)?(?:(?:Additional\s+)?[Rr]eporting|[Ww]riting|[Ee]diting|[Cc]ompiled|[Ww]ith reporting)\s+by\s+.+$",
    )
});
static ROLE_SEGMENT: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"^(?:and\s+)?(?:(?:Additional\s+)?[Rr]eporting|[Ww]riting|[Ee]diting|[Cc]ompiled|[Ww]ith reporting)\s+by\s+(?P<names>.+)$",
    )
});
static WRITERS_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    regex(&format!(
        r"^(?:(?:The\s+)?(?:{AGENCIES}|Associated Press)(?:’s|'s)?\s+(?:staff\s+)?(?:(?:writers?|reporters?|correspondents?|journalists?)\s+)?|(?:staff\s+)?(?:writers?|reporters?|correspondents?|journalists?)\s+)"
    ))
});

static PLACE_SUFFIX: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\s+(?:in|from|at)\s+\p{Lu}[\p{L} .,'’-]*$"));

static CREDIT_SIGNAL: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)\bphoto(?:graph)?s?\b|\bpool\b|getty images|\bvia\s+(?:ap|reuters|afp|getty)\b|shutterstock|\bimagn\b|\bcredit:|\bcourtesy\b|\bepa(?:-efe)?\b|\bafp\b|\bap\b|\breuters\b",
    )
});
static PAREN_CREDIT: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^\((?:AP|AFP|Reuters|EPA|Getty)\s*(?:Photo|Images)?\s*/\s*[^)]+\)$"));
static CAPTION_DATE: LazyLock<Regex> = LazyLock::new(|| {
    regex(&format!(
        r"\b{MONTHS}\s+\d{{1,2}},\s+\d{{4}}\.?$|\bon\s+(?:{WEEKDAYS}|{MONTHS}\s+\d{{1,2}})"
    ))
});
static CAPTION_VERB: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"\b(?:chairs|attends|speaks|looks on|poses|is seen|are seen|arrives|arrive|walks|walk|gestures|holds|waves|listens|stands|stand|sits|delivers|takes part|pictured|shakes hands|react|reacts|gather|gathers|rides|inspects|addresses|wait|waits)\b",
    )
});

/// A parsed date from a lone date line.
pub fn lone_date(paragraph: &str) -> Option<NaiveDate> {
    let caps = LONE_DATE.captures(paragraph.trim())?;
    if let Some(iso) = caps.name("iso") {
        return NaiveDate::parse_from_str(iso.as_str(), "%Y-%m-%d").ok();
    }
    let month = caps.name("month").or(caps.name("month2"))?.as_str();
    let day = caps
        .name("day")
        .or(caps.name("day2"))?
        .as_str()
        .parse()
        .ok()?;
    let year = caps
        .name("year")
        .or(caps.name("year2"))?
        .as_str()
        .parse()
        .ok()?;
    NaiveDate::from_ymd_opt(year, month_number(month)?, day)
}

fn month_number(name: &str) -> Option<u32> {
    let key: String = name
        .chars()
        .take(3)
        .collect::<String>()
        .to_ascii_lowercase();
    let months = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    months
        .iter()
        .position(|month| *month == key)
        .and_then(|index| u32::try_from(index + 1).ok())
}

/// A dateline prefix at the start of a paragraph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatelinePrefix {
    /// The place, when the dateline names one.
    pub place: Option<String>,
    /// The prefix text exactly as it stood, separator included.
    pub prefix: String,
}

/// Finds "WASHINGTON (AP) — ", "LONDON, Sept 13 (Reuters) - " or
/// "(CNN) — " at the start of a paragraph.
pub fn dateline_prefix(paragraph: &str) -> Option<DatelinePrefix> {
    let caps = DATELINE_PREFIX.captures(paragraph)?;
    let whole = caps.get(0)?;
    // Something must follow: a bare "(AP) —" paragraph is not a lead.
    if whole.end() >= paragraph.len() {
        return None;
    }
    Some(DatelinePrefix {
        place: caps
            .name("place")
            .map(|place| place.as_str().trim().to_owned()),
        prefix: whole.as_str().to_owned(),
    })
}

/// The names of a byline paragraph ("By Jane Doe and John Roe, Associated Press").
pub fn byline(paragraph: &str) -> Option<Vec<String>> {
    let text = paragraph.trim();
    if word_count(text) > 14 {
        return None;
    }
    let rest = text
        .strip_prefix("By ")
        .or_else(|| text.strip_prefix("BY "))?;
    let names_part = match rest.rsplit_once(", ") {
        Some((names, organization)) if ORGANIZATION.is_match(organization.trim()) => names,
        _ => rest,
    };
    let names = split_names(names_part);
    (!names.is_empty()).then_some(names)
}

/// A copyright footer or redistribution notice, parsed.
pub fn copyright(paragraph: &str) -> Option<Rights> {
    let text = paragraph.trim();
    if word_count(text) > 60 {
        return None;
    }
    if REDISTRIBUTION.is_match(text) {
        return Some(Rights {
            statement: text.to_owned(),
            ..Rights::default()
        });
    }
    let mark = COPYRIGHT_MARK.find(text)?;
    // A story sentence may say "all rights reserved" in passing; a footer
    // has the mark in its first half or is short.
    if mark.start() > text.len() / 2 && word_count(text) > 25 {
        return None;
    }
    let service = service_before(&text[..mark.start()]);
    let year_match = YEAR.find_at(text, mark.start());
    let year = year_match.and_then(|found| found.as_str().parse().ok());
    let holder = year_match.and_then(|found| {
        holder_after(&text[found.end()..])
            .or_else(|| holder_between(&text[mark.end()..found.start()]))
    });
    Some(Rights {
        holder,
        year,
        service,
        statement: text.to_owned(),
    })
}

fn service_before(head: &str) -> Option<String> {
    let service = head
        .trim()
        .trim_end_matches(['&', ',', '-', '—'])
        .trim()
        .trim_end_matches(['™', '®'])
        .trim();
    (!service.is_empty() && word_count(service) <= 6).then(|| service.to_owned())
}

fn holder_after(tail: &str) -> Option<String> {
    let cut = ALL_RIGHTS
        .find(tail)
        .map_or(tail, |found| &tail[..found.start()]);
    let mut holder = cut.trim().trim_start_matches([',', '-']).trim().to_owned();
    if let Some(found) = APPOSITIVE_COMPANY.find(&holder) {
        holder.truncate(found.start());
    }
    let holder = holder.trim().trim_end_matches(',').trim();
    let holder = if holder.ends_with('.') && !ends_with_abbreviation(holder) {
        holder.trim_end_matches('.')
    } else {
        holder
    };
    (!holder.is_empty() && word_count(holder) <= 10).then(|| holder.to_owned())
}

/// The holder in "© Agence France-Presse 2024", where it precedes the year.
fn holder_between(middle: &str) -> Option<String> {
    let holder = middle.trim().trim_matches([',', '-']).trim();
    (!holder.is_empty() && word_count(holder) <= 10).then(|| holder.to_owned())
}

fn ends_with_abbreviation(text: &str) -> bool {
    let last = text.rsplit(' ').next().unwrap_or("");
    matches!(
        last,
        "Inc." | "Ltd." | "Co." | "Corp." | "Bros." | "S.A." | "AG." | "L.P." | "N.V."
    )
}

/// The contributor names of a contributor or credit line.
pub fn contributors(paragraph: &str) -> Option<Vec<String>> {
    let text = paragraph.trim();
    if word_count(text) > 60 {
        return None;
    }
    let names = if let Some(caps) = CONTRIBUTED.captures(text) {
        let names_part = caps.name("names")?.as_str();
        let names_part = WRITERS_PREFIX.replace(names_part, "");
        split_names(&names_part)
    } else if REPORTING_BY.is_match(text) {
        let inner = text
            .trim_matches(['(', ')', '[', ']'])
            .trim_end_matches('.');
        let mut names = Vec::new();
        for segment in inner.split(';') {
            let caps = ROLE_SEGMENT.captures(segment.trim())?;
            names.extend(split_names(caps.name("names")?.as_str()));
        }
        names
    } else {
        return None;
    };
    (!names.is_empty()).then_some(names)
}

/// Splits "A, B in Paris and C" into names, or returns nothing when any part
/// is not name-shaped (then the line is not a credit line).
fn split_names(list: &str) -> Vec<String> {
    let mut names = Vec::new();
    let list = list.trim().trim_end_matches('.');
    for part in list
        .split([',', ';', '&'])
        .flat_map(|part| part.split(" and "))
    {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let part = part.strip_prefix("and ").unwrap_or(part);
        let name = PLACE_SUFFIX.replace(part, "");
        let name = name.trim();
        if !is_name(name) {
            return Vec::new();
        }
        names.push(name.to_owned());
    }
    names
}

fn is_name(candidate: &str) -> bool {
    let words: Vec<&str> = candidate.split_whitespace().collect();
    if words.is_empty() || words.len() > 5 {
        return false;
    }
    let particles = [
        "de", "da", "del", "van", "von", "der", "bin", "al", "la", "le", "di", "dos",
    ];
    words
        .iter()
        .all(|word| word.chars().next().is_some_and(char::is_uppercase) || particles.contains(word))
        && words
            .first()
            .is_some_and(|word| word.chars().next().is_some_and(char::is_uppercase))
}

/// True for a photo credit line ("Alexander Kazakov, Sputnik, Kremlin Pool
/// Photo via AP", "(AP Photo/Evan Vucci)", "Photo: Jane Doe/Reuters").
pub fn is_credit(paragraph: &str) -> bool {
    let text = paragraph.trim();
    if PAREN_CREDIT.is_match(text) {
        return true;
    }
    if word_count(text) > 16 || text.ends_with(['.', '!', '?', '"', '”', ':']) {
        return false;
    }
    if !CREDIT_SIGNAL.is_match(text) {
        return false;
    }
    // A credit names people and agencies: mostly capitalised words, with
    // the joints credits use (commas, slashes, "via").
    let words: Vec<&str> = text.split_whitespace().collect();
    let capitalised = words
        .iter()
        .filter(|word| {
            word.trim_start_matches(['(', '/'])
                .chars()
                .next()
                .is_some_and(char::is_uppercase)
        })
        .count();
    let joints = text.contains(',')
        || text.contains('/')
        || text.contains(" via ")
        || text.starts_with("Photo");
    joints && capitalised * 3 >= words.len() * 2
}

/// True when a paragraph next to a credit reads like a picture caption.
pub fn is_caption(paragraph: &str) -> bool {
    let text = paragraph.trim();
    let words = word_count(text);
    if !(4..=70).contains(&words) {
        return false;
    }
    if text.contains(['"', '“', '”']) {
        return false;
    }
    CAPTION_DATE.is_match(text) || CAPTION_VERB.is_match(text)
}

/// Words in `text`.
pub fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_dates_in_wire_styles() {
        let date = NaiveDate::from_ymd_opt(2024, 9, 13);
        assert_eq!(lone_date("Friday, September 13, 2024"), date);
        assert_eq!(lone_date("Sept. 13, 2024"), date);
        assert_eq!(lone_date("13 September 2024"), date);
        assert_eq!(lone_date("2024-09-13"), date);
        assert_eq!(
            lone_date("On Friday, September 13, 2024 the talks began."),
            None
        );
    }

    #[test]
    fn dateline_prefixes() {
        let found = dateline_prefix("WASHINGTON (AP) — The Senate voted.").unwrap();
        assert_eq!(found.place.as_deref(), Some("WASHINGTON"));
        assert_eq!(found.prefix, "WASHINGTON (AP) — ");
        let found = dateline_prefix("LONDON, Sept 13 (Reuters) - Britain said.").unwrap();
        assert_eq!(found.place.as_deref(), Some("LONDON"));
        let found = dateline_prefix("(CNN) — Putin warned.").unwrap();
        assert_eq!(found.place, None);
        assert_eq!(dateline_prefix("The AP (news agency) reported."), None);
        let found = dateline_prefix("Paris (AFP) - Air traffic controllers will strike.").unwrap();
        assert_eq!(found.place.as_deref(), Some("Paris"));
        let found = dateline_prefix("NAIROBI, Kenya (AP) — Rangers counted.").unwrap();
        assert_eq!(found.place.as_deref(), Some("NAIROBI, Kenya"));
    }

    #[test]
    fn cnn_copyright_footer() {
        let rights = copyright(
            "The CNN Wire™ & © 2023 Cable News Network, Inc., a Warner Bros. Discovery Company. All rights reserved.",
        )
        .unwrap();
        assert_eq!(rights.holder.as_deref(), Some("Cable News Network, Inc."));
        assert_eq!(rights.year, Some(2023));
        assert_eq!(rights.service.as_deref(), Some("The CNN Wire"));
    }

    #[test]
    fn ap_copyright_and_mentions() {
        let rights =
            copyright("Copyright 2024 The Associated Press. All rights reserved.").unwrap();
        assert_eq!(rights.holder.as_deref(), Some("The Associated Press"));
        assert_eq!(rights.year, Some(2024));
        let afp = copyright("© Agence France-Presse 2024").unwrap();
        assert_eq!(afp.holder.as_deref(), Some("Agence France-Presse"));
        assert_eq!(afp.year, Some(2024));
        assert!(copyright("The court ruled the copyright claim was filed too late.").is_none());
        assert!(
            copyright("This material may not be published, broadcast, rewritten or redistributed.")
                .is_some()
        );
    }

    #[test]
    fn contributor_lines() {
        assert_eq!(
            contributors("Michael Callahan, Natasha Bertrand, Oren Liebermann and Lex Harvey contributed reporting.")
                .unwrap(),
            vec!["Michael Callahan", "Natasha Bertrand", "Oren Liebermann", "Lex Harvey"]
        );
        assert_eq!(
            contributors("Associated Press writers Sylvie Corbet in Paris and Frances D’Emilio in Rome contributed.")
                .unwrap(),
            vec!["Sylvie Corbet", "Frances D’Emilio"]
        );
        assert_eq!(
            contributors("Reporting by Andrew Osborn in Moscow; Editing by Alex Richardson")
                .unwrap(),
            vec!["Andrew Osborn", "Alex Richardson"]
        );
        assert_eq!(
            contributors("CNN’s Jonah Feld and Aisha Rahimi contributed to this report.").unwrap(),
            vec!["Jonah Feld", "Aisha Rahimi"]
        );
        assert!(contributors("Reuters contributed to the fund that rebuilt the school.").is_none());
        assert!(contributors("Many donors contributed.").is_none());
    }

    #[test]
    fn credits_and_captions() {
        assert!(is_credit(
            "Alexander Kazakov, Sputnik, Kremlin Pool Photo via AP"
        ));
        assert!(is_credit("(AP Photo/Evan Vucci)"));
        assert!(is_credit("Chip Somodevilla/Getty Images"));
        assert!(!is_credit(
            "Putin spoke to reporters, according to Reuters."
        ));
        assert!(!is_credit("The photo agency said it would appeal"));
        assert!(is_caption(
            "Russian President Vladimir Putin chairs a meeting with members of the government via videoconference at the Novo-Ogaryovo state residence Sept. 11, 2024."
        ));
        assert!(!is_caption("\"We will respond,\" Putin said on Thursday."));
    }

    #[test]
    fn bylines() {
        assert_eq!(
            byline("By Jim Heintz and Dasha Litvinova, Associated Press").unwrap(),
            vec!["Jim Heintz", "Dasha Litvinova"]
        );
        assert!(byline("By the end of the week the talks had collapsed.").is_none());
    }
}
