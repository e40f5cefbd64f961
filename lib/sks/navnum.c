#include "sks/navnum.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define EPS 1e-9

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_ascii_letter(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A letter, counting the German umlauts and ß (UTF-8 C3 xx) as letters.
 * Returns its length in bytes, 0 when it is none. */
static int letter_at(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;

    if (is_ascii_letter(u[0]))
        return 1;
    if (u[0] == 0xC3 && u[1] >= 0x80 && u[1] <= 0xBF && u[1] != 0x97 && u[1] != 0xB7)
        return 2; /* Latin-1 letters, not × or ÷ */
    return 0;
}

/* Length of a space at s (ASCII blanks, no-break, the U+2000 spaces, narrow
 * no-break), else 0. */
static int space_at(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;

    if (u[0] == ' ' || u[0] == '\t' || u[0] == '\n' || u[0] == '\r')
        return 1;
    if (u[0] == 0xC2 && u[1] == 0xA0)
        return 2;
    if (u[0] == 0xE2 && u[1] == 0x80 && ((u[2] >= 0x80 && u[2] <= 0x8A) || u[2] == 0xAF))
        return 3;
    return 0;
}

static const char *skip_spaces(const char *s)
{
    int n;

    while ((n = space_at(s)) > 0)
        s += n;
    return s;
}

/* A sign (+, -, en dash, minus sign, ±): its length, *sign set. */
static int sign_at(const char *s, int *sign)
{
    const unsigned char *u = (const unsigned char *)s;

    if (u[0] == '+' || u[0] == '-') {
        *sign = u[0];
        return 1;
    }
    if (u[0] == 0xE2 && ((u[1] == 0x80 && u[2] == 0x93) || (u[1] == 0x88 && u[2] == 0x92))) {
        *sign = '-';
        return 3;
    }
    if (u[0] == 0xC2 && u[1] == 0xB1) {
        *sign = 'p';
        return 2;
    }
    return 0;
}

static int degree_at(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;

    if (u[0] == 0xC2 && (u[1] == 0xB0 || u[1] == 0xBA))
        return 2;
    return 0;
}

/* ' ‘ ’ ′ ´ ` */
static int minute_mark_at(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;

    if (u[0] == '\'' || u[0] == '`')
        return 1;
    if (u[0] == 0xC2 && u[1] == 0xB4)
        return 2;
    if (u[0] == 0xE2 && u[1] == 0x80 && (u[2] == 0x98 || u[2] == 0x99))
        return 3;
    if (u[0] == 0xE2 && u[1] == 0x80 && u[2] == 0xB2)
        return 3;
    return 0;
}

/* A word unit (case-insensitive) not followed by a letter: its length. */
static int word_at(const char *s, const char *word)
{
    size_t n = strlen(word);

    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z')
            c += 'a' - 'A';
        if (c != word[i])
            return 0;
    }
    return letter_at(s + n) ? 0 : (int)n;
}

/* Digits with an optional decimal comma or point. */
static const char *read_number(const char *s, double *v, int *decimals)
{
    double x = 0, scale = 1;
    int d = 0, any = 0;

    while (is_digit(*s)) {
        if (any < 12)
            x = x * 10 + (*s - '0');
        any++;
        s++;
    }
    if ((*s == ',' || *s == '.') && is_digit(s[1])) {
        s++;
        while (is_digit(*s)) {
            if (d < 9) {
                scale /= 10;
                x += (*s - '0') * scale;
            }
            d++;
            s++;
        }
    }
    *v = x;
    *decimals = d < 9 ? d : 9;
    return s;
}

/* A date (dd.mm.yyyy or dd.mm.) at s: its end, else NULL. */
static const char *date_end(const char *s)
{
    const char *p = s;
    int n = 0;

    while (is_digit(*p) && n < 2)
        p++, n++;
    if (n == 0 || *p != '.' || !is_digit(p[1]))
        return NULL;
    p++;
    n = 0;
    while (is_digit(*p) && n < 2)
        p++, n++;
    if (n == 0 || *p != '.')
        return NULL;
    p++;
    while (is_digit(*p))
        p++;
    return p;
}

struct scan {
    struct navnum_value *out;
    int max, n;
    int have_lat;
    double lat;
    int lat_decimals;
};

