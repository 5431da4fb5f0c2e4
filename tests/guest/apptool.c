/* apptool: the application workloads' helper in the guest (static Linux
 * userspace; shipped in build/guest/apps.img by scripts/guest-apps.sh, run
 * by tests/guest/init's `app` check).
 *
 *   apptool now
 *       print CLOCK_MONOTONIC in seconds (9 decimals): busybox's date has
 *       no sub-second clock, and the pv-result lines need the guest's own
 *       time of each phase
 *   apptool redis-fill PORT KEYS SIZE
 *       connect to redis on 127.0.0.1:PORT (retrying for up to
 *       CONNECT_TRIES * 100 ms while the server starts) and SET KEYS keys
 *       key:NNNNNNNNNNNN (12 digits, 0 .. KEYS-1: the names redis-benchmark's
 *       -r KEYS uses for key:__rand_int__) to SIZE-byte values whose content
 *       follows from the key's number, pipelined PIPELINE commands at a time
 *   apptool redis-check PORT KEYS SIZE SAMPLES
 *       DBSIZE must be KEYS; GET SAMPLES keys spread evenly over the key
 *       space (and the last key), each value compared byte for byte with
 *       what redis-fill wrote
 *
 * Lines: `apptool: redis-fill keys=N bytes=N: OK`,
 *        `apptool: redis-check keys=N sampled=N: PASS`,
 *        `apptool: FAIL <reason>` (always the last line on failure).
 * Exit status: 0 ok, 1 failure, 2 usage error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define KEY_DIGITS 12          /* redis-benchmark's __rand_int__ width */
#define KEY_LEN (4 + KEY_DIGITS)
#define MAX_VALUE (1u << 20)   /* 1 MiB: far above what the init asks for */
#define MAX_KEYS UINT64_C(100000000)
#define PIPELINE 64u           /* SETs in flight per round trip */
#define CONNECT_TRIES 300u     /* x 100 ms: redis-server may still be starting */
#define VALUE_SEED UINT64_C(0x7265646973)   /* "redis": the values are fixed */

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("apptool: FAIL ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    exit(1);
}

/* splitmix64 finaliser */
static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* The value of key number k: printable letters, each 8-byte block from
 * mix64 of the key and the block, so values of different keys differ
 * everywhere and a value moved, truncated or zeroed is caught. */
static void make_value(uint64_t k, char *v, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        uint64_t x = mix64(VALUE_SEED ^ (k << 20) ^ (i / 8));
        v[i] = (char)('a' + (x >> (8 * (i % 8))) % 26u);
    }
}

static void key_name(uint64_t k, char *out)
{
    snprintf(out, KEY_LEN + 1, "key:%0*" PRIu64, KEY_DIGITS, k);
}

/* --- a connection with buffered reads and writes --------------------------- */

/* Commands are collected in out[] and written when it fills or before a
 * reply is read: one write per command or pipeline, not one per piece (a
 * command in pieces waits on Nagle's algorithm and the peer's delayed ACK,
 * about 40 ms a round trip). */
struct conn {
    int fd;
    char buf[65536];
    size_t len, pos;
    char out[65536];
    size_t olen;
};

static void conn_open(struct conn *c, unsigned port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (unsigned t = 0;; t++) {
        c->fd = socket(AF_INET, SOCK_STREAM, 0);
        if (c->fd < 0)
            fail("socket: %s", strerror(errno));
        if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
            int one = 1;
            setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            break;
        }
        int e = errno;
        close(c->fd);
        if (t + 1 >= CONNECT_TRIES)
            fail("connect to 127.0.0.1:%u: %s", port, strerror(e));
        usleep(100000);
    }
    c->len = c->pos = c->olen = 0;
}

static void write_all(struct conn *c, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(c->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            fail("write to redis: %s", w < 0 ? strerror(errno) : "connection closed");
        p += w;
        n -= (size_t)w;
    }
}

static void flush_out(struct conn *c)
{
    write_all(c, c->out, c->olen);
    c->olen = 0;
}

static void send_all(struct conn *c, const char *p, size_t n)
{
    if (c->olen + n > sizeof c->out)
        flush_out(c);
    if (n > sizeof c->out) {
        write_all(c, p, n);
        return;
    }
    memcpy(c->out + c->olen, p, n);
    c->olen += n;
}

static int get_byte(struct conn *c)
{
    if (c->pos == c->len) {
        if (c->olen)
            flush_out(c);
        ssize_t r;
        do
            r = read(c->fd, c->buf, sizeof c->buf);
        while (r < 0 && errno == EINTR);
        if (r <= 0)
            fail("read from redis: %s", r < 0 ? strerror(errno) : "connection closed");
        c->len = (size_t)r;
        c->pos = 0;
    }
    return (unsigned char)c->buf[c->pos++];
}

/* One CRLF-terminated reply line (without CRLF) into line[cap]. */
static void get_line(struct conn *c, char *line, size_t cap)
{
    size_t n = 0;
    for (;;) {
        int b = get_byte(c);
        if (b == '\r') {
            if (get_byte(c) != '\n')
                fail("malformed reply from redis (CR without LF)");
            break;
        }
        if (n + 1 < cap)
            line[n++] = (char)b;
    }
    line[n] = '\0';
}

