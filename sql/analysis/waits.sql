-- waits: what the instance waited on (dm_os_wait_stats), as sums of consecutive-snapshot differences within
-- each epoch; a decrease is a reset (DBCC SQLPERF CLEAR) and counts the new value. Rows are read from the
-- baseline snapshot (:from here is the baseline's time) to the window end, in time order.
-- Columns: collected_at, key..., counters...

-- name: rows
SELECT collected_at, wait_type, wait_time_ms, signal_wait_time_ms, waiting_tasks_count
FROM wait_stats
WHERE instance = :instance AND collected_at >= :from AND collected_at < :to
ORDER BY collected_at
