//! The dead letter: what goes to the dead-letter topic when an item can
//! never be published to the record topic — its record is larger than the
//! broker accepts, the broker rejects it, or processing the item panicked.
//!
//! A dead letter keeps everything an operator needs to act on it: why, at
//! which stage, which feed, story id and version, guid, URL, title, and the
//! record itself (or the raw item when no record could be made). When that
//! does not fit the dead-letter size budget it is shrunk in steps — first
//! the body text, then the record and item altogether — and says so.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::{FeedId, RawItem, StoryId};

/// The schema name and version of a dead letter.
pub const DEAD_LETTER_SCHEMA: &str = "wirefeed.dead-letter/1";

/// Longest title kept when a dead letter is shrunk to its envelope.
const ENVELOPE_TITLE_CHARS: usize = 500;

/// One item that could not be published.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeadLetter {
    /// Always [`DEAD_LETTER_SCHEMA`].
    pub schema: &'static str,
    /// Why, in words (the error message).
    pub reason: String,
    /// Why, as a bounded label (`message_too_large`, `panic`, …).
    pub error_type: String,
    /// Where it failed: `normalize`, `enrich` or `publish`.
    pub stage: String,
    /// The topic the record was meant for.
    pub topic: String,
    /// The feed the item came from.
    pub feed_id: FeedId,
    /// The story id, when the item got that far.
    pub id: Option<StoryId>,
    /// The version that could not be published.
    pub version: Option<u32>,
    /// The item's guid.
    pub guid: Option<String>,
    /// The item's link.
    pub url: Option<String>,
    /// The item's title.
    pub title: Option<String>,
    /// When it was dead-lettered.
    pub dead_at: DateTime<Utc>,
    /// True when the record or item below was cut to fit.
    pub shrunk: bool,
    /// The size of the dead letter before it was shrunk, in bytes.
    pub original_bytes: Option<usize>,
    /// The record as it would have been published (its body left out when
    /// shrunk).
    pub record: Option<Value>,
    /// The raw item, when no record could be made.
    pub item: Option<RawItem>,
}

/// A dead letter serialized for the topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetterPayload {
    /// The JSON bytes.
    pub bytes: Vec<u8>,
    /// Whether it had to be shrunk to fit.
    pub shrunk: bool,
}

impl DeadLetter {
    /// Serializes the dead letter in at most `max_bytes` where it can:
    /// whole when it fits; else without the body text of its record or
    /// item; else as the envelope alone (ids, reason, a cut title). The
    /// envelope is returned even when it is larger than `max_bytes` — it
    /// is small unless the reason itself is huge.
    pub fn to_payload(&self, max_bytes: usize) -> DeadLetterPayload {
        let whole = to_json(self);
        if whole.len() <= max_bytes {
            return DeadLetterPayload {
                bytes: whole,
                shrunk: false,
            };
        }
        let mut letter = self.clone();
        letter.shrunk = true;
        letter.original_bytes = Some(whole.len());
        if let Some(record) = letter.record.as_mut() {
            strip_record_text(record);
        }
        if let Some(item) = letter.item.as_mut() {
            item.content = None;
            item.summary = item.summary.as_deref().map(|summary| cut(summary, 1_000));
        }
        let without_text = to_json(&letter);
        if without_text.len() <= max_bytes {
            return DeadLetterPayload {
                bytes: without_text,
                shrunk: true,
            };
        }
        letter.record = None;
        letter.item = None;
        letter.title = letter
            .title
            .as_deref()
            .map(|title| cut(title, ENVELOPE_TITLE_CHARS));
        letter.url = letter.url.as_deref().map(|url| cut(url, 2_000));
        letter.guid = letter.guid.as_deref().map(|guid| cut(guid, 2_000));
        DeadLetterPayload {
            bytes: to_json(&letter),
            shrunk: true,
        }
    }
}

