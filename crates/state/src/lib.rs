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
//!
//! Beside the stories, three indexes serve the version and duplicate
//! decisions and keep the store bounded:
//!
//! - `aliases`: a story's URL key (canonical URL, else link) → its id, so a
//!   re-issued story under a new guid is found as the same story;
//! - `simhash_bands`: each 16-bit quarter of a story's 64-bit body SimHash
//!   → ids, so stories within 3 bits are found without a scan
//!   (pigeonhole: two hashes 3 bits apart agree on at least one quarter);
//! - `by_time`: (last seen, id), so [`StateStore::expire`] removes stories
//!   not seen within the retention in order, with their index entries.

#![deny(missing_docs)]

use std::path::{Path, PathBuf};

use redb::{
    Database, Durability, MultimapTableDefinition, ReadableTable, ReadableTableMetadata,
    TableDefinition,
};
use serde::{Deserialize, Serialize};
use wirefeed_model::{FeedId, StoryId};

const STORIES: TableDefinition<&str, &[u8]> = TableDefinition::new("stories");
const FEEDS: TableDefinition<&str, &[u8]> = TableDefinition::new("feeds");
/// Items that went to the dead-letter topic without becoming a record
/// (their processing panicked), by fingerprint; the value is when, Unix
/// seconds. A re-poll skips them instead of dead-lettering them again.
const DEAD_ITEMS: TableDefinition<&str, i64> = TableDefinition::new("dead_items");
const ALIASES: TableDefinition<u64, &str> = TableDefinition::new("url_aliases");
const SIMHASH_BANDS: MultimapTableDefinition<(u8, u16), &str> =
    MultimapTableDefinition::new("simhash_bands");
const BY_TIME: TableDefinition<(i64, &str), ()> = TableDefinition::new("by_time");

/// Hamming distance the SimHash index finds every match within.
pub const MAX_INDEXED_DISTANCE: u32 = 3;

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
    /// The body's 64-bit SimHash, for near-duplicate lookups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simhash: Option<u64>,
    /// [`url_hash`] of the URL (canonical, else link) the story is known
    /// by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_hash: Option<u64>,
    /// A hash of the normalized title, to tell a re-issued story from
    /// another story that reuses a URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_hash: Option<u64>,
    /// The story this one near-duplicates, when it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
    /// True when this version was a near-duplicate held back (not
    /// published) by configuration.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub withheld: bool,
    /// When a poll last saw the story, Unix seconds (0: when published).
    /// Retention counts from here, so a story a feed keeps listing never
    /// expires and comes back as new.
    #[serde(default)]
    pub seen_at: i64,
}

impl StoryState {
    /// A story state with only what every version has.
    pub fn new(version: u32, content_hash: impl Into<String>, published_at: i64) -> Self {
        Self {
            version,
            content_hash: content_hash.into(),
            published_at,
            dead_lettered: false,
            simhash: None,
            url_hash: None,
            title_hash: None,
            duplicate_of: None,
            withheld: false,
            seen_at: published_at,
        }
    }

    fn last_seen(&self) -> i64 {
        self.seen_at.max(self.published_at)
    }
}

