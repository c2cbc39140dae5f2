//! The `wirefeed` command line: the daemon (`run`) and the one-shot tools
//! (`fetch`, `clean`, `tail`).

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;
use wirefeed::config::{ConfigError, FileConfig, HttpSection, LogFormat, LogSection};
use wirefeed::process::{DocumentContext, document_to_record, item_to_record};
use wirefeed::{RunMode, Settings};
use wirefeed_extract::Cleaner;
use wirefeed_kafka::{StartAt, TopicReader};
use wirefeed_model::{ArticleSource, FeedId};
use wirefeed_sources::{FetchOutcome, Fetcher, Validators};

/// Polls news wire feeds, cleans and enriches every article, and publishes
/// JSON records to Kafka.
#[derive(Debug, Parser)]
#[command(name = "wirefeed", version)]
struct Cli {
    /// Log format: human-readable on a terminal, JSON otherwise, unless set
    /// here or in the configuration's [log] format.
    #[arg(long, value_enum, global = true)]
    log_format: Option<LogFormat>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the daemon: polls every configured feed and publishes to Kafka.
    Run {
        /// The configuration file.
        #[arg(long, short, default_value = "config/wirefeed.toml")]
        config: PathBuf,
        /// Polls every feed once, waits for every delivery report, exits:
        /// 0 all delivered, 2 some feeds or items failed, 3 records not delivered.
        #[arg(long)]
        once: bool,
    },
    /// Fetches one feed (URL or file) and prints its records as JSON lines;
    /// needs no Kafka.
    Fetch {
        /// An http(s):// or file:// URL, or a path.
        target: String,
        /// Provider name used in records and story ids (default: the feed title).
        #[arg(long)]
        provider: Option<String>,
        /// Takes HTTP settings (user agent, timeouts, limits) and the
        /// cleaning rule pack from this config.
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Cleaning rule pack (default: the config's, else the built-in one).
        #[arg(long)]
        rules: Option<PathBuf>,
    },
    /// Cleans single articles (plain text, title on the first line, or an
    /// HTML page) and prints one record per input as JSON.
    Clean {
        /// Files to clean; `-` reads stdin.
        #[arg(required = true)]
        files: Vec<String>,
        /// Provider name used in records and story ids.
        #[arg(long, default_value = "unknown")]
        provider: String,
        /// Pretty-prints the JSON.
        #[arg(long)]
        pretty: bool,
        /// Cleaning rule pack (default: the built-in one).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Writes one record per input as DIR/<input file stem>.json
        /// instead of printing them; inputs are cleaned in parallel.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Scores the cleaner on a labelled corpus (see
    /// crates/extract/tests/corpus/README.md): precision and recall of cut
    /// lines by kind, and body paragraphs kept verbatim.
    EvalClean {
        /// The corpus folder (searched recursively for *.txt).
        dir: PathBuf,
        /// Cleaning rule pack (default: the built-in one).
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Lists every mistake.
        #[arg(long)]
        mistakes: bool,
        /// Exits 1 when overall precision is below this.
        #[arg(long)]
        min_precision: Option<f64>,
        /// Exits 1 when overall recall is below this.
        #[arg(long)]
        min_recall: Option<f64>,
    },
    /// Checks a configuration file and prints every problem with its file,
    /// line and key; exits 1 when there is any.
    Check {
        /// The configuration file.
        #[arg(long, short, default_value = "config/wirefeed.toml")]
        config: PathBuf,
    },
    /// Follows a record topic and prints its records as JSON lines (or
    /// pretty), optionally filtered.
    Tail {
        /// The topic.
        #[arg(long)]
        topic: String,
        /// Kafka bootstrap servers.
        #[arg(long, default_value = "127.0.0.1:9092")]
        brokers: String,
        /// Starts at the oldest record instead of new ones only.
        #[arg(long, conflicts_with_all = ["from_offset", "from_time"])]
        from_beginning: bool,
        /// Starts at this offset in every partition.
        #[arg(long, conflicts_with_all = ["from_time", "group"])]
        from_offset: Option<i64>,
        /// Starts at the first record at or after this time (RFC 3339, e.g.
        /// 2026-11-25T06:00:00Z) in every partition.
        #[arg(long, conflicts_with = "group")]
        from_time: Option<String>,
        /// Reads as this consumer group and commits what it printed, so the
        /// next `tail --group` of the same name resumes after it.
        #[arg(long)]
        group: Option<String>,
        /// Prints only records of this provider (as in source.provider).
        #[arg(long)]
        provider: Option<String>,
        /// Prints only records in this language (ISO 639-1).
        #[arg(long)]
        language: Option<String>,
        /// Prints only records with this keyword (in keywords, title or
        /// entity names; case-insensitive).
        #[arg(long)]
        keyword: Option<String>,
        /// Pretty-prints each record instead of one JSON line.
        #[arg(long)]
        pretty: bool,
        /// Exits after printing this many records.
        #[arg(long)]
        max_records: Option<u64>,
        /// Exits when no record arrives for this many seconds.
        #[arg(long)]
        idle_exit_secs: Option<u64>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The daemon's configuration is read once, here: its [log] section
    // sets up logging (a flag or RUST_LOG wins), and `run` builds its
    // settings from it, reporting a configuration that cannot be read.
    let loaded = match &cli.command {
        Command::Run { config, .. } => Some(FileConfig::load(config)),
        _ => None,
    };
    let log = loaded
        .as_ref()
        .and_then(|file| file.as_ref().ok())
        .map(|file| &file.log);
    init_logging(cli.log_format, log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("wirefeed: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli.command, loaded)) {
        Ok(code) => code,
        // A closed stdout (`wirefeed fetch … | head`) is the reader's choice,
        // not a failure.
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("wirefeed: {}", one_line(&err));
            ExitCode::FAILURE
        }
    }
}

/// Returns the error and its causes on one line, skipping a cause whose
/// text its parent already quotes (library errors name their cause).
fn one_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
    }
    line
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        let io_kind = cause
            .downcast_ref::<std::io::Error>()
            .map(std::io::Error::kind)
            .or_else(|| {
                cause
                    .downcast_ref::<serde_json::Error>()
                    .and_then(|err| err.io_error_kind())
            });
        io_kind == Some(std::io::ErrorKind::BrokenPipe)
    })
}

