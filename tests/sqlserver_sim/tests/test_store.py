"""The store (sim/store.py): dmvlog's SQL Server store statements, in-process and through FreeTDS.

Run from tests/sqlserver_sim:  /usr/bin/python3 -m unittest -v tests.test_store

The wire tests use pyodbc for single statements and transactions, and tests/odbc_arrays.py (ctypes) for
parameter arrays bound column-wise, as dmvlog's store binds them (pyodbc's fast_executemany crashes inside
FreeTDS 1.3).
"""
from __future__ import annotations

import os
import unittest

import pyodbc

from sim.results import Error, ResultSet, RowCount
from sim.store import Store
from tests.odbc_arrays import SQL_PARAM_ERROR, SQL_PARAM_SUCCESS, OdbcConnection, OdbcError
from tests.support import Simulator

T = "/* dmvlog:store */ "

DDL = T + """
IF OBJECT_ID(N'dbo.schema_version', N'U') IS NULL CREATE TABLE dbo.schema_version ( version int NOT NULL, applied_at datetime2(7) NOT NULL, CONSTRAINT pk_schema_version PRIMARY KEY (version) );
IF OBJECT_ID(N'dbo.snapshot', N'U') IS NULL CREATE TABLE [dbo].[snapshot] ( id bigint NOT NULL IDENTITY(1,1), [server] nvarchar(128) COLLATE Latin1_General_BIN2 NOT NULL, collector nvarchar(64) NOT NULL, at datetime2(7) NOT NULL, rows_count int NOT NULL DEFAULT 0, CONSTRAINT pk_snapshot PRIMARY KEY (id), CONSTRAINT uq_snapshot UNIQUE ([server], collector, at) );
IF OBJECT_ID(N'dbo.vals', N'U') IS NULL CREATE TABLE dbo.vals ( snapshot_id bigint NOT NULL, k nvarchar(50) NOT NULL, n bigint NULL, f float NULL, d decimal(38,10) NULL, s nvarchar(max) NULL, v varchar(20) NULL, b varbinary(max) NULL, flag bit NULL, CONSTRAINT pk_vals PRIMARY KEY (snapshot_id, k) );
IF OBJECT_ID(N'dbo.events', N'U') IS NULL CREATE TABLE dbo.events ( event_id bigint NOT NULL IDENTITY(1,1), kind nvarchar(32) NOT NULL, at datetime2(7) NOT NULL, CONSTRAINT pk_events PRIMARY KEY (event_id) );
IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID(N'dbo.snapshot') AND name = N'ix_snapshot_at') CREATE INDEX ix_snapshot_at ON dbo.snapshot (at, collector);
IF COL_LENGTH(N'dbo.snapshot', N'note') IS NULL ALTER TABLE dbo.snapshot ADD note nvarchar(200) NULL;
"""

INSERT_SNAPSHOT = (T + "INSERT INTO dbo.snapshot ([server], collector, at) SELECT ?, ?, ? WHERE NOT EXISTS "
                   "(SELECT 1 FROM dbo.snapshot WITH (UPDLOCK, HOLDLOCK) WHERE [server] = ? AND collector = ? AND at = ?)")
INSERT_EVENT = (T + "INSERT INTO dbo.events (kind, at) OUTPUT inserted.event_id SELECT ?, ? WHERE NOT EXISTS "
                "(SELECT 1 FROM dbo.events WITH (UPDLOCK, HOLDLOCK) WHERE kind = ? AND at = ?)")


def params(*values) -> dict:
    return {f"@P{i}": v for i, v in enumerate(values, start=1)}


def rpc_sql(sql: str) -> str:
    """What FreeTDS sends for '?' markers."""
    out, n = [], 0
    for ch in sql:
        if ch == "?":
            n += 1
            out.append(f"@P{n}")
        else:
            out.append(ch)
    return "".join(out)


