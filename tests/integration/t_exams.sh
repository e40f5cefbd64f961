#!/usr/bin/env bash
# Exam simulation through nginx with real tokens: a question sheet and a
# chart task taken from start to result, with exact scores for prepared
# answers (a pass, an oral exam and a fail), resume, late saves, double and
# concurrent submits, abandoning, history, premium, and isolation between
# learners; and easysks-admin granting and revoking premium.
# shellcheck disable=SC2154,SC2153,SC2015 # BODY and friends come from lib.sh; `[ a ] && [ b ] || fail` is meant

ADMIN=$EASYSKS_BIN_DIR/easysks-admin

examinee() {
    node "$EASYSKS_ROOT/tests/tools/mint-token.mjs" --key "$SIGNING/test-key-1.pem" --kid test-key-1 \
        --iss "$AUTH_ISSUER" --client-id test-client --sub "$1" --exp-offset 3600
}

# call METHOD PATH TOKEN [JSON [curl args...]]
call() {
    local method=$1 path=$2 token=$3 body=${4:-}
    shift 4 2>/dev/null || shift $#
    if [ -n "$body" ]; then
        req "$method" "/api$path" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
            --data-binary "$body" "$@"
    else
        req "$method" "/api$path" -H "Authorization: Bearer $token" "$@"
    fi
}

jb() { jq -r "$1" <<<"$BODY"; }

# premium SUB: an operator grants premium (and the learner row appears).
premium() {
    MIGRATE_DATABASE_URL=$MIGRATE_DATABASE_URL EASYSKS_OPERATOR=tests "$ADMIN" grant-premium \
        --sub "$1" --until "$(date -u -d '+30 days' +%F)" --reason "integration test" >/dev/null ||
        fail "grant-premium failed"
}

# The official short answer of a card, as an answer that covers every key point.
good_answer() {
    jq -r --arg id "$1" '.[] | select((.topic + "_" + (.question_number|tostring)) == $id) | .short_answer | join(". ")' \
        "$EASYSKS_SKS_DATA/sks_catalog.json"
}

# Sheet 1 of each kind is free (t_exam_results.sh); the others need premium.
test_exams_listing_is_open_starting_needs_premium() {
    local t
    t=$(examinee free-learner)
    call GET /exams "$t"
    expect_status 200
    [ "$(jb 'length')" = 15 ] && [ "$(jb '[.[].question_count] | unique | join(",")')" = 30 ] ||
        fail "sheets: $BODY"
    call GET /navigation-exams "$t"
    [ "$(jb 'length')" = 10 ] && [ "$(jb '[.[].total_points] | unique | join(",")')" = 30 ] ||
        fail "chart sheets: $BODY"
    call POST /exam-sessions "$t" '{"sheet_number":2}'
    expect_error 403 premium_required
    call POST /navigation-sessions "$t" '{"sheet_number":15}'
    expect_error 422 validation_error
    call POST /navigation-sessions "$t" '{"sheet_number":10}'
    expect_error 403 premium_required
}

# One sheet, three learners: 20, 17 and 16 questions answered in full give
# 40 (passed), 34 (oral exam) and 32 points (failed).
test_exams_sheet_scores_pass_oral_and_fail() {
    local who answered t id cards i card want outcome
    for who in pass:20:40:passed oral:17:34:oral_exam fail:16:32:failed; do
        IFS=: read -r who answered want outcome <<<"$who"
        t=$(examinee "exam-$who")
        premium "exam-$who"
        call POST /exam-sessions "$t" '{"sheet_number":7}'
        expect_status 200
        id=$(jb .session_id)
        [ "$(jb .question_count)" = 30 ] && [ "$(jb .status)" = in_progress ] || fail "start: $BODY"
        # Official order: Navigation, Schifffahrtsrecht, Wetterkunde, Seemannschaft I.
        [ "$(jb '[.questions[].card_id | sub("_[0-9]+$"; "")] | join(",")')" = \
            "$(jq -r '[.[] | select(.exam_sheets | index(7)) | .topic] | join(",")' "$EASYSKS_SKS_DATA/sks_catalog.json")" ] ||
            fail "not in official order: $(jb '[.questions[].card_id]')"
        cards=$(jb '.questions[].card_id' | head -n "$answered")
        i=0
        for card in $cards; do
            call PUT "/exam-sessions/$id/answers/$card" "$t" "$(jq -cn --arg a "$(good_answer "$card")" '{student_answer:$a}')"
            expect_status 200
            i=$((i + 1))
        done
        call POST "/exam-sessions/$id/submit" "$t"
        expect_status 200
        [ "$(jb .total_score)" = "$want" ] || fail "$who: total $(jb .total_score), want $want: $(jb '[.questions[].score]')"
        [ "$(jb .outcome)" = "$outcome" ] && [ "$(jb .max_score)" = 60 ] || fail "$who: $(jb '{outcome,passed,max_score}')"
        [ "$(jb .passed)" = "$([ "$outcome" = passed ] && echo true || echo false)" ] || fail "$who: passed $(jb .passed)"
        [ "$(jb '.questions[0].reference_answer | length > 0')" = true ] || fail "no official answer in the result"
        [ "$(jb '[.questions[] | select(.student_answer == "") | .score] | unique | join(",")')" = 0 ] ||
            fail "unanswered questions scored"
    done
}

