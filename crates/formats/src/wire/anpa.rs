//! ANPA-1312 and IPTC 7901 character streams.
//!
//! A stream holds messages framed by control characters: SOH (0x01) opens
//! the header, STX (0x02) the text, ETX (0x03) ends the text and a trailer
//! (the sending time) follows; EOT (0x04) closes the message. SYN (0x16)
//! idle bytes, DEL (0x7f) fill and form feeds between messages are
//! ignored. The stream is read one message at a time, so memory follows
//! the longest message, not the stream.
//!
//! ANPA-1312 header (as sent by US wire services and read by Superdesk):
//! line 1 is the service level letter and a 4-digit message number, a unit
//! separator (0x1f) and the selector code; line 2 is the priority letter,
//! a space, the category letter, the two-byte format identifier, then,
//! space-separated, the keyword (slug), an optional version ("1stLd-
//! Writethru", "1stAdd"), an optional reference (the message number
//! referred to), the filing date (mm-dd) and the word count. Text lines
//! beginning `^` are the headline (ending `<`), bylines and editors' notes
//! (ending `=`); paragraphs begin with an indent; the first carries the
//! dateline ("WASHINGTON (WNS) _ "); `MORE` ends a take that continues.
//!
//! IPTC 7901 header: the service identification letters with the message
//! number, the priority digit (1–6), the category letters and the word
//! count on line 1, then the keyword line (slash-separated); the text's
//! first line is the headline (ending `=`), paragraphs are indented and
//! separated by blank lines.
//!
//! Text is UTF-8 when it is valid UTF-8, and Windows-1252 (a superset of
//! Latin-1) otherwise, per message.

use wirefeed_model::{FeedFormat, RawItem};

use super::WireItem;
use super::dom::collapse;

const SOH: u8 = 0x01;
const STX: u8 = 0x02;
const ETX: u8 = 0x03;
const EOT: u8 = 0x04;

/// Which of the two a stream starting with SOH is.
pub(crate) fn flavour(bytes: &[u8]) -> FeedFormat {
    let header: Vec<u8> = bytes
        .iter()
        .skip(1)
        .take_while(|byte| **byte != b'\r' && **byte != b'\n' && **byte != STX)
        .copied()
        .collect();
    if header.contains(&0x1f) {
        return FeedFormat::Anpa1312;
    }
    let text = String::from_utf8_lossy(&header);
    let mut fields = text.split_whitespace();
    let id_and_number = fields.next().unwrap_or_default();
    let priority = fields.next().unwrap_or_default();
    let looks_7901 = id_and_number
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && id_and_number
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_digit())
        && priority.len() == 1
        && priority.chars().all(|c| c.is_ascii_digit());
    if looks_7901 {
        FeedFormat::Iptc7901
    } else {
        FeedFormat::Anpa1312
    }
}

/// Parses a stream into items and the number of broken messages.
pub(crate) fn parse(format: FeedFormat, bytes: &[u8]) -> (Vec<RawItem>, usize) {
    let mut items = Vec::new();
    let mut broken = 0;
    let mut rest = bytes;
    while let Some(start) = rest.iter().position(|byte| *byte == SOH) {
        let message = &rest[start + 1..];
        let end = message.iter().position(|byte| *byte == EOT || *byte == SOH);
        let (body, next) = match end {
            Some(end) if message[end] == EOT => (&message[..end], &message[end + 1..]),
            // A new SOH before EOT, or the stream ends: this one is cut off.
            Some(end) => {
                broken += 1;
                rest = &message[end..];
                continue;
            }
            None => {
                broken += 1;
                break;
            }
        };
        let parsed = match format {
            FeedFormat::Iptc7901 => message_7901(body),
            _ => message_anpa(body),
        };
        match parsed {
            Some(item) => items.push(item.into_raw()),
            None => broken += 1,
        }
        rest = next;
    }
    (items, broken)
}

/// Splits a message into header, text and trailer; `None` without STX/ETX.
fn frame(message: &[u8]) -> Option<(String, String, String)> {
    let stx = message.iter().position(|byte| *byte == STX)?;
    let etx = stx + message[stx..].iter().position(|byte| *byte == ETX)?;
    Some((
        decode(&message[..stx]),
        decode(&message[stx + 1..etx]),
        decode(&message[etx + 1..]),
    ))
}

fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(bytes)
            .0
            .into_owned(),
    }
}

/// The trailer's first printable line (the sending time).
fn trailer(text: &str) -> Option<String> {
    text.lines()
        .map(|line| line.trim_matches(|c: char| c.is_whitespace() || c.is_control()))
        .find(|line| !line.is_empty())
        .map(str::to_owned)
}

