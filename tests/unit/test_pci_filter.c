/*
 * Unit tests for the guest's view of PCI configuration space
 * (vmm/pci_filter.c): over a fake host configuration space, only host and
 * ISA bridges answer; every other function — the swap disk, storage
 * controllers, PCI-to-PCI bridges — reads as absent; configuration writes
 * never reach the host; a reset request on 0xCF9 stops the guest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/unit/blk_file.h"
#include "tests/unit/host_log.h"
#include "tests/unit/mm_env.h"
#include "tests/unit/test_pci_fake.h"
#include "tests/unit/vcpu_fake.h"
#include "vmm/io_policy.h"
#include "vmm/power.h"
#include "vmm/vdev/vpci.h"

#define ENABLE (1u << 31)
#define RIP 0x1000

static uint32_t cfg_address(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t reg)
{
    return ENABLE | (uint32_t)bus << 16 | (uint32_t)dev << 11 | (uint32_t)fn << 8 | reg;
}

static struct fake_vcpu cpu;
static struct fake_fn *host;

/* A q35-like machine: host bridge, ISA bridge, IDE controller, a virtio
 * disk (the swap disk), a PCI-to-PCI bridge, and a host bridge on bus 2. */
static int setup(void **state)
{
    (void)state;
    fake_pci_install();
    host = fake_add(0, 0, 0, 0x8086, 0x29c0, PCI_CLASS_BRIDGE, PCI_SUBCLASS_HOST_BRIDGE, 0, 0);
    struct fake_fn *isa = fake_add(0, 31, 0, 0x8086, 0x2918, PCI_CLASS_BRIDGE,
                                   PCI_SUBCLASS_ISA_BRIDGE, 0, PCI_HEADER_MULTIFUNCTION);
    struct fake_fn *ide = fake_add(0, 31, 1, 0x8086, 0x2922, PCI_CLASS_STORAGE,
                                   PCI_SUBCLASS_IDE, 0x8a, 0);
    struct fake_fn *disk = fake_add(0, 4, 0, 0x1af4, 0x1001, PCI_CLASS_STORAGE, 0x00, 0, 0);
    struct fake_fn *p2p = fake_add(0, 30, 0, 0x8086, 0x244e, PCI_CLASS_BRIDGE,
                                   PCI_SUBCLASS_PCI_BRIDGE, 0, PCI_HEADER_BRIDGE);
    struct fake_fn *far_host = fake_add(2, 3, 5, 0x1022, 0x1450, PCI_CLASS_BRIDGE,
                                        PCI_SUBCLASS_HOST_BRIDGE, 0, 0);
    assert_true(host && isa && ide && disk && p2p && far_host);
    host->cfg[PCI_REVISION] = 0x02;
    fake_vcpu_init(&cpu, RIP);
    host_log_clear();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pci_set_cfg_ops(NULL);
    return 0;
}

static uint32_t guest_read(uint32_t addr, uint16_t port, uint8_t size)
{
    pci_filter_out(&cpu.v, PCI_CONFIG_ADDRESS, 4, addr);
    return pci_filter_in(port, size);
}

static void test_config_address_is_shadowed(void **state)
{
    (void)state;
    pci_filter_out(&cpu.v, PCI_CONFIG_ADDRESS, 4, 0x8000F8FCu);
    assert_int_equal(pci_filter_in(PCI_CONFIG_ADDRESS, 4), 0x8000F8FCu);
    pci_filter_out(&cpu.v, PCI_CONFIG_ADDRESS, 4, 0x12345678u);
    assert_int_equal(pci_filter_in(PCI_CONFIG_ADDRESS, 4), 0x12345678u);
    /* the host's configuration space saw nothing */
    assert_int_equal(fake_reads, 0);
    for (struct fake_fn *f = fake_fns; f < fake_fns + FAKE_FUNCS; f++)
        assert_int_equal(f->writes, 0);
    assert_false(cpu.v.stopped);
}

