-- top-queries: which statements used the CPU, reads, writes, grants and spills of a window.
-- The engine (agent/query/questions.cpp, rules in docs/analysis.md) reads the plan-cache rows observed in
-- [:from, :to) from query_stats (every minute, only what ran since the previous run: sparse) and
-- query_stats_full (hourly, the whole cache), and for lifetimes created before :from their latest earlier
-- observation: the latest query_stats_full snapshot at or before :from, then the query_stats rows after it.
-- Both tables have the same columns; each statement reads one table so that it uses (instance, collected_at).
-- A lifetime is keyed on plan_handle, the offsets and creation_time: the plan_handle determines the
-- sql_handle, so the sql_handle is not read.

-- name: rows
SELECT collected_at, utc_offset_minutes, plan_handle, statement_start_offset, statement_end_offset,
       creation_time, query_hash, query_plan_hash, statement_text_hash,
       execution_count, total_worker_time, total_elapsed_time, total_logical_reads, total_physical_reads,
       total_logical_writes, total_grant_kb, total_used_grant_kb, total_spills
FROM query_stats
WHERE instance = :instance AND collected_at >= :from AND collected_at < :to

-- name: rows_full
SELECT collected_at, utc_offset_minutes, plan_handle, statement_start_offset, statement_end_offset,
       creation_time, query_hash, query_plan_hash, statement_text_hash,
       execution_count, total_worker_time, total_elapsed_time, total_logical_reads, total_physical_reads,
       total_logical_writes, total_grant_kb, total_used_grant_kb, total_spills
FROM query_stats_full
WHERE instance = :instance AND collected_at >= :from AND collected_at < :to

-- name: rows.sqlite
-- rows, on a SQLite store from its row table (agent/store/sqlite_layout.h): plan_handle is a dictionary id and
-- creation_time ticks, which the engine takes as they are (a key and a time).
SELECT s.collected_at, s.utc_offset_minutes, q.plan_handle, q.statement_start_offset, q.statement_end_offset,
       q.creation_time, q.query_hash, q.query_plan_hash, q.statement_text_hash,
       q.execution_count, q.total_worker_time, q.total_elapsed_time, q.total_logical_reads, q.total_physical_reads,
       q.total_logical_writes, q.total_grant_kb, q.total_used_grant_kb, q.total_spills
FROM snapshots AS s JOIN query_stats_data AS q ON q.snapshot_id = s.snapshot_id
WHERE s.collector = 'query_stats' AND s.instance = :instance AND s.collected_at >= :from AND s.collected_at < :to

-- name: rows_full.sqlite
SELECT s.collected_at, s.utc_offset_minutes, q.plan_handle, q.statement_start_offset, q.statement_end_offset,
       q.creation_time, q.query_hash, q.query_plan_hash, q.statement_text_hash,
       q.execution_count, q.total_worker_time, q.total_elapsed_time, q.total_logical_reads, q.total_physical_reads,
       q.total_logical_writes, q.total_grant_kb, q.total_used_grant_kb, q.total_spills
FROM snapshots AS s JOIN query_stats_full_data AS q ON q.snapshot_id = s.snapshot_id
WHERE s.collector = 'query_stats_full' AND s.instance = :instance AND s.collected_at >= :from AND s.collected_at < :to

-- name: last_full_snapshot
-- The latest whole-cache snapshot at or before the window start, within the look-back.
SELECT max(collected_at)
FROM snapshots
WHERE collector = 'query_stats_full' AND instance = :instance AND collected_at <= :from AND collected_at >= :lookback

-- name: snapshot_span
-- Snapshots of the minute collector in the window: count, first and last (coverage), and the median gap.
SELECT count(*), min(collected_at), max(collected_at)
FROM snapshots
WHERE collector = 'query_stats' AND instance = :instance AND collected_at >= :from AND collected_at < :to

-- name: two_point_first
SELECT min(collected_at) FROM snapshots
WHERE collector = 'query_stats' AND instance = :instance AND collected_at >= :from AND collected_at <= :to

-- name: two_point_last
SELECT max(collected_at) FROM snapshots
WHERE collector = 'query_stats' AND instance = :instance AND collected_at >= :from AND collected_at <= :to
