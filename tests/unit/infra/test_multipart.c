/*
 * test_multipart.c - lib/infra/multipart: bodies sent by curl and by node's
 * FormData (fixtures in tests/unit/data/), hand-built bodies for every rule
 * (boundary parameter, CRLF only, truncation at every byte, no preamble or
 * epilogue, part headers, bounds), the audio sniffer and the language check.
 *
 * The fixtures were captured from a loopback server: multipart-curl.* from
 *   curl -F 'audio=@answer-recording.webm;type=audio/webm' -F language=de URL
 * (curl 7.88) and multipart-undici.* from node 20's FormData with the same
 * two fields (a Blob named answer-recording.webm); .bin is the body, .ctype
 * the Content-Type header. The audio is a 24-byte WebM (EBML) header.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "infra/multipart.h"
#include "tap.h"

static struct arena A;
static struct err E;
static struct multipart_part *P;
static int N;

static int code_is(const char *code)
{
    return E.code != NULL && strcmp(E.code, code) == 0;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) != NULL && fread(buf, 1, (size_t)n, f) == (size_t)n) {
        buf[n] = '\0';
        *len = (size_t)n;
    } else {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

static int parse(const char *ctype, const char *body, size_t len)
{
    return multipart_parse(&A, ctype, body, len, &P, &N, &E);
}

static int parse_s(const char *ctype, const char *body)
{
    return parse(ctype, body, strlen(body));
}

static int data_is(const struct multipart_part *p, const char *want)
{
    return p != NULL && p->len == strlen(want) && memcmp(p->data, want, p->len) == 0;
}

static void test_fixture(const char *name)
{
    char path[256], *body, *ctype;
    size_t len, clen, bad = 0, first_bad = 0;
    const struct multipart_part *audio, *lang;

    snprintf(path, sizeof(path), "tests/unit/data/multipart-%s.bin", name);
    body = slurp(path, &len);
    snprintf(path, sizeof(path), "tests/unit/data/multipart-%s.ctype", name);
    ctype = slurp(path, &clen);
    if (!ok(body != NULL && ctype != NULL, "%s fixture read", name))
        return;
    ctype[strcspn(ctype, "\r\n")] = '\0';
    ok(parse(ctype, body, len) == 0 && N == 2, "%s: two parts", name);
    audio = multipart_find(P, N, "audio");
    lang = multipart_find(P, N, "language");
    ok(audio != NULL && strcmp(audio->filename, "answer-recording.webm") == 0 &&
           strcmp(audio->content_type, "audio/webm") == 0 && audio->len == 24 &&
           (const char *)audio->data > body && (const char *)audio->data + audio->len < body + len,
       "%s: the audio part, its filename and type, pointing into the body", name);
    ok(audio != NULL && multipart_sniff_audio(audio->data, audio->len) != NULL &&
           strcmp(multipart_sniff_audio(audio->data, audio->len), "audio/webm") == 0,
       "%s: the upload sniffs as WebM", name);
    ok(data_is(lang, "de") && lang->filename == NULL && lang->content_type == NULL,
       "%s: the language field", name);

    /* Every proper prefix but the one that ends right after "--boundary--"
     * lacks the closing boundary. */
    for (size_t k = 0; k + 2 < len; k++) {
        if (parse(ctype, body, k) != -1 || !code_is("multipart_truncated")) {
            bad++;
            if (bad == 1)
                first_bad = k;
        }
    }
    ok(bad == 0, "%s: every truncation refused as multipart_truncated (first bad %zu)", name,
       first_bad);
    ok(parse(ctype, body, len - 2) == 0 && N == 2,
       "%s: the closing boundary without its CRLF is complete", name);
    free(body);
    free(ctype);
}

#define CT "multipart/form-data; boundary=XyZ"

