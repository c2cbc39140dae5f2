//! The one-article path (`wirefeed clean`): an HTML page or plain text
//! split into paragraphs and cleaned with the built-in rule pack.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use wirefeed_extract::{CleanHints, Cleaner};

static CLEANER: LazyLock<Cleaner> = LazyLock::new(Cleaner::builtin);

fuzz_target!(|bytes: &[u8]| {
    let text = String::from_utf8_lossy(bytes);
    let paragraphs = if wirefeed_normalize::looks_like_html(&text) {
        match wirefeed_extract::extract_page(&text, None) {
            Ok(page) => page.paragraphs,
            Err(_) => return,
        }
    } else {
        wirefeed_normalize::text_to_paragraphs(&text)
    };
    let cleaned = CLEANER.clean_with(&paragraphs, CleanHints { year: Some(2024) });
    // Nothing is lost: every input paragraph is kept, cut, or cut in part.
    assert!(cleaned.paragraphs.len() + cleaned.removed.len() >= paragraphs.len());
    assert!(cleaned.paragraphs.len() <= paragraphs.len());
    assert!(
        cleaned
            .removed
            .iter()
            .all(|removed| !removed.text.is_empty())
    );
});
