-- What a sender number sent since a time: seeds the outbox's per-minute and per-day throughput windows
-- after a restart (Store::sent_segments_since). Only messages a carrier accepted are indexed.
CREATE INDEX messages_sent_by_number ON messages (number, updated_at) WHERE direction = 'out' AND provider_id IS NOT NULL;
