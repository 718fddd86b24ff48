"""The simulated server's query catalog: batches, statements and what one execution costs.

A *batch* is what SQL Server caches one plan for: an ad hoc batch, a prepared (sp_executesql) statement or a
stored procedure. It has one sql_handle and one plan_handle and holds one or more *statements*; each
statement is a QueryTemplate and becomes one row of sys.dm_exec_query_stats while its plan is cached.

Texts mix short OLTP statements, batches longer than 8,000 characters (their later statements start past
UTF-16 byte offset 16,000), procedures (sql_handle 0x03..., text = the CREATE PROCEDURE module) and Japanese
identifiers and literals (N'東京', and N'𠮷野' whose first character is a UTF-16 surrogate pair, so that
a UTF-16 offset differs from a Python character index). Some texts hold '<', '>' and '&' so that XML built
from them must escape.

Offsets follow SQL Server: statement_start_offset and statement_end_offset are byte offsets into the UTF-16
text; the statement is SUBSTRING(text, start/2 + 1, (end - start)/2 + 1) in UTF-16 code units, so end is
the offset of the statement's last code unit; end = -1 means "to the end of the batch".
statement_text() implements exactly that.

Ad hoc statements that differ only in literal values ("literal variants") have their own sql_handle and
plan_handle but share query_hash (and query_plan_hash), as in SQL Server; totals per query_hash therefore
add several cache entries up.

Catalog cfg keys (all optional):
  queries                  number of statement templates (default 200)
  proc_share               share of statements inside stored procedures (0.3)
  prepared_share           share of statements that are sp_executesql / prepared (0.2)
  long_batch_share         share of batches longer than 8,000 characters (0.05)
  japanese_share           share of statements with Japanese identifiers / literals (0.15)
  literal_variant_share    share of ad hoc statements that are literal variants of another (0.2)
  heavy_share              share of expensive report statements (grants, parallelism, spills) (0.05)
  parallel_share           share of heavy statements with a parallel plan (0.5)
  hot_queries              number of hot batches (5)
  hot_share                share of all executions going to the hot batches (0.5)
  zipf_s                   skew of the remaining batches' popularity (1.1)
  background_exec_per_s    batch executions per second across the catalog, used by PlanCache.advance (50)
  database_ids             databases the batches run in ([5, 6, 7])
"""
from __future__ import annotations

import bisect
import datetime as _dt
import hashlib
import math
import random
import re
import struct
from dataclasses import dataclass
from typing import Any, Optional

EPOCH = _dt.datetime(1970, 1, 1)

CONFIG_KEYS = frozenset({"queries", "proc_share", "prepared_share", "long_batch_share", "japanese_share",
                         "literal_variant_share", "heavy_share", "parallel_share", "hot_queries", "hot_share",
                         "zipf_s", "background_exec_per_s", "database_ids"})


# ---------------------------------------------------------------------------------------------------------
# Small shared helpers (also used by plancache.py and counters.py)

def to_seconds(t: Any) -> float:
    """A naive UTC datetime (or a number of seconds) as float seconds since 1970-01-01."""
    if isinstance(t, _dt.datetime):
        if t.tzinfo is not None:
            t = t.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        return (t - EPOCH).total_seconds()
    return float(t)


def to_datetime(s: float) -> _dt.datetime:
    """Float seconds since 1970 as a naive UTC datetime (microsecond precision)."""
    return EPOCH + _dt.timedelta(microseconds=round(s * 1_000_000))


