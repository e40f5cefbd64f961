#!/usr/bin/env bash
# Exam results a learner can trust, through nginx with real tokens: the free
# sheet of each kind, self-assessment of a question sheet (before and after
# submit, the range, another learner, the outcome moving from oral exam to
# passed and back), and chart tasks answered and graded by sub-question with
# the official tolerances (inside, on the edge, outside, German notations),
# the old single-answer form, and self-assessment per sub-question.
# Uses examinee, call, jb and premium from t_exams.sh.
# shellcheck disable=SC2154,SC2153,SC2015 # BODY and friends come from lib.sh; `[ a ] && [ b ] || fail` is meant

test_exam_results_free_sheet_for_free_learners() {
    local t id i
    t=$(examinee free-sheet-learner)
    call GET /exams "$t"
    expect_status 200
    [ "$(jb '[.[] | select(.free) | .sheet_number] | join(",")')" = 1 ] &&
        [ "$(jb '[.[] | select(.requires_premium | not) | .sheet_number] | join(",")')" = 1 ] ||
        fail "free question sheets: $(jb '[.[] | {sheet_number, free, requires_premium}]')"
    call GET /navigation-exams "$t"
    # The allowed materials as the sheet's text lists them (seeded from it).
    [ "$(jb '.[0].allowed_materials[0]')" = "Übungskarte 49 (INT 1463)" ] &&
        [ "$(jb '.[0].allowed_materials | length')" = 5 ] &&
        [ "$(jb '.[0].material_rules | startswith("Für die Prüfung")')" = true ] ||
        fail "materials: $(jb '.[0] | {allowed_materials, material_rules}')"
    [ "$(jb '[.[] | select(.free) | .sheet_number] | join(",")')" = 1 ] &&
        [ "$(jb '[.[] | select(.requires_premium) | .sheet_number] | length')" = 9 ] ||
        fail "free chart sheets: $(jb '[.[] | {sheet_number, free, requires_premium}]')"
    # Sheet 1, any number of times: start, submit, start again.
    for i in 1 2; do
        call POST /exam-sessions "$t" '{"sheet_number":1}'
        expect_status 200
        id=$(jb .session_id)
        call POST "/exam-sessions/$id/submit" "$t"
        expect_status 200
        [ "$(jb .status)" = evaluated ] || fail "round $i: $(jb .status)"
    done
    [ "$(psql_owner -c "SELECT count(*) FROM exam_sessions s JOIN users u ON u.id = s.user_id
        WHERE u.cognito_sub = 'free-sheet-learner' AND s.status = 'evaluated'")" = 2 ] ||
        fail "two free sessions expected"
    call POST /exam-sessions "$t" '{"sheet_number":2}'
    expect_error 403 premium_required
    call POST /navigation-sessions "$t" '{"sheet_number":1}'
    expect_status 200
    call POST /navigation-sessions "$t" '{"sheet_number":2}'
    expect_error 403 premium_required
}

