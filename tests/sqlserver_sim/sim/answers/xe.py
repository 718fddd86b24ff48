"""Answers for Extended Events administration and reading, and the 'blocked process threshold (s)' setting.

answer(server, session, sql, tag, params=None) handles an untagged batch made only of these statements
(None for anything else, so the engine can answer as SQL Server would):
  CREATE EVENT SESSION name ON SERVER ADD EVENT pkg.event[(...)] [, ...]
      ADD TARGET package0.event_file(SET filename = N'...', max_file_size = (N), max_rollover_files = (N))
      ADD TARGET package0.ring_buffer(SET max_events_limit = N, max_memory = N)
      [WITH (MAX_MEMORY = N KB|MB, MAX_DISPATCH_LATENCY = N SECONDS, STARTUP_STATE = ON|OFF, ...)]
  ALTER EVENT SESSION name ON SERVER STATE = START | STOP
  DROP EVENT SESSION name ON SERVER
  IF [NOT] EXISTS (SELECT ... FROM sys.server_event_sessions | sys.dm_xe_sessions WHERE name = N'...') <one of these>
  EXEC [sys.]sp_configure ['option' [, value]]   (unique prefixes, named @configname/@configvalue too)
  RECONFIGURE [WITH OVERRIDE]                    (installs config values; the threshold reaches server.xe)
  DECLARE @v type = literal [, ...]              (values usable below, like sp_executesql params)
  SET NOCOUNT ON | OFF
  SELECT <list> FROM sys.configurations | sys.server_event_sessions | sys.dm_xe_sessions [JOIN
      sys.dm_xe_session_targets ON ...] | sys.fn_xe_file_target_read_file(path, mdpath, file, offset)
      [WHERE a = b [AND ...]] [ORDER BY col [ASC|DESC]]
  where <list> items are *, [alias.]column, CAST(column AS type), CONVERT(type, column) with optional
  aliases, arguments are literals, NULL or @parameters, and WHERE compares columns with literals or
  parameters (=, <>, <, <=, >, >=, LIKE).
Errors come back as SQL Server raises them (25631, 25704, 25705, 15151, 15123, 15129, 25718, 25719, 25722).

The sql_variant columns of sys.configurations are typed int here (the result contract has no sql_variant).

Tagged dmvlog queries for XE do not exist yet; read_file_result() is the projection a tagged
'/* dmvlog:blocking_events */' answer can return.
"""
from __future__ import annotations

import re
from typing import Any, Optional

from ..results import Column, Error, Info, Result, ResultSet, RowCount
from ..model.xe import READ_FILE_COLUMNS, XeError

# sp_configure options this module knows: name -> (configuration_id, minimum, maximum, advanced, description)
OPTIONS = {
    "show advanced options": (518, 0, 1, False, "show advanced options"),
    "blocked process threshold (s)": (1569, 0, 86400, True, "Blocked process reporting threshold"),
}

DM_XE_SESSIONS = [("address", "varbinary(8)"), ("name", "nvarchar(256)"), ("pending_buffers", "int"),
                  ("total_regular_buffers", "int"), ("regular_buffer_size", "bigint"), ("total_large_buffers", "int"),
                  ("large_buffer_size", "bigint"), ("total_buffer_size", "bigint"), ("buffer_policy_flags", "int"),
                  ("buffer_policy_desc", "nvarchar(256)"), ("flags", "int"), ("flag_desc", "nvarchar(256)"),
                  ("dropped_event_count", "int"), ("dropped_buffer_count", "int"), ("blocked_event_fire_time", "int"),
                  ("create_time", "datetime"), ("largest_event_dropped_size", "int"), ("session_source", "nvarchar(256)")]
DM_XE_SESSION_TARGETS = [("event_session_address", "varbinary(8)"), ("target_name", "nvarchar(60)"),
                         ("target_package_guid", "uniqueidentifier"), ("execution_count", "bigint"),
                         ("execution_duration_ms", "bigint"), ("target_data", "nvarchar(max)")]
