#!/usr/bin/env bash
# The pool and the database: outages, recovery, least privilege.
# shellcheck disable=SC2154

test_db_down_answers_503_and_recovers() {
    pg_stop "$IT/pg" fast
    req GET /api/health
    expect_status 503
    expect_json status unavailable
    expect_json database db_unavailable
    # Failing fast while the database is away: no request waits on it.
    req GET /api/health
    expect_status 503
    pg_start "$IT/pg"
    local i
    for ((i = 0; i < 100; i++)); do
        req GET /api/health
        [ "$STATUS" = 200 ] && break
        sleep 0.1
    done
    expect_status 200
    expect_json database ok
}

test_db_app_role_cannot_run_ddl() {
    local out
    out=$(psql "$DATABASE_URL" -Atq -c "CREATE TABLE intruder (i int)" 2>&1) && fail "app role created a table"
    grep -q 'permission denied' <<<"$out" || fail "unexpected: $out"
    out=$(psql "$DATABASE_URL" -Atq -c "DROP TABLE users" 2>&1) && fail "app role dropped a table"
    grep -q 'must be owner' <<<"$out" || fail "unexpected: $out"
    psql "$DATABASE_URL" -Atq -c "SELECT count(*) FROM users" >/dev/null || fail "app role cannot read users"
}

test_db_password_never_reaches_the_logs() {
    ! grep -q 'secret-in-url' "$IT"/log/*.log || fail "a password was logged"
    local out
    out=$(MIGRATE_DATABASE_URL='' DATABASE_URL='postgresql://easysks_web:secret-in-url@127.0.0.1:1/easysks' \
        EASYSKS_CONFIG_FILE='' timeout 5 "$EASYSKS_BIN_DIR/easysks-migrate" status 2>&1) && fail "status succeeded against a closed port"
    grep -q 'secret-in-url' <<<"$out" && fail "password printed: $out"
    grep -q 'easysks_web:\*\*\*@' <<<"$out" || fail "no redacted URL in: $out"
}

test_db_library_against_postgres() {
    local out
    [ -x "$EASYSKS_ROOT/build/tests/test_db" ] || fail "build/tests/test_db not built"
    out=$(EASYSKS_TEST_DATABASE_URL=$DATABASE_URL EASYSKS_TEST_ADMIN_URL=$MIGRATE_DATABASE_URL \
        "$EASYSKS_ROOT/build/tests/test_db" 2>&1) || fail "test_db failed: $out"
    echo "$out" >&2
    grep -q '^not ok' <<<"$out" && fail "test_db: $(grep '^not ok' <<<"$out")"
    local plan
    plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' <<<"$out")
    [ "${plan:-0}" -ge 25 ] || fail "test_db ran too few checks (plan '${plan}'): $out"
}
