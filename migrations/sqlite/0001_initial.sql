-- spotify-history schema, SQLite flavour. The PostgreSQL twin lives in ../postgres/ and must
-- keep the same tables and columns (a parity test checks). Times are Unix milliseconds (UTC).

CREATE TABLE users (
    id               INTEGER PRIMARY KEY,
    name             TEXT    NOT NULL UNIQUE,
    display_name     TEXT,
    spotify_user_id  TEXT    UNIQUE,
    time_zone        TEXT,
    sync_paused      BOOLEAN NOT NULL DEFAULT 0,
    needs_reauth     BOOLEAN NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

CREATE TABLE spotify_tokens (
    user_id            INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    refresh_token      TEXT    NOT NULL, -- Fernet-encrypted
    access_token       TEXT,             -- Fernet-encrypted
    access_expires_at  INTEGER,
    scope              TEXT,
    authorized_at      INTEGER NOT NULL, -- refresh token expires 6 months later
    updated_at         INTEGER NOT NULL,
    last_error         TEXT
);

CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER REFERENCES users(id) ON DELETE CASCADE, -- NULL = admin token
    name          TEXT    NOT NULL,
    token_hash    TEXT    NOT NULL UNIQUE, -- sha256 hex; the token itself is never stored
    prefix        TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    revoked_at    INTEGER
);

CREATE TABLE artists (
    id    INTEGER PRIMARY KEY,
    key   TEXT NOT NULL UNIQUE, -- spotify:artist:<id> or local:<sha1>
    name  TEXT NOT NULL
);

CREATE TABLE albums (
    id           INTEGER PRIMARY KEY,
    key          TEXT    NOT NULL UNIQUE,
    kind         INTEGER NOT NULL, -- 0 album, 1 podcast show, 2 audiobook
    name         TEXT    NOT NULL,
    artist_name  TEXT
);

CREATE TABLE tracks (
    id           INTEGER PRIMARY KEY,
    key          TEXT    NOT NULL UNIQUE, -- spotify:track:<id>, spotify:episode:<id>, ... or local:<sha1>
    kind         INTEGER NOT NULL,        -- 0 track, 1 episode, 2 audiobook chapter
    name         TEXT    NOT NULL,
    album_id     INTEGER REFERENCES albums(id),
    duration_ms  INTEGER,
    isrc         TEXT,
    match_key    INTEGER NOT NULL         -- hash of normalised artist + name, for name-only sources
);
CREATE INDEX tracks_match_key ON tracks (match_key);

CREATE TABLE track_artists (
    track_id   INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    artist_id  INTEGER NOT NULL REFERENCES artists(id),
    position   INTEGER NOT NULL,
    PRIMARY KEY (track_id, artist_id)
);
CREATE INDEX track_artists_artist ON track_artists (artist_id);

CREATE TABLE import_jobs (
    id               INTEGER PRIMARY KEY,
    user_id          INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    file_name        TEXT    NOT NULL,
    file_path        TEXT,
    size_bytes       INTEGER NOT NULL DEFAULT 0,
    status           TEXT    NOT NULL, -- pending, running, succeeded, failed
    bytes_read       INTEGER NOT NULL DEFAULT 0,
    records_read     INTEGER NOT NULL DEFAULT 0,
    inserted         INTEGER NOT NULL DEFAULT 0,
    duplicates       INTEGER NOT NULL DEFAULT 0,
    merged           INTEGER NOT NULL DEFAULT 0,
    skipped          INTEGER NOT NULL DEFAULT 0,
    report           TEXT,             -- JSON import report (skipped per reason, files, timings)
    error            TEXT,
    created_at       INTEGER NOT NULL,
    started_at       INTEGER,
    finished_at      INTEGER,
    lease_owner      TEXT,
    lease_until      INTEGER
);
CREATE INDEX import_jobs_status ON import_jobs (status, created_at);

