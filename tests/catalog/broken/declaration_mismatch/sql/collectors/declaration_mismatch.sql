SELECT r.session_id, r.status, CAST(r.total_elapsed_time / 1000 AS bigint) AS elapsed_s
FROM sys.dm_exec_requests AS r;
