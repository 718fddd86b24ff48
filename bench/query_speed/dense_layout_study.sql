-- Layout study on the query-speed store: how fast the top-queries scan reads query_stats in the denser layout
-- planned in docs/design.md ("Store rows"), against the layout the agent writes today. Not used by the agent.
--
--   build/bench/query_speed/query_speed_bench --dir DIR --runs 1 --keep --req-rows 1
--   cp DIR/store.db DIR/dense.db && sqlite3 DIR/dense.db < bench/query_speed/dense_layout_study.sql
--
-- It converts query_stats of the 24 h store (1.42 million rows) into query_stats_dense (snapshot id instead of
-- instance and collected_at, handles and hashes as ids of a dictionary table, times as 100 ns ticks), then
-- times: the columns the top-queries statement reads, today's layout (twice); the same from the dense table
-- joined to snapshots (twice); the logical shape rebuilt row by row (dictionary joined, times formatted), what
-- a view of today's shape over the dense table would cost.
PRAGMA journal_mode=OFF;
PRAGMA synchronous=OFF;
CREATE TABLE dict_values(id INTEGER PRIMARY KEY, value UNIQUE);
INSERT OR IGNORE INTO dict_values(value) SELECT sql_handle FROM query_stats UNION SELECT plan_handle FROM query_stats UNION SELECT query_hash FROM query_stats UNION SELECT query_plan_hash FROM query_stats
  UNION SELECT sql_handle FROM query_stats_full UNION SELECT plan_handle FROM query_stats_full UNION SELECT query_hash FROM query_stats_full UNION SELECT query_plan_hash FROM query_stats_full;
CREATE TABLE query_stats_dense AS SELECT s.snapshot_id,
  (SELECT id FROM dict_values d WHERE d.value = q.sql_handle) sql_handle,
  (SELECT id FROM dict_values d WHERE d.value = q.plan_handle) plan_handle,
  statement_start_offset, statement_end_offset,
  CAST(round((julianday(substr(creation_time,1,19)) - 2440587.5)*86400) AS INTEGER)*10000000 + CAST(substr(creation_time,21,7) AS INTEGER) creation_time,
  CAST(round((julianday(substr(last_execution_time,1,19)) - 2440587.5)*86400) AS INTEGER)*10000000 + CAST(substr(last_execution_time,21,7) AS INTEGER) last_execution_time,
  (SELECT id FROM dict_values d WHERE d.value = q.query_hash) query_hash,
  (SELECT id FROM dict_values d WHERE d.value = q.query_plan_hash) query_plan_hash,
  plan_generation_num, execution_count, total_worker_time, last_worker_time, min_worker_time, max_worker_time, total_elapsed_time, last_elapsed_time, min_elapsed_time, max_elapsed_time, total_logical_reads, last_logical_reads, min_logical_reads, max_logical_reads, total_physical_reads, last_physical_reads, min_physical_reads, max_physical_reads, total_logical_writes, last_logical_writes, min_logical_writes, max_logical_writes, total_rows, last_rows, min_rows, max_rows, total_dop, last_dop, min_dop, max_dop, total_grant_kb, last_grant_kb, min_grant_kb, max_grant_kb, total_used_grant_kb, last_used_grant_kb, min_used_grant_kb, max_used_grant_kb, total_ideal_grant_kb, last_ideal_grant_kb, min_ideal_grant_kb, max_ideal_grant_kb, total_reserved_threads, last_reserved_threads, min_reserved_threads, max_reserved_threads, total_used_threads, last_used_threads, min_used_threads, max_used_threads, total_spills, last_spills, min_spills, max_spills, total_clr_time, last_clr_time, min_clr_time, max_clr_time, batch_text_hash, statement_text_hash
