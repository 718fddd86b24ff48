#!/usr/bin/python3
"""Agent footprint and store growth, measured in one run.

Starts the SQL Server simulator with a scenario (steady-oltp by default) at --speed X, runs `dmvlog run`
with --time-scale X for a number of simulated minutes at default intervals, then reports:
  - CPU seconds of the agent per simulated hour, and as a share of one core (target: under 1%);
  - the agent's peak RSS (target: under 30 MB);
  - store bytes per instance-day, against the same rows with their SQL text repeated on every row
    (the baseline, built from the same store in the same run; target: at least 5x smaller); shared tables
    (text, run records) both linearly and at their steady growth (from a copy of the store at mid-run);
  - with --layout-study, the bytes per column of the largest tables, and the same figures for copies of the
    rows in layouts denser still (docs/benchmarks.md, "Layout study");
  - per collector: runs, failures, p50/p95 duration, rows per snapshot, skipped ticks.

Usage: bench/agent_footprint.py [--scenario NAME] [--minutes M] [--speed X] [--build DIR] [--layout-study]
                                [--keep] [--smaps] [--config-extra TOML] [--json FILE]
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


def is_view(db, name):
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'view' AND name = ?", (name,)).fetchone() is not None


def inline_text_copy(src, dst):
    """The baseline: the same rows as each collector table's declared shape (instance, collected_at and
    utc_offset_minutes on every row, times as ISO text, names and handles in the row), with every *_hash text
    reference replaced by the text itself. The store keeps rows densely (table NAME_data, a view NAME with the
    declared shape); the baseline is built from the view."""
    shutil.copy(src, dst)
    db = sqlite3.connect(dst)
    tables = [r[0] for r in db.execute("SELECT table_name FROM collector_tables")]
    tables = [t for t in tables if db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (t,)).fetchone()]
    for t in tables:
        cols = [r[1] for r in db.execute(f'PRAGMA table_info("{t}")')]
        hashed = [c for c in cols if c.endswith("_hash")]
        select = []
        joins = []
        for i, c in enumerate(cols):
            if c in hashed:
                select.append(f'x{i}.text AS "{c[:-5]}"')
                joins.append(f'LEFT JOIN sql_text x{i} ON x{i}.hash = t."{c}"')
            else:
                select.append(f't."{c}"')
        db.execute(f'CREATE TABLE "{t}_inline" AS SELECT {", ".join(select)} FROM "{t}" t {" ".join(joins)}')
        db.execute(f'CREATE INDEX "{t}_inline_by_time" ON "{t}_inline" (instance, collected_at)')
    for t in tables:
        if is_view(db, t):
            db.execute(f'DROP VIEW "{t}"')
            db.execute(f'DROP TABLE "{t}_data"')
        else:
            db.execute(f'DROP TABLE "{t}"')
    db.execute("DROP TABLE sql_text")
    db.execute("DROP TABLE IF EXISTS dictionary")
    db.commit()
    db.execute("VACUUM")
    db.close()


TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?$")


def ticks(v):
    """A store timestamp (ISO text, UTC) as 100 ns ticks since 1970."""
    whole, _, frac = v.replace("T", " ").partition(".")
    t = time.strptime(whole, "%Y-%m-%d %H:%M:%S")
    return (int(calendar.timegm(t)) * 10_000_000) + int((frac + "0000000")[:7])


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
        rows_table = f"{t}_data" if is_view(db, t) else t
        cur = db.execute(f'SELECT * FROM "{rows_table}" LIMIT {sample}')
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


# Layout study, step 2: the columns that name a plan lifetime (constant while it is cached), kept once in a
# lifetimes table; the row keeps the lifetime's id.
LIFETIME_COLUMNS = {
    "query_stats": ["sql_handle", "plan_handle", "statement_start_offset", "statement_end_offset", "creation_time",
                    "query_hash", "query_plan_hash", "plan_generation_num", "batch_text_hash", "statement_text_hash"],
    "procedure_stats": ["database_id", "database_name", "object_id", "object_name", "type", "plan_handle",
                        "sql_handle", "cached_time"],
}
LIFETIME_COLUMNS["query_stats_full"] = LIFETIME_COLUMNS["query_stats"]
LIFETIME_TABLE = {"query_stats": "statement_lifetimes", "query_stats_full": "statement_lifetimes",
                  "procedure_stats": "procedure_lifetimes"}   # the hourly full read shares the minute's lifetimes
# Layout study, step 3: slow-moving data whose per-minute snapshots repeat most rows unchanged.
CHANGE_ONLY = ("perf_counters", "index_operational", "index_usage", "wait_stats", "latch_stats", "spinlock_stats",
               "file_io", "memory_clerks")


def declared_keys():
    """Key columns of each collector table, from the declarations (plus database_id for per-database ones)."""
    import tomllib
    keys = {}
    for f in sorted(os.listdir(os.path.join(ROOT, "collectors"))):
        with open(os.path.join(ROOT, "collectors", f), "rb") as fh:
            d = tomllib.load(fh)
        k = [c.split()[0] for c in d.get("columns", []) if "key" in c.split()[2:]]
        if d.get("scope") == "database":
            k = ["database_id"] + k
        for c in d.get("collector", []):
            keys[c["table"]] = k
    return keys


def dictionary_columns():
    """Columns of each collector table that the store keeps through its dictionary (store.h, ColumnSpec):
    character types, and binary types other than binary(n) with n <= 8 (plus database_name per database)."""
    import tomllib
    out = {}
    for f in sorted(os.listdir(os.path.join(ROOT, "collectors"))):
        with open(os.path.join(ROOT, "collectors", f), "rb") as fh:
            d = tomllib.load(fh)
        cols = []
        for c in d.get("columns", []):
            parts = c.split()
            if "text" in parts[2:]:
                continue
            m = re.match(r"(\w+)(?:\((\w+)\))?", parts[1].lower())
            kind, n = m.group(1), m.group(2)
            if kind in ("nvarchar", "varchar", "nchar", "char", "xml", "uniqueidentifier", "time", "varbinary") or \
                    (kind == "binary" and not (n and n.isdigit() and int(n) <= 8)):
                cols.append(parts[0])
        if d.get("scope") == "database":
            cols.append("database_name")
        for c in d.get("collector", []):
            out[c["table"]] = cols
    return out


def compact_copy(src, dst, lifetimes=False, change_only=False):
    """A study of a denser row layout, built from the same rows; not what the agent writes, a measurement of
    what such a layout would hold.
    Step 1 (what the store itself now writes, docs/design.md "Store rows"; the copy holds it again): each row's (instance, collected_at, utc_offset_minutes) replaced by the snapshot's id, timestamps as
    integers (100 ns ticks), and every other text or binary value (handles, object, counter and wait names) by
    the id of a row of a dictionary table that holds each distinct value once; one index per table on the
    snapshot id. Text references (*_hash) stay as they are.
    lifetimes (step 2): the columns of LIFETIME_COLUMNS once per plan lifetime in a lifetimes table (raw
    values, with an index to find a lifetime; counted linearly like the text, an upper bound), and the other
    timestamps of a row as milliseconds relative to its snapshot.
    change_only (step 3): a row of the CHANGE_ONLY tables only when a value differs from its key's previous
    row, or when the hour changed since its key's last stored row (a full snapshot an hour, so that a
    point-in-time read looks back at most an hour and retention never removes a key's only row)."""
    shutil.copy(src, dst)
    db = sqlite3.connect(dst)
    db.execute("CREATE TABLE dict_values (id INTEGER PRIMARY KEY, value UNIQUE)")
    ids, life_ids = {}, {}
    keys = declared_keys() if change_only else {}

    def ref(v):
        i = ids.get(v)
        if i is None:
            i = ids[v] = len(ids) + 1
            db.execute("INSERT INTO dict_values VALUES (?, ?)", (i, v))
        return i

    def dense(c, v):
        if c.endswith("_hash") or v is None or isinstance(v, (int, float)):
            return v
        if isinstance(v, str) and TIMESTAMP.match(v):
            return ticks(v)
        return ref(v)

    tables = [(t, c) for t, c in db.execute("SELECT table_name, collector FROM collector_tables").fetchall()
              if db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (t,)).fetchone()]
    snap = {k[1:]: k[0] for k in db.execute("SELECT snapshot_id, instance, collector, collected_at FROM snapshots")}
    q = chr(34)
    for t, collector in tables:
        cols = [r[1] for r in db.execute(f'PRAGMA table_info("{t}")')]
        keep = [c for c in cols if c not in ("instance", "collected_at", "utc_offset_minutes")]
        life = [c for c in LIFETIME_COLUMNS.get(t, []) if c in keep] if lifetimes else []
        rest = [c for c in keep if c not in life]
        out_cols = ["snapshot_id"] + (["lifetime_id"] if life else []) + rest
        db.execute(f'CREATE TABLE "{t}_compact" ({", ".join(q + c + q for c in out_cols)})')
        lt = LIFETIME_TABLE.get(t)
        if life:   # raw values, and an index to find a lifetime by plan, statement and creation
            db.execute(f'CREATE TABLE IF NOT EXISTS "{lt}" (id INTEGER PRIMARY KEY, {", ".join(q + c + q for c in life)})')
            found = [c for c in life if c in ("plan_handle", "statement_start_offset", "creation_time", "cached_time")]
            db.execute(f'CREATE INDEX IF NOT EXISTS "{lt}_by_plan" ON "{lt}" ({", ".join(q + c + q for c in found)})')
        key_cols = [c for c in keys.get(t, []) if c in keep] if t in CHANGE_ONLY else []
        last = {}
        rows = []
        for r in db.execute(f'SELECT instance, collected_at, {", ".join(q + c + q for c in keep)} FROM "{t}" '
                            f'ORDER BY collected_at'):
            vals = dict(zip(keep, r[2:]))
            if key_cols:
                k = tuple(vals[c] for c in key_cols)
                hour = r[1][:13]
                prev = last.get(k)
                if prev is not None and prev[0] == r[2:] and prev[1] == hour:
                    continue
                last[k] = (r[2:], hour)
            out = [snap.get((r[0], collector, r[1]))]
            if life:
                identity = (lt,) + tuple(vals[c] for c in life)
                i = life_ids.get(identity)
                if i is None:
                    i = life_ids[identity] = len(life_ids) + 1
                    db.execute(f'INSERT INTO "{lt}" VALUES ({", ".join("?" * (len(life) + 1))})',
                               (i,) + identity[1:])
                out.append(i)
            base = ticks(r[1]) if lifetimes else None
            for c in rest:
                v = vals[c]
                if base is not None and isinstance(v, str) and TIMESTAMP.match(v):
                    out.append((ticks(v) - base) // 10_000)
                else:
                    out.append(dense(c, v))
            rows.append(out)
        db.executemany(f'INSERT INTO "{t}_compact" VALUES ({", ".join("?" * len(out_cols))})', rows)
        if is_view(db, t):
            db.execute(f'DROP VIEW "{t}"')
            db.execute(f'DROP TABLE "{t}_data"')
        else:
            db.execute(f'DROP TABLE "{t}"')
        db.execute(f'CREATE INDEX "{t}_compact_by_time" ON "{t}_compact" (snapshot_id)')
    db.execute("DROP TABLE IF EXISTS dictionary")   # the store's own; the copy has dict_values
    db.commit()
    db.execute("VACUUM")
    db.close()


def truncated_copy(src, dst, cutoff):
    """The store as it was at `cutoff` (a collected_at): what came later removed from every table."""
    shutil.copy(src, dst)
    db = sqlite3.connect(dst)
    dense = []
    for (t,) in db.execute("SELECT table_name FROM collector_tables").fetchall():
        if is_view(db, t):
            db.execute(f'DELETE FROM "{t}_data" WHERE snapshot_id IN (SELECT snapshot_id FROM snapshots '
                       f'WHERE collected_at > ?)', (cutoff,))
            dense.append(t)
        elif db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (t,)).fetchone():
            db.execute(f'DELETE FROM "{t}" WHERE collected_at > ?', (cutoff,))
    db.execute("DELETE FROM snapshots WHERE collected_at > ?", (cutoff,))
    if dense:
        # names and handles first seen later: those no row refers to any more
        refs = []
        by_table = dictionary_columns()
        for t in dense:
            present = {r[0] for r in db.execute(f'SELECT name FROM pragma_table_info("{t}_data")')}
            for c in by_table.get(t, []):
                if c in present:
                    refs.append(f'SELECT "{c}" FROM "{t}_data" WHERE typeof("{c}") = \'integer\'')
        db.execute(f"CREATE TEMP TABLE kept AS {' UNION '.join(refs)}")
        db.execute("DELETE FROM dictionary WHERE id NOT IN (SELECT * FROM kept)")
    db.execute("DELETE FROM sql_text WHERE first_seen > ?", (cutoff,))
    db.execute("DELETE FROM collector_runs WHERE started_at > ?", (cutoff,))
    db.commit()
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
                    help="also print each large table's bytes per column, and measure copies of the rows in the "
                         "layouts the store does not write (plan lifetimes once; slow-moving tables only when changed)")
    ap.add_argument("--keep", action="store_true", help="keep the stores (and their copies) for inspection")
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

    def sizes_of(path):
        conn = sqlite3.connect(path)
        sizes = dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall())
        conn.close()
        return sizes

    def per_day(path, suffix="", half=None):
        """Bytes per instance-day: each collector table (with its indexes) at its own run rate; shared
        tables (SQL text, snapshots, run records, dictionaries) linearly over the measured window, an upper
        bound for what is kept once (text, names), which repeats more as days go by. With `half` (the same
        store as it was at the middle of the run), shared tables are also given at their steady growth
        instead: their size at the end plus the growth of the second half, carried over the rest of the day.
        Returns (linear total, parts, steady total)."""
        sizes = sizes_of(path)
        sizes_half = sizes_of(half) if half else {}
        total, steady, parts = 0.0, 0.0, {}
        for name, size in sizes.items():
            base = name
            for t in intervals:
                if name in (t, t + suffix, t + "_by_time", t + suffix + "_by_time", t + "_data",
                            t + "_data_by_snapshot"):
                    base = t
            if base in intervals and snaps_by_table.get(base):
                daily = size / snaps_by_table[base] * (86400 / intervals[base])
                grown = daily
            else:
                daily = size * day_factor
                grown = size + max(0, size - sizes_half.get(name, 0)) / half_hours * (24 - simulated_hours) \
                    if half else daily
            parts[base] = parts.get(base, 0) + (grown if half else daily)
            total += daily
            steady += grown
        return total, parts, steady

    db = sqlite3.connect(store)
    times = [r[0] for r in db.execute("SELECT collected_at FROM snapshots ORDER BY collected_at")]
    db.close()
    cutoff = times[len(times) // 2]

    half_hours = (ticks(times[-1]) - ticks(cutoff)) / 10_000_000 / 3600
    ours_file = vacuumed_size(store)
    store_half = os.path.join(work, "half.db")
    truncated_copy(store, store_half, cutoff)
    vacuumed_size(store_half)
    ours, ours_parts, ours_steady = per_day(store, half=store_half)
    inline = os.path.join(work, "inline.db")
    inline_text_copy(store, inline)
    vacuumed_size(inline)
    inline_half = os.path.join(work, "inline_half.db")
    inline_text_copy(store_half, inline_half)
    theirs, _, theirs_steady = per_day(inline, "_inline", half=inline_half)
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
        "store_bytes_per_instance_day_steady": int(ours_steady),
        "inline_text_bytes_per_instance_day_steady": int(theirs_steady),
        "text_dedup_ratio_steady": round(theirs_steady / ours_steady, 2) if ours_steady else None,
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
    print(f"  with shared tables (text, run records) at their steady growth instead of linearly: "
          f"{ours_steady / 1e6:.1f} MB against {theirs_steady / 1e6:.1f} MB, "
          f"ratio {figures['text_dedup_ratio_steady']}x")
    print("  largest tables with their indexes (per instance-day; shared tables at their steady growth):")
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
        # Step 1 (snapshot ids, integer times, a dictionary of names and handles) is what the store writes
        # (docs/design.md, "Store rows"): the figures above. Steps 2 and 3 are studied on copies.
        steps = [("step 2: + plan lifetimes once, times relative to the snapshot", {"lifetimes": True}),
                 ("step 3: + slow-moving tables only when changed, full hourly", {"lifetimes": True,
                                                                                 "change_only": True})]
        figures["layout_study_bytes_per_instance_day"] = {}
        for n, (label, opts) in enumerate(steps, 2):
            compact = os.path.join(work, f"compact{n}.db")
            compact_copy(store, compact, **opts)
            vacuumed_size(compact)
            compact_half = os.path.join(work, f"compact{n}_half.db")
            compact_copy(store_half, compact_half, **opts)
            dense, dense_parts, dense_steady = per_day(compact, "_compact", half=compact_half)
            figures["layout_study_bytes_per_instance_day"][f"step{n}"] = [int(dense), int(dense_steady)]
            print(f"  layout study, {label}: {dense / 1e6:.1f} MB per instance-day, ratio {theirs / dense:.2f}x; "
                  f"shared tables at their steady growth: {dense_steady / 1e6:.1f} MB, "
                  f"ratio {theirs_steady / dense_steady:.2f}x")
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
    if args.keep:
        print(f"  stores kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
