"""The requests collectors: /* dmvlog:requests_5s */ and /* dmvlog:requests_1m */ (sql/collectors/requests.sql).

Result set 1 is the snapshot clock; result set 2 holds what
    sys.dm_exec_requests JOIN sys.dm_exec_sessions LEFT JOIN sys.dm_exec_query_memory_grants
    OUTER APPLY sys.dm_exec_sql_text
returns for user sessions other than the caller's, with @min_elapsed_ms <= total_elapsed_time <
@max_elapsed_ms, TOP (@top_rows) by total_elapsed_time descending. The parameters come from the DECLARE
line the agent puts in the batch; a missing one takes the collector's default.
"""
from __future__ import annotations

from typing import Optional

from sim.model.workload import grant_usage, request_metrics
from sim.results import Column, Error, Result, ResultSet, Session

TAGS = ("requests_5s", "requests_1m")

# name, SQL Server type: exactly collectors/requests.toml (and the types of the DMVs they come from)
COLUMNS = [
    ("session_id", "smallint"), ("request_id", "int"), ("start_time", "datetime"), ("status", "nvarchar(30)"),
    ("command", "nvarchar(32)"), ("database_id", "smallint"), ("database_name", "nvarchar(128)"),
    ("blocking_session_id", "smallint"), ("wait_type", "nvarchar(60)"), ("wait_time", "int"),
    ("last_wait_type", "nvarchar(60)"), ("wait_resource", "nvarchar(256)"), ("open_transaction_count", "int"),
    ("transaction_isolation_level", "smallint"), ("cpu_time", "int"), ("total_elapsed_time", "int"),
    ("reads", "bigint"), ("writes", "bigint"), ("logical_reads", "bigint"), ("row_count", "bigint"),
    ("granted_query_memory", "int"), ("dop", "int"), ("parallel_worker_count", "int"),
    ("query_hash", "binary(8)"), ("query_plan_hash", "binary(8)"), ("plan_handle", "varbinary(64)"),
    ("sql_handle", "varbinary(64)"), ("statement_start_offset", "int"), ("statement_end_offset", "int"),
    ("host_name", "nvarchar(128)"), ("program_name", "nvarchar(128)"), ("login_name", "nvarchar(128)"),
    ("session_status", "nvarchar(30)"), ("requested_memory_kb", "bigint"), ("granted_memory_kb", "bigint"),
    ("used_memory_kb", "bigint"), ("max_used_memory_kb", "bigint"), ("grant_wait_time_ms", "bigint"),
    ("batch_text", "nvarchar(max)"),
]
DEFAULTS = {"requests_5s": {"min_elapsed_ms": 1000, "max_elapsed_ms": 30000, "top_rows": 500},
            "requests_1m": {"min_elapsed_ms": 1000, "max_elapsed_ms": 36000000, "top_rows": 5000}}
_INT_MAX = 2 ** 31 - 1


def _ms_datetime(d):
    return d.replace(microsecond=d.microsecond // 1000 * 1000)


def rows(server, session: Session, min_ms: int, max_ms: int, top: int) -> list[tuple]:
    """The rows of result set 2 at the server's current query time."""
    t = server.now_offset
    wl = server.workload
    cand = []
    for spid, req in wl.active.items():
        if spid == session.spid or not req.session.is_user or req.start > t:
            continue
        elapsed = int((t - req.start) * 1000)
        if min_ms <= elapsed < max_ms:
            cand.append((elapsed, spid, req))
    cand.sort(key=lambda x: (-x[0], x[1]))
    out = []
    for elapsed, spid, req in cand[:max(0, top)]:
        s = req.session
        q = req.current(t)
        status, wait_type, wait_ms, last_wait, resource = req.state(t)
        m = request_metrics(req, t)
        g = req.grant
        used, max_used = grant_usage(req, t)
        granted = g.granted_kb if g else None
        grant_wait = None
        if g is not None and granted is None:
            grant_wait = int((t - g.request_time) * 1000)
        blocker = req.blocker if wait_type and wait_type.startswith("LCK_M_") else 0
        out.append((
            spid, req.request_id, _ms_datetime(server.local(req.start)), status, req.command, req.session.database_id,
            server.db_name(req.session.database_id), blocker, wait_type, min(wait_ms, _INT_MAX), last_wait or "",
            resource or "", max(req.open_tran, s.open_tran), s.isolation,
            min(m["cpu_ms"], _INT_MAX), min(elapsed, _INT_MAX), m["reads"], m["writes"], m["logical_reads"],
            m["rows"], (granted or 0) // 8, req.dop, req.workers if req.dop > 1 else 0,
            q.query_hash, q.query_plan_hash, q.plan_handle, q.sql_handle, q.statement_start_offset,
            q.statement_end_offset, s.host, s.program, s.login, "running",
            g.requested_kb if g else None, granted, used, max_used, grant_wait, q.text))
    return out


def answer(server, session: Session, sql: str, tag: str, params: Optional[dict] = None) -> list[Result]:
    from sim.answers import clock_resultset, declared_params
    if server.major < 13:
        # dop and parallel_worker_count came with SQL Server 2016
        return [clock_resultset(server), Error(207, "Invalid column name 'dop'.", severity=16)]
    p = dict(DEFAULTS.get(tag, DEFAULTS["requests_1m"]))
    p.update(declared_params(sql))
    if params:
        p.update({k.lstrip("@"): v for k, v in params.items() if isinstance(v, int)})
    data = rows(server, session, int(p["min_elapsed_ms"]), int(p["max_elapsed_ms"]), int(p["top_rows"]))
    return [clock_resultset(server), ResultSet([Column(n, t) for n, t in COLUMNS], data)]