FROM query_stats q JOIN snapshots s ON s.instance = q.instance AND s.collector = 'query_stats' AND s.collected_at = q.collected_at ORDER BY q.rowid;
CREATE INDEX query_stats_dense_by_snapshot ON query_stats_dense(snapshot_id);
SELECT 'rows converted', count(*) FROM query_stats_dense;
.timer on
SELECT count(*), total(length(collected_at)), total(utc_offset_minutes), total(length(plan_handle)), total(statement_start_offset), total(statement_end_offset), total(length(creation_time)), total(length(query_hash)), total(length(query_plan_hash)), total(statement_text_hash), total(execution_count), total(total_worker_time), total(total_elapsed_time), total(total_logical_reads), total(total_physical_reads), total(total_logical_writes), total(total_grant_kb), total(total_used_grant_kb), total(total_spills) FROM query_stats WHERE instance='bench1' AND collected_at >= '2026-03-08 00:00:00' AND collected_at < '2026-03-09 00:00:00';
SELECT count(*), total(length(collected_at)), total(utc_offset_minutes), total(length(plan_handle)), total(statement_start_offset), total(statement_end_offset), total(length(creation_time)), total(length(query_hash)), total(length(query_plan_hash)), total(statement_text_hash), total(execution_count), total(total_worker_time), total(total_elapsed_time), total(total_logical_reads), total(total_physical_reads), total(total_logical_writes), total(total_grant_kb), total(total_used_grant_kb), total(total_spills) FROM query_stats WHERE instance='bench1' AND collected_at >= '2026-03-08 00:00:00' AND collected_at < '2026-03-09 00:00:00';
SELECT count(*), total(length(s.collected_at)), total(s.utc_offset_minutes), total(r.plan_handle), total(r.statement_start_offset), total(r.statement_end_offset), total(r.creation_time), total(r.query_hash), total(r.query_plan_hash), total(r.statement_text_hash), total(r.execution_count), total(r.total_worker_time), total(r.total_elapsed_time), total(r.total_logical_reads), total(r.total_physical_reads), total(r.total_logical_writes), total(r.total_grant_kb), total(r.total_used_grant_kb), total(r.total_spills) FROM snapshots s JOIN query_stats_dense r ON r.snapshot_id = s.snapshot_id WHERE s.collector='query_stats' AND s.instance='bench1' AND s.collected_at >= '2026-03-08 00:00:00' AND s.collected_at < '2026-03-09 00:00:00';
SELECT count(*), total(length(s.collected_at)), total(s.utc_offset_minutes), total(r.plan_handle), total(r.statement_start_offset), total(r.statement_end_offset), total(r.creation_time), total(r.query_hash), total(r.query_plan_hash), total(r.statement_text_hash), total(r.execution_count), total(r.total_worker_time), total(r.total_elapsed_time), total(r.total_logical_reads), total(r.total_physical_reads), total(r.total_logical_writes), total(r.total_grant_kb), total(r.total_used_grant_kb), total(r.total_spills) FROM snapshots s JOIN query_stats_dense r ON r.snapshot_id = s.snapshot_id WHERE s.collector='query_stats' AND s.instance='bench1' AND s.collected_at >= '2026-03-08 00:00:00' AND s.collected_at < '2026-03-09 00:00:00';
-- the logical view: dictionary joined per row, times formatted per row
SELECT count(*), total(length(x)), total(length(ph)), total(length(ct)), total(length(qh)) FROM (SELECT s.collected_at x, d1.value ph, strftime('%Y-%m-%d %H:%M:%S', r.creation_time / 10000000, 'unixepoch') || '.' || substr('000000' || (r.creation_time % 10000000), -7) ct, d2.value qh FROM snapshots s JOIN query_stats_dense r ON r.snapshot_id = s.snapshot_id LEFT JOIN dict_values d1 ON d1.id = r.plan_handle LEFT JOIN dict_values d2 ON d2.id = r.query_hash WHERE s.collector='query_stats' AND s.instance='bench1' AND s.collected_at >= '2026-03-08 00:00:00' AND s.collected_at < '2026-03-09 00:00:00');
