-- The chats that waited in a queue, by when they ended: the abandonment share the wait estimate uses
-- (docs/ewt.md) reads the recent ones without scanning every chat.
CREATE INDEX chats_waited ON chats (ended_at) WHERE queued_at IS NOT NULL;
