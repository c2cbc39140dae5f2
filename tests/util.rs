//! Test support: a local feed server, the real broker, the wirefeed binary.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use serde_json::Value;
use wirefeed_kafka::{ConsumedRecord, StartAt, TopicReader};

/// The broker the tests use: `WIREFEED_KAFKA_BOOTSTRAP`, default the local
/// script's `127.0.0.1:9092`.
pub fn bootstrap() -> String {
    std::env::var("WIREFEED_KAFKA_BOOTSTRAP").unwrap_or_else(|_| "127.0.0.1:9092".to_owned())
}

/// A topic name no other test (or earlier run) uses.
pub fn unique_topic(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("test-{test}-{}-{nanos}", std::process::id())
}

/// Path of a file under the repository root.
pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// The CNN wire fixture.
pub fn cnn_fixture() -> String {
    std::fs::read_to_string(repo_path(
        "crates/extract/tests/fixtures/cnn-wire-putin-nato.txt",
    ))
    .unwrap()
}

/// Panics with instructions when the broker does not answer.
pub fn require_broker() {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .create()
        .unwrap();
    if let Err(err) = consumer.fetch_metadata(None, Duration::from_secs(15)) {
        panic!(
            "Kafka broker not reachable at {}: {err}. Start it with `deploy/local/kafka.sh start` \
             (or run the suite with scripts/test.sh, which does).",
            bootstrap()
        );
    }
}

/// Creates `topic` with `partitions` and topic-level `configs` (e.g.
/// `max.message.bytes`), before a daemon would create it with defaults.
pub async fn create_topic(topic: &str, partitions: i32, configs: &[(&str, &str)]) {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    let admin: AdminClient<rdkafka::client::DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap())
        .create()
        .unwrap();
    let mut new_topic = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
    for (key, value) in configs {
        new_topic = new_topic.set(key, value);
    }
    let results = admin
        .create_topics([&new_topic], &AdminOptions::new())
        .await
        .unwrap();
    for result in results {
        result.unwrap();
    }
}

/// Records on `topic` right now: the sum over partitions of high − low
/// watermark. Exact, so "nothing new was published" needs no waiting.
pub fn topic_record_count(topic: &str) -> i64 {
    topic_record_count_on(&bootstrap(), topic)
}

/// [`topic_record_count`] on the broker at `bootstrap`.
pub fn topic_record_count_on(bootstrap: &str, topic: &str) -> i64 {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    let partitions = metadata.topics()[0].partitions().len();
    assert!(partitions > 0, "topic {topic} has no partitions");
    (0..partitions)
        .map(|partition| {
            let partition = i32::try_from(partition).unwrap();
            // Just after a broker restart a partition may have no leader
            // for a moment: ask again.
            let mut tries = 0;
            let (low, high) = loop {
                match consumer.fetch_watermarks(topic, partition, Duration::from_secs(10)) {
                    Ok(marks) => break marks,
                    Err(err) if tries < 40 => {
                        tries += 1;
                        eprintln!("watermarks of {topic}/{partition}: {err}; asking again");
                        std::thread::sleep(Duration::from_millis(500));
                    }
                    Err(err) => panic!("watermarks of {topic}/{partition}: {err}"),
                }
            };
            high - low
        })
        .sum()
}

/// Reads every record on `topic` (as counted by the watermarks).
pub async fn read_topic(topic: &str) -> Vec<ConsumedRecord> {
    read_topic_on(&bootstrap(), topic).await
}

/// [`read_topic`] on the broker at `bootstrap`.
pub async fn read_topic_on(bootstrap: &str, topic: &str) -> Vec<ConsumedRecord> {
    let expected = usize::try_from(topic_record_count_on(bootstrap, topic)).unwrap();
    let reader = TopicReader::new(bootstrap, topic, StartAt::Beginning).unwrap();
    let mut records = Vec::with_capacity(expected);
    let mut errors = 0;
    while records.len() < expected {
        match reader.next(Duration::from_secs(60)).await {
            Ok(Some(record)) => records.push(record),
            // A leader moving after a broker restart: the consumer
            // recovers on its own.
            Err(err) if errors < 20 => {
                errors += 1;
                eprintln!("reading {topic}: {err}; reading on");
            }
            Err(err) => panic!("reading {topic}: {err}"),
            Ok(None) => panic!(
                "topic {topic}: read {} of {expected} records",
                records.len()
            ),
        }
    }
    records.sort_by_key(|record| (record.partition, record.offset));
    records
}

