"""Every scenario file loads, runs an hour quickly, and does what its header says; bad files are refused."""
from __future__ import annotations

import datetime as dt
import glob
import os
import time
import unittest

from sim.engine import SimEngine
from sim.scenario import ScenarioError, load_scenario, parse_duration, scenario_from_dict
from tests.test_engine import agent_session, requests_batch

SCENARIOS = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scenarios"))
NAMES = ["steady-oltp", "incident", "plan-cache-churn", "restart", "large"]
# Simulated time each scenario is run for here, and the limit for it in CPU seconds of this process (other
# processes on a busy machine do not count; the limits are about 3x what a 2-core laptop needs). One
# simulated hour of steady-oltp takes about 1.2 s. The large scenario is loaded once for this module (see
# docs/simulator.md for its figures) and run for 10 minutes: building it (~100,000 statements) and its
# warm plan cache are most of its cost.
SPAN_S = {"steady-oltp": 3600, "incident": 3600, "plan-cache-churn": 3600, "restart": 3600, "large": 600}
LIMIT_S = {"steady-oltp": 4.0, "incident": 4.0, "plan-cache-churn": 5.0, "restart": 4.0, "large": 12.0}
LARGE_LOAD_LIMIT_S = 10.0
_LARGE: list = []


# scenario files without `start` begin at the current minute; tests pin it so that every run is the same
NOW = dt.datetime(2026, 3, 2, 9, 0, 0)


def engine(name: str, seed: int = 1) -> SimEngine:
    return SimEngine(os.path.join(SCENARIOS, name + ".toml"), seed=seed, wall=lambda: 0.0, now=NOW)


def large() -> SimEngine:
    """The large scenario is slow to build (100,000 statements): built once for this module."""
    if not _LARGE:
        t = time.process_time()
        _LARGE.append(engine("large"))
        _LARGE.append(time.process_time() - t)
    return _LARGE[0]


class TestScenarioFiles(unittest.TestCase):
    def test_the_five_scenarios_exist(self):
        found = sorted(os.path.basename(p)[:-5] for p in glob.glob(os.path.join(SCENARIOS, "*.toml")))
        self.assertEqual(found, sorted(NAMES))

    def test_each_loads_and_runs_quickly(self):
        for name in NAMES:
            with self.subTest(name):
                e = large() if name == "large" else engine(name)
                self.assertEqual(e.scenario.name, name)
                t = time.process_time()
                e.control({"cmd": "advance", "seconds": SPAN_S[name] - e.clock.elapsed()})
                _, rs = e.execute(agent_session(), requests_batch(), {})
                took = time.process_time() - t
                self.assertLess(took, LIMIT_S[name], f"{name}: {SPAN_S[name]} simulated s took {took:.2f} s")
                self.assertGreater(e.server.workload.completed, 100)
                self.assertLessEqual(len(rs.rows), 500)

    def test_default_start_is_now_rounded_down_to_the_minute(self):
        sc = load_scenario(os.path.join(SCENARIOS, "steady-oltp.toml"), now=dt.datetime(2026, 5, 1, 12, 34, 56, 789))
        self.assertEqual(sc.start, dt.datetime(2026, 5, 1, 12, 34))
        self.assertIsNone(sc.duration)

    def test_steady_oltp_shape(self):
        e = engine("steady-oltp")
        self.assertGreaterEqual(len(e.server.workload.sessions), 300)
        e.control({"cmd": "advance", "seconds": 600})
        self.assertGreater(len(e.server.plancache.query_stats_rows()), 1000)
        offline = [d.name for d in e.server.databases if not d.online]
        self.assertEqual(offline, ["Archive2019"])

    def test_incident_sets_the_blocked_process_threshold(self):
        e = engine("incident")
        self.assertEqual(e.server.xe.blocked_process_threshold, 5)
        self.assertEqual(e.server.xe.config["blocked process threshold (s)"], [5, 5])

    def test_restart_scenario_changes_start_time(self):
        e = engine("restart")
        s = agent_session()
        starts = []
        for t in (60, 310, 340, 1300):
            e.control({"cmd": "advance", "seconds": t - e.clock.elapsed()})
            if e.accept_connections():
                s = agent_session(s.spid + 1)
                self.assertIsNone(e.login(s, "dmvlog"))
                starts.append(e.execute(s, requests_batch(), {})[0].rows[0][2])
            else:
                starts.append(None)
        begin = e.scenario.start
        self.assertEqual(starts[0], begin - dt.timedelta(days=40))
        self.assertIsNone(starts[1], "connections are refused during the 30 s outage")
        self.assertEqual(starts[2], begin + dt.timedelta(seconds=330))
        self.assertEqual(starts[3], begin + dt.timedelta(seconds=1200))

    def test_plan_cache_churn_between_one_minute_snapshots(self):
        e = engine("plan-cache-churn")
        e.control({"cmd": "advance", "seconds": 1200})
        t0 = e.scenario.start + dt.timedelta(seconds=600)
        c = e.server.plancache.churn(t0, t0 + dt.timedelta(seconds=60))
        self.assertGreater(c["created"], 20)
        self.assertGreater(c["ended"], 20)

    def test_large_answers_requests_quickly(self):
        e = large()
        self.assertLess(_LARGE[1], LARGE_LOAD_LIMIT_S, f"loading the large scenario took {_LARGE[1]:.1f} CPU s")
        self.assertEqual(len([d for d in e.server.databases if d.database_id > 4]), 500)
        self.assertGreaterEqual(len(e.server.workload.sessions), 10000)
        self.assertGreater(len(e.server.catalog.queries), 100000)
        e.control({"cmd": "advance", "seconds": max(0.0, 300 - e.clock.elapsed())})
        # plans live for a week (lifetime_median_s): the warm cache holds close to 100,000 entries
        live = sum(1 for _ in e.server.plancache.entries())
        self.assertGreater(live, 85000)
        t = time.process_time()
        out = e.execute(agent_session(), requests_batch(), {})
        self.assertLess(time.process_time() - t, 3.0)
        self.assertGreater(len(out[1].rows), 20)