/// What [`StateStore::expire`] removed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Expired {
    /// Stories not seen within the retention.
    pub stories: u64,
    /// Dead-item fingerprints older than the retention.
    pub dead_items: u64,
    /// The removed story ids.
    pub story_ids: Vec<String>,
    /// The removed dead-item fingerprints.
    pub fingerprints: Vec<String>,
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
        if !path.exists() {
            // A new store is made beside its final name and renamed into
            // place once complete, so a crash during creation never leaves
            // a half-written file where the store should be.
            let mut partial = path.as_os_str().to_owned();
            partial.push(".creating");
            let partial = PathBuf::from(partial);
            let _ = std::fs::remove_file(&partial);
            let db = Database::create(&partial).map_err(|err| open_error(err.into()))?;
            let txn = db.begin_write().map_err(|err| open_error(err.into()))?;
            txn.open_table(STORIES)
                .map_err(|err| open_error(err.into()))?;
            txn.commit().map_err(|err| open_error(err.into()))?;
            drop(db);
            std::fs::File::open(&partial)
                .and_then(|file| file.sync_all())
                .and_then(|()| std::fs::rename(&partial, path))
                .map_err(|err| open_error(redb::Error::Io(err)))?;
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
        txn.open_table(ALIASES)
            .map_err(|err| open_error(err.into()))?;
        txn.open_multimap_table(SIMHASH_BANDS)
            .map_err(|err| open_error(err.into()))?;
        txn.open_table(BY_TIME)
            .map_err(|err| open_error(err.into()))?;
        txn.commit().map_err(|err| open_error(err.into()))?;
        store.index_old_stories().map_err(|err| match err {
            StateError::Storage { source, .. } => open_error(source),
            other => other,
        })?;
        Ok(store)
    }

    /// Stores written before the time index existed get it built once.
    fn index_old_stories(&self) -> Result<(), StateError> {
        let txn = self.db.begin_write().map_err(|err| self.storage(err))?;
        {
            let stories = txn.open_table(STORIES).map_err(|err| self.storage(err))?;
            let mut by_time = txn.open_table(BY_TIME).map_err(|err| self.storage(err))?;
            let unindexed = by_time.is_empty().map_err(|err| self.storage(err))?
                && !stories.is_empty().map_err(|err| self.storage(err))?;
            if unindexed {
                for entry in stories.iter().map_err(|err| self.storage(err))? {
                    let (key, value) = entry.map_err(|err| self.storage(err))?;
                    let state: StoryState = self.decode(key.value(), value.value())?;
                    by_time
                        .insert((state.last_seen(), key.value()), ())
                        .map_err(|err| self.storage(err))?;
                }
            }
        }
        txn.commit().map_err(|err| self.storage(err))
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

    /// Records delivery receipts in one transaction, with their index
    /// entries. A receipt for an older version than the stored one is
    /// ignored, so receipts may arrive in any order.
    pub fn commit_published(&self, receipts: &[Published]) -> Result<(), StateError> {
        if receipts.is_empty() {
            return Ok(());
        }
        let txn = self.db.begin_write().map_err(|err| self.storage(err))?;
        {
            let mut stories = txn.open_table(STORIES).map_err(|err| self.storage(err))?;
            let mut aliases = txn.open_table(ALIASES).map_err(|err| self.storage(err))?;
            let mut bands = txn
                .open_multimap_table(SIMHASH_BANDS)
                .map_err(|err| self.storage(err))?;
            let mut by_time = txn.open_table(BY_TIME).map_err(|err| self.storage(err))?;
            for receipt in receipts {
                let key = receipt.id.as_str();
                let stored: Option<StoryState> =
                    match stories.get(key).map_err(|err| self.storage(err))? {
                        Some(value) => Some(self.decode(key, value.value())?),
                        None => None,
                    };
                if stored
                    .as_ref()
                    .is_some_and(|stored| stored.version >= receipt.state.version)
                {
                    continue;
                }
                let mut state = receipt.state.clone();
                state.seen_at = state.seen_at.max(state.published_at);
                if let Some(old) = &stored {
                    by_time
                        .remove((old.last_seen(), key))
                        .map_err(|err| self.storage(err))?;
                    if let Some(simhash) = old.simhash
                        && state.simhash != Some(simhash)
                    {
                        for band in simhash_bands(simhash) {
                            bands.remove(band, key).map_err(|err| self.storage(err))?;
                        }
                    }
                }
                if let Some(simhash) = state.simhash {
                    for band in simhash_bands(simhash) {
                        bands.insert(band, key).map_err(|err| self.storage(err))?;
                    }
                }
                if let Some(url_hash) = state.url_hash {
                    let known = aliases
                        .get(url_hash)
                        .map_err(|err| self.storage(err))?
                        .is_some();
                    if !known {
                        aliases
                            .insert(url_hash, key)
                            .map_err(|err| self.storage(err))?;
                    }
                }
                by_time
                    .insert((state.last_seen(), key), ())
                    .map_err(|err| self.storage(err))?;
                let bytes = encode(&state);
                stories
                    .insert(key, bytes.as_slice())
                    .map_err(|err| self.storage(err))?;
            }
        }
        txn.commit().map_err(|err| self.storage(err))
    }

    /// Returns the id of the story known by `url`, if any. The lookup is
    /// by a 64-bit hash of the URL; callers confirm a match (same title or
    /// a close body) before treating it as the same story.
    pub fn alias(&self, url: &str) -> Result<Option<StoryId>, StateError> {
        let txn = self.db.begin_read().map_err(|err| self.storage(err))?;
        let table = txn.open_table(ALIASES).map_err(|err| self.storage(err))?;
        Ok(table
            .get(url_hash(url))
            .map_err(|err| self.storage(err))?
            .map(|id| StoryId::from_stored(id.value())))
    }

    /// Returns the earliest published story whose SimHash is within
    /// `max_distance` bits (at most [`MAX_INDEXED_DISTANCE`]) of `simhash`,
    /// other than `except`.
    pub fn near_duplicate(
        &self,
        simhash: u64,
        max_distance: u32,
        except: &StoryId,
    ) -> Result<Option<(StoryId, StoryState)>, StateError> {
        let max_distance = max_distance.min(MAX_INDEXED_DISTANCE);
        let txn = self.db.begin_read().map_err(|err| self.storage(err))?;
        let bands = txn
            .open_multimap_table(SIMHASH_BANDS)
            .map_err(|err| self.storage(err))?;
        let stories = txn.open_table(STORIES).map_err(|err| self.storage(err))?;
        let mut best: Option<(StoryId, StoryState)> = None;
        let mut checked = std::collections::HashSet::new();
        for band in simhash_bands(simhash) {
            for id in bands.get(band).map_err(|err| self.storage(err))? {
                let id = id.map_err(|err| self.storage(err))?;
                let id = id.value();
                if id == except.as_str() || !checked.insert(id.to_owned()) {
                    continue;
                }
                let Some(value) = stories.get(id).map_err(|err| self.storage(err))? else {
                    continue;
                };
                let state: StoryState = self.decode(id, value.value())?;
                let close = state
                    .simhash
                    .is_some_and(|other| (other ^ simhash).count_ones() <= max_distance);
                if close
                    && best
                        .as_ref()
                        .is_none_or(|(_, found)| state.published_at < found.published_at)
                {
                    best = Some((StoryId::from_stored(id), state));
                }
            }
        }
        Ok(best)
    }

    /// Marks stories as seen now by a poll that found them unchanged, so
    /// retention counts from the last time a feed listed them. Written
    /// without an fsync: a lost touch only shortens a story's retention.
    pub fn touch(&self, ids: &[StoryId], now: i64) -> Result<(), StateError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut txn = self.db.begin_write().map_err(|err| self.storage(err))?;
        txn.set_durability(Durability::None);
        {
            let mut stories = txn.open_table(STORIES).map_err(|err| self.storage(err))?;
            let mut by_time = txn.open_table(BY_TIME).map_err(|err| self.storage(err))?;
            for id in ids {
                let key = id.as_str();
                let stored: Option<StoryState> =
                    match stories.get(key).map_err(|err| self.storage(err))? {
                        Some(value) => Some(self.decode(key, value.value())?),
                        None => None,
                    };
                let Some(mut state) = stored else { continue };
                if state.last_seen() >= now {
                    continue;
                }
                by_time
                    .remove((state.last_seen(), key))
                    .map_err(|err| self.storage(err))?;
                state.seen_at = now;
                by_time
                    .insert((now, key), ())
                    .map_err(|err| self.storage(err))?;
                let bytes = encode(&state);
                stories
                    .insert(key, bytes.as_slice())
                    .map_err(|err| self.storage(err))?;
            }
        }
        txn.commit().map_err(|err| self.storage(err))
    }

    /// Removes stories last seen before `before` (Unix seconds) with their
    /// index entries, and dead-item fingerprints older than it; at most
    /// `limit` stories per call, so a sweep never holds the store long.
    pub fn expire(&self, before: i64, limit: usize) -> Result<Expired, StateError> {
        let mut expired = Expired::default();
        let txn = self.db.begin_write().map_err(|err| self.storage(err))?;
        let mut old: Vec<String> = Vec::new();
        {
            let by_time = txn.open_table(BY_TIME).map_err(|err| self.storage(err))?;
            for entry in by_time
                .range(..(before, ""))
                .map_err(|err| self.storage(err))?
                .take(limit)
            {
                let (key, _) = entry.map_err(|err| self.storage(err))?;
                old.push(key.value().1.to_owned());
            }
        }
        for id in old {
            if self.remove_story(&txn, &id)? {
                expired.stories += 1;
                expired.story_ids.push(id);
            }
        }
        {
            let mut dead = txn
                .open_table(DEAD_ITEMS)
                .map_err(|err| self.storage(err))?;
            let mut stale: Vec<String> = Vec::new();
            for entry in dead.iter().map_err(|err| self.storage(err))? {
                let (key, at) = entry.map_err(|err| self.storage(err))?;
                if at.value() < before {
                    stale.push(key.value().to_owned());
                }
            }
            for key in &stale {
                dead.remove(key.as_str()).map_err(|err| self.storage(err))?;
            }
            expired.dead_items = stale.len() as u64;
            expired.fingerprints = stale;
        }
        txn.commit().map_err(|err| self.storage(err))?;
        Ok(expired)
    }

    /// Removes one story and its index entries, or one dead-item
    /// fingerprint (a changelog tombstone read back).
    pub fn forget(&self, story: Option<&str>, fingerprint: Option<&str>) -> Result<(), StateError> {
        let txn = self.db.begin_write().map_err(|err| self.storage(err))?;
        if let Some(id) = story {
            self.remove_story(&txn, id)?;
        }
        if let Some(fingerprint) = fingerprint {
            let mut dead = txn
                .open_table(DEAD_ITEMS)
                .map_err(|err| self.storage(err))?;
            dead.remove(fingerprint).map_err(|err| self.storage(err))?;
        }
        txn.commit().map_err(|err| self.storage(err))
    }

    /// Removes a story with its time, SimHash and URL index entries, in
    /// `txn`; false when there was no such story.
    fn remove_story(&self, txn: &redb::WriteTransaction, id: &str) -> Result<bool, StateError> {
        let mut stories = txn.open_table(STORIES).map_err(|err| self.storage(err))?;
        let removed = stories
            .remove(id)
            .map_err(|err| self.storage(err))?
            .map(|value| value.value().to_vec());
        let Some(bytes) = removed else {
            return Ok(false);
        };
        // An unreadable entry is dropped all the same; its index entries
        // then point at nothing and are skipped by lookups.
        let Ok(state) = serde_json::from_slice::<StoryState>(&bytes) else {
            return Ok(true);
        };
        let mut by_time = txn.open_table(BY_TIME).map_err(|err| self.storage(err))?;
        by_time
            .remove((state.last_seen(), id))
            .map_err(|err| self.storage(err))?;
        if let Some(simhash) = state.simhash {
            let mut bands = txn
                .open_multimap_table(SIMHASH_BANDS)
                .map_err(|err| self.storage(err))?;
            for band in simhash_bands(simhash) {
                bands.remove(band, id).map_err(|err| self.storage(err))?;
            }
        }
        if let Some(url_hash) = state.url_hash {
            let mut aliases = txn.open_table(ALIASES).map_err(|err| self.storage(err))?;
            let points_here = aliases
                .get(url_hash)
                .map_err(|err| self.storage(err))?
                .is_some_and(|alias| alias.value() == id);
            if points_here {
                aliases.remove(url_hash).map_err(|err| self.storage(err))?;
            }
        }
        Ok(true)
    }

    /// The store file's size in bytes.
    pub fn file_size(&self) -> u64 {
        std::fs::metadata(&self.path).map_or(0, |metadata| metadata.len())
    }

    /// Compacts the file (frees the pages expired entries left).
    pub fn compact(&mut self) -> Result<bool, StateError> {
        self.db.compact().map_err(|err| self.storage(err))
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

/// The key a story's URL is indexed by: the first 64 bits of its SHA-256.
pub fn url_hash(url: &str) -> u64 {
    let digest = <sha2::Sha256 as sha2::Digest>::digest(url.as_bytes());
    digest[..8]
        .iter()
        .fold(0u64, |hash, byte| hash << 8 | u64::from(*byte))
}

/// The four 16-bit quarters of a SimHash, tagged by position.
fn simhash_bands(simhash: u64) -> [(u8, u16); 4] {
    // Truncation to 16 bits is the point: each band is one quarter.
    #[allow(clippy::cast_possible_truncation)]
    [0u8, 1, 2, 3].map(|band| (band, (simhash >> (16 * u32::from(band))) as u16))
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
            state: StoryState::new(version, hash, 1_726_000_000),
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

    fn indexed(id: &str, version: u32, simhash: u64, url: &str, at: i64) -> Published {
        let mut state = StoryState::new(version, format!("h{version}"), at);
        state.simhash = Some(simhash);
        state.url_hash = Some(url_hash(url));
        Published {
            id: StoryId::from_stored(id),
            state,
        }
    }

    #[test]
    fn near_duplicates_within_three_bits_are_found_and_the_earliest_wins() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::open(&dir.path().join("state.redb")).unwrap();
        let base: u64 = 0x9e37_79b9_7f4a_7c15;
        store
            .commit_published(&[
                indexed("first", 1, base ^ 0b1, "https://a.example/1", 100),
                indexed("later", 1, base ^ 0b10, "https://b.example/1", 200),
                indexed("other", 1, !base, "https://c.example/1", 50),
            ])
            .unwrap();
        let me = StoryId::from_stored("me");
        // Three bits from "first" (one flipped in each of three quarters).
        let probe = base ^ (1 << 5) ^ (1 << 21);
        let (id, state) = store.near_duplicate(probe, 3, &me).unwrap().unwrap();
        assert_eq!((id.as_str(), state.published_at), ("first", 100));
        // A story is never its own duplicate.
        let (id, _) = store
            .near_duplicate(base, 3, &StoryId::from_stored("first"))
            .unwrap()
            .unwrap();
        assert_eq!(id.as_str(), "later");
        // Seven bits away from everything: no match.
        assert!(
            store
                .near_duplicate(base ^ 0x7f00_0000_0000, 3, &me)
                .unwrap()
                .is_none()
        );
        assert_eq!(
            store
                .alias("https://b.example/1")
                .unwrap()
                .unwrap()
                .as_str(),
            "later"
        );
    }

    #[test]
    fn expiry_removes_stories_not_seen_within_retention_with_their_index_entries() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::open(&dir.path().join("state.redb")).unwrap();
        let base: u64 = 0x0123_4567_89ab_cdef;
        store
            .commit_published(&[
                indexed("old", 1, base, "https://a.example/old", 1_000),
                indexed("listed", 1, !base, "https://a.example/listed", 1_000),
                indexed(
                    "new",
                    1,
                    base.rotate_left(17),
                    "https://a.example/new",
                    5_000,
                ),
            ])
            .unwrap();
        store.commit_dead_items(&["f:1".to_owned()], 1_000).unwrap();
        // A feed still lists "listed": it is seen again and stays.
        store
            .touch(&[StoryId::from_stored("listed")], 4_000)
            .unwrap();
        let expired = store.expire(3_000, 1_000).unwrap();
        assert_eq!(
            expired,
            Expired {
                stories: 1,
                dead_items: 1,
                story_ids: vec!["old".to_owned()],
                fingerprints: vec!["f:1".to_owned()],
            }
        );
        let me = StoryId::from_stored("me");
        assert_eq!(store.story(&StoryId::from_stored("old")).unwrap(), None);
        assert_eq!(store.alias("https://a.example/old").unwrap(), None);
        assert!(store.near_duplicate(base, 0, &me).unwrap().is_none());
        assert!(!store.is_dead_item("f:1").unwrap());
        assert!(
            store
                .story(&StoryId::from_stored("listed"))
                .unwrap()
                .is_some()
        );
        assert!(store.near_duplicate(!base, 0, &me).unwrap().is_some());
        assert_eq!(store.story_count().unwrap(), 2);
        // A new version moves the story in time and keeps one index entry.
        store
            .commit_published(&[indexed(
                "new",
                2,
                base.rotate_left(17),
                "https://a.example/new",
                9_000,
            )])
            .unwrap();
        assert_eq!(store.expire(6_000, 1_000).unwrap().stories, 1);
        assert_eq!(store.story_count().unwrap(), 1);
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
