/*
 * The guest disk's INTx (vmm/vdev/vpci.c): interrupt pin and line in the
 * configuration space, the line asserted while ISR is non-zero and MSI-X
 * is off, deasserted by the ISR read that acknowledges it, by Interrupt
 * Disable, by MSI-X enable and by reset; never asserted with MSI-X on
 * (a NO_VECTOR queue then gets no interrupt at all); a device that needs
 * reset signals its configuration change on INTx. The line is a recorder
 * here; vmm/intx.c (test_intx) turns it into messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/host_log.h"
#include "tests/unit/vdisk_env.h"

#define CFG_STATUS_REG 0x06u
#define CFG_INT_LINE_REG 0x3Cu
#define CFG_INT_PIN_REG 0x3Du
#define CFG_MSIX_CTRL 0x42u
#define FW_LINE 20u                /* what firmware would write: the GSI */

struct rec {
    bool level;
    unsigned rises, falls, holds; /* holds: level true said again */
};

static void rec_intx(void *ctx, bool level)
{
    struct rec *r = ctx;
    if (level && r->level)
        r->holds++;
    else if (level)
        r->rises++;
    else if (r->level)
        r->falls++;
    else
        fail_msg("deasserted a line that was not asserted");
    r->level = level;
}

/* What Linux's virtio_pci does with pci=nomsi: MSI-X stays off, no vectors. */
static struct vdisk_env *intx_env(struct rec *r)
{
    memset(r, 0, sizeof(*r));
    struct vdisk_env *e = vdisk_env_new(&s2pt_format_npt, false);
    vpci_set_intx(&e->v, rec_intx, r, FW_LINE);
    vd_setup(e);
    vpci_cfg_write(&e->v, CFG_MSIX_CTRL, 2, 0);
    vd_wr(e, VPCI_C_MSIX, 2, VPCI_NO_VECTOR);
    vd_wr(e, VPCI_C_Q_MSIX, 2, VPCI_NO_VECTOR);
    assert_int_equal(r->rises, 0);
    return e;
}

static void pin_and_line(void **state)
{
    (void)state;
    struct vdisk_env *e = vdisk_env_new(&s2pt_format_npt, false);
    assert_int_equal(vpci_cfg_read(&e->v, CFG_INT_PIN_REG, 1), 0); /* no line bound: no pin */
    assert_int_equal(vpci_cfg_read(&e->v, CFG_INT_LINE_REG, 1), VPCI_INT_LINE_UNKNOWN);
    struct rec r = { 0 };
    vpci_set_intx(&e->v, rec_intx, &r, FW_LINE);
    assert_int_equal(vpci_cfg_read(&e->v, CFG_INT_PIN_REG, 1), VPCI_PIN_INTA);
    assert_int_equal(vpci_cfg_read(&e->v, CFG_INT_LINE_REG, 1), FW_LINE);
    /* the line is the OS's scratch byte; the pin is read-only */
    vpci_cfg_write(&e->v, CFG_INT_LINE_REG, 2, 0x050B);
    assert_int_equal(vpci_cfg_read(&e->v, CFG_INT_LINE_REG, 2), 0x010B);
    vpci_cfg_write(&e->v, CFG_INT_LINE_REG, 4, 0x1234560A);
    assert_int_equal(vpci_cfg_read(&e->v, CFG_INT_LINE_REG, 1), 0x0A);
    assert_int_equal(vpci_cfg_read(&e->v, CFG_INT_PIN_REG, 1), VPCI_PIN_INTA);
    vdisk_env_free(e);
}

