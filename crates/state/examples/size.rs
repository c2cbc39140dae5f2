//! How big the state store grows: commits N stories (default 1,000,000)
//! the way the daemon does (delivery batches of 500, each with its URL
//! alias, SimHash bands and time index), then expires the older half as a
//! retention sweep would, and reports file size, bytes per story and time.
//!
//! ```sh
//! cargo run --release -p wirefeed-state --example size -- 1000000
//! ```

use std::time::Instant;

use wirefeed_model::StoryId;
use wirefeed_state::{Published, StateStore, StoryState};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let stories: u64 = std::env::args()
        .nth(1)
        .map(|arg| arg.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("state.redb");
    let mut store = StateStore::open(&path)?;
    let start = Instant::now();
    let batch = 500;
    let day = 86_400;
    let first_day = 1_760_000_000;
    let mut n = 0u64;
    while n < stories {
        let receipts: Vec<Published> = (n..(n + batch).min(stories))
            .map(|i| {
                let mixed = splitmix(i);
                // A day's worth of stories per 10,000, so expiry has an order.
                let at = first_day + i64::try_from(i / 10_000).unwrap_or(0) * day;
                let mut state =
                    StoryState::new(1, format!("{:032x}{:032x}", mixed, splitmix(mixed)), at);
                state.simhash = Some(splitmix(mixed ^ 0x5555));
                state.url_hash = Some(wirefeed_state::url_hash(&format!(
                    "https://www.outlet{}.example/world/2026/11/{:02}/story-headline-words-{i}",
                    i % 500,
                    i % 28 + 1
                )));
                state.title_hash = Some(splitmix(i ^ 0xaaaa));
                Published {
                    id: StoryId::from_stored(format!(
                        "{:032x}",
                        u128::from(mixed) << 64 | u128::from(i)
                    )),
                    state,
                }
            })
            .collect();
        store.commit_published(&receipts)?;
        n += batch;
    }
    let elapsed = start.elapsed();
    let size = store.file_size();
    println!(
        "{stories} stories committed in {:.1} s ({:.0} stories/s): file {:.1} MiB, {:.0} bytes per story",
        elapsed.as_secs_f64(),
        stories as f64 / elapsed.as_secs_f64(),
        size as f64 / 1_048_576.0,
        size as f64 / stories as f64
    );
    store.compact()?;
    let compacted = store.file_size();
    println!(
        "compacted: {:.1} MiB, {:.0} bytes per story",
        compacted as f64 / 1_048_576.0,
        compacted as f64 / stories as f64
    );
    let days = i64::try_from(stories / 10_000 / 2).unwrap_or(0);
    let start = Instant::now();
    let mut expired = 0;
    loop {
        let swept = store.expire(first_day + days * day, 10_000)?;
        expired += swept.stories;
        if swept.stories < 10_000 {
            break;
        }
    }
    store.compact()?;
    println!(
        "expired the older {expired} in {:.1} s: {} stories left, file {:.1} MiB after compaction",
        start.elapsed().as_secs_f64(),
        store.story_count()?,
        store.file_size() as f64 / 1_048_576.0
    );
    Ok(())
}

fn splitmix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
