"""Self-test answers: fixed, known results for testing the wire protocol and ODBC clients.

SelfTest wraps any engine. A query whose first line is a self-test tag is answered here; everything else
(and login, faults, control commands) goes to the wrapped engine. The tag's argument, if any, is written
inside the comment:

    /* dmvlog:selftest_types */      one result set with a column of every supported type (TYPES_COLUMNS):
                                     row 1 holds ordinary values (TYPES_ROW: Japanese text, a 100,000
                                     character nvarchar(max), 20,000 bytes of varbinary(max), datetime2 and
                                     time with 100 ns digits, datetimeoffset at +09:00, decimal(38,10) with
                                     38 digits, negative numbers), row 2 is all NULL.
    /* dmvlog:selftest_rows 1000 */  N rows (default 10) of (id int, name nvarchar(50), payload nvarchar(max)),
                                     see rows_result().
    /* dmvlog:selftest_multi */      three result sets: (a int) 1 row; (b nvarchar(10)) 2 rows;
                                     (c float, d bit) 3 rows (MULTI_RESULTS).
    /* dmvlog:selftest_error 208 */  an ERROR with that number and SQL Server's message, class and state for
                                     it (208, 229, 297, 300, 102, 1205, 1222, 4060, 8152, ...; ERRORS).
    /* dmvlog:selftest_delay 5 */    waits that many wall seconds (fractions allowed), then one row (ok int = 1);
                                     an attention (query timeout, SQLCancel) cancels the wait.
    /* dmvlog:selftest_hang */       never answers until the client sends attention or disconnects.
    /* dmvlog:selftest_drop 3 */     sends N rows of (id int, name nvarchar(50)), then closes the socket
                                     in the middle of the result set.
    /* dmvlog:selftest_info */       an INFO message (50000, class 0, 'selftest info message') then one row
                                     (ok int = 1).
    /* dmvlog:selftest_echo */       one row with one column per parameter (named without '@', in order),
                                     holding the parameter's value as the simulator decoded it; with no
                                     parameters, one column 'sql' holding the statement text.

BasicEngine is the trivial engine used alone with --engine selftest: it accepts the login dmvlog/dmvlog
(error 18456 otherwise) and answers connect-time statements (SET ..., USE ..., SELECT @@VERSION,
@@SPID, SERVERPROPERTY('ProductVersion'), SELECT 1, and the sp_datatype_info_100 calls FreeTDS makes for
SQLGetTypeInfo, which pyodbc uses to size its parameters); anything else gets error 208 or 102.
"""
from __future__ import annotations

import datetime as _dt
import re
import uuid
from decimal import Decimal
from typing import Any, Optional

from .results import (Column, DropConnection, Delay, Engine, Error, Hang, Info, Result, ResultSet, RowCount,
                      Session)
from .tds.datatypes import type_for_value

TAG_RE = re.compile(r"^\s*/\*\s*dmvlog:(selftest_[a-z_]+)[ \t]*([^*\r\n]*?)\s*\*/")

LONG_TEXT_CHARS = 100_000
LONG_BINARY_BYTES = 20_000


