"""A few ODBC calls through ctypes, for what pyodbc cannot do against FreeTDS: parameter arrays bound column
by column (SQL_ATTR_PARAMSET_SIZE > 1, as dmvlog's SQL Server store binds them), with the status array and
SQL_ATTR_PARAMS_PROCESSED_PTR, and the row count per statement.

(pyodbc's `fast_executemany` binds row by row and crashes inside FreeTDS 1.3's SQLExecute, so it cannot be
used here.)

Use through tests.support (which sets ODBCSYSINI): `OdbcConnection(conn_str)`, `.execute(sql, params)`,
`.execute_array(sql, columns)`, `.commit()`, `.rollback()`, `.set_autocommit(bool)`, `.close()`.
"""
from __future__ import annotations

import ctypes
import struct
from dataclasses import dataclass
from typing import Any, Optional, Sequence

SQL_HANDLE_ENV, SQL_HANDLE_DBC, SQL_HANDLE_STMT = 1, 2, 3
SQL_SUCCESS, SQL_SUCCESS_WITH_INFO, SQL_NO_DATA, SQL_ERROR = 0, 1, 100, -1
SQL_ATTR_ODBC_VERSION, SQL_OV_ODBC3 = 200, 3
SQL_ATTR_AUTOCOMMIT, SQL_ATTR_LOGIN_TIMEOUT = 102, 103
SQL_ATTR_QUERY_TIMEOUT = 0
SQL_ATTR_PARAM_BIND_TYPE, SQL_ATTR_PARAM_STATUS_PTR = 18, 20
SQL_ATTR_PARAMS_PROCESSED_PTR, SQL_ATTR_PARAMSET_SIZE = 21, 22
SQL_DRIVER_NOPROMPT = 0
SQL_COMMIT, SQL_ROLLBACK = 0, 1
SQL_PARAM_INPUT = 1
SQL_NULL_DATA = -1
SQL_C_SBIGINT, SQL_C_DOUBLE, SQL_C_WCHAR, SQL_C_BINARY = -25, 8, -8, -2
SQL_BIGINT, SQL_DOUBLE, SQL_WVARCHAR, SQL_VARBINARY = -5, 8, -9, -3
SQL_WLONGVARCHAR, SQL_LONGVARBINARY = -10, -4
# parameter status values
SQL_PARAM_SUCCESS, SQL_PARAM_DIAG_UNAVAILABLE, SQL_PARAM_ERROR = 0, 1, 5
SQL_PARAM_SUCCESS_WITH_INFO, SQL_PARAM_UNUSED = 6, 7

SQLLEN = ctypes.c_int64
SQLULEN = ctypes.c_uint64

_lib: Optional[ctypes.CDLL] = None


def lib() -> ctypes.CDLL:
    global _lib
    if _lib is None:
        _lib = ctypes.CDLL("libodbc.so.2")
        _lib.SQLSetEnvAttr.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.c_void_p, ctypes.c_int32]
        _lib.SQLSetConnectAttrW.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.c_void_p, ctypes.c_int32]
        _lib.SQLSetStmtAttrW.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.c_void_p, ctypes.c_int32]
        _lib.SQLAllocHandle.argtypes = [ctypes.c_int16, ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]
        _lib.SQLFreeHandle.argtypes = [ctypes.c_int16, ctypes.c_void_p]
        _lib.SQLDriverConnectW.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int16,
                                           ctypes.c_char_p, ctypes.c_int16, ctypes.POINTER(ctypes.c_int16),
                                           ctypes.c_uint16]
        _lib.SQLDisconnect.argtypes = [ctypes.c_void_p]
        _lib.SQLExecDirectW.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int32]
        _lib.SQLPrepareW.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int32]
        _lib.SQLExecute.argtypes = [ctypes.c_void_p]
        _lib.SQLBindParameter.argtypes = [ctypes.c_void_p, ctypes.c_uint16, ctypes.c_int16, ctypes.c_int16,
                                          ctypes.c_int16, SQLULEN, ctypes.c_int16, ctypes.c_void_p, SQLLEN,
                                          ctypes.POINTER(SQLLEN)]
        _lib.SQLRowCount.argtypes = [ctypes.c_void_p, ctypes.POINTER(SQLLEN)]
        _lib.SQLMoreResults.argtypes = [ctypes.c_void_p]
        _lib.SQLFreeStmt.argtypes = [ctypes.c_void_p, ctypes.c_uint16]
        _lib.SQLEndTran.argtypes = [ctypes.c_int16, ctypes.c_void_p, ctypes.c_int16]
        _lib.SQLNumResultCols.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int16)]
        _lib.SQLFetch.argtypes = [ctypes.c_void_p]
        _lib.SQLGetData.argtypes = [ctypes.c_void_p, ctypes.c_uint16, ctypes.c_int16, ctypes.c_void_p, SQLLEN,
                                    ctypes.POINTER(SQLLEN)]
        _lib.SQLGetDiagRecW.argtypes = [ctypes.c_int16, ctypes.c_void_p, ctypes.c_int16, ctypes.c_char_p,
                                        ctypes.POINTER(ctypes.c_int32), ctypes.c_char_p, ctypes.c_int16,
                                        ctypes.POINTER(ctypes.c_int16)]
    return _lib


