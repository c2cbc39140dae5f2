//! Spool directories: wire services that deliver by FTP or SFTP drop one
//! file per document into a folder.
//!
//! A file is taken once it is complete: writers are expected to write under
//! a temporary name (`.name`, `*.tmp`, `*.part`, `*.partial`, `*.filepart`)
//! and rename, and a file must also have been left alone for `settle` so a
//! writer that cannot rename is not read half-written. After processing, a
//! file moves to `done/`, or to `failed/` next to a `<name>.reason` file
//! saying why, so a restart never takes it again and an operator can see
//! and requeue what failed. A file whose stories could not be delivered
//! stays where it is and is taken again at the next scan.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// A spool directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpoolDir {
    root: PathBuf,
    settle: Duration,
}

/// Suffixes of files still being written.
const PARTIAL_SUFFIXES: &[&str] = &[".tmp", ".part", ".partial", ".filepart", ".crdownload"];

impl SpoolDir {
    /// Returns the spool at `root`; files must be untouched for `settle`.
    pub fn new(root: impl Into<PathBuf>, settle: Duration) -> Self {
        Self {
            root: root.into(),
            settle,
        }
    }

    /// The spool folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Complete files waiting, oldest first, at most `limit`.
    pub fn ready_files(&self, limit: usize) -> std::io::Result<Vec<PathBuf>> {
        let now = SystemTime::now();
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&self.root)? {
            let entry = entry?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || PARTIAL_SUFFIXES.iter().any(|suffix| name.ends_with(suffix))
            {
                continue;
            }
            let metadata = entry.metadata()?;
            if !metadata.is_file() {
                continue;
            }
            let modified = metadata.modified().unwrap_or(now);
            if now.duration_since(modified).unwrap_or_default() < self.settle {
                continue;
            }
            files.push((modified, entry.path()));
        }
        files.sort();
        Ok(files
            .into_iter()
            .take(limit)
            .map(|(_, path)| path)
            .collect())
    }

    /// Moves a processed file to `done/`.
    pub fn mark_done(&self, file: &Path) -> std::io::Result<PathBuf> {
        self.move_to("done", file)
    }

    /// Moves a file that cannot be processed to `failed/`, with the reason
    /// in `failed/<name>.reason`.
    pub fn mark_failed(&self, file: &Path, reason: &str) -> std::io::Result<PathBuf> {
        let moved = self.move_to("failed", file)?;
        let mut reason_path = moved.clone().into_os_string();
        reason_path.push(".reason");
        std::fs::write(PathBuf::from(reason_path), format!("{reason}\n"))?;
        Ok(moved)
    }

    fn move_to(&self, folder: &str, file: &Path) -> std::io::Result<PathBuf> {
        let target_dir = self.root.join(folder);
        std::fs::create_dir_all(&target_dir)?;
        let name = file
            .file_name()
            .map(|name| name.to_owned())
            .unwrap_or_default();
        let mut target = target_dir.join(&name);
        if target.exists() {
            // A file of the same name was processed before: keep both.
            let stamp = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|since| since.as_nanos())
                .unwrap_or(0);
            let mut renamed = name.clone();
            renamed.push(format!(".{stamp}"));
            target = target_dir.join(renamed);
        }
        std::fs::rename(file, &target)?;
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_complete_files_are_taken_and_moved_once() {
        let dir = std::env::temp_dir().join(format!("wirefeed-spool-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.xml"), "<rss/>").unwrap();
        std::fs::write(dir.join("b.xml.tmp"), "<rss/>").unwrap();
        std::fs::write(dir.join(".c.xml"), "<rss/>").unwrap();
        let spool = SpoolDir::new(&dir, Duration::ZERO);
        let ready = spool.ready_files(10).unwrap();
        assert_eq!(ready, vec![dir.join("a.xml")]);

        let done = spool.mark_done(&ready[0]).unwrap();
        assert_eq!(done, dir.join("done/a.xml"));
        assert!(spool.ready_files(10).unwrap().is_empty());

        // The same name again later is kept next to the first.
        std::fs::write(dir.join("a.xml"), "<broken").unwrap();
        let failed = spool
            .mark_failed(&dir.join("a.xml"), "malformed feed")
            .unwrap();
        assert_eq!(failed, dir.join("failed/a.xml"));
        assert_eq!(
            std::fs::read_to_string(dir.join("failed/a.xml.reason")).unwrap(),
            "malformed feed\n"
        );
        std::fs::write(dir.join("a.xml"), "<rss/>").unwrap();
        let again = spool.mark_done(&dir.join("a.xml")).unwrap();
        assert_ne!(again, dir.join("done/a.xml"));
        assert!(again.exists() && dir.join("done/a.xml").exists());

        // A file still being written (touched just now) waits for `settle`.
        std::fs::write(dir.join("fresh.xml"), "<rss/>").unwrap();
        let patient = SpoolDir::new(&dir, Duration::from_secs(3600));
        assert!(patient.ready_files(10).unwrap().is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
