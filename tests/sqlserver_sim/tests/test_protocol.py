"""The simulator's protocol layer, tested through the real client stack: pyodbc -> unixODBC -> FreeTDS ODBC
driver -> TDS 7.4 over loopback -> sqlserver-sim (self-test engine).

Run from tests/sqlserver_sim:  /usr/bin/python3 -m unittest -v tests.test_protocol

Every wait is bounded (query and login timeouts, socket timeouts, deadlines), and wall-time limits carry
SLACK so that a busy machine does not fail them (see tests/support.py).
"""
from __future__ import annotations

import datetime as dt
import os
import signal
import struct
import threading
import time
import unittest
import uuid
from decimal import Decimal

import pyodbc

from tests.support import SLACK, RawTdsClient, Simulator, int_param, nvarchar_param, port_refuses

SQL_TYPE_TIMESTAMP = 93
SQL_SS_TIME2 = -154
SQL_SS_TIMESTAMPOFFSET = -155


def error_text(exc: BaseException) -> str:
    return " ".join(str(a) for a in exc.args)


def datetimeoffset_from_odbc(raw: bytes | None) -> dt.datetime | None:
    """pyodbc has no converter for SQL_SS_TIMESTAMPOFFSET; decode the ODBC struct (local time + offset)."""
    if raw is None:
        return None
    y, mo, d, h, mi, s, ns, oh, om = struct.unpack("<6hI2h", raw)
    tz = dt.timezone(dt.timedelta(hours=oh, minutes=om))
    return dt.datetime(y, mo, d, h, mi, s, ns // 1000, tzinfo=tz)


class ProtocolTests(unittest.TestCase):
    """One simulator (self-test engine) shared by the tests of this class."""

    sim: Simulator

    @classmethod
    def setUpClass(cls) -> None:
        cls.sim = Simulator()
        cls.sim.start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.sim.close()

    def setUp(self) -> None:
        # a query timeout turns a protocol mistake that leaves the driver waiting into a failure, not a hang
        self.cnxn = self.sim.connect(query_timeout=20)
        self.cnxn.add_output_converter(SQL_SS_TIMESTAMPOFFSET, datetimeoffset_from_odbc)
        self.cur = self.cnxn.cursor()

    def wait_for_log(self, text: str, timeout: float = 10.0) -> None:
        """The simulator logs a query after answering it: allow it a moment."""
        deadline = time.monotonic() + timeout
        while text not in self.sim.log():
            if time.monotonic() > deadline:
                self.fail(f"{text!r} not in the simulator's log:\n{self.sim.log()}")
            time.sleep(0.02)

    def tearDown(self) -> None:
        try:
            self.cnxn.close()
        except pyodbc.Error:
            pass  # tests that break the connection

    # ---------------------------------------------------------------- startup and login

    def test_startup_under_two_seconds(self) -> None:
        self.assertLess(self.sim.startup_seconds, 2.0 * SLACK)

    def test_login_ok_and_connect_time_statements(self) -> None:
        self.cur.execute("SET TRANSACTION ISOLATION LEVEL READ UNCOMMITTED; SET LOCK_TIMEOUT 1000; "
                         "SET DEADLOCK_PRIORITY LOW; SET NOCOUNT ON;")
        spid = self.cur.execute("SELECT @@SPID").fetchone()[0]
        self.assertGreater(spid, 50)
        version = self.cur.execute("SELECT @@VERSION").fetchone()[0]
        self.assertIn("Microsoft SQL Server", version)
        self.assertRegex(self.cnxn.getinfo(pyodbc.SQL_DBMS_VER), r"^16\.00?\.")
        self.wait_for_log("| LOGIN dmvlog app=")

    def test_wrong_password_is_login_failed_18456(self) -> None:
        with self.assertRaises(pyodbc.Error) as ctx:
            self.sim.connect(pwd="wrong")
        text = error_text(ctx.exception)
        self.assertIn("18456", text)
        self.assertIn("Login failed for user 'dmvlog'", text)

    def test_wrong_login_name_is_refused(self) -> None:
        with self.assertRaises(pyodbc.Error) as ctx:
            self.sim.connect(uid="someone")
        self.assertIn("Login failed for user 'someone'", error_text(ctx.exception))

    # ---------------------------------------------------------------- types

    def test_every_type_round_trips(self) -> None:
        rows = self.cur.execute("/* dmvlog:selftest_types */").fetchall()
        names = [d[0] for d in self.cur.description]
        self.assertEqual(len(rows), 2)
        got = dict(zip(names, rows[0]))
        expected = {
            "c_int": -123456789,
            "c_bigint": 9223372036854775807,
            "c_smallint": -32768,
            "c_tinyint": 255,
            "c_bit": True,
            "c_decimal": Decimal("-1234567890123456789012345678.0123456789"),
            "c_decimal_small": Decimal("-1234567.89"),
            "c_numeric": Decimal("12345678901234.5678"),
            "c_float": -3.141592653589793,
            "c_real": -0.25,
            "c_money": Decimal("-12345.6789"),
            "c_nvarchar": "こんにちは 世界",
            "c_nchar": "abc       ",
            "c_varchar": "plain ascii text",
            "c_varchar_max": "ascii text, long. " * 500,
            "c_varbinary": bytes(range(16)),
            "c_binary": b"\x01\x02\x03\x00\x00\x00\x00\x00",
            "c_datetime": dt.datetime(2026, 11, 23, 12, 34, 56, 500000),
            "c_datetime2": dt.datetime(2026, 11, 23, 12, 34, 56, 123456),
            "c_datetimeoffset": dt.datetime(2026, 11, 23, 12, 34, 56, 123456,
                                            tzinfo=dt.timezone(dt.timedelta(hours=9))),
            "c_date": dt.date(2026, 11, 23),
            "c_time": dt.time(12, 34, 56, 123456),
            "c_xml": '<root><item id="1">こんにちは</item></root>',
            "c_uniqueidentifier": "6F9619FF-8B86-D011-B42D-00C04FC964FF",
        }
        for name, value in expected.items():
            with self.subTest(column=name):
                self.assertEqual(got[name], value)
                self.assertIs(type(got[name]), type(value))
        # the long values: 100,000 characters of text, 20,000 bytes
        text = got["c_nvarchar_max"]
        self.assertEqual(len(text), 100_000)
        unit = "日本語のテキスト abcdefghijklmnopqrstuvwxyz 0123456789 "
        self.assertEqual(text, (unit * 3000)[:100_000])
        blob = got["c_varbinary_max"]
        self.assertEqual(len(blob), 20_000)
        self.assertEqual(bytes(blob), bytes((i * 7 + 3) % 256 for i in range(20_000)))
        # row 2: every column NULL (PLP NULL for the max types, zero length for the others)
        self.assertEqual(list(rows[1]), [None] * len(names))

    def test_types_column_metadata(self) -> None:
        self.cur.execute("/* dmvlog:selftest_types */")
        desc = {d[0]: d for d in self.cur.description}
        self.cur.fetchall()
        self.assertEqual(desc["c_nvarchar"][3], 50)           # display size / length of nvarchar(50)
        self.assertEqual(desc["c_decimal"][4:6], (38, 10))    # precision, scale
        self.assertEqual(desc["c_decimal_small"][4:6], (9, 2))
        self.assertTrue(all(d[6] for d in self.cur.description))  # nullable

    def test_100ns_precision_and_offset(self) -> None:
        """pyodbc's datetime stops at microseconds: read the ODBC structs to see all seven digits."""
        self.cnxn.add_output_converter(SQL_TYPE_TIMESTAMP, lambda raw: raw)
        self.cnxn.add_output_converter(SQL_SS_TIME2, lambda raw: raw)
        self.cnxn.add_output_converter(SQL_SS_TIMESTAMPOFFSET, lambda raw: raw)
        cur = self.cnxn.cursor()
        rows = cur.execute("/* dmvlog:selftest_types */").fetchall()
        names = [d[0] for d in cur.description]
        row = dict(zip(names, rows[0]))
        # SQL_TIMESTAMP_STRUCT: year, month, day, hour, minute, second, fraction (ns)
        self.assertEqual(struct.unpack("<6hI", row["c_datetime2"]), (2026, 11, 23, 12, 34, 56, 123456700))
        # SQL_SS_TIME2_STRUCT: hour, minute, second, (pad), fraction (ns)
        self.assertEqual(struct.unpack("<4HI", row["c_time"]), (12, 34, 56, 0, 123456700))
        # SQL_SS_TIMESTAMPOFFSET_STRUCT: local date and time, fraction, offset hours and minutes
        self.assertEqual(struct.unpack("<6hI2h", row["c_datetimeoffset"]),
                         (2026, 11, 23, 12, 34, 56, 123456700, 9, 0))
        null_row = dict(zip(names, rows[1]))
        self.assertIsNone(null_row["c_datetimeoffset"])
        self.assertIsNone(null_row["c_datetime2"])

    def test_many_rows(self) -> None:
        started = time.monotonic()
        rows = self.cur.execute("/* dmvlog:selftest_rows 10000 */").fetchall()
        elapsed = time.monotonic() - started
        self.assertEqual(len(rows), 10_000)
        self.assertEqual(tuple(rows[0]), (1, "name 1", "payload of row 1"))
        self.assertEqual(tuple(rows[-1]), (10_000, "name 10000", "payload of row 10000"))
        self.assertLess(elapsed, 5.0 * SLACK)

    def test_long_batch_spans_packets(self) -> None:
        sql = "/* dmvlog:selftest_echo */\n-- " + "長い" * 10_000 + "\nSELECT 1"
        got = self.cur.execute(sql).fetchone()[0]
        self.assertEqual(got, sql)

    # ---------------------------------------------------------------- RPC

    def test_prepared_statement_parameters_round_trip(self) -> None:
        values = [7, -2**40, "こんにちは", "x" * 5000, 1.25, Decimal("-123.4500"), b"\x00\x01\xff",
                  b"z" * 9000, dt.datetime(2026, 1, 2, 3, 4, 5, 678901), dt.date(2026, 1, 2),
                  True, None]
        sql = "/* dmvlog:selftest_echo */ SELECT " + ", ".join("?" * len(values))
        row = self.cur.execute(sql, *values).fetchone()
        for i, (want, got) in enumerate(zip(values, row)):
            with self.subTest(param=i):
                self.assertEqual(got, want)
        self.assertEqual([d[0] for d in self.cur.description], [f"P{i + 1}" for i in range(len(values))])
        self.wait_for_log("[sp_prepexec] /* dmvlog:selftest_echo */ SELECT @P1")

    def test_prepared_calls_in_a_row(self) -> None:
        """A wrong RPC answer sequence shows up as a failure of the *next* call."""
        cur = self.cur
        self.assertEqual(cur.execute("/* dmvlog:selftest_echo */ SELECT ?", 1).fetchone()[0], 1)
        self.assertEqual(cur.execute("/* dmvlog:selftest_echo */ SELECT ?", 2).fetchone()[0], 2)
        self.assertEqual(tuple(cur.execute("/* dmvlog:selftest_echo */ SELECT ?, ?", "a", 3).fetchone()),
                         ("a", 3))
        with self.assertRaises(pyodbc.Error) as ctx:
            cur.execute("/* dmvlog:selftest_error 208 */ SELECT ?", 1).fetchall()
        self.assertIn("(208)", error_text(ctx.exception))
        self.assertEqual(cur.execute("/* dmvlog:selftest_echo */ SELECT ?", 4).fetchone()[0], 4)
        cur.execute("/* dmvlog:selftest_multi */ SELECT ?", 5)
        self.assertEqual(cur.fetchall()[0][0], 1)
        self.assertTrue(cur.nextset())
        self.assertEqual(len(cur.fetchall()), 2)
        self.assertTrue(cur.nextset())
        self.assertEqual(len(cur.fetchall()), 3)
        self.assertFalse(cur.nextset())
        self.assertEqual(cur.execute("SELECT 1").fetchone()[0], 1)
        cur.executemany("/* dmvlog:selftest_echo */ SELECT ?, ?", [(1, "a"), (2, "b"), (3, "c")])
        self.assertEqual(cur.execute("/* dmvlog:selftest_echo */ SELECT ?", 6).fetchone()[0], 6)

    # ---------------------------------------------------------------- results and messages

    def test_multiple_result_sets(self) -> None:
        cur = self.cur.execute("/* dmvlog:selftest_multi */")
        sets = []
        while True:
            sets.append(([d[0] for d in cur.description], [tuple(r) for r in cur.fetchall()]))
            if not cur.nextset():
                break
        self.assertEqual(sets, [
            (["a"], [(1,)]),
            (["b"], [("one",), ("two",)]),
            (["c", "d"], [(0.5, True), (1.5, False), (2.5, None)]),
        ])
        self.assertEqual(self.cur.execute("SELECT 1").fetchone()[0], 1)

    def test_errors_carry_number_and_connection_survives(self) -> None:
        cases = {208: "Invalid object name", 229: "permission was denied", 297: "does not have permission",
                 300: "VIEW SERVER STATE permission", 102: "Incorrect syntax", 1205: "deadlock victim"}
        for number, words in cases.items():
            with self.subTest(error=number):
                with self.assertRaises(pyodbc.Error) as ctx:
                    self.cur.execute(f"/* dmvlog:selftest_error {number} */").fetchall()
                text = error_text(ctx.exception)
                self.assertIn(f"({number})", text)
                self.assertIn(words, text)
                self.assertEqual(self.cur.execute("SELECT 1").fetchone()[0], 1)
        with self.assertRaises(pyodbc.ProgrammingError) as ctx:
            self.cur.execute("/* dmvlog:selftest_error 208 */")
        self.assertEqual(ctx.exception.args[0], "42S02")

    def test_info_message_then_row(self) -> None:
        row = self.cur.execute("/* dmvlog:selftest_info */").fetchone()
        self.assertEqual(row[0], 1)
        self.assertTrue(any("selftest info message" in m[1] for m in self.cur.messages), self.cur.messages)

    # ---------------------------------------------------------------- faults

    def test_query_timeout_cancels_delay_and_connection_survives(self) -> None:
        cnxn = self.sim.connect(query_timeout=1)
        cur = cnxn.cursor()
        # a 30 s delay and a hang, cancelled after the 1 s timeout (well before the delay would end)
        for sql in ("/* dmvlog:selftest_delay 30 */", "/* dmvlog:selftest_hang */"):
            with self.subTest(sql=sql):
                started = time.monotonic()
                with self.assertRaises(pyodbc.OperationalError) as ctx:
                    cur.execute(sql).fetchall()
                elapsed = time.monotonic() - started
                self.assertEqual(ctx.exception.args[0], "HYT00")
                self.assertGreater(elapsed, 0.8)
                self.assertLess(elapsed, 2.5 * SLACK)
                self.assertEqual(cur.execute("SELECT 1").fetchone()[0], 1)
        # a parameterised (RPC) call is cancelled the same way
        started = time.monotonic()
        with self.assertRaises(pyodbc.OperationalError):
            cur.execute("/* dmvlog:selftest_delay 30 */ SELECT ?", 1).fetchall()
        self.assertLess(time.monotonic() - started, 2.5 * SLACK)
        self.assertEqual(cur.execute("/* dmvlog:selftest_echo */ SELECT ?", 9).fetchone()[0], 9)
        self.wait_for_log("cancelled by attention")
        cnxn.close()

    def test_delay_without_timeout_answers_late(self) -> None:
        started = time.monotonic()
        self.assertEqual(self.cur.execute("/* dmvlog:selftest_delay 0.5 */").fetchone()[0], 1)
        self.assertGreater(time.monotonic() - started, 0.45)

    def test_drop_mid_result_is_a_communication_error(self) -> None:
        with self.assertRaises(pyodbc.Error) as ctx:
            self.cur.execute("/* dmvlog:selftest_drop 3 */").fetchall()
        # FreeTDS reports the closed socket as native 20017 "Unexpected EOF from the server"
        self.assertIn("20017", error_text(ctx.exception))
        with self.assertRaises(pyodbc.Error) as ctx:
            self.cur.execute("SELECT 1")
        self.assertEqual(ctx.exception.args[0], "08S01")
        self.wait_for_log("3 rows sent; connection dropped")
        fresh = self.sim.connect()
        self.assertEqual(fresh.cursor().execute("SELECT 1").fetchone()[0], 1)
        fresh.close()

    # ---------------------------------------------------------------- control port

    def test_control_ping_and_errors(self) -> None:
        self.assertEqual(self.sim.control({"cmd": "ping"}), {"ok": True})
        answer = self.sim.control({"cmd": "no_such_command"})
        self.assertFalse(answer["ok"])
        self.assertIn("error", answer)

    def test_control_kill_connections(self) -> None:
        self.assertEqual(self.cur.execute("SELECT 1").fetchone()[0], 1)
        answer = self.sim.control({"cmd": "kill_connections"})
        self.assertTrue(answer["ok"])
        self.assertGreaterEqual(answer["killed"], 1)
        with self.assertRaises(pyodbc.Error):
            self.cur.execute("SELECT 1").fetchall()
        fresh = self.sim.connect()
        self.assertEqual(fresh.cursor().execute("SELECT 1").fetchone()[0], 1)
        fresh.close()


class RawTdsTests(unittest.TestCase):
    """Answers checked token by token with a minimal TDS client (no driver in between): the RPC answer
    sequence FreeTDS relies on, sp_executesql / sp_prepexec / sp_execute / sp_unprepare, attention,
    packet size."""

    sim: Simulator

    @classmethod
    def setUpClass(cls) -> None:
        cls.sim = Simulator(control=False)
        cls.sim.start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.sim.close()

    def setUp(self) -> None:
        self.client = RawTdsClient(self.sim.port)
        login = self.client.login()
        self.assertEqual([t[0] for t in login],
                         ["ENVCHANGE", "ENVCHANGE", "INFO", "ENVCHANGE", "LOGINACK", "ENVCHANGE", "DONE"])
        self.assertEqual([t[1] for t in login if t[0] == "ENVCHANGE"], [1, 7, 2, 4])

    def tearDown(self) -> None:
        self.client.close()

    def test_loginack_carries_the_default_version(self) -> None:
        other = RawTdsClient(self.sim.port)
        answer = other.login()
        other.close()
        self.assertIn(("LOGINACK", "Microsoft SQL Server", (16, 0, 4135)), answer)
        self.assertEqual(other.server_names, ["SQLSIM"])

    def test_login_refused_is_error_18456_and_done_with_error_bit(self) -> None:
        other = RawTdsClient(self.sim.port)
        answer = other.login(password="nope")
        other.close()
        self.assertEqual(answer, [("ERROR", 18456, "Login failed for user 'dmvlog'."), ("DONE", 0x0002, 0)])

    def test_sp_executesql_sequence(self) -> None:
        answer = self.client.rpc(10, [nvarchar_param("", "/* dmvlog:selftest_echo */ SELECT @a"),
                                      nvarchar_param("", "@a int"), int_param("@a", 42)])
        self.assertEqual(answer, [("COLMETADATA", ["a"]), ("ROW", [42]), ("DONEINPROC", 0x0011, 1),
                                  ("RETURNSTATUS", 0), ("DONEPROC", 0x0000, 0)])

    def test_prepexec_execute_unprepare_sequence(self) -> None:
        stmt = "/* dmvlog:selftest_echo */ SELECT @P1"
        answer = self.client.rpc(13, [int_param("@handle", None, output=True), nvarchar_param("", "@P1 int"),
                                      nvarchar_param("", stmt), int_param("", 5)])
        self.assertEqual(answer[:4], [("COLMETADATA", ["P1"]), ("ROW", [5]), ("DONEINPROC", 0x0011, 1),
                                      ("RETURNSTATUS", 0)])
        self.assertEqual(answer[4][:2], ("RETURNVALUE", "@handle"))
        self.assertEqual(answer[5:], [("DONEPROC", 0x0000, 0)])
        handle = answer[4][2]
        answer = self.client.rpc(12, [int_param("", handle), int_param("", 6)])
        self.assertEqual(answer, [("COLMETADATA", ["P1"]), ("ROW", [6]), ("DONEINPROC", 0x0011, 1),
                                  ("RETURNSTATUS", 0), ("DONEPROC", 0x0000, 0)])
        self.assertEqual(self.client.rpc(15, [int_param("", handle)]), [("RETURNSTATUS", 0), ("DONEPROC", 0, 0)])
        answer = self.client.rpc(12, [int_param("", handle), int_param("", 7)])
        self.assertEqual(answer[0], ("ERROR", 8179, f"Could not find prepared statement with handle {handle}."))
        self.assertEqual(answer[-1], ("DONEPROC", 0x0002, 0))

    def test_multiple_result_sets_in_rpc_and_batch(self) -> None:
        answer = self.client.rpc(10, [nvarchar_param("", "/* dmvlog:selftest_rows 2 */")])
        self.assertEqual([t[0] for t in answer], ["COLMETADATA", "ROW", "ROW", "DONEINPROC", "RETURNSTATUS",
                                                  "DONEPROC"])
        answer = self.client.batch("SET NOCOUNT ON; SELECT 1; SELECT @@SPID")
        dones = [t for t in answer if t[0] == "DONE"]
        self.assertEqual(dones, [("DONE", 0x0001, 0), ("DONE", 0x0011, 1), ("DONE", 0x0010, 1)])

    def test_named_procedure_rpc(self) -> None:
        answer = self.client.rpc("sp_who", [])
        self.assertEqual(answer[0][0], "ERROR")
        self.assertEqual(answer[-1][0], "DONEPROC")
        self.assertEqual(self.client.batch("SELECT 1")[-1], ("DONE", 0x0010, 1))

    def test_attention_when_idle_is_acknowledged(self) -> None:
        self.assertEqual(self.client.attention(), [("DONE", 0x0020, 0)])
        self.assertEqual(self.client.batch("SELECT 1")[-1], ("DONE", 0x0010, 1))

    def test_attention_cancels_delay(self) -> None:
        self.client.send(0x01, struct.pack("<IIHQI", 22, 18, 2, 0, 1)
                         + "/* dmvlog:selftest_delay 30 */".encode("utf-16-le"))
        time.sleep(0.2)
        started = time.monotonic()
        self.assertEqual(self.client.attention(), [("DONE", 0x0020, 0)])
        self.assertLess(time.monotonic() - started, 1.5 * SLACK)
        self.assertEqual(self.client.batch("SELECT 1")[-1], ("DONE", 0x0010, 1))

    def test_answer_split_into_negotiated_packet_size(self) -> None:
        small = RawTdsClient(self.sim.port, packet_size=512)
        small.login()
        answer = small.batch("/* dmvlog:selftest_rows 200 */")
        small.close()
        self.assertEqual(sum(1 for t in answer if t[0] == "ROW"), 200)
        self.assertGreater(len(small.packet_lengths), 10)
        self.assertTrue(all(n == 512 for n in small.packet_lengths[:-1]), small.packet_lengths)
        self.assertLessEqual(small.packet_lengths[-1], 512)


SQL2019_SCENARIO = """
name = "wire-2019"
start = "2026-03-02T09:00:00Z"
[server]
version = "15.0.4355.3"
update_level = "CU27"
server_name = "SQL2019A"
databases = { count = 2 }
[sessions]
user = 5
batch = 0
[[deadlock]]
at = "5s"
[plan_cache]
queries = 40
database_ids = [5, 6]
"""


class SimEngineVersionTests(unittest.TestCase):
    """The simulation engine (--scenario) over the wire: the scenario's [server] version and server_name
    reach LOGINACK and the server name of messages, and agree with what the SQL answers say; parameters of
    a prepared call reach the extended-events answers."""

    sim: Simulator

    @classmethod
    def setUpClass(cls) -> None:
        cls.sim = Simulator(engine="sim")
        path = os.path.join(cls.sim.tmp, "wire-2019.toml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(SQL2019_SCENARIO)
        cls.sim.extra = ["--scenario", path]
        cls.sim.start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.sim.close()

    def test_loginack_and_serverproperty_agree(self) -> None:
        raw = RawTdsClient(self.sim.port)
        try:
            answer = raw.login()
            info_servers = list(raw.server_names)
        finally:
            raw.close()
        self.assertIn(("LOGINACK", "Microsoft SQL Server", (15, 0, 4355)), answer)
        self.assertEqual(info_servers, ["SQL2019A"])          # INFO 5701 'Changed database context'
        cnxn = self.sim.connect(query_timeout=20)
        try:
            self.assertTrue(cnxn.getinfo(pyodbc.SQL_DBMS_VER).startswith("15.00.4355"),
                            cnxn.getinfo(pyodbc.SQL_DBMS_VER))
            cur = cnxn.cursor()
            row = cur.execute("SELECT SERVERPROPERTY('ProductVersion') AS v, "
                              "SERVERPROPERTY('ProductMajorVersion') AS major, @@SERVERNAME AS n").fetchone()
            self.assertEqual(tuple(row), ("15.0.4355.3", "15", "SQL2019A"))
            version = cur.execute("SELECT @@VERSION").fetchone()[0]
            self.assertIn("Microsoft SQL Server 2019", version)
            self.assertIn("15.0.4355.3", version)
        finally:
            cnxn.close()


    def test_parameters_reach_fn_xe_file_target_read_file(self) -> None:
        """The deadlock at 0:05 is in system_health's file once its 120 s dispatch latency has passed."""
        self.assertTrue(self.sim.control({"cmd": "advance", "seconds": 200})["ok"])
        cnxn = self.sim.connect(query_timeout=20)
        try:
            cur = cnxn.cursor()
            rows = cur.execute("SELECT object_name, file_name, file_offset "
                               "FROM sys.fn_xe_file_target_read_file(?, NULL, NULL, NULL)",
                               "system_health*.xel").fetchall()
            self.assertEqual([r[0] for r in rows], ["xml_deadlock_report"])
            name, offset = rows[0][1], rows[0][2]
            self.assertTrue(name.startswith("/var/opt/mssql/log/system_health_0_"), name)
            after = cur.execute("SELECT object_name FROM sys.fn_xe_file_target_read_file(?, NULL, ?, ?)",
                                "system_health*.xel", name, offset).fetchall()
            self.assertEqual(after, [])
            with self.assertRaises(pyodbc.Error) as ctx:
                cur.execute("SELECT object_name FROM sys.fn_xe_file_target_read_file(?, NULL, ?, ?)",
                            "system_health*.xel", None, offset).fetchall()
            self.assertIn("(25719)", error_text(ctx.exception))
        finally:
            cnxn.close()


class ConnectionFaultTests(unittest.TestCase):
    """A stub engine whose accept_connections / answer_on_connect are switched over the control port."""

    sim: Simulator

    @classmethod
    def setUpClass(cls) -> None:
        cls.sim = Simulator(engine="tests.support:FaultStubEngine")
        cls.sim.start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.sim.close()

    def tearDown(self) -> None:
        self.sim.control({"cmd": "refuse", "on": False})
        self.sim.control({"cmd": "no_answer", "on": False})

    def _wait_refusing(self, refusing: bool) -> None:
        deadline = time.monotonic() + 10
        while port_refuses(self.sim.port) != refusing:
            self.assertLess(time.monotonic(), deadline, f"port never {'refused' if refusing else 'accepted'}")
            time.sleep(0.05)

    def test_refuse_connections_and_recover(self) -> None:
        self.sim.connect().close()
        self.assertEqual(self.sim.control({"cmd": "refuse", "on": True}), {"ok": True})
        self._wait_refusing(True)
        started = time.monotonic()
        with self.assertRaises(pyodbc.Error) as ctx:
            self.sim.connect(login_timeout=10)
        # refused at once: well before the 10 s login timeout a listener that never answered would take
        self.assertLess(time.monotonic() - started, 1.5 * SLACK)
        self.assertEqual(ctx.exception.args[0], "08S01")
        self.sim.control({"cmd": "refuse", "on": False})
        self._wait_refusing(False)
        cnxn = self.sim.connect()
        self.assertEqual(cnxn.cursor().execute("SELECT 1").fetchone()[0], 1)
        cnxn.close()

    def test_accept_but_never_answer_times_out_login(self) -> None:
        """FreeTDS tries twice, so HYT00 comes after about twice the login timeout."""
        self.sim.control({"cmd": "no_answer", "on": True})
        started = time.monotonic()
        with self.assertRaises(pyodbc.Error) as ctx:
            self.sim.connect(login_timeout=1)
        elapsed = time.monotonic() - started
        self.assertEqual(ctx.exception.args[0], "HYT00")
        self.assertGreater(elapsed, 1.5)
        self.assertLess(elapsed, (2 * 1 + 1.5) * SLACK)
        self.assertIn("left unanswered (fault)", self.sim.log())
        self.sim.control({"cmd": "no_answer", "on": False})
        cnxn = self.sim.connect()
        self.assertEqual(cnxn.cursor().execute("SELECT 1").fetchone()[0], 1)
        cnxn.close()


class LifecycleTests(unittest.TestCase):
    def test_sigterm_exits_zero_within_a_second(self) -> None:
        with Simulator() as sim:
            cnxn = sim.connect()                       # an idle client
            hung = sim.connect().cursor()              # and one waiting for an answer
            t = threading.Thread(target=lambda: self._swallow(hung, "/* dmvlog:selftest_hang */"), daemon=True)
            t.start()
            time.sleep(0.2)
            rc, seconds = sim.stop(signal.SIGTERM, wait=10.0)
            self.assertEqual(rc, 0)
            self.assertLess(seconds, 1.0 * SLACK)
            t.join(15)
            self.assertFalse(t.is_alive())
            cnxn.close()

    def test_sigint_exits_zero(self) -> None:
        with Simulator(control=False) as sim:
            rc, seconds = sim.stop(signal.SIGINT, wait=10.0)
            self.assertEqual(rc, 0)
            self.assertLess(seconds, 1.0 * SLACK)

    @staticmethod
    def _swallow(cur: pyodbc.Cursor, sql: str) -> None:
        try:
            cur.execute(sql).fetchall()
        except pyodbc.Error:
            pass


class EncodingTests(unittest.TestCase):
    """The row encoder alone, without a socket."""

    def test_encode_10000_rows_of_40_columns_fast(self) -> None:
        from sim.results import Column
        from sim.tds import tokens
        kinds = [("int", 123), ("bigint", 2 ** 40), ("nvarchar(50)", "hello world"),
                 ("nvarchar(max)", "SELECT * FROM sys.objects"), ("datetime2(7)", dt.datetime(2026, 1, 1, 1, 1, 1)),
                 ("float", 1.5), ("decimal(18,4)", Decimal("12.3456")), ("bit", 1)] * 5
        columns = [Column(f"c{i}", t) for i, (t, _) in enumerate(kinds)]
        row = tuple(v for _, v in kinds)
        started = time.process_time()      # CPU time of this process: other processes do not count
        _meta, encoders = tokens.colmetadata(columns)
        data = b"".join(tokens.rows(encoders, [row] * 10_000))
        elapsed = time.process_time() - started
        self.assertEqual(len(columns), 40)
        self.assertGreater(len(data), 10_000 * 40)
        self.assertLess(elapsed, 2.0)

    def test_values_that_do_not_fit_are_refused(self) -> None:
        from sim.tds.datatypes import WireTypeError, column_codec
        _meta, enc = column_codec("decimal(5,2)")
        self.assertEqual(enc(Decimal("-123.45")), bytes([5, 0]) + (12345).to_bytes(4, "little"))
        with self.assertRaises(WireTypeError):
            enc(Decimal("1234.5"))
        _meta, enc = column_codec("nvarchar(3)")
        with self.assertRaises(WireTypeError):
            enc("abcd")
        self.assertEqual(column_codec("uniqueidentifier")[1](uuid.UUID(int=1))[0], 16)


if __name__ == "__main__":
    unittest.main()
