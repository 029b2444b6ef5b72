-- People who log in to the web console, and their sessions. Bearer tokens (api_tokens) stay as they are.
--
-- A username is unique ignoring case: the store writes it in lower case, and the index on lower()
-- refuses a second spelling whatever wrote it. password_hash is an argon2id PHC string, never the
-- password. role is admin, supervisor or agent; an agent names its agent id of the setup, a supervisor
-- the comma-separated team ids whose queues it watches (team ids never contain a comma).
CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    username TEXT NOT NULL,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'supervisor', 'agent')),
    agent TEXT,
    teams TEXT NOT NULL DEFAULT '',
    disabled BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK (role <> 'agent' OR agent IS NOT NULL)
);
CREATE UNIQUE INDEX users_username ON users (lower(username));

-- One row per logged-in browser. The cookie carries a random 256-bit token; only its SHA-256 is kept
-- here, so a copy of the database lets nobody in. last_seen_at drives the idle expiry, expires_at is
-- the absolute end. Deleting a user (or the row) ends its sessions.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    user_agent TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);
