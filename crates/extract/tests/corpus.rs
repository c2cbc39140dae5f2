//! The cleaner against the labelled corpus (see `corpus/README.md`): the
//! bar is removal precision ≥ 0.99, recall ≥ 0.97, and every article without
//! boilerplate left exactly as it was.

use std::path::{Path, PathBuf};

use wirefeed_extract::Cleaner;
use wirefeed_extract::eval::{CorpusArticle, parse_article, score};

fn load(dir: &Path) -> Vec<CorpusArticle> {
    fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, files);
            } else if path.extension().is_some_and(|ext| ext == "txt") {
                files.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, &mut files);
    files.sort();
    files
        .iter()
        .map(|file| {
            let name = file.strip_prefix(dir).unwrap().display().to_string();
            parse_article(&std::fs::read_to_string(file).unwrap(), &name).unwrap()
        })
        .collect()
}

#[test]
fn corpus_meets_the_bar() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let articles = load(&dir);
    assert!(
        articles.len() >= 80,
        "the corpus has {} articles",
        articles.len()
    );
    let report = score(&articles, &Cleaner::builtin());
    let table = report.render(true);
    assert!(report.services >= 12, "{table}");
    assert!(report.clean_articles >= 20, "{table}");
    assert!(
        report.overall.precision() >= 0.99,
        "precision below 0.99:\n{table}"
    );
    assert!(
        report.overall.recall() >= 0.97,
        "recall below 0.97:\n{table}"
    );
    assert_eq!(
        report.clean_articles_intact, report.clean_articles,
        "{table}"
    );
}

/// Articles from outlets the rules were not written against (see
/// `holdout/`): a check that the rules generalise, with a lower recall bar
/// than the development corpus but the same insistence on precision.
#[test]
fn holdout_keeps_precision() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/holdout");
    let articles = load(&dir);
    assert!(
        articles.len() >= 30,
        "the holdout set has {} articles",
        articles.len()
    );
    let report = score(&articles, &Cleaner::builtin());
    let table = report.render(true);
    assert!(
        report.overall.precision() >= 0.99,
        "precision below 0.99:\n{table}"
    );
    assert!(
        report.overall.recall() >= 0.90,
        "recall below 0.90:\n{table}"
    );
    assert_eq!(
        report.clean_articles_intact, report.clean_articles,
        "{table}"
    );
}
