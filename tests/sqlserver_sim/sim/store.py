"""The store: the T-SQL subset of dmvlog's SQL Server store (`/* dmvlog:store */` statements), kept in SQLite.

dmvlog can write its snapshots into SQL Server. The simulator accepts those statements and records the rows in a
SQLite database of its own (a temporary file, made when the first store statement arrives, removed when the
simulator stops), so that a test can compare them with what the agent wrote elsewhere (control commands
`store_tables` and `store_dump`, sim/engine.py).

Each connection has its own SQLite connection (WAL journal): it sees its own uncommitted writes, the others see
committed rows only. Transactions come from the TDS transaction manager (ODBC's autocommit off / SQLEndTran):
`transaction(session, "begin" | "commit" | "rollback", begin_after)`. A session in a transaction takes SQLite's
write lock at its first store statement and keeps it until commit or rollback: one writer at a time; another
session that writes meanwhile gets error 1222 at once (the engine answers under one lock, so a wait could
never end). A statement is atomic (a savepoint around it); a session that disconnects is rolled back.

What is translated (see docs/simulator.md, "The store"):
  CREATE TABLE (types of SQL Server, NOT NULL / NULL, IDENTITY(1,1), DEFAULT, COLLATE, PRIMARY KEY, UNIQUE,
  table constraints), CREATE [UNIQUE] INDEX, ALTER TABLE ... ADD, DROP TABLE / INDEX, INSERT (VALUES, SELECT,
  OUTPUT inserted.x), UPDATE, DELETE [TOP (n)], SELECT [TOP (n)] with what SQLite evaluates (window functions,
  CASE, aggregates), `IF <condition> <statement>` with OBJECT_ID, COL_LENGTH and EXISTS (... sys.indexes ...),
  ISNULL, LEN, table hints (dropped), N'...', [names], dbo., @parameters. Anything else is an error.
"""
from __future__ import annotations

import datetime as dt
import decimal
import os
import re
import shutil
import sqlite3
import tempfile
import uuid
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Union

from sim.results import Column, Error, Result, ResultSet, RowCount

# ---------------------------------------------------------------------------------------------------------
# Tokens

_TOKEN_RE = re.compile(r"""
 (?P<ws>\s+)
|(?P<comment>/\*.*?\*/|--[^\n]*)
|(?P<nstr>[Nn]'(?:[^']|'')*')
|(?P<str>'(?:[^']|'')*')
|(?P<bracket>\[(?:[^\]]|\]\])*\])
|(?P<qident>"(?:[^"]|"")*")
|(?P<hex>0[xX][0-9a-fA-F]*)
|(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
|(?P<param>@@?\w+)
|(?P<ident>[^\W\d][\w$#]*|\#[\w$#]*)
|(?P<op><>|!=|<=|>=|!<|!>|\|\||[-+*/%=<>(),.;~&|^])
""", re.S | re.X)

STORE_TAG_RE = re.compile(r"^/\*\s*dmvlog:store\s*\*/$")


class StoreError(Exception):
    def __init__(self, number: int, message: str, severity: int = 16, abort_batch: bool = True):
        super().__init__(message)
        self.number, self.message, self.severity, self.abort_batch = number, message, severity, abort_batch

    def as_error(self) -> Error:
        return Error(self.number, self.message, severity=self.severity, abort_batch=self.abort_batch)


def syntax_error(near: str, why: str = "") -> StoreError:
    return StoreError(102, f"Incorrect syntax near '{near[:128]}'." + (f" (simulator store: {why})" if why else ""),
                      severity=15)


@dataclass
class Tok:
    kind: str   # ident, bracket, qident, str, nstr, num, hex, param, op, comment
    text: str

    @property
    def up(self) -> str:
        return self.text.upper() if self.kind == "ident" else ""

    @property
    def name(self) -> str:
        """The identifier without its quoting."""
        if self.kind == "bracket":
            return self.text[1:-1].replace("]]", "]")
        if self.kind == "qident":
            return self.text[1:-1].replace('""', '"')
        return self.text

    def is_name(self) -> bool:
        return self.kind in ("ident", "bracket", "qident")

    def string(self) -> str:
        """The value of a string literal."""
        t = self.text[1:] if self.kind == "nstr" else self.text
        return t[1:-1].replace("''", "'")


def tokenize(sql: str) -> list[Tok]:
    out: list[Tok] = []
    pos = 0
    n = len(sql)
    while pos < n:
        m = _TOKEN_RE.match(sql, pos)
        if not m:
            rest = sql[pos:]
            if rest.startswith("'") or rest[:2].upper() == "N'":
                raise StoreError(105, f"Unclosed quotation mark after the character string '{rest[:60]}'.",
                                 severity=15)
            if rest.startswith("/*"):
                raise StoreError(113, "Missing end comment mark '*/'.", severity=15)
            raise syntax_error(rest[:20])
        kind = m.lastgroup or ""
        if kind != "ws":
            out.append(Tok(kind, m.group()))
        pos = m.end()
    return out


def split_statements(toks: list[Tok]) -> list[list[Tok]]:
    """Statements of a batch: split at `;` and before each `/* dmvlog:store */` (FreeTDS sends a parameter
    array executed directly as one batch of the statement repeated with literals, separated by spaces);
    other comments are dropped."""
    out: list[list[Tok]] = []
    cur: list[Tok] = []
    depth = 0
    for t in toks:
        if t.kind == "comment":
            if STORE_TAG_RE.match(t.text) and depth == 0 and cur:
                out.append(cur)
                cur = []
            continue
        if t.kind == "op" and t.text == ";" and depth == 0:
            if cur:
                out.append(cur)
            cur = []
            continue
        if t.kind == "op" and t.text == "(":
            depth += 1
        elif t.kind == "op" and t.text == ")":
            depth -= 1
            if depth < 0:
                raise syntax_error(")")
        cur.append(t)
    if depth != 0:
        raise syntax_error(cur[-1].text if cur else ";", "unbalanced parentheses")
    if cur:
        out.append(cur)
    return out


