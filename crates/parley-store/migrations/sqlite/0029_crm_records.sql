-- Matching chats to contacts and the CRM records (docs/crm.md "Matching on connect", "Records").

-- A chat's link to its contact: `linked` (contact_id set) or `pending` (several contacts have the
-- chat's phone; `candidates` is their ids, comma-separated, until the agent picks one). One row per
-- chat; a relink replaces it, and the event log keeps every link.
CREATE TABLE chat_contacts (
    chat_id TEXT PRIMARY KEY,
    contact_id TEXT,
    state TEXT NOT NULL,
    how TEXT,
    by_who TEXT NOT NULL,
    candidates TEXT NOT NULL DEFAULT '',
    record_id TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX chat_contacts_contact ON chat_contacts (contact_id);

-- A contact's records (activities), per queue. `closed_at` is NULL while one of its chats is live.
CREATE TABLE crm_records (
    id TEXT PRIMARY KEY,
    contact_id TEXT NOT NULL,
    queue TEXT,
    opened_at BIGINT NOT NULL,
    closed_at BIGINT
);
CREATE INDEX crm_records_contact ON crm_records (contact_id, queue);

-- The chats of each record, in the order they joined it.
CREATE TABLE crm_record_chats (
    record_id TEXT NOT NULL,
    chat_id TEXT NOT NULL,
    joined_at BIGINT NOT NULL,
    PRIMARY KEY (record_id, chat_id)
);
CREATE INDEX crm_record_chats_chat ON crm_record_chats (chat_id);

-- The matching worker's place in the event log (one row, name 'crm_matcher'), moved in the same
-- transaction as the links it writes, so re-reading an event after a restart does nothing twice.
CREATE TABLE crm_cursors (
    name TEXT PRIMARY KEY,
    event_id BIGINT NOT NULL
);
