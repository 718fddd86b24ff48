-- What `dmvlog check` asks on connect: who we are, what the server is, which permissions we hold.
-- Readable without VIEW SERVER STATE, so that a missing permission is reported rather than failing.
-- Two result sets: the server and the login (one row), then per online database what per-database
-- collectors need there (entry, and database state; the PERFORMANCE variant is NULL before SQL Server 2022).
SELECT
    CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)) AS product_version,
    CAST(SERVERPROPERTY('ProductLevel') AS nvarchar(128)) AS product_level,
    CAST(SERVERPROPERTY('Edition') AS nvarchar(128)) AS edition,
    CAST(SERVERPROPERTY('EngineEdition') AS int) AS engine_edition,
    CAST(SERVERPROPERTY('ServerName') AS nvarchar(128)) AS server_name,
    @@VERSION AS version_string,
    SUSER_SNAME() AS login_name,
    HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW SERVER STATE') AS has_view_server_state,
    HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW SERVER PERFORMANCE STATE') AS has_view_server_performance_state,
    HAS_PERMS_BY_NAME(NULL, NULL, 'ALTER ANY EVENT SESSION') AS has_alter_any_event_session,
    SYSUTCDATETIME() AS server_utc_time,
    DATEPART(TZOFFSET, SYSDATETIMEOFFSET()) AS utc_offset_minutes;

SELECT
    d.database_id,
    d.name,
    HAS_DBACCESS(d.name) AS has_access,
    HAS_PERMS_BY_NAME(d.name, 'DATABASE', 'VIEW DATABASE STATE') AS has_view_database_state,
    HAS_PERMS_BY_NAME(d.name, 'DATABASE', 'VIEW DATABASE PERFORMANCE STATE') AS has_view_database_performance_state
FROM sys.databases AS d
WHERE d.state = 0
ORDER BY d.database_id;
