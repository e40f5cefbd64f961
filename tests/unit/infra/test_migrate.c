/*
 * test_migrate.c - lib/infra/migrate file handling: ordering, naming, checksums,
 * duplicate versions, the no-transaction marker, and migrate_split_sql()
 * (how a no-transaction file is cut into statements). (Applying, locking
 * and drift against PostgreSQL are covered by the integration tests.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "infra/migrate.h"
#include "tap.h"

static char dir[] = "/tmp/easysks-migrate-XXXXXX";

static void put(const char *name, const char *text)
{
    char path[512];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

/* ---- migrate_split_sql ------------------------------------------------------- */

/* The statements of `sql` with surrounding whitespace trimmed, as
 * "[stmt][stmt]", or "error" for -1. */
static const char *split(const char *sql)
{
    static char out[4096];
    struct sql_span spans[16];
    int n = migrate_split_sql(sql, strlen(sql), spans, 16);
    size_t used = 0;

    if (n < 0)
        return "error";
    out[0] = '\0';
    for (int i = 0; i < n && i < 16; i++) {
        const char *p = sql + spans[i].off;
        size_t len = spans[i].len;
        while (len > 0 && (*p == ' ' || *p == '\n' || *p == '\t')) {
            p++;
            len--;
        }
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\n' || p[len - 1] == '\t'))
            len--;
        used += (size_t)snprintf(out + used, sizeof(out) - used, "[%.*s]", (int)len, p);
    }
    return out;
}

static void split_case(const char *sql, const char *want, const char *what)
{
    const char *got = split(sql);
    if (!ok(strcmp(got, want) == 0, "split: %s", what))
        printf("# got  %s\n# want %s\n", got, want);
}

static void test_split_sql(void)
{
    struct sql_span spans[4];
    const char *four = "SELECT 1;SELECT 2;SELECT 3;SELECT 4";
    int n;

    /* plain */
    n = migrate_split_sql("SELECT 1; SELECT 2;", 19, spans, 4);
    ok(n == 2 && spans[0].off == 0 && spans[0].len == 8 && spans[1].off == 9 && spans[1].len == 9,
       "split: two statements, spans exclude the semicolon");
    split_case("CREATE TABLE t (a int);\nINSERT INTO t VALUES (1);\n",
               "[CREATE TABLE t (a int)][INSERT INTO t VALUES (1)]", "plain statements");
    split_case("SELECT 1; SELECT 2", "[SELECT 1][SELECT 2]", "last statement without semicolon");
    n = migrate_split_sql("SELECT 1; SELECT 2", 9, spans, 4);
    ok(n == 1 && spans[0].len == 8, "split: only `len` bytes are read");
    split_case("", "", "empty text: no statements");
    split_case(";; ;\n;", "", "only semicolons: no statements");
    split_case(";;SELECT 1;;  ; SELECT 2;;", "[SELECT 1][SELECT 2]", "empty statements dropped");

    /* quotes */
    split_case("INSERT INTO t VALUES ('a;b'); SELECT 'it''s;'';';",
               "[INSERT INTO t VALUES ('a;b')][SELECT 'it''s;'';']",
               "semicolons inside '...' with '' escapes");
    split_case("SELECT 'a\\'; SELECT 2;", "[SELECT 'a\\'][SELECT 2]",
               "backslash is not an escape in a standard string");
    split_case("SELECT E'a\\';b'; SELECT e'\\\\'; SELECT E'x''y;';",
               "[SELECT E'a\\';b'][SELECT e'\\\\'][SELECT E'x''y;']",
               "E'..\\'..' strings: backslash escapes the quote");
    split_case("SELECT E'a''\\';b'; SELECT 2", "[SELECT E'a''\\';b'][SELECT 2]",
               "E string: '' and \\' together (the '' does not end it)");
    split_case("SELECT (E'a\\';'); SELECT 2", "[SELECT (E'a\\';')][SELECT 2]",
               "E string after punctuation");
    split_case("SELECT date'x\\'; SELECT 2;", "[SELECT date'x\\'][SELECT 2]",
               "a quote after an identifier ending in e is not an E string");
    split_case("CREATE TABLE \"a;b\" (\"c\"\"d;\" int); SELECT 1",
               "[CREATE TABLE \"a;b\" (\"c\"\"d;\" int)][SELECT 1]",
               "\"quoted;identifiers\" with \"\" escapes");

    /* dollar quotes */
    split_case("CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql; SELECT 2;",
               "[CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql][SELECT 2]",
               "$$..;..$$ body");
    split_case("DO $body$ BEGIN RAISE NOTICE '$$;'; PERFORM 1; END $body$; SELECT 3",
               "[DO $body$ BEGIN RAISE NOTICE '$$;'; PERFORM 1; END $body$][SELECT 3]",
               "$tag$..;..$tag$ body; $$ inside it does not close it");
    split_case("DO $a$ x; $b$ y; $b$ z; $a$; SELECT 4;", "[DO $a$ x; $b$ y; $b$ z; $a$][SELECT 4]",
               "nested different tags");
    split_case("DO $_t1$ x; $_t1$; SELECT 5", "[DO $_t1$ x; $_t1$][SELECT 5]",
               "tag with underscore and digit");
    split_case("PREPARE p AS SELECT $1 || $2; SELECT 3;",
               "[PREPARE p AS SELECT $1 || $2][SELECT 3]", "$1 parameters are not dollar quotes");
    split_case("SELECT $1$2; SELECT 3;", "[SELECT $1$2][SELECT 3]",
               "$1$2 is two parameters, not a $1$ quote");
    split_case("SELECT a$b, c$$d; SELECT 2;", "[SELECT a$b, c$$d][SELECT 2]",
               "a$b and c$$d are identifiers, not dollar quotes");

    /* comments */
    split_case("SELECT 1; -- a; b\nSELECT 2;", "[SELECT 1][-- a; b\nSELECT 2]",
               "-- comment with a semicolon");
    split_case("SELECT 1 /* x; /* nested; */ still; */ + 1; SELECT 2",
               "[SELECT 1 /* x; /* nested; */ still; */ + 1][SELECT 2]",
               "nested /* /* */ */ comments with semicolons");
    split_case("SELECT '--;' AS \"/*;\"; SELECT 2", "[SELECT '--;' AS \"/*;\"][SELECT 2]",
               "comment markers inside quotes are text");
    split_case("SELECT $$ -- ; $$; SELECT $$/*$$; SELECT 3",
               "[SELECT $$ -- ; $$][SELECT $$/*$$][SELECT 3]",
               "comment markers inside dollar quotes are text");
    split_case("SELECT 1; -- trailing; comment\n/* and; this */\n", "[SELECT 1]",
               "comment-only tail dropped");
    split_case("-- x;\n/* y; */ ; SELECT 1; -- end without newline", "[SELECT 1]",
               "comment-only statements dropped, -- comment may end the file");

    /* unterminated */
    split_case("SELECT 'abc; SELECT 2;", "error", "unterminated '...' -> -1");
    split_case("SELECT 'it''", "error", "'' at the end does not close a string");
    split_case("SELECT E'a\\'; SELECT 2;", "error", "E'..\\' does not close at the escaped quote");
    split_case("SELECT \"abc; SELECT 2;", "error", "unterminated \"identifier\" -> -1");
    split_case("SELECT 1 /* a /* b */; SELECT 2;", "error", "unclosed nested comment -> -1");
    split_case("SELECT 1; /*", "error", "unterminated comment -> -1");
    split_case("SELECT $$ abc; SELECT 2;", "error", "unterminated $$ -> -1");
    split_case("SELECT $x$ abc $y$;", "error", "$x$ not closed by $y$ -> -1");

    /* max */
    memset(spans, 0xff, sizeof(spans));
    n = migrate_split_sql(four, strlen(four), spans, 2);
    ok(n == 4 && spans[0].off == 0 && spans[1].off == 9 && spans[2].off == (size_t)-1 &&
           spans[3].off == (size_t)-1,
       "split: max 2 of 4: count 4 returned, only 2 stored (%d)", n);
    ok(migrate_split_sql(four, strlen(four), NULL, 0) == 4, "split: NULL out, max 0 counts");
}

