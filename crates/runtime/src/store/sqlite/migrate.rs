//! The upgrade of a file of schema 1 to schema 2, run once when the file is
//! opened, inside the transaction that prepares it: it commits whole or,
//! after a crash or an error, leaves the file of schema 1 as it was.
//!
//! Schema 1 kept each event's stream id and type as text in every row, the
//! payload as text, and the feed in a table of its own (`event_feed`).
//! The upgrade interns the names, encodes each payload, and gives every
//! event its feed position as rowid, so a webhook endpoint's position still
//! names the same event. The old tables are dropped; their pages go to
//! SQLite's free list, which later appends reuse.

use rusqlite::{Connection, params};

use super::payload;
use super::{Prepare, SCHEMA};

/// Schema 1's feed, as a host of schema 1 created it on open.
const EVENT_FEED_V1: &str = "
CREATE TABLE IF NOT EXISTS event_feed (
    position  INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_id TEXT    NOT NULL,
    version   INTEGER NOT NULL,
    UNIQUE (stream_id, version)
);
";

/// Upgrades the file (whose tables are `tables`) inside `tx`.
pub(super) fn from_version_1(tx: &Connection, tables: &[String]) -> Result<(), Prepare> {
    let has = |name: &str| tables.iter().any(|t| t == name);
    let missing: Vec<&str> = ["events", "saga_timers", "stream_tags"]
        .into_iter()
        .filter(|t| !has(t))
        .collect();
    if !missing.is_empty() {
        return Err(Prepare::Corrupt(format!(
            "schema version 1 but the table(s) {} are missing",
            missing.join(", ")
        )));
    }
    tracing::info!("upgrading the event store from schema version 1 to 2");
    if !has("event_feed") {
        // A file of schema 1 written before the feed: number its events as
        // a host of schema 1 would have (oldest recorded first).
        tx.execute_batch(EVENT_FEED_V1)?;
        tx.execute(
            "INSERT INTO event_feed (stream_id, version)
             SELECT stream_id, version FROM events ORDER BY recorded_at, stream_id, version",
            [],
        )?;
    }
    tx.execute_batch(
        "ALTER TABLE events RENAME TO events_v1;
         ALTER TABLE stream_tags RENAME TO stream_tags_v1;",
    )?;
    tx.execute_batch(SCHEMA)?;
    tx.execute_batch(
        "INSERT INTO streams (name)
             SELECT stream_id FROM event_feed GROUP BY stream_id ORDER BY MIN(position);
         INSERT OR IGNORE INTO streams (name)
             SELECT stream_id FROM stream_tags_v1 ORDER BY seq;
         INSERT INTO event_types (name) SELECT DISTINCT event_type FROM events_v1;
         INSERT INTO tags (name) SELECT tag FROM stream_tags_v1 GROUP BY tag ORDER BY MIN(seq);
         INSERT INTO stream_tags (seq, tag, stream)
             SELECT o.seq, t.id, s.id FROM stream_tags_v1 o
             JOIN tags t ON t.name = o.tag JOIN streams s ON s.name = o.stream_id;",
    )?;
    let mut copied: i64 = 0;
    {
        let mut read = tx.prepare(
            "SELECT f.position, s.id, o.version, t.id, o.recorded_at, o.payload
             FROM event_feed f
             JOIN events_v1 o ON o.stream_id = f.stream_id AND o.version = f.version
             JOIN streams s ON s.name = o.stream_id
             JOIN event_types t ON t.name = o.event_type
             ORDER BY f.position",
        )?;
        let mut write = tx.prepare(
            "INSERT INTO events (position, stream, version, type, recorded_at, payload)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        let mut rows = read.query([])?;
        while let Some(row) = rows.next()? {
            let text: String = row.get(5)?;
            write.execute(params![
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, i64>(3)?,
                row.get::<_, i64>(4)?,
                payload::encode(&text),
            ])?;
            copied += 1;
        }
    }
    let old: i64 = tx.query_row("SELECT COUNT(*) FROM events_v1", [], |row| row.get(0))?;
    if old != copied {
        return Err(Prepare::Corrupt(format!(
            "schema version 1 with {old} event(s) but {copied} in its feed; \
             the file is left as it was"
        )));
    }
    // A position once handed out is never handed out again.
    tx.execute(
        "UPDATE sqlite_sequence SET seq = MAX(seq,
             COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'event_feed'), 0))
         WHERE name = 'events'",
        [],
    )?;
    tx.execute_batch(
        "DROP TABLE events_v1;
         DROP TABLE stream_tags_v1;
         DROP TABLE event_feed;",
    )?;
    tracing::info!(events = copied, "event store upgraded to schema version 2");
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use rusqlite::Connection;

    use crate::clock::ManualClock;
    use crate::store::sqlite::SqliteStore;
    use crate::store::{AppendBatch, EventStore, NewEvent, StreamAppend};

    /// The tables a host of schema 1 wrote (its feed included).
    const SCHEMA_1: &str = "
        CREATE TABLE events (
            stream_id TEXT NOT NULL, version INTEGER NOT NULL, event_type TEXT NOT NULL,
            payload TEXT NOT NULL, recorded_at INTEGER NOT NULL,
            PRIMARY KEY (stream_id, version)
        ) WITHOUT ROWID;
        CREATE TABLE stream_tags (
            seq INTEGER PRIMARY KEY, tag TEXT NOT NULL, stream_id TEXT NOT NULL,
            UNIQUE (tag, stream_id)
        );
        CREATE TABLE saga_timers (saga_id TEXT PRIMARY KEY, due_at INTEGER NOT NULL)
            WITHOUT ROWID;
        CREATE INDEX saga_timers_by_due ON saga_timers (due_at, saga_id);
        CREATE TABLE event_feed (
            position INTEGER PRIMARY KEY AUTOINCREMENT, stream_id TEXT NOT NULL,
            version INTEGER NOT NULL, UNIQUE (stream_id, version)
        );
        CREATE TABLE webhook_endpoints (
            id TEXT PRIMARY KEY, url TEXT NOT NULL, event_types TEXT NOT NULL,
            secret TEXT NOT NULL, created_at INTEGER NOT NULL, position INTEGER NOT NULL
        ) WITHOUT ROWID;
        PRAGMA user_version = 1;
    ";

    const PLACED: &str = r#"{"type":"order-placed","order_id":"o-1","customer_id":"c-1","placed_at":5,"total":{"amount":1250,"currency":"EUR"}}"#;

    /// A file of schema 1: two orders interleaved in the feed, tags, a
    /// timer and a webhook endpoint part way along the feed.
    fn file_of_schema_1(path: &Path) {
        let conn = Connection::open(path).unwrap();
        conn.execute_batch(SCHEMA_1).unwrap();
        let events = [
            ("order-o-1", 1, "order-placed", PLACED, 100),
            (
                "order-o-2",
                1,
                "order-placed",
                "{\"type\":\"order-placed\"}",
                110,
            ),
            (
                "order-o-1",
                2,
                "payment-confirmed",
                "{\"type\":\"payment-confirmed\"}",
                120,
            ),
            ("saga-o-1", 1, "saga-started", "{\"ünï\":\"cödé\"}", 130),
        ];
        for (position, (stream, version, kind, payload, at)) in (1_i64..).zip(events) {
            conn.execute(
                "INSERT INTO events VALUES (?1, ?2, ?3, ?4, ?5)",
                rusqlite::params![stream, version, kind, payload, at],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO event_feed (position, stream_id, version) VALUES (?1, ?2, ?3)",
                rusqlite::params![position * 2, stream, version],
            )
            .unwrap();
        }
        conn.execute_batch(
            "INSERT INTO stream_tags (tag, stream_id) VALUES
                 ('customer-c-2', 'order-o-2'), ('customer-c-1', 'order-o-1'),
                 ('customer-c-2', 'order-o-1'), ('tag-only', 'order-o-9');
             INSERT INTO saga_timers VALUES ('saga-o-1', 9000);
             INSERT INTO webhook_endpoints VALUES ('wh-1', 'http://127.0.0.1:1/h', 'order-placed',
                 'secret', 50, 4);",
        )
        .unwrap();
    }

    fn user_version(path: &Path) -> i64 {
        Connection::open(path)
            .unwrap()
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap()
    }

    #[test]
    fn a_file_of_schema_1_is_upgraded_on_open_keeping_every_event_and_position() {
        let (_dir, path) = crate::store::sqlite::test_file();
        file_of_schema_1(&path);
        let clock = Arc::new(ManualClock::new(1_000));
        let store = SqliteStore::open(&path, clock.clone()).unwrap();
        assert_eq!(
            store.format().as_deref(),
            Some("SQLite schema 2, upgraded from schema 1 when opened")
        );

        let o1 = store.load("order-o-1").unwrap();
        assert_eq!(o1.len(), 2);
        assert_eq!(o1[0].payload, PLACED, "byte for byte");
        assert_eq!(o1[0].event_type, "order-placed");
        assert_eq!(o1[0].recorded_at, 100);
        assert_eq!(o1[1].event_type, "payment-confirmed");
        assert_eq!(
            store.load("saga-o-1").unwrap()[0].payload,
            "{\"ünï\":\"cödé\"}"
        );
        let feed = store.read_feed(0, 10).unwrap();
        let positions: Vec<(u64, &str, u64)> = feed
            .iter()
            .map(|f| (f.position, f.event.stream_id.as_str(), f.event.version))
            .collect();
        assert_eq!(
            positions,
            [
                (2, "order-o-1", 1),
                (4, "order-o-2", 1),
                (6, "order-o-1", 2),
                (8, "saga-o-1", 1)
            ]
        );
        assert_eq!(
            store.read_feed(4, 10).unwrap()[0].position,
            6,
            "after the endpoint's place"
        );
        assert_eq!(store.webhook_endpoint("wh-1").unwrap().unwrap().position, 4);
        assert_eq!(
            store.find_streams("customer-c-2").unwrap(),
            ["order-o-2", "order-o-1"],
            "first-tagged order"
        );
        assert_eq!(store.find_streams("tag-only").unwrap(), ["order-o-9"]);
        assert_eq!(store.all_timers().unwrap()[0].due_at, 9000);
        let stats = store.stats().unwrap();
        assert_eq!((stats.streams, stats.events, stats.timers), (3, 4, 1));
        assert_eq!(
            store.order_summary("o-1").unwrap().unwrap().total,
            1250,
            "the read model is back-filled from the upgraded events"
        );

        store
            .append(&AppendBatch {
                streams: vec![StreamAppend {
                    stream_id: "order-o-2".to_owned(),
                    expected_version: 1,
                    tags: Vec::new(),
                    events: vec![NewEvent {
                        event_type: "order-cancelled".to_owned(),
                        payload: "{}".to_owned(),
                    }],
                    state: None,
                }],
                timers: Vec::new(),
            })
            .unwrap();
        assert_eq!(
            store.feed_head().unwrap(),
            9,
            "a new position follows the old ones"
        );
        drop(store);
        assert_eq!(user_version(&path), 2);
        let tables: Vec<String> = {
            let conn = Connection::open(&path).unwrap();
            let mut s = conn
                .prepare(
                    "SELECT name FROM sqlite_master WHERE name LIKE '%_v1' OR name = 'event_feed'",
                )
                .unwrap();
            s.query_map([], |row| row.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        assert!(tables.is_empty(), "the old tables are gone: {tables:?}");
        let again = SqliteStore::open(&path, clock).unwrap();
        assert_eq!(
            again.load("order-o-2").unwrap().len(),
            2,
            "opened again, no second upgrade"
        );
    }

    #[test]
    fn an_upgrade_that_fails_leaves_the_file_of_schema_1_as_it_was() {
        let (_dir, path) = crate::store::sqlite::test_file();
        file_of_schema_1(&path);
        // An event the feed does not know: the upgrade must stop.
        Connection::open(&path)
            .unwrap()
            .execute(
                "INSERT INTO events VALUES ('order-o-3', 1, 'order-placed', '{}', 140)",
                [],
            )
            .unwrap();
        let error = SqliteStore::open(&path, Arc::new(ManualClock::new(0)))
            .err()
            .expect("refused");
        assert!(format!("{error:#}").contains("in its feed"), "{error:#}");
        assert_eq!(user_version(&path), 1);
        let conn = Connection::open(&path).unwrap();
        let (events, feed): (i64, i64) = conn
            .query_row(
                "SELECT (SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM event_feed)",
                [],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap();
        assert_eq!((events, feed), (5, 4), "the old tables, untouched");
        let payload: String = conn
            .query_row(
                "SELECT payload FROM events WHERE stream_id = 'order-o-1' AND version = 1",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(payload, PLACED);
    }
}
