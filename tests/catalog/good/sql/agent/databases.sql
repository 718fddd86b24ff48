-- The databases a per-database collector may visit: online, multi-user or restricted, accessible to us.
SELECT
    d.database_id,
    d.name,
    d.state_desc,
    d.user_access_desc,
    HAS_DBACCESS(d.name) AS has_access
FROM sys.databases AS d
ORDER BY d.database_id
OPTION (MAXDOP 1);
