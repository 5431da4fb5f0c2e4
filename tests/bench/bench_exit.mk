BENCHES += bench_exit
bench_exit_SRCS := tests/bench/bench_exit.c vmm/exit_stats.c $(EPT_SRCS)
