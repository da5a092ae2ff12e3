//! The embedded default [`EventStore`]: one SQLite file, no server.
//!
//! Several host processes may share one file. WAL mode lets readers run
//! beside the single writer, the busy timeout makes a second writer wait
//! instead of failing, and every append runs in an `IMMEDIATE` transaction
//! that takes the write lock *before* reading the stream versions, so the
//! version check and the write cannot be split by another process.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use anyhow::{Context as _, bail};
use rusqlite::{Connection, TransactionBehavior, params};

use super::{
    AppendBatch, EventStore, RecordedEvent, SagaTimer, StoreError, StoreStats, validate_batch,
    validate_stream_id,
};
use crate::clock::Clock;

/// The schema this code writes; `PRAGMA user_version` records it in the file.
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    stream_id   TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    event_type  TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (stream_id, version)
) WITHOUT ROWID;

-- `seq` (the rowid) only grows, so ordering by it is first-tagged order.
CREATE TABLE IF NOT EXISTS stream_tags (
    seq       INTEGER PRIMARY KEY,
    tag       TEXT NOT NULL,
    stream_id TEXT NOT NULL,
    UNIQUE (tag, stream_id)
);

CREATE TABLE IF NOT EXISTS saga_timers (
    saga_id TEXT    PRIMARY KEY,
    due_at  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS saga_timers_by_due ON saga_timers (due_at, saga_id);
";

/// How a [`SqliteStore`] trades durability for speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    /// `synchronous = FULL`: a committed append survives a power loss.
    #[default]
    Full,
    /// `synchronous = NORMAL`: survives a crash of the process, but a power
    /// loss may roll back the last commits. Faster; fine for benchmarks.
    Normal,
}

/// Settings of a [`SqliteStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqliteOptions {
    /// How long a writer waits for another process's write lock before the
    /// call fails with `unavailable`.
    pub busy_timeout: Duration,
    /// When a commit reaches the disk.
    pub synchronous: Synchronous,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            busy_timeout: Duration::from_secs(5),
            synchronous: Synchronous::Full,
        }
    }
}

/// An [`EventStore`] in one SQLite file.
pub struct SqliteStore {
    path: PathBuf,
    clock: Arc<dyn Clock>,
    // rusqlite connections are `Send` but not `Sync`; one writer at a time
    // is what SQLite allows anyway.
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (creating if needed, with its parent directories) the store at
    /// `path` with the default [`SqliteOptions`].
    pub fn open(path: impl AsRef<Path>, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        Self::open_with(path, clock, SqliteOptions::default())
    }

    /// Opens (creating if needed) the store at `path` with `options`.
    pub fn open_with(
        path: impl AsRef<Path>,
        clock: Arc<dyn Clock>,
        options: SqliteOptions,
    ) -> anyhow::Result<Self> {
        let path = path.as_ref().to_path_buf();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating the directory {}", parent.display()))?;
        }
        let mut conn = Connection::open(&path)
            .with_context(|| format!("opening the event store {}", path.display()))?;
        configure(&mut conn, options)
            .with_context(|| format!("preparing the event store {}", path.display()))?;
        Ok(Self {
            path,
            clock,
            conn: Mutex::new(conn),
        })
    }

    /// The file the store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while the lock was held dropped its transaction, which
        // rolled back: the connection is still usable.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn configure(conn: &mut Connection, options: SqliteOptions) -> anyhow::Result<()> {
    conn.busy_timeout(options.busy_timeout)?;
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        bail!("the file system does not support WAL mode (journal mode is `{mode}`)");
    }
    let synchronous = match options.synchronous {
        Synchronous::Full => "FULL",
        Synchronous::Normal => "NORMAL",
    };
    conn.pragma_update(None, "synchronous", synchronous)?;

    // Two processes opening a new file at once must not both create the
    // schema half-way: the IMMEDIATE transaction serialises them.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    match version {
        0 => {
            tx.execute_batch(SCHEMA)?;
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        }
        SCHEMA_VERSION => {}
        newer => bail!(
            "the store has schema version {newer}; this host understands version {SCHEMA_VERSION}"
        ),
    }
    tx.commit()?;
    Ok(())
}