def sql_datetime(s: float) -> _dt.datetime:
    """Float seconds as SQL Server 'datetime' stores it: rounded to 1/300 s (.000, .003, .007)."""
    ticks = round(s * 300)
    whole, frac = divmod(ticks, 300)
    ms = (frac * 1000 + 150) // 300   # .000 .003 .007 .010 ...
    return EPOCH + _dt.timedelta(seconds=whole, milliseconds=ms)


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw; exact inversion for small means, a rounded normal for large ones."""
    if lam <= 0.0:
        return 0
    if lam < 30.0:
        u = rng.random()
        p = math.exp(-lam)
        k = 0
        c = p
        while u > c:
            k += 1
            p *= lam / k
            c += p
            if k > 200:
                break
        return k
    return max(0, int(round(rng.gauss(lam, math.sqrt(lam)))))


def utf16_units(s: str) -> int:
    """Length of s in UTF-16 code units (what LEN/DATALENGTH/2 count in SQL Server)."""
    return len(s.encode("utf-16-le")) // 2


def statement_text(batch_text: str, start: int, end: int) -> str:
    """The statement a (statement_start_offset, statement_end_offset) pair names, as SQL Server slices it:
    SUBSTRING(text, start/2 + 1, ((end = -1 ? DATALENGTH(text) : end) - start)/2 + 1) on UTF-16 units."""
    b = batch_text.encode("utf-16-le")
    stop = len(b) if end == -1 else end + 2
    return b[start:stop].decode("utf-16-le")


def split_statements(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the statements of a batch, split after ';' at line ends (the rule
    for batches the workload writes itself, see QueryCatalog.add_batch)."""
    spans, pos = [], 0
    for i, ch in enumerate(text):
        if ch == ";" and (i + 1 == len(text) or text[i + 1] == "\n"):
            if text[pos:i + 1].strip():
                spans.append((pos, i + 1))
            pos = i + 2
    if text[pos:].strip():
        spans.append((pos, len(text)))
    # skip leading blank lines so each statement starts at its first character
    out = []
    for s, e in spans:
        while s < e and text[s] in " \r\n\t":
            s += 1
        out.append((s, e))
    return out or [(0, len(text))]


def hex_binary(b: bytes) -> str:
    """Binary as SQL Server shows it: 0x + uppercase hex."""
    return "0x" + b.hex().upper()


# ---------------------------------------------------------------------------------------------------------

@dataclass(eq=False)
class QueryTemplate:
    query_id: int
    text: str                         # the whole batch / module text
    statement_start_offset: int       # UTF-16 bytes
    statement_end_offset: int         # UTF-16 bytes of the last code unit, or -1
    sql_handle: bytes                 # 44 bytes: 0x02... ad hoc / prepared, 0x03... procedure
    plan_handle: bytes                # 64 bytes: 0x06... ad hoc / prepared, 0x05... procedure
    query_hash: bytes                 # 8 bytes
    query_plan_hash: bytes            # 8 bytes
    database_id: int
    object_id: Optional[int]          # the procedure's object_id, None for ad hoc / prepared
    # cost profile: means of one execution
    cpu_us: float = 200.0
    logical_reads: float = 10.0
    physical_reads: float = 0.0
    writes: float = 0.0
    rows: float = 1.0
    grant_kb: float = 0.0             # ideal grant; 0 = no memory grant
    spills: float = 0.0               # mean spilled pages per execution
    dop: int = 1
    elapsed_factor: float = 1.3       # elapsed = cpu / dop * factor (+ io)
    cv: float = 0.6                   # coefficient of variation of one execution
    # where it lives
    batch_id: int = 0
    statement_index: int = 0
    statements_in_batch: int = 1
    kind: str = "adhoc"               # 'adhoc' | 'prepared' | 'proc'
    object_name: Optional[str] = None  # 'dbo.usp_x' for procedures
    weight: float = 1.0               # popularity of the batch (pick() and background rate)
    rate_per_s: float = 0.0           # background executions of the batch per second
    japanese: bool = False
    long_batch: bool = False
    heavy: bool = False

    @property
    def statement(self) -> str:
        return statement_text(self.text, self.statement_start_offset, self.statement_end_offset)

    @property
    def query_hash_hex(self) -> str:
        return hex_binary(self.query_hash)

    def mean_elapsed_us(self) -> float:
        return self.cpu_us / max(1, self.dop) * self.elapsed_factor + self.physical_reads * 150.0


# ---------------------------------------------------------------------------------------------------------
# Text generation

_TABLES = [("dbo", "Orders", "OrderID"), ("dbo", "Customers", "CustomerID"), ("dbo", "OrderLines", "OrderLineID"),
           ("dbo", "Products", "ProductID"), ("dbo", "Inventory", "ItemID"), ("Sales", "Invoices", "InvoiceID"),
           ("dbo", "Payments", "PaymentID"), ("dbo", "Shipments", "ShipmentID")]
_JP_TABLES = [("dbo", "顧客", "顧客ID"), ("dbo", "注文明細", "明細ID"), ("販売", "売上", "売上ID"), ("dbo", "商品マスタ", "商品コード")]
_JP_LITERALS = ["東京", "大阪", "名古屋", "𠮷野", "株式会社テスト", "札幌", "福岡", "ｶﾀｶﾅ半角"]
_CITIES = ["Seattle", "London", "Paris", "O'Hare", "Berlin", "Lisbon"]


def _ident(schema: str, name: str) -> str:
    return f"[{schema}].[{name}]" if any(ord(c) > 127 for c in name + schema) else f"{schema}.{name}"


