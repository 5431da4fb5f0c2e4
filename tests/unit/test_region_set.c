/*
 * Whole-set properties of ept/region.c, run from tests/unit/test_region.c:
 * tree balance, iteration order, region_set_check catching damage, a long
 * randomized run against the page model of tests/unit/region_model.h, and
 * the one-line format.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "ept/region.h"
#include "tests/unit/host_log.h"
#include "tests/unit/region_model.h"
#include "tests/unit/test_region.h"

#define P(n) ((gpa_t)(n) * PAGE_SIZE)
#define POOL 64

static struct region pool[POOL];
static struct region_set set;

int test_region_set_setup(void **state)
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

static struct region *nth(size_t i)
{
    struct region *r = region_first(&set);
    while (r && i--)
        r = region_next(&set, r);
    assert_non_null(r);
    return r;
}

static void assert_count(size_t n)
{
    assert_true(region_set_check(&set));
    assert_int_equal(set.count, n);
}

/* ---- structure ----------------------------------------------------------- */

/* Ascending, descending and interleaved inserts keep the tree O(log n) high. */
void test_tree_stays_balanced(void **state)
{
    (void)state;
    enum { N = 4096 };
    static struct region big[N];
    region_set_init(&set, big, N);
    /* alternate kinds so nothing merges */
    for (size_t i = 0; i < N / 2; i++)
        assert_int_equal(ins(P(2 * i), P(2 * i + 1), ACC_RW,
                             i & 1 ? REGION_ANON : REGION_ROM, NULL, NULL), 0);
    for (size_t i = N / 2; i-- > 0;)
        assert_int_equal(ins(P(N + 2 * i), P(N + 2 * i + 1), ACC_RW,
                             i & 1 ? REGION_ANON : REGION_ROM, NULL, NULL), 0);
    assert_count(N);
    /* an AVL tree of height h has at least F(h+2)-1 nodes: 4096 allow <= 16 */
    assert_true(set.root->rb_balance <= 16);
    assert_true(set.root->rb_balance >= 13); /* log2(4096) + 1 */
    for (size_t i = 0; i < N; i += 2)
        assert_int_equal(region_remove(&set, P(2 * i), P(2 * i + 1)), 0);
    assert_count(N / 2);
    assert_true(set.root->rb_balance <= 15);
    for (size_t i = 1; i < N; i += 2) {
        assert_ptr_equal(region_lookup(&set, P(2 * i)), region_find(&set, P(2 * i - 1)));
        assert_null(region_lookup(&set, P(2 * i + 1)));
    }
}

void test_iteration_order(void **state)
{
    (void)state;
    const gpa_t starts[] = { P(50), P(10), P(30), P(70), P(20) };
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(ins(starts[i], starts[i] + P(1), ACC_R,
                             i & 1 ? REGION_ROM : REGION_ANON, NULL, NULL), 0);
    const gpa_t want[] = { P(10), P(20), P(30), P(50), P(70) };
    size_t n = 0;
    for (struct region *r = region_first(&set); r; r = region_next(&set, r))
        assert_int_equal(r->start, want[n++]);
    assert_int_equal(n, 5);
}

/* region_set_check must notice each kind of damage (and say so in the log). */
void test_check_detects_corruption(void **state)
{
    (void)state;
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(ins(P(4 * i), P(4 * i + 2), ACC_R,
                             i & 1 ? REGION_ANON : REGION_ROM, NULL, NULL), 0);
    assert_true(region_set_check(&set));
    assert_false(host_log_contains("region_set_check"));

    struct region *a = nth(2), *b = nth(3), *root = set.root;
    gpa_t t;

    set.count++;
    assert_false(region_set_check(&set));
    set.count--;

    t = a->start; a->start = b->start; b->start = t; /* order */
    assert_false(region_set_check(&set));
    t = a->start; a->start = b->start; b->start = t;

    a->end = b->start + PAGE_SIZE; /* overlap */
    assert_false(region_set_check(&set));
    a->end = a->start + P(2);

    root->rb_balance++; /* height */
    assert_false(region_set_check(&set));
    root->rb_balance--;

    struct region *leaf = root;
    while (leaf->rb_left)
        leaf = leaf->rb_left;
    struct region *par = leaf->rb_parent; /* parent pointer */
    leaf->rb_parent = NULL;
    assert_false(region_set_check(&set));
    leaf->rb_parent = par;

    struct list_node *n = a->link.next; /* list skips b */
    a->link.next = b->link.next;
    assert_false(region_set_check(&set));
    a->link.next = n;

    struct region *f = set.free; /* lost free descriptor */
    set.free = f->rb_right;
    assert_false(region_set_check(&set));
    set.free = f;

    assert_true(host_log_contains("region_set_check"));
    assert_true(region_set_check(&set));
}

