//! Exactly-once publishing: records, dead letters and the state changes
//! that mark them published go to Kafka in one transaction, and the state
//! changelog (a compacted topic) is read back at start-up.
//!
//! A consumer reading with `isolation.level=read_committed` (librdkafka's
//! default) sees a transaction's records only once it committed. A daemon
//! that dies mid-transaction leaves it open; the next one, with the same
//! `transactional.id`, fences the old producer and aborts it at
//! [`Publisher::init_transactions`], so its records are never seen, and
//! offers them again.

use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Message, OwnedHeaders};
use rdkafka::producer::{FutureRecord, Producer};
use rdkafka::util::Timeout;
use rdkafka::{Offset, TopicPartitionList};

use crate::{DeliveryReceipt, PublishError, Publisher, QUEUE_FULL_BACKOFF};

/// Where a transaction message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnTopic {
    /// The record topic.
    Records,
    /// The dead-letter topic.
    DeadLetters,
    /// The state changelog topic.
    State,
}

/// One message of a transaction, borrowing what it sends.
#[derive(Debug, Clone, Copy)]
pub struct TxnMessage<'a> {
    /// Its topic.
    pub topic: TxnTopic,
    /// Its key.
    pub key: &'a str,
    /// Its value; `None` is a tombstone (compaction removes the key).
    pub payload: Option<&'a [u8]>,
    /// Its headers.
    pub headers: &'a [(&'static str, String)],
}

/// What became of a transaction.
#[derive(Debug)]
pub struct TxnOutcome {
    /// Whether it committed: every message is visible to read-committed
    /// consumers. When false, none is.
    pub committed: bool,
    /// Each message's own result, in order.
    pub results: Vec<Result<DeliveryReceipt, PublishError>>,
    /// Why it did not commit.
    pub error: Option<PublishError>,
    /// The producer can no longer be used (fenced by another instance with
    /// the same transactional id, or a fatal client error).
    pub fatal: bool,
}

impl Publisher {
    /// Registers the transactional id with the broker, fencing any earlier
    /// producer with it and aborting its open transaction. Call once
    /// before [`Publisher::transaction`].
    pub async fn init_transactions(&self, timeout: Duration) -> Result<(), PublishError> {
        let producer = self.producer.clone();
        let topic = self.config.topic.clone();
        tokio::task::spawn_blocking(move || producer.init_transactions(Timeout::After(timeout)))
            .await
            .map_err(|_| PublishError::Transaction {
                topic: topic.clone(),
                source: KafkaError::Canceled,
            })?
            .map_err(|source| PublishError::Transaction { topic, source })
    }

    /// Sends `messages` in one transaction and commits it, or aborts it
    /// when any message failed. Waits at most `timeout` for the commit.
    pub async fn transaction(&self, messages: &[TxnMessage<'_>], timeout: Duration) -> TxnOutcome {
        let txn_error = |source: KafkaError| PublishError::Transaction {
            topic: self.config.topic.clone(),
            source,
        };
        if let Err(source) = self.producer.begin_transaction() {
            let fatal = is_fatal(&source);
            return TxnOutcome {
                committed: false,
                results: Vec::new(),
                error: Some(txn_error(source)),
                fatal,
            };
        }
        let mut pending = Vec::with_capacity(messages.len());
        let mut refused = false;
        for message in messages {
            let topic = self.txn_topic(message.topic);
            let sent = loop {
                let mut headers = OwnedHeaders::new_with_capacity(message.headers.len());
                for (name, value) in message.headers {
                    headers = headers.insert(Header {
                        key: name,
                        value: Some(value.as_bytes()),
                    });
                }
                let mut record = FutureRecord::to(topic).key(message.key).headers(headers);
                if let Some(payload) = message.payload {
                    record = record.payload(payload);
                }
                match self.producer.send_result(record) {
                    Ok(future) => break Ok(future),
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                        tokio::time::sleep(QUEUE_FULL_BACKOFF).await;
                    }
                    Err((source, _)) => {
                        break Err(PublishError::Enqueue {
                            topic: topic.to_owned(),
                            key: message.key.to_owned(),
                            source,
                        });
                    }
                }
            };
            refused |= sent.is_err();
            pending.push(sent.map(|future| crate::PendingDelivery {
                future,
                topic: topic.to_owned(),
                key: message.key.to_owned(),
            }));
        }
        let producer = self.producer.clone();
        let finish = tokio::task::spawn_blocking(move || {
            if refused {
                return Err(None);
            }
            producer
                .commit_transaction(Timeout::After(timeout))
                .map_err(Some)
        });
        let commit = finish.await.unwrap_or(Err(Some(KafkaError::Canceled)));
        let mut results = Vec::with_capacity(pending.len());
        for sent in pending {
            results.push(match sent {
                Ok(delivery) => delivery.wait().await,
                Err(err) => Err(err),
            });
        }
        match commit {
            Ok(()) => TxnOutcome {
                committed: true,
                results,
                error: None,
                fatal: false,
            },
            Err(source) => {
                let fatal = source.as_ref().is_some_and(is_fatal);
                let error = source.map(txn_error);
                if !fatal {
                    let producer = self.producer.clone();
                    let aborted = tokio::task::spawn_blocking(move || {
                        producer.abort_transaction(Timeout::After(timeout))
                    })
                    .await;
                    if let Ok(Err(abort)) = aborted {
                        tracing::warn!(error = %abort, "aborting the transaction failed");
                        return TxnOutcome {
                            committed: false,
                            results,
                            fatal: is_fatal(&abort),
                            error: error.or(Some(txn_error(abort))),
                        };
                    }
                }
                TxnOutcome {
                    committed: false,
                    results,
                    error,
                    fatal,
                }
            }
        }
    }

