#!/usr/bin/python3
"""Ten agents writing to one PostgreSQL at once, measured in one run.

Starts one PostgreSQL (tests/pg/pg-test-server, with track_commit_timestamp on), N simulators with a scenario
(steady-oltp by default) at --speed X and N `dmvlog run --time-scale X` agents at the default intervals, each
with its own instance name and [store] kind = "postgres" on that one server. Time is compressed X times:
every agent collects and writes X times as often as it would in production, so N agents at X times speed
put the write load of N * X real-time instances on the server. After the run it reports:
  - rows and snapshots written, rows/s (wall) and the same per real-time instance;
  - store write latency per snapshot, from the store itself: commit time of the snapshot's transaction
    (pg_xact_commit_timestamp) minus its written_at (the write: COPY, text, run record, commit), and minus
    the end of the collector run (queue wait in the agent's writer plus the write);
  - PostgreSQL CPU (the postmaster and its children) and the agents' and simulators' CPU;
  - whether the writes kept up (the last snapshots' latency like the first ones', nothing queued at the end);
  - the headroom factor: PgStore's sustained rows/s from store_ingest_bench against this same server
    (one connection, the mix of shapes), divided by the rows/s of the fleet at real-time speed.

Usage: bench/ten_agents.py [--agents 10] [--scenario steady-oltp] [--speed 10] [--minutes 30] [--build DIR]
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PG_SERVER = os.path.join(ROOT, "tests/pg/pg-test-server")
PG_BIN = sorted(d for d in (os.path.join("/usr/lib/postgresql", v, "bin") for v in
                            (os.listdir("/usr/lib/postgresql") if os.path.isdir("/usr/lib/postgresql") else []))
                if os.path.exists(os.path.join(d, "pg_ctl")))
TICKS = os.sysconf("SC_CLK_TCK")


def start_sim(scenario, speed, workdir, k):
    out = open(os.path.join(workdir, f"sim{k}.out"), "w+")
    proc = subprocess.Popen(
        [os.path.join(ROOT, "tests/sqlserver_sim/sqlserver-sim"), "--port", "0", "--scenario",
         os.path.join(ROOT, "tests/sqlserver_sim/scenarios", scenario + ".toml"), "--speed", str(speed),
         "--seed", str(100 + k), "--log", os.path.join(workdir, f"sim{k}.log"),
         "--tls-dir", os.path.join(workdir, "tls")],
        stdout=out, stderr=subprocess.STDOUT)
    return proc, out


def wait_port(proc, out):
    deadline = time.time() + 120
    while time.time() < deadline:
        out.seek(0)
        m = re.search(r"^listening on (\d+)", out.read(), re.M)
        if m:
            return int(m.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    out.seek(0)
    sys.exit("simulator did not start:\n" + out.read())


def psql(conninfo, sql):
    r = subprocess.run(["psql", conninfo, "-X", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"psql failed: {r.stderr}")
    return [line.split("\t") for line in r.stdout.splitlines() if line]


def proc_stat(pid):
    """(ppid, utime+stime, cutime+cstime) in seconds, or None when the process is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS, (int(fields[13]) + int(fields[14])) / TICKS


def server_cpu(postmaster):
    """CPU seconds of the postmaster, its reaped children and its live children."""
    own = proc_stat(postmaster)
    total = own[1] + own[2] if own else 0.0
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = proc_stat(int(name))
            if st and st[0] == postmaster:
                total += st[1]
    return total


def tree_cpu(pid):
    st = proc_stat(pid)
    return st[1] if st else 0.0


