UNIT_TESTS += test_ata_identify
test_ata_identify_SRCS := swap/ata.c vmm/clock.c
