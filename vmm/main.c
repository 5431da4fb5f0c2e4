/*
 * The hypervisor core after ExitBootServices: take over the CPU (own GDT,
 * IDT, page tables), set up the frame pool, build the guest and run it, and
 * report what happened before powering off.
 */
#include "ept/frame.h"
#include "guest/guest.h"
#include "vmm/drivers/probe.h"
#include "swap/mem_plan.h"
#include "swap/swap.h"
#include "vmm/arch/clock.h"
#include "vmm/acpi.h"
#include "vmm/intx_hw.h"
#include "vmm/arch/arch.h"
#include "vmm/boot_info.h"
#include "vmm/console.h"
#include "vmm/guest_disk.h"
#include "vmm/monitor/telemetry.h"
#include "vmm/arch/cpu_tables.h"
#include "vmm/lib/heap.h"
#include "vmm/lib/log.h"
#include "vmm/arch/paging.h"
#include "vmm/power.h"
#include "vmm/report.h"
#include "vmm/svm/svm.h"
#include "vmm/vmx/vmx.h"
#include "vmm/vcpu.h"

#include <string.h>

/* The config parser's readahead choices are swap's policies, value for value. */
_Static_assert((int)RA_OFF == (int)CONFIG_READAHEAD_OFF &&
                   (int)RA_CLUSTER == (int)CONFIG_READAHEAD_CLUSTER &&
                   (int)RA_AUTO == (int)CONFIG_READAHEAD_AUTO,
               "enum ra_policy must match enum config_readahead");
_Static_assert(RA_MAX_PAGES == CONFIG_READAHEAD_MAX_PAGES, "readahead page limits differ");

#define REGION_POOL 256
#define TRACE_EVENTS 4096

static struct frame_pool pool;
static struct guest_mm mm;
static struct vcpu vcpu;
static struct guest_layout layout;
static struct swap_probe swapdev;   /* swapdev.dev: the swap disk, once probed */
static struct swap swap;
static struct mem_plan plan;     /* what the UEFI side sized (swap/mem_plan.h) */

/* Background reclaim: the exit loop calls this at most every
 * RECLAIM_TICK_MS of TSC time (SVM has no preemption timer; exits are
 * frequent enough under any real workload, and direct reclaim covers the
 * rest). */
#define RECLAIM_TICK_MS 10
/* Console input the guest does not read is looked at this often (after exits). */
#define CONSOLE_POLL_MS 20
static void reclaim_step(struct vcpu *v)
{
    reclaim_tick(v->swap);
}

/* Swap (or, without a swap disk, zero-page recovery) for the guest's mm. */
static int setup_swap(const struct pv_config *cfg)
{
    struct blkdev *dev = cfg->swap != CONFIG_SWAP_NONE ? swapdev.dev : NULL;
    size_t meta_len = swap_meta_size(&pool, dev);
    if (meta_len > plan.swap_meta) {
        /* Only the disk's size can make it so: the pool is the plan's. */
        pv_err("swap: %s: a %llu MiB disk needs %zu KiB of swap metadata; pagevisor plans "
               "for disks of up to %llu MiB: use a smaller swap disk",
               dev ? dev->name : "none",
               dev ? (unsigned long long)(dev->sectors * dev->sector_size >> 20) : 0ull,
               meta_len >> 10, (unsigned long long)(MEM_PLAN_SWAP_MAX_BYTES >> 20));
        return -1;
    }
    void *meta = heap_alloc(meta_len, PAGE_SIZE, "swap metadata");
    if (!meta)
        return -1;
    char err[256];
    if (swap_init(&swap, &mm, dev, meta, meta_len, (enum ra_policy)cfg->readahead,
                  cfg->readahead_pages, err, sizeof(err)) < 0) {
        pv_err("swap: %s", err);
        return -1;
    }
    pv_info("swap: %s; readahead %s (%u pages); %llu KiB of metadata",
            dev ? dev->name : "no device: only all-zero pages can be reclaimed",
            cfg->readahead == CONFIG_READAHEAD_OFF ? "off"
            : cfg->readahead == CONFIG_READAHEAD_AUTO ? "auto" : "cluster",
            cfg->readahead_pages, (unsigned long long)(meta_len >> 10));
    vcpu.swap = &swap;
    vcpu.tick = reclaim_step;
    vcpu.tick_interval = clock_ms_to_ticks(clock_tsc_hz(), RECLAIM_TICK_MS);
    return 0;
}

