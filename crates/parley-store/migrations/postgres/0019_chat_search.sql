-- Chat search (GET /api/v1/chats?q=): the words of every message body ('simple': no stemming, no stop
-- words, lower case), in a GIN index that a `to_tsvector('simple', body) @@ ...` condition uses.
-- (pg_trgm would find parts of words too, but it is an extension a server may not have.)
CREATE INDEX messages_body_words ON messages USING GIN (to_tsvector('simple', body));
-- Listings are newest first and paged by (opened_at, id).
CREATE INDEX chats_opened ON chats (opened_at, id);
