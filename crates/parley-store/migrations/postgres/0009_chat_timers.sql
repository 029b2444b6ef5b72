-- Chat timers: what each counts from, and the next moment one is due. The timer worker takes live
-- chats whose due_at has come; firing a timer changes the chat and with it due_at, so each fires once,
-- also across restarts.
ALTER TABLE chats ADD COLUMN offered_at BIGINT;
ALTER TABLE chats ADD COLUMN last_message_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE chats ADD COLUMN warned_at BIGINT;
ALTER TABLE chats ADD COLUMN due_at BIGINT;
UPDATE chats SET last_message_at = opened_at;
CREATE INDEX chats_due ON chats (due_at) WHERE status <> 'finished' AND due_at IS NOT NULL;
