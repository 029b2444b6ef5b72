-- Outgoing event webhooks (docs/integrations.md "Webhooks"). The events table is the queue: each
-- endpoint keeps a cursor, the id of the last event it is done with (delivered, failed for good, or
-- not of its types), so the ingest path writes nothing per endpoint. The head event (the first of its
-- types after the cursor) is retried until it is delivered or its 24 hours of retries are over.
CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    description TEXT NOT NULL,
    -- The subscribed webhook types, space separated; "*" for every one.
    events TEXT NOT NULL,
    -- "whsec_" + base64: signs every delivery.
    secret TEXT NOT NULL,
    -- The secret before the last rotation, which keeps signing beside the new one until previous_until.
    previous_secret TEXT,
    previous_until INTEGER,
    cursor INTEGER NOT NULL,
    -- Attempts made on the head event, and when its first one failed (epoch ms; NULL: none failed).
    head_attempts INTEGER NOT NULL DEFAULT 0,
    head_failing_since INTEGER,
    -- When the endpoint's deliveries started failing without a success since (NULL: not failing).
    failing_since INTEGER,
    -- The head's next attempt is not before this (NULL: at once).
    next_attempt_at INTEGER,
    -- Set when the endpoint was disabled (by an admin, or after 24 hours of failures).
    disabled_at INTEGER,
    disabled_reason TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Every delivery attempt, for GET /api/v1/webhooks/{id}/deliveries.
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id TEXT NOT NULL,
    event_id INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    -- delivered, retrying (another attempt follows at next_attempt_at) or failed (given up).
    outcome TEXT NOT NULL,
    status_code INTEGER,
    latency_ms INTEGER NOT NULL,
    error TEXT,
    at INTEGER NOT NULL,
    next_attempt_at INTEGER,
    -- 1 for an attempt an admin asked for with replay (it never moves the cursor).
    replay INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
