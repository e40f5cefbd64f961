/*
 * test_grade.c - lib/sks/grade: the exam grader's vectors (reference §4.1), study
 * partial credit (§4.2 with our verdict and rating from the ratio), and the
 * chart-task grader: the §4.3 extraction table and original tests (adjusted
 * where one of our fixes changes the outcome), the fixes themselves, and a
 * pass over the real chart-task catalogue.
 */
#include <math.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sks/grade.h"
#include "tap.h"
#include "testdata.h"
#include "core/text.h"

#define N(arr) ((int)(sizeof(arr) / sizeof((arr)[0])))

static struct arena A;
static struct err E;

/* navigation_1, the short answer of the §4.1 vectors. */
static const char *const NAV1[] = {"Vollständigkeit der Unterlagen prüfen",
                                   "Berichtigung auf den neuesten Stand bringen"};

static struct grade_exam_result exam(const char *const *sa, int n, const char *ref,
                                     const char *answer, double max)
{
    struct grade_exam_result r;
    if (grade_exam_answer(&A, sa, n, ref, answer, max, &r, &E) != 0)
        memset(&r, 0, sizeof(r));
    return r;
}

static void test_exam_vectors(void)
{
    struct grade_exam_result r;

    r = exam(NAV1, 2, "", "Unterlagen auf Vollständigkeit", 2);
    ok(r.score == 1 && !r.is_correct && r.ratio == 0.5 && r.nerrors == 1 &&
           strcmp(r.feedback, "Zu viele Kernpunkte fehlen für eine ausreichende Bewertung.") == 0 &&
           strcmp(r.errors[0],
                  "Fehlender Kernpunkt: Berichtigung auf den neuesten Stand bringen") == 0,
       "half covered, max 2: 1 point, not correct, one missing point");
    r = exam(NAV1, 2, "", "Unterlagen auf Vollständigkeit", 1);
    ok(r.score == 0 && !r.is_correct, "half covered, max 1: 0.5 rounds to even 0");
    r = exam(NAV1, 2, "", "Vollständigkeit prüfen und Berichtigung auf neuesten Stand", 2);
    ok(r.score == 2 && r.is_correct && r.nerrors == 0 &&
           strcmp(r.feedback, "Sehr gute Antwort, die wichtigsten Kernpunkte sind enthalten.") == 0,
       "all covered, max 2: 2, correct");
    r = exam(NAV1, 2, "", "Vollständigkeit prüfen und Berichtigung auf neuesten Stand", 1);
    ok(r.score == 1 && r.is_correct, "all covered, max 1: 1, correct");
    r = exam(NAV1, 2, "", "keine ahnung", 2);
    ok(r.score == 0 && !r.is_correct && r.ratio == 0 && r.nerrors == 2, "nothing covered: 0");
    r = exam(NAV1, 2, "", "VOLLSTÄNDIGKEIT PRÜFEN, BERICHTIGUNG: NEUESTEN STAND!", 2);
    ok(r.score == 2, "case and punctuation do not matter");
}

