/* navnum: German chart-task notations, tolerances, and every key answer of
 * the official chart sheets. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sks/navnum.h"
#include "tap.h"
#include "testdata.h"

static int near(double a, double b)
{
    return fabs(a - b) < 1e-9;
}

static int scan1(const char *s, int kind, double v)
{
    struct navnum_value out[8];
    int n = navnum_scan(s, out, 8);
    return n == 1 && out[0].kind == kind && near(out[0].v, v);
}

static void test_notations(void)
{
    struct navnum_value out[8];
    int n;

    ok(scan1("087°", NAVNUM_ANGLE, 87), "087° is an angle");
    ok(scan1("KaK = 87 Grad", NAVNUM_ANGLE, 87), "87 Grad is an angle");
    ok(scan1("87 °", NAVNUM_ANGLE, 87), "a space before °");
    ok(scan1("3,2 m", NAVNUM_HEIGHT, 3.2), "3,2 m is a height");
    ok(scan1("3.2m", NAVNUM_HEIGHT, 3.2), "3.2m (decimal point, no space)");
    ok(scan1("9,7 sm", NAVNUM_DIST, 9.7), "9,7 sm is a distance");
    ok(scan1("2,3 kn", NAVNUM_SPEED, 2.3), "2,3 kn is a speed");
    ok(scan1("08:53 BZ", NAVNUM_CLOCK, 8 * 60 + 53), "08:53 is a clock time");
    ok(scan1("116 min", NAVNUM_DURATION, 116), "116 min");
    ok(scan1("1 h 56 min", NAVNUM_DURATION, 116), "1 h 56 min");
    ok(scan1("6 h", NAVNUM_DURATION, 360), "6 h");
    ok(scan1("BS = - 7°", NAVNUM_ANGLE, -7), "a spaced minus");
    ok(scan1("BS = \xe2\x88\x92"
             "7°",
             NAVNUM_ANGLE, -7),
       "U+2212 minus");
    ok(scan1("BS = \xe2\x80\x93\xe2\x80\x89"
             "7°",
             NAVNUM_ANGLE, -7),
       "en dash and thin space");
    ok(scan1("am 12.04.2013 um 14:53", NAVNUM_CLOCK, 14 * 60 + 53), "a date is skipped");
    ok(scan1("mit 4", NAVNUM_NUMBER, 4), "a bare number");
    n = navnum_scan("54° 03,2' N, 008° 20,1' O", out, 8);
    ok(n == 1 && out[0].kind == NAVNUM_POSITION && near(out[0].v, 54 * 60 + 3.2) &&
           near(out[0].v2, 8 * 60 + 20.1) && out[0].decimals == 1,
       "54° 03,2' N, 008° 20,1' O is one position (O = Ost)");
    n = navnum_scan("φ = 54°04,3‘N, λ = 008°20,1‘E", out, 8);
    ok(n == 1 && out[0].kind == NAVNUM_POSITION && near(out[0].v, 54 * 60 + 4.3),
       "the catalogue's quotes and labels");
    n = navnum_scan("53°52,6'S 7°27,8'W", out, 8);
    ok(n == 1 && out[0].v < 0 && out[0].v2 < 0, "south and west are negative");
    n = navnum_scan("BV = 083° / 0,8 sm", out, 8);
    ok(n == 2 && out[0].kind == NAVNUM_ANGLE && out[1].kind == NAVNUM_DIST, "two quantities");
    ok(navnum_scan(NULL, out, 8) == 0 && navnum_scan("keine Zahl", out, 8) == 0, "no numbers");
    ok(navnum_scan("1 2 3 4 5", out, 3) == 3, "at most max");
}

static int matches(const char *key, const char *answer)
{
    struct navnum_key k;
    struct navnum_value a[16];
    int n;

    if (navnum_parse_key(key, &k) < 0)
        return -1;
    n = navnum_scan(answer, a, 16);
    return navnum_key_matches(&k, a, n);
}

static void test_keys(void)
{
    struct navnum_key k;

    ok(navnum_parse_key("KaK = 286° [± 1°]", &k) == 0 && k.nvalues == 1 &&
           k.values[0].kind == NAVNUM_ANGLE && near(k.tol[0], 1) && strcmp(k.label, "KaK") == 0,
       "KaK = 286° [± 1°]");
    ok(navnum_parse_key("HWH = 3,2 m [Keine Toleranz]", &k) == 0 && k.tol[0] < 0, "Keine Toleranz");
    ok(navnum_parse_key("t = d / v * 60 = 9,7 / 5,0 * 60 = 116 min = 1 h 56 min [± 3 min]", &k) ==
               0 &&
           k.nvalues == 1 && k.values[0].kind == NAVNUM_DURATION && near(k.values[0].v, 116) &&
           near(k.tol[0], 3),
       "a calculation is valued by its last step");
    ok(navnum_parse_key("BV = 083° / 0,8 sm [± 20° / ± 0,2 sm]", &k) == 0 && k.nvalues == 2 &&
           near(k.tol[0], 20) && near(k.tol[1], 0.2),
       "two values, a tolerance each");
    ok(navnum_parse_key("WPT 1 bis WPT 2 21,3 sm [± 0,3 sm]", &k) == 0 && k.nvalues == 1 &&
           near(k.values[0].v, 21.3),
       "without '=': the last quantity");
    ok(navnum_parse_key("Ob10:45 BZ  = 54°04,3‘N,  = 008°20,1‘E [± 0,2‘]", &k) == 0 &&
           k.values[0].kind == NAVNUM_POSITION && near(k.tol[0], 0.2) &&
           strcmp(k.label2, "Ob") == 0,
       "a position key");
    ok(navnum_parse_key("[Keine Toleranz]", &k) == -1, "a key without a value");
    ok(navnum_parse_key("Richtfeuerlinie: rwP = 020° [Keine Toleranz]", &k) == 0 &&
           strcmp(k.label, "rwP") == 0 && strcmp(k.label2, "Richtfeuerlinie") == 0,
       "the label is the word before '='");

    ok(matches("KaK = 286° [± 1°]", "KaK 287°") == 1, "inside the tolerance");
    ok(matches("KaK = 286° [± 1°]", "285") == 1, "on the edge, bare number");
    ok(matches("KaK = 286° [± 1°]", "288°") == 0, "outside");
    ok(matches("KaK = 286° [± 1°]", "286 sm") == 0, "wrong unit");
    ok(matches("KaK = 001° [± 2°]", "359°") == 1, "around the circle");
    ok(matches("KaK = 286° [Keine Toleranz]", "286,4°") == 1, "commercial rounding: 286,4 -> 286");
    ok(matches("KaK = 286° [Keine Toleranz]", "286,5°") == 0, "commercial rounding: 286,5 -> 287");
    ok(matches("BS = - 7° [± 1°]", "BS = -7°") == 1, "signed key, signed answer");
    ok(matches("BS = - 7° [± 1°]", "7°") == 0, "the sign is needed");
    ok(matches("BS = - 7° [± 1°]", "+7°") == 0, "the wrong sign");
    ok(matches("Abl = ± 0° [Keine Toleranz]", "0°") == 1, "± 0 is any zero");
    ok(matches("d = 9,7 sm [± 0,2 sm]", "9,5 sm") == 1, "distance on the edge");
    ok(matches("d = 9,7 sm [± 0,2 sm]", "9,4 sm") == 0, "distance outside");
    ok(matches("HWZ = 08:53 MESZ/BZ [Keine Toleranz]", "HW um 08:53") == 1, "clock exact");
    ok(matches("HWZ = 08:53 MESZ/BZ [Keine Toleranz]", "08:54") == 0, "clock off by one");
    ok(matches("HWZ = 08:53 MESZ/BZ [Keine Toleranz]", "853") == 0, "a clock needs hh:mm");
    ok(matches("FD = 6 h 38 min [Keine Toleranz]", "6:38") == 1, "h:mm for a duration");
    ok(matches("FD = 6 h 38 min [Keine Toleranz]", "398 min") == 1, "minutes for a duration");
    ok(matches("BV = 083° / 0,8 sm [± 20° / ± 0,2 sm]", "103° 1,0 sm") == 1, "both on the edge");
    ok(matches("BV = 083° / 0,8 sm [± 20° / ± 0,2 sm]", "083°") == 0, "both values needed");
    ok(matches("Ob = 54°04,3‘N,  = 008°20,1‘E [± 0,2‘]", "54° 04,5' N 008° 20,0' E") == 1,
       "position on the edge");
    ok(matches("Ob = 54°04,3‘N,  = 008°20,1‘E [± 0,2‘]", "54° 04,6' N 008° 20,1' E") == 0,
       "position outside in latitude");
    ok(matches("Ob = 54°04,3‘N,  = 008°20,1‘E [± 0,2‘]", "54,043 8,201") == 0,
       "decimal degrees are not a position");
}

/* The value in German notation, as a learner would write it. */
static void format_value(char *buf, size_t size, const struct navnum_value *v, double x, double y)
{
    char num[64];
    int neg = x < 0;
    double ax = fabs(x);

    snprintf(num, sizeof(num), "%.*f", v->decimals + 1, ax);
    for (char *p = num; *p; p++)
        if (*p == '.')
            *p = ',';
    switch (v->kind) {
    case NAVNUM_ANGLE:
        snprintf(buf, size, "%s%s°", neg ? "-" : v->sign == '+' ? "+" : "", num);
        break;
    case NAVNUM_DIST:
        snprintf(buf, size, "%s sm", num);
        break;
    case NAVNUM_SPEED:
        snprintf(buf, size, "%s kn", num);
        break;
    case NAVNUM_HEIGHT:
        snprintf(buf, size, "%s m", num);
        break;
    case NAVNUM_DURATION:
        snprintf(buf, size, "%s min", num);
        break;
    case NAVNUM_CLOCK:
        snprintf(buf, size, "%02d:%02d", (int)ax / 60, (int)ax % 60);
        break;
    case NAVNUM_POSITION: {
        char lat[32], lon[32];
        snprintf(lat, sizeof(lat), "%.*f", v->decimals + 1, fmod(fabs(x), 60));
        snprintf(lon, sizeof(lon), "%.*f", v->decimals + 1, fmod(fabs(y), 60));
        for (char *p = lat; *p; p++)
            *p = *p == '.' ? ',' : *p;
        for (char *p = lon; *p; p++)
            *p = *p == '.' ? ',' : *p;
        snprintf(buf, size, "%d° %s' N, %03d° %s' E", (int)(fabs(x) / 60), lat, (int)(fabs(y) / 60),
                 lon);
        break;
    }
    default:
        snprintf(buf, size, "%s", num);
    }
}