def _w(s: str) -> ctypes.Array:
    return ctypes.create_string_buffer(s.encode("utf-16-le") + b"\0\0")


class OdbcError(Exception):
    def __init__(self, what: str, diags: list[tuple[str, int, str]]):
        self.diags = diags
        self.native = diags[0][1] if diags else 0
        super().__init__(f"{what}: " + "; ".join(f"[{s}] {m} ({n})" for s, n, m in diags))


def diagnostics(handle_type: int, handle: ctypes.c_void_p) -> list[tuple[str, int, str]]:
    out = []
    for i in range(1, 20):
        state = ctypes.create_string_buffer(12)
        native = ctypes.c_int32()
        msg = ctypes.create_string_buffer(4096)
        n = ctypes.c_int16()
        rc = lib().SQLGetDiagRecW(handle_type, handle, i, state, ctypes.byref(native), msg, 2000, ctypes.byref(n))
        if rc not in (SQL_SUCCESS, SQL_SUCCESS_WITH_INFO):
            break
        out.append((state.raw[:10].decode("utf-16-le").rstrip("\0"), native.value,
                    msg.raw[:2 * n.value].decode("utf-16-le", "replace")))
    return out


@dataclass
class ArrayResult:
    rc: int                        # of SQLExecute / SQLExecDirect
    row_counts: list[int]          # SQLRowCount of each result, SQLMoreResults between them
    status: list[int]              # the parameter status array
    processed: int                 # SQL_ATTR_PARAMS_PROCESSED_PTR
    diags: list[tuple[str, int, str]]


