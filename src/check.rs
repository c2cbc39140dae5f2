//! `wirefeed check`: every problem in a configuration file, each with its
//! file, line and key, before a daemon is started with it.
//!
//! The file is read section by section (each `[section]` with its
//! subtables, and each `[[feeds]]` entry), so one mistake does not hide
//! the others: syntax, unknown keys and wrong types are found in every
//! section. Then the values are validated as the daemon does (URLs,
//! durations, ranges, the rule pack, secrets), the shared sections once
//! and each feed on its own; environment overrides apply as they would.
//! Files of feeds named in `[include] feeds` are checked the same way, and
//! their problems name their own file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::config::{ConfigError, FeedOrigin, FeedSection, FileConfig, parse_feed_file};

/// One problem: where and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file: the configuration, or a file of feeds it includes.
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// The dotted key (`kafka.compression`, `feeds[2].url`).
    pub key: String,
    /// What is wrong.
    pub message: String,
}

/// A top-level part of the file: a section with its subtables, or one
/// `[[feeds]]` entry.
struct Chunk<'a> {
    name: String,
    feed_index: Option<usize>,
    first_line: usize,
    text: &'a str,
}

/// A file read for the check, split into its chunks.
struct Sheet<'a> {
    path: &'a Path,
    chunks: Vec<Chunk<'a>>,
}

const SECTIONS: &[&str] = &[
    "state",
    "kafka",
    "http",
    "pipeline",
    "cleaning",
    "pages",
    "dedup",
    "health",
    "log",
    "include",
    "feed_defaults",
];

/// Checks the configuration at `path` (with `vars` as the environment)
/// and the files of feeds it includes, and returns every problem found.
pub fn check(
    path: &Path,
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<Vec<Problem>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    let main = Sheet {
        path,
        chunks: split(&text),
    };
    let mut problems = structural(&main, false);
    if !problems.is_empty() {
        return Ok(problems);
    }
    let mut config = match FileConfig::parse_with_env(&text, path, vars) {
        Ok(config) => config,
        Err(err) => {
            problems.push(from_error(&err, &[main]));
            return Ok(problems);
        }
    };

    // The included files of feeds: each read and checked on its own.
    let files = config.included_files(path).unwrap_or_else(|err| {
        problems.push(from_error(&err, std::slice::from_ref(&main)));
        Vec::new()
    });
    let mut texts: Vec<(PathBuf, String)> = Vec::with_capacity(files.len());
    for file in files {
        match std::fs::read_to_string(&file) {
            Ok(text) => texts.push((file, text)),
            Err(err) => problems.push(Problem {
                file: file.clone(),
                line: None,
                key: String::new(),
                message: format!("cannot read included file of feeds: {err}"),
            }),
        }
    }
    let mut sheets = vec![main];
    let mut origins: Vec<FeedOrigin> = (0..config.feeds.len())
        .map(|index| FeedOrigin {
            file: path.to_owned(),
            index,
        })
        .collect();
    for (file, text) in &texts {
        let sheet = Sheet {
            path: file,
            chunks: split(text),
        };
        let found = structural(&sheet, true);
        if found.is_empty() {
            match parse_feed_file(text, file) {
                Ok(feeds) => {
                    origins.extend((0..feeds.len()).map(|index| FeedOrigin {
                        file: file.clone(),
                        index,
                    }));
                    config.feeds.extend(feeds);
                }
                Err(err) => problems.push(from_error(&err, std::slice::from_ref(&sheet))),
            }
        }
        problems.extend(found);
        sheets.push(sheet);
    }
    config.feed_origins = origins;

    // Each section on defaults for the rest, so a mistake in one section
    // does not hide one in another.
    let minimal = FileConfig::parse("[kafka]\ntopic = \"wirefeed-check\"\n", path)?;
    let alone: Vec<FileConfig> = vec![
        FileConfig {
            state: config.state.clone(),
            ..minimal.clone()
        },
        FileConfig {
            kafka: config.kafka.clone(),
            ..minimal.clone()
        },
        FileConfig {
            http: config.http.clone(),
            ..minimal.clone()
        },
        FileConfig {
            pipeline: config.pipeline.clone(),
            ..minimal.clone()
        },
        FileConfig {
            cleaning: config.cleaning.clone(),
            ..minimal.clone()
        },
        FileConfig {
            pages: config.pages.clone(),
            ..minimal.clone()
        },
        FileConfig {
            dedup: config.dedup,
            ..minimal.clone()
        },
        FileConfig {
            health: config.health.clone(),
            ..minimal.clone()
        },
        FileConfig {
            log: config.log.clone(),
            ..minimal.clone()
        },
        FileConfig {
            feed_defaults: config.feed_defaults.clone(),
            ..minimal.clone()
        },
    ];
    let mut defaults_ok = true;
    let mut http_ok = true;
    for (index, section) in alone.into_iter().enumerate() {
        if let Err(err) = section.validate_and_build(path) {
            problems.push(from_error(&err, &sheets));
            http_ok &= index != 2;
            defaults_ok &= index != 9;
        }
    }
    // Each feed alone, on the file's feed defaults and HTTP settings when
    // those are valid (built-in defaults otherwise), so every bad feed is
    // reported, in the file it was written in.
    let minimal = FileConfig {
        feed_defaults: if defaults_ok {
            config.feed_defaults.clone()
        } else {
            minimal.feed_defaults.clone()
        },
        http: if http_ok {
            config.http.clone()
        } else {
            minimal.http.clone()
        },
        ..minimal
    };
    let mut ids: BTreeMap<String, FeedOrigin> = BTreeMap::new();
    for (index, feed) in config.feeds.iter().enumerate() {
        let origin = config.feed_origin(path, index);
        let key = format!("feeds[{}].id", origin.index);
        if let Some(first) = ids.get(feed.id.trim()) {
            problems.push(Problem {
                line: line_of(&sheets, &origin.file, &key),
                file: origin.file.clone(),
                key,
                message: origin.duplicate_of(&feed.id, first),
            });
        } else {
            ids.insert(feed.id.trim().to_owned(), origin.clone());
        }
        let alone = FileConfig {
            feeds: vec![feed.clone()],
            feed_origins: vec![origin],
            ..minimal.clone()
        };
        if let Err(err) = alone.validate_and_build(path) {
            let problem = from_error(&err, &sheets);
            if !problems.contains(&problem) {
                problems.push(problem);
            }
        }
    }
    problems.sort_by(|a, b| {
        (
            a.file.as_path() != path,
            &a.file,
            a.line.unwrap_or(usize::MAX),
        )
            .cmp(&(
                b.file.as_path() != path,
                &b.file,
                b.line.unwrap_or(usize::MAX),
            ))
    });
    problems.dedup();
    Ok(problems)
}