/// Reads `topic` from the beginning until no record comes for `idle`. For
/// transactional topics, where the watermarks also count commit markers
/// and aborted records a consumer never sees.
pub async fn read_committed_until_idle(
    bootstrap: &str,
    topic: &str,
    idle: Duration,
) -> Vec<ConsumedRecord> {
    let reader = TopicReader::new(bootstrap, topic, StartAt::Beginning).unwrap();
    let mut records = Vec::new();
    while let Some(record) = reader.next(idle).await.unwrap() {
        records.push(record);
    }
    records.sort_by_key(|record| (record.partition, record.offset));
    records
}

/// Parses a record's JSON value.
pub fn value(record: &ConsumedRecord) -> Value {
    serde_json::from_slice(record.payload.as_deref().unwrap()).unwrap()
}

/// Validates `record` against the repository's JSON Schema.
pub fn assert_valid_record(record: &Value) {
    assert_matches_schema("schema/wirefeed.article.v1.json", record);
}

/// Validates a dead letter against the repository's JSON Schema.
pub fn assert_valid_dead_letter(letter: &Value) {
    assert_matches_schema("schema/wirefeed.dead-letter.v1.json", letter);
}

fn assert_matches_schema(schema_path: &str, value: &Value) {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(repo_path(schema_path)).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|err| err.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "value does not match {schema_path}: {errors:#?}\n{value:#}"
    );
}

/// A temporary world for one daemon: config file and state directory.
pub struct Daemon {
    pub dir: tempfile::TempDir,
    pub topic: String,
}

impl Daemon {
    /// Writes a config for `feeds` (`(id, url)` pairs) publishing to a new
    /// topic named after `test`.
    pub fn new(test: &str, feeds: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let topic = unique_topic(test);
        let daemon = Self { dir, topic };
        daemon.write_config(feeds, 300);
        daemon
    }

    /// Rewrites the config.
    pub fn write_config(&self, feeds: &[(&str, &str)], poll_interval_secs: u64) {
        self.write_config_with(feeds, poll_interval_secs, "");
    }

    /// Rewrites the config with extra `[feed_defaults]` lines.
    pub fn write_config_with(
        &self,
        feeds: &[(&str, &str)],
        poll_interval_secs: u64,
        defaults: &str,
    ) {
        self.write_config_full(feeds, poll_interval_secs, defaults, "");
    }

    /// Rewrites the config with extra `[feed_defaults]` lines and extra
    /// sections (e.g. `[http]`).
    pub fn write_config_full(
        &self,
        feeds: &[(&str, &str)],
        poll_interval_secs: u64,
        defaults: &str,
        sections: &str,
    ) {
        self.write_config_on(&bootstrap(), feeds, poll_interval_secs, defaults, sections);
    }

    /// Rewrites the config for the broker at `bootstrap`.
    pub fn write_config_on(
        &self,
        bootstrap: &str,
        feeds: &[(&str, &str)],
        poll_interval_secs: u64,
        defaults: &str,
        sections: &str,
    ) {
        let mut config = format!(
            "[state]\npath = \"state/wirefeed.redb\"\n\n\
             [kafka]\nbootstrap_servers = \"{}\"\ntopic = \"{}\"\ntopic_partitions = 3\n\
             delivery_timeout_secs = 60\n\n\
             [pipeline]\nworkers = 2\nshutdown_timeout_secs = 20\n\n\
             [health]\nlisten = \"127.0.0.1:0\"\n\n\
             {sections}\n\n\
             [feed_defaults]\npoll_interval_secs = {poll_interval_secs}\n{defaults}\n",
            bootstrap, self.topic
        );
        for (id, url) in feeds {
            config.push_str(&format!(
                "\n[[feeds]]\nid = \"{id}\"\nurl = \"{url}\"\nprovider = \"CNN Wire\"\n"
            ));
        }
        std::fs::write(self.config_path(), config).unwrap();
    }

