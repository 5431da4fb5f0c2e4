/*
 * probe: what a root process in the pagevisor guest can reach that it must
 * not (tests/e2e/test_isolation.py, docs/security.md). Static, run by
 * tests/guest/init for pv.check=probe, as root.
 *
 *   probe [mmio:ADDR+LEN | ecam:ADDR]...
 *
 * Sections, each reported as "probe: <section>: ..." and every finding as
 * one line "probe: FINDING <name>: <detail>":
 *   ports  every port outside the guest's legacy platform (the list in
 *          docs/security.md, plus the ACPI blocks its FADT names) must read
 *          as an empty bus (all ones) at every width; then 0 is written to
 *          each of them (a device that got the writes would be reset) and
 *          PCI configuration writes go out through 0xCF8/0xCFC.
 *   pci    through 0xCF8/0xCFC only host and ISA bridges may answer, and
 *          pagevisor's own emulated devices (subsystem 1af4:5056, "PV";
 *          docs/guest-disk.md), which are no host hardware.
 *   mmio   memory between the top of guest RAM and 4 GiB (1 MiB steps,
 *          skipping what the guest is given: LAPIC, IOAPIC, HPET, ACPI),
 *          a sample above 4 GiB, the ECAM windows (the q35 and PIIX
 *          defaults and any ecam: target) and each mmio: target (the swap
 *          disk's BARs) must read all ones, before and after writing zeros.
 *   msr    through /dev/cpu/0/msr (msr.ko): EFER shows no SVME; the
 *          virtualization MSRs read as "off" or fault; writes to
 *          virtualization, MTRR, SYSCFG, microcode, SMM, machine-check
 *          control, power/thermal and debug-control MSRs fault (each
 *          writes back the value it read, so a write that got through
 *          changes nothing); a TSC write reads back as written.
 *   insn   VMRUN VMMCALL VMLOAD VMSAVE STGI CLGI SKINIT INVLPGA VMXON
 *          VMXOFF VMLAUNCH VMRESUME VMCALL VMPTRLD VMPTRST VMCLEAR VMREAD
 *          VMWRITE INVEPT INVVPID VMFUNC GETSEC must raise #UD (SIGILL).
 * Last line: "probe: PASS checks=N" (exit 0), "probe: FAIL findings=N
 * first=<name>" (exit 1), or "probe: FAIL cannot check: <why>" (exit 2).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096u
#define MIB (1024ull * 1024)
#define GIB (1024 * MIB)
#define MAX_TARGETS 16
#define MAX_SKIP 64
#define PORT_FINDINGS_SHOWN 16

static unsigned findings, checks;
static char first_finding[64];

static void finding(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void finding(const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("probe: FINDING %s: ", name);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    if (!findings++)
        snprintf(first_finding, sizeof(first_finding), "%s", name);
    fflush(stdout);
}

__attribute__((noreturn)) static void cannot(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static void cannot(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("probe: FAIL cannot check: ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    exit(2);
}

/* ---- ports --------------------------------------------------------------- */

struct range { uint64_t start, len; };
static struct range allowed_ports[48];
static unsigned n_allowed;

static void allow(uint64_t port, uint64_t len)
{
    if (len && n_allowed < sizeof(allowed_ports) / sizeof(allowed_ports[0]))
        allowed_ports[n_allowed++] = (struct range){ port, len };
}

static bool in_ranges(const struct range *r, unsigned n, uint64_t a, uint64_t len)
{
    for (unsigned i = 0; i < n; i++)
        if (a < r[i].start + r[i].len && r[i].start < a + len)
            return true;
    return false;
}

