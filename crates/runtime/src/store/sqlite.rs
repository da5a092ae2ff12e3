//! The embedded default [`EventStore`]: one SQLite file, no server.
//!
//! **One owner.** A store file belongs to one process at a time: opening it
//! takes an OS advisory lock on `FILE.lock` ([`LockFile`]), and a second
//! process (or a second handle in the same process) is refused at once,
//! naming the holder's pid. Two hosts writing one file would each check
//! their own view of stock and money and oversell together.
//!
//! **Never lies.** Opening checks the file before anything trusts it: a
//! 0-byte file, a file that is not SQLite, a failed `PRAGMA quick_check`,
//! or a schema that is not this host's is refused with
//! [`StoreOpenError::Corrupt`]; a missing file is only created when asked
//! ([`SqliteOptions::create`]). While open, every call first checks that
//! the path still names the file that was opened (device and inode): a
//! store whose file was deleted, moved or replaced answers `unavailable`
//! from then on (the file it still holds is unreachable to anybody else, so
//! a write acknowledged into it would be lost). The check runs again after
//! each commit, so a write is only acknowledged while its file is in place.
//!
//! WAL mode lets the readers of the one process run beside its writer (a
//! second connection serves the reads, so a read never waits for a commit's
//! sync to disk), and every append runs in an `IMMEDIATE` transaction that
//! takes the write lock *before* reading the stream versions.
//!
//! **Group commit.** Appends that wait at once share one transaction and one
//! sync ([`GroupCommit`]): each batch is written inside its own savepoint
//! (a batch that conflicts is rolled back alone), the transaction commits
//! once, and only then is each append answered. `synchronous=FULL` keeps
//! its promise: an acknowledged append has reached the disk. A batch's
//! payloads are compressed by the appending thread before it queues
//! ([`Encoded`]), so the commit, which the writers take in turn, only
//! writes them.
//!
//! **Checkpoints off the commit path.** A thread of the store copies the
//! WAL into the file ([`checkpoint`]); a commit no longer does.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior, params};

use super::feed_sqlite as feed;
use super::group_commit::GroupCommit;
use super::read_model::{self, OrderQuery, OrderSummary};
use super::rows::{self, Columns as _, bound, from_sql, sqlite_unavailable as unavailable, to_sql};
use super::{
    AppendBatch, EventStore, FeedEvent, IdempotencyRecord, IdempotencyWindow, RecordedEvent,
    SagaTimer, StateRecord, StoreError, StoreOpenError, StoreStats, StreamTail, WebhookDelivery,
    WebhookEndpoint, validate_batch, validate_stream_id,
};
use crate::clock::Clock;
use crate::lockfile::LockFile;
use checkpoint::Checkpointer;

mod checkpoint;
mod migrate;
mod payload;

/// The schema this code writes; `PRAGMA user_version` records it in the file.
/// A file of version 1 is upgraded on open ([`migrate`]).
pub(crate) const SCHEMA_VERSION: i64 = 2;

/// The tables of schema version 2.
const TABLES: [&str; 6] = [
    "event_types",
    "events",
    "saga_timers",
    "stream_tags",
    "streams",
    "tags",
];

/// Schema 2: names (stream ids, tags, event types) are kept once and
/// referred to by small integers; an event's rowid is its feed position
/// (append-only, so its pages fill densely) and its payload is encoded by
/// [`payload`].
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS streams (
    id   INTEGER PRIMARY KEY,
    name TEXT    NOT NULL UNIQUE
);

CREATE TABLE IF NOT EXISTS event_types (
    id   INTEGER PRIMARY KEY,
    name TEXT    NOT NULL UNIQUE
);

-- `position` is the feed position: it only grows in commit order (one
-- writer), and `AUTOINCREMENT` never hands out a used one again.
CREATE TABLE IF NOT EXISTS events (
    position    INTEGER PRIMARY KEY AUTOINCREMENT,
    stream      INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    type        INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL,
    payload     BLOB    NOT NULL
);

CREATE UNIQUE INDEX IF NOT EXISTS events_by_stream ON events (stream, version);

CREATE TABLE IF NOT EXISTS tags (
    id   INTEGER PRIMARY KEY,
    name TEXT    NOT NULL UNIQUE
);

-- `seq` (the rowid) only grows, so ordering by it is first-tagged order.
CREATE TABLE IF NOT EXISTS stream_tags (
    seq    INTEGER PRIMARY KEY,
    tag    INTEGER NOT NULL,
    stream INTEGER NOT NULL,
    UNIQUE (tag, stream)
);

