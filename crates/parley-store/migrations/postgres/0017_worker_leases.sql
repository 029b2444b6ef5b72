-- Claims with leases for the workers that run on every node.
--
-- Which node ticks a chat whose deadline came due. The engine owns the chats table, so a claim lives
-- in a table of its own: one row per chat, for the deadline (due_at) it was taken for. A claim whose
-- lease (claimed_until, epoch ms) ran out may be taken again by any node; a tick that was handled
-- leaves claimed_until at its largest value, so that deadline is never ticked again. Rows whose chat
-- moved on to another deadline (or ended) are deleted by the next claim.
CREATE TABLE timer_claims (
    chat_id TEXT PRIMARY KEY,
    due_at BIGINT NOT NULL,
    claimed_until BIGINT NOT NULL
);

-- Named leases, each held by at most one node until it runs out (epoch ms) or its holder gives it
-- back: "retention" (one node purges at a time), "smpp:ACCOUNT:SLOT" (a bind slot of an SMPP account).
CREATE TABLE worker_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    held_until BIGINT NOT NULL
);