SERVER_EVENT_SESSIONS = [("event_session_id", "int"), ("name", "nvarchar(128)"), ("event_retention_mode", "nchar(1)"),
                         ("event_retention_mode_desc", "nvarchar(60)"), ("max_dispatch_latency", "int"),
                         ("max_memory", "int"), ("max_event_size", "int"), ("memory_partition_mode", "nchar(1)"),
                         ("memory_partition_mode_desc", "nvarchar(60)"), ("track_causality", "bit"),
                         ("startup_state", "bit")]
CONFIGURATIONS = [("configuration_id", "int"), ("name", "nvarchar(35)"), ("value", "int"), ("minimum", "int"),
                  ("maximum", "int"), ("value_in_use", "int"), ("description", "nvarchar(255)"), ("is_dynamic", "bit"),
                  ("is_advanced", "bit")]
SP_CONFIGURE = [("name", "nvarchar(35)"), ("minimum", "int"), ("maximum", "int"), ("config_value", "int"),
                ("run_value", "int")]

_NAME = r"(\[[^\]]+\]|[A-Za-z_#@][\w@$#]*)"


class _Unknown(Exception):
    """Not a statement this module answers."""


def answer(server, session, sql: str, tag: Optional[str], params: Optional[dict] = None) -> Optional[list[Result]]:
    if tag is not None:
        return None
    ctx = {"vars": {k.lower() if k.startswith("@") else "@" + k.lower(): v for k, v in (params or {}).items()},
           "xe_seen": False}
    out: list[Result] = []
    try:
        for stmt in _statements(_strip_comments(sql)):
            res = _statement(server, stmt, ctx)
            out.extend(res)
            if res and isinstance(res[-1], Error):
                break
    except (_Unknown, ValueError):     # ValueError: unbalanced text the parser gave up on
        return None
    return out if ctx["xe_seen"] else None


# ---------------------------------------------------------------------------------------------------------
# lexing helpers

def _strip_comments(sql: str) -> str:
    out, i, n = [], 0, len(sql)
    while i < n:
        c = sql[i]
        if c == "'":
            j = i + 1
            while j < n:
                if sql[j] == "'" and j + 1 < n and sql[j + 1] == "'":
                    j += 2
                    continue
                if sql[j] == "'":
                    break
                j += 1
            out.append(sql[i:j + 1])
            i = j + 1
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            i = n if j < 0 else j + 2
            out.append(" ")
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _split_top(s: str, sep: str) -> list[str]:
    """Split at sep outside quotes and parentheses."""
    parts, depth, cur, i, n = [], 0, [], 0, len(s)
    while i < n:
        c = s[i]
        if c == "'":
            j = i + 1
            while j < n and not (s[j] == "'" and not (j + 1 < n and s[j + 1] == "'")):
                j += 2 if s[j] == "'" else 1
            cur.append(s[i:j + 1])
            i = j + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        if depth == 0 and s.startswith(sep, i):
            parts.append("".join(cur))
            cur = []
            i += len(sep)
            continue
        cur.append(c)
        i += 1
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def _statements(sql: str) -> list[str]:
    out = []
    for piece in _split_top(sql, ";"):
        # "EXEC sp_configure ... RECONFIGURE" without a semicolon between them
        for sub in re.split(r"(?i)\s+(?=RECONFIGURE\b)|(?<=\bRECONFIGURE)\s+(?!WITH\b)", piece):
            if sub.strip():
                out.append(sub.strip())
    return out


def _unquote_name(n: str) -> str:
    n = n.strip()
    return n[1:-1].replace("]]", "]") if n.startswith("[") else n


