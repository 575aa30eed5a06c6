//! Recently-played plays into the store: converted to listens of an API source, given an
//! estimated (flagged) `ms_played`, and written through the store's listen writer, which
//! counts a play seen again as a duplicate and merges one already imported from an export
//! (DESIGN.md "Listen identity and merging") — so API plays are never double counted.

use spotify_history_core::{NewListen, Source, UserId};
use spotify_history_import::listen_keys;
use spotify_history_spotify::{PlayHistoryItem, estimate_ms_played, play_to_listen};
use spotify_history_store::{
    CatalogCache, KeyedListen, ListenBatch, Store, StoreError, WriteOutcome,
};
use std::sync::Arc;

/// Stores `items` (any order) as listens of `source`.
pub(crate) async fn store_plays(
    store: &Store,
    user: UserId,
    items: &[PlayHistoryItem],
    source: Source,
) -> Result<WriteOutcome, StoreError> {
    let Some(oldest) = items.iter().map(|i| i.played_at.as_millisecond()).min() else {
        return Ok(WriteOutcome::default());
    };
    let previous_end = store.previous_listen_end(user, oldest).await?;
    let listens = listens_with_estimates(items, source, previous_end);
    let keyed: Vec<KeyedListen> = listens
        .into_iter()
        .map(|listen| KeyedListen {
            keys: Arc::new(listen_keys(&listen.item)),
            listen,
        })
        .collect();
    let batch = ListenBatch {
        user,
        import_job: None,
        listens: &keyed,
        checkpoint: None,
    };
    store
        .write_listens(batch, &mut CatalogCache::default())
        .await
}

/// The plays as listens, oldest first, each with `ms_played` estimated from the track's
/// duration and the time since the listen before it; `previous_end` (the stored listen just
/// before the oldest play) bounds the first one.
pub(crate) fn listens_with_estimates(
    items: &[PlayHistoryItem],
    source: Source,
    previous_end: Option<i64>,
) -> Vec<NewListen> {
    let mut listens: Vec<NewListen> = items
        .iter()
        .map(|item| NewListen {
            source,
            ..play_to_listen(item)
        })
        .collect();
    listens.sort_by_key(|l| l.ended_at);
    let Some(first) = listens.first() else {
        return listens;
    };
    // `estimate_ms_played` bounds each listen by the one before it in the slice; a stand-in
    // for the stored listen, with a "reported" duration so it is not estimated itself, gives
    // the first play its bound too.
    let anchor = previous_end
        .filter(|end| *end <= first.ended_at.0)
        .map(|end| NewListen {
            ended_at: spotify_history_core::EndedAt(end),
            ms_played: Some(0),
            ms_played_estimated: false,
            ..first.clone()
        });
    match anchor {
        Some(anchor) => {
            listens.insert(0, anchor);
            estimate_ms_played(&mut listens);
            listens.remove(0);
        }
        None => estimate_ms_played(&mut listens),
    }
    listens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(played_at_ms: i64, duration_ms: i64) -> PlayHistoryItem {
        serde_json::from_value(serde_json::json!({
            "track": {
                "id": "4uLU6hMCjMI75M1A2tKUQC",
                "name": "Song",
                "uri": "spotify:track:4uLU6hMCjMI75M1A2tKUQC",
                "duration_ms": duration_ms,
                "artists": [{"id": "0OdUWJ0sBjDrqHygGUXeCF", "name": "Band", "uri": "spotify:artist:0OdUWJ0sBjDrqHygGUXeCF"}],
                "album": {"id": "6akEvsycLGftJxYudPjmqK", "name": "Album", "uri": "spotify:album:6akEvsycLGftJxYudPjmqK"},
                "type": "track",
                "is_local": false
            },
            "played_at": jiff::Timestamp::from_millisecond(played_at_ms).unwrap().to_string(),
            "context": null
        }))
        .expect("a recently-played item")
    }

    #[test]
    fn plays_are_sorted_and_the_first_is_bounded_by_the_stored_listen_before_it() {
        let items = [item(1_300_000, 200_000), item(1_100_000, 200_000)];
        let listens = listens_with_estimates(&items, Source::InitialSync, Some(1_050_000));
        let got: Vec<_> = listens
            .iter()
            .map(|l| (l.ended_at.0, l.ms_played, l.ms_played_estimated, l.source))
            .collect();
        assert_eq!(
            got,
            [
                (1_100_000, Some(50_000), true, Source::InitialSync),
                (1_300_000, Some(200_000), true, Source::InitialSync),
            ]
        );
    }

    #[test]
    fn without_a_stored_listen_before_the_first_play_lasts_its_duration() {
        let listens =
            listens_with_estimates(&[item(1_000_000, 180_000)], Source::RecentlyPlayed, None);
        assert_eq!(listens.len(), 1);
        assert_eq!(listens[0].ms_played, Some(180_000));
        assert!(listens[0].ms_played_estimated);
        assert_eq!(listens[0].source, Source::RecentlyPlayed);
    }
}
