/*
 * testdata.h - read a file of the shared SKS data for the data-driven tests
 * (header-only). The directory is $EASYSKS_SKS_DATA, else ../shared/data/sks
 * relative to the repository root (where `make unit` runs the tests).
 */
#ifndef EASYSKS_TESTDATA_H
#define EASYSKS_TESTDATA_H

#include <stdio.h>
#include <stdlib.h>

/* The whole file NUL-terminated (caller frees), or NULL if it cannot be read;
 * `path` receives the path tried. */
static char *testdata_read(const char *name, char *path, size_t pathsize)
{
    const char *dir = getenv("EASYSKS_SKS_DATA");
    FILE *f;
    char *buf = NULL;
    long len;

    snprintf(path, pathsize, "%s/%s", dir != NULL && *dir ? dir : "../shared/data/sks", name);
    f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)len + 1)) != NULL) {
        if (fread(buf, 1, (size_t)len, f) == (size_t)len) {
            buf[len] = '\0';
        } else {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

#endif
