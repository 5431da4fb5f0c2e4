/*
 * Unit tests for the stage-2 fault-path fast path (ept/s2pt.c):
 * s2pt_lookup_slot() and s2pt_install_at().
 *
 * The contract is equivalence: lookup_slot reports what s2pt_lookup()
 * reports, and install_at leaves the table exactly as
 * s2pt_map(..., PAGE_SIZE, ...) would (entries, table pages, invalidation
 * calls, errors), whatever happened to the table between the lookup and the
 * install. So most tests drive two tables of the same format through the
 * same history, "a" with lookup_slot + install_at and "b" with s2pt_map,
 * and compare them entry by entry after every step (tests/unit/s2pt_pair.h).
 * Every scenario runs once per format (the format is the test's prestate).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ept/s2pt.h"
#include "tests/unit/s2pt_pair.h"

#define POOL_SIZE (256 * PAGE_SIZE)  /* directed tests */
#define SMALL_POOL (24 * PAGE_SIZE)  /* ENOMEM tests */
#define RAND_POOL (128 * PAGE_SIZE)  /* random test: squeezing stays cheap */
#define RAND_OPS 100000u
#define RAND_SEED 0x5107c0ffee15ull
#define H2M HUGE_2M
#define H1G HUGE_1G
#define HPA 0x100000000ull /* made-up leaf hpas (never touched) start here */

static int setup(void **state)
{
    *state = pair_new(*state, POOL_SIZE);
    return 0;
}

static int teardown(void **state)
{
    pair_free(*state);
    return 0;
}

/* ---- lookup_slot ----------------------------------------------------------- */

static const gpa_t G0 = 0x12345000; /* a page with its own 4 KiB path */
static const gpa_t Y = 0x400000;    /* a 2 MiB leaf */
static const gpa_t G3 = 3 * H1G;    /* a 1 GiB leaf */

/* On both: 4 KiB leaf at G0 (accessed, dirty), swap entry at G0+4K, rights-0
 * leaf at G0+8K, read-only leaf at G0+12K, 2 MiB leaf at Y, 1 GiB at G3. */
static void prestate(struct pair *p)
{
    ON_BOTH(p, s2pt_map, G0, HPA, PAGE_SIZE, ACC_RW, MT_WB);
    hw_set_ad(p, G0, ad_bits(p->a));
    ON_BOTH(p, s2pt_set_swap, G0 + PAGE_SIZE, swp_entry(3, 0x777));
    ON_BOTH(p, s2pt_map, G0 + 2 * PAGE_SIZE, HPA + 2 * PAGE_SIZE, PAGE_SIZE,
            ACC_RWX, MT_WB);
    ON_BOTH(p, s2pt_protect, G0 + 2 * PAGE_SIZE, PAGE_SIZE, 0);
    ON_BOTH(p, s2pt_map, G0 + 3 * PAGE_SIZE, HPA + 3 * PAGE_SIZE, PAGE_SIZE,
            ACC_R, MT_WB);
    ON_BOTH(p, s2pt_map, Y, HPA, H2M, ACC_RWX, MT_WT);
    ON_BOTH(p, s2pt_map, G3, 2 * H1G, H1G, ACC_RX, MT_UC);
    reset_calls(p);
}

