/*
 * Unit tests for ept/region.c: insert/merge, remove, lookups, gaps and the
 * descriptor pool; whole-set properties are in test_region_set.c. Address
 * diagrams: each character of |--A--| stands for roughly one page; '+' marks
 * the range being inserted, 'x' the range being removed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ept/region.h"
#include "tests/unit/host_log.h"
#include "tests/unit/test_region.h"

#define P(n) ((gpa_t)(n) * PAGE_SIZE)
#define POOL 64

static struct region pool[POOL];
static struct region_set set;

static int setup(void **state)
{
    (void)state;
    region_set_init(&set, pool, POOL);
    host_log_clear();
    return 0;
}

static int ins(gpa_t s, gpa_t e, uint32_t rights, enum region_kind kind,
               const struct region_backing *b, const char *name)
{
    return region_insert(&set, s, e, rights, kind, b, name, NULL);
}

static int ins_anon(gpa_t s, gpa_t e)
{
    return ins(s, e, ACC_RW, REGION_ANON, NULL, "ram");
}

static struct region_backing image(hpa_t data, uint64_t offset)
{
    struct region_backing b;
    memset(&b, 0, sizeof(b));
    b.image.data = data;
    b.image.offset = offset;
    b.image.size = 0x100000;
    return b;
}

static struct region_backing none(void)
{
    struct region_backing b;
    memset(&b, 0, sizeof(b));
    return b;
}

static struct region_backing host(hpa_t hpa, enum memtype mt)
{
    struct region_backing b;
    memset(&b, 0, sizeof(b));
    b.host.hpa = hpa;
    b.host.memtype = mt;
    return b;
}

static struct region_backing mmio(uint32_t dev, void *ctx)
{
    struct region_backing b;
    memset(&b, 0, sizeof(b));
    b.mmio.dev = dev;
    b.mmio.ctx = ctx;
    return b;
}

/* The i-th region in address order (asserts it exists). */
static struct region *nth(size_t i)
{
    struct region *r = region_first(&set);
    while (r && i--)
        r = region_next(&set, r);
    assert_non_null(r);
    return r;
}

static void assert_span(const struct region *r, gpa_t s, gpa_t e)
{
    assert_non_null(r);
    assert_int_equal(r->start, s);
    assert_int_equal(r->end, e);
}

static void assert_count(size_t n)
{
    assert_true(region_set_check(&set));
    assert_int_equal(set.count, n);
}

/* A copy of the set's contents, to show a failed call changed nothing. */
struct snap {
    size_t n;
    struct region r[POOL];
};

static void take(struct snap *s)
{
    s->n = 0;
    for (struct region *r = region_first(&set); r; r = region_next(&set, r))
        s->r[s->n++] = *r;
}

static void assert_same(const struct snap *s)
{
    assert_true(region_set_check(&set));
    assert_int_equal(set.count, s->n);
    size_t i = 0;
    for (struct region *r = region_first(&set); r; r = region_next(&set, r), i++) {
        assert_int_equal(r->start, s->r[i].start);
        assert_int_equal(r->end, s->r[i].end);
        assert_int_equal(r->rights, s->r[i].rights);
        assert_int_equal(r->kind, s->r[i].kind);
        assert_ptr_equal(r->name, s->r[i].name);
        assert_memory_equal(&r->backing, &s->r[i].backing, sizeof(r->backing));
    }
}

/* ---- insert and merge ------------------------------------------------------ */

static void test_insert_invalid(void **state)
{
    (void)state;
    assert_int_equal(ins_anon(P(1), P(3)), 0);
    struct snap s;
    take(&s);
    /* unaligned start, unaligned end, empty, reversed, bad kind, bad rights */
    assert_int_equal(ins_anon(P(4) + 1, P(5)), -PV_EINVAL);
    assert_int_equal(ins_anon(P(4), P(5) - 1), -PV_EINVAL);
    assert_int_equal(ins_anon(P(4), P(4)), -PV_EINVAL);
    assert_int_equal(ins_anon(P(5), P(4)), -PV_EINVAL);
    assert_int_equal(ins(P(4), P(5), ACC_R, REGION_KIND_COUNT, NULL, NULL), -PV_EINVAL);
    assert_int_equal(ins(P(4), P(5), 0x8, REGION_ANON, NULL, NULL), -PV_EINVAL);
    assert_same(&s);
}