    fn txn_topic(&self, topic: TxnTopic) -> &str {
        match topic {
            TxnTopic::Records => &self.config.topic,
            TxnTopic::DeadLetters => &self.config.dead_letter_topic,
            TxnTopic::State => &self.config.state_topic,
        }
    }

    /// Reads the state changelog from its beginning to its end as it is
    /// now (committed entries only), calling `entry` with each key and
    /// value (`None`: a tombstone). Returns how many entries were read.
    /// Blocks: call it from a blocking thread.
    pub fn read_changelog(
        &self,
        timeout: Duration,
        mut entry: impl FnMut(&str, Option<&[u8]>),
    ) -> Result<u64, PublishError> {
        let topic = self.config.state_topic.clone();
        let read_error = |source| PublishError::Topic {
            topic: topic.clone(),
            source,
        };
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &self.config.bootstrap_servers)
            .set("group.id", format!("{}-changelog", self.config.client_id))
            .set("enable.auto.commit", "false")
            .set("isolation.level", "read_committed");
        for (key, value) in &self.config.librdkafka {
            if key.starts_with("security.") || key.starts_with("sasl.") || key.starts_with("ssl.") {
                config.set(key, value);
            }
        }
        let consumer: BaseConsumer = config.create().map_err(read_error)?;
        let metadata = consumer
            .fetch_metadata(Some(&topic), timeout)
            .map_err(read_error)?;
        let partitions: Vec<i32> = metadata
            .topics()
            .iter()
            .flat_map(|topic| topic.partitions().iter().map(|partition| partition.id()))
            .collect();
        let mut assignment = TopicPartitionList::new();
        let mut ends = Vec::new();
        for partition in &partitions {
            let (low, high) = consumer
                .fetch_watermarks(&topic, *partition, timeout)
                .map_err(read_error)?;
            if high > low {
                assignment
                    .add_partition_offset(&topic, *partition, Offset::Beginning)
                    .map_err(read_error)?;
                ends.push((*partition, high));
            }
        }
        if ends.is_empty() {
            return Ok(0);
        }
        consumer.assign(&assignment).map_err(read_error)?;
        let deadline = std::time::Instant::now() + timeout.max(Duration::from_secs(30)) * 10;
        let mut read = 0u64;
        loop {
            let positions = consumer.position().map_err(read_error)?;
            let done = ends.iter().all(|(partition, high)| {
                positions
                    .find_partition(&topic, *partition)
                    .and_then(|element| match element.offset() {
                        Offset::Offset(offset) => Some(offset >= *high),
                        _ => None,
                    })
                    .unwrap_or(false)
            });
            if done {
                return Ok(read);
            }
            if std::time::Instant::now() > deadline {
                return Err(read_error(KafkaError::MessageConsumption(
                    RDKafkaErrorCode::OperationTimedOut,
                )));
            }
            match consumer.poll(Duration::from_millis(500)) {
                Some(Ok(message)) => {
                    let key = message
                        .key()
                        .and_then(|key| std::str::from_utf8(key).ok())
                        .unwrap_or_default();
                    entry(key, message.payload());
                    read += 1;
                }
                Some(Err(source)) => return Err(read_error(source)),
                None => {}
            }
        }
    }
}

fn is_fatal(error: &KafkaError) -> bool {
    match error {
        KafkaError::Transaction(inner) => inner.is_fatal(),
        _ => matches!(
            error.rdkafka_error_code(),
            Some(RDKafkaErrorCode::Fenced | RDKafkaErrorCode::ProducerFenced)
        ),
    }
}