fn init_logging(flag: Option<LogFormat>, config: Option<&LogSection>) {
    let level = config.map_or("info", |log| log.level.as_str());
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let format = flag.or(config.map(|log| log.format)).unwrap_or_default();
    let json = match format {
        LogFormat::Auto => !std::io::stderr().is_terminal(),
        LogFormat::Json => true,
        LogFormat::Pretty => false,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        // Each line carries the fields of the spans it was logged in (the
        // feed being polled, the article being processed) under "span".
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init();
    } else {
        builder.init();
    }
}

async fn dispatch(
    command: Command,
    loaded: Option<Result<FileConfig, ConfigError>>,
) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run { config, once } => {
            let file = match loaded {
                Some(loaded) => loaded?,
                None => FileConfig::load(&config)?,
            };
            run(file.validate_and_build(&config)?, config, once).await
        }
        Command::Fetch {
            target,
            provider,
            config,
            rules,
        } => fetch(&target, provider, config, rules).await,
        Command::Clean {
            files,
            provider,
            pretty,
            rules,
            out,
        } => clean(
            &files,
            &provider,
            pretty,
            out.as_deref(),
            &cleaner(rules.as_deref())?,
        ),
        Command::EvalClean {
            dir,
            rules,
            mistakes,
            min_precision,
            min_recall,
        } => eval_clean(
            &dir,
            &cleaner(rules.as_deref())?,
            mistakes,
            min_precision,
            min_recall,
        ),
        Command::Check { config } => check(&config),
        Command::Tail {
            topic,
            brokers,
            from_beginning,
            from_offset,
            from_time,
            group,
            provider,
            language,
            keyword,
            pretty,
            max_records,
            idle_exit_secs,
        } => {
            let start = match (from_beginning, from_offset, from_time) {
                (_, Some(offset), _) => StartAt::Offset(offset),
                (_, None, Some(time)) => StartAt::Time(
                    chrono::DateTime::parse_from_rfc3339(&time)
                        .with_context(|| format!("--from-time {time} is not an RFC 3339 time"))?
                        .timestamp_millis(),
                ),
                (true, None, None) => StartAt::Beginning,
                (false, None, None) => StartAt::End,
            };
            let filter = TailFilter {
                provider,
                language,
                keyword: keyword.map(|keyword| keyword.to_lowercase()),
            };
            tail(
                &topic,
                &brokers,
                start,
                group.as_deref(),
                &filter,
                pretty,
                max_records,
                idle_exit_secs,
            )
            .await
        }
    }
}

