-- The schedulers that run user work (status VISIBLE ONLINE): sys.dm_os_schedulers.
-- yield_count and context_switches_count are cumulative int counters; they can wrap around on a long-running
-- instance, which the delta analysis sees as a reset.
SELECT
    sc.scheduler_id,
    sc.cpu_id,
    sc.parent_node_id,
    sc.status,
    sc.is_idle,
    sc.current_tasks_count,
    sc.runnable_tasks_count,
    sc.current_workers_count,
    sc.active_workers_count,
    sc.work_queue_count,
    sc.pending_disk_io_count,
    sc.load_factor,
    sc.yield_count,
    sc.context_switches_count
FROM sys.dm_os_schedulers AS sc
WHERE sc.status = N'VISIBLE ONLINE'
OPTION (MAXDOP 1);
