# Sources the guest construction tests link (test_guest_*.mk). This file
# sorts before test_*.mk, so the variable exists when they are read.
GUEST_TEST_SRCS := guest/build.c guest/bzimage.c guest/layout.c guest/bootparams.c \
                   guest/acpi_copy.c guest/entry.c guest/config.c guest/config_values.c \
                   guest/size.c vmm/acpi.c vmm/memmap.c \
                   ept/mm.c ept/fault.c ept/mm_access.c ept/fault_stats.c \
                   ept/region.c ept/region_tree.c ept/frame.c ept/s2pt.c \
                   ept/s2pt_check.c ept/s2pt_ept.c ept/s2pt_npt.c
