/*
 * Unit tests for guest/bzimage.c: a synthetic bzImage is parsed field by
 * field; each class of bad image is refused with its exact message; the
 * in-place relocation moves the protected-mode part to byte 0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "guest/bzimage.h"
#include "tests/unit/guest_fake.h"

/* Parse an image built from o; require failure with exactly msg. */
static void expect_error(const struct fake_kernel_opts *o, const char *msg)
{
    uint64_t size;
    uint8_t *img = fake_bzimage(o, &size);
    struct bzimage_info bi;
    char err[256] = "";
    assert_int_equal(bzimage_parse(img, size, &bi, err, sizeof(err)), -PV_EINVAL);
    assert_string_equal(err, msg);
    free(img);
}

static void good_image_parsed(void **state)
{
    (void)state;
    struct fake_kernel_opts o = fake_kernel_defaults();
    uint64_t size;
    uint8_t *img = fake_bzimage(&o, &size);
    struct bzimage_info bi;
    char err[256] = "untouched";

    assert_int_equal(bzimage_parse(img, size, &bi, err, sizeof(err)), 0);
    assert_string_equal(err, "untouched");
    assert_int_equal(bi.version, 0x020f);
    assert_int_equal(bi.hdr_end, 0x26c);
    assert_int_equal(bi.setup_size, 5 * 512);
    assert_int_equal(bi.pm_size, o.pm_size);
    assert_true(bi.relocatable);
    assert_int_equal(bi.pref_address, 0x1000000);
    assert_int_equal(bi.init_size, 0x400000);
    assert_int_equal(bi.kernel_alignment, 0x200000);
    assert_int_equal(bi.cmdline_size, 2047);
    assert_int_equal(bi.initrd_addr_max, 0x7fffffff);
    assert_int_equal(bi.loadflags, BZ_LOADED_HIGH);
    assert_int_equal(bi.xloadflags, BZ_XLF_KERNEL_64 | BZ_XLF_CAN_BE_LOADED_ABOVE_4G);
    assert_false(bi.relocated);
    /* The header copy is the file's bytes 0x1f1..0x26c, nothing more. */
    assert_memory_equal(bi.hdr, img + 0x1f1, 0x26c - 0x1f1);
    for (size_t i = 0x26c - 0x1f1; i < BZ_HDR_MAX; i++)
        assert_int_equal(bi.hdr[i], 0);
    free(img);
}

/* setup_sects 0 means 4 (5 sectors with the boot sector); 1 means 2. */
static void setup_sects_zero_means_four(void **state)
{
    (void)state;
    struct fake_kernel_opts o = fake_kernel_defaults();
    struct bzimage_info bi;
    uint64_t size;
    o.setup_sects = 0;
    uint8_t *img = fake_bzimage(&o, &size);
    assert_int_equal(bzimage_parse(img, size, &bi, NULL, 0), 0);
    assert_int_equal(bi.setup_size, 2560);
    assert_int_equal(bi.pm_size, o.pm_size);
    free(img);

    o.setup_sects = 1;
    img = fake_bzimage(&o, &size);
    assert_int_equal(bzimage_parse(img, size, &bi, NULL, 0), 0);
    assert_int_equal(bi.setup_size, 1024);
    assert_int_equal(size, 1024 + o.pm_size);
    free(img);
}

static void too_small(void **state)
{
    (void)state;
    uint8_t buf[100] = { 0 };
    struct bzimage_info bi;
    char err[256];
    assert_int_equal(bzimage_parse(buf, sizeof(buf), &bi, err, sizeof(err)), -PV_EINVAL);
    assert_string_equal(err, "too small for a bzImage (100 bytes, the setup header "
                             "alone needs 612)");
    assert_int_equal(bzimage_parse(NULL, 0, &bi, err, sizeof(err)), -PV_EINVAL);
    assert_string_equal(err, "too small for a bzImage (0 bytes, the setup header "
                             "alone needs 612)");
}

static void bad_signatures(void **state)
{
    (void)state;
    struct fake_kernel_opts o = fake_kernel_defaults();
    o.boot_flag = 0x1234;
    expect_error(&o, "not a bzImage (no 0xAA55 boot flag at 0x1fe)");
    o = fake_kernel_defaults();
    o.magic = 0x53726449; /* "IdrS" */
    expect_error(&o, "not a bzImage (no HdrS signature)");
}

static void old_protocol(void **state)
{
    (void)state;
    struct fake_kernel_opts o = fake_kernel_defaults();
    o.version = 0x020b;
    expect_error(&o, "boot protocol 2.11 is older than 2.12 (no 64-bit entry)");
    o.version = 0x020c; /* exactly 2.12 is accepted */
    uint64_t size;
    uint8_t *img = fake_bzimage(&o, &size);
    struct bzimage_info bi;
    assert_int_equal(bzimage_parse(img, size, &bi, NULL, 0), 0);
    free(img);
}