test_exams_resume_late_save_double_submit_and_result() {
    local t id first card i
    t=$(examinee exam-resume)
    premium exam-resume
    call POST /exam-sessions "$t" '{"sheet_number":2}'
    id=$(jb .session_id)
    card=$(jb '.questions[0].card_id')
    call PUT "/exam-sessions/$id/answers/$card" "$t" '{"student_answer":"erste Antwort"}'
    expect_status 200
    [ "$(jb .question_number)" = 1 ] || fail "save: $BODY"
    # Starting again resumes the same session, the answer kept.
    call POST /exam-sessions "$t" '{"sheet_number":2}'
    [ "$(jb .session_id)" = "$id" ] && [ "$(jb '.questions[0].student_answer')" = "erste Antwort" ] ||
        fail "not resumed: $(jb '{session_id}')"
    call GET "/exam-sessions/$id/result" "$t"
    expect_error 409 result_not_available
    call PUT "/exam-sessions/$id/answers/navigation_1000" "$t" '{"student_answer":"x"}'
    expect_error 404 item_not_in_session
    call PUT "/exam-sessions/$id/answers/$card" "$t" "{\"student_answer\":\"$(head -c 10001 /dev/zero | tr '\0' a)\"}"
    expect_error 422 answer_too_long
    # The time is up (the deadline moved into the past): saves are refused.
    psql_owner -c "UPDATE exam_sessions SET deadline_at = now() - interval '5 minutes' WHERE id = '$id'"
    call PUT "/exam-sessions/$id/answers/$card" "$t" '{"student_answer":"zu spät"}'
    expect_error 409 deadline_passed
    call GET "/exam-sessions/$id" "$t"
    [ "$(jb .time_over)" = true ] && [ "$(jb .time_remaining_seconds)" = 0 ] || fail "view: $(jb '{time_over,time_remaining_seconds}')"
    # Five submits at once: graded once, the same result for all.
    for i in 1 2 3 4 5; do
        curl -ks -o "$IT/submit.$i" -H "Authorization: Bearer $t" -X POST \
            "https://127.0.0.1:$EASYSKS_HTTPS_PORT/api/exam-sessions/$id/submit" &
    done
    wait
    first=$(jq -c . "$IT/submit.1")
    for i in 2 3 4 5; do
        [ "$(jq -c . "$IT/submit.$i")" = "$first" ] || fail "submit $i answered differently"
    done
    [ "$(jq -r .time_over "$IT/submit.1")" = true ] && [ "$(jq -r .outcome "$IT/submit.1")" = failed ] ||
        fail "late submit: $(jq -c '{time_over,outcome,passed}' "$IT/submit.1")"
    [ "$(jq -r '.questions[0].student_answer' "$IT/submit.1")" = "erste Antwort" ] || fail "answer lost"
    # time_over stays what it was at submission, whatever the clock says later.
    psql_owner -c "UPDATE exam_sessions SET deadline_at = now() + interval '1 hour' WHERE id = '$id'"
    call GET "/exam-sessions/$id/result" "$t"
    [ "$(jb .time_over)" = true ] || fail "time_over recomputed"
    call PUT "/exam-sessions/$id/answers/$card" "$t" '{"student_answer":"danach"}'
    expect_error 409 session_not_editable
    call POST "/exam-sessions/$id/submit" "$t"
    [ "$(jq -c . <<<"$BODY")" = "$first" ] || fail "a later submit regraded"
}

