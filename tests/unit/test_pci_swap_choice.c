/* Unit tests for the swap device choice rules (swap/probe.c): which PCI
 * function or ATA position each `swap` value takes, the messages when
 * nothing fits, and the CRC used by the self-check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vmm/lib/types.h"
#include "vmm/drivers/probe.h"
#include "tests/unit/test_pci_fake.h"

static struct pv_config cfg_for(enum config_swap s)
{
    struct pv_config c;
    memset(&c, 0, sizeof(c));
    c.swap = s;
    return c;
}

static struct pci_func fn(uint8_t bus, uint8_t dev, uint16_t vendor, uint16_t device, uint8_t cls,
                          uint8_t sub)
{
    struct pci_func f;
    memset(&f, 0, sizeof(f));
    f.addr = (struct pci_addr){ 0, bus, dev, 0 };
    f.vendor = vendor;
    f.device = device;
    f.class_code = cls;
    f.subclass = sub;
    return f;
}

/* A q35-like machine: host bridge, VGA, virtio-net, AHCI, two virtio-blk. */
static struct pci_func q35[6];

static int setup(void **state)
{
    (void)state;
    q35[0] = fn(0, 0, 0x8086, 0x29C0, 0x06, 0x00);
    q35[1] = fn(0, 1, 0x1234, 0x1111, 0x03, 0x00);
    q35[2] = fn(0, 2, VIRTIO_PCI_VENDOR, 0x1041, 0x02, 0x00);   /* virtio-net */
    q35[3] = fn(0, 3, 0x8086, 0x2922, 0x01, 0x06);              /* AHCI */
    q35[4] = fn(0, 4, VIRTIO_PCI_VENDOR, 0x1042, 0x01, 0x00);
    q35[5] = fn(0, 5, VIRTIO_PCI_VENDOR, 0x1042, 0x01, 0x00);
    return 0;
}

static void test_virtio_takes_the_first_virtio_blk(void **state)
{
    (void)state;
    struct pv_config c = cfg_for(CONFIG_SWAP_VIRTIO);
    struct swap_choice ch;
    char err[160] = "";
    assert_int_equal(swap_pick_pci(&c, q35, 6, &ch, err, sizeof(err)), 1);
    assert_int_equal(ch.kind, SWAP_DEV_VIRTIO);
    assert_int_equal(ch.pci.dev, 4);
    /* auto prefers virtio too */
    c = cfg_for(CONFIG_SWAP_AUTO);
    assert_int_equal(swap_pick_pci(&c, q35, 6, &ch, err, sizeof(err)), 1);
    assert_int_equal(ch.pci.dev, 4);
    /* a transitional virtio-blk counts (its capabilities decide later) */
    struct pci_func t[2] = { q35[2], fn(0, 7, VIRTIO_PCI_VENDOR, 0x1001, 0x01, 0x00) };
    c = cfg_for(CONFIG_SWAP_VIRTIO);
    assert_int_equal(swap_pick_pci(&c, t, 2, &ch, err, sizeof(err)), 1);
    assert_int_equal(ch.pci.dev, 7);
}

static void test_no_virtio_blk(void **state)
{
    (void)state;
    struct swap_choice ch;
    char err[160] = "";
    struct pv_config c = cfg_for(CONFIG_SWAP_VIRTIO);
    assert_int_equal(swap_pick_pci(&c, q35, 4, &ch, err, sizeof(err)), 0);
    c = cfg_for(CONFIG_SWAP_AUTO);
    assert_int_equal(swap_pick_pci(&c, q35, 4, &ch, err, sizeof(err)), 0);
    /* ata never takes a PCI function, even with virtio disks present */
    c = cfg_for(CONFIG_SWAP_ATA);
    assert_int_equal(swap_pick_pci(&c, q35, 6, &ch, err, sizeof(err)), 0);
}

