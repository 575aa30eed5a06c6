//! Many rows in few statements, so imports pay a handful of round trips and cached prepared
//! statements per batch instead of one per row.
//!
//! The dialects differ here, so each operation has two statements. SQLite takes multi-row
//! `VALUES` lists of a few fixed sizes ([`VALUES_CHUNKS`]), each prepared once per connection:
//! bound values go straight into the B-trees, with nothing to encode or unpack (rows sent as
//! one JSON array and unpacked with `jsonb_each` took twice as long). PostgreSQL receives one
//! array per column (`UNNEST`), one statement per batch.
//!
//! SQLite's statements say `INSERT OR IGNORE` rather than `ON CONFLICT (...) DO NOTHING`: a
//! multi-row upsert that might abort halfway makes SQLite copy every page it changes into a
//! statement journal first. The two differ only for rows breaking a NOT NULL or CHECK
//! constraint, which OR IGNORE would skip silently: every NOT NULL column is bound from a value
//! that cannot be missing, and there are no CHECK constraints on these tables.
//!
//! Catalogue inserts give the ids of every key: on PostgreSQL those of the rows they created
//! (`RETURNING`), plus the keys another writer created first, looked up afterwards. On SQLite,
//! where rows come back one by one at a cost higher than the insert's, a statement that
//! created all of its rows tells their ids by itself (see [`insert_rows`]); the keys of any
//! other statement are looked up afterwards as one row of JSON.

use crate::Result;
use crate::listens::clamp_ms;
use crate::row::RowExt;
use crate::transaction::Tx;
use spotify_history_core::{NewListen, PlayDetails};
use sqlx::Arguments;
use sqlx::sqlite::SqliteArguments;
use std::collections::HashSet;
use std::sync::{Arc, LazyLock};

/// Rows per SQLite `VALUES` statement, largest first: a batch takes a few big statements and
/// a handful of small ones for its remainder, and each size stays prepared on the connection.
/// 128 rows of 16 columns are far below SQLite's limit of 32,766 bound values.
const VALUES_CHUNKS: [usize; 4] = [128, 32, 8, 1];

/// One multi-row SQLite insert, as a statement per size of [`VALUES_CHUNKS`].
struct ValuesInsert([String; VALUES_CHUNKS.len()]);

impl ValuesInsert {
    /// `INSERT ... VALUES row, row, ... tail` for every chunk size.
    fn new(insert: &str, row: &str, tail: &str) -> Self {
        Self(VALUES_CHUNKS.map(|n| format!("{insert} VALUES {} {tail}", vec![row; n].join(", "))))
    }

    /// `rows` cut into chunks, each with the statement that takes exactly that many rows.
    fn chunks<'r, T>(
        &'static self,
        rows: &'r [T],
    ) -> impl Iterator<Item = (&'static str, &'r [T])> {
        let mut rest = rows;
        std::iter::from_fn(move || {
            let size = VALUES_CHUNKS.iter().position(|&n| n <= rest.len())?;
            let (chunk, after) = rest.split_at(VALUES_CHUNKS[size]);
            rest = after;
            Some((self.0[size].as_str(), chunk))
        })
    }

    /// The statements inserting `rows`, each with the rows it inserts, each row's values given
    /// by `bind`.
    fn queries<'r, T>(
        &'static self,
        rows: &'r [T],
        bind: impl Fn(SqliteQuery, &T) -> SqliteQuery + 'r,
    ) -> impl Iterator<Item = (&'r [T], SqliteQuery)> + 'r {
        self.chunks(rows)
            .map(move |(sql, chunk)| (chunk, chunk.iter().fold(sqlx::query(sql), &bind)))
    }
}

/// Ids of catalogue rows by key.
pub(crate) type KeyIds = Vec<(String, i64)>;

/// A catalogue row of `tracks` to create.
#[derive(Debug)]
pub(crate) struct TrackRow<'a> {
    pub key: &'a str,
    pub kind: i16,
    pub name: &'a str,
    pub album_id: Option<i64>,
    pub duration_ms: Option<i32>,
    pub isrc: Option<&'a str>,
    pub match_key: i64,
}