test_exams_abandon_history_and_isolation() {
    local t other id id2
    t=$(examinee exam-history)
    other=$(examinee exam-snoop)
    premium exam-history
    premium exam-snoop
    call POST /exam-sessions "$t" '{"sheet_number":4}' -H 'Idempotency-Key: start-4-once'
    id=$(jb .session_id)
    call POST /exam-sessions "$t" '{"sheet_number":4}' -H 'Idempotency-Key: start-4-once'
    [ "$(jb .session_id)" = "$id" ] || fail "Idempotency-Key not honoured"
    call POST /exam-sessions "$t" '{"sheet_number":5}' -H 'Idempotency-Key: start-4-once'
    expect_error 409 idempotency_key_reused
    call POST /exam-sessions "$t" '{"sheet_number":5}' -H $'Idempotency-Key: caf\xe9'
    expect_error 422 invalid_idempotency_key
    # Bytes that are not UTF-8, in a body or a path: 400, never a 500.
    call PUT "/exam-sessions/$id/answers/navigation_1" "$t" $'{"student_answer":"caf\xe9"}'
    expect_error 400 invalid_json
    call PUT "/exam-sessions/$id/answers/navigation_%FF" "$t" '{"student_answer":"x"}'
    [ "$STATUS" = 400 ] || [ "$STATUS" = 404 ] || fail "a path that is not UTF-8: $STATUS $BODY"
    # Another learner sees nothing of it: 404, never 403.
    call GET "/exam-sessions/$id" "$other"
    expect_error 404 session_not_found
    call PUT "/exam-sessions/$id/answers/navigation_1" "$other" '{"student_answer":"x"}'
    expect_error 404 session_not_found
    call POST "/exam-sessions/$id/submit" "$other"
    expect_error 404 session_not_found
    call DELETE "/exam-sessions/$id" "$other"
    expect_error 404 session_not_found
    call GET /exam-sessions "$other"
    [ "$(jb 'length')" = 0 ] || fail "history leaks: $BODY"
    call GET "/exam-sessions/not-a-uuid" "$t"
    expect_error 404 session_not_found
    call GET "/exam-sessions?status=in_progress" "$t"
    [ "$(jb '[.[].session_id] | join(",")')" = "$id" ] || fail "active list: $BODY"
    call DELETE "/exam-sessions/$id" "$t"
    expect_status 204
    call DELETE "/exam-sessions/$id" "$t"
    expect_error 409 session_not_in_progress
    call GET "/exam-sessions?status=in_progress" "$t"
    [ "$(jb 'length')" = 0 ] || fail "abandoned session still active: $BODY"
    call GET /exam-sessions "$t"
    [ "$(jb '.[0].status')" = abandoned ] || fail "history: $BODY"
    # A new start after abandoning is a new session; pages by started_at.
    call POST /exam-sessions "$t" '{"sheet_number":4}'
    id2=$(jb .session_id)
    [ "$id2" != "$id" ] || fail "abandoned session resumed"
    call GET "/exam-sessions?limit=1" "$t"
    [ "$(jb '.[0].session_id')" = "$id2" ] || fail "newest first: $BODY"
    call GET "/exam-sessions?limit=1&before=$(jb '.[0].started_at' | sed 's/+/%2B/')" "$t"
    [ "$(jb '.[0].session_id')" = "$id" ] || fail "second page: $BODY"
    # An in-progress session a day past its deadline is expired.
    psql_owner -c "UPDATE exam_sessions SET deadline_at = now() - interval '25 hours' WHERE id = '$id2'"
    call GET "/exam-sessions/$id2" "$t"
    [ "$(jb .status)" = expired ] || fail "not expired: $(jb .status)"
    call POST "/exam-sessions/$id2/submit" "$t"
    expect_error 409 session_not_submittable
    # Two starts at once (a double tap) over the expired session: one new
    # session, both answered with it.
    psql_owner -c "UPDATE exam_sessions SET status = 'in_progress' WHERE id = '$id2'"
    for i in 1 2; do
        curl -ks -o "$IT/double.$i" -w '%{http_code}' --max-time 20 -X POST -H "Authorization: Bearer $t" \
            -H 'Content-Type: application/json' --data-binary '{"sheet_number":4}' \
            "https://127.0.0.1:$EASYSKS_HTTPS_PORT/api/exam-sessions" >"$IT/double.$i.status" &
    done
    wait
    [ "$(cat "$IT/double.1.status") $(cat "$IT/double.2.status")" = "200 200" ] ||
        fail "double start: $(cat "$IT"/double.*)"
    [ "$(jq -r .session_id "$IT/double.1")" = "$(jq -r .session_id "$IT/double.2")" ] &&
        [ "$(jq -r .session_id "$IT/double.1")" != "$id2" ] || fail "double start: $(cat "$IT"/double.1 "$IT"/double.2)"
}

