/*
 * pagevisor's UEFI entry point: read and check everything while the
 * firmware can still report errors on screen, stage the guest files,
 * allocate the hypervisor's memory, leave boot services, and hand a plain
 * struct boot_info to the core (vmm/main.c).
 *
 * Any bad input is reported on the serial and UEFI consoles and the app
 * returns an error status with every allocation given back: the firmware
 * goes on (to the next boot option) as if pagevisor had not run.
 */
#include "version.h"
#include "efi/efi_glue.h"
#include "ept/frame.h"
#include "guest/bzimage.h"
#include "swap/mem_plan.h"
#include "vmm/lib/fmt.h"
#include "vmm/lib/log.h"
#include "vmm/arch/paging.h"
#include "vmm/drivers/serial.h"

#include <string.h>

#define HV_STACK_SIZE (64 * 1024)

EFI_SYSTEM_TABLE *g_st;
EFI_BOOT_SERVICES *g_bs;

static void log_line(void *ctx, const char *line)
{
    (void)ctx;
    pv_info("%s", line);
}

static const char *efi_status_name(EFI_STATUS st)
{
    switch (st) {
    case EFI_NOT_FOUND: return "not found";
    case EFI_OUT_OF_RESOURCES: return "out of resources";
    case EFI_VOLUME_CORRUPTED: return "volume corrupted";
    case EFI_DEVICE_ERROR: return "device error";
    case EFI_END_OF_FILE: return "empty or truncated file";
    case EFI_ACCESS_DENIED: return "access denied";
    case EFI_UNSUPPORTED: return "unsupported";
    default: return "firmware error";
    }
}

static EFI_STATUS load_config(struct esp *esp, struct pv_config *cfg)
{
    char *text = NULL;
    UINTN len = 0;
    EFI_STATUS st = esp_read_beside(esp, CONFIG_FILE_NAME, &text, &len);
    if (st == EFI_NOT_FOUND) {
        say(LOG_ERROR, "%s: not found beside pagevisor.efi", CONFIG_FILE_NAME);
        return st;
    }
    if (EFI_ERROR(st)) {
        say(LOG_ERROR, "%s: cannot read (%s)", CONFIG_FILE_NAME, efi_status_name(st));
        return st;
    }
    char err[256];
    int rc = config_parse(cfg, CONFIG_FILE_NAME, text, len, err, sizeof(err));
    uefi_call_wrapper(g_bs->FreePool, 1, text);
    if (rc < 0) {
        say(LOG_ERROR, "%s", err);
        return EFI_INVALID_PARAMETER;
    }
    return EFI_SUCCESS;
}

static EFI_STATUS stage(struct esp *esp, const struct pv_config *cfg, enum config_key key,
                        const char *path, struct staged_file *out)
{
    EFI_STATUS st = esp_stage(esp, path, out);
    if (EFI_ERROR(st)) {
        char err[256];
        config_error(err, sizeof(err), CONFIG_FILE_NAME, cfg->line[key], "%s %s: %s",
                     config_key_name(key), path,
                     st == EFI_NOT_FOUND ? "file not found on the ESP" : efi_status_name(st));
        say(LOG_ERROR, "%s", err);
        return st;
    }
    pv_info("staged %s %s: %llu bytes at 0x%llx", config_key_name(key), path,
            (unsigned long long)out->size, (unsigned long long)out->base);
    if (key == CONFIG_KEY_LINUX) {
        /* Refuse a bad kernel now, while the firmware can still go on. */
        struct bzimage_info info;
        char why[160], err[256];
        if (bzimage_parse((const uint8_t *)(uintptr_t)out->base, out->size, &info, why,
                          sizeof(why)) < 0) {
            config_error(err, sizeof(err), CONFIG_FILE_NAME, cfg->line[key], "linux %s: %s",
                         path, why);
            say(LOG_ERROR, "%s", err);
            return EFI_LOAD_ERROR;
        }
        pv_info("linux %s: bzImage protocol %u.%02u, %s, init_size %u", path,
                info.version >> 8, info.version & 0xFF,
                info.relocatable ? "relocatable" : "fixed address", info.init_size);
    }
    return EFI_SUCCESS;
}

static EFI_STATUS check_cpu(struct boot_info *bi)
{
    cpufeat_detect(&bi->cpu);
    cpufeat_describe(&bi->cpu, log_line, NULL);
    char why[256];
    bi->virt = cpufeat_choose(&bi->cpu, why, sizeof(why));
    if (bi->virt == VIRT_NONE) {
        say(LOG_ERROR, "no usable hardware virtualization: %s", why);
        return EFI_UNSUPPORTED;
    }
    pv_info("virtualization: using %s", why);
    return EFI_SUCCESS;
}