/* |--A--|        insert B adjacent: |--A--|++B++| -> merged |----AB----| */
static void test_merge_left(void **state)
{
    (void)state;
    struct region *a, *out;
    assert_int_equal(region_insert(&set, P(1), P(3), ACC_RW, REGION_ANON, NULL,
                                   "ram", &a), 0);
    assert_int_equal(region_insert(&set, P(3), P(5), ACC_RW, REGION_ANON, NULL,
                                   "ram", &out), 0);
    assert_ptr_equal(out, a);
    assert_count(1);
    assert_span(nth(0), P(1), P(5));
}

/*
 *         |--A--|   insert B before: |++B++|--A--| -> |----BA----|
 * A is image offset 0x2000; B (offset 0) continues into it, and the merged
 * region must be addressed from B's offset.
 */
static void test_merge_right(void **state)
{
    (void)state;
    struct region_backing a = image(0x400000, 0x2000), b = image(0x400000, 0);
    struct region *out;
    assert_int_equal(ins(P(3), P(5), ACC_RX, REGION_FILE_PRIVATE, &a, "kernel"), 0);
    assert_int_equal(region_insert(&set, P(1), P(3), ACC_RX, REGION_FILE_PRIVATE,
                                   &b, "kernel", &out), 0);
    assert_count(1);
    assert_ptr_equal(out, nth(0));
    assert_span(out, P(1), P(5));
    assert_int_equal(out->backing.image.offset, 0);
    assert_int_equal(out->backing.image.data, 0x400000);
}

/* |--A--|     |--C--|   insert B bridging: |--A--|++B++|--C--| -> |-----ABC-----| */
static void test_merge_bridge(void **state)
{
    (void)state;
    struct region *out;
    assert_int_equal(ins_anon(P(1), P(2)), 0);
    assert_int_equal(ins_anon(P(3), P(4)), 0);
    assert_int_equal(ins_anon(P(8), P(9)), 0); /* unrelated, stays */
    assert_count(3);
    assert_int_equal(region_insert(&set, P(2), P(3), ACC_RW, REGION_ANON, NULL,
                                   "ram", &out), 0);
    assert_count(2);
    assert_span(out, P(1), P(4));
    assert_ptr_equal(region_lookup(&set, P(3)), out);
    assert_span(nth(1), P(8), P(9));
    /* the bridged-away descriptor went back to the pool: fill it again */
    size_t n = 2;
    for (gpa_t a = P(20); n < POOL; a += P(2), n++)
        assert_int_equal(ins_anon(a, a + P(1)), 0);
    assert_int_equal(ins_anon(P(500), P(501)), -PV_ENOMEM);
}

/* passthrough |--A--|++B++|--C--| with hpa continuous across all three */
static void test_merge_bridge_passthrough(void **state)
{
    (void)state;
    struct region_backing a = host(0xfee00000, MT_UC), b = host(0xfee01000, MT_UC),
                          c = host(0xfee03000, MT_UC);
    assert_int_equal(ins(P(0x100), P(0x101), ACC_RW, REGION_PASSTHROUGH, &a, "lapic"), 0);
    assert_int_equal(ins(P(0x103), P(0x104), ACC_RW, REGION_PASSTHROUGH, &c, "lapic"), 0);
    assert_int_equal(ins(P(0x101), P(0x103), ACC_RW, REGION_PASSTHROUGH, &b, "lapic"), 0);
    assert_count(1);
    assert_span(nth(0), P(0x100), P(0x104));
    assert_int_equal(nth(0)->backing.host.hpa, 0xfee00000);
}

