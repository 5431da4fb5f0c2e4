/* hostile: the guest kit's hostile-guest behaviours (static Linux userspace,
 * run as root by /init; see docs/security-hostile.md).
 *
 *   hostile kexec-spin
 *       Load, with kexec_load(2), one page holding a loop that reads port
 *       0x64 (the keyboard controller's status, which pagevisor traps) and
 *       spins, then reboot(RB_KEXEC): the kernel shuts down and jumps to it
 *       in ring 0 with interrupts disabled. The guest then spins with
 *       RFLAGS.IF=0 forever, exiting on every port read (user-space cli is
 *       no way to get there: Linux 5.5+ turns it into a no-op). Does not
 *       return when it works.
 *   hostile gpa-sweep KEEP_PERCENT
 *       Touch the guest-physical address space up to the CPU's physical
 *       address width through /dev/mem: map one page at every probe
 *       address that is not guest RAM and read it with plain loads; where
 *       /proc/iomem names nothing (a hole), also write it and read it back,
 *       which must give all-ones (open bus: the write was dropped).
 *   hostile triple-fault
 *       Ask the kernel to reboot. Booted with reboot=t (triple), Linux
 *       loads an empty IDT and executes int3: a triple fault. Does not
 *       return when that works.
 *
 * KEEP_PERCENT: before the behaviour, fill that share of MemAvailable with
 * a pattern (under overcommit much of it is then swapped out by the
 * hypervisor), and verify every word after it: the behaviour must not cost
 * the guest a page.
 *
 * Output: detail lines, then "hostile: NAME: PASS ..." or
 * "hostile: NAME: FAIL <reason>" as the last line. Exit status 0 / 1, 2 for
 * usage errors.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <linux/kexec.h>
#include <time.h>
#include <unistd.h>

#define KIB UINT64_C(1024)
#define MIB (KIB * KIB)
#define GIB (MIB * KIB)
#define PAGE UINT64_C(4096)
#define LOW_STRIDE (2 * MIB)   /* probe density below 4 GiB */
#define HIGH_STRIDE (1 * GIB)  /* and above */
#define FOUR_GIB (4 * GIB)
#define CPUID_ADDR_SIZES 0x80000008u
#define PHYS_BITS_MASK 0xFFu
#define PHYS_BITS_DEFAULT 36u
#define MAX_RANGES 256
#define OPEN_BUS32 UINT32_C(0xFFFFFFFF)
#define OPEN_BUS64 UINT64_MAX
#define WRITE_PATTERN UINT32_C(0x5A5A1234)

static const char *name = "hostile";

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("hostile: %s: FAIL ", name);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
    exit(1);
}

/* ---- the kept buffer: pages that must survive the behaviour ------------------------ */

static uint64_t meminfo_kb(const char *key)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[128];
    uint64_t v = 0;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, key, n) && line[n] == ':')
            v = strtoull(line + n + 1, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

static uint64_t word_for(const volatile uint64_t *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ull;
    return x ^ (x >> 29) ^ 0xC0FFEEull;
}

static volatile uint64_t *keep_fill(unsigned percent, size_t *len)
{
    *len = 0;
    if (!percent)
        return NULL;
    uint64_t bytes = meminfo_kb("MemAvailable") * KIB / 100 * percent;
    bytes &= ~(PAGE - 1);
    if (!bytes)
        return NULL;
    volatile uint64_t *buf = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED)
        fail("cannot map %" PRIu64 " MiB to keep: %s", bytes / MIB, strerror(errno));
    for (size_t i = 0; i < bytes / sizeof(uint64_t); i++)
        buf[i] = word_for(&buf[i]);
    *len = bytes;
    printf("hostile: %s: kept %" PRIu64 " MiB filled\n", name, bytes / MIB);
    fflush(stdout);
    return buf;
}

static void keep_verify(volatile uint64_t *buf, size_t len)
{
    for (size_t i = 0; i < len / sizeof(uint64_t); i++)
        if (buf[i] != word_for(&buf[i]))
            fail("kept page at offset 0x%zx lost its contents (0x%016" PRIx64 ")",
                 i * sizeof(uint64_t), buf[i]);
}

