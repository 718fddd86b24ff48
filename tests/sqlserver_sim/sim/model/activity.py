"""Point-in-time views of the workload: what SQLOS and the execution DMVs show of the sessions and requests.

The workload model (sim/model/workload.py) keeps sessions and requests; the views below are derived from
them when they are read, at the query's time t (an offset), and never change the model or draw from its
random streams (the per-request variation comes from the request's `noise` and fixed mixing), so that the
same time gives the same rows however often it is read.

  sessions(server)                 sys.dm_exec_sessions (user sessions of the workload; the agent's own
                                   connections are not modelled)
  tasks(server, t)                 sys.dm_os_tasks: one task per request (exec_context_id 0) plus, for a
                                   parallel request that has its grant and is not blocked, its workers
  waiting_tasks(server, t)         sys.dm_os_waiting_tasks: the SUSPENDED tasks with their wait, resource
                                   and blocker (a lock waiter's blocker is the blocking session's first
                                   task, or no task for a sleeping head blocker)
  input_buffer(server, spid)       sys.dm_exec_input_buffer
  memory_grants(server, t)         sys.dm_exec_query_memory_grants: the requests that hold or wait for a grant
  resource_semaphores(server, t)   sys.dm_exec_query_resource_semaphores: two per pool (internal, default)
  tempdb_usage(server, t)          tempdb.sys.dm_db_session_space_usage and dm_db_task_space_usage per session

Approximations: a parallel request's worker states and short waits are drawn per half second from its noise
(as the request's own status is); tempdb use is a function of the session's kind and age and of what its
running request does (temp tables for the ETL batches and some application sessions, sort / hash work
tables for queries with big grants and for parallel ones); the resource semaphores' timeout and forced
grant counters stay 0 (no grant ever times out in the model).
"""
from __future__ import annotations

from typing import Optional

from sim.model.workload import SimRequest, SimSession, grant_usage

INT_MAX = 2 ** 31 - 1


def mix(*xs: int) -> int:
    """A fixed 32-bit mixing of integers."""
    h = 0x811C9DC5
    for x in xs:
        h = ((h ^ (x & 0xFFFFFFFF)) * 0x01000193) & 0xFFFFFFFF
        h ^= h >> 13
        h = (h * 0x5BD1E995) & 0xFFFFFFFF
        h ^= h >> 15
    return h


def address(kind: int, spid: int, ecid: int = 0) -> bytes:
    """An 8-byte memory address (tasks, workers, locks, pipes) that is stable for (kind, spid, ecid)."""
    return (0x000001F400000000 + kind * 0x10000000 + spid * 0x10000 + ecid * 0x100).to_bytes(8, "big")


TASK, LOCK, PIPE, BUFFER = 1, 2, 3, 4


# ---------------------------------------------------------------------------------------------- sessions

def sessions(server) -> dict[int, dict]:
    """sys.dm_exec_sessions of the workload's user sessions: spid -> row."""
    out = {}
    for spid, s in server.workload.sessions.items():
        req = s.request
        out[spid] = {"session_id": spid, "login_name": s.login, "host_name": s.host, "program_name": s.program,
                     "status": "running" if req is not None else "sleeping", "database_id": s.database_id,
                     "open_transaction_count": max(s.open_tran, req.open_tran if req is not None else 0),
                     "is_user_process": 1 if s.is_user else 0, "login_time": s.login_time}
    return out


def _live(server, t: float) -> list[SimRequest]:
    """The requests running at t (not before their start), in session order."""
    return [r for spid, r in sorted(server.workload.active.items()) if r.start <= t]


# ---------------------------------------------------------------------------------------------- tasks

def _cpus(server) -> int:
    return max(1, int(server.counters.cpus))


def scheduler_of(server, req: SimRequest, ecid: int) -> int:
    """The scheduler a task of the request runs on: workers spread over dop schedulers from the coordinator's."""
    cpus = _cpus(server)
    base = mix(req.session.spid, req.request_id, 17) % cpus
    if ecid == 0:
        return base
    return (base + 1 + (ecid - 1) % max(1, req.dop)) % cpus


_WORKER_STATES = (("RUNNING", None), ("RUNNING", None), ("RUNNING", None), ("RUNNING", None), ("RUNNABLE", None),
                  ("SUSPENDED", "CXPACKET"), ("SUSPENDED", "CXPACKET"), ("SUSPENDED", "PAGEIOLATCH_SH"))


