#!/usr/bin/env bash
# easysks-migrate: ordering, lock, checksums, failure handling.
# shellcheck disable=SC2154

MIGRATE=$EASYSKS_BIN_DIR/easysks-migrate
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
    [ "$(psql "$url" -Atqc "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" = 0 ] ||
        fail "the dry run wrote to the database: $(psql "$url" -Atqc "SELECT string_agg(tablename, ',') FROM pg_tables WHERE schemaname = 'public'")"
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

# A runner waits for the lock at most --lock-timeout seconds, then names
# the session holding it (before, pg_advisory_lock waited forever).
test_migrate_lock_wait_is_bounded_and_names_the_holder() {
    local url out rc=0 holder
    url=$(new_db mig_wait)
    psql "$url" -Atq -c "SET application_name = 'stuck-deploy'" -c "SELECT pg_advisory_lock($LOCK_KEY)" \
        -c "SELECT pg_sleep(8)" >/dev/null &
    holder=$!
    sleep 0.5
    out=$(MIGRATE_DATABASE_URL=$url timeout 6 "$MIGRATE" --dir "$EASYSKS_ROOT/sql/migrations" up \
        --lock-timeout 1 2>&1) || rc=$?
    kill "$holder" 2>/dev/null
    wait "$holder" 2>/dev/null
    [ "$rc" = 1 ] || fail "exit $rc (124 = still waiting after 6 s): $out"
    grep -q 'another migration run holds the lock: pid [0-9]* (stuck-deploy from local socket' <<<"$out" ||
        fail "message: $out"
    [ "$(psql "$url" -Atqc "SELECT to_regclass('schema_migrations') IS NULL")" = t ] ||
        fail "the runner touched the schema without the lock"
}

# -- migrate:no-transaction files run statement by statement, so several
# CREATE INDEX CONCURRENTLY work in one file; semicolons inside strings,
# dollar quotes and comments do not split statements.
test_migrate_no_transaction_file_runs_statement_by_statement() {
    local url dir out rc=0
    url=$(new_db mig_notx)
    dir=$IT/notx
    rm -rf "$dir" && cp -r "$EASYSKS_ROOT/sql/migrations" "$dir"
    cat >"$dir/9000_tables.sql" <<'SQL'
CREATE TABLE notx_a (i int, note text);
CREATE TABLE notx_b (j int);
SQL
    cat >"$dir/9001_indexes.sql" <<'SQL'
-- migrate:no-transaction
-- Several statements; each runs on its own (comment; with a semicolon).
DROP INDEX CONCURRENTLY IF EXISTS notx_a_i;
CREATE INDEX CONCURRENTLY IF NOT EXISTS notx_a_i ON notx_a (i);
/* a block comment; /* nested; */ still a comment */
CREATE INDEX CONCURRENTLY IF NOT EXISTS notx_b_j ON notx_b (j);
INSERT INTO notx_a VALUES (1, 'semi;colon'), (2, $$dollar; quoted$$), (3, E'it\'s; escaped')
SQL
    out=$(MIGRATE_DATABASE_URL=$url "$MIGRATE" --dir "$dir" up 2>&1) || fail "up failed: $out"
    grep -q '^applied  9001 9001_indexes.sql' <<<"$out" || fail "not applied: $out"
    [ "$(psql "$url" -Atqc "SELECT count(*) FROM pg_index WHERE indrelid IN ('notx_a'::regclass, 'notx_b'::regclass) AND indisvalid")" = 2 ] ||
        fail "indexes missing or invalid"
    [ "$(psql "$url" -Atqc "SELECT string_agg(note, '|' ORDER BY i) FROM notx_a")" = "semi;colon|dollar; quoted|it's; escaped" ] ||
        fail "values: $(psql "$url" -Atqc "SELECT string_agg(note, '|' ORDER BY i) FROM notx_a")"
    # A failing statement: the earlier ones stay, the file is not recorded,
    # and after the fix the whole (re-runnable) file runs again.
    cat >"$dir/9002_more.sql" <<'SQL'
-- migrate:no-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS notx_a_note ON notx_a (note);
CREATE INDEX CONCURRENTLY IF NOT EXISTS notx_missing ON no_such_table (x);
SQL
    out=$(MIGRATE_DATABASE_URL=$url "$MIGRATE" --dir "$dir" up 2>&1) || rc=$?
    [ "$rc" = 1 ] || fail "exit $rc: $out"
    grep -q '9002_more.sql failed: statement 2 of 2 (earlier ones stay applied)' <<<"$out" || fail "message: $out"
    [ "$(psql "$url" -Atqc "SELECT count(*) FROM schema_migrations WHERE version = 9002")" = 0 ] ||
        fail "a failed file was recorded"
    sed -i 's/no_such_table (x)/notx_b (j, i)/; s/(j, i)/(j)/' "$dir/9002_more.sql"
    out=$(MIGRATE_DATABASE_URL=$url "$MIGRATE" --dir "$dir" up 2>&1) || fail "rerun failed: $out"
    grep -q '^applied  9002 9002_more.sql' <<<"$out" || fail "rerun: $out"
}