# 17 questions of sheet 7 answered in full give 34 points, an oral exam
# (t_exams.sh); the learner's 2 points on three of the others make it 40.
test_exam_results_self_assessment_moves_oral_to_pass() {
    local t other id card cards open bad other_card
    t=$(examinee self-assessor)
    other=$(examinee self-snoop)
    premium self-assessor
    call POST /exam-sessions "$t" '{"sheet_number":7}'
    id=$(jb .session_id)
    cards=$(jb '.questions[].card_id')
    for card in $(head -n 17 <<<"$cards"); do
        call PUT "/exam-sessions/$id/answers/$card" "$t" "$(jq -cn --arg a "$(good_answer "$card")" '{student_answer:$a}')"
        expect_status 200
    done
    open=$(tail -n 13 <<<"$cards")
    card=$(head -n 1 <<<"$open")
    call PATCH "/exam-sessions/$id/results/$card" "$t" '{"self_points":2}'
    expect_error 409 session_not_evaluated
    call POST "/exam-sessions/$id/submit" "$t"
    expect_status 200
    [ "$(jb .total_score)" = 34 ] && [ "$(jb .outcome)" = oral_exam ] && [ "$(jb .self_assessed)" = false ] ||
        fail "before: $(jb '{total_score, outcome, self_assessed}')"
    call PATCH "/exam-sessions/$id/results/$card" "$other" '{"self_points":2}'
    expect_error 404 session_not_found
    for bad in '{"self_points":3}' '{"self_points":1.5}' '{"self_points":-1}' '{"self_points":"2"}' '{}'; do
        call PATCH "/exam-sessions/$id/results/$card" "$t" "$bad"
        expect_error 422 invalid_points
    done
    call PATCH "/exam-sessions/$id/results/navigation_1000" "$t" '{"self_points":1}'
    expect_error 404 item_not_in_session
    call PATCH "/exam-sessions/$id/results/$card" "$t" '{"self_points":2}'
    expect_status 200
    [ "$(jb .total_score)" = 36 ] && [ "$(jb .outcome)" = oral_exam ] || fail "after one: $(jb '{total_score, outcome}')"
    [ "$(jq -r --arg c "$card" '.questions[] | select(.card_id == $c) | [.grader_points, .self_points, .counts, .score] | join(",")' <<<"$BODY")" = "0,2,learner,2" ] ||
        fail "the question: $(jq -c --arg c "$card" '.questions[] | select(.card_id == $c)' <<<"$BODY")"
    # Idempotent: the same points again change nothing.
    call PATCH "/exam-sessions/$id/results/$card" "$t" '{"self_points":2}'
    [ "$(jb .total_score)" = 36 ] || fail "a repeated assessment counted twice: $(jb .total_score)"
    while read -r other_card; do
        call PATCH "/exam-sessions/$id/results/$other_card" "$t" '{"self_points":2}'
        expect_status 200
    done < <(sed -n '2,3p' <<<"$open")
    [ "$(jb .total_score)" = 40 ] && [ "$(jb .outcome)" = passed ] && [ "$(jb .passed)" = true ] &&
        [ "$(jb .grader_total_score)" = 34 ] && [ "$(jb .self_assessed)" = true ] ||
        fail "after three: $(jb '{total_score, grader_total_score, outcome, passed, self_assessed}')"
    call GET "/exam-sessions/$id/result" "$t"
    [ "$(jb .total_score)" = 40 ] && [ "$(jb '[.questions[] | select(.counts == "learner")] | length')" = 3 ] ||
        fail "result: $(jb '{total_score}')"
    call GET /exam-sessions "$t"
    [ "$(jb '.[0] | [.total_score, .outcome, .self_assessed] | join(",")')" = "40,passed,true" ] ||
        fail "history: $(jb '.[0]')"
    [ "$(psql_owner -c "SELECT total_score, outcome FROM exam_sessions WHERE id = '$id'" | tr '|' ,)" = "40,passed" ] ||
        fail "not stored"
    # Withdrawn: the grader's 0 counts again, back to an oral exam.
    call PATCH "/exam-sessions/$id/results/$card" "$t" '{"self_points":null}'
    expect_status 200
    [ "$(jb .total_score)" = 38 ] && [ "$(jb .outcome)" = oral_exam ] || fail "withdrawn: $(jb '{total_score, outcome}')"
    # Five at once, on five other questions: each recomputes the total under
    # the session's row lock, so none is lost.
    local i=0
    while read -r other_card; do
        i=$((i + 1))
        curl -ks -o "$IT/self.$i" -w '%{http_code}\n' --max-time 20 -X PATCH -H "Authorization: Bearer $t" \
            -H 'Content-Type: application/json' --data-binary '{"self_points":1}' \
            "https://127.0.0.1:$EASYSKS_HTTPS_PORT/api/exam-sessions/$id/results/$other_card" >"$IT/self.$i.status" &
    done < <(sed -n '4,8p' <<<"$open")
    wait
    [ "$(cat "$IT"/self.*.status | sort -u)" = 200 ] || fail "concurrent: $(cat "$IT"/self.*.status)"
    call GET "/exam-sessions/$id/result" "$t"
    [ "$(jb .total_score)" = 43 ] && [ "$(jb .outcome)" = passed ] || fail "after five at once: $(jb '{total_score, outcome}')"
    call GET "/exam-sessions/$id/result" "$other"
    expect_error 404 session_not_found
}

