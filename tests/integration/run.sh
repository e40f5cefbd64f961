#!/usr/bin/env bash
# Integration tests: a throwaway PostgreSQL, worker pool and nginx on free
# loopback ports, started from the same templates and scripts as `make run`
# and the hosts, exercised through real HTTPS requests.
#
#   tests/integration/run.sh [NAME_FILTER]
#
# Prints TAP-style lines and ends with "N passed, M failed". Everything it
# starts is stopped on exit, also on failure or interruption.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/lib.sh
. "$here/lib.sh"

filter=${1:-}
# shellcheck source=tests/integration/stack.sh
. "$here/stack.sh"

if ! stack_setup; then
    echo "not ok 1 - integration stack setup"
    echo "0 passed, 1 failed"
    exit 1
fi

for f in "$here"/t_*.sh; do
    # shellcheck disable=SC1090
    . "$f"
done

# Reports a sanitized build wrote since the last call (moved aside, and
# appended to OUT); 0 when there were some.
sanitizer_reports() {
    local f found=1
    for f in "$IT"/log/asan.* "$IT"/log/ubsan.*; do
        [ -e "$f" ] || continue
        found=0
        { echo "sanitizer report $(basename "$f"):"; head -n 40 "$f"; } >>"$1"
        mkdir -p "$IT/log/sanitizer-seen"
        mv "$f" "$IT/log/sanitizer-seen/"
    done
    return "$found"
}

passed=0 failed=0 n=0
for t in $(declare -F | awk '{print $3}' | grep '^test_' ); do
    [ -n "$filter" ] && [[ $t != *$filter* ]] && continue
    n=$((n + 1))
    : >"$IT/log/marker"
    start_lines=$(wc -l <"$IT/log/pool.log" 2>/dev/null || echo 0)
    if (set -u; "$t") >"$IT/test.out" 2>&1 && ! sanitizer_reports "$IT/test.out"; then
        passed=$((passed + 1))
        echo "ok $n - ${t#test_}"
    else
        failed=$((failed + 1))
        echo "not ok $n - ${t#test_}"
        sed 's/^/#   /' "$IT/test.out" | tail -n 30
        echo "#   --- pool log (during the test) ---"
        tail -n +"$((start_lines + 1))" "$IT/log/pool.log" | tail -n 25 | sed 's/^/#   /'
        echo "#   --- nginx error log ---"
        tail -n 10 "$IT/log/error.log" 2>/dev/null | sed 's/^/#   /'
    fi
done
# Last, over the logs of everything above (t_privacy.sh): no e-mail
# address, answer or token of a test learner in any of them.
if [ -z "$filter" ] || [[ final_logs_hold_no_personal_data == *$filter* ]] || [[ privacy == *$filter* ]]; then
    n=$((n + 1))
    if (set -u; pv_final_logs_hold_no_personal_data) >"$IT/test.out" 2>&1; then
        passed=$((passed + 1))
        echo "ok $n - final_logs_hold_no_personal_data"
        grep '^#' "$IT/test.out"
    else
        failed=$((failed + 1))
        echo "not ok $n - final_logs_hold_no_personal_data"
        sed 's/^/#   /' "$IT/test.out" | tail -n 30
    fi
fi
# Reports written after the last test (the pool and the job process
# stopping: leaks at exit).
jobs_stop "$IT" >/dev/null 2>&1
pool_stop "$IT" >/dev/null 2>&1
if sanitizer_reports "$IT/test.out"; then
    n=$((n + 1))
    failed=$((failed + 1))
    echo "not ok $n - no sanitizer reports outside the tests"
    sed 's/^/#   /' "$IT/test.out" | tail -n 40
fi
echo "1..$n"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
