-- Cumulative spinlock contention by type since the instance started (or DBCC SQLPERF CLEAR):
-- sys.dm_os_spinlock_stats. Types without any collision, spin or backoff are left out.
SELECT
    sl.name,
    sl.collisions,
    sl.spins,
    sl.spins_per_collision,
    sl.sleep_time,
    sl.backoffs
FROM sys.dm_os_spinlock_stats AS sl
WHERE sl.collisions > 0
   OR sl.spins > 0
   OR sl.backoffs > 0
OPTION (MAXDOP 1);
