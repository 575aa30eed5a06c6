//! Many rows in one statement with a constant number of binds, so imports pay one round trip
//! and one cached prepared statement per batch instead of one per row.
//!
//! The dialects differ here, so each operation has two statements: SQLite receives the rows as
//! one JSON array (unpacked in C by `jsonb_each`, whose binary elements are cheap to
//! take apart), PostgreSQL as one array per column
//! (`UNNEST`). Both are far faster than multi-row `VALUES` lists with thousands of binds,
//! which must be parsed and planned anew for every batch size.

use crate::Result;
use crate::row::RowExt;
use crate::transaction::Tx;
use serde::Serialize;
use std::collections::HashMap;

/// A catalogue row of `tracks` to create.
#[derive(Debug, Serialize)]
pub(crate) struct TrackRow<'a> {
    pub key: &'a str,
    pub kind: i16,
    pub name: &'a str,
    pub album_id: Option<i64>,
    pub duration_ms: Option<i32>,
    pub isrc: Option<&'a str>,
    pub match_key: i64,
}

/// A `plays` row to insert (user and import job are the same for the whole batch).
#[derive(Debug)]
pub(crate) struct PlayRow<'a> {
    pub ended_at: i64,
    pub track_id: i64,
    pub ms_played: Option<i32>,
    pub ms_played_estimated: bool,
    pub source: i16,
    pub platform: Option<&'a str>,
    pub conn_country: Option<&'a str>,
    pub reason_start: Option<&'a str>,
    pub reason_end: Option<&'a str>,
    pub shuffle: Option<bool>,
    pub skipped: Option<bool>,
    pub offline: Option<bool>,
    pub incognito: Option<bool>,
}

/// A play as a JSON array: positions are cheaper to look up than keys, and the insert
/// statement reads every column of every row.
type PlayTuple<'a> = (
    i64,
    i64,
    Option<i32>,
    bool,
    i16,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<bool>,
    Option<bool>,
    Option<bool>,
    Option<bool>,
);

impl<'a> PlayRow<'a> {
    fn as_tuple(&self) -> PlayTuple<'a> {
        (
            self.ended_at,
            self.track_id,
            self.ms_played,
            self.ms_played_estimated,
            self.source,
            self.platform,
            self.conn_country,
            self.reason_start,
            self.reason_end,
            self.shuffle,
            self.skipped,
            self.offline,
            self.incognito,
        )
    }
}

fn json<T: Serialize>(rows: &T) -> Result<String> {
    serde_json::to_string(rows)
        .map_err(|e| crate::StoreError::Conflict(format!("cannot encode rows: {e}")))
}

fn column<T, U>(rows: &[T], f: impl Fn(&T) -> U) -> Vec<U> {
    rows.iter().map(f).collect()
}

/// Creates artists that do not exist yet (`(key, name)` pairs).
pub(crate) async fn insert_artists(tx: &mut Tx<'_>, rows: &[(&str, &str)]) -> Result<()> {
    match tx {
        Tx::Sqlite(conn) => {
            sqlx::query(
                "INSERT INTO artists (key, name)
                 SELECT value->>0, value->>1 FROM jsonb_each($1) WHERE true
                 ON CONFLICT (key) DO NOTHING",
            )
            .bind(json(&rows)?)
            .execute(&mut **conn)
            .await?;
        }
        Tx::Postgres(conn) => {
            sqlx::query(
                "INSERT INTO artists (key, name)
                 SELECT * FROM UNNEST($1::text[], $2::text[])
                 ON CONFLICT (key) DO NOTHING",
            )
            .bind(column(rows, |r| r.0.to_string()))
            .bind(column(rows, |r| r.1.to_string()))
            .execute(&mut **conn)
            .await?;
        }
    }
    Ok(())
}

/// Creates albums, shows and audiobooks that do not exist yet
/// (`(key, kind, name, artist name)`).
pub(crate) async fn insert_albums(
    tx: &mut Tx<'_>,
    rows: &[(&str, i16, &str, Option<&str>)],
) -> Result<()> {
    match tx {
        Tx::Sqlite(conn) => {
            sqlx::query(
                "INSERT INTO albums (key, kind, name, artist_name)
                 SELECT value->>0, value->>1, value->>2, value->>3 FROM jsonb_each($1) WHERE true
                 ON CONFLICT (key) DO NOTHING",
            )
            .bind(json(&rows)?)
            .execute(&mut **conn)
            .await?;
        }
        Tx::Postgres(conn) => {
            sqlx::query(
                "INSERT INTO albums (key, kind, name, artist_name)
                 SELECT * FROM UNNEST($1::text[], $2::int2[], $3::text[], $4::text[])
                 ON CONFLICT (key) DO NOTHING",
            )
            .bind(column(rows, |r| r.0.to_string()))
            .bind(column(rows, |r| r.1))
            .bind(column(rows, |r| r.2.to_string()))
            .bind(column(rows, |r| r.3.map(str::to_string)))
            .execute(&mut **conn)
            .await?;
        }
    }
    Ok(())
}

