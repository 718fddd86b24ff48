-- Broken on purpose: sesion_id.
SELECT
    r.sesion_id AS session_id,
    r.status
FROM sys.dm_exec_requests AS r;
