-- A call's SMS thread (docs/ivr.md): the chat of start type `call` that carries the wait-time SMS and
-- SMS during the call, and the caller's answer to the wait-time SMS (NULL, sent or declined: asked once).
ALTER TABLE calls ADD COLUMN thread_chat_id TEXT;
ALTER TABLE calls ADD COLUMN wait_sms TEXT;

-- App-launch tokens that were used (docs/ivr.md "SMS to launch the app"): a token opens once.
CREATE TABLE app_sessions (
    nonce TEXT PRIMARY KEY,
    app TEXT NOT NULL,
    consumer TEXT NOT NULL,
    number TEXT NOT NULL,
    chat_id TEXT,
    opened_at BIGINT NOT NULL
);
