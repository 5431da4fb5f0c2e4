/*
 * GDT with a 64-bit code segment, a data segment and a TSS whose IST
 * stacks catch #DF, NMI and #MC on known-good stacks.
 */
#include "vmm/arch/cpu_tables.h"
#include "vmm/lib/log.h"

#include <stdint.h>
#include <string.h>

/* segment descriptor fields */
#define DESC_ACCESSED (1ull << 40)
#define DESC_RW (1ull << 41)      /* data: writable; code: readable */
#define DESC_CODE (1ull << 43)
#define DESC_S (1ull << 44)       /* code/data (not system) */
#define DESC_P (1ull << 47)
#define DESC_L (1ull << 53)       /* 64-bit code */
#define DESC_DB (1ull << 54)
#define DESC_G (1ull << 55)
#define DESC_LIMIT_MAX 0x000F00000000FFFFull
#define DESC_TYPE_TSS64 (0x9ull << 40)

#define IST_STACK_SIZE 8192

struct __attribute__((packed)) tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
};

struct __attribute__((packed)) dtr {
    uint16_t limit;
    uint64_t base;
};

static uint64_t gdt[5] __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));
static uint8_t ist_stacks[3][IST_STACK_SIZE] __attribute__((aligned(16)));

void gdt_init(void)
{
    gdt[0] = 0;
    gdt[SEL_CODE64 / 8] = DESC_LIMIT_MAX | DESC_ACCESSED | DESC_RW | DESC_CODE | DESC_S |
                          DESC_P | DESC_L | DESC_G;
    gdt[SEL_DATA / 8] = DESC_LIMIT_MAX | DESC_ACCESSED | DESC_RW | DESC_S | DESC_P |
                        DESC_DB | DESC_G;

    memset(&tss, 0, sizeof(tss));
    for (int i = 0; i < 3; i++)
        tss.ist[i] = (uint64_t)(uintptr_t)(ist_stacks[i] + IST_STACK_SIZE);
    tss.iomap_base = sizeof(tss); /* no I/O permission bitmap */
    uint64_t base = (uint64_t)(uintptr_t)&tss;
    uint64_t limit = sizeof(tss) - 1;
    gdt[SEL_TSS / 8] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | DESC_TYPE_TSS64 |
                       DESC_P | (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
    gdt[SEL_TSS / 8 + 1] = base >> 32;

    struct dtr d = { sizeof(gdt) - 1, (uint64_t)(uintptr_t)gdt };
    __asm__ volatile(
        "lgdt %0\n\t"
        "pushq %1\n\t"
        "leaq 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:\n\t"
        "movw %w2, %%ax\n\t"
        "movw %%ax, %%ds\n\t"
        "movw %%ax, %%es\n\t"
        "movw %%ax, %%ss\n\t"
        "movw %%ax, %%fs\n\t"
        "movw %%ax, %%gs\n\t"
        "ltr %w3\n\t"
        :
        : "m"(d), "i"(SEL_CODE64), "r"(SEL_DATA), "r"(SEL_TSS)
        : "rax", "memory");
    pv_debug("gdt: loaded, tss with 3 IST stacks");
}
