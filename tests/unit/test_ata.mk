UNIT_TESTS += test_ata
test_ata_SRCS := vmm/drivers/ata.c vmm/arch/clock.c