static int under_qemu(const struct cpu_features *f)
{
    return f->hypervisor && (!strcmp(f->hv_signature, "TCGTCGTCGTCG") ||
                             !memcmp(f->hv_signature, "KVMKVMKVM", 9));
}

static void log_line(void *ctx, const char *line)
{
    (void)ctx;
    pv_info("%s", line);
}

/* Build and run the guest; returns the status to power off with. */
static enum pv_exit run_guest(struct boot_info *bi)
{
    if (bi->virt != VIRT_SVM && bi->virt != VIRT_VMX) {
        pv_err("guest: no virtualization backend was selected");
        return PV_EXIT_FAILURE;
    }
    const bool vmx = bi->virt == VIRT_VMX;
    const struct vcpu_ops *ops = vmx ? &vmx_ops : &svm_ops;
    /* NPT always has A/D bits; EPT only where the CPU offers them. */
    const bool use_ad = vmx ? vmx_ept_use_ad(&bi->cpu.vmx) : true;
    struct region *regions = heap_alloc(REGION_POOL * sizeof(struct region), 64, "region pool");
    struct fault_event *trace = heap_alloc(TRACE_EVENTS * sizeof(struct fault_event), 64,
                                           "fault trace");
    if (!regions || !trace)
        return PV_EXIT_FAILURE;
    if (mm_init(&mm, &pool, ops->s2_format, use_ad, regions, REGION_POOL, trace, TRACE_EVENTS,
                ops->invalidate, &vcpu) < 0) {
        pv_err("guest: no frame for the stage-2 root table");
        return PV_EXIT_FAILURE;
    }
    /* One 2 MiB leaf pins 512 frames: only without overcommit, where
     * fault-around maps first touches a block at a time instead
     * (docs/performance-history.md, "Swap path"). Without overcommit fault-around
     * covers what a 2 MiB leaf cannot (a split block, the kernel image's
     * region past its file): docs/performance-history.md, "Boot". */
    mm.huge_anon = !config_overcommit(&bi->cfg);
    mm.fault_around = MM_FAULT_AROUND_PAGES;
    /* Execute granted on first fetch, so reclaim knows code (ept/mm.h):
     * EPT leaves have their own execute bit; NPT's NX needs the host's
     * EFER.NXE. */
    mm.learn_exec = vmx || svm_host_nx();
    pv_info("guest: stage-2 execute %s", mm.learn_exec ? "granted on first fetch (code tracked)"
                                                       : "always granted (no NX in nested entries)");

    uint8_t *legacy = heap_alloc(GUEST_LEGACY_SIZE, PAGE_SIZE, "legacy ROM");
    if (!legacy)
        return PV_EXIT_FAILURE;
    memset(legacy, 0xFF, GUEST_LEGACY_SIZE);
    struct guest_input in = {
        .cfg = &bi->cfg, .host_map = &bi->memmap, .acpi_rsdp = bi->acpi_rsdp,
        .kernel = bi->kernel, .initrd = bi->initrd, .legacy_rom = va_hpa(legacy),
        .boot_apic_id = cpuid(CPUID_FEATURES, 0).ebx >> CPUID1_EBX_APIC_ID_SHIFT,
    };
    struct guest_entry entry;
    char err[256];
    if (guest_build(&mm, &in, &entry, &layout, err, sizeof(err)) < 0) {
        pv_err("guest: %s", err);
        return PV_EXIT_FAILURE;
    }
    guest_layout_describe(&layout, log_line, NULL);
    if (guest_disk_attach(&bi->cfg, &mm, err, sizeof(err)) < 0) {
        pv_err("%s", err);
        return PV_EXIT_FAILURE;
    }
    if (setup_swap(&bi->cfg) < 0)
        return PV_EXIT_FAILURE;

    vcpu.mm = &mm;
    vcpu.layout = &layout;
    /* The monitor escape and telemetry (docs/monitor.md). */
    console_init(clock_ms_to_ticks(clock_tsc_hz(), CONSOLE_POLL_MS),
                 bi->cfg.console_data == CONFIG_CONSOLE_DATA_PASS);
    irqwd_init(&vcpu.irqwd, clock_tsc_hz(), IRQWD_WARN_S);
    pv_info("monitor: press %s on the console to open it", CONSOLE_ESCAPE_NAME);
    if (vmx ? vmx_setup(&vcpu, &bi->cpu.vmx, &entry) < 0
            : svm_setup(&vcpu, &bi->cpu.svm, &entry) < 0)
        return PV_EXIT_FAILURE;
    telemetry_init(&vcpu, bi->cfg.telemetry_ms, bi->cfg.telemetry_trace, clock_tsc_hz());
    vcpu_run_loop(&vcpu);
    report_final(&vcpu);
    return vcpu.stop_status == PV_EXIT_SUCCESS ? PV_EXIT_SUCCESS : PV_EXIT_FAILURE;
}

