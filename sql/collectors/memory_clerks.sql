-- Memory by clerk type: sys.dm_os_memory_clerks summed over clerks (and memory nodes) of each type.
-- Parameters (declared by the collector): @min_kb (types holding less, all three columns together, are left out).
SELECT
    mc.type,
    COUNT(*) AS clerk_count,
    SUM(mc.pages_kb) AS pages_kb,
    SUM(mc.virtual_memory_committed_kb) AS virtual_memory_committed_kb,
    SUM(mc.awe_allocated_kb) AS awe_allocated_kb
FROM sys.dm_os_memory_clerks AS mc
GROUP BY mc.type
HAVING SUM(mc.pages_kb) + SUM(mc.virtual_memory_committed_kb) + SUM(mc.awe_allocated_kb) >= @min_kb
OPTION (MAXDOP 1);