static void test_exam_rules(void)
{
    static const char *const four[] = {"Anker", "Kette", "Leine", "Fender"};
    static const char *const seven[] = {"Alpha", "Bravo",   "Charlie", "Delta",
                                        "Echo",  "Foxtrot", "Golf"};
    static const char *const dup[] = {"Anker Anker Anker Kette"};
    static const char *const umlaut[] = {"für Öle"};
    static const char *const blank[] = {"  ", "\u00a0", NULL};
    static const char *const padded[] = {"  Anker setzen \n"};
    static const char *const thirds[] = {"Vollständigkeit", "Berichtigung", "Seekarten"};
    struct grade_exam_result r;

    r = exam(NAV1, 2, "", " \n\t\u00a0\u2009", 2);
    ok(r.score == 0 && !r.is_correct && strcmp(r.feedback, "Keine Antwort abgegeben.") == 0 &&
           r.nerrors == 1 && strcmp(r.errors[0], "Es wurde keine Antwort eingereicht.") == 0,
       "blank answer (Unicode spaces too)");
    r = exam(NULL, 0, NULL, NULL, 2);
    ok(r.score == 0 && r.nerrors == 1, "NULL answer is blank");
    r = exam(blank, N(blank), "  ", "irgendwas", 2);
    ok(r.score == 2 && r.is_correct && r.ratio == 1 && r.nerrors == 0 &&
           strcmp(r.feedback, "Antwort eingereicht. Es lagen keine Referenzkriterien vor.") == 0,
       "no criteria: full marks");

    /* Round half to even at both ties; 0.75 x max is correct. */
    r = exam(four, 4, "", "Anker", 2);
    ok(r.ratio == 0.25 && r.score == 0 && !r.is_correct, "ratio 0.25, max 2: 0.5 -> 0");
    r = exam(four, 4, "", "Anker Kette Leine", 2);
    ok(r.ratio == 0.75 && r.score == 2 && r.is_correct, "ratio 0.75, max 2: 1.5 -> 2");
    r = exam(four, 4, "", "Anker Kette", 2);
    ok(r.score == 1 && !r.is_correct &&
           strcmp(r.feedback, "Zu viele Kernpunkte fehlen für eine ausreichende Bewertung.") == 0,
       "ratio 0.5, max 2: 1, below the 0.55 feedback line");
    r = exam(thirds, 3, "", "Vollständigkeit Berichtigung", 2);
    ok(r.score == 1 && fabs(r.ratio - 2.0 / 3) < 1e-12 &&
           strcmp(r.feedback, "Teilweise korrekt, einige Kernpunkte fehlen noch.") == 0,
       "ratio 2/3: partial feedback");

    /* Coverage: words of >= 4 code points, repeats count, max(1, k/2). */
    r = exam(dup, 1, "", "anker", 2);
    ok(r.ratio == 1, "repeated word counts each time: 3 of 4 hits");
    r = exam(dup, 1, "", "kette", 2);
    ok(r.ratio == 0, "1 hit of 4 is below 2");
    r = exam(umlaut, 1, "", "für Öle", 2);
    ok(r.ratio == 0 && r.nerrors == 1,
       "\"für\" and \"öle\" have 3 code points (4 bytes): no long words, not covered");
    r = exam(seven, N(seven), "", "nichts davon", 2);
    ok(r.nerrors == 5 && strcmp(r.errors[4], "Fehlender Kernpunkt: Echo") == 0,
       "at most 5 errors, in point order");
    r = exam(padded, 1, "", "nein", 2);
    ok(r.nerrors == 1 && strcmp(r.errors[0], "Fehlender Kernpunkt: Anker setzen") == 0,
       "errors quote the trimmed point");

    /* Without short answer: the reference split at newline . ; (5 pieces). */
    r = exam(NULL, 0,
             "Erstens Anker. Zweitens Kette;\n\nDrittens Leine. Viertens Fender. "
             "Fünftens Boje. Sechstens Segel.",
             "Segel", 2);
    ok(r.ratio == 0 && r.nerrors == 5 &&
           strcmp(r.errors[0], "Fehlender Kernpunkt: Erstens Anker") == 0,
       "only the first 5 reference pieces count");
    r = exam(NULL, 0, "Erstens Anker. Zweitens Kette", "Erstens Anker Kette", 2);
    ok(r.score == 2, "reference pieces are covered like short-answer items");

    ok(grade_exam_answer(&A, NAV1, 2, "", "x", NAN, &r, &E) == -1 && E.status == 500 &&
           strcmp(E.code, "grade_invalid_input") == 0,
       "NaN max score refused");
    ok(grade_exam_answer(&A, NAV1, -1, "", "x", 2, &r, &E) == -1 &&
           grade_exam_answer(&A, NULL, 2, "", "x", 2, &r, &E) == -1,
       "bad criteria array refused");
}

static struct grade_study_result study(const char *const *sa, int n, const char *ref,
                                       const char *answer)
{
    struct grade_study_result r;
    if (grade_study_answer(&A, sa, n, ref, answer, &r, &E) != 0)
        memset(&r, 0, sizeof(r));
    return r;
}

static int study_is(struct grade_study_result r, double awarded, const char *verdict, int rating)
{
    return r.verdict != NULL && r.awarded_points == awarded && strcmp(r.verdict, verdict) == 0 &&
           r.suggested_rating == rating && r.max_points == 1.0;
}

