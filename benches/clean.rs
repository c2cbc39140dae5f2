//! Normalize + clean throughput on the CNN wire fixture article.
//!
//! `normalize_and_clean` is the per-item work of the daemon's workers (HTML
//! `content:encoded` → paragraphs → cleaning → record with hashes);
//! `clean_only` is the cleaner alone on already-split paragraphs. Criterion
//! reports time per article; throughput is shown in articles/second.

use std::hint::black_box;

use chrono::Utc;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use wirefeed::process::{DocumentContext, item_to_record};
use wirefeed_model::{ArticleSource, FeedFormat, FeedId, FeedMeta, RawItem};

fn fixture() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crates/extract/tests/fixtures/cnn-wire-putin-nato.txt"
    );
    std::fs::read_to_string(path).expect("fixture is in the repository")
}

fn bench(c: &mut Criterion) {
    let text = fixture();
    let mut lines = text.lines().map(str::trim).filter(|line| !line.is_empty());
    let title = lines.next().expect("fixture has a title").to_owned();
    let paragraphs: Vec<String> = lines.map(str::to_owned).collect();
    let html: String = paragraphs
        .iter()
        .map(|paragraph| format!("<p>{paragraph}</p>\n"))
        .collect();
    let item = RawItem {
        guid: Some("cnn-wire-2024-09-13-putin-nato".to_owned()),
        url: Some("https://wire.example.com/cnn/2024/09/13/putin-nato.html".to_owned()),
        title: Some(title),
        summary: Some("Putin warns NATO over long-range missile restrictions.".to_owned()),
        content: Some(html.clone()),
        authors: vec!["Lex Harvey".to_owned()],
        ..RawItem::default()
    };
    let ctx = DocumentContext {
        source: ArticleSource {
            feed_id: FeedId::new("cnn-wire"),
            feed_url: "https://wire.example.com/cnn/feed.rss".to_owned(),
            provider: "CNN Wire".to_owned(),
            format: FeedFormat::Rss,
        },
        meta: FeedMeta {
            language: Some("en-us".to_owned()),
            ..FeedMeta::default()
        },
        default_language: None,
        fetched_at: Utc::now(),
        cleaner: std::sync::Arc::new(wirefeed_extract::Cleaner::builtin()),
        fulltext: wirefeed::config::FullText::Never,
        teaser_max_chars: 0,
    };

    let mut group = c.benchmark_group("cnn_fixture");
    group.throughput(Throughput::Elements(1));
    group.bench_function("normalize_and_clean", |b| {
        b.iter(|| item_to_record(black_box(item.clone()), black_box(&ctx)))
    });
    group.bench_function("clean_only", |b| {
        b.iter(|| ctx.cleaner.clean(black_box(&paragraphs)))
    });
    group.bench_function("html_to_paragraphs", |b| {
        b.iter(|| wirefeed_normalize::html_to_paragraphs(black_box(&html)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