static void test_content_type(void)
{
    const char *b;

    ok(multipart_boundary(&A, "multipart/form-data; boundary=abc", &b, &E) == 0 &&
           strcmp(b, "abc") == 0,
       "plain boundary");
    ok(multipart_boundary(&A, " Multipart/Form-Data ;charset=utf-8;  BOUNDARY=\"a b:c=d?\" ;", &b,
                          &E) == 0 &&
           strcmp(b, "a b:c=d?") == 0,
       "quoted boundary with spaces, case-insensitive names, other parameters");
    ok(multipart_boundary(&A, "multipart/form-data; bound=x; boundaryx=y; boundary=AzZ09", &b,
                          &E) == 0 &&
           strcmp(b, "AzZ09") == 0,
       "only the parameter named boundary counts");
    ok(multipart_boundary(&A, "multipart/form-data", &b, &E) == -1 &&
           code_is("multipart_no_boundary") && E.status == 400 && b == NULL,
       "missing boundary");
    ok(multipart_boundary(&A, "multipart/form-data; boundary=", &b, &E) == -1 &&
           code_is("multipart_no_boundary") &&
           multipart_boundary(&A, "multipart/form-data; boundary=\"\"", &b, &E) == -1 &&
           multipart_boundary(&A, "multipart/form-data; boundary=\"ab \"", &b, &E) == -1 &&
           multipart_boundary(&A, "multipart/form-data; boundary=\"ab", &b, &E) == -1 &&
           multipart_boundary(&A, "multipart/form-data; boundary=a; boundary=b", &b, &E) == -1 &&
           multipart_boundary(&A, "multipart/form-data; boundary=a{b", &b, &E) == -1 &&
           multipart_boundary(&A, "multipart/form-data; boundary={ab", &b, &E) == -1 &&
           E.status == 400 && code_is("multipart_no_boundary") &&
           multipart_boundary(&A, "multipart/form-data; boundary=\"a\\\"b\"", &b, &E) == -1 &&
           multipart_boundary(&A, "multipart/form-data; boundary", &b, &E) == -1 &&
           E.status == 400 &&
           multipart_boundary(&A, "multipart/form-data boundary=a", &b, &E) == -1 &&
           multipart_boundary(&A, "multipart/form-data; boundary=a; boundary=a", &b, &E) == -1 &&
           E.status == 400,
       "empty, trailing space, unclosed quote, twice, bad characters, no value: refused");
    ok(multipart_boundary(&A,
                          "multipart/form-data; boundary="
                          "1234567890123456789012345678901234567890123456789012345678901234567890",
                          &b, &E) == 0 &&
           multipart_boundary(
               &A,
               "multipart/form-data; boundary="
               "12345678901234567890123456789012345678901234567890123456789012345678901",
               &b, &E) == -1,
       "70 characters at most");
    ok(multipart_boundary(&A, "application/json", &b, &E) == -1 &&
           code_is("multipart_not_form_data") && E.status == 415 &&
           multipart_boundary(&A, "multipart/mixed; boundary=a", &b, &E) == -1 &&
           multipart_boundary(&A, "multipart/form-dataX; boundary=a", &b, &E) == -1 &&
           multipart_boundary(&A, NULL, &b, &E) == -1 && code_is("multipart_not_form_data") &&
           E.status == 415,
       "other media types");
    ok(parse_s("multipart/form-data", "--XyZ\r\n") == -1 && code_is("multipart_no_boundary"),
       "parse without a boundary");
}

