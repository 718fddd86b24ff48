"""database_size (sql/collectors/database_size.sql): sys.database_files + FILEPROPERTY(name, 'SpaceUsed') +
sys.filegroups + sys.dm_db_log_space_usage on the LOG rows, for the database of the batch's USE line.

Rows: the counters model's files of that database (ServerCounters.master_files, file_space,
log_space_usage): one ROWS file (tempdb has more) in filegroup PRIMARY and one LOG file (no filegroup).
Data files grow by `growth` pages when they fill up (page splits), the log by its growth at 90 % and is
truncated by log backups (the sawtooth of used_log_space_in_bytes).
"""
from __future__ import annotations

from typing import Optional

from sim.answers._collector import Ctx, respond
from sim.results import Result, Session

TAGS = ("database_size",)

COLUMNS = [("file_id", "int"), ("name", "nvarchar(128)"), ("type_desc", "nvarchar(60)"),
           ("physical_name", "nvarchar(260)"), ("state_desc", "nvarchar(60)"), ("filegroup_name", "nvarchar(128)"),
           ("size", "int"), ("max_size", "int"), ("growth", "int"), ("is_percent_growth", "bit"),
           ("is_read_only", "bit"), ("space_used_pages", "int"), ("total_log_size_in_bytes", "bigint"),
           ("used_log_space_in_bytes", "bigint"), ("log_space_in_bytes_since_last_backup", "bigint")]


def rows(ctx: Ctx) -> list[tuple]:
    c = ctx.server.counters
    dbid = ctx.db.database_id
    used = {r["file_id"]: r["space_used"] for r in c.file_space() if r["database_id"] == dbid}
    log = next((r for r in c.log_space_usage() if r["database_id"] == dbid), None)
    out = []
    for f in sorted((f for f in c.master_files() if f["database_id"] == dbid), key=lambda f: f["file_id"]):
        is_log = f["type_desc"] == "LOG"
        lv = (log["total_log_size_in_bytes"], log["used_log_space_in_bytes"],
              log["log_space_in_bytes_since_last_backup"]) if is_log and log else (None, None, None)
        out.append((f["file_id"], f["name"], f["type_desc"], f["physical_name"], f["state_desc"],
                    None if is_log else "PRIMARY", f["size"], f["max_size"], f["growth"], f["is_percent_growth"], 0,
                    used.get(f["file_id"])) + lv)
    return out


def answer(server, session: Session, sql: str, tag: str, params: Optional[dict] = None) -> Optional[list[Result]]:
    if tag not in TAGS:
        return None
    return respond(server, session, sql, tag, COLUMNS, rows, params)