def _paren_after(s: str, pos: int) -> tuple[str, int]:
    """The text inside the balanced parentheses starting at or after pos, and the index after them."""
    i = s.index("(", pos)
    depth = 0
    j = i
    while j < len(s):
        c = s[j]
        if c == "'":
            j += 1
            while j < len(s) and not (s[j] == "'" and not (j + 1 < len(s) and s[j + 1] == "'")):
                j += 2 if s[j] == "'" else 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return s[i + 1:j], j + 1
        j += 1
    raise _Unknown()


def _value(tok: str, ctx: dict) -> Any:
    t = tok.strip()
    while t.startswith("(") and t.endswith(")"):
        t = t[1:-1].strip()
    if re.fullmatch(r"(?i)NULL", t):
        return None
    m = re.fullmatch(r"(?s)N?'((?:[^']|'')*)'", t)
    if m:
        return m.group(1).replace("''", "'")
    if re.fullmatch(r"[-+]?\d+", t):
        return int(t)
    if t.startswith("@"):
        key = t.lower()
        if key not in ctx["vars"]:
            raise _Unknown()
        return ctx["vars"][key]
    raise _Unknown()


# ---------------------------------------------------------------------------------------------------------
# statements

def _err(e: XeError) -> list[Result]:
    return [Error(e.number, e.message, state=e.state, severity=e.severity, abort_batch=False)]


def _statement(server, stmt: str, ctx: dict) -> list[Result]:
    s = stmt.strip()
    u = s.upper()
    xe = server.xe
    now = server.now()
    if re.match(r"(?i)SET\s+NOCOUNT\s+(ON|OFF)$", s):
        ctx["nocount"] = u.endswith("ON")
        return []
    if u.startswith("DECLARE"):
        for item in _split_top(s[7:], ","):
            m = re.match(r"(?is)(@\w+)\s+[\w]+(\s*\([^)]*\))?\s*=\s*(.+)$", item)
            if not m:
                m2 = re.match(r"(?is)(@\w+)\s+[\w]+(\s*\([^)]*\))?$", item)
                if not m2:
                    raise _Unknown()
                ctx["vars"][m2.group(1).lower()] = None
                continue
            ctx["vars"][m.group(1).lower()] = _value(m.group(3), ctx)
        return []
    m = re.match(r"(?is)IF\s+(NOT\s+)?EXISTS\s*", s)
    if m:
        cond, end = _paren_after(s, m.end())
        rs = _select(server, cond.strip(), ctx)
        exists = bool(rs.rows)
        if m.group(1):
            exists = not exists
        rest = s[end:].strip()
        if re.match(r"(?is)BEGIN\b", rest):
            rest = re.sub(r"(?is)^BEGIN\s+|\s+END$", "", rest)
        ctx["xe_seen"] = True
        if not exists:
            return []
        out = []
        for sub in _statements(rest):
            out += _statement(server, sub, ctx)
        return out
    m = re.match(r"(?is)CREATE\s+EVENT\s+SESSION\s+" + _NAME + r"\s+ON\s+SERVER\b(.*)$", s)
    if m:
        ctx["xe_seen"] = True
        try:
            _create_session(xe, _unquote_name(m.group(1)), m.group(2), now)
        except XeError as e:
            return _err(e)
        return [RowCount()]
    m = re.match(r"(?is)ALTER\s+EVENT\s+SESSION\s+" + _NAME + r"\s+ON\s+SERVER\s+STATE\s*=\s*(START|STOP)$", s)
    if m:
        ctx["xe_seen"] = True
        try:
            if m.group(2).upper() == "START":
                xe.start_session(_unquote_name(m.group(1)), now)
            else:
                xe.stop_session(_unquote_name(m.group(1)), now)
        except XeError as e:
            return _err(e)
        return [RowCount()]
    m = re.match(r"(?is)DROP\s+EVENT\s+SESSION\s+" + _NAME + r"\s+ON\s+SERVER$", s)
    if m:
        ctx["xe_seen"] = True
        try:
            xe.drop_session(_unquote_name(m.group(1)), now)
        except XeError as e:
            return _err(e)
        return [RowCount()]
    m = re.match(r"(?is)EXEC(?:UTE)?\s+(?:(?:master\.)?(?:sys|dbo)?\.)?sp_configure\b(.*)$", s)
    if m:
        ctx["xe_seen"] = True
        return _sp_configure(xe, m.group(1), ctx)
    if re.match(r"(?is)RECONFIGURE(\s+WITH\s+OVERRIDE)?$", s):
        ctx["xe_seen"] = True
        for v in xe.config.values():
            v[1] = v[0]
        xe.blocked_process_threshold = xe.config["blocked process threshold (s)"][1]
        return [RowCount()]
    if u.startswith("SELECT"):
        rs = _select(server, s, ctx)
        ctx["xe_seen"] = True
        return [rs] if not isinstance(rs, list) else rs
    raise _Unknown()