class _TextMaker:
    def __init__(self, rng: random.Random):
        self.rng = rng

    def table(self, japanese: bool):
        return self.rng.choice(_JP_TABLES if japanese else _TABLES)

    def literal(self, japanese: bool) -> str:
        if japanese:
            return "N'" + self.rng.choice(_JP_LITERALS) + "'"
        return "N'" + self.rng.choice(_CITIES).replace("'", "''") + "'"

    def oltp(self, japanese: bool, key: str, shape: str) -> tuple[str, str]:
        """(statement text, shape) for a short OLTP statement; key is a literal or a parameter name."""
        s, t, k = self.table(japanese)
        tab = _ident(s, t)
        kcol = f"[{k}]" if japanese else k
        if shape == "select":
            return f"SELECT TOP (1) * FROM {tab} WHERE {kcol} = {key}", shape
        if shape == "update":
            lit = self.literal(japanese)
            col = "[所在地]" if japanese else "City"
            return f"UPDATE {tab} SET {col} = {lit}, ModifiedAt = SYSUTCDATETIME() WHERE {kcol} = {key}", shape
        if shape == "insert":
            lit = self.literal(japanese)
            return f"INSERT INTO {tab} ({kcol}, Note, CreatedAt) VALUES ({key}, {lit}, SYSUTCDATETIME())", shape
        if shape == "delete":
            return f"DELETE FROM {tab} WHERE {kcol} = {key} AND Status <> 'open'", shape
        # range: a small join with comparison operators that XML must escape
        s2, t2, k2 = self.table(japanese)
        return (f"SELECT a.*, b.{('[' + k2 + ']') if japanese else k2} FROM {tab} AS a JOIN {_ident(s2, t2)} AS b "
                f"ON b.{('[' + k2 + ']') if japanese else k2} = a.{kcol} WHERE a.{kcol} > {key} AND a.Amount < 1000 "
                f"AND a.Flags & 4 = 4 ORDER BY a.{kcol}"), "range"

    def report(self, japanese: bool) -> str:
        s, t, k = self.table(japanese)
        s2, t2, _ = self.table(japanese)
        lit = self.literal(japanese)
        return (f"SELECT c.Region, COUNT_BIG(*) AS n, SUM(o.Amount) AS total FROM {_ident(s, t)} AS o "
                f"JOIN {_ident(s2, t2)} AS c ON c.CustomerID = o.CustomerID WHERE o.OrderDate >= DATEADD(day, -90, "
                f"SYSUTCDATETIME()) AND c.City <> {lit} GROUP BY c.Region HAVING SUM(o.Amount) > 0 "
                f"ORDER BY total DESC OPTION (RECOMPILE)")

    def long_padding(self, japanese: bool) -> str:
        """A comment block and a big IN list that push the batch past 8,000 characters."""
        lines = ["/* nightly reconciliation batch: " + ("日本語のコメント " if japanese else "") + "*/"]
        ids = ", ".join(str(v) for v in _randints_1_to_10m(self.rng, 1100))
        lines.append(f"DECLARE @ids TABLE (id int PRIMARY KEY); INSERT INTO @ids (id) SELECT value FROM "
                     f"STRING_SPLIT('{ids.replace(', ', ',')}', ',');")
        lines.append("-- " + "=" * 120)
        return "\n".join(lines)


def _randints_1_to_10m(rng: random.Random, n: int) -> list[int]:
    """[rng.randint(1, 10**7) for _ in range(n)], the same values and the same state afterwards, about four
    times faster: randint(1, N) is 1 + the first getrandbits(N.bit_length()) draw below N."""
    gb = rng.getrandbits
    limit = 10 ** 7
    k = limit.bit_length()
    out = []
    for _ in range(n):
        x = gb(k)
        while x >= limit:
            x = gb(k)
        out.append(x + 1)
    return out


