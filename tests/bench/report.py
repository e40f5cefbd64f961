#!/usr/bin/env python3
"""Results of `make bench`: one JSON line per wrk run, then tables and JSON.

  report.py record KEY=VALUE ...        one result line on stdout (see bench.sh)
  report.py MODE RESULTS.jsonl META.json OUT_DIR
      MODE is table, scaling, keepalive, levers or rss: prints the tables, writes
      OUT_DIR/MODE-<UTC time>.json and compares with the newest earlier file
      of the same mode. Figures from one run are comparable with each other;
      across runs on a shared machine only the ratios mean something.
"""
import glob
import json
import os
import statistics
import sys
import time

# Backends that left during a run (a recycled worker's) count for the side
# being measured: the other side is idle then.
GROUPS_OURS = {"nginx": ["nginx_ours"], "app": ["pool"], "pg": ["pg_ours", "pg_exited"]}
GROUPS_HELLO = {"nginx": ["nginx_ours"], "app": ["hello"], "pg": []}
GROUPS_PEER = {"nginx": ["nginx_peer"], "app": ["node"], "pg": ["pg_peer", "pg_exited"]}


def load_json(path, default=None):
    try:
        with open(path) as f:
            text = f.read().strip()
        return json.loads(text) if text else default
    except (OSError, ValueError):
        return default


# --- record -----------------------------------------------------------------

def pg_delta(before, after):
    """PostgreSQL ticks per group over the run. Survivors: their delta;
    newcomers: all their time; leavers: what the postmaster reaped beyond
    their time at the start, which cannot be told apart by database, goes to
    pg_exited."""
    out = {}
    if not before or not after:
        return out
    b, a = before["procs"], after["procs"]
    for pid, (group, ticks) in a.items():
        out[group] = out.get(group, 0) + ticks - (b[pid][1] if pid in b else 0)
    left = sum(t for pid, (g, t) in b.items() if pid not in a)
    out["pg_exited"] = max(0, after["reaped"] - before["reaped"] - left)
    return out


def record(args):
    kv = dict(a.split("=", 1) for a in args)
    wrk = None
    wrk_text = open(kv["wrk_out"]).read()
    for line in wrk_text.splitlines():
        if line.startswith("BENCH_RESULT "):
            wrk = json.loads(line[len("BENCH_RESULT "):])
    out = {k: v for k, v in kv.items() if k not in (
        "wrk_out", "cpu_before", "cpu_after", "conns", "stmts", "wrk_ticks")}
    for k in ("workers", "keepalive", "round", "step"):
        if k in out:
            out[k] = int(out[k])
    out["wrk"] = wrk
    if wrk is None:
        out["wrk_error"] = wrk_text[-400:]
    before, after = load_json(kv.get("cpu_before", ""), {}), load_json(kv.get("cpu_after", ""), {})
    if before and after:
        hz = after["hz"]
        groups = {g: (after["groups"].get(g, 0) - before["groups"].get(g, 0)) / hz
                  for g in after["groups"]}
        groups.update({g: t / hz for g, t in pg_delta(before.get("pg"), after.get("pg")).items()})
        wrk_ticks = [int(x) for x in kv.get("wrk_ticks", "0 0").split()]
        wrk_s = (wrk_ticks[1] - wrk_ticks[0]) / hz
        busy = (after["busy"] - before["busy"]) / hz
        total = (after["total"] - before["total"]) / hz
        known = sum(groups.values()) + wrk_s
        out["cpu"] = {"groups_s": groups, "wrk_s": wrk_s, "machine_busy_s": busy,
                      "machine_total_s": total, "ncpu": after["ncpu"],
                      "other_s": max(0.0, busy - known)}
    conns = []
    if kv.get("conns") and os.path.exists(kv["conns"]):
        for line in open(kv["conns"]):
            line = line.strip()
            if line:
                try:
                    conns.append(json.loads(line))
                except ValueError:
                    pass
    if conns:
        users = sorted({k.split(":")[0] for c in conns for k in c})
        out["db_conns"] = {
            u: {"max_total": max(sum(n for k, n in c.items() if k.split(":")[0] == u) for c in conns),
                "max_active": max(sum(n for k, n in c.items() if k == f"{u}:active") for c in conns)}
            for u in users}
    out["stmts"] = load_json(kv.get("stmts", ""), []) or []
    print(json.dumps(out))