class TestScenarioValidation(unittest.TestCase):
    def test_durations(self):
        self.assertEqual(parse_duration("1h30m", "x"), 5400.0)
        self.assertEqual(parse_duration("250ms", "x"), 0.25)
        self.assertEqual(parse_duration(12, "x"), 12.0)
        for bad in ("3 parsecs", "-1s", "", True, -5):
            with self.assertRaises(ScenarioError):
                parse_duration(bad, "x")

    def test_errors_name_the_key(self):
        cases = [({"name": "x", "sesions": {}}, "sesions"),
                 ({"name": "x", "server": {"cpus": 4}}, "cpus"),
                 ({"name": "x", "blocking": [{"duration": 10}]}, "'at'"),
                 ({"name": "x", "blocking": [{"at": 5, "duration": 10, "blocked": 3, "depth": 5}]}, "depth"),
                 ({"name": "x", "fault": [{"kind": "explode"}]}, "kind"),
                 ({"name": "x", "fault": [{"kind": "delay", "tag": "requests_5s"}]}, "seconds"),
                 ({"name": "x", "auth": {"logins": [{"name": "a", "password": "b", "deny": ["FLY"]}]}}, "FLY"),
                 ({"name": "x", "runaway": [{"at": 1, "duration": 5, "database": "Nope"}]}, "Nope"),
                 ({"description": "no name"}, "name")]
        for data, word in cases:
            with self.subTest(word):
                with self.assertRaises(ScenarioError) as cm:
                    scenario_from_dict(data, "t.toml")
                self.assertIn(word, str(cm.exception))
                self.assertIn("t.toml", str(cm.exception))

    def test_other_models_sections_pass_through_unchanged(self):
        sc = scenario_from_dict({"name": "x", "plan_cache": {"queries": 50, "lifetime_median_s": 600},
                                 "xe": {"log_dir": "C:\\logs\\", "blocked_process_threshold": 10},
                                 "counters": {"waits": {"X": [1, 2, 3]}}})
        self.assertEqual(sc.plan_cache, {"queries": 50, "lifetime_median_s": 600})
        self.assertEqual(sc.xe, {"log_dir": "C:\\logs\\", "blocked_process_threshold": 10})
        self.assertEqual(sc.counters, {"waits": {"X": [1, 2, 3]}})

    def test_unknown_keys_of_the_models_sections_are_errors(self):
        for section, key in (("plan_cache", "lifetime_median"), ("counters", "wait_scael"), ("xe", "threshold")):
            with self.subTest(section):
                with self.assertRaises(ScenarioError) as cm:
                    scenario_from_dict({"name": "x", section: {key: 1}}, "t.toml")
                self.assertIn(f"t.toml[{section}]", str(cm.exception))
                self.assertIn(key, str(cm.exception))
        for bad in (-1, 86401, 2.5, True):
            with self.assertRaises(ScenarioError):
                scenario_from_dict({"name": "x", "xe": {"blocked_process_threshold": bad}}, "t.toml")

    def test_a_table_declared_twice_is_refused(self):
        """tomllib refuses a duplicated table (it does not merge them); the error names the file."""
        path = self.write("name = \"dup\"\n[counters]\ntables_per_db = 5\n[plan_cache]\nqueries = 10\n"
                          "[counters]\ncpus = 4\n")
        with self.assertRaises(ScenarioError) as cm:
            load_scenario(path)
        self.assertIn(path, str(cm.exception))
        self.assertIn("not valid TOML", str(cm.exception))
        self.assertIn("line 6", str(cm.exception))

    def write(self, text: str) -> str:
        import tempfile
        fd, path = tempfile.mkstemp(suffix=".toml")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        self.addCleanup(os.unlink, path)
        return path

    def test_bad_toml_file(self):
        with self.assertRaises(ScenarioError) as cm:
            load_scenario(self.write("name = \n"))
        self.assertIn("not valid TOML", str(cm.exception))


if __name__ == "__main__":
    unittest.main()