static void test_study(void)
{
    /* navigation_99, a real question with four key points. */
    static const char *const nav99[] = {
        "Bezugssystem muss übereinstimmen",
        "Auswahl und Einstellung des Kartenbezugssystems im Empfänger",
        "Manuelle Verschiebung des GPS-Ortes um N/S- und E/W-Korrektur",
        "Verwendung von Seekarten, die auf WGS 84 beruhen"};
    static const char *const ten[] = {"Alpha",   "Bravo", "Charlie", "Delta", "Echo",
                                      "Foxtrot", "Golf",  "Hotel",   "India", "Juliett"};
    static const char *const five[] = {"Alpha", "Bravo", "Charlie", "Delta", "Echo"};
    static const char *const raw[] = {" a ", "b", "c", "d", "e"};
    static const char *const with_null[] = {NULL, "b"};
    struct grade_study_result r;
    char ref[700];

    r = study(NAV1, 2, "", "Vollständigkeit prüfen und Berichtigung auf neuesten Stand");
    ok(study_is(r, 1.0, "full", 4), "navigation_1 all points: full, 1.0, rating 4");
    r = study(NAV1, 2, "", "Unterlagen auf Vollständigkeit");
    ok(study_is(r, 0.5, "partial", 2) && r.nmistakes == 1,
       "navigation_1 half: partial, 0.5, rating 2 (the reference said incorrect, 0, 1)");
    r = study(NAV1, 2, "", "keine ahnung");
    ok(study_is(r, 0.0, "incorrect", 1) && r.nmistakes == 2, "navigation_1 nothing: incorrect");
    r = study(nav99, 4, "",
              "Das Bezugssystem muss übereinstimmen: Auswahl des Kartenbezugssystems im "
              "Empfänger, oder Seekarten verwenden, die auf WGS 84 beruhen.");
    ok(study_is(r, 0.5, "partial", 3) && r.ratio == 0.75 && r.nmistakes == 1,
       "navigation_99 three of four: partial, rating 3, half a point");
    r = study(nav99, 4, "", "Das Bezugssystem muss übereinstimmen.");
    ok(study_is(r, 0.0, "incorrect", 1) && r.ratio == 0.25,
       "navigation_99 one of four: incorrect, rating 1, 0.5 half points -> 0 (ties to even)");
    r = study(ten, N(ten), "", "alpha bravo charlie delta echo foxtrot golf hotel india");
    ok(study_is(r, 1.0, "full", 4), "0.9: full, rating 4");
    r = study(five, N(five), "", "alpha bravo");
    ok(study_is(r, 0.0, "incorrect", 2), "0.4: incorrect (no points) but rating 2");
    r = study(five, N(five), "", "alpha bravo charlie");
    ok(study_is(r, 0.5, "partial", 2), "0.6: partial, rating 2");
    r = study(ten, N(ten), "", "alpha bravo charlie delta echo foxtrot golf");
    ok(study_is(r, 0.5, "partial", 3), "0.7: partial, rating 3, half a point");
    r = study(ten, N(ten), "", "alpha bravo charlie");
    ok(study_is(r, 0.0, "incorrect", 1), "0.3: incorrect, rating 1, no points");

    /* The other fields. */
    r = study(raw, N(raw), "ignored", "a");
    ok(strcmp(r.improved_answer_suggestion, "Beispielstruktur:  a ; b; c; d") == 0,
       "suggestion: first 4 items, raw");
    ok(r.nmistakes == 5 && strcmp(r.mistakes[0], "Fehlender Kernpunkt: a") == 0 &&
           strcmp(r.reasoning_summary,
                  "Zu viele Kernpunkte fehlen für eine ausreichende Bewertung.") == 0,
       "mistakes are the exam errors, the summary its feedback");
    r = study(with_null, N(with_null), "", "b");
    ok(strcmp(r.improved_answer_suggestion, "Beispielstruktur: ; b") == 0 && r.ratio == 0,
       "a NULL item is an empty one");
    memset(ref, 0, sizeof(ref));
    for (int i = 0; i < 100; i++)
        strcat(ref, "Öl \n ");
    r = study(NULL, 0, ref, "öl");
    ok(text_utf8_length(r.improved_answer_suggestion) == 260 &&
           strncmp(r.improved_answer_suggestion, "Öl Öl", 6) == 0 &&
           strcmp(r.improved_answer_suggestion + strlen(r.improved_answer_suggestion) - 4, " Öl") ==
               0,
       "suggestion: reference collapsed, cut to 260 code points");
    r = study(NULL, 0, " \n ", "etwas");
    ok(strcmp(r.improved_answer_suggestion, r.reasoning_summary) == 0 &&
           study_is(r, 1.0, "full", 4),
       "no criteria: full, suggestion is the feedback");
}