fn column<T, U>(rows: &[T], f: impl Fn(&T) -> U) -> Vec<U> {
    rows.iter().map(f).collect()
}

/// `(key, id)` pairs of rows a statement returned.
fn key_ids<R: RowExt>(rows: &[R]) -> Result<KeyIds> {
    Ok(rows
        .iter()
        .map(|row| Ok((row.text("key")?, row.int("id")?)))
        .collect::<Result<_, sqlx::Error>>()?)
}

/// An album, show or audiobook to create: `(key, kind, name, artist name)`.
pub(crate) type AlbumRow<'a> = (&'a str, i16, &'a str, Option<&'a str>);

type SqliteQuery = sqlx::query::Query<'static, sqlx::Sqlite, SqliteArguments>;

/// Runs a catalogue insert on SQLite chunk by chunk, each row's values given by `bind`;
/// returns the ids of the rows of every chunk that created all of its rows.
///
/// Rows returned one by one (`RETURNING`) cost SQLite's worker thread and this task more than
/// the insert (copied, sent and woken for each row), and looking the keys up afterwards ~5%
/// of an import's time on that thread. But a writer holds SQLite's write lock, and SQLite
/// gives each new row of a table without AUTOINCREMENT the highest rowid plus one: a
/// statement whose every row was new created the ids that end at its last one, in its rows'
/// order. (Only a table whose highest rowid reached 2^63 − 1 gets random ones, and these ids
/// count up from 1; a trigger inserting into these tables would break it too, which a test
/// keeps out.) Keys of a chunk where some row existed are left for the caller to look
/// up ([`with_existing`]).
async fn insert_rows<T>(
    conn: &mut sqlx::SqliteConnection,
    insert: &'static ValuesInsert,
    rows: &[T],
    key: impl Fn(&T) -> &str,
    bind: impl Fn(SqliteQuery, &T) -> SqliteQuery,
) -> Result<KeyIds> {
    let mut created = KeyIds::new();
    for (chunk, query) in insert.queries(rows, bind) {
        let done = query.execute(&mut *conn).await?;
        if done.rows_affected() == chunk.len() as u64 {
            let first = done.last_insert_rowid() - chunk.len() as i64 + 1;
            created.extend(
                (first..)
                    .zip(chunk)
                    .map(|(id, row)| (key(row).to_owned(), id)),
            );
        }
    }
    Ok(created)
}

/// Ids of every key in `keys`: those `created` returned, and the rest looked up (rows another
/// writer created first, or that existed before).
async fn with_existing(
    tx: &mut Tx<'_>,
    table: Catalogue,
    keys: impl Iterator<Item = &str>,
    mut created: KeyIds,
) -> Result<KeyIds> {
    let returned: HashSet<&str> = created.iter().map(|(key, _)| key.as_str()).collect();
    let missing: Vec<&str> = keys.filter(|key| !returned.contains(key)).collect();
    if !missing.is_empty() {
        let existing = ids_by_key(tx, table, &missing).await?;
        created.extend(existing);
    }
    Ok(created)
}

/// Creates the artists that do not exist yet (`(key, name)` pairs); returns the id of every
/// key.
pub(crate) async fn artist_ids(tx: &mut Tx<'_>, rows: &[(&str, &str)]) -> Result<KeyIds> {
    static SQLITE: LazyLock<ValuesInsert> = LazyLock::new(|| {
        ValuesInsert::new("INSERT OR IGNORE INTO artists (key, name)", "(?, ?)", "")
    });
    let created = match tx {
        Tx::Sqlite(conn) => {
            let bind =
                |query: SqliteQuery, (key, name): &(&str, &str)| query.bind(*key).bind(*name);
            insert_rows(conn, &SQLITE, rows, |r| r.0, bind).await?
        }
        Tx::Postgres(conn) => {
            let returned = sqlx::query(
                "INSERT INTO artists (key, name)
                 SELECT * FROM UNNEST($1::text[], $2::text[])
                 ON CONFLICT (key) DO NOTHING RETURNING id, key",
            )
            .bind(column(rows, |r| r.0))
            .bind(column(rows, |r| r.1))
            .fetch_all(&mut **conn)
            .await?;
            key_ids(&returned)?
        }
    };
    with_existing(tx, Catalogue::Artists, rows.iter().map(|r| r.0), created).await
}