/// "PLACE (WNS) _ text" → ("PLACE", "text").
fn split_dateline(paragraph: &str) -> Option<(String, String)> {
    let open = paragraph.find(" (")?;
    let close = open + paragraph[open..].find(") ")?;
    let tag = &paragraph[open + 2..close];
    if open == 0
        || open > 60
        || tag.is_empty()
        || tag.len() > 12
        || !tag.chars().all(|c| c.is_alphanumeric() || c == '-')
    {
        return None;
    }
    let after = paragraph[close + 2..].trim_start();
    let text = ["_ ", "— ", "– ", "-- ", "- "]
        .iter()
        .find_map(|dash| after.strip_prefix(dash))?;
    Some((paragraph[..open].trim().to_owned(), text.trim().to_owned()))
}

/// Control characters other than line ends and tabs, dropped from text.
fn printable(line: &str) -> String {
    line.chars()
        .filter(|c| !c.is_control() || *c == '\t')
        .collect()
}

fn message_anpa(message: &[u8]) -> Option<WireItem> {
    let (header, text, after) = frame(message)?;
    let mut lines = header
        .lines()
        .map(str::trim_end)
        .filter(|line| !line.is_empty());
    let first = lines.next()?;
    let second = lines.next().unwrap_or_default();
    let mut item = WireItem::default();
    let first = first.trim_start_matches(|c: char| c.is_control());
    let (number_part, selector) = first.split_once('\u{1f}').unwrap_or((first, ""));
    let message_number: String = number_part.chars().skip(1).collect();
    item.meta.selector = Some(selector.trim().to_owned()).filter(|s| !s.is_empty());
    item.meta.agency_id = Some(message_number.trim().to_owned()).filter(|s| !s.is_empty());
    let mut chars = second.chars();
    item.meta.priority = chars.next().map(|c| c.to_string());
    let rest: String = chars.collect();
    let rest = rest.trim_start();
    let category: String = rest.chars().take_while(char::is_ascii_alphabetic).collect();
    let after_category = &rest[category.len()..];
    let format_id: String = after_category
        .chars()
        .take_while(|c| c.is_control())
        .collect();
    item.meta.category = Some(category).filter(|c| !c.is_empty());
    item.meta.format_id = Some(format_id.clone()).filter(|f| !f.is_empty());
    let fields: Vec<&str> = after_category[format_id.len()..]
        .split_whitespace()
        .collect();
    let mut fields = fields.as_slice();
    if let Some((count, head)) = fields.split_last()
        && count.len() == 4
        && count.chars().all(|c| c.is_ascii_digit())
    {
        item.meta.word_count = count.parse().ok();
        fields = head;
    }
    let mut filed = None;
    if let Some((date, head)) = fields.split_last()
        && date.len() == 5
        && date.as_bytes()[2] == b'-'
    {
        filed = Some((*date).to_owned());
        fields = head;
    }
    let slug = fields.first().map(|slug| (*slug).to_owned());
    for field in fields.iter().skip(1) {
        if field.len() == 4 && field.chars().all(|c| c.is_ascii_digit()) {
            item.meta.reference = Some((*field).to_owned());
        } else {
            item.meta.take = Some((*field).to_owned());
        }
    }
    item.meta.slugline = slug.clone();
    // The keyword names the story; adds continue it under their own id.
    let adds = item
        .meta
        .take
        .as_deref()
        .is_some_and(|take| take.to_ascii_lowercase().contains("add"));
    item.guid = Some(format!(
        "{}:{}:{}{}",
        item.meta.selector.as_deref().unwrap_or("anpa"),
        filed.as_deref().unwrap_or(""),
        slug.as_deref().unwrap_or(&message_number),
        if adds {
            format!(":{}", item.meta.take.as_deref().unwrap_or_default())
        } else {
            String::new()
        }
    ));
    let mut paragraphs = Paragraphs::default();
    for raw_line in text.lines() {
        let line = printable(raw_line);
        let trimmed = line.trim();
        if let Some(marked) = trimmed.strip_prefix('^') {
            if let Some(headline) = marked.strip_suffix('<') {
                item.title.get_or_insert_with(|| collapse(headline));
            } else {
                let note = marked.trim_end_matches('=').trim();
                if let Some(name) = note
                    .strip_prefix("By ")
                    .or_else(|| note.strip_prefix("BY "))
                {
                    item.authors.push(title_case(name));
                }
            }
            continue;
        }
        if trimmed.is_empty() {
            paragraphs.end();
        } else if line.starts_with('\t') || line.starts_with("  ") {
            paragraphs.start(trimmed);
        } else {
            paragraphs.add(trimmed);
        }
    }
    finish(&mut item, paragraphs.into_vec(), &after);
    Some(item)
}