/* --- chart tasks ------------------------------------------------------ */

static int value_is(const char *key, const char *want)
{
    const char *got = grade_nav_key_value(&A, key);
    return ok(want == NULL ? got == NULL : got != NULL && strcmp(got, want) == 0,
              "key value of \"%s\": \"%s\"", key ? key : "NULL", got ? got : "(none)");
}

static struct grade_nav_result nav(const char *const *keys, int n, const char *answer, double max)
{
    struct grade_nav_result r;
    if (grade_nav_answer(&A, keys, n, answer, max, &r, &E) != 0)
        memset(&r, 0, sizeof(r));
    return r;
}

static void test_nav_extraction(void)
{
    /* The §4.3 table. */
    value_is("KaK = 286° [± 1°]", "286");
    value_is("d = 9,7 sm [± 0,2 sm]", "9,7");
    value_is("HWZ = 08:53 MESZ/BZ [Keine Toleranz]", "08:53 mesz/bz");
    value_is("FD = 6 h 38 min [Keine Toleranz]", "6 h 38");
    value_is("BS =\u200a\u200a -\u20097° [± 1°]", "- 7");
    value_is("a = b = 3 sm", "b = 3");
    value_is("Lat = 54° 12,3' N [± 0,2']", "54° 12,3' n");
    /* Fix (d): the reference had no value for a key without "=". */
    value_is("Wind 5 Bft", "5");
    /* Keys without "=" from the data, and one without any number. */
    value_is("331° [Keine Toleranz]", "331");
    value_is("14:53 MESZ/BZ [Keine Toleranz]", "14:53 mesz/bz");
    value_is("WPT 1 bis WPT 2 21,3 sm [± 0,3 sm]", "21,3");
    value_is("– Tonne „4“ bis Tonne „Düne-N“ 316° [± 1°]", "316");
    value_is("Der Strom läuft die nächsten 2 Stunden „mit“, StG ca. 1,0 kn [± 0,2 kn].", "1,0");
    value_is("Ankunftszeit (ETA) im Hafen von Wangerooge 21.05.13 um 02:31 BZ [± 1 min]",
             "02:31 bz");
    value_is("Abl –\u20095° [x]", "– 5");
    value_is("[Keine Toleranz]", NULL);
    value_is("X = [± 1°]", NULL);
    value_is("Unit only = sm", "sm");
    value_is(NULL, NULL);
    ok(fabs(grade_round1(0.25) - 0.2) < 1e-12 && fabs(grade_round1(0.35) - 0.3) < 1e-12 &&
           fabs(grade_round1(0.6667) - 0.7) < 1e-12 && fabs(grade_round1(1.35) - 1.4) < 1e-12 &&
           fabs(grade_round1(2.0 / 3 * 2) - 1.3) < 1e-12 && grade_round1(1e300) == 1e300,
       "round1 as Python's round(x, 1)");
}

