//! Delivery harness: the release `wirefeed` binary publishes the same
//! stories once in each delivery mode (`at-least-once`, `exactly-once`)
//! while a read-committed consumer follows the topic, and the harness
//! reports throughput (stories per second, first produce to last seen) and
//! the latency a downstream consumer sees (produce timestamp to receipt:
//! p50, p95, p99, max).
//!
//! ```sh
//! cargo build --release
//! deploy/local/kafka.sh start
//! cargo run --release --example delivery -- 20000
//! ```
//!
//! Argument: stories (default 20000), spread over 100 feeds served from
//! 127.0.0.1.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const FEEDS: usize = 100;

const DESKS: &[&str] = &[
    "The city council approved the harbour budget after a long debate, with members split over the cost of dredging the inner channel and rebuilding the ferry ramp.",
    "Grain prices rose for a third day as traders weighed dry weather on the plains against a strong harvest further south and steady export demand.",
    "The regional rail operator said services would run to a reduced timetable while engineers replace a section of track damaged by last week's flooding.",
    "Health officials reported a rise in seasonal flu admissions and urged older residents to book vaccinations before the holiday period begins.",
];

fn feed_body(feed: usize, items: usize) -> String {
    let mut body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel>\
         <title>Delivery wire {feed}</title><link>http://127.0.0.1/</link><description>d</description>"
    );
    for item in 0..items {
        let text = DESKS[(feed + item) % DESKS.len()];
        body.push_str(&format!(
            "<item><title>Wire {feed} story {item}: {}</title>\
             <guid isPermaLink=\"false\">delivery-{feed}-{item}</guid>\
             <link>http://127.0.0.1/story/{feed}/{item}/full-headline</link>\
             <pubDate>Wed, 25 Nov 2026 08:00:00 GMT</pubDate>\
             <description><![CDATA[<p>{text}</p><p>Filed as item {item} of desk {feed}.</p>]]></description></item>",
            &text[..40]
        ));
    }
    body.push_str("</channel></rss>");
    body
}

async fn serve(listener: TcpListener, bodies: Arc<Vec<String>>) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let bodies = bodies.clone();
        tokio::spawn(async move {
            let mut buffer = vec![0u8; 4096];
            let mut read = 0;
            while read < buffer.len() {
                match stream.read(&mut buffer[read..]).await {
                    Ok(0) | Err(_) => return,
                    Ok(count) => read += count,
                }
                if buffer[..read]
                    .windows(4)
                    .any(|window| window == b"\r\n\r\n")
                {
                    break;
                }
            }
            let request = String::from_utf8_lossy(&buffer[..read]);
            let feed: usize = request
                .split_whitespace()
                .nth(1)
                .and_then(|path| path.strip_prefix("/feed/"))
                .and_then(|rest| rest.strip_suffix(".rss"))
                .and_then(|number| number.parse().ok())
                .unwrap_or(usize::MAX);
            let response = match bodies.get(feed) {
                Some(body) => format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                ),
                None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_owned(),
            };
            let _ = stream.write_all(response.as_bytes()).await;
            let _ = stream.shutdown().await;
        });
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| i64::try_from(since.as_millis()).unwrap_or(0))
}

fn percentile(sorted: &[i64], share: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let index = ((sorted.len() - 1) as f64 * share).round() as usize;
    sorted[index]
}

#[tokio::main]
async fn main() {
    let stories: usize = std::env::args()
        .nth(1)
        .and_then(|arg| arg.parse().ok())
        .unwrap_or(20_000);
    let items = stories.div_ceil(FEEDS);
    let stories = items * FEEDS;
    let bootstrap =
        std::env::var("WIREFEED_KAFKA_BOOTSTRAP").unwrap_or_else(|_| "127.0.0.1:9092".to_owned());
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".to_owned());
    let binary = format!("{target}/release/wirefeed");
    assert!(
        std::path::Path::new(&binary).exists(),
        "build it first: cargo build --release ({binary})"
    );
    let bodies = Arc::new(
        (0..FEEDS)
            .map(|feed| feed_body(feed, items))
            .collect::<Vec<_>>(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(serve(listener, bodies));

    println!("{stories} stories over {FEEDS} feeds, one `run --once` per mode");
    for mode in ["at-least-once", "exactly-once"] {
        let dir =
            std::env::temp_dir().join(format!("wirefeed-delivery-{}-{mode}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let topic = format!("delivery-{mode}-{}-{}", std::process::id(), now_ms());
        let mut config = format!(
            "[state]\npath = \"state.redb\"\n\n[kafka]\nbootstrap_servers = \"{bootstrap}\"\ntopic = \"{topic}\"\n\
             delivery = \"{mode}\"\n\n[http]\nper_host_concurrency = 64\nper_host_requests_per_sec = 0\n\n\
             [health]\nlisten = \"127.0.0.1:0\"\n\n[feed_defaults]\nmax_items = 100000\n"
        );
        for feed in 0..FEEDS {
            config.push_str(&format!(
                "\n[[feeds]]\nid = \"d-{feed}\"\nurl = \"http://127.0.0.1:{port}/feed/{feed}.rss\"\nprovider = \"Delivery\"\n"
            ));
        }
        let config_path = dir.join("wirefeed.toml");
        std::fs::write(&config_path, config).expect("config");

        // The consumer follows the topic from before the first record.
        let consumer_bootstrap = bootstrap.clone();
        let consumer_topic = topic.clone();
        let follower = std::thread::spawn(move || {
            let consumer: BaseConsumer = ClientConfig::new()
                .set("bootstrap.servers", &consumer_bootstrap)
                .set("group.id", format!("delivery-harness-{}", now_ms()))
                .set("auto.offset.reset", "earliest")
                .set("isolation.level", "read_committed")
                .set("topic.metadata.refresh.interval.ms", "500")
                .create()
                .expect("consumer");
            consumer.subscribe(&[&consumer_topic]).expect("subscribe");
            let mut latencies = Vec::with_capacity(stories);
            let (mut first_created, mut last_seen) = (i64::MAX, 0i64);
            let mut idle_since = Instant::now();
            while latencies.len() < stories && idle_since.elapsed() < Duration::from_secs(60) {
                if let Some(Ok(message)) = consumer.poll(Duration::from_millis(200)) {
                    let seen = now_ms();
                    let created = message.timestamp().to_millis().unwrap_or(seen);
                    first_created = first_created.min(created);
                    last_seen = last_seen.max(seen);
                    latencies.push(seen - created);
                    idle_since = Instant::now();
                }
            }
            (latencies, first_created, last_seen)
        });

        let started = Instant::now();
        let status = std::process::Command::new(&binary)
            .args(["--log-format", "json", "run", "--once", "--config"])
            .arg(&config_path)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.join("wirefeed.log")).expect("log"))
            .status()
            .expect("run wirefeed");
        let wall = started.elapsed();
        let (mut latencies, first_created, last_seen) = follower.join().expect("consumer");
        latencies.sort_unstable();
        let span =
            Duration::from_millis(u64::try_from(last_seen - first_created).unwrap_or(1).max(1));
        println!(
            "{mode:<14} exit {:?}, run {:.1} s, records seen {} of {stories}, {:.0} stories/s (first produce to last seen), \
             latency ms p50 {} p95 {} p99 {} max {}",
            status.code(),
            wall.as_secs_f64(),
            latencies.len(),
            latencies.len() as f64 / span.as_secs_f64(),
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.95),
            percentile(&latencies, 0.99),
            latencies.last().copied().unwrap_or(0),
        );
    }
}
