SIMS += sim_mm
sim_mm_SRCS := tests/sim/sim_mm.c tests/sim/sim_maint.c tests/sim/sim_layout.c \
               ept/mm.c ept/fault.c ept/mm_access.c ept/fault_stats.c \
               ept/region.c ept/region_tree.c ept/frame.c ept/s2pt.c \
               ept/s2pt_check.c ept/s2pt_ept.c ept/s2pt_npt.c
