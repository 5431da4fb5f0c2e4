/* Unit tests for the virtio-pci transport's pure parts: capability parsing
 * from a fake configuration space, and feature selection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "vmm/lib/types.h"
#include "vmm/drivers/virtio_blk.h"
#include "vmm/drivers/virtio_pci.h"
#include "tests/unit/test_pci_fake.h"

#define VCAP_BODY 14u        /* struct virtio_pci_cap after id/next */
#define VCAP_NOTIFY_BODY 18u

/* A virtio vendor capability: cap_len, cfg_type, bar, padding, offset, length [, mult]. */
static uint8_t add_vcap(struct fake_fn *f, uint8_t type, uint8_t bar, uint32_t off, uint32_t len,
                        uint8_t cap_len, uint32_t mult)
{
    uint8_t body[VCAP_NOTIFY_BODY] = { 0 };
    body[0] = cap_len;
    body[1] = type;
    body[2] = bar;
    fake_put(&body[6], 4, off);
    fake_put(&body[10], 4, len);
    fake_put(&body[14], 4, mult);
    return fake_add_cap(f, PCI_CAP_ID_VENDOR, body,
                        type == VIRTIO_PCI_CAP_NOTIFY_CFG ? VCAP_NOTIFY_BODY : VCAP_BODY);
}

/* QEMU's modern virtio-blk layout: everything in BAR 4. */
static struct fake_fn *qemu_virtio_blk(void)
{
    struct fake_fn *f = fake_add(0, 4, 0, VIRTIO_PCI_VENDOR, 0x1042, 0x01, 0x00, 0, 0);
    uint8_t msix[10] = { 0 };
    fake_add_cap(f, 0x11, msix, 10);
    add_vcap(f, VIRTIO_PCI_CAP_COMMON_CFG, 4, 0x0000, 0x1000, 16, 0);
    add_vcap(f, VIRTIO_PCI_CAP_ISR_CFG, 4, 0x1000, 0x1000, 16, 0);
    add_vcap(f, VIRTIO_PCI_CAP_DEVICE_CFG, 4, 0x2000, 0x1000, 16, 0);
    add_vcap(f, VIRTIO_PCI_CAP_NOTIFY_CFG, 4, 0x3000, 0x1000, 20, 4);
    add_vcap(f, 5 /* PCI cfg access */, 0, 0, 0, 20, 0);
    return f;
}

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

static void test_caps_qemu_layout(void **state)
{
    (void)state;
    struct fake_fn *f = qemu_virtio_blk();
    struct virtio_pci_caps c;
    assert_int_equal(virtio_pci_find_caps(f->a, &c), 0);
    assert_true(c.common.present && c.notify.present && c.isr.present && c.device.present);
    assert_int_equal(c.common.bar, 4);
    assert_int_equal(c.common.offset, 0);
    assert_int_equal(c.common.length, 0x1000);
    assert_int_equal(c.isr.offset, 0x1000);
    assert_int_equal(c.device.offset, 0x2000);
    assert_int_equal(c.notify.offset, 0x3000);
    assert_int_equal(c.notify_mult, 4);
}

static void test_caps_first_of_a_type_wins_and_bad_ones_are_skipped(void **state)
{
    (void)state;
    struct fake_fn *f = fake_add(0, 5, 0, VIRTIO_PCI_VENDOR, 0x1042, 0x01, 0x00, 0, 0);
    add_vcap(f, VIRTIO_PCI_CAP_COMMON_CFG, 7, 0x0, 0x1000, 16, 0);      /* reserved BAR */
    add_vcap(f, VIRTIO_PCI_CAP_COMMON_CFG, 1, 0x100, 0x38, 12, 0);      /* too short */
    add_vcap(f, VIRTIO_PCI_CAP_COMMON_CFG, 2, 0x200, 0x38, 16, 0);      /* this one */
    add_vcap(f, VIRTIO_PCI_CAP_COMMON_CFG, 3, 0x300, 0x38, 16, 0);      /* later duplicate */
    add_vcap(f, VIRTIO_PCI_CAP_NOTIFY_CFG, 2, 0x400, 0x10, 16, 2);      /* no multiplier field */
    add_vcap(f, VIRTIO_PCI_CAP_NOTIFY_CFG, 2, 0x500, 0x10, 20, 8);
    add_vcap(f, VIRTIO_PCI_CAP_DEVICE_CFG, 2, 0x600, 0x20, 16, 0);
    struct virtio_pci_caps c;
    assert_int_equal(virtio_pci_find_caps(f->a, &c), 0);
    assert_int_equal(c.common.bar, 2);
    assert_int_equal(c.common.offset, 0x200);
    assert_int_equal(c.notify.offset, 0x500);
    assert_int_equal(c.notify_mult, 8);
    assert_false(c.isr.present);
}

static void test_caps_legacy_device_has_none(void **state)
{
    (void)state;
    /* A transitional device with modern capabilities disabled: only MSI-X. */
    struct fake_fn *f = fake_add(0, 4, 0, VIRTIO_PCI_VENDOR, 0x1001, 0x01, 0x00, 0, 0);
    uint8_t msix[10] = { 0 };
    fake_add_cap(f, 0x11, msix, 10);
    struct virtio_pci_caps c;
    assert_int_equal(virtio_pci_find_caps(f->a, &c), -PV_ENOENT);
    /* Missing the device configuration alone is enough to refuse. */
    struct fake_fn *g = fake_add(0, 5, 0, VIRTIO_PCI_VENDOR, 0x1042, 0x01, 0x00, 0, 0);
    add_vcap(g, VIRTIO_PCI_CAP_COMMON_CFG, 4, 0, 0x1000, 16, 0);
    add_vcap(g, VIRTIO_PCI_CAP_NOTIFY_CFG, 4, 0x3000, 0x1000, 20, 4);
    assert_int_equal(virtio_pci_find_caps(g->a, &c), -PV_ENOENT);
}

static void test_features(void **state)
{
    (void)state;
    uint64_t acc = 123;
    uint64_t wanted = VIRTIO_BLK_F_SEG_MAX | VIRTIO_BLK_F_BLK_SIZE | VIRTIO_BLK_F_FLUSH;
    /* legacy: no VERSION_1 */
    assert_int_equal(virtio_features_select(VIRTIO_BLK_F_SEG_MAX | VIRTIO_BLK_F_FLUSH, wanted,
                                            &acc),
                     -PV_EINVAL);
    assert_int_equal(acc, 0);
    /* only what is both offered and wanted, plus VERSION_1 */
    uint64_t offered = VIRTIO_F_VERSION_1 | VIRTIO_BLK_F_SEG_MAX | VIRTIO_BLK_F_FLUSH |
                       (1ull << 28) /* INDIRECT_DESC */ | (1ull << 29) /* EVENT_IDX */;
    assert_int_equal(virtio_features_select(offered, wanted, &acc), 0);
    assert_int_equal(acc, VIRTIO_F_VERSION_1 | VIRTIO_BLK_F_SEG_MAX | VIRTIO_BLK_F_FLUSH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_caps_qemu_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_caps_first_of_a_type_wins_and_bad_ones_are_skipped,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_caps_legacy_device_has_none, setup, teardown),
        cmocka_unit_test(test_features),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
