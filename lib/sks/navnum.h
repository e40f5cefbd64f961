/*
 * navnum.h - the numbers of a chart task (Kartenaufgabe), as learners and
 * the official solutions write them in German, and their comparison within
 * the tolerance a solution states. Pure C, no allocation, no locale.
 *
 * Notations read (docs/grading.md lists them with examples):
 *   angles     087°, 87 Grad, - 7°, ± 0° (a sign may be spaced from the digits)
 *   distances  9,7 sm (decimal comma or point)     speeds   2,3 kn
 *   heights    3,2 m                               durations 116 min, 1 h 56 min, 6 h
 *   clock      08:53 (minutes since midnight)
 *   positions  54°04,3'N 008°20,1'E, 54° 03,2' N, 8°20,1' O (Ost) - a latitude
 *              followed later by a longitude makes one position
 *   bare numbers (no unit), which compare with any quantity but a clock time
 *              or a position.
 * Dates (12.04.2013) are skipped.
 *
 * A key answer ("KaK = 286° [± 1°]") is valued by what follows its last "="
 * before the bracket (all quantities there), or, without "=", by its last
 * quantity; a position anywhere before the bracket wins. The bracket gives
 * the tolerance per value; without one ("[Keine Toleranz]", or none) the
 * answer must equal the key after rounding commercially to the key's
 * decimals (whole degrees for courses). Angles without a sign compare
 * around the circle (359° is 2° from 001°); a signed key (BS = - 7°) needs
 * the sign.
 */
#ifndef EASYSKS_NAVNUM_H
#define EASYSKS_NAVNUM_H

enum navnum_kind {
    NAVNUM_NUMBER = 0, /* no unit */
    NAVNUM_ANGLE,      /* degrees */
    NAVNUM_DIST,       /* sea miles */
    NAVNUM_SPEED,      /* knots */
    NAVNUM_HEIGHT,     /* metres */
    NAVNUM_DURATION,   /* minutes */
    NAVNUM_CLOCK,      /* minutes since midnight */
    NAVNUM_POSITION,   /* v = latitude, v2 = longitude, in minutes of arc (N, E positive) */
};

#define NAVNUM_KEY_VALUES 4

struct navnum_value {
    int kind;
    double v, v2;
    int decimals; /* decimals as written (positions: of the minutes) */
    int sign;     /* 0 none written, '+', '-', or 'p' for ± */
};

struct navnum_key {
    char label[16];  /* the letters before the "=" ("KaK"), or the leading word; "" */
    char label2[16]; /* the leading word when it differs from label, else "" */
    struct navnum_value values[NAVNUM_KEY_VALUES];
    double tol[NAVNUM_KEY_VALUES]; /* < 0: none stated, exact after rounding */
    int nvalues;                   /* 0: the key has nothing to compare */
};

/* Every quantity in `s` (NUL-terminated UTF-8, NULL counts as ""), in
 * order, at most `max`. Returns how many were stored. */
int navnum_scan(const char *s, struct navnum_value *out, int max);

/* Parse one key answer. 0, or -1 when it has no value (nvalues 0). */
int navnum_parse_key(const char *key, struct navnum_key *out);

/* 1 when every value of `key` is among the `n` answer quantities, each
 * within its tolerance; else 0. */
int navnum_key_matches(const struct navnum_key *key, const struct navnum_value *answer, int n);

/* Two keys say the same (label and values): the catalogue repeats some. */
int navnum_key_same(const struct navnum_key *a, const struct navnum_key *b);

/* Which sub-question each key answer belongs to (0-based, into sub_of_key),
 * derived from the data as docs/grading.md describes: the key's label
 * against the sub-question's abbreviations in parentheses and its words,
 * then the value's kind against words such as "Kurs" or "Distanz", then the
 * one sub-question still without keys, then the neighbouring key's. */
void navnum_assign(const char *const *sub_texts, int n_sub, const struct navnum_key *keys,
                   int n_keys, int *sub_of_key);

#endif