/* The frame pool's frames, last (the other allocations must not find the
 * memory gone): from as many host ranges as the memory map needs. */
static EFI_STATUS allocate_frames(struct boot_info *bi, const struct mem_plan *plan)
{
    uint64_t avail;
    EFI_STATUS st = alloc_frame_ranges(plan->pool_frames, bi->pool_ranges, FRAME_RANGES_MAX,
                                       &bi->pool_nranges, &avail);
    if (EFI_ERROR(st)) {
        char frames[SIZE_STR_MAX];
        format_size(bi->cfg.frames, frames, sizeof(frames));
        unsigned long long have = avail * PAGE_SIZE >> 20;
        if (plan->pool_frames > avail)
            say(LOG_ERROR, "frames %s: needs %llu MiB of host memory for the frame pool, but "
                           "only %llu MiB is free after pagevisor's own allocations (%llu MiB "
                           "kept for the firmware); lower 'frames' in %s",
                frames, (unsigned long long)((uint64_t)plan->pool_frames * PAGE_SIZE >> 20),
                have, (unsigned long long)(EFI_FIRMWARE_RESERVE >> 20), CONFIG_FILE_NAME);
        else
            say(LOG_ERROR, "frames %s: the free host memory (%llu MiB) could not be taken in "
                           "%u ranges or fewer; lower 'frames' in %s",
                frames, have, (unsigned)FRAME_RANGES_MAX, CONFIG_FILE_NAME);
        return EFI_OUT_OF_RESOURCES;
    }
    for (uint32_t i = 0; i < bi->pool_nranges; i++)
        pv_info("frame pool range %u: %llu MiB at 0x%llx", i,
                (unsigned long long)(bi->pool_ranges[i].size >> 20),
                (unsigned long long)bi->pool_ranges[i].base);
    return EFI_SUCCESS;
}

static EFI_STATUS allocate_hv_memory(struct boot_info *bi)
{
    struct mem_plan plan;
    if (mem_plan_for(bi->cfg.frames, bi->cfg.swap != CONFIG_SWAP_NONE, &plan) < 0) {
        say(LOG_ERROR, "frames: %llu bytes is not a positive 4K multiple",
            (unsigned long long)bi->cfg.frames);
        return EFI_INVALID_PARAMETER;
    }
    bi->pool_meta_size = plan.frame_meta;
    EFI_STATUS st = alloc_pages(bi->pool_meta_size, PAGE_SIZE, &bi->pool_meta_base);
    if (EFI_ERROR(st)) {
        say(LOG_ERROR, "cannot allocate %llu KiB for the frame descriptors (%s); lower "
                       "'frames' in %s",
            (unsigned long long)(bi->pool_meta_size >> 10), efi_status_name(st),
            CONFIG_FILE_NAME);
        return st;
    }
    bi->stack_size = HV_STACK_SIZE;
    st = alloc_pages(bi->stack_size, PAGE_SIZE, &bi->stack_base);
    if (EFI_ERROR(st)) {
        say(LOG_ERROR, "cannot allocate the hypervisor stack (%s)", efi_status_name(st));
        return st;
    }
    bi->heap_size = plan.heap;
    st = alloc_pages(bi->heap_size, PAGE_SIZE, &bi->heap_base);
    if (EFI_ERROR(st)) {
        say(LOG_ERROR, "cannot allocate the hypervisor heap (%llu KiB: %s)",
            (unsigned long long)(bi->heap_size >> 10), efi_status_name(st));
        return st;
    }
    struct memmap_summary s;
    memmap_summarize(&bi->memmap, &s);
    bi->pt_size = paging_tables_bytes(s.top, bi->cpu.page1gb);
    st = alloc_pages(bi->pt_size, PAGE_SIZE, &bi->pt_base);
    if (EFI_ERROR(st)) {
        say(LOG_ERROR, "cannot allocate %llu KiB for page tables (%s)",
            (unsigned long long)(bi->pt_size >> 10), efi_status_name(st));
        return st;
    }
    st = allocate_frames(bi, &plan);
    if (EFI_ERROR(st))
        return st;
    pv_info("allocated frame pool %zu frames in %u range(s), descriptors %llu KiB at 0x%llx, "
            "heap %llu KiB, stack at 0x%llx, page tables %llu KiB",
            plan.pool_frames, bi->pool_nranges, (unsigned long long)(bi->pool_meta_size >> 10),
            (unsigned long long)bi->pool_meta_base, (unsigned long long)(bi->heap_size >> 10),
            (unsigned long long)bi->stack_base, (unsigned long long)(bi->pt_size >> 10));
    return EFI_SUCCESS;
}

