-- Broken on purpose: the trailing comma after status.
SELECT
    r.session_id,
    r.status,
FROM sys.dm_exec_requests AS r;
