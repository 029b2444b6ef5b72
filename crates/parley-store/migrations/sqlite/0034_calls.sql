-- The IVR's calls (docs/ivr.md): one row per call the IVR reported, its state moving only forward.
-- `version` grows with every change, so two reports racing on one call cannot both apply.
CREATE TABLE calls (
    id TEXT PRIMARY KEY,
    caller TEXT NOT NULL,
    -- 1: a mobile phone, 0: one that takes no SMS (a landline), NULL: not known.
    caller_mobile BIGINT,
    dialed TEXT NOT NULL,
    ivr_queue TEXT NOT NULL,
    language TEXT,
    status TEXT NOT NULL,
    position BIGINT,
    agent TEXT,
    end_reason TEXT,
    -- NULL, offered, accepted or declined: the pre-session deflection's last step.
    deflection TEXT,
    sms_chat_id TEXT,
    started_at BIGINT NOT NULL,
    queued_at BIGINT,
    connected_at BIGINT,
    ended_at BIGINT,
    version BIGINT NOT NULL
);
CREATE INDEX calls_by_queue ON calls (ivr_queue, started_at);
CREATE INDEX calls_by_status ON calls (status, started_at);
CREATE INDEX calls_by_caller ON calls (caller);