/// Creates the albums, shows and audiobooks that do not exist yet
/// (`(key, kind, name, artist name)`); returns the id of every key.
pub(crate) async fn album_ids(tx: &mut Tx<'_>, rows: &[AlbumRow<'_>]) -> Result<KeyIds> {
    static SQLITE: LazyLock<ValuesInsert> = LazyLock::new(|| {
        ValuesInsert::new(
            "INSERT OR IGNORE INTO albums (key, kind, name, artist_name)",
            "(?, ?, ?, ?)",
            "",
        )
    });
    let created = match tx {
        Tx::Sqlite(conn) => {
            let bind = |query: SqliteQuery, (key, kind, name, artist): &AlbumRow| {
                query.bind(*key).bind(*kind).bind(*name).bind(*artist)
            };
            insert_rows(conn, &SQLITE, rows, |r| r.0, bind).await?
        }
        Tx::Postgres(conn) => {
            let returned = sqlx::query(
                "INSERT INTO albums (key, kind, name, artist_name)
                 SELECT * FROM UNNEST($1::text[], $2::int2[], $3::text[], $4::text[])
                 ON CONFLICT (key) DO NOTHING RETURNING id, key",
            )
            .bind(column(rows, |r| r.0))
            .bind(column(rows, |r| r.1))
            .bind(column(rows, |r| r.2))
            .bind(column(rows, |r| r.3))
            .fetch_all(&mut **conn)
            .await?;
            key_ids(&returned)?
        }
    };
    with_existing(tx, Catalogue::Albums, rows.iter().map(|r| r.0), created).await
}

/// Creates the tracks, episodes and chapters that do not exist yet; returns the id of every
/// key.
pub(crate) async fn track_ids(tx: &mut Tx<'_>, rows: &[TrackRow<'_>]) -> Result<KeyIds> {
    static SQLITE: LazyLock<ValuesInsert> = LazyLock::new(|| {
        ValuesInsert::new(
            "INSERT OR IGNORE INTO tracks (key, kind, name, album_id, duration_ms, isrc, match_key)",
            "(?, ?, ?, ?, ?, ?, ?)",
            "",
        )
    });
    let created = match tx {
        Tx::Sqlite(conn) => {
            let bind = |query: SqliteQuery, row: &TrackRow| {
                query
                    .bind(row.key)
                    .bind(row.kind)
                    .bind(row.name)
                    .bind(row.album_id)
                    .bind(row.duration_ms)
                    .bind(row.isrc)
                    .bind(row.match_key)
            };
            insert_rows(conn, &SQLITE, rows, |r| r.key, bind).await?
        }
        Tx::Postgres(conn) => {
            let returned = sqlx::query(
                "INSERT INTO tracks (key, kind, name, album_id, duration_ms, isrc, match_key)
                 SELECT * FROM UNNEST($1::text[], $2::int2[], $3::text[], $4::int8[], $5::int4[],
                                      $6::text[], $7::int8[])
                 ON CONFLICT (key) DO NOTHING RETURNING id, key",
            )
            .bind(column(rows, |r| r.key))
            .bind(column(rows, |r| r.kind))
            .bind(column(rows, |r| r.name))
            .bind(column(rows, |r| r.album_id))
            .bind(column(rows, |r| r.duration_ms))
            .bind(column(rows, |r| r.isrc))
            .bind(column(rows, |r| r.match_key))
            .fetch_all(&mut **conn)
            .await?;
            key_ids(&returned)?
        }
    };
    with_existing(tx, Catalogue::Tracks, rows.iter().map(|r| r.key), created).await
}

