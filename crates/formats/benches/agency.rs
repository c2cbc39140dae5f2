//! Documents per second for each agency reader, one core: every fixture of
//! a format (`tests/wire/<format>/`) parsed per iteration, from bytes to
//! raw items (detection, charset, XML or stream framing, fields, body).

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use wirefeed_formats::{ParseLimits, parse_feed};

fn documents(folder: &str, extensions: &[&str]) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/wire")
        .join(folder);
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixture folder is readable")
        .map(|entry| entry.expect("fixture entry is readable").path())
        .filter(|path| {
            path.extension()
                .is_some_and(|ext| extensions.iter().any(|wanted| ext == *wanted))
        })
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| std::fs::read(path).expect("fixture is readable"))
        .collect()
}

fn bench(c: &mut Criterion) {
    let sets = [
        ("newsml-g2", "newsml-g2", &["xml"][..]),
        ("newsml-1.2", "newsml-1.2", &["xml"][..]),
        ("nitf", "nitf", &["xml"][..]),
        ("anpa-1312", "anpa", &["anpa"][..]),
        ("iptc-7901", "anpa", &["7901"][..]),
    ];
    let limits = ParseLimits { max_items: 10_000 };
    let mut group = c.benchmark_group("agency documents");
    for (name, folder, extensions) in sets {
        let docs = documents(folder, extensions);
        let bytes: usize = docs.iter().map(Vec::len).sum();
        let items: usize = docs
            .iter()
            .map(|doc| parse_feed(doc, None, limits).map_or(0, |parsed| parsed.items.len()))
            .sum();
        eprintln!(
            "{name}: {} documents, {items} items, {bytes} bytes ({} bytes on average)",
            docs.len(),
            bytes / docs.len().max(1)
        );
        group.throughput(Throughput::Elements(docs.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                for doc in &docs {
                    let parsed = parse_feed(black_box(doc), None, limits);
                    black_box(parsed.map(|parsed| parsed.items.len()).unwrap_or(0));
                }
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
