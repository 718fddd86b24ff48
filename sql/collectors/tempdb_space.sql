-- tempdb space by kind, summed over its data files: tempdb.sys.dm_db_file_space_usage. One row.
-- Page counts (8 KB pages); they are always multiples of 8 (extent granularity).
SELECT
    COUNT(*) AS file_count,
    SUM(fsu.total_page_count) AS total_page_count,
    SUM(fsu.allocated_extent_page_count) AS allocated_extent_page_count,
    SUM(fsu.unallocated_extent_page_count) AS unallocated_extent_page_count,
    SUM(fsu.version_store_reserved_page_count) AS version_store_reserved_page_count,
    SUM(fsu.user_object_reserved_page_count) AS user_object_reserved_page_count,
    SUM(fsu.internal_object_reserved_page_count) AS internal_object_reserved_page_count,
    SUM(fsu.mixed_extent_page_count) AS mixed_extent_page_count
FROM tempdb.sys.dm_db_file_space_usage AS fsu
OPTION (MAXDOP 1);
