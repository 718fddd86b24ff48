-- Broken on purpose: sys.databases has user_access_desc, not access_desc.
SELECT d.database_id, d.name, d.state_desc, d.access_desc
FROM sys.databases AS d;
