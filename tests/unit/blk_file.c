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

static int file_rw(struct blkdev *d, bool write, uint64_t sector, const struct blk_seg *segs,
                   unsigned nsegs)
{
    struct blk_file *b = to_file(d);
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
    if (write)
        b->write_reqs++;
    else
        b->read_reqs++;
    if (should_fail(b, write, sector, n)) {
        b->injected++;
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

static int file_flush(struct blkdev *d)
{
    to_file(d)->flushes++;
    return 0;
}

static const struct blkdev_ops file_ops = {
    .rw = file_rw,
    .flush = file_flush,
};

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
