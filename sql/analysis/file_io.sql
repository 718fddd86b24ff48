-- file-io: reads, writes, bytes and stalls per database file (dm_io_virtual_file_stats). A key is
-- (database_id, file_id); a decrease of one file (database detached and attached) is a reset of that file.

-- name: rows
SELECT collected_at, database_id || ':' || file_id AS file_key,
       num_of_reads, num_of_bytes_read, io_stall_read_ms, num_of_writes, num_of_bytes_written, io_stall_write_ms,
       io_stall, database_name, name, type_desc, physical_name, size_on_disk_bytes
FROM file_io
WHERE instance = :instance AND collected_at >= :from AND collected_at < :to
ORDER BY collected_at
