UNIT_TESTS += test_mem_plan
test_mem_plan_SRCS := $(SWAP_SRCS) $(EPT_SRCS) vmm/lib/heap.c