void hv_main(struct boot_info *bi)
{
    cli();
    pv_info("boot services exited after %u attempt(s); %zu memory ranges",
            bi->ebs_attempts, bi->memmap.n);
    if (bi->magic != BOOT_INFO_MAGIC) {
        pv_err("boot information is corrupt (magic 0x%llx)", (unsigned long long)bi->magic);
        hv_halt_forever();
    }
    power_set_qemu(under_qemu(&bi->cpu));
    gdt_init();
    idt_init();

    struct memmap_summary sum;
    memmap_summarize(&bi->memmap, &sum);
    paging_init(bi->pt_base, bi->pt_size, sum.top, bi->cpu.page1gb);
    heap_init(bi->heap_base, bi->heap_size);
    clock_init(); /* TSC rate for timeouts and periodic work */

    struct acpi_info ai;
    if (acpi_init(&ai, bi->acpi_rsdp) == 0) {
        power_set_acpi(&ai);
        intx_hw_set_acpi(&ai);
        pv_info("acpi: %s at 0x%llx, fadt 0x%llx, pm1a_cnt 0x%x, s5 %s",
                ai.xsdt ? "xsdt" : "rsdt", (unsigned long long)ai.root,
                (unsigned long long)ai.fadt, ai.pm1a_cnt, ai.s5_found ? "found" : "missing");
    }

    /* `frames` host frames back the guest: its data, the stage-2 tables
     * that map it, and the shared zero frame all count against them. The
     * plan is the UEFI side's, recomputed from the same configuration. */
    if (mem_plan_for(bi->cfg.frames, bi->cfg.swap != CONFIG_SWAP_NONE, &plan) < 0 ||
        frame_pool_init_ranges(&pool, bi->pool_meta_base, bi->pool_meta_size, bi->pool_ranges,
                               bi->pool_nranges, plan.pool_frames) < 0 ||
        pool.nframes != plan.pool_frames) {
        pv_err("frame pool: cannot build %zu frames from %u host range(s) with %llu KiB of "
               "descriptors", plan.pool_frames, bi->pool_nranges,
               (unsigned long long)(bi->pool_meta_size >> 10));
        hv_poweroff(PV_EXIT_FAILURE);
    }
    pv_info("core up: frame pool %llu MiB, %zu frames (%zu free) in %zu range(s) from 0x%llx; "
            "backend %s", (unsigned long long)((uint64_t)pool.nframes * PAGE_SIZE >> 20),
            pool.nframes, frame_free_count(&pool), pool.nseg, (unsigned long long)pool.first,
            bi->virt == VIRT_VMX ? "vmx+ept" : "svm+npt");

    if (bi->cfg.selftest == CONFIG_SELFTEST_EXCEPTION) {
        pv_info("selftest: raising an invalid-opcode exception in the hypervisor");
        __asm__ volatile("ud2");
    }
    /* A refused guest disk or swap device stops here: the guest never
     * starts. The guest's disk first: the swap probe then re-initialises
     * its own device, and must not have taken the guest's. */
    char perr[256];
    if (guest_disk_probe(&bi->cfg, perr, sizeof(perr)) < 0) {
        pv_err("%s", perr);
        hv_poweroff(PV_EXIT_FAILURE);
    }
    if (bi->cfg.swap != CONFIG_SWAP_NONE) {
        if (swap_probe(&bi->cfg, &swapdev, perr, sizeof(perr)) < 0 ||
            guest_disk_check_swap(&bi->cfg, &swapdev, perr, sizeof(perr)) < 0) {
            pv_err("%s", perr);
            hv_poweroff(PV_EXIT_FAILURE);
        }
    }

    if (!config_has_guest(&bi->cfg)) {
        pv_info("no guest to run");
        hv_poweroff(PV_EXIT_SUCCESS);
    }
    hv_poweroff(run_guest(bi));
}
