/* dmvlog:store */
-- Version 2 is the SQLite and PostgreSQL stores' friendly views (docs/views.md). They are not created on
-- SQL Server; the version is recorded so that every store counts versions alike. `dmvlog query` and
-- `dmvlog digest` read the tables, not the views.
SELECT 1 AS no_views;
