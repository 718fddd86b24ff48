"""SQLOS views: schedulers, tasks, waiting_tasks, memory_clerks.

  schedulers     (sql/collectors/schedulers.sql) sys.dm_os_schedulers WHERE status = 'VISIBLE ONLINE': one
                 per CPU of the scenario. yield_count and context_switches_count are the counters model's
                 (cumulative, reset by a restart); the task counts are what the workload runs on each
                 scheduler now (sim/model/activity.py: tasks) plus a few system tasks: runnable_tasks_count
                 = RUNNABLE user tasks, pending_disk_io_count = tasks waiting on PAGEIOLATCH_*.
  tasks          (sql/collectors/tasks.sql) sys.dm_os_tasks grouped by session (one task per request, a
                 parallel request's workers on top), joined to sys.dm_exec_sessions; TOP (@top_rows) by
                 task_count descending.
  waiting_tasks  (sql/collectors/waiting_tasks.sql) sys.dm_os_waiting_tasks of user sessions waiting at least
                 @min_wait_ms, TOP (@top_rows) by wait_duration_ms descending, with the session columns and
                 sys.dm_exec_input_buffer (event_type, event_info).
  memory_clerks  (sql/collectors/memory_clerks.sql) sys.dm_os_memory_clerks summed per type (one clerk per
                 type in the model), types holding at least @min_kb.
The caller's own session is never among the rows (the model has no row for it: session_id <> @@SPID).
"""
from __future__ import annotations

from typing import Optional

from sim.answers._collector import Ctx, respond
from sim.model import activity
from sim.results import Result, Session

TAGS = ("schedulers", "tasks", "waiting_tasks", "memory_clerks")

SCHEDULER_COLUMNS = [("scheduler_id", "int"), ("cpu_id", "smallint"), ("parent_node_id", "int"),
                     ("status", "nvarchar(60)"), ("is_idle", "bit"), ("current_tasks_count", "int"),
                     ("runnable_tasks_count", "int"), ("current_workers_count", "int"),
                     ("active_workers_count", "int"), ("work_queue_count", "bigint"),
                     ("pending_disk_io_count", "int"), ("load_factor", "int"), ("yield_count", "int"),
                     ("context_switches_count", "int")]
TASK_COLUMNS = [("session_id", "smallint"), ("task_count", "int"), ("running_count", "int"),
                ("runnable_count", "int"), ("suspended_count", "int"), ("pending_count", "int"),
                ("scheduler_count", "int"), ("login_name", "nvarchar(128)"), ("host_name", "nvarchar(128)"),
                ("program_name", "nvarchar(128)"), ("status", "nvarchar(30)"), ("database_id", "smallint")]
WAITING_COLUMNS = [("session_id", "smallint"), ("exec_context_id", "int"), ("waiting_task_address", "varbinary(8)"),
                   ("wait_duration_ms", "bigint"), ("wait_type", "nvarchar(60)"), ("resource_address", "varbinary(8)"),
                   ("resource_description", "nvarchar(3072)"), ("blocking_task_address", "varbinary(8)"),
                   ("blocking_session_id", "smallint"), ("blocking_exec_context_id", "int"), ("status", "nvarchar(30)"),
                   ("database_id", "smallint"), ("open_transaction_count", "int"), ("login_name", "nvarchar(128)"),
                   ("host_name", "nvarchar(128)"), ("program_name", "nvarchar(128)"), ("event_type", "nvarchar(256)"),
                   ("event_info", "nvarchar(max)")]
CLERK_COLUMNS = [("type", "nvarchar(60)"), ("clerk_count", "int"), ("pages_kb", "bigint"),
                 ("virtual_memory_committed_kb", "bigint"), ("awe_allocated_kb", "bigint")]
_INT = 2 ** 31


def _wrap_int(v: int) -> int:
    """An int counter as SQL Server keeps it: it wraps around at 2^31."""
    return (v + _INT) % (2 * _INT) - _INT


