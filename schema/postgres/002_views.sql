-- Version 2 is the SQLite store's friendly views (schema/sqlite/002_views.sql, docs/views.md). They use
-- SQLite's date functions; on PostgreSQL they are not created yet, and the version is recorded so that both
-- stores count versions alike. `dmvlog query` and `dmvlog digest` read the tables, not the views.
SELECT 1;
