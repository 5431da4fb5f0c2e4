SIMS += sim_swap
# = not :=: SWAP_TEST_SRCS is set by tests/unit/test_swap_0srcs.mk, read later.
sim_swap_SRCS = tests/sim/sim_swap.c tests/sim/sim_swap_cpu.c $(SWAP_TEST_SRCS)
