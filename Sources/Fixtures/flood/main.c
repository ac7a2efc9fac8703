/*
 * fixture-flood: a hostile control client, for the hardening tests.
 *
 *   fixture-flood pipeline SOCKET SECONDS       pipeline `list` requests without
 *                                               pause, reading every reply
 *   fixture-flood idle SOCKET N SECONDS         hold N idle connections open
 *   fixture-flood half SOCKET N SECONDS         N connections, each sending the
 *                                               header of a 65,536-byte frame and
 *                                               65,535 bytes of it, then nothing
 *   fixture-flood subscribe SOCKET N SECONDS    N subscribers that never read
 *   fixture-flood emit SOCKET N BYTES           N `emit` requests (no wait), each
 *                                               with a BYTES-long variable, pipelined
 *   fixture-flood garbage SOCKET N              N connections, each sending a bad
 *                                               frame header, one after another
 *
 * It raises its own descriptor limit to the hard limit, prints one line of
 * counts on standard output when it ends, and stops by itself after
 * SECONDS (or when its work is done): every load it makes is bounded.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int connect_to(const char *path) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Appends one frame holding `body` to `out`; returns its length. */
static size_t frame(unsigned char *out, const char *body) {
    size_t n = strlen(body);
    out[0] = (unsigned char)(n >> 24);
    out[1] = (unsigned char)(n >> 16);
    out[2] = (unsigned char)(n >> 8);
    out[3] = (unsigned char)n;
    memcpy(out + 4, body, n);
    return n + 4;
}