def _workers_running(req: SimRequest) -> bool:
    """Parallel workers exist once the request has its grant and while it is not blocked on a lock."""
    if req.dop <= 1:
        return False
    if req.grant is not None and req.grant.granted_kb is None:
        return False
    return not (req.stall_since is not None and req.stall_wait.startswith("LCK_M_"))


def tasks(server, t: float) -> list[dict]:
    """sys.dm_os_tasks of the user requests at t: session_id, request_id, exec_context_id, task_state,
    scheduler_id, task_address, and the wait of a SUSPENDED task (wait_type, wait_ms, resource)."""
    out = []
    tick = int(t * 2)
    for req in _live(server, t):
        spid = req.session.spid
        status, wait_type, wait_ms, _last, resource = req.state(t)
        out.append({"session_id": spid, "request_id": req.request_id, "exec_context_id": 0,
                    "task_state": {"running": "RUNNING", "runnable": "RUNNABLE"}.get(status, "SUSPENDED"),
                    "scheduler_id": scheduler_of(server, req, 0), "task_address": address(TASK, spid, 0),
                    "wait_type": wait_type, "wait_ms": wait_ms, "resource": resource, "req": req})
        if not _workers_running(req):
            continue
        for ecid in range(1, max(req.workers, req.dop) + 1):
            h = mix(req.noise, ecid, tick)
            state, wt = _WORKER_STATES[h % len(_WORKER_STATES)]
            since = max(req.start, tick / 2.0)
            w_ms = int((t - since) * 1000) + (h >> 16) % 400 if wt else 0
            out.append({"session_id": spid, "request_id": req.request_id, "exec_context_id": ecid,
                        "task_state": state, "scheduler_id": scheduler_of(server, req, ecid),
                        "task_address": address(TASK, spid, ecid), "wait_type": wt, "wait_ms": max(0, w_ms),
                        "resource": (f"{req.session.database_id}:1:{(h >> 3) % 4_000_000}"
                                     if wt == "PAGEIOLATCH_SH" else ""), "req": req})
    return out


def _lock_description(resource: str, mode: str) -> tuple[str, Optional[bytes]]:
    """dm_os_waiting_tasks.resource_description of a row lock from the request's wait_resource."""
    # 'KEY: 5:72057594043760640 (8194443284a0)' or 'RID: 5:1:1234:7'
    try:
        kind, rest = resource.split(":", 1)
        if kind == "KEY":
            ids, _, _h = rest.strip().partition(" ")
            dbid, hobt = ids.split(":")
            lock = mix(int(dbid), int(hobt) & 0xFFFFFFFF)
            return (f"keylock hobtid={hobt} dbid={dbid} id=lock{0x1F400000000 + lock:x} mode={mode or 'X'} "
                    f"associatedObjectId={hobt}"), (0x1F400000000 + lock).to_bytes(8, "big")
        if kind == "RID":
            dbid, fileid, pageid, _slot = rest.strip().split(":")
            lock = mix(int(dbid), int(fileid), int(pageid))
            return (f"ridlock fileid={fileid} pageid={pageid} dbid={dbid} id=lock{0x1F400000000 + lock:x} "
                    f"mode={mode or 'X'} associatedObjectId=72057594037927936"), (0x1F400000000 + lock).to_bytes(8, "big")
    except ValueError:
        pass
    return resource, None


def waiting_tasks(server, t: float) -> list[dict]:
    """sys.dm_os_waiting_tasks of the user requests at t (the SUSPENDED tasks)."""
    all_tasks = tasks(server, t)
    first_task = {x["session_id"]: x["task_address"] for x in all_tasks if x["exec_context_id"] == 0}
    out = []
    for x in all_tasks:
        if x["task_state"] != "SUSPENDED" or not x["wait_type"]:
            continue
        req: SimRequest = x["req"]
        spid, ecid, wt = x["session_id"], x["exec_context_id"], x["wait_type"]
        row = {"session_id": spid, "exec_context_id": ecid, "waiting_task_address": x["task_address"],
               "wait_duration_ms": int(x["wait_ms"]), "wait_type": wt, "resource_address": None,
               "resource_description": None, "blocking_task_address": None, "blocking_session_id": None,
               "blocking_exec_context_id": None}
        if wt.startswith("LCK_M_"):
            desc, addr = _lock_description(x["resource"], req.lock_mode)
            row.update(resource_description=desc, resource_address=addr, blocking_session_id=req.blocker or None,
                       blocking_task_address=first_task.get(req.blocker),
                       blocking_exec_context_id=0 if req.blocker in first_task else None)
        elif wt.startswith("PAGEIOLATCH") or wt.startswith("PAGELATCH"):
            row.update(resource_description=x["resource"] or None,
                       resource_address=address(BUFFER, spid, ecid))
        elif wt in ("CXPACKET", "CXCONSUMER"):
            other = 1 if ecid == 0 else 0
            node = 1 + mix(req.noise, ecid) % 6
            row.update(resource_address=address(PIPE, spid, node),
                       resource_description=(f"exchangeEvent id=Pipe{int.from_bytes(address(PIPE, spid, node), 'big'):x} "
                                             f"WaitType=e_waitPipe{'GetRow' if ecid == 0 else 'NewRow'} "
                                             f"waiterType={'Coordinator' if ecid == 0 else 'Producer'} nodeId={node} "
                                             f"tid={ecid} ownerActivity=sentData waiterActivity=needMoreData "
                                             f"merging=false spilling=false waitingToClose=false"),
                       blocking_session_id=spid, blocking_exec_context_id=other,
                       blocking_task_address=address(TASK, spid, other))
        out.append(row)
    return out


