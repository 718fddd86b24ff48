-- The instance: version, edition, start time, CPUs, memory, and the settings that shape its behaviour.
-- SERVERPROPERTY + sys.dm_os_sys_info + sys.dm_os_host_info + sys.configurations (value_in_use, cast from
-- sql_variant). One row. SQL Server 2016 (no sys.dm_os_host_info, Windows only) runs server_info_2016.sql,
-- which returns the same columns.
SELECT
    CAST(SERVERPROPERTY('ServerName') AS nvarchar(128)) AS server_name,
    CAST(SERVERPROPERTY('MachineName') AS nvarchar(128)) AS machine_name,
    CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)) AS product_version,
    CAST(SERVERPROPERTY('ProductMajorVersion') AS int) AS product_major_version,
    CAST(SERVERPROPERTY('ProductLevel') AS nvarchar(128)) AS product_level,
    CAST(SERVERPROPERTY('ProductUpdateLevel') AS nvarchar(128)) AS product_update_level,
    CAST(SERVERPROPERTY('Edition') AS nvarchar(128)) AS edition,
    CAST(SERVERPROPERTY('EngineEdition') AS int) AS engine_edition,
    CAST(SERVERPROPERTY('IsClustered') AS int) AS is_clustered,
    CAST(SERVERPROPERTY('IsHadrEnabled') AS int) AS is_hadr_enabled,
    h.host_platform,
    h.host_distribution,
    h.host_release,
    si.sqlserver_start_time,
    si.cpu_count,
    si.hyperthread_ratio,
    si.scheduler_count,
    si.socket_count,
    si.cores_per_socket,
    si.numa_node_count,
    si.max_workers_count,
    si.physical_memory_kb,
    si.committed_kb,
    si.committed_target_kb,
    si.sql_memory_model_desc,
    si.virtual_machine_type_desc,
    c.max_server_memory_mb,
    c.min_server_memory_mb,
    c.max_degree_of_parallelism,
    c.cost_threshold_for_parallelism,
    c.blocked_process_threshold_s,
    c.optimize_for_ad_hoc_workloads,
    c.max_worker_threads
FROM sys.dm_os_sys_info AS si
CROSS JOIN sys.dm_os_host_info AS h
CROSS JOIN (
    SELECT
        MAX(CASE WHEN cf.name = N'max server memory (MB)' THEN CAST(cf.value_in_use AS bigint) END) AS max_server_memory_mb,
        MAX(CASE WHEN cf.name = N'min server memory (MB)' THEN CAST(cf.value_in_use AS bigint) END) AS min_server_memory_mb,
        MAX(CASE WHEN cf.name = N'max degree of parallelism' THEN CAST(cf.value_in_use AS int) END) AS max_degree_of_parallelism,
        MAX(CASE WHEN cf.name = N'cost threshold for parallelism' THEN CAST(cf.value_in_use AS int) END) AS cost_threshold_for_parallelism,
        MAX(CASE WHEN cf.name = N'blocked process threshold (s)' THEN CAST(cf.value_in_use AS int) END) AS blocked_process_threshold_s,
        MAX(CASE WHEN cf.name = N'optimize for ad hoc workloads' THEN CAST(cf.value_in_use AS int) END) AS optimize_for_ad_hoc_workloads,
        MAX(CASE WHEN cf.name = N'max worker threads' THEN CAST(cf.value_in_use AS int) END) AS max_worker_threads
    FROM sys.configurations AS cf
    WHERE cf.name IN (N'max server memory (MB)', N'min server memory (MB)', N'max degree of parallelism',
                      N'cost threshold for parallelism', N'blocked process threshold (s)',
                      N'optimize for ad hoc workloads', N'max worker threads')
) AS c
OPTION (MAXDOP 1);