def _schedulers(ctx: Ctx) -> list[tuple]:
    srv = ctx.server
    per: dict[int, list[int]] = {}
    for x in activity.tasks(srv, ctx.t):
        a = per.setdefault(x["scheduler_id"], [0, 0, 0])
        a[0] += 1
        a[1] += x["task_state"] == "RUNNABLE"
        a[2] += bool(x["wait_type"] and x["wait_type"].startswith("PAGEIOLATCH"))
    out = []
    tick = int(ctx.t)
    for s in srv.counters.schedulers():
        if s["status"] != "VISIBLE ONLINE":
            continue
        sid = s["scheduler_id"]
        user, runnable, io = per.get(sid, (0, 0, 0))
        system = 2 + activity.mix(sid, tick) % 3
        cur = system + user
        idle_workers = 2 + activity.mix(sid, 99) % 6
        out.append((sid, s["cpu_id"], s["parent_node_id"], s["status"], 1 if user == 0 else 0, cur, runnable,
                    cur + idle_workers, cur, 0, io, cur, _wrap_int(s["yield_count"]),
                    _wrap_int(s["context_switches_count"])))
    return out


def _tasks(ctx: Ctx) -> list[tuple]:
    sessions = activity.sessions(ctx.server)
    agg: dict[int, list] = {}
    for x in activity.tasks(ctx.server, ctx.t):
        spid = x["session_id"]
        if spid == ctx.session.spid:
            continue
        a = agg.setdefault(spid, [0, 0, 0, 0, 0, set()])
        a[0] += 1
        st = x["task_state"]
        a[1] += st == "RUNNING"
        a[2] += st == "RUNNABLE"
        a[3] += st == "SUSPENDED"
        a[4] += st == "PENDING"
        a[5].add(x["scheduler_id"])
    rows = []
    for spid, a in agg.items():
        s = sessions.get(spid)
        if s is None or not s["is_user_process"]:
            continue
        rows.append((spid, a[0], a[1], a[2], a[3], a[4], len(a[5]), s["login_name"], s["host_name"],
                     s["program_name"], s["status"], s["database_id"]))
    rows.sort(key=lambda r: (-r[1], r[0]))
    return rows[:max(0, ctx.p("top_rows"))]


def _waiting_tasks(ctx: Ctx) -> list[tuple]:
    sessions = activity.sessions(ctx.server)
    lo = ctx.p("min_wait_ms")
    cand = []
    for w in activity.waiting_tasks(ctx.server, ctx.t):
        s = sessions.get(w["session_id"])
        if s is None or not s["is_user_process"] or w["session_id"] == ctx.session.spid or w["wait_duration_ms"] < lo:
            continue
        cand.append((w, s))
    cand.sort(key=lambda x: (-x[0]["wait_duration_ms"], x[0]["session_id"], x[0]["exec_context_id"]))
    out = []
    for w, s in cand[:max(0, ctx.p("top_rows"))]:
        event_type, event_info = activity.input_buffer(ctx.server, w["session_id"])
        out.append((w["session_id"], w["exec_context_id"], w["waiting_task_address"], w["wait_duration_ms"],
                    w["wait_type"], w["resource_address"], w["resource_description"], w["blocking_task_address"],
                    w["blocking_session_id"], w["blocking_exec_context_id"], s["status"], s["database_id"],
                    s["open_transaction_count"], s["login_name"], s["host_name"], s["program_name"], event_type,
                    event_info))
    return out


def _memory_clerks(ctx: Ctx) -> list[tuple]:
    agg: dict[str, list[int]] = {}
    for c in ctx.server.counters.memory_clerks():
        a = agg.setdefault(c["type"], [0, 0, 0, 0])
        a[0] += 1
        a[1] += c["pages_kb"]
        a[2] += c["virtual_memory_committed_kb"]
        a[3] += c["awe_allocated_kb"]
    lo = ctx.p("min_kb")
    return [(t, a[0], a[1], a[2], a[3]) for t, a in agg.items() if a[1] + a[2] + a[3] >= lo]


_BY_TAG = {"schedulers": (SCHEDULER_COLUMNS, _schedulers), "tasks": (TASK_COLUMNS, _tasks),
           "waiting_tasks": (WAITING_COLUMNS, _waiting_tasks), "memory_clerks": (CLERK_COLUMNS, _memory_clerks)}


def answer(server, session: Session, sql: str, tag: str, params: Optional[dict] = None) -> Optional[list[Result]]:
    if tag not in _BY_TAG:
        return None
    columns, fn = _BY_TAG[tag]
    return respond(server, session, sql, tag, columns, fn, params)
