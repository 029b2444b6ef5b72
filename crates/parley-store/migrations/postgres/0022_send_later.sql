-- Send later (docs/outbound.md): a message scheduled by an agent or the API for a later moment waits as
-- 'scheduled' with held set to what it becomes when due: 'reply' (an agent's message in a chat),
-- 'chat' (a chat the business starts, opened when due, in held_queue for an agent's chat) or
-- 'sessionless'. While held is set the outbox never claims it: the engine looks at it at
-- next_attempt_at (the requested time, or the end of the consumer's quiet hours), checks consent, the
-- number's state and quiet hours then, and sends it or gives it up. send_at keeps the requested time.
ALTER TABLE messages ADD COLUMN send_at BIGINT;
ALTER TABLE messages ADD COLUMN held TEXT;
ALTER TABLE messages ADD COLUMN held_queue TEXT;
-- A resend is a new message linked both ways to the one it resends.
ALTER TABLE messages ADD COLUMN resend_of TEXT;
ALTER TABLE messages ADD COLUMN resent_as TEXT;
CREATE INDEX messages_held ON messages (next_attempt_at, seq) WHERE held IS NOT NULL AND status = 'scheduled';

-- Every status a message took, with when and the carrier's code or error: the delivery timeline.
CREATE TABLE message_status_changes (
    seq BIGSERIAL PRIMARY KEY,
    message_id TEXT NOT NULL,
    status TEXT NOT NULL,
    at BIGINT NOT NULL,
    carrier_code TEXT,
    error TEXT
);
CREATE INDEX message_status_changes_message ON message_status_changes (message_id, seq);