/// Creates tracks, episodes and chapters that do not exist yet.
pub(crate) async fn insert_tracks(tx: &mut Tx<'_>, rows: &[TrackRow<'_>]) -> Result<()> {
    match tx {
        Tx::Sqlite(conn) => {
            sqlx::query(
                "INSERT INTO tracks (key, kind, name, album_id, duration_ms, isrc, match_key)
                 SELECT value->>'key', value->>'kind', value->>'name', value->>'album_id',
                        value->>'duration_ms', value->>'isrc', value->>'match_key'
                 FROM jsonb_each($1) WHERE true
                 ON CONFLICT (key) DO NOTHING",
            )
            .bind(json(&rows)?)
            .execute(&mut **conn)
            .await?;
        }
        Tx::Postgres(conn) => {
            sqlx::query(
                "INSERT INTO tracks (key, kind, name, album_id, duration_ms, isrc, match_key)
                 SELECT * FROM UNNEST($1::text[], $2::int2[], $3::text[], $4::int8[], $5::int4[],
                                      $6::text[], $7::int8[])
                 ON CONFLICT (key) DO NOTHING",
            )
            .bind(column(rows, |r| r.key.to_string()))
            .bind(column(rows, |r| r.kind))
            .bind(column(rows, |r| r.name.to_string()))
            .bind(column(rows, |r| r.album_id))
            .bind(column(rows, |r| r.duration_ms))
            .bind(column(rows, |r| r.isrc.map(str::to_string)))
            .bind(column(rows, |r| r.match_key))
            .execute(&mut **conn)
            .await?;
        }
    }
    Ok(())
}

/// Credits artists on tracks (`(track_id, artist_id, position)`), keeping existing credits.
pub(crate) async fn insert_credits(tx: &mut Tx<'_>, rows: &[(i64, i64, i16)]) -> Result<()> {
    match tx {
        Tx::Sqlite(conn) => {
            sqlx::query(
                "INSERT INTO track_artists (track_id, artist_id, position)
                 SELECT value->>0, value->>1, value->>2 FROM jsonb_each($1) WHERE true
                 ON CONFLICT (track_id, artist_id) DO NOTHING",
            )
            .bind(json(&rows)?)
            .execute(&mut **conn)
            .await?;
        }
        Tx::Postgres(conn) => {
            sqlx::query(
                "INSERT INTO track_artists (track_id, artist_id, position)
                 SELECT * FROM UNNEST($1::int8[], $2::int8[], $3::int2[])
                 ON CONFLICT (track_id, artist_id) DO NOTHING",
            )
            .bind(column(rows, |r| r.0))
            .bind(column(rows, |r| r.1))
            .bind(column(rows, |r| r.2))
            .execute(&mut **conn)
            .await?;
        }
    }
    Ok(())
}

/// Which catalogue table to look keys up in.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Catalogue {
    Artists,
    Albums,
    Tracks,
}

/// Ids of the rows of `table` with these keys.
pub(crate) async fn ids_by_key(
    tx: &mut Tx<'_>,
    table: Catalogue,
    keys: &[&str],
) -> Result<HashMap<String, i64>> {
    // One constant statement per table, so each stays prepared.
    let (sqlite, postgres) = match table {
        Catalogue::Artists => (
            "SELECT id, key FROM artists WHERE key IN (SELECT value FROM json_each($1))",
            "SELECT id, key FROM artists WHERE key = ANY($1)",
        ),
        Catalogue::Albums => (
            "SELECT id, key FROM albums WHERE key IN (SELECT value FROM json_each($1))",
            "SELECT id, key FROM albums WHERE key = ANY($1)",
        ),
        Catalogue::Tracks => (
            "SELECT id, key FROM tracks WHERE key IN (SELECT value FROM json_each($1))",
            "SELECT id, key FROM tracks WHERE key = ANY($1)",
        ),
    };
    let pairs = match tx {
        Tx::Sqlite(conn) => {
            let rows = sqlx::query(sqlite)
                .bind(json(&keys)?)
                .fetch_all(&mut **conn)
                .await?;
            rows.iter()
                .map(|row| Ok((row.text("key")?, row.int("id")?)))
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        }
        Tx::Postgres(conn) => {
            let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
            let rows = sqlx::query(postgres)
                .bind(keys)
                .fetch_all(&mut **conn)
                .await?;
            rows.iter()
                .map(|row| Ok((row.text("key")?, row.int("id")?)))
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        }
    };
    Ok(pairs.into_iter().collect())
}

