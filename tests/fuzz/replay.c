/*
 * replay.c - a main() for the fuzz targets without libFuzzer: runs every
 * file named on the command line through LLVMFuzzerTestOneInput once. Used
 * by `make test` (under ASan/UBSan) to keep the corpus passing; `make fuzz`
 * links the same targets with libFuzzer instead.
 *
 * A target may define fuzz_replay_done() to check what the whole corpus
 * reached (fuzz_jwt: that some token verified); nonzero fails the replay.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int fuzz_replay_done(void) __attribute__((weak));

int main(int argc, char **argv)
{
    const char *name;
    int n = 0;

    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        unsigned char *buf;
        long len;

        if (f == NULL) {
            perror(argv[i]);
            return 1;
        }
        fseek(f, 0, SEEK_END);
        len = ftell(f);
        fseek(f, 0, SEEK_SET);
        buf = malloc((size_t)len + 1);
        if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len) {
            fclose(f);
            return 1;
        }
        fclose(f);
        LLVMFuzzerTestOneInput(buf, (size_t)len);
        free(buf);
        n++;
    }
    name = strrchr(argv[0], '/') != NULL ? strrchr(argv[0], '/') + 1 : argv[0];
    if (fuzz_replay_done != NULL && fuzz_replay_done() != 0) {
        printf("not ok - %s: %d inputs replayed, end-of-corpus check failed\n", name, n);
        return 1;
    }
    printf("ok - %s: %d inputs replayed\n", name, n);
    return 0;
}
