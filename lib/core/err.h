/*
 * err.h - the one error shape used across lib/ and app/.
 *
 * Functions return 0 on success and -1 on failure; on failure they fill a
 * caller-owned `struct err` with the HTTP status the failure maps to, a
 * stable machine-readable code (a string literal, never freed) and a short
 * human message that is safe to show a client (no SQL, no secrets).
 */
#ifndef EASYSKS_ERR_H
#define EASYSKS_ERR_H

struct err {
    int status;       /* HTTP status this failure maps to (e.g. 401, 503) */
    const char *code; /* stable error code, static storage */
    char msg[256];    /* client-safe detail */
};

/* Fill `e` (may be NULL: then nothing happens). Always returns -1 so callers
 * can write `return err_set(e, 400, "bad_request", "...")`. */
int err_set(struct err *e, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Reset to "no error" (status 0, code NULL, empty message). */
void err_clear(struct err *e);

#endif