static uint32_t rd32le(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* The ACPI fixed-hardware blocks the guest's FADT names: its own. */
static void allow_fadt_blocks(void)
{
    uint8_t f[300];
    int fd = open("/sys/firmware/acpi/tables/FACP", O_RDONLY);
    if (fd < 0) {
        printf("probe: ports: no FADT (no ACPI): no PM block allowed\n");
        return;
    }
    ssize_t n = read(fd, f, sizeof(f));
    close(fd);
    if (n < 94)
        cannot("the FADT is %zd bytes", n);
    static const int len_index[8] = { 0, 0, 1, 1, 2, 3, 4, 5 };
    for (int b = 0; b < 8; b++) {
        uint32_t port = rd32le(f + 56 + 4 * b);
        uint8_t len = f[88 + len_index[b]];
        if (port && port <= 0xFFFF) {
            allow(port, len);
            printf("probe: ports: FADT block %d at 0x%x (%u ports) is the guest's\n", b, port, len);
        }
    }
}

static void platform_ports(void)
{
    static const struct range platform[] = {
        { 0x20, 2 }, { 0xA0, 2 }, { 0x4D0, 2 },   /* PIC, ELCR */
        { 0x40, 4 }, { 0x61, 1 },                 /* PIT, port B */
        { 0x60, 1 }, { 0x64, 1 },                 /* PS/2 */
        { 0x70, 2 }, { 0x80, 1 },                 /* RTC, POST */
        { 0x3F8, 8 }, { 0x2F8, 8 }, { 0x3E8, 8 }, { 0x2E8, 8 }, /* UARTs */
        { 0xCF8, 8 },                             /* PCI configuration (filtered) */
        { 0xF4, 4 },                              /* debug exit: a write stops the guest */
    };
    for (size_t i = 0; i < sizeof(platform) / sizeof(platform[0]); i++)
        allow(platform[i].start, platform[i].len);
    allow_fadt_blocks();
}

static void probe_ports(void)
{
    if (iopl(3) < 0)
        cannot("iopl(3): %s", strerror(errno));
    platform_ports();
    unsigned bad = 0, scanned = 0;
    for (uint32_t p = 0; p <= 0xFFFF; p++) {
        if (in_ranges(allowed_ports, n_allowed, p, 1))
            continue;
        scanned++;
        uint32_t b = inb((uint16_t)p), w = 0xFFFF, l = 0xFFFFFFFF;
        bool wide = p + 3 <= 0xFFFF && !in_ranges(allowed_ports, n_allowed, p, 4);
        if (wide && p % 2 == 0)
            w = inw((uint16_t)p);
        if (wide && p % 4 == 0)
            l = inl((uint16_t)p);
        if (b != 0xFF || w != 0xFFFF || l != 0xFFFFFFFF) {
            if (bad++ < PORT_FINDINGS_SHOWN)
                finding("port-reachable", "port 0x%04x reads 0x%02x/0x%04x/0x%08x "
                        "(expected an empty bus)", p, b, w, l);
        }
        checks++;
    }
    if (bad > PORT_FINDINGS_SHOWN)
        finding("port-reachable", "%u more ports answered", bad - PORT_FINDINGS_SHOWN);
    /* Writes: a device reached by them would be reset or reprogrammed
     * (virtio's legacy status register, IDE bus-master, ...). */
    for (uint32_t p = 0; p <= 0xFFFF; p++)
        if (!in_ranges(allowed_ports, n_allowed, p, 1))
            outb(0, (uint16_t)p);
    printf("probe: ports: %u ports outside the platform read and written, %u answered\n",
           scanned, bad);
}

/* ---- PCI configuration through the filter -------------------------------- */

static uint32_t cfg_read(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
    outl(0x80000000u | bus << 16 | dev << 11 | fn << 8 | (reg & 0xFC), 0xCF8);
    return inl(0xCFC);
}

/* Guest-physical ranges the guest was given (RAM, ACPI, interrupt
 * controllers, its emulated devices' BARs): the MMIO sweep skips them. */
static struct range guest_given[MAX_SKIP];
static unsigned n_given;

/* Subsystem vendor 1af4, subsystem 5056 ("PV"): pagevisor's emulated
 * devices (vmm/vdev/vpci.c). */
#define PV_EMULATED_SUBSYSTEM 0x50561AF4u
#define BAR0 0x10u
#define BAR_MEM_MASK 0xFFFFFFF0u

static void cfg_write(unsigned bus, unsigned dev, unsigned fn, unsigned reg, uint32_t v)
{
    outl(0x80000000u | bus << 16 | dev << 11 | fn << 8 | (reg & 0xFC), 0xCF8);
    outl(v, 0xCFC);
}

/* An emulated device's BAR0 (sized the way firmware does) is the guest's:
 * the MMIO sweep expects it to answer. */
static void given_bar0(unsigned bus, unsigned dev, unsigned fn)
{
    uint32_t bar = cfg_read(bus, dev, fn, BAR0);
    cfg_write(bus, dev, fn, BAR0, 0xFFFFFFFFu);
    uint32_t size = ~(cfg_read(bus, dev, fn, BAR0) & BAR_MEM_MASK) + 1;
    cfg_write(bus, dev, fn, BAR0, bar);
    if ((bar & BAR_MEM_MASK) && size && n_given < MAX_SKIP)
        guest_given[n_given++] = (struct range){ bar & BAR_MEM_MASK, size };
}

static void probe_pci(void)
{
    unsigned visible = 0, emulated = 0;
    for (unsigned bus = 0; bus < 4; bus++)
        for (unsigned dev = 0; dev < 32; dev++)
            for (unsigned fn = 0; fn < 8; fn++) {
                uint32_t id = cfg_read(bus, dev, fn, 0);
                checks++;
                bool bridge = false;
                if (id != 0xFFFFFFFFu) {
                    uint32_t cls = cfg_read(bus, dev, fn, 8) >> 8;
                    bridge = (cls >> 8) == 0x0600 || (cls >> 8) == 0x0601;
                    visible++;
                    if (cfg_read(bus, dev, fn, 0x2C) == PV_EMULATED_SUBSYSTEM) {
                        emulated++;
                        given_bar0(bus, dev, fn);
                        continue; /* the guest's own disk: leave it working */
                    }
                    if (!bridge)
                        finding("pci-visible", "%02x:%02x.%x %04x:%04x class %06x answers "
                                "through 0xCF8/0xCFC", bus, dev, fn, id & 0xFFFF, id >> 16,
                                cls);
                }
                if (bridge)
                    continue;
                /* Clear the command register of every hidden function (the
                 * swap disk's among them): were the write to land, the
                 * device would stop decoding its BARs and stop its DMA. */
                outl(0x80000000u | bus << 16 | dev << 11 | fn << 8 | 4, 0xCF8);
                outw(0, 0xCFC);
            }
    printf("probe: pci: %u functions visible (host/ISA bridges allowed; %u emulated by "
           "pagevisor)\n", visible, emulated);
}

/* ---- MMIO through /dev/mem ------------------------------------------------ */

static int memfd = -1;
static uint64_t ram_top;

/* What /proc/iomem says the guest has: RAM, ACPI, LAPIC/IOAPIC/HPET. */
static void read_iomem(void)
{
    FILE *f = fopen("/proc/iomem", "r");
    if (!f)
        cannot("/proc/iomem: %s", strerror(errno));
    char line[256];
    while (fgets(line, sizeof(line), f)) {
        if (line[0] == ' ')
            continue; /* children of a top-level entry */
        uint64_t a, b;
        char name[200] = "";
        if (sscanf(line, "%" SCNx64 "-%" SCNx64 " : %199[^\n]", &a, &b, name) != 3)
            continue;
        bool ram = strstr(name, "System RAM") != NULL;
        if (ram && b + 1 < 4 * GIB && b + 1 > ram_top)
            ram_top = b + 1;
        if (ram || strstr(name, "ACPI") || strstr(name, "APIC") || strstr(name, "HPET") ||
            strstr(name, "Local APIC"))
            if (n_given < MAX_SKIP)
                guest_given[n_given++] = (struct range){ a, b - a + 1 };
    }
    fclose(f);
    /* The interrupt controllers and the HPET are passed through even when
     * the guest's iomem does not name them. */
    static const struct range fixed[] = {
        { 0xFEC00000, 0x100000 }, { 0xFED00000, 0x1000 }, { 0xFEE00000, 0x100000 },
    };
    for (size_t i = 0; i < 3 && n_given < MAX_SKIP; i++)
        guest_given[n_given++] = fixed[i];
    if (!ram_top)
        cannot("/proc/iomem names no System RAM");
}

static void *map_page(uint64_t pa)
{
    void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, (off_t)pa);
    return p == MAP_FAILED ? NULL : p;
}

