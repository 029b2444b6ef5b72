-- CRM connectors ([crm.NAME] in parley.toml; docs/crm.md "Connectors"). The events table is read by
-- each connector from its cursor (the id of the last event it has looked at); the events that are
-- record changes for it become rows of crm_deliveries in the same transaction that moves the cursor,
-- so the ingest path writes nothing per connector and a change is never lost or queued twice.
CREATE TABLE crm_connector_cursors (
    connector TEXT PRIMARY KEY,
    cursor INTEGER NOT NULL
);

-- One row per record change per connector: its state and the last attempt's outcome. Delivered in id
-- order per connector (the head is the oldest not yet delivered or failed).
CREATE TABLE crm_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    connector TEXT NOT NULL,
    event_id INTEGER NOT NULL,
    -- The record change type (crm.record.opened, ..., crm.contact.erased).
    change TEXT NOT NULL,
    chat_id TEXT,
    contact_id TEXT,
    record_id TEXT,
    -- pending, retrying, delivered or failed.
    outcome TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    status_code INTEGER,
    error TEXT,
    -- The start of the CRM's last answer (for a 4xx: why it was refused).
    body_excerpt TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (connector, event_id)
);
CREATE INDEX crm_deliveries_head ON crm_deliveries (connector, outcome, id);

-- Objects a connector created in its CRM (a HubSpot note per record), written as soon as the CRM
-- answered, so a retry after a crash updates the object instead of creating a second one.
CREATE TABLE crm_objects (
    connector TEXT NOT NULL,
    -- What the object is for: "note:{record_id}".
    key TEXT NOT NULL,
    external_id TEXT NOT NULL,
    PRIMARY KEY (connector, key)
);