# --- helpers ------------------------------------------------------------------

def rps(r):
    w = r.get("wrk")
    if not w or not w["duration_us"]:
        return 0.0
    return w["requests"] / (w["duration_us"] / 1e6)


def ms(us):
    return f"{us / 1000:.2f}" if us is not None else "-"


def median_run(runs):
    """The run with the median req/s (rounds > 1), so its latencies match."""
    runs = [r for r in runs if r.get("wrk")]
    if not runs:
        return None
    runs.sort(key=rps)
    return runs[len(runs) // 2]


def errors(r):
    w = r.get("wrk") or {}
    return (w.get("non2xx", 0) + w.get("connect_errors", 0) + w.get("read_errors", 0)
            + w.get("write_errors", 0) + w.get("timeouts", 0))


def cpu_split(r, groups):
    """CPU microseconds per request: nginx, app, PostgreSQL, wrk; other load %."""
    c, n = r.get("cpu"), (r.get("wrk") or {}).get("requests", 0)
    if not c or not n:
        return None
    g = c["groups_s"]
    per = {k: sum(g.get(x, 0.0) for x in v) * 1e6 / n for k, v in groups.items()}
    per["wrk"] = c["wrk_s"] * 1e6 / n
    wall = c["machine_total_s"] / c["ncpu"] if c["ncpu"] else 0
    per["other_pct"] = 100.0 * c["other_s"] / c["machine_total_s"] if c["machine_total_s"] else 0
    per["busy_pct"] = 100.0 * c["machine_busy_s"] / c["machine_total_s"] if c["machine_total_s"] else 0
    per["wall_s"] = wall
    return per


def db_per_request(r, user):
    n = (r.get("wrk") or {}).get("requests", 0)
    st = [s for s in r.get("stmts", []) if s.get("usename") == user]
    if not n or not st:
        return None
    calls = sum(s["calls"] for s in st)
    total = sum(s["total_ms"] for s in st)
    plans = sum(s.get("plans") or 0 for s in st)
    plan_ms = sum(s.get("plan_ms") or 0 for s in st)
    return {"stmts_per_req": calls / n, "db_us_per_req": total * 1000 / n,
            "plans_per_req": plans / n, "plan_us_per_req": plan_ms * 1000 / n,
            "top": sorted(st, key=lambda s: -s["total_ms"])[:4]}


def table(rows, headers):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(str(h))
              for i, h in enumerate(headers)]
    line = "  ".join(str(h).rjust(w) if i else str(h).ljust(w) for i, (h, w) in enumerate(zip(headers, widths)))
    print(line)
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(r, widths))))


