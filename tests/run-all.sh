#!/usr/bin/env bash
# `make test`: every suite, each printing "N passed, M failed"; the counts are
# added up into the final line. A failing suite does not stop the others.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

total_passed=0 total_failed=0 failed_suites=()

suite() {
    local name=$1 log
    shift
    log=$(mktemp)
    echo "=== $name"
    "$@" 2>&1 | tee "$log"
    local rc=${PIPESTATUS[0]}
    local line p f
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n1)
    p=$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"${line:-0 passed}")
    f=$(sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"${line:-0 passed, 0 failed}")
    if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then
        f=1
    fi
    total_passed=$((total_passed + ${p:-0}))
    total_failed=$((total_failed + ${f:-0}))
    [ "$rc" -ne 0 ] && failed_suites+=("$name")
    rm -f "$log"
}

unit_bins=$(find tests/unit -name 'test_*.c' | sed 's|tests/unit/\(.*\)\.c|build/tests/\1|' | sort)
# shellcheck disable=SC2086
suite unit tests/run-unit.sh $unit_bins
san_bins=$(find tests/unit -name 'test_*.c' | sed 's|tests/unit/\(.*\)\.c|build-san/tests/\1|' | sort)
# shellcheck disable=SC2086
if make -s SANITIZE=address,undefined $san_bins >/dev/null; then
    # shellcheck disable=SC2086
    suite unit-asan-ubsan tests/run-unit.sh $san_bins
else
    suite unit-asan-ubsan false
fi
suite fuzz-corpus tests/fuzz/run.sh replay
# The OpenAI stand-in the AI tests rely on, checked on its own (every mode).
suite openai-stub node tests/tools/openai-stub-check.mjs
suite lint tests/lint.sh
# The integration suite runs once, against the sanitized build (the pool,
# the job process, the CLIs and the library tests it runs, under ASan and
# UBSan, leaks checked): the same tests as a plain pass, and a sanitizer
# report fails the test it happened in. The plain build is exercised by the
# unit tests and staging-local; EASYSKS_INTEGRATION_BUILD=plain runs the
# integration suite against build/ instead.
if [ "${EASYSKS_INTEGRATION_BUILD:-sanitized}" = plain ]; then
    suite integration tests/integration/run.sh
elif make -s -j2 SANITIZE=address,undefined all >/dev/null; then
    suite integration-asan-ubsan env EASYSKS_BIN_DIR="$PWD/build-san" tests/integration/run.sh
else
    suite integration-asan-ubsan false
fi
suite terraform make -s tf-check
if [ -x deploy/staging-local.sh ]; then
    suite deploy-checks tests/deploy/check.sh
    suite staging-local deploy/staging-local.sh
fi

echo
if [ "${#failed_suites[@]}" -gt 0 ]; then
    echo "failed suites: ${failed_suites[*]}"
fi
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ] && [ "${#failed_suites[@]}" -eq 0 ]
