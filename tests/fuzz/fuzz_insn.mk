FUZZERS += fuzz_insn
fuzz_insn_SRCS := tests/fuzz/fuzz_insn.c vmm/insn.c vmm/insn_attr.c