def long_text(n: int = LONG_TEXT_CHARS) -> str:
    """Deterministic text of n characters mixing ASCII and Japanese."""
    unit = "日本語のテキスト abcdefghijklmnopqrstuvwxyz 0123456789 "
    return (unit * (n // len(unit) + 1))[:n]


def long_binary(n: int = LONG_BINARY_BYTES) -> bytes:
    return bytes((i * 7 + 3) % 256 for i in range(n))


TYPES_COLUMNS = [
    Column("c_int", "int"),
    Column("c_bigint", "bigint"),
    Column("c_smallint", "smallint"),
    Column("c_tinyint", "tinyint"),
    Column("c_bit", "bit"),
    Column("c_decimal", "decimal(38,10)"),
    Column("c_decimal_small", "decimal(9,2)"),
    Column("c_numeric", "numeric(18,4)"),
    Column("c_float", "float"),
    Column("c_real", "real"),
    Column("c_money", "money"),
    Column("c_nvarchar", "nvarchar(50)"),
    Column("c_nvarchar_max", "nvarchar(max)"),
    Column("c_nchar", "nchar(10)"),
    Column("c_varchar", "varchar(30)"),
    Column("c_varchar_max", "varchar(max)"),
    Column("c_varbinary", "varbinary(16)"),
    Column("c_varbinary_max", "varbinary(max)"),
    Column("c_binary", "binary(8)"),
    Column("c_datetime", "datetime"),
    Column("c_datetime2", "datetime2(7)"),
    Column("c_datetimeoffset", "datetimeoffset(7)"),
    Column("c_date", "date"),
    Column("c_time", "time(7)"),
    Column("c_xml", "xml"),
    Column("c_uniqueidentifier", "uniqueidentifier"),
]

TYPES_ROW = (
    -123456789,
    9223372036854775807,
    -32768,
    255,
    1,
    Decimal("-1234567890123456789012345678.0123456789"),
    Decimal("-1234567.89"),
    Decimal("12345678901234.5678"),
    -3.141592653589793,
    -0.25,
    Decimal("-12345.6789"),
    "こんにちは 世界",
    long_text(),
    "abc",
    "plain ascii text",
    "ascii text, long. " * 500,
    bytes(range(16)),
    long_binary(),
    b"\x01\x02\x03",
    _dt.datetime(2026, 11, 23, 12, 34, 56, 500000),
    "2026-11-23 12:34:56.1234567",
    "2026-11-23 12:34:56.1234567 +09:00",
    _dt.date(2026, 11, 23),
    "12:34:56.1234567",
    '<root><item id="1">こんにちは</item></root>',
    uuid.UUID("6f9619ff-8b86-d011-b42d-00c04fc964ff"),
)

MULTI_RESULTS = [
    ResultSet([Column("a", "int")], [(1,)]),
    ResultSet([Column("b", "nvarchar(10)")], [("one",), ("two",)]),
    ResultSet([Column("c", "float"), Column("d", "bit")], [(0.5, 1), (1.5, 0), (2.5, None)]),
]

# number -> (class, state, message), as SQL Server words them
ERRORS = {
    102: (15, 1, "Incorrect syntax near 'FROM'."),
    156: (15, 1, "Incorrect syntax near the keyword 'SELECT'."),
    207: (16, 1, "Invalid column name 'no_such_column'."),
    208: (16, 1, "Invalid object name 'sys.dm_no_such_view'."),
    229: (14, 5, "The SELECT permission was denied on the object 'dm_exec_requests', database "
                 "'mssqlsystemresource', schema 'sys'."),
    297: (16, 1, "The user does not have permission to perform this action."),
    300: (14, 1, "VIEW SERVER STATE permission was denied on object 'server', database 'master'."),
    1205: (13, 51, "Transaction (Process ID 57) was deadlocked on lock resources with another process and "
                   "has been chosen as the deadlock victim. Rerun the transaction."),
    1222: (16, 56, "Lock request time out period exceeded."),
    4060: (11, 1, "Cannot open database \"missing\" requested by the login. The login failed."),
    8152: (16, 30, "String or binary data would be truncated."),
    8134: (16, 1, "Divide by zero error encountered."),
    18456: (14, 1, "Login failed for user 'dmvlog'."),
}


def rows_result(n: int) -> ResultSet:
    cols = [Column("id", "int", False), Column("name", "nvarchar(50)"), Column("payload", "nvarchar(max)")]
    return ResultSet(cols, [(i, f"name {i}", f"payload of row {i}") for i in range(1, n + 1)])


def error_result(number: int) -> Error:
    severity, state, message = ERRORS.get(number, (16, 1, f"Simulated error {number}."))
    return Error(number, message, state=state, severity=severity)


def _int_arg(arg: str, default: int, lo: int = 0, hi: int = 10_000_000) -> int:
    try:
        return max(lo, min(hi, int(arg)))
    except ValueError:
        return default


class SelfTest(Engine):
    """Answers self-test tags; delegates everything else to the wrapped engine."""

    def __init__(self, inner: Engine):
        self.inner = inner

    def __getattr__(self, name: str) -> Any:  # control, product_version, disconnect, ...
        return getattr(self.inner, name)

    def login(self, session: Session, password: str) -> Optional[Error]:
        return self.inner.login(session, password)

    def accept_connections(self) -> bool:
        return self.inner.accept_connections()

    def answer_on_connect(self) -> bool:
        return self.inner.answer_on_connect()

    def execute(self, session: Session, sql: str, params: dict[str, Any]) -> list[Result]:
        m = TAG_RE.match(sql)
        if not m:
            return self.inner.execute(session, sql, params)
        tag, arg = m.group(1), m.group(2).strip()
        if tag == "selftest_types":
            return [ResultSet(list(TYPES_COLUMNS), [TYPES_ROW, tuple(None for _ in TYPES_COLUMNS)])]
        if tag == "selftest_rows":
            return [rows_result(_int_arg(arg, 10))]
        if tag == "selftest_multi":
            return [ResultSet(r.columns, list(r.rows)) for r in MULTI_RESULTS]
        if tag == "selftest_error":
            return [error_result(_int_arg(arg, 50000, 1, 2_147_483_647))]
        if tag == "selftest_delay":
            try:
                seconds = max(0.0, float(arg or "1"))
            except ValueError:
                seconds = 1.0
            return [Delay(seconds), ResultSet([Column("ok", "int")], [(1,)])]
        if tag == "selftest_hang":
            return [Hang()]
        if tag == "selftest_drop":
            n = _int_arg(arg, 1)
            cols = [Column("id", "int"), Column("name", "nvarchar(50)")]
            return [DropConnection(after_rows=n), ResultSet(cols, [(i, f"row {i}") for i in range(1, n + 11)])]
        if tag == "selftest_info":
            return [Info(50000, "selftest info message", state=1, severity=0),
                    ResultSet([Column("ok", "int")], [(1,)])]
        if tag == "selftest_echo":
            if not params:
                return [ResultSet([Column("sql", "nvarchar(max)")], [(sql,)])]
            cols = [Column(k.lstrip("@"), type_for_value(v)) for k, v in params.items()]
            return [ResultSet(cols, [tuple(params.values())])]
        return [Error(2812, f"Could not find stored procedure '{tag}'.", state=62, severity=16)]


class BasicEngine(Engine):
    """A minimal server: login dmvlog/dmvlog and the statements a client sends right after connecting."""

    LOGIN = "dmvlog"
    PASSWORD = "dmvlog"
    VERSION_TEXT = ("Microsoft SQL Server 2022 (RTM-CU12) (KB5033663) - 16.0.4135.4 (X64) \n"
                    "\tCopyright (C) 2022 Microsoft Corporation\n"
                    "\tDeveloper Edition (64-bit) on Linux (Debian GNU/Linux 12) <X64>")
    product_version = "16.0.4135.4"

    def __init__(self, *args: Any, **kwargs: Any):
        pass

    def login(self, session: Session, password: str) -> Optional[Error]:
        if session.login == self.LOGIN and password == self.PASSWORD:
            return None
        return Error(18456, f"Login failed for user '{session.login}'.", state=1, severity=14)

    def execute(self, session: Session, sql: str, params: dict[str, Any]) -> list[Result]:
        out: list[Result] = []
        for stmt in _statements(sql):
            up = " ".join(stmt.upper().split())
            if up.startswith("SET "):
                m = re.match(r"SET (\w+) (.+)", up)
                if m:
                    session.options[m.group(1)] = m.group(2)
                out.append(RowCount(None))
            elif up.startswith("USE "):
                session.database = stmt.split(None, 1)[1].strip("[] ")
                out.append(Info(5701, f"Changed database context to '{session.database}'.", state=1))
                out.append(RowCount(None))
            elif up == "SELECT @@VERSION":
                out.append(ResultSet([Column("", "nvarchar(300)")], [(self.VERSION_TEXT,)]))
            elif up == "SELECT @@SPID":
                out.append(ResultSet([Column("", "smallint")], [(session.spid,)]))
            elif up == "SELECT 1":
                out.append(ResultSet([Column("", "int")], [(1,)]))
            elif up.startswith("SP_DATATYPE_INFO") or up.startswith("EXEC SP_DATATYPE_INFO"):
                out.append(_type_info(up))
            elif up.startswith("SELECT SERVERPROPERTY('PRODUCTVERSION')"):
                out.append(ResultSet([Column("", "nvarchar(128)")], [(self.product_version,)]))
            elif " FROM " in f" {up} ":
                name = re.search(r"\bFROM\s+([\w.\[\]#@]+)", stmt, re.I)
                out.append(Error(208, f"Invalid object name '{name.group(1) if name else '?'}'.", state=1))
                break
            else:
                word = stmt.split()[0] if stmt.split() else ""
                out.append(Error(102, f"Incorrect syntax near '{word}'.", state=1, severity=15))
                break
        return out


# SQLGetTypeInfo, as FreeTDS asks it ("sp_datatype_info_100 <ODBC type>,3"): ODBC type -> rows of
# (TYPE_NAME, COLUMN_SIZE, MINIMUM_SCALE, MAXIMUM_SCALE). pyodbc reads COLUMN_SIZE to size its parameters
# (the longest varchar, the digits of a timestamp), so the answer must look like SQL Server's.
_TYPE_INFO = {
    12: [("varchar", 8000, None, None)],
    -9: [("nvarchar", 4000, None, None)],
    -3: [("varbinary", 8000, None, None)],
    93: [("datetime2", 27, 0, 7), ("datetime", 23, 3, 3)],
}
_TYPE_INFO_COLUMNS = [Column("TYPE_NAME", "nvarchar(128)"), Column("DATA_TYPE", "smallint"),
                      Column("COLUMN_SIZE", "int"), Column("LITERAL_PREFIX", "varchar(32)"),
                      Column("LITERAL_SUFFIX", "varchar(32)"), Column("CREATE_PARAMS", "varchar(32)"),
                      Column("NULLABLE", "smallint"), Column("CASE_SENSITIVE", "smallint"),
                      Column("SEARCHABLE", "smallint"), Column("UNSIGNED_ATTRIBUTE", "smallint"),
                      Column("FIXED_PREC_SCALE", "smallint"), Column("AUTO_UNIQUE_VALUE", "smallint"),
                      Column("LOCAL_TYPE_NAME", "nvarchar(128)"), Column("MINIMUM_SCALE", "smallint"),
                      Column("MAXIMUM_SCALE", "smallint"), Column("SQL_DATA_TYPE", "smallint"),
                      Column("SQL_DATETIME_SUB", "smallint"), Column("NUM_PREC_RADIX", "int"),
                      Column("INTERVAL_PRECISION", "smallint")]


def _type_info(up: str) -> ResultSet:
    m = re.search(r"SP_DATATYPE_INFO\w*\s+(-?\d+)", up)
    odbc_type = int(m.group(1)) if m else 0
    rows = []
    for name, size, min_scale, max_scale in _TYPE_INFO.get(odbc_type, []):
        quoted = name in ("varchar", "nvarchar") or odbc_type == 93
        sql_type, sub = (9, 3) if odbc_type == 93 else (odbc_type, None)
        rows.append((name, odbc_type, size, "'" if quoted else "0x", "'" if quoted else None,
                     "max length" if name != "datetime2" and odbc_type != 93 else None, 1,
                     0, 3, None, 0, None, name, min_scale, max_scale, sql_type, sub, None, None))
    return ResultSet(list(_TYPE_INFO_COLUMNS), rows)


def _statements(sql: str) -> list[str]:
    """Statements of a batch: comments removed, split at semicolons (good enough for connect-time SQL)."""
    sql = re.sub(r"/\*.*?\*/", " ", sql, flags=re.S)
    sql = re.sub(r"--[^\n]*", " ", sql)
    return [s.strip() for s in sql.split(";") if s.strip()]
