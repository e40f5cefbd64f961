/*
 * api.h - the route table and the handlers behind it, one file per
 * resource. A handler parses its input, calls lib/, and sends exactly one
 * response; it returns the status it sent.
 */
#ifndef EASYSKS_API_H
#define EASYSKS_API_H

#include "http/router.h"

extern const struct route api_routes[];

/* The spoken-answer upload's cap: equal to nginx's client_max_body_size 10m
 * on its location (nginx/nginx.conf.tmpl), so whichever sees a larger body
 * first answers the same 413. */
#define AI_TRANSCRIBE_MAX_BODY ((size_t)10 * 1024 * 1024)

/* health.c */
int api_health(struct request *r);
/* client_config.c */
int api_client_config(struct request *r);
/* me.c */
int api_me(struct request *r);
/* auth_check.c */
int api_auth_check(struct request *r);
/* status.c */
int api_status(struct request *r);
/* study.c */
int api_topics(struct request *r);
int api_card(struct request *r);
int api_study_due(struct request *r);
int api_study_practice(struct request *r);
int api_study_review(struct request *r);
int api_study_reviews(struct request *r);
int api_study_evaluate(struct request *r);
/* dashboard.c */
int api_dashboard(struct request *r);
/* settings.c */
int api_settings_get(struct request *r);
int api_settings_put(struct request *r);
/* exams.c: question sheets and chart tasks alike, the kind from the route
 * (r->route->arg: EXAM_SHEET or EXAM_CHART) */
int api_exam_templates(struct request *r);
int api_exam_history(struct request *r);
int api_exam_start(struct request *r);
int api_exam_get(struct request *r);
int api_exam_save(struct request *r);
int api_exam_submit(struct request *r);
int api_exam_result(struct request *r);
int api_exam_abandon(struct request *r);
int api_exam_self_assess(struct request *r);
/* billing.c */
int api_billing_checkout(struct request *r);
int api_billing_portal(struct request *r);
/* stripe_webhook.c */
int api_stripe_webhook(struct request *r);
/* ai.c: the synchronous AI paths */
int api_ai_transcribe(struct request *r);

/* Who graded a study check, for the response. */
struct api_ai_info {
    const char *grader;   /* "heuristic" or "ai" */
    const char *model;    /* the model that graded, NULL for the heuristic */
    const char *fallback; /* why the model did not grade although asked, or NULL */
};

struct cat_card;
struct grade_study_result;
/* Grade a study check with the model: on success g's verdict, points,
 * rating, summary and mistakes are the model's; on any failure of the model
 * g stays the heuristic's and info->fallback says why. -1 only after
 * answering 403 premium_required or 429 ai_quota_exceeded/ai_rate_limited
 * (or the database's error). */
int api_ai_study_check(struct request *r, const struct cat_card *card, const char *answer,
                       struct grade_study_result *g, struct api_ai_info *info);

#endif