static void emit(struct scan *sc, const struct navnum_value *v)
{
    if (sc->n < sc->max)
        sc->out[sc->n++] = *v;
}

/* After "<deg>°": "<min>[']<N|S|E|O|W>". Returns the end and sets *hemi,
 * else NULL. */
static const char *position_part(const char *s, double *min, int *decimals, int *hemi)
{
    const char *p = skip_spaces(s);
    int m;

    if (!is_digit(*p))
        return NULL;
    p = read_number(p, min, decimals);
    p = skip_spaces(p);
    if ((m = minute_mark_at(p)) > 0)
        p = skip_spaces(p + m);
    if ((*p == 'N' || *p == 'S' || *p == 'E' || *p == 'O' || *p == 'W') && !letter_at(p + 1)) {
        *hemi = *p;
        return p + 1;
    }
    return NULL;
}

/* One quantity starting at the digit s (sign already read). Returns the end. */
static const char *scan_quantity(struct scan *sc, const char *s, int sign)
{
    struct navnum_value v = {NAVNUM_NUMBER, 0, 0, 0, sign};
    const char *p, *q;
    int n;

    if ((q = date_end(s)) != NULL)
        return q; /* a date: not a quantity */
    p = read_number(s, &v.v, &v.decimals);
    if (*p == ':' && is_digit(p[1]) && is_digit(p[2]) && !is_digit(p[3]) && v.decimals == 0) {
        v.kind = NAVNUM_CLOCK;
        v.v = v.v * 60 + (p[1] - '0') * 10 + (p[2] - '0');
        p += 3;
        q = skip_spaces(p);
        if ((n = word_at(q, "h")) > 0 || (n = word_at(q, "std")) > 0) {
            v.kind = NAVNUM_DURATION;
            p = q + n;
        }
        goto done;
    }
    q = skip_spaces(p);
    if ((n = degree_at(q)) > 0 || (n = word_at(q, "grad")) > 0) {
        double min;
        int dec, hemi;
        const char *e = position_part(q + n, &min, &dec, &hemi);
        if (e != NULL && sign == 0) {
            double at = v.v * 60 + min;
            if (hemi == 'N' || hemi == 'S') {
                sc->have_lat = 1;
                sc->lat = hemi == 'S' ? -at : at;
                sc->lat_decimals = dec;
            } else if (sc->have_lat) {
                struct navnum_value pos = {NAVNUM_POSITION, sc->lat, hemi == 'W' ? -at : at,
                                           dec > sc->lat_decimals ? dec : sc->lat_decimals, 0};
                sc->have_lat = 0;
                emit(sc, &pos);
            }
            return e;
        }
        v.kind = NAVNUM_ANGLE;
        p = q + n;
    } else if ((n = word_at(q, "sm")) > 0) {
        v.kind = NAVNUM_DIST;
        p = q + n;
    } else if ((n = word_at(q, "kn")) > 0) {
        v.kind = NAVNUM_SPEED;
        p = q + n;
    } else if ((n = word_at(q, "min")) > 0) {
        v.kind = NAVNUM_DURATION;
        p = q + n;
    } else if ((n = word_at(q, "h")) > 0 || (n = word_at(q, "std")) > 0) {
        const char *r = skip_spaces(q + n);
        v.kind = NAVNUM_DURATION;
        v.v *= 60;
        p = q + n;
        if (is_digit(*r)) {
            double m;
            int dec, k;
            const char *t = skip_spaces(read_number(r, &m, &dec));
            if ((k = word_at(t, "min")) > 0) {
                v.v += m;
                p = t + k;
            }
        }
    } else if ((n = word_at(q, "m")) > 0) {
        v.kind = NAVNUM_HEIGHT;
        p = q + n;
    } else if ((n = minute_mark_at(q)) > 0) {
        p = q + n;
    }
done:
    if (sign == '-')
        v.v = -v.v;
    emit(sc, &v);
    return p;
}

