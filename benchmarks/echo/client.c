/*
 * The fixed load client of the tcp-echo benchmark: one program, the same for every
 * server under test, written in C so that it can drive far more requests per second
 * than any Python server can answer (a Python client would be the bottleneck).
 *
 *   echo-client HOST PORT CONNECTIONS MESSAGE_BYTES DURATION_S WARMUP_S [SERVER_PID]
 *
 * Opens CONNECTIONS TCP connections and runs every one as a closed loop: send a
 * message of MESSAGE_BYTES, wait until all of it has come back, check it, repeat. One
 * thread, epoll, non-blocking sockets, TCP_NODELAY. Requests completed during the
 * first WARMUP_S seconds are not counted; the next DURATION_S seconds are the
 * measured window. If SERVER_PID is given, the server's CPU time (user + system, all
 * threads) is read at exactly the two edges of that window, through the kernel's
 * per-process CPU clock (nanoseconds), falling back to /proc/PID/stat (clock ticks).
 * After the window it finishes the requests in flight, starting no new ones, and only
 * then closes the connections, so that every server sees a clean end of stream.
 *
 * Prints one JSON line on stdout:
 *   {"requests": R, "bytes": B, "seconds": S, "client_cpu_seconds": C,
 *    "server_cpu_seconds": X, "server_user_seconds": U, "server_system_seconds": K,
 *    "server_cpu_source": "clock" | "proc" | "none"}
 * where B counts the echoed bytes once (R * MESSAGE_BYTES), X is the precise total and
 * U + K its split between user and kernel time, from /proc (clock-tick resolution). Exit status 0 on
 * success; 2 for bad arguments; 1 (with a message on stderr) on any socket error,
 * a short or corrupted echo, or a connection the server closed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    int fd;
    size_t sent;      /* bytes of the current message written so far */
    size_t received;  /* bytes of the current message echoed back so far */
    unsigned char fill; /* the byte this connection's current message is made of */
    int done;         /* drained: no request in flight, ready to close */
} connection_t;

static size_t message_bytes;
static unsigned char *outgoing;  /* one buffer per connection would waste cache: */
static unsigned char *incoming;  /* messages are constant bytes, checked on arrival */
static uint64_t requests_done;
/* After the window: finish the requests in flight and start no more, so that no
 * connection is closed with unread data (which would reset it under the server). */
static int draining;
static long busy_connections;
#define DRAIN_TIMEOUT_S 5.0

static void die(const char *what) {
    fprintf(stderr, "echo-client: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void fail(const char *message) {
    fprintf(stderr, "echo-client: %s\n", message);
    exit(1);
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double own_cpu_seconds(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6 +
           (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;
}

/* The server's CPU time: the per-process CPU clock if the kernel lets us read it
 * (nanosecond resolution), else utime + stime from /proc/PID/stat (clock ticks). */
static clockid_t server_clock;
static int server_clock_ok;
static pid_t server_pid;

/* utime and stime of the server from /proc/PID/stat, in seconds (clock-tick
 * resolution: 10 ms on most kernels, fine over a window of seconds). */
static void server_proc_times(double *user, double *system) {
    char path[64], buffer[4096];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)server_pid);
    FILE *file = fopen(path, "r");
    if (!file)
        die(path);
    size_t length = fread(buffer, 1, sizeof buffer - 1, file);
    fclose(file);
    buffer[length] = '\0';
    /* Field 2 (comm) may contain spaces: count fields from the last ')'. utime and
     * stime are fields 14 and 15, i.e. the 12th and 13th after the ')'. */
    char *cursor = strrchr(buffer, ')');
    if (!cursor)
        fail("cannot parse /proc/PID/stat");
    unsigned long long utime = 0, stime = 0;
    if (sscanf(cursor + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
               &stime) != 2)
        fail("cannot parse utime and stime in /proc/PID/stat");
    double tick = (double)sysconf(_SC_CLK_TCK);
    *user = (double)utime / tick;
    *system = (double)stime / tick;
}

static double server_cpu_seconds(void) {
    if (server_clock_ok) {
        struct timespec ts;
        if (clock_gettime(server_clock, &ts) == 0)
            return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
        fail("cannot read the server's CPU clock (did it exit?)");
    }
    double user, system;
    server_proc_times(&user, &system);
    return user + system;
}

static long parse_long(const char *text, const char *name, long minimum) {
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno || *end || value < minimum) {
        fprintf(stderr, "echo-client: %s must be an integer >= %ld, got %s\n", name, minimum,
                text);
        exit(2);
    }
    return value;
}

