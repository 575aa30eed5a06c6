-- The catalogue's foreign keys checked every new track and artist credit with a query of its
-- own (a trigger per row: a quarter of the database time of an import into a new history).
-- They guard nothing the writer does not: catalogue rows are created only by the listen
-- writer, with ids it resolved in the same transaction, and are never updated or deleted;
-- plays carry no foreign keys for the same reason.
ALTER TABLE tracks DROP CONSTRAINT tracks_album_id_fkey;
ALTER TABLE track_artists DROP CONSTRAINT track_artists_track_id_fkey;
ALTER TABLE track_artists DROP CONSTRAINT track_artists_artist_id_fkey;
