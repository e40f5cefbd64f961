/*
 * buf.h - a growable byte buffer for text we assemble (Prometheus metrics,
 * JSON responses, form bodies).
 *
 * The buffer keeps its allocation across buf_reset(), so a worker that
 * reuses one buffer for every response stops allocating once it has seen
 * its largest response. Appends never truncate: the buffer grows (doubling)
 * and out-of-memory aborts the process, as everywhere in the pool (the
 * master respawns the worker). The contents are always NUL-terminated.
 */
#ifndef EASYSKS_BUF_H
#define EASYSKS_BUF_H

#include <stddef.h>

struct buf {
    char *data; /* NUL-terminated; NULL until the first append */
    size_t len; /* bytes used, not counting the NUL */
    size_t cap; /* bytes allocated */
};

/* Caller storage; a zeroed struct buf is an empty buffer too. */
void buf_init(struct buf *b);
/* Free the allocation; `b` is empty again afterwards. */
void buf_cleanup(struct buf *b);
/* Empty the buffer, keeping the allocation. */
void buf_reset(struct buf *b);

/* Make room for `extra` more bytes (plus the NUL). */
void buf_reserve(struct buf *b, size_t extra);

void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append `s` as a JSON string literal, quotes included. Control characters
 * are escaped; other bytes are copied as they are (the caller's text is
 * UTF-8). */
void buf_json_string(struct buf *b, const char *s);

/* Append a JSON number: the shortest of %.15g / %.17g that reads back as
 * the same double (as cJSON prints), null for NaN and infinities. */
void buf_json_number(struct buf *b, double v);

/* The contents as a string ("" for an empty buffer, never NULL). */
const char *buf_str(const struct buf *b);

#endif
