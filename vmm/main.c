/*
 * The hypervisor core after ExitBootServices: take over the CPU (own GDT,
 * IDT, page tables), set up the frame pool, and report "core up". Guest
 * construction and the vCPU loop plug in here.
 */
#include "ept/frame.h"
#include "vmm/acpi.h"
#include "vmm/arch.h"
#include "vmm/boot_info.h"
#include "vmm/cpu_tables.h"
#include "vmm/log.h"
#include "vmm/paging.h"
#include "vmm/power.h"

#include <string.h>

static struct frame_pool pool;

static int under_qemu(const struct cpu_features *f)
{
    return f->hypervisor && (!strcmp(f->hv_signature, "TCGTCGTCGTCG") ||
                             !memcmp(f->hv_signature, "KVMKVMKVM", 9));
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

    struct acpi_info ai;
    if (acpi_init(&ai, bi->acpi_rsdp) == 0) {
        power_set_acpi(&ai);
        pv_info("acpi: %s at 0x%llx, fadt 0x%llx, pm1a_cnt 0x%x, s5 %s",
                ai.xsdt ? "xsdt" : "rsdt", (unsigned long long)ai.root,
                (unsigned long long)ai.fadt, ai.pm1a_cnt, ai.s5_found ? "found" : "missing");
    }

    if (frame_pool_init(&pool, bi->pool_base, bi->pool_size) < 0) {
        pv_err("frame pool: cannot initialise %llu MiB at 0x%llx",
               (unsigned long long)(bi->pool_size >> 20), (unsigned long long)bi->pool_base);
        hv_poweroff(PV_EXIT_FAILURE);
    }
    pv_info("core up: frame pool %llu MiB, %zu frames (%zu free) at 0x%llx; backend %s",
            (unsigned long long)((uint64_t)pool.nframes * PAGE_SIZE >> 20), pool.nframes,
            frame_free_count(&pool), (unsigned long long)pool.first,
            bi->virt == VIRT_VMX ? "vmx+ept" : "svm+npt");

    if (!config_has_guest(&bi->cfg))
        pv_info("no guest to run");
    else
        pv_info("guest %s staged (%llu bytes); running guests is not built yet",
                bi->cfg.linux_path, (unsigned long long)bi->kernel.size);
    hv_poweroff(PV_EXIT_SUCCESS);
}