int navnum_scan(const char *s, struct navnum_value *out, int max)
{
    struct scan sc = {out, max, 0, 0, 0, 0};
    const char *p = s != NULL ? s : "";

    while (*p != '\0') {
        int sign = 0, n;
        if (is_digit(*p)) {
            /* Digits glued to a letter before them ("CO2") still count;
             * those glued after a digit were read with it. */
            p = scan_quantity(&sc, p, 0);
            continue;
        }
        if ((n = sign_at(p, &sign)) > 0) {
            const char *q = skip_spaces(p + n);
            if (is_digit(*q)) {
                p = scan_quantity(&sc, q, sign);
                continue;
            }
        }
        p++;
        while (((unsigned char)*p & 0xC0) == 0x80)
            p++; /* to the next code point */
    }
    return sc.n;
}

/* --- keys ------------------------------------------------------------------ */

static void copy_word(char *dst, size_t size, const char *s, size_t len)
{
    if (len >= size)
        len = size - 1;
    memcpy(dst, s, len);
    dst[len] = '\0';
}

/* The run of letters starting at s: its length in bytes. */
static size_t letters_len(const char *s)
{
    size_t n = 0;
    int k;

    while ((k = letter_at(s + n)) > 0)
        n += (size_t)k;
    return n;
}

static void key_labels(const char *key, const char *bracket, struct navnum_key *out)
{
    const char *p = key, *eq = NULL;
    int n, sign;

    for (;;) {
        if ((n = space_at(p)) > 0 || (n = sign_at(p, &sign)) > 0)
            p += n;
        else
            break;
    }
    copy_word(out->label2, sizeof(out->label2), p, letters_len(p));
    for (const char *q = key; q < bracket; q++)
        if (*q == '=') {
            eq = q;
            break;
        }
    if (eq != NULL) {
        /* The word right before the first "=" ("Richtfeuerlinie: rwP = …"),
         * when only spaces separate them. */
        const char *word = NULL, *after = NULL;
        size_t wlen = 0;
        for (const char *q = key; q < eq;) {
            size_t k = letters_len(q);
            if (k > 0) {
                word = q;
                wlen = k;
                q += k;
                after = q;
            } else {
                q++;
            }
        }
        if (word != NULL && skip_spaces(after) == eq)
            copy_word(out->label, sizeof(out->label), word, wlen);
    }
    if (out->label[0] == '\0') {
        memcpy(out->label, out->label2, sizeof(out->label));
        out->label2[0] = '\0';
    } else if (strcmp(out->label, out->label2) == 0) {
        out->label2[0] = '\0';
    }
}

int navnum_parse_key(const char *key, struct navnum_key *out)
{
    struct navnum_value vals[32], tols[8];
    const char *bracket, *last_eq = NULL, *close;
    char pre[1024];
    int n, nt = 0;
    size_t len;

    memset(out, 0, sizeof(*out));
    if (key == NULL)
        return -1;
    bracket = strchr(key, '[');
    if (bracket == NULL)
        bracket = key + strlen(key);
    key_labels(key, bracket, out);
    len = (size_t)(bracket - key);
    if (len >= sizeof(pre))
        len = sizeof(pre) - 1;
    memcpy(pre, key, len);
    pre[len] = '\0';
    for (char *q = pre; *q; q++)
        if (*q == '=')
            last_eq = q;

    n = navnum_scan(pre, vals, 32);
    for (int i = 0; i < n; i++)
        if (vals[i].kind == NAVNUM_POSITION) {
            out->values[0] = vals[i];
            out->nvalues = 1;
            break;
        }
    if (out->nvalues == 0) {
        if (last_eq != NULL) {
            n = navnum_scan(last_eq + 1, vals, 32);
            for (int i = 0; i < n && out->nvalues < NAVNUM_KEY_VALUES; i++)
                out->values[out->nvalues++] = vals[i];
        } else if (n > 0) {
            out->values[0] = vals[n - 1];
            out->nvalues = 1;
        }
    }
    /* The tolerance: "[± 1°]", "[± 20° / ± 0,2 sm]", "[Keine Toleranz]". */
    if (*bracket == '[' && (close = strchr(bracket, ']')) != NULL) {
        char tol[256];
        len = (size_t)(close - bracket - 1);
        if (len >= sizeof(tol))
            len = sizeof(tol) - 1;
        memcpy(tol, bracket + 1, len);
        tol[len] = '\0';
        nt = navnum_scan(tol, tols, 8);
    }
    for (int i = 0; i < out->nvalues; i++) {
        out->tol[i] = -1;
        if (nt == 1) {
            out->tol[i] = fabs(tols[0].v);
        } else if (nt > 1) {
            for (int k = 0; k < nt; k++)
                if (tols[k].kind == out->values[i].kind) {
                    out->tol[i] = fabs(tols[k].v);
                    break;
                }
            if (out->tol[i] < 0 && i < nt)
                out->tol[i] = fabs(tols[i].v);
        }
    }
    return out->nvalues > 0 ? 0 : -1;
}

