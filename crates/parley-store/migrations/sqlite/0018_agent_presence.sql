-- Presence that is true: an agent is offered chats only while available and connected.
--
-- connected (0/1): whether the agent had a console event stream open or an API heartbeat within the
-- setup's presence timeout when the engine last looked; written by the engine, like status.
-- status_since (epoch ms): when what the monitor shows (the status, or "offline (disconnected)") last
-- changed; 0 for rows from before this migration.
ALTER TABLE agent_states ADD COLUMN connected INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agent_states ADD COLUMN status_since INTEGER NOT NULL DEFAULT 0;

-- Who keeps an agent connected: one row per agent and holder, refreshed while the holder has them.
-- A holder is a node with the agent's console stream open ("node-..."), or "api" for heartbeats through
-- PUT /api/v1/me/status. A row older than the presence timeout no longer counts (its node died, or the
-- heartbeats stopped); a node deletes its rows when the agent's last stream on it closes.
CREATE TABLE agent_links (
    agent TEXT NOT NULL,
    holder TEXT NOT NULL,
    seen_at INTEGER NOT NULL,
    PRIMARY KEY (agent, holder)
);
