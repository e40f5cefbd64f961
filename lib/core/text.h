/*
 * text.h - UTF-8 text helpers for the graders and the catalogue loader:
 * German-aware lower-casing, the graders' word tokeniser, Unicode whitespace
 * normalisation and the cleanup of scraped catalogue text.
 *
 * Every function takes a NUL-terminated string of any length and never reads
 * past its terminator. Invalid UTF-8 (stray continuation bytes, truncated,
 * overlong or surrogate sequences, values above U+10FFFF) is decoded one bad
 * byte at a time as U+FFFD, so strings returned here are always valid UTF-8
 * and the tokeniser treats bad bytes as separators. Returned strings and
 * arrays live in the caller's arena; NULL input is treated as "".
 */
#ifndef EASYSKS_TEXT_H
#define EASYSKS_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"

/* Decode the code point at s. Returns the bytes it takes (1..4), or 0 at the
 * terminator (then *cp = 0). An invalid byte gives *cp = U+FFFD and 1. */
size_t text_utf8_decode(const char *s, uint32_t *cp);

/* 1 if s is valid UTF-8 (what every function here returns), else 0. */
int text_utf8_valid(const char *s);

/* Length in code points (an invalid byte counts as one). */
size_t text_utf8_length(const char *s);

/* Unicode whitespace as Python's str.isspace(): ASCII \t-\r and space,
 * U+001C-U+001F, U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029,
 * U+202F, U+205F, U+3000. */
int text_is_space(uint32_t cp);

/* 1 if s is empty or whitespace only. */
int text_is_blank(const char *s);

/* Lower-case as Python's str.lower() does for Latin text: ASCII, Latin-1
 * (Ä Ö Ü -> ä ö ü ...), Latin Extended-A, capital sharp s U+1E9E -> ß, Kelvin
 * sign -> k, and İ -> i + U+0307. Other scripts are copied unchanged (they
 * never form grader tokens). */
char *text_lower(struct arena *a, const char *s);

/* Copy without leading and trailing whitespace. */
char *text_trim(struct arena *a, const char *s);

/* Every run of whitespace (text_is_space: tabs, newlines, U+00A0, the
 * U+2000 spaces, U+202F, U+3000, ...) becomes one ASCII space; trimmed. */
char *text_normalize_space(struct arena *a, const char *s);

/* The first max_cp code points of s. */
char *text_prefix(struct arena *a, const char *s, size_t max_cp);

struct text_token {
    const char *s; /* lower-case, NUL-terminated */
    size_t len;    /* bytes */
    size_t ncp;    /* code points: "prüfen" is 6, not 7 */
};

/* The graders' words: lower-case s (text_lower), then every maximal run of
 * [a-z0-9äöüß] is a token and everything else separates (é, °, -, digits
 * other than ASCII 0-9, bad bytes). Sets *out to an arena array (NULL when
 * there are none) and returns the number of tokens. */
size_t text_tokenize(struct arena *a, const char *s, struct text_token **out);

/* Clean one question or answer text of the scraped catalogue. Removes the
 * inline "[image: …]" markers (the figures are delivered separately) and the
 * whitespace they leave, and repairs the HTML-scraping spacing artefacts:
 *
 *  - layout: CR/CRLF -> LF; runs of spaces and tabs -> one space; no spaces
 *    at line ends or starts; at most one blank line; trimmed. Other spaces
 *    (U+00A0 in "1 000 m") are kept: they are meant.
 *  - no space before , ; ! ? ) and . (not "...", not ".5") and : (not before
 *    a number: "24 : 12 = 2" is a division): "200 m ." -> "200 m.".
 *  - no space after "(": "( NfS )" -> "(NfS)".
 *  - no space inside paired ASCII quotes: "\" Admiralty List \"" (only when
 *    the text has an even number of them).
 *  - "GPS -Navigation" -> "GPS-Navigation" and "Bord- WC" -> "Bord-WC": a
 *    hyphen next to a space is joined when the next word starts upper-case
 *    and the word before has a capital or digit. German suspended hyphens
 *    ("Stromrichtung und -stärke", "Nord- und Ostsee") and spaced dashes
 *    ("Kegel - Spitze unten -", "WT - H") stay.
 *  - the split subscript "CO 2" (and the doubled "CO2 2") -> "CO2".
 *
 * Idempotent: the rules are applied until nothing changes, so cleaning a
 * cleaned text returns it unchanged. Meant for the trusted catalogue; cost is
 * linear except for deliberately nested markers (one pass per level). */
char *text_clean_catalogue(struct arena *a, const char *s);

/* 1 when s is 1..max bytes of printable ASCII without space (0x21..0x7e):
 * what a client's opaque token may be (an Idempotency-Key). NULL: 0. */
int text_token_ok(const char *s, size_t max);

#endif