static void test_bodies(void)
{
    static const char inner[] = "--XyZ\r\n"
                                "Content-Disposition: form-data; name=\"audio\"\r\n"
                                "\r\n"
                                "OggS\0\r\n--XyZX\r\n"
                                "--XyZ--\r\n";
    const struct multipart_part *au;

    ok(parse(CT, inner, sizeof(inner) - 1) == -1 && code_is("multipart_invalid"),
       "boundary followed by other characters inside data refused");
    {
        /* the same without the "--XyZX" line */
        static const char body[] = "--XyZ\r\n"
                                   "content-disposition: FORM-DATA; name=language\r\n"
                                   "\r\n"
                                   "en\r\n"
                                   "--XyZ  \t\r\n"
                                   "Content-Type:   audio/ogg  \r\n"
                                   "X-Other: ignored\r\n"
                                   "Content-Disposition: form-data; name=\"audio\"; "
                                   "filename=\"a\\\"b\\\\c.ogg\"; filename*=UTF-8''x.ogg\r\n"
                                   "\r\n"
                                   "OggS\0\r\n--Xy\r\n\r\n"
                                   "--XyZ--";
        ok(parse(CT, body, sizeof(body) - 1) == 0 && N == 2, "hand-built body: two parts");
        au = multipart_find(P, N, "audio");
        ok(P != NULL && strcmp(P[0].name, "language") == 0 && data_is(&P[0], "en") &&
               P[0].filename == NULL && P[0].content_type == NULL,
           "token name, lower-case header name, upper-case disposition");
        ok(au == &P[1] && strcmp(au->filename, "a\"b\\c.ogg") == 0 &&
               strcmp(au->content_type, "audio/ogg") == 0 && au->len == 13 &&
               memcmp(au->data, "OggS\0\r\n--Xy\r\n", 13) == 0,
           "escaped filename, trimmed Content-Type, NUL and partial boundary kept in data; "
           "padding after a delimiter");
        ok(multipart_find(P, N, "missing") == NULL && multipart_find(P, N, "Audio") == NULL,
           "find is exact");
    }
    ok(parse_s(CT, "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"\"\r\n"
                   "Content-Type: application/octet-stream\r\n\r\n\r\n--XyZ--\r\n") == 0 &&
           N == 1 && P[0].len == 0 && strcmp(P[0].filename, "") == 0,
       "empty file part (no file chosen)");
    ok(parse_s(CT, "--XyZ--\r\n") == 0 && N == 0 && P == NULL, "no parts");
    ok(parse_s(CT, "--XyZ\r\nContent-Dispositionx: form-data; name=\"b\"\r\n"
                   "X-Zz9-Header-Abcdef: form-data; name=\"c\"\r\n"
                   "Content-Types: text/html\r\nX-Other-Head: a/b\r\n"
                   "Content-Disposition: form-data; nam=\"n\"; file=\"f\"; name=\"a\"\r\n"
                   "\r\nx\r\n--XyZ--\r\n") == 0 &&
           N == 1 && strcmp(P[0].name, "a") == 0 && P[0].filename == NULL &&
           P[0].content_type == NULL,
       "look-alike header and parameter names are other headers and parameters");
}

