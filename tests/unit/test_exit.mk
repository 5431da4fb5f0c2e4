UNIT_TESTS += test_exit
test_exit_SRCS := vmm/exit.c vmm/exit_stats.c vmm/irq_watchdog.c vmm/vcpu.c vmm/guest_walk.c vmm/cpuid_policy.c $(EPT_SRCS)
