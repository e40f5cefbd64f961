/*
 * The FastCGI ceiling for `make bench`: the least a libfcgi responder can do
 * behind the same nginx as the pool. N processes accept on one unix socket
 * (blocking accept, as libfcgi's own examples do) and answer a constant JSON
 * body. No routing, no logging, no database: what is left is nginx, the
 * per-request FastCGI connection and libfcgi's record parsing.
 *
 *   bench-hello SOCKET_PATH [PROCESSES]
 *
 * The parent waits for its children; a child whose parent dies is killed
 * (PR_SET_PDEATHSIG), so stopping the parent stops them all.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcgiapp.h>

static const char body[] = "{\"hello\":\"world\"}\n";

static void serve(int sock)
{
    FCGX_Request req;

    if (FCGX_InitRequest(&req, sock, 0) != 0)
        _exit(1);
    while (FCGX_Accept_r(&req) >= 0) {
        FCGX_FPrintF(req.out,
                     "Status: 200 OK\r\nContent-Type: application/json\r\n"
                     "Content-Length: %d\r\n\r\n",
                     (int)sizeof(body) - 1);
        FCGX_PutStr(body, (int)sizeof(body) - 1, req.out);
        FCGX_Finish_r(&req);
    }
    _exit(0);
}

int main(int argc, char **argv)
{
    int sock, n = argc > 2 ? atoi(argv[2]) : 4;
    pid_t parent = getpid();

    if (argc < 2 || n < 1 || n > 256) {
        fprintf(stderr, "usage: %s SOCKET_PATH [PROCESSES]\n", argv[0]);
        return 2;
    }
    if (FCGX_Init() != 0)
        return 1;
    umask(0077);
    sock = FCGX_OpenSocket(argv[1], SOMAXCONN);
    if (sock < 0) {
        perror("FCGX_OpenSocket");
        return 1;
    }
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent)
                _exit(0);
            serve(sock);
        }
    }
    while (wait(NULL) > 0)
        ;
    return 0;
}