/* Send one command as a RESP array of bulk strings. */
static void send_cmd(struct conn *c, int argc, const char *const *argv, const size_t *lens)
{
    char hdr[32];
    send_all(c, hdr, (size_t)snprintf(hdr, sizeof hdr, "*%d\r\n", argc));
    for (int i = 0; i < argc; i++) {
        send_all(c, hdr, (size_t)snprintf(hdr, sizeof hdr, "$%zu\r\n", lens[i]));
        send_all(c, argv[i], lens[i]);
        send_all(c, "\r\n", 2);
    }
}

/* --- subcommands ---------------------------------------------------------- */

static void redis_fill(unsigned port, uint64_t keys, size_t size)
{
    struct conn *c = malloc(sizeof *c);
    char *v = malloc(size);
    if (!c || !v)
        fail("no memory for a %zu-byte value", size);
    conn_open(c, port);
    char key[KEY_LEN + 1], line[256];
    for (uint64_t k = 0; k < keys;) {
        uint64_t batch = keys - k < PIPELINE ? keys - k : PIPELINE;
        for (uint64_t i = 0; i < batch; i++) {
            key_name(k + i, key);
            make_value(k + i, v, size);
            const char *argv[] = { "SET", key, v };
            const size_t lens[] = { 3, KEY_LEN, size };
            send_cmd(c, 3, argv, lens);
        }
        for (uint64_t i = 0; i < batch; i++) {
            get_line(c, line, sizeof line);
            if (strcmp(line, "+OK") != 0)
                fail("SET key %" PRIu64 ": redis replied '%s'", k + i, line);
        }
        k += batch;
    }
    printf("apptool: redis-fill keys=%" PRIu64 " bytes=%" PRIu64 ": OK\n", keys,
           keys * (uint64_t)size);
    close(c->fd);
}

static void redis_check(unsigned port, uint64_t keys, size_t size, uint64_t samples)
{
    struct conn *c = malloc(sizeof *c);
    char *want = malloc(size), *got = malloc(size);
    if (!c || !want || !got)
        fail("no memory for %zu-byte values", size);
    conn_open(c, port);
    char key[KEY_LEN + 1], line[256];

    const char *dbsize[] = { "DBSIZE" };
    const size_t dblen[] = { 6 };
    send_cmd(c, 1, dbsize, dblen);
    get_line(c, line, sizeof line);
    if (line[0] != ':' || strtoull(line + 1, NULL, 10) != keys)
        fail("DBSIZE replied '%s', expected :%" PRIu64, line, keys);

    if (samples > keys)
        samples = keys;
    uint64_t step = keys / samples, checked = 0;
    for (uint64_t s = 0; s <= samples; s++) {
        /* every step-th key, then the last key */
        uint64_t k = s < samples ? s * step + (s * 7919u) % step : keys - 1;
        key_name(k, key);
        const char *argv[] = { "GET", key };
        const size_t lens[] = { 3, KEY_LEN };
        send_cmd(c, 2, argv, lens);
        get_line(c, line, sizeof line);
        if (line[0] != '$')
            fail("GET %s replied '%s'", key, line);
        long long n = strtoll(line + 1, NULL, 10);
        if (n != (long long)size)
            fail("GET %s: %lld bytes, expected %zu", key, n, size);
        for (size_t i = 0; i < size; i++)
            got[i] = (char)get_byte(c);
        if (get_byte(c) != '\r' || get_byte(c) != '\n')
            fail("GET %s: value not followed by CRLF", key);
        make_value(k, want, size);
        for (size_t i = 0; i < size; i++)
            if (got[i] != want[i])
                fail("GET %s: byte %zu is 0x%02x, expected 0x%02x", key, i,
                     (unsigned char)got[i], (unsigned char)want[i]);
        checked++;
    }
    printf("apptool: redis-check keys=%" PRIu64 " sampled=%" PRIu64 ": PASS\n", keys, checked);
    close(c->fd);
}

static int parse_u64(const char *s, uint64_t *out, uint64_t lo, uint64_t hi)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: apptool now\n"
                    "       apptool redis-fill PORT KEYS SIZE\n"
                    "       apptool redis-check PORT KEYS SIZE SAMPLES\n");
    printf("apptool: FAIL bad arguments\n");
    return 2;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 2 && strcmp(argv[1], "now") == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        printf("%lld.%09ld\n", (long long)ts.tv_sec, ts.tv_nsec);
        return 0;
    }
    uint64_t port, keys, size, samples = 0;
    int fill = argc == 5 && strcmp(argv[1], "redis-fill") == 0;
    int check = argc == 6 && strcmp(argv[1], "redis-check") == 0;
    if ((!fill && !check) || parse_u64(argv[2], &port, 1, 65535) ||
        parse_u64(argv[3], &keys, 1, MAX_KEYS) || parse_u64(argv[4], &size, 1, MAX_VALUE) ||
        (check && parse_u64(argv[5], &samples, 1, MAX_KEYS)))
        return usage();
    if (fill)
        redis_fill((unsigned)port, keys, (size_t)size);
    else
        redis_check((unsigned)port, keys, (size_t)size, samples);
    return 0;
}