static void test_nav_vectors(void)
{
    static const char *const three[] = {"StR = 150° […]", "StG = 2,3 kn […]",
                                        "HWZ = 08:53 MESZ/BZ […]"};
    static const char *const two[] = {"KaK = 286° [± 1°]", "d = 9,7 sm [± 0,2 sm]"};
    struct grade_nav_result r;

    r = nav(three, 3, "StR 150", 2);
    ok(r.score == 0.7 && !r.is_correct && r.matched == 1 && r.keys == 3 &&
           strcmp(r.feedback, "1 von 3 Schlüsselwerten erkannt. Bitte mit der Musterlösung "
                              "vergleichen.") == 0,
       "\"StR 150\": 0.7, 1 von 3");
    r = nav(three, 3, "150 und 2,3", 2);
    ok(r.score == 1.3 && !r.is_correct, "\"150 und 2,3\": 1.3");
    r = nav(three, 3, "hwz 08:53  MESZ/BZ, 150°, 2,3kn", 1);
    ok(r.score == 1.0 && r.is_correct &&
           strcmp(r.feedback, "Alle wesentlichen Werte korrekt.") == 0,
       "all three, max 1: 1.0, correct");

    /* The original unit tests. */
    r = nav(two, 2, "KaK = 286 und d = 9,7", 2);
    ok(r.score == 2.0 && r.is_correct, "both keys: 2.0, correct");
    r = nav(two, 2, "KaK = 286", 2);
    ok(r.score == 1.0 && !r.is_correct, "one of two: 1.0");
    r = nav(two, 2, "I have no idea", 2);
    ok(r.score == 0.0 && !r.is_correct &&
           strcmp(r.feedback, "Keine übereinstimmenden Werte gefunden. Bitte Musterlösung "
                              "prüfen.") == 0,
       "none: 0.0");
    r = nav(two, 2, "", 2);
    ok(r.score == 0.0 && !r.is_correct && !r.needs_self_assessment &&
           strcmp(r.feedback, "Keine Antwort eingegeben.") == 0,
       "empty: 0.0");
    /* Fix (c) changes this one: the reference gave 1.0 (half of max). */
    r = nav(NULL, 0, "Some answer", 2);
    ok(r.score == 0.0 && !r.is_correct && r.needs_self_assessment &&
           strstr(r.feedback, "Musterlösung") != NULL,
       "no keys: 0.0 and self-assessment (fix c; was 1.0)");
}

static void test_nav_fixes(void)
{
    static const char *const kak[] = {"KaK = 286° [± 1°]"};
    static const char *const hwz[] = {"HWZ = 08:53 MESZ/BZ [Keine Toleranz]"};
    static const char *const dist[] = {"d = 9,7 sm [± 0,2 sm]"};
    static const char *const bs[] = {"BS =\u200a\u200a -\u20097° [± 1°]"};
    static const char *const abl[] = {"Abl = ± 0° [Keine Toleranz]"};
    static const char *const noeq[] = {"331° [Keine Toleranz]", "[Keine Toleranz]"};
    static const char *const valueless[] = {"[Keine Toleranz]", "   "};
    static const char *const pos[] = {
        "Ob10:45 BZ \ue077 = 54°04,3‘N, \ue06c = 008°20,1‘E [± 0,2‘]"};

    /* (a) whole tokens. */
    ok(nav(kak, 1, "KaK 1286°", 2).matched == 0, "1286 does not match 286 (fix a)");
    ok(nav(kak, 1, "KaK 286,5°", 2).matched == 0, "286,5 does not match 286 (fix a)");
    ok(nav(kak, 1, "KaK 286°", 2).matched == 1 && nav(kak, 1, "KaK 286 °", 2).matched == 1 &&
           nav(kak, 1, "KaK=286", 2).matched == 1,
       "286°, 286 ° and =286 match");
    ok(nav(dist, 1, "d = 9,7sm", 2).matched == 1 && nav(dist, 1, "d = 19,7 sm", 2).matched == 0 &&
           nav(dist, 1, "d = 9 , 7 sm", 2).matched == 0,
       "a decimal comma stays inside one value");
    ok(nav(hwz, 1, "HWZ 08:53 MESZ / BZ", 2).matched == 1 &&
           nav(hwz, 1, "HWZ 08:53 MESZ", 2).matched == 0 &&
           nav(hwz, 1, "HWZ 18:53 MESZ/BZ", 2).matched == 0,
       "a time stays one value; the zone words must follow");
    /* (b) Unicode spaces on both sides; signs are values. */
    ok(nav(bs, 1, "BS = -7°", 2).matched == 1 &&
           nav(bs, 1, "BS = \u2013\u20097\u00b0", 2).matched == 1 &&
           nav(bs, 1, "BS\u00a0=\u00a0-\u200a7", 2).matched == 1,
       "thin and hair spaces in the key, none or others in the answer (fix b)");
    ok(nav(bs, 1, "BS = 7°", 2).matched == 0 && nav(bs, 1, "BS = +7°", 2).matched == 0,
       "the sign must be right");
    ok(nav(abl, 1, "Abl ±0°", 2).matched == 1, "±0");
    ok(nav(kak, 1, "KaK\u2009=\u2009286\u202f°", 2).matched == 1, "narrow spaces in the answer");
    /* Positions: the data writes φ and λ in a symbol font (U+E077, U+E06C),
     * which no student can type; symbols and Greek letters separate, so the
     * coordinates match however they are labelled (never in the reference). */
    ok(nav(pos, 1, "Ob 10:45 BZ: φ = 54°04,3'N, λ = 008°20,1'E", 2).matched == 1 &&
           nav(pos, 1, "54° 04,3’ N / 008° 20,1’ E", 2).matched == 1 &&
           nav(pos, 1, "φ = 54°04,3'S, λ = 008°20,1'E", 2).matched == 0,
       "position keys match with any labels, not with the wrong hemisphere");
    /* (c) no usable keys. */
    {
        struct grade_nav_result r = nav(valueless, 2, "irgendwas", 2);
        ok(r.score == 0 && r.needs_self_assessment && r.keys == 0 && r.skipped == 2 &&
               strcmp(r.feedback, "Automatische Bewertung nicht möglich – bitte mit der "
                                  "Musterlösung vergleichen.") == 0,
           "only valueless keys: self-assessment (fix c)");
    }
    /* (d) keys without "=". */
    {
        struct grade_nav_result r = nav(noeq, 2, "331°", 2);
        ok(r.matched == 1 && r.keys == 1 && r.skipped == 1 && r.score == 2 && r.is_correct,
           "a key without = is valued by its number; one without a number is not counted (fix "
           "d)");
    }
    {
        struct grade_nav_result r;
        ok(grade_nav_answer(&A, kak, 1, "286", -1, &r, &E) == -1 && E.status == 500,
           "negative max refused");
    }
}