def write_out(mode, doc, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    prev = sorted(glob.glob(os.path.join(out_dir, f"{mode}-*.json")))
    path = os.path.join(out_dir, f"{mode}-{stamp}.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
    return path, (prev[-1] if prev else None)


# --- table ----------------------------------------------------------------------

LABELS = {
    "static": "nginx static /health",
    "hello": "libfcgi hello (same nginx)",
    "config": "GET /api/client-config (no DB)",
    "health": "GET /api/health (1 query)",
    "me": "GET /api/me",
    "topics": "GET /api/topics",
    "rss": "GET (RSS run)",
    "due": "GET /api/study/due?limit=20",
    "review": "POST /api/study/review",
    "dash": "GET /api/dashboard/summary",
    "search": "GET /api/cards?q= (search)",
    "sheet": "GET /api/study/practice?sheet=",
    "exam_start": "POST /api/exam-sessions",
    "exam_save": "PUT exam answer",
    "webhook": "POST /webhooks/stripe",
}
# Issue 13's targets: ours : peer at least this.
PEER_TARGET = {"due": 5.0, "review": 5.0, "dash": 3.0}


def summarize(results):
    by = {}
    for r in results:
        by.setdefault((r["target"], r["service"]), []).append(r)
    return {k: median_run(v) for k, v in by.items()}


def ratio(a, b):
    return a / b if a and b else None


def fmt_ratio(x):
    return f"{x:.2f}" if x is not None else "-"


def cmd_table(results, meta, out_dir):
    best = summarize(results)
    targets = [t for t in LABELS if (t, "ours") in best]
    static = rps(best[("static", "ours")]) if ("static", "ours") in best else None
    hello = rps(best[("hello", "ours")]) if ("hello", "ours") in best else None
    print()
    print("== EasySKS vs the peer, same run, same machine "
          f"(wrk {meta.get('threads')} threads, {meta.get('connections')} connections, "
          f"{meta.get('duration')} per run, {meta.get('rounds')} round(s), "
          f"{meta.get('workers')} pool workers, {meta.get('peer_procs')} peer process(es)"
          + (f", plan_cache_mode {meta['plan_cache_mode']}" if meta.get("plan_cache_mode", "auto") != "auto" else "")
          + ") ==")
    rows, summary = [], {}
    for t in targets:
        o = best[(t, "ours")]
        p = best.get((t, "peer"))
        ro, rp = rps(o), (rps(p) if p else None)
        ow = o["wrk"]
        row = [LABELS[t], f"{ro:.0f}", ms(ow["p50_us"]), ms(ow["p99_us"]), ms(ow["p999_us"]), errors(o)]
        if p and p.get("wrk"):
            pw = p["wrk"]
            row += [f"{rp:.0f}", ms(pw["p50_us"]), ms(pw["p99_us"]), ms(pw["p999_us"]), errors(p)]
        else:
            row += ["-"] * 5
        row += [fmt_ratio(ratio(ro, rp)), fmt_ratio(ratio(ro, hello)), fmt_ratio(ratio(ro, static))]
        rows.append(row)
        summary[t] = {"ours_rps": ro, "peer_rps": rp, "ours_p99_ms": ow["p99_us"] / 1000,
                      "peer_p99_ms": p["wrk"]["p99_us"] / 1000 if p and p.get("wrk") else None,
                      "ours_errors": errors(o), "peer_errors": errors(p) if p else None,
                      "ratio_peer": ratio(ro, rp), "ratio_hello": ratio(ro, hello),
                      "ratio_static": ratio(ro, static)}
    table(rows, ["endpoint", "ours r/s", "p50 ms", "p99 ms", "p99.9 ms", "err",
                 "peer r/s", "p50 ms", "p99 ms", "p99.9 ms", "err",
                 "ours:peer", "ours:hello", "ours:static"])

    print()
    print("== Where the time goes: CPU per request (us) by process group, DB statements, load ==")
    rows = []
    for t in targets:
        for svc in ("ours", "peer"):
            r = best.get((t, svc))
            if not r or not r.get("wrk"):
                continue
            groups = GROUPS_PEER if svc == "peer" else GROUPS_HELLO if t == "hello" else GROUPS_OURS
            c = cpu_split(r, groups)
            d = db_per_request(r, "peer" if svc == "peer" else "easysks_web")
            conns = r.get("db_conns", {}).get("peer" if svc == "peer" else "easysks_web", {})
            if c is None:
                continue
            tot = c["nginx"] + c["app"] + c["pg"]
            rows.append([f"{LABELS[t]} [{svc}]", f"{c['nginx']:.0f}", f"{c['app']:.0f}", f"{c['pg']:.0f}",
                         f"{tot:.0f}", f"{c['wrk']:.0f}",
                         f"{d['stmts_per_req']:.2f}" if d else "-",
                         f"{d['db_us_per_req']:.0f}" if d else "-",
                         f"{d['plans_per_req']:.2f}" if d else "-",
                         f"{d['plan_us_per_req']:.0f}" if d else "-",
                         f"{conns.get('max_total', '-')}/{conns.get('max_active', '-')}",
                         f"{c['busy_pct']:.0f}%", f"{c['other_pct']:.0f}%"])
    table(rows, ["endpoint", "nginx", "app", "pg", "sum", "wrk", "stmts/req", "exec us/req",
                 "plans/req", "plan us/req", "db conns max/active", "machine busy", "other load"])
    print("(CPU in microseconds per request; app = pool workers, the hello, or node; pg = the "
          "backends of that database; exec/plan = pg_stat_statements execution and planning time; "
          "plans/req = statements planned per request (a prepared statement that is planned at every "
          "execution saves nothing); db conns = that side's connections, most at once / most active; "
          "other load = CPU used by processes outside the bench, i.e. other users of the machine)")

    rss = meta.get("rss", {})
    if rss:
        print()
        print("== Pool worker memory (KiB): before the first run / after the last ==")
        rows = []
        for when in ("before", "after"):
            for pid, m in sorted(rss.get(when, {}).items()):
                rows.append([when, pid, m.get("VmRSS", "-"), m.get("RssAnon", "-"),
                             m.get("RssFile", "-"), m.get("Pss", "-")])
        table(rows, ["when", "pid", "VmRSS", "RssAnon", "RssFile", "Pss"])
        if meta.get("max_requests") not in (None, "", "0"):
            print(f"(EASYSKS_MAX_REQUESTS={meta.get('max_requests')}: workers are recycled, "
                  "so 'after' may be other processes; make bench-rss runs without a budget)")

    sc = meta.get("study_cache") or {}
    if sc:
        reads = sc.get("hits", 0) + sc.get("misses", 0)
        print()
        print("== Study-state cache (hits and misses: the whole run; learners and memory: the live workers at the end) ==")
        print(f"  reads {reads:.0f}: hits {sc.get('hits', 0):.0f}, misses {sc.get('misses', 0):.0f}"
              f" (hit rate {100 * sc.get('hit_rate', 0):.1f} %); learners held {sc.get('learners', 0):.0f},"
              f" {sc.get('bytes', 0) / 1024:.0f} KiB")

    print()
    print("== Issue 13 targets ==")
    checks = []
    for t, want in PEER_TARGET.items():
        s = summary.get(t)
        if s and s["ratio_peer"] is not None:
            checks.append((f"{LABELS[t]}: ours >= {want:g}x the peer", s["ratio_peer"] >= want,
                           f"{s['ratio_peer']:.2f}x"))
    for t in ("due", "review", "dash"):
        s = summary.get(t)
        if s:
            checks.append((f"{LABELS[t]}: p99 < 20 ms, no errors",
                           s["ours_p99_ms"] < 20 and s["ours_errors"] == 0,
                           f"p99 {s['ours_p99_ms']:.1f} ms, {s['ours_errors']} errors"))
    for t in ("topics", "me"):
        if t in summary and summary[t]["ratio_hello"] is not None:
            checks.append((f"{LABELS[t]} >= 50% of the libfcgi hello"
                           + (" (the cheapest authenticated request)" if t == "topics" else ""),
                           summary[t]["ratio_hello"] >= 0.5, f"{100 * summary[t]['ratio_hello']:.0f}%"))
    after = rss.get("after", {})
    if after:
        worst = max(m.get("VmRSS", 0) for m in after.values())
        checks.append(("worker RSS <= 10 MB", worst <= 10240, f"max VmRSS {worst / 1024:.1f} MiB"))
    for name, ok, got in checks:
        print(f"  [{'ok' if ok else 'MISS'}] {name}: {got}")

    doc = {"mode": "table", "meta": meta, "summary": summary, "results": results}
    path, prev = write_out("table", doc, out_dir)
    print()
    print(f"written {path}")
    if prev:
        compare_table(load_json(prev, {}), summary, prev)


def compare_table(old, summary, prev_path):
    osum = old.get("summary", {})
    print(f"== Compared with {os.path.basename(prev_path)} (ratios; absolute req/s across runs are noise) ==")
    rows = []
    for t, s in summary.items():
        o = osum.get(t)
        if not o:
            continue
        rows.append([LABELS.get(t, t), fmt_ratio(o.get("ratio_peer")), fmt_ratio(s.get("ratio_peer")),
                     fmt_ratio(o.get("ratio_hello")), fmt_ratio(s.get("ratio_hello")),
                     f"{o['ours_p99_ms']:.1f}", f"{s['ours_p99_ms']:.1f}"])
    table(rows, ["endpoint", "ours:peer was", "now", "ours:hello was", "now", "p99 ms was", "now"])


# --- scaling ----------------------------------------------------------------------

def cmd_scaling(results, meta, out_dir):
    best = {}
    for r in results:
        best.setdefault((r["target"], r["workers"]), []).append(r)
    best = {k: median_run(v) for k, v in best.items()}
    targets = [t for t in LABELS if any(k[0] == t for k in best)]
    workers = sorted({k[1] for k in best})
    print()
    print("== Scaling: req/s (per worker) and p99 by pool size, "
          f"{meta.get('connections')} connections, {meta.get('duration')} per run ==")
    headers = ["workers"]
    for t in targets:
        headers += [f"{t} r/s", "per worker", "p99 ms", "err"]
    headers += ["other load"]
    rows, data = [], {}
    for w in workers:
        row = [w]
        others = []
        for t in targets:
            r = best.get((t, w))
            if not r or not r.get("wrk"):
                row += ["-"] * 4
                continue
            x = rps(r)
            c = cpu_split(r, GROUPS_OURS)
            if c:
                others.append(c["other_pct"])
            data.setdefault(t, {})[w] = {"rps": x, "p99_ms": r["wrk"]["p99_us"] / 1000, "errors": errors(r),
                                         "other_load_pct": c["other_pct"] if c else None}
            row += [f"{x:.0f}", f"{x / w:.0f}", ms(r["wrk"]["p99_us"]), errors(r)]
        row.append(f"{max(others):.0f}%" if others else "-")
        rows.append(row)
    table(rows, headers)
    print()
    knees = {}
    for t, d in data.items():
        ws = sorted(d)
        peak = max(d[w]["rps"] for w in ws)
        # The knee: the smallest pool reaching 90 % of the best throughput.
        knee = next(w for w in ws if d[w]["rps"] >= 0.9 * peak)
        gains = []
        for a, b in zip(ws, ws[1:]):
            gains.append(f"{a}->{b}: {100 * (d[b]['rps'] / d[a]['rps'] - 1):+.0f}%")
        knees[t] = knee
        print(f"  {t}: knee at {knee} workers (>= 90% of the best {peak:.0f} r/s); " + ", ".join(gains))
    # The pool size that comes closest to each endpoint's best at once (the
    # largest worst-case share of the best), preferring the smallest pool
    # within 5 points of it: fewer database connections per host.
    scores = {}
    for w in workers:
        shares = [d[w]["rps"] / max(x["rps"] for x in d.values()) for d in data.values() if w in d]
        if len(shares) == len(data):
            scores[w] = min(shares)
    rec = min(w for w in scores if scores[w] >= max(scores.values()) - 0.05) if scores else None
    if rec:
        print("  worst share of the best per pool size: "
              + ", ".join(f"{w}: {100 * x:.0f}%" for w, x in sorted(scores.items())))
        print(f"  recommended default on this machine ({meta.get('ncpu')} cores): {rec} workers "
              "(the smallest pool within 5 points of the best worst-case share)")
    doc = {"mode": "scaling", "meta": meta, "data": data, "knees": knees, "scores": scores,
           "recommended": rec, "results": results}
    path, prev = write_out("scaling", doc, out_dir)
    print(f"written {path}")


# --- keepalive --------------------------------------------------------------------

def cmd_keepalive(results, meta, out_dir):
    best = {}
    for r in results:
        best.setdefault((r["target"], r["workers"], r["keepalive"]), []).append(r)
    best = {k: median_run(v) for k, v in best.items()}
    print()
    print("== nginx <-> FastCGI connections: one per request (keepalive 0) vs "
          "fastcgi_keep_conn + upstream keepalive N (per nginx worker; "
          f"{meta.get('nginx_workers')} nginx workers) ==")
    rows, data = [], []
    for (t, w, k), r in sorted(best.items(), key=lambda x: (list(LABELS).index(x[0][0]), x[0][1], x[0][2])):
        if not r.get("wrk"):
            continue
        base = best.get((t, w, 0))
        x = rps(r)
        gain = f"{100 * (x / rps(base) - 1):+.0f}%" if base and k and rps(base) else ""
        wk = r["wrk"]
        c = cpu_split(r, GROUPS_OURS)
        rows.append([LABELS[t], w, k, k * int(meta.get("nginx_workers", 1)), f"{x:.0f}", gain,
                     ms(wk["p50_us"]), ms(wk["p99_us"]), ms(wk["p999_us"]), ms(wk["max_us"]),
                     errors(r), wk.get("timeouts", 0), f"{c['other_pct']:.0f}%" if c else "-"])
        data.append({"target": t, "workers": w, "keepalive": k, "rps": x, "p50_ms": wk["p50_us"] / 1000,
                     "p99_ms": wk["p99_us"] / 1000, "p999_ms": wk["p999_us"] / 1000,
                     "max_ms": wk["max_us"] / 1000, "errors": errors(r), "timeouts": wk.get("timeouts", 0)})
    table(rows, ["endpoint", "workers", "keepalive", "cached max", "r/s", "vs none", "p50 ms", "p99 ms",
                 "p99.9 ms", "max ms", "err", "timeouts", "other load"])
    doc = {"mode": "keepalive", "meta": meta, "data": data, "results": results}
    path, _ = write_out("keepalive", doc, out_dir)
    print(f"written {path}")


# --- levers -------------------------------------------------------------------------

LEVER_TEXT = {
    "generic": "generic plans (role plan_cache_mode)",
    "budget": "no worker recycling (MAX_REQUESTS 0)",
    "durable": "synchronous_commit off (NOT to ship)",
    "accesslog": "no nginx access log on /api/",
}


def cmd_levers(results, meta, out_dir):
    by = {}
    for r in results:
        if r.get("wrk"):
            by.setdefault((r["lever"], r["target"]), {})[r["phase"]] = r
    print()
    print("== Levers, each against the current set-up in the same run (base = mean of the runs "
          "before and after the variant) ==")
    rows, data = [], []
    for (lever, t), ph in by.items():
        if not all(p in ph for p in ("base", "variant", "base2")):
            continue
        b1, v, b2 = rps(ph["base"]), rps(ph["variant"]), rps(ph["base2"])
        base = (b1 + b2) / 2
        cb = [cpu_split(ph[p], GROUPS_OURS) for p in ("base", "base2")]
        cv = cpu_split(ph["variant"], GROUPS_OURS)
        def cpu(c):
            return c["nginx"] + c["app"] + c["pg"] if c else None
        cpu_b = sum(cpu(c) for c in cb) / 2 if all(cb) else None
        drift = 100 * (b2 / b1 - 1) if b1 else 0
        other = max(c["other_pct"] for c in cb + [cv] if c) if any(cb + [cv]) else None
        rows.append([LEVER_TEXT.get(lever, lever), LABELS[t], f"{base:.0f}", f"{v:.0f}",
                     f"{100 * (v / base - 1):+.0f}%", f"{drift:+.0f}%",
                     ms(ph["base"]["wrk"]["p99_us"]), ms(ph["variant"]["wrk"]["p99_us"]),
                     f"{cpu_b:.0f}" if cpu_b else "-", f"{cpu(cv):.0f}" if cv else "-",
                     f"{other:.0f}%" if other is not None else "-"])
        data.append({"lever": lever, "target": t, "base_rps": base, "variant_rps": v,
                     "gain_pct": 100 * (v / base - 1), "drift_pct": drift,
                     "base_cpu_us": cpu_b, "variant_cpu_us": cpu(cv)})
    table(rows, ["lever", "endpoint", "base r/s", "variant r/s", "gain", "base drift", "p99 base",
                 "p99 variant", "CPU us/req base", "variant", "other load"])
    print("(gain within the base drift is noise; CPU us/req = nginx + pool + PostgreSQL)")
    doc = {"mode": "levers", "meta": meta, "data": data, "results": results}
    path, _ = write_out("levers", doc, out_dir)
    print(f"written {path}")


# --- failover -------------------------------------------------------------------------

def parse_iso(t):
    # nginx's $time_iso8601: 2026-12-02T07:00:00+00:00 (whole seconds)
    return time.mktime(time.strptime(t[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone


def failover_record(scenario, log, t0, outage, wrk_out):
    """Per second relative to the outage's start: requests answered by status,
    and the slowest request_time. Times are when nginx logged the response."""
    t0, outage = float(t0), int(outage)
    per = {}
    for line in open(log):
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if not e.get("uri", "").startswith("/api/"):
            continue
        s = int(parse_iso(e["time"]) - int(t0))
        d = per.setdefault(s, {"ok": 0, "503": 0, "other": 0, "max_s": 0.0})
        st = int(e["status"])
        d["ok" if 200 <= st < 300 else "503" if st == 503 else "other"] += 1
        d["max_s"] = max(d["max_s"], float(e["request_time"]))
    secs = sorted(per)
    # Recovered: the first second after the outage with only 2xx answers
    # and at least half the throughput before it.
    before = [per[s]["ok"] for s in secs if s < 0]
    base = statistics.median(before) if before else 0
    rec = next((s for s in secs if s >= outage and per[s]["503"] + per[s]["other"] == 0
                and per[s]["ok"] >= base / 2), None)
    wrk = None
    for line in open(wrk_out):
        if line.startswith("BENCH_RESULT "):
            wrk = json.loads(line[len("BENCH_RESULT "):])
    print(json.dumps({"scenario": scenario, "outage_s": outage, "per_second": {str(s): per[s] for s in secs},
                      "base_rps": base, "recovered_at_s": rec, "wrk": wrk}))


def cmd_failover_table(path, meta, out_dir):
    runs = [json.loads(l) for l in open(path) if l.strip()]
    for r in runs:
        print()
        print(f"== Database {r['scenario']} for {r['outage_s']} s under load (GET /api/study/due, "
              f"{meta.get('connections')} connections, {meta.get('workers')} workers): per second ==")
        rows = []
        for s, d in sorted(r["per_second"].items(), key=lambda x: int(x[0])):
            s = int(s)
            if s < -3 or s > r["outage_s"] + 8:
                continue
            mark = "outage" if 0 <= s < r["outage_s"] else ""
            rows.append([s, mark, d["ok"], d["503"], d["other"], f"{d['max_s'] * 1000:.0f}"])
        table(rows, ["second", "", "2xx", "503", "other", "slowest ms"])
        rec = r["recovered_at_s"]
        print(f"  back to normal {rec - r['outage_s']} s after the database returned" if rec is not None
              else "  not back to normal within the run")
        w = r.get("wrk") or {}
        print(f"  whole run: {w.get('requests')} requests, {w.get('non2xx')} non-2xx, "
              f"{w.get('timeouts')} client timeouts, max latency {ms(w.get('max_us'))} ms")
    doc = {"mode": "failover", "meta": meta, "runs": runs}
    out, _ = write_out("failover", doc, out_dir)
    print(f"written {out}")


# --- rss ----------------------------------------------------------------------------

def cmd_rss(results, meta, out_dir):
    samples = meta.get("samples", [])
    print()
    print(f"== Worker memory over {meta.get('total')} requests of {meta.get('endpoint')} "
          "(no request budget: the same workers throughout), KiB ==")
    pids = sorted({p for s in samples for p in s["mem"]})
    headers = ["requests"] + [f"{p} RSS" for p in pids] + [f"{p} anon" for p in pids] + ["r/s", "err"]
    rows = []
    for s in samples:
        r = next((x for x in results if x.get("step") == s["step"]), None)
        row = [s["requests"]] + [s["mem"].get(p, {}).get("VmRSS", "-") for p in pids] \
            + [s["mem"].get(p, {}).get("RssAnon", "-") for p in pids]
        row += [f"{rps(r):.0f}" if r else "-", errors(r) if r else "-"]
        rows.append(row)
    table(rows, headers)
    if len(samples) >= 3:
        first, last = samples[1], samples[-1]  # after the first 100k: warm caches
        growth = {p: last["mem"].get(p, {}).get("RssAnon", 0) - first["mem"].get(p, {}).get("RssAnon", 0)
                  for p in pids}
        print(f"  RssAnon growth from {first['requests']} to {last['requests']} requests: "
              + ", ".join(f"{p}: {g:+d} KiB" for p, g in growth.items()))
    doc = {"mode": "rss", "meta": meta, "results": results}
    path, _ = write_out("rss", doc, out_dir)
    print(f"written {path}")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "record":
        return record(sys.argv[2:])
    if len(sys.argv) > 1 and sys.argv[1] == "failover":
        return failover_record(*sys.argv[2:7])
    if len(sys.argv) > 1 and sys.argv[1] == "failover-table":
        return cmd_failover_table(sys.argv[2], load_json(sys.argv[3], {}), sys.argv[4])
    mode, res_path, meta_path, out_dir = sys.argv[1:5]
    results = [json.loads(l) for l in open(res_path) if l.strip()] if os.path.exists(res_path) else []
    meta = load_json(meta_path, {})
    {"table": cmd_table, "scaling": cmd_scaling, "keepalive": cmd_keepalive,
     "levers": cmd_levers, "rss": cmd_rss}[mode](results, meta, out_dir)


if __name__ == "__main__":
    sys.exit(main())
