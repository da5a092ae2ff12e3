-- The order read model: one row per order, written in the transaction of
-- each append. The host back-fills it from the stored events in the same
-- transaction as this migration (the mapping from events to a summary is
-- Rust code, shared by every store).

CREATE TABLE order_summaries (
    order_id      TEXT    PRIMARY KEY,
    customer_id   TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    saga          TEXT,
    currency      TEXT    NOT NULL,
    total         BIGINT  NOT NULL,
    created_at    BIGINT  NOT NULL,
    placed_at     BIGINT,
    listed_at     BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL,
    version       BIGINT  NOT NULL,
    saga_finished BOOLEAN NOT NULL,
    stalled       TEXT    NOT NULL
);

CREATE INDEX order_summaries_by_listing ON order_summaries (listed_at, order_id);
CREATE INDEX order_summaries_by_customer ON order_summaries (customer_id, listed_at, order_id);
CREATE INDEX order_summaries_by_status ON order_summaries (status, listed_at, order_id);
CREATE INDEX order_summaries_by_saga ON order_summaries (saga, listed_at, order_id);
CREATE INDEX order_summaries_by_update ON order_summaries (updated_at);