CREATE TABLE IF NOT EXISTS saga_timers (
    saga_id TEXT    PRIMARY KEY,
    due_at  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS saga_timers_by_due ON saga_timers (due_at, saga_id);
";

/// The columns [`recorded_event`] reads, from `events e` joined with its
/// `streams s` and `event_types t`.
pub(super) const EVENT_COLUMNS: &str = "s.name, e.version, t.name, e.payload, e.recorded_at";

/// The join [`EVENT_COLUMNS`] reads from.
pub(super) const EVENT_JOIN: &str = "events e JOIN streams s ON s.id = e.stream \
                                     JOIN event_types t ON t.id = e.type";

/// An event from [`EVENT_COLUMNS`], starting at column `first`.
pub(super) fn recorded_event(
    row: &rusqlite::Row<'_>,
    first: usize,
) -> Result<RecordedEvent, StoreError> {
    let stored: Vec<u8> = row.get(first + 3).map_err(unavailable)?;
    Ok(RecordedEvent {
        stream_id: row.text(first)?,
        version: row.number(first + 1)?,
        event_type: row.text(first + 2)?,
        payload: payload::decode(&stored)?,
        recorded_at: row.number(first + 4)?,
    })
}

/// Every event of the order streams, stream by stream in version order, as
/// the read model's back-fill reads them.
pub(super) fn order_events_sql() -> String {
    format!(
        "SELECT {EVENT_COLUMNS} FROM {EVENT_JOIN}
         WHERE s.name >= 'order-' AND s.name < 'order.' ORDER BY s.name, e.version"
    )
}

/// Every row `sql` selects, each mapped by `map` (the rows of events, whose
/// payload column the shared [`rows::Columns`] cannot read).
pub(super) fn query_rows<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    map: impl Fn(&rusqlite::Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut statement = conn.prepare_cached(sql).map_err(unavailable)?;
    let mut rows = statement.query(params).map_err(unavailable)?;
    let mut found = Vec::new();
    while let Some(row) = rows.next().map_err(unavailable)? {
        found.push(map(row)?);
    }
    Ok(found)
}

/// The id of `name` in the name table `table` (`streams`, `tags` or
/// `event_types`), if it has one.
fn name_id(conn: &Connection, table: &str, name: &str) -> Result<Option<i64>, StoreError> {
    use rusqlite::OptionalExtension as _;
    conn.prepare_cached(&format!("SELECT id FROM {table} WHERE name = ?1"))
        .and_then(|mut s| s.query_row([name], |row| row.get(0)).optional())
        .map_err(unavailable)
}

/// The id of `name` in `table`, given one if it has none yet (inside the
/// append's transaction: rolled back with it).
fn intern(conn: &Connection, table: &str, name: &str) -> Result<i64, StoreError> {
    if let Some(id) = name_id(conn, table, name)? {
        return Ok(id);
    }
    conn.prepare_cached(&format!("INSERT INTO {table} (name) VALUES (?1)"))
        .and_then(|mut s| s.execute([name]))
        .map_err(unavailable)?;
    Ok(conn.last_insert_rowid())
}

/// The last version of the stream `id` (0 when it has no events).
fn last_version(conn: &Connection, stream_id: &str) -> Result<u64, StoreError> {
    let version: i64 = conn
        .prepare_cached(
            "SELECT COALESCE(MAX(e.version), 0) FROM streams s JOIN events e ON e.stream = s.id
             WHERE s.name = ?1",
        )
        .and_then(|mut s| s.query_row([stream_id], |row| row.get(0)))
        .map_err(unavailable)?;
    from_sql(version)
}

/// One row that the readiness probe writes and reads back. Not part of the
/// versioned schema: a file of schema 1 without it gets it on open.
const PROBE_TABLE: &str = "
CREATE TABLE IF NOT EXISTS store_probe (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    probe_at INTEGER NOT NULL
);
";

/// The streams' state records (decision 0022): at most one a stream,
/// replaced by the append that carries a new one; the state encoded like a
/// payload. Like the probe, not part of the versioned schema: an older file
/// gets the table on open, and a host that does not know it leaves the
/// records behind the stream, never wrong (a record at a version stays the
/// fold of the events up to it).
const STATE_TABLE: &str = "
CREATE TABLE IF NOT EXISTS stream_states (
    stream  INTEGER PRIMARY KEY,
    version INTEGER NOT NULL,
    state   BLOB    NOT NULL
);
";

/// The state record of a stream by its name.
const STATE_SQL: &str = "SELECT st.version, st.state FROM streams s
                         JOIN stream_states st ON st.stream = s.id WHERE s.name = ?1";

/// The events of a stream by its name after a version.
fn events_after_sql() -> String {
    format!(
        "SELECT {EVENT_COLUMNS} FROM {EVENT_JOIN} WHERE s.name = ?1 AND e.version > ?2
         ORDER BY e.version"
    )
}

/// The HTTP API's idempotency records. Like the probe, not part of the
/// versioned schema: an older file gets the table on open.
const IDEMPOTENCY_TABLE: &str = "
CREATE TABLE IF NOT EXISTS idempotency_keys (
    key         TEXT    PRIMARY KEY,
    fingerprint TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    response    TEXT
) WITHOUT ROWID;
";

/// Prepared statements kept per connection (rusqlite's default is 16).
const STATEMENT_CACHE: usize = 64;

/// The first 16 bytes of every SQLite database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

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
    /// How long a writer waits for SQLite's write lock before the call fails
    /// with `unavailable`.
    pub busy_timeout: Duration,
    /// When a commit reaches the disk.
    pub synchronous: Synchronous,
    /// Create the file (and its directories) when it does not exist; when
    /// false a missing file is [`StoreOpenError::Missing`].
    pub create: bool,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            busy_timeout: Duration::from_secs(5),
            synchronous: Synchronous::Full,
            create: true,
        }
    }
}

/// Which file a path named when it was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    device: u64,
    inode: u64,
}

impl FileId {
    #[cfg(unix)]
    fn of(metadata: &std::fs::Metadata) -> Option<Self> {
        use std::os::unix::fs::MetadataExt as _;
        Some(Self {
            device: metadata.dev(),
            inode: metadata.ino(),
        })
    }

    #[cfg(not(unix))]
    fn of(_: &std::fs::Metadata) -> Option<Self> {
        None
    }
}

/// An [`EventStore`] in one SQLite file.
pub struct SqliteStore {
    path: PathBuf,
    clock: Arc<dyn Clock>,
    /// The file the path named at open (`None` where the OS has no inodes).
    opened: Option<FileId>,
    /// Why the store stopped serving (its file went away); sticky.
    lost: Mutex<Option<String>>,
    // rusqlite connections are `Send` but not `Sync`; one writer at a time
    // is what SQLite allows anyway.
    conn: Mutex<Connection>,
    /// The connection of the reads (WAL: they see every commit made before
    /// they start, and never wait for the writer's sync).
    reader: Mutex<Connection>,
    /// The appends waiting for the next commit.
    group: GroupCommit<Encoded>,
    /// The schema the file had before this open upgraded it, if it did.
    upgraded_from: Option<i64>,
    /// Copies the WAL into the file off the commit path.
    checkpointer: Checkpointer,
    /// Held for as long as the store is open: one owner per file.
    _owner: LockFile,
}

