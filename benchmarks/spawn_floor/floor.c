/* The operating system's own cost of one run_process(["true"]) round trip: start
 * /usr/bin/true (found by absolute path, no PATH search) with posix_spawn, which glibc
 * implements with a vfork-like clone, and reap it with waitpid. No event loop and no
 * Python: no library can make the same round trip faster on this machine.
 *
 * usage: floor PROGRAM N    prints the mean microseconds per round trip
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s PROGRAM N\n", argv[0]);
        return 2;
    }
    char *program = argv[1];
    long n = strtol(argv[2], NULL, 10);
    char *child_argv[] = {program, NULL};
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long i = 0; i < n; i++) {
        pid_t pid;
        int status;
        if (posix_spawn(&pid, program, NULL, NULL, child_argv, environ) != 0) {
            perror("posix_spawn");
            return 1;
        }
        if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "child %ld did not exit with status 0\n", i);
            return 1;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    double elapsed = (end.tv_sec - start.tv_sec) * 1e9 + (end.tv_nsec - start.tv_nsec);
    printf("%.1f\n", elapsed / n / 1e3);
    return 0;
}
