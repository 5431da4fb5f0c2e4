/* Memory-backed block device with fault injection (see blk_file.h). */
#include "tests/unit/blk_file.h"

#include <string.h>

static struct blk_file *to_file(struct blkdev *d) { return d->priv; }

/* Decrement a one-shot countdown; true when it fires now. */
static bool countdown(uint64_t *left)
{
    if (*left == 0)
        return false;
    return --*left == 0;
}

static bool should_fail(struct blk_file *b, bool write, uint64_t sector, uint64_t n)
{
    bool fail = countdown(write ? &b->fail_write_in : &b->fail_read_in);
    uint32_t kind = write ? BLK_FAIL_WRITE : BLK_FAIL_READ;
    if ((b->bad_mode & kind) && sector < b->bad_hi && sector + n > b->bad_lo)
        fail = true;
    if (b->inject && b->inject(b->inject_ctx, write, sector, n))
        fail = true;
    return fail;
}

static int check(struct blkdev *d, uint64_t sector, const struct blk_seg *segs, unsigned nsegs)
{
    uint64_t total = 0;
    if (nsegs == 0 || nsegs > BLK_MAX_SEGS)
        return -PV_EINVAL;
    for (unsigned i = 0; i < nsegs; i++) {
        if (segs[i].len == 0 || segs[i].len % d->sector_size != 0)
            return -PV_EINVAL;
        total += segs[i].len;
    }
    uint64_t n = total / d->sector_size;
    if (sector >= d->sectors || n > d->sectors - sector)
        return -PV_EINVAL;
    return 0;
}

/* Carry out one checked request (injection consulted now). */
static int transfer(struct blk_file *b, bool write, uint64_t sector, const struct blk_seg *segs,
                    unsigned nsegs)
{
    struct blkdev *d = &b->dev;
    uint64_t total = 0;
    for (unsigned i = 0; i < nsegs; i++)
        total += segs[i].len;
    uint64_t n = total / d->sector_size;
    if (write)
        b->write_reqs++;
    else
        b->read_reqs++;
    if (d->failed || should_fail(b, write, sector, n)) {
        b->injected += !d->failed;
        d->errors++;
        return -PV_EIO;
    }
    uint8_t *p = b->data + sector * d->sector_size;
    for (unsigned i = 0; i < nsegs; i++) {
        if (write)
            memcpy(p, segs[i].buf, segs[i].len);
        else
            memcpy(segs[i].buf, p, segs[i].len);
        p += segs[i].len;
    }
    if (write) {
        d->writes++;
        d->sectors_written += n;
    } else {
        d->reads++;
        d->sectors_read += n;
    }
    return 0;
}

static int file_rw(struct blkdev *d, bool write, uint64_t sector, const struct blk_seg *segs,
                   unsigned nsegs)
{
    int rc = check(d, sector, segs, nsegs);
    return rc < 0 ? rc : transfer(to_file(d), write, sector, segs, nsegs);
}

/* ---- asynchronous mode ------------------------------------------------------- */

static int file_submit(struct blkdev *d, bool write, uint64_t sector, const struct blk_seg *segs,
                       unsigned nsegs, uint64_t tag)
{
    struct blk_file *b = to_file(d);
    int rc = check(d, sector, segs, nsegs);
    if (rc < 0)
        return rc;
    if (d->failed)
        return -PV_EIO;
    if (b->npend >= b->max_async)
        return -PV_ENOMEM;
    struct blk_file_req *r = &b->pend[b->npend++];
    r->write = write;
    r->sector = sector;
    r->tag = tag;
    r->nsegs = nsegs;
    memcpy(r->segs, segs, nsegs * sizeof(*segs));
    b->submitted++;
    return 0;
}

static uint64_t rng_next(struct blk_file *b)
{
    uint64_t x = b->rng ? b->rng : 0x9E3779B97F4A7C15ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    b->rng = x;
    return x;
}

static unsigned pick(struct blk_file *b)
{
    switch (b->order) {
    case BLK_ASYNC_REVERSE: return b->npend - 1;
    case BLK_ASYNC_RANDOM: return (unsigned)(rng_next(b) % b->npend);
    default: return 0;
    }
}

static unsigned file_poll(struct blkdev *d, struct blk_done *done, unsigned max, bool wait)
{
    struct blk_file *b = to_file(d);
    unsigned n = 0;
    b->waited += wait && b->npend;
    while (n < max && b->npend) {
        bool must = wait && n == 0;
        if (!must && !d->failed &&
            (b->hold || (b->delay_one_in && rng_next(b) % b->delay_one_in != 0)))
            break; /* not finished yet */
        unsigned i = pick(b);
        struct blk_file_req r = b->pend[i];
        memmove(&b->pend[i], &b->pend[i + 1], (b->npend - i - 1) * sizeof(r));
        b->npend--;
        done[n].tag = r.tag;
        done[n++].result = transfer(b, r.write, r.sector, r.segs, r.nsegs);
    }
    return n;
}

static int file_flush(struct blkdev *d)
{
    to_file(d)->flushes++;
    return 0;
}

static const struct blkdev_ops file_ops = {
    .rw = file_rw,
    .flush = file_flush,
};

static const struct blkdev_ops file_async_ops = {
    .rw = file_rw,
    .flush = file_flush,
    .submit = file_submit,
    .poll = file_poll,
};

void blk_file_set_async(struct blk_file *b, unsigned max_inflight, enum blk_async_order order,
                        unsigned delay_one_in, uint64_t seed)
{
    if (max_inflight > BLK_FILE_MAX_ASYNC)
        max_inflight = BLK_FILE_MAX_ASYNC;
    b->dev.ops = max_inflight ? &file_async_ops : &file_ops;
    b->max_async = max_inflight;
    b->order = order;
    b->delay_one_in = delay_one_in;
    b->rng = seed;
}

void blk_file_lose(struct blk_file *b) { b->dev.failed = true; }

int blk_file_init(struct blk_file *b, void *data, uint64_t bytes, uint32_t sector_size,
                  const char *name)
{
    memset(b, 0, sizeof(*b));
    if (sector_size == 0 || PAGE_SIZE % sector_size != 0)
        return -PV_EINVAL;
    b->data = data;
    b->bytes = bytes;
    b->dev.ops = &file_ops;
    b->dev.sector_size = sector_size;
    b->dev.sectors = bytes / sector_size;
    b->dev.priv = b;
    size_t len = name ? strlen(name) : 0;
    if (len >= sizeof(b->dev.name))
        len = sizeof(b->dev.name) - 1;
    if (len)
        memcpy(b->dev.name, name, len);
    b->dev.name[len] = '\0';
    return 0;
}

void blk_file_fail_read_in(struct blk_file *b, uint64_t n) { b->fail_read_in = n; }
void blk_file_fail_write_in(struct blk_file *b, uint64_t n) { b->fail_write_in = n; }

void blk_file_set_bad(struct blk_file *b, uint64_t lo, uint64_t hi, uint32_t mode)
{
    b->bad_lo = lo;
    b->bad_hi = hi;
    b->bad_mode = mode;
}

void blk_file_corrupt(struct blk_file *b, uint64_t offset, uint8_t mask)
{
    if (offset < b->bytes)
        b->data[offset] ^= mask;
}
