//! Page extraction and enrichment throughput, one core.
//!
//! - `main text`: every fixture page (`tests/pages/*.html`, saved pages
//!   with their full site furniture) through [`extract_page`]: parse,
//!   metadata, main text. Reported per page and in bytes.
//! - `entities + quotes`: the labelled corpus articles (`tests/corpus/`)
//!   through the entity tagger and the quote extractor.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use wirefeed_extract::eval::parse_article;
use wirefeed_extract::{extract_entities, extract_page, extract_quotes};

fn files(dir: &Path, extension: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("fixture folder is readable") {
        let path = entry.expect("fixture entry is readable").path();
        if path.is_dir() {
            files(&path, extension, out);
        } else if path.extension().is_some_and(|ext| ext == extension) {
            out.push(path);
        }
    }
}

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    files(&root.join("tests/pages"), "html", &mut paths);
    paths.sort();
    let pages: Vec<String> = paths
        .iter()
        .map(|path| std::fs::read_to_string(path).expect("page is UTF-8"))
        .collect();
    let bytes: usize = pages.iter().map(String::len).sum();
    eprintln!(
        "pages: {} pages, {} bytes, {} bytes on average",
        pages.len(),
        bytes,
        bytes / pages.len().max(1)
    );
    let mut group = c.benchmark_group("page");
    group.throughput(Throughput::Elements(pages.len() as u64));
    group.bench_function("main text (all fixture pages)", |b| {
        b.iter(|| {
            for page in &pages {
                black_box(extract_page(black_box(page), None).ok());
            }
        });
    });
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("main text (bytes)", |b| {
        b.iter(|| {
            for page in &pages {
                black_box(extract_page(black_box(page), None).ok());
            }
        });
    });
    group.finish();

    let mut corpus = Vec::new();
    files(&root.join("tests/corpus"), "txt", &mut corpus);
    let articles: Vec<Vec<String>> = corpus
        .iter()
        .map(|file| {
            let text = std::fs::read_to_string(file).expect("corpus file is readable");
            parse_article(&text, &file.display().to_string())
                .expect("corpus file parses")
                .paragraphs
        })
        .collect();
    let mut group = c.benchmark_group("enrich");
    group.throughput(Throughput::Elements(articles.len() as u64));
    group.bench_function("entities + quotes (corpus articles)", |b| {
        b.iter(|| {
            for paragraphs in &articles {
                black_box(extract_entities(black_box(paragraphs)));
                black_box(extract_quotes(black_box(paragraphs)));
            }
        });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
