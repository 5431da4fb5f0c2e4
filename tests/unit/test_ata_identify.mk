UNIT_TESTS += test_ata_identify
test_ata_identify_SRCS := vmm/drivers/ata.c vmm/arch/clock.c