/* Names are compared by content, not pointer. */
static void test_merge_name_by_content(void **state)
{
    (void)state;
    static const char other[] = "ram";
    assert_int_equal(ins(P(1), P(2), ACC_RW, REGION_ANON, NULL, "ram"), 0);
    assert_int_equal(ins(P(2), P(3), ACC_RW, REGION_ANON, NULL, other), 0);
    assert_count(1);
    /* ...and NULL only matches NULL */
    assert_int_equal(ins(P(3), P(4), ACC_RW, REGION_ANON, NULL, NULL), 0);
    assert_count(2);
    assert_int_equal(ins(P(4), P(5), ACC_RW, REGION_ANON, NULL, NULL), 0);
    assert_count(2);
    assert_span(nth(1), P(3), P(5));
}

/*
 * |--A--|++B++|--C--| where B is compatible with neither neighbour: three
 * regions. One row per reason: rights, kind, name, backing discontinuity.
 */
struct nomerge_case {
    const char *what;
    uint32_t rights[2];
    enum region_kind kind[2];
    const char *name[2];
    struct region_backing b[2]; /* A at P(1), then B at P(2); C mirrors A */
};

static void test_no_merge_incompatible(void **state)
{
    (void)state;
    static char ctx0, ctx1;
    const struct nomerge_case cases[] = {
        { "rights", { ACC_RW, ACC_R }, { REGION_ANON, REGION_ANON }, { "m", "m" }, { none(), none() } },
        { "kind", { ACC_R, ACC_R }, { REGION_ANON, REGION_ROM }, { "m", "m" }, { image(0, 0), image(0, 0x1000) } },
        { "name", { ACC_RW, ACC_RW }, { REGION_ANON, REGION_ANON }, { "m", "n" }, { none(), none() } },
        { "name-null", { ACC_RW, ACC_RW }, { REGION_ANON, REGION_ANON }, { "m", NULL }, { none(), none() } },
        { "image gap", { ACC_RX, ACC_RX }, { REGION_FILE_PRIVATE, REGION_FILE_PRIVATE }, { "k", "k" },
          { image(0x400000, 0), image(0x400000, 0x2000) } },
        { "image data", { ACC_RX, ACC_RX }, { REGION_FILE_PRIVATE, REGION_FILE_PRIVATE }, { "k", "k" },
          { image(0x400000, 0), image(0x800000, 0x1000) } },
        { "rom gap", { ACC_R, ACC_R }, { REGION_ROM, REGION_ROM }, { "bios", "bios" },
          { image(0x400000, 0x1000), image(0x400000, 0x1000) } },
        { "hpa gap", { ACC_RW, ACC_RW }, { REGION_PASSTHROUGH, REGION_PASSTHROUGH }, { "p", "p" },
          { host(0x10000, MT_UC), host(0x10000, MT_UC) } },
        { "memtype", { ACC_RW, ACC_RW }, { REGION_PASSTHROUGH, REGION_PASSTHROUGH }, { "p", "p" },
          { host(0x10000, MT_UC), host(0x11000, MT_WB) } },
        { "mmio dev", { ACC_RW, ACC_RW }, { REGION_MMIO_EMULATED, REGION_MMIO_EMULATED }, { "d", "d" },
          { mmio(1, &ctx0), mmio(2, &ctx0) } },
        { "mmio ctx", { ACC_RW, ACC_RW }, { REGION_MMIO_EMULATED, REGION_MMIO_EMULATED }, { "d", "d" },
          { mmio(1, &ctx0), mmio(1, &ctx1) } },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct nomerge_case *c = &cases[i];
        region_set_init(&set, pool, POOL);
        struct region_backing cb = c->b[0];
        /* C sits right after B and, for offset backings, continues A's mapping
         * as if B were not there, so only B's own difference can split them. */
        if (c->kind[0] == REGION_FILE_PRIVATE || c->kind[0] == REGION_ROM)
            cb.image.offset += P(2);
        if (c->kind[0] == REGION_PASSTHROUGH)
            cb.host.hpa += P(2);
        assert_int_equal(ins(P(1), P(2), c->rights[0], c->kind[0], &c->b[0], c->name[0]), 0);
        assert_int_equal(ins(P(3), P(4), c->rights[0], c->kind[0], &cb, c->name[0]), 0);
        assert_int_equal(ins(P(2), P(3), c->rights[1], c->kind[1], &c->b[1], c->name[1]), 0);
        if (set.count != 3)
            fail_msg("case '%s' merged (%zu regions)", c->what, set.count);
        assert_count(3);
    }
}