/// Empties the bulky text of a serialized record: body paragraphs, the
/// summary and the removed lines' text; counts stay.
fn strip_record_text(record: &mut Value) {
    if let Some(body) = record.get_mut("body").and_then(Value::as_object_mut) {
        body.insert("paragraphs".to_owned(), Value::Array(Vec::new()));
    }
    if let Some(summary) = record.get_mut("summary")
        && let Some(text) = summary.as_str()
    {
        *summary = Value::String(cut(text, 1_000));
    }
    if let Some(removed) = record.get_mut("removed") {
        *removed = Value::Array(Vec::new());
    }
    if let Some(quotes) = record.get_mut("quotes") {
        *quotes = Value::Array(Vec::new());
    }
}

fn cut(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

fn to_json(letter: &DeadLetter) -> Vec<u8> {
    // A dead letter holds strings, numbers and JSON values only: it always
    // serializes.
    serde_json::to_vec(letter).unwrap_or_else(|err| {
        format!(
            r#"{{"schema":"{DEAD_LETTER_SCHEMA}","reason":"dead letter not serializable: {err}"}}"#
        )
        .into_bytes()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(body_words: usize) -> DeadLetter {
        let paragraph = "Wire copy filed from the harbour as the storm came ashore. ".repeat(20);
        let paragraphs: Vec<Value> = (0..body_words / 200)
            .map(|_| Value::String(paragraph.clone()))
            .collect();
        DeadLetter {
            schema: DEAD_LETTER_SCHEMA,
            reason: "record 9f2c was not delivered: Broker: Message size too large".to_owned(),
            error_type: "message_too_large".to_owned(),
            stage: "publish".to_owned(),
            topic: "wirefeed.articles".to_owned(),
            feed_id: FeedId::new("ap-top"),
            id: Some(StoryId::from_stored("9f2c")),
            version: Some(1),
            guid: Some("urn:wire:storm-1".to_owned()),
            url: Some("https://wire.example/storm".to_owned()),
            title: Some("Storm comes ashore".to_owned()),
            dead_at: DateTime::parse_from_rfc3339("2026-11-25T03:00:00Z")
                .map(|time| time.with_timezone(&Utc))
                .unwrap_or_default(),
            shrunk: false,
            original_bytes: None,
            record: Some(serde_json::json!({
                "id": "9f2c",
                "title": "Storm comes ashore",
                "body": {"paragraphs": paragraphs, "word_count": body_words},
                "removed": [{"kind": "copyright", "text": "(c) 2026 Wire"}],
            })),
            item: None,
        }
    }

    #[test]
    fn a_letter_that_fits_is_whole() {
        let payload = letter(400).to_payload(1 << 20);
        assert!(!payload.shrunk);
        let value: Value = serde_json::from_slice(&payload.bytes).unwrap();
        assert_eq!(
            value["record"]["body"]["paragraphs"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        assert_eq!(value["shrunk"], false);
        assert_eq!(value["schema"], DEAD_LETTER_SCHEMA);
    }

    #[test]
    fn a_large_letter_loses_its_body_first_then_its_record() {
        let big = letter(40_000);
        let whole = big.to_payload(usize::MAX).bytes.len();
        assert!(whole > 200_000);

        let payload = big.to_payload(20_000);
        assert!(payload.shrunk && payload.bytes.len() <= 20_000);
        let value: Value = serde_json::from_slice(&payload.bytes).unwrap();
        assert_eq!(value["original_bytes"], whole);
        assert_eq!(value["record"]["body"]["paragraphs"], serde_json::json!([]));
        assert_eq!(value["record"]["body"]["word_count"], 40_000);
        assert_eq!(value["record"]["title"], "Storm comes ashore");

        let envelope = big.to_payload(100);
        let value: Value = serde_json::from_slice(&envelope.bytes).unwrap();
        assert!(envelope.shrunk);
        assert_eq!(value["record"], Value::Null);
        assert_eq!(value["id"], "9f2c");
        assert_eq!(value["error_type"], "message_too_large");
    }
}
