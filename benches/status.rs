//! The status page and poll bookkeeping at the scale of a large
//! deployment: 5,000 feeds, a tenth of them failing.
//!
//! `render_5000_feeds` is what one request for `/` costs the daemon (the
//! page is rendered on every request); `record_poll` is the bookkeeping
//! each poll adds (a row update and the feed health gauges, kept
//! incrementally). Criterion
//! reports time per call; the page size is printed once.

use std::hint::black_box;

use chrono::Utc;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use wirefeed::RunSummary;
use wirefeed::health::Health;
use wirefeed::status::{Outcome, StatusBoard};

const FEEDS: usize = 5_000;

fn board() -> StatusBoard {
    let board = StatusBoard::new(5);
    let now = Utc::now().timestamp();
    for n in 0..FEEDS {
        let id = format!("provider-{}-feed-{n}", n % 40);
        board.register(
            &id,
            &format!("https://wire{}.example.com/feeds/{n}/world.rss", n % 40),
            &format!("Provider {}", n % 40),
            false,
            300,
            Some(now - 120),
            Some(now + 180),
            0,
        );
        let outcome = if n % 10 == 0 {
            Outcome::Failed {
                stage: "fetch",
                error: format!(
                    "failed to fetch feed {id} (https://wire.example.com/feeds/{n}): HTTP 503 Service Unavailable"
                ),
            }
        } else if n % 3 == 0 {
            Outcome::NotModified
        } else {
            Outcome::Fetched {
                items: 40,
                published: 3,
                unchanged: 37,
                rejected: 0,
                failed: 0,
            }
        };
        let streak = if n % 10 == 0 {
            u32::try_from(n % 7).unwrap_or(1) + 1
        } else {
            0
        };
        board.polled(&id, outcome, streak, Some(now + 300));
    }
    board.sample(RunSummary {
        items: 120_000,
        published: 9_000,
        ..RunSummary::default()
    });
    board
}

fn bench(c: &mut Criterion) {
    let board = board();
    let health = Health::default();
    health.set_state_open(true);
    health.set_kafka_up(true);
    let page = board.render(&health);
    println!(
        "status page for {FEEDS} feeds: {} bytes ({} per feed)",
        page.len(),
        page.len() / FEEDS
    );
    let mut group = c.benchmark_group("status");
    group.throughput(Throughput::Elements(FEEDS as u64));
    group.bench_function("render_5000_feeds", |b| {
        b.iter(|| black_box(board.render(black_box(&health))));
    });
    group.finish();
    let mut group = c.benchmark_group("status");
    group.throughput(Throughput::Elements(1));
    let mut n = 0usize;
    group.bench_function("record_poll", |b| {
        b.iter(|| {
            n = (n + 1) % FEEDS;
            board.polled(
                black_box(&format!("provider-{}-feed-{n}", n % 40)),
                Outcome::NotModified,
                0,
                Some(0),
            );
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
