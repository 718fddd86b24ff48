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

TAGS = ("blocking_events", "xe_status")

COLUMNS = [("object_name", "nvarchar(256)"), ("event_data", "nvarchar(max)"), ("file_name", "nvarchar(260)"),
           ("file_offset", "bigint")]

_BOUND_RE = re.compile(r"@(\w+)\s+\w+(?:\s*\(\s*(?:\d+|max)\s*\))?\s*=\s*(@\w+|\?|NULL|N?'(?:[^']|'')*'|-?\d+)", re.I)
_DECLARE_RE = re.compile(r"^\s*DECLARE\s+(.+?);?\s*$", re.I | re.M)
_TAG_LINE_RE = re.compile(r"^\s*/\*\s*dmvlog:[\w.\-]+\s*\*/")


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
    if tag != "blocking_events":
        return None
    values = bound_values(sql, params or {})
    top = declared_params(sql).get("top_rows")
    for name in ("path", "initial_file_name", "initial_offset"):
        if name not in values:
            return [Error(137, f'Must declare the scalar variable "@{name}".', state=2, severity=15)]
    out: list[Result] = [clock_resultset(server)]
    path = values["path"]
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
    return out + [ResultSet([Column(n, t) for n, t in COLUMNS],
                            [tuple(r[n] for n, _ in COLUMNS) for r in rows])]
