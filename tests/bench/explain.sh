#!/usr/bin/env bash
# `make bench-explain` (sourced by tests/bench.sh after stack.sh): the study
# statements on a realistic volume. A scratch database in the throwaway
# cluster gets the migrations and the catalogue, then BENCH_SCALE_USERS
# (10 000) learners with all 638 cards scheduled and BENCH_SCALE_LOGS (2)
# review log rows per card (tests/bench/scale.sql); tests/bench/explain.py
# runs EXPLAIN ANALYZE of the exact prepared SQL (tests/bench/stmts.py) for
# random learners under custom, generic and auto plan caching, and reports
# planning/execution times and the indexes used.
# shellcheck disable=SC2154

explain_main() {
    local users=${BENCH_SCALE_USERS:-10000} logs=${BENCH_SCALE_LOGS:-2} url out t0
    out=${BENCH_OUT:-$EASYSKS_ROOT/var/bench}/explain-$(date -u +%Y%m%dT%H%M%SZ)
    mkdir -p "$out"
    export EASYSKS_WORKERS=1 LOG_LEVEL=warn
    echo "starting a throwaway cluster ..."
    stack_setup || return 1
    pg_mon -c "CREATE DATABASE easysks_scale" >/dev/null || return 1
    url=$(pg_url "$IT/pg" easysks_owner easysks_scale)
    MIGRATE_DATABASE_URL=$url "$EASYSKS_ROOT/build/easysks-migrate" --dir "$EASYSKS_ROOT/sql/migrations" up \
        >/dev/null || return 1
    MIGRATE_DATABASE_URL=$url "$EASYSKS_ROOT/build/easysks-migrate" --dir "$EASYSKS_ROOT/sql/migrations" seed \
        --data "$EASYSKS_SKS_DATA" >/dev/null || return 1
    echo "generating $users learners x $(psql "$url" -Atqc 'SELECT count(*) FROM cards WHERE NOT retired') cards, $logs log rows per card ..."
    t0=$SECONDS
    bg_wait psql -X "$url" -q -v users="$users" -v logs="$logs" -f "$EASYSKS_ROOT/tests/bench/scale.sql" \
        >"$out/volume.txt" 2>&1 || { cat "$out/volume.txt"; return 1; }
    echo "generated in $((SECONDS - t0)) s:"
    sed 's/^/  /' "$out/volume.txt"
    psql "$url" -Atqc "SELECT relname, pg_size_pretty(pg_relation_size(oid)) FROM pg_class
        WHERE relname IN ('card_states', 'card_states_pkey', 'card_states_user_due', 'review_logs',
        'review_logs_user_time', 'review_logs_user_id_review_id_key') ORDER BY 1" | sed 's/^/  /' |
        tee -a "$out/volume.txt"
    python3 "$EASYSKS_ROOT/tests/bench/stmts.py" "$EASYSKS_ROOT" "$EASYSKS_ROOT/lib/sks/study.c" \
        "$EASYSKS_ROOT/lib/sks/users.c" >"$out/statements.json" || return 1
    echo "EXPLAIN ANALYZE, ${BENCH_EXPLAIN_SAMPLES:-50} random learners per statement and plan mode:"
    bg_wait python3 "$EASYSKS_ROOT/tests/bench/explain.py" "$url" "$out/statements.json" "$out" \
        "${BENCH_EXPLAIN_SAMPLES:-50}" || return 1
    echo "plans and summary: $out"
}
