#!/usr/bin/env bash
# Fuzz the parsers with libFuzzer (clang), each for FUZZ_SECONDS (default 30).
#
#   tests/fuzz/run.sh [replay] [target...]
#
# Targets are tests/fuzz/fuzz_<target>.c (all of them unless named), each
# with its corpus in tests/fuzz/corpus/<target>/. `replay` instead builds the
# targets with the sanitized build's compiler and ASan/UBSan and runs the committed
# corpus once (part of `make test`). New interesting inputs found by a
# fuzzing run are added to a scratch copy of the corpus; crashes are written
# to build-fuzz/ and fail the run.
set -euo pipefail
shopt -s nullglob
cd "$(dirname "$0")/../.."

mode=fuzz
if [ "${1:-}" = replay ]; then
    mode=replay
    shift
fi
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
    for f in tests/fuzz/fuzz_*.c; do
        f=${f#tests/fuzz/fuzz_}
        targets+=("${f%.c}")
    done
fi

# Sources outside lib/ that a target exercises.
extra_srcs() {
    case $1 in
    router) echo app/http/router.c ;;
    query) echo app/http/request.c ;;
    esac
}

# Libraries beyond the common ones a target needs (request.c calls libfcgi).
extra_libs() {
    case $1 in
    query) pkg-config --libs fcgi ;;
    esac
}

pkgs="libpq libcjson libcurl libcrypto"
# shellcheck disable=SC2086
libs=$(pkg-config --libs $pkgs)
# fcgi: app/http headers include fcgiapp.h (nothing from libfcgi is linked).
# shellcheck disable=SC2086
cflags="-std=c11 -D_GNU_SOURCE -g -O1 -Ilib -Iapp $(pkg-config --cflags $pkgs fcgi)"

if [ "$mode" = replay ]; then
    make -s SANITIZE=address,undefined build-san/libeasysks.a
    # The compiler and checks of the sanitized build (Makefile: SAN_CC).
    san_cc=$(make -s --no-print-directory SANITIZE=address,undefined print-san-cc)
    san=address,undefined
    case $($san_cc --version 2>/dev/null | head -n1) in
    *clang*) san=$san,float-cast-overflow ;;
    esac
    mkdir -p build-san/fuzz
    passed=0 failed=0
    for t in "${targets[@]}"; do
        corpus=(tests/fuzz/corpus/"$t"/*)
        # shellcheck disable=SC2046,SC2086
        if [ "${#corpus[@]}" -eq 0 ]; then
            echo "not ok - fuzz_$t has no corpus in tests/fuzz/corpus/$t/"
            failed=$((failed + 1))
        elif ! $san_cc $cflags -fsanitize=$san -fno-sanitize-recover=all \
            "tests/fuzz/fuzz_$t.c" $(extra_srcs "$t") tests/fuzz/replay.c \
            build-san/libeasysks.a $libs $(extra_libs "$t") -lm -o "build-san/fuzz/fuzz_$t"; then
            echo "not ok - fuzz_$t does not build"
            failed=$((failed + 1))
        elif "build-san/fuzz/fuzz_$t" "${corpus[@]}"; then
            passed=$((passed + 1))
        else
            failed=$((failed + 1))
            echo "not ok - fuzz_$t corpus replay"
        fi
    done
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
fi

command -v clang >/dev/null || { echo "fuzzing needs clang and libclang-rt-14-dev (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
mkdir -p build-fuzz
for t in "${targets[@]}"; do
    # shellcheck disable=SC2046,SC2086
    clang $cflags -fsanitize=fuzzer,address,undefined lib/*/*.c $(extra_srcs "$t") \
        "tests/fuzz/fuzz_$t.c" $libs $(extra_libs "$t") -lm -o "build-fuzz/fuzz_$t"
    rm -rf "build-fuzz/corpus-$t"
    mkdir -p "build-fuzz/corpus-$t"
    cp -r "tests/fuzz/corpus/$t/." "build-fuzz/corpus-$t/" 2>/dev/null || true
    echo "=== fuzz_$t for ${FUZZ_SECONDS:-30}s"
    "build-fuzz/fuzz_$t" -max_total_time="${FUZZ_SECONDS:-30}" -max_len=12000 \
        -artifact_prefix="build-fuzz/$t-" "build-fuzz/corpus-$t" 2>&1 | tail -n 3
done
