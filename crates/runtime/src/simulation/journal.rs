//! The durable journal of the simulated contexts: one SQLite file in which
//! every call (and every change made by hand, such as a stock level or a
//! parcel picked up) is appended while the backend still holds its lock,
//! before the caller gets its answer. Opening the file replays the entries
//! in order through the same code, so a restarted host knows every charge,
//! allocation, shipment and message, and answers a repeated idempotency key
//! with its first outcome.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use anyhow::{Context as _, bail};
use rusqlite::{Connection, OptionalExtension, params};

use crate::lockfile::LockFile;

/// The schema this code writes; `PRAGMA user_version` records it.
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sim_journal (
    seq     INTEGER PRIMARY KEY,
    context TEXT    NOT NULL,
    action  TEXT    NOT NULL,
    key     TEXT    NOT NULL,
    at      INTEGER NOT NULL,
    source  TEXT    NOT NULL,
    fault   TEXT    NOT NULL,
    outcome TEXT    NOT NULL,
    request TEXT    NOT NULL,
    result  TEXT    NOT NULL
);
";

/// How a journaled call was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// The key had a remembered outcome; the call only repeated it.
    Memo,
    /// A random fault draw decided (counts as an attempt of the key).
    Draw,
    /// A scripted outcome decided.
    Script,
    /// Not a call: a change made by hand (stock level, pickup, ...).
    Admin,
}

impl Source {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Source::Memo => "memo",
            Source::Draw => "draw",
            Source::Script => "script",
            Source::Admin => "admin",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        [Source::Memo, Source::Draw, Source::Script, Source::Admin]
            .into_iter()
            .find(|s| s.name() == name)
    }
}

/// One journaled call or change, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// Its position in the journal.
    pub seq: i64,
    /// The context (`payment`, ...).
    pub context: String,
    /// The operation's WIT name, or the change (`set-stock`, `pick-up`, ...).
    pub action: String,
    /// The idempotency key; empty for changes.
    pub key: String,
    /// The simulated time the effect was stamped with.
    pub at: u64,
    /// How the call was decided.
    pub source: Source,
    /// The injected fault (`none`, `transient`, `permanent`).
    pub fault: String,
    /// How the call ended (`ok`, `transient`, `permanent`).
    pub outcome: String,
    /// The request as JSON.
    pub request: String,
    /// The answer: JSON on success, the error's message otherwise.
    pub result: String,
}

/// An open journal file, locked for this process.
pub(crate) struct Journal {
    path: PathBuf,
    conn: Mutex<Connection>,
    _lock: LockFile,
}

impl Journal {
    /// Opens (creating if needed, with its parent directories) the journal
    /// at `path`, and locks it for this process: a second process (or a
    /// second open in this one) fails at once, naming the holder, since two
    /// writers would each act on a state the other does not see.
    pub(crate) fn open(path: &Path) -> anyhow::Result<Self> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating the directory {}", parent.display()))?;
        }
        let lock = LockFile::acquire(path, "the simulation state")?;
        let conn = Connection::open(path)
            .with_context(|| format!("opening the simulation state {}", path.display()))?;
        configure(&conn)
            .with_context(|| format!("preparing the simulation state {}", path.display()))?;
        Ok(Self {
            path: path.to_path_buf(),
            conn: Mutex::new(conn),
            _lock: lock,
        })
    }

    /// The file.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Every entry, oldest first.
    pub(crate) fn entries(&self) -> anyhow::Result<Vec<Entry>> {
        let conn = self.lock();
        let mut statement = conn.prepare(
            "SELECT seq, context, action, key, at, source, fault, outcome, request, result
             FROM sim_journal ORDER BY seq",
        )?;
        let rows = statement.query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, i64>(4)?,
                row.get::<_, String>(5)?,
                row.get::<_, String>(6)?,
                row.get::<_, String>(7)?,
                row.get::<_, String>(8)?,
                row.get::<_, String>(9)?,
            ))
        })?;
        let mut entries = Vec::new();
        for row in rows {
            let (seq, context, action, key, at, source, fault, outcome, request, result) = row?;
            let Some(source) = Source::parse(&source) else {
                bail!("journal entry {seq} has an unknown source `{source}`");
            };
            entries.push(Entry {
                seq,
                context,
                action,
                key,
                at: u64::try_from(at).unwrap_or(0),
                source,
                fault,
                outcome,
                request,
                result,
            });
        }
        Ok(entries)
    }

    /// Appends one entry (its `seq` is ignored: the journal numbers it).
    /// Returns once SQLite has committed it.
    pub(crate) fn append(&self, entry: &Entry) -> Result<(), String> {
        let at = i64::try_from(entry.at).map_err(|_| "time out of range".to_owned())?;
        self.lock()
            .execute(
                "INSERT INTO sim_journal
                 (context, action, key, at, source, fault, outcome, request, result)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    entry.context,
                    entry.action,
                    entry.key,
                    at,
                    entry.source.name(),
                    entry.fault,
                    entry.outcome,
                    entry.request,
                    entry.result,
                ],
            )
            .map(drop)
            .map_err(|e| format!("writing to {}: {e}", self.path.display()))
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while the lock was held dropped its statement; an insert
        // is its own transaction, so the connection is still consistent.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn configure(conn: &Connection) -> anyhow::Result<()> {
    conn.busy_timeout(Duration::from_secs(5))?;
    let is_event_store: Option<String> = conn
        .query_row(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'events'",
            [],
            |row| row.get(0),
        )
        .optional()?;
    if is_event_store.is_some() {
        bail!("the file is an event store; give the simulation state a file of its own");
    }
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        bail!("the file system does not support WAL mode (journal mode is `{mode}`)");
    }
    // Like the event store's default: a committed entry survives a power
    // loss, so the journal never forgets a charge the store remembers.
    conn.pragma_update(None, "synchronous", "FULL")?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    match version {
        0 => {
            conn.execute_batch(SCHEMA)?;
            conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        }
        SCHEMA_VERSION => {}
        other => {
            bail!("the file has schema version {other}; this host reads version {SCHEMA_VERSION}")
        }
    }
    Ok(())
}