static void test_lookup_slot_reports_lookup(void **state)
{
    struct pair *p = *state;
    prestate(p);
    const struct {
        gpa_t gpa;
        enum s2_state st;
        int level;
    } cases[] = {
        {G0, S2_PRESENT, 1},
        {G0 + 0x123, S2_PRESENT, 1},
        {G0 + PAGE_SIZE + 0xfff, S2_SWAP, 1},
        {G0 + 2 * PAGE_SIZE, S2_PRESENT, 1}, /* rights 0 */
        {G0 + 4 * PAGE_SIZE, S2_NONE, 1},
        {G0 + H2M, S2_NONE, 2},
        {0, S2_NONE, 2},
        {Y + 0x5678, S2_PRESENT, 2},
        {G3 + 0x1234567, S2_PRESENT, 3},
        {5 * H1G, S2_NONE, 3},
        {1ull << 40, S2_NONE, 4},
        {(1ull << S2_GPA_BITS) - 1, S2_NONE, 4},
        {1ull << S2_GPA_BITS, S2_NONE, S2_LEVELS},
        {~0ull, S2_NONE, S2_LEVELS},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        gpa_t g = cases[k].gpa;
        struct s2_info i, j;
        struct s2_slot s = look_both(p, g, &i);
        assert_int_equal(i.state, cases[k].st);
        assert_int_equal(i.level, cases[k].level);
        assert_true(s.page == (g & PAGE_MASK));
        assert_true(s.shape == p->a->pt.shape);
        if (g >> S2_GPA_BITS) {
            assert_int_equal(s.level, 0); /* no slot: install_at walks */
        } else {
            int level;
            uint64_t *e = entry(p->a, g, &level);
            assert_int_equal(s.level, i.level);
            assert_int_equal(level, i.level);
            assert_ptr_equal((uint64_t *)hpa_va(s.table) + s.idx, e);
            assert_true(*e == i.raw);
        }
        assert_int_equal(s2pt_lookup_slot(&p->a->pt, g, &j, NULL), 0);
        same_info(&i, &j);
    }
    struct s2_info i;
    look_both(p, G0, &i);
    assert_true(i.accessed == p->a->fmt->ad_capable);
    look_both(p, G0 + PAGE_SIZE, &i);
    assert_true(i.swap == swp_entry(3, 0x777));
}

/* ---- install_at into an existing table ---------------------------------- */

static uint64_t leaf_raw(struct pair *p, gpa_t g) { return *entry(p->a, g, NULL); }

static void test_install_same_as_map(void **state)
{
    struct pair *p = *state;
    const struct s2pt_format *fmt = p->a->fmt;
    const uint64_t AD = ad_bits(p->a);
    prestate(p);
    uint64_t tables = p->a->pt.tables, shape = p->a->pt.shape;
    struct s2_info i;

    /* empty slot: the leaf s2pt_map builds, no invalidation */
    gpa_t g = G0 + 4 * PAGE_SIZE;
    struct s2_slot s = look_both(p, g, NULL);
    assert_int_equal(install_both(p, &s, g, HPA + 0x5000, ACC_RWX, MT_WB), PV_OK);
    assert_true(leaf_raw(p, g) == fmt->make_leaf(HPA + 0x5000, ACC_RWX, MT_WB, 1));
    expect_calls(p, 0, 0, 0);
    /* swap entry -> leaf (swap-in): no invalidation */
    s = look_both(p, G0 + PAGE_SIZE, NULL);
    assert_int_equal(install_both(p, &s, G0 + PAGE_SIZE, HPA + 0x6000, ACC_RW, MT_WB), PV_OK);
    assert_true(leaf_raw(p, G0 + PAGE_SIZE) == fmt->make_leaf(HPA + 0x6000, ACC_RW, MT_WB, 1));
    expect_calls(p, 0, 0, 0);
    /* same page, more rights: A/D kept, no invalidation */
    s = look_both(p, G0, NULL);
    assert_int_equal(install_both(p, &s, G0, HPA, ACC_RWX, MT_WB), PV_OK);
    assert_true(leaf_raw(p, G0) == (fmt->make_leaf(HPA, ACC_RWX, MT_WB, 1) | AD));
    expect_calls(p, 0, 0, 0);
    /* same page, fewer rights: A/D kept, the page invalidated */
    s = look_both(p, G0, NULL);
    assert_int_equal(install_both(p, &s, G0, HPA, ACC_R, MT_WB), PV_OK);
    assert_true(leaf_raw(p, G0) == (fmt->make_leaf(HPA, ACC_R, MT_WB, 1) | AD));
    expect_calls(p, 1, G0, PAGE_SIZE);
    /* same page, same rights, another memory type: invalidated */
    s = look_both(p, G0, NULL);
    assert_int_equal(install_both(p, &s, G0, HPA, ACC_R, MT_UC), PV_OK);
    look_both(p, G0, &i);
    assert_int_equal(i.memtype, MT_UC);
    expect_calls(p, 1, G0, PAGE_SIZE);
    /* another page (cow): A/D history dropped, invalidated */
    s = look_both(p, G0, NULL);
    assert_int_equal(install_both(p, &s, G0, HPA + 0x7000, ACC_RW, MT_WB), PV_OK);
    assert_true(leaf_raw(p, G0) == fmt->make_leaf(HPA + 0x7000, ACC_RW, MT_WB, 1));
    expect_calls(p, 1, G0, PAGE_SIZE);
    /* rights-0 leaf: the hardware never cached it, no invalidation */
    s = look_both(p, G0 + 2 * PAGE_SIZE, NULL);
    assert_int_equal(install_both(p, &s, G0 + 2 * PAGE_SIZE, HPA + 2 * PAGE_SIZE,
                                  ACC_RW, MT_WB), PV_OK);
    expect_calls(p, 0, 0, 0);
    /* identical leaf: nothing to do */
    s = look_both(p, G0 + 3 * PAGE_SIZE, NULL);
    uint64_t before = leaf_raw(p, G0 + 3 * PAGE_SIZE);
    assert_int_equal(install_both(p, &s, G0 + 3 * PAGE_SIZE, HPA + 3 * PAGE_SIZE,
                                  ACC_R, MT_WB), PV_OK);
    assert_true(leaf_raw(p, G0 + 3 * PAGE_SIZE) == before);
    expect_calls(p, 0, 0, 0);
    assert_int_equal(p->a->pt.tables, tables);
    assert_true(p->a->pt.shape == shape);
}

