//! The NewsMlG2 reader on arbitrary bytes, then every item through
//! normalization and enrichment, as the daemon does with an agency file.

#![no_main]

use libfuzzer_sys::fuzz_target;
use wirefeed_model::FeedFormat;

mod agency;

fuzz_target!(|bytes: &[u8]| {
    agency::check(FeedFormat::NewsMlG2, bytes);
});