/* ---- the randomized test against the page model --------------------------- */

static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static struct rm_harness harness;

static void random_run(bool top, size_t npages, size_t cap, uint64_t seed,
                       size_t ops)
{
    rng_state = seed;
    rm_harness_setup(&harness, top, npages, cap);
    for (size_t i = 0; i < ops; i++) {
        uint8_t op[RM_OP_BYTES];
        uint64_t x = rng();
        memcpy(op, &x, sizeof(op));
        const char *err = rm_step(&harness, op);
        if (err)
            fail_msg("op %zu (%02x %02x %02x %02x %02x): %s", i, op[0], op[1],
                     op[2], op[3], op[4], err);
    }
    if (getenv("PV_LOG"))
        fprintf(stderr, "ins %zu merged %zu bridged %zu eexist %zu enomem %zu rm %zu split %zu "
                "enomem %zu einval %zu gap %zu/%zu\n", harness.inserted,
                harness.merged, harness.bridged, harness.eexist, harness.enomem_insert,
                harness.removed, harness.split, harness.enomem_remove,
                harness.einval, harness.gap_found, harness.gap_none);
    /* every interesting outcome was reached */
    assert_true(harness.inserted > 100);
    assert_true(harness.merged > 10);
    assert_true(harness.bridged > 0);
    assert_true(harness.eexist > 100);
    assert_true(harness.enomem_insert > 0);
    assert_true(harness.removed > 100);
    assert_true(harness.split > 10);
    assert_true(harness.enomem_remove > 0);
    assert_true(harness.einval > 100);
    assert_true(harness.gap_found > 10);
    assert_true(harness.gap_none > 10);
}

/* window of 256 pages at 0, 24 descriptors */
void test_random_low(void **state)
{
    (void)state;
    random_run(false, 256, 24, 0x9e3779b97f4a7c15ull, 20000);
}

/* window of 96 pages just under 2^64, 12 descriptors: ends and gap searches near the wrap */
void test_random_top(void **state)
{
    (void)state;
    random_run(true, 96, 12, 0x2545f4914f6cdd1dull, 20000);
}

/* ---- names and formatting ---------------------------------------------------- */

void test_format(void **state)
{
    (void)state;
    char buf[96];
    struct region *r;
    struct region_backing h;
    memset(&h, 0, sizeof(h));
    h.host.hpa = 0xfec00000;
    h.host.memtype = MT_UC;

    assert_int_equal(region_insert(&set, 0x100000, 0x40000000, ACC_RW,
                                   REGION_ANON, NULL, "ram-low", &r), 0);
    int n = region_format(r, buf, sizeof(buf));
    assert_string_equal(buf, "[0x0000100000-0x0040000000) rw- anon ram-low");
    assert_int_equal(n, (int)strlen(buf));

    assert_int_equal(region_insert(&set, 0xfec00000, 0xfec01000, ACC_RW | ACC_X,
                                   REGION_PASSTHROUGH, &h, "ioapic", &r), 0);
    region_format(r, buf, sizeof(buf));
    assert_string_equal(buf, "[0x00fec00000-0x00fec01000) rwx passthrough ioapic");

    assert_int_equal(region_insert(&set, 0xf0000, 0x100000, ACC_R | ACC_X,
                                   REGION_ROM, NULL, NULL, &r), 0);
    region_format(r, buf, sizeof(buf));
    assert_string_equal(buf, "[0x00000f0000-0x0000100000) r-x rom");

    assert_int_equal(region_insert(&set, 0x10000000000ull, 0x10000001000ull, 0,
                                   REGION_MMIO_EMULATED, NULL, "x", &r), 0);
    region_format(r, buf, sizeof(buf));
    assert_string_equal(buf, "[0x10000000000-0x10000001000) --- mmio-emulated x");

    /* truncation is detectable: the full length comes back */
    char small[8];
    assert_int_equal(region_format(r, small, sizeof(small)),
                     (int)strlen("[0x10000000000-0x10000001000) --- mmio-emulated x"));
    assert_string_equal(small, "[0x1000");

    assert_string_equal(region_kind_name(REGION_ANON), "anon");
    assert_string_equal(region_kind_name(REGION_FILE_PRIVATE), "file-private");
    assert_string_equal(region_kind_name(REGION_PASSTHROUGH), "passthrough");
    assert_string_equal(region_kind_name(REGION_MMIO_EMULATED), "mmio-emulated");
    assert_string_equal(region_kind_name(REGION_ROM), "rom");
    assert_string_equal(region_kind_name(REGION_KIND_COUNT), "invalid");
}