static void test_bridges_visible(void **state)
{
    (void)state;
    /* vendor/device as a dword, then byte and word views of it */
    assert_int_equal(guest_read(cfg_address(0, 0, 0, PCI_VENDOR_ID), PCI_CONFIG_DATA, 4),
                     0x29c08086u);
    assert_int_equal(pci_filter_in(PCI_CONFIG_DATA + 1, 1), 0x80);
    assert_int_equal(pci_filter_in(PCI_CONFIG_DATA + 2, 2), 0x29c0);
    assert_int_equal(pci_filter_in(PCI_CONFIG_DATA + 3, 1), 0x29);
    /* the class dword: revision 02, class 06/00 */
    assert_int_equal(guest_read(cfg_address(0, 0, 0, PCI_REVISION), PCI_CONFIG_DATA, 4),
                     0x06000002u);
    /* CONFIG_ADDRESS bits 1:0 do not select a byte: the data port does */
    assert_int_equal(guest_read(cfg_address(0, 0, 0, PCI_REVISION) | 3, PCI_CONFIG_DATA + 3, 1),
                     PCI_CLASS_BRIDGE);
    /* the ISA bridge, function 0 of a multi-function device */
    assert_int_equal(guest_read(cfg_address(0, 31, 0, PCI_VENDOR_ID), PCI_CONFIG_DATA, 4),
                     0x29188086u);
    assert_int_equal(guest_read(cfg_address(0, 31, 0, PCI_HEADER_TYPE & ~3u),
                                PCI_CONFIG_DATA + 2, 1),
                     PCI_HEADER_MULTIFUNCTION);
    /* bus, device and function all come from CONFIG_ADDRESS */
    assert_int_equal(guest_read(cfg_address(2, 3, 5, PCI_VENDOR_ID), PCI_CONFIG_DATA, 4),
                     0x14501022u);
}

static void test_other_functions_hidden(void **state)
{
    (void)state;
    static const struct {
        uint8_t bus, dev, fn;
    } hidden[] = {
        { 0, 31, 1 },  /* IDE controller: the ESP and swap disks are pagevisor's */
        { 0, 4, 0 },   /* virtio disk */
        { 0, 30, 0 },  /* PCI-to-PCI bridge: would lead to DMA-capable devices */
        { 0, 5, 0 },   /* nothing there */
        { 2, 3, 4 },   /* nothing there, next to a visible function */
    };
    for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++) {
        uint32_t a = cfg_address(hidden[i].bus, hidden[i].dev, hidden[i].fn, PCI_VENDOR_ID);
        assert_int_equal(guest_read(a, PCI_CONFIG_DATA, 4), 0xFFFFFFFFu);
        assert_int_equal(guest_read(a, PCI_CONFIG_DATA + 2, 2), 0xFFFFu);
        assert_int_equal(guest_read(a, PCI_CONFIG_DATA + 1, 1), 0xFFu);
        assert_int_equal(guest_read(a | PCI_BAR0, PCI_CONFIG_DATA, 4), 0xFFFFFFFFu);
    }
}

static void test_disabled_or_odd_ports_read_ones(void **state)
{
    (void)state;
    /* enable bit clear: nothing is read from the host */
    unsigned before = fake_reads;
    assert_int_equal(guest_read(cfg_address(0, 0, 0, 0) & ~ENABLE, PCI_CONFIG_DATA, 4),
                     0xFFFFFFFFu);
    assert_int_equal(fake_reads, before);
    /* 0xCF8 is a dword register; 0xCFA-0xCFB are not registers at all */
    pci_filter_out(&cpu.v, PCI_CONFIG_ADDRESS, 4, cfg_address(0, 0, 0, 0));
    assert_int_equal(pci_filter_in(PCI_CONFIG_ADDRESS, 1), 0xFF);
    assert_int_equal(pci_filter_in(PCI_CONFIG_ADDRESS, 2), 0xFFFF);
    assert_int_equal(pci_filter_in(PCI_CONFIG_ADDRESS + 2, 2), 0xFFFF);
    assert_int_equal(pci_filter_in(PCI_CONFIG_ADDRESS + 3, 1), 0xFF);
    assert_int_equal(fake_reads, before);
}

static void test_writes_dropped(void **state)
{
    (void)state;
    uint8_t saved[PCI_CFG_SIZE];
    memcpy(saved, host->cfg, sizeof(saved));
    /* a guest trying to turn on bus mastering, and to move a BAR */
    pci_filter_out(&cpu.v, PCI_CONFIG_ADDRESS, 4, cfg_address(0, 0, 0, PCI_COMMAND));
    pci_filter_out(&cpu.v, PCI_CONFIG_DATA, 2, PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY);
    pci_filter_out(&cpu.v, PCI_CONFIG_ADDRESS, 4, cfg_address(0, 4, 0, PCI_BAR0));
    pci_filter_out(&cpu.v, PCI_CONFIG_DATA, 4, 0xFFFFFFFFu);
    assert_memory_equal(host->cfg, saved, sizeof(saved));
    for (struct fake_fn *f = fake_fns; f < fake_fns + FAKE_FUNCS; f++)
        assert_int_equal(f->writes, 0);
    assert_true(host_log_contains("dropped guest config write"));
    assert_false(cpu.v.stopped);
}

