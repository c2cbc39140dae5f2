//! Publishing records to Kafka with rdkafka.
//!
//! The producer is idempotent with `acks=all`; these and the other delivery
//! settings are fixed here and cannot be overridden through the pass-through
//! librdkafka map (a conflicting key is a configuration error).
//!
//! Publishing is two steps on purpose: [`Publisher::enqueue`] hands a record
//! to librdkafka's bounded queue (waiting while the queue is full — this is
//! where a slow or absent broker pushes back on the pipeline) and returns a
//! [`PendingDelivery`]; only awaiting that gives a [`DeliveryReceipt`], the
//! broker's acknowledgement. Callers record a story as published from the
//! receipt, never from a successful enqueue.

#![deny(missing_docs)]

mod reader;
mod txn;

pub use reader::{ConsumedRecord, ReadError, StartAt, TopicReader};
pub use txn::{TxnMessage, TxnOutcome, TxnTopic};

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};
use rdkafka::util::Timeout;
use wirefeed_model::{DEAD_LETTER_SCHEMA, DeadLetter, Record, SCHEMA};

/// librdkafka keys this crate sets itself; the pass-through map may not set
/// them.
const MANAGED_KEYS: &[&str] = &[
    "bootstrap.servers",
    "client.id",
    "enable.idempotence",
    "acks",
    "message.timeout.ms",
    "delivery.timeout.ms",
    "linger.ms",
    "compression.type",
    "transactional.id",
];

/// How long `enqueue` waits between tries while librdkafka's queue is full.
pub(crate) const QUEUE_FULL_BACKOFF: Duration = Duration::from_millis(50);

/// Producer settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducerConfig {
    /// `host:port` list of brokers.
    pub bootstrap_servers: String,
    /// The client id the broker sees.
    pub client_id: String,
    /// The topic records go to.
    pub topic: String,
    /// The dead-letter topic: records (or items) that can never be
    /// delivered to `topic` go here with the reason in headers.
    pub dead_letter_topic: String,
    /// The state changelog topic (compacted) of exactly-once mode.
    pub state_topic: String,
    /// The transactional id: set for exactly-once mode, where every send
    /// is part of a transaction.
    pub transactional_id: Option<String>,
    /// How long librdkafka keeps retrying a record before reporting it
    /// failed (`message.timeout.ms`).
    pub delivery_timeout: Duration,
    /// How long to wait to fill a batch (`linger.ms`).
    pub linger: Duration,
    /// `compression.type`: none, gzip, snappy, lz4 or zstd.
    pub compression: String,
    /// Create the topic at start-up when it does not exist.
    pub create_topic: bool,
    /// Partitions of a created topic (-1: the broker's default).
    pub topic_partitions: i32,
    /// Replication factor of a created topic (-1: the broker's default).
    pub topic_replication_factor: i32,
    /// Other librdkafka properties passed through as given (SASL, TLS, …).
    pub librdkafka: BTreeMap<String, String>,
}

impl ProducerConfig {
    /// Returns the librdkafka client configuration, or an error naming a
    /// pass-through key that conflicts with one this crate manages.
    pub fn to_client_config(&self) -> Result<ClientConfig, PublishError> {
        if let Some(key) = self
            .librdkafka
            .keys()
            .find(|key| MANAGED_KEYS.contains(&key.as_str()))
        {
            return Err(PublishError::ConflictingOption { key: key.clone() });
        }
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &self.bootstrap_servers)
            .set("client.id", &self.client_id)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set(
                "message.timeout.ms",
                self.delivery_timeout.as_millis().to_string(),
            )
            .set("linger.ms", self.linger.as_millis().to_string())
            .set("compression.type", &self.compression);
        if let Some(id) = &self.transactional_id {
            // librdkafka wants a record's delivery timeout within the
            // transaction's.
            let transaction_timeout = self.delivery_timeout.max(Duration::from_secs(60));
            config.set("transactional.id", id).set(
                "transaction.timeout.ms",
                transaction_timeout.as_millis().to_string(),
            );
        }
        for (key, value) in &self.librdkafka {
            config.set(key, value);
        }
        Ok(config)
    }
}

/// Where a record landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryReceipt {
    /// The partition.
    pub partition: i32,
    /// The offset in that partition.
    pub offset: i64,
}

