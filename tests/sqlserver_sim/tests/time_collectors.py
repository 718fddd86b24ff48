"""Times every collector answer of a scenario in-process, as the agent would run them (per-database
collectors once per online user database), and compares each with its declared timeout.

    /usr/bin/python3 -m tests.time_collectors [SCENARIO] [AT_SECONDS] [SEED]     (from tests/sqlserver_sim)

Defaults: large, 180 s, seed 1. Wall-clock milliseconds per batch (the worst database's for per-database
collectors, and their sum over all databases); the figures in docs/simulator.md come from it.
"""
from __future__ import annotations

import sys
import time

from sim.results import Error, ResultSet
from tests.test_collector_answers import DECLS, Agent, engine


def main(argv: list[str]) -> int:
    scenario = argv[0] if argv else "large"
    at = float(argv[1]) if len(argv) > 1 else 180.0
    seed = int(argv[2]) if len(argv) > 2 else 1
    c0, w0 = time.process_time(), time.perf_counter()
    e = engine(scenario, seed=seed)
    e.control({"cmd": "advance", "seconds": at})
    print(f"{scenario}: load and run to {at:g} s: {time.process_time() - c0:.1f} s CPU, "
          f"{time.perf_counter() - w0:.1f} s wall")
    a = Agent(e)
    dbs = a.to_visit()
    print(f"{len(dbs)} databases to visit")
    over = 0
    for d in DECLS:
        worst = total = 0.0
        rows = 0
        for db in (dbs if d.scope == "database" else [None]):
            w = time.perf_counter()
            out = a.run(d.batch(e.server.major, db))
            el = time.perf_counter() - w
            errors = [r for r in out if isinstance(r, Error)]
            if errors:
                print(f"{d.name}: {errors[0]}")
                return 1
            rows += len([r for r in out if isinstance(r, ResultSet)][-1].rows)
            worst, total = max(worst, el), total + el
        over += worst > d.timeout_s
        extra = f", {len(dbs)} databases {total:.2f} s" if d.scope == "database" else ""
        print(f"{d.name:20s} timeout {d.timeout_s:5.0f} s  batch {worst * 1000:8.1f} ms{extra}  rows {rows}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
