#include "core/json.h"

#include <math.h>
#include <stdlib.h>

static void *check(void *p)
{
    if (p == NULL)
        abort();
    return p;
}

cJSON *json_parse(const char *buf, size_t len, struct err *e)
{
    const char *end = NULL;
    cJSON *root;

    if (buf == NULL || len == 0) {
        err_set(e, 400, "invalid_json", "request body must be JSON");
        return NULL;
    }
    root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    if (root == NULL) {
        err_set(e, 400, "invalid_json", "request body is not valid JSON");
        return NULL;
    }
    /* Only whitespace may follow the value. */
    for (; end != NULL && end < buf + len; end++) {
        if (*end != ' ' && *end != '\n' && *end != '\r' && *end != '\t') {
            cJSON_Delete(root);
            err_set(e, 400, "invalid_json", "request body has trailing data after the JSON value");
            return NULL;
        }
    }
    return root;
}

cJSON *json_parse_object(const char *buf, size_t len, struct err *e)
{
    cJSON *root = json_parse(buf, len, e);
    if (root != NULL && !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        err_set(e, 422, "validation_error", "request body must be a JSON object");
        return NULL;
    }
    return root;
}

static const cJSON *lookup(const cJSON *obj, const char *key, int required, struct err *e,
                           int *missing)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    *missing = item == NULL || cJSON_IsNull(item);
    if (*missing && required)
        err_set(e, 422, "validation_error", "field '%s' is required", key);
    return item;
}

int json_get_string(const cJSON *obj, const char *key, int required, const char **out,
                    struct err *e)
{
    int missing;
    const cJSON *item = lookup(obj, key, required, e, &missing);

    *out = NULL;
    if (missing)
        return required ? -1 : 0;
    if (!cJSON_IsString(item))
        return err_set(e, 422, "validation_error", "field '%s' must be a string", key);
    *out = item->valuestring;
    return 0;
}

int json_get_int(const cJSON *obj, const char *key, int required, long long min, long long max,
                 long long def, long long *out, struct err *e)
{
    int missing;
    const cJSON *item = lookup(obj, key, required, e, &missing);
    double d;

    *out = def;
    if (missing)
        return required ? -1 : 0;
    if (!cJSON_IsNumber(item))
        return err_set(e, 422, "validation_error", "field '%s' must be an integer", key);
    d = item->valuedouble;
    if (!isfinite(d) || d != floor(d) || d < (double)min || d > (double)max)
        return err_set(e, 422, "validation_error",
                       "field '%s' must be an integer from %lld to %lld", key, min, max);
    *out = (long long)d;
    return 0;
}

int json_get_bool(const cJSON *obj, const char *key, int required, int def, int *out, struct err *e)
{
    int missing;
    const cJSON *item = lookup(obj, key, required, e, &missing);

    *out = def;
    if (missing)
        return required ? -1 : 0;
    if (!cJSON_IsBool(item))
        return err_set(e, 422, "validation_error", "field '%s' must be a boolean", key);
    *out = cJSON_IsTrue(item);
    return 0;
}

char *json_print(const cJSON *item)
{
    return check(cJSON_PrintUnformatted(item));
}

cJSON *json_new_object(void)
{
    return check(cJSON_CreateObject());
}

cJSON *json_add_object(cJSON *parent, const char *key)
{
    return check(cJSON_AddObjectToObject(parent, key));
}

cJSON *json_add_array(cJSON *parent, const char *key)
{
    return check(cJSON_AddArrayToObject(parent, key));
}

void json_add_string(cJSON *obj, const char *key, const char *value)
{
    if (value == NULL)
        check(cJSON_AddNullToObject(obj, key));
    else
        check(cJSON_AddStringToObject(obj, key, value));
}

void json_add_number(cJSON *obj, const char *key, double value)
{
    check(cJSON_AddNumberToObject(obj, key, value));
}

void json_add_bool(cJSON *obj, const char *key, int value)
{
    check(cJSON_AddBoolToObject(obj, key, value));
}
