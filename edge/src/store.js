// `event-store` on a Durable Object's SQLite storage. The calls are
// synchronous (the storage's `sql` API is), so the component's store
// imports need no JSPI suspension. `append` is one `transactionSync`: every
// expected version is checked before anything is written, and its events,
// tags and saga timers take effect together or not at all.

/** Thrown by an import to answer `err(payload)` (jco reads `payload`). */
export class ImportError extends Error {
  constructor(payload) {
    super(`${payload.tag}: ${typeof payload.val === 'string' ? payload.val : JSON.stringify(payload.val, (_k, v) => (typeof v === 'bigint' ? Number(v) : v))}`);
    Object.defineProperty(this, 'payload', { value: payload, enumerable: true });
  }
}

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS events (
     stream_id TEXT NOT NULL, version INTEGER NOT NULL, event_type TEXT NOT NULL,
     payload TEXT NOT NULL, recorded_at INTEGER NOT NULL, PRIMARY KEY (stream_id, version))`,
  `CREATE TABLE IF NOT EXISTS tags (
     tag TEXT NOT NULL, stream_id TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (tag, stream_id))`,
  `CREATE TABLE IF NOT EXISTS timers (saga_id TEXT PRIMARY KEY, due_at INTEGER NOT NULL)`,
  // Back-off of sagas whose advance failed (not the component's timer).
  `CREATE TABLE IF NOT EXISTS holds (saga_id TEXT PRIMARY KEY, until_at INTEGER NOT NULL, failures INTEGER NOT NULL)`,
  // Webhook event ids already applied, per source.
  `CREATE TABLE IF NOT EXISTS webhooks (source TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (source, id))`,
];

export class DurableEventStore {
  /** `storage` is a SQLite-backed Durable Object's `ctx.storage`. */
  constructor(storage, now) {
    this.storage = storage;
    this.sql = storage.sql;
    this.now = now;
    for (const statement of SCHEMA) this.sql.exec(statement);
  }

  version(streamId) {
    return this.sql.exec('SELECT COUNT(*) AS n FROM events WHERE stream_id = ?', streamId).one().n;
  }

  /** Every event of a stream, in version order. */
  load(streamId) {
    checkStreamId(streamId);
    return this.sql
      .exec('SELECT * FROM events WHERE stream_id = ? ORDER BY version', streamId)
      .toArray()
      .map((r) => ({
        streamId: r.stream_id,
        version: BigInt(r.version),
        eventType: r.event_type,
        payload: r.payload,
        recordedAt: BigInt(r.recorded_at),
      }));
  }

  /** The component's `event-store` import. */
  imports() {
    return {
      load: (streamId) => this.load(streamId),
      // This store keeps no state records (the WIT allows it): an append's
      // `state` is not stored, and a tail is every event.
      loadTail: (streamId) => ({ state: undefined, events: this.load(streamId) }),
      streamVersion: (streamId) => {
        checkStreamId(streamId);
        return BigInt(this.version(streamId));
      },
      append: (batch) => this.storage.transactionSync(() => this.#append(batch)),
      findStreams: (tag) =>
        this.sql.exec('SELECT stream_id FROM tags WHERE tag = ? ORDER BY seq', tag).toArray().map((r) => r.stream_id),
    };
  }

  #append(batch) {
    const seen = new Set();
    for (const s of batch.streams) {
      checkStreamId(s.streamId);
      if (seen.has(s.streamId)) throw new ImportError({ tag: 'invalid', val: `stream ${s.streamId} appears twice in one batch` });
      seen.add(s.streamId);
      const actual = BigInt(this.version(s.streamId));
      if (actual !== s.expectedVersion) {
        throw new ImportError({ tag: 'conflict', val: { streamId: s.streamId, expected: s.expectedVersion, actual } });
      }
    }
    for (const t of batch.timers) {
      if (t.sagaId === '') throw new ImportError({ tag: 'invalid', val: 'empty saga id' });
    }
    const recordedAt = Number(this.now());
    for (const s of batch.streams) {
      let version = this.version(s.streamId);
      for (const e of s.events) {
        version += 1;
        this.sql.exec(
          'INSERT INTO events (stream_id, version, event_type, payload, recorded_at) VALUES (?, ?, ?, ?, ?)',
          s.streamId, version, e.eventType, e.payload, recordedAt,
        );
      }
      for (const tag of s.tags) {
        this.sql.exec(
          'INSERT OR IGNORE INTO tags (tag, stream_id, seq) VALUES (?, ?, (SELECT COUNT(*) FROM tags))',
          tag, s.streamId,
        );
      }
    }
    for (const t of batch.timers) {
      if (t.dueAt === undefined) this.sql.exec('DELETE FROM timers WHERE saga_id = ?', t.sagaId);
      else this.sql.exec('INSERT OR REPLACE INTO timers (saga_id, due_at) VALUES (?, ?)', t.sagaId, Number(t.dueAt));
    }
  }

  /** Sagas whose timer is due at `now` and that are not held back, earliest first. */
  dueSagas(now, limit) {
    return this.sql
      .exec(
        `SELECT t.saga_id AS saga_id FROM timers t LEFT JOIN holds h ON h.saga_id = t.saga_id
         WHERE t.due_at <= ? AND (h.until_at IS NULL OR h.until_at <= ?) ORDER BY t.due_at, t.saga_id LIMIT ?`,
        now, now, limit,
      )
      .toArray()
      .map((r) => r.saga_id);
  }

  /** When the driver must next look: the earliest timer, or the end of its hold. */
  nextWake() {
    const row = this.sql
      .exec(`SELECT MIN(MAX(t.due_at, COALESCE(h.until_at, 0))) AS at FROM timers t LEFT JOIN holds h ON h.saga_id = t.saga_id`)
      .one();
    return row.at ?? undefined;
  }

  timerOf(sagaId) {
    return this.sql.exec('SELECT due_at FROM timers WHERE saga_id = ?', sagaId).toArray()[0]?.due_at;
  }

  /** Holds a saga back after a failed advance: 1 s, doubling, at most 5 min. Returns the delay. */
  holdBack(sagaId, now) {
    const failures = (this.sql.exec('SELECT failures FROM holds WHERE saga_id = ?', sagaId).toArray()[0]?.failures ?? 0) + 1;
    const delay = Math.min(1000 * 2 ** (failures - 1), 300_000);
    this.sql.exec('INSERT OR REPLACE INTO holds (saga_id, until_at, failures) VALUES (?, ?, ?)', sagaId, now + delay, failures);
    return delay;
  }

  release(sagaId) {
    this.sql.exec('DELETE FROM holds WHERE saga_id = ?', sagaId);
  }

  /** True when a webhook event id of `source` was applied before. */
  seenWebhook(source, id) {
    return this.sql.exec('SELECT 1 FROM webhooks WHERE source = ? AND id = ?', source, id).toArray().length > 0;
  }

  /** Remembers an applied webhook event id. */
  rememberWebhook(source, id) {
    this.sql.exec('INSERT OR IGNORE INTO webhooks (source, id) VALUES (?, ?)', source, id);
  }
}

function checkStreamId(streamId) {
  if (streamId === '') throw new ImportError({ tag: 'invalid', val: 'empty stream id' });
}