/* Every chart task, answered with its own key answers pasted in, must get
 * full marks: extraction and matching agree with each other on real keys.
 * Counts: 177 tasks, 261 keys, 1 without a value ("[Keine Toleranz]" on
 * nav_9_13), 61 tasks without keys need self-assessment. */
static void test_nav_catalogue(void)
{
    char path[1024];
    char *json = testdata_read("sks_navigation_catalog.json", path, sizeof(path));
    cJSON *root, *sheet, *task;
    int tasks = 0, keys = 0, skipped = 0, self = 0, full = 0;

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
            int n = cJSON_GetArraySize(ka), i = 0;
            const char **k = arena_alloc(&A, (size_t)(n + 1) * sizeof(*k));
            size_t len = 1;
            char *answer;
            const cJSON *s;
            struct grade_nav_result r;

            cJSON_ArrayForEach(s, ka)
            {
                k[i++] = s->valuestring;
                len += strlen(s->valuestring) + 1;
            }
            answer = arena_alloc(&A, len);
            answer[0] = '\0';
            for (i = 0; i < n; i++)
                strcat(strcat(answer, k[i]), "\n");
            if (grade_nav_answer(&A, k, n, n > 0 ? answer : "x", 2, &r, &E) != 0)
                continue;
            tasks++;
            keys += r.keys + r.skipped;
            skipped += r.skipped;
            self += r.needs_self_assessment;
            full += r.keys > 0 && r.matched == r.keys && r.score == 2;
            arena_reset(&A);
        }
    }
    cJSON_Delete(root);
    ok(tasks == 177 && keys == 261, "177 tasks, 261 key answers (%d, %d)", tasks, keys);
    ok(skipped == 1, "one key answer without a value (%d)", skipped);
    ok(self == 61, "61 tasks need self-assessment (%d)", self);
    ok(full == 177 - 61, "every other task matches its own key answers in full (%d)", full);
}

int main(void)
{
    arena_init(&A, 1 << 16);
    test_exam_vectors();
    test_exam_rules();
    test_study();
    test_nav_extraction();
    test_nav_vectors();
    test_nav_fixes();
    test_nav_catalogue();
    arena_cleanup(&A);
    return tap_done();
}
