"""What dmvlog reads while its own event session is absent (docs/xe.md, "Fallbacks"), through the engine: a
ring_buffer session a DBA set up (scenario [xe] ring_buffer_session or the xe_session control command) holding
the incident's blocked-process reports, several per timestamp, wrapping at its max event count; system_health's
event files with the deadlock and the diagnostics events the deadlock reader passes over; the collectors'
batches as the agent assembles them. Engines run on a frozen wall clock."""
from __future__ import annotations

import datetime as dt
import os
import tempfile
import unittest
import xml.etree.ElementTree as ET
from collections import Counter

from sim.engine import SimEngine
from sim.results import Error, ResultSet
from tests.test_engine import agent_session
from tests.test_events import SCENARIOS, ok

REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")
START = dt.datetime(2026, 3, 2, 9, 0)
CLOCK = ("SELECT SYSUTCDATETIME() AS collected_at, DATEPART(TZOFFSET, SYSDATETIMEOFFSET()) AS utc_offset_minutes, "
         "(SELECT sqlserver_start_time FROM sys.dm_os_sys_info) AS sqlserver_start_time;\n")


def query(name: str) -> str:
    with open(os.path.join(REPO, "sql", "collectors", name), encoding="utf-8") as f:
        return f.read()


def ring_batch() -> str:
    return ("/* dmvlog:blocking_events_ring_buffer */\nDECLARE @session_name nvarchar(128) = @P1;\n" + CLOCK
            + query("blocking_events_ring_buffer.sql"))


def health_batch(top: int = 20000) -> str:
    return (f"/* dmvlog:deadlocks_system_health */\nDECLARE @top_rows int = {top};\n"
            "DECLARE @initial_file_name nvarchar(260) = @P1, @initial_offset bigint = @P2;\n" + CLOCK
            + query("deadlocks_system_health.sql"))


def incident_with_ring_buffer(max_events: int = 1000) -> str:
    """incident.toml with a ring_buffer session named blocked_process (its [xe] section is the file's last)."""
    with open(os.path.join(SCENARIOS, "incident.toml"), encoding="utf-8") as f:
        text = f.read()
    fd, path = tempfile.mkstemp(suffix=".toml")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text + f'\nring_buffer_session = "blocked_process"\nring_buffer_max_events = {max_events}\n')
    return path


def sets_of(out: list) -> list[ResultSet]:
    ok(out)
    return [r for r in out if isinstance(r, ResultSet)]