static void test_pci_address(void **state)
{
    (void)state;
    struct swap_choice ch;
    char err[160] = "";
    struct pv_config c = cfg_for(CONFIG_SWAP_PCI);
    c.swap_dev = 5;
    assert_int_equal(swap_pick_pci(&c, q35, 6, &ch, err, sizeof(err)), 1);
    assert_int_equal(ch.kind, SWAP_DEV_VIRTIO);
    assert_int_equal(ch.pci.dev, 5);

    struct pci_func piix[2] = { q35[0], fn(0, 1, 0x8086, 0x7010, 0x01, 0x01) };
    piix[1].addr.fn = 1;
    c.swap_dev = 1;
    c.swap_fn = 1;
    assert_int_equal(swap_pick_pci(&c, piix, 2, &ch, err, sizeof(err)), 1);
    assert_int_equal(ch.kind, SWAP_DEV_ATA);

    c.swap_dev = 3;
    c.swap_fn = 0;
    assert_int_equal(swap_pick_pci(&c, q35, 6, &ch, err, sizeof(err)), -PV_EINVAL);
    assert_string_equal(err, "swap 00:03.0: 8086:2922 (class 01/06) is neither a virtio-blk "
                             "device nor an IDE controller");
    c.swap_dev = 9;
    assert_int_equal(swap_pick_pci(&c, q35, 6, &ch, err, sizeof(err)), -PV_ENOENT);
    assert_string_equal(err, "swap 00:09.0: no PCI function at that address");
    c.swap_segment = 1;
    c.swap_dev = 4;
    assert_int_equal(swap_pick_pci(&c, q35, 6, &ch, err, sizeof(err)), -PV_ENOENT);
    assert_non_null(strstr(err, "0001:00:04.0"));
    assert_non_null(strstr(err, "only segment 0"));
}

static void test_ata_positions_skip_the_boot_disk(void **state)
{
    (void)state;
    const uint16_t io[2] = { ATA_PRIMARY_IO, ATA_SECONDARY_IO };
    const uint16_t ctrl[2] = { ATA_PRIMARY_CTRL, ATA_SECONDARY_CTRL };
    struct swap_choice p[SWAP_ATA_POSITIONS];
    swap_ata_positions(io, ctrl, p);
    assert_int_equal(p[0].channel, 0);
    assert_true(p[0].slave);
    assert_int_equal(p[0].io, 0x1F0);
    assert_int_equal(p[0].ctrl, 0x3F6);
    assert_int_equal(p[1].channel, 1);
    assert_false(p[1].slave);
    assert_int_equal(p[1].io, 0x170);
    assert_int_equal(p[1].ctrl, 0x376);
    assert_int_equal(p[2].channel, 1);
    assert_true(p[2].slave);
    for (unsigned i = 0; i < SWAP_ATA_POSITIONS; i++)
        assert_false(p[i].channel == 0 && !p[i].slave);
}

static void test_crc32(void **state)
{
    (void)state;
    assert_int_equal(swap_crc32(0, "123456789", 9), 0xCBF43926u);
    assert_int_equal(swap_crc32(0, "", 0), 0);
    uint32_t part = swap_crc32(0, "1234", 4);
    assert_int_equal(swap_crc32(part, "56789", 5), 0xCBF43926u);
}

static void test_probe_names_the_missing_device(void **state)
{
    (void)state;
    fake_pci_install();
    fake_add(0, 0, 0, 0x8086, 0x29C0, 0x06, 0x00, 0, 0);
    fake_add(0, 2, 0, VIRTIO_PCI_VENDOR, 0x1041, 0x02, 0x00, 0, 0);
    struct pv_config c = cfg_for(CONFIG_SWAP_VIRTIO);
    static struct swap_probe p;
    char err[200] = "";
    assert_int_equal(swap_probe(&c, &p, err, sizeof(err)), -PV_ENOENT);
    assert_non_null(strstr(err, "swap virtio: no virtio-blk device"));
    assert_non_null(strstr(err, "disable-legacy=on"));
    c = cfg_for(CONFIG_SWAP_PCI);
    c.swap_dev = 2;
    assert_int_equal(swap_probe(&c, &p, err, sizeof(err)), -PV_EINVAL);
    assert_non_null(strstr(err, "swap 00:02.0: 1af4:1041"));
    pci_set_cfg_ops(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_virtio_takes_the_first_virtio_blk, setup),
        cmocka_unit_test_setup(test_no_virtio_blk, setup),
        cmocka_unit_test_setup(test_pci_address, setup),
        cmocka_unit_test(test_ata_positions_skip_the_boot_disk),
        cmocka_unit_test(test_crc32),
        cmocka_unit_test(test_probe_names_the_missing_device),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
