"""tempdb: tempdb_space and tempdb_sessions.

  tempdb_space     (sql/collectors/tempdb_space.sql) tempdb.sys.dm_db_file_space_usage summed over tempdb's
                   data files: ServerCounters.tempdb_space_usage() (a background level that drifts) plus
                   the pages the sessions hold now (sim/model/activity.py: tempdb_usage), in whole extents.
  tempdb_sessions  (sql/collectors/tempdb_sessions.sql) dm_db_session_space_usage + dm_db_task_space_usage
                   per user session (session_id <> @@SPID) holding at least @min_pages net pages, TOP
                   (@top_rows) by net pages descending.
"""
from __future__ import annotations

from typing import Optional

from sim.answers._collector import Ctx, respond
from sim.model import activity
from sim.results import Result, Session

TAGS = ("tempdb_space", "tempdb_sessions")

SPACE_COLUMNS = [("file_count", "int"), ("total_page_count", "bigint"), ("allocated_extent_page_count", "bigint"),
                 ("unallocated_extent_page_count", "bigint"), ("version_store_reserved_page_count", "bigint"),
                 ("user_object_reserved_page_count", "bigint"), ("internal_object_reserved_page_count", "bigint"),
                 ("mixed_extent_page_count", "bigint")]
SESSION_COLUMNS = [("session_id", "smallint"), ("login_name", "nvarchar(128)"), ("host_name", "nvarchar(128)"),
                   ("program_name", "nvarchar(128)"), ("status", "nvarchar(30)"),
                   ("user_objects_alloc_page_count", "bigint"), ("user_objects_dealloc_page_count", "bigint"),
                   ("user_objects_deferred_dealloc_page_count", "bigint"),
                   ("internal_objects_alloc_page_count", "bigint"), ("internal_objects_dealloc_page_count", "bigint"),
                   ("task_user_objects_alloc_page_count", "bigint"),
                   ("task_user_objects_dealloc_page_count", "bigint"),
                   ("task_internal_objects_alloc_page_count", "bigint"),
                   ("task_internal_objects_dealloc_page_count", "bigint"), ("net_page_count", "bigint")]
_USAGE = [n for n, _ in SESSION_COLUMNS[5:14]]


def _space(ctx: Ctx) -> list[tuple]:
    user = internal = 0
    for r in activity.tempdb_usage(ctx.server, ctx.t):
        u, i = activity.net_pages(r)
        user += max(0, u)
        internal += max(0, i)
    files = ctx.server.counters.tempdb_space_usage(user, internal)
    names = [n for n, _ in SPACE_COLUMNS[1:]]
    return [(len(files),) + tuple(sum(f[n] for f in files) for n in names)]


def _sessions(ctx: Ctx) -> list[tuple]:
    sessions = activity.sessions(ctx.server)
    lo = ctx.p("min_pages")
    cand = []
    for r in activity.tempdb_usage(ctx.server, ctx.t):
        s = sessions.get(r["session_id"])
        if s is None or not s["is_user_process"] or r["session_id"] == ctx.session.spid:
            continue
        net = sum(activity.net_pages(r))
        if net >= lo:
            cand.append((net, r, s))
    cand.sort(key=lambda x: (-x[0], x[1]["session_id"]))
    return [(r["session_id"], s["login_name"], s["host_name"], s["program_name"], s["status"])
            + tuple(r[n] for n in _USAGE) + (net,) for net, r, s in cand[:max(0, ctx.p("top_rows"))]]


_BY_TAG = {"tempdb_space": (SPACE_COLUMNS, _space), "tempdb_sessions": (SESSION_COLUMNS, _sessions)}


def answer(server, session: Session, sql: str, tag: str, params: Optional[dict] = None) -> Optional[list[Result]]:
    if tag not in _BY_TAG:
        return None
    columns, fn = _BY_TAG[tag]
    return respond(server, session, sql, tag, columns, fn, params)
