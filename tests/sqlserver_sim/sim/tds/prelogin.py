"""PRELOGIN ([MS-TDS] 2.2.6.5): options as (token, offset, length) entries, then their data."""
from __future__ import annotations

import struct

VERSION = 0x00
ENCRYPTION = 0x01
INSTOPT = 0x02
THREADID = 0x03
MARS = 0x04
TERMINATOR = 0xFF

ENCRYPT_OFF = 0x00
ENCRYPT_ON = 0x01
ENCRYPT_NOT_SUP = 0x02
ENCRYPT_REQ = 0x03


def parse(payload: bytes) -> dict[int, bytes]:
    """Option token -> option data."""
    options: dict[int, bytes] = {}
    pos = 0
    while pos < len(payload) and payload[pos] != TERMINATOR:
        if pos + 5 > len(payload):
            raise ValueError("truncated PRELOGIN option list")
        token, offset, length = struct.unpack_from(">BHH", payload, pos)
        options[token] = payload[offset:offset + length]
        pos += 5
    return options


def negotiate(client: int, server_has_tls: bool) -> int:
    """Our ENCRYPTION answer to the client's: without a certificate always "not supported"; with one, full
    TLS (ENCRYPT_ON) when the client asks for it (ON or REQ), login-only TLS (ENCRYPT_OFF) when the client
    offers it (OFF), none when the client cannot (NOT_SUP). The same choices SQL Server makes when it does
    not force encryption."""
    if not server_has_tls or client == ENCRYPT_NOT_SUP:
        return ENCRYPT_NOT_SUP
    if client in (ENCRYPT_ON, ENCRYPT_REQ):
        return ENCRYPT_ON
    return ENCRYPT_OFF


def reply(version: tuple[int, int, int], thread_id: int = 0, encryption: int = ENCRYPT_NOT_SUP) -> bytes:
    """The server's PRELOGIN answer: our version, the encryption choice, no MARS."""
    major, minor, build = version
    entries = [
        (VERSION, bytes([major, minor]) + struct.pack(">HH", build, 0)),
        (ENCRYPTION, bytes([encryption])),
        (INSTOPT, b"\x00"),
        (THREADID, struct.pack(">I", thread_id)),
        (MARS, b"\x00"),
    ]
    offset = 5 * len(entries) + 1
    head, body = [], []
    for token, data in entries:
        head.append(struct.pack(">BHH", token, offset, len(data)))
        body.append(data)
        offset += len(data)
    return b"".join(head) + bytes([TERMINATOR]) + b"".join(body)
