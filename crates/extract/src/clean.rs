//! Wire-copy cleaning by position and shape.
//!
//! The top of a story may carry a lone date line, a byline and a dateline
//! prefix; the rest may carry photo credits (with the caption just before
//! them), contributor lines and copyright footers. Each paragraph is tested
//! against the strict recognisers in `patterns`; whatever is cut is recorded
//! in `removed` in body order.

use wirefeed_model::{Dateline, Media, Removed, RemovedKind, Rights};

use crate::patterns;

/// How many paragraphs at the top may be date or byline lines.
const TOP_ZONE: usize = 4;

/// The result of cleaning a body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cleaned {
    /// The paragraphs kept, in order.
    pub paragraphs: Vec<String>,
    /// Everything cut, in body order.
    pub removed: Vec<Removed>,
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

/// Cleans body paragraphs.
pub fn clean(paragraphs: &[String]) -> Cleaned {
    let mut cleaned = Cleaned::default();
    let mut keep = vec![true; paragraphs.len()];
    let mut cuts: Vec<(usize, Removed)> = Vec::new();
    let cut = |cuts: &mut Vec<(usize, Removed)>, index: usize, kind: RemovedKind, text: &str| {
        cuts.push((
            index,
            Removed {
                kind,
                text: text.to_owned(),
            },
        ));
    };

    for (index, paragraph) in paragraphs.iter().enumerate().take(TOP_ZONE) {
        if let Some(date) = patterns::lone_date(paragraph) {
            cleaned.dateline.date.get_or_insert(date);
            keep[index] = false;
            cut(&mut cuts, index, RemovedKind::Dateline, paragraph);
        } else if let Some(names) = patterns::byline(paragraph) {
            push_unique(&mut cleaned.authors, names);
            keep[index] = false;
            cut(&mut cuts, index, RemovedKind::Byline, paragraph);
        } else {
            break;
        }
    }

    for index in 0..paragraphs.len() {
        if !keep[index] {
            continue;
        }
        let paragraph = &paragraphs[index];
        if let Some(rights) = patterns::copyright(paragraph) {
            merge_rights(&mut cleaned.rights, rights);
            keep[index] = false;
            cut(&mut cuts, index, RemovedKind::Copyright, paragraph);
        } else if let Some(names) = patterns::contributors(paragraph) {
            push_unique(&mut cleaned.contributors, names);
            keep[index] = false;
            cut(&mut cuts, index, RemovedKind::Contributors, paragraph);
        } else if patterns::is_credit(paragraph) {
            keep[index] = false;
            let caption = index
                .checked_sub(1)
                .filter(|previous| keep[*previous] && first_kept(&keep) != Some(*previous))
                .filter(|previous| patterns::is_caption(&paragraphs[*previous]));
            if let Some(previous) = caption {
                keep[previous] = false;
                cut(
                    &mut cuts,
                    previous,
                    RemovedKind::Caption,
                    &paragraphs[previous],
                );
            }
            cut(&mut cuts, index, RemovedKind::Credit, paragraph);
            cleaned.media.push(Media {
                url: None,
                caption: caption.map(|previous| paragraphs[previous].clone()),
                credit: Some(paragraph.clone()),
            });
        }
    }

    let lead = first_kept(&keep);
    for (index, paragraph) in paragraphs.iter().enumerate() {
        if !keep[index] {
            continue;
        }
        if Some(index) == lead
            && let Some(found) = patterns::dateline_prefix(paragraph)
        {
            cleaned.dateline.place = found.place;
            cut(&mut cuts, index, RemovedKind::Dateline, found.prefix.trim());
            cleaned
                .paragraphs
                .push(paragraph[found.prefix.len()..].to_owned());
            continue;
        }
        cleaned.paragraphs.push(paragraph.clone());
    }
    cuts.sort_by_key(|(index, _)| *index);
    cleaned.removed = cuts.into_iter().map(|(_, removed)| removed).collect();
    cleaned
}

fn first_kept(keep: &[bool]) -> Option<usize> {
    keep.iter().position(|kept| *kept)
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
    use chrono::NaiveDate;

    use super::*;

    fn paragraphs(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|line| (*line).to_owned()).collect()
    }

    #[test]
    fn ap_story_top_and_bottom() {
        let body = paragraphs(&[
            "By Lisa Mascaro, Associated Press",
            "WASHINGTON (AP) — The Senate passed the bill late Thursday.",
            "The vote was 68-31.",
            "Associated Press writer Mary Clare Jalonick contributed to this report.",
            "Copyright 2024 The Associated Press. All rights reserved.",
        ]);
        let cleaned = clean(&body);
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
        assert_eq!(
            cleaned.rights.as_ref().unwrap().holder.as_deref(),
            Some("The Associated Press")
        );
        let kinds: Vec<RemovedKind> = cleaned.removed.iter().map(|removed| removed.kind).collect();
        assert_eq!(
            kinds,
            vec![
                RemovedKind::Byline,
                RemovedKind::Dateline,
                RemovedKind::Contributors,
                RemovedKind::Copyright
            ]
        );
        assert_eq!(cleaned.removed[1].text, "WASHINGTON (AP) —");
    }

    #[test]
    fn caption_is_taken_only_next_to_a_credit() {
        let body = paragraphs(&[
            "Friday, September 13, 2024",
            "The leaders met in Brussels.",
            "NATO Secretary General Jens Stoltenberg speaks to the press in Brussels on Sept. 12, 2024.",
            "Omar Havana/Getty Images",
            "Talks continue on Monday.",
        ]);
        let cleaned = clean(&body);
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
    }

    #[test]
    fn story_that_mentions_boilerplate_words_is_untouched() {
        let body = paragraphs(&[
            "The court ruled the copyright claim was filed too late.",
            "Reuters contributed to the fund that rebuilt the school.",
            "A photo of the scene, taken by a bystander, was shared widely.",
            "\"We will appeal,\" the photographer's lawyer said.",
        ]);
        let cleaned = clean(&body);
        assert_eq!(cleaned.paragraphs, body);
        assert!(cleaned.removed.is_empty());
    }
}
