"""file_io (sql/collectors/file_io.sql): sys.dm_io_virtual_file_stats(NULL, NULL) JOIN sys.master_files.

Rows: the counters model's files (ServerCounters.virtual_file_stats, master_files): every file of every
ONLINE database (an offline database has no virtual file stats), cumulative since the instance started.
sample_ms is the milliseconds since the instance started (the model's clock for it).
"""
from __future__ import annotations

from typing import Optional

from sim.answers._collector import Ctx, respond
from sim.results import Result, Session

TAGS = ("file_io",)

COLUMNS = [("database_id", "smallint"), ("file_id", "smallint"), ("database_name", "nvarchar(128)"),
           ("name", "nvarchar(128)"), ("type_desc", "nvarchar(60)"), ("physical_name", "nvarchar(260)"),
           ("sample_ms", "bigint"), ("num_of_reads", "bigint"), ("num_of_bytes_read", "bigint"),
           ("io_stall_read_ms", "bigint"), ("io_stall_queued_read_ms", "bigint"), ("num_of_writes", "bigint"),
           ("num_of_bytes_written", "bigint"), ("io_stall_write_ms", "bigint"), ("io_stall_queued_write_ms", "bigint"),
           ("io_stall", "bigint"), ("size_on_disk_bytes", "bigint")]
_VFS = [n for n, _ in COLUMNS[6:]]


def rows(ctx: Ctx) -> list[tuple]:
    c = ctx.server.counters
    mf = {(f["database_id"], f["file_id"]): f for f in c.master_files()}
    out = []
    for v in c.virtual_file_stats():
        f = mf.get((v["database_id"], v["file_id"]))
        if f is None:
            continue
        out.append((v["database_id"], v["file_id"], ctx.server.db_name(v["database_id"]), f["name"], f["type_desc"],
                    f["physical_name"]) + tuple(v[k] for k in _VFS))
    return out


def answer(server, session: Session, sql: str, tag: str, params: Optional[dict] = None) -> Optional[list[Result]]:
    if tag not in TAGS:
        return None
    return respond(server, session, sql, tag, COLUMNS, rows, params)