class StoreInProcessTests(unittest.TestCase):
    def setUp(self) -> None:
        self.store = Store()
        self.addCleanup(self.store.close)
        self.assertEqual(self.run_sql(DDL), [RowCount(None)] * 6)

    def run_sql(self, sql: str, *values, spid: int = 51) -> list:
        return self.store.execute(spid, rpc_sql(sql), params(*values))

    def test_ddl_is_idempotent_and_typed(self) -> None:
        self.assertEqual(self.run_sql(DDL), [RowCount(None)] * 6)
        d = self.store.dump("dbo.snapshot")
        self.assertEqual(d["columns"], ["id", "server", "collector", "at", "rows_count", "note"])
        self.assertEqual(d["types"], ["bigint identity", "nvarchar(128)", "nvarchar(64)", "datetime2(7)", "int",
                                      "nvarchar(200)"])
        self.assertEqual(self.run_sql(T + "SELECT CASE WHEN OBJECT_ID(N'dbo.schema_version', N'U') IS NULL "
                                          "THEN 0 ELSE 1 END")[0].rows, [(1,)])
        self.assertEqual(self.run_sql(T + "SELECT CASE WHEN OBJECT_ID(N'dbo.nothing', N'U') IS NULL "
                                          "THEN 0 ELSE 1 END")[0].rows, [(0,)])
        self.assertEqual(self.run_sql(T + "SELECT ISNULL(MAX(version), 0) FROM dbo.schema_version")[0].rows, [(0,)])

    def test_not_exists_insert_counts_and_output_inserted(self) -> None:
        key = ("srv", "waits", "2026-01-01 00:00:00.1234567")
        self.assertEqual(self.run_sql(INSERT_SNAPSHOT, *key, *key), [RowCount(1)])
        self.assertEqual(self.run_sql(INSERT_SNAPSHOT, *key, *key), [RowCount(0)])
        first = self.run_sql(INSERT_EVENT, "deadlock", key[2], "deadlock", key[2])
        self.assertIsInstance(first[0], ResultSet)
        self.assertEqual(first[0].rows, [(1,)])
        self.assertEqual(first[0].columns[0].name, "event_id")
        self.assertEqual(self.run_sql(INSERT_EVENT, "deadlock", key[2], "deadlock", key[2])[0].rows, [])
        self.assertEqual(self.run_sql(INSERT_EVENT, "blocking", key[2], "blocking", key[2])[0].rows, [(2,)])
        rows = self.run_sql(T + "SELECT id, [server], collector, at, rows_count, note FROM dbo.snapshot")[0]
        self.assertEqual(rows.rows, [(1, "srv", "waits", "2026-01-01 00:00:00.1234567", 0, None)])
        self.assertEqual([c.type for c in rows.columns][:5], ["bigint", "nvarchar(4000)", "nvarchar(4000)",
                                                              "datetime2(7)", "int"])

    def test_update_delete_top_and_queries(self) -> None:
        for i in range(5):
            self.assertEqual(self.run_sql(T + "INSERT INTO dbo.vals (snapshot_id, k, n) VALUES (?, ?, ?)",
                                          1, f"k{i}", i), [RowCount(1)])
        self.assertEqual(self.run_sql(T + "UPDATE dbo.vals SET f = ?, n = n + ? WHERE snapshot_id = ? AND n >= ?",
                                      0.5, 10, 1, 3), [RowCount(2)])
        top = self.run_sql(T + "SELECT TOP (?) k, n FROM dbo.vals ORDER BY n DESC", 2)[0]
        self.assertEqual(top.rows, [("k4", 14), ("k3", 13)])
        win = self.run_sql(T + "SELECT k, ROW_NUMBER() OVER (PARTITION BY snapshot_id ORDER BY n DESC) AS rn, "
                               "COUNT(*) OVER (PARTITION BY snapshot_id) AS c, SUM(CASE WHEN f IS NULL THEN 1 "
                               "ELSE 0 END) OVER (PARTITION BY snapshot_id) AS nulls, ISNULL(s, '') AS s "
                               "FROM dbo.vals ORDER BY k")[0]
        self.assertEqual(win.rows[0], ("k0", 5, 5, 3, ""))
        self.assertEqual(self.run_sql(T + "SELECT MIN(n), COUNT(*) FROM dbo.vals WHERE snapshot_id = ?", 1)[0].rows,
                         [(0, 5)])
        delete = T + "DELETE TOP (?) FROM dbo.vals WHERE snapshot_id = ? AND n < ?"
        self.assertEqual(self.run_sql(delete, 2, 1, 100), [RowCount(2)])
        self.assertEqual(self.run_sql(delete, 2, 1, 100), [RowCount(2)])
        self.assertEqual(self.run_sql(delete, 2, 1, 100), [RowCount(1)])
        self.assertEqual(self.run_sql(delete, 2, 1, 100), [RowCount(0)])
        self.assertEqual(self.run_sql(T + "DELETE FROM dbo.snapshot WHERE [server] = ? AND collector = ?", "a", "b"),
                         [RowCount(0)])

    def test_errors(self) -> None:
        def number(out: list) -> int:
            errors = [r for r in out if isinstance(r, Error)]
            self.assertTrue(errors, out)
            return errors[0].number

        # a statement the store does not know: nothing of the batch runs
        self.assertEqual(number(self.run_sql(T + "CREATE TABLE dbo.x (a int);\nSELEC 1;")), 102)
        self.assertEqual([t["name"] for t in self.store.tables()], ["events", "schema_version", "snapshot", "vals"])
        self.assertEqual(number(self.run_sql(T + "MERGE dbo.vals AS t USING x")), 102)
        self.assertEqual(number(self.run_sql(T + "SELECT a FROM dbo.missing")), 208)
        self.assertEqual(number(self.run_sql(T + "SELECT nope FROM dbo.vals")), 207)
        self.assertEqual(number(self.run_sql(T + "SELECT 'open")), 105)
        self.assertEqual(number(self.store.execute(51, T + "SELECT @P1, @P2", {"@P1": 1})), 137)
        ins = T + "INSERT INTO dbo.vals (snapshot_id, k, v) VALUES (?, ?, ?)"
        self.assertEqual(self.run_sql(ins, 1, "a", "x"), [RowCount(1)])
        self.assertEqual(number(self.run_sql(ins, 1, "a", "x")), 2627)
        self.assertEqual(number(self.run_sql(ins, 1, "A", "x")), 2627)   # the default collation ignores case
        self.assertEqual(number(self.run_sql(ins, 1, None, "x")), 515)
        self.assertEqual(number(self.run_sql(ins, 1, "b", "x" * 21)), 2628)
        key = ("srv", "waits", "2026-01-01 00:00:00")
        self.assertEqual(self.run_sql(INSERT_SNAPSHOT, *key, *key), [RowCount(1)])
        other = ("SRV", "waits", "2026-01-01 00:00:00")  # [server] is BIN2: another key
        self.assertEqual(self.run_sql(INSERT_SNAPSHOT, *other, *other), [RowCount(1)])

    def test_transactions(self) -> None:
        ins = T + "INSERT INTO dbo.vals (snapshot_id, k) VALUES (?, ?)"
        count = T + "SELECT COUNT(*) FROM dbo.vals"
        s = self.store
        s.transaction(51, "begin")
        self.assertEqual(self.run_sql(ins, 1, "a"), [RowCount(1)])
        self.assertEqual(self.run_sql(count)[0].rows, [(1,)])
        self.assertEqual(self.run_sql(count, spid=52)[0].rows, [(0,)])     # not committed
        out = self.run_sql(ins, 2, "b", spid=52)                           # one writer at a time
        self.assertEqual(out[0].number, 1222)
        s.transaction(51, "rollback", begin_after=True)
        self.assertEqual(self.run_sql(count)[0].rows, [(0,)])
        self.assertEqual(self.run_sql(ins, 1, "a"), [RowCount(1)])
        s.transaction(51, "commit", begin_after=True)
        self.assertEqual(self.run_sql(count, spid=52)[0].rows, [(1,)])
        self.assertEqual(self.run_sql(ins, 1, "b"), [RowCount(1)])
        s.disconnect(51)                                                    # rolled back
        self.assertEqual(self.run_sql(count, spid=52)[0].rows, [(1,)])
        self.assertEqual(s.stats()["commits"], 1)
        self.assertEqual(s.stats()["rollbacks"], 2)


