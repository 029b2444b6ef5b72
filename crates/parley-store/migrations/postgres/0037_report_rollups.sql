-- The reports' rollups (docs/reports.md "How fast"): every finished chat's facts, folded from its
-- events by the report follower, as rows the reports sum with GROUP BY. Derived data only: the events
-- stay the truth, `parley reports rebuild` writes these again from them, and a chat whose facts are
-- not rolled up yet is folded from its events when a report reads it.
CREATE TABLE report_chats (
    chat_id TEXT PRIMARY KEY,
    opened_at BIGINT NOT NULL,
    number TEXT NOT NULL,
    consumer TEXT NOT NULL,
    chat_type TEXT NOT NULL,
    start_type TEXT,
    status TEXT NOT NULL,
    queue_in_at BIGINT,
    answered_at BIGINT,
    ended_at BIGINT,
    end_reason TEXT,
    queue TEXT,
    agent TEXT,
    -- The agents who answered or started it, space-separated, in the order they first took part.
    agents TEXT NOT NULL,
    inbound BIGINT NOT NULL,
    outbound BIGINT NOT NULL,
    inbound_segments BIGINT NOT NULL,
    outbound_segments BIGINT NOT NULL,
    wait_ms BIGINT,
    handle_ms BIGINT
);
CREATE INDEX report_chats_opened ON report_chats (opened_at, chat_id);
CREATE INDEX report_chats_consumer ON report_chats (consumer, opened_at);
-- The live monitor's chats that ended today.
CREATE INDEX report_chats_ended ON report_chats (ended_at);

-- Each queue a finished chat passed through, with the visit's figures worked out.
CREATE TABLE report_visits (
    chat_id TEXT NOT NULL,
    n BIGINT NOT NULL,
    opened_at BIGINT NOT NULL,
    queue TEXT NOT NULL,
    chat_type TEXT NOT NULL,
    -- 0 or 1 each; all 0 for a chat the business started in the queue (it never waited there).
    answered BIGINT NOT NULL,
    abandoned BIGINT NOT NULL,
    timed_out BIGINT NOT NULL,
    dismissed BIGINT NOT NULL,
    transfer_in BIGINT NOT NULL,
    transfer_out BIGINT NOT NULL,
    -- NULL for a started visit; handle_ms NULL unless answered.
    wait_ms BIGINT,
    handle_ms BIGINT,
    PRIMARY KEY (chat_id, n)
);
CREATE INDEX report_visits_opened ON report_visits (opened_at, queue);

-- Each agent's part in a finished chat.
CREATE TABLE report_agents (
    chat_id TEXT NOT NULL,
    agent TEXT NOT NULL,
    opened_at BIGINT NOT NULL,
    offered BIGINT NOT NULL,
    answered BIGINT NOT NULL,
    missed BIGINT NOT NULL,
    transferred_in BIGINT NOT NULL,
    transferred_out BIGINT NOT NULL,
    -- 1 when they answered or started it; handle_ms counts only then.
    handled BIGINT NOT NULL,
    handle_ms BIGINT NOT NULL,
    first_response_ms BIGINT,
    messages_sent BIGINT NOT NULL,
    started BIGINT NOT NULL,
    PRIMARY KEY (chat_id, agent)
);
CREATE INDEX report_agents_opened ON report_agents (opened_at, agent);
CREATE INDEX report_agents_agent ON report_agents (agent, opened_at);

-- How far the follower has read the event log: every chat with a report event at or below it is
-- rolled up as of that event.
CREATE TABLE report_cursor (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    event_id BIGINT NOT NULL
);

-- Reports fold the live chats of a period from their events: found without reading the finished.
CREATE INDEX chats_live_opened ON chats (opened_at) WHERE status <> 'finished';

-- Outbound messages by quarter-hour slot (of their creation), carrier, number and status, for the
-- performance report's delivery table. Every change of a message's status is a row of
-- report_delivery_changes, written by these triggers in the transaction that changes it (whichever
-- writer that is; only inserts, so concurrent writers never wait on one another); the report
-- follower folds the changes into report_delivery, deleting exactly the rows it adds up. A report
-- adds both.
CREATE TABLE report_delivery (
    slot BIGINT NOT NULL,
    carrier TEXT NOT NULL,
    number TEXT NOT NULL,
    status TEXT NOT NULL,
    messages BIGINT NOT NULL,
    PRIMARY KEY (slot, carrier, number, status)
);
CREATE TABLE report_delivery_changes (
    id BIGSERIAL PRIMARY KEY,
    slot BIGINT NOT NULL,
    carrier TEXT NOT NULL,
    number TEXT NOT NULL,
    status TEXT NOT NULL,
    change BIGINT NOT NULL
);
CREATE FUNCTION report_delivery_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.direction = 'out' THEN
        INSERT INTO report_delivery_changes (slot, carrier, number, status, change)
        VALUES (OLD.created_at / 900000, OLD.carrier, OLD.number, OLD.status, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.direction = 'out' THEN
        INSERT INTO report_delivery_changes (slot, carrier, number, status, change)
        VALUES (NEW.created_at / 900000, NEW.carrier, NEW.number, NEW.status, 1);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER report_delivery_created AFTER INSERT OR DELETE ON messages
FOR EACH ROW EXECUTE FUNCTION report_delivery_change();
CREATE TRIGGER report_delivery_moved AFTER UPDATE OF status, carrier, number ON messages
FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.carrier IS DISTINCT FROM NEW.carrier
                   OR OLD.number IS DISTINCT FROM NEW.number)
EXECUTE FUNCTION report_delivery_change();
INSERT INTO report_delivery (slot, carrier, number, status, messages)
SELECT created_at / 900000, carrier, number, status, COUNT(*) FROM messages WHERE direction = 'out'
GROUP BY created_at / 900000, carrier, number, status;
