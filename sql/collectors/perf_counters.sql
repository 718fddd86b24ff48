-- SQL Server performance counters: sys.dm_os_performance_counters, every row, names trimmed.
-- cntr_type tells how to read cntr_value. Per the documentation, 65792, 272696320 and 537003264 are
-- instantaneous values and 272696576 (per second), 1073874176 (average) and 1073939712 (base) cumulative ones,
-- meaningful only as differences between two samples; a base (1073939712) is read with the counter it divides.
SELECT
    CAST(RTRIM(pc.object_name) AS nvarchar(128)) AS object_name,
    CAST(RTRIM(pc.counter_name) AS nvarchar(128)) AS counter_name,
    CAST(RTRIM(pc.instance_name) AS nvarchar(128)) AS instance_name,
    pc.cntr_value,
    pc.cntr_type
FROM sys.dm_os_performance_counters AS pc
OPTION (MAXDOP 1);