/* Read the dwords [off, off+len) of the page at pa; all must be ones.
 * With write: then write zeros and read again. Returns false when the
 * page could not be mapped. */
static bool check_page(const char *what, uint64_t pa, unsigned off, unsigned len, bool write)
{
    volatile uint32_t *p = map_page(pa);
    if (!p)
        return false;
    for (int pass = 0; pass < (write ? 2 : 1); pass++) {
        for (unsigned o = off; o < off + len; o += 4) {
            uint32_t v = p[o / 4];
            checks++;
            if (v != 0xFFFFFFFFu) {
                finding(what, "0x%" PRIx64 " reads 0x%08x%s (expected open bus)", pa + o, v,
                        pass ? " after zeros were written" : "");
                munmap((void *)p, PAGE);
                return true;
            }
        }
        if (write && pass == 0)
            for (unsigned o = off; o < off + len; o += 4)
                p[o / 4] = 0;
    }
    munmap((void *)p, PAGE);
    return true;
}

static void need_page(const char *what, uint64_t pa, unsigned off, unsigned len, bool write)
{
    if (!check_page(what, pa, off, len, write))
        cannot("mmap of /dev/mem at 0x%" PRIx64 " (%s): %s", pa, what, strerror(errno));
}

static void probe_mmio_hole(void)
{
    unsigned pages = 0, unmappable = 0;
    uint64_t start = (ram_top + MIB - 1) & ~(MIB - 1);
    for (uint64_t a = start; a < 4 * GIB; a += MIB) {
        if (in_ranges(guest_given, n_given, a, PAGE))
            continue;
        /* /dev/mem refuses ranges the kernel marked busy: skipped, counted */
        if (check_page("mmio-reachable", a, 0, 16, false))
            pages++;
        else
            unmappable++;
    }
    if (!pages)
        cannot("no page between 0x%" PRIx64 " and 4 GiB could be mapped (%s)", start,
               strerror(errno));
    if (unmappable)
        printf("probe: mmio: %u pages below 4 GiB not mappable through /dev/mem\n", unmappable);
    /* above 4 GiB: where 64-bit BARs and host RAM live */
    for (uint64_t a = 4 * GIB; a < 64 * GIB; a += GIB) {
        if (check_page("mmio-reachable", a, 0, 16, false))
            pages++;
    }
    printf("probe: mmio: %u pages from 0x%" PRIx64 " (top of guest RAM) up read as open bus\n",
           pages, ram_top);
}

