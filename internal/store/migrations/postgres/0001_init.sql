-- Sortie desk store, first schema (PostgreSQL). Times are Unix seconds (UTC); months are
-- "YYYY-MM" (UTC) so that both engines count by month the same way.

-- Every complaint mail, stored content-addressed before anything else is done with it.
CREATE TABLE messages (
    id            BIGSERIAL PRIMARY KEY,
    sha256        TEXT    NOT NULL UNIQUE,
    size          BIGINT NOT NULL,
    raw           BYTEA,                       -- NULL once purged
    source        TEXT    NOT NULL,           -- the first copy's source
    received_at   BIGINT NOT NULL,
    received_month TEXT   NOT NULL,
    stored_at     BIGINT NOT NULL,
    repeats       BIGINT NOT NULL DEFAULT 0, -- copies with the same bytes after the first
    state         TEXT    NOT NULL DEFAULT 'new', -- new | processed | failed
    failure       TEXT,
    purged_at     BIGINT
);
CREATE INDEX messages_state ON messages (state, id);
CREATE INDEX messages_stored ON messages (stored_at);

-- Each copy of a message as a source handed it over; (source, key) names the copy.
CREATE TABLE deliveries (
    id          BIGSERIAL PRIMARY KEY,
    message_id  BIGINT NOT NULL REFERENCES messages (id),
    source      TEXT    NOT NULL,
    key         TEXT,
    received_at BIGINT NOT NULL,
    UNIQUE (source, key)
);
CREATE INDEX deliveries_message ON deliveries (message_id);

-- Cases group reports by (complainant, our address, category) while open.
CREATE TABLE cases (
    id          BIGSERIAL PRIMARY KEY,
    complainant TEXT,
    our_address TEXT    NOT NULL DEFAULT '',
    category    TEXT    NOT NULL,
    state       TEXT    NOT NULL,             -- new | open | waiting | resolved | ignored | spam
    resolution  TEXT    NOT NULL DEFAULT '',
    external_id TEXT,                         -- the complainant's case reference
    opened_at   BIGINT NOT NULL,
    opened_month TEXT   NOT NULL,
    updated_at  BIGINT NOT NULL,
    closed_at   BIGINT
);
CREATE INDEX cases_group ON cases (complainant, our_address, category, state);
CREATE INDEX cases_external ON cases (complainant, external_id);

-- The triage decision of each processed message.
CREATE TABLE triage (
    message_id   BIGINT PRIMARY KEY REFERENCES messages (id),
    outcome      TEXT    NOT NULL,            -- reply | queue | ignored | spam | unsure
    category     TEXT    NOT NULL,
    automated    BIGINT NOT NULL,
    names_ours   BIGINT NOT NULL,
    ours_at_time BIGINT NOT NULL,
    rule         TEXT    NOT NULL DEFAULT '',
    spam_score   DOUBLE PRECISION,
    case_id      BIGINT REFERENCES cases (id),
    from_addr    TEXT,                        -- personal: purged
    subject      TEXT,                        -- personal: purged
    reasons      TEXT    NOT NULL,            -- JSON list of sentences
    decided_at   BIGINT NOT NULL,
    month        TEXT    NOT NULL,
    message_ref  TEXT                         -- the mail's Message-ID: purged
);
CREATE INDEX triage_month ON triage (month);
CREATE INDEX triage_case ON triage (case_id);

-- Events deduplicate a case's reports by notice ID or content hash.
CREATE TABLE events (
    id         BIGSERIAL PRIMARY KEY,
    case_id    BIGINT NOT NULL REFERENCES cases (id),
    dedupe_key TEXT    NOT NULL,
    repeats    BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    UNIQUE (case_id, dedupe_key)
);

-- Reports, one per complaint found in a message.
CREATE TABLE reports (
    id           BIGSERIAL PRIMARY KEY,
    message_id   BIGINT NOT NULL REFERENCES messages (id),
    idx          BIGINT NOT NULL,
    case_id      BIGINT REFERENCES cases (id),
    event_id     BIGINT REFERENCES events (id),
    format       TEXT    NOT NULL,
    category     TEXT    NOT NULL,
    our_address  TEXT    NOT NULL DEFAULT '',
    occurred_at  BIGINT,
    month        TEXT    NOT NULL,
    complainant  TEXT,                        -- personal: purged
    notice_id    TEXT,                        -- purged
    data         TEXT,                        -- JSON of the whole report: purged
    UNIQUE (message_id, idx)
);
CREATE INDEX reports_case ON reports (case_id);

-- Message-IDs of mail the desk sent, so that replies find their case.
CREATE TABLE sent (
    message_ref TEXT    PRIMARY KEY,
    case_id     BIGINT NOT NULL REFERENCES cases (id),
    sent_at     BIGINT NOT NULL
);

-- The spam filter: token counts and the messages learned, for idempotence and unlearning.
CREATE TABLE bayes_tokens (
    token TEXT    PRIMARY KEY,
    spam  BIGINT NOT NULL DEFAULT 0,
    ham   BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE bayes_learned (
    sha256     TEXT    PRIMARY KEY,
    class      TEXT    NOT NULL,              -- spam | ham
    tokens     TEXT    NOT NULL,              -- JSON list, to unlearn
    learned_at BIGINT NOT NULL
);
