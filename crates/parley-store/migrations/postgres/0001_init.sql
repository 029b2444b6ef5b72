-- Parley schema, version 1 (PostgreSQL). Times are epoch milliseconds (UTC); flags are 0/1 integers so the
-- same SQL text serves SQLite and PostgreSQL.

CREATE TABLE setup (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL,
    document TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE agent_states (
    agent TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    last_assigned BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);

CREATE TABLE consents (
    phone TEXT PRIMARY KEY,
    opted_out BIGINT NOT NULL,
    notice_sent BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE consent_ledger (
    seq BIGSERIAL PRIMARY KEY,
    phone TEXT NOT NULL,
    change TEXT NOT NULL,
    keyword TEXT,
    number TEXT NOT NULL,
    source TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX consent_ledger_phone ON consent_ledger (phone, seq);

CREATE TABLE chats (
    id TEXT PRIMARY KEY,
    number TEXT NOT NULL,
    consumer TEXT NOT NULL,
    status TEXT NOT NULL,
    queue TEXT,
    agent TEXT,
    opened_at BIGINT NOT NULL,
    queued_at BIGINT,
    ended_at BIGINT,
    end_reason TEXT,
    ended_by TEXT,
    updated_at BIGINT NOT NULL
);
-- At most one live chat between a consumer and a business number.
CREATE UNIQUE INDEX chats_live_pair ON chats (consumer, number) WHERE status <> 'finished';
CREATE INDEX chats_status_queue ON chats (status, queue, queued_at);
CREATE INDEX chats_agent ON chats (agent, status);

CREATE TABLE messages (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    chat_id TEXT,
    number TEXT NOT NULL,
    consumer TEXT NOT NULL,
    direction TEXT NOT NULL,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    media TEXT NOT NULL,
    status TEXT NOT NULL,
    purpose TEXT NOT NULL,
    carrier TEXT NOT NULL,
    provider_id TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    claimed_until BIGINT NOT NULL DEFAULT 0,
    error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- Inbound messages are idempotent by (carrier, provider message id).
CREATE UNIQUE INDEX messages_inbound_provider ON messages (carrier, provider_id) WHERE direction = 'in';
CREATE INDEX messages_chat ON messages (chat_id, seq);
-- The outbox: outbound messages not yet handed to a carrier.
CREATE INDEX messages_outbox ON messages (status, seq) WHERE status IN ('queued', 'sending');

CREATE TABLE events (
    id BIGSERIAL PRIMARY KEY,
    chat_id TEXT,
    queue TEXT,
    agent TEXT,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX events_chat ON events (chat_id, id);

CREATE TABLE api_tokens (
    hash TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    agent TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE sim_messages (
    seq BIGSERIAL PRIMARY KEY,
    phone TEXT NOT NULL,
    business TEXT NOT NULL,
    direction TEXT NOT NULL,
    body TEXT NOT NULL,
    media TEXT NOT NULL,
    message_id TEXT UNIQUE,
    at BIGINT NOT NULL
);
CREATE INDEX sim_messages_phone ON sim_messages (phone, seq);
