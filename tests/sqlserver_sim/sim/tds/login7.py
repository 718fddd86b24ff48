"""LOGIN7 ([MS-TDS] 2.2.6.4): a fixed header, then strings given as (offset, length in characters)."""
from __future__ import annotations

import struct
from dataclasses import dataclass

_FIXED = struct.Struct("<IIIIII BBBB ii")
# (offset, length) pairs after the fixed part, in order
_FIELDS = ["host_name", "user_name", "password", "app_name", "server_name", "extension", "library_name",
           "language", "database"]


@dataclass
class Login7:
    tds_version: int
    packet_size: int
    client_pid: int
    host_name: str
    user_name: str
    password: str
    app_name: str
    server_name: str
    library_name: str
    language: str
    database: str


def decode_password(raw: bytes) -> str:
    """Undo the obfuscation: XOR 0xA5, then swap the nibbles of each byte."""
    out = bytearray()
    for b in raw:
        b ^= 0xA5
        out.append(((b & 0x0F) << 4) | (b >> 4))
    return out.decode("utf-16-le", "replace")


def parse(payload: bytes) -> Login7:
    if len(payload) < _FIXED.size + 4 * len(_FIELDS):
        raise ValueError("LOGIN7 too short")
    (_length, tds_version, packet_size, _prog_ver, client_pid, _conn_id, _f1, _f2, _tf, _f3, _tz,
     _lcid) = _FIXED.unpack_from(payload, 0)
    values = {}
    pos = _FIXED.size
    for name in _FIELDS:
        offset, count = struct.unpack_from("<HH", payload, pos)
        pos += 4
        if name == "extension":
            continue
        raw = payload[offset:offset + 2 * count]
        if name == "password":
            values[name] = decode_password(raw)
        else:
            values[name] = raw.decode("utf-16-le", "replace")
    return Login7(tds_version=tds_version, packet_size=packet_size, client_pid=client_pid, **values)
