/*
 * pgarr.h - PostgreSQL array literals ("{a,b,NULL}") for passing a batch of
 * values as one parameter of a prepared statement ($2::text[], then
 * unnest). Values are parameters, never SQL: quoting here only follows the
 * array literal syntax.
 */
#ifndef EASYSKS_PGARR_H
#define EASYSKS_PGARR_H

#include "core/arena.h"
#include "core/buf.h"

struct pgarr {
    struct buf b;
};

void pgarr_begin(struct pgarr *x);
/* Any text, quoted and escaped ("a \"b\"" -> "a \"b\""). */
void pgarr_text(struct pgarr *x, const char *s);
void pgarr_int(struct pgarr *x, long long v);
/* Exact: %.17g reads back as the same double. */
void pgarr_double(struct pgarr *x, double v);
void pgarr_bool(struct pgarr *x, int v);
void pgarr_null(struct pgarr *x);
/* The literal, copied into `a`; the builder is released. */
const char *pgarr_end(struct pgarr *x, struct arena *a);

#endif
