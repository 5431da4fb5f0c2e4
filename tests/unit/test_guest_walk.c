/*
 * Unit tests for the guest page-table walker (vmm/guest_walk.c): page
 * tables are built in a malloc'ed "guest memory" whose offsets are the
 * guest-physical addresses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/lib/types.h"
#include "vmm/guest_walk.h"
#include "vmm/insn.h"

#define GMEM_SIZE (8u << 20)
#define TABLES_BASE 0x100000ull /* page tables are allocated from here up */
#define PTE_TABLE (GW_PTE_P | GW_PTE_RW | GW_PTE_US)
#define CR0 (GW_CR0_PG | 1ull)
#define CR4_LONG GW_CR4_PAE
#define EFER_LONG (GW_EFER_LMA | GW_EFER_NXE | (1ull << 8) /* LME */)

struct gmem {
    uint8_t *mem;
    uint64_t next_table;
    unsigned reads;
};

static int read_phys(void *ctx, uint64_t gpa, void *dst, size_t len)
{
    struct gmem *g = ctx;
    g->reads++;
    if (gpa >= GMEM_SIZE || len > GMEM_SIZE - gpa)
        return -PV_EIO;
    memcpy(dst, g->mem + gpa, len);
    return 0;
}

static int setup(void **state)
{
    struct gmem *g = calloc(1, sizeof(*g));
    assert_non_null(g);
    g->mem = calloc(1, GMEM_SIZE);
    assert_non_null(g->mem);
    g->next_table = TABLES_BASE;
    *state = g;
    return 0;
}

static int teardown(void **state)
{
    struct gmem *g = *state;
    free(g->mem);
    free(g);
    return 0;
}

static uint64_t new_table(struct gmem *g)
{
    uint64_t t = g->next_table;
    g->next_table += PAGE_SIZE;
    assert_true(g->next_table <= GMEM_SIZE);
    memset(g->mem + t, 0, PAGE_SIZE);
    return t;
}

static uint64_t *pte64(struct gmem *g, uint64_t table, unsigned idx)
{
    return (uint64_t *)(void *)(g->mem + table + idx * 8u);
}

static uint32_t *pte32(struct gmem *g, uint64_t table, unsigned idx)
{
    return (uint32_t *)(void *)(g->mem + table + idx * 4u);
}

/*
 * Map gva in long-mode tables rooted at root (levels 4 or 5), with a leaf
 * at leaf_level (1: 4 KiB, 2: 2 MiB, 3: 1 GiB) holding leaf_entry.
 * Intermediate entries are present, writable and user. Returns the address
 * of the leaf entry so tests can alter it.
 */
static uint64_t *map64(struct gmem *g, uint64_t root, unsigned levels,
                       uint64_t gva, unsigned leaf_level, uint64_t leaf_entry)
{
    uint64_t table = root;
    for (unsigned level = levels; level > leaf_level; level--) {
        unsigned idx = (gva >> (12 + 9 * (level - 1))) & 511;
        uint64_t *e = pte64(g, table, idx);
        if (!(*e & GW_PTE_P))
            *e = new_table(g) | PTE_TABLE;
        table = *e & GW_PTE_ADDR;
    }
    uint64_t *leaf = pte64(g, table, (gva >> (12 + 9 * (leaf_level - 1))) & 511);
    *leaf = leaf_entry;
    return leaf;
}

static int walk(struct gmem *g, uint64_t cr3, uint64_t cr4, uint64_t efer,
                uint64_t gva, uint64_t *gpa, uint32_t *flags)
{
    return guest_walk(CR0, cr3, cr4, efer, gva, read_phys, g, gpa, flags);
}

static void test_paging_off(void **state)
{
    struct gmem *g = *state;
    uint64_t gpa;
    uint32_t flags;
    assert_int_equal(guest_walk(1, 0, 0, 0, 0xfee00020, read_phys, g, &gpa, &flags), 0);
    assert_int_equal(gpa, 0xfee00020);
    assert_int_equal(flags, GW_F_WRITE | GW_F_USER | GW_F_NOPAGING);
    assert_int_equal(g->reads, 0);
    assert_int_equal(guest_walk(0, 0, 0, 0, 0, NULL, g, &gpa, &flags), -PV_EINVAL);
}