    /// Replaces `from` with `to` in the config file (once; it must be
    /// there).
    pub fn edit_config(&self, from: &str, to: &str) {
        let config = std::fs::read_to_string(self.config_path()).unwrap();
        assert!(config.contains(from), "config has no {from:?}");
        std::fs::write(self.config_path(), config.replacen(from, to, 1)).unwrap();
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("wirefeed.toml")
    }

    /// Runs `wirefeed run --once` and returns its output.
    pub fn run_once(&self) -> Output {
        wirefeed(&[
            "run",
            "--once",
            "--config",
            self.config_path().to_str().unwrap(),
        ])
    }
}

impl Daemon {
    /// Runs `wirefeed run --once` and fails the test unless it exits 0.
    pub fn run_once_ok(&self) -> Output {
        let output = self.run_once();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }
}

/// Runs the wirefeed binary with JSON logs.
pub fn wirefeed(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .arg("--log-format")
        .arg("json")
        .args(args)
        .env("RUST_LOG", "info")
        .output()
        .unwrap()
}

/// The JSON log lines a run wrote to stderr.
pub fn log_lines(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// A canned HTTP response.
#[derive(Clone)]
pub struct Route {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
    /// Send the body one byte at a time with this pause between bytes.
    pub drip: Option<Duration>,
}

impl Route {
    pub fn feed(body: impl Into<Vec<u8>>) -> Self {
        Self {
            status: 200,
            content_type: "application/rss+xml; charset=utf-8",
            body: body.into(),
            headers: Vec::new(),
            drip: None,
        }
    }

    pub fn status(status: u16) -> Self {
        Self {
            status,
            content_type: "text/plain",
            body: b"nope".to_vec(),
            headers: Vec::new(),
            drip: None,
        }
    }

    /// A redirect to `location`.
    pub fn redirect(status: u16, location: &str) -> Self {
        Self::status(status).header("Location", location)
    }

    /// A feed body sent one byte per `pause`.
    pub fn drip(body: impl Into<Vec<u8>>, pause: Duration) -> Self {
        Self {
            drip: Some(pause),
            ..Self::feed(body)
        }
    }

    /// A gzip-compressed body that inflates to `inflated_bytes` of zeros.
    pub fn gzip_bomb(inflated_bytes: usize) -> Self {
        use flate2::{Compression, write::GzEncoder};
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        let chunk = vec![0u8; 1 << 20];
        for _ in 0..inflated_bytes / chunk.len() {
            encoder.write_all(&chunk).unwrap();
        }
        Self::feed(encoder.finish().unwrap()).header("Content-Encoding", "gzip")
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// One request the server saw.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    pub path: String,
    pub headers: HashMap<String, String>,
    pub status: u16,
}

/// A feed server on 127.0.0.1 with routes a test can change between polls.
/// 200 responses carry an `ETag` derived from the body and a matching
/// `If-None-Match` gets a `304`, like a well-behaved publisher.
#[derive(Clone)]
pub struct FeedServer {
    pub port: u16,
    routes: Arc<Mutex<HashMap<String, Route>>>,
    seen: Arc<Mutex<Vec<SeenRequest>>>,
}

impl FeedServer {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = Self {
            port,
            routes: Arc::new(Mutex::new(HashMap::new())),
            seen: Arc::new(Mutex::new(Vec::new())),
        };
        let handle = server.clone();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let handle = handle.clone();
                thread::spawn(move || handle.serve(stream));
            }
        });
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn set(&self, path: &str, route: Route) {
        self.routes.lock().unwrap().insert(path.to_owned(), route);
    }

    pub fn requests(&self, path: &str) -> Vec<SeenRequest> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|seen| seen.path == path)
            .cloned()
            .collect()
    }

    fn serve(&self, stream: TcpStream) {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).is_err() {
            return;
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("/")
            .to_owned();
        let mut headers = HashMap::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
            }
        }
        let route = self.routes.lock().unwrap().get(&path).cloned();
        let route = route.unwrap_or_else(|| Route::status(404));
        let etag = format!("\"{:x}\"", fnv(&route.body));
        let not_modified =
            route.status == 200 && headers.get("if-none-match").is_some_and(|tag| *tag == etag);
        let status = if not_modified { 304 } else { route.status };
        self.seen.lock().unwrap().push(SeenRequest {
            path,
            headers,
            status,
        });
        let mut out = stream;
        let body: &[u8] = if not_modified { &[] } else { &route.body };
        let extra: String = route
            .headers
            .iter()
            .map(|(name, value)| format!("{name}: {value}\r\n"))
            .collect();
        let head = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: {}\r\nContent-Length: {}\r\nETag: {etag}\r\n{extra}Connection: close\r\n\r\n",
            route.content_type,
            body.len()
        );
        let _ = out.write_all(head.as_bytes());
        match route.drip {
            Some(pause) => {
                for byte in body {
                    if out.write_all(&[*byte]).and_then(|()| out.flush()).is_err() {
                        return;
                    }
                    thread::sleep(pause);
                }
            }
            None => {
                let _ = out.write_all(body);
            }
        }
        let _ = out.flush();
        let _ = reader.read(&mut [0u8; 1]);
    }
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A port on 127.0.0.1 with nothing listening.
pub fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// The fixture article as an RSS 2.0 feed item, body as `<p>` paragraphs the
/// way wire feeds carry it in `content:encoded`.
pub fn cnn_rss(guid: &str, edit: Option<(&str, &str)>) -> String {
    let fixture = cnn_fixture();
    let mut lines = fixture
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty());
    let title = lines.next().unwrap();
    let body: String = lines
        .map(|line| {
            let line = match edit {
                Some((from, to)) => line.replace(from, to),
                None => line.to_owned(),
            };
            format!("<p>{}</p>\n", escape(&line))
        })
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
<title>CNN Wire (test)</title>
<link>https://wire.example.com/cnn</link>
<description>Test feed</description>
<language>en-us</language>
<item>
<title>{}</title>
<link>https://wire.example.com/cnn/2024/09/13/{guid}.html</link>
<guid isPermaLink="false">{guid}</guid>
<pubDate>Fri, 13 Sep 2024 14:05:00 GMT</pubDate>
<dc:creator>Lex Harvey</dc:creator>
<description>Putin warns NATO over long-range missile restrictions.</description>
<content:encoded><![CDATA[{body}]]></content:encoded>
</item>
</channel>
</rss>"#,
        escape(title)
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Waits until `condition` holds, checking every 100 ms for at most a
/// minute; fails the test naming `what` otherwise. For events the test
/// observes (a request, a log line), never for timing.
pub async fn eventually(what: &str, condition: impl Fn() -> bool) {
    for _ in 0..600 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("gave up waiting: {what}");
}

