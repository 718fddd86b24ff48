#!/usr/bin/python3
"""Source faults: what each fault costs the agent and how soon it resumes.

Runs the end-to-end tests SourceFaults.* (tests/e2e/source_faults_test.cpp): for each fault, the simulator
at --speed 20 and `dmvlog run --time-scale 20` with three collectors (requests_5s every 5 s, perf_counters
and wait_stats every 10 s), a simulated minute of collection, the fault for about a simulated minute, then
cleared. Each test prints one SOURCE-FAULT line; this script gathers them into a Markdown table:
  faults injected, runs failed (collector_runs with status failed, all collectors of the faulty instance),
  recovered (every collector had an ok run after the clear), and the time from the clear to the end of the
  first ok run, in wall seconds and in simulated seconds (wall x 20).

Usage: bench/source_faults.py [--build DIR] [--repeat N]
"""
import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--repeat", type=int, default=1, help="run the tests N times and show every run")
    args = ap.parse_args()
    binary = os.path.join(args.build, "tests", "dmvlog_e2e_tests")
    if not os.path.exists(binary):
        sys.exit(f"no {binary}: build the dmvlog and dmvlog_e2e_tests targets first")
    rows, failed = [], False
    for _ in range(args.repeat):
        p = subprocess.run([binary, "--gtest_filter=SourceFaults.*"], capture_output=True, text=True)
        failed = failed or p.returncode != 0
        for line in p.stdout.splitlines():
            if not line.startswith("SOURCE-FAULT\t"):
                continue
            parts = line.split("\t")
            fields = dict(x.split("=", 1) for x in parts[2:])
            rows.append((parts[1], fields))
        if p.returncode != 0:
            sys.stderr.write(p.stdout[-4000:])
    print("| fault | injected | runs failed | recovered | resume (simulated s) | resume (wall s) |")
    print("|---|---:|---:|---|---:|---:|")
    for name, f in rows:
        print(f"| {name} | {f['injected']} | {f['failed_runs']} | {f['recovered']} | {float(f['resume_sim_s']):.1f} | "
              f"{float(f['resume_wall_s']):.2f} |")
    if failed:
        sys.exit("some SourceFaults tests failed (output above)")


if __name__ == "__main__":
    main()
