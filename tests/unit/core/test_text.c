/*
 * test_text.c - lib/core/text: UTF-8 decoding of good and bad bytes, German
 * lower-casing, whitespace normalisation, the graders' tokeniser, and the
 * catalogue cleanup rule by rule, for idempotence and over the real data.
 */
#include <string.h>

#include <cjson/cJSON.h>

#include "tap.h"
#include "testdata.h"
#include "core/text.h"

static struct arena A;

/* s with newlines and CRs escaped, to keep each TAP line one line. */
static const char *show(const char *s)
{
    char *out = arena_alloc(&A, 2 * strlen(s) + 1), *o = out;

    for (; *s; s++) {
        if (*s == '\n' || *s == '\r') {
            *o++ = '\\';
            *o++ = *s == '\n' ? 'n' : 'r';
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
    return out;
}

static int str_is(const char *got, const char *want, const char *what)
{
    return ok(strcmp(got, want) == 0, "%s: \"%s\" (want \"%s\")", what, show(got), show(want));
}

static void test_decode(void)
{
    uint32_t cp;

    ok(text_utf8_decode("", &cp) == 0 && cp == 0, "terminator: 0 bytes");
    ok(text_utf8_decode("A", &cp) == 1 && cp == 'A', "ASCII");
    ok(text_utf8_decode("ä", &cp) == 2 && cp == 0xE4, "two bytes");
    ok(text_utf8_decode("\u2009", &cp) == 3 && cp == 0x2009, "three bytes");
    ok(text_utf8_decode("\U0001F600", &cp) == 4 && cp == 0x1F600, "four bytes");
    /* Each invalid form is one bad byte read as U+FFFD. */
    ok(text_utf8_decode("\x80x", &cp) == 1 && cp == 0xFFFD, "stray continuation byte");
    ok(text_utf8_decode("\xC3", &cp) == 1 && cp == 0xFFFD, "truncated at the terminator");
    ok(text_utf8_decode("\xE2\x80", &cp) == 1 && cp == 0xFFFD, "three-byte form cut short");
    ok(text_utf8_decode("\xC0\x80", &cp) == 1 && cp == 0xFFFD, "overlong NUL");
    ok(text_utf8_decode("\xE0\x80\xAF", &cp) == 1 && cp == 0xFFFD, "overlong three-byte");
    ok(text_utf8_decode("\xED\xA0\x80", &cp) == 1 && cp == 0xFFFD, "surrogate");
    ok(text_utf8_decode("\xF4\x90\x80\x80", &cp) == 1 && cp == 0xFFFD, "above U+10FFFF");
    ok(text_utf8_decode("\xFF", &cp) == 1 && cp == 0xFFFD, "0xFF");
    ok(text_utf8_valid("Größe 1\u00a0000 m") && !text_utf8_valid("a\xC3") &&
           !text_utf8_valid("\xED\xA0\x80") && text_utf8_valid("\xEF\xBF\xBD") &&
           text_utf8_valid(NULL),
       "text_utf8_valid");
    ok(text_utf8_length("prüfen") == 6 && text_utf8_length("a\xFF\xFE") == 3 &&
           text_utf8_length(NULL) == 0,
       "length in code points, a bad byte counts one");
}

static void test_lower_space(void)
{
    str_is(text_lower(&A, "ÄÖÜ Straße STRASSE \u1E9E"), "äöü straße strasse ß", "German");
    str_is(text_lower(&A, "ÀÉÎÕØÞ × Ā Ł Ń Ŷ Ÿ Ž ĸ"), "àéîõøþ × ā ł ń ŷ ÿ ž ĸ", "Latin-1, Ext-A");
    str_is(text_lower(&A, "\u212A \u0130X"), "k i\u0307x", "Kelvin sign, dotted capital I");
    str_is(text_lower(&A, "ΣΦ Я"), "ΣΦ Я", "other scripts unchanged");
    str_is(text_lower(&A, "A\xFF"), "a\uFFFD", "bad byte replaced");
    str_is(text_normalize_space(&A, " \t a\u00a0\u2009b\n\nc\u3000\u202F d\u200a\r"), "a b c d",
           "Unicode spaces collapse and trim");
    str_is(text_normalize_space(&A, "a\u200Bb"), "a\u200Bb", "zero-width space is no space");
    str_is(text_normalize_space(&A, "\u2002\u2003"), "", "spaces only");
    str_is(text_trim(&A, "\u00a0 x y \n"), "x y", "trim");
    ok(text_is_blank("\u00a0\u2003\n\t ") && text_is_blank(NULL) && !text_is_blank(" . "), "blank");
    str_is(text_prefix(&A, "prüfen", 3), "prü", "prefix counts code points");
    str_is(text_prefix(&A, "ab", 10), "ab", "prefix longer than text");
}

static void test_tokenize(void)
{
    struct text_token *t;
    size_t n;

    n = text_tokenize(&A, "Vollständigkeit der Unterlagen PRÜFEN!", &t);
    ok(n == 4 && strcmp(t[0].s, "vollständigkeit") == 0 && t[0].ncp == 15 && t[0].len == 16 &&
           strcmp(t[3].s, "prüfen") == 0 && t[3].ncp == 6,
       "words lower-cased, lengths in code points");
    n = text_tokenize(&A, "Straße", &t);
    ok(n == 1 && t[0].ncp == 6, "ß is a letter");
    n = text_tokenize(&A, "Café-Bar 286°N 1,5m", &t);
    ok(n == 6 && strcmp(t[0].s, "caf") == 0 && strcmp(t[1].s, "bar") == 0 &&
           strcmp(t[2].s, "286") == 0 && strcmp(t[3].s, "n") == 0 && strcmp(t[4].s, "1") == 0 &&
           strcmp(t[5].s, "5m") == 0,
       "é ° - , separate; letters and digits run together (\"5m\")");
    n = text_tokenize(&A,
                      "ab\xFF"
                      "cd\xC3",
                      &t);
    ok(n == 2 && strcmp(t[0].s, "ab") == 0 && strcmp(t[1].s, "cd") == 0,
       "bad bytes separate, nothing read past the end");
    n = text_tokenize(&A, "\u0130stanbul", &t);
    ok(n == 2 && strcmp(t[0].s, "i") == 0, "İ lowers to i + combining dot, which separates");
    n = text_tokenize(&A, " \u00a0.,;", &t);
    ok(n == 0 && t == NULL, "no tokens");
    n = text_tokenize(&A, "\u00bd\u2460x\u0663", &t);
    ok(n == 1 && strcmp(t[0].s, "x") == 0, "only ASCII digits are digits");
}

/* Cleaning gives `want`, and cleaning that again changes nothing. */
static void clean_is(const char *in, const char *want, const char *what)
{
    const char *once = text_clean_catalogue(&A, in);
    const char *twice = text_clean_catalogue(&A, once);

    ok(strcmp(once, want) == 0 && strcmp(twice, once) == 0, "clean %s: \"%s\"", what, show(once));
}

static void test_clean_rules(void)
{
    /* Image markers and the whitespace they leave. */
    clean_is("[image: sks_images/a.gif] [image: sks_images/b.gif] Man hört", "Man hört",
             "markers at the start");
    clean_is("Vorspring, Vorleine.\n[image: sks_images/q78_a1.gif]", "Vorspring, Vorleine.",
             "marker at the end");
    clean_is("[image: a.gif]\n\nVor der Bö\n[image: b.gif]\n\nBei der Bö:",
             "Vor der Bö\n\nBei der Bö:", "marker lines leave one blank line");
    clean_is("[image: sks_images/q79_a1.gif]", "", "answer that is only a figure");
    clean_is("Text [image: x.gif] mehr", "Text mehr", "marker inside a line");
    clean_is("[image: offen\nText", "[image: offen\nText", "unterminated marker kept");
    clean_is("[imagine] [Image: x]", "[imagine] [Image: x]", "not markers");

    /* Layout. */
    clean_is("a  b\t c \nd", "a b c\nd", "space runs and line ends");
    clean_is("a\r\nb\rc", "a\nb\nc", "CR and CRLF");
    clean_is("a\n\n\n\nb\n", "a\n\nb", "one blank line at most");
    clean_is("1. Worum?\n2. Wer?\n\nAbsatz", "1. Worum?\n2. Wer?\n\nAbsatz",
             "list lines and paragraphs kept");
    clean_is("Mindestens 1\u00a0000 m.", "Mindestens 1\u00a0000 m.", "no-break space kept");

    /* No space before closing punctuation. */
    clean_is("etwa von 20 bis 200 m . Es", "etwa von 20 bis 200 m. Es", "space before .");
    clean_is("Forschungsanlagen u. a. , die", "Forschungsanlagen u. a., die", "space before ,");
    clean_is("Verordnung zu den KVR ?", "Verordnung zu den KVR?", "space before ?");
    clean_is("( Fw ; Abl + Mw = Fw)", "(Fw; Abl + Mw = Fw)", "space before ;");
    clean_is("rwN : rechtweisend Nord", "rwN: rechtweisend Nord", "space before :");
    clean_is("24 : 12 = 2 Ampere", "24 : 12 = 2 Ampere", "division colon kept");
    clean_is("24 W : 12 V = 2 A", "24 W : 12 V = 2 A", "division with units kept");
    clean_is("sind 0, ... Minuten", "sind 0, ... Minuten", "ellipsis kept");
    clean_is("Wert .5 und z. B. GPS", "Wert .5 und z. B. GPS", "decimal point and z. B. kept");
    clean_is("Länge 1,5 m - also", "Länge 1,5 m - also", "numbers and dashes kept");

    /* No space after "(". */
    clean_is("Seefahrer ( NfS )?", "Seefahrer (NfS)?", "( NfS )");
    clean_is("Hörfunksender ( UKW , KW , MW , LW ), Küste",
             "Hörfunksender (UKW, KW, MW, LW), Küste", "list in parentheses");
    clean_is("(lang-kurz-kurz) etwa", "(lang-kurz-kurz) etwa", "clean parentheses kept");

    /* Paired quotes. */
    clean_is("in der \" Admiralty List of Radio Signals \".",
             "in der \"Admiralty List of Radio Signals\".", "spaces inside quotes");
    clean_is("Kapazität \"2 x 60 Ah \"?", "Kapazität \"2 x 60 Ah\"?", "space before closing quote");
    clean_is("\"Vorfahrt\" und \"weißer Stern\" oder", "\"Vorfahrt\" und \"weißer Stern\" oder",
             "quotes kept");
    clean_is("Rohr 5\" und \" Kegel\" x", "Rohr 5\" und \" Kegel\" x",
             "odd quote count left alone");

    /* Hyphens. */
    clean_is("in der GPS -Navigation", "in der GPS-Navigation", "GPS -Navigation");
    clean_is("das MARPOL -Übereinkommen", "das MARPOL-Übereinkommen",
             "capital umlaut after hyphen");
    clean_is("Online -Dienste", "Online-Dienste", "capitalised word before");
    clean_is("ein Bord- WC und T- Online", "ein Bord-WC und T-Online", "space after hyphen");
    clean_is("Stromrichtung und -stärke", "Stromrichtung und -stärke", "suspended hyphen kept");
    clean_is("UKW-Geräte und -Antennen", "UKW-Geräte und -Antennen",
             "suspended hyphen before a capital kept");
    clean_is("Nord- und Ostsee, Koch- oder", "Nord- und Ostsee, Koch- oder",
             "trailing suspended hyphen kept");
    clean_is("vor- Und zurück", "vor- Und zurück", "no capital before the hyphen: kept");
    clean_is("Kegel - Spitze unten - im", "Kegel - Spitze unten - im", "spaced dash kept");
    clean_is("WT - H = KT", "WT - H = KT", "minus kept");
    clean_is("Punkte:\n- Erstens", "Punkte:\n- Erstens", "list marker kept");
    clean_is("lang-kurz-kurz \u2013 Ende", "lang-kurz-kurz \u2013 Ende", "en dash kept");

    /* CO2 subscripts. */
    clean_is("der CO 2 -Löscher", "der CO2-Löscher", "CO 2");
    clean_is("eventuell CO2 2 -Löscher)", "eventuell CO2-Löscher)", "doubled CO2 2");
    clean_is("CO 20 und ECO 2", "CO 20 und ECO 2", "not a CO2 subscript");

    /* Robustness. */
    clean_is("", "", "empty");
    str_is(text_clean_catalogue(&A, NULL), "", "NULL is empty");
    clean_is("a \xFF .", "a \uFFFD.", "bad byte replaced, rules still apply");
    clean_is(" ( [image: x] ) . ", "().", "rules uncover work for each other");
}

/* Over the real catalogue. Established by reading every change (a throwaway
 * script listed them all): 94 of the 638 entries change, in 104 question or
 * answer texts; the short-answer items are already clean (0 change). By
 * rule, in entries: markers 17 (3 answers become empty: the figure is the
 * answer), space before punctuation 53, space after "(" 35, hyphens 20, CO2
 * 4, quotes 3 (overlapping). Examples: navigation_2 "GPS -Navigation",
 * navigation_9 "( NfS )?", navigation_3 "200 m .", wetterkunde_13
 * "( UKW , KW , MW , LW )", wetterkunde_64 "\" Admiralty List of Radio
 * Signals \"", seemannschaft_i_120 "( ABC -Pulverlöscher und eventuell CO2 2
 * -Löscher)". Left alone on purpose: "24 : 12 = 2" (a division), "0, ...
 * Minuten" (an ellipsis), "N / S - und" and "SEEWIS - Online" (a spaced
 * hyphen cannot be told from a dash), "O k"/"2 3" (subscripts of other
 * kinds). */
static void test_clean_catalogue(void)
{
    char path[1024];
    char *json = testdata_read("sks_catalog.json", path, sizeof(path));
    cJSON *root, *q;
    int entries = 0, changed_entries = 0, changed_texts = 0, items = 0, changed_items = 0;
    int markers = 0, artefacts = 0, unstable = 0, invalid = 0;
    static const char *const fields[] = {"question", "answer"};

    if (json == NULL) {
        ok(1, "catalogue cleanup # SKIP %s not readable", path);
        return;
    }
    root = cJSON_Parse(json);
    free(json);
    ok(cJSON_IsArray(root), "catalogue parses");
    cJSON_ArrayForEach(q, root)
    {
        int changed = 0;
        const cJSON *s;

        entries++;
        for (int i = 0; i < 2; i++) {
            const char *in = cJSON_GetStringValue(cJSON_GetObjectItem(q, fields[i]));
            const char *out = text_clean_catalogue(&A, in ? in : "");
            const char *p;

            if (strcmp(in ? in : "", out) != 0) {
                changed = 1;
                changed_texts++;
            }
            markers += strstr(out, "[image:") != NULL;
            for (p = out; (p = strstr(p, " .")) != NULL; p++)
                artefacts += strncmp(p, " ...", 4) != 0;
            artefacts +=
                strstr(out, "( ") != NULL || strstr(out, " )") != NULL || strstr(out, " ,") != NULL;
            unstable += strcmp(text_clean_catalogue(&A, out), out) != 0;
            invalid += !text_utf8_valid(out);
        }
        changed_entries += changed;
        cJSON_ArrayForEach(s, cJSON_GetObjectItem(q, "short_answer"))
        {
            items++;
            changed_items += strcmp(text_clean_catalogue(&A, s->valuestring), s->valuestring) != 0;
        }
        arena_reset(&A);
    }
    cJSON_Delete(root);
    ok(entries == 638, "638 entries (%d)", entries);
    ok(markers == 0, "no [image: markers left (%d)", markers);
    ok(artefacts == 0, "no \" .\", \" ,\", \"( \" or \" )\" left (%d)", artefacts);
    ok(unstable == 0 && invalid == 0, "cleaning is idempotent, output valid UTF-8");
    ok(changed_entries == 94, "94 entries change (%d)", changed_entries);
    ok(changed_texts == 104, "104 question/answer texts change (%d)", changed_texts);
    ok(items > 0 && changed_items == 0, "short-answer items are already clean (%d of %d change)",
       changed_items, items);
}

int main(void)
{
    arena_init(&A, 1 << 16);
    test_decode();
    test_lower_space();
    test_tokenize();
    test_clean_rules();
    test_clean_catalogue();
    arena_cleanup(&A);
    return tap_done();
}