int navnum_key_same(const struct navnum_key *a, const struct navnum_key *b)
{
    if (strcmp(a->label, b->label) != 0 || a->nvalues != b->nvalues)
        return 0;
    for (int i = 0; i < a->nvalues; i++)
        if (a->values[i].kind != b->values[i].kind || fabs(a->values[i].v - b->values[i].v) > EPS ||
            fabs(a->values[i].v2 - b->values[i].v2) > EPS)
            return 0;
    return 1;
}

/* --- comparing ----------------------------------------------------------- */

static int kinds_compatible(int key, int answer)
{
    if (key == answer)
        return 1;
    if (answer == NAVNUM_NUMBER)
        return key != NAVNUM_CLOCK && key != NAVNUM_POSITION;
    return key == NAVNUM_DURATION && answer == NAVNUM_CLOCK; /* "6:38" for 6 h 38 min */
}

/* Commercial rounding (half away from zero) to `decimals`. */
static double round_to(double x, int decimals)
{
    double f = pow(10, decimals);
    return round(x * f + (x >= 0 ? EPS : -EPS)) / f;
}

static int value_matches(const struct navnum_value *k, double tol, const struct navnum_value *a)
{
    double d;

    if (!kinds_compatible(k->kind, a->kind))
        return 0;
    if (k->kind == NAVNUM_POSITION) {
        double t = tol >= 0 ? tol : 0;
        if (tol < 0)
            return fabs(round_to(a->v, k->decimals) - k->v) <= EPS &&
                   fabs(round_to(a->v2, k->decimals) - k->v2) <= EPS;
        return fabs(a->v - k->v) <= t + EPS && fabs(a->v2 - k->v2) <= t + EPS;
    }
    /* A signed key needs the sign; ± 0 is any zero. */
    if (k->sign == '-' || k->sign == '+') {
        if (k->v != 0 && a->sign == 0)
            return 0;
    }
    d = tol >= 0 ? a->v - k->v : round_to(a->v, k->decimals) - k->v;
    if (k->kind == NAVNUM_ANGLE && k->sign == 0 && a->sign == 0) {
        d = fmod(fabs(d), 360.0);
        if (d > 180)
            d = 360 - d;
    }
    return fabs(d) <= (tol >= 0 ? tol : 0) + EPS;
}

int navnum_key_matches(const struct navnum_key *key, const struct navnum_value *answer, int n)
{
    if (key->nvalues == 0)
        return 0;
    for (int i = 0; i < key->nvalues; i++) {
        int found = 0;
        for (int k = 0; k < n && !found; k++)
            found = value_matches(&key->values[i], key->tol[i], &answer[k]);
        if (!found)
            return 0;
    }
    return 1;
}

/* --- which sub-question ----------------------------------------------------- */

/* `s` lower-cased (ASCII letters) into buf. */
static void lower_into(char *buf, size_t size, const char *s)
{
    size_t i = 0;

    for (; s[i] != '\0' && i + 1 < size; i++)
        buf[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 'a' - 'A') : s[i];
    buf[i] = '\0';
}

/* The label is one of the abbreviations in parentheses ("(HWZ)", "(StR, StG)"). */
static int in_parentheses(const char *text, const char *label)
{
    size_t ll = strlen(label);

    if (ll == 0)
        return 0;
    for (const char *p = strchr(text, '('); p != NULL; p = strchr(p + 1, '(')) {
        const char *q = p + 1;
        while (*q != '\0' && *q != ')') {
            size_t n = letters_len(q);
            if (n == ll && memcmp(q, label, ll) == 0)
                return 1;
            q += n > 0 ? n : 1;
        }
    }
    return 0;
}

