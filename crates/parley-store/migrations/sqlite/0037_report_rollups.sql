-- The reports' rollups (docs/reports.md "How fast"): every finished chat's facts, folded from its
-- events by the report follower, as rows the reports sum with GROUP BY. Derived data only: the events
-- stay the truth, `parley reports rebuild` writes these again from them, and a chat whose facts are
-- not rolled up yet is folded from its events when a report reads it.
CREATE TABLE report_chats (
    chat_id TEXT PRIMARY KEY,
    opened_at INTEGER NOT NULL,
    number TEXT NOT NULL,
    consumer TEXT NOT NULL,
    chat_type TEXT NOT NULL,
    start_type TEXT,
    status TEXT NOT NULL,
    queue_in_at INTEGER,
    answered_at INTEGER,
    ended_at INTEGER,
    end_reason TEXT,
    queue TEXT,
    agent TEXT,
    -- The agents who answered or started it, space-separated, in the order they first took part.
    agents TEXT NOT NULL,
    inbound INTEGER NOT NULL,
    outbound INTEGER NOT NULL,
    inbound_segments INTEGER NOT NULL,
    outbound_segments INTEGER NOT NULL,
    wait_ms INTEGER,
    handle_ms INTEGER
);
CREATE INDEX report_chats_opened ON report_chats (opened_at, chat_id);
CREATE INDEX report_chats_consumer ON report_chats (consumer, opened_at);
-- The live monitor's chats that ended today.
CREATE INDEX report_chats_ended ON report_chats (ended_at);

-- Each queue a finished chat passed through, with the visit's figures worked out.
CREATE TABLE report_visits (
    chat_id TEXT NOT NULL,
    n INTEGER NOT NULL,
    opened_at INTEGER NOT NULL,
    queue TEXT NOT NULL,
    chat_type TEXT NOT NULL,
    -- 0 or 1 each; all 0 for a chat the business started in the queue (it never waited there).
    answered INTEGER NOT NULL,
    abandoned INTEGER NOT NULL,
    timed_out INTEGER NOT NULL,
    dismissed INTEGER NOT NULL,
    transfer_in INTEGER NOT NULL,
    transfer_out INTEGER NOT NULL,
    -- NULL for a started visit; handle_ms NULL unless answered.
    wait_ms INTEGER,
    handle_ms INTEGER,
    PRIMARY KEY (chat_id, n)
);
CREATE INDEX report_visits_opened ON report_visits (opened_at, queue);

-- Each agent's part in a finished chat.
CREATE TABLE report_agents (
    chat_id TEXT NOT NULL,
    agent TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    offered INTEGER NOT NULL,
    answered INTEGER NOT NULL,
    missed INTEGER NOT NULL,
    transferred_in INTEGER NOT NULL,
    transferred_out INTEGER NOT NULL,
    -- 1 when they answered or started it; handle_ms counts only then.
    handled INTEGER NOT NULL,
    handle_ms INTEGER NOT NULL,
    first_response_ms INTEGER,
    messages_sent INTEGER NOT NULL,
    started INTEGER NOT NULL,
    PRIMARY KEY (chat_id, agent)
);
CREATE INDEX report_agents_opened ON report_agents (opened_at, agent);
CREATE INDEX report_agents_agent ON report_agents (agent, opened_at);

-- How far the follower has read the event log: every chat with a report event at or below it is
-- rolled up as of that event.
CREATE TABLE report_cursor (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    event_id INTEGER NOT NULL
);

-- Reports fold the live chats of a period from their events: found without reading the finished.
CREATE INDEX chats_live_opened ON chats (opened_at) WHERE status <> 'finished';

-- Outbound messages by quarter-hour slot (of their creation), carrier, number and status, for the
-- performance report's delivery table. Every change of a message's status is a row of
-- report_delivery_changes, written by these triggers in the transaction that changes it (whichever
-- writer that is); the report follower folds the changes into report_delivery, deleting exactly the
-- rows it adds up. A report adds both.
CREATE TABLE report_delivery (
    slot INTEGER NOT NULL,
    carrier TEXT NOT NULL,
    number TEXT NOT NULL,
    status TEXT NOT NULL,
    messages INTEGER NOT NULL,
    PRIMARY KEY (slot, carrier, number, status)
);
CREATE TABLE report_delivery_changes (
    id INTEGER PRIMARY KEY,
    slot INTEGER NOT NULL,
    carrier TEXT NOT NULL,
    number TEXT NOT NULL,
    status TEXT NOT NULL,
    change INTEGER NOT NULL
);
CREATE TRIGGER report_delivery_created AFTER INSERT ON messages WHEN NEW.direction = 'out'
BEGIN
    INSERT INTO report_delivery_changes (slot, carrier, number, status, change)
    VALUES (NEW.created_at / 900000, NEW.carrier, NEW.number, NEW.status, 1);
END;
CREATE TRIGGER report_delivery_moved AFTER UPDATE OF status, carrier, number ON messages
WHEN NEW.direction = 'out' AND (OLD.status IS NOT NEW.status OR OLD.carrier IS NOT NEW.carrier OR OLD.number IS NOT NEW.number)
BEGIN
    INSERT INTO report_delivery_changes (slot, carrier, number, status, change)
    VALUES (OLD.created_at / 900000, OLD.carrier, OLD.number, OLD.status, -1),
           (NEW.created_at / 900000, NEW.carrier, NEW.number, NEW.status, 1);
END;
CREATE TRIGGER report_delivery_deleted AFTER DELETE ON messages WHEN OLD.direction = 'out'
BEGIN
    INSERT INTO report_delivery_changes (slot, carrier, number, status, change)
    VALUES (OLD.created_at / 900000, OLD.carrier, OLD.number, OLD.status, -1);
END;
INSERT INTO report_delivery (slot, carrier, number, status, messages)
SELECT created_at / 900000, carrier, number, status, COUNT(*) FROM messages WHERE direction = 'out'
GROUP BY created_at / 900000, carrier, number, status;
