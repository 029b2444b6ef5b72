-- Erasure of one phone's data on request (privacy). Erasing deletes the phone's messages, media, chats,
-- their events, its consent and ledger and its simulator thread; this row is all that stays: a hash of
-- the number salted with the deployment's secret (never the number itself) and whether the phone was
-- opted out, so that an opt-out is still honored when the phone texts again.
CREATE TABLE erased_phones (
    hash TEXT PRIMARY KEY,
    opted_out BIGINT NOT NULL,
    erased_at BIGINT NOT NULL,
    -- Who asked: "api:admin", "cli:USER".
    erased_by TEXT NOT NULL
);
-- Erasure finds a phone's messages and chats by consumer without scanning either table under the write lock.
CREATE INDEX messages_consumer ON messages (consumer);
CREATE INDEX chats_consumer ON chats (consumer);