fn message_7901(message: &[u8]) -> Option<WireItem> {
    let (header, text, after) = frame(message)?;
    let mut lines = header
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty());
    let first = lines.next()?.trim_start_matches(|c: char| c.is_control());
    let mut item = WireItem::default();
    let mut fields = first.split_whitespace();
    let id_and_number = fields.next().unwrap_or_default();
    let split = id_and_number
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(id_and_number.len());
    item.meta.selector = Some(id_and_number[..split].to_owned()).filter(|s| !s.is_empty());
    item.meta.agency_id = Some(id_and_number[split..].to_owned()).filter(|s| !s.is_empty());
    item.meta.priority = fields.next().map(str::to_owned);
    item.meta.urgency = item
        .meta
        .priority
        .as_deref()
        .and_then(|priority| priority.parse().ok());
    item.meta.category = fields.next().map(str::to_owned);
    item.meta.word_count = fields.next().and_then(|count| count.parse().ok());
    let keyword = lines
        .next()
        .map(|line| line.trim_end_matches('/').to_owned());
    item.meta.slugline = keyword.clone();
    item.guid = Some(format!(
        "{}:{}:{}",
        item.meta.selector.as_deref().unwrap_or("7901"),
        item.meta.agency_id.as_deref().unwrap_or_default(),
        keyword.as_deref().unwrap_or_default()
    ));
    let mut paragraphs = Paragraphs::default();
    let mut titled = false;
    for raw_line in text.lines() {
        let line = printable(raw_line);
        let trimmed = line.trim();
        if !titled && !trimmed.is_empty() {
            titled = true;
            item.title = Some(collapse(trimmed.trim_end_matches('=')));
            continue;
        }
        if trimmed.is_empty() {
            paragraphs.end();
        } else {
            paragraphs.add(trimmed);
        }
    }
    finish(&mut item, paragraphs.into_vec(), &after);
    Some(item)
}

/// Paragraphs gathered from wrapped lines.
#[derive(Default)]
struct Paragraphs {
    done: Vec<String>,
    open: String,
}

impl Paragraphs {
    /// Ends the paragraph being gathered, if any.
    fn end(&mut self) {
        if !self.open.is_empty() {
            self.done.push(collapse(&self.open));
            self.open.clear();
        }
    }

    /// Starts a new paragraph with `text`.
    fn start(&mut self, text: &str) {
        self.end();
        self.open.push_str(text);
    }

    /// Continues the paragraph (or starts one) with `text`.
    fn add(&mut self, text: &str) {
        if !self.open.is_empty() {
            self.open.push(' ');
        }
        self.open.push_str(text);
    }

    fn into_vec(mut self) -> Vec<String> {
        self.end();
        self.done
    }
}

/// Takes the take markers and the dateline off the paragraphs, fills the
/// title from the slug when the text has none, and reads the trailer.
fn finish(item: &mut WireItem, mut paragraphs: Vec<String>, after: &str) {
    while let Some(last) = paragraphs.last() {
        let marker = last.trim_matches(|c: char| c == '(' || c == ')' || c.is_whitespace());
        match marker.to_ascii_uppercase().as_str() {
            "MORE" => {
                item.meta.continues = true;
                paragraphs.pop();
            }
            "END" | "ENDIT" | "XXX" => {
                paragraphs.pop();
            }
            _ => break,
        }
    }
    if let Some(first) = paragraphs.first()
        && let Some((place, text)) = split_dateline(first)
    {
        item.meta.dateline = Some(place.clone());
        item.meta.located = Some(place);
        paragraphs[0] = text;
    }
    paragraphs.retain(|paragraph| !paragraph.is_empty());
    if item.title.is_none() {
        item.title = item.meta.slugline.clone();
    }
    item.paragraphs = paragraphs;
    item.meta.taglines = trailer(after).into_iter().collect();
}

/// "HOLLIS VANTREASE" → "Hollis Vantrease"; mixed case is left alone.
fn title_case(name: &str) -> String {
    let name = name.trim();
    if name.chars().any(char::is_lowercase) {
        return name.to_owned();
    }
    name.split_whitespace()
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_string() + &chars.as_str().to_lowercase(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
