-- The streams' state records (decision 0022): at most one a stream, the
-- component's folded state at `version`, replaced by the append that
-- carries a new one, in that append's transaction. A record at a version
-- stays the fold of the events up to it, so a host that does not write
-- records leaves them behind the stream, never wrong.
CREATE TABLE IF NOT EXISTS stream_states (
    stream_id TEXT   PRIMARY KEY REFERENCES streams (stream_id),
    version   BIGINT NOT NULL CHECK (version >= 0),
    state     TEXT   NOT NULL
);