/*
 * White box: a current slot is used as given (no walk). Pointing it at the
 * neighbouring entry makes the leaf land there, which shows the fast path
 * is taken when the shape, page and level agree.
 */
static void test_current_slot_is_used(void **state)
{
    struct pair *p = *state;
    prestate(p);
    gpa_t g = G0 + 4 * PAGE_SIZE;
    struct s2_slot s = look_both(p, g, NULL);
    s.idx++;
    assert_int_equal(s2pt_install_at(&p->a->pt, &s, g, HPA, ACC_R, MT_WB), PV_OK);
    struct s2_info i;
    assert_int_equal(s2pt_lookup(&p->a->pt, g + PAGE_SIZE, &i), 0);
    assert_int_equal(i.state, S2_PRESENT);
    assert_int_equal(s2pt_lookup(&p->a->pt, g, &i), 0);
    assert_int_equal(i.state, S2_NONE);
    /* a stale shape is not trusted: the same forged slot now walks */
    s.shape--;
    assert_int_equal(s2pt_install_at(&p->a->pt, &s, g, HPA, ACC_R, MT_WB), PV_OK);
    assert_int_equal(s2pt_lookup(&p->a->pt, g, &i), 0);
    assert_int_equal(i.state, S2_PRESENT);
    assert_true(s2pt_check(&p->a->pt));
}

/* ---- install_at after the table changed shape ------------------------------ */

