/*
 * Guest memory with the guest's own page tables, for host tests of code
 * that reads guest-virtual memory through vmm/guest_walk.c (the exit
 * core's shutdown dump, access emulation): a guest_mm from mm_env.h with
 * one anon region, 4-level long-mode tables built in it with mm_write, and
 * the CR0/CR4/EFER of a 64-bit guest. Include after <cmocka.h>.
 */
#ifndef PV_TESTS_UNIT_GUEST_PT_ENV_H
#define PV_TESTS_UNIT_GUEST_PT_ENV_H

#include "tests/unit/mm_env.h"
#include "vmm/guest_walk.h"

#define GPT_RAM_END (4ull << 20)          /* anon RAM [0, 4 MiB) */
#define GPT_TABLES 0x100000ull            /* page tables from 1 MiB up */
#define GPT_TABLE_FLAGS (GW_PTE_P | GW_PTE_RW)
#define GPT_CR0 (GW_CR0_PG | 1ull)        /* PG, PE */
#define GPT_CR4 GW_CR4_PAE
#define GPT_EFER (GW_EFER_LMA | GW_EFER_NXE | (1ull << 8) /* LME */)

struct guest_pt_env {
    struct mm_env *mem;
    uint64_t root;        /* CR3 */
    uint64_t next_table;
};

static inline int gpt_read_phys(void *mm, uint64_t gpa, void *dst, size_t len)
{
    return mm_read(mm, gpa, dst, len);
}

static inline uint64_t gpt_read64(struct guest_pt_env *g, uint64_t gpa)
{
    uint64_t v;
    assert_int_equal(mm_read(&g->mem->mm, gpa, &v, sizeof(v)), 0);
    return v;
}

static inline void gpt_write64(struct guest_pt_env *g, uint64_t gpa, uint64_t v)
{
    assert_int_equal(mm_write(&g->mem->mm, gpa, &v, sizeof(v)), 0);
}

static inline uint64_t gpt_new_table(struct guest_pt_env *g)
{
    uint64_t t = g->next_table;
    g->next_table += PAGE_SIZE;
    assert_true(g->next_table <= GPT_RAM_END);
    return t; /* anon memory reads as zeros until written */
}

static inline struct guest_pt_env *guest_pt_env_new(void)
{
    struct guest_pt_env *g = calloc(1, sizeof(*g));
    assert_non_null(g);
    g->mem = mm_env_new(&s2pt_format_npt);
    assert_int_equal(mm_add_anon(&g->mem->mm, 0, GPT_RAM_END, "ram"), 0);
    g->next_table = GPT_TABLES;
    g->root = gpt_new_table(g);
    return g;
}

static inline void guest_pt_env_free(struct guest_pt_env *g)
{
    mm_env_free(g->mem);
    free(g);
}

/* The address of the entry at level (4 = PML4 .. 1 = PT) for gva, creating
 * the tables above it. */
static inline uint64_t gpt_entry_at(struct guest_pt_env *g, uint64_t gva, unsigned level)
{
    uint64_t table = g->root;
    for (unsigned l = 4; l > level; l--) {
        uint64_t at = table + ((gva >> (12 + 9 * (l - 1))) & 511) * 8;
        uint64_t e = gpt_read64(g, at);
        if (!(e & GW_PTE_P)) {
            e = gpt_new_table(g) | GPT_TABLE_FLAGS;
            gpt_write64(g, at, e);
        }
        table = e & GW_PTE_ADDR;
    }
    return table + ((gva >> (12 + 9 * (level - 1))) & 511) * 8;
}

/* Map the 4 KiB page of gva to the page of gpa, present and writable. */
static inline void gpt_map(struct guest_pt_env *g, uint64_t gva, uint64_t gpa)
{
    gpt_write64(g, gpt_entry_at(g, gva, 1), (gpa & GW_PTE_ADDR) | GPT_TABLE_FLAGS);
}

/* Put bytes at gva (every page of it mapped). */
static inline void gpt_poke(struct guest_pt_env *g, uint64_t gva, const void *bytes, size_t len)
{
    uint64_t gpa;
    for (size_t i = 0; i < len; i++) {
        assert_int_equal(guest_walk(GPT_CR0, g->root, GPT_CR4, GPT_EFER, gva + i,
                                    gpt_read_phys, &g->mem->mm, &gpa, NULL), 0);
        assert_int_equal(mm_write(&g->mem->mm, gpa, (const uint8_t *)bytes + i, 1), 0);
    }
}

#endif
