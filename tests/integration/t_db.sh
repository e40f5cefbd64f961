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
    [ -x "$EASYSKS_BIN_DIR/tests/infra/test_db" ] || fail "build/tests/infra/test_db not built"
    out=$(EASYSKS_TEST_DATABASE_URL=$DATABASE_URL EASYSKS_TEST_ADMIN_URL=$MIGRATE_DATABASE_URL \
        "$EASYSKS_BIN_DIR/tests/infra/test_db" 2>&1) || fail "test_db failed: $out"
    echo "$out" >&2
    grep -q '^not ok' <<<"$out" && fail "test_db: $(grep '^not ok' <<<"$out")"
    local plan
    plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' <<<"$out")
    [ "${plan:-0}" -ge 25 ] || fail "test_db ran too few checks (plan '${plan}'): $out"
}

# A slow readiness check is only slow: /api/health answers 503 db_timeout
# after its 1 s, but the workers keep their connections (same backends, no
# reconnect and backoff) and answer the next requests normally.
test_db_slow_health_check_keeps_the_connection() {
    local before after i from
    from=$(($(wc -l <"$IT/log/pool.log") + 1))
    app_backends() {
        psql_owner -c "SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity
                       WHERE usename = 'easysks_web' AND application_name = 'easysks'"
    }
    # The production deadline (the suite's is longer), then every worker
    # connected and idle.
    local old
    old=$(worker_pids)
    printf 'EASYSKS_HEALTH_TIMEOUT_MS=1000\n' >"$EASYSKS_CONFIG_FILE"
    kill -HUP "$(pool_pid)"
    wait_workers_replaced "$old"
    for i in 1 2 3 4 5 6; do req GET /api/health; expect_status 200; done
    before=$(app_backends)
    [ -n "$before" ] || fail "no worker connections"
    psql_owner -c "BEGIN; LOCK TABLE schema_migrations IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(2); COMMIT" >/dev/null &
    local locker=$!
    for ((i = 0; i < 50; i++)); do
        [ "$(psql_owner -c "SELECT count(*) FROM pg_locks WHERE relation = 'schema_migrations'::regclass
                            AND mode = 'AccessExclusiveLock' AND granted")" = 1 ] && break
        sleep 0.05
    done
    for i in 1 2 3; do
        curl -ks -o "$IT/slow.$i" -w '%{http_code}\n' --max-time 10 \
            "https://127.0.0.1:$EASYSKS_HTTPS_PORT/api/health" >"$IT/slow.$i.code" &
    done
    wait %2 %3 %4 2>/dev/null
    wait "$locker"
    for i in 1 2 3; do
        [ "$(cat "$IT/slow.$i.code")" = 503 ] || fail "health during the lock: $(cat "$IT/slow.$i.code") $(cat "$IT/slow.$i")"
        [ "$(jq -r .database "$IT/slow.$i")" = db_timeout ] || fail "health body: $(cat "$IT/slow.$i")"
    done
    for i in 1 2 3 4 5 6 7 8 9; do
        req GET /api/health
        expect_status 200
    done
    after=$(app_backends)
    [ "$before" = "$after" ] || fail "workers reconnected after a slow health check: $before -> $after"
    ! tail -n +"$from" "$IT/log/pool.log" | grep -q 'dropping the connection' || fail "a connection was dropped"
    old=$(worker_pids)
    : >"$EASYSKS_CONFIG_FILE"
    kill -HUP "$(pool_pid)"
    wait_workers_replaced "$old"
}

# wait_workers_replaced OLD_PIDS: until none of OLD_PIDS serves any more.
wait_workers_replaced() {
    local i p stale
    for ((i = 0; i < 150; i++)); do
        stale=0
        for p in $1; do
            kill -0 "$p" 2>/dev/null && stale=1
        done
        [ "$stale" = 0 ] && [ -n "$(worker_pids)" ] && return 0
        sleep 0.1
    done
    fail "workers not replaced"
}
