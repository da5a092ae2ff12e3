-- The HTTP API's idempotency records: the request's fingerprint, when it
-- began, and its response once finished (NULL while running).

CREATE TABLE idempotency_keys (
    key         TEXT   PRIMARY KEY,
    fingerprint TEXT   NOT NULL,
    started_at  BIGINT NOT NULL,
    response    TEXT
);
