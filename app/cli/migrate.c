/*
 * easysks-migrate - apply and inspect schema migrations.
 *
 *   easysks-migrate [--dir DIR] up [--dry-run] [--lock-timeout SECONDS]
 *   easysks-migrate [--dir DIR] status
 *   easysks-migrate [--dir DIR] verify
 *   easysks-migrate seed [--data DIR]
 *
 * `seed` loads the SKS catalogue from DIR (default EASYSKS_CATALOGUE_DIR,
 * else ../shared/data/sks) into the catalogue tables, idempotently: a second
 * run changes nothing, a changed catalogue is updated in place, learners'
 * progress is never touched (lib/sks/seed.h). It needs the migrations applied.
 *
 * `up` waits at most --lock-timeout seconds (default
 * EASYSKS_MIGRATE_LOCK_TIMEOUT, else 120) for another runner's lock.
 * Connects with MIGRATE_DATABASE_URL (the schema owner), falling back to
 * DATABASE_URL; both accept _FILE. Directory default: EASYSKS_MIGRATIONS_DIR
 * or ./sql/migrations. Exit codes: 0 ok, 1 error or drift, 3 status found
 * pending migrations.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>

#include "sks/catalogue.h"
#include "infra/config.h"
#include "core/log.h"
#include "infra/migrate.h"
#include "sks/seed.h"

static int usage(void)
{
    fprintf(stderr, "usage: easysks-migrate [--dir DIR] up [--dry-run] [--lock-timeout SECONDS] |"
                    " status | verify | seed [--data DIR]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *dir = getenv("EASYSKS_MIGRATIONS_DIR"), *cmd = NULL;
    const char *data = getenv("EASYSKS_CATALOGUE_DIR");
    struct catalogue *cat = NULL;
    char *url = NULL, errbuf[512];
    const char *lock_env = getenv("EASYSKS_MIGRATE_LOCK_TIMEOUT");
    int dry_run = 0, rc = 1, lock_timeout = lock_env != NULL && *lock_env ? atoi(lock_env) : 120;
    struct migration_set set = {0};
    struct err e = {0};
    char redacted[512];
    PGconn *conn = NULL;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "--dry-run") == 0)
            dry_run = 1;
        else if (strcmp(argv[i], "--lock-timeout") == 0 && i + 1 < argc)
            lock_timeout = atoi(argv[++i]);
        else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data = argv[++i];
        else if (cmd == NULL && argv[i][0] != '-')
            cmd = argv[i];
        else
            return usage();
    }
    if (cmd == NULL || (strcmp(cmd, "up") != 0 && strcmp(cmd, "status") != 0 &&
                        strcmp(cmd, "verify") != 0 && strcmp(cmd, "seed") != 0))
        return usage();
    if (data == NULL || *data == '\0')
        data = "../shared/data/sks";
    if (dir == NULL || *dir == '\0')
        dir = "sql/migrations";
    if (lock_timeout < 1 || lock_timeout > 86400) {
        fprintf(stderr, "easysks-migrate: --lock-timeout must be 1..86400 seconds\n");
        return 2;
    }

    log_set_process("migrate");
    if (config_get_secret("MIGRATE_DATABASE_URL", &url, errbuf, sizeof(errbuf)) < 0 ||
        (url == NULL && config_get_secret("DATABASE_URL", &url, errbuf, sizeof(errbuf)) < 0)) {
        fprintf(stderr, "easysks-migrate: %s\n", errbuf);
        return 1;
    }
    if (url == NULL) {
        fprintf(stderr, "easysks-migrate: MIGRATE_DATABASE_URL or DATABASE_URL is required\n");
        return 1;
    }
    if (migrate_scan(dir, &set, &e) < 0) {
        fprintf(stderr, "easysks-migrate: %s\n", e.msg);
        config_free_secret(url);
        return 1;
    }
    /* Read and check the catalogue before touching the database. */
    if (strcmp(cmd, "seed") == 0 && (cat = catalogue_from_source(data, &e)) == NULL) {
        fprintf(stderr, "easysks-migrate: catalogue %s: %s\n", data, e.msg);
        goto out;
    }

    {
        const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
        const char *vals[] = {"10", "easysks-migrate", url, NULL};
        conn = PQconnectdbParams(keys, vals, 1);
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        log_redact_url(url, redacted, sizeof(redacted));
        fprintf(stderr, "easysks-migrate: cannot connect to %s: %s", redacted,
                PQerrorMessage(conn));
        goto out;
    }
    /* Server notices (e.g. "relation already exists, skipping") are noise here. */
    PQclear(PQexec(conn, "SET client_min_messages = warning"));

    if (strcmp(cmd, "up") == 0) {
        rc = migrate_up(conn, &set, dry_run, lock_timeout, stdout, &e) < 0 ? 1 : 0;
    } else if (strcmp(cmd, "status") == 0) {
        int s = migrate_status(conn, &set, stdout, &e);
        rc = s < 0 ? 1 : s == 1 ? 3 : 0;
    } else if (strcmp(cmd, "verify") == 0) {
        rc = migrate_verify(conn, &set, stdout, &e) < 0 ? 1 : 0;
    } else {
        struct seed_counts n;
        /* The catalogue tables must exist: refuse before a half-migrated schema. */
        int pending = migrate_status(conn, &set, NULL, &e);
        if (pending != 0) {
            if (pending > 0)
                err_set(&e, 500, "migrations_pending", "apply the migrations first (up)");
            rc = 1;
        } else {
            rc = seed_catalogue(conn, cat, &n, &e) < 0 ? 1 : 0;
        }
        if (rc == 0)
            printf("seeded catalogue %.12s: %d cards (%d new, %d changed, %d retired), "
                   "%d chart tasks (%d new, %d changed, %d retired)\n",
                   cat->source_sha256, n.cards, n.cards_new, n.cards_changed, n.cards_retired,
                   n.tasks, n.tasks_new, n.tasks_changed, n.tasks_retired);
    }
    if (rc == 1)
        fprintf(stderr, "easysks-migrate: %s\n", e.msg);
out:
    PQfinish(conn);
    catalogue_free(cat);
    migrate_set_cleanup(&set);
    config_free_secret(url);
    return rc;
}
