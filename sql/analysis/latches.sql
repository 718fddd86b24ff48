-- latches: latch waits by class (dm_os_latch_stats), same delta rules as waits.

-- name: rows
SELECT collected_at, latch_class, wait_time_ms, waiting_requests_count
FROM latch_stats
WHERE instance = :instance AND collected_at >= :from AND collected_at < :to
ORDER BY collected_at