/// Splits the file into top-level chunks at `[section]` and `[[feeds]]`
/// headers; subtables (`[kafka.librdkafka]`, `[feeds.auth]`) stay with
/// their parent.
fn split(text: &str) -> Vec<Chunk<'_>> {
    let mut starts: Vec<(usize, usize, String, bool)> = Vec::new();
    let mut offset = 0;
    for (number, line) in text.split_inclusive('\n').enumerate() {
        let trimmed = line.trim();
        let header = trimmed
            .strip_prefix("[[")
            .and_then(|rest| rest.split("]]").next())
            .map(|name| (name.trim().to_owned(), true))
            .or_else(|| {
                trimmed
                    .strip_prefix('[')
                    .and_then(|rest| rest.split(']').next())
                    .map(|name| (name.trim().to_owned(), false))
            });
        if let Some((name, array)) = header {
            let top = name.split('.').next().unwrap_or_default().trim().to_owned();
            let subtable = name.contains('.');
            let continues = subtable
                && starts
                    .last()
                    .is_some_and(|(_, _, previous, _)| *previous == top);
            if !continues {
                starts.push((offset, number + 1, top, array));
            }
        }
        offset += line.len();
    }
    let mut chunks = Vec::new();
    if starts.first().is_none_or(|(start, ..)| *start > 0) {
        let end = starts.first().map_or(text.len(), |(start, ..)| *start);
        chunks.push(Chunk {
            name: String::new(),
            feed_index: None,
            first_line: 1,
            text: &text[..end],
        });
    }
    let mut feeds = 0;
    for (index, (start, line, name, array)) in starts.iter().enumerate() {
        let end = starts.get(index + 1).map_or(text.len(), |next| next.0);
        let feed_index = (*array && name == "feeds").then(|| {
            feeds += 1;
            feeds - 1
        });
        chunks.push(Chunk {
            name: name.clone(),
            feed_index,
            first_line: *line,
            text: &text[*start..end],
        });
    }
    chunks
}

