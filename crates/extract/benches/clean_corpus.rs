//! Cleaner throughput on the labelled corpus (`tests/corpus/`): every
//! article cleaned with the built-in rule pack. Criterion reports the time
//! per pass over the corpus and articles/second (one core: the cleaner is
//! single-threaded per article).

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use wirefeed_extract::Cleaner;
use wirefeed_extract::eval::parse_article;

fn corpus_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("corpus folder is readable") {
        let path = entry.expect("corpus entry is readable").path();
        if path.is_dir() {
            corpus_files(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "txt") {
            files.push(path);
        }
    }
}

fn bench(c: &mut Criterion) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files = Vec::new();
    corpus_files(&dir, &mut files);
    let articles: Vec<Vec<String>> = files
        .iter()
        .map(|file| {
            let text = std::fs::read_to_string(file).expect("corpus file is readable");
            parse_article(&text, &file.display().to_string())
                .expect("corpus file parses")
                .paragraphs
        })
        .collect();
    let bytes: usize = articles.iter().flatten().map(String::len).sum();
    eprintln!(
        "corpus: {} articles, {} bytes of body text",
        articles.len(),
        bytes
    );
    let cleaner = Cleaner::builtin();

    let mut group = c.benchmark_group("cleaner");
    group.throughput(Throughput::Elements(articles.len() as u64));
    group.bench_function("corpus", |b| {
        b.iter(|| {
            for paragraphs in &articles {
                black_box(cleaner.clean(black_box(paragraphs)));
            }
        })
    });
    group.finish();

    c.bench_function("cleaner/build_builtin_pack", |b| b.iter(Cleaner::builtin));
}

criterion_group!(benches, bench);
criterion_main!(benches);