static void probe_ecam(uint64_t base)
{
    for (unsigned dev = 0; dev < 32; dev++) {
        uint64_t pa = base + ((uint64_t)dev << 15);
        need_page("ecam-reachable", pa, 0, 16, dev != 0);
    }
    printf("probe: ecam: bus 0 at 0x%" PRIx64 " reads as open bus\n", base);
}

static void probe_bar(uint64_t base, uint64_t len)
{
    uint64_t n = len < 16 * PAGE ? len : 16 * PAGE;
    for (uint64_t o = 0; o < n; o += PAGE) {
        unsigned chunk = n - o < PAGE ? (unsigned)(n - o) : PAGE;
        need_page("bar-reachable", base + o, 0, chunk, true);
    }
    printf("probe: bar: 0x%" PRIx64 " (+0x%" PRIx64 ") reads as open bus, writes dropped\n",
           base, len);
}

/* ---- MSRs ------------------------------------------------------------------ */

static int msrfd = -1;

static bool msr_rd(uint32_t msr, uint64_t *v)
{
    return pread(msrfd, v, 8, msr) == 8;
}

static bool msr_wr(uint32_t msr, uint64_t v)
{
    return pwrite(msrfd, &v, 8, msr) == 8;
}

#define EFER 0xC0000080u
#define EFER_SVME (1ull << 12)
#define VM_CR 0xC0010114u
#define VM_CR_SVMDIS (1ull << 4)
#define FEATURE_CONTROL 0x3Au
#define FEATCTL_LOCK 1ull
#define FEATCTL_VMX (3ull << 1)