# Chart sheet 1 by sub-question. The values come from the official
# solutions; the answers test the tolerance's inside, edge and outside, and
# the German notations.
test_exam_results_chart_sub_questions_with_tolerances() {
    local t id sheet_id r bad task n
    t=$(examinee chart-subs)
    premium chart-subs
    call POST /navigation-sessions "$t" '{"sheet_number":1}'
    expect_status 200
    id=$(jb .session_id)
    [ "$(jb '.questions[] | select(.task_id == "nav_1_14") | .sub_questions | length')" = 3 ] &&
        [ "$(jb '.questions[0].sub_answers')" = null ] || fail "session view: $(jb '.questions[0]')"
    save() { # TASK JSON
        call PUT "/navigation-sessions/$id/answers/$1" "$t" "$2"
        expect_status 200
    }
    # HWZ 08:53, HWH 3,2 m | FD 6 h 38 min, TF 2,5 m (no tolerance)
    save nav_1_1 '{"sub_answers":["HWZ 08:53 BZ, HWH 3,2 m","FD 6:38 h, TF 2,5m"]}'
    [ "$(jb '.sub_answers | length')" = 2 ] || fail "save: $BODY"
    # KaK 286° ±1° (on the edge) | d 9,7 sm ±0,2 sm (on the edge, decimal point)
    save nav_1_5 '{"sub_answers":["KaK = 287°","d = 9.5 sm"]}'
    # the drawing (needs the learner) | MgK 082° ±1° outside, BS -7° inside | FüG 6,7 kn
    save nav_1_14 '{"sub_answers":["Stromdreieck gezeichnet","MgK 084°, BS = −7°","FüG 6,7 kn"]}'
    # KaK 059° ±1° outside | MgK 052° ±1° in words
    save nav_1_11 '{"sub_answers":["KaK 061°","MgK 52 Grad"]}'
    # the old clients' single answer: StR 150°, StG 2,3 kn
    save nav_1_2 '{"student_answer":"StR 150°, StG 2,3 kn"}'
    [ "$(jb .sub_answers)" = null ] || fail "single answer: $BODY"
    # a position within ±0,2' in both, Ost for East
    save nav_1_13 "{\"student_answer\":\"Ob 10:45 BZ: 54° 04,2' N, 008° 20,3' O\"}"
    # StR 312° ±10° on the edge, StG 0,5 kn exact
    save nav_1_8 '{"student_answer":"StR 322°, StG 0,5 kn"}'
    # StR 102°, StG 1,4 kn exact: 1,5 is off
    save nav_1_7 '{"student_answer":"StR 102°, StG 1,5 kn"}'
    call PUT "/navigation-sessions/$id/answers/nav_1_1" "$t" '{"sub_answers":["nur eine"]}'
    expect_error 422 invalid_sub_answers
    call PUT "/navigation-sessions/$id/answers/nav_1_1" "$t" '{"sub_answers":["a",2]}'
    expect_error 422 invalid_sub_answers
    call PUT "/navigation-sessions/$id/answers/nav_1_1" "$t" '{"sub_answers":"a"}'
    expect_error 422 invalid_sub_answers
    call GET "/navigation-sessions/$id" "$t"
    [ "$(jb '.questions[] | select(.task_id == "nav_1_14") | .sub_answers[1]')" = "MgK 084°, BS = −7°" ] &&
        [ "$(jb '.questions[] | select(.task_id == "nav_1_14") | .student_answer' | head -n1)" = "a) Stromdreieck gezeichnet" ] ||
        fail "stored: $(jb '.questions[] | select(.task_id == "nav_1_14")')"
    call POST /exam-sessions "$t" '{"sheet_number":3}'
    sheet_id=$(jb .session_id)
    call PUT "/exam-sessions/$sheet_id/answers/$(jb '.questions[0].card_id')" "$t" '{"sub_answers":["x"]}'
    expect_error 422 invalid_sub_answers
    call PATCH "/navigation-sessions/$id/results/nav_1_14/sub-questions/1" "$t" '{"self_points":1}'
    expect_error 409 session_not_evaluated

    call POST "/navigation-sessions/$id/submit" "$t"
    expect_status 200
    r=$BODY
    sub() { jq -r --arg t "$1" ".questions[] | select(.task_id == \$t) | $2" <<<"$r"; }
    [ "$(sub nav_1_1 '[.sub_results[].grader_points] | join(",")')" = "1,1" ] || fail "nav_1_1: $(sub nav_1_1 .sub_results)"
    [ "$(sub nav_1_5 '[.sub_results[].grader_points] | join(",")')" = "1,1" ] || fail "nav_1_5 edge: $(sub nav_1_5 .sub_results)"
    [ "$(sub nav_1_14 '[.sub_results[] | [.grader_points, .needs_self_assessment] | join(":")] | join(",")')" = "0:true,0.5:false,1:false" ] ||
        fail "nav_1_14: $(sub nav_1_14 .sub_results)"
    [ "$(sub nav_1_14 '.needs_self_assessment')" = true ] && [ "$(sub nav_1_14 .score)" = 1.5 ] || fail "nav_1_14 task: $(sub nav_1_14 '{score, needs_self_assessment}')"
    [ "$(sub nav_1_14 '.sub_results[1].key_answers | length > 0')" = true ] &&
        [ "$(sub nav_1_14 '.sub_results[0].key_answers | length')" = 0 ] || fail "keys per sub-question: $(sub nav_1_14 .sub_results)"
    [ "$(sub nav_1_11 '[.sub_results[].grader_points] | join(",")')" = "0,1" ] || fail "nav_1_11: $(sub nav_1_11 .sub_results)"
    [ "$(sub nav_1_2 .score)" = 1 ] || fail "single answer: $(sub nav_1_2 '{score, sub_results}')"
    [ "$(sub nav_1_13 .score)" = 2 ] || fail "position: $(sub nav_1_13 '{score, feedback}')"
    [ "$(sub nav_1_8 .score)" = 2 ] || fail "StR on the edge: $(sub nav_1_8 '{score, sub_results}')"
    [ "$(sub nav_1_7 .score)" = 0.5 ] || fail "StG off: $(sub nav_1_7 '{score, sub_results}')"
    # 1+1 + 1+1 + 1.5 + 1 + 1 + 2 + 2 + 0.5 = 12 points
    [ "$(jq -r .total_score <<<"$r")" = 12 ] && [ "$(jq -r .outcome <<<"$r")" = failed ] &&
        [ "$(jq -r .provisional <<<"$r")" = true ] || fail "total: $(jq -c '{total_score, outcome, provisional}' <<<"$r")"

    # Self-assessment per sub-question: the range is the sub-question's points.
    for bad in '{"self_points":1.5}' '{"self_points":0.3}' '{"self_points":-0.5}'; do
        call PATCH "/navigation-sessions/$id/results/nav_1_14/sub-questions/1" "$t" "$bad"
        expect_error 422 invalid_points
    done
    call PATCH "/navigation-sessions/$id/results/nav_1_14/sub-questions/4" "$t" '{"self_points":1}'
    expect_error 404 sub_question_not_found
    call PATCH "/navigation-sessions/$id/results/nav_1_14/sub-questions/0" "$t" '{"self_points":1}'
    expect_error 404 sub_question_not_found
    call PATCH "/navigation-sessions/$id/results/nav_9_1/sub-questions/1" "$t" '{"self_points":1}'
    expect_error 404 item_not_in_session
    call PATCH "/navigation-sessions/$id/results/nav_1_14/sub-questions/1" "$t" '{"self_points":1}'
    expect_status 200
    r=$BODY
    [ "$(sub nav_1_14 '[.score, .grader_points, .self_points, .counts] | join(",")')" = "2.5,1.5,2.5,learner" ] &&
        [ "$(sub nav_1_14 '.sub_results[0] | [.points, .counts] | join(",")')" = "1,learner" ] ||
        fail "after: $(sub nav_1_14 '{score, grader_points, self_points, counts, sub_results}')"
    [ "$(jq -r .total_score <<<"$r")" = 13 ] || fail "total after: $(jq -r .total_score <<<"$r")"
    # The learner overrides a graded sub-question too: MgK/BS 0.5 -> 1.
    call PATCH "/navigation-sessions/$id/results/nav_1_14/sub-questions/2" "$t" '{"self_points":1}'
    [ "$(jq -r .total_score <<<"$BODY")" = 13.5 ] || fail "override: $(jq -r .total_score <<<"$BODY")"
    # Every sub-question without keys assessed: no longer provisional.
    while IFS=, read -r task n; do
        call PATCH "/navigation-sessions/$id/results/$task/sub-questions/$n" "$t" '{"self_points":0}'
        expect_status 200
    done < <(jq -r '.questions[] | .task_id as $t | .sub_results[] | select(.needs_self_assessment and .self_points == null) | "\($t),\(.number)"' <<<"$r")
    [ "$(jq -r .provisional <<<"$BODY")" = false ] || fail "still provisional: $(jq -c '[.questions[] | select(.needs_self_assessment) | {task_id, sub_results}]' <<<"$BODY")"
    call GET /navigation-sessions "$t"
    [ "$(jb '.[0] | [.self_assessed, .provisional, .total_score] | join(",")')" = "true,false,13.5" ] || fail "history: $(jb '.[0]')"
}