impl SqliteStore {
    /// Opens (creating if needed, with its parent directories) the store at
    /// `path` with the default [`SqliteOptions`].
    pub fn open(path: impl AsRef<Path>, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        Self::open_with(path, clock, SqliteOptions::default())
    }

    /// Opens an existing store at `path`; a missing file is an error.
    pub fn open_existing(path: impl AsRef<Path>, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let options = SqliteOptions {
            create: false,
            ..SqliteOptions::default()
        };
        Self::open_with(path, clock, options)
    }

    /// Opens the store at `path` with `options`, after checking it: see the
    /// module documentation. The errors are [`StoreOpenError`] (missing,
    /// corrupt) or [`crate::lockfile::LockHeld`] (another owner), inside
    /// the `anyhow` error.
    pub fn open_with(
        path: impl AsRef<Path>,
        clock: Arc<dyn Clock>,
        options: SqliteOptions,
    ) -> anyhow::Result<Self> {
        let path = path.as_ref().to_path_buf();
        let corrupt = |reason: String| StoreOpenError::Corrupt {
            path: path.display().to_string(),
            reason,
        };
        let existed = match std::fs::metadata(&path) {
            Ok(metadata) if metadata.is_dir() => {
                return Err(corrupt("it is a directory, not a store file".to_owned()).into());
            }
            Ok(_) => true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if !options.create {
                    return Err(StoreOpenError::Missing {
                        path: path.display().to_string(),
                    }
                    .into());
                }
                tracing::info!(path = %path.display(), "no event store there: creating a new, empty one");
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(|e| {
                        anyhow::anyhow!("creating the directory {}: {e}", parent.display())
                    })?;
                }
                false
            }
            Err(e) => anyhow::bail!("cannot read the event store {}: {e}", path.display()),
        };
        let owner = LockFile::acquire(&path, "the event store")?;
        if existed {
            check_header(&path).map_err(corrupt)?;
        }
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if !existed {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let mut conn = Connection::open_with_flags(&path, flags)
            .map_err(|e| anyhow::anyhow!("opening the event store {}: {e}", path.display()))?;
        let upgraded_from = configure(&mut conn, options, existed).map_err(|e| match e {
            Prepare::Corrupt(reason) => anyhow::Error::from(corrupt(reason)),
            Prepare::Other(e) => e.context(format!("preparing the event store {}", path.display())),
        })?;
        let reader = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .and_then(|reader| {
            reader.busy_timeout(options.busy_timeout)?;
            Ok(reader)
        })
        .map_err(|e| anyhow::anyhow!("opening the event store {} to read: {e}", path.display()))?;
        let checkpointer = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .and_then(|conn| {
            conn.busy_timeout(options.busy_timeout)?;
            conn.pragma_update(None, "synchronous", synchronous_pragma(options.synchronous))?;
            Ok(conn)
        })
        .map_err(anyhow::Error::from)
        .and_then(|conn| Checkpointer::start(conn).map_err(anyhow::Error::from))
        .map_err(|e| {
            anyhow::anyhow!(
                "starting the checkpoints of the event store {}: {e}",
                path.display()
            )
        })?;
        let opened = std::fs::metadata(&path).ok().as_ref().and_then(FileId::of);
        Ok(Self {
            path,
            clock,
            opened,
            lost: Mutex::new(None),
            conn: Mutex::new(conn),
            reader: Mutex::new(reader),
            group: GroupCommit::default(),
            upgraded_from,
            checkpointer,
            _owner: owner,
        })
    }

    /// The file the store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Copies the whole WAL into the file and empties it
    /// (`wal_checkpoint(TRUNCATE)`, waiting up to the busy timeout for
    /// readers): afterwards the file alone holds the store, the bytes a
    /// shop keeps.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.still_in_place()?;
        let busy: i64 = self
            .lock()
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))
            .map_err(unavailable)?;
        if busy != 0 {
            return Err(StoreError::Unavailable(
                "the checkpoint could not finish: a reader held the WAL".to_owned(),
            ));
        }
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while the lock was held dropped its transaction, which
        // rolled back: the connection is still usable.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The connection of the reads.
    fn read(&self) -> MutexGuard<'_, Connection> {
        self.reader.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `unavailable` once the path no longer names the opened file.
    fn still_in_place(&self) -> Result<(), StoreError> {
        let mut lost = self.lost.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(reason) = lost.as_ref() {
            return Err(StoreError::Unavailable(reason.clone()));
        }
        let Some(opened) = self.opened else {
            return Ok(());
        };
        let problem = match std::fs::metadata(&self.path) {
            Ok(metadata) if FileId::of(&metadata) == Some(opened) => return Ok(()),
            Ok(_) => "was replaced by another file",
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "was deleted or moved",
            Err(_) => "cannot be reached",
        };
        let reason = format!(
            "the store file {} {problem} since this host opened it; nothing more is \
             written or acknowledged: restore the file or restart the host",
            self.path.display()
        );
        tracing::error!(%reason, "event store lost");
        *lost = Some(reason.clone());
        Err(StoreError::Unavailable(reason))
    }
}

/// Refuses a file that cannot be a SQLite database.
fn check_header(path: &Path) -> Result<(), String> {
    use std::io::Read as _;
    let mut file = std::fs::File::open(path).map_err(|e| format!("cannot be read: {e}"))?;
    let mut header = [0_u8; 16];
    let mut read = 0;
    while read < header.len() {
        match file.read(&mut header[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) => return Err(format!("cannot be read: {e}")),
        }
    }
    if read == 0 {
        return Err(
            "the file is empty (0 bytes), not a store; a new store is only \
             created where no file exists"
                .to_owned(),
        );
    }
    if read < header.len() || &header != SQLITE_HEADER {
        return Err("the file is not a SQLite database (its header is wrong)".to_owned());
    }
    Ok(())
}