/* Every way of overlapping |--A--|   |--B--| is refused and changes nothing. */
static void test_overlap_refused(void **state)
{
    (void)state;
    assert_int_equal(ins_anon(P(4), P(8)), 0);
    assert_int_equal(ins(P(12), P(16), ACC_R, REGION_ROM, NULL, "rom"), 0);
    struct snap s;
    take(&s);
    const gpa_t r[][2] = {
        { P(4), P(8) },   /* exactly A */
        { P(2), P(5) },   /* over A's start */
        { P(7), P(9) },   /* over A's end */
        { P(5), P(6) },   /* inside A */
        { P(3), P(9) },   /* covering A */
        { P(6), P(13) },  /* from A across the hole into B */
        { P(0), P(20) },  /* covering both */
        { P(15), P(16) }, /* B's last page */
    };
    for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
        assert_int_equal(ins_anon(r[i][0], r[i][1]), -PV_EEXIST);
        assert_int_equal(ins(r[i][0], r[i][1], ACC_R, REGION_ROM, NULL, "rom"), -PV_EEXIST);
        assert_same(&s);
    }
    /* the holes next to them are still insertable */
    assert_int_equal(ins_anon(P(8), P(12)), 0);
    assert_int_equal(ins_anon(P(3), P(4)), 0);
}

/* ---- remove ----------------------------------------------------------------- */

/* |--A--|--B--|  remove A exactly: |--B--| */
static void test_remove_whole(void **state)
{
    (void)state;
    assert_int_equal(ins_anon(P(1), P(4)), 0);
    assert_int_equal(ins(P(4), P(6), ACC_R, REGION_ROM, NULL, "rom"), 0);
    assert_int_equal(region_remove(&set, P(1), P(4)), 0);
    assert_count(1);
    assert_span(nth(0), P(4), P(6));
    assert_null(region_lookup(&set, P(1)));
    assert_int_equal(region_remove(&set, P(4), P(6)), 0);
    assert_count(0);
    assert_null(region_first(&set));
}

/* |xx--A--|  shrink front: |--A--| starting 2 pages later, offsets +2 pages */
static void test_remove_shrink_front(void **state)
{
    (void)state;
    struct region_backing f = image(0x400000, 0x5000), h = host(0xfed00000, MT_UC);
    assert_int_equal(ins(P(10), P(20), ACC_RX, REGION_FILE_PRIVATE, &f, "initrd"), 0);
    assert_int_equal(ins(P(30), P(40), ACC_RW, REGION_PASSTHROUGH, &h, "hpet"), 0);
    assert_int_equal(region_remove(&set, P(8), P(12)), 0);
    assert_int_equal(region_remove(&set, P(30), P(31)), 0);
    assert_count(2);
    assert_span(nth(0), P(12), P(20));
    assert_int_equal(nth(0)->backing.image.offset, 0x5000 + P(2));
    assert_int_equal(nth(0)->backing.image.data, 0x400000);
    assert_span(nth(1), P(31), P(40));
    assert_int_equal(nth(1)->backing.host.hpa, 0xfed00000 + P(1));
}

/* |--A--xx|  shrink back: offsets unchanged */
static void test_remove_shrink_back(void **state)
{
    (void)state;
    struct region_backing f = image(0x400000, 0x5000);
    assert_int_equal(ins(P(10), P(20), ACC_RX, REGION_FILE_PRIVATE, &f, "initrd"), 0);
    assert_int_equal(region_remove(&set, P(18), P(25)), 0);
    assert_count(1);
    assert_span(nth(0), P(10), P(18));
    assert_int_equal(nth(0)->backing.image.offset, 0x5000);
}