/* The label (3+ letters) starts a word of the text, ignoring ASCII case. */
static int starts_word(const char *text, const char *label)
{
    char lt[1024], ll[16];
    size_t n = strlen(label);

    if (n < 3)
        return 0;
    lower_into(lt, sizeof(lt), text);
    lower_into(ll, sizeof(ll), label);
    for (const char *p = lt; (p = strstr(p, ll)) != NULL; p++)
        if (p == lt || !letter_at(p - 1))
            return 1;
    return 0;
}

static int mentions_kind(const char *text, int kind)
{
    static const char *const words[][6] = {
        [NAVNUM_ANGLE] = {"kurs", "peilung", NULL},
        [NAVNUM_DIST] = {"distanz", "(d)", "entfernung", "abstand", NULL},
        [NAVNUM_SPEED] = {"fahrt", "stromst", "geschwindigkeit", NULL},
        [NAVNUM_HEIGHT] = {"h\xc3\xb6he", "tiefe", "tidenfall", "tidenstieg", "(tf)", NULL},
        [NAVNUM_DURATION] = {"zeit", "(eta)", "dauer", "stunden", NULL},
        [NAVNUM_CLOCK] = {"zeit", "(eta)", "dauer", "stunden", NULL},
        [NAVNUM_POSITION] = {" ort", "(ob)", "(ok)", "position", NULL},
    };
    char lt[1024];

    if (kind <= NAVNUM_NUMBER || kind > NAVNUM_POSITION)
        return 0;
    lower_into(lt, sizeof(lt), text);
    for (int i = 0; words[kind][i] != NULL; i++)
        if (strstr(lt, words[kind][i]) != NULL)
            return 1;
    return 0;
}

void navnum_assign(const char *const *sub_texts, int n_sub, const struct navnum_key *keys,
                   int n_keys, int *sub_of_key)
{
    int count[16] = {0}, empty = -1, nempty = 0;

    for (int i = 0; i < n_keys; i++)
        sub_of_key[i] = n_sub <= 1 ? 0 : -1;
    if (n_sub <= 1)
        return;
    /* 1. the label among the sub-question's abbreviations, then its words */
    for (int i = 0; i < n_keys; i++) {
        const struct navnum_key *k = &keys[i];
        for (int s = 0; s < n_sub && sub_of_key[i] < 0; s++)
            if (in_parentheses(sub_texts[s], k->label) || in_parentheses(sub_texts[s], k->label2))
                sub_of_key[i] = s;
        for (int s = 0; s < n_sub && sub_of_key[i] < 0; s++)
            if (starts_word(sub_texts[s], k->label) || starts_word(sub_texts[s], k->label2))
                sub_of_key[i] = s;
    }
    /* 2. what the value is against what the sub-question asks for */
    for (int i = 0; i < n_keys; i++)
        for (int s = 0; s < n_sub && sub_of_key[i] < 0 && keys[i].nvalues > 0; s++)
            if (mentions_kind(sub_texts[s], keys[i].values[0].kind))
                sub_of_key[i] = s;
    /* 3. the one sub-question that has no key yet */
    for (int i = 0; i < n_keys; i++)
        if (sub_of_key[i] >= 0 && sub_of_key[i] < 16)
            count[sub_of_key[i]]++;
    for (int s = 0; s < n_sub && s < 16; s++)
        if (count[s] == 0) {
            empty = s;
            nempty++;
        }
    for (int i = 0; i < n_keys; i++)
        if (sub_of_key[i] < 0 && nempty == 1)
            sub_of_key[i] = empty;
    /* 4. the neighbour's: the key before, else the key after */
    for (int i = 0; i < n_keys; i++) {
        if (sub_of_key[i] >= 0)
            continue;
        for (int j = i - 1; j >= 0 && sub_of_key[i] < 0; j--)
            sub_of_key[i] = sub_of_key[j];
        for (int j = i + 1; j < n_keys && sub_of_key[i] < 0; j++)
            sub_of_key[i] = sub_of_key[j];
        if (sub_of_key[i] < 0)
            sub_of_key[i] = 0;
    }
}
