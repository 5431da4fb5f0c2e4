SIMS += sim_swap
sim_swap_SRCS := tests/sim/sim_swap.c tests/sim/sim_swap_cpu.c $(SWAP_SRCS) $(EPT_SRCS) $(TEST_BLK_SRCS)
