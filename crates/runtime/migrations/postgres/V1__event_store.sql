-- The event store: streams with their versions, events, tags, saga timers.

-- One row per stream; its `version` is the number of events. An append locks
-- the rows of its streams (in stream-id order) before it checks versions, so
-- the check and the write cannot be split by another host.
CREATE TABLE streams (
    stream_id TEXT   PRIMARY KEY,
    version   BIGINT NOT NULL CHECK (version >= 0)
);

CREATE TABLE events (
    stream_id   TEXT   NOT NULL REFERENCES streams (stream_id),
    version     BIGINT NOT NULL CHECK (version >= 1),
    event_type  TEXT   NOT NULL,
    payload     TEXT   NOT NULL,
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (stream_id, version)
);

-- `seq` only grows, so ordering by it is first-tagged order.
CREATE TABLE stream_tags (
    seq       BIGSERIAL PRIMARY KEY,
    tag       TEXT NOT NULL,
    stream_id TEXT NOT NULL,
    UNIQUE (tag, stream_id)
);

CREATE TABLE saga_timers (
    saga_id TEXT   PRIMARY KEY,
    due_at  BIGINT NOT NULL
);

CREATE INDEX saga_timers_by_due ON saga_timers (due_at, saga_id);
