-- Limits that hold for the whole deployment, not per node: every node reads and charges these rows in
-- a transaction, so two nodes never both spend the same allowance.
--
-- throughput_counters: one row per outbound throughput limit and period, named "KEY/PERIOD"
-- ("number:+15550001000/second", "campaign:care/minute", "carrier:smsc/day"). For a per-second token
-- bucket, start is when it was last refilled (epoch ms) and value the tokens left; for a per-minute or
-- per-day window, start is the window's start and value the segments sent in it. start = -1 marks a row
-- just created, not counted yet. touched_at lets rows of limits that no longer exist be deleted.
CREATE TABLE throughput_counters (
    name TEXT PRIMARY KEY,
    start INTEGER NOT NULL,
    value REAL NOT NULL,
    touched_at INTEGER NOT NULL
);
CREATE INDEX throughput_counters_touched ON throughput_counters (touched_at);

-- login_failures: one row per failed console login and key ("user:NAME", "ip:ADDRESS"), kept while it
-- counts (15 minutes). A login is refused while a key has 5 rows inside that window.
CREATE TABLE login_failures (
    key TEXT NOT NULL,
    failed_at INTEGER NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, failed_at);
CREATE INDEX login_failures_at ON login_failures (failed_at);