static double parse_seconds(const char *text, const char *name) {
    char *end;
    errno = 0;
    double value = strtod(text, &end);
    if (errno || *end || !(value >= 0)) {
        fprintf(stderr, "echo-client: %s must be a number of seconds >= 0, got %s\n", name,
                text);
        exit(2);
    }
    return value;
}

/* Make progress on one connection until it would block. Both directions are
 * registered edge-triggered once, so we must go on until EAGAIN in the direction
 * we are waiting on; a completed echo immediately starts the next message. */
static void drive(connection_t *conn) {
    if (conn->done)
        return;
    for (;;) {
        if (conn->sent < message_bytes) {
            memset(outgoing, conn->fill, message_bytes - conn->sent);
            ssize_t n = send(conn->fd, outgoing, message_bytes - conn->sent, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    return;
                if (errno == EINTR)
                    continue;
                die("send");
            }
            conn->sent += (size_t)n;
            if (conn->sent < message_bytes)
                continue;
            /* Sent in full: the echo cannot be here yet, and its arrival is a new edge,
             * so don't spend a recv() on EAGAIN. */
            return;
        }
        /* Closed loop: read only what this request owes us. */
        ssize_t n = recv(conn->fd, incoming, message_bytes - conn->received, 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (errno == EINTR)
                continue;
            die("recv");
        }
        if (n == 0)
            fail("the server closed a connection");
        for (ssize_t i = 0; i < n; i++)
            if (incoming[i] != conn->fill)
                fail("the echo differs from what was sent");
        conn->received += (size_t)n;
        if (conn->received == message_bytes) {
            requests_done++;
            conn->sent = conn->received = 0;
            conn->fill = (unsigned char)(conn->fill + 1);
            if (draining) {
                /* Nothing in flight: closing now sends a FIN, not a reset. */
                conn->done = 1;
                busy_connections--;
                return;
            }
        }
    }
}