def match_paren(toks: list[Tok], i: int) -> int:
    """Index of the ')' closing the '(' at i."""
    depth = 0
    for j in range(i, len(toks)):
        if toks[j].kind == "op" and toks[j].text == "(":
            depth += 1
        elif toks[j].kind == "op" and toks[j].text == ")":
            depth -= 1
            if depth == 0:
                return j
    raise syntax_error(toks[i].text, "unbalanced parentheses")


def split_commas(toks: list[Tok]) -> list[list[Tok]]:
    out, cur, depth = [], [], 0
    for t in toks:
        if t.kind == "op" and t.text == "(":
            depth += 1
        elif t.kind == "op" and t.text == ")":
            depth -= 1
        if t.kind == "op" and t.text == "," and depth == 0:
            out.append(cur)
            cur = []
            continue
        cur.append(t)
    out.append(cur)
    return out


def is_op(t: Optional[Tok], text: str) -> bool:
    return t is not None and t.kind == "op" and t.text == text


def object_name(s: str) -> str:
    """'dbo.t', '[dbo].[t]', 't' -> 't' (the last part, unquoted)."""
    parts = [p.strip() for p in re.findall(r"\[(?:[^\]]|\]\])*\]|\"[^\"]*\"|[^.]+", s)]
    last = parts[-1] if parts else s
    if last.startswith("[") or last.startswith('"'):
        last = last[1:-1]
    return last


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# ---------------------------------------------------------------------------------------------------------
# Types

_TYPES = {"bigint": 8, "int": 4, "smallint": 2, "tinyint": 1, "bit": 1, "float": 8, "real": 4, "decimal": 17,
          "numeric": 17, "money": 8, "nvarchar": None, "varchar": None, "nchar": None, "char": None,
          "varbinary": None, "binary": None, "datetime2": 8, "datetime": 8, "date": 3, "time": 5,
          "datetimeoffset": 10, "uniqueidentifier": 16, "sysname": 256}
_TEXT_TYPES = ("nvarchar", "varchar", "nchar", "char", "sysname")
# a word added to the declared type where SQLite's affinity from the name alone would convert values: date and
# time text must stay text ('2027' compared with a datetime2 column), binary values bytes
_AFFINITY = {"datetime2": " text", "datetime": " text", "date": " text", "time": " text", "datetimeoffset": " text",
             "uniqueidentifier": " text", "varbinary": " blob", "binary": " blob"}
_LOCK_HINTS = {"UPDLOCK", "HOLDLOCK", "ROWLOCK", "NOLOCK", "READPAST", "XLOCK", "TABLOCK", "TABLOCKX", "PAGLOCK",
               "SERIALIZABLE", "READCOMMITTED", "READUNCOMMITTED", "REPEATABLEREAD", "NOWAIT", "FORCESEEK"}
_STATEMENT_WORDS = {"CREATE", "ALTER", "DROP", "INSERT", "UPDATE", "DELETE", "SELECT", "WITH", "BEGIN"}


class _Typed:
    """A value read from a column whose declared type is known (sqlite3 converters, PARSE_DECLTYPES)."""
    __slots__ = ("value", "type")

    def __init__(self, value: Any, type_: str):
        self.value, self.type = value, type_


def _conv(kind: str) -> Callable[[bytes], _Typed]:
    def integer(b: bytes) -> _Typed:
        try:
            return _Typed(int(b), kind)
        except ValueError:
            try:
                return _Typed(float(b), "float")
            except ValueError:   # text in a number column (SQL Server would have refused it)
                s = b.decode("utf-8", "replace")
                return _Typed("" if s == _EMPTY else s, "nvarchar")

    def real(b: bytes) -> _Typed:
        try:
            return _Typed(float(b), "float")
        except ValueError:
            s = b.decode("utf-8", "replace")
            return _Typed("" if s == _EMPTY else s, "nvarchar")

    def text(b: bytes) -> _Typed:
        s = b.decode("utf-8", "replace")
        return _Typed("" if s == _EMPTY else s, "nvarchar")

    def binary(b: bytes) -> _Typed:
        return _Typed(bytes(b), "varbinary")

    def datetime2(b: bytes) -> _Typed:
        s = b.decode("utf-8", "replace")
        ok = re.match(r"^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?)?$", s)
        return _Typed(s, "datetime2(7)" if ok else "nvarchar")

    return {"bigint": integer, "int": integer, "bit": integer, "float": real, "text": text, "binary": binary,
            "datetime2": datetime2}[kind]


for _name, _kind in [("bigint", "bigint"), ("integer", "bigint"), ("int", "int"), ("smallint", "int"),
                     ("tinyint", "int"), ("bit", "bit"), ("float", "float"), ("real", "float"),
                     ("decimal", "float"), ("numeric", "float"), ("money", "float"), ("nvarchar", "text"),
                     ("varchar", "text"), ("nchar", "text"), ("char", "text"), ("sysname", "text"),
                     ("uniqueidentifier", "text"), ("date", "text"), ("time", "text"), ("datetime", "datetime2"),
                     ("datetime2", "datetime2"), ("datetimeoffset", "text"), ("varbinary", "binary"),
                     ("binary", "binary")]:
    sqlite3.register_converter(_name, _conv(_kind))


def _column_type(values: list[Any], typed: Optional[str]) -> str:
    nonnull = [v for v in values if v is not None]
    if typed == "nvarchar" or (typed is None and nonnull and all(isinstance(v, str) for v in nonnull)):
        return "nvarchar(4000)" if all(len(v) <= 4000 for v in nonnull if isinstance(v, str)) else "nvarchar(max)"
    if typed == "varbinary" or (typed is None and nonnull and all(isinstance(v, bytes) for v in nonnull)):
        return "varbinary(8000)" if all(len(v) <= 8000 for v in nonnull) else "varbinary(max)"
    if typed:
        if typed in ("bigint", "int", "bit") and any(isinstance(v, float) for v in nonnull):
            return "float"
        return typed
    if any(isinstance(v, float) for v in nonnull):
        return "float"
    if nonnull and all(isinstance(v, int) for v in nonnull):
        return "bigint"
    if nonnull:
        return "nvarchar(max)"
    return "int"


# Python's sqlite3 hands a zero-length value to no converter (it reads as NULL), so an empty string parameter
# is stored as this marker and read back as ''.
_EMPTY = "\ue000"