static void test_long_4k(void **state)
{
    struct gmem *g = *state;
    uint64_t root = new_table(g), gpa;
    uint32_t flags;
    const uint64_t user = 0x00007f0000401000ull, kern = 0xffff800000001000ull;
    map64(g, root, 4, user, 1, 0x300000 | PTE_TABLE);
    map64(g, root, 4, kern, 1, 0x305000 | GW_PTE_P | GW_PTE_NX);

    assert_int_equal(walk(g, root, CR4_LONG, EFER_LONG, user + 0x123, &gpa, &flags), 0);
    assert_int_equal(gpa, 0x300123);
    assert_int_equal(flags, GW_F_WRITE | GW_F_USER);
    assert_int_equal(g->reads, 4);

    /* CR3's low bits (PCID, PWT/PCD) are not part of the root */
    assert_int_equal(walk(g, root | 0x18, CR4_LONG, EFER_LONG, kern + 0xfff, &gpa, &flags), 0);
    assert_int_equal(gpa, 0x305fff);
    assert_int_equal(flags, GW_F_NX); /* read-only, supervisor, no-execute */
    /* XD without EFER.NXE is a reserved bit */
    assert_int_equal(walk(g, root, CR4_LONG, GW_EFER_LMA, kern, &gpa, &flags), -PV_EINVAL);
    /* the neighbouring page is not mapped */
    assert_int_equal(walk(g, root, CR4_LONG, EFER_LONG, user + PAGE_SIZE, &gpa, &flags),
                     -PV_ENOENT);
}

static void test_long_large_pages(void **state)
{
    struct gmem *g = *state;
    uint64_t root = new_table(g), gpa;
    uint32_t flags;
    const uint64_t va2m = 0x0000000040000000ull, va1g = 0x0000008000000000ull;
    /* 2 MiB page at gpa 0x600000 with the PAT bit (12) set */
    uint64_t *pde = map64(g, root, 4, va2m, 2,
                          0x600000 | (1ull << 12) | GW_PTE_PS | PTE_TABLE);
    /* 1 GiB page at gpa 0x1_4000_0000, read-only */
    map64(g, root, 4, va1g, 3, 0x140000000ull | GW_PTE_PS | GW_PTE_P | GW_PTE_US);

    assert_int_equal(walk(g, root, CR4_LONG, EFER_LONG, va2m + 0x1abcde, &gpa, &flags), 0);
    assert_int_equal(gpa, 0x600000 + 0x1abcde);
    assert_int_equal(flags, GW_F_WRITE | GW_F_USER | GW_F_2M);
    assert_int_equal(walk(g, root, CR4_LONG, EFER_LONG, va1g + 0x3ffffff8, &gpa, &flags), 0);
    assert_int_equal(gpa, 0x140000000ull + 0x3ffffff8);
    assert_int_equal(flags, GW_F_USER | GW_F_1G);

    /* address bits below the page size other than PAT are reserved */
    *pde |= 1ull << 13;
    assert_int_equal(walk(g, root, CR4_LONG, EFER_LONG, va2m, &gpa, &flags), -PV_EINVAL);
    /* PS in a PML4 entry is reserved */
    *pte64(g, root, (va1g >> 39) & 511) |= GW_PTE_PS;
    assert_int_equal(walk(g, root, CR4_LONG, EFER_LONG, va1g, &gpa, &flags), -PV_EINVAL);
}

/* Clearing P at each level in turn makes the walk fail with ENOENT. */
static void test_not_present_each_level(void **state)
{
    struct gmem *g = *state;
    uint64_t root = new_table(g), gpa;
    const uint64_t va = 0x00001234567f8000ull;
    map64(g, root, 4, va, 1, 0x400000 | PTE_TABLE);
    assert_int_equal(walk(g, root, CR4_LONG, EFER_LONG, va, &gpa, NULL), 0);
    assert_int_equal(gpa, 0x400000);

    uint64_t table = root;
    for (unsigned level = 4; level >= 1; level--) {
        uint64_t *e = pte64(g, table, (va >> (12 + 9 * (level - 1))) & 511);
        uint64_t saved = *e;
        *e &= ~GW_PTE_P;
        assert_int_equal(walk(g, root, CR4_LONG, EFER_LONG, va, &gpa, NULL), -PV_ENOENT);
        *e = saved;
        table = saved & GW_PTE_ADDR;
    }
    assert_int_equal(walk(g, root, CR4_LONG, EFER_LONG, va, &gpa, NULL), 0);
}

