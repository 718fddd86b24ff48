#!/usr/bin/python3
"""Agent footprint and store growth, measured in one run.

Starts the SQL Server simulator with a scenario (steady-oltp by default) at --speed X, runs `dmvlog run`
with --time-scale X for a number of simulated minutes at default intervals, then reports:
  - CPU seconds of the agent per simulated hour, and as a share of one core (target: under 1%);
  - the agent's peak RSS (target: under 30 MB);
  - store bytes per instance-day, against the same rows with their SQL text repeated on every row
    (the baseline, built from the same store in the same run; target: at least 5x smaller);
  - per collector: runs, failures, p50/p95 duration, rows per snapshot, skipped ticks.

Usage: bench/agent_footprint.py [--scenario NAME] [--minutes M] [--speed X] [--build DIR]
"""
import argparse
import calendar
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start_sim(scenario, speed, workdir):
    out = open(os.path.join(workdir, "sim.out"), "w+")
    proc = subprocess.Popen(
        [os.path.join(ROOT, "tests/sqlserver_sim/sqlserver-sim"), "--port", "0", "--scenario",
         os.path.join(ROOT, "tests/sqlserver_sim/scenarios", scenario + ".toml"), "--speed", str(speed),
         "--log", os.path.join(workdir, "sim.log"), "--tls-dir", os.path.join(workdir, "tls")],
        stdout=out, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        out.seek(0)
        m = re.search(r"^listening on (\d+)", out.read(), re.M)
        if m:
            return proc, int(m.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    out.seek(0)
    sys.exit("simulator did not start:\n" + out.read())


def inline_text_copy(src, dst):
    """The same rows with every *_hash text reference replaced by the text itself."""
    shutil.copy(src, dst)
    db = sqlite3.connect(dst)
    tables = [r[0] for r in db.execute("SELECT table_name FROM collector_tables")]
    for t in tables:
        cols = [r[1] for r in db.execute(f'PRAGMA table_info("{t}")')]
        hashed = [c for c in cols if c.endswith("_hash")]
        if not hashed:
            continue
        select = []
        joins = []
        for i, c in enumerate(cols):
            if c in hashed:
                select.append(f'x{i}.text AS "{c[:-5]}"')
                joins.append(f'LEFT JOIN sql_text x{i} ON x{i}.hash = t."{c}"')
            else:
                select.append(f't."{c}"')
        db.execute(f'CREATE TABLE "{t}_inline" AS SELECT {", ".join(select)} FROM "{t}" t {" ".join(joins)}')
        db.execute(f'DROP TABLE "{t}"')
        db.execute(f'CREATE INDEX "{t}_inline_by_time" ON "{t}_inline" (instance, collected_at)')
    db.execute("DROP TABLE sql_text")
    db.commit()
    db.execute("VACUUM")
    db.close()


TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?$")


def record_bytes(v):
    """Bytes a value takes in an SQLite record: its payload plus its serial type in the header."""
    if v is None:
        return 1
    if isinstance(v, int):
        if v in (0, 1):
            return 1
        a = v if v >= 0 else -v - 1
        for n, lim in ((1, 1 << 7), (2, 1 << 15), (3, 1 << 23), (4, 1 << 31), (6, 1 << 47)):
            if a < lim:
                return 1 + n
        return 9
    if isinstance(v, float):
        return 9
    n = len(v.encode()) if isinstance(v, str) else len(v)
    return n + (1 if n < 58 else 2)


def column_bytes(path, tables, sample=20000):
    """Average record bytes per row and per column of each table, from a sample of its rows."""
    db = sqlite3.connect(path)
    out = {}
    for t in tables:
        cur = db.execute(f'SELECT * FROM "{t}" LIMIT {sample}')
        cols = [d[0] for d in cur.description]
        tot, n = [0] * len(cols), 0
        for r in cur:
            n += 1
            for i, v in enumerate(r):
                tot[i] += record_bytes(v)
        if n:
            out[t] = (n, {c: b / n for c, b in zip(cols, tot)})
    db.close()
    return out


def compact_copy(src, dst):
    """A study of a denser row layout, built from the same rows: each row's (instance, collected_at,
    utc_offset_minutes) replaced by the snapshot's id, timestamps as integers (100 ns ticks), and every other
    text or binary value (handles, object, counter and wait names) by the id of a row of a dictionary table
    that holds each distinct value once; one index per table on the snapshot id. Text references (*_hash)
    stay as they are. Not what the agent writes: a measurement of what such a layout would hold."""
    shutil.copy(src, dst)
    db = sqlite3.connect(dst)
    db.execute("CREATE TABLE dict_values (id INTEGER PRIMARY KEY, value UNIQUE)")
    ids = {}

    def ref(v):
        i = ids.get(v)
        if i is None:
            i = ids[v] = len(ids) + 1
            db.execute("INSERT INTO dict_values VALUES (?, ?)", (i, v))
        return i

    def ticks(v):
        whole, _, frac = v.replace("T", " ").partition(".")
        t = time.strptime(whole, "%Y-%m-%d %H:%M:%S")
        return (int(calendar.timegm(t)) * 10_000_000) + int((frac + "0000000")[:7])

    tables = db.execute("SELECT table_name, collector FROM collector_tables").fetchall()
    snap = {k[1:]: k[0] for k in db.execute("SELECT snapshot_id, instance, collector, collected_at FROM snapshots")}
    for t, collector in tables:
        cols = [r[1] for r in db.execute(f'PRAGMA table_info("{t}")')]
        keep = [c for c in cols if c not in ("instance", "collected_at", "utc_offset_minutes")]
        db.execute(f'CREATE TABLE "{t}_compact" (snapshot_id INTEGER, {", ".join(f"{chr(34)}{c}{chr(34)}" for c in keep)})')
        rows = []
        for r in db.execute(f'SELECT instance, collected_at, {", ".join(f"{chr(34)}{c}{chr(34)}" for c in keep)} FROM "{t}"'):
            out = [snap.get((r[0], collector, r[1]))]
            for c, v in zip(keep, r[2:]):
                if c.endswith("_hash") or v is None or isinstance(v, (int, float)):
                    out.append(v)
                elif isinstance(v, str) and TIMESTAMP.match(v):
                    out.append(ticks(v))
                else:
                    out.append(ref(v))
            rows.append(out)
        db.executemany(f'INSERT INTO "{t}_compact" VALUES ({", ".join("?" * (len(keep) + 1))})', rows)
        db.execute(f'DROP TABLE "{t}"')
        db.execute(f'CREATE INDEX "{t}_compact_by_time" ON "{t}_compact" (snapshot_id)')
    db.commit()
    db.execute("VACUUM")
    db.close()


def vacuumed_size(path):
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("VACUUM")
    page_count = db.execute("PRAGMA page_count").fetchone()[0]
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    db.close()
    return page_count * page_size


def parse_duration_ms(text):
    m = re.fullmatch(r"(\d+)(ms|s|m|h|d)", text)
    if not m:
        return None
    return int(m.group(1)) * {"ms": 1, "s": 1000, "m": 60000, "h": 3600000, "d": 86400000}[m.group(2)]


def print_smaps(pid):
    """Resident KiB per mapping name (libraries by file name, [heap], anonymous), largest first."""
    rss, name = {}, None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            parts = line.split()
            if parts and "-" in parts[0] and len(parts) >= 5 and not parts[0].endswith(":"):
                name = os.path.basename(parts[5]) if len(parts) >= 6 else "[anonymous]"
            elif parts and parts[0] == "Rss:":
                rss[name] = rss.get(name, 0) + int(parts[1])
    total = sum(rss.values())
    print(f"resident now: {total / 1024:.1f} MB")
    for n, kb in sorted(rss.items(), key=lambda x: -x[1]):
        if kb >= 64:
            print(f"  {kb / 1024:7.2f} MB  {n}")
    libs = sum(kb for n, kb in rss.items() if ".so" in n)
    print(f"  shared libraries together: {libs / 1024:.1f} MB")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", default="steady-oltp")
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--speed", type=float, default=20)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--config-extra", default="",
                    help="TOML appended to the agent's configuration, e.g. '[agent]\\nsnapshot_part_rows = 500'")
    ap.add_argument("--layout-study", action="store_true",
                    help="also measure a denser row layout built from the same rows (snapshot ids, integer times, "
                         "a dictionary of names and handles) and print each large table's bytes per column")
    ap.add_argument("--smaps", action="store_true",
                    help="before stopping the agent, print its resident memory by mapping (binary, each library, heap, "
                         "anonymous)")
    args = ap.parse_args()

    os.environ["ODBCSYSINI"] = os.path.join(ROOT, "tests/odbc")
    work = tempfile.mkdtemp(prefix="dmvlog_bench_")
    sim, port = start_sim(args.scenario, args.speed, work)
    try:
        pw = os.path.join(work, "password")
        with open(pw, "w") as f:
            f.write("dmvlog\n")
        os.chmod(pw, 0o600)
        store = os.path.join(work, "dmvlog.db")
        cfg = os.path.join(work, "dmvlog.toml")
        with open(cfg, "w") as f:
            f.write(f'[[instance]]\nname = "bench"\nconnection = "Driver=FreeTDS;Server=127.0.0.1;Port={port};'
                    f'TDS_Version=7.4"\nuser = "dmvlog"\npassword_file = "{pw}"\n'
                    f'ca_file = "{os.path.join(work, "tls", "ca.pem")}"\n\n'
                    f'[store]\npath = "{store}"\n')
            f.write("\n" + args.config_extra.replace("\\n", "\n") + "\n")
        wall = args.minutes * 60 / args.speed
        log = open(os.path.join(work, "agent.log"), "w")
        agent = subprocess.Popen([os.path.join(args.build, "dmvlog"), "run", "--config", cfg, "--time-scale",
                                  str(args.speed)], stdout=log, stderr=subprocess.STDOUT)
        started = time.time()
        time.sleep(wall)
        if args.smaps:
            print_smaps(agent.pid)
        agent.send_signal(signal.SIGTERM)
        _, status, usage = os.wait4(agent.pid, 0)
        elapsed = time.time() - started
    finally:
        sim.send_signal(signal.SIGTERM)
        sim.wait()

    simulated_hours = elapsed * args.speed / 3600
    cpu = usage.ru_utime + usage.ru_stime
    cpu_per_hour = cpu / simulated_hours
    rss_mb = usage.ru_maxrss / 1024
    db = sqlite3.connect(store)
    per = db.execute(
        "SELECT collector, count(*), sum(status <> 'ok'), avg(row_count), max(duration_ms) FROM collector_runs "
        "GROUP BY collector ORDER BY collector").fetchall()
    snapshots = db.execute("SELECT count(*), sum(row_count) FROM snapshots").fetchone()
    db.close()
    day_factor = 24 / simulated_hours
    listing = json.loads(subprocess.run([os.path.join(args.build, "dmvlog"), "collectors", "--config", cfg, "--format",
                                         "json"], capture_output=True, text=True).stdout or "[]")
    intervals = {c["table"]: parse_duration_ms(c["interval"]) / 1000 for c in listing}
    snaps_by_table = {}
    db = sqlite3.connect(store)
    for c in listing:
        snaps_by_table[c["table"]] = db.execute("SELECT count(*) FROM snapshots WHERE collector = ?",
                                                (c["collector"],)).fetchone()[0]
    db.close()

    def per_day(path, suffix=""):
        """Bytes per instance-day: each collector table (with its indexes) at its own run rate; shared
        tables (SQL text, snapshots, run records) linearly over the measured window (an upper bound for
        text, which repeats more as days go by)."""
        conn = sqlite3.connect(path)
        sizes = dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall())
        conn.close()
        total, parts = 0.0, {}
        for name, size in sizes.items():
            base = name
            for t in intervals:
                if name in (t, t + suffix, t + "_by_time", t + suffix + "_by_time"):
                    base = t
            if base in intervals and snaps_by_table.get(base):
                daily = size / snaps_by_table[base] * (86400 / intervals[base])
            else:
                daily = size * day_factor
            parts[base] = parts.get(base, 0) + daily
            total += daily
        return total, parts
    ours_file = vacuumed_size(store)
    ours, ours_parts = per_day(store)
    inline = os.path.join(work, "inline.db")
    inline_text_copy(store, inline)
    vacuumed_size(inline)
    theirs, _ = per_day(inline, "_inline")
    by_table = sorted(ours_parts.items(), key=lambda kv: -kv[1])[:12]
    figures = {
        "scenario": args.scenario, "speed": args.speed, "simulated_minutes": round(simulated_hours * 60, 2),
        "agent_exit_status": os.waitstatus_to_exitcode(status),
        "cpu_seconds": round(cpu, 3), "cpu_seconds_per_simulated_hour": round(cpu_per_hour, 2),
        "share_of_one_core_pct": round(cpu_per_hour / 3600 * 100, 3), "peak_rss_mb": round(rss_mb, 1),
        "snapshots": snapshots[0], "rows": snapshots[1],
        "store_bytes": ours_file, "store_bytes_per_instance_day": int(ours),
        "inline_text_bytes_per_instance_day": int(theirs),
        "text_dedup_ratio": round(theirs / ours, 2) if ours else None,
    }
    print(f"scenario {args.scenario}: {figures['simulated_minutes']} simulated minutes at {args.speed}x, "
          f"agent exit {figures['agent_exit_status']}")
    print(f"  agent CPU: {cpu:.2f} s = {cpu_per_hour:.1f} s per simulated hour = "
          f"{figures['share_of_one_core_pct']:.3f}% of one core (target < 1%)")
    print(f"  agent peak RSS: {rss_mb:.1f} MB (target < 30 MB)")
    print(f"  store: {snapshots[0]} snapshots, {snapshots[1]} rows, {ours_file / 1e6:.2f} MB -> "
          f"{figures['store_bytes_per_instance_day'] / 1e6:.1f} MB per instance-day")
    print(f"  same rows with text on every row: {figures['inline_text_bytes_per_instance_day'] / 1e6:.1f} MB per "
          f"instance-day; ratio {figures['text_dedup_ratio']}x (target >= 5x)")
    print("  largest tables with their indexes (per instance-day):")
    for name, size in by_table:
        print(f"    {name:36} {size / 1e6:9.1f} MB")
    figures["largest_tables_mb_per_day"] = {name: round(size / 1e6, 1) for name, size in by_table}
    if args.layout_study:
        largest = [n for n, _ in by_table if n in intervals][:6]
        print("  bytes per row of the largest collector tables (record only, without indexes), by column:")
        for t, (n, cols) in column_bytes(store, largest).items():
            top = sorted(cols.items(), key=lambda kv: -kv[1])[:8]
            print(f"    {t}: {sum(cols.values()):.0f} B/row ({n} rows sampled); "
                  + ", ".join(f"{c} {b:.0f}" for c, b in top))
        compact = os.path.join(work, "compact.db")
        compact_copy(store, compact)
        vacuumed_size(compact)
        dense, dense_parts = per_day(compact, "_compact")
        figures["dense_layout_bytes_per_instance_day"] = int(dense)
        print(f"  layout study (snapshot ids, integer times, dictionary of names and handles): "
              f"{dense / 1e6:.1f} MB per instance-day; ratio {theirs / dense:.2f}x against text on every row")
        for name, size in sorted(dense_parts.items(), key=lambda kv: -kv[1])[:8]:
            print(f"    {name:36} {size / 1e6:9.1f} MB (now {ours_parts.get(name, 0) / 1e6:.1f})")
    timeouts = {c["collector"]: parse_duration_ms(c["timeout"]) for c in listing}
    over = []
    print("  collector                runs  failed  rows/run   max ms  timeout ms")
    for name, runs, failed, rows, max_ms in per:
        t = timeouts.get(name)
        if t is not None and max_ms is not None and max_ms > t:
            over.append(name)
        print(f"  {name:24} {runs:5} {failed:7} {rows or 0:9.1f} {max_ms or 0:8.1f} {t if t is not None else '-':>11}")
    print(f"  collectors over their timeout: {', '.join(over) if over else 'none'}")
    figures["collectors_over_timeout"] = over
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
