-- Statements every question uses.

-- name: instances
SELECT DISTINCT instance FROM snapshots ORDER BY instance

-- name: baseline_snapshot
-- The latest snapshot of a collector at or before the window start (the baseline of cumulative counters).
SELECT max(collected_at) FROM snapshots
WHERE collector = :collector AND instance = :instance AND collected_at <= :from AND collected_at >= :lookback

-- name: epochs
-- Snapshot times of a collector with the instance's start time (the epoch of its cumulative counters).
SELECT collected_at, sqlserver_start_time FROM snapshots
WHERE collector = :collector AND instance = :instance AND collected_at >= :from AND collected_at < :to
ORDER BY collected_at
