-- The Twilio-compatible Messages API (docs/integrations.md "Twilio-compatible Messages API"): one row per
-- message sent through POST /2010-04-01/Accounts/{AccountSid}/Messages.json, beside its messages row.
-- messaging_service_sid: the campaign named as MessagingServiceSid, if one was.
--
-- StatusCallback: callback_url is where each status change is POSTed, signed with the sending key's
-- token. Parley keeps tokens only as hashes, so the token itself (auth_token) is kept here, for this
-- message only, until its last callback was delivered or given up (finished_at set, auth_token NULL).
-- The queue is the message's own timeline (message_status_changes, committed with each status):
-- delivered_seq is the last change of the timeline delivered or given up; attempts counts the tries of
-- the next one; claimed_until is the lease of the node delivering it.
CREATE TABLE twilio_messages (
    message_id TEXT PRIMARY KEY,
    key_id TEXT,
    messaging_service_sid TEXT,
    callback_url TEXT,
    auth_token TEXT,
    delivered_seq BIGINT NOT NULL DEFAULT 0,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    claimed_until BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    finished_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX twilio_messages_callbacks ON twilio_messages (next_attempt_at)
    WHERE callback_url IS NOT NULL AND finished_at IS NULL;