static void test_rights_accumulate(void **state)
{
    struct gmem *g = *state;
    uint64_t root = new_table(g), gpa;
    uint32_t flags;
    const uint64_t va = 0x0000000000403000ull;
    map64(g, root, 4, va, 1, 0x403000 | PTE_TABLE);
    /* clear R/W in the PD entry, U/S in the PDPT entry, set XD in the PML4 */
    uint64_t *pml4e = pte64(g, root, 0);
    uint64_t *pdpte = pte64(g, *pml4e & GW_PTE_ADDR, 0);
    uint64_t *pde = pte64(g, *pdpte & GW_PTE_ADDR, 2);
    *pde &= ~GW_PTE_RW;
    *pdpte &= ~GW_PTE_US;
    *pml4e |= GW_PTE_NX;
    assert_int_equal(walk(g, root, CR4_LONG, EFER_LONG, va, &gpa, &flags), 0);
    assert_int_equal(flags, GW_F_NX);
}

static void test_bad_addresses_and_modes(void **state)
{
    struct gmem *g = *state;
    uint64_t root = new_table(g), gpa;
    /* non-canonical with 4-level paging; canonical with 5-level */
    assert_int_equal(walk(g, root, CR4_LONG, EFER_LONG, 0x0000800000000000ull, &gpa, NULL),
                     -PV_EINVAL);
    assert_int_equal(walk(g, root, CR4_LONG | GW_CR4_LA57, EFER_LONG,
                          0x0000800000000000ull, &gpa, NULL), -PV_ENOENT);
    assert_int_equal(walk(g, root, CR4_LONG | GW_CR4_LA57, EFER_LONG,
                          0x0100000000000000ull, &gpa, NULL), -PV_EINVAL);
    /* long mode without PAE cannot be */
    assert_int_equal(walk(g, root, 0, EFER_LONG, 0x1000, &gpa, NULL), -PV_EINVAL);
    /* 32-bit modes have 32-bit linear addresses */
    assert_int_equal(walk(g, root, GW_CR4_PAE, 0, 1ull << 32, &gpa, NULL), -PV_EINVAL);
    assert_int_equal(walk(g, root, 0, 0, 1ull << 32, &gpa, NULL), -PV_EINVAL);
    /* read_phys errors come back unchanged */
    assert_int_equal(walk(g, GMEM_SIZE, CR4_LONG, EFER_LONG, 0x1000, &gpa, NULL), -PV_EIO);
}

/* Open bus, as the hypervisor's reader might see it above guest RAM. */
static int read_ones(void *ctx, uint64_t gpa, void *dst, size_t len)
{
    struct gmem *g = ctx;
    (void)gpa;
    g->reads++;
    memset(dst, 0xFF, len);
    return 0;
}

/* Garbage guest page tables (a hostile guest can load any CR3): the walk
 * ends after at most one read per level with an error or a translation,
 * never loops, never reads where the entries do not point. */
static void test_garbage_tables(void **state)
{
    struct gmem *g = *state;
    uint64_t gpa = 0;
    uint32_t flags;

    /* a table whose every entry points back at itself: four levels of the
     * same page, and the "leaf" names the table itself */
    uint64_t self = new_table(g);
    for (unsigned i = 0; i < 512; i++)
        *pte64(g, self, i) = self | PTE_TABLE;
    g->reads = 0;
    assert_int_equal(walk(g, self, CR4_LONG, EFER_LONG, 0x7FFFFFFFF000ull, &gpa, &flags), 0);
    assert_int_equal(g->reads, 4);
    assert_true(gpa == (self | 0x000));
    g->reads = 0;
    assert_int_equal(walk(g, self, CR4_LONG | GW_CR4_LA57, EFER_LONG, 0x1234, &gpa, NULL), 0);
    assert_int_equal(g->reads, 5);

    /* every entry all-ones (tables in open bus): PS in the top level is
     * reserved, and XD without EFER.NXE is too */
    g->reads = 0;
    assert_int_equal(guest_walk(CR0, 0xFFFFFFFFF000ull, CR4_LONG, EFER_LONG, 0x1000, read_ones,
                                g, &gpa, NULL), -PV_EINVAL);
    assert_int_equal(g->reads, 1);
    assert_int_equal(guest_walk(CR0, 0, CR4_LONG, GW_EFER_LMA, 0x1000, read_ones, g, &gpa,
                                NULL), -PV_EINVAL);
    assert_int_equal(guest_walk(CR0, 0, GW_CR4_PAE, 0, 0x1000, read_ones, g, &gpa, NULL),
                     -PV_EINVAL); /* PAE PDPTE reserved bits */
    /* 32-bit paging: all-ones is a 4 MiB page only with PSE; without it a
     * table at 0xFFFFF000 whose entries are all-ones again: a translation
     * to the last page below 4 GiB, not a crash */
    assert_int_equal(guest_walk(CR0, 0, 0, 0, 0x1000, read_ones, g, &gpa, NULL), 0);
    assert_true(gpa == 0xFFFFF000ull);

    /* entries that point far outside guest memory: the reader's error */
    uint64_t root = new_table(g);
    *pte64(g, root, 0) = 0x000FFFFFFFFFF000ull | PTE_TABLE;
    g->reads = 0;
    assert_int_equal(walk(g, root, CR4_LONG, EFER_LONG, 0x1000, &gpa, NULL), -PV_EIO);
    assert_int_equal(g->reads, 2);
    /* a large-page entry with reserved low address bits */
    *pte64(g, root, 0) = (new_table(g) | PTE_TABLE);
    uint64_t pdpt = *pte64(g, root, 0) & GW_PTE_ADDR;
    *pte64(g, pdpt, 0) = 0x40002000ull | PTE_TABLE | GW_PTE_PS; /* 1 GiB, bit 13 set */
    assert_int_equal(walk(g, root, CR4_LONG, EFER_LONG, 0x1000, &gpa, NULL), -PV_EINVAL);
}