/* ---- lookups ------------------------------------------------------------------ */

/*
 *        0x10000      0x20000      0x30000      0x40000
 *   hole |-----A------| hole       |-----B------| hole
 */
void test_find_lookup_boundaries(void **state)
{
    (void)state;
    assert_int_equal(ins_anon(0x10000, 0x20000), 0);
    assert_int_equal(ins(0x30000, 0x40000, ACC_R, REGION_ROM, NULL, "rom"), 0);
    struct region *a = nth(0), *b = nth(1);

    assert_ptr_equal(region_find(&set, 0), a);
    assert_ptr_equal(region_find(&set, 0x10000), a);
    assert_ptr_equal(region_find(&set, 0x1ffff), a);
    assert_ptr_equal(region_find(&set, 0x20000), b); /* end: next one */
    assert_ptr_equal(region_find(&set, 0x2ffff), b);
    assert_ptr_equal(region_find(&set, 0x3ffff), b);
    assert_null(region_find(&set, 0x40000));
    assert_null(region_find(&set, UINT64_MAX));

    assert_null(region_lookup(&set, 0xffff));
    assert_ptr_equal(region_lookup(&set, 0x10000), a);
    assert_ptr_equal(region_lookup(&set, 0x1ffff), a);
    assert_null(region_lookup(&set, 0x20000));
    assert_null(region_lookup(&set, 0x2ffff));
    assert_ptr_equal(region_lookup(&set, 0x30000), b);
    assert_null(region_lookup(&set, 0x40000));

    assert_null(region_find_intersection(&set, 0, 0x10000));
    assert_ptr_equal(region_find_intersection(&set, 0, 0x10001), a);
    assert_null(region_find_intersection(&set, 0x20000, 0x30000)); /* the hole */
    assert_ptr_equal(region_find_intersection(&set, 0x1ffff, 0x30001), a);
    assert_ptr_equal(region_find_intersection(&set, 0x2ffff, 0x30001), b);
    assert_ptr_equal(region_find_intersection(&set, 0, UINT64_MAX), a);
    assert_null(region_find_intersection(&set, 0x18000, 0x18000)); /* empty */
    assert_null(region_find_intersection(&set, 0x40000, UINT64_MAX));

    /* an empty set finds nothing */
    region_set_init(&set, pool, POOL);
    assert_null(region_find(&set, 0));
    assert_null(region_lookup(&set, 0));
    assert_null(region_find_intersection(&set, 0, UINT64_MAX));
    assert_null(region_first(&set));
}

/*
 * 0    0x1000        0x3000  0x5000            0x9000
 * |-A--|     hole    |--B---|      hole       |--C--| ...
 */
