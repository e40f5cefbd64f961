/*
 * render.h - JSON the study, exam and dashboard handlers share, written
 * straight into the worker's reused response buffer (app->out).
 */
#ifndef EASYSKS_RENDER_H
#define EASYSKS_RENDER_H

#include "core/buf.h"
#include "sks/fsrs.h"
#include "http/request.h"
#include "sks/study.h"

/* A timestamp as the reference writes it ("…+00:00"), quoted. */
void render_time(struct buf *b, long long us);

/* SchedulingInfoOut. */
void render_scheduling(struct buf *b, const struct fsrs_card *c);

/* StudyCardOut: {"card": CardOut, "scheduling_info": ...}. */
void render_study_card(struct buf *b, const struct study_card *s);

/* A JSON array of strings. */
void render_strings(struct buf *b, const char *const *items, int n);

/* Send app->out as the 200 (or other) JSON response. */
int render_send(struct request *r, int status);

#endif
