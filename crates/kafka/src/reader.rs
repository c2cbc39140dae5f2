//! Reading a topic back: what `wirefeed tail` and the end-to-end tests use
//! to see records as a downstream consumer does.
//!
//! The reader joins a consumer group of its own (no offsets committed), so
//! it never disturbs real consumers of the topic.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::client::ClientContext;
use rdkafka::consumer::{Consumer, ConsumerContext, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Headers, Message};

/// Where a reader starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartAt {
    /// The oldest record still on the topic.
    Beginning,
    /// Only records written after the reader joined.
    End,
    /// This offset in every partition (or the partition's end, if past it).
    Offset(i64),
    /// The first record at or after this time, Unix milliseconds, in every
    /// partition.
    Time(i64),
}

/// A record read from a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumedRecord {
    /// The partition.
    pub partition: i32,
    /// The offset.
    pub offset: i64,
    /// The key.
    pub key: Option<Vec<u8>>,
    /// The value.
    pub payload: Option<Vec<u8>>,
    /// The headers, in order.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

impl ConsumedRecord {
    /// Returns a header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .and_then(|(_, value)| value.as_deref())
            .and_then(|value| std::str::from_utf8(value).ok())
    }
}

/// A failure while reading.
#[derive(Debug, thiserror::Error)]
#[error("failed to read topic {topic}: {source}")]
pub struct ReadError {
    /// The topic.
    pub topic: String,
    /// The cause.
    #[source]
    pub source: KafkaError,
}

/// Client context that treats "topic does not exist yet" as the normal
/// state of a topic whose producer has not started, not as an error.
struct ReaderContext;

impl ClientContext for ReaderContext {
    fn error(&self, error: KafkaError, reason: &str) {
        if error.rdkafka_error_code() == Some(RDKafkaErrorCode::UnknownTopicOrPartition) {
            tracing::debug!(error = %error, reason, "waiting for the topic to be created");
        } else {
            tracing::error!(error = %error, reason, "kafka client error");
        }
    }
}

impl ConsumerContext for ReaderContext {}

/// Follows one topic.
pub struct TopicReader {
    consumer: StreamConsumer<ReaderContext>,
    topic: String,
}

impl TopicReader {
    /// Subscribes to `topic` on `bootstrap_servers` with a group of its
    /// own that commits nothing.
    pub fn new(bootstrap_servers: &str, topic: &str, start: StartAt) -> Result<Self, ReadError> {
        Self::with_group(bootstrap_servers, topic, start, None)
    }

    /// Reads `topic`. With a `group`, joins that consumer group and
    /// commits what it read, so a later reader of the group resumes after
    /// it (`start` then applies only where the group has no offset yet:
    /// the beginning or the end). Without one, reads from `start` and
    /// commits nothing. `Offset` and `Time` starts read every partition
    /// from that point, without a group.
    pub fn with_group(
        bootstrap_servers: &str,
        topic: &str,
        start: StartAt,
        group: Option<&str>,
    ) -> Result<Self, ReadError> {
        let read_error = |source| ReadError {
            topic: topic.to_owned(),
            source,
        };
        let private = format!(
            "wirefeed-reader-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|since| since.as_nanos())
                .unwrap_or(0)
        );
        let consumer: StreamConsumer<ReaderContext> = ClientConfig::new()
            .set("bootstrap.servers", bootstrap_servers)
            .set("group.id", group.unwrap_or(&private))
            .set(
                "enable.auto.commit",
                if group.is_some() { "true" } else { "false" },
            )
            .set("isolation.level", "read_committed")
            .set(
                "auto.offset.reset",
                match start {
                    StartAt::End => "latest",
                    _ => "earliest",
                },
            )
            .create_with_context(ReaderContext)
            .map_err(read_error)?;
        match start {
            StartAt::Beginning | StartAt::End => {
                consumer.subscribe(&[topic]).map_err(read_error)?;
            }
            StartAt::Offset(_) | StartAt::Time(_) => {
                let metadata = consumer
                    .fetch_metadata(Some(topic), Duration::from_secs(30))
                    .map_err(read_error)?;
                let mut assignment = rdkafka::TopicPartitionList::new();
                for partition in metadata
                    .topics()
                    .iter()
                    .flat_map(|found| found.partitions().iter().map(|partition| partition.id()))
                {
                    let offset = match start {
                        StartAt::Offset(offset) => rdkafka::Offset::Offset(offset),
                        StartAt::Time(millis) => rdkafka::Offset::Offset(millis),
                        _ => rdkafka::Offset::Beginning,
                    };
                    assignment
                        .add_partition_offset(topic, partition, offset)
                        .map_err(read_error)?;
                }
                if let StartAt::Time(_) = start {
                    assignment = consumer
                        .offsets_for_times(assignment, Duration::from_secs(30))
                        .map_err(read_error)?;
                }
                consumer.assign(&assignment).map_err(read_error)?;
            }
        }
        Ok(Self {
            consumer,
            topic: topic.to_owned(),
        })
    }

    /// Returns the next record, or `None` when none arrives within `idle`.
    ///
    /// A topic that does not exist yet is waited for, like `tail -F` waits
    /// for a file: its producer may not have created it yet.
    pub async fn next(&self, idle: Duration) -> Result<Option<ConsumedRecord>, ReadError> {
        let deadline = tokio::time::Instant::now() + idle;
        let message = loop {
            match tokio::time::timeout_at(deadline, self.consumer.recv()).await {
                Err(_elapsed) => return Ok(None),
                Ok(Ok(message)) => break message,
                Ok(Err(source))
                    if source.rdkafka_error_code()
                        == Some(RDKafkaErrorCode::UnknownTopicOrPartition) => {}
                Ok(Err(source)) => {
                    return Err(ReadError {
                        topic: self.topic.clone(),
                        source,
                    });
                }
            }
        };
        let headers = message
            .headers()
            .map(|headers| {
                headers
                    .iter()
                    .map(|header| (header.key.to_owned(), header.value.map(<[u8]>::to_vec)))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Some(ConsumedRecord {
            partition: message.partition(),
            offset: message.offset(),
            key: message.key().map(<[u8]>::to_vec),
            payload: message.payload().map(<[u8]>::to_vec),
            headers,
        }))
    }
}