/* Answer a key's values with each moved by `by` (in units of the value),
 * the rest unchanged, and grade. */
static int answer_moved(const struct navnum_key *k, int which, double by)
{
    char text[512] = "", one[128];
    struct navnum_value a[16];

    for (int i = 0; i < k->nvalues; i++) {
        const struct navnum_value *v = &k->values[i];
        double d = i == which ? by : 0;
        format_value(one, sizeof(one), v, v->v + d, v->v2 + d);
        strcat(strcat(text, one), " ");
    }
    return navnum_key_matches(k, a, navnum_scan(text, a, 16));
}

/* Every key of every chart sheet: parsed, matched by its own text, by the
 * value written in German notation on the tolerance's edge, and not just
 * outside it (or, without a tolerance, not one step off). */
static void test_catalogue(void)
{
    char path[1024];
    char *json = testdata_read("sks_navigation_catalog.json", path, sizeof(path));
    int keys = 0, parsed = 0, own = 0, edge = 0, outside = 0, values = 0, with_tol = 0;
    int tasks = 0, subs_with_keys = 0, subs = 0;
    cJSON *root, *sheet, *task;

    if (json == NULL) {
        ok(1, "chart-task catalogue # SKIP %s not readable", path);
        return;
    }
    root = cJSON_Parse(json);
    free(json);
    cJSON_ArrayForEach(sheet, root)
    {
        cJSON_ArrayForEach(task, cJSON_GetObjectItem(sheet, "tasks"))
        {
            const cJSON *ka =
                cJSON_GetObjectItem(cJSON_GetObjectItem(task, "solution"), "key_answers");
            const cJSON *sq = cJSON_GetObjectItem(task, "sub_questions"), *s;
            struct navnum_key parsed_keys[16];
            const char *texts[8];
            int nk = 0, ns = 0, sub_of[16], seen[8] = {0};

            tasks++;
            cJSON_ArrayForEach(s, sq)
            {
                if (ns < 8)
                    texts[ns++] = cJSON_GetObjectItem(s, "text")->valuestring;
            }
            cJSON_ArrayForEach(s, ka)
            {
                struct navnum_key k;
                struct navnum_value a[16];
                keys++;
                if (navnum_parse_key(s->valuestring, &k) < 0)
                    continue;
                parsed++;
                own += navnum_key_matches(&k, a, navnum_scan(s->valuestring, a, 16));
                for (int i = 0; i < k.nvalues; i++) {
                    const struct navnum_value *v = &k.values[i];
                    double step = v->kind == NAVNUM_CLOCK ? 1 : pow(10, -v->decimals);
                    int okv;
                    values++;
                    if (k.tol[i] >= 0) {
                        with_tol++;
                        okv = answer_moved(&k, i, k.tol[i]) && answer_moved(&k, i, -k.tol[i]);
                        edge += okv;
                        if (!okv)
                            printf("# edge fails: %s\n", s->valuestring);
                        okv = !answer_moved(&k, i, k.tol[i] + step) &&
                              !answer_moved(&k, i, -k.tol[i] - step);
                    } else {
                        okv = v->kind == NAVNUM_CLOCK || answer_moved(&k, i, 0.4 * step);
                        edge += okv;
                        if (!okv)
                            printf("# rounding fails: %s\n", s->valuestring);
                        okv = !answer_moved(&k, i, step) && !answer_moved(&k, i, -step);
                    }
                    outside += okv;
                    if (!okv)
                        printf("# outside matches: %s\n", s->valuestring);
                }
                if (nk < 16)
                    parsed_keys[nk++] = k;
            }
            navnum_assign(texts, ns, parsed_keys, nk, sub_of);
            for (int i = 0; i < nk; i++)
                if (sub_of[i] >= 0 && sub_of[i] < ns)
                    seen[sub_of[i]] = 1;
            for (int i = 0; i < ns; i++) {
                subs++;
                subs_with_keys += seen[i];
            }
        }
    }
    cJSON_Delete(root);
    ok(tasks == 177 && keys == 261, "177 tasks, 261 key answers (%d, %d)", tasks, keys);
    ok(parsed == 260, "every key but the one without a value parses (%d)", parsed);
    ok(own == parsed, "every key matches its own text (%d of %d)", own, parsed);
    ok(edge == values, "every value matches on the tolerance's edge (%d of %d)", edge, values);
    ok(outside == values, "no value matches just outside it (%d of %d)", outside, values);
    ok(with_tol > 100, "tolerances stated for %d of %d values", with_tol, values);
    printf("# %d of %d sub-questions have key answers\n", subs_with_keys, subs);
    ok(subs_with_keys > 100 && subs_with_keys < subs, "sub-questions with keys: %d of %d",
       subs_with_keys, subs);
}