/// Syntax, unknown keys and wrong types, section by section. An included
/// file of feeds (`feeds_only`) may hold nothing but `[[feeds]]` tables.
fn structural(sheet: &Sheet<'_>, feeds_only: bool) -> Vec<Problem> {
    let mut problems = Vec::new();
    for chunk in &sheet.chunks {
        let result = match chunk.name.as_str() {
            "" => parse_as::<BTreeMap<String, toml::Value>>(chunk.text).and_then(|root| match root
                .keys()
                .next()
            {
                Some(key) => Err(Located {
                    offset: chunk.text.find(key.as_str()),
                    message: format!("unknown key {key} outside any section"),
                }),
                None => Ok(()),
            }),
            "feeds" => parse_as::<BTreeMap<String, Vec<FeedSection>>>(chunk.text).map(drop),
            other if feeds_only => Err(Located {
                offset: Some(0),
                message: format!(
                    "[{other}] does not belong in an included file of feeds: \
                     it holds [[feeds]] tables only"
                ),
            }),
            "state" => section::<crate::config::StateSection>(chunk.text),
            "kafka" => section::<crate::config::KafkaSection>(chunk.text),
            "http" => section::<crate::config::HttpSection>(chunk.text),
            "pipeline" => section::<crate::config::PipelineSection>(chunk.text),
            "cleaning" => section::<crate::config::CleaningSection>(chunk.text),
            "pages" => section::<crate::config::PagesSection>(chunk.text),
            "dedup" => section::<crate::config::DedupSection>(chunk.text),
            "health" => section::<crate::config::HealthSection>(chunk.text),
            "log" => section::<crate::config::LogSection>(chunk.text),
            "include" => section::<crate::config::IncludeSection>(chunk.text),
            "feed_defaults" => section::<crate::config::FeedDefaults>(chunk.text),
            other => Err(Located {
                offset: Some(0),
                message: format!(
                    "unknown section [{other}] (known: {}, [[feeds]])",
                    SECTIONS.join(", ")
                ),
            }),
        };
        if let Err(located) = result {
            let mut key = match (chunk.feed_index, chunk.name.as_str()) {
                (Some(index), _) => format!("feeds[{index}]"),
                (None, "") => "(top level)".to_owned(),
                (None, name) => name.to_owned(),
            };
            let line_in_chunk = located
                .offset
                .map(|offset| chunk.text[..offset].matches('\n').count());
            // The key written on that line, when the line is `key = …`.
            if let Some(written) = line_in_chunk
                .and_then(|line| chunk.text.lines().nth(line))
                .and_then(|line| line.split_once('='))
                .map(|(name, _)| name.trim().trim_matches('"'))
                .filter(|name| !name.is_empty() && !name.starts_with('['))
            {
                key = format!("{key}.{written}");
            }
            problems.push(Problem {
                file: sheet.path.to_owned(),
                line: line_in_chunk.map(|line| chunk.first_line + line),
                key,
                message: located.message,
            });
        }
    }
    problems
}

struct Located {
    offset: Option<usize>,
    message: String,
}

fn parse_as<T: DeserializeOwned>(text: &str) -> Result<T, Located> {
    toml::from_str(text).map_err(|err: toml::de::Error| Located {
        offset: err.span().map(|span| span.start),
        message: err.message().trim().to_owned(),
    })
}

fn section<T: DeserializeOwned>(text: &str) -> Result<(), Located> {
    parse_as::<BTreeMap<String, T>>(text).map(drop)
}

/// A problem from a validation error, placed in its file on the line of
/// its key.
fn from_error(err: &ConfigError, sheets: &[Sheet<'_>]) -> Problem {
    let main = sheets.first().map_or(Path::new(""), |sheet| sheet.path);
    match err {
        ConfigError::Invalid { path, key, message } => Problem {
            file: path.clone(),
            line: line_of(sheets, path, key),
            key: key.clone(),
            message: message.clone(),
        },
        ConfigError::Read { path, source } => Problem {
            file: main.to_owned(),
            line: line_of(sheets, main, "cleaning.rules"),
            key: "cleaning.rules".to_owned(),
            message: format!("cannot read rule pack {}: {source}", path.display()),
        },
        ConfigError::Rules { source } => Problem {
            file: main.to_owned(),
            line: line_of(sheets, main, "cleaning.rules"),
            key: "cleaning.rules".to_owned(),
            message: source.to_string(),
        },
        ConfigError::Parse { path, message } => Problem {
            file: path.clone(),
            line: None,
            key: String::new(),
            message: message.clone(),
        },
    }
}

/// The line a dotted key is written on in `file` (`kafka.compression`,
/// `feeds[2].url`, `pages.allow_addresses[0]`), else its section's header.
fn line_of(sheets: &[Sheet<'_>], file: &Path, key: &str) -> Option<usize> {
    let chunks = &sheets.iter().find(|sheet| sheet.path == file)?.chunks;
    let (section, feed, rest) = match key.strip_prefix("feeds[") {
        Some(after) => {
            let (index, rest) = after.split_once("].")?;
            ("feeds", index.parse::<usize>().ok(), rest)
        }
        None => {
            let (section, rest) = key.split_once('.')?;
            (section, None, rest)
        }
    };
    let chunk = chunks
        .iter()
        .find(|chunk| chunk.name == section && (feed.is_none() || chunk.feed_index == feed))?;
    let field = rest.split(['.', '[']).next().unwrap_or(rest);
    let found = chunk.text.lines().position(|line| {
        let line = line.trim_start();
        line.strip_prefix(field)
            .is_some_and(|after| after.trim_start().starts_with('='))
    });
    Some(chunk.first_line + found.unwrap_or(0))
}
