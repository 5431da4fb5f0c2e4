UNIT_TESTS += test_console
test_console_SRCS := vmm/console.c vmm/drivers/serial.c