-- plays and play_sources carry no foreign keys on purpose: a per-row referential check costs
-- more than the insert itself during bulk imports (PostgreSQL runs a trigger query per row).
-- Rows are only written with ids resolved in the same transaction, and deleting a user or an
-- import job deletes or detaches their plays explicitly (see the store's users and jobs code).
CREATE TABLE plays (
    id                   INTEGER PRIMARY KEY,
    user_id              INTEGER NOT NULL,
    ended_at             INTEGER NOT NULL,
    track_id             INTEGER NOT NULL,
    ms_played            INTEGER,          -- NULL = unknown (API plays)
    ms_played_estimated  BOOLEAN NOT NULL DEFAULT 0,
    source               INTEGER NOT NULL, -- richest source (Source bit)
    sources              INTEGER NOT NULL, -- bitmask of every source that confirmed the listen
    platform             TEXT,
    conn_country         TEXT,
    reason_start         TEXT,
    reason_end           TEXT,
    shuffle              BOOLEAN,
    skipped              BOOLEAN,
    offline              BOOLEAN,
    incognito            BOOLEAN,
    import_job_id        INTEGER
);
-- Identity of a listen, and the index behind every "user's plays in a window" question.
CREATE UNIQUE INDEX plays_identity ON plays (user_id, ended_at, track_id);

-- What each further source reported for a listen it confirmed (the play row itself holds the
-- primary source's report). Lets a source that reports the same listen again be recognised as
-- a duplicate even after a richer source moved the play's time or track.
CREATE TABLE play_sources (
    play_id   INTEGER NOT NULL,
    source    INTEGER NOT NULL,
    ended_at  INTEGER NOT NULL,
    track_id  INTEGER NOT NULL,
    PRIMARY KEY (play_id, source)
);

CREATE TABLE import_files (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    fingerprint   TEXT    NOT NULL,
    file_name     TEXT    NOT NULL,
    records_done  INTEGER NOT NULL DEFAULT 0, -- resume point: records committed so far
    completed     BOOLEAN NOT NULL DEFAULT 0,
    updated_at    INTEGER NOT NULL,
    UNIQUE (user_id, fingerprint)
);

CREATE TABLE sync_state (
    user_id                   INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    initial_sync_done         BOOLEAN NOT NULL DEFAULT 0,
    initial_sync_finished_at  INTEGER,
    last_polled_at            INTEGER,
    newest_played_at          INTEGER,
    consecutive_failures      INTEGER NOT NULL DEFAULT 0,
    last_error                TEXT,
    lease_owner               TEXT,
    lease_until               INTEGER,
    updated_at                INTEGER NOT NULL
);

-- Process-wide state such as the Spotify app's 429 "not before" time.
CREATE TABLE app_state (
    key         TEXT PRIMARY KEY,
    value       TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE coverage_gaps (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    starts_at    INTEGER NOT NULL,
    ends_at      INTEGER NOT NULL,
    reason       TEXT    NOT NULL,
    detected_at  INTEGER NOT NULL
);
CREATE INDEX coverage_gaps_user ON coverage_gaps (user_id, starts_at);

CREATE TABLE job_runs (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL, -- import, initial_sync, poll, refresh
    user_id         INTEGER REFERENCES users(id) ON DELETE CASCADE,
    status          TEXT    NOT NULL, -- running, succeeded, failed
    started_at      INTEGER NOT NULL,
    finished_at     INTEGER,
    items_fetched   INTEGER NOT NULL DEFAULT 0,
    items_inserted  INTEGER NOT NULL DEFAULT 0,
    error           TEXT,
    details         TEXT              -- JSON
);
CREATE INDEX job_runs_started ON job_runs (started_at);
CREATE INDEX job_runs_user ON job_runs (user_id, started_at);

CREATE TABLE logs (
    id        INTEGER PRIMARY KEY,
    ts        INTEGER NOT NULL,
    level     TEXT    NOT NULL,
    target    TEXT    NOT NULL,
    message   TEXT    NOT NULL,
    fields    TEXT,             -- JSON
    user_id   INTEGER REFERENCES users(id) ON DELETE SET NULL
);
CREATE INDEX logs_ts ON logs (ts);