def _create_session(xe, name: str, body: str, now) -> None:
    events = [e for e in re.findall(r"(?i)ADD\s+EVENT\s+([\w\.\[\]]+)", body)]
    if not events:
        raise _Unknown()
    targets = {}
    for mt in re.finditer(r"(?i)ADD\s+TARGET\s+([\w\.]+)", body):
        tname = mt.group(1).split(".")[-1].lower()
        params: dict[str, Any] = {}
        rest = body[mt.end():]
        if rest.lstrip().startswith("("):
            inner, _ = _paren_after(rest, 0)
            inner = re.sub(r"(?is)^\s*SET\s+", "", inner)
            for item in _split_top(inner, ","):
                kv = re.match(r"(?is)(\w+)\s*=\s*(.+)$", item)
                if kv:
                    v = kv.group(2).strip()
                    while v.startswith("(") and v.endswith(")"):
                        v = v[1:-1].strip()
                    sm = re.fullmatch(r"(?s)N?'((?:[^']|'')*)'", v)
                    params[kv.group(1).lower()] = sm.group(1).replace("''", "'") if sm else (int(v) if v.isdigit() else v)
        targets[tname] = params
    opts: dict[str, Any] = {}
    w = re.search(r"(?is)\bWITH\s*\((.*)\)\s*$", body)
    if w:
        o = w.group(1)
        mm = re.search(r"(?i)MAX_DISPATCH_LATENCY\s*=\s*(\d+|INFINITE)", o)
        if mm:
            opts["max_dispatch_latency_s"] = 10 ** 9 if mm.group(1).upper() == "INFINITE" else int(mm.group(1))
        mm = re.search(r"(?i)MAX_MEMORY\s*=\s*(\d+)\s*(KB|MB)?", o)
        if mm:
            opts["max_memory_kb"] = int(mm.group(1)) * (1024 if (mm.group(2) or "KB").upper() == "MB" else 1)
        mm = re.search(r"(?i)STARTUP_STATE\s*=\s*(ON|OFF)", o)
        if mm:
            opts["startup_state"] = mm.group(1).upper() == "ON"
    xe.create_session(name, events, targets, opts, now)


def _find_option(xe, name: str) -> Optional[str]:
    n = name.strip().lower()
    visible = [o for o in OPTIONS if not OPTIONS[o][3] or xe.config["show advanced options"][1]]
    exact = [o for o in visible if o == n]
    if exact:
        return exact[0]
    pref = [o for o in visible if o.startswith(n)]
    return pref[0] if len(pref) == 1 else None


