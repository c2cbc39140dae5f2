//! Dates as wire copy writes them: "Friday, September 13, 2024",
//! "Sept. 13, 2024", "13 September 2024", "2024-09-13", "Sept 13" (the
//! year then comes from a hint, usually the publication date).

use chrono::NaiveDate;

/// Parses a date; `year_hint` fills in a missing year.
pub fn parse_date(text: &str, year_hint: Option<i32>) -> Option<NaiveDate> {
    let text = text.trim().trim_end_matches('.');
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(date);
    }
    let mut month = None;
    let mut day = None;
    let mut year = None;
    for token in text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|token| !token.is_empty())
    {
        let token = token.trim_end_matches('.');
        if let Some(number) = month_number(token) {
            if month.is_none() {
                month = Some(number);
            }
            continue;
        }
        let digits = token.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        match digits.len() {
            1 | 2 if day.is_none() => day = digits.parse().ok(),
            4 if year.is_none() => year = digits.parse().ok(),
            _ => {}
        }
    }
    NaiveDate::from_ymd_opt(year.or(year_hint)?, month?, day?)
}

fn month_number(token: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    if token.len() < 3 || !token.chars().all(char::is_alphabetic) {
        return None;
    }
    let lower = token.to_lowercase();
    let index = MONTHS.iter().position(|month| lower.starts_with(month))?;
    // "Sept", "September", "SEP": a prefix of the full name, not any word
    // starting with "mar" or "may".
    const FULL: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    FULL[index]
        .starts_with(&lower)
        .then(|| u32::try_from(index + 1).ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_date_styles() {
        let date = NaiveDate::from_ymd_opt(2024, 9, 13);
        assert_eq!(parse_date("Friday, September 13, 2024", None), date);
        assert_eq!(parse_date("Sept. 13, 2024", None), date);
        assert_eq!(parse_date("13 September 2024", None), date);
        assert_eq!(parse_date("2024-09-13", None), date);
        assert_eq!(parse_date("SEP 13", Some(2024)), date);
        assert_eq!(parse_date("Sept 13", None), None);
        assert_eq!(parse_date("Marching 13, 2024", None), None);
        assert_eq!(parse_date("February 30, 2024", None), None);
    }
}
