//! End-to-end tests: the wirefeed binary against a local feed server and
//! the real Kafka broker (`deploy/local/kafka.sh start`), one topic per test.

mod access;
mod agency;
mod cli;
mod deadletter;
mod delivery;
mod deploy;
mod fulltext;
mod hostile;
mod pipeline;
mod schedule;
mod shutdown;
mod spool;
mod state;
mod status;
mod util;
mod versions;
