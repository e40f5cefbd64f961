#!/usr/bin/env bash
# AI grading for the test stack (sourced by run.sh before the pool and the
# job process start): the loopback OpenAI stand-in (tests/tools/openai-stub.mjs)
# and the AI settings of the pool and easysks-jobs pointing at it. Deadlines
# are short so the timeout tests are quick (a synchronous call's deadline is
# also capped below the request deadline at run time, so t_pool's 1 s
# deadline stays a valid configuration).
# shellcheck disable=SC2154

# Looks like a real key on purpose: the tests grep every log for it.
export OPENAI_API_KEY=sk-it-EasySKS-integration-0123456789abcdefNOTLOGGED
export OPENAI_MODEL=gpt-4o-mini
# The study check and transcription deadlines (a hanging model costs this).
export AI_SYNC_TIMEOUT_MS=1500 AI_TRANSCRIBE_TIMEOUT_MS=3000
# One synchronous model call at a time in the whole pool (3 workers): the
# rest answer without the model, so a slow model never holds every worker.
export AI_SYNC_SLOTS=1
export AI_RATE_PER_MINUTE=5 AI_DAILY_QUOTA=200
# easysks-jobs: 4 runners, quick retries, 3 attempts; a poll interval longer
# than any test, so grading that finishes proves the NOTIFY woke the runners.
export AI_JOBS_PARALLEL=4 AI_JOB_TIMEOUT_MS=3000 AI_JOB_BACKOFF_SECONDS=1 AI_JOB_MAX_ATTEMPTS=3 \
    AI_JOB_POLL_SECONDS=120

node "$EASYSKS_ROOT/tests/tools/openai-stub.mjs" --port 0 --port-file "$IT/openai.port" \
    --key "$OPENAI_API_KEY" >"$IT/log/openai-stub.log" 2>&1 &
echo "kill $!" >"$IT/openai.cleanup"
wait_for 10 "the OpenAI stub" test -s "$IT/openai.port" || return 1
OPENAI_STUB=http://127.0.0.1:$(cat "$IT/openai.port")
export OPENAI_STUB
export OPENAI_API_BASE=$OPENAI_STUB/v1
