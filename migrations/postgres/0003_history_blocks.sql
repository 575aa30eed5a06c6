-- The day summaries' tracks merged per block of 64 UTC days (block = day / 64): a window of
-- years reads one block row in place of up to 64 day rows, and each track once per block
-- rather than once per day it was played.
CREATE TABLE history_block_tracks (
    user_id  BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    block    BIGINT NOT NULL,
    tracks   BYTEA  NOT NULL, -- as history_day_tracks, times relative to the block's start
    PRIMARY KEY (user_id, block)
);

-- Summaries already stored get their blocks on the next refresh: one marked day per block
-- has the refresh rebuild that day and then its block.
INSERT INTO history_stale_days (user_id, day, version)
SELECT DISTINCT user_id, (day / 64) * 64, 1 FROM history_day_tracks
ON CONFLICT (user_id, day) DO UPDATE SET version = history_stale_days.version + 1;