static void test_reset_request_stops_guest(void **state)
{
    (void)state;
    /* bits other than "reset CPU" (bit 2) select the reset kind only */
    pci_filter_out(&cpu.v, PCI_RESET_CONTROL, 1, 0x02);
    assert_false(cpu.v.stopped);
    /* a word write at 0xCF9 is not the reset register */
    pci_filter_out(&cpu.v, PCI_RESET_CONTROL, 2, 0x06);
    assert_false(cpu.v.stopped);
    pci_filter_out(&cpu.v, PCI_RESET_CONTROL, 1, 0x06);
    assert_true(cpu.v.stopped);
    assert_int_equal(cpu.v.stop_status, PV_EXIT_SUCCESS);
    assert_non_null(strstr(cpu.v.stop_reason, "reset (port 0xcf9)"));
}

/* The guest's disk (vmm/vdev/vpci.h): a free slot is one the guest sees
 * empty; once attached, its configuration space answers there, reads and
 * writes, and the host's function at that address is never touched. */
static void no_msi(void *ctx, uint64_t addr, uint32_t data)
{
    (void)ctx; (void)addr; (void)data;
}

static void test_emulated_function(void **state)
{
    (void)state;
    uint8_t dev = 0xff;
    assert_false(pci_filter_free_slot(31, 31, &dev)); /* the ISA bridge is visible */
    assert_true(pci_filter_free_slot(30, 31, &dev));  /* a hidden bridge is free */
    assert_int_equal(dev, 30);
    assert_true(pci_filter_free_slot(1, 31, &dev));
    assert_int_equal(dev, 1);

    struct mm_env *env = mm_env_new(&s2pt_format_npt);
    static uint8_t data[64 * 1024], bounce[VBLK_BOUNCE];
    struct blk_file bf;
    assert_int_equal(blk_file_init(&bf, data, sizeof(data), BLK_FILE_SECTOR, "file"), 0);
    static struct vblk vb;
    static struct vpci vp;
    assert_int_equal(vblk_init(&vb, &bf.dev, false, 512, NULL, bounce), 0);
    assert_int_equal(vpci_init(&vp, &env->mm, &vb, 0, 4, 0, 0xFEB00000u, no_msi, NULL), 0);
    pci_filter_attach((struct pci_addr){ 0, 0, 4, 0 }, &vp);
    /* 00:04.0 now shows the emulated virtio-blk, not the host's transitional one */
    assert_int_equal(guest_read(cfg_address(0, 4, 0, PCI_VENDOR_ID), PCI_CONFIG_DATA, 4),
                     0x10421af4u);
    assert_int_equal(pci_filter_in(PCI_CONFIG_DATA + 2, 2), 0x1042);
    /* BAR sizing and a move through the ports */
    pci_filter_out(&cpu.v, PCI_CONFIG_ADDRESS, 4, cfg_address(0, 4, 0, 0x10));
    pci_filter_out(&cpu.v, PCI_CONFIG_DATA, 4, 0xFFFFFFFFu);
    assert_int_equal(pci_filter_in(PCI_CONFIG_DATA, 4), (uint32_t)~(VPCI_BAR_SIZE - 1));
    pci_filter_out(&cpu.v, PCI_CONFIG_DATA, 4, 0xE0000000u);
    assert_non_null(region_find(&env->mm.regions, 0xE0000000u));
    /* other functions are still filtered, and the host saw no write */
    assert_int_equal(guest_read(cfg_address(0, 5, 0, PCI_VENDOR_ID), PCI_CONFIG_DATA, 4),
                     UINT32_MAX);
    for (struct fake_fn *f = fake_fns; f < fake_fns + FAKE_FUNCS; f++)
        assert_int_equal(f->writes, 0);
    pci_filter_attach((struct pci_addr){ 0, 0, 0, 0 }, NULL);
    mm_env_free(env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_config_address_is_shadowed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bridges_visible, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_functions_hidden, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disabled_or_odd_ports_read_ones, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writes_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_request_stops_guest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_emulated_function, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
