#include "core/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *file_read(const char *path, size_t max, size_t *len, struct err *e)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;
    int failed;

    if (f == NULL) {
        err_set(e, 500, "file_unreadable", "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    buf = malloc(max + 1);
    if (buf == NULL)
        abort();
    n = fread(buf, 1, max + 1, f);
    failed = ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        err_set(e, 500, "file_unreadable", "cannot read %s", path);
        return NULL;
    }
    if (n > max) {
        free(buf);
        err_set(e, 500, "file_too_large", "%s is larger than %zu bytes", path, max);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}