def input_buffer(server, spid: int) -> tuple[Optional[str], Optional[str]]:
    """(event_type, event_info) of sys.dm_exec_input_buffer for a session: its current or last batch."""
    s: Optional[SimSession] = server.workload.sessions.get(spid)
    if s is None:
        return None, None
    q = s.request.q if s.request is not None else None
    if q is not None and getattr(q, "kind", "adhoc") == "proc" and q.object_name:
        return "RPC Event", f"{q.object_name};1"
    text = q.text if q is not None else s.last_text
    return "Language Event", text or ""


# ---------------------------------------------------------------------------------------------- memory grants

SMALL_KB = 5 * 1024      # grants below this (and cheap) go to the small-query semaphore


def query_cost(req: SimRequest) -> float:
    g = req.grant
    return round(g.requested_kb / 1024.0 * 0.9 + (mix(req.noise, 3) % 1000) / 100.0 + 0.5, 4) if g else 0.0


def memory_grants(server, t: float) -> list[dict]:
    """sys.dm_exec_query_memory_grants at t: every running request with a grant, granted or waiting."""
    live = [r for r in _live(server, t) if r.grant is not None and r.grant.request_time <= t]
    waiting = sorted((r for r in live if r.grant.granted_kb is None), key=lambda r: (r.grant.request_time, r.session.spid))
    order = {id(r): i for i, r in enumerate(waiting)}
    out = []
    for req in live:
        g = req.grant
        q = req.q
        cost = query_cost(req)
        small = g.requested_kb < SMALL_KB and cost < 3.0
        granted = g.granted_kb is not None
        used, max_used = grant_usage(req, t)
        workers = req.workers if req.dop > 1 else 0
        running_workers = workers if granted and _workers_running(req) else 0
        out.append({
            "session_id": req.session.spid, "request_id": req.request_id, "scheduler_id": scheduler_of(server, req, 0),
            "dop": req.dop, "request_time": g.request_time, "grant_time": g.grant_time if granted else None,
            "requested_memory_kb": g.requested_kb, "granted_memory_kb": g.granted_kb,
            "required_memory_kb": max(512, g.requested_kb // 40), "used_memory_kb": used,
            "max_used_memory_kb": max_used,
            "ideal_memory_kb": g.requested_kb + g.requested_kb * (mix(req.noise, 5) % 60) // 100,
            "query_cost": cost, "timeout_sec": min(86400, max(25, int(cost * 25))),
            "resource_semaphore_id": 1 if small else 0,
            "queue_id": None if granted else 5 + min(4, int(cost // 1000)),
            "wait_order": None if granted else order[id(req)],
            "is_next_candidate": None if granted else (1 if order[id(req)] == 0 else 0),
            "wait_time_ms": None if granted else int((t - g.request_time) * 1000),
            "group_id": 2, "pool_id": 2, "is_small": 1 if small else 0,
            "reserved_worker_count": workers, "used_worker_count": running_workers,
            "max_used_worker_count": running_workers, "reserved_node_bitmap": 1 if workers else 0,
            "plan_handle": q.plan_handle, "sql_handle": q.sql_handle, "text": q.text})
    return out


def resource_semaphores(server, t: float) -> list[dict]:
    """sys.dm_exec_query_resource_semaphores: semaphores 0 (regular) and 1 (small queries) of the internal
    pool (1) and the default pool (2); the workload's grants are all in the default pool."""
    workspace_kb = server.scenario.server.workspace_memory_mb * 1024
    grants = memory_grants(server, t)
    out = []
    for pool in (1, 2):
        for sem in (0, 1):
            share = (0.95 if sem == 0 else 0.05) * (0.02 if pool == 1 else 1.0)
            target = int(workspace_kb * share)
            mine = [g for g in grants if pool == 2 and g["resource_semaphore_id"] == sem]
            granted = sum(g["granted_memory_kb"] or 0 for g in mine)
            used = sum(g["used_memory_kb"] or 0 for g in mine)
            total = max(target, granted)
            out.append({"pool_id": pool, "resource_semaphore_id": sem, "target_memory_kb": target,
                        "max_target_memory_kb": int(workspace_kb * (0.02 if pool == 1 else 1.0)) if sem == 0 else target,
                        "total_memory_kb": total, "available_memory_kb": max(0, total - granted),
                        "granted_memory_kb": granted, "used_memory_kb": used,
                        "grantee_count": sum(1 for g in mine if g["granted_memory_kb"] is not None),
                        "waiter_count": sum(1 for g in mine if g["granted_memory_kb"] is None),
                        "timeout_error_count": 0, "forced_grant_count": 0})
    return out


# ---------------------------------------------------------------------------------------------- tempdb

def tempdb_usage(server, t: float) -> list[dict]:
    """Per user session: the session view (tasks that ended) and the running tasks' share, in 8 KB pages.

    Session view: work tables of ended requests are allocated and freed (alloc = dealloc, growing with the
    session's age); temp tables created and dropped likewise, except that the ETL batch sessions and one
    application session in 25 keep temp tables (user objects held: net pages > 0). Task view: the running
    request's sort / hash work tables (internal objects) grow with its active time when it has a memory
    grant or runs in parallel; an ETL batch also fills its temp tables (user objects)."""
    wl = server.workload
    out = []
    for spid, s in wl.sessions.items():
        if not s.is_user:
            continue
        age = max(0.0, t - s.login_time)
        if age <= 0 and s.request is None:
            continue
        h = mix(spid, 11)
        execs = int(age / 30.0) + 1
        int_alloc = execs * (8 + h % 64) // 8 * 8
        usr_alloc = execs * ((h >> 8) % 40) // 8 * 8
        held = 0
        if s.kind == "batch":
            held = min(40000, 2000 + int(age * 2)) // 8 * 8
        elif h % 25 == 0:
            held = (200 + (h >> 4) % 1800) // 8 * 8
        row = {"session_id": spid, "user_objects_alloc_page_count": usr_alloc + held,
               "user_objects_dealloc_page_count": usr_alloc, "user_objects_deferred_dealloc_page_count": 0,
               "internal_objects_alloc_page_count": int_alloc, "internal_objects_dealloc_page_count": int_alloc,
               "task_user_objects_alloc_page_count": 0, "task_user_objects_dealloc_page_count": 0,
               "task_internal_objects_alloc_page_count": 0, "task_internal_objects_dealloc_page_count": 0}
        req = s.request
        if req is not None and req.start <= t:
            a = req.active_seconds(t)
            rate = 0.0
            if req.grant is not None and req.grant.granted_kb is not None:
                rate = min(200.0, req.grant.granted_kb / 65536.0 + (20.0 if req.grant.used_fraction > 0.9 else 2.0))
            if req.dop > 1:
                rate += 10.0 * req.dop
            ti = int(a * rate) // 8 * 8
            row["task_internal_objects_alloc_page_count"] = ti
            row["task_internal_objects_dealloc_page_count"] = ti * 3 // 10 // 8 * 8
            if s.kind == "batch":
                tu = int(min(a, 3600.0) * 30) // 8 * 8
                row["task_user_objects_alloc_page_count"] = tu
                row["task_user_objects_dealloc_page_count"] = tu // 2 // 8 * 8
        out.append(row)
    return out


def net_pages(row: dict) -> tuple[int, int]:
    """(user, internal) pages a tempdb_usage row holds."""
    user = (row["user_objects_alloc_page_count"] - row["user_objects_dealloc_page_count"]
            + row["task_user_objects_alloc_page_count"] - row["task_user_objects_dealloc_page_count"])
    internal = (row["internal_objects_alloc_page_count"] - row["internal_objects_dealloc_page_count"]
                + row["task_internal_objects_alloc_page_count"] - row["task_internal_objects_dealloc_page_count"])
    return user, internal