static void header_extent(void **state)
{
    (void)state;
    struct fake_kernel_opts o = fake_kernel_defaults();
    o.jump_op = 0xe9;
    expect_error(&o, "setup header: no short jump at 0x200");
    o = fake_kernel_defaults();
    o.jump_disp = 0x60; /* ends at 0x262: init_size cut off */
    expect_error(&o, "setup header ends at 0x262, before the end of init_size (0x264)");
    o.jump_disp = 0x90;
    expect_error(&o, "setup header ends at 0x292, past boot_params' header space (0x290)");
}

static void flags_required(void **state)
{
    (void)state;
    struct fake_kernel_opts o = fake_kernel_defaults();
    o.xloadflags = BZ_XLF_CAN_BE_LOADED_ABOVE_4G;
    expect_error(&o, "kernel has no 64-bit entry point (XLF_KERNEL_64 clear)");
    o = fake_kernel_defaults();
    o.loadflags = BZ_CAN_USE_HEAP;
    expect_error(&o, "kernel does not load at 1M (LOADED_HIGH clear in loadflags)");
}

static void truncated(void **state)
{
    (void)state;
    /* 33 setup sectors + boot sector = 17408 bytes; the file has 4096. */
    struct fake_kernel_opts o = fake_kernel_defaults();
    uint64_t size;
    uint8_t *img = fake_bzimage(&o, &size);
    img[BZ_OFF_SETUP_SECTS] = 33;
    struct bzimage_info bi;
    char err[256];
    assert_int_equal(bzimage_parse(img, 4096, &bi, err, sizeof(err)), -PV_EINVAL);
    assert_string_equal(err, "truncated: setup needs 17408 bytes, file has 4096");
    /* Nothing after the setup. */
    assert_int_equal(bzimage_parse(img, 17408, &bi, err, sizeof(err)), -PV_EINVAL);
    assert_string_equal(err, "no protected-mode kernel after the 17408-byte setup");
    free(img);

    o.syssize_set = true;
    o.syssize = (uint32_t)(o.pm_size / 16 + 1);
    expect_error(&o, "truncated: protected-mode kernel needs 12400 bytes (syssize), "
                     "file has 12388 after the setup");
    o = fake_kernel_defaults();
    o.pm_size = 0x200;
    expect_error(&o, "protected-mode kernel of 512 bytes ends before its 64-bit "
                     "entry at 0x200");
}

static void placement_fields(void **state)
{
    (void)state;
    struct fake_kernel_opts o = fake_kernel_defaults();
    o.init_size = 0x3000;
    expect_error(&o, "init_size 0x3000 is smaller than the protected-mode kernel "
                     "(12388 bytes)");
    o = fake_kernel_defaults();
    o.pref = 0x1000800;
    expect_error(&o, "pref_address 0x1000800 is not page aligned");
    o.pref = 0x80000;
    expect_error(&o, "pref_address 0x80000 is below 1M");
    o = fake_kernel_defaults();
    o.align = 0x300000;
    expect_error(&o, "kernel_alignment 0x300000 is not a power of two");
    /* A non-relocatable kernel's alignment is not used. */
    o.relocatable = 0;
    uint64_t size;
    uint8_t *img = fake_bzimage(&o, &size);
    struct bzimage_info bi;
    assert_int_equal(bzimage_parse(img, size, &bi, NULL, 0), 0);
    assert_false(bi.relocatable);
    free(img);
}

static void relocation_moves_bytes(void **state)
{
    (void)state;
    struct fake_kernel_opts o = fake_kernel_defaults();
    uint64_t size;
    uint8_t *img = fake_bzimage(&o, &size);
    struct bzimage_info bi;
    assert_int_equal(bzimage_parse(img, size, &bi, NULL, 0), 0);
    uint8_t hdr[BZ_HDR_MAX];
    memcpy(hdr, bi.hdr, sizeof(hdr));

    assert_int_equal(bzimage_relocate_in_place(img, size, &bi), 0);
    assert_true(bi.relocated);
    for (uint64_t i = 0; i < o.pm_size; i++)
        if (img[i] != fake_pm_byte(i))
            fail_msg("byte %llu: 0x%02x, want 0x%02x", (unsigned long long)i,
                     img[i], fake_pm_byte(i));
    /* The rest of the staged allocation reads as zeros. */
    for (uint64_t i = o.pm_size; i < ALIGN_UP(size, PAGE_SIZE); i++)
        assert_int_equal(img[i], 0);
    assert_memory_equal(bi.hdr, hdr, sizeof(hdr)); /* header kept */
    /* Once only, and only for the image it describes. */
    assert_int_equal(bzimage_relocate_in_place(img, size, &bi), -PV_EINVAL);
    bi.relocated = false;
    assert_int_equal(bzimage_relocate_in_place(img, size - 1, &bi), -PV_EINVAL);
    assert_int_equal(bzimage_relocate_in_place(NULL, size, &bi), -PV_EINVAL);
    free(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_image_parsed),
        cmocka_unit_test(setup_sects_zero_means_four),
        cmocka_unit_test(too_small),
        cmocka_unit_test(bad_signatures),
        cmocka_unit_test(old_protocol),
        cmocka_unit_test(header_extent),
        cmocka_unit_test(flags_required),
        cmocka_unit_test(truncated),
        cmocka_unit_test(placement_fields),
        cmocka_unit_test(relocation_moves_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
