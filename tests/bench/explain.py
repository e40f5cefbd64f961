#!/usr/bin/env python3
"""EXPLAIN ANALYZE of the pool's study statements on generated data.

  explain.py DB_URL STATEMENTS.json OUT_DIR [SAMPLES]

For each statement (the SQL the workers prepare, from stmts.py) and each
plan cache mode the server may use for it (custom: planned for the values of
every execution; generic: planned once for any value; auto: what a worker's
prepared statement ends up with after its first executions):
  - SAMPLES executions for random learners with EXPLAIN (ANALYZE, SUMMARY),
    giving planning and execution time percentiles;
  - the indexes the plan uses;
  - one plan in text form (ANALYZE, BUFFERS) in OUT_DIR/<statement>.<mode>.txt.
The state statement (a miss) is also run for learners with 300 reviews today
(*_heavy), then again with a candidate partial index for the "new cards
introduced today" count (*_heavy+index; created, measured, dropped).
Writes (apply_write) run inside a transaction that is rolled back.
Prints a summary table and writes OUT_DIR/summary.json.
"""
import json
import os
import random
import re
import subprocess
import sys

# Parameters per statement, as psql text. :u is the learner's id, :sub its
# subject; :exp/:reps1, :now_us, :due_us, :rid come from \gset lookups.
# Official sheet 7's questions (as GET /api/study/practice?sheet=7 sends them).
SHEET_7 = ("navigation_4,navigation_26,navigation_33,navigation_49,navigation_64,navigation_81,navigation_99,navigation_102,navigation_111,schifffahrtsrecht_7,schifffahrtsrecht_22,schifffahrtsrecht_31,schifffahrtsrecht_40,schifffahrtsrecht_64,schifffahrtsrecht_94,schifffahrtsrecht_103,wetterkunde_13,wetterkunde_26,wetterkunde_50,wetterkunde_70,wetterkunde_90,seemannschaft_i_8,seemannschaft_i_10,seemannschaft_i_17,seemannschaft_i_31,seemannschaft_i_40,seemannschaft_i_87,seemannschaft_i_100,seemannschaft_i_131,seemannschaft_i_154")
CASES = {
    # The one statement of a study read (due, practice, dashboard, selections):
    # a worker that holds the learner's state sends its version and gets the
    # settings row only (hit); one that does not (-1) gets every row (miss).
    "study_state": ["due", "(:u, -1)"],
    "study_state_hit": ["due", "(:u, :ver)", "study_state"],
    "study_apply_read": ["review", "(:u, '{navigation_5}', :'rids')"],
    "study_apply_write": ["review", "(:u, :'rids', '{navigation_5}', '{3}', :'now_a', '{t}', '{2}', '{3}',"
                          " '{7}', '{2}', '{25.5}', '{5.2}', :'reps1', '{0}', :'due_a', :'now_a',"
                          " '{navigation_5}', :'exp', '{2}', '{25.5}', '{5.2}', '{3}', '{7}', :'reps1',"
                          " '{0}', :'due_a', :'now_a')"],
    "users_find": ["auth", "(:'sub', 300)"],
    # Learners with 300 reviews today (one in a hundred in scale.sql).
    "study_state_heavy": ["due", "(:u, -1)", "study_state"],
}
HEAVY = ("study_state_heavy",)
# A candidate index, tried on the heavy cases and dropped again: the
# "new cards introduced today" count reads only first reviews.
WHATIF = ("CREATE INDEX bench_whatif_intro ON review_logs (user_id, reviewed_at)"
          " WHERE state = 0 AND applied")
LOOKUP = ("SELECT 'scale-' || :u AS sub, '{' || gen_random_uuid() || '}' AS rids,"
          " '{' || (extract(epoch FROM now()) * 1000000)::bigint || '}' AS now_a,"
          " '{' || (extract(epoch FROM now() + interval '7 days') * 1000000)::bigint || '}' AS due_a,"
          " '{' || coalesce((SELECT reps FROM card_states WHERE user_id = :u AND card_id = 'navigation_5'), -1)"
          " || '}' AS exp,"
          " '{' || coalesce((SELECT reps FROM card_states WHERE user_id = :u AND card_id = 'navigation_5'), 0) + 1"
          " || '}' AS reps1,"
          " coalesce((SELECT version FROM study_versions WHERE user_id = :u), 0) AS ver \\gset\n")
MODES = {"custom": "force_custom_plan", "generic": "force_generic_plan", "auto": "auto"}


def psql(url, script):
    r = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", url], input=script,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(r.stderr[-2000:])
    return r.stdout


def json_docs(text):
    dec, i, out = json.JSONDecoder(), 0, []
    while True:
        j = text.find("[", i)
        if j < 0:
            return out
        doc, i = dec.raw_decode(text, j)
        out.append(doc)


def indexes(plan, acc=None):
    acc = set() if acc is None else acc
    if isinstance(plan, dict):
        if "Index Name" in plan:
            acc.add(f"{plan['Index Name']} ({plan['Node Type']})")
        for v in plan.values():
            indexes(v, acc)
    elif isinstance(plan, list):
        for v in plan:
            indexes(v, acc)
    return acc


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] if xs else None


