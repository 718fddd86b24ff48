-- Should be CAST(NULL AS binary(8)) AS page_resource.
SELECT r.session_id, r.page_resource
FROM sys.dm_exec_requests AS r;
