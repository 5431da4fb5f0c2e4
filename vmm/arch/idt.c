/* IDT with a gate for each of the 32 exceptions (stubs in vmm/isr.S). */
#include "vmm/arch/cpu_tables.h"
#include "vmm/lib/log.h"
#include "vmm/arch/trap.h"

#include <stdint.h>

#define GATE_TYPE_INTERRUPT 0xE
#define GATE_P (1u << 7)

struct __attribute__((packed)) idt_gate {
    uint16_t offset_lo;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_hi;
    uint32_t reserved;
};

struct __attribute__((packed)) idtr {
    uint16_t limit;
    uint64_t base;
};

extern const uint64_t isr_table[EXC_COUNT];
static struct idt_gate idt[EXC_COUNT] __attribute__((aligned(16)));

static uint8_t ist_for(unsigned vec)
{
    switch (vec) {
    case 2: return IST_NMI;
    case 8: return IST_DOUBLE_FAULT;
    case 18: return IST_MACHINE_CHECK;
    default: return 0;
    }
}

void idt_init(void)
{
    for (unsigned v = 0; v < EXC_COUNT; v++) {
        uint64_t h = isr_table[v];
        idt[v] = (struct idt_gate){
            .offset_lo = (uint16_t)h,
            .selector = SEL_CODE64,
            .ist = ist_for(v),
            .type_attr = GATE_P | GATE_TYPE_INTERRUPT,
            .offset_mid = (uint16_t)(h >> 16),
            .offset_hi = (uint32_t)(h >> 32),
            .reserved = 0,
        };
    }
    struct idtr r = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
    __asm__ volatile("lidt %0" ::"m"(r) : "memory");
    pv_debug("idt: %u exception gates", EXC_COUNT);
}
