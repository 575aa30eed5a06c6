-- The history questions (crates/analytics): indexes over plays, and rollups that let a
-- question about years of listening read a few summaries instead of every play.

-- A user's plays of given tracks, with ms_played for the counting rule: first plays
-- (discoveries), artist and track detail, whether a user played an item at all, and the
-- rollups' corrections. The track leads, so a planner never takes this index for "all of a
-- user's plays grouped by track" in place of the time range of plays_identity. (A user's
-- plays in a time window are read through plays_identity; questions under the default
-- counting rule read the rollups below instead, and every index here slows imports.)
CREATE INDEX plays_track ON plays (track_id, user_id, ended_at, ms_played);

-- Finding an artist or track by name (detail questions), and an album's tracks (search).
-- LOWER is the engine's own, used the same way in the queries.
CREATE INDEX artists_lower_name ON artists (LOWER(name));
CREATE INDEX tracks_lower_name ON tracks (LOWER(name));
CREATE INDEX tracks_album ON tracks (album_id);

-- One row per user and UTC day with plays: that day's listens and plays summarised (see
-- crates/store/src/history/rollup for the encoding).
CREATE TABLE history_days (
    user_id  BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    day      BIGINT NOT NULL, -- ended_at / 86400000
    sources  BYTEA  NOT NULL, -- listens and plays per set of confirming sources
    slots    BYTEA  NOT NULL, -- listens and plays per 15-minute slot
    PRIMARY KEY (user_id, day)
);

-- The same days' plays per track (large rows, read only for windows shorter than the
-- whole history).
CREATE TABLE history_day_tracks (
    user_id  BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    day      BIGINT NOT NULL,
    tracks   BYTEA  NOT NULL, -- plays, time, first and last play per track
    PRIMARY KEY (user_id, day)
);

-- One row per user: the whole history's listens per set of sources, and plays of every
-- track with the track's kind, album and primary artist.
CREATE TABLE history_totals (
    user_id  BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    version  BIGINT NOT NULL, -- random, new with every rewrite: keys cached reads
    sources  BYTEA  NOT NULL,
    tracks   BYTEA  NOT NULL
);

-- Days whose summaries are out of date. `version` grows with every change, so a refresh
-- removes only the marks it has seen.
CREATE TABLE history_stale_days (
    user_id  BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    day      BIGINT NOT NULL,
    version  BIGINT NOT NULL,
    PRIMARY KEY (user_id, day)
);

-- SQLite's watermark of marked plays; here the triggers below mark every change, because
-- concurrent transactions commit plays out of id order. Kept for the same tables as SQLite.
CREATE TABLE history_rollup_state (
    id            BIGINT PRIMARY KEY,
    last_play_id  BIGINT NOT NULL
);

-- Plays already stored are summarised on the first question after this migration.
INSERT INTO history_stale_days (user_id, day, version)
SELECT DISTINCT user_id, ended_at / 86400000, 1 FROM plays;
INSERT INTO history_rollup_state (id, last_play_id)
SELECT 1, COALESCE(MAX(id), 0) FROM plays;

-- Statement-level triggers: one set-based insert per statement, so bulk imports (one
-- statement per batch) pay almost nothing.
CREATE FUNCTION history_mark_stale_days() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO history_stale_days (user_id, day, version)
        SELECT DISTINCT user_id, ended_at / 86400000, 1 FROM new_rows
        ON CONFLICT (user_id, day) DO UPDATE SET version = history_stale_days.version + 1;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO history_stale_days (user_id, day, version)
        SELECT DISTINCT user_id, day, 1 FROM (
            SELECT user_id, ended_at / 86400000 AS day FROM old_rows
            UNION ALL
            SELECT user_id, ended_at / 86400000 AS day FROM new_rows) AS changed
        ON CONFLICT (user_id, day) DO UPDATE SET version = history_stale_days.version + 1;
    ELSE
        INSERT INTO history_stale_days (user_id, day, version)
        SELECT DISTINCT user_id, ended_at / 86400000, 1 FROM old_rows
        ON CONFLICT (user_id, day) DO UPDATE SET version = history_stale_days.version + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER history_stale_on_insert AFTER INSERT ON plays
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION history_mark_stale_days();

CREATE TRIGGER history_stale_on_update AFTER UPDATE ON plays
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION history_mark_stale_days();

CREATE TRIGGER history_stale_on_delete AFTER DELETE ON plays
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION history_mark_stale_days();
