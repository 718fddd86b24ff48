-- spinlocks: spinlock contention by type (dm_os_spinlock_stats), same delta rules as waits.

-- name: rows
SELECT collected_at, name, spins, collisions, backoffs, sleep_time
FROM spinlock_stats
WHERE instance = :instance AND collected_at >= :from AND collected_at < :to
ORDER BY collected_at
