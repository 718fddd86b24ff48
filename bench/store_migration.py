#!/usr/bin/python3
"""Time of converting a SQLite store of the earlier row layout (instance, collected_at and utc_offset_minutes
on every row, times as text, names and handles in the row) to the dense layout (docs/design.md, "Store rows").

From a store of today's layout (e.g. the 24-hour store of bench/query_speed, kept with --keep), builds a copy
in the earlier layout, then times `dmvlog schema upgrade --store sqlite:COPY` on it, which moves the rows, and
checks that every view gives the same rows as before the conversion (a checksum per collector table).

Usage: bench/store_migration.py --store STORE.db [--build DIR] [--work DIR]
"""
import argparse
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def collector_tables(db):
    return [r[0] for r in db.execute(
        "SELECT table_name FROM collector_tables WHERE table_name IN (SELECT name FROM sqlite_master WHERE type = 'view')")]


def checksums(path):
    db = sqlite3.connect(path)
    out = {}
    for t in collector_tables(db):
        h = hashlib.sha256()
        n = 0
        for row in db.execute(f'SELECT * FROM "{t}" ORDER BY instance, collected_at'):
            h.update(repr(sorted(map(repr, row))).encode())
            n += 1
        out[t] = (n, h.hexdigest())
    db.close()
    return out


def earlier_layout_copy(src, dst):
    shutil.copy(src, dst)
    db = sqlite3.connect(dst)
    tables = collector_tables(db)
    for t in tables:
        db.execute(f'CREATE TABLE "{t}_earlier" AS SELECT * FROM "{t}"')
    # the friendly views (schema/sqlite/002_views.sql) go too: the upgrade creates them again
    for (v,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'view'").fetchall():
        db.execute(f'DROP VIEW "{v}"')
    for t in tables:
        db.execute(f'DROP TABLE "{t}_data"')
        db.execute(f'ALTER TABLE "{t}_earlier" RENAME TO "{t}"')
        db.execute(f'CREATE INDEX "{t}_by_time" ON "{t}" (instance, collected_at)')
    db.execute("DROP TABLE dictionary")
    db.commit()
    db.execute("VACUUM")
    db.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", required=True)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--work")
    args = ap.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="dmvlog_migration_")
    os.makedirs(work, exist_ok=True)
    copy = os.path.join(work, "earlier.db")
    before = checksums(args.store)
    t0 = time.time()
    earlier_layout_copy(args.store, copy)
    print(f"earlier-layout copy: {os.path.getsize(copy) / 1e6:.0f} MB, built in {time.time() - t0:.1f} s")
    t0 = time.time()
    r = subprocess.run([os.path.join(args.build, "dmvlog"), "schema", "upgrade", "--store", "sqlite:" + copy],
                       capture_output=True, text=True)
    took = time.time() - t0
    if r.returncode != 0:
        sys.exit(f"dmvlog schema upgrade failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    db = sqlite3.connect(copy)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    rows = sum(n for n, _ in before.values())
    print(f"conversion (dmvlog schema upgrade): {took:.1f} s for {rows} rows ({rows / took:,.0f} rows/s); "
          f"store now {os.path.getsize(copy) / 1e6:.0f} MB before VACUUM")
    after = checksums(copy)
    bad = [t for t in before if before[t] != after.get(t)]
    print("every view gives the rows it gave before: " + ("yes" if not bad else "NO: " + ", ".join(bad)))
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