class OdbcConnection:
    def __init__(self, conn_str: str, login_timeout: int = 10, query_timeout: int = 30):
        L = lib()
        self.query_timeout = query_timeout
        self.env = ctypes.c_void_p()
        self._check(L.SQLAllocHandle(SQL_HANDLE_ENV, None, ctypes.byref(self.env)), SQL_HANDLE_ENV, None, "env")
        L.SQLSetEnvAttr(self.env, SQL_ATTR_ODBC_VERSION, ctypes.c_void_p(SQL_OV_ODBC3), 0)
        self.dbc = ctypes.c_void_p()
        self._check(L.SQLAllocHandle(SQL_HANDLE_DBC, self.env, ctypes.byref(self.dbc)), SQL_HANDLE_ENV, self.env,
                    "dbc")
        L.SQLSetConnectAttrW(self.dbc, SQL_ATTR_LOGIN_TIMEOUT, ctypes.c_void_p(login_timeout), 0)
        out_len = ctypes.c_int16()
        cs = _w(conn_str)
        self._check(L.SQLDriverConnectW(self.dbc, None, cs, len(conn_str), None, 0, ctypes.byref(out_len),
                                        SQL_DRIVER_NOPROMPT), SQL_HANDLE_DBC, self.dbc, "connect")

    def _check(self, rc: int, htype: int, handle: Any, what: str) -> int:
        if rc not in (SQL_SUCCESS, SQL_SUCCESS_WITH_INFO, SQL_NO_DATA):
            raise OdbcError(what, diagnostics(htype, handle) if handle is not None else [])
        return rc

    def set_autocommit(self, on: bool) -> None:
        self._check(lib().SQLSetConnectAttrW(self.dbc, SQL_ATTR_AUTOCOMMIT, ctypes.c_void_p(1 if on else 0), 0),
                    SQL_HANDLE_DBC, self.dbc, "autocommit")

    def commit(self) -> None:
        self._check(lib().SQLEndTran(SQL_HANDLE_DBC, self.dbc, SQL_COMMIT), SQL_HANDLE_DBC, self.dbc, "commit")

    def rollback(self) -> None:
        self._check(lib().SQLEndTran(SQL_HANDLE_DBC, self.dbc, SQL_ROLLBACK), SQL_HANDLE_DBC, self.dbc,
                    "rollback")

    def close(self) -> None:
        L = lib()
        if self.dbc:
            L.SQLDisconnect(self.dbc)
            L.SQLFreeHandle(SQL_HANDLE_DBC, self.dbc)
            self.dbc = ctypes.c_void_p()
        if self.env:
            L.SQLFreeHandle(SQL_HANDLE_ENV, self.env)
            self.env = ctypes.c_void_p()

    def __enter__(self) -> "OdbcConnection":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- statements

    def _stmt(self) -> ctypes.c_void_p:
        st = ctypes.c_void_p()
        self._check(lib().SQLAllocHandle(SQL_HANDLE_STMT, self.dbc, ctypes.byref(st)), SQL_HANDLE_DBC, self.dbc,
                    "stmt")
        lib().SQLSetStmtAttrW(st, SQL_ATTR_QUERY_TIMEOUT, ctypes.c_void_p(self.query_timeout), 0)
        return st

    @staticmethod
    def _kind(values: Sequence[Any]) -> str:
        kinds = {("null" if v is None else "bytes" if isinstance(v, (bytes, bytearray)) else
                  "float" if isinstance(v, float) else "int" if isinstance(v, int) else "text") for v in values}
        kinds.discard("null")
        if len(kinds) > 1:
            raise ValueError(f"a parameter column mixes {kinds}")
        return kinds.pop() if kinds else "text"

    def _bind(self, st: ctypes.c_void_p, columns: Sequence[Sequence[Any]], n: int, keep: list) -> None:
        """Column-wise binding of n values per parameter (n = 1: a single execution)."""
        L = lib()
        for i, values in enumerate(columns, start=1):
            kind = self._kind(values)
            ind = (SQLLEN * n)()
            if kind == "int":
                buf = (ctypes.c_int64 * n)(*[v or 0 for v in values])
                ctype, stype, size, width = SQL_C_SBIGINT, SQL_BIGINT, 19, 8
            elif kind == "float":
                buf = (ctypes.c_double * n)(*[v or 0.0 for v in values])
                ctype, stype, size, width = SQL_C_DOUBLE, SQL_DOUBLE, 15, 8
            else:
                enc = [b"" if v is None else (bytes(v) if kind == "bytes" else str(v).encode("utf-16-le"))
                       for v in values]
                width = max(2, max(len(e) for e in enc) + 2)
                buf = ctypes.create_string_buffer(width * n)
                for j, e in enumerate(enc):
                    ctypes.memmove(ctypes.addressof(buf) + j * width, e, len(e))
                if kind == "bytes":
                    ctype, stype, size = SQL_C_BINARY, (SQL_VARBINARY if width <= 8000 else SQL_LONGVARBINARY), \
                        max(1, width - 2)
                else:
                    ctype, size = SQL_C_WCHAR, max(1, (width - 2) // 2)
                    stype = SQL_WVARCHAR if size <= 4000 else SQL_WLONGVARCHAR
            for j, v in enumerate(values):
                if v is None:
                    ind[j] = SQL_NULL_DATA
                elif kind in ("text", "bytes"):
                    ind[j] = len(bytes(v)) if kind == "bytes" else len(str(v).encode("utf-16-le"))
                else:
                    ind[j] = width
            keep += [buf, ind]
            self._check(L.SQLBindParameter(st, i, SQL_PARAM_INPUT, ctype, stype, size, 0, buf, width, ind),
                        SQL_HANDLE_STMT, st, f"bind {i}")

    def _results(self, st: ctypes.c_void_p) -> tuple[list[int], list[list[tuple]]]:
        """Row counts and result rows (as text / bytes) of every result, SQLMoreResults between them."""
        L = lib()
        counts: list[int] = []
        sets: list[list[tuple]] = []
        while True:
            ncols = ctypes.c_int16()
            L.SQLNumResultCols(st, ctypes.byref(ncols))
            if ncols.value > 0:
                rows = []
                while L.SQLFetch(st) in (SQL_SUCCESS, SQL_SUCCESS_WITH_INFO):
                    row = []
                    for c in range(1, ncols.value + 1):
                        buf = ctypes.create_string_buffer(65536)
                        ind = SQLLEN()
                        L.SQLGetData(st, c, SQL_C_WCHAR, buf, 65536, ctypes.byref(ind))
                        row.append(None if ind.value == SQL_NULL_DATA else
                                   buf.raw[:ind.value].decode("utf-16-le"))
                    rows.append(tuple(row))
                sets.append(rows)
            else:
                n = SQLLEN()
                L.SQLRowCount(st, ctypes.byref(n))
                counts.append(n.value)
            rc = L.SQLMoreResults(st)
            if rc == SQL_NO_DATA:
                break
            if rc == SQL_ERROR:
                raise OdbcError("more results", diagnostics(SQL_HANDLE_STMT, st))
        return counts, sets

    def execute(self, sql: str, params: Sequence[Any] = ()) -> tuple[list[int], list[list[tuple]]]:
        """SQLExecDirect with single parameters: (row counts, result sets)."""
        L = lib()
        st = self._stmt()
        keep: list = []
        try:
            self._bind(st, [[p] for p in params], 1, keep)
            self._check(L.SQLExecDirectW(st, _w(sql), len(sql)), SQL_HANDLE_STMT, st, "execute")
            return self._results(st)
        finally:
            L.SQLFreeHandle(SQL_HANDLE_STMT, st)

    def execute_array(self, sql: str, rows: Sequence[Sequence[Any]], prepare: bool = True) -> ArrayResult:
        """One execution with a parameter array of len(rows) rows, bound column-wise."""
        L = lib()
        st = self._stmt()
        n = len(rows)
        keep: list = []
        status = (ctypes.c_uint16 * n)(*([0xFFFF] * n))
        processed = SQLULEN(0)
        try:
            L.SQLSetStmtAttrW(st, SQL_ATTR_PARAM_BIND_TYPE, ctypes.c_void_p(0), 0)
            L.SQLSetStmtAttrW(st, SQL_ATTR_PARAMSET_SIZE, ctypes.c_void_p(n), 0)
            L.SQLSetStmtAttrW(st, SQL_ATTR_PARAM_STATUS_PTR, ctypes.cast(status, ctypes.c_void_p), 0)
            L.SQLSetStmtAttrW(st, SQL_ATTR_PARAMS_PROCESSED_PTR, ctypes.cast(ctypes.byref(processed),
                                                                           ctypes.c_void_p), 0)
            columns = [[r[i] for r in rows] for i in range(len(rows[0]))]
            self._bind(st, columns, n, keep)
            if prepare:
                self._check(L.SQLPrepareW(st, _w(sql), len(sql)), SQL_HANDLE_STMT, st, "prepare")
                rc = L.SQLExecute(st)
            else:
                rc = L.SQLExecDirectW(st, _w(sql), len(sql))
            diags = diagnostics(SQL_HANDLE_STMT, st)
            counts: list[int] = []
            if rc in (SQL_SUCCESS, SQL_SUCCESS_WITH_INFO, SQL_ERROR):
                while True:
                    c = SQLLEN(-2)
                    L.SQLRowCount(st, ctypes.byref(c))
                    counts.append(c.value)
                    more = L.SQLMoreResults(st)
                    if more not in (SQL_SUCCESS, SQL_SUCCESS_WITH_INFO, SQL_ERROR):
                        break
                    if more == SQL_ERROR:
                        diags += diagnostics(SQL_HANDLE_STMT, st)
            return ArrayResult(rc, counts, list(status), processed.value, diags)
        finally:
            L.SQLFreeHandle(SQL_HANDLE_STMT, st)