async fn run(settings: Settings, config: PathBuf, once: bool) -> anyhow::Result<ExitCode> {
    wirefeed::health::install_metrics();
    let shutdown = CancellationToken::new();
    wirefeed::shutdown::watch_signals(shutdown.clone())
        .context("cannot install signal handlers")?;
    let mode = if once { RunMode::Once } else { RunMode::Daemon };
    let reload = match mode {
        RunMode::Daemon => Some(
            wirefeed::shutdown::watch_reload(config.clone())
                .context("cannot install the SIGHUP handler")?,
        ),
        RunMode::Once => None,
    };
    let summary = wirefeed::run(settings, mode, shutdown, reload).await?;
    Ok(ExitCode::from(summary.exit_code(mode)))
}

/// The cleaner of `--rules`, or the built-in one.
fn cleaner(rules: Option<&Path>) -> anyhow::Result<Cleaner> {
    Ok(match rules {
        Some(path) => wirefeed::config::load_rules(path)?,
        None => Cleaner::builtin(),
    })
}

async fn fetch(
    target: &str,
    provider: Option<String>,
    config: Option<PathBuf>,
    rules: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let (http, config_cleaner) = match &config {
        Some(path) => {
            let file = FileConfig::load(path)?;
            let base_dir = path.parent().unwrap_or(Path::new("."));
            let config_cleaner = file.cleaning.load(base_dir)?;
            (file.http, Some(config_cleaner))
        }
        None => (HttpSection::default(), None),
    };
    let cleaner = match (rules, config_cleaner) {
        (Some(path), _) => wirefeed::config::load_rules(&path)?,
        (None, Some(config_cleaner)) => config_cleaner,
        (None, None) => Cleaner::builtin(),
    };
    let base_dir = std::env::current_dir().context("cannot read the current directory")?;
    let url = wirefeed::config::feed_url(target, &base_dir)
        .map_err(|message| anyhow::anyhow!("invalid feed {target}: {message}"))?;
    let fetcher = Fetcher::new(http.to_http_config())?;
    let feed_id = FeedId::new("fetch");
    let fetched_at = chrono::Utc::now();
    let document = match fetcher
        .fetch(&feed_id, &url, &Validators::default())
        .await?
    {
        FetchOutcome::Fetched(document) => document,
        FetchOutcome::NotModified { .. } => {
            bail!("{url}: server answered 304 to an unconditional request")
        }
    };
    let parsed = wirefeed_formats::parse_feed(
        &document.bytes,
        Some(document.final_url.as_str()),
        wirefeed_formats::ParseLimits::default(),
    )
    .with_context(|| format!("cannot parse feed {url}"))?;
    let provider = provider
        .or_else(|| parsed.meta.title.clone())
        .or_else(|| url.host_str().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned());
    let ctx = DocumentContext {
        source: ArticleSource {
            feed_id,
            feed_url: url.to_string(),
            provider,
            format: parsed.format,
        },
        meta: parsed.meta,
        default_language: None,
        fetched_at,
        cleaner: Arc::new(cleaner),
        fulltext: wirefeed::config::FullText::Never,
        teaser_max_chars: 0,
    };
    let mut stdout = std::io::stdout().lock();
    let mut rejected = 0;
    for (index, raw) in parsed.items.into_iter().enumerate() {
        match item_to_record(raw, &ctx) {
            Ok(record) => {
                serde_json::to_writer(&mut stdout, &record)?;
                writeln!(stdout)?;
            }
            Err(err) => {
                rejected += 1;
                tracing::warn!(item = index, error = %err, "item rejected");
            }
        }
    }
    stdout.flush()?;
    Ok(if rejected > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Cleans every input on all cores; a bad input is reported with its name
/// and the others go on (exit 1 when any failed).
fn clean(
    files: &[String],
    provider: &str,
    pretty: bool,
    out: Option<&Path>,
    cleaner: &Cleaner,
) -> anyhow::Result<ExitCode> {
    if let Some(dir) = out {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let clean_one = |name: &String| -> anyhow::Result<wirefeed_model::Record> {
        let input = if name == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read stdin")?;
            text
        } else {
            let bytes = std::fs::read(name).with_context(|| format!("cannot read {name}"))?;
            String::from_utf8_lossy(&bytes).into_owned()
        };
        document_to_record(&input, name, provider, cleaner)
            .with_context(|| format!("cannot clean {name}"))
    };
    let to_json = |record: &wirefeed_model::Record| {
        if pretty {
            serde_json::to_vec_pretty(record)
        } else {
            serde_json::to_vec(record)
        }
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(files.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<anyhow::Result<Vec<u8>>>>> =
        files.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(name) = files.get(index) else {
                        return;
                    };
                    let result = clean_one(name).and_then(|record| {
                        let json = to_json(&record)?;
                        if let Some(dir) = out {
                            let stem = Path::new(name)
                                .file_stem()
                                .map_or_else(|| "stdin".into(), |stem| stem.to_string_lossy());
                            let path = dir.join(format!("{stem}.json"));
                            std::fs::write(&path, &json)
                                .with_context(|| format!("cannot write {}", path.display()))?;
                            return Ok(Vec::new());
                        }
                        Ok(json)
                    });
                    if let Ok(mut slot) = results[index].lock() {
                        *slot = Some(result);
                    }
                }
            });
        }
    });
    let mut stdout = std::io::stdout().lock();
    let mut failed = 0;
    for slot in results {
        match slot.into_inner().ok().flatten() {
            Some(Ok(json)) if out.is_none() => {
                stdout.write_all(&json)?;
                writeln!(stdout)?;
            }
            Some(Ok(_)) => {}
            Some(Err(err)) => {
                failed += 1;
                eprintln!("wirefeed: {}", one_line(&err));
            }
            None => failed += 1,
        }
    }
    stdout.flush()?;
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn eval_clean(
    dir: &Path,
    cleaner: &Cleaner,
    mistakes: bool,
    min_precision: Option<f64>,
    min_recall: Option<f64>,
) -> anyhow::Result<ExitCode> {
    let mut files = Vec::new();
    collect_txt_files(dir, &mut files)?;
    files.sort();
    if files.is_empty() {
        bail!("no corpus files (*.txt) under {}", dir.display());
    }
    let mut articles = Vec::with_capacity(files.len());
    for file in &files {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        let name = file.strip_prefix(dir).unwrap_or(file).display().to_string();
        articles.push(wirefeed_extract::eval::parse_article(&text, &name)?);
    }
    let report = wirefeed_extract::eval::score(&articles, cleaner);
    print!("{}", report.render(mistakes));
    let precision = report.overall.precision();
    let recall = report.overall.recall();
    let below = min_precision.is_some_and(|bar| precision < bar)
        || min_recall.is_some_and(|bar| recall < bar);
    if below {
        eprintln!(
            "wirefeed: cleaner below the bar: precision {precision:.4}, recall {recall:.4} \
             (wanted {} / {})",
            min_precision.map_or("-".to_owned(), |bar| bar.to_string()),
            min_recall.map_or("-".to_owned(), |bar| bar.to_string())
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn collect_txt_files(dir: &Path, files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry
            .with_context(|| format!("cannot read {}", dir.display()))?
            .path();
        if path.is_dir() {
            collect_txt_files(&path, files)?;
        } else if path.extension().is_some_and(|ext| ext == "txt") {
            files.push(path);
        }
    }
    Ok(())
}

fn check(config: &Path) -> anyhow::Result<ExitCode> {
    let problems = wirefeed::check::check(config, std::env::vars())?;
    if problems.is_empty() {
        println!("{}: OK", config.display());
        return Ok(ExitCode::SUCCESS);
    }
    for problem in &problems {
        let name = problem.file.display();
        let line = problem
            .line
            .map(|line| format!("{line}:"))
            .unwrap_or_default();
        let key = if problem.key.is_empty() {
            String::new()
        } else {
            format!(" {}:", problem.key)
        };
        println!("{name}:{line}{key} {}", problem.message);
    }
    println!("{} problem(s)", problems.len());
    Ok(ExitCode::from(1))
}

/// What `tail` prints.
struct TailFilter {
    provider: Option<String>,
    language: Option<String>,
    /// Lowercased.
    keyword: Option<String>,
}

impl TailFilter {
    fn matches(&self, record: &serde_json::Value) -> bool {
        let text = |value: &serde_json::Value| value.as_str().unwrap_or_default().to_owned();
        if let Some(provider) = &self.provider
            && !text(&record["source"]["provider"]).eq_ignore_ascii_case(provider)
        {
            return false;
        }
        if let Some(language) = &self.language
            && !text(&record["language"]).eq_ignore_ascii_case(language)
        {
            return false;
        }
        if let Some(keyword) = &self.keyword {
            let strings = |value: &serde_json::Value| -> Vec<String> {
                value
                    .as_array()
                    .map(|items| items.iter().map(|item| text(item).to_lowercase()).collect())
                    .unwrap_or_default()
            };
            let entities = &record["entities"];
            let found = strings(&record["keywords"])
                .iter()
                .any(|word| word == keyword)
                || text(&record["title"])
                    .to_lowercase()
                    .contains(keyword.as_str())
                || ["people", "organizations", "places"]
                    .iter()
                    .flat_map(|kind| strings(&entities[*kind]))
                    .any(|name| name.contains(keyword.as_str()));
            if !found {
                return false;
            }
        }
        true
    }

    fn is_empty(&self) -> bool {
        self.provider.is_none() && self.language.is_none() && self.keyword.is_none()
    }
}

#[allow(clippy::too_many_arguments)]
async fn tail(
    topic: &str,
    brokers: &str,
    start: StartAt,
    group: Option<&str>,
    filter: &TailFilter,
    pretty: bool,
    max_records: Option<u64>,
    idle_exit_secs: Option<u64>,
) -> anyhow::Result<ExitCode> {
    let reader = TopicReader::with_group(brokers, topic, start, group)?;
    let idle = Duration::from_secs(idle_exit_secs.unwrap_or(u64::from(u32::MAX)));
    let mut printed = 0;
    let mut stdout = std::io::stdout().lock();
    while max_records.is_none_or(|max| printed < max) {
        let Some(record) = reader.next(idle).await? else {
            break;
        };
        let payload = record.payload.as_deref().unwrap_or(b"null");
        if filter.is_empty() && !pretty {
            stdout.write_all(payload)?;
        } else {
            // A value that is not JSON is printed as it is, never dropped
            // silently, unless a filter asks for fields it cannot have.
            match serde_json::from_slice::<serde_json::Value>(payload) {
                Ok(value) if !filter.matches(&value) => continue,
                Ok(value) if pretty => serde_json::to_writer_pretty(&mut stdout, &value)?,
                Ok(_) => stdout.write_all(payload)?,
                Err(_) if filter.is_empty() => stdout.write_all(payload)?,
                Err(_) => continue,
            }
        }
        printed += 1;
        writeln!(stdout)?;
        stdout.flush()?;
    }
    Ok(ExitCode::SUCCESS)
}