/* |----A----| remove the middle: |-A1-|xx|-A2-|, A2's offsets advance */
static void test_remove_split_middle(void **state)
{
    (void)state;
    struct region_backing f = image(0x400000, 0x1000), h = host(0xc0000000, MT_WC);
    assert_int_equal(ins(P(10), P(20), ACC_RX, REGION_FILE_PRIVATE, &f, "kernel"), 0);
    assert_int_equal(ins(P(40), P(50), ACC_RW, REGION_PASSTHROUGH, &h, "fb"), 0);
    assert_int_equal(region_remove(&set, P(13), P(15)), 0);
    assert_int_equal(region_remove(&set, P(41), P(49)), 0);
    assert_count(4);
    assert_span(nth(0), P(10), P(13));
    assert_int_equal(nth(0)->backing.image.offset, 0x1000);
    assert_span(nth(1), P(15), P(20));
    assert_int_equal(nth(1)->backing.image.offset, 0x1000 + P(5));
    assert_int_equal(nth(1)->backing.image.data, 0x400000);
    assert_int_equal(nth(1)->kind, REGION_FILE_PRIVATE);
    assert_string_equal(nth(1)->name, "kernel");
    assert_span(nth(2), P(40), P(41));
    assert_int_equal(nth(2)->backing.host.hpa, 0xc0000000);
    assert_span(nth(3), P(49), P(50));
    assert_int_equal(nth(3)->backing.host.hpa, 0xc0000000 + P(9));
    assert_int_equal(nth(3)->backing.host.memtype, MT_WC);
    /* re-inserting the hole with the continuing backing merges all back */
    struct region_backing mid = image(0x400000, 0x1000 + P(3));
    assert_int_equal(ins(P(13), P(15), ACC_RX, REGION_FILE_PRIVATE, &mid, "kernel"), 0);
    assert_count(3);
    assert_span(nth(0), P(10), P(20));
}

/*
 * |--A--|  |--B--|  |--C--|   |--D--|
 *    xxxxxxxxxxxxxxxxxxx                 remove across holes
 * |-A|              |C-|      |--D--|
 */
static void test_remove_spanning(void **state)
{
    (void)state;
    assert_int_equal(ins_anon(P(0), P(4)), 0);
    assert_int_equal(ins(P(6), P(8), ACC_R, REGION_ROM, NULL, "rom"), 0);
    assert_int_equal(ins(P(10), P(14), ACC_RX, REGION_ANON, NULL, "x"), 0);
    assert_int_equal(ins_anon(P(20), P(24)), 0);
    assert_int_equal(region_remove(&set, P(2), P(12)), 0);
    assert_count(3);
    assert_span(nth(0), P(0), P(2));
    assert_span(nth(1), P(12), P(14));
    assert_int_equal(nth(1)->rights, ACC_RX);
    assert_span(nth(2), P(20), P(24));
    /* a range covering only holes, or nothing at all, is a no-op */
    struct snap s;
    take(&s);
    assert_int_equal(region_remove(&set, P(14), P(20)), 0);
    assert_int_equal(region_remove(&set, P(100), P(200)), 0);
    assert_same(&s);
    /* malformed ranges are refused */
    assert_int_equal(region_remove(&set, P(1) + 8, P(3)), -PV_EINVAL);
    assert_int_equal(region_remove(&set, P(3), P(3)), -PV_EINVAL);
    assert_same(&s);
    /* everything */
    assert_int_equal(region_remove(&set, 0, P(1000)), 0);
    assert_count(0);
}

/* ---- the descriptor pool ---------------------------------------------------- */

