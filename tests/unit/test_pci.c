/* Unit tests for vmm/pci.c over a fake configuration space. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/unit/test_pci_fake.h"
#include "vmm/drivers/pci.h"

static int setup(void **state)
{
    (void)state;
    fake_pci_install();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    pci_set_cfg_ops(NULL);
    return 0;
}

static void test_decode_io(void **state)
{
    (void)state;
    struct pci_bar b;
    pci_bar_decode(0xC041, 0, 0xFFFFFFE1, 0, &b);
    assert_true(b.io);
    assert_int_equal(b.base, 0xC040);
    assert_int_equal(b.size, 0x20);
    /* Upper 16 bits hardwired to zero: still a 32-byte window. */
    pci_bar_decode(0xC041, 0, 0x0000FFE1, 0, &b);
    assert_int_equal(b.size, 0x20);
}

static void test_decode_mem32(void **state)
{
    (void)state;
    struct pci_bar b;
    pci_bar_decode(0xC1011000, 0, 0xFFFFF000, 0, &b);
    assert_false(b.io);
    assert_false(b.is64);
    assert_false(b.prefetch);
    assert_int_equal(b.base, 0xC1011000);
    assert_int_equal(b.size, 0x1000);
}

static void test_decode_mem64_prefetch(void **state)
{
    (void)state;
    struct pci_bar b;
    /* QEMU/OVMF's virtio modern BAR: 16 KiB at 0xE000000000. */
    pci_bar_decode(0x0000000C, 0xE0, 0xFFFFC00C, 0xFFFFFFFF, &b);
    assert_true(b.is64);
    assert_true(b.prefetch);
    assert_int_equal(b.base, 0xE000000000ull);
    assert_int_equal(b.size, 0x4000);
    /* A 64-bit BAR larger than 4 GiB. */
    pci_bar_decode(0x0000000C, 0x10, 0x0000000C, 0xFFFFFFFE, &b);
    assert_int_equal(b.size, 0x200000000ull);
    assert_int_equal(b.base, 0x1000000000ull);
}

static void test_decode_unimplemented(void **state)
{
    (void)state;
    struct pci_bar b;
    pci_bar_decode(0, 0, 0, 0, &b);
    assert_int_equal(b.size, 0);
    assert_int_equal(b.base, 0);
}

static void test_enumerate_bus0_multifunction_and_bridge(void **state)
{
    (void)state;
    fake_add(0, 0, 0, 0x8086, 0x29C0, 0x06, 0x00, 0, 0);
    fake_add(0, 2, 0, 0x1AF4, 0x1042, 0x01, 0x00, 0, 0);
    /* 00:1f is multifunction: .0 ISA bridge, .2 SATA, .3 SMBus. */
    fake_add(0, 0x1F, 0, 0x8086, 0x2918, 0x06, 0x01, 0, PCI_HEADER_MULTIFUNCTION);
    fake_add(0, 0x1F, 2, 0x8086, 0x2922, 0x01, 0x06, 0x01, 0);
    fake_add(0, 0x1F, 3, 0x8086, 0x2930, 0x0C, 0x05, 0, 0);
    /* A root port at 00:1c.0 with secondary bus 3 holding one device. */
    struct fake_fn *br = fake_add(0, 0x1C, 0, 0x1B36, 0x000C, 0x06, 0x04, 0, PCI_HEADER_BRIDGE);
    br->cfg[PCI_BRIDGE_SECONDARY_BUS] = 3;
    fake_add(3, 0, 0, 0x1AF4, 0x1042, 0x01, 0x00, 0, 0);
    /* Function 1 of a single-function device must not be scanned. */
    fake_add(0, 2, 1, 0x1234, 0x5678, 0x01, 0x00, 0, 0);

    struct pci_func f[16];
    size_t n = pci_enumerate(f, 16);
    assert_int_equal(n, 7);
    assert_int_equal(f[0].addr.dev, 0);
    assert_int_equal(f[1].addr.dev, 2);
    assert_int_equal(f[1].vendor, 0x1AF4);
    assert_int_equal(f[1].device, 0x1042);
    assert_int_equal(f[1].class_code, 0x01);
    /* the bridge, then its secondary bus, then the rest of bus 0 */
    assert_int_equal(f[2].addr.dev, 0x1C);
    assert_int_equal(f[3].addr.bus, 3);
    assert_int_equal(f[4].addr.dev, 0x1F);
    assert_int_equal(f[5].addr.fn, 2);
    assert_int_equal(f[5].prog_if, 0x01);
    assert_int_equal(f[6].addr.fn, 3);

    /* A small output array still counts everything. */
    assert_int_equal(pci_enumerate(f, 2), 7);
}

