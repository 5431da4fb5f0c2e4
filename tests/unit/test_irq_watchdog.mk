UNIT_TESTS += test_irq_watchdog
test_irq_watchdog_SRCS := vmm/irq_watchdog.c