static void assign(const char *const *subs, int ns, const char *const *keys, int nk, int *out)
{
    struct navnum_key k[16];

    for (int i = 0; i < nk; i++)
        navnum_parse_key(keys[i], &k[i]);
    navnum_assign(subs, ns, k, nk, out);
}

static void test_assign(void)
{
    int o[8];
    {
        const char *subs[] = {"Bestimmen Sie die Hochwasserzeit (HWZ) und die Hochwasserhöhe (HWH) "
                              "am Morgen.",
                              "Bestimmen Sie die Falldauer (FD) und den Tidenfall (TF)."};
        const char *keys[] = {"HWZ = 08:53 MESZ/BZ [Keine Toleranz]",
                              "HWH = 3,2 m [Keine Toleranz]", "FD = 6 h 38 min [Keine Toleranz]",
                              "TF = 2,5 m [Keine Toleranz]"};
        assign(subs, 2, keys, 4, o);
        ok(o[0] == 0 && o[1] == 0 && o[2] == 1 && o[3] == 1, "by abbreviation (%d %d %d %d)", o[0],
           o[1], o[2], o[3]);
    }
    {
        const char *subs[] = {"Bestimmen Sie die einzelnen Kartenkurse (KaK) bis zum WPT 3.",
                              "Bestimmen Sie die entsprechenden Distanzen (d)."};
        const char *keys[] = {"– Tonne „4“ bis Tonne „Düne-N“ 316° [± 1°]",
                              "– Tonne „4“ bis Tonne „Düne-N“ 17,2 sm [± 0,2 sm]"};
        assign(subs, 2, keys, 2, o);
        ok(o[0] == 0 && o[1] == 1, "by kind: a course and a distance (%d %d)", o[0], o[1]);
    }
    {
        const char *subs[] = {"Zeichnen Sie ein Stromdreieck (Maßstab: 1 cm entspricht 1 kn).",
                              "Bestimmen Sie den Magnetkompasskurs (MgK).",
                              "Bestimmen Sie die Fahrt über Grund (FüG)."};
        const char *keys[] = {"MgK = 082° [± 1°]", "BS = - 7° [± 1°]", "FüG = 6,7 kn [± 0,1 kn]"};
        assign(subs, 3, keys, 3, o);
        ok(o[0] == 1 && o[1] == 1 && o[2] == 2, "the drawing keeps no key (%d %d %d)", o[0], o[1],
           o[2]);
    }
    {
        const char *subs[] = {"Bestimmen Sie die Hochwasserzeit (HWZ).",
                              "Bestimmen Sie den Tidenfall (TF)."};
        const char *keys[] = {"14:53 MESZ/BZ [Keine Toleranz]", "TF = 3,4 m [Keine Toleranz]"};
        assign(subs, 2, keys, 2, o);
        ok(o[0] == 0 && o[1] == 1, "an unlabelled time (%d %d)", o[0], o[1]);
    }
    {
        const char *subs[] = {"Nur eine."};
        const char *keys[] = {"KaK = 286° [± 1°]", "d = 9,7 sm [± 0,2 sm]"};
        assign(subs, 1, keys, 2, o);
        ok(o[0] == 0 && o[1] == 0, "one sub-question takes every key");
    }
}

int main(void)
{
    test_notations();
    test_keys();
    test_catalogue();
    test_assign();
    return tap_done();
}
