"""sim/answers/blocking_events.py: the blocking_events collector's RPC batch (bound path and bookmark) and the
xe_status query of `dmvlog check`, through the engine."""
from __future__ import annotations

import datetime as dt
import os
import unittest

from sim.engine import SimEngine
from sim.results import Error, ResultSet
from tests.test_engine import agent_session
from tests.test_events import SCENARIOS, SESSION_DDL, ok

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")


def batch() -> str:
    with open(os.path.join(REPO, "sql", "collectors", "blocking_events.sql"), encoding="utf-8") as f:
        query = f.read()
    return ("/* dmvlog:blocking_events */\nDECLARE @top_rows int = 50;\n"
            "DECLARE @path nvarchar(260) = @P1, @initial_file_name nvarchar(260) = @P2, @initial_offset bigint = @P3;\n"
            "SELECT SYSUTCDATETIME() AS collected_at, DATEPART(TZOFFSET, SYSDATETIMEOFFSET()) AS utc_offset_minutes, "
            "(SELECT sqlserver_start_time FROM sys.dm_os_sys_info) AS sqlserver_start_time;\n" + query)


class BlockingEventsAnswer(unittest.TestCase):
    def setUp(self):
        self.e = SimEngine(os.path.join(SCENARIOS, "incident.toml"), seed=1, wall=lambda: 0.0,
                           now=dt.datetime(2026, 3, 2, 9, 0))
        self.s = agent_session()
        assert self.e.login(self.s, "dmvlog") is None
        ok(self.e.execute(self.s, SESSION_DDL, {}))
        self.e.control({"cmd": "advance", "seconds": 150})

    def read(self, file=None, offset=None):
        out = self.e.execute(self.s, batch(), {"@P1": "dmvlog_blocking*.xel", "@P2": file, "@P3": offset})
        return out

    def test_clock_then_rows_capped_and_bookmarked(self):
        out = self.read()
        sets = [r for r in out if isinstance(r, ResultSet)]
        self.assertEqual(len(sets), 2, out)
        self.assertEqual([c.name for c in sets[0].columns], ["collected_at", "utc_offset_minutes", "sqlserver_start_time"])
        self.assertEqual([c.name for c in sets[1].columns], ["object_name", "event_data", "file_name", "file_offset"])
        rows = sets[1].rows
        self.assertEqual(len(rows), 50)
        # from the bookmark of a whole buffer: only later buffers
        last_whole = [r for r in rows if r[3] != rows[-1][3]][-1]
        later = [r for r in self.read(last_whole[2], last_whole[3]) if isinstance(r, ResultSet)][1].rows
        self.assertTrue(later)
        self.assertTrue(all(r[3] > last_whole[3] or r[2] != last_whole[2] for r in later))
        self.assertEqual(later[0][1], rows[[r[3] for r in rows].index(rows[-1][3])][1])

    def test_a_file_that_rolled_away_is_error_25718_after_the_clock(self):
        out = self.read("/var/opt/mssql/log/dmvlog_blocking_0_1.xel", 5120)
        self.assertIsInstance(out[0], ResultSet)
        self.assertTrue(any(isinstance(r, Error) and r.number == 25718 for r in out), out)

    def test_xe_status(self):
        with open(os.path.join(REPO, "sql", "agent", "xe_status.sql"), encoding="utf-8") as f:
            sql = "/* dmvlog:xe_status */\n" + f.read()
        sets = [r for r in self.e.execute(self.s, sql, {}) if isinstance(r, ResultSet)]
        self.assertEqual(len(sets), 3)
        self.assertEqual(sets[0].rows, [(5,)])
        self.assertIn(("dmvlog_blocking",), sets[1].rows)
        self.assertIn("dmvlog_blocking", [r[0] for r in sets[2].rows])


if __name__ == "__main__":
    unittest.main()
