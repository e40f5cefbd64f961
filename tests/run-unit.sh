#!/usr/bin/env bash
# Run the TAP unit tests given as arguments; print each file's result and a
# summary line "N passed, M failed" (counting individual TAP assertions).
set -uo pipefail
passed=0 failed=0 status=0
for t in "$@"; do
    out=$("$t" 2>&1)
    rc=$?
    p=$(grep -c '^ok ' <<<"$out")
    f=$(grep -c '^not ok ' <<<"$out")
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ]; then
        status=1
        [ "$f" -eq 0 ] && failed=$((failed + 1)) # crashed or exited non-zero
        echo "not ok - $(basename "$t") (exit $rc)"
        grep -E '^not ok|^#' <<<"$out" | head -n 40
    elif skip=$(grep -m1 -o '^1\.\.0 # SKIP.*' <<<"$out"); then
        echo "ok - $(basename "$t") # skipped: ${skip#1..0 # SKIP }"
    else
        echo "ok - $(basename "$t") ($p assertions)"
    fi
done
echo "$passed passed, $failed failed"
exit "$status"