def _sp_configure(xe, args: str, ctx: dict) -> list[Result]:
    items = _split_top(args, ",")
    vals = []
    for it in items:
        kv = re.match(r"(?is)(@\w+)\s*=\s*(.+)$", it)
        vals.append(_value(kv.group(2) if kv else it, ctx))
    cols = [Column(n, t) for n, t in SP_CONFIGURE]

    def row(o):
        cid, lo, hi, adv, _ = OPTIONS[o]
        return (o, lo, hi, xe.config[o][0], xe.config[o][1])
    if not vals:
        return [ResultSet(cols, [row(o) for o in sorted(OPTIONS) if not OPTIONS[o][3] or xe.config["show advanced options"][1]])]
    opt = _find_option(xe, str(vals[0]))
    if opt is None:
        return [Error(15123, f"The configuration option '{vals[0]}' does not exist, or it may be an advanced option.",
                      abort_batch=False)]
    if len(vals) == 1 or vals[1] is None:
        return [ResultSet(cols, [row(opt)])]
    v = int(vals[1])
    lo, hi = OPTIONS[opt][1], OPTIONS[opt][2]
    if not lo <= v <= hi:
        return [Error(15129, f"'{v}' is not a valid value for configuration option '{opt}'.", abort_batch=False)]
    old = xe.config[opt][0]
    xe.config[opt][0] = v
    return [Info(15457, f"Configuration option '{opt}' changed from {old} to {v}. Run the RECONFIGURE statement to install."),
            RowCount()]


# ---------------------------------------------------------------------------------------------------------
# SELECT over the XE views

def read_file_result(server, path: str, initial_file_name: Optional[str], initial_offset: Optional[int],
                     columns: Optional[list[str]] = None) -> list[Result]:
    """sys.fn_xe_file_target_read_file as a ResultSet (timestamp_utc on SQL Server 2017+), or an Error."""
    try:
        rows = server.xe.read_file(path, initial_file_name, initial_offset, server.now())
    except XeError as e:
        return _err(e)
    cols = [(n, t) for n, t in READ_FILE_COLUMNS if n != "timestamp_utc" or server.version >= 14]
    if columns is not None:
        by = dict(cols)
        cols = [(n, by[n]) for n in columns]
    return [ResultSet([Column(n, t, nullable=False) for n, t in cols], [tuple(r[n] for n, _ in cols) for r in rows])]


def _source(server, from_clause: str, ctx: dict):
    """(rows as dicts keyed 'alias.col' and 'col', {col: type}) for the FROM clause."""
    xe = server.xe
    f = from_clause.strip()
    m = re.match(r"(?is)sys\.fn_xe_file_target_read_file\s*", f)
    if m:
        inner, end = _paren_after(f, m.end())
        args = [_value(a, ctx) for a in _split_top(inner, ",")]
        if len(args) != 4:
            raise _Unknown()
        rest = f[end:].strip()
        alias = re.sub(r"(?i)^AS\s+", "", rest).strip() or "f"
        if args[0] is None:
            raise _Unknown()
        rows = xe.read_file(args[0], args[2], args[3], server.now())
        types = dict((n, t) for n, t in READ_FILE_COLUMNS if n != "timestamp_utc" or server.version >= 14)
        return [_qualify(r, alias, types) for r in rows], types
    tables = re.split(r"(?i)\s+(?:INNER\s+|LEFT\s+(?:OUTER\s+)?)?JOIN\s+", f)
    srcs = []
    for t in tables:
        t = re.split(r"(?i)\s+ON\s+", t)[0].strip()
        mt = re.match(r"(?is)(?:master\.)?sys\.(\w+)(?:\s+(?:AS\s+)?(\w+))?$", t)
        if not mt:
            raise _Unknown()
        srcs.append((mt.group(1).lower(), (mt.group(2) or mt.group(1)).lower()))
    catalog = {"dm_xe_sessions": (DM_XE_SESSIONS, xe.session_rows),
               "dm_xe_session_targets": (DM_XE_SESSION_TARGETS, xe.target_rows),
               "server_event_sessions": (SERVER_EVENT_SESSIONS, xe.server_session_rows),
               "configurations": (CONFIGURATIONS, lambda: _config_rows(xe))}
    for name, _ in srcs:
        if name not in catalog:
            raise _Unknown()
    types: dict[str, str] = {}
    if len(srcs) == 1:
        name, alias = srcs[0]
        cols, fn = catalog[name]
        types.update(cols)
        return [_qualify(r, alias, dict(cols)) for r in fn()], types
    names = {n for n, _ in srcs}
    if names != {"dm_xe_sessions", "dm_xe_session_targets"}:
        raise _Unknown()
    aliases = dict(srcs)
    sess = {r["address"]: r for r in xe.session_rows()}
    out = []
    for t in xe.target_rows():
        s = sess.get(t["event_session_address"])
        if s is None:
            continue
        r = {}
        r.update(_qualify(t, aliases["dm_xe_session_targets"], dict(DM_XE_SESSION_TARGETS)))
        r.update(_qualify(s, aliases["dm_xe_sessions"], dict(DM_XE_SESSIONS)))
        out.append(r)
    types.update(DM_XE_SESSION_TARGETS)
    types.update(DM_XE_SESSIONS)
    return out, types


