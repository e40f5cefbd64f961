/*
 * test_json.c - lib/core/json: bounded parsing, trailing data, typed getters
 * with client-facing errors.
 */
#include <string.h>

#include "core/json.h"
#include "tap.h"

int main(void)
{
    struct err e;
    cJSON *o;
    const char *s;
    long long n;
    int b;
    char buf[] = "{\"a\":\"x\",\"n\":3,\"f\":2.5,\"b\":true,\"z\":null}GARBAGE";

    /* Only the first bytes are the document: parsing must not read past len. */
    o = json_parse(buf, strlen(buf) - 7, &e);
    ok(o != NULL, "parses exactly len bytes of an unterminated buffer");
    ok(json_get_string(o, "a", 1, &s, &e) == 0 && strcmp(s, "x") == 0, "string getter");
    ok(json_get_int(o, "n", 1, 0, 10, 0, &n, &e) == 0 && n == 3, "int getter");
    ok(json_get_int(o, "f", 1, 0, 10, 0, &n, &e) == -1 && e.status == 422 &&
           strcmp(e.code, "validation_error") == 0,
       "real number refused as int");
    ok(json_get_int(o, "n", 1, 5, 10, 0, &n, &e) == -1 && strstr(e.msg, "from 5 to 10") != NULL,
       "range checked");
    ok(json_get_string(o, "n", 1, &s, &e) == -1 && e.status == 422, "wrong type refused");
    ok(json_get_bool(o, "b", 1, 0, &b, &e) == 0 && b == 1, "bool getter");
    ok(json_get_string(o, "missing", 1, &s, &e) == -1 && strstr(e.msg, "'missing' is required"),
       "required field missing");
    ok(json_get_string(o, "z", 0, &s, &e) == 0 && s == NULL, "null counts as absent");
    ok(json_get_int(o, "missing", 0, 0, 9, 7, &n, &e) == 0 && n == 7, "default for optional");
    cJSON_Delete(o);

    ok(json_parse(buf, strlen(buf), &e) == NULL && e.status == 400 &&
           strcmp(e.code, "invalid_json") == 0,
       "trailing data refused");
    ok(json_parse("{\"a\":", 5, &e) == NULL && e.status == 400, "truncated JSON refused");
    ok(json_parse("", 0, &e) == NULL && e.status == 400, "empty body refused");
    ok(json_parse_object("[1,2]", 5, &e) == NULL && e.status == 422, "array where object needed");
    o = json_parse(" {} \n", 5, &e);
    ok(o != NULL, "surrounding whitespace accepted");
    cJSON_Delete(o);
    return tap_done();
}
