-- The global feed of stored events and the outbound webhook endpoints.

-- One row: the last position handed out. An append with events updates it
-- inside its transaction, so the row lock orders the appends of every host:
-- positions grow in commit order, and a reader never sees a new event appear
-- below a position it has already read. The cost: appends with events
-- commit one at a time (the lock is held from that update to the commit).
CREATE TABLE event_feed_head (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    position BIGINT  NOT NULL
);

CREATE TABLE event_feed (
    position  BIGINT PRIMARY KEY,
    stream_id TEXT   NOT NULL,
    version   BIGINT NOT NULL,
    UNIQUE (stream_id, version),
    FOREIGN KEY (stream_id, version) REFERENCES events (stream_id, version)
);

-- The events stored before this migration, oldest recorded first.
INSERT INTO event_feed (position, stream_id, version)
SELECT row_number() OVER (ORDER BY recorded_at, stream_id, version), stream_id, version
FROM events;

INSERT INTO event_feed_head (id, position)
SELECT 1, COALESCE(MAX(position), 0) FROM event_feed;

CREATE TABLE webhook_endpoints (
    id          TEXT   PRIMARY KEY,
    url         TEXT   NOT NULL,
    event_types TEXT   NOT NULL,
    secret      TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    position    BIGINT NOT NULL
);

-- Which host delivers to an endpoint, until when.
CREATE TABLE webhook_leases (
    endpoint_id TEXT   PRIMARY KEY REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    owner       TEXT   NOT NULL,
    expires_at  BIGINT NOT NULL
);

CREATE TABLE webhook_deliveries (
    seq          BIGSERIAL PRIMARY KEY,
    endpoint_id  TEXT      NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id     TEXT      NOT NULL,
    position     BIGINT    NOT NULL,
    attempt      INTEGER   NOT NULL,
    status       INTEGER,
    error        TEXT,
    attempted_at BIGINT    NOT NULL
);

CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, seq);