static void test_la57(void **state)
{
    struct gmem *g = *state;
    uint64_t root = new_table(g), gpa;
    uint32_t flags;
    const uint64_t va = 0xff5a000000201000ull; /* uses bits 56:48 */
    map64(g, root, 5, va, 1, 0x500000 | PTE_TABLE);
    g->reads = 0;
    assert_int_equal(walk(g, root, CR4_LONG | GW_CR4_LA57, EFER_LONG, va + 8, &gpa, &flags), 0);
    assert_int_equal(gpa, 0x500008);
    assert_int_equal(g->reads, 5);
    /* the same tables read as 4-level give a different (unmapped) walk */
    assert_int_equal(walk(g, root, CR4_LONG, EFER_LONG, va & 0x0000ffffffffffffull,
                          &gpa, NULL), -PV_ENOENT);
}

static void test_pae(void **state)
{
    struct gmem *g = *state;
    uint64_t pdpt = new_table(g) + 0x20; /* 32-byte aligned is enough */
    uint64_t pd = new_table(g), pt = new_table(g), gpa;
    uint32_t flags;
    /* gva 0xc0000000: PDPT[3] -> PD; PD[0] 4K table; PD[1] 2 MiB page */
    *pte64(g, pdpt, 3) = pd | GW_PTE_P;
    *pte64(g, pd, 0) = pt | PTE_TABLE;
    *pte64(g, pt, 5) = 0x345000 | GW_PTE_P | GW_PTE_NX;
    *pte64(g, pd, 1) = 0x200000 | GW_PTE_PS | PTE_TABLE;

    g->reads = 0;
    assert_int_equal(walk(g, pdpt, GW_CR4_PAE, GW_EFER_NXE, 0xc0005010, &gpa, &flags), 0);
    assert_int_equal(gpa, 0x345010);
    assert_int_equal(flags, GW_F_NX);
    assert_int_equal(g->reads, 3);
    assert_int_equal(walk(g, pdpt, GW_CR4_PAE, 0, 0xc0212345, &gpa, &flags), 0);
    assert_int_equal(gpa, 0x212345);
    assert_int_equal(flags, GW_F_WRITE | GW_F_USER | GW_F_2M);
    /* PDPT[0] is not present; a PDPTE with R/W set is malformed */
    assert_int_equal(walk(g, pdpt, GW_CR4_PAE, 0, 0x1000, &gpa, NULL), -PV_ENOENT);
    *pte64(g, pdpt, 0) = pd | GW_PTE_P | GW_PTE_RW;
    assert_int_equal(walk(g, pdpt, GW_CR4_PAE, 0, 0x1000, &gpa, NULL), -PV_EINVAL);
}