/// A publishing failure.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// A pass-through option tries to override a managed one.
    #[error("librdkafka option {key} is managed by wirefeed and cannot be overridden")]
    ConflictingOption {
        /// The key.
        key: String,
    },
    /// The client could not be created from the configuration.
    #[error("failed to create Kafka client: {0}")]
    Client(#[source] KafkaError),
    /// The topic could not be checked or created.
    #[error("failed to prepare topic {topic}: {source}")]
    Topic {
        /// The topic.
        topic: String,
        /// The cause.
        #[source]
        source: KafkaError,
    },
    /// librdkafka refused the record before sending it.
    #[error("failed to enqueue record {key} for topic {topic}: {source}")]
    Enqueue {
        /// The topic.
        topic: String,
        /// The record key.
        key: String,
        /// The cause.
        #[source]
        source: KafkaError,
    },
    /// The broker did not acknowledge the record.
    #[error("record {key} was not delivered to topic {topic}: {source}")]
    Delivery {
        /// The topic.
        topic: String,
        /// The record key.
        key: String,
        /// The cause.
        #[source]
        source: KafkaError,
    },
    /// A transaction could not be begun, committed or aborted.
    #[error("transaction on topic {topic} failed: {source}")]
    Transaction {
        /// The record topic.
        topic: String,
        /// The cause.
        #[source]
        source: KafkaError,
    },
    /// The producer was dropped before the delivery report arrived.
    #[error("record {key} for topic {topic}: producer closed before its delivery report")]
    Canceled {
        /// The topic.
        topic: String,
        /// The record key.
        key: String,
    },
}

impl PublishError {
    /// Whether sending the same record again can never succeed: it is too
    /// large for the producer or the broker, or the broker rejects it by
    /// policy. Such a record belongs on the dead-letter topic; any other
    /// failure (timeouts, an absent broker) is worth retrying.
    pub fn is_permanent(&self) -> bool {
        match self {
            PublishError::Enqueue { source, .. } | PublishError::Delivery { source, .. } => {
                matches!(
                    source.rdkafka_error_code(),
                    Some(
                        RDKafkaErrorCode::MessageSizeTooLarge
                            | RDKafkaErrorCode::InvalidMessageSize
                            | RDKafkaErrorCode::MessageBatchTooLarge
                            | RDKafkaErrorCode::InvalidRecord
                            | RDKafkaErrorCode::PolicyViolation
                            | RDKafkaErrorCode::BadMessage
                    )
                )
            }
            _ => false,
        }
    }

    /// Returns the bounded metric label for this error.
    pub fn error_type(&self) -> &'static str {
        match self {
            PublishError::ConflictingOption { .. } => "config",
            PublishError::Client(_) => "client",
            PublishError::Topic { .. } => "topic",
            PublishError::Enqueue { source, .. } | PublishError::Delivery { source, .. } => {
                match source.rdkafka_error_code() {
                    Some(
                        RDKafkaErrorCode::MessageSizeTooLarge
                        | RDKafkaErrorCode::InvalidMessageSize
                        | RDKafkaErrorCode::MessageBatchTooLarge,
                    ) => "message_too_large",
                    Some(RDKafkaErrorCode::InvalidRecord | RDKafkaErrorCode::BadMessage) => {
                        "invalid_record"
                    }
                    Some(RDKafkaErrorCode::PolicyViolation) => "policy_violation",
                    Some(RDKafkaErrorCode::MessageTimedOut) => "timed_out",
                    Some(RDKafkaErrorCode::TopicAuthorizationFailed) => "unauthorized",
                    Some(RDKafkaErrorCode::UnknownTopicOrPartition) => "unknown_topic",
                    _ => "delivery",
                }
            }
            PublishError::Canceled { .. } => "canceled",
            PublishError::Transaction { .. } => "transaction",
        }
    }
}

/// A record handed to librdkafka, not yet acknowledged.
#[must_use = "a record is published only when its delivery is awaited"]
pub struct PendingDelivery {
    future: DeliveryFuture,
    topic: String,
    key: String,
}

impl PendingDelivery {
    /// Waits for the broker's acknowledgement.
    pub async fn wait(self) -> Result<DeliveryReceipt, PublishError> {
        match self.future.await {
            Ok(Ok(delivery)) => Ok(DeliveryReceipt {
                partition: delivery.partition,
                offset: delivery.offset,
            }),
            Ok(Err((source, _message))) => Err(PublishError::Delivery {
                topic: self.topic,
                key: self.key,
                source,
            }),
            Err(_canceled) => Err(PublishError::Canceled {
                topic: self.topic,
                key: self.key,
            }),
        }
    }
}

/// A Kafka producer for one topic.
pub struct Publisher {
    producer: FutureProducer,
    config: ProducerConfig,
}

impl Publisher {
    /// Creates the producer. Connecting is lazy: this succeeds while the
    /// broker is down.
    pub fn new(config: ProducerConfig) -> Result<Self, PublishError> {
        let producer: FutureProducer = config
            .to_client_config()?
            .create()
            .map_err(PublishError::Client)?;
        Ok(Self { producer, config })
    }

    /// The topic records go to.
    pub fn topic(&self) -> &str {
        &self.config.topic
    }

    /// The dead-letter topic.
    pub fn dead_letter_topic(&self) -> &str {
        &self.config.dead_letter_topic
    }