/// The `synchronous` pragma's value for `synchronous`.
fn synchronous_pragma(synchronous: Synchronous) -> &'static str {
    match synchronous {
        Synchronous::Full => "FULL",
        Synchronous::Normal => "NORMAL",
    }
}

/// Why a store could not be prepared.
enum Prepare {
    /// The file is damaged or not a store.
    Corrupt(String),
    Other(anyhow::Error),
}

impl From<rusqlite::Error> for Prepare {
    fn from(error: rusqlite::Error) -> Self {
        match error.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase) => {
                Prepare::Corrupt(error.to_string())
            }
            _ => Prepare::Other(error.into()),
        }
    }
}

/// Checks and prepares the file; answers the schema version it upgraded
/// the file from, if it did.
fn configure(
    conn: &mut Connection,
    options: SqliteOptions,
    existed: bool,
) -> Result<Option<i64>, Prepare> {
    conn.busy_timeout(options.busy_timeout)?;
    // The read model's updates prepare one statement per set of changed
    // columns: room for them beside the store's own.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    if existed {
        let mut problems: Vec<String> = Vec::new();
        {
            let mut check = conn.prepare("PRAGMA quick_check(5)")?;
            let rows = check.query_map([], |row| row.get::<_, String>(0))?;
            for row in rows {
                problems.push(row?);
            }
        }
        if problems != ["ok"] {
            return Err(Prepare::Corrupt(format!(
                "PRAGMA quick_check found damage: {}",
                problems.join("; ")
            )));
        }
    }
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Prepare::Other(anyhow::anyhow!(
            "the file system does not support WAL mode (journal mode is `{mode}`)"
        )));
    }
    conn.pragma_update(None, "synchronous", synchronous_pragma(options.synchronous))?;
    // The store's own thread checkpoints ([`checkpoint`]); the commit's
    // auto-checkpoint is only a backstop, and the WAL file is cut back to
    // a bound each time it starts over.
    conn.pragma_update(None, "wal_autocheckpoint", checkpoint::BACKSTOP_PAGES)?;
    conn.pragma_update(None, "journal_size_limit", checkpoint::WAL_LIMIT_BYTES)?;

    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let mut upgraded_from = None;
    let tables: Vec<String> = {
        let mut statement = tx.prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             ORDER BY name",
        )?;
        let rows = statement.query_map([], |row| row.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    match version {
        // A file with no tables at all (new, or made empty by a tool) gets
        // the schema; one with other tables is somebody else's database.
        0 if tables.is_empty() => {
            tx.execute_batch(SCHEMA)?;
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        }
        // Upgraded inside this transaction: a crash leaves the old file.
        1 => {
            migrate::from_version_1(&tx, &tables)?;
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
            upgraded_from = Some(version);
        }
        0 => {
            return Err(Prepare::Corrupt(format!(
                "it is a SQLite database but not an event store (tables: {})",
                tables.join(", ")
            )));
        }
        SCHEMA_VERSION => {
            let missing: Vec<&str> = TABLES
                .iter()
                .copied()
                .filter(|t| !tables.iter().any(|have| have == t))
                .collect();
            if !missing.is_empty() {
                return Err(Prepare::Corrupt(format!(
                    "schema version {SCHEMA_VERSION} but the table(s) {} are missing",
                    missing.join(", ")
                )));
            }
        }
        newer => {
            return Err(Prepare::Other(anyhow::anyhow!(
                "the store has schema version {newer}; this host understands version {SCHEMA_VERSION}"
            )));
        }
    }
    tx.execute_batch(PROBE_TABLE)?;
    tx.execute_batch(IDEMPOTENCY_TABLE)?;
    tx.execute_batch(STATE_TABLE)?;
    tx.execute_batch(feed::WEBHOOK_TABLES)?;
    // The order read model, like the probe, is created on open; a file
    // written before it existed is back-filled from its events, once.
    read_model::sqlite::create(&tx, tables.iter().any(|t| t == "order_summaries"))?;
    tx.commit()?;
    Ok(upgraded_from)
}

impl EventStore for SqliteStore {
    fn format(&self) -> Option<String> {
        Some(match self.upgraded_from {
            Some(old) => {
                format!("SQLite schema {SCHEMA_VERSION}, upgraded from schema {old} when opened")
            }
            None => format!("SQLite schema {SCHEMA_VERSION}"),
        })
    }

    fn load(&self, stream_id: &str) -> Result<Vec<RecordedEvent>, StoreError> {
        validate_stream_id(stream_id)?;
        self.still_in_place()?;
        query_rows(
            &self.read(),
            &format!(
                "SELECT {EVENT_COLUMNS} FROM {EVENT_JOIN} WHERE s.name = ?1 ORDER BY e.version"
            ),
            [stream_id],
            |row| recorded_event(row, 0),
        )
    }

    fn load_tail(&self, stream_id: &str) -> Result<StreamTail, StoreError> {
        use rusqlite::OptionalExtension as _;
        validate_stream_id(stream_id)?;
        self.still_in_place()?;
        let conn = self.read();
        // The record first, then the events after it: an append between the
        // two only adds events, so the tail is never missing one.
        let stored: Option<(i64, Vec<u8>)> = conn
            .prepare_cached(STATE_SQL)
            .and_then(|mut s| {
                s.query_row([stream_id], |row| Ok((row.get(0)?, row.get(1)?)))
                    .optional()
            })
            .map_err(unavailable)?;
        let state = match stored {
            Some((version, state)) => Some(StateRecord {
                version: from_sql(version)?,
                state: payload::decode(&state)?,
            }),
            None => None,
        };
        let after = to_sql(state.as_ref().map_or(0, |s| s.version))?;
        let events = query_rows(
            &conn,
            &events_after_sql(),
            params![stream_id, after],
            |row| recorded_event(row, 0),
        )?;
        Ok(StreamTail { state, events })
    }