def _param_value(v: Any) -> Any:
    if isinstance(v, str) and v == "":
        return _EMPTY
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, decimal.Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, dt.datetime):
        s = v.strftime("%Y-%m-%d %H:%M:%S.%f") + "0"
        return s + (v.strftime(" %z") if v.tzinfo else "")
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, uuid.UUID):
        return str(v).upper()
    if isinstance(v, bytearray):
        return bytes(v)
    return v


# ---------------------------------------------------------------------------------------------------------
# Translation: tokens -> a plan. Parts of the SQLite text that depend on the schema at execution time
# (OBJECT_ID, COL_LENGTH, EXISTS over sys.indexes) are functions of the SQLite connection.

Piece = Union[str, Callable[[sqlite3.Connection], str]]


_SESSION_OPTIONS = ("XACT_ABORT", "LOCK_TIMEOUT", "DATEFORMAT", "NOCOUNT", "ANSI_NULLS", "QUOTED_IDENTIFIER")


@dataclass
class Plan:
    kind: str                              # ddl, insert, update, delete, select, skip
    pieces: list[Piece] = field(default_factory=list)
    more: list[list[Piece]] = field(default_factory=list)   # further statements run with it (ALTER ADD a, b)
    condition: Optional[list[Piece]] = None                 # IF <condition>
    params: list[str] = field(default_factory=list)
    label: str = ""                                         # the first words, for errors and the log


def _table_exists(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE",
                        (name,)).fetchone() is not None


def _declared(decl: Optional[str]) -> str:
    """The SQL Server type of a column as SQLite declares it ('datetime2(7) text' -> 'datetime2(7)')."""
    d = (decl or "").lower()
    for suffix in set(_AFFINITY.values()):
        if d.endswith(suffix):
            return d[:-len(suffix)]
    return d


def _object_id(conn: sqlite3.Connection, name: str, kind: Optional[str]) -> str:
    if kind is not None and kind.strip().upper() not in ("U",):
        return " NULL"
    return f" {zlib.crc32(name.lower().encode()) & 0x3FFFFFFF or 1}" if _table_exists(conn, name) else " NULL"


def _col_length(conn: sqlite3.Connection, table: str, col: str) -> str:
    if not _table_exists(conn, table):
        return " NULL"
    for row in conn.execute(f"PRAGMA table_info({q(table)})"):
        if row[1].lower() == col.lower():
            decl = _declared(row[2])
            base = decl.split("(")[0].strip().lower()
            m = re.search(r"\((\w+)", decl)
            if base in _TYPES and _TYPES[base] is not None:
                return f" {_TYPES[base]}"
            if m and m.group(1).lower() == "max":
                return " -1"
            n = int(m.group(1)) if m and m.group(1).isdigit() else 1
            return f" {2 * n if base in ('nvarchar', 'nchar') else n}"
    return " NULL"


def _index_name(table: str, index: str) -> str:
    return f"{table}__{index}"


def _index_exists(conn: sqlite3.Connection, table: str, index: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ? COLLATE NOCASE",
                        (_index_name(table, index),)).fetchone() is not None


