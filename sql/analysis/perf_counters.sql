-- perf-counters: dm_os_performance_counters by cntr_type: 272696576 cumulative per-second counts (rates),
-- 1073874176 averages with their 1073939712 base (delta value / delta base), 537003264 ratios with their
-- base (value / base at each snapshot), 65792 point-in-time values (min, average, max in the window).
-- :filter is a LIKE pattern on object_name or counter_name ('%' for all).

-- name: rows
SELECT collected_at, object_name, counter_name, instance_name, cntr_value, cntr_type
FROM perf_counters
WHERE instance = :instance AND collected_at >= :from AND collected_at < :to
  AND (object_name LIKE :filter OR counter_name LIKE :filter)
ORDER BY collected_at