struct msr_check { uint32_t msr; const char *name; };

/* Writes that must fault. The probe writes back what it read (or 0 where
 * the read faults too), so a write that got through changes nothing. */
static const struct msr_check write_denied[] = {
    { 0xC0010117, "VM_HSAVE_PA" }, { VM_CR, "VM_CR" }, { FEATURE_CONTROL, "FEATURE_CONTROL" },
    { 0x480, "IA32_VMX_BASIC" }, { 0x2FF, "MTRR_DEF_TYPE" }, { 0x200, "MTRR_PHYSBASE0" },
    { 0x250, "MTRR_FIX64K" }, { 0xC0010010, "SYSCFG" }, { 0x79, "BIOS_UPDT_TRIG" },
    { 0xC0010020, "PATCH_LOADER" }, { 0xC0010111, "SMM_BASE" }, { 0xC0010112, "SMM_ADDR" },
    { 0xC0010113, "SMM_MASK" }, { 0x1F2, "SMRR_PHYSBASE" }, { 0x9B, "SMM_MONITOR_CTL" },
    { 0x17B, "MCG_CTL" }, { 0x400, "MC0_CTL" }, { 0x401, "MC0_STATUS" },
    { 0x199, "PERF_CTL" }, { 0x19A, "CLOCK_MODULATION" }, { 0x1B0, "ENERGY_PERF_BIAS" },
    { 0x610, "PKG_POWER_LIMIT" }, { 0xC0010062, "PSTATE_CTL" }, { 0xC0010015, "HWCR" },
    { 0x1A0, "MISC_ENABLE" },
};

/* Reads that must fault: virtualization and SMM state. */
static const struct msr_check read_denied[] = {
    { 0xC0010117, "VM_HSAVE_PA" }, { 0x480, "IA32_VMX_BASIC" }, { 0x48B, "IA32_VMX_PROCBASED_CTLS2" },
    { 0xC0010111, "SMM_BASE" }, { 0x1F2, "SMRR_PHYSBASE" },
};