class Translator:
    def __init__(self, toks: list[Tok]):
        self.toks = toks
        self.params: list[str] = []

    # -- expressions and DML (token by token)

    def expr(self, toks: list[Tok]) -> list[Piece]:
        """Tokens of a DML statement or expression as SQLite text pieces."""
        out: list[Piece] = []
        limits: dict[int, list[Piece]] = {}     # depth of a SELECT TOP -> its LIMIT
        depth = 0
        i = 0
        n = len(toks)
        while i < n:
            t = toks[i]
            nxt = toks[i + 1] if i + 1 < n else None
            if t.kind == "op" and t.text == "(":
                depth += 1
                out.append("(")
            elif t.kind == "op" and t.text == ")":
                if depth in limits:
                    out += [" LIMIT "] + limits.pop(depth)
                depth -= 1
                out.append(")")
            elif t.is_name() and t.name.lower() == "dbo" and is_op(nxt, "."):
                i += 2
                continue
            elif t.up == "SYS" and is_op(nxt, "."):
                raise StoreError(208, f"Invalid object name 'sys.{toks[i + 2].text if i + 2 < n else ''}'. "
                                      "(the simulator's store knows sys.indexes in IF EXISTS only)")
            elif t.up == "WITH" and is_op(nxt, "(") and i + 2 < n and toks[i + 2].up in _LOCK_HINTS:
                i = match_paren(toks, i + 1) + 1
                continue
            elif t.up == "EXISTS" and is_op(nxt, "(") and self._sys_indexes(toks, i + 1):
                end = match_paren(toks, i + 1)
                out.append(self._index_check(toks[i + 2:end]))
                i = end + 1
                continue
            elif t.up in ("OBJECT_ID", "COL_LENGTH") and is_op(nxt, "("):
                end = match_paren(toks, i + 1)
                args = [a for a in split_commas(toks[i + 2:end])]
                if not all(len(a) == 1 and a[0].kind in ("str", "nstr") for a in args):
                    raise syntax_error(t.text, f"{t.up} takes string literals here")
                vals = [a[0].string() for a in args]
                if t.up == "OBJECT_ID" and len(vals) in (1, 2):
                    name, kind = object_name(vals[0]), (vals[1] if len(vals) == 2 else None)
                    out.append(lambda c, name=name, kind=kind: _object_id(c, name, kind))
                elif t.up == "COL_LENGTH" and len(vals) == 2:
                    table, col = object_name(vals[0]), vals[1]
                    out.append(lambda c, table=table, col=col: _col_length(c, table, col))
                else:
                    raise syntax_error(t.text, "wrong number of arguments")
                i = end + 1
                continue
            elif t.up == "TOP":
                if nxt is None:
                    raise syntax_error("TOP")
                if is_op(nxt, "("):
                    end = match_paren(toks, i + 1)
                    lim = self.expr(toks[i + 2:end])
                    i = end + 1
                else:
                    lim = self.expr([nxt])
                    i += 2
                if i < n and toks[i].up in ("PERCENT", "WITH"):
                    raise syntax_error(toks[i].text, "TOP ... PERCENT / WITH TIES is not supported")
                limits[depth] = ["("] + lim + [")"]
                continue
            elif t.up == "OFFSET":
                # ORDER BY ... OFFSET m ROWS FETCH NEXT n ROWS ONLY -> LIMIT n OFFSET m
                k = i + 1
                while k < n and toks[k].up not in ("ROWS", "ROW"):
                    k += 1
                offset = self.expr(toks[i + 1:k])
                if not (k + 2 < n and toks[k + 1].up == "FETCH" and toks[k + 2].up in ("NEXT", "FIRST")):
                    raise syntax_error(t.text, "OFFSET m ROWS FETCH NEXT n ROWS ONLY")
                j = k + 3
                while j < n and toks[j].up not in ("ROWS", "ROW"):
                    j += 1
                fetch = self.expr(toks[k + 3:j])
                if not (j + 1 < n and toks[j + 1].up == "ONLY"):
                    raise syntax_error(t.text, "OFFSET m ROWS FETCH NEXT n ROWS ONLY")
                out += [" LIMIT ("] + fetch + [") OFFSET ("] + offset + [")"]
                i = j + 2
                continue
            elif t.up == "ISNULL":
                out.append(" IFNULL")
            elif t.up == "LEN":
                out.append(" LENGTH")
            elif t.up in ("OUTPUT", "MERGE", "DECLARE", "EXEC", "EXECUTE", "GOTO", "WHILE", "PRINT", "RAISERROR",
                          "THROW", "TRY", "CATCH", "OPTION", "COLLATE", "APPLY", "INTO") and not (
                    t.up == "INTO" and i > 0 and toks[i - 1].up == "INSERT"):
                raise syntax_error(t.text, f"{t.up} is not supported by the simulator's store here")
            elif t.kind == "param":
                if t.text.startswith("@@"):
                    raise syntax_error(t.text, "global variables are not supported")
                name = t.text[1:]
                if name not in self.params:
                    self.params.append(name)
                out.append(" @" + name)
            elif t.kind == "nstr":
                out.append(" " + t.text[1:])
            elif t.kind == "hex":
                h = t.text[2:]
                out.append(f" X'{h if len(h) % 2 == 0 else '0' + h}'")
            elif t.kind in ("bracket", "qident"):
                out.append(" " + q(t.name))
            elif t.kind == "op" and t.text in ("!<", "!>"):
                out.append(" >=" if t.text == "!<" else " <=")
            else:
                out.append(" " + t.text)
            i += 1
        if depth in limits:
            out += [" LIMIT "] + limits.pop(depth)
        return out

    @staticmethod
    def _sys_indexes(toks: list[Tok], open_at: int) -> bool:
        end = match_paren(toks, open_at)
        inner = toks[open_at + 1:end]
        return any(inner[k].up == "SYS" and is_op(inner[k + 1] if k + 1 < len(inner) else None, ".")
                   and k + 2 < len(inner) and inner[k + 2].name.upper() == "INDEXES" for k in range(len(inner)))

    def _index_check(self, inner: list[Tok]) -> Piece:
        """EXISTS (SELECT ... FROM sys.indexes WHERE object_id = OBJECT_ID(N't') AND name = N'ix')."""
        table = index = None
        for k, t in enumerate(inner):
            if t.up == "OBJECT_ID" and k + 2 < len(inner) and inner[k + 2].kind in ("str", "nstr"):
                table = object_name(inner[k + 2].string())
            if t.is_name() and t.name.lower() == "name" and k + 2 < len(inner) and is_op(inner[k + 1], "=") \
                    and inner[k + 2].kind in ("str", "nstr"):
                index = inner[k + 2].string()
        if table is None or index is None:
            raise syntax_error("sys.indexes", "EXISTS over sys.indexes needs object_id = OBJECT_ID(N'...') "
                                              "AND name = N'...'")
        return lambda c: " (1 = 1)" if _index_exists(c, table, index) else " (1 = 0)"

    # -- statements

    def plan(self) -> Plan:
        toks = self.toks
        if not toks:
            return Plan("skip")
        label = " ".join(t.text for t in toks[:4])
        condition = None
        if toks[0].up == "IF":
            depth, k = 0, 1
            while k < len(toks):
                t = toks[k]
                if is_op(t, "("):
                    depth += 1
                elif is_op(t, ")"):
                    depth -= 1
                elif depth == 0 and t.up in _STATEMENT_WORDS and k > 1:
                    break
                k += 1
            if k >= len(toks) or k == 1:
                raise syntax_error(toks[-1].text, "IF without a statement")
            condition = self.expr(toks[1:k])
            toks = toks[k:]
            if toks[0].up == "BEGIN":
                if toks[-1].up != "END":
                    raise syntax_error("BEGIN", "BEGIN without END")
                toks = toks[1:-1]
        plan = self._statement(toks)
        plan.condition = condition
        plan.params = self.params
        plan.label = label
        return plan

    def _statement(self, toks: list[Tok]) -> Plan:
        w = [t.up for t in toks[:4]]
        first = w[0] if w else ""
        if first == "CREATE" and len(w) > 1 and w[1] == "TABLE":
            return self._create_table(toks)
        if first == "CREATE" and "INDEX" in w:
            return self._create_index(toks)
        if first == "ALTER" and len(w) > 1 and w[1] == "TABLE":
            return self._alter_table(toks)
        if first == "DROP" and len(w) > 1 and w[1] == "TABLE":
            return Plan("ddl", self.expr(toks))
        if first == "DROP" and len(w) > 1 and w[1] == "INDEX":
            # DROP INDEX ix ON t
            on = next((k for k, t in enumerate(toks) if t.up == "ON"), None)
            if on is None or on != 3 or len(toks) < 5:
                raise syntax_error(toks[-1].text, "DROP INDEX ix ON t")
            table = self._table_name(toks[on + 1:])
            return Plan("ddl", [f"DROP INDEX {q(_index_name(table, toks[2].name))}"])
        if first == "SET" and len(w) > 1 and w[1] in _SESSION_OPTIONS:
            # Session options the store sets at connect (XACT_ABORT, LOCK_TIMEOUT, DATEFORMAT, NOCOUNT): the
            # simulator's store behaves as they ask already (a failed statement ends the batch; ISO dates).
            return Plan("skip")
        if first == "INSERT":
            return self._insert(toks)
        if first == "DELETE":
            return self._delete(toks)
        if first == "UPDATE":
            if any(t.up == "OUTPUT" for t in toks):
                raise syntax_error("OUTPUT", "OUTPUT is supported in INSERT only")
            return Plan("update", self.expr(toks))
        if first in ("SELECT", "WITH"):
            if any(t.up == "INTO" for t in toks):
                raise syntax_error("INTO", "SELECT ... INTO is not supported")
            return Plan("select", self.expr(toks))
        raise syntax_error(toks[0].text if toks else ";", "not a statement the simulator's store knows")

    @staticmethod
    def _table_name(toks: list[Tok]) -> str:
        """dbo.t / [dbo].[t] / t at the start of toks."""
        if len(toks) >= 3 and is_op(toks[1], ".") and toks[2].is_name():
            return toks[2].name
        if toks and toks[0].is_name():
            return toks[0].name
        raise syntax_error(toks[0].text if toks else ";", "a table name was expected")

    @staticmethod
    def _name_len(toks: list[Tok]) -> int:
        return 3 if len(toks) >= 3 and is_op(toks[1], ".") else 1

    def _column(self, d: list[Tok], table: str, identity_pk: bool) -> tuple[str, list[str], bool]:
        """One column definition: (SQLite text, CHECK constraints, is identity)."""
        name = d[0].name
        if len(d) < 2 or not d[1].is_name():
            raise syntax_error(d[0].text, "a column needs a type")
        base = d[1].name.lower()
        if base not in _TYPES:
            raise StoreError(2715, f"Column, parameter, or variable #0: Cannot find data type {d[1].name}.")
        k = 2
        type_text = base
        size: Optional[str] = None
        if k < len(d) and is_op(d[k], "("):
            end = match_paren(d, k)
            args = [a.text for a in d[k + 1:end] if not is_op(a, ",")]
            type_text = f"{base}({','.join(args).lower()})"
            size = args[0].lower() if args else None
            k = end + 1
        parts: list[str] = []
        checks: list[str] = []
        identity = False
        collation: Optional[str] = None
        not_null = False
        while k < len(d):
            t = d[k]
            if t.up == "NOT" and k + 1 < len(d) and d[k + 1].up == "NULL":
                not_null = True
                k += 2
            elif t.up == "NULL":
                k += 1
            elif t.up == "IDENTITY":
                if k + 1 < len(d) and is_op(d[k + 1], "("):
                    end = match_paren(d, k + 1)
                    if [a.text for a in d[k + 2:end] if not is_op(a, ",")] not in (["1", "1"],):
                        raise syntax_error("IDENTITY", "only IDENTITY(1,1) is supported")
                    k = end + 1
                else:
                    k += 1
                identity = True
            elif t.up == "COLLATE" and k + 1 < len(d):
                c = d[k + 1].name.upper()
                collation = "BINARY" if ("_BIN" in c or "_CS_" in c) else "NOCASE"
                k += 2
            elif t.up == "DEFAULT":
                k += 1
                start = k
                if k < len(d) and is_op(d[k], "("):
                    k = match_paren(d, k) + 1
                elif k < len(d) and is_op(d[k], "-"):
                    k += 2
                else:
                    k += 1
                parts.append("DEFAULT (" + "".join(p for p in self.expr(d[start:k]) if isinstance(p, str)) + ")")
            elif t.up == "CONSTRAINT" and k + 1 < len(d):
                k += 2
            elif t.up == "PRIMARY" and k + 1 < len(d) and d[k + 1].up == "KEY":
                k += 2
                while k < len(d) and d[k].up in ("CLUSTERED", "NONCLUSTERED"):
                    k += 1
                if not identity:
                    parts.append("PRIMARY KEY")
            elif t.up == "UNIQUE":
                parts.append("UNIQUE")
                k += 1
                while k < len(d) and d[k].up in ("CLUSTERED", "NONCLUSTERED"):
                    k += 1
            else:
                raise syntax_error(t.text, f"in the definition of column {name}")
        if identity:
            if base not in ("bigint", "int"):
                raise StoreError(2749, f"Identity column '{name}' must be of data type int, bigint, smallint, "
                                       "tinyint, or decimal or numeric with a scale of 0, and constrained to be "
                                       "nonnullable.")
            return f"{q(name)} INTEGER PRIMARY KEY AUTOINCREMENT", [], True
        text = f"{q(name)} {q(type_text + _AFFINITY.get(base, ''))}"
        if not_null:
            text += " NOT NULL"
        if parts:
            text += " " + " ".join(parts)
        if base in _TEXT_TYPES:
            text += f" COLLATE {collation or 'NOCASE'}"
        if size and size.isdigit() and base in ("nvarchar", "varchar", "nchar", "char", "varbinary", "binary"):
            checks.append(f"CONSTRAINT {q('truncate:' + name)} CHECK (length({q(name)}) <= {int(size)})")
        return text, checks, False

    def _create_table(self, toks: list[Tok]) -> Plan:
        table = self._table_name(toks[2:])
        k = 2 + self._name_len(toks[2:])
        if k >= len(toks) or not is_op(toks[k], "("):
            raise syntax_error(toks[min(k, len(toks) - 1)].text, "CREATE TABLE t (...)")
        end = match_paren(toks, k)
        tail = toks[end + 1:]
        if tail and not (tail[0].up == "ON" or tail[0].up == "WITH"):
            raise syntax_error(tail[0].text)
        defs = split_commas(toks[k + 1:end])
        identity_col = None
        for d in defs:
            if d and d[0].up not in ("CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN") and \
                    any(t.up == "IDENTITY" for t in d):
                identity_col = d[0].name
        cols: list[str] = []
        checks: list[str] = []
        constraints: list[str] = []
        for d in defs:
            if not d:
                raise syntax_error(")")
            if d[0].up in ("CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"):
                c = d
                cname = None
                if c[0].up == "CONSTRAINT":
                    cname = c[1].name
                    c = c[2:]
                c = [t for t in c if t.up not in ("CLUSTERED", "NONCLUSTERED", "ASC", "DESC")]
                if c and c[0].up == "PRIMARY" and len(c) > 2 and is_op(c[2], "("):
                    pk_cols = [t.name.lower() for t in c[3:match_paren(c, 2)] if t.is_name()]
                    if identity_col is not None:
                        if pk_cols == [identity_col.lower()]:
                            continue
                        c = [Tok("ident", "UNIQUE")] + c[2:]
                elif c and c[0].up == "CHECK":
                    pass
                elif not (c and c[0].up in ("UNIQUE", "FOREIGN", "PRIMARY")):
                    raise syntax_error(d[0].text, "a table constraint the simulator does not know")
                body = "".join(p for p in self.expr(c) if isinstance(p, str))
                constraints.append((f"CONSTRAINT {q(cname)} " if cname else "") + body)
                continue
            text, chk, _ = self._column(d, table, False)
            cols.append(text)
            checks += chk
        sql = f"CREATE TABLE {q(table)} (" + ", ".join(cols + constraints + checks) + ")"
        return Plan("ddl", [sql])

    def _create_index(self, toks: list[Tok]) -> Plan:
        k = 1
        unique = False
        while k < len(toks) and toks[k].up in ("UNIQUE", "CLUSTERED", "NONCLUSTERED"):
            unique = unique or toks[k].up == "UNIQUE"
            k += 1
        if k + 3 >= len(toks) or toks[k].up != "INDEX" or toks[k + 2].up != "ON":
            raise syntax_error(toks[min(k, len(toks) - 1)].text, "CREATE [UNIQUE] INDEX ix ON t (...)")
        index = toks[k + 1].name
        table = self._table_name(toks[k + 3:])
        p = k + 3 + self._name_len(toks[k + 3:])
        if p >= len(toks) or not is_op(toks[p], "("):
            raise syntax_error(toks[min(p, len(toks) - 1)].text)
        end = match_paren(toks, p)
        cols = [t for t in toks[p + 1:end]]
        rest = toks[end + 1:]
        where: list[Tok] = []
        while rest:
            if rest[0].up == "INCLUDE" and len(rest) > 1 and is_op(rest[1], "("):
                rest = rest[match_paren(rest, 1) + 1:]
            elif rest[0].up == "WHERE":
                stop = next((j for j, t in enumerate(rest) if t.up in ("WITH", "ON") and j > 0), len(rest))
                where, rest = rest[:stop], rest[stop:]
            elif rest[0].up in ("WITH", "ON"):
                rest = []
            else:
                raise syntax_error(rest[0].text)
        col_text = "".join(p for p in self.expr(cols) if isinstance(p, str))
        where_text = "".join(p for p in self.expr(where) if isinstance(p, str)) if where else ""
        iname = _index_name(table, index)

        def sql(c: sqlite3.Connection) -> str:
            if _index_exists(c, table, index):
                raise StoreError(1913, f"The operation failed because an index or statistics with name '{index}' "
                                       f"already exists on table 'dbo.{table}'.")
            if not _table_exists(c, table):
                raise StoreError(1088, f"Cannot find the object \"dbo.{table}\" because it does not exist or you "
                                       "do not have permissions.")
            return f"CREATE {'UNIQUE ' if unique else ''}INDEX {q(iname)} ON {q(table)} ({col_text}){where_text}"
        return Plan("ddl", [sql])

    def _alter_table(self, toks: list[Tok]) -> Plan:
        table = self._table_name(toks[2:])
        k = 2 + self._name_len(toks[2:])
        if k >= len(toks):
            raise syntax_error(toks[-1].text)
        if toks[k].up == "ADD":
            stmts: list[list[Piece]] = []
            for d in split_commas(toks[k + 1:]):
                if not d or d[0].up in ("CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"):
                    raise syntax_error(d[0].text if d else ",", "ALTER TABLE ADD of constraints is not supported")
                text, checks, identity = self._column(d, table, False)
                if identity:
                    raise syntax_error("IDENTITY", "ALTER TABLE ADD of an identity column is not supported")
                stmts.append([f"ALTER TABLE {q(table)} ADD COLUMN {text}" + "".join(" " + c for c in checks)])
            return Plan("ddl", stmts[0], more=stmts[1:])
        if toks[k].up == "DROP" and k + 1 < len(toks) and toks[k + 1].up == "COLUMN":
            return Plan("ddl", [f"ALTER TABLE {q(table)} DROP COLUMN {q(toks[k + 2].name)}"])
        raise syntax_error(toks[k].text, "ALTER TABLE supports ADD and DROP COLUMN only")

    def _insert(self, toks: list[Tok]) -> Plan:
        if len(toks) > 1 and toks[1].up != "INTO":
            toks = [toks[0], Tok("ident", "INTO")] + toks[1:]
        out_at = next((k for k, t in enumerate(toks) if t.up == "OUTPUT"), None)
        if out_at is None:
            return Plan("insert", self.expr(toks))
        stop = next((k for k in range(out_at + 1, len(toks)) if toks[k].up in ("SELECT", "VALUES", "DEFAULT")),
                    None)
        if stop is None:
            raise syntax_error("OUTPUT")
        items = split_commas(toks[out_at + 1:stop])
        returning: list[str] = []
        for it in items:
            if len(it) >= 3 and it[0].up == "INSERTED" and is_op(it[1], "."):
                alias = ""
                rest = it[3:]
                if rest and rest[0].up == "AS":
                    rest = rest[1:]
                if len(rest) == 1 and rest[0].is_name():
                    alias = " AS " + q(rest[0].name)
                elif rest:
                    raise syntax_error(rest[0].text)
                returning.append(("*" if is_op(it[2], "*") else q(it[2].name)) + alias)
            else:
                raise syntax_error(it[0].text if it else "OUTPUT", "OUTPUT inserted.<column> [, ...] only")
        body = self.expr(toks[:out_at] + toks[stop:])
        return Plan("insert", body + [" RETURNING " + ", ".join(returning)])

    def _delete(self, toks: list[Tok]) -> Plan:
        k = 1
        limit: Optional[list[Piece]] = None
        if k < len(toks) and toks[k].up == "TOP":
            if k + 1 < len(toks) and is_op(toks[k + 1], "("):
                end = match_paren(toks, k + 1)
                limit = self.expr(toks[k + 2:end])
                k = end + 1
            else:
                limit = self.expr(toks[k + 1:k + 2])
                k += 2
        if k < len(toks) and toks[k].up == "FROM":
            k += 1
        if any(t.up == "OUTPUT" for t in toks):
            raise syntax_error("OUTPUT", "OUTPUT is supported in INSERT only")
        table = self._table_name(toks[k:])
        rest = toks[k + self._name_len(toks[k:]):]
        if rest and rest[0].up == "WITH" and len(rest) > 1 and is_op(rest[1], "("):
            rest = rest[match_paren(rest, 1) + 1:]
        if rest and rest[0].up != "WHERE":
            raise syntax_error(rest[0].text, "DELETE [TOP (n)] [FROM] t [WHERE ...]")
        where = self.expr(rest)
        if limit is None:
            return Plan("delete", [f"DELETE FROM {q(table)}"] + where)
        return Plan("delete", [f"DELETE FROM {q(table)} WHERE rowid IN (SELECT rowid FROM {q(table)}"] + where
                    + [" LIMIT ("] + limit + ["))"])


