"""SQL Server column types on the wire: COLMETADATA type info, ROW value encoders, RPC parameter decoders.

A result column is described by a SQL Server type name (see sim.results.Column). column_codec() turns it
into the TYPE_INFO bytes of COLMETADATA and one encoder function that turns a Python value into the bytes
of that column in a ROW token. Encoders are built once per result set, so encoding a row is one call per
cell and a join.

Python values accepted per type are listed in sim.results.Column. In addition, the date/time types accept
ISO-8601 text ('2026-11-23 12:34:56.1234567', '2026-11-23 12:34:56.1234567 +09:00', '12:34:56.1234567'),
because Python's datetime stops at microseconds while datetime2/time/datetimeoffset(7) carry 100 ns.

Nullable forms are used throughout (INTN, BITN, FLTN, DATETIMN, ...), as SQL Server does for nullable
columns; NULL is a zero length byte, 0xFFFF for the USHORT-length types and all-ones for PLP streams.
"""
from __future__ import annotations

import datetime as _dt
import decimal
import re
import struct
import uuid
from typing import Any, Callable, Optional

# SQL_Latin1_General_CP1_CI_AS: LCID 0x0409, flags 0xD0 (ignore case, accent-sensitive ...), sort id 52.
DEFAULT_COLLATION = bytes([0x09, 0x04, 0xD0, 0x00, 0x34])
VARCHAR_CODEC = "cp1252"

# TDS type codes ([MS-TDS] 2.2.5.4)
NULLTYPE = 0x1F
INT1 = 0x30
BIT = 0x32
INT2 = 0x34
INT4 = 0x38
DATETIM4 = 0x3A
FLT4 = 0x3B
MONEY = 0x3C
DATETIME = 0x3D
FLT8 = 0x3E
MONEY4 = 0x7A
INT8 = 0x7F
GUIDTYPE = 0x24
INTN = 0x26
DATEN = 0x28
TIMEN = 0x29
DATETIME2N = 0x2A
DATETIMEOFFSETN = 0x2B
BITN = 0x68
DECIMALN = 0x6A
NUMERICN = 0x6C
FLTN = 0x6D
MONEYN = 0x6E
DATETIMN = 0x6F
BIGVARBINARY = 0xA5
BIGVARCHAR = 0xA7
BIGBINARY = 0xAD
BIGCHAR = 0xAF
NVARCHAR = 0xE7
NCHAR = 0xEF
XMLTYPE = 0xF1
IMAGE = 0x22
TEXT = 0x23
NTEXT = 0x63
SSVARIANT = 0x62

PLP_NULL = b"\xff" * 8
PLP_CHUNK = 0x10000  # bytes per PLP chunk

_EPOCH_1900 = _dt.datetime(1900, 1, 1)
_DATE_0001 = _dt.date(1, 1, 1)
_UTC = _dt.timezone.utc


class WireTypeError(ValueError):
    """A type name or value the simulator cannot put on the wire."""


Encoder = Callable[[Any], bytes]


# ---------------------------------------------------------------------------------------------------------
# Type names

_TYPE_RE = re.compile(r"^\s*([a-z_0-9]+)\s*(?:\(\s*([^)]*)\s*\))?\s*$")


def parse_type(name: str) -> tuple[str, list[str]]:
    """'decimal(38, 10)' -> ('decimal', ['38', '10']); 'nvarchar(max)' -> ('nvarchar', ['max'])."""
    m = _TYPE_RE.match(name.lower())
    if not m:
        raise WireTypeError(f"bad type name {name!r}")
    args = [a.strip() for a in m.group(2).split(",")] if m.group(2) else []
    return m.group(1), args


def _length_arg(args: list[str], default: int) -> Optional[int]:
    """The n of nvarchar(n); None for max."""
    if not args:
        return default
    if args[0] == "max":
        return None
    return int(args[0])


def _scale_arg(args: list[str]) -> int:
    scale = int(args[0]) if args else 7
    if not 0 <= scale <= 7:
        raise WireTypeError(f"scale {scale} out of range")
    return scale


def _decimal_size(precision: int) -> int:
    if precision <= 9:
        return 5
    if precision <= 19:
        return 9
    if precision <= 28:
        return 13
    return 17


def _time_length(scale: int) -> int:
    return 3 if scale <= 2 else 4 if scale <= 4 else 5