static void test_install_after_table_freed(void **state)
{
    struct pair *p = *state;
    ON_BOTH(p, s2pt_map, G0, HPA, PAGE_SIZE, ACC_RW, MT_WB);
    struct s2_slot s = look_both(p, G0 + PAGE_SIZE, NULL);
    assert_int_equal(s.level, 1);
    ON_BOTH(p, s2pt_unmap, G0, PAGE_SIZE); /* frees the PT, PD and PDPT */
    assert_int_equal(p->a->pt.tables, 1);
    /* a holds the old PT page (filled with the pattern), nothing else */
    hold(p->a, 0);
    struct frame *old = frame_of(&p->a->fp, s.table);
    assert_non_null(old);
    size_t k = 0;
    while (k < p->a->nheld && p->a->held[k] != old)
        k++;
    assert_true(k < p->a->nheld);
    p->a->held[k] = p->a->held[--p->a->nheld];
    release(p->a);
    p->a->held[p->a->nheld++] = old;
    assert_int_equal(install_both(p, &s, G0 + PAGE_SIZE, HPA + PAGE_SIZE, ACC_RW,
                                  MT_WB), PV_OK);
    assert_int_equal(p->a->pt.tables, 4);
    release(p->a); /* the old PT page was not written */
}

static void test_install_after_2m_over_freed_table(void **state)
{
    struct pair *p = *state;
    ON_BOTH(p, s2pt_map, G0, HPA, PAGE_SIZE, ACC_RW, MT_WB);
    struct s2_slot s = look_both(p, G0 + PAGE_SIZE, NULL);
    gpa_t blk = ALIGN_DOWN(G0, H2M);
    ON_BOTH(p, s2pt_unmap, blk, H2M);
    ON_BOTH(p, s2pt_map, blk, 4 * H1G, H2M, ACC_RWX, MT_WB);
    assert_int_equal(install_both(p, &s, G0 + PAGE_SIZE, HPA, ACC_R, MT_WB), PV_OK);
    expect_calls(p, 1, G0 + PAGE_SIZE, PAGE_SIZE);
    struct s2_info i;
    look_both(p, G0 + 2 * PAGE_SIZE, &i);
    assert_int_equal(i.level, 1);
    assert_true(i.hpa == 4 * H1G + (G0 + 2 * PAGE_SIZE - blk));
    look_both(p, G0 + PAGE_SIZE, &i);
    assert_true(i.hpa == HPA && i.rights == ACC_R);
}

static void test_install_after_split_or_new_table(void **state)
{
    struct pair *p = *state;
    prestate(p);
    /* a table added elsewhere: the slot is still good, either path is */
    struct s2_slot s = look_both(p, G0 + 4 * PAGE_SIZE, NULL);
    ON_BOTH(p, s2pt_split, Y, PAGE_SIZE);
    assert_true(s.shape != p->a->pt.shape);
    install_both(p, &s, G0 + 4 * PAGE_SIZE, HPA, ACC_RW, MT_WB);
    /* the slot's own large leaf split between lookup and install */
    s = look_both(p, G3 + 5 * PAGE_SIZE, NULL);
    assert_int_equal(s.level, 3);
    ON_BOTH(p, s2pt_split, G3, PAGE_SIZE);
    install_both(p, &s, G3 + 5 * PAGE_SIZE, HPA, ACC_RW, MT_WB);
    expect_calls(p, 1, G3 + 5 * PAGE_SIZE, PAGE_SIZE);
    /* the path completed between lookup and install (slot at level 2) */
    s = look_both(p, G0 + H2M, NULL);
    assert_int_equal(s.level, 2);
    ON_BOTH(p, s2pt_map, G0 + H2M + PAGE_SIZE, HPA, PAGE_SIZE, ACC_R, MT_WB);
    install_both(p, &s, G0 + H2M, HPA, ACC_RW, MT_WB);
    /* the entry itself changed (no shape change): install_at reads it anew */
    s = look_both(p, G0 + 5 * PAGE_SIZE, NULL);
    ON_BOTH(p, s2pt_map, G0 + 5 * PAGE_SIZE, HPA + 0x9000, PAGE_SIZE, ACC_RW, MT_WB);
    assert_true(s.shape == p->a->pt.shape);
    install_both(p, &s, G0 + 5 * PAGE_SIZE, HPA + 0xa000, ACC_RW, MT_WB);
    expect_calls(p, 1, G0 + 5 * PAGE_SIZE, PAGE_SIZE);
}

/* ---- a slot for another address or level ------------------------------------ */