/* ---- irqoff ------------------------------------------------------------------------ */

/* ---- kexec-spin ---------------------------------------------------------------------- */

/* 1: in $0x64, %al ; pause ; jmp 1b */
static const uint8_t spin_code[] = { 0xE4, 0x64, 0xF3, 0x90, 0xEB, 0xFA };
#define SPIN_GPA (16 * MIB)  /* page-aligned guest RAM; free once the kernel is gone */

static int kexec_spin(void)
{
    static uint8_t page[PAGE] __attribute__((aligned(4096)));
    memcpy(page, spin_code, sizeof(spin_code));
    struct kexec_segment seg = {
        .buf = page, .bufsz = sizeof(page), .mem = (void *)SPIN_GPA, .memsz = PAGE,
    };
    if (syscall(SYS_kexec_load, (unsigned long)SPIN_GPA, 1ul, &seg,
                (unsigned long)KEXEC_ARCH_DEFAULT) < 0)
        fail("kexec_load: %s (needs root and a kernel with CONFIG_KEXEC)", strerror(errno));
    printf("hostile: kexec-spin: jumping to a port-0x64 loop at 0x%" PRIx64
           " with interrupts disabled\n", (uint64_t)SPIN_GPA);
    fflush(stdout);
    sync();
    reboot(RB_KEXEC);
    fail("reboot(RB_KEXEC) returned: %s", strerror(errno));
}

/* ---- gpa-sweep ----------------------------------------------------------------------- */

struct range {
    uint64_t lo, hi;   /* inclusive, as /proc/iomem prints them */
    int ram;
};

static struct range ranges[MAX_RANGES];
static int nranges;

/* Top-level /proc/iomem entries (no indentation): what the guest kernel
 * knows is at each address. */
static void read_iomem(void)
{
    FILE *f = fopen("/proc/iomem", "r");
    char line[256];
    if (!f)
        fail("cannot read /proc/iomem: %s", strerror(errno));
    while (fgets(line, sizeof(line), f) && nranges < MAX_RANGES) {
        if (line[0] == ' ')
            continue;
        struct range *r = &ranges[nranges];
        char *colon = strstr(line, " : ");
        if (sscanf(line, "%" SCNx64 "-%" SCNx64, &r->lo, &r->hi) != 2 || !colon)
            continue;
        r->ram = strstr(colon, "System RAM") != NULL;
        nranges++;
    }
    fclose(f);
}

static const struct range *range_of(uint64_t a)
{
    for (int i = 0; i < nranges; i++)
        if (a >= ranges[i].lo && a <= ranges[i].hi)
            return &ranges[i];
    return NULL;
}

static unsigned phys_bits(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(CPUID_ADDR_SIZES, &a, &b, &c, &d))
        return PHYS_BITS_DEFAULT;
    return a & PHYS_BITS_MASK;
}

struct sweep {
    uint64_t probes, ram_skipped, refused, devices, holes;
};

/* Plain MOV loads and stores, never folded into CMP/ALU forms with a
 * memory operand: the hypervisor emulates only MOV on open bus (and stops
 * the guest, by name, on anything else). */
static uint8_t ld8(volatile void *p)
{
    uint8_t v;
    __asm__ volatile("movb (%1), %0" : "=q"(v) : "r"(p) : "memory");
    return v;
}

static uint32_t ld32(volatile void *p)
{
    uint32_t v;
    __asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(p) : "memory");
    return v;
}

static uint64_t ld64(volatile void *p)
{
    uint64_t v;
    __asm__ volatile("movq (%1), %0" : "=r"(v) : "r"(p) : "memory");
    return v;
}

static void st32(volatile void *p, uint32_t v)
{
    __asm__ volatile("movl %1, (%0)" : : "r"(p), "r"(v) : "memory");
}

static void st64(volatile void *p, uint64_t v)
{
    __asm__ volatile("movq %1, (%0)" : : "r"(p), "r"(v) : "memory");
}

