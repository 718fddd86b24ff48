-- SQL Server performance counters: sys.dm_os_performance_counters, every row, names trimmed.
-- cntr_type tells how to read cntr_value (per the documentation): 65792, 272696320 and 537003264 are
-- instantaneous values; 272696576 (per-second), 1073874176 (average) and 1073939712 (its base) are cumulative
-- and only mean something as differences between two samples.
SELECT
    CAST(RTRIM(pc.object_name) AS nvarchar(128)) AS object_name,
    CAST(RTRIM(pc.counter_name) AS nvarchar(128)) AS counter_name,
    CAST(RTRIM(pc.instance_name) AS nvarchar(128)) AS instance_name,
    pc.cntr_value,
    pc.cntr_type
FROM sys.dm_os_performance_counters AS pc
OPTION (MAXDOP 1);
