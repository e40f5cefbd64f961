/*
 * GET /api/dashboard/summary - the reference's DashboardSummaryOut, per
 * learner and in the learner's time zone, plus exam_readiness: for each of
 * the 15 official sheets the expected points and the exact probability of
 * reaching 39 of 60 on the exam date (docs/api.md explains the model).
 */
#include "api/api.h"
#include "api/render.h"
#include "http/app.h"
#include "sks/study.h"

int api_dashboard(struct request *r)
{
    struct err e = {0};
    const struct catalogue *cat = app_catalogue(r->app, &e);
    struct study_dashboard d;
    struct buf *b = &r->app->out;

    if (cat == NULL || study_dashboard_load(r->app->db, cat, r->user.id, &d, &e) < 0) {
        request_send_error(r, &e, NULL);
        return r->status;
    }
    buf_printf(b, "{\"due_now\":%d,\"reviewed_today\":%d,\"streak_days\":%d,\"due_by_topic\":{",
               d.due_now, d.reviewed_today, d.streak_days);
    for (int t = 0; t < CATALOGUE_TOPICS; t++) {
        if (t > 0)
            buf_putc(b, ',');
        buf_json_string(b, catalogue_topics[t].value);
        buf_printf(b, ":%d", d.due_by_topic[t]);
    }
    buf_puts(b, "},\"recommended_topic\":");
    if (d.recommended_topic >= 0)
        buf_json_string(b, catalogue_topics[d.recommended_topic].value);
    else
        buf_puts(b, "null");
    buf_printf(b,
               ",\"available_cards\":%d,\"due_scheduled\":%d,\"new_available\":%d,"
               "\"exam_readiness\":{\"exam_date\":",
               d.available_cards, d.due_scheduled, d.new_available);
    buf_json_string(b, d.exam_date);
    buf_puts(b, ",\"computed_for\":");
    render_time(b, d.readiness_at_us);
    buf_printf(b, ",\"pass_points\":%d,\"max_points\":%d,\"expected_points\":",
               READINESS_SKS_PASS_POINTS, CATALOGUE_SHEET_QUESTIONS * 2);
    buf_json_number(b, d.mean_expected_points);
    buf_puts(b, ",\"pass_probability\":");
    buf_json_number(b, d.mean_pass_probability);
    buf_puts(b, ",\"sheets\":[");
    for (int n = 1; n <= CATALOGUE_EXAM_SHEETS; n++) {
        buf_printf(b, "%s{\"sheet_number\":%d,\"expected_points\":", n > 1 ? "," : "", n);
        buf_json_number(b, d.sheets[n].expected_points);
        buf_puts(b, ",\"pass_probability\":");
        buf_json_number(b, d.sheets[n].pass_probability);
        buf_putc(b, '}');
    }
    buf_puts(b, "]}}");
    return render_send(r, 200);
}