static void test_refusals(void)
{
    struct buf b;

    /* boundary "x:y": "--x:y" is a delimiter, not a header named "--x". */
    ok(parse_s("multipart/form-data; boundary=\"x:y\"",
               "--x:y\r\nContent-Disposition: form-data; name=\"language\"\r\n--x:y\r\n"
               "Content-Disposition: form-data; name=\"audio\"\r\n\r\nRIFF\r\n--x:y--\r\n") == -1 &&
           code_is("multipart_invalid"),
       "a delimiter where a part header belongs is refused");
    ok(parse_s(CT, "--XyZ\r\nContent-Disposition: form-data; name=\"audio\"\r\n\r\nx\r\n"
                   "--XyZ\r\nContent-Disposition: form-data; name=\"audio\"\r\n\r\ny\r\n"
                   "--XyZ--\r\n") == -1 &&
           code_is("multipart_invalid"),
       "two parts of one name are refused");

    ok(parse_s(CT, "--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--\r\n") == -1 &&
           code_is("multipart_invalid") && E.status == 400 && P == NULL && N == 0,
       "part without Content-Disposition");
    ok(parse_s(CT, "--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n"
                   "--XyZ--\r\n") == -1 &&
           code_is("multipart_invalid") &&
           parse_s(CT, "--XyZ\r\nContent-Disposition: form-datax; name=\"a\"\r\n\r\nx\r\n"
                       "--XyZ--\r\n") == -1,
       "disposition other than form-data");
    ok(parse_s(CT, "--XyZ\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\nx\r\n"
                   "--XyZ--\r\n") == -1 &&
           parse_s(CT, "--XyZ\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nx\r\n"
                       "--XyZ--\r\n") == -1 &&
           parse_s(CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"; name=\"b\"\r\n\r\n"
                       "x\r\n--XyZ--\r\n") == -1 &&
           parse_s(CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n"
                       "--XyZ--\r\n") == -1 &&
           parse_s(CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\" x\r\n\r\nx\r\n"
                       "--XyZ--\r\n") == -1,
       "no name, empty name, name twice, unclosed quote, junk after a value");
    ok(parse_s(CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n"
                   "Content-Disposition: form-data; name=\"b\"\r\n\r\nx\r\n--XyZ--\r\n") == -1 &&
           parse_s(CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n"
                       "Content-Type: a/b\r\nContent-Type: c/d\r\n\r\nx\r\n--XyZ--\r\n") == -1,
       "two Content-Disposition or Content-Type headers");
    ok(parse_s(CT, "--XyZ\r\nContent-Disposition: form-data;\r\n name=\"a\"\r\n\r\nx\r\n"
                   "--XyZ--\r\n") == -1 &&
           code_is("multipart_invalid") &&
           parse_s(CT, "--XyZ\r\nContent-Disposition : form-data; name=\"a\"\r\n\r\nx\r\n"
                       "--XyZ--\r\n") == -1 &&
           parse_s(CT, "--XyZ\r\nNoColon\r\n\r\nx\r\n--XyZ--\r\n") == -1 &&
           parse_s(CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n: x\r\n\r\nx\r\n"
                       "--XyZ--\r\n") == -1 &&
           parse_s(CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\x01\"\r\n\r\nx\r\n"
                       "--XyZ--\r\n") == -1,
       "folded line, space before the colon, no colon, empty name, control character");

    ok(parse_s(CT, "--XyZ\nContent-Disposition: form-data; name=\"a\"\n\nx\n--XyZ--\n") == -1 &&
           code_is("multipart_invalid"),
       "LF-only body refused");
    ok(parse_s(CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\n\r\nx\r\n--XyZ--\r\n") ==
               -1 &&
           parse_s(CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\nx\r\n"
                       "--XyZ--\r\n") == -1,
       "a bare LF in the headers refused");
    ok(parse_s(CT, "--XyZ\n\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n"
                   "--XyZ--\r\n") == -1 &&
           code_is("multipart_invalid") &&
           parse_s(CT, "--XyZ\r\rContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n"
                       "--XyZ--\r\n") == -1 &&
           code_is("multipart_invalid"),
       "a delimiter line ended by LF LF or CR CR refused");
    ok(parse_s(CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\n--XyZ--\r\n") ==
               -1 &&
           code_is("multipart_truncated"),
       "LF before the closing delimiter: no delimiter, so no end");
    ok(parse_s(CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--XyZ--\r\n") ==
               0 &&
           N == 1 && data_is(&P[0], "x"),
       "the same body with CRLF parses");
    ok(parse_s(CT, "preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n"
                   "--XyZ--\r\n") == -1 &&
           code_is("multipart_invalid") &&
           parse_s(CT, "\r\n--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n"
                       "--XyZ--\r\n") == -1,
       "preamble refused");
    ok(parse_s(CT, "--XyQ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n"
                   "--XyZ--\r\n") == -1 &&
           code_is("multipart_invalid"),
       "a body that starts with another boundary");
    ok(parse_s(CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n"
                   "--XyZ--\r\nepilogue") == -1 &&
           code_is("multipart_invalid") &&
           parse_s(CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n"
                       "--XyZ--\r\n\r\n") == -1,
       "epilogue refused");
    ok(parse_s(CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--XyZ") == -1 &&
           code_is("multipart_truncated") && E.status == 400 && P == NULL,
       "missing closing boundary");
    ok(parse_s(CT, "--XyZ x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n"
                   "--XyZ--\r\n") == -1 &&
           code_is("multipart_invalid"),
       "junk after a delimiter");
    ok(parse(CT, "", 0) == -1 && code_is("multipart_truncated") && parse(CT, NULL, 0) == -1 &&
           code_is("multipart_truncated") && parse_s(CT, "--Xy") == -1 &&
           code_is("multipart_truncated") && parse_s(CT, "--Xa") == -1 &&
           code_is("multipart_invalid"),
       "empty and cut-short bodies");

    buf_init(&b);
    for (int i = 0; i < MULTIPART_MAX_PARTS; i++)
        buf_printf(&b, "--XyZ\r\nContent-Disposition: form-data; name=\"p%d\"\r\n\r\n%d\r\n", i, i);
    buf_puts(&b, "--XyZ--\r\n");
    ok(parse(CT, b.data, b.len) == 0 && N == MULTIPART_MAX_PARTS && data_is(&P[15], "15"),
       "%d parts accepted", MULTIPART_MAX_PARTS);
    buf_reset(&b);
    for (int i = 0; i <= MULTIPART_MAX_PARTS; i++)
        buf_printf(&b, "--XyZ\r\nContent-Disposition: form-data; name=\"p%d\"\r\n\r\n%d\r\n", i, i);
    buf_puts(&b, "--XyZ--\r\n");
    ok(parse(CT, b.data, b.len) == -1 && code_is("multipart_too_many_parts") && E.status == 413,
       "%d parts refused", MULTIPART_MAX_PARTS + 1);

    buf_reset(&b);
    buf_puts(&b, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Pad: ");
    while (b.len < strlen("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n") +
                       MULTIPART_MAX_HEADER_LINE)
        buf_putc(&b, 'p');
    buf_puts(&b, "\r\n\r\nx\r\n--XyZ--\r\n");
    ok(parse(CT, b.data, b.len) == 0 && N == 1, "a header line of %d bytes accepted",
       MULTIPART_MAX_HEADER_LINE);
    buf_reset(&b);
    buf_puts(&b, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Pad: ");
    while (b.len < strlen("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n") +
                       MULTIPART_MAX_HEADER_LINE + 1)
        buf_putc(&b, 'p');
    buf_puts(&b, "\r\n\r\nx\r\n--XyZ--\r\n");
    ok(parse(CT, b.data, b.len) == -1 && code_is("multipart_header_too_long") && E.status == 431,
       "one byte more refused");
    buf_reset(&b);
    buf_puts(&b, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n");
    for (int i = 1; i < MULTIPART_MAX_HEADERS; i++)
        buf_printf(&b, "X-H%d: v\r\n", i);
    buf_puts(&b, "\r\nx\r\n--XyZ--\r\n");
    ok(parse(CT, b.data, b.len) == 0, "%d header lines accepted", MULTIPART_MAX_HEADERS);
    buf_reset(&b);
    buf_puts(&b, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n");
    for (int i = 0; i < MULTIPART_MAX_HEADERS; i++)
        buf_printf(&b, "X-H%d: v\r\n", i);
    buf_puts(&b, "\r\nx\r\n--XyZ--\r\n");
    ok(parse(CT, b.data, b.len) == -1 && code_is("multipart_header_too_long"),
       "%d header lines refused", MULTIPART_MAX_HEADERS + 1);
    buf_cleanup(&b);
}

static int sniff_is(const char *bytes, size_t len, const char *want)
{
    const char *got = multipart_sniff_audio(bytes, len);
    return want == NULL ? got == NULL : got != NULL && strcmp(got, want) == 0;
}

/* An "ftyp" box header: size, type, major brand. */
static int mp4_is(uint32_t size, const char *brand, const char *want)
{
    char b[12] = {
        (char)(size >> 24), (char)(size >> 16), (char)(size >> 8), (char)size, 'f', 't', 'y', 'p'};
    memcpy(b + 8, brand, 4);
    return sniff_is(b, sizeof(b), want);
}

static void test_sniff(void)
{
    ok(sniff_is("\x1a\x45\xdf\xa3\x9f\x42\x86\x81", 8, "audio/webm") &&
           sniff_is("\x1a\x45\xdf\xa3", 4, "audio/webm"),
       "WebM/Matroska (EBML)");
    ok(sniff_is("OggS\0\x02\0\0", 8, "audio/ogg"), "Ogg");
    ok(sniff_is("RIFF\x24\x08\0\0WAVEfmt ", 16, "audio/wav") &&
           sniff_is("RIFF\x24\x08\0\0WAVE", 12, "audio/wav") &&
           sniff_is("RIFF\x24\x08\0\0AVI LIST", 16, NULL) &&
           sniff_is("RIFF\x24\x08\0\0WAV", 11, NULL),
       "WAV (RIFF....WAVE), not AVI, not cut short");
    ok(sniff_is("ID3\x04\0\0\0\0\x01\x00", 10, "audio/mpeg") &&
           sniff_is("ID3\x02\0\0\0\0\x01\x00", 10, "audio/mpeg") &&
           sniff_is("ID3\x05\0\0\0\0\x01\x00", 10, NULL) &&
           sniff_is("ID3\x03\xff\0\0\x01\x00", 10, NULL) && sniff_is("ID3 tag notes", 13, NULL) &&
           sniff_is("ID3\x09\0\0\0\0\x01\x00", 10, NULL),
       "MP3 with an ID3v2.2-2.4 tag; not text starting with ID3, not v5, not revision 0xFF");
    ok(sniff_is("\xff\xfb\x90\x64", 4, "audio/mpeg") &&
           sniff_is("\xff\xf3\x84\xc4", 4, "audio/mpeg") &&
           sniff_is("\xff\xe3\x18\xc4", 4, "audio/mpeg"),
       "MPEG audio frame sync: MPEG-1, MPEG-2, MPEG-2.5 layer III");
    ok(sniff_is("\xff\xf1\x50\x80", 4, NULL) && sniff_is("\xff\xfb\xf0\x64", 4, NULL) &&
           sniff_is("\xff\xfb\x9c\x64", 4, NULL) && sniff_is("\xff\xeb\x90\x64", 4, NULL) &&
           sniff_is("\xff\xfb\x90\x66", 4, NULL) && sniff_is("\xff\xd0\x90\x64", 4, NULL),
       "not MPEG: AAC ADTS (layer 0), bad bitrate, bad sample rate, reserved version, reserved "
       "emphasis, no sync");
    ok(sniff_is("\0\0\0\x20"
                "ftypM4A \0\0\0\0",
                16, "audio/mp4") &&
           mp4_is(0x1c, "iso5", "audio/mp4") && mp4_is(16, "mp42", "audio/mp4") &&
           mp4_is(0x01000000, "isom", "audio/mp4") && mp4_is(15, "M4A ", NULL) &&
           mp4_is(8, "M4A ", NULL) && mp4_is(0x20, "\x01M4A", NULL) &&
           mp4_is(0x20, "M4A\x7f", NULL) && mp4_is(0x20, "\x01\x02\x03\x04", NULL),
       "MP4/M4A: ftyp box at offset 4 with a sane size and brand");
    ok(sniff_is("Hallo, das ist eine Audiodatei.", 31, NULL) &&
           sniff_is("<!DOCTYPE html><html>", 21, NULL) &&
           sniff_is("{\"audio\":\"webm\"}", 16, NULL) && sniff_is("%PDF-1.4", 8, NULL) &&
           sniff_is("\x89PNG\r\n\x1a\n", 8, NULL),
       "text/plain, HTML, JSON, PDF and PNG bytes are no audio");
    ok(sniff_is("Ogg", 3, NULL) && sniff_is("", 0, NULL) && multipart_sniff_audio(NULL, 8) == NULL,
       "short or no data");
}

static void test_language(void)
{
    static const char *const good[] = {"de", "en", "fr", "nl", "da", "pl", "es", "it", "sv", "no"};
    static const char *const bad[] = {"DE", "De", "deu", "d", "", "xx", "de ", " de", "zz", "ger"};
    int all_good = 1, all_bad = 1;

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        all_good &= multipart_language_ok(good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        all_bad &= !multipart_language_ok(bad[i]);
    ok(all_good, "the allow-list is accepted");
    ok(all_bad && !multipart_language_ok(NULL),
       "upper case, three letters, blanks, unknown codes, NULL refused");
}

int main(void)
{
    arena_init(&A, 1 << 16);
    test_fixture("curl");
    test_fixture("undici");
    test_content_type();
    test_bodies();
    test_refusals();
    test_sniff();
    test_language();
    arena_cleanup(&A);
    return tap_done();
}