SCENARIO = """
name = "store"
start = "2026-03-02T09:00:00Z"
[server]
databases = { count = 1 }
[sessions]
user = 2
batch = 0
[plan_cache]
queries = 20
database_ids = [5]
"""


class StoreWireTests(unittest.TestCase):
    """Through pyodbc / ctypes -> unixODBC -> FreeTDS -> the simulation engine."""

    sim: Simulator

    @classmethod
    def setUpClass(cls) -> None:
        cls.sim = Simulator(engine="sim")
        path = os.path.join(cls.sim.tmp, "store.toml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(SCENARIO)
        cls.sim.extra = ["--scenario", path]
        cls.sim.start()
        cnxn = cls.sim.connect()
        cnxn.autocommit = True
        cnxn.cursor().execute(DDL)
        cnxn.close()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.sim.close()

    def setUp(self) -> None:
        cnxn = self.sim.connect()
        cnxn.autocommit = True
        cur = cnxn.cursor()
        for t in ("vals", "snapshot", "events"):
            cur.execute(T + f"DELETE FROM dbo.{t}")
        cnxn.close()

    def dump(self, table: str) -> dict:
        d = self.sim.control({"cmd": "store_dump", "table": table})
        self.assertTrue(d["ok"], d)
        return d

    def odbc(self) -> OdbcConnection:
        return OdbcConnection(self.sim.conn_str())

    def test_single_rows_of_every_type(self) -> None:
        cnxn = self.sim.connect()
        cnxn.autocommit = True
        cur = cnxn.cursor()
        ins = T + "INSERT INTO dbo.vals (snapshot_id, k, n, f, s, b, flag) VALUES (?, ?, ?, ?, ?, ?, ?)"
        # (pyodbc learns the longest nvarchar / varbinary from sp_datatype_info_100, which the simulation engine
        # does not answer, and then cuts parameters at 4,000 characters / 8,000 bytes: long values are tested
        # with tests/odbc_arrays.py below)
        rows = [(1, "big", 2 ** 62 + 1, 1e-300, "it's \"quoted\" 日本語 ü", b"\x00\xff\x10", 1),
                (1, "nulls", None, None, None, None, None),
                (1, "long", -(2 ** 63), 0.1, "x" * 4000, bytes(range(256)) * 31, 0)]
        for r in rows:
            cur.execute(ins, *r)
            self.assertEqual(cur.rowcount, 1)
        got = cur.execute(T + "SELECT snapshot_id, k, n, f, s, b, flag FROM dbo.vals ORDER BY k DESC").fetchall()
        want = sorted(rows, key=lambda r: r[1], reverse=True)
        self.assertEqual(len(got), len(want))
        for g, w in zip(got, want):
            self.assertEqual(tuple(g)[:6], w[:6])
            self.assertEqual(g[6], None if w[6] is None else bool(w[6]))
        d = self.dump("dbo.vals")
        self.assertEqual(d["columns"][:4], ["snapshot_id", "k", "n", "f"])
        big = next(r for r in d["rows"] if r[1] == "big")
        self.assertEqual(big[2], 2 ** 62 + 1)
        self.assertEqual(big[7], "00ff10")
        tables = {t["name"]: t["rows"] for t in self.sim.control({"cmd": "store_tables"})["tables"]}
        self.assertEqual(tables["vals"], 3)
        stats = self.sim.control({"cmd": "stats"})
        self.assertGreaterEqual(stats["store"]["rows_inserted"], 3)
        self.assertGreater(stats["by_tag"]["store"], 3)
        with self.odbc() as c:
            c.execute(ins, (2, "longer", 1, 1.0, "y" * 70000, b"\x01" * 100000, 1))
            _, sets = c.execute(T + "SELECT LEN(s) FROM dbo.vals WHERE snapshot_id = ?", (2,))
            self.assertEqual(sets, [[("70000",)]])
        longer = next(r for r in self.dump("vals")["rows"] if r[1] == "longer")
        self.assertEqual((longer[5], longer[7]), ("y" * 70000, "01" * 100000))
        cnxn.close()

    def test_not_exists_and_output_inserted_over_the_wire(self) -> None:
        cnxn = self.sim.connect()
        cnxn.autocommit = True
        cur = cnxn.cursor()
        key = ("srv", "waits", "2026-01-01 00:00:00.1234567")
        cur.execute(INSERT_SNAPSHOT, *key, *key)
        self.assertEqual(cur.rowcount, 1)
        cur.execute(INSERT_SNAPSHOT, *key, *key)
        self.assertEqual(cur.rowcount, 0)
        first = cur.execute(INSERT_EVENT, "deadlock", key[2], "deadlock", key[2]).fetchall()
        self.assertEqual(len(first), 1)
        again = cur.execute(INSERT_EVENT, "deadlock", key[2], "deadlock", key[2]).fetchall()
        self.assertEqual(again, [])
        at = cur.execute(T + "SELECT at FROM dbo.snapshot").fetchone()[0]
        self.assertEqual(at.isoformat(sep=" "), "2026-01-01 00:00:00.123456")   # datetime2(7) on the wire
        cnxn.close()

    def test_parameter_arrays(self) -> None:
        ins = T + "INSERT INTO dbo.vals (snapshot_id, k, n, f, s, b) VALUES (?, ?, ?, ?, ?, ?)"
        rows = [(7, "a", 1, 0.1, "it's ü", b"\x00"), (7, "b", None, None, None, None),
                (7, "c", 2 ** 40, 1e300, "日本", b"\xff" * 100)]
        with self.odbc() as c:
            r = c.execute_array(ins, rows, prepare=True)
            self.assertEqual((r.rc, r.processed, r.status, r.row_counts), (0, 3, [SQL_PARAM_SUCCESS] * 3, [3]))
            r = c.execute_array(ins, [(8,) + x[1:] for x in rows], prepare=False)   # one batch of literals
            self.assertEqual((r.rc, r.processed, r.status, r.row_counts), (0, 3, [SQL_PARAM_SUCCESS] * 3, [3]))
            # a duplicate key fails its element only
            r = c.execute_array(T + "INSERT INTO dbo.vals (snapshot_id, k) VALUES (?, ?)",
                                [(9, "x"), (9, "x"), (9, "y")])
            self.assertEqual((r.processed, r.status, r.row_counts),
                             (3, [SQL_PARAM_SUCCESS, SQL_PARAM_ERROR, SQL_PARAM_SUCCESS], [2]))
            self.assertEqual(r.diags[0][1], 2627)
            # NOT EXISTS: 1, 0, 1 row; SQLRowCount is the sum
            r = c.execute_array(INSERT_SNAPSHOT,
                                [("s", "c", "2026-01-01 00:00:00", "s", "c", "2026-01-01 00:00:00")] * 2
                                + [("s", "c", "2026-01-01 00:01:00", "s", "c", "2026-01-01 00:01:00")])
            self.assertEqual((r.processed, r.status, r.row_counts), (3, [SQL_PARAM_SUCCESS] * 3, [2]))
        d = self.dump("vals")
        got = {(row[0], row[1]): row for row in d["rows"]}
        a, c8 = got[(7, "a")], got[(8, "c")]    # snapshot_id, k, n, f, d, s, v, b, flag
        self.assertEqual([a[2], a[3], a[5], a[7]], [1, 0.1, "it's ü", "00"])
        self.assertEqual([c8[2], c8[3], c8[5], c8[7]], [2 ** 40, 1e300, "日本", "ff" * 100])
        self.assertEqual(got[(7, "b")][2:], [None] * 7)
        self.assertEqual(sorted(k for (s, k) in got if s == 9), ["x", "y"])
        self.assertEqual(len(self.dump("snapshot")["rows"]), 2)

    def test_commit_and_rollback(self) -> None:
        ins = T + "INSERT INTO dbo.vals (snapshot_id, k) VALUES (?, ?)"
        cnxn = self.sim.connect()           # pyodbc: autocommit off, FreeTDS begins a transaction
        cur = cnxn.cursor()
        cur.execute(ins, 20, "rolled back")
        self.assertEqual(cur.execute(T + "SELECT COUNT(*) FROM dbo.vals").fetchone()[0], 1)
        self.assertEqual(self.dump("vals")["rows"], [])      # not committed: not visible
        cnxn.rollback()
        self.assertEqual(cur.execute(T + "SELECT COUNT(*) FROM dbo.vals").fetchone()[0], 0)
        cur.execute(ins, 20, "kept")
        cnxn.commit()
        self.assertEqual([r[1] for r in self.dump("vals")["rows"]], ["kept"])
        cur.execute(ins, 20, "gone with the connection")
        cnxn.close()
        self.assertEqual([r[1] for r in self.dump("vals")["rows"]], ["kept"])
        # the same through ODBC calls, as the store makes them
        with self.odbc() as c:
            c.set_autocommit(False)
            r = c.execute_array(ins, [(21, "a"), (21, "b")])
            self.assertEqual(r.row_counts, [2])
            c.rollback()
            c.execute_array(ins, [(22, "a"), (22, "b")])
            c.commit()
            c.set_autocommit(True)
        self.assertEqual(sorted((r[0], r[1]) for r in self.dump("vals")["rows"]),
                         [(20, "kept"), (22, "a"), (22, "b")])
        log = self.sim.log()
        self.assertIn("[transaction manager] rollback and begin", log)
        self.assertIn("[transaction manager] commit and begin", log)

    def test_syntax_error_is_an_error(self) -> None:
        cnxn = self.sim.connect()
        cnxn.autocommit = True
        with self.assertRaises(pyodbc.Error) as ctx:
            cnxn.cursor().execute(T + "UPSERT INTO dbo.vals VALUES (1)")
        self.assertIn("(102)", str(ctx.exception))
        with self.odbc() as c:
            with self.assertRaises(OdbcError) as e:
                c.execute(T + "SELECT x FROM dbo.vals WHERE")
            self.assertEqual(e.exception.native, 102)
        cnxn.close()

    def test_faults_for_every_tag_leave_the_store_alone(self) -> None:
        self.sim.control({"cmd": "fault", "kind": "deny", "tag": "*"})
        try:
            cnxn = self.sim.connect()
            cnxn.autocommit = True
            cur = cnxn.cursor()
            self.assertEqual(cur.execute(T + "SELECT COUNT(*) FROM dbo.vals").fetchone()[0], 0)
            self.sim.control({"cmd": "fault", "kind": "deny", "tag": "store"})
            with self.assertRaises(pyodbc.Error) as ctx:
                cur.execute(T + "SELECT COUNT(*) FROM dbo.vals")
            self.assertIn("(300)", str(ctx.exception))
            cnxn.close()
        finally:
            self.sim.control({"cmd": "clear_faults"})


if __name__ == "__main__":
    unittest.main()
