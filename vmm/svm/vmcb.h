/*
 * AMD VMCB layout (AMD64 APM vol. 2, appendix B "Layout of VMCB"): offsets
 * of the control area fields and of the state save area at 0x400, and the
 * bits pagevisor uses. Accessed through vmcb_rd/vmcb_wr with these offsets
 * rather than a struct, so every field's position is stated once, here.
 */
#ifndef PV_VMM_SVM_VMCB_H
#define PV_VMM_SVM_VMCB_H

#include <stdint.h>
#include <string.h>

#define VMCB_SIZE 4096

/* ---- control area ---- */
#define VMCB_INTERCEPT_CR 0x000      /* 15:0 reads, 31:16 writes */
#define VMCB_INTERCEPT_EXC 0x008     /* one bit per exception vector */
#define VMCB_INTERCEPT_MISC1 0x00C
#define VMCB_INTERCEPT_MISC2 0x010
#define VMCB_IOPM_BASE 0x040
#define VMCB_MSRPM_BASE 0x048
#define VMCB_TSC_OFFSET 0x050
#define VMCB_ASID 0x058
#define VMCB_TLB_CONTROL 0x05C
#define VMCB_VINTR 0x060
#define VMCB_INT_SHADOW 0x068
#define VMCB_EXITCODE 0x070
#define VMCB_EXITINFO1 0x078
#define VMCB_EXITINFO2 0x080
#define VMCB_EXITINTINFO 0x088
#define VMCB_NP_CTL 0x090
#define VMCB_EVENTINJ 0x0A8
#define VMCB_N_CR3 0x0B0
#define VMCB_CLEAN 0x0C0
#define VMCB_NRIP 0x0C8
#define VMCB_INSN_LEN 0x0D0
#define VMCB_INSN_BYTES 0x0D1

/* MISC1 intercepts */
#define INTERCEPT_INTR (1u << 0)
#define INTERCEPT_NMI (1u << 1)
#define INTERCEPT_CPUID (1u << 18)
#define INTERCEPT_INVD (1u << 22)
#define INTERCEPT_HLT (1u << 24)
#define INTERCEPT_INVLPGA (1u << 26)
#define INTERCEPT_IOIO (1u << 27)
#define INTERCEPT_MSR (1u << 28)
#define INTERCEPT_SHUTDOWN (1u << 31)
/* MISC2 intercepts */
#define INTERCEPT_VMRUN (1u << 0)
#define INTERCEPT_VMMCALL (1u << 1)
#define INTERCEPT_VMLOAD (1u << 2)
#define INTERCEPT_VMSAVE (1u << 3)
#define INTERCEPT_STGI (1u << 4)
#define INTERCEPT_CLGI (1u << 5)
#define INTERCEPT_SKINIT (1u << 6)
#define INTERCEPT_MONITOR (1u << 10)
#define INTERCEPT_MWAIT (1u << 11)

#define TLB_CONTROL_NONE 0
#define TLB_CONTROL_FLUSH_ALL 1
#define TLB_CONTROL_FLUSH_ASID 3
#define NP_ENABLE (1ull << 0)

/* EVENTINJ */
#define EVENTINJ_VECTOR_MASK 0xFFull
#define EVENTINJ_TYPE_EXCEPTION (3ull << 8)
#define EVENTINJ_TYPE_MASK (7ull << 8)
#define EVENTINJ_EV (1ull << 11)      /* error code valid */
#define EVENTINJ_VALID (1ull << 31)
#define EVENTINJ_ERROR_SHIFT 32

/* ---- state save area ---- */
#define VMCB_SAVE 0x400
#define VMCB_ES (VMCB_SAVE + 0x00)
#define VMCB_CS (VMCB_SAVE + 0x10)
#define VMCB_SS (VMCB_SAVE + 0x20)
#define VMCB_DS (VMCB_SAVE + 0x30)
#define VMCB_FS (VMCB_SAVE + 0x40)
#define VMCB_GS (VMCB_SAVE + 0x50)
#define VMCB_GDTR (VMCB_SAVE + 0x60)
#define VMCB_LDTR (VMCB_SAVE + 0x70)
#define VMCB_IDTR (VMCB_SAVE + 0x80)
#define VMCB_TR (VMCB_SAVE + 0x90)
/* within a segment record */
#define SEG_SELECTOR 0x0   /* 16 */
#define SEG_ATTRIB 0x2     /* 16 */
#define SEG_LIMIT 0x4      /* 32 */
#define SEG_BASE 0x8       /* 64 */
#define VMCB_CPL (VMCB_SAVE + 0xCB)
#define VMCB_EFER (VMCB_SAVE + 0xD0)
#define VMCB_CR4 (VMCB_SAVE + 0x148)
#define VMCB_CR3 (VMCB_SAVE + 0x150)
#define VMCB_CR0 (VMCB_SAVE + 0x158)
#define VMCB_DR7 (VMCB_SAVE + 0x160)
#define VMCB_DR6 (VMCB_SAVE + 0x168)
#define VMCB_RFLAGS (VMCB_SAVE + 0x170)
#define VMCB_RIP (VMCB_SAVE + 0x178)
#define VMCB_RSP (VMCB_SAVE + 0x1D8)
#define VMCB_RAX (VMCB_SAVE + 0x1F8)
#define VMCB_CR2 (VMCB_SAVE + 0x240)
#define VMCB_G_PAT (VMCB_SAVE + 0x268)

