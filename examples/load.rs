//! Load harness: one local HTTP server serves N synthetic wire feeds, the
//! release `wirefeed` binary polls them into the local Kafka broker, and the
//! harness reports polls/second, articles/second, peak memory (VmHWM) and
//! whether every due poll came on time.
//!
//! ```sh
//! cargo build --release
//! deploy/local/kafka.sh start
//! cargo run --release --example load -- 10000 180
//! ```
//!
//! Arguments: feeds (default 1000), run seconds (default 150), poll
//! interval seconds (default 60), items per feed (default 5). All traffic
//! stays on 127.0.0.1. One server plays every publisher, so the per-host
//! limits are lifted for the run (real deployments spread over many hosts).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

type PollLog = Arc<Mutex<HashMap<usize, Vec<Instant>>>>;

fn feed_body(feed: usize, items: usize) -> String {
    let mut body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel>\
         <title>Load wire {feed}</title><link>http://127.0.0.1/</link><description>load</description>\
         <language>en-us</language>"
    );
    for item in 0..items {
        body.push_str(&format!(
            "<item><title>Story {item} of wire {feed}: council approves harbour budget</title>\
             <guid isPermaLink=\"false\">load-{feed}-{item}</guid>\
             <link>http://127.0.0.1/story/{feed}/{item}</link>\
             <pubDate>Fri, 13 Sep 2024 14:05:00 GMT</pubDate>\
             <description><![CDATA[<p>PORTSMOUTH (AP) — The city council approved the harbour \
             budget for story {item} of wire {feed} on Thursday after a long debate.</p>\
             <p>\"We have waited years for this,\" Mayor Jane Holt said after the vote.</p>\
             <p>The plan pays for new pilings, a ferry ramp and dredging of the inner channel.</p>\
             <p>Associated Press writer Sam Ortiz contributed to this report.</p>\
             <p>Copyright 2024 The Associated Press. All rights reserved.</p>]]></description></item>"
        ));
    }
    body.push_str("</channel></rss>");
    body
}

/// A gzip body that inflates to 64 MiB of zeros (about 64 KiB on the wire).
fn gzip_bomb() -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..64 {
        encoder.write_all(&chunk).expect("gzip");
    }
    encoder.finish().expect("gzip")
}

async fn serve(listener: TcpListener, items: usize, polls: PollLog, bomb: Option<Arc<Vec<u8>>>) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let polls = polls.clone();
        let bomb = bomb.clone();
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
            let path = request.split_whitespace().nth(1).unwrap_or("/");
            let feed: usize = path
                .trim_start_matches("/feed/")
                .trim_end_matches(".rss")
                .parse()
                .unwrap_or(usize::MAX);
            polls
                .lock()
                .unwrap()
                .entry(feed)
                .or_default()
                .push(Instant::now());
            if let Some(bomb) = bomb {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    bomb.len()
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(&bomb).await;
                let _ = stream.shutdown().await;
                return;
            }
            let etag = format!("\"load-{feed}\"");
            let response = if request.contains(&format!("If-None-Match: {etag}"))
                || request.contains(&format!("if-none-match: {etag}"))
            {
                format!(
                    "HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
            } else {
                let body = feed_body(feed, items);
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nETag: {etag}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
            };
            let _ = stream.write_all(response.as_bytes()).await;
            let _ = stream.shutdown().await;
        });
    }
}

fn topic_records(bootstrap: &str, topic: &str) -> i64 {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("kafka client");
    let Ok(metadata) = consumer.fetch_metadata(Some(topic), Duration::from_secs(10)) else {
        return 0;
    };
    let partitions = metadata
        .topics()
        .first()
        .map_or(0, |topic| topic.partitions().len());
    (0..partitions)
        .filter_map(|partition| {
            consumer
                .fetch_watermarks(
                    topic,
                    i32::try_from(partition).ok()?,
                    Duration::from_secs(10),
                )
                .ok()
        })
        .map(|(low, high)| high - low)
        .sum()
}

fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|arg| arg.parse().ok())
        .collect();
    let feeds = args.first().copied().unwrap_or(1000) as usize;
    let run_secs = args.get(1).copied().unwrap_or(150);
    let interval_secs = args.get(2).copied().unwrap_or(60);
    let items = args.get(3).copied().unwrap_or(5) as usize;
    let bootstrap =
        std::env::var("WIREFEED_KAFKA_BOOTSTRAP").unwrap_or_else(|_| "127.0.0.1:9092".to_owned());
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".to_owned());
    let binary = format!("{target}/release/wirefeed");
    assert!(
        std::path::Path::new(&binary).exists(),
        "build it first: cargo build --release ({binary})"
    );

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    let polls: PollLog = Arc::new(Mutex::new(HashMap::new()));
    // LOAD_HOSTILE=1: every feed answers with a gzip bomb, all at once.
    let hostile = std::env::var("LOAD_HOSTILE").is_ok_and(|value| value == "1");
    let bomb = hostile.then(|| Arc::new(gzip_bomb()));
    tokio::spawn(serve(listener, items, polls.clone(), bomb));

    let dir = std::env::temp_dir().join(format!("wirefeed-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let topic = format!("load-{feeds}-{}", std::process::id());
    let spread = if hostile { 0 } else { 30 };
    let mut config = format!(
        "[state]\npath = \"state.redb\"\n\n[kafka]\nbootstrap_servers = \"{bootstrap}\"\ntopic = \"{topic}\"\n\n\
         [http]\nper_host_concurrency = 256\nper_host_requests_per_sec = 0\ntimeout_secs = 30\n\n\
         [health]\nlisten = \"127.0.0.1:0\"\n\n[feed_defaults]\npoll_interval_secs = {interval_secs}\nadaptive = false\nstartup_spread_secs = {spread}\n"
    );
    for feed in 0..feeds {
        config.push_str(&format!(
            "\n[[feeds]]\nid = \"load-{feed}\"\nurl = \"http://127.0.0.1:{port}/feed/{feed}.rss\"\nprovider = \"Load\"\n"
        ));
    }
    let config_path = dir.join("wirefeed.toml");
    std::fs::write(&config_path, config).expect("config");

    let started = Instant::now();
    let child = std::process::Command::new(&binary)
        .args(["--log-format", "json", "run", "--config"])
        .arg(&config_path)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.join("wirefeed.log")).expect("log"))
        .spawn()
        .expect("start wirefeed");
    let pid = child.id();
    let mut first_round_done = None;
    while started.elapsed() < Duration::from_secs(run_secs) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if first_round_done.is_none() && polls.lock().unwrap().len() >= feeds {
            first_round_done = Some(started.elapsed());
        }
    }
    let peak_kib = peak_rss_kib(pid);
    let _ = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status();
    let output = child.wait_with_output().expect("wirefeed exit");
    let elapsed = started.elapsed().as_secs_f64();
    let records = topic_records(&bootstrap, &topic);

    let polls = polls.lock().unwrap();
    let total_polls: usize = polls.values().map(Vec::len).sum();
    // On time: every gap between two polls of a feed is within the interval
    // plus its 10% jitter plus one second of slack.
    let allowed = Duration::from_secs_f64(interval_secs as f64 * 1.1 + 1.0);
    let mut gaps = 0;
    let mut late = 0;
    let mut worst = Duration::ZERO;
    for times in polls.values() {
        for pair in times.windows(2) {
            let gap = pair[1] - pair[0];
            gaps += 1;
            if gap > allowed {
                late += 1;
                worst = worst.max(gap - allowed);
            }
        }
    }
    println!(
        "feeds                {feeds}{}",
        if hostile { " (all gzip bombs)" } else { "" }
    );
    println!("items per feed       {items}");
    println!(
        "interval             {interval_secs} s, run {elapsed:.0} s, exit {:?}",
        output.status.code()
    );
    println!(
        "polls                {total_polls} ({:.1}/s)",
        total_polls as f64 / elapsed
    );
    println!("feeds polled         {} of {feeds}", polls.len());
    match first_round_done {
        Some(at) => println!(
            "first round          every feed polled within {:.1} s",
            at.as_secs_f64()
        ),
        None => println!("first round          not complete"),
    }
    println!(
        "records published    {records} ({:.0} articles/s over the run)",
        records as f64 / elapsed
    );
    println!(
        "repeat polls         {gaps}, late {late}, worst lateness {:.1} s",
        worst.as_secs_f64()
    );
    println!("peak RSS             {:.1} MiB", peak_kib as f64 / 1024.0);
    let _ = std::fs::remove_dir_all(&dir);
}
