"""What the engine hands to the protocol layer: the contract between sim.engine and sim.tds.

The engine never touches bytes; the protocol layer never looks at SQL. A batch or RPC call is answered by
a list of Result items, sent in order.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional


@dataclass(frozen=True)
class Column:
    """One result column, typed as SQL Server declares it.

    type is a SQL Server type name as in a catalog: 'int', 'bigint', 'smallint', 'tinyint', 'bit',
    'decimal(p,s)', 'float', 'real', 'nvarchar(n)', 'nvarchar(max)', 'varchar(n)', 'varchar(max)',
    'varbinary(n)', 'varbinary(max)', 'binary(n)', 'datetime', 'datetime2(7)', 'datetimeoffset(7)',
    'xml', 'uniqueidentifier'.
    Python values per type: int for integer types and bit (0/1 or bool); decimal.Decimal for decimal;
    float; str for character types and xml; bytes for binary types; datetime.datetime for datetime and
    datetime2 (naive = UTC), aware datetime.datetime for datetimeoffset; uuid.UUID; None is NULL.
    The protocol layer also knows 'date', 'time(n)', 'nchar(n)', 'char(n)', 'money', 'smalldatetime',
    'numeric(p,s)', 'sysname', and takes ISO text for the date/time types ('2026-11-23 12:34:56.1234567',
    with ' +09:00' for datetimeoffset) when 100 ns digits matter (Python's datetime stops at microseconds).
    """
    name: str
    type: str
    nullable: bool = True


@dataclass
class ResultSet:
    columns: list[Column]
    rows: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass
class RowCount:
    """A statement without a result set (INSERT, SET ...): DONE with a row count, or without (count=None)."""
    count: Optional[int] = None


@dataclass
class Info:
    """An INFO token (class <= 10), e.g. 5701 'Changed database context'."""
    number: int
    message: str
    state: int = 1
    severity: int = 0
    line: int = 1


@dataclass
class Error:
    """An ERROR token; the protocol layer ends the statement with DONE carrying the error bit.

    Anything after an Error in the same answer list is still sent (SQL Server continues a batch after
    most statement-level errors), unless abort_batch is true.
    """
    number: int
    message: str
    state: int = 1
    severity: int = 16
    line: int = 1
    abort_batch: bool = True


@dataclass
class Delay:
    """Fault: wait this many wall seconds before sending what follows (an attention cancels the wait)."""
    seconds: float


@dataclass
class Hang:
    """Fault: never answer (until the client sends attention or disconnects)."""


@dataclass
class DropConnection:
    """Fault: close the socket. after_rows > 0 sends that many rows of the next ResultSet first."""
    after_rows: int = 0


@dataclass
class ReturnValue:
    """An output parameter / RETURNVALUE token of an RPC (e.g. the handle of sp_prepexec)."""
    name: str
    type: str
    value: Any


Result = ResultSet | RowCount | Info | Error | Delay | Hang | DropConnection | ReturnValue


@dataclass
class Session:
    """Per-connection context the protocol layer keeps and the engine may read or update."""
    spid: int
    login: str
    database: str = "master"
    app_name: str = ""
    host_name: str = ""
    options: dict[str, Any] = field(default_factory=dict)   # SET options seen, e.g. {"LOCK_TIMEOUT": 1000}
    prepared: dict[int, str] = field(default_factory=dict)  # handle -> SQL of prepared statements


class Engine:
    """The interface the protocol layer calls. sim.engine.SimEngine implements it."""

    def login(self, session: Session, password: str) -> Optional[Error]:
        """None to accept; an Error (18456, class 14) to refuse."""
        raise NotImplementedError

    def execute(self, session: Session, sql: str, params: dict[str, Any]) -> list[Result]:
        """Answer one SQL batch (params empty) or one parameterised statement (sp_executesql /
        sp_prepexec / sp_execute: params maps '@P1'... or declared names to Python values)."""
        raise NotImplementedError

    def accept_connections(self) -> bool:
        """False while a 'refuse connections' fault is active (the listener closes new sockets)."""
        return True

    def answer_on_connect(self) -> bool:
        """False while an 'accept and never answer' fault is active (no PRELOGIN reply)."""
        return True
