"""Query memory: memory_grants and resource_semaphores.

  memory_grants        (sql/collectors/memory_grants.sql) sys.dm_exec_query_memory_grants (session_id <>
                       @@SPID), TOP (@top_rows) with the waiting grants (grant_time NULL) first, then by
                       requested_memory_kb descending; the session's login, host and program, and the batch
                       text (sys.dm_exec_sql_text of the grant's sql_handle).
  resource_semaphores  (sql/collectors/resource_semaphores.sql) sys.dm_exec_query_resource_semaphores: two
                       semaphores (0 regular, 1 small-query) of the internal (1) and default (2) pools.
Rows: sim/model/activity.py (memory_grants, resource_semaphores), from the workload's requests that hold or
wait for a grant: the pool's grant_fraction requests, parallel ones, the scripted grant pressure (the
queries that do not fit wait on RESOURCE_SEMAPHORE with NULL granted_memory_kb) and the runaway query.
"""
from __future__ import annotations

from typing import Optional

from sim.answers._collector import Ctx, respond
from sim.model import activity
from sim.results import Result, Session

TAGS = ("memory_grants", "resource_semaphores")

GRANT_COLUMNS = [("session_id", "smallint"), ("request_id", "int"), ("scheduler_id", "int"), ("dop", "smallint"),
                 ("request_time", "datetime"), ("grant_time", "datetime"), ("requested_memory_kb", "bigint"),
                 ("granted_memory_kb", "bigint"), ("required_memory_kb", "bigint"), ("used_memory_kb", "bigint"),
                 ("max_used_memory_kb", "bigint"), ("ideal_memory_kb", "bigint"), ("query_cost", "float"),
                 ("timeout_sec", "int"), ("resource_semaphore_id", "smallint"), ("queue_id", "smallint"),
                 ("wait_order", "int"), ("is_next_candidate", "bit"), ("wait_time_ms", "bigint"), ("group_id", "int"),
                 ("pool_id", "int"), ("is_small", "tinyint"), ("reserved_worker_count", "bigint"),
                 ("used_worker_count", "bigint"), ("max_used_worker_count", "bigint"),
                 ("reserved_node_bitmap", "bigint"), ("plan_handle", "varbinary(64)"), ("sql_handle", "varbinary(64)"),
                 ("login_name", "nvarchar(128)"), ("host_name", "nvarchar(128)"), ("program_name", "nvarchar(128)"),
                 ("batch_text", "nvarchar(max)")]
SEMAPHORE_COLUMNS = [("pool_id", "int"), ("resource_semaphore_id", "smallint"), ("target_memory_kb", "bigint"),
                     ("max_target_memory_kb", "bigint"), ("total_memory_kb", "bigint"),
                     ("available_memory_kb", "bigint"), ("granted_memory_kb", "bigint"), ("used_memory_kb", "bigint"),
                     ("grantee_count", "int"), ("waiter_count", "int"), ("timeout_error_count", "bigint"),
                     ("forced_grant_count", "bigint")]
_GRANT_FIELDS = [n for n, _ in GRANT_COLUMNS[:28]]


def _grants(ctx: Ctx) -> list[tuple]:
    sessions = activity.sessions(ctx.server)
    grants = [g for g in activity.memory_grants(ctx.server, ctx.t) if g["session_id"] != ctx.session.spid]
    grants.sort(key=lambda g: (0 if g["grant_time"] is None else 1, -g["requested_memory_kb"], g["session_id"]))
    out = []
    for g in grants[:max(0, ctx.p("top_rows"))]:
        g = dict(g, request_time=ctx.local_offset(g["request_time"]), grant_time=ctx.local_offset(g["grant_time"]))
        s = sessions.get(g["session_id"]) or {}
        out.append(tuple(g[n] for n in _GRANT_FIELDS)
                   + (s.get("login_name"), s.get("host_name"), s.get("program_name"), g["text"]))
    return out


def _semaphores(ctx: Ctx) -> list[tuple]:
    names = [n for n, _ in SEMAPHORE_COLUMNS]
    return [tuple(r[n] for n in names) for r in activity.resource_semaphores(ctx.server, ctx.t)]


_BY_TAG = {"memory_grants": (GRANT_COLUMNS, _grants), "resource_semaphores": (SEMAPHORE_COLUMNS, _semaphores)}


def answer(server, session: Session, sql: str, tag: str, params: Optional[dict] = None) -> Optional[list[Result]]:
    if tag not in _BY_TAG:
        return None
    columns, fn = _BY_TAG[tag]
    return respond(server, session, sql, tag, columns, fn, params)