/// A `wirefeed run` daemon process with its JSON log in a file.
pub struct RunningDaemon {
    child: std::process::Child,
    log_path: PathBuf,
}

impl Daemon {
    /// Starts `wirefeed run` on this config.
    pub fn spawn(&self) -> RunningDaemon {
        let log_path = self.dir.path().join("daemon.log");
        let child = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
            .args(["--log-format", "json", "run", "--config"])
            .arg(self.config_path())
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log_path).unwrap())
            .spawn()
            .unwrap();
        RunningDaemon { child, log_path }
    }
}

impl RunningDaemon {
    /// The log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap()
    }

    /// Waits until the log contains `needle`.
    pub async fn wait_for_log(&self, needle: &str) {
        eventually(&format!("log line with {needle}"), || {
            self.log().contains(needle)
        })
        .await;
    }

    /// Waits until the log contains `needle` at least `times` times.
    pub async fn wait_for_log_times(&self, needle: &str, times: usize) {
        eventually(&format!("{times} log lines with {needle}"), || {
            self.log().matches(needle).count() >= times
        })
        .await;
    }

    /// Sends a signal by name (`HUP`, `TERM`).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Kills the process with SIGKILL, the way an OOM killer or a node
    /// failure would, and waits for it to be gone.
    pub fn kill9(mut self) -> String {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.log()
    }

    /// Sends SIGTERM, waits for the exit and returns its code and the log.
    pub fn stop(mut self) -> (Option<i32>, String) {
        self.signal("TERM");
        let status = self.child.wait().unwrap();
        (status.code(), self.log())
    }
}