static void test_install_other_address_or_level(void **state)
{
    struct pair *p = *state;
    prestate(p);
    uint64_t raw0 = leaf_raw(p, G0);
    /* slot of G0, install at its neighbour / in another block */
    struct s2_slot s = look_both(p, G0, NULL);
    install_both(p, &s, G0 + 4 * PAGE_SIZE, HPA + 0x1000, ACC_RW, MT_WB);
    assert_true(leaf_raw(p, G0) == raw0);
    install_both(p, &s, G0 + H2M, HPA + 0x1000, ACC_RW, MT_WB);
    assert_true(leaf_raw(p, G0) == raw0);
    /* slots above level 1: empty, 2 MiB leaf, 1 GiB leaf, empty root slot */
    const gpa_t gs[] = {G0 + 2 * H2M, Y + 5 * PAGE_SIZE, G3 + H2M + PAGE_SIZE,
                        1ull << 40};
    for (size_t k = 0; k < sizeof(gs) / sizeof(gs[0]); k++) {
        s = look_both(p, gs[k], NULL);
        assert_true(s.level > 1);
        assert_int_equal(install_both(p, &s, gs[k], HPA, ACC_RW, MT_WB), PV_OK);
        struct s2_info i;
        look_both(p, gs[k], &i);
        assert_int_equal(i.level, 1);
    }
    /* no slot, and the slot of an address beyond the table */
    install_both(p, NULL, G0 + 6 * PAGE_SIZE, HPA, ACC_RW, MT_WB);
    s = look_both(p, 1ull << S2_GPA_BITS, NULL);
    install_both(p, &s, G0 + 7 * PAGE_SIZE, HPA, ACC_RW, MT_WB);
    assert_int_equal(install_both(p, &s, 1ull << S2_GPA_BITS, HPA, ACC_RW, MT_WB),
                     -PV_EINVAL);
    /* unaligned gpa or hpa: s2pt_map's errors, nothing changed */
    s = look_both(p, G0 + 0x123, NULL);
    assert_int_equal(install_both(p, &s, G0 + 0x123, HPA, ACC_RW, MT_WB), -PV_EINVAL);
    assert_int_equal(install_both(p, &s, G0, HPA + 8, ACC_RW, MT_WB), -PV_EINVAL);
    assert_int_equal(install_both(p, &s, G0, 1ull << 52, ACC_RW, MT_WB), -PV_EINVAL);
    assert_true(leaf_raw(p, G0) == raw0);
    assert_int_equal(install_both(p, &s, G0, HPA + 0x8000, ACC_RW, MT_WB), PV_OK);
}

/* ---- out of table pages during the fallback --------------------------------- */

static void test_install_enomem(void **state)
{
    struct pair *big = *state;
    struct pair *p = pair_new(big->a->fmt, SMALL_POOL);
    prestate(p);
    uint64_t tables = p->a->pt.tables;
    const struct {
        gpa_t gpa;
        size_t free; /* pages left, one short of what the install needs */
    } cases[] = {
        {G0 + H2M, 0},             /* a PT */
        {Y + 3 * PAGE_SIZE, 0},    /* a 2 MiB split */
        {G3 + 3 * PAGE_SIZE, 1},   /* two splits */
        {5 * H1G, 1},              /* a PD and a PT */
        {1ull << 40, 2},           /* PDPT, PD, PT */
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct s2_slot s = look_both(p, cases[k].gpa, NULL);
        struct s2_info before;
        look_both(p, cases[k].gpa, &before);
        hold(p->a, cases[k].free);
        hold(p->b, cases[k].free);
        assert_int_equal(install_both(p, &s, cases[k].gpa, HPA, ACC_RW, MT_WB),
                         -PV_ENOMEM);
        struct s2_info after;
        look_both(p, cases[k].gpa, &after);
        same_info(&before, &after);
        expect_calls(p, 0, 0, 0);
        assert_int_equal(p->a->pt.tables, tables);
        assert_int_equal(frame_free_count(&p->a->fp), cases[k].free);
        assert_true(frame_pool_check(&p->a->fp));
        release(p->a);
        release(p->b);
        /* with the pages back, the same slot installs */
        assert_int_equal(install_both(p, &s, cases[k].gpa, HPA, ACC_RW, MT_WB), PV_OK);
        tables = p->a->pt.tables;
    }
    /* a stale level-1 slot whose table was freed */
    struct s2_slot s = look_both(p, G0 + 5 * PAGE_SIZE, NULL);
    ON_BOTH(p, s2pt_unmap, ALIGN_DOWN(G0, H2M), H2M);
    tables = p->a->pt.tables;
    hold(p->a, 0);
    hold(p->b, 0);
    assert_int_equal(install_both(p, &s, G0 + 5 * PAGE_SIZE, HPA, ACC_RW, MT_WB),
                     -PV_ENOMEM);
    assert_int_equal(p->a->pt.tables, tables);
    release(p->a); /* also: the freed PT (now held) was not written */
    release(p->b);
    pair_free(p);
}

