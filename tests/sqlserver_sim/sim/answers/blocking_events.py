"""The blocking_events collector (collectors/blocking_events.toml) and `dmvlog check`'s XE status query.

blocking_events: the agent binds the session's file path and its bookmark through ODBC, so the batch is an RPC
(sp_executesql) whose text reads

    /* dmvlog:blocking_events */
    DECLARE @top_rows int = 5000;
    DECLARE @path nvarchar(260) = @P1, @initial_file_name nvarchar(260) = @P2, @initial_offset bigint = @P3;
    SELECT SYSUTCDATETIME() AS collected_at, ...;          (the clock)
    SELECT TOP (@top_rows) f.object_name, CAST(f.event_data AS nvarchar(max)) AS event_data, f.file_name,
        f.file_offset FROM sys.fn_xe_file_target_read_file(@path, NULL, @initial_file_name, @initial_offset) AS f ...

(FreeTDS replaces each `?` by @P1, @P2, ...; the values come in params as {'@P1': ..}). The answer is the clock,
then the rows of XeStore.read_file (sim/model/xe.py) for those arguments, capped at @top_rows, or the error
read_file raises (25718 when the bookmark's file rolled away, 25722 for an offset that is not a buffer, 25719
when only one of the pair is NULL) after the clock, as SQL Server does.

The fallbacks, read while dmvlog's session is absent:

blocking_events_ring_buffer (sql/collectors/blocking_events_ring_buffer.sql): the bound @session_name; the
answer is the clock, then one row with the target_data of that session's ring_buffer target
(XeStore.ring_buffer_xml: <RingBufferTarget> holding the newest events) when the session runs and has one,
no row otherwise.

deadlocks_system_health (sql/collectors/deadlocks_system_health.sql): fn_xe_file_target_read_file over the
path literal of the query (N'system_health*.xel') from the bound bookmark, capped at @top_rows, with
event_data only for xml_deadlock_report (the query's CASE) and NULL for the other events.

xe_status (sql/agent/xe_status.sql): its statements are the plain SELECTs over sys.configurations,
sys.server_event_sessions and sys.dm_xe_sessions that sim/answers/xe.py answers; this module strips the tag
and hands the batch over.
"""
from __future__ import annotations

import re
from typing import Any, Optional

from sim.answers import clock_resultset, declared_params
from sim.model.xe import XeError
from sim.results import Column, Error, Result, ResultSet, Session

TAGS = ("blocking_events", "blocking_events_ring_buffer", "deadlocks_system_health", "xe_status")

COLUMNS = [("object_name", "nvarchar(256)"), ("event_data", "nvarchar(max)"), ("file_name", "nvarchar(260)"),
           ("file_offset", "bigint")]

_BOUND_RE = re.compile(r"@(\w+)\s+\w+(?:\s*\(\s*(?:\d+|max)\s*\))?\s*=\s*(@\w+|\?|NULL|N?'(?:[^']|'')*'|-?\d+)", re.I)
_DECLARE_RE = re.compile(r"^\s*DECLARE\s+(.+?);?\s*$", re.I | re.M)
_TAG_LINE_RE = re.compile(r"^\s*/\*\s*dmvlog:[\w.\-]+\s*\*/")
_READ_FILE_PATH_RE = re.compile(r"fn_xe_file_target_read_file\s*\(\s*N?'((?:[^']|'')*)'", re.I)
_DATA_FILTER_RE = re.compile(r"CASE\s+WHEN\s+f\.object_name\s*=\s*N?'(\w+)'\s+THEN", re.I)


def bound_values(sql: str, params: dict[str, Any]) -> dict[str, Any]:
    """name (without '@', lower case) -> value of every DECLARE'd variable, resolving @Pn / ? from params."""
    by_lower = {k.lower(): v for k, v in (params or {}).items()}
    out: dict[str, Any] = {}
    position = 0
    for m in _DECLARE_RE.finditer(sql):
        for name, value in _BOUND_RE.findall(m.group(1)):
            v: Any
            if value == "?":
                position += 1
                v = by_lower.get(f"@p{position}")
            elif value.startswith("@"):
                v = by_lower.get(value.lower())
            elif value.upper() == "NULL":
                v = None
            elif value.lstrip("-").isdigit():
                v = int(value)
            else:
                v = re.sub(r"^N?'|'$", "", value).replace("''", "'")
            out[name.lower()] = v
    return out


def answer(server, session: Session, sql: str, tag: Optional[str], params: Optional[dict] = None) -> Optional[list[Result]]:
    if tag == "xe_status":
        from sim.answers import xe
        return xe.answer(server, session, _TAG_LINE_RE.sub("", sql, count=1), None, params=params)
    if tag not in TAGS:
        return None
    values = bound_values(sql, params or {})
    top = declared_params(sql).get("top_rows")
    if tag == "blocking_events_ring_buffer":
        return _ring_buffer(server, values)
    literal = _READ_FILE_PATH_RE.search(sql)
    needed = ("initial_file_name", "initial_offset") if literal else ("path", "initial_file_name", "initial_offset")
    for name in needed:
        if name not in values:
            return [Error(137, f'Must declare the scalar variable "@{name}".', state=2, severity=15)]
    out: list[Result] = [clock_resultset(server)]
    path = literal.group(1).replace("''", "'") if literal else values["path"]
    if path is None:
        return out + [ResultSet([Column(n, t) for n, t in COLUMNS], [])]
    offset = values["initial_offset"]
    try:
        rows = server.xe.read_file(str(path), values["initial_file_name"],
                                   None if offset is None else int(offset), server.now())
    except XeError as e:
        return out + [Error(e.number, e.message, state=e.state, severity=e.severity)]
    if top is not None:
        rows = rows[:top]
    only = _DATA_FILTER_RE.search(sql)
    if only:
        rows = [dict(r, event_data=None) if r["object_name"] != only.group(1) else r for r in rows]
    return out + [ResultSet([Column(n, t) for n, t in COLUMNS],
                            [tuple(r[n] for n, _ in COLUMNS) for r in rows])]


def _ring_buffer(server, values: dict) -> list[Result]:
    if "session_name" not in values:
        return [Error(137, 'Must declare the scalar variable "@session_name".', state=2, severity=15)]
    name = values["session_name"]
    rows = []
    if name is not None:
        s = next((x for n, x in server.xe.sessions.items() if n.lower() == str(name).lower()), None)
        if s is not None and s.running and "ring_buffer" in s.targets:
            rows.append((server.xe.ring_buffer_xml(s.name),))
    return [clock_resultset(server), ResultSet([Column("target_data", "nvarchar(max)")], rows)]
