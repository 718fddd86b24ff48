"""Connect-time statements and small probes, answered by evaluating them.

What a client sends around a login is a handful of shapes, all handled by one small evaluator rather than by
matching whole strings, so that a reworded probe still gets an answer:
  - SET ... (any number, separated by ';'): remembered in session.options; no result set;
  - USE db: 5701 'Changed database context', or 911 / 942;
  - SELECT of scalar expressions without FROM: literals, @@VERSION, @@SPID, @@SERVERNAME, SERVERPROPERTY(),
    SYSUTCDATETIME(), SYSDATETIME(), SYSDATETIMEOFFSET(), GETDATE(), GETUTCDATE(), DATEPART(TZOFFSET, ...),
    DB_NAME(), DB_ID(), SUSER_SNAME(), ORIGINAL_LOGIN(), APP_NAME(), HOST_NAME(), HAS_PERMS_BY_NAME(),
    IS_SRVROLEMEMBER(), CAST(x AS type), CONVERT(type, x), ISNULL/COALESCE, and a scalar subquery on one of
    the tables below. This is also how the `dmvlog check` query (sql/agent/check.sql) is answered;
  - SELECT [TOP n] columns FROM sys.databases | sys.dm_os_sys_info | fn_my_permissions(NULL, 'SERVER')
    [WHERE a AND b ...] [ORDER BY ...], where a condition is `expr op expr` (=, <>, !=, <, <=, >, >=),
    `expr [NOT] IN (...)`, `expr IS [NOT] NULL` or `expr [NOT] LIKE pattern`.
Anything else returns None, and the dispatcher answers with the error SQL Server would give.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Callable, Optional

from sim.results import Column, Error, Info, Result, ResultSet, RowCount, Session


class Unknown(Exception):
    """The evaluator does not understand this (the caller answers with a syntax or name error)."""


# ---------------------------------------------------------------------------------------------- text helpers

def strip_comments(sql: str) -> str:
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
            depth, j = 1, i + 2
            while j < n and depth:
                if sql.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif sql.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(" ")
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def mask(s: str) -> str:
    """s with quoted strings, [identifiers] and the inside of parentheses blanked (same length)."""
    out = list(s)
    i, n, depth = 0, len(s), 0
    while i < n:
        c = s[i]
        if c == "'":
            j = i + 1
            while j < n:
                if s[j] == "'" and j + 1 < n and s[j + 1] == "'":
                    j += 2
                    continue
                if s[j] == "'":
                    break
                j += 1
            for k in range(i + 1, min(j, n)):
                out[k] = " "
            if depth:
                for k in range(i, min(j + 1, n)):
                    out[k] = " "
            i = j + 1
            continue
        if c == "[":
            j = s.find("]", i)
            j = n - 1 if j < 0 else j
            for k in range(i + 1, j):
                out[k] = "_"
            if depth:
                for k in range(i, j + 1):
                    out[k] = " "
            i = j + 1
            continue
        if c == "(":
            if depth:
                out[i] = " "
            depth += 1
        elif c == ")":
            depth -= 1
            if depth:
                out[i] = " "
        elif depth:
            out[i] = " "
        i += 1
    return "".join(out)


def split_top(s: str, sep: str = ",") -> list[str]:
    m = mask(s)
    parts, last = [], 0
    for i, c in enumerate(m):
        if c == sep:
            parts.append(s[last:i])
            last = i + 1
    parts.append(s[last:])
    return [p.strip() for p in parts]


def find_top(s: str, pattern: str, start: int = 0) -> Optional[re.Match]:
    return re.compile(pattern, re.I).search(mask(s), start)


def split_batch(sql: str) -> list[str]:
    return [p for p in split_top(strip_comments(sql), ";") if p.strip()]


def unquote(s: str) -> str:
    s = s.strip()
    if s.startswith("[") and s.endswith("]"):
        return s[1:-1]
    if s.startswith('"') and s.endswith('"'):
        return s[1:-1]
    return s


# ---------------------------------------------------------------------------------------------- permissions

SERVER_PERMISSIONS = ["CONNECT SQL", "VIEW ANY DATABASE", "VIEW SERVER STATE", "VIEW SERVER PERFORMANCE STATE",
                      "ALTER ANY EVENT SESSION", "ALTER SETTINGS", "VIEW ANY DEFINITION"]


def login_permissions(server, login: str) -> set[str]:
    """Server permissions a login holds (a denied VIEW SERVER STATE also takes the performance state)."""
    spec = next((x for x in server.scenario.logins if x.name.lower() == login.lower()), None)
    perms = set(SERVER_PERMISSIONS)
    if server.major < 16:
        perms.discard("VIEW SERVER PERFORMANCE STATE")
    if spec is not None:
        perms -= set(spec.deny)
        if "VIEW SERVER STATE" in spec.deny:
            perms.discard("VIEW SERVER PERFORMANCE STATE")
    return perms


def has_perm(server, login: str, perm: str) -> Optional[int]:
    perm = " ".join(perm.upper().split())
    if perm == "VIEW SERVER PERFORMANCE STATE" and server.major < 16:
        return None      # not a permission before SQL Server 2022: HAS_PERMS_BY_NAME returns NULL
    if perm not in SERVER_PERMISSIONS:
        return None
    return 1 if perm in login_permissions(server, login) else 0


def can_view_server_state(server, login: str) -> bool:
    p = login_permissions(server, login)
    return "VIEW SERVER STATE" in p or "VIEW SERVER PERFORMANCE STATE" in p


# ---------------------------------------------------------------------------------------------- expressions

class Ctx:
    def __init__(self, server, session: Session, row: Optional[dict] = None):
        self.server, self.session, self.row = server, session, row


Value = tuple[Any, str]     # (python value, SQL Server type)


def _literal(e: str) -> Optional[Value]:
    m = re.fullmatch(r"(N?)'((?:[^']|'')*)'", e, re.S)
    if m:
        v = m.group(2).replace("''", "'")
        return v, f"{'n' if m.group(1) else ''}varchar({max(1, len(v))})"
    if re.fullmatch(r"-?\d+", e):
        v = int(e)
        return v, "int" if -2 ** 31 <= v < 2 ** 31 else "bigint"
    if re.fullmatch(r"-?\d+\.\d*", e):
        return float(e), "float"
    if e.upper() == "NULL":
        return None, "int"
    return None


def _ms(d: dt.datetime) -> dt.datetime:
    return d.replace(microsecond=d.microsecond // 1000 * 1000)


def _convert(v: Value, typ: str) -> Value:
    val, _ = v
    t = " ".join(typ.lower().split()).replace(" (", "(")
    if val is None:
        return None, t
    base = t.split("(")[0]
    try:
        if base in ("int", "bigint", "smallint", "tinyint", "bit"):
            return (int(val) if not isinstance(val, str) else int(val.strip())), t
        if base in ("nvarchar", "varchar", "sysname", "nchar", "char"):
            if isinstance(val, dt.datetime):
                val = val.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
            s = str(val)
            m = re.search(r"\((\d+)\)", t)
            if m:
                s = s[:int(m.group(1))]
            return s, "nvarchar(128)" if base == "sysname" else t
        if base in ("float", "real"):
            return float(val), t
        if base in ("datetime", "datetime2", "datetimeoffset", "date", "smalldatetime"):
            if isinstance(val, str):
                val = dt.datetime.fromisoformat(val)
            if base == "datetime":
                val = _ms(val.replace(tzinfo=None))
            return val, t
        if base == "sql_variant":
            return val, v[1]
    except (ValueError, TypeError) as e:
        raise Unknown(f"conversion failed: {e}") from e
    raise Unknown(f"type {typ}")


def _args(inner: str) -> list[str]:
    return [] if not inner.strip() else split_top(inner)


def evaluate(e: str, ctx: Ctx) -> Value:
    e = e.strip()
    if not e:
        raise Unknown("empty expression")
    lit = _literal(e)
    if lit is not None:
        return lit
    if e.startswith("(") and mask(e).rstrip().endswith(")") and mask(e)[1:].find(")") == len(e.rstrip()) - 2:
        inner = e[1:-1].strip()
        if re.match(r"SELECT\b", inner, re.I):
            return _scalar_subquery(inner, ctx)
        return evaluate(inner, ctx)
    m = re.fullmatch(r"@@(\w+)", e)
    if m:
        return _global(m.group(1).upper(), ctx)
    if e.upper() in ("SYSTEM_USER", "SESSION_USER", "CURRENT_USER", "USER", "CURRENT_TIMESTAMP"):
        if e.upper() == "CURRENT_TIMESTAMP":
            return _ms(ctx.server.local(ctx.server.now_offset)), "datetime"
        return (ctx.session.login if e.upper() == "SYSTEM_USER" else "dbo"), "nvarchar(128)"
    m = re.fullmatch(r"([A-Za-z_][\w.]*)\s*\((.*)\)", e, re.S)
    if m and mask(e).find(")") == len(e) - 1:
        return _function(m.group(1).upper(), m.group(2), ctx)
    ident = unquote(e.split(".")[-1]) if re.fullmatch(r"[\w\[\]\.]+", e) else None
    if ident is not None and ctx.row is not None:
        for k, v in ctx.row.items():
            if k.lower() == ident.lower():
                return v
    raise Unknown(f"expression {e[:60]!r}")


def _global(name: str, ctx: Ctx) -> Value:
    srv, s = ctx.server, ctx.session
    if name == "VERSION":
        return srv.version_string(), "nvarchar(300)"
    if name == "SPID":
        return s.spid, "smallint"
    if name == "SERVERNAME":
        return srv.scenario.server.server_name, "nvarchar(128)"
    if name == "SERVICENAME":
        return "MSSQLSERVER", "nvarchar(128)"
    if name == "LANGUAGE":
        return "us_english", "nvarchar(128)"
    if name == "TRANCOUNT":
        return 0, "int"
    if name == "LOCK_TIMEOUT":
        return int(s.options.get("LOCK_TIMEOUT", -1)), "int"
    if name == "MICROSOFTVERSION":
        major, minor, build = (int(x) for x in srv.scenario.server.version.split(".")[:3])
        return (major << 24) | (minor << 16) | build, "int"
    if name == "OPTIONS":
        return 5496, "int"
    if name == "MAX_PRECISION":
        return 38, "tinyint"
    raise Unknown(f"@@{name}")


def _function(name: str, inner: str, ctx: Ctx) -> Value:
    srv, s = ctx.server, ctx.session
    name = name.split(".")[-1]
    if name == "CAST":
        m = find_top(inner, r"\sAS\s")
        if not m:
            raise Unknown("CAST without AS")
        return _convert(evaluate(inner[:m.start()], ctx), inner[m.end():].strip())
    if name in ("CONVERT", "TRY_CONVERT"):
        a = _args(inner)
        return _convert(evaluate(a[1], ctx), a[0])
    if name in ("ISNULL", "COALESCE"):
        for a in _args(inner):
            v = evaluate(a, ctx)
            if v[0] is not None:
                return v
        return None, "int"
    args = [evaluate(a, ctx) for a in _args(inner)] if name != "DATEPART" else []
    if name == "SERVERPROPERTY":
        v = srv.server_property(str(args[0][0]))
        return v, "int" if isinstance(v, int) else "nvarchar(128)"
    if name == "SYSUTCDATETIME":
        return srv.now(), "datetime2(7)"
    if name == "SYSDATETIME":
        return srv.local(srv.now_offset), "datetime2(7)"
    if name == "GETUTCDATE":
        return _ms(srv.now()), "datetime"
    if name == "GETDATE":
        return _ms(srv.local(srv.now_offset)), "datetime"
    if name == "SYSDATETIMEOFFSET":
        tz = dt.timezone(dt.timedelta(minutes=srv.utc_offset_minutes))
        return srv.now().replace(tzinfo=dt.timezone.utc).astimezone(tz), "datetimeoffset(7)"
    if name == "DATEPART":
        a = _args(inner)
        part = a[0].strip().upper()
        v = evaluate(a[1], ctx)[0]
        if part in ("TZOFFSET", "TZ"):
            off = v.utcoffset() if isinstance(v, dt.datetime) and v.tzinfo else dt.timedelta(0)
            return int(off.total_seconds() // 60), "int"
        fields = {"YEAR": "year", "YY": "year", "MONTH": "month", "DAY": "day", "HOUR": "hour", "MINUTE": "minute",
                  "SECOND": "second"}
        if part in fields and isinstance(v, dt.datetime):
            return getattr(v, fields[part]), "int"
        raise Unknown(f"DATEPART({part})")
    if name == "DB_NAME":
        if not args or args[0][0] is None:
            return s.database, "nvarchar(128)"
        return srv.db_name(int(args[0][0])), "nvarchar(128)"
    if name == "DB_ID":
        return (srv.database_id(args[0][0]) if args and args[0][0] is not None else srv.database_id(s.database)), "int"
    if name in ("SUSER_SNAME", "SUSER_NAME", "ORIGINAL_LOGIN", "LOGIN_NAME"):
        return s.login, "nvarchar(128)"
    if name in ("USER_NAME", "CURRENT_USER"):
        return "dbo", "nvarchar(128)"
    if name == "APP_NAME":
        return s.app_name, "nvarchar(128)"
    if name == "HOST_NAME":
        return s.host_name, "nvarchar(128)"
    if name == "HAS_PERMS_BY_NAME":
        if len(args) < 3:
            raise Unknown("HAS_PERMS_BY_NAME needs 3 arguments")
        cls = (args[1][0] or "SERVER").upper()
        perm = str(args[2][0])
        if cls == "SERVER":
            return has_perm(srv, s.login, perm), "int"
        if cls == "DATABASE":
            db = srv.database(str(args[0][0])) if args[0][0] is not None else srv.database(s.database)
            if db is None:
                return None, "int"
            if perm.upper() in ("VIEW DATABASE STATE", "VIEW DATABASE PERFORMANCE STATE"):
                return (1 if can_view_server_state(srv, s.login) else 0), "int"
            return (1 if db.online else 0), "int"
        return None, "int"
    if name == "IS_SRVROLEMEMBER":
        return 0, "int"
    if name == "HAS_DBACCESS":
        db = srv.database(str(args[0][0]))
        return (None if db is None else 1 if db.online else 0), "int"
    if name in ("UPPER", "LOWER"):
        v = args[0]
        return (None if v[0] is None else getattr(str(v[0]), name.lower())()), v[1]
    if name == "LEN":
        return (None if args[0][0] is None else len(str(args[0][0]).rstrip())), "int"
    raise Unknown(f"function {name}")


# ---------------------------------------------------------------------------------------------- tables

def _databases(ctx: Ctx) -> tuple[list[Column], list[dict]]:
    cols = [("name", "nvarchar(128)"), ("database_id", "int"), ("source_database_id", "int"),
            ("owner_sid", "varbinary(85)"), ("create_date", "datetime"), ("compatibility_level", "tinyint"),
            ("collation_name", "nvarchar(128)"), ("user_access", "tinyint"), ("user_access_desc", "nvarchar(60)"),
            ("is_read_only", "bit"), ("is_auto_close_on", "bit"), ("state", "tinyint"),
            ("state_desc", "nvarchar(60)"), ("recovery_model", "tinyint"), ("recovery_model_desc", "nvarchar(60)"),
            ("is_query_store_on", "bit")]
    rows = []
    for d in ctx.server.databases:
        vals = [d.name, d.database_id, None, b"\x01", d.create_date, d.compatibility_level, d.collation_name, 0,
                "MULTI_USER", d.is_read_only, 0, d.state, d.state_desc,
                {"FULL": 1, "BULK_LOGGED": 2, "SIMPLE": 3}[d.recovery_model_desc], d.recovery_model_desc,
                1 if d.database_id > 4 and d.online else 0]
        if not d.online:
            vals[6] = None
        rows.append({c: (v, t) for (c, t), v in zip(cols, vals)})
    return [Column(c, t) for c, t in cols], rows


def sys_info_values(srv) -> list[tuple[str, str, Any]]:
    """sys.dm_os_sys_info of the simulated instance: (column, type, value); also read by server_info."""
    spec = srv.scenario.server
    up_ms = int((srv.now_offset - srv.start_offset) * 1000)
    ticks = 123_456_789 + int(srv.now_offset * 1000) + int(spec.uptime_seconds * 1000)
    return [("cpu_count", "int", spec.cpu_count), ("hyperthread_ratio", "int", 2),
            ("physical_memory_kb", "bigint", spec.memory_mb * 1024 + 2 * 1024 * 1024),
            ("committed_kb", "int", min(2 ** 31 - 1, spec.memory_mb * 1024 * 9 // 10)),
            ("committed_target_kb", "int", min(2 ** 31 - 1, spec.memory_mb * 1024)),
            ("max_workers_count", "int", 512 + max(0, spec.cpu_count - 4) * 16),
            ("scheduler_count", "int", spec.cpu_count), ("ms_ticks", "bigint", ticks),
            ("sqlserver_start_time_ms_ticks", "bigint", ticks - up_ms),
            ("sqlserver_start_time", "datetime", srv.sqlserver_start_time),
            ("sql_memory_model_desc", "nvarchar(120)", "CONVENTIONAL"),
            ("virtual_machine_type_desc", "nvarchar(60)", "HYPERVISOR"),
            ("socket_count", "int", 2), ("cores_per_socket", "int", max(1, spec.cpu_count // 4)),
            ("numa_node_count", "int", 1)]


def _sys_info(ctx: Ctx) -> tuple[list[Column], list[dict]]:
    cols = sys_info_values(ctx.server)
    return [Column(c, t) for c, t, _ in cols], [{c: (v, t) for c, t, v in cols}]


def _my_permissions(ctx: Ctx) -> tuple[list[Column], list[dict]]:
    cols = [("entity_name", "nvarchar(128)"), ("subentity_name", "nvarchar(128)"), ("permission_name", "nvarchar(60)")]
    perms = [p for p in SERVER_PERMISSIONS if p in login_permissions(ctx.server, ctx.session.login)]
    rows = [{"entity_name": ("server", cols[0][1]), "subentity_name": ("", cols[1][1]),
             "permission_name": (p, cols[2][1])} for p in perms]
    return [Column(c, t) for c, t in cols], rows


TABLES: dict[str, Callable[[Ctx], tuple[list[Column], list[dict]]]] = {
    "sys.databases": _databases, "master.sys.databases": _databases,
    "sys.dm_os_sys_info": _sys_info,
    "fn_my_permissions": _my_permissions, "sys.fn_my_permissions": _my_permissions,
}


def _table_name(src: str) -> str:
    src = src.strip()
    m = re.match(r"((?:\[?\w+\]?\.){0,2}\[?\w+\]?)\s*(\((.*)\))?", src, re.S)
    if not m:
        raise Unknown(f"FROM {src[:40]}")
    name = ".".join(unquote(p) for p in m.group(1).split(".")).lower()
    if name.startswith("master.") and name not in TABLES:
        name = name[len("master."):]
    if m.group(2):
        args = [a.strip().upper() for a in split_top(m.group(3))]
        if name.endswith("fn_my_permissions") and args[-1:] != ["'SERVER'"] and args[-1:] != ["N'SERVER'"]:
            raise Unknown("fn_my_permissions on a non-server securable")
    return name


def _condition(c: str, ctx: Ctx) -> bool:
    m = re.fullmatch(r"(.+?)\s+IS\s+(NOT\s+)?NULL", c, re.I | re.S)
    if m:
        v = evaluate(m.group(1), ctx)[0]
        return (v is not None) if m.group(2) else (v is None)
    mm = find_top(c, r"\s(NOT\s+)?IN\s*\(")
    if mm:
        v = evaluate(c[:mm.start()], ctx)[0]
        inner = c[mm.end():c.rstrip().rfind(")")]
        vals = [evaluate(x, ctx)[0] for x in split_top(inner)]
        return (v not in vals) if mm.group(1) else (v in vals)
    mm = find_top(c, r"\s(NOT\s+)?LIKE\s")
    if mm:
        v = evaluate(c[:mm.start()], ctx)[0]
        pat = str(evaluate(c[mm.end():], ctx)[0])
        rx = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pat)
        ok = v is not None and re.fullmatch(rx, str(v), re.I | re.S) is not None
        return not ok if mm.group(1) else ok
    mm = find_top(c, r"(>=|<=|<>|!=|=|>|<)")
    if not mm:
        raise Unknown(f"condition {c[:60]!r}")
    a, b = evaluate(c[:mm.start()], ctx)[0], evaluate(c[mm.end():], ctx)[0]
    if a is None or b is None:
        return False
    if isinstance(a, str) and isinstance(b, str):
        a, b = a.lower(), b.lower()
    op = mm.group(1)
    return {"=": a == b, "<>": a != b, "!=": a != b, ">": a > b, "<": a < b, ">=": a >= b, "<=": a <= b}[op]


def _where(text: str, ctx: Ctx) -> bool:
    if find_top(text, r"\sOR\s"):
        raise Unknown("OR in WHERE")
    parts, last, m_text = [], 0, mask(text)
    for m in re.finditer(r"\sAND\s", m_text, re.I):
        # 'BETWEEN x AND y' is not supported; a plain AND splits conditions
        parts.append(text[last:m.start()])
        last = m.end()
    parts.append(text[last:])
    return all(_condition(p.strip(), ctx) for p in parts if p.strip())


def _select_items(text: str) -> list[tuple[str, Optional[str]]]:
    items = []
    for item in split_top(text):
        m = find_top(item, r"\s+AS\s+(\[[^\]]+\]|\"[^\"]+\"|\w+)\s*$")
        if m:
            items.append((item[:m.start()].strip(), unquote(m.group(1))))
            continue
        m = re.fullmatch(r"(\[[^\]]+\]|\w+)\s*=\s*(.+)", item, re.S)
        if m and not item.lstrip().startswith("@"):
            items.append((m.group(2).strip(), unquote(m.group(1))))
            continue
        m = re.fullmatch(r"(.*[\)\w'\]])\s+(\[[^\]]+\]|[A-Za-z_]\w*)", item, re.S)
        if m and m.group(2).upper() not in ("NULL", "ASC", "DESC", "AND", "OR"):
            items.append((m.group(1).strip(), unquote(m.group(2))))
            continue
        items.append((item, None))
    return items


def select(sql: str, ctx: Ctx) -> ResultSet:
    """Evaluate one SELECT statement (raises Unknown when it cannot)."""
    body = re.sub(r"^\s*SELECT\s+", "", sql, flags=re.I)
    top = None
    m = re.match(r"TOP\s*\(?\s*(\d+)\s*\)?\s+", body, re.I)
    if m:
        top, body = int(m.group(1)), body[m.end():]
    mf = find_top(body, r"\bFROM\b")
    if mf is None:
        if find_top(body, r"\b(WHERE|ORDER\s+BY|GROUP\s+BY)\b"):
            raise Unknown("clause without FROM")
        cols, row = [], []
        for expr, alias in _select_items(body):
            v, t = evaluate(expr, ctx)
            cols.append(Column(alias or "", t))
            row.append(v)
        return ResultSet(cols, [tuple(row)][:top if top is not None else 1])
    select_list, rest = body[:mf.start()], body[mf.end():]
    mo = find_top(rest, r"\bORDER\s+BY\b")
    order = rest[mo.end():] if mo else ""
    rest = rest[:mo.start()] if mo else rest
    mw = find_top(rest, r"\bWHERE\b")
    where = rest[mw.end():] if mw else ""
    src = rest[:mw.start()] if mw else rest
    if find_top(src, r"\b(JOIN|GROUP\s+BY|HAVING|CROSS|OUTER|APPLY)\b") or "," in mask(src):
        raise Unknown("joins")
    src = re.sub(r"\s+(AS\s+)?\w+\s*$", "", src.strip(), flags=re.I) if re.search(r"\)\s*(AS\s+)?\w+\s*$|\w\s+(AS\s+)?\w+\s*$", src.strip(), re.I) else src
    table = TABLES.get(_table_name(src))
    if table is None:
        raise LookupError(_table_name(src))
    all_cols, rows = table(ctx)
    items = _select_items(select_list)
    if len(items) == 1 and items[0][0].strip() == "*":
        items = [(c.name, None) for c in all_cols]
    out_rows, types, keys = [], None, []
    for r in rows:
        rctx = Ctx(ctx.server, ctx.session, r)
        if where and not _where(where, rctx):
            continue
        vals = [evaluate(e, rctx) for e, _ in items]
        types = types or [t for _, t in vals]
        out_rows.append(tuple(v for v, _ in vals))
        if order:
            keys.append([(evaluate(re.sub(r"\s+(ASC|DESC)\s*$", "", o, flags=re.I), rctx)[0],
                          bool(re.search(r"\sDESC\s*$", o, re.I))) for o in split_top(order)])
    if types is None:
        # no row: types from a dry evaluation on the first table row (or nvarchar)
        types = [evaluate(e, Ctx(ctx.server, ctx.session, rows[0]))[1] if rows else "nvarchar(128)"
                 for e, _ in items]
    if order:
        idx = list(range(len(out_rows)))
        for pos in reversed(range(len(keys[0]) if keys else 0)):
            desc = keys[0][pos][1]
            idx.sort(key=lambda i: (keys[i][pos][0] is None, keys[i][pos][0]), reverse=desc)
        out_rows = [out_rows[i] for i in idx]
    if top is not None:
        out_rows = out_rows[:top]
    cols = [Column(alias or (e.split(".")[-1].strip("[]") if re.fullmatch(r"[\w.\[\]]+", e) else ""), t)
            for (e, alias), t in zip(items, types)]
    return ResultSet(cols, out_rows)


def _scalar_subquery(sql: str, ctx: Ctx) -> Value:
    rs = select(sql, Ctx(ctx.server, ctx.session))
    if len(rs.columns) != 1:
        raise Unknown("subquery with more than one column")
    return (rs.rows[0][0] if rs.rows else None), rs.columns[0].type


# ---------------------------------------------------------------------------------------------- statements

def _set(stmt: str, session: Session) -> None:
    body = stmt.strip()[3:].strip()
    m = re.match(r"TRANSACTION\s+ISOLATION\s+LEVEL\s+(.+)", body, re.I)
    if m:
        session.options["TRANSACTION ISOLATION LEVEL"] = " ".join(m.group(1).upper().split())
        return
    parts = body.split(None, 1)
    name = parts[0].upper()
    value: Any = parts[1].strip() if len(parts) > 1 else ""
    if re.fullmatch(r"-?\d+", str(value)):
        value = int(value)
    elif isinstance(value, str):
        value = value.upper()
    for n in name.split(","):
        session.options[n.strip()] = value


def answer(server, session: Session, sql: str) -> Optional[list[Result]]:
    """Answer a connect-time batch, or None when it holds a statement this module does not know."""
    stmts = split_batch(sql)
    out: list[Result] = []
    only_set = True
    ctx = Ctx(server, session)
    for st in stmts:
        word = st.split(None, 1)[0].upper() if st.split() else ""
        if word == "SET" and not st.lstrip()[3:].lstrip().startswith("@"):
            _set(st, session)
            continue
        only_set = False
        if word == "USE":
            name = unquote(st.split(None, 1)[1].strip()) if len(st.split()) > 1 else ""
            db = server.database(name)
            if db is None:
                out.append(Error(911, f"Database '{name}' does not exist. Make sure that the name is entered "
                                      "correctly.", severity=16))
                return out
            if not db.online:
                out.append(Error(942, f"Database '{db.name}' cannot be opened because it is offline.", severity=14))
                return out
            session.database = db.name
            out.append(Info(5701, f"Changed database context to '{db.name}'.", state=1, severity=0))
            out.append(RowCount(None))
            continue
        if word == "SELECT":
            try:
                out.append(select(st, ctx))
            except (Unknown, LookupError, IndexError, KeyError, ValueError, TypeError):
                return None
            continue
        return None
    if only_set:
        return [RowCount(None)] if stmts else []
    return out
