"""Server tokens of a tabular result ([MS-TDS] 2.2.7): each function returns the bytes of one token."""
from __future__ import annotations

import struct
from typing import Any, Sequence

from . import datatypes as T

# token types
COLMETADATA = 0x81
ERROR = 0xAA
INFO = 0xAB
RETURNVALUE = 0xAC
LOGINACK = 0xAD
ROW = 0xD1
ENVCHANGE = 0xE3
DONE = 0xFD
DONEPROC = 0xFE
DONEINPROC = 0xFF
RETURNSTATUS = 0x79

# DONE status bits
DONE_FINAL = 0x0000
DONE_MORE = 0x0001
DONE_ERROR = 0x0002
DONE_COUNT = 0x0010
DONE_ATTN = 0x0020
DONE_SRVERROR = 0x0100

# DONE CurCmd values
CMD_SELECT = 0x00C1
CMD_NONE = 0x0000

# ENVCHANGE types
ENV_DATABASE = 1
ENV_LANGUAGE = 2
ENV_PACKETSIZE = 4
ENV_COLLATION = 7
ENV_BEGIN_TRAN = 8
ENV_COMMIT_TRAN = 9
ENV_ROLLBACK_TRAN = 10

TDS74 = bytes([0x74, 0x00, 0x00, 0x04])  # as LOGINACK carries it

_DONE = struct.Struct("<BHHQ")


def b_varchar(s: str) -> bytes:
    b = s.encode("utf-16-le")
    return bytes([len(b) // 2]) + b


def us_varchar(s: str) -> bytes:
    b = s.encode("utf-16-le")
    return struct.pack("<H", len(b) // 2) + b


def done(status: int, count: int = 0, cmd: int = CMD_NONE, token: int = DONE) -> bytes:
    return _DONE.pack(token, status, cmd, count)


def envchange_text(kind: int, new: str, old: str) -> bytes:
    body = bytes([kind]) + b_varchar(new) + b_varchar(old)
    return bytes([ENVCHANGE]) + struct.pack("<H", len(body)) + body


def envchange_bytes(kind: int, new: bytes, old: bytes) -> bytes:
    """ENVCHANGE with B_VARBYTE values, e.g. the transaction descriptor of begin / commit / rollback."""
    body = bytes([kind, len(new)]) + new + bytes([len(old)]) + old
    return bytes([ENVCHANGE]) + struct.pack("<H", len(body)) + body


def envchange_collation(collation: bytes) -> bytes:
    body = bytes([ENV_COLLATION, len(collation)]) + collation + b"\x00"
    return bytes([ENVCHANGE]) + struct.pack("<H", len(body)) + body


def message(token: int, number: int, state: int, severity: int, text: str, server: str, proc: str = "",
            line: int = 1) -> bytes:
    """An ERROR or INFO token."""
    body = (struct.pack("<iBB", number, state & 0xFF, severity & 0xFF) + us_varchar(text[:4000])
            + b_varchar(server[:128]) + b_varchar(proc[:128]) + struct.pack("<i", line))
    return bytes([token]) + struct.pack("<H", len(body)) + body


def loginack(prog_name: str, version: tuple[int, int, int]) -> bytes:
    major, minor, build = version
    body = (bytes([1]) + TDS74 + b_varchar(prog_name)
            + bytes([major, minor, (build >> 8) & 0xFF, build & 0xFF]))
    return bytes([LOGINACK]) + struct.pack("<H", len(body)) + body


def returnstatus(value: int) -> bytes:
    return struct.pack("<Bi", RETURNSTATUS, value)


def returnvalue(ordinal: int, name: str, type_name: str, value: Any) -> bytes:
    """RETURNVALUE of an output parameter (status 0x01), e.g. the handle of sp_prepexec."""
    meta, enc = T.column_codec(type_name)
    return (bytes([RETURNVALUE]) + struct.pack("<H", ordinal) + b_varchar(name) + b"\x01"
            + struct.pack("<IH", 0, 0x0001) + meta + enc(value))


def colmetadata(columns: Sequence[Any]) -> tuple[bytes, list[T.Encoder]]:
    """COLMETADATA for sim.results.Column items, and the value encoder of each column."""
    parts = [bytes([COLMETADATA]), struct.pack("<H", len(columns))]
    encoders = []
    for col in columns:
        meta, enc = T.column_codec(col.type)
        flags = 0x0001 if col.nullable else 0x0000
        parts.append(struct.pack("<IH", 0, flags))
        parts.append(meta)
        parts.append(b_varchar(col.name[:128]))
        encoders.append(enc)
    return b"".join(parts), encoders


def rows(encoders: list[T.Encoder], values: Sequence[Sequence[Any]]) -> list[bytes]:
    """ROW tokens, one bytes object per row."""
    n = len(encoders)
    out = []
    append = out.append
    for row in values:
        if len(row) != n:
            raise T.WireTypeError(f"row has {len(row)} values for {n} columns")
        append(b"\xd1" + b"".join([f(v) for f, v in zip(encoders, row)]))
    return out