/// Inserts plays; returns how many were new (equal listens are kept once by the identity
/// index).
pub(crate) async fn insert_plays(
    tx: &mut Tx<'_>,
    user: i64,
    import_job: Option<i64>,
    rows: &[PlayRow<'_>],
) -> Result<u64> {
    let inserted = match tx {
        Tx::Sqlite(conn) => sqlx::query(
            "INSERT INTO plays (user_id, ended_at, track_id, ms_played, ms_played_estimated,
                 source, sources, platform, conn_country, reason_start, reason_end, shuffle,
                 skipped, offline, incognito, import_job_id)
             SELECT $1, value->>0, value->>1, value->>2, value->>3, value->>4, value->>4,
                    value->>5, value->>6, value->>7, value->>8, value->>9, value->>10,
                    value->>11, value->>12, $2
             FROM jsonb_each($3) WHERE true
             ON CONFLICT (user_id, ended_at, track_id) DO NOTHING",
        )
        .bind(user)
        .bind(import_job)
        .bind(json(
            &rows.iter().map(PlayRow::as_tuple).collect::<Vec<_>>(),
        )?)
        .execute(&mut **conn)
        .await?
        .rows_affected(),
        Tx::Postgres(conn) => sqlx::query(
            "INSERT INTO plays (user_id, ended_at, track_id, ms_played, ms_played_estimated,
                 source, sources, platform, conn_country, reason_start, reason_end, shuffle,
                 skipped, offline, incognito, import_job_id)
             SELECT $1, e, t, m, est, s, s, p, c, rs, re, sh, sk, o, i, $2
             FROM UNNEST($3::int8[], $4::int8[], $5::int4[], $6::bool[], $7::int2[], $8::text[],
                         $9::text[], $10::text[], $11::text[], $12::bool[], $13::bool[],
                         $14::bool[], $15::bool[])
                  AS u(e, t, m, est, s, p, c, rs, re, sh, sk, o, i)
             ON CONFLICT (user_id, ended_at, track_id) DO NOTHING",
        )
        .bind(user)
        .bind(import_job)
        .bind(column(rows, |r| r.ended_at))
        .bind(column(rows, |r| r.track_id))
        .bind(column(rows, |r| r.ms_played))
        .bind(column(rows, |r| r.ms_played_estimated))
        .bind(column(rows, |r| r.source))
        .bind(column(rows, |r| r.platform.map(str::to_string)))
        .bind(column(rows, |r| r.conn_country.map(str::to_string)))
        .bind(column(rows, |r| r.reason_start.map(str::to_string)))
        .bind(column(rows, |r| r.reason_end.map(str::to_string)))
        .bind(column(rows, |r| r.shuffle))
        .bind(column(rows, |r| r.skipped))
        .bind(column(rows, |r| r.offline))
        .bind(column(rows, |r| r.incognito))
        .execute(&mut **conn)
        .await?
        .rows_affected(),
    };
    Ok(inserted)
}

/// What other sources reported for these plays: `(play_id, ended_at, track_id)`.
pub(crate) async fn play_source_reports(
    tx: &mut Tx<'_>,
    play_ids: &[i64],
) -> Result<Vec<(i64, i64, i64)>> {
    let reports = match tx {
        Tx::Sqlite(conn) => {
            let rows = sqlx::query(
                "SELECT play_id, ended_at, track_id FROM play_sources
                 WHERE play_id IN (SELECT value FROM json_each($1))",
            )
            .bind(json(&play_ids)?)
            .fetch_all(&mut **conn)
            .await?;
            rows.iter()
                .map(|row| {
                    Ok((
                        row.int("play_id")?,
                        row.int("ended_at")?,
                        row.int("track_id")?,
                    ))
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        }
        Tx::Postgres(conn) => {
            let rows = sqlx::query(
                "SELECT play_id, ended_at, track_id FROM play_sources WHERE play_id = ANY($1)",
            )
            .bind(play_ids.to_vec())
            .fetch_all(&mut **conn)
            .await?;
            rows.iter()
                .map(|row| {
                    Ok((
                        row.int("play_id")?,
                        row.int("ended_at")?,
                        row.int("track_id")?,
                    ))
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        }
    };
    Ok(reports)
}