static void probe_msrs(void)
{
    msrfd = open("/dev/cpu/0/msr", O_RDWR);
    if (msrfd < 0)
        cannot("/dev/cpu/0/msr: %s (msr.ko loaded?)", strerror(errno));
    uint64_t v;
    checks++;
    if (!msr_rd(EFER, &v))
        finding("msr-efer", "EFER cannot be read");
    else if (v & EFER_SVME)
        finding("msr-efer-svme", "EFER reads 0x%" PRIx64 ": SVME is visible", v);
    checks++;
    if (msr_rd(VM_CR, &v) && !(v & VM_CR_SVMDIS))
        finding("msr-vm-cr", "VM_CR reads 0x%" PRIx64 ": SVM not disabled", v);
    checks++;
    if (msr_rd(FEATURE_CONTROL, &v) && (!(v & FEATCTL_LOCK) || (v & FEATCTL_VMX)))
        finding("msr-feature-control", "FEATURE_CONTROL reads 0x%" PRIx64
                ": unlocked or VMX enabled", v);
    for (size_t i = 0; i < sizeof(read_denied) / sizeof(read_denied[0]); i++) {
        checks++;
        if (msr_rd(read_denied[i].msr, &v))
            finding("msr-read", "%s (0x%x) reads 0x%" PRIx64 " (expected #GP)",
                    read_denied[i].name, read_denied[i].msr, v);
    }
    for (size_t i = 0; i < sizeof(write_denied) / sizeof(write_denied[0]); i++) {
        uint64_t cur = 0;
        checks++;
        if (!msr_rd(write_denied[i].msr, &cur))
            cur = 0;
        if (msr_wr(write_denied[i].msr, cur))
            finding("msr-write", "%s (0x%x) accepted a write (expected #GP)",
                    write_denied[i].name, write_denied[i].msr);
    }
    /* debug control: 0 is harmless and accepted, LBR is refused */
    checks++;
    if (msr_wr(0x1D9, 1)) {
        finding("msr-write", "DEBUGCTL (0x1d9) accepted LBR on (expected #GP)");
        msr_wr(0x1D9, 0);
    }
    /* TSC: the write becomes the guest's offset; it reads back as written */
    uint64_t t0, t1;
    checks++;
    if (!msr_rd(0x10, &t0))
        finding("msr-tsc", "the TSC cannot be read");
    else if (!msr_wr(0x10, t0))
        finding("msr-tsc", "a TSC write was refused (expected it to become an offset)");
    else if (!msr_rd(0x10, &t1) || t1 < t0 || t1 - t0 > 100000000000ull)
        finding("msr-tsc", "TSC written 0x%" PRIx64 " reads back 0x%" PRIx64, t0, t1);
    printf("probe: msr: checked\n");
}

/* ---- instructions ---------------------------------------------------------- */

static sigjmp_buf insn_jmp;
static volatile sig_atomic_t insn_sig;

static void on_signal(int sig)
{
    insn_sig = sig;
    siglongjmp(insn_jmp, 1);
}

static uint64_t vmxon_region[512] __attribute__((aligned(4096)));

#define INSN(name) { #name, insn_##name }
#define DEF_INSN(name, bytes) \
    static void insn_##name(void) { __asm__ volatile(bytes :: "a"(vmxon_region) : "memory"); }
DEF_INSN(VMRUN, ".byte 0x0f,0x01,0xd8")
DEF_INSN(VMMCALL, ".byte 0x0f,0x01,0xd9")
DEF_INSN(VMLOAD, ".byte 0x0f,0x01,0xda")
DEF_INSN(VMSAVE, ".byte 0x0f,0x01,0xdb")
DEF_INSN(STGI, ".byte 0x0f,0x01,0xdc")
DEF_INSN(CLGI, ".byte 0x0f,0x01,0xdd")
DEF_INSN(SKINIT, ".byte 0x0f,0x01,0xde")
DEF_INSN(INVLPGA, ".byte 0x0f,0x01,0xdf")
DEF_INSN(VMXON, ".byte 0xf3,0x0f,0xc7,0x30")    /* vmxon [rax] */
DEF_INSN(VMXOFF, ".byte 0x0f,0x01,0xc4")
DEF_INSN(VMLAUNCH, ".byte 0x0f,0x01,0xc2")
DEF_INSN(VMRESUME, ".byte 0x0f,0x01,0xc3")
DEF_INSN(VMCALL, ".byte 0x0f,0x01,0xc1")
DEF_INSN(VMPTRLD, ".byte 0x0f,0xc7,0x30")       /* vmptrld [rax] */
DEF_INSN(VMPTRST, ".byte 0x0f,0xc7,0x38")       /* vmptrst [rax] */
DEF_INSN(VMCLEAR, ".byte 0x66,0x0f,0xc7,0x30")  /* vmclear [rax] */
DEF_INSN(VMREAD, ".byte 0x0f,0x78,0xc0")        /* vmread rax, rax */
DEF_INSN(VMWRITE, ".byte 0x0f,0x79,0xc0")       /* vmwrite rax, rax */
DEF_INSN(INVEPT, ".byte 0x66,0x0f,0x38,0x80,0x00")  /* invept rax, [rax] */
DEF_INSN(INVVPID, ".byte 0x66,0x0f,0x38,0x81,0x00") /* invvpid rax, [rax] */
DEF_INSN(VMFUNC, ".byte 0x0f,0x01,0xd4")
DEF_INSN(GETSEC, ".byte 0x0f,0x37")