static void test_pool_exhaustion_insert(void **state)
{
    (void)state;
    static struct region small[2];
    region_set_init(&set, small, 2);
    assert_int_equal(ins_anon(P(0), P(1)), 0);
    assert_int_equal(ins(P(4), P(5), ACC_R, REGION_ROM, NULL, "rom"), 0);
    struct snap s;
    take(&s);
    /* |A|  |B|   a third, separate region needs a descriptor */
    assert_int_equal(ins(P(8), P(9), ACC_R, REGION_ROM, NULL, "other"), -PV_ENOMEM);
    assert_same(&s);
    /* overlap is still reported as overlap */
    assert_int_equal(ins(P(0), P(9), ACC_R, REGION_ROM, NULL, "other"), -PV_EEXIST);
    /* |A|++|B| merging into A needs none */
    assert_int_equal(ins_anon(P(1), P(3)), 0);
    assert_count(2);
    assert_span(nth(0), P(0), P(3));
}

/* |----A----| with no free descriptor: removing the middle would split it */
static void test_pool_exhaustion_split(void **state)
{
    (void)state;
    static struct region one[1];
    struct region_backing f = image(0x400000, 0);
    region_set_init(&set, one, 1);
    assert_int_equal(ins(P(0), P(8), ACC_RX, REGION_FILE_PRIVATE, &f, "k"), 0);
    struct snap s;
    take(&s);
    assert_int_equal(region_remove(&set, P(2), P(3)), -PV_ENOMEM);
    assert_same(&s);
    /* shrinking needs no descriptor */
    assert_int_equal(region_remove(&set, P(0), P(1)), 0);
    assert_int_equal(region_remove(&set, P(7), P(9)), 0);
    assert_count(1);
    assert_span(nth(0), P(1), P(7));
    assert_int_equal(nth(0)->backing.image.offset, P(1));
    /* a zero-descriptor set refuses everything that needs one */
    region_set_init(&set, NULL, 0);
    assert_int_equal(ins_anon(P(0), P(1)), -PV_ENOMEM);
    assert_count(0);
}

/* Descriptors cycle through the free list without leaking. */
static void test_pool_reuse(void **state)
{
    (void)state;
    static struct region few[3];
    region_set_init(&set, few, 3);
    for (int round = 0; round < 100; round++) {
        assert_int_equal(ins_anon(P(0), P(9)), 0);
        assert_int_equal(region_remove(&set, P(2), P(3)), 0); /* 2 */
        assert_int_equal(region_remove(&set, P(5), P(6)), 0); /* 3 */
        assert_int_equal(region_remove(&set, P(7), P(8)), -PV_ENOMEM);
        assert_count(3);
        assert_int_equal(region_remove(&set, P(0), P(9)), 0);
        assert_count(0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_insert_invalid, setup),
        cmocka_unit_test_setup(test_merge_left, setup),
        cmocka_unit_test_setup(test_merge_right, setup),
        cmocka_unit_test_setup(test_merge_bridge, setup),
        cmocka_unit_test_setup(test_merge_bridge_passthrough, setup),
        cmocka_unit_test_setup(test_merge_name_by_content, setup),
        cmocka_unit_test_setup(test_no_merge_incompatible, setup),
        cmocka_unit_test_setup(test_overlap_refused, setup),
        cmocka_unit_test_setup(test_remove_whole, setup),
        cmocka_unit_test_setup(test_remove_shrink_front, setup),
        cmocka_unit_test_setup(test_remove_shrink_back, setup),
        cmocka_unit_test_setup(test_remove_split_middle, setup),
        cmocka_unit_test_setup(test_remove_spanning, setup),
        cmocka_unit_test_setup(test_find_lookup_boundaries, test_region_set_setup),
        cmocka_unit_test_setup(test_find_gap, test_region_set_setup),
        cmocka_unit_test_setup(test_pool_exhaustion_insert, setup),
        cmocka_unit_test_setup(test_pool_exhaustion_split, setup),
        cmocka_unit_test_setup(test_pool_reuse, setup),
        cmocka_unit_test_setup(test_tree_stays_balanced, test_region_set_setup),
        cmocka_unit_test_setup(test_iteration_order, test_region_set_setup),
        cmocka_unit_test_setup(test_check_detects_corruption, test_region_set_setup),
        cmocka_unit_test_setup(test_random_low, test_region_set_setup),
        cmocka_unit_test_setup(test_random_top, test_region_set_setup),
        cmocka_unit_test_setup(test_format, test_region_set_setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
