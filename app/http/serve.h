/*
 * serve.h - what the pool's worker calls, and all it knows of the
 * application: build the per-process state once, serve each accepted
 * FastCGI request, clean up after it, tear down at exit. Routes, handlers
 * and their services stay behind this line.
 */
#ifndef EASYSKS_SERVE_H
#define EASYSKS_SERVE_H

#include <fcgiapp.h>

#include "infra/config.h"

struct app;
struct scoreboard;

/* Build the worker's application state: database connection (attempted
 * now, retried on demand), token verifier with its JWKS (fetched now,
 * retried on demand), outbound clients. Never returns NULL; a dependency
 * that is down makes requests fail with 503, not the worker. `cfg` and
 * `board` must outlive the app; `slot` is the worker's scoreboard slot
 * (the synchronous AI calls are counted there). */
struct app *app_new(const struct config *cfg, struct scoreboard *board, int slot);

/* Serve one accepted request: exactly one response is written to `fr`. */
void app_serve(struct app *app, FCGX_Request *fr);

/* After FCGX_Finish_r(): roll back anything a request left open, release
 * its memory. The response has already gone to nginx. */
void app_after_request(struct app *app);

/* NULL is a no-op. */
void app_free(struct app *app);

#endif