static void test_find_by_ids_and_class(void **state)
{
    (void)state;
    fake_add(0, 0, 0, 0x8086, 0x29C0, 0x06, 0x00, 0, 0);
    fake_add(0, 2, 0, 0x1AF4, 0x1041, 0x02, 0x00, 0, 0);
    fake_add(0, 3, 0, 0x1AF4, 0x1042, 0x01, 0x00, 0, 0);
    struct fake_fn *br = fake_add(0, 4, 0, 0x1B36, 0x000C, 0x06, 0x04, 0, PCI_HEADER_BRIDGE);
    br->cfg[PCI_BRIDGE_SECONDARY_BUS] = 1;
    fake_add(1, 0, 0, 0x1AF4, 0x1042, 0x01, 0x00, 0, 0);
    struct pci_func f[4];
    struct pci_match blk = { 0x1AF4, 0x1042, PCI_MATCH_ANY, PCI_MATCH_ANY };
    assert_int_equal(pci_find(&blk, f, 4), 2);
    assert_int_equal(f[0].addr.dev, 3);
    assert_int_equal(f[1].addr.bus, 1);   /* behind the bridge */
    struct pci_match bridges = { PCI_MATCH_ANY, PCI_MATCH_ANY, 0x06, PCI_MATCH_ANY };
    assert_int_equal(pci_find(&bridges, f, 4), 2);
    struct pci_match none = { 0x1AF4, 0x1042, 0x02, PCI_MATCH_ANY };
    assert_int_equal(pci_find(&none, f, 4), 0);
    /* class 0 is a real class: PCI_MATCH_ANY is not 0 */
    struct pci_match cls0 = { PCI_MATCH_ANY, PCI_MATCH_ANY, 0x00, PCI_MATCH_ANY };
    assert_int_equal(pci_find(&cls0, f, 4), 0);
}

static void test_enumerate_bridge_loop(void **state)
{
    (void)state;
    /* A bridge whose secondary bus is its own bus must not recurse forever. */
    struct fake_fn *br = fake_add(0, 1, 0, 0x1B36, 0x000C, 0x06, 0x04, 0, PCI_HEADER_BRIDGE);
    br->cfg[PCI_BRIDGE_SECONDARY_BUS] = 0;
    struct fake_fn *br2 = fake_add(0, 2, 0, 0x1B36, 0x000C, 0x06, 0x04, 0, PCI_HEADER_BRIDGE);
    br2->cfg[PCI_BRIDGE_SECONDARY_BUS] = 5;
    struct fake_fn *br3 = fake_add(5, 0, 0, 0x1B36, 0x000C, 0x06, 0x04, 0, PCI_HEADER_BRIDGE);
    br3->cfg[PCI_BRIDGE_SECONDARY_BUS] = 5;
    struct pci_func f[8];
    assert_int_equal(pci_enumerate(f, 8), 3);
}

static void test_bar_probe_sizes_and_restores(void **state)
{
    (void)state;
    struct fake_fn *fn = fake_add(0, 4, 0, 0x1AF4, 0x1042, 0x01, 0x00, 0, 0);
    fake_bar32(fn, 0, 0xC001, 0x40);                       /* I/O */
    fake_bar32(fn, 1, 0xC1011000, 0x1000);                 /* mem32 */
    fake_bar64(fn, 4, 0xE000000000ull | PCI_BAR_MEM_PREFETCH, 0x4000);
    uint16_t cmd = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
    fake_put(&fn->cfg[PCI_COMMAND], 2, cmd);

    struct pci_bar b;
    assert_int_equal(pci_bar_probe(fn->a, 0, &b), 1);
    assert_true(b.io);
    assert_int_equal(b.base, 0xC000);
    assert_int_equal(b.size, 0x40);
    assert_int_equal(pci_bar_probe(fn->a, 1, &b), 1);
    assert_int_equal(b.base, 0xC1011000);
    assert_int_equal(b.size, 0x1000);
    assert_int_equal(pci_bar_probe(fn->a, 4, &b), 2);
    assert_true(b.is64 && b.prefetch);
    assert_int_equal(b.base, 0xE000000000ull);
    assert_int_equal(b.size, 0x4000);
    /* not implemented */
    assert_int_equal(pci_bar_probe(fn->a, 2, &b), 1);
    assert_int_equal(b.size, 0);
    /* out of range */
    assert_int_equal(pci_bar_probe(fn->a, 6, &b), 0);

    /* Everything restored: BARs and the command register. */
    assert_int_equal(fake_get(&fn->cfg[PCI_BAR0], 4), 0xC001);
    assert_int_equal(fake_get(&fn->cfg[PCI_BAR0 + 4], 4), 0xC1011000);
    assert_int_equal(fake_get(&fn->cfg[PCI_BAR0 + 16], 4), 0x0000000C);
    assert_int_equal(fake_get(&fn->cfg[PCI_BAR0 + 20], 4), 0xE0);
    assert_int_equal(fake_get(&fn->cfg[PCI_COMMAND], 2), cmd);
}

