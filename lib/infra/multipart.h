/*
 * multipart.h - a strict, bounded multipart/form-data parser (RFC 7578 on
 * RFC 2046) for uploads such as spoken answers, the audio sniffer that
 * checks what an upload really is, and the transcription language check.
 *
 * The parser reads a complete body held in memory (the caller caps its size
 * before reading it) and copies nothing of the part contents: each part
 * points into the body. What it accepts, and deliberately nothing more:
 *  - Content-Type "multipart/form-data" (any case) with a boundary
 *    parameter, quoted or not, of 1..70 characters from RFC 2046's bchars
 *    (not ending in a space); other parameters are ignored.
 *  - The body starts with "--boundary" (no preamble) and every line break
 *    in the framing is CRLF: bare-LF bodies are refused, so the end of a
 *    part's data is never ambiguous. After a delimiter only spaces or tabs
 *    may come before the CRLF; after the closing "--boundary--" at most one
 *    CRLF (no epilogue). A body that ends before the closing delimiter is
 *    refused (multipart_truncated).
 *  - The boundary must not occur in a part's data other than as a complete
 *    delimiter line: "\r\n--boundary" followed by anything else is refused.
 *  - Per part at most MULTIPART_MAX_HEADERS header lines of at most
 *    MULTIPART_MAX_HEADER_LINE bytes each; no folded lines, no control
 *    characters but tab. Exactly one Content-Disposition, of type form-data,
 *    with a non-empty name (a part without one is refused, RFC 7578 §4.2);
 *    an optional filename; at most one Content-Type. Parameter values are
 *    tokens or quoted strings (backslash escapes as curl writes them;
 *    browsers percent-encode instead, and that is kept as it is); other
 *    headers and parameters (filename*) are ignored.
 *  - At most MULTIPART_MAX_PARTS parts.
 *
 * Errors: 415 multipart_not_form_data, 400 multipart_no_boundary, 400
 * multipart_truncated, 413 multipart_too_many_parts, 431
 * multipart_header_too_long, and 400 multipart_invalid for everything else.
 */
#ifndef EASYSKS_MULTIPART_H
#define EASYSKS_MULTIPART_H

#include <stddef.h>

#include "core/arena.h"
#include "core/err.h"

#define MULTIPART_MAX_PARTS 16
#define MULTIPART_MAX_HEADERS 8
#define MULTIPART_MAX_HEADER_LINE 1024 /* bytes, CRLF not counted */
#define MULTIPART_MAX_BOUNDARY 70

struct multipart_part {
    const char *name;          /* Content-Disposition name, never NULL or "" */
    const char *filename;      /* Content-Disposition filename, NULL when absent ("" is
                                  possible: a file input with no file chosen) */
    const char *content_type;  /* the part's Content-Type value as sent (trimmed), NULL
                                  when absent */
    const unsigned char *data; /* the part's bytes, inside the body; not NUL-terminated */
    size_t len;
};

/* The boundary parameter of a Content-Type header value (NUL-terminated,
 * in the arena). Returns 0, or -1 with e set: 415 multipart_not_form_data
 * (NULL or another media type), 400 multipart_no_boundary (missing, empty,
 * too long or with characters outside bchars). */
int multipart_boundary(struct arena *a, const char *content_type, const char **boundary,
                       struct err *e);

/* Parse `len` bytes of `body` (NULL only with len 0) sent with the given
 * Content-Type header value. On 0 *parts is an arena array of *nparts parts
 * in body order (NULL when there are none; the strings are arena copies,
 * the data points into `body`, which must outlive them). On -1 e is set (see
 * above) and *parts = NULL, *nparts = 0. */
int multipart_parse(struct arena *a, const char *content_type, const void *body, size_t len,
                    struct multipart_part **parts, int *nparts, struct err *e);

/* The part with this name (multipart_parse refuses a name twice), or NULL. */
const struct multipart_part *multipart_find(const struct multipart_part *parts, int nparts,
                                            const char *name);

/* What the bytes are, by their magic numbers: "audio/webm" (EBML 1A 45 DF
 * A3: WebM and Matroska alike), "audio/ogg" ("OggS"), "audio/wav" ("RIFF",
 * any size, "WAVE"), "audio/mpeg" ("ID3", or an MPEG audio frame header:
 * 11 sync bits, a valid version, layer, bitrate and sample rate), "audio/mp4"
 * (an "ftyp" box at offset 4, with a size of at least 8); NULL for anything
 * else. Static strings; reads at most the first 12 bytes. */
const char *multipart_sniff_audio(const void *data, size_t len);

/* 1 if `lang` is one of the transcription languages we accept (ISO 639-1,
 * exactly two lower-case letters: de en fr nl da pl es it sv no), else 0.
 * The caller trims and lower-cases a client's value first; NULL is 0. */
int multipart_language_ok(const char *lang);

#endif
