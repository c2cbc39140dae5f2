//! The embedded state store: one redb file under the data directory.
//!
//! It remembers, per story, the last version Kafka acknowledged and its
//! content hash (so an unchanged re-poll publishes nothing and a changed
//! story gets the next version), and per feed, the HTTP validators of the
//! last copy whose items were all delivered (so an unchanged feed costs a
//! `304`).
//!
//! Writers commit only what the broker acknowledged: [`StateStore::commit_published`]
//! takes delivery receipts, never records that were merely sent. A batch of
//! receipts is one transaction, so the fsync cost is shared.
//!
//! Values are JSON, so fields can be added without a migration.

#![deny(missing_docs)]

use std::path::{Path, PathBuf};

use redb::{Database, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::{Deserialize, Serialize};
use wirefeed_model::{FeedId, StoryId};

const STORIES: TableDefinition<&str, &[u8]> = TableDefinition::new("stories");
const FEEDS: TableDefinition<&str, &[u8]> = TableDefinition::new("feeds");
/// Items that went to the dead-letter topic without becoming a record
/// (their processing panicked), by fingerprint; the value is when, Unix
/// seconds. A re-poll skips them instead of dead-lettering them again.
const DEAD_ITEMS: TableDefinition<&str, i64> = TableDefinition::new("dead_items");

/// What the store knows of a published story.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoryState {
    /// The last version the broker acknowledged.
    pub version: u32,
    /// That version's content hash.
    pub content_hash: String,
    /// When it was acknowledged, Unix seconds.
    pub published_at: i64,
    /// True when this version went to the dead-letter topic instead of the
    /// record topic (it can never be delivered there); the next changed
    /// version is published as usual.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dead_lettered: bool,
}

/// What the store knows of a feed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FeedState {
    /// The URL the validators belong to: validators of another URL are
    /// never sent.
    pub url: String,
    /// The `ETag` of the last fully delivered copy.
    pub etag: Option<String>,
    /// The `Last-Modified` of the last fully delivered copy.
    pub last_modified: Option<String>,
    /// When the feed is next due, Unix seconds: a restart waits for it
    /// instead of polling every feed at once.
    #[serde(default)]
    pub next_poll_at: Option<i64>,
    /// Consecutive failed polls (0 after a success).
    #[serde(default)]
    pub error_streak: u32,
    /// When the feed was last polled, Unix seconds.
    #[serde(default)]
    pub last_polled_at: Option<i64>,
    /// The last poll's error, when it failed.
    #[serde(default)]
    pub last_error: Option<String>,
    /// Where the feed moved for good (a 301/308 chain); polls go there
    /// until the configured URL changes.
    #[serde(default)]
    pub moved_to: Option<String>,
    /// The adaptive poll interval, seconds (busy feeds shorter, quiet ones
    /// longer).
    #[serde(default)]
    pub interval_secs: Option<u64>,
    /// The feed's own least interval (RSS ttl, sy:updatePeriod), seconds.
    #[serde(default)]
    pub hint_interval_secs: Option<u64>,
    /// Hours (UTC) the feed asked not to be polled in.
    #[serde(default)]
    pub skip_hours: Vec<u32>,
    /// Days (0 = Monday) the feed asked not to be polled on.
    #[serde(default)]
    pub skip_days: Vec<u32>,
}

/// A delivery receipt: the broker acknowledged this version of this story.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The story.
    pub id: StoryId,
    /// What was acknowledged.
    pub state: StoryState,
}

/// A state store failure.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The store file could not be opened or created.
    #[error("failed to open state store {path}: {source}", path = path.display())]
    Open {
        /// The store file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: redb::Error,
    },
    /// A read or write failed.
    #[error("state store {path}: {source}", path = path.display())]
    Storage {
        /// The store file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: redb::Error,
    },
    /// A stored value could not be decoded.
    #[error("state store {path}: corrupt value for {key}: {source}", path = path.display())]
    Corrupt {
        /// The store file.
        path: PathBuf,
        /// The key.
        key: String,
        /// The decoding error.
        #[source]
        source: serde_json::Error,
    },
}

impl StateError {
    /// Returns the bounded metric label for this error.
    pub fn error_type(&self) -> &'static str {
        match self {
            StateError::Open { .. } => "open",
            StateError::Storage { .. } => "storage",
            StateError::Corrupt { .. } => "corrupt",
        }
    }
}

