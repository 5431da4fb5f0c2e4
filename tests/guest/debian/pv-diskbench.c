/* pv-diskbench: guest disk throughput, bypassing the page cache.
 *
 *   pv-diskbench FILE MIB RANDOPS
 *
 * On FILE (created, MIB MiB, removed at the end), with O_DIRECT so every
 * request reaches the disk:
 *   seq-write   MIB MiB in 1 MiB requests, then fdatasync
 *   seq-read    the same, read back
 *   rand-write  RANDOPS 4 KiB writes at random 4 KiB-aligned offsets, then fdatasync
 *   rand-read   RANDOPS 4 KiB reads at random offsets
 * One line per test on stdout, read by tests/bench/bench_disk.py:
 *   pv-diskbench: TEST bs=BYTES ops=N bytes=N usec=N
 * then "pv-diskbench: done". Times come from CLOCK_MONOTONIC inside the
 * guest. Exit status 0 on success, 1 on an I/O error (named on stderr and
 * as "pv-diskbench: FAIL ..."), 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SEQ_BS (1u << 20)
#define RAND_BS 4096u
#define ALIGN 4096u
#define MAX_MIB 65536u

static uint64_t now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t rng = UINT64_C(0x9E3779B97F4A7C15);
static uint64_t next_rand(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * UINT64_C(0x2545F4914F6CDD1D);
}

static int fail(const char *what, uint64_t off)
{
    fprintf(stderr, "pv-diskbench: %s at offset %" PRIu64 ": %s\n", what, off, strerror(errno));
    printf("pv-diskbench: FAIL %s at offset %" PRIu64 "\n", what, off);
    return 1;
}

static void report(const char *test, unsigned bs, uint64_t ops, uint64_t usec)
{
    printf("pv-diskbench: %s bs=%u ops=%" PRIu64 " bytes=%" PRIu64 " usec=%" PRIu64 "\n",
           test, bs, ops, ops * bs, usec ? usec : 1);
    fflush(stdout);
}

/* One full request of bs bytes at off, or -1 (a short transfer counts as an error). */
static int xfer(int fd, int write_op, void *buf, unsigned bs, uint64_t off)
{
    ssize_t n = write_op ? pwrite(fd, buf, bs, (off_t)off) : pread(fd, buf, bs, (off_t)off);
    if (n != (ssize_t)bs) {
        if (n >= 0)
            errno = EIO;
        return -1;
    }
    return 0;
}

static int sequential(int fd, int write_op, void *buf, uint64_t size)
{
    uint64_t t0 = now_usec();
    for (uint64_t off = 0; off < size; off += SEQ_BS)
        if (xfer(fd, write_op, buf, SEQ_BS, off))
            return fail(write_op ? "sequential write" : "sequential read", off);
    if (write_op && fdatasync(fd))
        return fail("fdatasync", 0);
    report(write_op ? "seq-write" : "seq-read", SEQ_BS, size / SEQ_BS, now_usec() - t0);
    return 0;
}

static int random_4k(int fd, int write_op, void *buf, uint64_t size, uint64_t ops)
{
    uint64_t blocks = size / RAND_BS;
    uint64_t t0 = now_usec();
    for (uint64_t i = 0; i < ops; i++) {
        uint64_t off = (next_rand() % blocks) * RAND_BS;
        if (xfer(fd, write_op, buf, RAND_BS, off))
            return fail(write_op ? "random write" : "random read", off);
    }
    if (write_op && fdatasync(fd))
        return fail("fdatasync", 0);
    report(write_op ? "rand-write" : "rand-read", RAND_BS, ops, now_usec() - t0);
    return 0;
}

int main(int argc, char **argv)
{
    char *end1, *end2;
    unsigned long mib = argc == 4 ? strtoul(argv[2], &end1, 10) : 0;
    unsigned long long ops = argc == 4 ? strtoull(argv[3], &end2, 10) : 0;
    if (argc != 4 || *end1 || *end2 || mib == 0 || mib > MAX_MIB || ops == 0) {
        fprintf(stderr, "usage: pv-diskbench FILE MIB RANDOPS (1 <= MIB <= %u, RANDOPS >= 1)\n",
                MAX_MIB);
        return 2;
    }
    const char *path = argv[1];
    uint64_t size = (uint64_t)mib << 20;
    void *buf;
    if (posix_memalign(&buf, ALIGN, SEQ_BS)) {
        fprintf(stderr, "pv-diskbench: out of memory\n");
        return 1;
    }
    memset(buf, 0xa5, SEQ_BS); /* not zero: nothing along the way may elide it */
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT, 0600);
    if (fd < 0) {
        fprintf(stderr, "pv-diskbench: %s: %s\n", path, strerror(errno));
        return 1;
    }
    int rc = sequential(fd, 1, buf, size) || sequential(fd, 0, buf, size) ||
             random_4k(fd, 1, buf, size, ops) || random_4k(fd, 0, buf, size, ops);
    close(fd);
    unlink(path);
    if (!rc)
        printf("pv-diskbench: done\n");
    return rc;
}