int main(int argc, char **argv) {
    if (argc != 7 && argc != 8) {
        fprintf(stderr,
                "usage: %s HOST PORT CONNECTIONS MESSAGE_BYTES DURATION_S WARMUP_S "
                "[SERVER_PID]\n",
                argv[0]);
        return 2;
    }
    const char *host = argv[1];
    const char *port = argv[2];
    long connections = parse_long(argv[3], "CONNECTIONS", 1);
    message_bytes = (size_t)parse_long(argv[4], "MESSAGE_BYTES", 1);
    double duration = parse_seconds(argv[5], "DURATION_S");
    double warmup = parse_seconds(argv[6], "WARMUP_S");
    if (duration <= 0) {
        fprintf(stderr, "echo-client: DURATION_S must be > 0\n");
        return 2;
    }
    if (argc == 8) {
        server_pid = (pid_t)parse_long(argv[7], "SERVER_PID", 1);
        server_clock_ok = clock_getcpuclockid(server_pid, &server_clock) == 0;
        if (server_clock_ok) {
            struct timespec probe;
            server_clock_ok = clock_gettime(server_clock, &probe) == 0;
        }
    }

    outgoing = malloc(message_bytes);
    incoming = malloc(message_bytes);
    connection_t *conns = calloc((size_t)connections, sizeof *conns);
    if (!outgoing || !incoming || !conns)
        fail("out of memory");

    struct addrinfo hints = {0}, *address;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int status = getaddrinfo(host, port, &hints, &address);
    if (status != 0) {
        fprintf(stderr, "echo-client: cannot resolve %s:%s: %s\n", host, port,
                gai_strerror(status));
        return 1;
    }
    int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd < 0)
        die("epoll_create1");
    /* Connect blocking (simple, and not part of the measurement), then switch to
     * non-blocking for the run. */
    for (long i = 0; i < connections; i++) {
        int fd = socket(address->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            die("socket");
        if (connect(fd, address->ai_addr, address->ai_addrlen) < 0)
            die("connect");
        int one = 1;
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
            die("setsockopt(TCP_NODELAY)");
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
            die("fcntl(O_NONBLOCK)");
        conns[i].fd = fd;
        conns[i].fill = (unsigned char)i;
        struct epoll_event event = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = &conns[i]};
        if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event) < 0)
            die("epoll_ctl");
    }
    freeaddrinfo(address);

    for (long i = 0; i < connections; i++)
        drive(&conns[i]);

    struct epoll_event events[256];
    double started = now_seconds();
    double window_start = started + warmup;
    double window_end = window_start + duration;
    int in_window = warmup <= 0;
    uint64_t requests_at_start = 0;
    double client_cpu_at_start = 0, server_cpu_at_start = 0;
    double server_user_at_start = 0, server_system_at_start = 0;
    if (in_window) {
        client_cpu_at_start = own_cpu_seconds();
        if (server_pid) {
            server_cpu_at_start = server_cpu_seconds();
            server_proc_times(&server_user_at_start, &server_system_at_start);
        }
    }
    for (;;) {
        double now = now_seconds();
        if (!in_window && now >= window_start) {
            in_window = 1;
            requests_at_start = requests_done;
            client_cpu_at_start = own_cpu_seconds();
            if (server_pid) {
                server_cpu_at_start = server_cpu_seconds();
                server_proc_times(&server_user_at_start, &server_system_at_start);
            }
            window_start = now;
            window_end = now + duration;
        }
        if (in_window && now >= window_end)
            break;
        double deadline = in_window ? window_end : window_start;
        int timeout_ms = (int)((deadline - now) * 1000.0) + 1;
        int ready = epoll_wait(epoll_fd, events, 256, timeout_ms);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait");
        }
        for (int i = 0; i < ready; i++) {
            /* On EPOLLERR or EPOLLHUP, drive() reports the error from send/recv. */
            drive(events[i].data.ptr);
        }
    }
    double window_stop = now_seconds();
    double server_cpu = 0, server_user = 0, server_system = 0;
    if (server_pid) {
        server_cpu = server_cpu_seconds() - server_cpu_at_start;
        server_proc_times(&server_user, &server_system);
        server_user -= server_user_at_start;
        server_system -= server_system_at_start;
    }
    double client_cpu = own_cpu_seconds() - client_cpu_at_start;
    uint64_t requests = requests_done - requests_at_start;

    printf("{\"requests\": %llu, \"bytes\": %llu, \"seconds\": %.6f, "
           "\"client_cpu_seconds\": %.6f, \"server_cpu_seconds\": %.6f, "
           "\"server_user_seconds\": %.2f, \"server_system_seconds\": %.2f, "
           "\"server_cpu_source\": \"%s\"}\n",
           (unsigned long long)requests, (unsigned long long)(requests * message_bytes),
           window_stop - window_start, client_cpu, server_cpu, server_user, server_system,
           !server_pid ? "none" : server_clock_ok ? "clock" : "proc");
    fflush(stdout);

    draining = 1;
    busy_connections = connections;
    double give_up = now_seconds() + DRAIN_TIMEOUT_S;
    while (busy_connections > 0) {
        double now = now_seconds();
        if (now >= give_up) {
            fprintf(stderr, "echo-client: %ld connection(s) still waiting for an echo after "
                            "%g s; closing them anyway\n",
                    busy_connections, DRAIN_TIMEOUT_S);
            break;
        }
        int ready = epoll_wait(epoll_fd, events, 256, (int)((give_up - now) * 1000.0) + 1);
        if (ready < 0 && errno != EINTR)
            die("epoll_wait");
        for (int i = 0; i < ready; i++)
            drive(events[i].data.ptr);
    }
    for (long i = 0; i < connections; i++)
        close(conns[i].fd);
    return 0;
}