def _costs(rng: random.Random, shape: str, heavy: bool, parallel: bool) -> dict:
    def lu(lo, hi):   # log-uniform
        return math.exp(rng.uniform(math.log(lo), math.log(hi)))
    if heavy:
        dop = rng.choice([4, 8]) if parallel else 1
        cpu = lu(300_000, 20_000_000)
        lr = lu(50_000, 3_000_000)
        return dict(cpu_us=cpu, logical_reads=lr, physical_reads=lr * rng.uniform(0.001, 0.05), writes=lu(1, 500),
                    rows=lu(5, 5_000), grant_kb=lu(8_000, 800_000), spills=(lu(100, 50_000) if rng.random() < 0.3 else 0.0),
                    dop=dop, elapsed_factor=rng.uniform(1.1, 3.0), cv=rng.uniform(0.3, 1.0))
    base = {
        "select": (50, 600, 3, 25, 0, 1),
        "update": (100, 2_000, 4, 60, 1, 1),
        "insert": (80, 1_200, 3, 30, 1, 1),
        "delete": (100, 1_500, 4, 40, 1, 1),
        "range": (1_000, 150_000, 100, 40_000, 0, 200),
    }[shape]
    cpu = lu(base[0], base[1])
    lr = lu(base[2], base[3])
    writes = lu(1, 6) if base[4] else 0.0
    rows = lu(1, base[5]) if base[5] > 1 else 1.0
    grant = lu(1_024, 20_000) if shape == "range" and rng.random() < 0.5 else 0.0
    return dict(cpu_us=cpu, logical_reads=lr, physical_reads=lr * rng.uniform(0.0, 0.02), writes=writes, rows=rows,
                grant_kb=grant, spills=0.0, dop=1, elapsed_factor=rng.uniform(1.0, 2.5), cv=rng.uniform(0.3, 0.9))


def _sql_handle(kind: str, database_id: int, object_id: Optional[int], text: str) -> bytes:
    h = hashlib.sha1(text.encode("utf-16-le")).digest()
    if kind == "proc":
        # 0x03 00 | dbid (2, LE) | object_id (4, LE) | 8 bytes | zeros  (44 bytes)
        return b"\x03\x00" + struct.pack("<H", database_id) + struct.pack("<i", object_id or 0) + h[:8] + bytes(28)
    # 0x02000000 | 20-byte hash | zeros (44 bytes)
    return b"\x02\x00\x00\x00" + h[:20] + bytes(20)


def _plan_handle(kind: str, database_id: int, object_id: Optional[int], text: str) -> bytes:
    h = hashlib.sha1(b"plan:" + text.encode("utf-16-le")).digest()
    if kind == "proc":
        head = b"\x05\x00" + struct.pack("<H", database_id) + struct.pack("<i", object_id or 0)
    else:
        head = b"\x06\x00" + struct.pack("<H", database_id) + h[16:20]
    return (head + h[:16] + b"\x01\x00\x00\x00" + bytes(64))[:64]


def _hash8(*parts: str) -> bytes:
    return hashlib.sha1("\x00".join(parts).encode("utf-8")).digest()[:8]


