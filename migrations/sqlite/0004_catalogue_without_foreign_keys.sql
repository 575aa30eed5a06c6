-- PostgreSQL drops the catalogue's foreign keys in this migration (see its version). SQLite
-- keeps them: its checks are cheap index probes in the same process, and removing them would
-- mean rebuilding the tables, whose drop would cascade to the artist credits. Kept as a
-- numbered step so both engines' migrations stay in step.
SELECT 1;
