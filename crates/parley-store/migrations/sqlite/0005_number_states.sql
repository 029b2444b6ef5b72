-- Registration states of business numbers, with their history: the newest row of a number is its state.
CREATE TABLE number_states (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    number TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    actor TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX number_states_number ON number_states (number, seq);