impl EventStore for SqliteStore {
    fn load(&self, stream_id: &str) -> Result<Vec<RecordedEvent>, StoreError> {
        validate_stream_id(stream_id)?;
        let conn = self.lock();
        let mut statement = conn
            .prepare_cached(
                "SELECT version, event_type, payload, recorded_at FROM events
                 WHERE stream_id = ?1 ORDER BY version",
            )
            .map_err(unavailable)?;
        let rows = statement
            .query_map([stream_id], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, i64>(3)?,
                ))
            })
            .map_err(unavailable)?;
        let mut events = Vec::new();
        for row in rows {
            let (version, event_type, payload, recorded_at) = row.map_err(unavailable)?;
            events.push(RecordedEvent {
                stream_id: stream_id.to_owned(),
                version: from_sql(version)?,
                event_type,
                payload,
                recorded_at: from_sql(recorded_at)?,
            });
        }
        Ok(events)
    }

    fn stream_version(&self, stream_id: &str) -> Result<u64, StoreError> {
        validate_stream_id(stream_id)?;
        let version: i64 = self
            .lock()
            .prepare_cached("SELECT COALESCE(MAX(version), 0) FROM events WHERE stream_id = ?1")
            .and_then(|mut s| s.query_row([stream_id], |row| row.get(0)))
            .map_err(unavailable)?;
        from_sql(version)
    }

    fn append(&self, batch: &AppendBatch) -> Result<(), StoreError> {
        validate_batch(batch)?;
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(unavailable)?;

        for stream in &batch.streams {
            let actual: i64 = tx
                .prepare_cached("SELECT COALESCE(MAX(version), 0) FROM events WHERE stream_id = ?1")
                .and_then(|mut s| s.query_row([&stream.stream_id], |row| row.get(0)))
                .map_err(unavailable)?;
            let actual = from_sql(actual)?;
            if actual != stream.expected_version {
                // Dropping `tx` rolls back; nothing has been written yet anyway.
                return Err(StoreError::Conflict {
                    stream_id: stream.stream_id.clone(),
                    expected: stream.expected_version,
                    actual,
                });
            }
        }

        let recorded_at = to_sql(self.clock.now_ms())?;
        {
            let mut insert_event = tx
                .prepare_cached(
                    "INSERT INTO events (stream_id, version, event_type, payload, recorded_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(unavailable)?;
            let mut insert_tag = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO stream_tags (tag, stream_id) VALUES (?1, ?2)",
                )
                .map_err(unavailable)?;
            let mut set_timer = tx
                .prepare_cached(
                    "INSERT INTO saga_timers (saga_id, due_at) VALUES (?1, ?2)
                     ON CONFLICT (saga_id) DO UPDATE SET due_at = excluded.due_at",
                )
                .map_err(unavailable)?;
            let mut clear_timer = tx
                .prepare_cached("DELETE FROM saga_timers WHERE saga_id = ?1")
                .map_err(unavailable)?;

            for stream in &batch.streams {
                for (version, event) in (stream.expected_version + 1..).zip(&stream.events) {
                    insert_event
                        .execute(params![
                            stream.stream_id,
                            to_sql(version)?,
                            event.event_type,
                            event.payload,
                            recorded_at
                        ])
                        .map_err(unavailable)?;
                }
                for tag in &stream.tags {
                    insert_tag
                        .execute(params![tag, stream.stream_id])
                        .map_err(unavailable)?;
                }
            }
            for timer in &batch.timers {
                match timer.due_at {
                    Some(due_at) => set_timer.execute(params![timer.saga_id, to_sql(due_at)?]),
                    None => clear_timer.execute([&timer.saga_id]),
                }
                .map_err(unavailable)?;
            }
        }
        tx.commit().map_err(unavailable)
    }

    fn find_streams(&self, tag: &str) -> Result<Vec<String>, StoreError> {
        let conn = self.lock();
        let mut statement = conn
            .prepare_cached("SELECT stream_id FROM stream_tags WHERE tag = ?1 ORDER BY seq")
            .map_err(unavailable)?;
        let rows = statement
            .query_map([tag], |row| row.get(0))
            .map_err(unavailable)?;
        rows.collect::<Result<_, _>>().map_err(unavailable)
    }

    fn due_timers(&self, now_ms: u64, limit: usize) -> Result<Vec<SagaTimer>, StoreError> {
        // Past the largest storable time every timer is due.
        let now = i64::try_from(now_ms).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.query_timers(
            "SELECT saga_id, due_at FROM saga_timers WHERE due_at <= ?1
             ORDER BY due_at, saga_id LIMIT ?2",
            params![now, limit],
        )
    }

    fn all_timers(&self) -> Result<Vec<SagaTimer>, StoreError> {
        self.query_timers(
            "SELECT saga_id, due_at FROM saga_timers ORDER BY due_at, saga_id",
            params![],
        )
    }

    fn stats(&self) -> Result<StoreStats, StoreError> {
        let conn = self.lock();
        let (streams, events): (i64, i64) = conn
            .query_row(
                "SELECT COUNT(DISTINCT stream_id), COUNT(*) FROM events",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .map_err(unavailable)?;
        let timers: i64 = conn
            .query_row("SELECT COUNT(*) FROM saga_timers", [], |row| row.get(0))
            .map_err(unavailable)?;
        Ok(StoreStats {
            streams: from_sql(streams)?,
            events: from_sql(events)?,
            timers: from_sql(timers)?,
        })
    }
}

