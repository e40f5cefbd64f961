/*
 * file.h - read a whole file, bounded.
 */
#ifndef EASYSKS_FILE_H
#define EASYSKS_FILE_H

#include <stddef.h>

#include "core/err.h"

/* Read `path` (at most `max` bytes) into a NUL-terminated malloc()ed buffer
 * the caller frees; *len gets the byte count (the NUL not counted). NULL
 * with e = 500 file_unreadable (cannot open or read) or 500 file_too_large;
 * the message names the path. */
char *file_read(const char *path, size_t max, size_t *len, struct err *e);

#endif