# ---------------------------------------------------------------------------------------------------------
# The store


@dataclass
class _Session:
    conn: sqlite3.Connection
    in_tran: bool = False      # the client began a transaction (TM begin)
    active: bool = False       # SQLite's transaction is open (the first statement after the begin)


def _sqlite_error(e: sqlite3.Error, plan: Plan) -> StoreError:
    msg = str(e)
    low = msg.lower()
    if isinstance(e, sqlite3.IntegrityError):
        if "unique constraint failed" in low:
            cols = msg.split(":", 1)[1].strip() if ":" in msg else ""
            table = cols.split(".")[0] if cols else "?"
            return StoreError(2627, f"Violation of PRIMARY KEY or UNIQUE constraint on ({cols}). Cannot insert "
                                    f"duplicate key in object 'dbo.{table}'.", severity=14, abort_batch=False)
        if "not null constraint failed" in low:
            col = msg.split(":", 1)[1].strip() if ":" in msg else "?"
            table, _, c = col.partition(".")
            return StoreError(515, f"Cannot insert the value NULL into column '{c}', table 'dbo.{table}'; column "
                                   "does not allow nulls. INSERT fails.", abort_batch=False)
        if "truncate:" in low:
            col = msg.split("truncate:", 1)[1].strip()
            return StoreError(2628, f"String or binary data would be truncated in column '{col}'.",
                              abort_batch=False)
        return StoreError(547, f"The statement conflicted with a constraint: {msg}", abort_batch=False)
    if "database is locked" in low or "database table is locked" in low:
        return StoreError(1222, "Lock request time out period exceeded. (simulator store: another session holds "
                                "the write lock until its transaction ends)", abort_batch=False)
    m = re.match(r"no such table: (?:main\.)?(.+)", msg)
    if m:
        return StoreError(208, f"Invalid object name 'dbo.{m.group(1)}'.")
    m = re.match(r"(?:no such column|table \S+ has no column named): ?(.+)", msg)
    if m:
        return StoreError(207, f"Invalid column name '{m.group(1).split('.')[-1]}'.")
    m = re.match(r"table (?:\"?)(.+?)(?:\"?) already exists", msg)
    if m:
        return StoreError(2714, f"There is already an object named '{m.group(1)}' in the database.")
    m = re.match(r"duplicate column name: (.+)", msg)
    if m:
        return StoreError(2705, f"Column names in each table must be unique. Column name '{m.group(1)}' is "
                                "specified more than once.")
    return StoreError(102, f"Incorrect syntax near '{plan.label[:60]}'. (simulator store: SQLite says: {msg})",
                      severity=15)


