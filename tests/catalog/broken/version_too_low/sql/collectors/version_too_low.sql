-- Broken on purpose: sys.dm_exec_requests.page_resource is new in SQL Server 2019.
SELECT r.session_id, r.page_resource
FROM sys.dm_exec_requests AS r;