/* A completion asserts; the ISR read acknowledges and deasserts. */
static void queue_interrupt(void **state)
{
    (void)state;
    struct rec r;
    struct vdisk_env *e = intx_env(&r);
    vd_request(e, VBLK_T_IN, 0, VD_DATA, 512);
    assert_int_equal(vd_req_status(e), VBLK_S_OK);
    assert_true(r.level);
    assert_int_equal(r.rises, 1);
    assert_int_equal(e->msis, 0);
    assert_true(vpci_cfg_read(&e->v, CFG_STATUS_REG, 2) & VPCI_STATUS_INTX);
    /* while it holds, each device access says so again (the platform retries) */
    unsigned holds = r.holds;
    (void)vd_rd(e, VPCI_C_STATUS, 1);
    assert_int_equal(r.holds, holds + 1);
    assert_int_equal(vd_rd(e, VPCI_ISR, 1), VPCI_ISR_QUEUE);
    assert_false(r.level);
    assert_int_equal(r.falls, 1);
    assert_false(vpci_cfg_read(&e->v, CFG_STATUS_REG, 2) & VPCI_STATUS_INTX);
    assert_int_equal(vd_rd(e, VPCI_ISR, 1), 0);
    /* deasserted: accesses say nothing */
    holds = r.holds;
    (void)vd_rd(e, VPCI_C_STATUS, 1);
    assert_int_equal(r.holds, holds);
    assert_int_equal(r.falls, 1);
    /* the next completion is a new assertion */
    vd_request(e, VBLK_T_IN, 1, VD_DATA, 512);
    assert_int_equal(r.rises, 2);
    /* the ISR read through the PCI access capability acknowledges too */
    vpci_cfg_write(&e->v, 0x90 + 12, 4, 1);
    vpci_cfg_write(&e->v, 0x90 + 8, 4, VPCI_ISR);
    assert_int_equal(vpci_cfg_read(&e->v, 0xA0, 1), VPCI_ISR_QUEUE);
    assert_false(r.level);
    vdisk_env_free(e);
}

/* Interrupt Disable holds the line low; clearing it asserts what is pending. */
static void interrupt_disable(void **state)
{
    (void)state;
    struct rec r;
    struct vdisk_env *e = intx_env(&r);
    uint16_t cmd = (uint16_t)vpci_cfg_read(&e->v, 0x04, 2);
    vpci_cfg_write(&e->v, 0x04, 2, cmd | VPCI_CMD_INTX_OFF);
    vd_request(e, VBLK_T_IN, 0, VD_DATA, 512);
    assert_int_equal(r.rises, 0);
    vpci_cfg_write(&e->v, 0x04, 2, cmd);
    assert_int_equal(r.rises, 1);
    vpci_cfg_write(&e->v, 0x04, 2, cmd | VPCI_CMD_INTX_OFF);
    assert_false(r.level);
    vdisk_env_free(e);
}

/* MSI-X on: never INTx; a NO_VECTOR queue gets no interrupt at all. */
static void msix_excludes_intx(void **state)
{
    (void)state;
    struct rec r;
    struct vdisk_env *e = intx_env(&r);
    vd_request(e, VBLK_T_IN, 0, VD_DATA, 512);
    assert_true(r.level);
    vpci_cfg_write(&e->v, CFG_MSIX_CTRL, 2, VPCI_MSIX_ENABLE); /* deasserts */
    assert_false(r.level);
    (void)vd_rd(e, VPCI_ISR, 1);
    vd_request(e, VBLK_T_IN, 1, VD_DATA, 512);
    assert_int_equal(r.rises, 1);
    assert_int_equal(e->msis, 0);
    assert_int_equal(vd_rd(e, VPCI_ISR, 1), VPCI_ISR_QUEUE); /* still recorded */
    /* with the queue's vector back, MSI-X delivers and INTx stays low */
    vd_wr(e, VPCI_C_Q_MSIX, 2, 1);
    vd_request(e, VBLK_T_IN, 2, VD_DATA, 512);
    assert_int_equal(e->msis, 1);
    assert_int_equal(r.rises, 1);
    vdisk_env_free(e);
}

/* Reset deasserts; a device that needs reset says so on INTx. */
static void reset_and_config_change(void **state)
{
    (void)state;
    struct rec r;
    struct vdisk_env *e = intx_env(&r);
    vd_request(e, VBLK_T_IN, 0, VD_DATA, 512);
    assert_true(r.level);
    vd_wr(e, VPCI_C_STATUS, 1, 0);
    assert_false(r.level);
    assert_int_equal(vd_rd(e, VPCI_ISR, 1), 0);
    vdisk_env_free(e);

    e = intx_env(&r);
    host_log_clear();
    struct vd_desc d = { VD_RAM_END + 0x1000, 16, 0, 0 }; /* outside guest RAM */
    vd_submit(e, VD_DESC, 0, &d, 1, 0);
    assert_true(vd_status(e) & VPCI_S_NEEDS_RESET);
    assert_true(r.level);
    assert_int_equal(vd_rd(e, VPCI_ISR, 1), VPCI_ISR_CONFIG);
    assert_false(r.level);
    vdisk_env_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pin_and_line),
        cmocka_unit_test(queue_interrupt),
        cmocka_unit_test(interrupt_disable),
        cmocka_unit_test(msix_excludes_intx),
        cmocka_unit_test(reset_and_config_change),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