/// A daemon left running by a failing test is killed with it, so it does
/// not poll and publish on after the test is gone.
impl Drop for RunningDaemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Answers a GET of `path` on the daemon's health listener: status and
/// body.
pub fn http_get(address: &str, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {address}\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

impl RunningDaemon {
    /// The address of its health listener, from its log.
    pub async fn health_address(&self) -> String {
        self.wait_for_log("health and metrics listener").await;
        let log = self.log();
        let line = log
            .lines()
            .find(|line| line.contains("health and metrics listener"))
            .unwrap();
        let value: Value = serde_json::from_str(line).unwrap();
        value["address"].as_str().unwrap().to_owned()
    }
}

/// A broker of a test's own, started with the local script on another
/// port, for tests that stop and restart it. Stopped when dropped.
pub struct OwnBroker {
    pub port: u16,
}

impl OwnBroker {
    /// Starts (or reuses) the broker on `port`.
    pub fn start(port: u16) -> Self {
        let broker = Self { port };
        broker.script("start");
        broker
    }

    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Runs `deploy/local/kafka.sh <command>` for this broker.
    pub fn script(&self, command: &str) {
        let status = Command::new(repo_path("deploy/local/kafka.sh"))
            .arg(command)
            .env("WIREFEED_KAFKA_PORT", self.port.to_string())
            .env_remove("WIREFEED_KAFKA_HOME")
            .status()
            .unwrap();
        assert!(status.success(), "kafka.sh {command} failed");
    }
}

impl Drop for OwnBroker {
    fn drop(&mut self) {
        let _ = Command::new(repo_path("deploy/local/kafka.sh"))
            .arg("stop")
            .env("WIREFEED_KAFKA_PORT", self.port.to_string())
            .env_remove("WIREFEED_KAFKA_HOME")
            .status();
    }
}

/// Short wire briefs, one template per desk; `{n}` makes each unique.
const BRIEFS: &[(&str, &str)] = &[
    (
        "Port of Halden reports {n} container arrivals in the week",
        "The Port of Halden said on Wednesday that {n} container ships had berthed in the seven days to Sunday, as congestion at the southern terminals eased after the strike ended. Dock managers said average waiting time at anchor had fallen to under a day.",
    ),
    (
        "Regional court adjourns fraud trial to day {n}",
        "A regional court adjourned the trial of three former directors of a collapsed builders' merchant until day {n} of the hearing, after the defence asked for more time to review bank records disclosed by prosecutors last week.",
    ),
    (
        "Wheat futures close at {n} cents a bushel",
        "Wheat futures settled at {n} cents a bushel in Chicago on Tuesday, traders said, as forecasts of rain over the northern plains eased fears for the spring crop. Corn and soybeans ended the session little changed.",
    ),
    (
        "Storm leaves {n} households without power on the coast",
        "About {n} households along the coast were still without electricity on Tuesday evening, the grid operator said, after gusts brought down lines across two counties. Crews from neighbouring regions have been called in to help.",
    ),
];

/// Wire brief number `n` as an RSS item: unique guid, title and body.
pub fn wire_brief(n: usize) -> String {
    let (title, body) = BRIEFS[n % BRIEFS.len()];
    let fill = |text: &str| text.replace("{n}", &(1_000 + n * 7).to_string());
    format!(
        "<item>\n<title>{}</title>\n<link>https://wire.example.com/briefs/{n}</link>\n\
         <guid isPermaLink=\"false\">urn:wire:brief:{n}</guid>\n\
         <pubDate>Wed, 25 Nov 2026 08:{:02}:{:02} GMT</pubDate>\n\
         <description>{}</description>\n</item>\n",
        fill(title),
        n / 60 % 60,
        n % 60,
        fill(body)
    )
}

/// An RSS feed of `items` (from [`wire_brief`]).
pub fn briefs_rss(items: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel>\n\
         <title>Wire briefs</title><link>https://wire.example.com/briefs</link>\n\
         <description>Briefs</description>\n{items}</channel></rss>\n"
    )
}
