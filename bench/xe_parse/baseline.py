#!/usr/bin/python3
"""What a typical scripted collector does with event_file rows: one xml.etree parse per <event> document,
then the same fields dmvlog extracts, into dicts. Reads the benchmark file (events separated by newlines,
each ending with </event>) and prints "events=N errors=E seconds=S cpu=C" (wall clock and CPU time from opening
the file)."""
import sys
import time
import xml.etree.ElementTree as ET

PROC_ATTRS = ("id", "spid", "ecid", "status", "waitresource", "waittime", "lockMode", "transactionname",
              "lasttranstarted", "isolationlevel", "clientapp", "hostname", "hostpid", "loginname", "currentdb",
              "currentdbname", "trancount", "lastbatchstarted", "lastbatchcompleted", "logused")


def to_int(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def process(p):
    d = {k: p.get(k) for k in PROC_ATTRS}
    for k in ("spid", "ecid", "waittime", "currentdb", "trancount", "hostpid", "logused"):
        d[k] = to_int(d[k])
    d["attributes"] = dict(p.attrib)
    ib = p.find("inputbuf")
    d["input_buffer"] = ib.text.strip() if ib is not None and ib.text else None
    d["frames"] = [{"line": to_int(f.get("line")), "sql_handle": f.get("sqlhandle"),
                    "stmt_start": to_int(f.get("stmtstart")), "stmt_end": to_int(f.get("stmtend")),
                    "proc_name": f.get("procname"), "text": (f.text or "").strip() or None}
                   for f in p.iterfind("executionStack/frame")]
    return d


def event(doc):
    ev = ET.fromstring(doc)
    out = {"event": ev.get("name"), "event_time": ev.get("timestamp")}
    data = {}
    for d in ev.iterfind("data"):
        v = d.find("value")
        if v is not None and len(v):
            payload = v[0]
        else:
            data[d.get("name")] = v.text if v is not None else None
    out["data"] = data
    if payload.tag == "blocked-process-report":
        out["monitor_loop"] = to_int(payload.get("monitorLoop"))
        bp = payload.find("blocked-process/process")
        bk = payload.find("blocking-process/process")
        out["blocked"] = process(bp) if bp is not None else None
        out["blocking"] = process(bk) if bk is not None else None
        out["head_blocker"] = bk is not None and not (bk.get("waitresource") or "").strip()
    else:
        out["victims"] = [v.get("id") for v in payload.iterfind("victim-list/victimProcess")]
        out["processes"] = [process(p) for p in payload.iterfind("process-list/process")]
        res = []
        for r in payload.find("resource-list") or []:
            res.append({"type": r.tag, "database_id": to_int(r.get("dbid")),
                        "object_name": r.get("objectname") or r.get("objname"), "index_name": r.get("indexname"),
                        "mode": r.get("mode"),
                        "owners": [{"id": o.get("id"), "mode": o.get("mode")} for o in r.iterfind("owner-list/owner")],
                        "waiters": [{"id": w.get("id"), "mode": w.get("mode")} for w in r.iterfind("waiter-list/waiter")]})
        out["resources"] = res
    return out


def main():
    t0 = time.perf_counter()
    c0 = time.process_time()
    n = errors = 0
    buf = []
    with open(sys.argv[1], encoding="utf-8") as f:
        for line in f:
            buf.append(line)
            if line.rstrip().endswith("</event>"):
                try:
                    event("".join(buf))
                    n += 1
                except ET.ParseError:
                    errors += 1
                buf = []
    print(f"events={n} errors={errors} seconds={time.perf_counter() - t0:.6f} cpu={time.process_time() - c0:.6f}")


if __name__ == "__main__":
    main()
