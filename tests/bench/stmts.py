#!/usr/bin/env python3
"""The SQL of the pool's prepared statements, exactly as the binary sends it.

  stmts.py ROOT FILE.c ...      prints {"name": "sql", ...} as JSON

Runs the C preprocessor over the given sources (the statements are built
from macros and adjacent string literals) and joins the literals of every
`static const struct db_stmt NAME = {"name", "sql" ...};`, so EXPLAIN runs
what the workers prepare, not a copy that could drift.
"""
import json
import re
import subprocess
import sys

LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"')


def unescape(s):
    return re.sub(r'\\(.)', lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), s)


def main():
    root, files = sys.argv[1], sys.argv[2:]
    cflags = subprocess.run(["pkg-config", "--cflags", "libpq", "libcjson"], capture_output=True,
                            text=True).stdout.split()
    out = {}
    for f in files:
        pre = subprocess.run(["cc", "-E", "-P", "-D_GNU_SOURCE", "-I", f"{root}/lib", "-I", f"{root}/app",
                              *cflags, f], capture_output=True, text=True, check=True).stdout
        for m in re.finditer(r"struct db_stmt\s+\w+\s*=\s*\{(.*?)\};", pre, re.S):
            lits = [unescape(x) for x in LITERAL.findall(m.group(1))]
            if len(lits) >= 2:
                out[lits[0]] = "".join(lits[1:])
    json.dump(out, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
