-- Sortie desk store, first schema (SQLite). Times are Unix seconds (UTC); months are
-- "YYYY-MM" (UTC) so that both engines count by month the same way.

-- Every complaint mail, stored content-addressed before anything else is done with it.
CREATE TABLE messages (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256        TEXT    NOT NULL UNIQUE,
    size          INTEGER NOT NULL,
    raw           BLOB,                       -- NULL once purged
    source        TEXT    NOT NULL,           -- the first copy's source
    received_at   INTEGER NOT NULL,
    received_month TEXT   NOT NULL,
    stored_at     INTEGER NOT NULL,
    repeats       INTEGER NOT NULL DEFAULT 0, -- copies with the same bytes after the first
    state         TEXT    NOT NULL DEFAULT 'new', -- new | processed | failed
    failure       TEXT,
    purged_at     INTEGER
);
CREATE INDEX messages_state ON messages (state, id);
CREATE INDEX messages_stored ON messages (stored_at);

-- Each copy of a message as a source handed it over; (source, key) names the copy.
CREATE TABLE deliveries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id  INTEGER NOT NULL REFERENCES messages (id),
    source      TEXT    NOT NULL,
    key         TEXT,
    received_at INTEGER NOT NULL,
    UNIQUE (source, key)
);
CREATE INDEX deliveries_message ON deliveries (message_id);

-- Cases group reports by (complainant, our address, category) while open.
CREATE TABLE cases (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    complainant TEXT,
    our_address TEXT    NOT NULL DEFAULT '',
    category    TEXT    NOT NULL,
    state       TEXT    NOT NULL,             -- new | open | waiting | resolved | ignored | spam
    resolution  TEXT    NOT NULL DEFAULT '',
    external_id TEXT,                         -- the complainant's case reference
    opened_at   INTEGER NOT NULL,
    opened_month TEXT   NOT NULL,
    updated_at  INTEGER NOT NULL,
    closed_at   INTEGER
);
CREATE INDEX cases_group ON cases (complainant, our_address, category, state);
CREATE INDEX cases_external ON cases (complainant, external_id);

-- The triage decision of each processed message.
CREATE TABLE triage (
    message_id   INTEGER PRIMARY KEY REFERENCES messages (id),
    outcome      TEXT    NOT NULL,            -- reply | queue | ignored | spam | unsure
    category     TEXT    NOT NULL,
    automated    INTEGER NOT NULL,
    names_ours   INTEGER NOT NULL,
    ours_at_time INTEGER NOT NULL,
    rule         TEXT    NOT NULL DEFAULT '',
    spam_score   REAL,
    case_id      INTEGER REFERENCES cases (id),
    from_addr    TEXT,                        -- personal: purged
    subject      TEXT,                        -- personal: purged
    reasons      TEXT    NOT NULL,            -- JSON list of sentences
    decided_at   INTEGER NOT NULL,
    month        TEXT    NOT NULL,
    message_ref  TEXT                         -- the mail's Message-ID: purged
);
CREATE INDEX triage_month ON triage (month);
CREATE INDEX triage_case ON triage (case_id);

-- Events deduplicate a case's reports by notice ID or content hash.
CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id    INTEGER NOT NULL REFERENCES cases (id),
    dedupe_key TEXT    NOT NULL,
    repeats    INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    UNIQUE (case_id, dedupe_key)
);

-- Reports, one per complaint found in a message.
CREATE TABLE reports (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id   INTEGER NOT NULL REFERENCES messages (id),
    idx          INTEGER NOT NULL,
    case_id      INTEGER REFERENCES cases (id),
    event_id     INTEGER REFERENCES events (id),
    format       TEXT    NOT NULL,
    category     TEXT    NOT NULL,
    our_address  TEXT    NOT NULL DEFAULT '',
    occurred_at  INTEGER,
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
    case_id     INTEGER NOT NULL REFERENCES cases (id),
    sent_at     INTEGER NOT NULL
);

-- The spam filter: token counts and the messages learned, for idempotence and unlearning.
CREATE TABLE bayes_tokens (
    token TEXT    PRIMARY KEY,
    spam  INTEGER NOT NULL DEFAULT 0,
    ham   INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE bayes_learned (
    sha256     TEXT    PRIMARY KEY,
    class      TEXT    NOT NULL,              -- spam | ham
    tokens     TEXT    NOT NULL,              -- JSON list, to unlearn
    learned_at INTEGER NOT NULL
);