    /// Checks that the broker answers and, when configured, creates the
    /// topic and the dead-letter topic if they do not exist. Waits at most
    /// `timeout`.
    pub async fn prepare_topic(&self, timeout: Duration) -> Result<(), PublishError> {
        let topic_error = |source| PublishError::Topic {
            topic: self.config.topic.clone(),
            source,
        };
        if self.config.create_topic {
            let admin: AdminClient<DefaultClientContext> = self
                .config
                .to_client_config()?
                .create()
                .map_err(PublishError::Client)?;
            let replication = || TopicReplication::Fixed(self.config.topic_replication_factor);
            let new_topic = NewTopic::new(
                &self.config.topic,
                self.config.topic_partitions,
                replication(),
            );
            // Dead letters are few; one partition keeps them in the order
            // they happened.
            let dead_letters = NewTopic::new(&self.config.dead_letter_topic, 1, replication());
            let options = AdminOptions::new()
                .operation_timeout(Some(timeout))
                .request_timeout(Some(timeout));
            let mut topics = vec![new_topic, dead_letters];
            if self.config.transactional_id.is_some() {
                // The state changelog keeps the latest entry per story.
                topics.push(
                    NewTopic::new(
                        &self.config.state_topic,
                        self.config.topic_partitions,
                        replication(),
                    )
                    .set("cleanup.policy", "compact"),
                );
            }
            let results = admin
                .create_topics(&topics, &options)
                .await
                .map_err(topic_error)?;
            for result in results {
                match result {
                    Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                    Err((_, code)) => return Err(topic_error(KafkaError::AdminOp(code))),
                }
            }
        }
        // A metadata round trip proves the broker answers and the topic is
        // visible to this client.
        let producer = self.producer.clone();
        let topic = self.config.topic.clone();
        tokio::task::spawn_blocking(move || {
            producer
                .client()
                .fetch_metadata(Some(&topic), Timeout::After(timeout))
                .map(|_| ())
        })
        .await
        .map_err(|_| topic_error(KafkaError::Canceled))?
        .map_err(topic_error)
    }

    /// Whether a broker answers a metadata request for the topic within
    /// `timeout`.
    pub async fn reachable(&self, timeout: Duration) -> bool {
        let producer = self.producer.clone();
        let topic = self.config.topic.clone();
        tokio::task::spawn_blocking(move || {
            producer
                .client()
                .fetch_metadata(Some(&topic), Timeout::After(timeout))
                .is_ok()
        })
        .await
        .unwrap_or(false)
    }

    /// Hands a record to librdkafka. Waits while its queue is full; returns
    /// an error only when librdkafka refuses the record itself (e.g. too
    /// large).
    pub async fn enqueue(
        &self,
        key: &str,
        payload: &[u8],
        headers: &[(&str, String)],
    ) -> Result<PendingDelivery, PublishError> {
        self.send_to(&self.config.topic, key, payload, headers)
            .await
    }

    /// Hands a dead letter to librdkafka, for the dead-letter topic.
    pub async fn enqueue_dead_letter(
        &self,
        key: &str,
        payload: &[u8],
        headers: &[(&str, String)],
    ) -> Result<PendingDelivery, PublishError> {
        self.send_to(&self.config.dead_letter_topic, key, payload, headers)
            .await
    }

    async fn send_to(
        &self,
        topic: &str,
        key: &str,
        payload: &[u8],
        headers: &[(&str, String)],
    ) -> Result<PendingDelivery, PublishError> {
        loop {
            let mut owned_headers = OwnedHeaders::new_with_capacity(headers.len());
            for (name, value) in headers {
                owned_headers = owned_headers.insert(Header {
                    key: name,
                    value: Some(value.as_bytes()),
                });
            }
            let record = FutureRecord::to(topic)
                .key(key)
                .payload(payload)
                .headers(owned_headers);
            match self.producer.send_result(record) {
                Ok(future) => {
                    return Ok(PendingDelivery {
                        future,
                        topic: topic.to_owned(),
                        key: key.to_owned(),
                    });
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    tokio::time::sleep(QUEUE_FULL_BACKOFF).await;
                }
                Err((source, _)) => {
                    return Err(PublishError::Enqueue {
                        topic: topic.to_owned(),
                        key: key.to_owned(),
                        source,
                    });
                }
            }
        }
    }

    /// Waits up to `timeout` for every queued record to be delivered or
    /// fail. Returns false when records were still queued at the deadline.
    pub async fn flush(&self, timeout: Duration) -> bool {
        let producer = self.producer.clone();
        tokio::task::spawn_blocking(move || producer.flush(Timeout::After(timeout)).is_ok())
            .await
            .unwrap_or(false)
    }