    fn stream_version(&self, stream_id: &str) -> Result<u64, StoreError> {
        validate_stream_id(stream_id)?;
        self.still_in_place()?;
        last_version(&self.read(), stream_id)
    }

    fn append(&self, batch: &AppendBatch) -> Result<(), StoreError> {
        validate_batch(batch)?;
        self.still_in_place()?;
        self.group
            .submit(Encoded::of(batch), |group| self.commit_group(group))
    }

    fn find_streams(&self, tag: &str) -> Result<Vec<String>, StoreError> {
        self.still_in_place()?;
        rows::sqlite_rows(
            &self.read(),
            "SELECT s.name FROM tags t JOIN stream_tags st ON st.tag = t.id
             JOIN streams s ON s.id = st.stream WHERE t.name = ?1 ORDER BY st.seq",
            [tag],
            |row| row.text(0),
        )
    }

    fn due_timers(&self, now_ms: u64, limit: usize) -> Result<Vec<SagaTimer>, StoreError> {
        // Past the largest storable time every timer is due.
        self.query_timers(
            "SELECT saga_id, due_at FROM saga_timers WHERE due_at <= ?1
             ORDER BY due_at, saga_id LIMIT ?2",
            params![bound(now_ms), bound(limit)],
        )
    }

    fn all_timers(&self) -> Result<Vec<SagaTimer>, StoreError> {
        self.query_timers(
            "SELECT saga_id, due_at FROM saga_timers ORDER BY due_at, saga_id",
            params![],
        )
    }

