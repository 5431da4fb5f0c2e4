UNIT_TESTS += test_irq_inject
test_irq_inject_SRCS := vmm/irq_inject.c
