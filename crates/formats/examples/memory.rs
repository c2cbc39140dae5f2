//! Peak memory of the agency readers on documents at the body-size limit
//! (8 MiB): a NewsML-G2 newsMessage of many items and a long ANPA-1312
//! stream, built from the fixtures by repetition. Reports the document
//! size, the items read, the time, and the growth of the process's peak
//! resident set (VmHWM) while parsing.
//!
//! ```sh
//! cargo run --release -p wirefeed-formats --example memory
//! ```

use std::path::Path;
use std::time::Instant;

use wirefeed_formats::{ParseLimits, parse_feed};

const LIMIT: usize = 8 * 1024 * 1024;

fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn fixture(path: &str) -> Vec<u8> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/wire");
    std::fs::read(root.join(path)).unwrap_or_else(|err| panic!("{path}: {err}"))
}

fn measure(name: &str, document: &[u8]) {
    let before = peak_kib();
    let started = Instant::now();
    let parsed = parse_feed(document, None, ParseLimits { max_items: 100_000 });
    let elapsed = started.elapsed();
    let items = parsed.as_ref().map_or(0, |parsed| parsed.items.len());
    let after = peak_kib();
    println!(
        "{name}: {:.1} MiB, {items} items in {:.0} ms, peak resident set grew {:.1} MiB ({:.1}x the document)",
        document.len() as f64 / 1_048_576.0,
        elapsed.as_secs_f64() * 1000.0,
        after.saturating_sub(before) as f64 / 1024.0,
        after.saturating_sub(before) as f64 * 1024.0 / document.len() as f64
    );
    drop(parsed);
}

fn main() {
    // Each measurement in a process of its own: the peak only grows.
    let Some(which) = std::env::args().nth(1) else {
        let me = std::env::current_exe().expect("own path");
        for which in ["anpa", "g2"] {
            let status = std::process::Command::new(&me)
                .arg(which)
                .status()
                .expect("run a measurement");
            assert!(status.success());
        }
        return;
    };
    if which == "anpa" {
        // An ANPA stream: the 50-story fixture repeated up to the limit.
        let stream = fixture("anpa/07-bulk-50.anpa");
        let mut long = Vec::with_capacity(LIMIT);
        while long.len() + stream.len() < LIMIT {
            long.extend_from_slice(&stream);
        }
        measure("anpa-1312 stream", &long);
        return;
    }

    // A newsMessage: the 40-item fixture's items repeated up to the limit.
    let message = String::from_utf8(fixture("newsml-g2/10-newsmessage-40-items.xml"))
        .expect("fixture is UTF-8");
    let open = message.find("<itemSet>").expect("itemSet") + "<itemSet>".len();
    let close = message.rfind("</itemSet>").expect("itemSet end");
    let (head, items, tail) = (&message[..open], &message[open..close], &message[close..]);
    let mut big = String::from(head);
    while big.len() + items.len() + tail.len() < LIMIT {
        big.push_str(items);
    }
    big.push_str(tail);
    measure("newsml-g2 message", big.as_bytes());
}
