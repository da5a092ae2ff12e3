-- Which host runs a due saga, until when, under which fencing token.

CREATE SEQUENCE saga_lease_tokens;

CREATE TABLE saga_leases (
    saga_id    TEXT   PRIMARY KEY,
    owner      TEXT   NOT NULL,
    token      BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