def pct(values, p):
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(p * (len(values) - 1) + 0.5))]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agents", type=int, default=10)
    ap.add_argument("--scenario", default="steady-oltp")
    ap.add_argument("--speed", type=float, default=10)
    ap.add_argument("--minutes", type=float, default=30, help="simulated minutes (wall time = minutes / speed)")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--no-capacity", action="store_true", help="skip store_ingest_bench (no headroom factor)")
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (configurations, agent and simulator logs)")
    args = ap.parse_args()

    os.environ["ODBCSYSINI"] = os.path.join(ROOT, "tests/odbc")
    work = tempfile.mkdtemp(prefix="dmvlog_ten_agents_")
    pgdir = f"/tmp/dmvlog-ten-agents-pg-{os.getpid()}"   # the server runs as postgres: not under the build folder
    subprocess.run([PG_SERVER, "start", pgdir], check=True, stdout=subprocess.DEVNULL)
    sims, agents = [], []
    try:
        conninfo = open(os.path.join(pgdir, "conninfo")).read().strip()
        # Commit timestamps give each snapshot's commit time (the write latency); pg_ctl restart keeps the options.
        psql(conninfo, "ALTER SYSTEM SET track_commit_timestamp = on")
        owner = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        subprocess.run(owner + [os.path.join(PG_BIN[-1], "pg_ctl"), "-D", os.path.join(pgdir, "data"), "-w", "-l",
                                os.path.join(pgdir, "server.log"), "restart"], check=True, stdout=subprocess.DEVNULL)
        postmaster = int(open(os.path.join(pgdir, "data", "postmaster.pid")).readline())
        pw = os.path.join(work, "password")
        with open(pw, "w") as f:
            f.write("dmvlog\n")
        os.chmod(pw, 0o600)
        started = [start_sim(args.scenario, args.speed, work, k) for k in range(args.agents)]
        ports = [wait_port(p, o) for p, o in started]
        sims = [p for p, _ in started]
        # One agent installs the schema first, so that ten agents do not all wait on the installer's lock.
        configs = []
        for k, port in enumerate(ports):
            cfg = os.path.join(work, f"agent{k}.toml")
            with open(cfg, "w") as f:
                f.write(f'[[instance]]\nname = "sql{k:02d}"\nconnection = "Driver=FreeTDS;Server=127.0.0.1;Port={port};'
                        f'TDS_Version=7.4"\nuser = "dmvlog"\npassword_file = "{pw}"\n'
                        f'ca_file = "{os.path.join(work, "tls", "ca.pem")}"\n\n'
                        f'[store]\nkind = "postgres"\nconninfo = "{conninfo}"\n')
            configs.append(cfg)
        subprocess.run([os.path.join(args.build, "dmvlog"), "schema", "install", "--config", configs[0]], check=True,
                       stdout=subprocess.DEVNULL)
        wall = args.minutes * 60 / args.speed
        cpu0 = server_cpu(postmaster)
        sim_cpu0 = sum(tree_cpu(p.pid) for p in sims)
        t0 = time.time()
        for k, cfg in enumerate(configs):
            log = open(os.path.join(work, f"agent{k}.log"), "w")
            agents.append(subprocess.Popen([os.path.join(args.build, "dmvlog"), "run", "--config", cfg, "--time-scale",
                                            str(args.speed)], stdout=log, stderr=subprocess.STDOUT))
        time.sleep(wall)
        cpu1 = server_cpu(postmaster)
        sim_cpu1 = sum(tree_cpu(p.pid) for p in sims)
        elapsed = time.time() - t0
        agent_cpu = 0.0
        for a in agents:
            a.send_signal(signal.SIGTERM)
        for a in agents:
            _, _, usage = os.wait4(a.pid, 0)
            agent_cpu += usage.ru_utime + usage.ru_stime
        agents = []
        for s in sims:
            s.send_signal(signal.SIGTERM)
            s.wait()
        sims = []

        # Figures from the store. A snapshot's write: its transaction's commit time minus written_at (taken at
        # the start of the write); its delay: commit time minus the end of the collector run that produced it.
        rows = psql(conninfo, """
            SELECT s.collector, s.instance, s.row_count,
                   extract(epoch FROM (s.written_at || '+00')::timestamptz) AS written,
                   extract(epoch FROM pg_xact_commit_timestamp(s.xmin)) AS committed,
                   extract(epoch FROM (r.started_at || '+00')::timestamptz) + r.duration_ms / 1000 AS run_end
            FROM snapshots s JOIN collector_runs r ON r.xmin = s.xmin AND r.instance = s.instance
                 AND r.collector = s.collector""")
        runs = psql(conninfo, "SELECT status, count(*) FROM collector_runs GROUP BY status ORDER BY 1")
        sizes = psql(conninfo, "SELECT pg_database_size(current_database())")
        errors = {}
        for k in range(args.agents):
            text = open(os.path.join(work, f"agent{k}.log")).read()
            for line in text.splitlines():
                if "store write failed" in line or "queue full" in line:
                    errors[k] = errors.get(k, 0) + 1
        capacity = None
        if not args.no_capacity:
            bench = os.path.join(args.build, "bench/store_ingest/store_ingest_bench")
            out = subprocess.run([bench, "--only", "pg", "--runs", "2", "--conninfo", conninfo], capture_output=True,
                                 text=True)
            m = re.search(r"^\s+all\s+\d+\s+[\d.]+\s+\d+\s+[\d.]+\s+(\d+)", out.stdout, re.M)
            if out.returncode != 0 or not m:
                print("store_ingest_bench failed:\n" + out.stdout + out.stderr)
            else:
                capacity = float(m.group(1))
                print(out.stdout)
    finally:
        for p in agents + sims:
            p.kill()
            p.wait()
        subprocess.run([PG_SERVER, "stop", pgdir], stdout=subprocess.DEVNULL)

    writes = [float(r[4]) - float(r[3]) for r in rows]
    delays = [float(r[4]) - float(r[5]) for r in rows]
    total_rows = sum(int(r[2]) for r in rows)
    n = len(rows)
    by_collector = {}
    for r in rows:
        c = by_collector.setdefault(r[0], [0, 0, []])
        c[0] += 1
        c[1] += int(r[2])
        c[2].append(float(r[4]) - float(r[3]))
    ordered = sorted(rows, key=lambda r: float(r[4]))
    tenth = max(1, n // 10)
    first = [float(r[4]) - float(r[5]) for r in ordered[:tenth]]
    last = [float(r[4]) - float(r[5]) for r in ordered[-tenth:]]
    rows_per_s = total_rows / elapsed
    realtime_rows_per_s = rows_per_s / args.speed
    pg_cpu = cpu1 - cpu0
    figures = {
        "agents": args.agents, "scenario": args.scenario, "speed": args.speed, "wall_seconds": round(elapsed, 1),
        "simulated_minutes": round(elapsed * args.speed / 60, 1), "snapshots": n, "rows": total_rows,
        "rows_per_s_wall": round(rows_per_s), "rows_per_s_per_instance_realtime": round(realtime_rows_per_s / args.agents, 1),
        "fleet_rows_per_s_realtime": round(realtime_rows_per_s, 1),
        "write_ms_p50": round(pct(writes, 0.5) * 1000, 2), "write_ms_p95": round(pct(writes, 0.95) * 1000, 2),
        "write_ms_max": round(max(writes, default=0) * 1000, 2),
        "delay_ms_p50": round(pct(delays, 0.5) * 1000, 2), "delay_ms_p95": round(pct(delays, 0.95) * 1000, 2),
        "delay_ms_p95_first_tenth": round(pct(first, 0.95) * 1000, 2),
        "delay_ms_p95_last_tenth": round(pct(last, 0.95) * 1000, 2),
        "postgres_cpu_s": round(pg_cpu, 2), "postgres_cores": round(pg_cpu / elapsed, 3),
        "agents_cpu_s": round(agent_cpu, 2), "simulators_cpu_s": round(sim_cpu1 - sim_cpu0, 2),
        "runs_by_status": {s: int(c) for s, c in runs}, "store_write_errors_logged": errors,
        "database_bytes": int(sizes[0][0]) if sizes else None,
    }
    print(f"{args.agents} agents on one PostgreSQL: {args.scenario} at {args.speed}x for {elapsed:.0f} s wall "
          f"({figures['simulated_minutes']} simulated minutes each; time compressed {args.speed}x)")
    print(f"  written: {n} snapshots, {total_rows} rows = {rows_per_s:.0f} rows/s wall "
          f"= {realtime_rows_per_s:.1f} rows/s for {args.agents} instances at real time "
          f"({figures['rows_per_s_per_instance_realtime']} per instance)")
    print(f"  write per snapshot (commit - written_at): p50 {figures['write_ms_p50']} ms, "
          f"p95 {figures['write_ms_p95']} ms, max {figures['write_ms_max']} ms")
    print(f"  collector run end to commit: p50 {figures['delay_ms_p50']} ms, p95 {figures['delay_ms_p95']} ms "
          f"(p95 first tenth {figures['delay_ms_p95_first_tenth']} ms, last tenth {figures['delay_ms_p95_last_tenth']} ms)")
    print(f"  PostgreSQL CPU: {pg_cpu:.1f} s = {pg_cpu / elapsed:.3f} cores at {args.speed}x "
          f"({pg_cpu / elapsed / args.speed:.4f} cores at real time); agents {agent_cpu:.1f} s, "
          f"simulators {figures['simulators_cpu_s']} s")
    print(f"  collector runs by status: {figures['runs_by_status']}; store write errors in agent logs: "
          f"{sum(errors.values())}")
    print("  collector                snapshots      rows  write p50 ms  p95 ms")
    for c, (snaps, crows, w) in sorted(by_collector.items(), key=lambda kv: -kv[1][1]):
        print(f"  {c:24} {snaps:9} {crows:9} {pct(w, 0.5) * 1000:13.2f} {pct(w, 0.95) * 1000:7.2f}")
    if capacity:
        figures["capacity_rows_per_s"] = capacity
        figures["headroom_realtime"] = round(capacity / realtime_rows_per_s, 1)
        figures["headroom_at_speed"] = round(capacity / rows_per_s, 2)
        print(f"  headroom: PgStore sustains {capacity:.0f} rows/s on one connection (store_ingest_bench, same "
              f"server) = {figures['headroom_realtime']}x the {args.agents} instances' real-time rows/s "
              f"({figures['headroom_at_speed']}x their rows/s at {args.speed}x); "
              f"by PostgreSQL CPU: {os.cpu_count() / max(pg_cpu / elapsed / args.speed, 1e-9):.0f}x of {os.cpu_count()} cores")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)
    if args.keep:
        print(f"  work folder kept: {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
