//! Agency documents (`tests/wire/<format>/`): every fixture is parsed and
//! compared field by field with its `.expected.json`, written from the
//! document by hand. A mismatch names the file, the item and the field.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use wirefeed_formats::{ParseLimits, parse_feed};
use wirefeed_model::{RawItem, WireMeta};

fn wire_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/wire")
}

fn time(value: Option<chrono::DateTime<chrono::Utc>>) -> Value {
    value.map_or(Value::Null, |time| {
        Value::String(time.format("%Y-%m-%dT%H:%M:%SZ").to_string())
    })
}

/// The body paragraphs back from the `<p>` markup the parser hands on.
fn body(item: &RawItem) -> Vec<String> {
    item.content
        .as_deref()
        .unwrap_or_default()
        .split("</p>")
        .map(|part| part.trim_start_matches("<p>"))
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&")
        })
        .collect()
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What the parser produced for `key`, in the expected file's terms.
fn actual(key: &str, item: &RawItem, wire: &WireMeta) -> Option<Value> {
    let text = |value: &Option<String>| {
        value
            .as_deref()
            .map(collapse)
            .map_or(Value::Null, Value::String)
    };
    Some(match key {
        "guid" => text(&item.guid),
        "agency_version" => json!(wire.version),
        "agency_id" => text(&wire.agency_id),
        "previous_version" => json!(wire.previous_version),
        "kind" => serde_json::to_value(wire.kind).ok()?,
        "title" => text(&item.title),
        "slugline" | "slug" => text(&wire.slugline),
        "authors" => json!(item.authors),
        "dateline" => text(&wire.dateline),
        "located" => text(&wire.located),
        "language" => text(&item.language),
        "first_created" => time(item.published),
        "version_created" => time(item.updated),
        "release" => time(wire.release_at),
        "embargoed_until" => time(wire.embargoed_until),
        "urgency" => json!(wire.urgency),
        "subjects" => json!(wire.subjects),
        "genre" => text(&wire.genre),
        "credit" => text(&wire.credit),
        "copyright_holder" => text(&wire.copyright_holder),
        "copyright_notice" => text(&wire.copyright_notice),
        "copyright" => text(&wire.copyright_notice.clone().or_else(|| wire.copyright_holder.clone())),
        "usage_terms" => text(&wire.usage_terms),
        "keywords" => json!(wire.keywords),
        "summary" => text(&item.summary),
        "body" => json!(body(item)),
        "taglines" => json!(wire.taglines),
        "refs" => json!(wire.refs),
        "media" => json!(item
            .media
            .iter()
            .map(|media| json!({"href": media.url, "caption": media.caption, "credit": media.credit}))
            .collect::<Vec<_>>()),
        "selector" => text(&wire.selector),
        "message_number" => text(&wire.agency_id),
        "priority" => text(&wire.priority),
        "category" => text(&wire.category),
        "format_id" => text(&wire.format_id),
        "version" => text(&wire.take),
        "reference" => text(&wire.reference),
        "word_count" => json!(wire.word_count),
        "continues" => json!(wire.continues),
        "trailer" => json!(wire.taglines.first()),
        _ => return None,
    })
}

#[test]
fn every_agency_fixture_parses_to_its_expected_items() {
    let mut checked = 0;
    let mut problems = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(wire_dir())
        .expect("tests/wire exists")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.to_string_lossy().ends_with(".expected.json"))
            .collect();
        files.sort();
        for expected_path in files {
            let name = expected_path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .replace(".expected.json", "");
            let document = std::fs::read_dir(&dir)
                .unwrap()
                .map(|entry| entry.unwrap().path())
                .find(|path| {
                    path.file_stem()
                        .is_some_and(|stem| stem.to_string_lossy() == name)
                        && !path.to_string_lossy().ends_with(".json")
                })
                .unwrap_or_else(|| panic!("no document for {}", expected_path.display()));
            let expected: Value =
                serde_json::from_str(&std::fs::read_to_string(&expected_path).unwrap()).unwrap();
            let bytes = std::fs::read(&document).unwrap();
            let label = document
                .strip_prefix(wire_dir())
                .unwrap()
                .display()
                .to_string();
            let parsed = match parse_feed(&bytes, None, ParseLimits { max_items: 10_000 }) {
                Ok(parsed) => parsed,
                Err(err) => {
                    problems.push(format!("{label}: {err}"));
                    continue;
                }
            };
            if parsed.format.as_str() != expected["format"].as_str().unwrap_or_default() {
                problems.push(format!(
                    "{label}: format {} (want {})",
                    parsed.format, expected["format"]
                ));
            }
            if let Some(broken) = expected.get("broken_messages").and_then(Value::as_u64)
                && parsed.broken_messages as u64 != broken
            {
                problems.push(format!(
                    "{label}: {} broken messages (want {broken})",
                    parsed.broken_messages
                ));
            }
            let want_items = expected["items"].as_array().cloned().unwrap_or_default();
            if want_items.len() != parsed.items.len() {
                problems.push(format!(
                    "{label}: {} items (want {})",
                    parsed.items.len(),
                    want_items.len()
                ));
            }
            for (index, (want, got)) in want_items.iter().zip(&parsed.items).enumerate() {
                let wire = got.wire.clone().unwrap_or_default();
                for (key, want_value) in want.as_object().unwrap() {
                    let Some(got_value) = actual(key, got, &wire) else {
                        continue;
                    };
                    let want_value = match want_value {
                        Value::String(text) => Value::String(collapse(text)),
                        other => other.clone(),
                    };
                    checked += 1;
                    if got_value != want_value {
                        problems.push(format!(
                            "{label} item {index} {key}: got {got_value}, want {want_value}"
                        ));
                    }
                }
            }
        }
    }
    println!("{checked} fields checked");
    assert!(checked > 0, "no fixtures found");
    assert!(
        problems.is_empty(),
        "{} mismatches:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