void test_find_gap(void **state)
{
    (void)state;
    gpa_t g = 0xdead;
    assert_int_equal(ins_anon(0, 0x1000), 0);
    assert_int_equal(ins(0x3000, 0x5000, ACC_R, REGION_ROM, NULL, "rom"), 0);
    assert_int_equal(ins_anon(0x9000, 0x10000), 0);

    assert_int_equal(region_find_gap(&set, 0x1000, 0x1000, 0, UINT64_MAX, &g), 0);
    assert_int_equal(g, 0x1000);
    assert_int_equal(region_find_gap(&set, 0x2000, 0x1000, 0, UINT64_MAX, &g), 0);
    assert_int_equal(g, 0x1000); /* exact fit */
    assert_int_equal(region_find_gap(&set, 0x2001, 0x1000, 0, UINT64_MAX, &g), 0);
    assert_int_equal(g, 0x5000); /* not a page multiple: needs 3 pages */
    assert_int_equal(region_find_gap(&set, 0x1000, 0x4000, 0, UINT64_MAX, &g), 0);
    assert_int_equal(g, 0x8000); /* aligned: 0x4000 is inside B */
    assert_int_equal(region_find_gap(&set, 0x4000, 0x1000, 0, UINT64_MAX, &g), 0);
    assert_int_equal(g, 0x5000);
    assert_int_equal(region_find_gap(&set, 0x5000, 0x1000, 0, UINT64_MAX, &g), 0);
    assert_int_equal(g, 0x10000); /* past the last region */
    assert_int_equal(region_find_gap(&set, 0x1000, 0x1000, 0x1800, UINT64_MAX, &g), 0);
    assert_int_equal(g, 0x2000); /* lo rounded up */
    assert_int_equal(region_find_gap(&set, 0x1000, 0x10000, 1, UINT64_MAX, &g), 0);
    assert_int_equal(g, 0x10000);
    /* hi bounds the gap's end, exclusive */
    assert_int_equal(region_find_gap(&set, 0x4000, 0x1000, 0, 0x9000, &g), 0);
    assert_int_equal(g, 0x5000);
    assert_int_equal(region_find_gap(&set, 0x4000, 0x1000, 0, 0x8fff, &g), -PV_ENOENT);
    assert_int_equal(region_find_gap(&set, 0x3000, 0x1000, 0, 0x9000, &g), 0);
    assert_int_equal(g, 0x5000);
    assert_int_equal(region_find_gap(&set, 0x1000, 0x1000, 0x3000, 0x5000, &g), -PV_ENOENT);
    assert_int_equal(region_find_gap(&set, 0x1000, 0x1000, 0x5000, 0x5000, &g), -PV_ENOENT);
    /* the top of the address space: no wrap-around */
    assert_int_equal(region_find_gap(&set, 0x1000, 0x1000, UINT64_MAX - 0xfff,
                                     UINT64_MAX, &g), -PV_ENOENT);
    assert_int_equal(region_find_gap(&set, 0x1000, 0x1000, UINT64_MAX - 0x1fff,
                                     UINT64_MAX, &g), 0);
    assert_int_equal(g, UINT64_MAX - 0x1fff);
    assert_int_equal(region_find_gap(&set, 0x1000, HUGE_1G, UINT64_MAX - HUGE_1G + 2,
                                     UINT64_MAX, &g), -PV_ENOENT); /* lo rounds past 2^64 */
    assert_int_equal(ins_anon(UINT64_MAX - 0x1fff, UINT64_MAX - 0xfff), 0);
    assert_int_equal(region_find_gap(&set, 0x1000, 0x1000, UINT64_MAX - 0x2fff,
                                     UINT64_MAX, &g), 0);
    assert_int_equal(g, UINT64_MAX - 0x2fff);
    assert_int_equal(region_find_gap(&set, 0x2000, 0x1000, UINT64_MAX - 0x2fff,
                                     UINT64_MAX, &g), -PV_ENOENT);
    /* bad size or alignment */
    assert_int_equal(region_find_gap(&set, 0, 0x1000, 0, UINT64_MAX, &g), -PV_EINVAL);
    assert_int_equal(region_find_gap(&set, 0x1000, 0x800, 0, UINT64_MAX, &g), -PV_EINVAL);
    assert_int_equal(region_find_gap(&set, 0x1000, 0x3000, 0, UINT64_MAX, &g), -PV_EINVAL);
}