static void test_bar64_in_last_slot_is_refused(void **state)
{
    (void)state;
    struct fake_fn *fn = fake_add(0, 4, 0, 0x1AF4, 0x1042, 0x01, 0x00, 0, 0);
    fake_put(&fn->cfg[PCI_BAR0 + 20], 4, PCI_BAR_MEM_TYPE_64);
    struct pci_bar b;
    assert_int_equal(pci_bar_probe(fn->a, 5, &b), 0);
    assert_int_equal(fn->writes, 0);
}

static void test_cap_walk(void **state)
{
    (void)state;
    struct fake_fn *fn = fake_add(0, 4, 0, 0x1AF4, 0x1042, 0x01, 0x00, 0, 0);
    uint8_t body[14] = { 0 };
    uint8_t msix = fake_add_cap(fn, 0x11, body, 10);
    uint8_t v1 = fake_add_cap(fn, PCI_CAP_ID_VENDOR, body, 14);
    uint8_t pm = fake_add_cap(fn, 0x01, body, 6);
    uint8_t v2 = fake_add_cap(fn, PCI_CAP_ID_VENDOR, body, 14);
    assert_int_equal(pci_cap_next(fn->a, 0x11, 0), msix);
    assert_int_equal(pci_cap_next(fn->a, PCI_CAP_ID_VENDOR, 0), v1);
    assert_int_equal(pci_cap_next(fn->a, PCI_CAP_ID_VENDOR, v1), v2);
    assert_int_equal(pci_cap_next(fn->a, PCI_CAP_ID_VENDOR, v2), 0);
    assert_int_equal(pci_cap_next(fn->a, 0x01, 0), pm);
    assert_int_equal(pci_cap_next(fn->a, 0x05, 0), 0);

    /* No capability list bit: nothing, whatever the pointer says. */
    fake_put(&fn->cfg[PCI_STATUS], 2, 0);
    assert_int_equal(pci_cap_next(fn->a, 0x11, 0), 0);
}

static void test_cap_walk_survives_loops(void **state)
{
    (void)state;
    struct fake_fn *fn = fake_add(0, 4, 0, 0x1AF4, 0x1042, 0x01, 0x00, 0, 0);
    uint8_t body[2] = { 0 };
    uint8_t a = fake_add_cap(fn, 0x11, body, 2);
    uint8_t b = fake_add_cap(fn, 0x05, body, 2);
    fn->cfg[b + 1] = a;   /* b -> a -> b -> ... */
    unsigned before = fake_reads;
    assert_int_equal(pci_cap_next(fn->a, PCI_CAP_ID_VENDOR, 0), 0);
    assert_true(fake_reads - before < 200);
    /* A pointer into the header ends the walk. */
    fn->cfg[b + 1] = 0x10;
    assert_int_equal(pci_cap_next(fn->a, PCI_CAP_ID_VENDOR, 0), 0);
}

static void test_enable_sets_bits_and_disables_intx(void **state)
{
    (void)state;
    struct fake_fn *fn = fake_add(0, 4, 0, 0x1AF4, 0x1042, 0x01, 0x00, 0, 0);
    fake_put(&fn->cfg[PCI_COMMAND], 2, PCI_COMMAND_IO);
    pci_enable(fn->a, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    assert_int_equal(fake_get(&fn->cfg[PCI_COMMAND], 2),
                     PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
                         PCI_COMMAND_INTX_DISABLE);
}

static void test_addr_format_and_unreachable(void **state)
{
    (void)state;
    char buf[32];
    pci_addr_format((struct pci_addr){ 0, 0, 4, 0 }, buf, sizeof(buf));
    assert_string_equal(buf, "00:04.0");
    pci_addr_format((struct pci_addr){ 1, 0x12, 0x1F, 7 }, buf, sizeof(buf));
    assert_string_equal(buf, "0001:12:1f.7");
    /* Segments other than 0 are not reachable through the ports. */
    fake_add(0, 4, 0, 0x1AF4, 0x1042, 0x01, 0x00, 0, 0);
    assert_int_equal(pci_read16((struct pci_addr){ 0, 0, 4, 0 }, PCI_VENDOR_ID), 0x1AF4);
    assert_int_equal(pci_read16((struct pci_addr){ 1, 0, 4, 0 }, PCI_VENDOR_ID), 0xFFFF);
    struct pci_func f;
    assert_false(pci_func_read((struct pci_addr){ 0, 0, 5, 0 }, &f));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_decode_io, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decode_mem32, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decode_mem64_prefetch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decode_unimplemented, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enumerate_bus0_multifunction_and_bridge, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_find_by_ids_and_class, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enumerate_bridge_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bar_probe_sizes_and_restores, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bar64_in_last_slot_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cap_walk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cap_walk_survives_loops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enable_sets_bits_and_disables_intx, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_addr_format_and_unreachable, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
