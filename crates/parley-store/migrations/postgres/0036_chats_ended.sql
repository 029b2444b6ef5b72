-- The live monitor reads the chats that ended today: by their end.
CREATE INDEX chats_ended ON chats (ended_at) WHERE status = 'finished';