static void test_legacy_32bit(void **state)
{
    struct gmem *g = *state;
    uint64_t pd = new_table(g), pt = new_table(g), gpa;
    uint32_t flags;
    /* gva 0x00401000 -> PD[1] -> PT[1]; gva 0x80000000 -> PD[512] 4 MiB */
    *pte32(g, pd, 1) = (uint32_t)(pt | GW_PTE_P | GW_PTE_RW);
    *pte32(g, pt, 1) = 0x00678000u | GW_PTE_P | GW_PTE_US;
    *pte32(g, pd, 512) = 0x00c00000u | (0x3u << GW_PDE32_4M_HI_SHIFT) |
                         (uint32_t)(GW_PTE_PS | PTE_TABLE);

    assert_int_equal(walk(g, pd, 0, 0, 0x00401abc, &gpa, &flags), 0);
    assert_int_equal(gpa, 0x00678abc);
    assert_int_equal(flags, 0); /* RW only above, US only below */
    assert_int_equal(walk(g, pd, GW_CR4_PSE, 0, 0x80123456, &gpa, &flags), 0);
    assert_int_equal(gpa, 0x300d23456ull); /* PSE-36 bits 33:32 = 3 */
    assert_int_equal(flags, GW_F_WRITE | GW_F_USER | GW_F_4M);
    /* without CR4.PSE the PS bit is ignored: the PDE names a page table */
    assert_int_equal(walk(g, pd, 0, 0, 0x80123456, &gpa, &flags), -PV_EIO);
    assert_int_equal(walk(g, pd, 0, 0, 0x00801000, &gpa, &flags), -PV_ENOENT);
}

static void test_fetch_across_pages(void **state)
{
    struct gmem *g = *state;
    uint64_t root = new_table(g);
    uint8_t buf[16];
    const uint64_t rip = 0x0000000000710ffcull;
    /* two virtually adjacent pages backed by non-adjacent frames */
    map64(g, root, 4, 0x710000, 1, 0x650000 | PTE_TABLE);
    map64(g, root, 4, 0x711000, 1, 0x232000 | PTE_TABLE);
    /* mov 0x10(%rsp),%rax split 4 + 1 */
    memcpy(g->mem + 0x650ffc, "\x48\x8b\x44\x24", 4);
    memcpy(g->mem + 0x232000, "\x10\x90\x90\x90", 4);

    memset(buf, 0, sizeof(buf));
    assert_int_equal(guest_fetch(CR0, root, CR4_LONG, EFER_LONG, rip, read_phys, g,
                                 buf, 8), 8);
    assert_memory_equal(buf, "\x48\x8b\x44\x24\x10\x90\x90\x90", 8);
    struct insn in;
    assert_int_equal(insn_decode(buf, 8, 64, &in), 0);
    assert_int_equal(in.length, 5);
    assert_int_equal(in.kind, INSN_LOAD);

    /* second page not present: the bytes of the first page come back */
    *map64(g, root, 4, 0x711000, 1, 0) = 0;
    memset(buf, 0, sizeof(buf));
    assert_int_equal(guest_fetch(CR0, root, CR4_LONG, EFER_LONG, rip, read_phys, g,
                                 buf, sizeof(buf)), 4);
    assert_memory_equal(buf, "\x48\x8b\x44\x24", 4);
    assert_int_equal(insn_decode(buf, 4, 64, &in), -PV_ENOENT);
    /* a fetch that ends at the page end never touches the next page */
    assert_int_equal(guest_fetch(CR0, root, CR4_LONG, EFER_LONG, rip, read_phys, g,
                                 buf, 4), 4);
    /* first page not present: its error */
    assert_int_equal(guest_fetch(CR0, root, CR4_LONG, EFER_LONG, 0x711000, read_phys, g,
                                 buf, 4), -PV_ENOENT);
    /* second page translates but cannot be read */
    map64(g, root, 4, 0x711000, 1, (GMEM_SIZE + PAGE_SIZE) | PTE_TABLE);
    assert_int_equal(guest_fetch(CR0, root, CR4_LONG, EFER_LONG, rip, read_phys, g,
                                 buf, sizeof(buf)), 4);
    /* bad arguments */
    assert_int_equal(guest_fetch(CR0, root, CR4_LONG, EFER_LONG, rip, read_phys, g,
                                 buf, 0), -PV_EINVAL);
    assert_int_equal(guest_fetch(CR0, root, CR4_LONG, EFER_LONG, rip, read_phys, g,
                                 buf, GW_FETCH_MAX + 1), -PV_EINVAL);
}