# The learner's points outlive a model's verdict that lands after them: the
# job process recomputes the total with the learner's points where given.
# Uses stub, exam_with_answers and wait_graded from t_ai.sh.
test_exam_results_learner_points_survive_ai_grading() {
    local card
    stub /_reset
    stub "/_mode?mode=slow&delay_ms=1500&for=chat"
    exam_with_answers self-vs-ai 6 2 0
    card=$(ai_call GET "/exam-sessions/$SESSION" "$TOKEN" && ai_jb '.questions[0].card_id')
    ai_call POST "/exam-sessions/$SESSION/submit" "$TOKEN"
    [ "$(ai_jb .grading)" = pending ] || fail "not pending: $(ai_jb .grading)"
    ai_call PATCH "/exam-sessions/$SESSION/results/$card" "$TOKEN" '{"self_points":0}'
    expect_status 200
    [ "$(ai_jb '.questions[0] | [.counts, .score] | join(",")')" = "learner,0" ] || fail "assessed: $(ai_jb '.questions[0]')"
    wait_graded 20
    # The model gives 2 to each right answer; the learner's 0 counts for the first.
    [ "$(ai_jb '.questions[0] | [.grader, .grader_points, .self_points, .counts, .score] | join(",")')" = "ai,2,0,learner,0" ] &&
        [ "$(ai_jb '.questions[1] | [.grader, .score] | join(",")')" = "ai,2" ] &&
        [ "$(ai_jb .total_score)" = 2 ] && [ "$(ai_jb .grader_total_score)" = 4 ] ||
        fail "after the model: $(ai_jb '{total_score, grader_total_score, q0: .questions[0], q1: .questions[1].score}')"
    stub /_reset
}

# AI grading is premium: a free learner who switched ai_enabled on takes the
# free sheet and gets the heuristic's grades, with nothing queued.
test_exam_results_free_sheet_is_not_ai_graded() {
    local t id
    t=$(examinee free-ai-learner)
    call PUT /settings "$t" '{"ai_enabled":true}'
    expect_status 200
    call POST /exam-sessions "$t" '{"sheet_number":1}'
    expect_status 200
    id=$(jb .session_id)
    call PUT "/exam-sessions/$id/answers/$(jb '.questions[0].card_id')" "$t" '{"student_answer":"Antwort 1 ist richtig"}'
    expect_status 200
    call POST "/exam-sessions/$id/submit" "$t"
    expect_status 200
    [ "$(jb .grading)" = complete ] && [ "$(jb '[.questions[] | select(.ai_status != null)] | length')" = 0 ] ||
        fail "AI for a free learner: $(jb '{grading, grading_note}')"
    [ "$(psql_owner -c "SELECT count(*) FROM grading_jobs WHERE session_id = '$id'")" = 0 ] || fail "jobs queued"
}