/* ---- randomized equivalence ------------------------------------------------- */

struct rnd_stats {
    unsigned long installs, current, stale_shape, enomem, einval, squeezes;
};

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static unsigned pick(uint64_t *s, unsigned n) { return (unsigned)(rnd(s) % n); }

/* Few distinct addresses (so that ops collide): pages at the edges of a
 * few 2 MiB blocks in a few GiBs, one of them under another PML4 entry. */
static gpa_t rand_gpa(uint64_t *s)
{
    static const gpa_t gib[] = {0, H1G, 2 * H1G, 512 * H1G};
    static const unsigned blk[] = {0, 1, 511};
    static const unsigned pg[] = {0, 1, 2, 255, 510, 511};
    if (pick(s, 256) == 0)
        return (1ull << S2_GPA_BITS) + PAGE_SIZE * pick(s, 4); /* invalid */
    return gib[pick(s, 4)] + blk[pick(s, 3)] * H2M + pg[pick(s, 6)] * PAGE_SIZE;
}

static hpa_t rand_hpa(uint64_t *s, uint64_t size)
{
    if (pick(s, 256) == 0)
        return HPA + (pick(s, 2) ? 8 : 1ull << 52); /* invalid */
    return HPA + size * pick(s, 4);
}

static uint32_t rand_rights(uint64_t *s)
{
    static const uint32_t r[] = {0, ACC_R, ACC_RW, ACC_RX, ACC_RWX};
    return r[pick(s, 5)];
}

static enum memtype rand_mt(uint64_t *s)
{
    static const enum memtype m[] = {MT_WB, MT_WB, MT_UC, MT_WT};
    return m[pick(s, 4)];
}

static uint64_t rand_size(uint64_t *s)
{
    static const uint64_t z[] = {PAGE_SIZE, 3 * PAGE_SIZE, H2M,
                                 H2M + 5 * PAGE_SIZE, H1G};
    return z[pick(s, 5)];
}

/* One table operation other than a fault, on both tables. (ON_BOTH
 * evaluates its arguments twice: draw every random value first.) */
