#include "api/api.h"
#include "sks/exams.h"

/* Paths are relative to the /api mount (nginx sends PATH_INFO), except the
 * internal ones nginx maps explicitly (/_auth, /_status). */
const struct route api_routes[] = {
    {"GET", "/health", api_health, ROUTE_PUBLIC, 0, 0},
    {"GET", "/client-config", api_client_config, ROUTE_PUBLIC, 0, 0},
    {"GET", "/me", api_me, ROUTE_PROFILE, 0, 0},
    /* study (the reference contract) */
    {"GET", "/topics", api_topics, 0, 0, 0},
    {"GET", "/cards/{card_id}", api_card, 0, 0, 0},
    {"GET", "/study/due", api_study_due, 0, 0, 0},
    {"GET", "/study/practice", api_study_practice, 0, 0, 0},
    {"POST", "/study/review", api_study_review, 0, 4096, 0},
    {"POST", "/study/reviews", api_study_reviews, 0, 128 * 1024, 0},
    {"POST", "/study/evaluate-answer", api_study_evaluate, 0, 64 * 1024, 0},
    {"GET", "/dashboard/summary", api_dashboard, 0, 0, 0},
    {"GET", "/settings", api_settings_get, 0, 0, 0},
    {"PUT", "/settings", api_settings_put, 0, 4096, 0},
    /* exam simulation: question sheets (the reference contract; starting needs premium but for
       sheet 1) */
    {"GET", "/exams", api_exam_templates, 0, 0, EXAM_SHEET},
    {"GET", "/exam-sessions", api_exam_history, 0, 0, EXAM_SHEET},
    {"POST", "/exam-sessions", api_exam_start, ROUTE_PROFILE, 4096, EXAM_SHEET},
    {"GET", "/exam-sessions/{session_id}", api_exam_get, 0, 0, EXAM_SHEET},
    {"DELETE", "/exam-sessions/{session_id}", api_exam_abandon, 0, 0, EXAM_SHEET},
    {"PUT", "/exam-sessions/{session_id}/answers/{card_id}", api_exam_save, 0, 64 * 1024,
     EXAM_SHEET},
    {"POST", "/exam-sessions/{session_id}/submit", api_exam_submit, ROUTE_PROFILE, 4096,
     EXAM_SHEET},
    {"GET", "/exam-sessions/{session_id}/result", api_exam_result, 0, 0, EXAM_SHEET},
    /* chart tasks */
    {"GET", "/navigation-exams", api_exam_templates, 0, 0, EXAM_CHART},
    {"GET", "/navigation-sessions", api_exam_history, 0, 0, EXAM_CHART},
    {"POST", "/navigation-sessions", api_exam_start, ROUTE_PROFILE, 4096, EXAM_CHART},
    {"GET", "/navigation-sessions/{session_id}", api_exam_get, 0, 0, EXAM_CHART},
    {"DELETE", "/navigation-sessions/{session_id}", api_exam_abandon, 0, 0, EXAM_CHART},
    {"PUT", "/navigation-sessions/{session_id}/answers/{task_id}", api_exam_save, 0, 64 * 1024,
     EXAM_CHART},
    {"POST", "/navigation-sessions/{session_id}/submit", api_exam_submit, ROUTE_PROFILE, 4096,
     EXAM_CHART},
    {"GET", "/navigation-sessions/{session_id}/result", api_exam_result, 0, 0, EXAM_CHART},
    /* self-assessment of a result (docs/api.md) */
    {"PATCH", "/exam-sessions/{session_id}/results/{card_id}", api_exam_self_assess, 0, 1024,
     EXAM_SHEET},
    {"PATCH", "/navigation-sessions/{session_id}/results/{task_id}/sub-questions/{number}",
     api_exam_self_assess, 0, 1024, EXAM_CHART},
    /* nginx auth_request target; authenticates itself, refuses non-subrequests */
    {"GET", "/_auth", api_auth_check, ROUTE_PUBLIC, 0, 0},
    /* operators' scoreboard; only nginx's loopback status server reaches it */
    {"GET", "/_status", api_status, ROUTE_PUBLIC, 0, 0},
    /* billing (docs/billing.md); Stripe's webhook is mapped by nginx's
     * /webhooks/stripe location (no /api prefix) and signed, not authenticated */
    {"POST", "/billing/checkout", api_billing_checkout, ROUTE_PROFILE, 1024, 0},
    {"POST", "/billing/portal", api_billing_portal, 0, 1024, 0},
    {"POST", "/webhooks/stripe", api_stripe_webhook, ROUTE_PUBLIC | ROUTE_RAW_BODY, 256 * 1024, 0},
    /* spoken answers (docs/ai.md); nginx's location for it has the same
     * 10 MiB cap (client_max_body_size 10m) */
    {"POST", "/ai/transcribe-audio", api_ai_transcribe, ROUTE_PREMIUM | ROUTE_RAW_BODY,
     AI_TRANSCRIBE_MAX_BODY, 0},
    {NULL, NULL, NULL, 0, 0, 0},
};
