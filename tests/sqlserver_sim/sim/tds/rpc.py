"""RPC requests ([MS-TDS] 2.2.6.6): ALL_HEADERS, then the procedure (name or well-known id), option flags and
parameters (name, status, TYPE_INFO, value)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from .datatypes import Reader, read_type_info, read_value

# well-known procedure ids
SP_CURSOR = 1
SP_CURSOROPEN = 2
SP_CURSORPREPARE = 3
SP_CURSOREXECUTE = 4
SP_CURSORPREPEXEC = 5
SP_CURSORUNPREPARE = 6
SP_CURSORFETCH = 7
SP_CURSOROPTION = 8
SP_CURSORCLOSE = 9
SP_EXECUTESQL = 10
SP_PREPARE = 11
SP_EXECUTE = 12
SP_PREPEXEC = 13
SP_PREPEXECRPC = 14
SP_UNPREPARE = 15

PROC_NAMES = {SP_EXECUTESQL: "sp_executesql", SP_PREPARE: "sp_prepare", SP_EXECUTE: "sp_execute",
              SP_PREPEXEC: "sp_prepexec", SP_UNPREPARE: "sp_unprepare", SP_CURSOR: "sp_cursor",
              SP_CURSOROPEN: "sp_cursoropen", SP_CURSORPREPARE: "sp_cursorprepare",
              SP_CURSOREXECUTE: "sp_cursorexecute", SP_CURSORPREPEXEC: "sp_cursorprepexec",
              SP_CURSORUNPREPARE: "sp_cursorunprepare", SP_CURSORFETCH: "sp_cursorfetch",
              SP_CURSOROPTION: "sp_cursoroption", SP_CURSORCLOSE: "sp_cursorclose",
              SP_PREPEXECRPC: "sp_prepexecrpc"}

STATUS_BY_REF = 0x01  # output parameter
STATUS_DEFAULT = 0x02


@dataclass
class Param:
    name: str
    status: int
    type_info: dict
    value: Any

    @property
    def output(self) -> bool:
        return bool(self.status & STATUS_BY_REF)


@dataclass
class RpcCall:
    proc: str                 # lower-case well-known name (sp_executesql ...) or the name as sent
    proc_id: Optional[int]
    params: list[Param] = field(default_factory=list)


def skip_all_headers(data: bytes) -> int:
    """Offset of the request after ALL_HEADERS (always present from TDS 7.2 on)."""
    if len(data) >= 4:
        total = int.from_bytes(data[:4], "little")
        if 4 <= total <= len(data) and total <= 1024:
            return total
    return 0


def parse(data: bytes) -> list[RpcCall]:
    """The calls of an RPC message (normally one; several when batched with the 0x80/0xFF separators)."""
    r = Reader(data, skip_all_headers(data))
    calls = []
    while r.remaining() > 0:
        n = r.u16()
        if n == 0xFFFF:
            proc_id = r.u16()
            proc = PROC_NAMES.get(proc_id, f"proc#{proc_id}")
        else:
            proc_id = None
            proc = r.take(2 * n).decode("utf-16-le")
            short = proc.lower().split(".")[-1].strip("[]")
            if short in PROC_NAMES.values():
                proc = short
                proc_id = next(k for k, v in PROC_NAMES.items() if v == short)
        r.u16()  # option flags
        call = RpcCall(proc=proc, proc_id=proc_id)
        while r.remaining() > 0:
            b = r.data[r.pos]
            if b in (0x80, 0xFF, 0xFE):  # next call in the batch
                r.pos += 1
                break
            name = r.b_varchar()
            status = r.u8()
            info = read_type_info(r)
            value = read_value(r, info)
            call.params.append(Param(name, status, info, value))
        calls.append(call)
    return calls


def declared_names(declaration: Optional[str]) -> list[str]:
    """'@P1 int,@P2 decimal(10,2) OUTPUT' -> ['@P1', '@P2']."""
    if not declaration:
        return []
    names, depth, start = [], 0, 0
    pieces = []
    for i, c in enumerate(declaration):
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "," and depth == 0:
            pieces.append(declaration[start:i])
            start = i + 1
    pieces.append(declaration[start:])
    for p in pieces:
        words = p.split()
        if words and words[0].startswith("@"):
            names.append(words[0])
    return names


def bind(values: list[Param], declaration: Optional[str]) -> dict[str, Any]:
    """Parameter values by name: the name sent with the value, else the declared name at that position,
    else @P<n>."""
    declared = declared_names(declaration)
    out = {}
    for i, p in enumerate(values):
        name = p.name or (declared[i] if i < len(declared) else f"@P{i + 1}")
        if not name.startswith("@"):
            name = "@" + name
        out[name] = p.value
    return out
