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
-- crates/store/src/history/rollup for the encoding). Rows are small and read in day order,
-- so they are stored in key order: a whole history is a few hundred consecutive pages.
CREATE TABLE history_days (
    user_id  INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    day      INTEGER NOT NULL, -- ended_at / 86400000
    sources  BLOB    NOT NULL, -- listens and plays per set of confirming sources
    slots    BLOB    NOT NULL, -- listens and plays per 15-minute slot
    PRIMARY KEY (user_id, day)
) WITHOUT ROWID;

-- The same days' plays per track (large rows, read only for windows shorter than the
-- whole history).
CREATE TABLE history_day_tracks (
    user_id  INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    day      INTEGER NOT NULL,
    tracks   BLOB    NOT NULL, -- plays, time, first and last play per track
    PRIMARY KEY (user_id, day)
);

-- One row per user: the whole history's listens per set of sources, and plays of every
-- track with the track's kind, album and primary artist.
CREATE TABLE history_totals (
    user_id  INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    version  INTEGER NOT NULL, -- random, new with every rewrite: keys cached reads
    sources  BLOB    NOT NULL,
    tracks   BLOB    NOT NULL
);

-- Days whose summaries are out of date. `version` grows with every change, so a refresh
-- removes only the marks it has seen.
CREATE TABLE history_stale_days (
    user_id  INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    day      INTEGER NOT NULL,
    version  INTEGER NOT NULL,
    PRIMARY KEY (user_id, day)
);

-- The highest plays.id already marked: newer plays are found by id, so inserting plays
-- (the hot path of imports) fires no trigger. Only this row exists (id = 1).
CREATE TABLE history_rollup_state (
    id            INTEGER PRIMARY KEY,
    last_play_id  INTEGER NOT NULL
);

-- Plays already stored are summarised on the first question after this migration.
INSERT INTO history_stale_days (user_id, day, version)
SELECT DISTINCT user_id, ended_at / 86400000, 1 FROM plays;
INSERT INTO history_rollup_state (id, last_play_id)
SELECT 1, COALESCE(MAX(id), 0) FROM plays;

-- Merges change a stored play in place, one statement per play: mark both of its days.
CREATE TRIGGER history_stale_on_update
AFTER UPDATE OF user_id, ended_at, track_id, ms_played, sources ON plays
BEGIN
    INSERT INTO history_stale_days (user_id, day, version)
    VALUES (OLD.user_id, OLD.ended_at / 86400000, 1)
    ON CONFLICT (user_id, day) DO UPDATE SET version = version + 1;
    INSERT INTO history_stale_days (user_id, day, version)
    VALUES (NEW.user_id, NEW.ended_at / 86400000, 1)
    ON CONFLICT (user_id, day) DO UPDATE SET version = version + 1;
END;

-- A deleted play leaves its day stale. SQLite gives a new row the highest id in use plus
-- one, so once the highest ids are deleted they can be given out again: the watermark
-- follows them down.
CREATE TRIGGER history_stale_on_delete
AFTER DELETE ON plays
BEGIN
    INSERT INTO history_stale_days (user_id, day, version)
    VALUES (OLD.user_id, OLD.ended_at / 86400000, 1)
    ON CONFLICT (user_id, day) DO UPDATE SET version = version + 1;
    UPDATE history_rollup_state SET last_play_id = (SELECT COALESCE(MAX(id), 0) FROM plays)
    WHERE last_play_id > (SELECT COALESCE(MAX(id), 0) FROM plays);
END;