impl SqliteStore {
    fn query_timers(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<SagaTimer>, StoreError> {
        let conn = self.lock();
        let mut statement = conn.prepare_cached(sql).map_err(unavailable)?;
        let rows = statement
            .query_map(params, |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
            })
            .map_err(unavailable)?;
        let mut timers = Vec::new();
        for row in rows {
            let (saga_id, due_at) = row.map_err(unavailable)?;
            timers.push(SagaTimer {
                saga_id,
                due_at: from_sql(due_at)?,
            });
        }
        Ok(timers)
    }
}

fn unavailable(error: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(format!("sqlite: {error}"))
}

fn to_sql(value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Invalid(format!("{value} is too large to store")))
}

fn from_sql(value: i64) -> Result<u64, StoreError> {
    u64::try_from(value)
        .map_err(|_| StoreError::Unavailable(format!("corrupt store: negative number {value}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::store::{NewEvent, StreamAppend, TimerChange};

    crate::store::conformance::conformance_tests!(|clock: Arc<ManualClock>| {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("events.db"), clock).unwrap();
        (store, dir)
    });

    fn one_event_batch(stream: &str, expected: u64) -> AppendBatch {
        AppendBatch {
            streams: vec![StreamAppend {
                stream_id: stream.to_owned(),
                expected_version: expected,
                tags: vec!["customer-1".to_owned()],
                events: vec![NewEvent {
                    event_type: "order-placed".to_owned(),
                    payload: "{}".to_owned(),
                }],
            }],
            timers: vec![TimerChange {
                saga_id: stream.to_owned(),
                due_at: Some(7),
            }],
        }
    }

    #[test]
    fn everything_survives_reopening_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/dir/events.db");
        let clock = Arc::new(ManualClock::new(1_000));
        {
            let store = SqliteStore::open(&path, clock.clone()).unwrap();
            store.append(&one_event_batch("order-a", 0)).unwrap();
            store.append(&one_event_batch("order-b", 0)).unwrap();
        }
        let store = SqliteStore::open(&path, clock).unwrap();
        let events = store.load("order-a").unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].recorded_at, 1_000);
        assert_eq!(
            store.find_streams("customer-1").unwrap(),
            ["order-a", "order-b"]
        );
        assert_eq!(store.all_timers().unwrap().len(), 2);
        assert_eq!(store.stream_version("order-b").unwrap(), 1);
        assert_eq!(store.stream_version("order-c").unwrap(), 0);
    }

    #[test]
    fn two_handles_on_one_file_see_each_others_writes_and_conflict() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.db");
        let clock = Arc::new(ManualClock::new(0));
        let first = SqliteStore::open(&path, clock.clone()).unwrap();
        let second = SqliteStore::open(&path, clock).unwrap();
        first.append(&one_event_batch("order-a", 0)).unwrap();
        assert_eq!(second.load("order-a").unwrap().len(), 1);
        let error = second.append(&one_event_batch("order-a", 0)).unwrap_err();
        assert_eq!(
            error,
            StoreError::Conflict {
                stream_id: "order-a".to_owned(),
                expected: 0,
                actual: 1
            }
        );
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.pragma_update(None, "user_version", 99).unwrap();
        }
        let error = SqliteStore::open(&path, Arc::new(ManualClock::new(0)))
            .err()
            .unwrap();
        assert!(
            format!("{error:#}").contains("schema version 99"),
            "{error:#}"
        );
    }
}