class Store:
    def __init__(self, path: Optional[str] = None):
        self._dir: Optional[str] = None
        self._path = path
        self._reader: Optional[sqlite3.Connection] = None
        self.sessions: dict[int, _Session] = {}
        self._plans: dict[str, list[Plan]] = {}
        self.statements = 0
        self.errors = 0
        self.rows_inserted = 0
        self.rows_updated = 0
        self.rows_deleted = 0
        self.commits = 0
        self.rollbacks = 0

    # -- files and connections

    def _file(self) -> str:
        if self._path is None:
            self._dir = tempfile.mkdtemp(prefix="sqlserver-sim-store-")
            self._path = os.path.join(self._dir, "store.sqlite")
        return self._path

    def _connect(self) -> sqlite3.Connection:
        c = sqlite3.connect(self._file(), isolation_level=None, check_same_thread=False, timeout=0,
                            detect_types=sqlite3.PARSE_DECLTYPES)
        c.execute("PRAGMA journal_mode=WAL")
        # SQL Server's CONCAT: NULL is '', numbers as text (SQLite 3.40 has no concat()).
        c.create_function("CONCAT", -1, lambda *a: "".join("" if v is None else ("" if v == _EMPTY else str(v)) for v in a),
                          deterministic=True)
        return c

    def _session(self, spid: int) -> _Session:
        s = self.sessions.get(spid)
        if s is None:
            s = self.sessions[spid] = _Session(self._connect())
        return s

    def close(self) -> None:
        for s in self.sessions.values():
            try:
                s.conn.close()
            except sqlite3.Error:
                pass
        self.sessions.clear()
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
            self._path = None

    # -- transactions

    def transaction(self, spid: int, request: str, begin_after: bool = False) -> list[Result]:
        """A TDS transaction-manager request of a session: begin, commit or rollback (begin_after: the
        client asked for a new transaction at once, as FreeTDS does while autocommit is off)."""
        s = self.sessions.get(spid)
        if request == "begin":
            if s is None:
                s = self._session(spid)
            s.in_tran = True
            return []
        if s is not None and s.active:
            try:
                s.conn.execute("COMMIT" if request == "commit" else "ROLLBACK")
            except sqlite3.Error as e:
                return [Error(3902, f"The {request.upper()} TRANSACTION request failed: {e}")]
            s.active = False
            if request == "commit":
                self.commits += 1
            else:
                self.rollbacks += 1
        if s is not None:
            s.in_tran = begin_after
        elif begin_after:
            self._session(spid).in_tran = True
        return []

    def disconnect(self, spid: int) -> None:
        s = self.sessions.pop(spid, None)
        if s is not None:
            if s.active:
                self.rollbacks += 1
            try:
                s.conn.close()   # an open transaction is rolled back
            except sqlite3.Error:
                pass

    # -- statements

    def execute(self, spid: int, sql: str, params: dict[str, Any]) -> list[Result]:
        """A batch or RPC statement of the store: the answers of its statements in order."""
        plans = self._plans.get(sql)
        if plans is None:
            try:
                plans = [Translator(st).plan() for st in split_statements(tokenize(sql))]
            except StoreError as e:   # nothing of the batch runs, as SQL Server compiles the batch first
                self.errors += 1
                return [e.as_error()]
            # Translated once per text, like a plan cache: the store runs the same few statements all day.
            if len(self._plans) >= 512:
                self._plans.clear()
            self._plans[sql] = plans
        if not plans:
            return [RowCount(None)]
        values = {k.lstrip("@"): _param_value(v) for k, v in (params or {}).items()}
        s = self._session(spid)
        out: list[Result] = []
        for plan in plans:
            missing = [p for p in plan.params if p not in values]
            if missing:
                self.errors += 1
                out.append(Error(137, f'Must declare the scalar variable "@{missing[0]}".', severity=15))
                break
            try:
                out += self._run(s, plan, values)
                self.statements += 1
            except StoreError as e:
                self.errors += 1
                out.append(e.as_error())
                if e.abort_batch:
                    break
        return out

    def _text(self, conn: sqlite3.Connection, pieces: list[Piece]) -> str:
        return "".join(p if isinstance(p, str) else p(conn) for p in pieces)

    def _run(self, s: _Session, plan: Plan, values: dict[str, Any]) -> list[Result]:
        conn = s.conn
        if s.in_tran and not s.active:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as e:
                raise _sqlite_error(e, plan) from None
            s.active = True
        try:
            conn.execute("SAVEPOINT stmt")
        except sqlite3.Error as e:
            raise _sqlite_error(e, plan) from None
        try:
            result = self._run_in_savepoint(conn, plan, values)
            conn.execute("RELEASE stmt")
            return result
        except StoreError:
            self._undo(conn)
            raise
        except sqlite3.Error as e:
            self._undo(conn)
            raise _sqlite_error(e, plan) from None
        except (OverflowError, ValueError) as e:
            self._undo(conn)
            raise StoreError(8115, f"Arithmetic overflow error converting a value: {e}") from None

    @staticmethod
    def _undo(conn: sqlite3.Connection) -> None:
        try:
            conn.execute("ROLLBACK TO stmt")
            conn.execute("RELEASE stmt")
        except sqlite3.Error:
            pass

    def _run_in_savepoint(self, conn: sqlite3.Connection, plan: Plan, values: dict[str, Any]) -> list[Result]:
        if plan.kind == "skip":
            return [RowCount(None)]
        if plan.condition is not None:
            cond = self._text(conn, plan.condition)
            row = conn.execute(f"SELECT CASE WHEN {cond} THEN 1 ELSE 0 END", values).fetchone()
            if not row or row[0] in (0, None) or (isinstance(row[0], _Typed) and not row[0].value):
                return [RowCount(None)]
        used = {k: values[k] for k in plan.params}
        cur = conn.execute(self._text(conn, plan.pieces), used)
        for more in plan.more:
            conn.execute(self._text(conn, more), used)
        if plan.kind == "ddl":
            return [RowCount(None)]
        if cur.description:
            rows = cur.fetchall()
            result = self._resultset(cur.description, rows)
            if plan.kind == "insert":
                self.rows_inserted += len(rows)
            return [result]
        n = max(cur.rowcount, 0)
        if plan.kind == "insert":
            self.rows_inserted += n
        elif plan.kind == "update":
            self.rows_updated += n
        elif plan.kind == "delete":
            self.rows_deleted += n
        return [RowCount(n)]

    @staticmethod
    def _resultset(description: Any, rows: list[tuple]) -> ResultSet:
        ncol = len(description)
        typed: list[Optional[str]] = [None] * ncol
        plain = []
        for r in rows:
            vals = []
            for i, v in enumerate(r):
                if isinstance(v, _Typed):
                    if typed[i] is None:
                        typed[i] = v.type
                    v = v.value
                vals.append(v)
            plain.append(tuple(vals))
        cols = []
        for i, d in enumerate(description):
            name = d[0] or ""
            if re.search(r"[()\s*]", name):
                name = ""     # an expression without an alias has no name in SQL Server
            ctype = _column_type([r[i] for r in plain], typed[i])
            if ctype == "datetime2(7)" and any(isinstance(r[i], str) and not re.match(r"^\d{4}-", r[i])
                                               for r in plain):
                ctype = "nvarchar(max)"
            cols.append(Column(name, ctype))
        return ResultSet(cols, plain)

    # -- what tests read (control port)

    def _read(self) -> Optional[sqlite3.Connection]:
        if self._path is None:
            return None
        if self._reader is None:
            self._reader = self._connect()
        return self._reader

    def tables(self) -> list[dict]:
        c = self._read()
        if c is None:
            return []
        names = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                                         "'sqlite_%' ORDER BY name")]
        return [{"name": n, "rows": c.execute(f"SELECT COUNT(*) FROM {q(n)}").fetchone()[0]} for n in names]

    def dump(self, table: str) -> dict:
        c = self._read()
        name = object_name(table)
        if c is None or not _table_exists(c, name):
            raise ValueError(f"no store table {table!r}")
        info = list(c.execute(f"PRAGMA table_info({q(name)})"))
        cur = c.execute(f"SELECT * FROM {q(name)} ORDER BY rowid")
        rows = []
        for r in cur.fetchall():
            vals = []
            for v in r:
                v = v.value if isinstance(v, _Typed) else v
                v = "" if v == _EMPTY else v
                vals.append(v.hex() if isinstance(v, bytes) else v)
            rows.append(vals)
        return {"table": name, "columns": [i[1] for i in info],
                "types": ["bigint identity" if i[2] == "INTEGER" else _declared(i[2]) for i in info], "rows": rows}

    def stats(self) -> dict:
        return {"statements": self.statements, "errors": self.errors, "rows_inserted": self.rows_inserted,
                "rows_updated": self.rows_updated, "rows_deleted": self.rows_deleted, "commits": self.commits,
                "rollbacks": self.rollbacks, "open_transactions": sum(1 for s in self.sessions.values() if s.active)}
