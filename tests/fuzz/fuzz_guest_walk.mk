FUZZERS += fuzz_guest_walk
fuzz_guest_walk_SRCS := tests/fuzz/fuzz_guest_walk.c vmm/guest_walk.c