# ---------------------------------------------------------------------------------------------------------
# Value conversions shared by encoders


def plp(data: Optional[bytes]) -> bytes:
    """A PLP stream: total length, chunks, zero terminator; all-ones length for NULL."""
    if data is None:
        return PLP_NULL
    n = len(data)
    if n <= PLP_CHUNK:
        if n == 0:
            return b"\x00" * 12
        return struct.pack("<QI", n, n) + data + b"\x00\x00\x00\x00"
    parts = [struct.pack("<Q", n)]
    for i in range(0, n, PLP_CHUNK):
        chunk = data[i:i + PLP_CHUNK]
        parts.append(struct.pack("<I", len(chunk)))
        parts.append(chunk)
    parts.append(b"\x00\x00\x00\x00")
    return b"".join(parts)


_DT_TEXT_RE = re.compile(
    r"^\s*(?:(\d{4})-(\d{2})-(\d{2}))?[ T]?"
    r"(?:(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?"
    r"\s*(?:([+-])(\d{2}):(\d{2})|Z)?\s*$")


def _split_value(value: Any, want_offset: bool) -> tuple[_dt.date, int, Optional[int]]:
    """A date/time value as (date, 100-ns ticks since midnight, offset minutes or None).

    For datetimeoffset the date and ticks are local to the offset (the caller converts to UTC)."""
    if isinstance(value, str):
        m = _DT_TEXT_RE.match(value)
        if not m:
            raise WireTypeError(f"bad date/time text {value!r}")
        y, mo, d, hh, mi, ss, frac, sign, oh, om = m.groups()
        date = _dt.date(int(y), int(mo), int(d)) if y else _DATE_0001
        ticks = 0
        if hh:
            ticks = ((int(hh) * 60 + int(mi)) * 60 + int(ss or 0)) * 10_000_000
            if frac:
                ticks += int(frac.ljust(7, "0"))
        offset = None
        if sign:
            offset = (int(oh) * 60 + int(om)) * (1 if sign == "+" else -1)
        elif value.rstrip().endswith("Z"):
            offset = 0
        return date, ticks, offset
    if isinstance(value, _dt.datetime):
        offset = None
        if value.tzinfo is not None:
            off = value.utcoffset()
            offset = int(off.total_seconds() // 60) if off is not None else 0
            if not want_offset:
                value = value.astimezone(_UTC).replace(tzinfo=None)
                offset = None
        ticks = ((value.hour * 60 + value.minute) * 60 + value.second) * 10_000_000 + value.microsecond * 10
        return value.date(), ticks, offset
    if isinstance(value, _dt.date):
        return value, 0, None
    if isinstance(value, _dt.time):
        ticks = ((value.hour * 60 + value.minute) * 60 + value.second) * 10_000_000 + value.microsecond * 10
        return _DATE_0001, ticks, None
    raise WireTypeError(f"not a date/time value: {value!r}")


_DAY_TICKS = 86_400 * 10_000_000


def _to_utc(date: _dt.date, ticks: int, offset: int) -> tuple[_dt.date, int]:
    ticks -= offset * 60 * 10_000_000
    days = date.toordinal()
    while ticks < 0:
        ticks += _DAY_TICKS
        days -= 1
    while ticks >= _DAY_TICKS:
        ticks -= _DAY_TICKS
        days += 1
    return _dt.date.fromordinal(days), ticks


def _decimal_to_int(value: Any, scale: int) -> int:
    """value * 10**scale as an exact integer (rounded half up), without the decimal context's precision."""
    if not isinstance(value, decimal.Decimal):
        value = decimal.Decimal(str(value)) if isinstance(value, float) else decimal.Decimal(value)
    sign, digits, exp = value.as_tuple()
    if not isinstance(exp, int):
        raise WireTypeError(f"not a finite decimal: {value!r}")
    n = int("".join(map(str, digits)) or "0")
    shift = exp + scale
    if shift >= 0:
        n *= 10 ** shift
    else:
        q, r = divmod(n, 10 ** -shift)
        n = q + (1 if 2 * r >= 10 ** -shift else 0)
    return -n if sign else n


# ---------------------------------------------------------------------------------------------------------
# Column codecs: (TYPE_INFO bytes, encoder)


def _fixed(meta: bytes, fmt: str, size: int, conv: Callable[[Any], Any] = lambda v: v) -> tuple[bytes, Encoder]:
    pack = struct.Struct("<B" + fmt).pack

    def enc(v: Any) -> bytes:
        if v is None:
            return b"\x00"
        return pack(size, conv(v))
    return meta, enc


def column_codec(type_name: str) -> tuple[bytes, Encoder]:
    """TYPE_INFO bytes for COLMETADATA and an encoder of one value for ROW, for a SQL Server type name."""
    base, args = parse_type(type_name)
    if base == "int":
        return _fixed(bytes([INTN, 4]), "i", 4)
    if base == "bigint":
        return _fixed(bytes([INTN, 8]), "q", 8)
    if base == "smallint":
        return _fixed(bytes([INTN, 2]), "h", 2)
    if base == "tinyint":
        return _fixed(bytes([INTN, 1]), "B", 1)
    if base == "bit":
        return _fixed(bytes([BITN, 1]), "B", 1, lambda v: 1 if v else 0)
    if base == "float":
        if args and int(args[0]) <= 24:
            return _fixed(bytes([FLTN, 4]), "f", 4)
        return _fixed(bytes([FLTN, 8]), "d", 8)
    if base == "real":
        return _fixed(bytes([FLTN, 4]), "f", 4)
    if base in ("decimal", "numeric"):
        precision = int(args[0]) if args else 18
        scale = int(args[1]) if len(args) > 1 else 0
        if not (1 <= precision <= 38 and 0 <= scale <= precision):
            raise WireTypeError(f"bad decimal type {type_name!r}")
        size = _decimal_size(precision)
        meta = bytes([DECIMALN if base == "decimal" else NUMERICN, size, precision, scale])
        limit = 10 ** precision

        def enc_decimal(v: Any) -> bytes:
            if v is None:
                return b"\x00"
            n = _decimal_to_int(v, scale)
            if abs(n) >= limit:
                raise WireTypeError(f"{v} does not fit {type_name}")
            return bytes([size, 0 if n < 0 else 1]) + abs(n).to_bytes(size - 1, "little")
        return meta, enc_decimal
    if base in ("money", "smallmoney"):
        size = 8 if base == "money" else 4

        def enc_money(v: Any) -> bytes:
            if v is None:
                return b"\x00"
            n = _decimal_to_int(v, 4)
            if size == 4:
                return struct.pack("<Bi", 4, n)
            return struct.pack("<BiI", 8, n >> 32, n & 0xFFFFFFFF)
        return bytes([MONEYN, size]), enc_money
    if base in ("nvarchar", "nchar", "sysname"):
        n = 128 if base == "sysname" else _length_arg(args, 1)
        if n is None:
            return bytes([NVARCHAR]) + b"\xff\xff" + DEFAULT_COLLATION, _plp_text_encoder("utf-16-le")
        if not 1 <= n <= 4000:
            raise WireTypeError(f"bad length in {type_name!r}")
        pad = n if base == "nchar" else 0
        return (bytes([NCHAR if base == "nchar" else NVARCHAR]) + struct.pack("<H", 2 * n) + DEFAULT_COLLATION,
                _short_text_encoder("utf-16-le", 2 * n, pad, type_name))
    if base in ("varchar", "char"):
        n = _length_arg(args, 1)
        if n is None:
            return bytes([BIGVARCHAR]) + b"\xff\xff" + DEFAULT_COLLATION, _plp_text_encoder(VARCHAR_CODEC)
        if not 1 <= n <= 8000:
            raise WireTypeError(f"bad length in {type_name!r}")
        pad = n if base == "char" else 0
        return (bytes([BIGCHAR if base == "char" else BIGVARCHAR]) + struct.pack("<H", n) + DEFAULT_COLLATION,
                _short_text_encoder(VARCHAR_CODEC, n, pad, type_name))
    if base in ("varbinary", "binary"):
        n = _length_arg(args, 1)
        if n is None:
            if base == "binary":
                raise WireTypeError("binary(max) does not exist")
            return bytes([BIGVARBINARY]) + b"\xff\xff", _plp_binary_encoder
        if not 1 <= n <= 8000:
            raise WireTypeError(f"bad length in {type_name!r}")
        fixed = n if base == "binary" else 0
        pack_len = struct.Struct("<H").pack

        def enc_bin(v: Any) -> bytes:
            if v is None:
                return b"\xff\xff"
            b = bytes(v)
            if len(b) > n:
                raise WireTypeError(f"{len(b)} bytes do not fit {type_name}")
            if fixed:
                b = b.ljust(fixed, b"\x00")
            return pack_len(len(b)) + b
        return bytes([BIGBINARY if fixed else BIGVARBINARY]) + struct.pack("<H", n), enc_bin
    if base == "datetime":
        return bytes([DATETIMN, 8]), _enc_datetime
    if base == "smalldatetime":
        return bytes([DATETIMN, 4]), _enc_smalldatetime
    if base == "datetime2":
        scale = _scale_arg(args)
        return bytes([DATETIME2N, scale]), _datetime2_encoder(scale, with_offset=False)
    if base == "datetimeoffset":
        scale = _scale_arg(args)
        return bytes([DATETIMEOFFSETN, scale]), _datetime2_encoder(scale, with_offset=True)
    if base == "date":
        return bytes([DATEN]), _enc_date
    if base == "time":
        scale = _scale_arg(args)
        return bytes([TIMEN, scale]), _time_encoder(scale)
    if base == "xml":
        return bytes([XMLTYPE, 0]), _plp_text_encoder("utf-16-le")
    if base == "uniqueidentifier":
        def enc_guid(v: Any) -> bytes:
            if v is None:
                return b"\x00"
            if not isinstance(v, uuid.UUID):
                v = uuid.UUID(str(v))
            return b"\x10" + v.bytes_le
        return bytes([GUIDTYPE, 16]), enc_guid
    raise WireTypeError(f"unsupported column type {type_name!r}")


def _plp_text_encoder(codec: str) -> Encoder:
    def enc(v: Any) -> bytes:
        if v is None:
            return PLP_NULL
        return plp(str(v).encode(codec, "replace"))
    return enc


def _plp_binary_encoder(v: Any) -> bytes:
    return plp(None if v is None else bytes(v))


def _short_text_encoder(codec: str, max_bytes: int, pad_chars: int, type_name: str) -> Encoder:
    pack_len = struct.Struct("<H").pack

    def enc(v: Any) -> bytes:
        if v is None:
            return b"\xff\xff"
        s = str(v)
        if pad_chars:
            s = s.ljust(pad_chars)
        b = s.encode(codec, "replace")
        if len(b) > max_bytes:
            raise WireTypeError(f"value of {len(b)} bytes does not fit {type_name}")
        return pack_len(len(b)) + b
    return enc


def _enc_datetime(v: Any) -> bytes:
    if v is None:
        return b"\x00"
    date, ticks, _ = _split_value(v, want_offset=False)
    days = (date - _EPOCH_1900.date()).days
    t300 = (ticks * 3 + 50_000) // 100_000  # 1/300 s, rounded
    if t300 >= 300 * 86_400:
        t300 -= 300 * 86_400
        days += 1
    return struct.pack("<BiI", 8, days, t300)


def _enc_smalldatetime(v: Any) -> bytes:
    if v is None:
        return b"\x00"
    date, ticks, _ = _split_value(v, want_offset=False)
    days = (date - _EPOCH_1900.date()).days
    minutes = (ticks + 300_000_000) // 600_000_000
    if minutes >= 1440:
        minutes -= 1440
        days += 1
    return struct.pack("<BHH", 4, days, minutes)


def _enc_date(v: Any) -> bytes:
    if v is None:
        return b"\x00"
    date, _, _ = _split_value(v, want_offset=False)
    return b"\x03" + (date.toordinal() - 1).to_bytes(3, "little")


def _time_encoder(scale: int) -> Encoder:
    tlen = _time_length(scale)
    div = 10 ** (7 - scale)
    head = bytes([tlen])

    def enc(v: Any) -> bytes:
        if v is None:
            return b"\x00"
        _, ticks, _ = _split_value(v, want_offset=False)
        return head + (ticks // div).to_bytes(tlen, "little")
    return enc


def _datetime2_encoder(scale: int, with_offset: bool) -> Encoder:
    tlen = _time_length(scale)
    div = 10 ** (7 - scale)
    head = bytes([tlen + 3 + (2 if with_offset else 0)])

    def enc(v: Any) -> bytes:
        if v is None:
            return b"\x00"
        date, ticks, offset = _split_value(v, want_offset=with_offset)
        if with_offset:
            offset = offset or 0
            date, ticks = _to_utc(date, ticks, offset)
            tail = struct.pack("<h", offset)
        else:
            if offset:
                date, ticks = _to_utc(date, ticks, offset)
            tail = b""
        return (head + (ticks // div).to_bytes(tlen, "little")
                + (date.toordinal() - 1).to_bytes(3, "little") + tail)
    return enc


# ---------------------------------------------------------------------------------------------------------
# Reading TYPE_INFO and values (RPC parameters)


class Reader:
    """A cursor over a byte string, for parsing client messages."""

    def __init__(self, data: bytes, pos: int = 0):
        self.data = data
        self.pos = pos

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError("message too short")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return struct.unpack("<H", self.take(2))[0]

    def u32(self) -> int:
        return struct.unpack("<I", self.take(4))[0]

    def u64(self) -> int:
        return struct.unpack("<Q", self.take(8))[0]

    def b_varchar(self) -> str:
        n = self.u8()
        return self.take(2 * n).decode("utf-16-le")

    def us_varchar(self) -> str:
        n = self.u16()
        return self.take(2 * n).decode("utf-16-le")

    def plp(self) -> Optional[bytes]:
        total = self.u64()
        if total == 0xFFFFFFFFFFFFFFFF:
            return None
        parts = []
        while True:
            n = self.u32()
            if n == 0:
                break
            parts.append(self.take(n))
        return b"".join(parts)


_FIXED_SIZES = {NULLTYPE: 0, INT1: 1, BIT: 1, INT2: 2, INT4: 4, DATETIM4: 4, FLT4: 4, MONEY: 8, DATETIME: 8,
                FLT8: 8, MONEY4: 4, INT8: 8}


def read_type_info(r: Reader) -> dict:
    """TYPE_INFO of an RPC parameter ([MS-TDS] 2.2.5.6)."""
    t = r.u8()
    info: dict[str, Any] = {"type": t}
    if t in _FIXED_SIZES:
        info["size"] = _FIXED_SIZES[t]
    elif t in (GUIDTYPE, INTN, BITN, FLTN, MONEYN, DATETIMN):
        info["size"] = r.u8()
    elif t in (DECIMALN, NUMERICN):
        info["size"] = r.u8()
        info["precision"] = r.u8()
        info["scale"] = r.u8()
    elif t in (TIMEN, DATETIME2N, DATETIMEOFFSETN):
        info["scale"] = r.u8()
    elif t == DATEN:
        pass
    elif t in (BIGVARBINARY, BIGVARCHAR, BIGBINARY, BIGCHAR, NVARCHAR, NCHAR):
        info["size"] = r.u16()
        if t in (BIGVARCHAR, BIGCHAR, NVARCHAR, NCHAR):
            info["collation"] = r.take(5)
    elif t in (IMAGE, TEXT, NTEXT):
        info["size"] = r.u32()
        if t != IMAGE:
            info["collation"] = r.take(5)
    elif t == XMLTYPE:
        if r.u8():
            r.b_varchar()
            r.b_varchar()
            r.us_varchar()
    else:
        raise WireTypeError(f"unsupported parameter type 0x{t:02x}")
    return info


def _decode_int(b: bytes, signed: bool = True) -> int:
    return int.from_bytes(b, "little", signed=signed)


def _decode_time_ticks(b: bytes, scale: int) -> int:
    return int.from_bytes(b, "little") * 10 ** (7 - scale)


def _ticks_to_time(ticks: int) -> _dt.time:
    us = ticks // 10
    s, us = divmod(us, 1_000_000)
    m, s = divmod(s, 60)
    h, m = divmod(m, 60)
    return _dt.time(h, m, s, us)


def _decode_fixed(t: int, b: bytes, info: dict) -> Any:
    if t in (INT1,):
        return b[0]
    if t in (INT2, INT4, INT8, INTN):
        return _decode_int(b, signed=not (t == INTN and len(b) == 1))
    if t in (BIT, BITN):
        return bool(b[0])
    if t in (FLT4, FLT8, FLTN):
        return struct.unpack("<f" if len(b) == 4 else "<d", b)[0]
    if t in (MONEY, MONEY4, MONEYN):
        if len(b) == 4:
            n = struct.unpack("<i", b)[0]
        else:
            hi, lo = struct.unpack("<iI", b)
            n = (hi << 32) | lo
        return decimal.Decimal(n).scaleb(-4)
    if t in (DATETIME, DATETIM4, DATETIMN):
        if len(b) == 4:
            days, minutes = struct.unpack("<HH", b)
            return _EPOCH_1900 + _dt.timedelta(days=days, minutes=minutes)
        days, t300 = struct.unpack("<iI", b)
        return _EPOCH_1900 + _dt.timedelta(days=days, microseconds=(t300 * 10_000 + 1) // 3)
    if t == GUIDTYPE:
        return uuid.UUID(bytes_le=b)
    if t in (DECIMALN, NUMERICN):
        n = int.from_bytes(b[1:], "little")
        digits = tuple(int(c) for c in str(n))
        return decimal.Decimal((0 if b[0] else 1, digits, -info["scale"]))
    if t == DATEN:
        return _dt.date.fromordinal(int.from_bytes(b, "little") + 1)
    if t == TIMEN:
        return _ticks_to_time(_decode_time_ticks(b, info["scale"]))
    if t in (DATETIME2N, DATETIMEOFFSETN):
        tl = len(b) - 3 - (2 if t == DATETIMEOFFSETN else 0)
        ticks = _decode_time_ticks(b[:tl], info["scale"])
        date = _dt.date.fromordinal(int.from_bytes(b[tl:tl + 3], "little") + 1)
        value = _dt.datetime.combine(date, _dt.time()) + _dt.timedelta(microseconds=ticks // 10)
        if t == DATETIME2N:
            return value
        offset = struct.unpack("<h", b[tl + 3:tl + 5])[0]
        tz = _dt.timezone(_dt.timedelta(minutes=offset))
        return value.replace(tzinfo=_UTC).astimezone(tz)
    raise WireTypeError(f"cannot decode type 0x{t:02x}")


def read_value(r: Reader, info: dict) -> Any:
    """The value of an RPC parameter of the given TYPE_INFO, as a Python value (None for NULL)."""
    t = info["type"]
    if t == NULLTYPE:
        return None
    if t in _FIXED_SIZES:
        return _decode_fixed(t, r.take(info["size"]), info)
    if t in (GUIDTYPE, INTN, BITN, FLTN, MONEYN, DATETIMN, DECIMALN, NUMERICN, TIMEN, DATETIME2N,
             DATETIMEOFFSETN, DATEN):
        n = r.u8()
        if n == 0:
            return None
        return _decode_fixed(t, r.take(n), info)
    if t in (BIGVARBINARY, BIGVARCHAR, BIGBINARY, BIGCHAR, NVARCHAR, NCHAR):
        if info["size"] == 0xFFFF:
            b = r.plp()
        else:
            n = r.u16()
            b = None if n == 0xFFFF else r.take(n)
        return _decode_bytes(t, b)
    if t in (IMAGE, TEXT, NTEXT):
        n = r.u32()
        return _decode_bytes(t, None if n == 0xFFFFFFFF else r.take(n))
    if t == XMLTYPE:
        b = r.plp()
        return None if b is None else b.decode("utf-16-le")
    raise WireTypeError(f"cannot decode type 0x{t:02x}")


def _decode_bytes(t: int, b: Optional[bytes]) -> Any:
    if b is None:
        return None
    if t in (NVARCHAR, NCHAR, NTEXT):
        return b.decode("utf-16-le", "replace")
    if t in (BIGVARCHAR, BIGCHAR, TEXT):
        return b.decode(VARCHAR_CODEC, "replace")
    return bytes(b)


def type_for_value(value: Any) -> str:
    """A SQL Server type that can carry a Python value (used to echo parameters back)."""
    if value is None:
        return "int"
    if isinstance(value, bool):
        return "bit"
    if isinstance(value, int):
        return "bigint"
    if isinstance(value, float):
        return "float"
    if isinstance(value, decimal.Decimal):
        return "decimal(38,10)"
    if isinstance(value, str):
        return "nvarchar(max)"
    if isinstance(value, (bytes, bytearray)):
        return "varbinary(max)"
    if isinstance(value, _dt.datetime):
        return "datetimeoffset(7)" if value.tzinfo is not None else "datetime2(7)"
    if isinstance(value, _dt.date):
        return "date"
    if isinstance(value, _dt.time):
        return "time(7)"
    if isinstance(value, uuid.UUID):
        return "uniqueidentifier"
    return "nvarchar(max)"