class Fallbacks(unittest.TestCase):
    def engine(self, scenario: str) -> SimEngine:
        e = SimEngine(scenario, seed=1, wall=lambda: 0.0, now=START)
        self.s = agent_session()
        self.assertIsNone(e.login(self.s, "dmvlog"))
        return e

    def ring(self, e: SimEngine, name: str = "blocked_process") -> list[ResultSet]:
        return sets_of(e.execute(self.s, ring_batch(), {"@P1": name}))

    def events(self, e: SimEngine, name: str = "blocked_process") -> list[ET.Element]:
        sets = self.ring(e, name)
        self.assertEqual(len(sets), 2)
        self.assertEqual([c.name for c in sets[1].columns], ["target_data"])
        self.assertEqual(len(sets[1].rows), 1)
        return list(ET.fromstring(sets[1].rows[0][0]))

    def test_scenario_ring_buffer_holds_the_incidents_reports_and_deadlock(self):
        path = incident_with_ring_buffer()
        try:
            e = self.engine(path)
        finally:
            os.unlink(path)
        e.control({"cmd": "advance", "seconds": 270})
        evs = self.events(e)
        names = Counter(x.get("name") for x in evs)
        emitted = [x for x in e.server.xe.emitted if x["event"] == "blocked_process_report"]
        self.assertEqual(names["blocked_process_report"], len(emitted))
        self.assertGreater(len(emitted), 300)
        self.assertEqual(names["xml_deadlock_report"], 1)
        # every report of one monitor pass has the pass's timestamp
        per_time = Counter(x.get("timestamp") for x in evs if x.get("name") == "blocked_process_report")
        self.assertGreater(max(per_time.values()), 10)
        # ring buffer rendering: each <data> carries its <type>
        self.assertIsNotNone(evs[0].find("data/type"))
        # dmvlog's session does not exist; the ring buffer session runs
        with open(os.path.join(REPO, "sql", "agent", "xe_status.sql"), encoding="utf-8") as f:
            status = sets_of(e.execute(self.s, "/* dmvlog:xe_status */\n" + f.read(), {}))
        self.assertNotIn(("dmvlog_blocking",), status[1].rows)
        self.assertIn("blocked_process", [r[0] for r in status[2].rows])

    def test_the_ring_buffer_wraps_at_its_max_event_count(self):
        e = self.engine(os.path.join(SCENARIOS, "incident.toml"))
        e.control({"cmd": "advance", "seconds": 30})
        answer = e.control({"cmd": "xe_session", "action": "create_ring_buffer", "name": "blocked_process",
                            "max_events": 50})
        self.assertTrue(answer["ok"], answer)
        self.assertIn("blocked_process", answer["running"])
        e.control({"cmd": "advance", "seconds": 240})
        sets = self.ring(e)
        root = ET.fromstring(sets[1].rows[0][0])
        self.assertEqual(root.get("eventCount"), "50")
        self.assertGreater(int(root.get("totalEventsProcessed")), 300)
        evs = list(root)
        self.assertEqual(len(evs), 50)
        first_report = min(x["time"] for x in e.server.xe.emitted if x["event"] == "blocked_process_report")
        self.assertGreater(evs[0].get("timestamp"), first_report.strftime("%Y-%m-%dT%H:%M:%S"))
        times = [x.get("timestamp") for x in evs]
        self.assertEqual(times, sorted(times), "oldest first")

    def test_no_row_without_the_session_or_its_ring_buffer(self):
        e = self.engine(os.path.join(SCENARIOS, "incident.toml"))
        self.assertEqual(self.ring(e)[1].rows, [])
        self.assertEqual(self.ring(e, "dmvlog_blocking")[1].rows, [])
        e.control({"cmd": "xe_session", "action": "create_ring_buffer", "name": "blocked_process"})
        self.assertEqual(len(self.ring(e)[1].rows), 1)
        self.assertTrue(e.control({"cmd": "xe_session", "action": "stop", "name": "blocked_process"})["ok"])
        self.assertEqual(self.ring(e)[1].rows, [])
        self.assertTrue(e.control({"cmd": "xe_session", "action": "drop", "name": "blocked_process"})["ok"])
        bad = e.control({"cmd": "xe_session", "action": "drop", "name": "blocked_process"})
        self.assertFalse(bad["ok"])
        self.assertIn("15151", bad["error"])
        self.assertFalse(e.control({"cmd": "xe_session", "action": "explode", "name": "x"})["ok"])

    def test_system_health_deadlocks_with_other_events_passed_over(self):
        e = self.engine(os.path.join(SCENARIOS, "incident.toml"))
        e.control({"cmd": "advance", "seconds": 400})   # deadlock at 200 s, written at most 120 s later
        sets = sets_of(e.execute(self.s, health_batch(), {"@P1": None, "@P2": None}))
        self.assertEqual([c.name for c in sets[1].columns], ["object_name", "event_data", "file_name", "file_offset"])
        rows = sets[1].rows
        deadlocks = [r for r in rows if r[0] == "xml_deadlock_report"]
        self.assertEqual(len(deadlocks), 1)
        self.assertIn("<deadlock>", deadlocks[0][1])
        others = [r for r in rows if r[0] != "xml_deadlock_report"]
        self.assertTrue(others, "system_health's diagnostics events")
        self.assertTrue(all(r[1] is None for r in others))
        self.assertTrue(all(r[2].startswith("/var/opt/mssql/log/system_health_0_") for r in rows))
        # from the last row's bookmark: nothing new; TOP caps
        last = rows[-1]
        again = sets_of(e.execute(self.s, health_batch(), {"@P1": last[2], "@P2": last[3]}))[1].rows
        self.assertEqual(again, [])
        self.assertEqual(len(sets_of(e.execute(self.s, health_batch(top=2), {"@P1": None, "@P2": None}))[1].rows), 2)

    def test_dropping_dmvlogs_session(self):
        e = self.engine(os.path.join(SCENARIOS, "incident.toml"))
        from tests.test_events import SESSION_DDL
        ok(e.execute(self.s, SESSION_DDL, {}))
        answer = e.control({"cmd": "xe_session", "action": "drop", "name": "dmvlog_blocking"})
        self.assertTrue(answer["ok"], answer)
        self.assertNotIn("dmvlog_blocking", answer["defined"])
        self.assertIn("system_health", answer["running"])

    def test_an_undeclared_session_name_is_error_137(self):
        e = self.engine(os.path.join(SCENARIOS, "incident.toml"))
        out = e.execute(self.s, "/* dmvlog:blocking_events_ring_buffer */\n" + CLOCK
                        + query("blocking_events_ring_buffer.sql"), {})
        self.assertTrue(any(isinstance(r, Error) and r.number == 137 for r in out), out)


if __name__ == "__main__":
    unittest.main()
