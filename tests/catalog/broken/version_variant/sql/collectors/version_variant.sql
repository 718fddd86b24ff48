SELECT r.session_id, r.page_resource
FROM sys.dm_exec_requests AS r;