/// The state store.
#[derive(Debug)]
pub struct StateStore {
    db: Database,
    path: PathBuf,
}

impl StateStore {
    /// Opens the store at `path`, creating it (and its directory) when
    /// missing.
    pub fn open(path: &Path) -> Result<Self, StateError> {
        let open_error = |source: redb::Error| StateError::Open {
            path: path.to_owned(),
            source,
        };
        if let Some(parent) = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(|err| open_error(redb::Error::Io(err)))?;
        }
        let db = Database::create(path).map_err(|err| open_error(err.into()))?;
        let store = Self {
            db,
            path: path.to_owned(),
        };
        let txn = store
            .db
            .begin_write()
            .map_err(|err| open_error(err.into()))?;
        txn.open_table(STORIES)
            .map_err(|err| open_error(err.into()))?;
        txn.open_table(FEEDS)
            .map_err(|err| open_error(err.into()))?;
        txn.open_table(DEAD_ITEMS)
            .map_err(|err| open_error(err.into()))?;
        txn.commit().map_err(|err| open_error(err.into()))?;
        Ok(store)
    }

    /// Returns the store file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Returns what is known of a story, if it was ever published.
    pub fn story(&self, id: &StoryId) -> Result<Option<StoryState>, StateError> {
        self.get(STORIES, id.as_str())
    }

    /// Returns what is known of a feed.
    pub fn feed(&self, id: &FeedId) -> Result<Option<FeedState>, StateError> {
        self.get(FEEDS, id.as_str())
    }

    /// Records delivery receipts in one transaction. A receipt for an older
    /// version than the stored one is ignored, so receipts may arrive in any
    /// order.
    pub fn commit_published(&self, receipts: &[Published]) -> Result<(), StateError> {
        if receipts.is_empty() {
            return Ok(());
        }
        let txn = self.db.begin_write().map_err(|err| self.storage(err))?;
        {
            let mut table = txn.open_table(STORIES).map_err(|err| self.storage(err))?;
            for receipt in receipts {
                let key = receipt.id.as_str();
                let stored: Option<StoryState> =
                    match table.get(key).map_err(|err| self.storage(err))? {
                        Some(value) => Some(self.decode(key, value.value())?),
                        None => None,
                    };
                if stored.is_some_and(|stored| stored.version >= receipt.state.version) {
                    continue;
                }
                let bytes = encode(&receipt.state);
                table
                    .insert(key, bytes.as_slice())
                    .map_err(|err| self.storage(err))?;
            }
        }
        txn.commit().map_err(|err| self.storage(err))
    }

    /// Whether an item with this fingerprint was dead-lettered before.
    pub fn is_dead_item(&self, fingerprint: &str) -> Result<bool, StateError> {
        let txn = self.db.begin_read().map_err(|err| self.storage(err))?;
        let table = txn
            .open_table(DEAD_ITEMS)
            .map_err(|err| self.storage(err))?;
        Ok(table
            .get(fingerprint)
            .map_err(|err| self.storage(err))?
            .is_some())
    }

    /// Records items whose dead letters the broker acknowledged.
    pub fn commit_dead_items(&self, fingerprints: &[String], at: i64) -> Result<(), StateError> {
        if fingerprints.is_empty() {
            return Ok(());
        }
        let txn = self.db.begin_write().map_err(|err| self.storage(err))?;
        {
            let mut table = txn
                .open_table(DEAD_ITEMS)
                .map_err(|err| self.storage(err))?;
            for fingerprint in fingerprints {
                table
                    .insert(fingerprint.as_str(), at)
                    .map_err(|err| self.storage(err))?;
            }
        }
        txn.commit().map_err(|err| self.storage(err))
    }

    /// Stores a feed's validators.
    pub fn set_feed(&self, id: &FeedId, state: &FeedState) -> Result<(), StateError> {
        let txn = self.db.begin_write().map_err(|err| self.storage(err))?;
        {
            let mut table = txn.open_table(FEEDS).map_err(|err| self.storage(err))?;
            let bytes = encode(state);
            table
                .insert(id.as_str(), bytes.as_slice())
                .map_err(|err| self.storage(err))?;
        }
        txn.commit().map_err(|err| self.storage(err))
    }

    /// Returns how many stories the store knows.
    pub fn story_count(&self) -> Result<u64, StateError> {
        let txn = self.db.begin_read().map_err(|err| self.storage(err))?;
        let table = txn.open_table(STORIES).map_err(|err| self.storage(err))?;
        table.len().map_err(|err| self.storage(err))
    }

    fn get<T: for<'de> Deserialize<'de>>(
        &self,
        definition: TableDefinition<&str, &[u8]>,
        key: &str,
    ) -> Result<Option<T>, StateError> {
        let txn = self.db.begin_read().map_err(|err| self.storage(err))?;
        let table = txn
            .open_table(definition)
            .map_err(|err| self.storage(err))?;
        let value = table.get(key).map_err(|err| self.storage(err))?;
        value
            .map(|value| self.decode(key, value.value()))
            .transpose()
    }

    fn decode<T: for<'de> Deserialize<'de>>(
        &self,
        key: &str,
        bytes: &[u8],
    ) -> Result<T, StateError> {
        serde_json::from_slice(bytes).map_err(|source| StateError::Corrupt {
            path: self.path.clone(),
            key: key.to_owned(),
            source,
        })
    }

    fn storage(&self, err: impl Into<redb::Error>) -> StateError {
        StateError::Storage {
            path: self.path.clone(),
            source: err.into(),
        }
    }
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("state values are plain structs that always serialize")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt(id: &str, version: u32, hash: &str) -> Published {
        Published {
            id: StoryId::from_stored(id),
            state: StoryState {
                version,
                content_hash: hash.to_owned(),
                published_at: 1_726_000_000,
                dead_lettered: false,
            },
        }
    }

    #[test]
    fn receipts_survive_reopen_and_never_go_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/state.redb");
        {
            let store = StateStore::open(&path).unwrap();
            store
                .commit_published(&[receipt("a", 1, "h1"), receipt("b", 1, "x")])
                .unwrap();
            store.commit_published(&[receipt("a", 2, "h2")]).unwrap();
            store.commit_published(&[receipt("a", 1, "h1")]).unwrap();
        }
        let store = StateStore::open(&path).unwrap();
        let story = store.story(&StoryId::from_stored("a")).unwrap().unwrap();
        assert_eq!((story.version, story.content_hash.as_str()), (2, "h2"));
        assert_eq!(store.story_count().unwrap(), 2);
        assert_eq!(store.story(&StoryId::from_stored("missing")).unwrap(), None);
    }

    #[test]
    fn dead_items_are_remembered_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.redb");
        {
            let store = StateStore::open(&path).unwrap();
            assert!(!store.is_dead_item("feed-a:5e1f").unwrap());
            store
                .commit_dead_items(&["feed-a:5e1f".to_owned()], 1_726_000_000)
                .unwrap();
        }
        let store = StateStore::open(&path).unwrap();
        assert!(store.is_dead_item("feed-a:5e1f").unwrap());
        assert!(!store.is_dead_item("feed-a:0000").unwrap());
    }

    #[test]
    fn feed_validators_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::open(&dir.path().join("state.redb")).unwrap();
        let feed = FeedId::new("ap-top");
        assert_eq!(store.feed(&feed).unwrap(), None);
        let state = FeedState {
            url: "https://wire.example/ap.xml".to_owned(),
            etag: Some("\"abc\"".to_owned()),
            next_poll_at: Some(1_726_000_300),
            error_streak: 2,
            ..FeedState::default()
        };
        store.set_feed(&feed, &state).unwrap();
        assert_eq!(store.feed(&feed).unwrap(), Some(state));
    }

    #[test]
    fn feed_state_written_before_schedules_existed_still_reads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.redb");
        let store = StateStore::open(&path).unwrap();
        let old = br#"{"url":"https://wire.example/a.xml","etag":null,"last_modified":"x"}"#;
        let txn = store.db.begin_write().unwrap();
        txn.open_table(FEEDS)
            .unwrap()
            .insert("a", old.as_slice())
            .unwrap();
        txn.commit().unwrap();
        let state = store.feed(&FeedId::new("a")).unwrap().unwrap();
        assert_eq!(state.error_streak, 0);
        assert_eq!(state.next_poll_at, None);
        assert_eq!(state.last_modified.as_deref(), Some("x"));
    }

    #[test]
    fn garbage_file_is_an_open_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.redb");
        std::fs::write(&path, b"this is not a redb file at all, just some bytes").unwrap();
        let err = StateStore::open(&path).unwrap_err();
        assert_eq!(err.error_type(), "open");
        assert!(err.to_string().contains("state.redb"));
    }
}
