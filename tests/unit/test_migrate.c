/*
 * test_migrate.c - lib/migrate file handling: ordering, naming, checksums,
 * duplicate versions, the no-transaction marker. (Applying, locking and drift
 * against PostgreSQL are covered by the integration tests.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "migrate.h"
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
    return tap_done();
}
