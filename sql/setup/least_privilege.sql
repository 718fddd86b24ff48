-- dmvlog's least-privilege login (docs/operations.md, "Security"). Run as a sysadmin, e.g.
--   sqlcmd -S server -E -i least_privilege.sql
-- after setting the placeholders below. Safe to run again: what exists is kept, missing grants are added.
--
-- What it grants:
--   server:       VIEW SERVER PERFORMANCE STATE on SQL Server 2022 and later, VIEW SERVER STATE before
--                 (every collector reads DMVs that need it);
--   each database where per-database collectors run (index_usage, index_operational, stats, database_size):
--                 a user for the login, with VIEW DATABASE PERFORMANCE STATE (2022+) or VIEW DATABASE STATE;
--   OPTIONAL (@with_xe_setup = 1, off by default): ALTER ANY EVENT SESSION, needed only by
--                 `dmvlog xe setup --apply` to create and start the blocking session. Reading the session
--                 needs nothing more than the server permission above; a DBA may instead create the session
--                 once with the T-SQL that `dmvlog xe setup` prints, and leave this off.
-- `dmvlog check` then shows, per collector, whether the login has what it needs.
--
-- Placeholders (set them here; nothing else needs editing):
--   @login          the login dmvlog connects as (the instance's `user` in dmvlog.toml)
--   @password       its password, for a new SQL login; the same text goes into the instance's password_file.
--                   Leave NULL to keep an existing login's password (or for a Windows login, see @windows_login).
--                   Do not commit this file with a password in it.
--   @windows_login  1 = @login is a Windows / Active Directory login (DOMAIN\name): created FROM WINDOWS
--   @databases      the databases per-database collectors visit, comma-separated; NULL = every online user
--                   database (what dmvlog visits when include_databases is not set)
--   @with_xe_setup  1 = also grant ALTER ANY EVENT SESSION (optional part, see above)
SET NOCOUNT ON;
SET XACT_ABORT ON;

DECLARE @login sysname = N'dmvlog';
DECLARE @password nvarchar(128) = NULL;
DECLARE @windows_login bit = 0;
DECLARE @databases nvarchar(max) = NULL;
DECLARE @with_xe_setup bit = 0;

DECLARE @major int = CAST(SERVERPROPERTY('ProductMajorVersion') AS int);
DECLARE @sql nvarchar(max);
DECLARE @db sysname;
DECLARE @exec nvarchar(600);

IF @login IS NULL OR LTRIM(RTRIM(@login)) = N''
    THROW 50001, N'Set @login to the login dmvlog connects as.', 1;

-- The login
IF NOT EXISTS (SELECT 1 FROM sys.server_principals WHERE name = @login)
BEGIN
    IF @windows_login = 1
        SET @sql = N'CREATE LOGIN ' + QUOTENAME(@login) + N' FROM WINDOWS;';
    ELSE IF @password IS NULL
        THROW 50002, N'The login does not exist: set @password (or @windows_login = 1) to create it.', 1;
    ELSE
        SET @sql = N'CREATE LOGIN ' + QUOTENAME(@login) + N' WITH PASSWORD = N'''
                 + REPLACE(@password, N'''', N'''''') + N''', CHECK_POLICY = ON;';
    EXEC sys.sp_executesql @sql;
    PRINT N'created login ' + QUOTENAME(@login);
END;

-- Server state: the narrower permission where it exists
IF @major >= 16
    SET @sql = N'GRANT VIEW SERVER PERFORMANCE STATE TO ' + QUOTENAME(@login) + N';';
ELSE
    SET @sql = N'GRANT VIEW SERVER STATE TO ' + QUOTENAME(@login) + N';';
EXEC sys.sp_executesql @sql;
PRINT N'granted ' + CASE WHEN @major >= 16 THEN N'VIEW SERVER PERFORMANCE STATE' ELSE N'VIEW SERVER STATE' END
    + N' to ' + QUOTENAME(@login);

-- Each database per-database collectors visit: a user, and database state
DECLARE @targets TABLE (name sysname PRIMARY KEY);
IF @databases IS NULL
    INSERT INTO @targets (name)
    SELECT d.name FROM sys.databases AS d WHERE d.database_id > 4 AND d.state = 0;
ELSE
    INSERT INTO @targets (name)
    SELECT DISTINCT LTRIM(RTRIM(s.value)) FROM STRING_SPLIT(@databases, N',') AS s
    WHERE LTRIM(RTRIM(s.value)) <> N'';

DECLARE target_cursor CURSOR LOCAL FAST_FORWARD FOR SELECT t.name FROM @targets AS t ORDER BY t.name;
OPEN target_cursor;
FETCH NEXT FROM target_cursor INTO @db;
WHILE @@FETCH_STATUS = 0
BEGIN
    IF DB_ID(@db) IS NULL
        PRINT N'skipped ' + QUOTENAME(@db) + N': no such database';
    ELSE
    BEGIN
        -- runs in that database: <db>.sys.sp_executesql
        SET @exec = QUOTENAME(@db) + N'.sys.sp_executesql';
        SET @sql = N'IF NOT EXISTS (SELECT 1 FROM sys.database_principals WHERE name = @name) '
                 + N'CREATE USER ' + QUOTENAME(@login) + N' FOR LOGIN ' + QUOTENAME(@login) + N'; '
                 + N'GRANT ' + CASE WHEN @major >= 16 THEN N'VIEW DATABASE PERFORMANCE STATE'
                                    ELSE N'VIEW DATABASE STATE' END
                 + N' TO ' + QUOTENAME(@login) + N';';
        EXEC @exec @sql, N'@name sysname', @name = @login;
        PRINT N'database ' + QUOTENAME(@db) + N': user and database state granted';
    END;
    FETCH NEXT FROM target_cursor INTO @db;
END;
CLOSE target_cursor;
DEALLOCATE target_cursor;

-- ============================================================================================================
-- OPTIONAL: only for `dmvlog xe setup --apply` (creating and starting the blocking event session).
-- Off unless @with_xe_setup = 1 above. Revoke it after the setup if you like: REVOKE ALTER ANY EVENT SESSION.
-- ============================================================================================================
IF @with_xe_setup = 1
BEGIN
    SET @sql = N'GRANT ALTER ANY EVENT SESSION TO ' + QUOTENAME(@login) + N';';
    EXEC sys.sp_executesql @sql;
    PRINT N'granted ALTER ANY EVENT SESSION to ' + QUOTENAME(@login) + N' (optional, for xe setup --apply)';
END;