int main(void)
{
    struct migration_set set;
    struct err e;
    char hex[65], path[512];

    migrate_sha256_hex("abc", 3, hex);
    ok(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0,
       "SHA-256 of \"abc\"");

    if (mkdtemp(dir) == NULL)
        return 1;
    put("0002_second.sql", "SELECT 2;\n");
    put("0001_first.sql", "SELECT 1;\n");
    put("0010_tenth.sql", "-- migrate:no-transaction\nCREATE INDEX CONCURRENTLY x ON t (c);\n");
    put("README.md", "not a migration\n");
    put("12_bad.sql", "ignored: not NNNN_\n");
    ok(migrate_scan(dir, &set, &e) == 0 && set.count == 3, "three migrations found (%d)",
       set.count);
    ok(set.items[0].version == 1 && set.items[1].version == 2 && set.items[2].version == 10,
       "sorted by version");
    migrate_sha256_hex("SELECT 1;\n", 10, hex);
    ok(strcmp(set.items[0].checksum, hex) == 0, "checksum of the file bytes");
    ok(!set.items[0].no_transaction && set.items[2].no_transaction, "no-transaction marker");
    migrate_set_cleanup(&set);

    put("0002_again.sql", "SELECT 22;\n");
    ok(migrate_scan(dir, &set, &e) == -1 && strcmp(e.code, "migration_duplicate") == 0,
       "duplicate version refused: %s", e.msg);
    ok(migrate_scan("/nonexistent/dir", &set, &e) == -1, "missing directory refused");

    const char *names[] = {"0001_first.sql", "0002_second.sql", "0010_tenth.sql",
                           "README.md",      "12_bad.sql",      "0002_again.sql"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);

    test_split_sql();
    return tap_done();
}