# Abandoning while a submit is being graded: the submit holds the session
# row; the abandon waits for it and must then see the graded session (it
# used to decide from the state it read before waiting, and abandoned it).
test_exams_abandon_during_a_submit_keeps_the_result() {
    local t id holder submit
    t=$(examinee exam-race)
    premium exam-race
    call POST /exam-sessions "$t" '{"sheet_number":9}'
    expect_status 200
    id=$(jb .session_id)
    # Hold the row so that the submit and then the abandon queue behind it.
    psql_owner -c "BEGIN; SELECT 1 FROM exam_sessions WHERE id = '$id' FOR UPDATE;
                   SELECT pg_sleep(1.5); COMMIT;" >/dev/null &
    holder=$!
    sleep 0.4
    curl -ks -o "$IT/abandon-race.body" -w '%{http_code}' --max-time 20 -X POST \
        -H "Authorization: Bearer $t" \
        "https://127.0.0.1:$EASYSKS_HTTPS_PORT/api/exam-sessions/$id/submit" >"$IT/abandon-race.status" &
    submit=$!
    sleep 0.4
    call DELETE "/exam-sessions/$id" "$t"
    wait "$submit" "$holder"
    [ "$(cat "$IT/abandon-race.status")" = 200 ] || fail "submit: $(cat "$IT/abandon-race.status") $(cat "$IT/abandon-race.body")"
    expect_error 409 session_not_in_progress
    call GET "/exam-sessions/$id/result" "$t"
    expect_status 200
    [ "$(jb .status)" = evaluated ] || fail "the graded session was abandoned: $BODY"
}

test_exams_chart_task_scores_and_self_assessment() {
    local t id task want tasks answered=0 expected
    t=$(examinee chart-learner)
    premium chart-learner
    call POST /navigation-sessions "$t" '{"sheet_number":3,"time_limit_minutes":60}'
    expect_status 200
    id=$(jb .session_id)
    [ "$(jb .task_count)" = "$(jq '[.[] | select(.sheet_number == 3) | .tasks[]] | length' "$EASYSKS_SKS_DATA/sks_navigation_catalog.json")" ] ||
        fail "tasks: $(jb .task_count)"
    [ "$(jb '.questions[0] | has("key_answers") or has("solution_text")')" = false ] || fail "solutions leaked before the result"
    # Answer every task that has key answers with them: full points there;
    # the tasks without keys score 0 and ask for self-assessment.
    tasks=$(jq -c '.[] | select(.sheet_number == 3) | .tasks[] | {id: ("nav_3_" + (.task_number|tostring)), a: (.solution.key_answers | join("; "))}' "$EASYSKS_SKS_DATA/sks_navigation_catalog.json")
    while IFS= read -r task; do
        if [ "$(jq -r .a <<<"$task")" = "" ]; then
            task=$(jq -c '.a = "Siehe Eintragung in der Karte."' <<<"$task")
        else
            answered=$((answered + 1))
        fi
        call PUT "/navigation-sessions/$id/answers/$(jq -r .id <<<"$task")" "$t" "$(jq -c '{student_answer: .a}' <<<"$task")"
        expect_status 200
    done <<<"$tasks"
    call POST "/navigation-sessions/$id/submit" "$t"
    expect_status 200
    # By sub-question: full points where the sub-question has key answers,
    # none (and self-assessment) where it has none.
    expected=$(jb '[.questions[].sub_results[] | select(.needs_self_assessment | not) | .max_points] | add')
    [ "$(jb .total_score)" = "$expected" ] || fail "total $(jb .total_score), want $expected: $(jb '[.questions[] | {task_id, score, sub_results}]')"
    [ "$(jb '[.questions[].sub_results[] | select(.needs_self_assessment) | .grader_points] | add // 0')" = 0 ] || fail "free points for sub-questions without keys"
    [ "$(jb '[.questions[] | select(.key_answers == [] and (.needs_self_assessment | not))] | length')" = 0 ] &&
        [ "$(jb '[.questions[] | select(.key_answers == [])] | length')" = \
            "$(jq '[.[] | select(.sheet_number == 3) | .tasks[] | select(.solution.key_answers == [])] | length' "$EASYSKS_SKS_DATA/sks_navigation_catalog.json")" ] ||
        fail "tasks without keys not marked for self-assessment: $(jb '[.questions[] | {task_id, needs_self_assessment}]')"
    [ "$(jb .provisional)" = true ] || fail "not provisional with questions to assess"
    [ "$(jb .max_score)" = 30 ] && [ "$(jb .pass_score_threshold)" = 20 ] || fail "$(jb '{max_score, pass_score_threshold}')"
    want=$(awk -v s="$expected" 'BEGIN { print (s >= 20 ? "passed" : s >= 17 ? "oral_exam" : "failed") }')
    [ "$(jb .outcome)" = "$want" ] || fail "outcome $(jb .outcome) for $expected"
    [ "$(jb '.questions[0].solution_text | length > 0')" = true ] || fail "no model solution in the result"
    echo "chart sheet 3: $answered tasks answered with their keys, $expected of 30 points"
}

