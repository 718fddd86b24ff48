-- tempdb: space by kind over the window (tempdb_space) and the sessions holding the most (tempdb_sessions).

-- name: space
SELECT collected_at, total_page_count, unallocated_extent_page_count, version_store_reserved_page_count,
       user_object_reserved_page_count, internal_object_reserved_page_count
FROM tempdb_space
WHERE instance = :instance AND collected_at >= :from AND collected_at < :to
ORDER BY collected_at

-- name: sessions
SELECT session_id, login_name, host_name, program_name, max(net_page_count) AS peak_pages,
       max(user_objects_alloc_page_count - user_objects_dealloc_page_count) AS user_pages,
       max(internal_objects_alloc_page_count - internal_objects_dealloc_page_count
           + task_internal_objects_alloc_page_count - task_internal_objects_dealloc_page_count) AS internal_pages,
       min(collected_at), max(collected_at), count(*)
FROM tempdb_sessions
WHERE instance = :instance AND collected_at >= :from AND collected_at < :to
GROUP BY session_id, login_name, host_name, program_name
ORDER BY peak_pages DESC, session_id, login_name, host_name, program_name
LIMIT :top
