SIMS += sim_mm
sim_mm_SRCS := tests/sim/sim_mm.c tests/sim/sim_maint.c tests/sim/sim_layout.c $(EPT_SRCS)
