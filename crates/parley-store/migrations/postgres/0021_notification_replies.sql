-- A consumer's text that answered a sessionless notification on a number with
-- sessionless_reply = "auto_reply" (it opened no chat): the notification's status page lists them.
-- The latest notification a phone got from a number is read from messages (by consumer).
CREATE TABLE notification_replies (
    message_id TEXT PRIMARY KEY,
    notification_id TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX notification_replies_notification ON notification_replies (notification_id, created_at);
