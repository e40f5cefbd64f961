#!/usr/bin/env python3
"""CPU and memory snapshots from /proc for `make bench` (no sysstat needed).

  procstat.py cpu --tree NAME=PID ... [--pg PGDATA_PID] [--pgdb DB=NAME ...]
      One JSON line: CPU ticks per group and the machine's busy/total ticks.
      A --tree group is PID and all its descendants; every member counts its
      own time plus that of its reaped children (cutime), so workers that
      exited during the run are not lost. --pg splits the postmaster's tree by
      backend database (the process title "postgres: USER DB ..."); the rest
      (checkpointer, WAL writer, autovacuum) is "pg_other". Per process, with
      the postmaster's reaped-children time, so that report.py can account
      for backends that came or went during the run.
  procstat.py mem PID ...
      One JSON line per call: VmRSS, RssAnon, RssFile, Pss (KiB) per pid.
"""
import argparse
import json
import os
import sys


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return None


def stat_of(pid):
    s = read(f"/proc/{pid}/stat")
    if s is None:
        return None
    # comm may contain spaces and parentheses: split after the last ')'.
    rest = s[s.rindex(")") + 2:].split()
    return {
        "ppid": int(rest[1]),
        "ticks": int(rest[11]) + int(rest[12]) + int(rest[13]) + int(rest[14]),
        "reaped": int(rest[13]) + int(rest[14]),
    }


def snapshot_procs():
    procs = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = stat_of(name)
            if st is not None:
                procs[int(name)] = st
    return procs


def descendants(procs, root):
    children = {}
    for pid, st in procs.items():
        children.setdefault(st["ppid"], []).append(pid)
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in procs:
            out.append(pid)
            todo.extend(children.get(pid, []))
    return out


def machine():
    line = read("/proc/stat").splitlines()[0].split()
    v = [int(x) for x in line[1:]]
    idle = v[3] + v[4]
    total = sum(v[:8])
    return total - idle, total


def cmd_cpu(args):
    procs = snapshot_procs()
    busy, total = machine()
    groups, seen = {}, set()
    for spec in args.tree:
        name, pid = spec.split("=", 1)
        ticks = 0
        for p in descendants(procs, int(pid)):
            if p not in seen:
                seen.add(p)
                ticks += procs[p]["ticks"]
        groups[name] = groups.get(name, 0) + ticks
    pg = None
    if args.pg:
        # Backends come and go (a recycled worker reconnects): per process,
        # so the delta can tell survivors, newcomers and leavers apart.
        dbs = dict(x.split("=", 1) for x in args.pgdb)
        root = int(args.pg)
        pg = {"reaped": procs[root]["reaped"] if root in procs else 0, "procs": {}}
        for p in descendants(procs, root):
            if p in seen:
                continue
            seen.add(p)
            title = (read(f"/proc/{p}/cmdline") or "").replace("\0", " ").split()
            group = "pg_other"
            if len(title) >= 3 and title[0] == "postgres:" and title[2] in dbs:
                group = dbs[title[2]]
            own = procs[p]["ticks"] - (procs[p]["reaped"] if p == root else 0)
            pg["procs"][str(p)] = [group, own]
    print(json.dumps({"hz": os.sysconf("SC_CLK_TCK"), "ncpu": os.cpu_count(),
                      "busy": busy, "total": total, "groups": groups, "pg": pg}))


def cmd_mem(args):
    out = {}
    for pid in args.pids:
        st = read(f"/proc/{pid}/status")
        rollup = read(f"/proc/{pid}/smaps_rollup") or ""
        if st is None:
            continue
        m = {}
        for line in st.splitlines() + rollup.splitlines():
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon", "RssFile", "RssShmem", "Pss"):
                m[k] = int(v.split()[0])
        out[pid] = m
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("cpu")
    c.add_argument("--tree", action="append", default=[])
    c.add_argument("--pg")
    c.add_argument("--pgdb", action="append", default=[])
    m = sub.add_parser("mem")
    m.add_argument("pids", nargs="*")
    args = ap.parse_args()
    {"cpu": cmd_cpu, "mem": cmd_mem}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
