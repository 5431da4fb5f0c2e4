BENCHES += bench_ept
bench_ept_SRCS := tests/bench/bench_ept.c $(EPT_SRCS)