class QueryCatalog:
    """N statement templates in batches, with popularity weights; deterministic for one rng seed."""

    def __init__(self, rng: random.Random, cfg: Optional[dict] = None):
        cfg = dict(cfg or {})
        self.cfg = cfg
        n = int(cfg.get("queries", 200))
        proc_share = float(cfg.get("proc_share", 0.3))
        prepared_share = float(cfg.get("prepared_share", 0.2))
        long_share = float(cfg.get("long_batch_share", 0.05))
        jp_share = float(cfg.get("japanese_share", 0.15))
        variant_share = float(cfg.get("literal_variant_share", 0.2))
        heavy_share = float(cfg.get("heavy_share", 0.05))
        parallel_share = float(cfg.get("parallel_share", 0.5))
        db_ids = list(cfg.get("database_ids", [5, 6, 7]))
        mk = _TextMaker(rng)

        self.queries: list[QueryTemplate] = []
        self.batches: list[list[QueryTemplate]] = []
        self._by_sql_handle: dict[bytes, str] = {}
        self._added: dict[bytes, list[list[QueryTemplate]]] = {}     # add_batch(): sql_handle -> batches
        adhoc_bases: list[tuple[str, str, bytes, bytes, int, bool]] = []   # for literal variants
        batch_id = 0
        while len(self.queries) < n:
            r = rng.random()
            japanese = rng.random() < jp_share
            heavy = rng.random() < heavy_share
            parallel = heavy and rng.random() < parallel_share
            db = rng.choice(db_ids)
            stmts: list[tuple[str, str, bool]] = []   # (statement, shape, heavy)
            hashes: Optional[tuple[bytes, bytes]] = None   # set for a literal variant
            object_id = None
            object_name = None
            long_batch = False
            if r < proc_share:
                kind = "proc"
                k = min(rng.randint(1, 4), n - len(self.queries))
                object_id = (245_575_913 + batch_id * 1_000_003) % 2_000_000_000 + 1_000
                pname = f"usp_{rng.choice(['Get', 'Save', 'Book', 'Close', 'Find'])}{rng.choice(['Order', 'Customer', 'Stock', 'Invoice'])}_{batch_id}"
                if japanese and rng.random() < 0.5:
                    pname = f"usp_注文登録_{batch_id}"
                object_name = f"dbo.{pname}"
                for i in range(k):
                    h = heavy and i == k - 1
                    if h:
                        stmts.append((mk.report(japanese), "report", True))
                    else:
                        st, shape = mk.oltp(japanese, "@id", rng.choice(["select", "update", "insert", "select", "range"]))
                        stmts.append((st, shape, False))
                header = f"CREATE PROCEDURE {object_name}\n    @id int,\n    @note nvarchar(200) = N''\nAS\nBEGIN\n    SET NOCOUNT ON;\n"
                parts = [header]
                body_pos = []
                for st, _, _ in stmts:
                    parts.append("    ")
                    body_pos.append(sum(utf16_units(p) for p in parts))
                    parts.append(st + ";\n")
                parts.append("END\n")
                text = "".join(parts)
                offsets = []
                for (st, _, _), pos in zip(stmts, body_pos):
                    offsets.append((pos * 2, (pos + utf16_units(st) - 1) * 2))
            else:
                kind = "prepared" if r < proc_share + prepared_share else "adhoc"
                long_batch = kind == "adhoc" and rng.random() < long_share
                if heavy:
                    st, shape = mk.report(japanese), "report"
                else:
                    shape = rng.choice(["select", "select", "update", "insert", "range", "delete"])
                    key = "@P1" if kind == "prepared" else str(rng.randint(1, 10 ** 6))
                    st, shape = mk.oltp(japanese, key, shape)
                if kind == "adhoc" and not long_batch and adhoc_bases and rng.random() < variant_share:
                    # a literal variant of an earlier ad hoc statement: same shape, other literal
                    base_stmt, base_shape, qh, qph, db, japanese = rng.choice(adhoc_bases)
                    heavy = False
                    st = re.sub(r"= \d+", f"= {rng.randint(1, 10 ** 6)}", base_stmt, count=1)
                    if st == base_stmt:
                        st = base_stmt + f" /* v{batch_id} */"
                    shape = base_shape
                    stmts = [(st, shape, False)]
                    hashes = (qh, qph)
                else:
                    stmts = [(st, shape, heavy)]
                if kind == "prepared":
                    text = "(@P1 int)" + st
                    offsets = [(utf16_units("(@P1 int)") * 2, -1 if rng.random() < 0.5 else (utf16_units(text) - 1) * 2)]
                elif long_batch:
                    pad = mk.long_padding(japanese)
                    pre = "SET NOCOUNT ON;\n" + pad + "\n"
                    text = pre + st + ";\nSELECT @@ROWCOUNT AS affected;\n"
                    p0 = utf16_units(pre)
                    s2 = "SELECT @@ROWCOUNT AS affected"
                    p1 = utf16_units(pre + st + ";\n")
                    stmts.append((s2, "select", False))
                    offsets = [(p0 * 2, (p0 + utf16_units(st) - 1) * 2), (p1 * 2, (p1 + utf16_units(s2) - 1) * 2)]
                else:
                    text = st
                    offsets = [(0, -1 if rng.random() < 0.5 else (utf16_units(st) - 1) * 2)]
            sql_handle = _sql_handle(kind, db, object_id, text)
            if sql_handle in self._by_sql_handle:
                continue          # the same text twice would be one cache entry in SQL Server: draw again
            plan_handle = _plan_handle(kind, db, object_id, text)
            batch: list[QueryTemplate] = []
            for i, ((st, shape, h), (so, eo)) in enumerate(zip(stmts, offsets)):
                if hashes is not None:
                    qh, qph = hashes
                else:
                    qh = _hash8("q", kind, st)
                    qph = _hash8("p", kind, st, str(db))
                costs = _costs(rng, shape, h, parallel and h)
                t = QueryTemplate(query_id=len(self.queries) + 1, text=text, statement_start_offset=so,
                                  statement_end_offset=eo, sql_handle=sql_handle, plan_handle=plan_handle,
                                  query_hash=qh, query_plan_hash=qph, database_id=db, object_id=object_id,
                                  batch_id=batch_id, statement_index=i, statements_in_batch=len(stmts), kind=kind,
                                  object_name=object_name, japanese=japanese, long_batch=long_batch, heavy=h, **costs)
                batch.append(t)
                self.queries.append(t)
                if kind == "adhoc" and not long_batch and not h and hashes is None:
                    adhoc_bases.append((st, shape, qh, qph, db, japanese))
            self.batches.append(batch)
            self._by_sql_handle[sql_handle] = text
            batch_id += 1

        self._assign_weights(rng, cfg)

    def _assign_weights(self, rng: random.Random, cfg: dict) -> None:
        hot = min(int(cfg.get("hot_queries", 5)), len(self.batches))
        hot_share = float(cfg.get("hot_share", 0.5)) if hot else 0.0
        s = float(cfg.get("zipf_s", 1.1))
        total_rate = float(cfg.get("background_exec_per_s", 50.0))
        order = list(range(len(self.batches)))
        rng.shuffle(order)
        # cheap OLTP batches make better hot queries than reports
        order.sort(key=lambda b: any(t.heavy for t in self.batches[b]))
        weights = [0.0] * len(self.batches)
        rest = order[hot:]
        zipf = [1.0 / (i + 1) ** s for i in range(len(rest))]
        zsum = sum(zipf) or 1.0
        for b in order[:hot]:
            weights[b] = hot_share / hot
        for i, b in enumerate(rest):
            weights[b] = (1.0 - hot_share) * zipf[i] / zsum
        for b, batch in enumerate(self.batches):
            w = weights[b]
            if any(t.heavy for t in batch):
                w *= 0.05          # reports run rarely
            for t in batch:
                t.weight = w
                t.rate_per_s = w * total_rate
        self._cum = []
        acc = 0.0
        for b in range(len(self.batches)):
            acc += self.batches[b][0].weight
            self._cum.append(acc)

    def add_batch(self, text: str, database_id: int) -> list[QueryTemplate]:
        """Register an ad hoc batch the workload runs itself (scripted episodes, long ETL batches) and return
        its statements in order, one QueryTemplate each, split after ';' at line ends (split_statements).

        The batch gets no popularity (weight 0: pick() never returns it) and no background executions
        (rate_per_s 0): only the executions the workload reports reach the plan cache. Its handles and
        hashes follow the catalog's rules for ad hoc text, so sys.dm_exec_sql_text(sql_handle) gives the
        text. The same text in the same database is one batch (as one cache entry in SQL Server): adding
        it again returns the statements registered first. Call it before the PlanCache is built (the plan
        cache sizes its tables from the catalog's batches then)."""
        sql_handle = _sql_handle("adhoc", database_id, None, text)
        plan_handle = _plan_handle("adhoc", database_id, None, text)
        for batch in self._added.get(sql_handle, ()):
            if batch[0].plan_handle == plan_handle:
                return list(batch)
        spans = split_statements(text)
        batch_id = len(self.batches)
        japanese = any("\u3040" <= c <= "\u9fff" for c in text)
        batch: list[QueryTemplate] = []
        for i, (a, b) in enumerate(spans):
            st = text[a:b]
            single = len(spans) == 1
            start = 0 if single else utf16_units(text[:a]) * 2
            end = -1 if single or b >= len(text) else (utf16_units(text[:b]) - 1) * 2
            norm = " ".join(st.split())
            batch.append(QueryTemplate(
                query_id=len(self.queries) + 1, text=text, statement_start_offset=start, statement_end_offset=end,
                sql_handle=sql_handle, plan_handle=plan_handle, query_hash=_hash8("q", "adhoc", norm),
                query_plan_hash=_hash8("p", "adhoc", norm, str(database_id)), database_id=database_id,
                object_id=None, batch_id=batch_id, statement_index=i, statements_in_batch=len(spans),
                kind="adhoc", weight=0.0, rate_per_s=0.0, japanese=japanese, long_batch=len(text) > 8000))
            self.queries.append(batch[-1])
        self.batches.append(batch)
        self._added.setdefault(sql_handle, []).append(batch)
        self._by_sql_handle.setdefault(sql_handle, text)
        return list(batch)

    def pick(self, rng: random.Random) -> QueryTemplate:
        """A statement to run: a batch by popularity, then one of its statements."""
        x = rng.random() * self._cum[-1]
        b = min(bisect.bisect_right(self._cum, x), len(self.batches) - 1)
        batch = self.batches[b]
        return batch[0] if len(batch) == 1 else rng.choice(batch)

    def text_for_handle(self, sql_handle: bytes) -> Optional[str]:
        """The batch / module text of a sql_handle (what sys.dm_exec_sql_text returns), or None."""
        return self._by_sql_handle.get(sql_handle)