static int write_all(int fd, const unsigned char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Pipelines `list` for `seconds`, reading replies as they come. */
static int pipeline(const char *path, double seconds) {
    int fd = connect_to(path);
    if (fd < 0) { perror("connect"); return 1; }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    unsigned char req[64];
    size_t len = frame(req, "{\"v\":1,\"id\":1,\"method\":\"list\"}");
    unsigned char batch[64 * 1024];
    size_t per = sizeof batch / len, blen = per * len;
    for (size_t i = 0; i < per; i++) memcpy(batch + i * len, req, len);
    static unsigned char in[256 * 1024];
    long sent = 0, replies = 0;
    size_t off = 0, have = 0;
    double end = now() + seconds;
    while (now() < end) {
        ssize_t w = write(fd, batch + off, blen - off);
        if (w > 0) { off = (off + (size_t)w) % blen; sent += w; }
        ssize_t r;
        while ((r = read(fd, in + have, sizeof in - have)) > 0) {
            have += (size_t)r;
            size_t p = 0;
            while (have - p >= 4) {
                size_t n = (size_t)in[p] << 24 | (size_t)in[p + 1] << 16 | (size_t)in[p + 2] << 8 | in[p + 3];
                if (have - p < 4 + n) break;
                p += 4 + n;
                replies++;
            }
            memmove(in, in + p, have - p);
            have -= p;
        }
        if (r == 0) break;
        struct pollfd pf = { fd, POLLIN | POLLOUT, 0 };
        poll(&pf, 1, 10);
    }
    printf("sent %ld bytes, %ld replies\n", sent, replies);
    close(fd);
    return 0;
}

/* Opens up to `n` connections, sends each `prefix` (if any), holds them. */
static int hold(const char *path, int n, double seconds, const unsigned char *prefix, size_t plen) {
    int *fds = calloc((size_t)n, sizeof *fds);
    int open_ = 0, failed = 0;
    for (int i = 0; i < n; i++) {
        int fd = connect_to(path);
        if (fd < 0) { failed++; continue; }
        if (prefix && write_all(fd, prefix, plen) != 0) { close(fd); failed++; continue; }
        fds[open_++] = fd;
    }
    printf("connected %d, failed %d\n", open_, failed);
    fflush(stdout);
    double end = now() + seconds;
    while (now() < end) usleep(50 * 1000);
    int closed = 0;
    for (int i = 0; i < open_; i++) {
        /* A connection the daemon closed reads end of file. */
        struct pollfd pf = { fds[i], POLLIN, 0 };
        if (poll(&pf, 1, 0) == 1 && (pf.revents & (POLLHUP | POLLIN))) {
            char c;
            if (recv(fds[i], &c, 1, MSG_DONTWAIT) == 0 || (pf.revents & POLLHUP)) closed++;
        }
        close(fds[i]);
    }
    printf("closed by the daemon %d\n", closed);
    free(fds);
    return 0;
}

static int emit(const char *path, long n, size_t bytes) {
    int fd = connect_to(path);
    if (fd < 0) { perror("connect"); return 1; }
    char *value = malloc(bytes + 1);
    memset(value, 'x', bytes);
    value[bytes] = 0;
    char *body = malloc(bytes + 128);
    unsigned char *buf = malloc(bytes + 132);
    long replies = 0;
    static unsigned char in[64 * 1024];
    double start = now();
    for (long i = 0; i < n; i++) {
        snprintf(body, bytes + 128, "{\"v\":1,\"id\":%ld,\"method\":\"emit\",\"params\":{\"event\":\"flood\",\"wait\":false,\"env\":[\"V=%s\"]}}", i, value);
        size_t len = frame(buf, body);
        if (write_all(fd, buf, len) != 0) break;
        /* Read replies as they come so that this client is never the slow one. */
        ssize_t r;
        while ((r = recv(fd, in, sizeof in, MSG_DONTWAIT)) > 0) replies++;
    }
    double took = now() - start;
    printf("emitted %ld in %.3f s (%.0f/s)\n", n, took, (double)n / took);
    close(fd);
    return 0;
}

static int garbage(const char *path, int n) {
    int done = 0;
    for (int i = 0; i < n; i++) {
        int fd = connect_to(path);
        if (fd < 0) continue;
        unsigned char bad[4] = { 0xFF, 0xFF, 0xFF, 0xF9 };
        write_all(fd, bad, 4);
        char c;
        /* Wait for the daemon's answer (or its close) before the next one. */
        struct pollfd pf = { fd, POLLIN, 0 };
        poll(&pf, 1, 200);
        (void)!read(fd, &c, 1);
        close(fd);
        done++;
    }
    printf("garbage connections %d\n", done);
    return 0;
}

int main(int argc, char **argv) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* A connection the daemon refused or dropped fails a write; it must not kill us. */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 3) {
        fprintf(stderr, "usage: fixture-flood MODE SOCKET ...\n");
        return 2;
    }
    const char *mode = argv[1], *path = argv[2];
    if (strcmp(mode, "pipeline") == 0 && argc == 4) return pipeline(path, atof(argv[3]));
    if (strcmp(mode, "idle") == 0 && argc == 5) return hold(path, atoi(argv[3]), atof(argv[4]), NULL, 0);
    if (strcmp(mode, "half") == 0 && argc == 5) {
        size_t len = 4 + 65535;
        unsigned char *p = malloc(len);
        p[0] = 0; p[1] = 1; p[2] = 0; p[3] = 0; /* 65,536 */
        memset(p + 4, '{', 65535);
        int rc = hold(path, atoi(argv[3]), atof(argv[4]), p, len);
        free(p);
        return rc;
    }
    if (strcmp(mode, "subscribe") == 0 && argc == 5) {
        unsigned char req[64];
        size_t len = frame(req, "{\"v\":1,\"id\":1,\"method\":\"subscribe\"}");
        return hold(path, atoi(argv[3]), atof(argv[4]), req, len);
    }
    if (strcmp(mode, "emit") == 0 && argc == 5) return emit(path, atol(argv[3]), (size_t)atol(argv[4]));
    if (strcmp(mode, "garbage") == 0 && argc == 4) return garbage(path, atoi(argv[3]));
    fprintf(stderr, "fixture-flood: unknown mode or arguments\n");
    return 2;
}
