/*
 * GET /api/dashboard/summary - the reference's DashboardSummaryOut, per
 * learner and in the learner's time zone, plus exam_readiness: for each of
 * the 15 official sheets the expected points and the exact probability of
 * reaching 39 of 60 on the exam date (docs/api.md explains the model).
 */
#include "api/api.h"
#include "api/render.h"
#include "http/app.h"
#include "sks/order.h"
#include "sks/study.h"

/* The pass plan (docs/api.md "Pass plan"). */
static void render_plan(struct buf *b, const struct catalogue *cat, const struct study_dashboard *d)
{
    buf_puts(b, ",\"plan\":{\"variant\":");
    buf_json_string(b, order_variant_name(d->variant));
    buf_puts(b, ",\"exam_date\":");
    if (d->has_exam_date) {
        buf_json_string(b, d->exam_date);
        buf_printf(b, ",\"days_left\":%d,\"deadline\":", d->days_left);
        buf_json_string(b, d->deadline);
    } else {
        buf_puts(b, "null,\"days_left\":null,\"deadline\":null");
    }
    buf_printf(b, ",\"target_cards\":%d,\"target_met\":%d,\"new_per_day_needed\":", d->target_cards,
               d->target_met);
    if (d->pace.needed_per_day >= 0)
        buf_printf(b, "%d", d->pace.needed_per_day);
    else
        buf_puts(b, "null");
    buf_printf(b,
               ",\"new_cards_per_day\":%d,\"suggested_new_cards_per_day\":", d->new_cards_per_day);
    if (d->pace.suggested_new_per_day > 0)
        buf_printf(b, "%d", d->pace.suggested_new_per_day);
    else
        buf_puts(b, "null");
    buf_printf(b, ",\"today\":{\"new\":%d,\"reviews\":%d,\"total\":%d},\"on_track\":%s",
               d->pace.today_new, d->pace.today_reviews, d->pace.today_new + d->pace.today_reviews,
               d->pace.on_track < 0 ? "null"
               : d->pace.on_track   ? "true"
                                    : "false");
    buf_puts(b, ",\"weakest_sheet\":");
    if (d->weakest_sheet > 0) {
        buf_printf(b, "{\"sheet_number\":%d,\"expected_points\":", d->weakest_sheet);
        buf_json_number(b, d->sheets[d->weakest_sheet].expected_points);
        buf_puts(b, ",\"pass_probability\":");
        buf_json_number(b, d->sheets[d->weakest_sheet].pass_probability);
        buf_putc(b, '}');
    } else {
        buf_puts(b, "null");
    }
    buf_puts(b, ",\"focus_cards\":[");
    for (int i = 0; i < d->nfocus; i++) {
        buf_puts(b, i > 0 ? ",{\"card_id\":" : "{\"card_id\":");
        buf_json_string(b, cat->cards[d->focus[i]].card_id);
        buf_puts(b, ",\"gain\":");
        buf_json_number(b, d->focus_gain[i]);
        buf_putc(b, '}');
    }
    buf_puts(b, "]}");
}

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
    /* What the sheets above were scored over (docs/api.md): the official
     * sheets ask Seemannschaft I; a motor learner's seamanship questions
     * are 9 of Seemannschaft II, at that topic's mean chance. */
    buf_puts(b, "],\"variant\":");
    buf_json_string(b, order_variant_name(d.variant));
    buf_puts(b, ",\"seamanship\":{\"topic\":");
    buf_json_string(b, d.variant == ORDER_MOTOR ? "seemannschaft_ii" : "seemannschaft_i");
    buf_puts(b, ",\"source\":");
    buf_json_string(b, d.variant == ORDER_MOTOR ? "topic_mean" : "sheet");
    buf_puts(b, ",\"mean_probability\":");
    buf_json_number(b, d.seamanship_mean_p);
    buf_puts(b, "}}");
    render_plan(b, cat, &d);
    buf_putc(b, '}');
    return render_send(r, 200);
}
