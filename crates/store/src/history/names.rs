//! The catalogue's names in memory, lowercased, for substring search.
//!
//! Searching names with SQL's LIKE scans tens of thousands of rows per question (a leading
//! `%` uses no index) and folds only ASCII case on SQLite. Catalogue rows are never changed
//! or deleted once committed, and listen writers, which alone create them, take turns, so
//! they are committed in id order: the names loaded once stay true, and rows added since are
//! exactly those with a larger id than the last one loaded.

use crate::row::RowExt;
use crate::{Result, Store, on_pool};
use memchr::memmem;
use std::collections::HashSet;

/// Bytes between two names: never part of UTF-8 text, so no match spans two names.
const SEPARATOR: u8 = 0xFF;

/// Lowercase names of artists, albums (shows, audiobooks) and tracks (episodes, chapters).
#[derive(Debug, Default)]
pub(crate) struct CatalogNames {
    artists: NameList,
    albums: NameList,
    tracks: NameList,
}

/// The catalogue rows whose name contains a text.
#[derive(Debug, Default)]
pub(crate) struct NameMatches {
    pub artists: HashSet<i64>,
    pub albums: HashSet<i64>,
    pub tracks: HashSet<i64>,
}

impl CatalogNames {
    /// Rows of each table whose lowercase name contains `needle` (itself lowercase).
    pub(crate) fn matching(&self, needle: &str) -> NameMatches {
        let finder = memmem::Finder::new(needle.as_bytes());
        NameMatches {
            artists: self.artists.matching(&finder),
            albums: self.albums.matching(&finder),
            tracks: self.tracks.matching(&finder),
        }
    }
}

/// One table's names, in id order, one after another in a single buffer.
#[derive(Debug, Default)]
struct NameList {
    ids: Vec<i64>,
    /// Where each name ends in `text` (its separator's position).
    ends: Vec<usize>,
    text: Vec<u8>,
}

impl NameList {
    fn last_id(&self) -> i64 {
        self.ids.last().copied().unwrap_or(0)
    }

    fn push(&mut self, id: i64, name: &str) {
        self.text.extend_from_slice(name.to_lowercase().as_bytes());
        self.ends.push(self.text.len());
        self.text.push(SEPARATOR);
        self.ids.push(id);
    }

    fn matching(&self, finder: &memmem::Finder<'_>) -> HashSet<i64> {
        let mut ids = HashSet::new();
        let mut next_name = 0;
        for position in finder.find_iter(&self.text) {
            if position < next_name {
                // Another match in a name already taken.
                continue;
            }
            let index = self.ends.partition_point(|&end| end < position);
            ids.insert(self.ids[index]);
            next_name = self.ends[index] + 1;
        }
        ids
    }
}

impl Store {
    /// Runs `f` over the catalogue's names, first loading those added since the last call.
    pub(crate) async fn with_catalog_names<T>(
        &self,
        f: impl FnOnce(&CatalogNames) -> T,
    ) -> Result<T> {
        let mut guard = self.names.lock().await;
        let names = &mut *guard;
        for (table, list) in [
            ("artists", &mut names.artists),
            ("albums", &mut names.albums),
            ("tracks", &mut names.tracks),
        ] {
            self.load_names(table, list).await?;
        }
        Ok(f(names))
    }

    /// Loads the catalogue's names ahead of the first search (a server does this at start).
    pub async fn load_catalog_names(&self) -> Result<()> {
        self.with_catalog_names(|_| ()).await
    }

    async fn load_names(&self, table: &str, list: &mut NameList) -> Result<()> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT id, name FROM {table} WHERE id > $1 ORDER BY id"
        ));
        on_pool!(self, pool => {
            let rows = sqlx::query(sql).bind(list.last_id()).fetch_all(pool).await?;
            for row in &rows {
                list.push(row.int("id")?, row.str("name")?);
            }
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_whole_unicode_lowercase_names_once_each() {
        let mut list = NameList::default();
        list.push(3, "Midnight City");
        list.push(5, "MIDNIGHT midnight");
        list.push(8, "Björk");
        list.push(9, "Nightmare");
        list.push(12, "Ǆemal ΣΑΣ");
        let find = |needle: &str| {
            let mut ids: Vec<i64> = list
                .matching(&memmem::Finder::new(needle.as_bytes()))
                .into_iter()
                .collect();
            ids.sort_unstable();
            ids
        };
        assert_eq!(find("midnight"), vec![3, 5]);
        assert_eq!(find("night"), vec![3, 5, 9]);
        assert_eq!(find("bjö"), vec![8]);
        assert_eq!(find("ǆemal σας"), vec![12]);
        // No match runs from the end of one name into the next.
        assert_eq!(find("citymid"), Vec::<i64>::new());
        assert_eq!(find("k"), vec![8]);
        assert_eq!(list.last_id(), 12);
    }
}