test_exams_admin_grant_and_revoke_are_audited() {
    local t out
    t=$(examinee support-case)
    out=$(MIGRATE_DATABASE_URL=$MIGRATE_DATABASE_URL EASYSKS_OPERATOR=alice "$ADMIN" grant-premium --sub support-case --until 2031-01-31 --reason "ticket 42" 2>&1) ||
        fail "grant: $out"
    grep -q 'plan=premium premium_until=2031-01-31T23:00:00Z' <<<"$out" || fail "grant output: $out"
    grep -q '"operator":"alice"' <<<"$out" || fail "operator not logged: $out"
    call GET /me "$t"
    [ "$(jb .plan)" = premium ] && [ "$(jb .premium_until)" = 2031-01-31T23:00:00Z ] || fail "me: $BODY"
    call POST /exam-sessions "$t" '{"sheet_number":9}'
    expect_status 200
    MIGRATE_DATABASE_URL=$MIGRATE_DATABASE_URL EASYSKS_OPERATOR=bob "$ADMIN" revoke-premium --sub support-case --reason "refund" >/dev/null ||
        fail "revoke"
    call GET /me "$t"
    [ "$(jb .plan)" = free ] || fail "still premium: $BODY"
    call POST /exam-sessions "$t" '{"sheet_number":10}'
    expect_error 403 premium_required
    [ "$(psql_owner -c "SELECT string_agg(operator || ':' || action || ':' || (detail->>'reason'), ',' ORDER BY a.id) FROM admin_audit a JOIN users u ON u.id = a.user_id WHERE u.cognito_sub = 'support-case'")" = \
        "alice:grant-premium:ticket 42,bob:revoke-premium:refund" ] || fail "audit trail"
    out=$(MIGRATE_DATABASE_URL=$MIGRATE_DATABASE_URL "$ADMIN" show --email nobody@example.invalid 2>&1) && fail "found nobody"
    grep -q 'no user with e-mail' <<<"$out" || fail "message: $out"
    # An e-mail two accounts share (sign-ups with one unverified address):
    # nothing is changed, the operator is told to pick one by sub.
    psql_owner -c "INSERT INTO users (cognito_sub, email) VALUES ('twin-1', 'twin@example.com'), ('twin-2', 'Twin@example.com')" >/dev/null
    out=$(MIGRATE_DATABASE_URL=$MIGRATE_DATABASE_URL "$ADMIN" grant-premium --email twin@example.com --until 2031-01-31 2>&1) &&
        fail "granted to an ambiguous e-mail: $out"
    grep -q '2 accounts have the e-mail' <<<"$out" || fail "message: $out"
    out=$(MIGRATE_DATABASE_URL=$MIGRATE_DATABASE_URL "$ADMIN" revoke-premium --email twin@example.com 2>&1) &&
        fail "revoked for an ambiguous e-mail: $out"
    [ "$(psql_owner -c "SELECT string_agg(plan, ',') FROM users WHERE cognito_sub LIKE 'twin-%'")" = free,free ] &&
        [ "$(psql_owner -c "SELECT count(*) FROM admin_audit a JOIN users u ON u.id = a.user_id WHERE u.cognito_sub LIKE 'twin-%'")" = 0 ] ||
        fail "an ambiguous e-mail changed something"
    # A sub that never signed in gets its row, and the operator is told.
    out=$(MIGRATE_DATABASE_URL=$MIGRATE_DATABASE_URL "$ADMIN" grant-premium --sub not-yet-seen --until 2031-01-31 2>&1) ||
        fail "grant ahead of the first login: $out"
    grep -q 'has never signed in' <<<"$out" || fail "no note about the new row: $out"
    out=$(psql "$DATABASE_URL" -Atq -c "DELETE FROM admin_audit" 2>&1) && fail "the app role deleted the audit trail"
    grep -q 'permission denied' <<<"$out" || fail "unexpected: $out"
}