    fn stats(&self) -> Result<StoreStats, StoreError> {
        self.still_in_place()?;
        let conn = self.lock();
        let (streams, events): (i64, i64) = conn
            .query_row(
                "SELECT COUNT(DISTINCT stream), COUNT(*) FROM events",
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

    fn probe(&self) -> Result<(), StoreError> {
        self.still_in_place()?;
        let written = to_sql(self.clock.now_ms())?;
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(unavailable)?;
        tx.execute(
            "INSERT INTO store_probe (id, probe_at) VALUES (1, ?1)
             ON CONFLICT (id) DO UPDATE SET probe_at = excluded.probe_at",
            [written],
        )
        .map_err(unavailable)?;
        tx.commit().map_err(unavailable)?;
        let read: i64 = conn
            .query_row("SELECT probe_at FROM store_probe WHERE id = 1", [], |row| {
                row.get(0)
            })
            .map_err(unavailable)?;
        drop(conn);
        if read != written {
            return Err(StoreError::Unavailable(format!(
                "the readiness probe wrote {written} but read back {read}"
            )));
        }
        self.still_in_place()
    }

    fn begin_idempotent(
        &self,
        key: &str,
        fingerprint: &str,
        window: IdempotencyWindow,
    ) -> Result<IdempotencyRecord, StoreError> {
        self.still_in_place()?;
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(unavailable)?;
        let found = rows::sqlite_row(
            &tx,
            "SELECT fingerprint, started_at, response FROM idempotency_keys WHERE key = ?1",
            [key],
            |row| Ok((row.text(0)?, row.number(1)?, row.maybe_text(2)?)),
        )?;
        if let Some(record) = found.and_then(|(held, started, response)| {
            IdempotencyRecord::held(window, held, started, response)
        }) {
            return Ok(record);
        }
        tx.execute(
            "INSERT OR REPLACE INTO idempotency_keys (key, fingerprint, started_at, response)
             VALUES (?1, ?2, ?3, NULL)",
            params![key, fingerprint, to_sql(window.now_ms)?],
        )
        .map_err(unavailable)?;
        tx.commit().map_err(unavailable)?;
        drop(conn);
        self.still_in_place()?;
        Ok(IdempotencyRecord::Started)
    }

    fn finish_idempotent(&self, key: &str, response: &str) -> Result<(), StoreError> {
        self.still_in_place()?;
        self.lock()
            .execute(
                "UPDATE idempotency_keys SET response = ?2 WHERE key = ?1",
                params![key, response],
            )
            .map_err(unavailable)?;
        self.still_in_place()
    }

    fn abandon_idempotent(&self, key: &str) -> Result<(), StoreError> {
        self.still_in_place()?;
        self.lock()
            .execute(
                "DELETE FROM idempotency_keys WHERE key = ?1 AND response IS NULL",
                [key],
            )
            .map_err(unavailable)?;
        Ok(())
    }

    fn read_feed(&self, after: u64, limit: usize) -> Result<Vec<FeedEvent>, StoreError> {
        self.still_in_place()?;
        feed::read_feed(&self.read(), after, limit)
    }

    fn feed_head(&self) -> Result<u64, StoreError> {
        self.still_in_place()?;
        feed::feed_head(&self.read())
    }

    fn create_webhook_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<(), StoreError> {
        self.still_in_place()?;
        feed::create_endpoint(&self.lock(), endpoint)?;
        self.still_in_place()
    }

    fn webhook_endpoints(&self) -> Result<Vec<WebhookEndpoint>, StoreError> {
        self.still_in_place()?;
        feed::endpoints(&self.read())
    }

    fn webhook_endpoint(&self, id: &str) -> Result<Option<WebhookEndpoint>, StoreError> {
        self.still_in_place()?;
        feed::endpoint(&self.read(), id)
    }

    fn delete_webhook_endpoint(&self, id: &str) -> Result<bool, StoreError> {
        self.still_in_place()?;
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(unavailable)?;
        let deleted = feed::delete_endpoint(&tx, id)?;
        tx.commit().map_err(unavailable)?;
        drop(conn);
        self.still_in_place()?;
        Ok(deleted)
    }

    fn advance_webhook_endpoint(&self, id: &str, position: u64) -> Result<bool, StoreError> {
        self.still_in_place()?;
        let advanced = feed::advance_endpoint(&self.lock(), id, position)?;
        self.still_in_place()?;
        Ok(advanced)
    }

    fn record_webhook_delivery(&self, delivery: &WebhookDelivery) -> Result<u64, StoreError> {
        self.still_in_place()?;
        let seq = feed::record_delivery(&self.lock(), delivery)?;
        self.still_in_place()?;
        Ok(seq)
    }

    fn webhook_deliveries(
        &self,
        endpoint_id: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        self.still_in_place()?;
        feed::deliveries(&self.read(), endpoint_id, after, limit)
    }

    fn list_orders(&self, query: &OrderQuery) -> Result<Vec<OrderSummary>, StoreError> {
        query.validate()?;
        self.still_in_place()?;
        read_model::sqlite::list(&self.read(), query)
    }

    fn order_summary(&self, order_id: &str) -> Result<Option<OrderSummary>, StoreError> {
        self.still_in_place()?;
        read_model::sqlite::summary(&self.read(), order_id)
    }
}

impl SqliteStore {
    /// Writes `batches` in one `IMMEDIATE` transaction, each inside its own
    /// savepoint so that one that conflicts or fails is rolled back alone,
    /// and commits once: one sync to disk for the whole group. A batch is
    /// `Ok` only once that commit succeeded and the file is still in place.
    fn commit_group(&self, batches: &[Encoded]) -> Vec<Result<(), StoreError>> {
        let all = |e: StoreError| vec![Err(e); batches.len()];
        let recorded_at = match to_sql(self.clock.now_ms()) {
            Ok(t) => t,
            Err(e) => return all(e),
        };
        let mut conn = self.lock();
        let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => return all(unavailable(e)),
        };
        let mut results = Vec::with_capacity(batches.len());
        for batch in batches {
            let written = tx.savepoint().map_err(unavailable).and_then(|savepoint| {
                write_batch(&savepoint, batch, recorded_at)?;
                savepoint.commit().map_err(unavailable)
            });
            results.push(written);
        }
        let failed = |results: Vec<Result<(), StoreError>>, e: StoreError| {
            results.into_iter().map(|r| r.and(Err(e.clone()))).collect()
        };
        if let Err(e) = tx.commit() {
            return failed(results, unavailable(e));
        }
        drop(conn);
        self.checkpointer.committed(batches.len());
        // Committed into a file nobody can reach any more is not stored:
        // say so rather than acknowledge it.
        if let Err(e) = self.still_in_place() {
            return failed(results, e);
        }
        results
    }

    fn query_timers(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<SagaTimer>, StoreError> {
        self.still_in_place()?;
        rows::sqlite_rows(&self.read(), sql, params, |row| rows::timer(row))
    }
}

/// A batch with its payloads and state records in their stored form,
/// encoded by the appending thread before it queues for the commit.
struct Encoded {
    batch: AppendBatch,
    /// One per stream of the batch, in its order.
    streams: Vec<EncodedStream>,
}

/// One stream's events' stored payloads, in order, and its state record's.
struct EncodedStream {
    payloads: Vec<Vec<u8>>,
    state: Option<Vec<u8>>,
}

impl Encoded {
    fn of(batch: &AppendBatch) -> Self {
        let streams = batch
            .streams
            .iter()
            .map(|stream| EncodedStream {
                payloads: stream
                    .events
                    .iter()
                    .map(|event| payload::encode(&event.payload))
                    .collect(),
                state: stream.state.as_deref().map(payload::encode),
            })
            .collect();
        Self {
            batch: batch.clone(),
            streams,
        }
    }
}

/// Writes one batch inside the current transaction: checks every stream's
/// expected version first, then inserts its events, tags and timers.
fn write_batch(conn: &Connection, encoded: &Encoded, recorded_at: i64) -> Result<(), StoreError> {
    let batch = &encoded.batch;
    for stream in &batch.streams {
        let actual = last_version(conn, &stream.stream_id)?;
        if actual != stream.expected_version {
            // Nothing of this batch is written yet; its savepoint rolls back.
            return Err(StoreError::Conflict {
                stream_id: stream.stream_id.clone(),
                expected: stream.expected_version,
                actual,
            });
        }
    }

    {
        let prepare = |sql| conn.prepare_cached(sql).map_err(unavailable);
        let mut insert_event = prepare(
            "INSERT INTO events (stream, version, type, recorded_at, payload)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        let mut insert_tag =
            prepare("INSERT OR IGNORE INTO stream_tags (tag, stream) VALUES (?1, ?2)")?;
        let mut set_timer = prepare(
            "INSERT INTO saga_timers (saga_id, due_at) VALUES (?1, ?2)
                     ON CONFLICT (saga_id) DO UPDATE SET due_at = excluded.due_at",
        )?;
        let mut clear_timer = prepare("DELETE FROM saga_timers WHERE saga_id = ?1")?;
        let mut set_state = prepare(
            "INSERT INTO stream_states (stream, version, state) VALUES (?1, ?2, ?3)
                     ON CONFLICT (stream) DO UPDATE
                     SET version = excluded.version, state = excluded.state",
        )?;

        for (stream, stored) in batch.streams.iter().zip(&encoded.streams) {
            if stream.events.is_empty() && stream.tags.is_empty() && stream.state.is_none() {
                continue;
            }
            let id = intern(conn, "streams", &stream.stream_id)?;
            let versions = stream.expected_version + 1..;
            for ((version, event), payload) in versions.zip(&stream.events).zip(&stored.payloads) {
                let event_type = intern(conn, "event_types", &event.event_type)?;
                insert_event
                    .execute(params![
                        id,
                        to_sql(version)?,
                        event_type,
                        recorded_at,
                        payload
                    ])
                    .map_err(unavailable)?;
            }
            if let Some(state) = &stored.state {
                set_state
                    .execute(params![id, to_sql(stream.version_after())?, state])
                    .map_err(unavailable)?;
            }
            for tag in &stream.tags {
                let tag = intern(conn, "tags", tag)?;
                insert_tag.execute(params![tag, id]).map_err(unavailable)?;
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
    read_model::sqlite::apply(conn, batch, from_sql(recorded_at)?)
}

/// The query plan SQLite chooses for `sql` with `values`, one line per
/// step (the index tests of the store and of its read model).
#[cfg(test)]
pub(crate) fn query_plan(
    conn: &Connection,
    sql: &str,
    values: Vec<rusqlite::types::Value>,
) -> String {
    let mut statement = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let rows = statement
        .query_map(rusqlite::params_from_iter(values), |row| {
            row.get::<_, String>(3)
        })
        .unwrap();
    rows.collect::<Result<Vec<_>, _>>().unwrap().join("\n")
}

/// A temporary directory and the path of a store file `events.db` in it
/// (not created yet); the file lasts as long as the directory.
#[cfg(test)]
pub(crate) fn test_file() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    (dir, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::store::conformance::new_stream_with_timer;

    crate::store::conformance::conformance_tests!(|clock: Arc<ManualClock>| {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("events.db"), clock).unwrap();
        (store, dir)
    });

    #[test]
    fn everything_survives_reopening_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/dir/events.db");
        let clock = Arc::new(ManualClock::new(1_000));
        {
            let store = SqliteStore::open(&path, clock.clone()).unwrap();
            store
                .append(&new_stream_with_timer("order-a", &["customer-1"], 7))
                .unwrap();
            store
                .append(&new_stream_with_timer("order-b", &["customer-1"], 7))
                .unwrap();
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
    fn a_second_handle_on_one_file_is_refused_naming_the_holder() {
        let (_dir, path) = test_file();
        let clock = Arc::new(ManualClock::new(0));
        let first = SqliteStore::open(&path, clock.clone()).unwrap();
        let error = SqliteStore::open(&path, clock.clone()).err().unwrap();
        let held = error
            .downcast_ref::<crate::lockfile::LockHeld>()
            .expect("refused because the file is held");
        assert_eq!(held.holder, format!("pid {}", std::process::id()));
        drop(first);
        SqliteStore::open(&path, clock).expect("free once the owner closed it");
    }

    fn open_error(path: &Path, create: bool) -> StoreOpenError {
        let options = SqliteOptions {
            create,
            ..SqliteOptions::default()
        };
        let error = SqliteStore::open_with(path, Arc::new(ManualClock::new(0)), options)
            .err()
            .expect("refused");
        error
            .downcast_ref::<StoreOpenError>()
            .unwrap_or_else(|| panic!("not a StoreOpenError: {error:#}"))
            .clone()
    }

    #[test]
    fn a_missing_file_is_created_only_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("typo/events.db");
        let error = open_error(&path, false);
        assert!(
            matches!(&error, StoreOpenError::Missing { path: p } if p.contains("typo/events.db"))
        );
        assert!(!dir.path().join("typo").exists(), "nothing was created");
        SqliteStore::open(&path, Arc::new(ManualClock::new(0))).unwrap();
        assert!(path.is_file());
    }

    #[test]
    fn an_empty_file_is_refused_as_corrupt_not_taken_for_a_new_store() {
        let (_dir, path) = test_file();
        std::fs::write(&path, b"").unwrap();
        let error = open_error(&path, true);
        assert!(
            matches!(&error, StoreOpenError::Corrupt { reason, .. } if reason.contains("0 bytes")),
            "{error}"
        );
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 0, "left as found");
    }

    #[test]
    fn a_file_that_is_not_sqlite_is_refused_as_corrupt() {
        let (_dir, path) = test_file();
        std::fs::write(&path, b"order_id,amount\n1,100\n").unwrap();
        assert!(matches!(
            open_error(&path, true),
            StoreOpenError::Corrupt { reason, .. } if reason.contains("not a SQLite database")
        ));
    }

    #[test]
    fn another_programs_database_is_refused_as_corrupt() {
        let (_dir, path) = test_file();
        Connection::open(&path)
            .unwrap()
            .execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY);")
            .unwrap();
        assert!(matches!(
            open_error(&path, true),
            StoreOpenError::Corrupt { reason, .. } if reason.contains("invoices")
        ));
    }

    /// A store with a few thousand events, closed and checkpointed.
    fn filled_store(path: &Path) {
        let store = SqliteStore::open(path, Arc::new(ManualClock::new(0))).unwrap();
        for i in 0..300 {
            store
                .append(&new_stream_with_timer(
                    &format!("order-{i:04}"),
                    &["customer-1"],
                    7,
                ))
                .unwrap();
        }
        drop(store);
        // Fold the WAL into the main file, as a clean shutdown leaves it.
        let conn = Connection::open(path).unwrap();
        conn.pragma_update(None, "wal_checkpoint", "TRUNCATE")
            .unwrap();
        conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
    }

    fn overwrite(path: &Path, offset: u64, bytes: &[u8]) {
        use std::io::{Seek as _, Write as _};
        let mut file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
        file.seek(std::io::SeekFrom::Start(offset)).unwrap();
        file.write_all(bytes).unwrap();
    }

    /// Why a filled store is refused once `damage` changed its file.
    fn open_error_once_damaged(damage: impl FnOnce(&Path)) -> StoreOpenError {
        let (_dir, path) = test_file();
        filled_store(&path);
        damage(&path);
        open_error(&path, true)
    }

    #[test]
    fn a_zeroed_page_is_refused_as_corrupt() {
        let error = open_error_once_damaged(|path| {
            let page_size = 4096;
            overwrite(path, page_size, &vec![0; page_size as usize]);
        });
        assert!(matches!(&error, StoreOpenError::Corrupt { .. }), "{error}");
    }

    #[test]
    fn garbage_in_two_pages_is_refused_as_corrupt() {
        let error = open_error_once_damaged(|path| {
            let garbage: Vec<u8> = (0..4096_u32).map(|i| (i * 7 + 13) as u8).collect();
            // Whole pages: their b-tree headers are garbage too. (Bytes changed
            // inside a record's payload, with the page structure intact, are
            // beyond what `quick_check` can see.)
            overwrite(path, 2 * 4096, &garbage);
            overwrite(path, 5 * 4096, &garbage);
        });
        assert!(matches!(&error, StoreOpenError::Corrupt { .. }), "{error}");
    }

    #[test]
    fn a_deleted_or_replaced_file_makes_every_call_unavailable_for_good() {
        let (_dir, path) = test_file();
        let store = SqliteStore::open(&path, Arc::new(ManualClock::new(0))).unwrap();
        store
            .append(&new_stream_with_timer("order-a", &["customer-1"], 7))
            .unwrap();
        store.probe().unwrap();
        std::fs::remove_file(&path).unwrap();
        let error = store
            .append(&new_stream_with_timer("order-b", &["customer-1"], 7))
            .unwrap_err();
        assert!(
            matches!(&error, StoreError::Unavailable(m) if m.contains("deleted")),
            "{error}"
        );
        assert!(store.probe().is_err());
        assert!(store.load("order-a").is_err());
        // A new file at the path is not the one this store wrote to.
        std::fs::write(&path, b"").unwrap();
        assert!(
            store
                .append(&new_stream_with_timer("order-c", &["customer-1"], 7))
                .is_err()
        );
    }

    /// The plan SQLite chooses for `sql`, one line per step, every
    /// parameter bound to 1.
    fn plan_of(conn: &Connection, sql: &str) -> String {
        let count = conn.prepare(sql).unwrap().parameter_count();
        query_plan(conn, sql, vec![rusqlite::types::Value::Integer(1); count])
    }

    #[test]
    fn the_event_queries_of_schema_2_read_by_index_never_scan_the_events() {
        let (_dir, path) = test_file();
        {
            let store = SqliteStore::open(&path, Arc::new(ManualClock::new(0))).unwrap();
            for i in 0..300 {
                let mut batch = new_stream_with_timer(&format!("order-{i:04}"), &["customer-1"], 7);
                batch.streams[0].tags = vec![format!("customer-{}", i % 60)];
                store.append(&batch).unwrap();
            }
        }
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("ANALYZE").unwrap();
        let queries = [
            format!(
                "SELECT {EVENT_COLUMNS} FROM {EVENT_JOIN} WHERE s.name = ?1 ORDER BY e.version"
            ),
            "SELECT COALESCE(MAX(e.version), 0) FROM streams s JOIN events e ON e.stream = s.id
             WHERE s.name = ?1"
                .to_owned(),
            format!(
                "SELECT e.position, {EVENT_COLUMNS} FROM {EVENT_JOIN}
                 WHERE e.position > ?1 ORDER BY e.position LIMIT ?2"
            ),
            "SELECT s.name FROM tags t JOIN stream_tags st ON st.tag = t.id
             JOIN streams s ON s.id = st.stream WHERE t.name = ?1 ORDER BY st.seq"
                .to_owned(),
            "SELECT id FROM streams WHERE name = ?1".to_owned(),
            order_events_sql(),
            STATE_SQL.to_owned(),
            events_after_sql(),
        ];
        for sql in queries {
            let plan = plan_of(&conn, &sql);
            // The event types are a handful of rows (one per kind of event):
            // the planner may read them whole.
            let allowed = |line: &str| sql.contains("JOIN event_types t") && line == "SCAN t";
            assert!(
                !plan.lines().any(|l| l.starts_with("SCAN") && !allowed(l)),
                "no full scan:\n{sql}\n{plan}"
            );
        }
    }

    /// Waits (at most 10 s) until the store's thread has run `runs`
    /// checkpoints; answers the WAL frames they found.
    fn checkpoints_reach(store: &SqliteStore, runs: u64) -> u64 {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let (done, frames) = store.checkpointer.runs();
            if done >= runs {
                return frames;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{done} of {runs} checkpoints within 10 s"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn the_wal_is_copied_into_the_file_by_the_stores_thread_not_by_a_commit() {
        let (_dir, path) = test_file();
        let store = SqliteStore::open(&path, Arc::new(ManualClock::new(0))).unwrap();
        let backstop: i64 = store
            .lock()
            .pragma_query_value(None, "wal_autocheckpoint", |row| row.get(0))
            .unwrap();
        assert_eq!(
            backstop,
            checkpoint::BACKSTOP_PAGES,
            "the commit's own is a backstop"
        );
        let before = std::fs::metadata(&path).unwrap().len();

        // One commit: checkpointed once the store was idle for a while.
        store
            .append(&new_stream_with_timer("order-first", &["customer-1"], 7))
            .unwrap();
        assert!(
            checkpoints_reach(&store, 1) > 0,
            "it found the WAL's frames"
        );
        let copied = std::fs::metadata(&path).unwrap().len();
        assert!(
            copied > before,
            "the file grew from {before} to {copied} bytes"
        );

        // A run of commits: checkpointed without waiting for a pause.
        for i in 0..checkpoint::BATCHES_PER_CHECKPOINT {
            store
                .append(&new_stream_with_timer(
                    &format!("order-{i:03}"),
                    &["customer-1"],
                    7,
                ))
                .unwrap();
        }
        checkpoints_reach(&store, 2);
        drop(store);
        let store = SqliteStore::open(&path, Arc::new(ManualClock::new(0))).unwrap();
        assert_eq!(
            store.stats().unwrap().events,
            1 + checkpoint::BATCHES_PER_CHECKPOINT as u64
        );
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let (_dir, path) = test_file();
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