def _qualify(r: dict, alias: str, types: dict) -> dict:
    out = {}
    for k in types:
        v = r.get(k)
        out[k] = v
        out[f"{alias}.{k}"] = v
    return out


def _config_rows(xe) -> list[dict]:
    return [{"configuration_id": cid, "name": o, "value": xe.config[o][0], "minimum": lo, "maximum": hi,
             "value_in_use": xe.config[o][1], "description": desc, "is_dynamic": 1, "is_advanced": int(adv)}
            for o, (cid, lo, hi, adv, desc) in OPTIONS.items()]


def _col_ref(expr: str) -> str:
    e = expr.strip()
    parts = [_unquote_name(p) for p in e.split(".")]
    return ".".join(p.lower() for p in parts)


def _lookup(row: dict, ref: str) -> Any:
    if ref in row:
        return row[ref]
    raise _Unknown()


def _select(server, sql: str, ctx: dict):
    m = re.match(r"(?is)SELECT\s+(?:TOP\s*\(?\s*(\d+)\s*\)?\s+)?(.*?)\s+FROM\s+(.*)$", sql)
    if not m:
        raise _Unknown()
    top = int(m.group(1)) if m.group(1) else None
    select_list, rest = m.group(2), m.group(3)
    order = None
    mo = re.search(r"(?is)\s+ORDER\s+BY\s+(.+)$", rest)
    if mo:
        order = mo.group(1).strip()
        rest = rest[:mo.start()]
    where = None
    # WHERE at the top level (not inside the function's parentheses)
    depth = 0
    for i, c in enumerate(rest):
        depth += c == "("
        depth -= c == ")"
        if depth == 0 and re.match(r"(?i)\sWHERE\s", rest[i:i + 7]):
            where = rest[i + 7:].strip()
            rest = rest[:i]
            break
    try:
        rows, types = _source(server, rest, ctx)
    except XeError as e:
        return _err(e)
    if where:
        conds = _split_top(re.sub(r"(?i)\s+AND\s+", " \x00 ", where), "\x00")
        for c in conds:
            mc = re.match(r"(?is)(.+?)\s*(=|<>|!=|>=|<=|>|<|\s+LIKE\s+)\s*(.+)$", c)
            if not mc:
                raise _Unknown()
            left, op, right = mc.group(1), mc.group(2).strip().upper(), mc.group(3)
            if not re.fullmatch(r"[\w\.\[\]]+", left.strip()):
                raise _Unknown()
            ref = _col_ref(left)
            if ref.split(".")[-1] not in types:
                raise _Unknown()
            val = _value(right, ctx)
            rows = [r for r in rows if _compare(_lookup(r, ref), op, val)]
    if order:
        mo2 = re.fullmatch(r"(?is)([\w\.\[\]]+)(\s+(ASC|DESC))?", order)
        if not mo2:
            raise _Unknown()
        ref = _col_ref(mo2.group(1))
        if ref.split(".")[-1] not in types:
            raise _Unknown()
        rows.sort(key=lambda r: (_lookup(r, ref) is None, _lookup(r, ref)), reverse=bool(mo2.group(3)) and mo2.group(3).upper() == "DESC")
    if top is not None:
        rows = rows[:top]
    cols: list[Column] = []
    getters = []
    for item in _split_top(select_list, ","):
        if item.strip() == "*" or item.strip().endswith(".*"):
            for n, t in types.items():
                cols.append(Column(n, t))
                getters.append(lambda r, n=n: r[n])
            continue
        item = item.strip()
        alias = None
        expr = item
        me = re.match(r"(?is)(\[[^\]]+\]|\w+)\s*=\s*(.+)$", item)
        ma = (re.match(r"(?is)(.*\))\s+(?:AS\s+)?(\[[^\]]+\]|\w+)$", item)
              or re.match(r"(?is)([\w\.\[\]]+)\s+(?:AS\s+)?(\[[^\]]+\]|\w+)$", item))
        if me and not re.match(r"(?is)(CAST|CONVERT)\s*\(", item):
            alias, expr = _unquote_name(me.group(1)), me.group(2)
        elif ma:
            expr, alias = ma.group(1), _unquote_name(ma.group(2))
        lit = re.fullmatch(r"(?s)([-+]?\d+)|N?'((?:[^']|'')*)'", expr.strip())
        if lit:        # a constant, e.g. IF EXISTS (SELECT 1 FROM ...)
            value = int(lit.group(1)) if lit.group(1) is not None else lit.group(2).replace("''", "'")
            cols.append(Column(alias or "", "int" if lit.group(1) is not None else f"nvarchar({max(1, len(value))})"))
            getters.append(lambda r, v=value: v)
            continue
        typ = None
        mc = re.fullmatch(r"(?is)CAST\s*\(\s*(.+?)\s+AS\s+([\w]+(?:\s*\([^)]*\))?)\s*\)", expr.strip())
        mv = re.fullmatch(r"(?is)CONVERT\s*\(\s*([\w]+(?:\s*\([^)]*\))?)\s*,\s*(.+?)\s*\)", expr.strip())
        if mc:
            expr, typ = mc.group(1), mc.group(2).lower().replace(" ", "")
        elif mv:
            typ, expr = mv.group(1).lower().replace(" ", ""), mv.group(2)
        ref = _col_ref(expr)
        base = ref.split(".")[-1]
        if base not in types:
            raise _Unknown()
        cols.append(Column(alias or base, typ or types[base]))
        conv = _converter(typ)
        getters.append(lambda r, ref=ref, conv=conv: conv(_lookup(r, ref)))
    return ResultSet(cols, [tuple(g(r) for g in getters) for r in rows])


def _converter(typ: Optional[str]):
    if typ is None or typ == "xml" or typ.startswith(("nvarchar", "varchar")):
        return lambda v: v if (v is None or typ is None or typ == "xml" or isinstance(v, str)) else str(v)
    if typ in ("int", "bigint", "smallint", "tinyint", "bit"):
        return lambda v: None if v is None else int(v)
    return lambda v: v


def _compare(a: Any, op: str, b: Any) -> bool:
    if a is None or b is None:
        return False
    if isinstance(a, str) and isinstance(b, str):
        a2, b2 = a.lower(), b.lower()          # default collations are case-insensitive
    else:
        a2, b2 = a, b
        if isinstance(a, int) and isinstance(b, str) and b.lstrip("-").isdigit():
            b2 = int(b)
    if op == "LIKE":
        pat = "^" + re.escape(str(b2)).replace("%", ".*").replace("_", ".") + "$"
        return re.match(pat, str(a2), re.S) is not None
    try:
        return {"=": a2 == b2, "<>": a2 != b2, "!=": a2 != b2, ">": a2 > b2, ">=": a2 >= b2, "<": a2 < b2,
                "<=": a2 <= b2}[op]
    except TypeError:
        return False
