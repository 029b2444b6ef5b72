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
    previous_until BIGINT,
    cursor BIGINT NOT NULL,
    -- Attempts made on the head event, and when its first one failed (epoch ms; NULL: none failed).
    head_attempts BIGINT NOT NULL DEFAULT 0,
    head_failing_since BIGINT,
    -- When the endpoint's deliveries started failing without a success since (NULL: not failing).
    failing_since BIGINT,
    -- The head's next attempt is not before this (NULL: at once).
    next_attempt_at BIGINT,
    -- Set when the endpoint was disabled (by an admin, or after 24 hours of failures).
    disabled_at BIGINT,
    disabled_reason TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Every delivery attempt, for GET /api/v1/webhooks/{id}/deliveries.
CREATE TABLE webhook_deliveries (
    id BIGSERIAL PRIMARY KEY,
    endpoint_id TEXT NOT NULL,
    event_id BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    attempt BIGINT NOT NULL,
    -- delivered, retrying (another attempt follows at next_attempt_at) or failed (given up).
    outcome TEXT NOT NULL,
    status_code BIGINT,
    latency_ms BIGINT NOT NULL,
    error TEXT,
    at BIGINT NOT NULL,
    next_attempt_at BIGINT,
    -- 1 for an attempt an admin asked for with replay (it never moves the cursor).
    replay BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