static void probe(int fd, uint64_t a, struct sweep *s)
{
    const struct range *r = range_of(a);
    s->probes++;
    if (r && r->ram) {
        s->ram_skipped++;   /* STRICT_DEVMEM refuses RAM; memcheck covers it */
        return;
    }
    volatile uint8_t *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)a);
    if (p == MAP_FAILED) {
        s->refused++;       /* the guest kernel said no: nothing reached the CPU */
        return;
    }
    volatile uint32_t *w32 = (volatile uint32_t *)(p + PAGE / 2);
    volatile uint64_t *w64 = (volatile uint64_t *)(p + PAGE - sizeof(uint64_t));
    uint32_t v32 = ld32(w32);
    uint64_t v64 = ld64(w64);
    uint8_t v8 = ld8(p);
    if (r) {
        s->devices++;       /* a device the guest was given: read only */
    } else {
        s->holes++;
        if (v32 != OPEN_BUS32 || v64 != OPEN_BUS64 || v8 != 0xFF)
            fail("hole at 0x%" PRIx64 " reads 0x%08x / 0x%016" PRIx64 ", not open bus", a, v32,
                 v64);
        st32(w32, WRITE_PATTERN);
        st64(w64, 0);
        uint32_t b32 = ld32(w32);
        if (b32 != OPEN_BUS32 || ld64(w64) != OPEN_BUS64)
            fail("write to the hole at 0x%" PRIx64 " stuck (reads 0x%08x)", a, b32);
    }
    munmap((void *)p, PAGE);
}

static int gpa_sweep(void)
{
    read_iomem();
    unsigned bits = phys_bits();
    uint64_t top = bits >= 64 ? UINT64_MAX : (UINT64_C(1) << bits);
    int fd = open("/dev/mem", O_RDWR | O_SYNC);
    if (fd < 0)
        fail("cannot open /dev/mem: %s", strerror(errno));
    struct sweep s = { 0 };
    printf("hostile: gpa-sweep: physical address width %u bits, %d iomem ranges\n", bits,
           nranges);
    fflush(stdout);
    for (uint64_t a = 0; a < FOUR_GIB && a < top; a += LOW_STRIDE)
        probe(fd, a, &s);
    for (uint64_t a = FOUR_GIB; a < top - HIGH_STRIDE; a += HIGH_STRIDE)
        probe(fd, a, &s);
    /* Every power of two up to the width, and the last page below it. */
    for (unsigned k = 32; k < bits; k++)
        probe(fd, (UINT64_C(1) << k) - PAGE, &s);
    probe(fd, top - PAGE, &s);
    close(fd);
    printf("hostile: gpa-sweep: probes=%" PRIu64 " ram=%" PRIu64 " refused=%" PRIu64
           " devices=%" PRIu64 " holes=%" PRIu64 "\n",
           s.probes, s.ram_skipped, s.refused, s.devices, s.holes);
    if (s.holes == 0)
        fail("no hole was reached (all %" PRIu64 " probes refused or RAM)", s.probes);
    return 0;
}

/* ---- triple-fault -------------------------------------------------------------------- */

static int triple_fault(void)
{
    printf("hostile: triple-fault: rebooting (needs reboot=t on the kernel command line)\n");
    fflush(stdout);
    sync();
    reboot(RB_AUTOBOOT);
    fail("reboot returned: %s", strerror(errno));
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: hostile gpa-sweep KEEP%% | kexec-spin | triple-fault\n");
        return 2;
    }
    name = argv[1];
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(name, "triple-fault"))
        return triple_fault();
    if (!strcmp(name, "kexec-spin"))
        return kexec_spin();
    unsigned keep_pct;
    int rc;
    size_t len;
    volatile uint64_t *buf;
    if (!strcmp(name, "gpa-sweep") && argc == 3) {
        keep_pct = (unsigned)atoi(argv[2]);
        buf = keep_fill(keep_pct, &len);
        rc = gpa_sweep();
    } else {
        fprintf(stderr, "hostile: unknown behaviour or arguments: %s\n", name);
        return 2;
    }
    keep_verify(buf, len);
    printf("hostile: %s: PASS kept=%zu MiB intact\n", name, len / (size_t)MIB);
    return rc;
}