    /// Records handed to librdkafka and not yet acknowledged or failed.
    pub fn in_flight(&self) -> i32 {
        self.producer.in_flight_count()
    }
}

/// Returns the Kafka headers of a record: the CloudEvents Kafka binding
/// (binary mode) plus the schema name and the story version.
pub fn record_headers(record: &Record) -> Vec<(&'static str, String)> {
    let time = record
        .updated_at
        .or(record.published_at)
        .unwrap_or(record.fetched_at);
    vec![
        ("ce_specversion", "1.0".to_owned()),
        ("ce_type", "org.wirefeed.article.published".to_owned()),
        (
            "ce_source",
            format!("wirefeed:feed:{}", record.source.feed_id),
        ),
        ("ce_id", format!("{}:{}", record.id, record.version)),
        (
            "ce_time",
            time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ),
        ("ce_subject", record.id.to_string()),
        ("ce_dataschema", SCHEMA.to_owned()),
        ("content-type", "application/json".to_owned()),
        ("wirefeed_schema", SCHEMA.to_owned()),
        ("wirefeed_version", record.version.to_string()),
    ]
}

/// Returns the Kafka key of a dead letter: the story id, else the feed id
/// and the item's guid or link.
pub fn dead_letter_key(letter: &DeadLetter) -> String {
    match &letter.id {
        Some(id) => id.to_string(),
        None => format!(
            "{}:{}",
            letter.feed_id,
            letter
                .guid
                .as_deref()
                .or(letter.url.as_deref())
                .unwrap_or_default()
        ),
    }
}

/// Returns the Kafka headers of a dead letter: the CloudEvents binding,
/// plus the reason, its label, the stage, the original story id and topic.
pub fn dead_letter_headers(letter: &DeadLetter) -> Vec<(&'static str, String)> {
    let reason: String = letter.reason.chars().take(1_000).collect();
    let key = dead_letter_key(letter);
    let mut headers = vec![
        ("ce_specversion", "1.0".to_owned()),
        ("ce_type", "org.wirefeed.article.dead-lettered".to_owned()),
        ("ce_source", format!("wirefeed:feed:{}", letter.feed_id)),
        (
            "ce_id",
            format!("{key}:{}:dead", letter.version.unwrap_or_default()),
        ),
        (
            "ce_time",
            letter
                .dead_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ),
        ("content-type", "application/json".to_owned()),
        ("wirefeed_schema", DEAD_LETTER_SCHEMA.to_owned()),
        ("wirefeed_dlq_reason", reason),
        ("wirefeed_dlq_error_type", letter.error_type.clone()),
        ("wirefeed_dlq_stage", letter.stage.clone()),
        ("wirefeed_original_topic", letter.topic.clone()),
    ];
    if let Some(id) = &letter.id {
        headers.push(("wirefeed_original_id", id.to_string()));
    }
    if let Some(version) = letter.version {
        headers.push(("wirefeed_version", version.to_string()));
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> ProducerConfig {
        ProducerConfig {
            bootstrap_servers: "127.0.0.1:9092".to_owned(),
            client_id: "wirefeed-test".to_owned(),
            topic: "articles".to_owned(),
            dead_letter_topic: "articles.dead-letter".to_owned(),
            state_topic: "articles.state".to_owned(),
            transactional_id: None,
            delivery_timeout: Duration::from_secs(30),
            linger: Duration::from_millis(5),
            compression: "lz4".to_owned(),
            create_topic: false,
            topic_partitions: -1,
            topic_replication_factor: -1,
            librdkafka: BTreeMap::new(),
        }
    }

    #[test]
    fn delivery_guarantees_are_set_and_cannot_be_overridden() {
        let mut config = config();
        config
            .librdkafka
            .insert("security.protocol".to_owned(), "SASL_SSL".to_owned());
        let client = config.to_client_config().unwrap();
        assert_eq!(client.get("enable.idempotence"), Some("true"));
        assert_eq!(client.get("acks"), Some("all"));
        assert_eq!(client.get("message.timeout.ms"), Some("30000"));
        assert_eq!(client.get("security.protocol"), Some("SASL_SSL"));

        config.librdkafka.insert("acks".to_owned(), "1".to_owned());
        let err = config.to_client_config().unwrap_err();
        assert!(err.to_string().contains("acks"));
    }

    #[test]
    fn a_transactional_producer_accepts_the_default_delivery_timeout() {
        let mut config = config();
        config.delivery_timeout = Duration::from_secs(120);
        config.transactional_id = Some("wirefeed-articles".to_owned());
        let client = config.to_client_config().unwrap();
        assert_eq!(client.get("transactional.id"), Some("wirefeed-articles"));
        assert_eq!(client.get("transaction.timeout.ms"), Some("120000"));
        // librdkafka checks the pair when the client is made (no broker
        // is contacted).
        Publisher::new(config).unwrap();
    }
}