/* Segment attributes in the VMCB's packed form: descriptor bits 47:40 in
 * 7:0 and 55:52 in 11:8. */
#define SEG_ATTR_TYPE_MASK 0xFu
#define SEG_ATTR_S (1u << 4)
#define SEG_ATTR_P (1u << 7)
#define SEG_ATTR_L (1u << 9)
#define SEG_ATTR_DB (1u << 10)
#define SEG_ATTR_G (1u << 11)
#define SEG_TYPE_CODE_XRA 0xB      /* execute/read, accessed */
#define SEG_TYPE_DATA_RWA 0x3      /* read/write, accessed */
#define SEG_TYPE_TSS64_BUSY 0xB    /* system segment */
#define SEG_TYPE_LDT 0x2

/* Exit codes (APM vol. 2, appendix C) */
#define SVM_EXIT_EXCP_BASE 0x040
#define SVM_EXIT_EXCP_LAST 0x05F
#define SVM_EXIT_INTR 0x060
#define SVM_EXIT_NMI 0x061
#define SVM_EXIT_CPUID 0x072
#define SVM_EXIT_INVD 0x076
#define SVM_EXIT_HLT 0x078
#define SVM_EXIT_INVLPGA 0x07A
#define SVM_EXIT_IOIO 0x07B
#define SVM_EXIT_MSR 0x07C
#define SVM_EXIT_SHUTDOWN 0x07F
#define SVM_EXIT_VMRUN 0x080
#define SVM_EXIT_VMMCALL 0x081
#define SVM_EXIT_VMLOAD 0x082
#define SVM_EXIT_VMSAVE 0x083
#define SVM_EXIT_STGI 0x084
#define SVM_EXIT_CLGI 0x085
#define SVM_EXIT_SKINIT 0x086
#define SVM_EXIT_MONITOR 0x08A
#define SVM_EXIT_MWAIT 0x08B
#define SVM_EXIT_XSETBV 0x08D
#define SVM_EXIT_NPF 0x400
#define SVM_EXIT_INVALID 0xFFFFFFFFFFFFFFFFull

/* IOIO EXITINFO1 */
#define IOIO_IN (1u << 0)
#define IOIO_STR (1u << 2)
#define IOIO_REP (1u << 3)
#define IOIO_SZ8 (1u << 4)
#define IOIO_SZ16 (1u << 5)
#define IOIO_SZ32 (1u << 6)
#define IOIO_PORT_SHIFT 16

/* NPF EXITINFO1 (a #PF-style error code) */
#define NPF_P (1ull << 0)
#define NPF_RW (1ull << 1)
#define NPF_US (1ull << 2)
#define NPF_RSVD (1ull << 3)
#define NPF_ID (1ull << 4)
#define NPF_FINAL_GPA (1ull << 32)
#define NPF_TABLE_GPA (1ull << 33)

/* I/O and MSR permission maps */
#define IOPM_SIZE (3 * 4096)
#define MSRPM_SIZE (2 * 4096)

static inline uint64_t vmcb_rd64(const void *vmcb, unsigned off)
{
    uint64_t v;
    memcpy(&v, (const uint8_t *)vmcb + off, 8);
    return v;
}
static inline void vmcb_wr64(void *vmcb, unsigned off, uint64_t v)
{
    memcpy((uint8_t *)vmcb + off, &v, 8);
}
static inline void vmcb_wr32(void *vmcb, unsigned off, uint32_t v)
{
    memcpy((uint8_t *)vmcb + off, &v, 4);
}
static inline uint32_t vmcb_rd32(const void *vmcb, unsigned off)
{
    uint32_t v;
    memcpy(&v, (const uint8_t *)vmcb + off, 4);
    return v;
}
static inline void vmcb_wr16(void *vmcb, unsigned off, uint16_t v)
{
    memcpy((uint8_t *)vmcb + off, &v, 2);
}
static inline void vmcb_wr8(void *vmcb, unsigned off, uint8_t v)
{
    ((uint8_t *)vmcb)[off] = v;
}

#endif