static void rand_op(struct pair *p, uint64_t *s, struct rnd_stats *st)
{
    gpa_t g = rand_gpa(s);
    unsigned op = pick(s, 11);
    uint64_t size = rand_size(s), r = rnd(s);
    uint32_t rights = rand_rights(s);
    enum memtype mt = rand_mt(s);
    switch (op) {
    case 0:
    case 1:
    case 2: {
        /* 4 KiB, 2 MiB, sometimes 1 GiB leaves */
        size = op < 2 ? PAGE_SIZE : r % 4 ? H2M : H1G;
        hpa_t h = rand_hpa(s, size);
        ON_BOTH(p, s2pt_map, ALIGN_DOWN(g, size), h, size, rights, mt);
        break;
    }
    case 3:
        ON_BOTH(p, s2pt_unmap, g, size);
        break;
    case 4:
        ON_BOTH(p, s2pt_protect, g, size, rights);
        break;
    case 5:
        ON_BOTH(p, s2pt_split, g, r % 2 ? PAGE_SIZE : H2M);
        break;
    case 6:
        ON_BOTH(p, s2pt_set_swap, g, swp_entry((unsigned)r, r >> 8));
        break;
    case 7:
        hw_set_ad(p, g, ad_bits(p->a) & r);
        same_state(p);
        break;
    case 8:
        if (r % 2)
            ON_BOTH(p, s2pt_test_and_clear_accessed, g);
        else
            ON_BOTH(p, s2pt_test_and_clear_dirty, g);
        break;
    case 9:
        if (p->a->nheld == 0 && r % 4 == 0) {
            hold(p->a, (r >> 2) % 4);
            hold(p->b, (r >> 2) % 4);
            st->squeezes++;
        }
        break;
    default:
        release(p->a);
        release(p->b);
        break;
    }
}

/* A fault: lookup with a slot, maybe something else in between, install. */
static void rand_fault(struct pair *p, uint64_t *s, struct rnd_stats *st)
{
    gpa_t g = rand_gpa(s);
    struct s2_slot slot = look_both(p, g + (pick(s, 4) ? 0 : pick(s, PAGE_SIZE)), NULL);
    if (pick(s, 4) == 0)
        rand_op(p, s, st);
    if (pick(s, 16) == 0)
        g = rand_gpa(s);
    bool current = slot.level == 1 && slot.shape == p->a->pt.shape && slot.page == g;
    st->current += current;
    st->stale_shape += slot.level == 1 && slot.shape != p->a->pt.shape;
    int rc = install_both(p, pick(s, 32) ? &slot : NULL, g,
                          rand_hpa(s, PAGE_SIZE), rand_rights(s), rand_mt(s));
    st->installs++;
    st->enomem += rc == -PV_ENOMEM;
    st->einval += rc == -PV_EINVAL;
}

static void test_random_equivalence(void **state)
{
    struct pair *big = *state;
    struct pair *p = pair_new(big->a->fmt, RAND_POOL);
    struct rnd_stats st = {0};
    uint64_t s = RAND_SEED;
    for (unsigned n = 0; n < RAND_OPS; n++) {
        if (p->a->nheld == 0)
            assert_int_equal(frame_free_count(&p->a->fp), frame_free_count(&p->b->fp));
        if (pick(&s, 2))
            rand_fault(p, &s, &st);
        else
            rand_op(p, &s, &st);
    }
    print_message("%s: %lu installs: %lu current slots, %lu stale shapes, "
                  "%lu ENOMEM, %lu EINVAL; %lu squeezes\n", p->a->fmt->name,
                  st.installs, st.current, st.stale_shape, st.enomem, st.einval,
                  st.squeezes);
    /* the mix really exercised both paths and the failures */
    assert_true(st.current > st.installs / 10);
    assert_true(st.stale_shape > 100);
    assert_true(st.enomem > 10);
    assert_true(st.einval > 10);
    pair_free(p);
}

#define BOTH(t)                                                                   \
    cmocka_unit_test_prestate_setup_teardown(t, setup, teardown,                  \
                                             (void *)&s2pt_format_ept),           \
        cmocka_unit_test_prestate_setup_teardown(t, setup, teardown,              \
                                                 (void *)&s2pt_format_npt)

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_lookup_slot_reports_lookup),
        BOTH(test_install_same_as_map),
        BOTH(test_current_slot_is_used),
        BOTH(test_install_after_table_freed),
        BOTH(test_install_after_2m_over_freed_table),
        BOTH(test_install_after_split_or_new_table),
        BOTH(test_install_other_address_or_level),
        BOTH(test_install_enomem),
        BOTH(test_random_equivalence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
