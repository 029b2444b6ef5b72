-- API keys (docs/integrations.md "API keys"): every bearer token becomes a key with a public id (SK…), a
-- name, and either a role's whole reach (scopes NULL: the admin and agent tokens of before) or a list of
-- scopes (space-separated). expires_at and last_used_at are epoch ms; rate_per_second NULL is the
-- default (10 sending requests per second). Revoking deletes the row: the next request with it is 401.
ALTER TABLE api_tokens ADD COLUMN id TEXT;
ALTER TABLE api_tokens ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN scopes TEXT;
ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER;
ALTER TABLE api_tokens ADD COLUMN last_used_at INTEGER;
ALTER TABLE api_tokens ADD COLUMN rate_per_second INTEGER;
UPDATE api_tokens SET id = 'SK' || lower(hex(randomblob(16))) WHERE id IS NULL;
CREATE UNIQUE INDEX api_tokens_id ON api_tokens (id);

-- The deployment's identity: the account_sid the Twilio-compatible API answers to, made once.
CREATE TABLE deployment (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    account_sid TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
INSERT INTO deployment (id, account_sid, created_at)
    VALUES (1, 'AC' || lower(hex(randomblob(16))), CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));

-- Idempotency-Key (docs/integrations.md "Idempotent requests"): one row per caller and key. A request
-- claims its row as 'pending' (with a lease) before it runs and stores its answer as 'done' after; a
-- retry with the same key and the same request gets the stored answer. request_hash is the SHA-256 of
-- method, path and body. Rows live 24 hours.
CREATE TABLE idempotency_keys (
    owner TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    state TEXT NOT NULL,
    status INTEGER,
    content_type TEXT,
    body BLOB,
    locked_until INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (owner, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
