/*
 * libFuzzer target for the guest page-table walker (vmm/guest_walk.c). The
 * guest owns its page tables, so every entry, CR3 and paging mode is
 * hostile input: tables may point anywhere, at each other, at themselves,
 * past the end of memory.
 *
 * Input: cr0, cr3, cr4, efer, gva (8 bytes each, little-endian), one byte
 * of options, then the contents of a fake guest memory of GMEM_SIZE bytes
 * at guest-physical FAKE_BASE (the input repeated to fill it, so entries
 * in every page can be present). A read inside the fake
 * memory returns its bytes; a read elsewhere returns all-ones (open bus)
 * or fails, as the options byte says — both happen to the hypervisor's
 * reader (mm_read) in the field.
 *
 * Checked: no crash or sanitizer report; at most one entry read per level
 * (5 levels); every entry read is 4- or 8-byte aligned and inside one
 * page; a failure is one of the documented codes or the reader's own; a
 * success gives a gpa below 2^52 and only documented flags; the walk is
 * deterministic; guest_fetch never claims more bytes than asked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/guest_walk.h"
#include "vmm/lib/types.h"

#define GMEM_SIZE (4u * 4096u)
#define FAKE_BASE 0x100000ull
#define MAX_LEVELS 5u
#define OPT_OPEN_BUS 0x01u   /* reads outside the fake memory give all-ones */
#define OPT_FETCH 0x02u      /* also fetch instruction bytes at gva */
#define READER_ERR (-PV_EIO)
#define GPA_LIMIT (1ull << 52)
#define FLAGS_KNOWN (GW_F_WRITE | GW_F_USER | GW_F_NX | GW_F_2M | GW_F_4M | GW_F_1G | \
                     GW_F_NOPAGING)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fake {
    uint8_t mem[GMEM_SIZE];
    bool open_bus;
    unsigned reads;
    bool entry_reads;   /* reads are page-table entries (not fetches) */
    const char *bad;
};

static struct fake g;

static int read_phys(void *ctx, uint64_t gpa, void *dst, size_t len)
{
    struct fake *f = ctx;
    f->reads++;
    if (f->entry_reads) {
        if (len != 4 && len != 8)
            f->bad = "entry read of a size other than 4 or 8";
        else if (gpa % len)
            f->bad = "misaligned entry read";
    }
    if ((gpa & (PAGE_SIZE - 1)) + len > PAGE_SIZE)
        f->bad = "read crosses a page";
    if (gpa >= FAKE_BASE && gpa - FAKE_BASE < GMEM_SIZE && len <= GMEM_SIZE - (gpa - FAKE_BASE)) {
        memcpy(dst, f->mem + (gpa - FAKE_BASE), len);
        return 0;
    }
    if (!f->open_bus)
        return READER_ERR;
    memset(dst, 0xFF, len);
    return 0;
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void die(const char *what, uint64_t cr0, uint64_t cr3, uint64_t cr4, uint64_t efer,
                uint64_t gva)
{
    fprintf(stderr, "fuzz_guest_walk: %s (cr0 %llx cr3 %llx cr4 %llx efer %llx gva %llx)\n",
            what, (unsigned long long)cr0, (unsigned long long)cr3, (unsigned long long)cr4,
            (unsigned long long)efer, (unsigned long long)gva);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 41)
        return 0;
    uint64_t cr0 = le64(data), cr3 = le64(data + 8), cr4 = le64(data + 16);
    uint64_t efer = le64(data + 24), gva = le64(data + 32);
    uint8_t opt = data[40];
    data += 41;
    size -= 41;
    /* Steer CR3 into the fake memory half the time so walks go deep. */
    if (cr3 & 1)
        cr3 = FAKE_BASE + (cr3 & (GMEM_SIZE - 1) & ~0x1Full);
    memset(g.mem, 0, sizeof(g.mem));
    for (size_t at = 0; size && at < GMEM_SIZE; at += size)
        memcpy(g.mem + at, data, size < GMEM_SIZE - at ? size : GMEM_SIZE - at);
    g.open_bus = opt & OPT_OPEN_BUS;
    g.bad = NULL;

    uint64_t gpa = 0, gpa2 = 0;
    uint32_t flags = 0, flags2 = 0;
    g.reads = 0;
    g.entry_reads = true;
    int rc = guest_walk(cr0, cr3, cr4, efer, gva, read_phys, &g, &gpa, &flags);
    if (g.bad)
        die(g.bad, cr0, cr3, cr4, efer, gva);
    if (g.reads > MAX_LEVELS)
        die("more entry reads than levels", cr0, cr3, cr4, efer, gva);
    if (rc != 0 && rc != -PV_ENOENT && rc != -PV_EINVAL && rc != READER_ERR)
        die("undocumented error code", cr0, cr3, cr4, efer, gva);
    if (rc == 0) {
        if (gpa >= GPA_LIMIT && (cr0 & GW_CR0_PG))
            die("gpa beyond 52 bits", cr0, cr3, cr4, efer, gva);
        if (flags & ~FLAGS_KNOWN)
            die("undocumented flag", cr0, cr3, cr4, efer, gva);
        if (!(cr0 & GW_CR0_PG) && gpa != gva)
            die("paging off but gpa != gva", cr0, cr3, cr4, efer, gva);
    }
    int rc2 = guest_walk(cr0, cr3, cr4, efer, gva, read_phys, &g, &gpa2, &flags2);
    if (rc2 != rc || (rc == 0 && (gpa2 != gpa || flags2 != flags)))
        die("walk is not deterministic", cr0, cr3, cr4, efer, gva);

    if (opt & OPT_FETCH) {
        uint8_t buf[32];
        size_t want = 1 + (opt >> 3) % sizeof(buf);
        g.entry_reads = false;
        int got = guest_fetch(cr0, cr3, cr4, efer, gva, read_phys, &g, buf, want);
        if (g.bad)
            die(g.bad, cr0, cr3, cr4, efer, gva);
        if (got > (int)want)
            die("fetch returned more bytes than asked", cr0, cr3, cr4, efer, gva);
        if (got == 0)
            die("fetch returned 0 (neither bytes nor an error)", cr0, cr3, cr4, efer, gva);
    }
    return 0;
}
