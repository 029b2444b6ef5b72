-- Delivery receipts that arrived before the carrier's answer to the send named the message (SMPP
-- SMSCs may send the receipt before submit_sm_resp). Applied and removed once the message is known.
CREATE TABLE receipts_pending (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    carrier TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    at INTEGER NOT NULL
);
CREATE INDEX receipts_pending_provider ON receipts_pending (carrier, provider_id);
-- Outbound messages are found by the carrier's id when receipts come in.
CREATE INDEX messages_outbound_provider ON messages (carrier, provider_id) WHERE direction = 'out';
