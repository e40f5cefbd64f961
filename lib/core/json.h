/*
 * json.h - cJSON helpers: length-bounded parsing and typed getters that
 * answer with a client-facing error (400 invalid_json, 422 validation_error)
 * instead of reading a value of the wrong type.
 */
#ifndef EASYSKS_JSON_H
#define EASYSKS_JSON_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "core/err.h"

/* Parse exactly `len` bytes (need not be NUL-terminated); the whole input must
 * be one JSON value. Returns a tree the caller frees with cJSON_Delete, or
 * NULL with e = 400 invalid_json. */
cJSON *json_parse(const char *buf, size_t len, struct err *e);

/* Parse and require a JSON object (422 validation_error otherwise). */
cJSON *json_parse_object(const char *buf, size_t len, struct err *e);

/* Typed getters. A missing key gives `*out = def` when !required and 422
 * when required; a present key of the wrong type is always 422. The string
 * returned by json_get_string points into the tree. */
int json_get_string(const cJSON *obj, const char *key, int required, const char **out,
                    struct err *e);
int json_get_int(const cJSON *obj, const char *key, int required, long long min, long long max,
                 long long def, long long *out, struct err *e);
int json_get_bool(const cJSON *obj, const char *key, int required, int def, int *out,
                  struct err *e);

/* Serialise without whitespace; caller frees with free(). Aborts on OOM. */
char *json_print(const cJSON *item);

/* Add helpers that abort on out-of-memory instead of silently dropping a key. */
cJSON *json_add_object(cJSON *parent, const char *key);
cJSON *json_add_array(cJSON *parent, const char *key);
void json_add_string(cJSON *obj, const char *key, const char *value); /* NULL -> null */
void json_add_number(cJSON *obj, const char *key, double value);
void json_add_bool(cJSON *obj, const char *key, int value);
cJSON *json_new_object(void);

#endif