def run_case(url, stmts, case, mode, users, out_dir, tag=None):
    kind, args, *base = CASES[case]
    name = base[0] if base else case
    write = name == "study_apply_write"
    s = [f"SET plan_cache_mode = {MODES[mode]};\n", f"PREPARE q AS {stmts[name]};\n"]
    # auto: the plan a long-lived worker has settled on (after 5 custom plans
    # the server may switch to the generic one).
    if mode == "auto":
        for u in users[:8]:
            s.append(f"\\set u {u}\n" + LOOKUP)
            s.append("BEGIN;\n" if write else "")
            s.append(f"EXECUTE q{args} \\g /dev/null\n")
            s.append("ROLLBACK;\n" if write else "")
    for u in users:
        s.append(f"\\set u {u}\n" + LOOKUP)
        s.append("BEGIN;\n" if write else "")
        s.append(f"EXPLAIN (ANALYZE, SUMMARY, FORMAT JSON) EXECUTE q{args};\n")
        s.append("ROLLBACK;\n" if write else "")
    s.append(f"\\set u {users[0]}\n" + LOOKUP)
    s.append("\\echo ==TEXT==\n")
    s.append("BEGIN;\n" if write else "")
    s.append(f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE q{args};\n")
    s.append("ROLLBACK;\n" if write else "")
    out = psql(url, "".join(s))
    head, _, text = out.partition("==TEXT==\n")
    docs = json_docs(head)
    plan_ms = [d[0].get("Planning Time", 0.0) for d in docs]
    exec_ms = [d[0]["Execution Time"] for d in docs]
    idx = set()
    for d in docs:
        indexes(d[0]["Plan"], idx)
    tag = tag or case
    with open(os.path.join(out_dir, f"{tag}.{mode}.txt"), "w") as f:
        f.write(f"-- {tag} ({mode} plan) for learner {users[0]}, params {args}\n{text}")
    return {"case": tag, "statement": name, "mode": mode, "samples": len(docs),
            "plan_ms_p50": pct(plan_ms, 50), "exec_ms_p50": pct(exec_ms, 50),
            "exec_ms_p90": pct(exec_ms, 90), "exec_ms_max": max(exec_ms) if exec_ms else None,
            "indexes": sorted(idx)}


def main():
    url, stmts_path, out_dir = sys.argv[1:4]
    samples = int(sys.argv[4]) if len(sys.argv) > 4 else 50
    stmts = json.load(open(stmts_path))
    n = int(psql(url, "SELECT count(*) FROM users WHERE cognito_sub LIKE 'scale-%'").strip())
    first = int(psql(url, "SELECT min(id) FROM users WHERE cognito_sub LIKE 'scale-%'").strip())
    rnd = random.Random(7)
    users = [first + rnd.randrange(n) for _ in range(samples)]
    heavy = [int(x) for x in psql(url, "SELECT id FROM users WHERE cognito_sub LIKE 'scale-%'"
                                  f" AND id % 100 = 0 ORDER BY random() LIMIT {samples}").split()]
    os.makedirs(out_dir, exist_ok=True)
    rows = []
    for case in list(CASES) + [f"{h}+index" for h in HEAVY]:
        got = {}
        whatif = case.endswith("+index")
        if whatif:
            psql(url, WHATIF + "; ANALYZE review_logs;")
        for mode in (("auto",) if whatif else MODES):
            try:
                r = run_case(url, stmts, case.removesuffix("+index"), mode,
                             heavy if "heavy" in case else users, out_dir, tag=case)
            except RuntimeError as e:
                r = {"case": case, "mode": mode, "error": str(e)[-300:]}
            got[mode] = r
            rows.append(r)
            if "error" in r:
                print(f"  {case:<28} {mode:<8} ERROR {r['error']}")
                continue
            # Which plan "auto" settled on: a reused generic plan costs no
            # planning, a custom one is planned again at every execution.
            kind = mode
            if mode == "auto" and "error" not in got.get("custom", {"error": 1}) \
                    and "error" not in got.get("generic", {"error": 1}):
                mid = (got["custom"]["plan_ms_p50"] + got["generic"]["plan_ms_p50"]) / 2
                kind = "generic" if r["plan_ms_p50"] < mid else "custom"
                r["settled_on"] = kind
            print(f"  {case:<28} {mode:<8} {kind:<8}"
                  f" plan {r['plan_ms_p50']:7.3f} ms  exec p50 {r['exec_ms_p50']:7.3f}"
                  f" p90 {r['exec_ms_p90']:7.3f} max {r['exec_ms_max']:7.3f} ms  "
                  + ", ".join(re.sub(r" \((Index|Bitmap Index) Scan\)", "", i) for i in r["indexes"]))
        if whatif:
            psql(url, "DROP INDEX bench_whatif_intro;")
    json.dump({"learners": n, "samples": samples, "rows": rows}, open(os.path.join(out_dir, "summary.json"), "w"),
              indent=1)


if __name__ == "__main__":
    main()
