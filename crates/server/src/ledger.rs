//! The webhook ledger: which inbound events (by source and event id) were
//! already processed, so that a redelivered event changes nothing.
//!
//! An event is recorded only once it was processed (applied, or found a
//! duplicate by the component), so a delivery that failed (for example a
//! 503) can be redelivered and processed then.
//!
//! [`MemoryLedger`] lives and dies with the process (for `--store memory`);
//! [`SqliteLedger`] keeps one small table in its own SQLite file next to the
//! event store (`orders.db` -> `orders.webhooks.db`), so the event store's
//! schema stays the component's alone.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context as _;
use rusqlite::{Connection, OptionalExtension as _, params};

/// Remembers processed webhook events.
pub trait WebhookLedger: Send + Sync {
    /// True when the event `event_id` from `source` was processed already.
    fn contains(&self, source: &str, event_id: &str) -> anyhow::Result<bool>;

    /// Records the event as processed; false if it was recorded already.
    fn record(
        &self,
        source: &str,
        event_id: &str,
        event_type: &str,
        received_at_ms: u64,
    ) -> anyhow::Result<bool>;
}

/// A ledger in memory.
#[derive(Debug, Default)]
pub struct MemoryLedger {
    seen: Mutex<HashSet<(String, String)>>,
}

impl MemoryLedger {
    pub fn new() -> Self {
        Self::default()
    }
}

impl WebhookLedger for MemoryLedger {
    fn contains(&self, source: &str, event_id: &str) -> anyhow::Result<bool> {
        let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(seen.contains(&(source.to_owned(), event_id.to_owned())))
    }

    fn record(&self, source: &str, event_id: &str, _: &str, _: u64) -> anyhow::Result<bool> {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(seen.insert((source.to_owned(), event_id.to_owned())))
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS webhook_events (
    source      TEXT    NOT NULL,
    event_id    TEXT    NOT NULL,
    event_type  TEXT    NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (source, event_id)
) WITHOUT ROWID;
";

/// A ledger in a SQLite file; several hosts may share it.
pub struct SqliteLedger {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl SqliteLedger {
    /// The ledger file that goes with the event store at `store`:
    /// `orders.db` -> `orders.webhooks.db`.
    pub fn path_beside(store: &Path) -> PathBuf {
        let stem = store
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "orders".to_owned());
        store.with_file_name(format!("{stem}.webhooks.db"))
    }

    /// Opens (creating if needed) the ledger at `path`.
    pub fn open(path: impl AsRef<Path>) -> anyhow::Result<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating the directory {}", parent.display()))?;
        }
        let conn = Connection::open(&path)
            .with_context(|| format!("opening the webhook ledger {}", path.display()))?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(SCHEMA)
            .with_context(|| format!("preparing the webhook ledger {}", path.display()))?;
        Ok(Self {
            path,
            conn: Mutex::new(conn),
        })
    }

    /// The file the ledger lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl WebhookLedger for SqliteLedger {
    fn contains(&self, source: &str, event_id: &str) -> anyhow::Result<bool> {
        let conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let found: Option<i64> = conn
            .query_row(
                "SELECT 1 FROM webhook_events WHERE source = ?1 AND event_id = ?2",
                params![source, event_id],
                |row| row.get(0),
            )
            .optional()?;
        Ok(found.is_some())
    }

    fn record(
        &self,
        source: &str,
        event_id: &str,
        event_type: &str,
        received_at_ms: u64,
    ) -> anyhow::Result<bool> {
        let conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let at = i64::try_from(received_at_ms).unwrap_or(i64::MAX);
        let inserted = conn.execute(
            "INSERT OR IGNORE INTO webhook_events (source, event_id, event_type, received_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![source, event_id, event_type, at],
        )?;
        Ok(inserted == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remembers_each_event_once(ledger: &dyn WebhookLedger) {
        assert!(!ledger.contains("carrier", "evt_1").unwrap());
        assert!(
            ledger
                .record("carrier", "evt_1", "shipment-picked-up", 1)
                .unwrap()
        );
        assert!(ledger.contains("carrier", "evt_1").unwrap());
        assert!(
            !ledger
                .record("carrier", "evt_1", "shipment-picked-up", 2)
                .unwrap()
        );
        // Event ids are per source.
        assert!(!ledger.contains("payment", "evt_1").unwrap());
    }

    #[test]
    fn the_memory_ledger_remembers_each_event_once() {
        remembers_each_event_once(&MemoryLedger::new());
    }

    #[test]
    fn the_sqlite_ledger_remembers_each_event_once_across_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = SqliteLedger::path_beside(&dir.path().join("orders.db"));
        assert!(path.ends_with("orders.webhooks.db"));
        remembers_each_event_once(&SqliteLedger::open(&path).unwrap());
        let reopened = SqliteLedger::open(&path).unwrap();
        assert!(reopened.contains("carrier", "evt_1").unwrap());
    }
}
