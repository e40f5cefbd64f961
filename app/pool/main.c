/*
 * easysks-fcgi - the FastCGI worker pool behind nginx.
 *
 *   easysks-fcgi [--pidfile PATH]   run the pool in the foreground
 *   easysks-fcgi --check-config     validate the environment and exit
 *
 * All configuration comes from the environment (see docs/configuration.md).
 */
#include <stdio.h>
#include <string.h>

#include "infra/config.h"
#include "core/log.h"
#include "pool/master.h"

static int usage(void)
{
    fprintf(stderr, "usage: easysks-fcgi [--pidfile PATH] [--check-config]\n");
    return 2;
}

int main(int argc, char **argv)
{
    static struct config cfg;
    char errbuf[512];
    const char *pidfile = NULL;
    struct listener sock;
    int check_only = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--pidfile") == 0 && i + 1 < argc)
            pidfile = argv[++i];
        else if (strcmp(argv[i], "--check-config") == 0)
            check_only = 1;
        else
            return usage();
    }

    log_set_process("master");
    if (config_load(&cfg, errbuf, sizeof(errbuf)) < 0) {
        fprintf(stderr, "easysks-fcgi: configuration error: %s\n", errbuf);
        return 78; /* EX_CONFIG: systemd does not restart-loop on it with RestartPreventExitStatus
                    */
    }
    log_set_level(cfg.log_level);
    if (check_only) {
        printf("configuration ok (env=%s, workers=%d, listen=unix:%s)\n", config_env_name(cfg.env),
               cfg.workers, cfg.listen_path);
        config_cleanup(&cfg);
        return 0;
    }

    if (master_listen(&cfg, &sock, errbuf, sizeof(errbuf)) < 0) {
        fprintf(stderr, "easysks-fcgi: %s\n", errbuf);
        config_cleanup(&cfg);
        return 1;
    }
    int rc = master_run(&cfg, &sock, pidfile);
    config_cleanup(&cfg);
    return rc;
}
