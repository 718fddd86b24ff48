-- What `dmvlog check` asks on connect: who we are, what the server is, which permissions we hold.
-- Readable without VIEW SERVER STATE, so that a missing permission is reported rather than failing.
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