/// Credits artists on tracks (`(track_id, artist_id, position)`), keeping existing credits.
pub(crate) async fn insert_credits(tx: &mut Tx<'_>, rows: &[(i64, i64, i16)]) -> Result<()> {
    static SQLITE: LazyLock<ValuesInsert> = LazyLock::new(|| {
        ValuesInsert::new(
            "INSERT OR IGNORE INTO track_artists (track_id, artist_id, position)",
            "(?, ?, ?)",
            "",
        )
    });
    match tx {
        Tx::Sqlite(conn) => {
            let bind = |query: SqliteQuery, (track, artist, position): &(i64, i64, i16)| {
                query.bind(*track).bind(*artist).bind(*position)
            };
            for (_, query) in SQLITE.queries(rows, bind) {
                query.execute(&mut **conn).await?;
            }
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

fn json<T: serde::Serialize>(rows: &T) -> Result<String> {
    serde_json::to_string(rows)
        .map_err(|e| crate::StoreError::Conflict(format!("cannot encode rows: {e}")))
}

/// Rows SQLite sent as one row of JSON (`json_group_array`): row by row, its worker thread
/// copies and sends each value and the reading task wakes for each row, which cost more than
/// the queries of an import.
pub(crate) fn rows_from_json<T: serde::de::DeserializeOwned>(json: &str) -> Result<T> {
    Ok(serde_json::from_str(json).map_err(|e| sqlx::Error::Decode(Box::new(e)))?)
}

/// Which catalogue table to look keys up in.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Catalogue {
    Artists,
    Albums,
    Tracks,
}

/// Ids of the rows of `table` with these keys.
pub(crate) async fn ids_by_key(tx: &mut Tx<'_>, table: Catalogue, keys: &[&str]) -> Result<KeyIds> {
    // One constant statement per table, so each stays prepared.
    // SQLite answers with one row of JSON (see `rows_from_json`).
    let (sqlite, postgres) = match table {
        Catalogue::Artists => (
            "SELECT json_group_array(json_array(key, id)) FROM artists
             WHERE key IN (SELECT value FROM json_each($1))",
            "SELECT id, key FROM artists WHERE key = ANY($1)",
        ),
        Catalogue::Albums => (
            "SELECT json_group_array(json_array(key, id)) FROM albums
             WHERE key IN (SELECT value FROM json_each($1))",
            "SELECT id, key FROM albums WHERE key = ANY($1)",
        ),
        Catalogue::Tracks => (
            "SELECT json_group_array(json_array(key, id)) FROM tracks
             WHERE key IN (SELECT value FROM json_each($1))",
            "SELECT id, key FROM tracks WHERE key = ANY($1)",
        ),
    };
    match tx {
        Tx::Sqlite(conn) => {
            let ids: String = sqlx::query_scalar(sqlite)
                .bind(json(&keys)?)
                .fetch_one(&mut **conn)
                .await?;
            rows_from_json(&ids)
        }
        Tx::Postgres(conn) => {
            let rows = sqlx::query(postgres)
                .bind(keys)
                .fetch_all(&mut **conn)
                .await?;
            key_ids(&rows)
        }
    }
}

/// Inserts plays; returns how many were new. The caller leaves out listens already stored or
/// repeated within `rows`: PostgreSQL's insert fails on an identity that is taken (an
/// `ON CONFLICT` clause costs a quarter of the statement's time: every row is inserted
/// speculatively and confirmed), SQLite's keeps the first of two equal listens.
pub(crate) async fn insert_plays(
    tx: &mut Tx<'_>,
    user: i64,
    import_job: Option<i64>,
    plays: &[(&NewListen, i64)],
) -> Result<u64> {
    static SQLITE: LazyLock<ValuesInsert> = LazyLock::new(|| {
        ValuesInsert::new(
            "INSERT OR IGNORE INTO plays (user_id, ended_at, track_id, ms_played, ms_played_estimated,
                 source, sources, platform, conn_country, reason_start, reason_end, shuffle,
                 skipped, offline, incognito, import_job_id)",
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            "",
        )
    });
    if plays.is_empty() {
        return Ok(0);
    }
    let inserted = match tx {
        Tx::Sqlite(conn) => {
            let mut inserted = 0;
            for (sql, chunk) in SQLITE.chunks(plays) {
                // Values added in place: a query's `bind` moves the whole query each time,
                // which for this hottest statement showed as time of its own.
                let mut arguments = SqliteArguments::default();
                arguments.reserve(chunk.len() * PLAY_COLUMNS, 0);
                for &(listen, track_id) in chunk {
                    add_play(&mut arguments, user, import_job, listen, track_id)
                        .map_err(sqlx::Error::Encode)?;
                }
                inserted += sqlx::query_with(sql, arguments)
                    .execute(&mut **conn)
                    .await?
                    .rows_affected();
            }
            inserted
        }
        Tx::Postgres(conn) => {
            let details = |f: fn(&PlayDetails) -> &Option<Arc<str>>| {
                column(plays, move |(l, _)| f(&l.details).as_deref())
            };
            let flags =
                |f: fn(&PlayDetails) -> Option<bool>| column(plays, move |(l, _)| f(&l.details));
            sqlx::query(
                "INSERT INTO plays (user_id, ended_at, track_id, ms_played, ms_played_estimated,
                     source, sources, platform, conn_country, reason_start, reason_end, shuffle,
                     skipped, offline, incognito, import_job_id)
                 SELECT $1, e, t, m, est, s, s, p, c, rs, re, sh, sk, o, i, $2
                 FROM UNNEST($3::int8[], $4::int8[], $5::int4[], $6::bool[], $7::int2[], $8::text[],
                             $9::text[], $10::text[], $11::text[], $12::bool[], $13::bool[],
                             $14::bool[], $15::bool[])
                      AS u(e, t, m, est, s, p, c, rs, re, sh, sk, o, i)",
            )
            .bind(user)
            .bind(import_job)
            .bind(column(plays, |(l, _)| l.ended_at.0))
            .bind(column(plays, |&(_, track_id)| track_id))
            .bind(column(plays, |(l, _)| l.ms_played.map(clamp_ms)))
            .bind(column(plays, |(l, _)| l.ms_played_estimated))
            .bind(column(plays, |(l, _)| l.source.bit()))
            .bind(details(|d| &d.platform))
            .bind(details(|d| &d.conn_country))
            .bind(details(|d| &d.reason_start))
            .bind(details(|d| &d.reason_end))
            .bind(flags(|d| d.shuffle))
            .bind(flags(|d| d.skipped))
            .bind(flags(|d| d.offline))
            .bind(flags(|d| d.incognito))
            .execute(&mut **conn)
            .await?
            .rows_affected()
        }
    };
    Ok(inserted)
}

/// Columns of a `plays` row as inserted.
const PLAY_COLUMNS: usize = 16;

/// The values of one row of the SQLite plays insert, in its column order. Its texts are
/// shared: binding one takes no copy.
fn add_play(
    arguments: &mut SqliteArguments,
    user: i64,
    import_job: Option<i64>,
    listen: &NewListen,
    track_id: i64,
) -> Result<(), sqlx::error::BoxDynError> {
    let d = &listen.details;
    arguments.add(user)?;
    arguments.add(listen.ended_at.0)?;
    arguments.add(track_id)?;
    arguments.add(listen.ms_played.map(clamp_ms))?;
    arguments.add(listen.ms_played_estimated)?;
    arguments.add(listen.source.bit())?;
    arguments.add(listen.source.bit())?;
    arguments.add(d.platform.clone())?;
    arguments.add(d.conn_country.clone())?;
    arguments.add(d.reason_start.clone())?;
    arguments.add(d.reason_end.clone())?;
    arguments.add(d.shuffle)?;
    arguments.add(d.skipped)?;
    arguments.add(d.offline)?;
    arguments.add(d.incognito)?;
    arguments.add(import_job)?;
    Ok(())
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