static void test_fetch_paging_off(void **state)
{
    struct gmem *g = *state;
    uint8_t buf[6];
    memcpy(g->mem + 0x7ffd, "\xa1\x34\x12\x00\x00\x90", 6);
    g->reads = 0;
    assert_int_equal(guest_fetch(0, 0, 0, 0, 0x7ffd, read_phys, g, buf, 6), 6);
    assert_memory_equal(buf, "\xa1\x34\x12\x00\x00\x90", 6);
    assert_int_equal(g->reads, 2); /* split at the page boundary */
    /* past the end of guest memory: partial, then the first page's error */
    assert_int_equal(guest_fetch(0, 0, 0, 0, GMEM_SIZE - 2, read_phys, g, buf, 6), 2);
    assert_int_equal(guest_fetch(0, 0, 0, 0, GMEM_SIZE, read_phys, g, buf, 6), -PV_EIO);
}

/* The trace holds every entry read, top first, including the one that
 * ended a failed walk: what the shutdown dump prints (vmm/exit.c). */
static void test_trace(void **state)
{
    struct gmem *g = *state;
    uint64_t root = new_table(g), gpa;
    uint32_t flags;
    struct gw_trace t;
    const uint64_t gva = 0xffffffff81234567ull;
    uint64_t *leaf = map64(g, root, 4, gva, 1, 0x456000 | PTE_TABLE);

    assert_int_equal(guest_walk_traced(CR0, root, CR4_LONG, EFER_LONG, gva, read_phys, g,
                                       &gpa, &flags, &t), 0);
    assert_int_equal(gpa, 0x456567);
    assert_int_equal(t.steps, 4);
    uint64_t table = root;
    for (unsigned i = 0; i < 4; i++) {
        unsigned level = 4 - i, idx = (gva >> (12 + 9 * (level - 1))) & 511;
        assert_int_equal(t.step[i].level, level);
        assert_int_equal(t.step[i].table, table);
        assert_int_equal(t.step[i].index, idx);
        assert_int_equal(t.step[i].entry, *pte64(g, table, idx));
        table = t.step[i].entry & GW_PTE_ADDR;
    }
    assert_int_equal(t.step[3].entry, *leaf);

    /* the PDPT entry is not present: two steps, the second one is 0 */
    uint64_t pml4e = *pte64(g, root, (gva >> 39) & 511);
    uint64_t *pdpte = pte64(g, pml4e & GW_PTE_ADDR, (gva >> 30) & 511);
    uint64_t saved = *pdpte;
    *pdpte = 0;
    assert_int_equal(guest_walk_traced(CR0, root, CR4_LONG, EFER_LONG, gva, read_phys, g,
                                       &gpa, &flags, &t), -PV_ENOENT);
    assert_int_equal(t.steps, 2);
    assert_int_equal(t.step[1].level, 3);
    assert_int_equal(t.step[1].entry, 0);
    /* a reserved bit ends the walk at the entry that holds it */
    *pdpte = saved | GW_PTE_PS | (1ull << 13); /* 1 GiB page, reserved address bit */
    assert_int_equal(guest_walk_traced(CR0, root, CR4_LONG, EFER_LONG, gva, read_phys, g,
                                       &gpa, &flags, &t), -PV_EINVAL);
    assert_int_equal(t.steps, 2);
    assert_int_equal(t.step[1].entry, *pdpte);
    *pdpte = saved;

    /* 32-bit paging with a 4 MiB page: one four-byte entry */
    uint64_t pd = new_table(g);
    *pte32(g, pd, 0x80123456u >> 22) = 0x00C00000u | (uint32_t)PTE_TABLE | (uint32_t)GW_PTE_PS;
    assert_int_equal(guest_walk_traced(CR0, pd, GW_CR4_PSE, 0, 0x80123456u, read_phys, g,
                                       &gpa, &flags, &t), 0);
    assert_int_equal(t.steps, 1);
    assert_int_equal(t.step[0].level, 2);
    assert_int_equal(t.step[0].index, 0x80123456u >> 22);
    assert_int_equal(gpa, 0x00D23456u);

    /* nothing read: paging off, a non-canonical address */
    t.steps = 99;
    assert_int_equal(guest_walk_traced(1, 0, 0, 0, gva, read_phys, g, &gpa, &flags, &t), 0);
    assert_int_equal(t.steps, 0);
    t.steps = 99;
    assert_int_equal(guest_walk_traced(CR0, root, CR4_LONG, EFER_LONG, 0x0000800000000000ull,
                                       read_phys, g, &gpa, &flags, &t), -PV_EINVAL);
    assert_int_equal(t.steps, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_paging_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_4k, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_large_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_present_each_level, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rights_accumulate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_addresses_and_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_la57, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pae, setup, teardown),
        cmocka_unit_test_setup_teardown(test_legacy_32bit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fetch_across_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fetch_paging_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_tables, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