/* Everything that may fail, before ExitBootServices. */
static EFI_STATUS prepare(EFI_HANDLE image, struct boot_info **out)
{
    uint64_t bi_addr;
    EFI_STATUS st = alloc_pages(sizeof(struct boot_info), PAGE_SIZE, &bi_addr);
    if (EFI_ERROR(st)) {
        say(LOG_ERROR, "cannot allocate boot information (%s)", efi_status_name(st));
        return st;
    }
    struct boot_info *bi = (struct boot_info *)(uintptr_t)bi_addr;
    memset(bi, 0, sizeof(*bi));
    bi->magic = BOOT_INFO_MAGIC;
    bi->memmap.r = bi->ranges;
    bi->memmap.cap = BOOT_MEMMAP_MAX;

    struct esp esp;
    st = esp_open(image, &esp);
    if (EFI_ERROR(st)) {
        say(LOG_ERROR, "cannot open the volume pagevisor.efi was loaded from (%s)",
            efi_status_name(st));
        return st;
    }
    bi->image_base = esp.image_base;
    bi->image_size = esp.image_size;
    pv_info("loaded at 0x%llx (%llu KiB)", (unsigned long long)bi->image_base,
            (unsigned long long)(bi->image_size >> 10));

    st = load_config(&esp, &bi->cfg);
    if (!EFI_ERROR(st)) {
        serial_init(bi->cfg.console_port);
        pv_log_set_level(bi->cfg.log_level);
        config_describe(&bi->cfg, log_line, NULL);
        st = check_cpu(bi);
    }
    if (!EFI_ERROR(st) && config_has_guest(&bi->cfg)) {
        st = stage(&esp, &bi->cfg, CONFIG_KEY_LINUX, bi->cfg.linux_path, &bi->kernel);
        if (!EFI_ERROR(st) && bi->cfg.initrd_path[0])
            st = stage(&esp, &bi->cfg, CONFIG_KEY_INITRD, bi->cfg.initrd_path, &bi->initrd);
    } else if (!EFI_ERROR(st)) {
        pv_info("no guest configured (no 'linux' key in %s)", CONFIG_FILE_NAME);
    }
    esp_close(&esp);
    if (EFI_ERROR(st))
        return st;

    st = memmap_snapshot(&bi->memmap);
    if (EFI_ERROR(st)) {
        say(LOG_ERROR, "cannot read the UEFI memory map (%s)", efi_status_name(st));
        return st;
    }
    struct memmap_summary sum;
    char line[400];
    memmap_summarize(&bi->memmap, &sum);
    memmap_summary_format(&sum, line, sizeof(line));
    pv_info("%s", line);

    bi->acpi_rsdp = find_rsdp();
    if (bi->acpi_rsdp)
        pv_info("acpi rsdp at 0x%llx", (unsigned long long)bi->acpi_rsdp);
    else
        pv_warn("acpi: the firmware published no RSDP");

    st = allocate_hv_memory(bi);
    if (EFI_ERROR(st))
        return st;
    *out = bi;
    return EFI_SUCCESS;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab);

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
    serial_init(COM1_PORT);
    g_st = systab;
    g_bs = systab->BootServices;
    say(LOG_INFO, "pagevisor %s starting (UEFI front end)", PV_VERSION);
    /* The firmware's 5-minute watchdog would reset a slow emulator. */
    uefi_call_wrapper(g_bs->SetWatchdogTimer, 4, 0, 0, 0, NULL);

    struct boot_info *bi = NULL;
    EFI_STATUS st = prepare(image, &bi);
    if (EFI_ERROR(st)) {
        alloc_release_all();
        say(LOG_ERROR, "not started; returning to the firmware (status 0x%llx)",
            (unsigned long long)st);
        return st;
    }

    pv_info("exiting boot services");
    st = exit_boot_services(image, bi);
    if (EFI_ERROR(st)) {
        /* Boot services may be half torn down: nothing safe to return to. */
        pv_err("ExitBootServices failed (0x%llx); halting", (unsigned long long)st);
        for (;;)
            __asm__ volatile("cli; hlt");
    }
    hv_enter(bi, bi->stack_base + bi->stack_size, hv_main);
}
