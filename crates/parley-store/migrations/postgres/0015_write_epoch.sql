-- One counter that every write turn of the engine (and every writer that takes the engine's lock:
-- erasure, setup, number states) advances. A node whose previous turn was the last one can trust what
-- it keeps between batches (waiting counts); any other value means another writer came in between.
CREATE TABLE write_epoch (id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL);
INSERT INTO write_epoch (id, seq) VALUES (1, 0);
