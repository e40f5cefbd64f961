#!/usr/bin/env bash
# easysks-migrate: ordering, lock, checksums, failure handling.
# shellcheck disable=SC2154

MIGRATE=$EASYSKS_ROOT/build/easysks-migrate
LOCK_KEY=7301885173520931

new_db() {
    psql "$(pg_url "$IT/pg" easysks_owner postgres)" -qc "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null
    pg_url "$IT/pg" easysks_owner "$1"
}

test_migrate_two_runners_one_applies_the_other_waits() {
    local url
    url=$(new_db mig_lock)
    # Hold the lock so both runners are queued on it at the same time.
    psql "$url" -Atq -c "SELECT pg_advisory_lock($LOCK_KEY)" -c "SELECT pg_sleep(1.5)" >/dev/null &
    local holder=$!
    sleep 0.3
    MIGRATE_DATABASE_URL=$url "$MIGRATE" --dir "$EASYSKS_ROOT/sql/migrations" up >"$IT/m1.out" 2>&1 &
    local a=$!
    MIGRATE_DATABASE_URL=$url "$MIGRATE" --dir "$EASYSKS_ROOT/sql/migrations" up >"$IT/m2.out" 2>&1 &
    local b=$!
    wait "$holder"
    wait "$a" || fail "runner 1 failed: $(cat "$IT/m1.out")"
    wait "$b" || fail "runner 2 failed: $(cat "$IT/m2.out")"
    local applied nothing files
    files=$(find "$EASYSKS_ROOT/sql/migrations" -name '[0-9][0-9][0-9][0-9]_*.sql' | wc -l)
    applied=$(cat "$IT/m1.out" "$IT/m2.out" | grep -c '^applied ')
    nothing=$(cat "$IT/m1.out" "$IT/m2.out" | grep -c '^nothing to do')
    [ "$applied" = "$files" ] || fail "applied $applied of $files: $(cat "$IT/m1.out" "$IT/m2.out")"
    [ "$nothing" = 1 ] || fail "expected one idle runner: $(cat "$IT/m1.out" "$IT/m2.out")"
    [ "$(psql "$url" -Atqc 'SELECT count(*) FROM schema_migrations')" = "$files" ] || fail "recorded count"
}

test_migrate_checksum_drift_is_refused() {
    local url dir out rc=0
    url=$(new_db mig_drift)
    dir=$IT/drift
    rm -rf "$dir" && cp -r "$EASYSKS_ROOT/sql/migrations" "$dir"
    MIGRATE_DATABASE_URL=$url "$MIGRATE" --dir "$dir" up >/dev/null || fail "first up failed"
    echo "-- edited after it was applied" >>"$dir/0002_users.sql"
    out=$(MIGRATE_DATABASE_URL=$url "$MIGRATE" --dir "$dir" up 2>&1) || rc=$?
    [ "$rc" = 1 ] || fail "up exit $rc: $out"
    grep -q '0002_users.sql was changed after it was applied' <<<"$out" || fail "message: $out"
    rc=0
    out=$(MIGRATE_DATABASE_URL=$url "$MIGRATE" --dir "$dir" verify 2>&1) || rc=$?
    [ "$rc" = 1 ] || fail "verify exit $rc: $out"
    MIGRATE_DATABASE_URL=$url "$MIGRATE" --dir "$EASYSKS_ROOT/sql/migrations" verify >/dev/null || fail "pristine files do not verify"
}

test_migrate_status_reports_pending_then_clean() {
    local url rc=0 out
    url=$(new_db mig_status)
    out=$(MIGRATE_DATABASE_URL=$url "$MIGRATE" --dir "$EASYSKS_ROOT/sql/migrations" status) || rc=$?
    [ "$rc" = 3 ] || fail "status on an empty database exit $rc"
    grep -q '^pending  0001 0001_roles.sql' <<<"$out" || fail "status: $out"
    out=$(MIGRATE_DATABASE_URL=$url "$MIGRATE" --dir "$EASYSKS_ROOT/sql/migrations" up --dry-run)
    grep -q '^would apply 0002' <<<"$out" || fail "dry run: $out"
    [ "$(psql "$url" -Atqc 'SELECT count(*) FROM schema_migrations')" = 0 ] || fail "dry run applied something"
    MIGRATE_DATABASE_URL=$url "$MIGRATE" --dir "$EASYSKS_ROOT/sql/migrations" up >/dev/null
    MIGRATE_DATABASE_URL=$url "$MIGRATE" --dir "$EASYSKS_ROOT/sql/migrations" status >/dev/null || fail "status not clean after up"
}

test_migrate_a_failing_file_leaves_nothing_half_applied() {
    local url dir out rc=0
    url=$(new_db mig_fail)
    dir=$IT/failing
    rm -rf "$dir" && cp -r "$EASYSKS_ROOT/sql/migrations" "$dir"
    printf 'CREATE TABLE half_done (i int);\nSELECT no_such_function();\n' >"$dir/9999_broken.sql"
    out=$(MIGRATE_DATABASE_URL=$url "$MIGRATE" --dir "$dir" up 2>&1) || rc=$?
    [ "$rc" = 1 ] || fail "exit $rc: $out"
    grep -q '9999_broken.sql failed' <<<"$out" || fail "message: $out"
    [ "$(psql "$url" -Atqc "SELECT to_regclass('half_done') IS NULL")" = t ] || fail "half_done exists"
    local newest
    newest=$(find "$EASYSKS_ROOT/sql/migrations" -name '[0-9][0-9][0-9][0-9]_*.sql' -printf '%f\n' | sort | tail -n1 | cut -c1-4)
    [ "$(psql "$url" -Atqc 'SELECT max(version) FROM schema_migrations')" = "$((10#$newest))" ] ||
        fail "versions recorded wrongly"
}