static void probe_insns(void)
{
    static const struct { const char *name; void (*fn)(void); } insns[] = {
        INSN(VMRUN), INSN(VMMCALL), INSN(VMLOAD), INSN(VMSAVE), INSN(STGI),
        INSN(CLGI), INSN(SKINIT), INSN(INVLPGA), INSN(VMXON), INSN(VMXOFF),
        INSN(VMLAUNCH), INSN(VMRESUME), INSN(VMCALL), INSN(VMPTRLD),
        INSN(VMPTRST), INSN(VMCLEAR), INSN(VMREAD), INSN(VMWRITE),
        INSN(INVEPT), INSN(INVVPID), INSN(VMFUNC), INSN(GETSEC),
    };
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_NODEFER;
    sigaction(SIGILL, &sa, NULL);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    for (volatile size_t i = 0; i < sizeof(insns) / sizeof(insns[0]); i++) {
        insn_sig = 0;
        checks++;
        if (!sigsetjmp(insn_jmp, 1))
            insns[i].fn();
        if (insn_sig == SIGILL)
            continue;
        if (insn_sig)
            finding("insn", "%s raised %s (expected #UD, SIGILL)", insns[i].name,
                    strsignal(insn_sig));
        else
            finding("insn", "%s completed (expected #UD, SIGILL)", insns[i].name);
    }
    printf("probe: insn: %zu virtualization instructions executed\n",
           sizeof(insns) / sizeof(insns[0]));
}

/* ---- main ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct range bars[MAX_TARGETS];
    uint64_t ecams[MAX_TARGETS] = { 0xB0000000ull, 0xE0000000ull }; /* q35, PIIX defaults */
    unsigned nbars = 0, necams = 2;
    for (int i = 1; i < argc; i++) {
        uint64_t a, l;
        if (sscanf(argv[i], "mmio:%" SCNx64 "+%" SCNx64, &a, &l) == 2 && nbars < MAX_TARGETS)
            bars[nbars++] = (struct range){ a, l };
        else if (sscanf(argv[i], "ecam:%" SCNx64, &a) == 1 && necams < MAX_TARGETS) {
            bool known = false; /* a default named again is probed once */
            for (unsigned k = 0; k < necams; k++)
                known |= ecams[k] == a;
            if (!known)
                ecams[necams++] = a;
        }
        else
            cannot("bad target '%s' (expected mmio:ADDR+LEN or ecam:ADDR, hex)", argv[i]);
    }
    memfd = open("/dev/mem", O_RDWR | O_SYNC);
    if (memfd < 0)
        cannot("/dev/mem: %s", strerror(errno));
    read_iomem();

    probe_insns();
    probe_msrs();
    probe_ports();
    probe_pci();
    probe_mmio_hole();
    for (unsigned i = 0; i < necams; i++)
        if (!in_ranges(guest_given, n_given, ecams[i], PAGE))
            probe_ecam(ecams[i]);
    for (unsigned i = 0; i < nbars; i++)
        probe_bar(bars[i].start, bars[i].len);

    if (findings) {
        printf("probe: FAIL findings=%u first=%s\n", findings, first_finding);
        return 1;
    }
    printf("probe: PASS checks=%u\n", checks);
    return 0;
}
