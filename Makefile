# pagevisor — one entry point.
#   make          build build/pagevisor.efi
#   make run      install what is missing, build, boot the default guest in QEMU
#                 (GUEST=debian: the Debian system from its disk, docs/guest-disk.md)
#   make test     install what is missing, run unit, simulation and e2e tests
#   make bench    host benchmarks, then the guest-level one (make bench-guest),
#                 printed as ratios to a baseline of the same run
#   make experiment  a memory-overcommit sweep and its report (EXPERIMENT_ARGS=...)
#   make fuzz     every libFuzzer target for FUZZ_SECONDS each
# Tests and benches register themselves through tests/*/*.mk fragments.

BUILD      ?= build
CC         ?= gcc
HOSTCC     ?= gcc
LD         ?= ld
OBJCOPY    ?= objcopy
FUZZCC     ?= clang
PYTHON     ?= /usr/bin/python3
FUZZ_SECONDS ?= 30
VERSION    := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
        -Wmissing-prototypes -Wpointer-arith -Wundef -Wvla -Wformat=2 \
        -Wno-format-nonliteral

# ---- the hypervisor image (freestanding, gnu-efi) --------------------------
EFI_LDS    := /usr/lib/elf_x86_64_efi.lds
EFI_CRT0   := /usr/lib/crt0-efi-x86_64.o
EFI_INC    := -isystem /usr/include/efi -isystem /usr/include/efi/x86_64

# -fbuiltin after -ffreestanding: gcc expands memcpy/memset of small known
# sizes inline (an 8-byte load through memcpy was a call per word, e.g. the
# swap checksum's 512 per page); larger ones still call vmm/lib/string.c.
HV_CFLAGS  := -std=gnu11 -O2 -g -I. -I$(BUILD)/gen $(WARN) -ffreestanding -fno-stack-protector \
              -fbuiltin -fno-strict-aliasing -fno-common -mno-red-zone -mgeneral-regs-only \
              -fpic -fshort-wchar -maccumulate-outgoing-args \
              -DEFI_FUNCTION_WRAPPER
HV_ASFLAGS := -I. -fpic -D__ASSEMBLY__

# Everything in these folders is hypervisor code (one concept per file).
HV_SRCS := $(sort $(wildcard efi/*.c vmm/*.c vmm/*/*.c ept/*.c swap/*.c guest/*.c))
HV_ASM  := $(sort $(wildcard vmm/*.S vmm/*/*.S))
HV_OBJS := $(patsubst %.c,$(BUILD)/hv/%.o,$(HV_SRCS)) \
           $(patsubst %.S,$(BUILD)/hv/%.o,$(HV_ASM))
HDRS    := $(sort $(wildcard */*.h */*/*.h))

.PHONY: all run test deps-test test-unit test-sim test-e2e test-tools check-layers bench bench-guest experiment fuzz deps clean esp FORCE
all: $(BUILD)/pagevisor.efi

# V=1 shows full commands.
Q := $(if $(V),,@)
say = $(if $(V),,@printf '  %-6s %s\n' $(1) $(2);)

# The version string lives in one generated header, rewritten only when the
# version changes, so exactly the files that include it rebuild.
$(BUILD)/gen/version.h: FORCE
	@mkdir -p $(dir $@)
	@echo '#define PV_VERSION "$(VERSION)"' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
FORCE:
$(BUILD)/hv/efi/main.o: $(BUILD)/gen/version.h

$(BUILD)/hv/efi/%.o: efi/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(HV_CFLAGS) $(EFI_INC) -MMD -MP -c $< -o $@

# The string functions themselves without builtins: with them gcc reads
# strlen's loop as a strlen and made it call itself, one frame per byte.
$(BUILD)/hv/vmm/lib/string.o: HV_CFLAGS += -fno-builtin -fno-tree-loop-distribute-patterns

$(BUILD)/hv/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(HV_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/hv/%.o: %.S
	@mkdir -p $(dir $@)
	$(call say,AS,$<)$(CC) $(HV_ASFLAGS) -MMD -MP -c $< -o $@

-include $(HV_OBJS:.o=.d)

$(BUILD)/pagevisor.so: $(HV_OBJS)
	$(call say,LD,$@)$(LD) -nostdlib -znocombreloc -T $(EFI_LDS) -shared -Bsymbolic \
	    --no-undefined -L/usr/lib $(EFI_CRT0) $(HV_OBJS) -o $@ -lefi -lgnuefi
	$(Q)scripts/check-relocs.sh $@

$(BUILD)/pagevisor.efi: $(BUILD)/pagevisor.so
	$(call say,EFI,$@)$(OBJCOPY) -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel \
	    -j .rela -j .reloc --target=efi-app-x86_64 $< $@

# ---- host builds: unit tests, simulations, benches, fuzzers ----------------
HOST_CFLAGS := -std=gnu11 -g -I. -DPV_HOST $(WARN)
SAN         := -fsanitize=address,undefined -fno-omit-frame-pointer \
               -fno-sanitize-recover=all
HOST_SUPPORT := tests/unit/host_log.c vmm/lib/fmt.c

# Per-folder source lists for host builds. Host tests use libc for string.c,
# tests/unit/host_log.c for log.c, and never link the drivers' port access.
EPT_SRCS      := $(sort $(wildcard ept/*.c))
SWAP_SRCS     := $(sort $(wildcard swap/*.c))
GUEST_SRCS    := $(sort $(wildcard guest/*.c))
TEST_BLK_SRCS := tests/unit/blk_file.c
VDEV_SRCS     := $(sort $(wildcard vmm/vdev/*.c))

UNIT_TESTS :=
SIMS :=
BENCHES :=
FUZZERS :=
-include $(sort $(wildcard tests/unit/*.mk tests/sim/*.mk tests/bench/*.mk tests/fuzz/*.mk))

define unit_rule
$(BUILD)/host/unit/$(1): tests/unit/$(1).c $$($(1)_SRCS) $(HOST_SUPPORT) $(HDRS)
	@mkdir -p $$(dir $$@)
	$(call say,HOSTCC,$$@)$(HOSTCC) $(HOST_CFLAGS) -O1 $(SAN) -o $$@ tests/unit/$(1).c $$($(1)_SRCS) $(HOST_SUPPORT) -lcmocka
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_rule,$(t))))

define sim_rule
$(BUILD)/host/sim/$(1): $$($(1)_SRCS) $(HOST_SUPPORT) $(HDRS)
	@mkdir -p $$(dir $$@)
	$(call say,HOSTCC,$$@)$(HOSTCC) $(HOST_CFLAGS) -O2 -o $$@ $$($(1)_SRCS) $(HOST_SUPPORT)
endef
$(foreach t,$(SIMS),$(eval $(call sim_rule,$(t))))

define bench_rule
$(BUILD)/host/bench/$(1): $$($(1)_SRCS) $(HOST_SUPPORT) $(HDRS)
	@mkdir -p $$(dir $$@)
	$(call say,HOSTCC,$$@)$(HOSTCC) $(HOST_CFLAGS) -O2 -march=native -o $$@ $$($(1)_SRCS) $(HOST_SUPPORT)
endef
$(foreach t,$(BENCHES),$(eval $(call bench_rule,$(t))))

define fuzz_rule
$(BUILD)/host/fuzz/$(1): $$($(1)_SRCS) $(HOST_SUPPORT) $(HDRS)
	@mkdir -p $$(dir $$@)
	$(call say,FUZZCC,$$@)$(FUZZCC) $(HOST_CFLAGS) -O1 -fsanitize=fuzzer,address,undefined -o $$@ $$($(1)_SRCS) $(HOST_SUPPORT)
endef
$(foreach t,$(FUZZERS),$(eval $(call fuzz_rule,$(t))))

UNIT_BINS  := $(addprefix $(BUILD)/host/unit/,$(UNIT_TESTS))
SIM_BINS   := $(addprefix $(BUILD)/host/sim/,$(SIMS))
BENCH_BINS := $(addprefix $(BUILD)/host/bench/,$(BENCHES))
FUZZ_BINS  := $(addprefix $(BUILD)/host/fuzz/,$(FUZZERS))

# ---- top-level targets ------------------------------------------------------
deps:
	@scripts/deps.sh
# the tests also need libvirt (tests/e2e/test_libvirt.py, virt-xml-validate)
# and the Debian image builder (tests/e2e/test_debian_disk.py)
deps-test:
	@scripts/deps.sh libvirt debian

esp: deps $(BUILD)/pagevisor.efi
	scripts/mkesp.sh $(BUILD)/esp.img

# GUEST=kit: the busybox initramfs guest; GUEST=debian: Debian from its disk
GUEST ?= kit
run: deps
	$(Q)$(if $(filter debian,$(GUEST)),scripts/deps.sh debian,true)
	@$(MAKE) --no-print-directory all
	GUEST=$(GUEST) scripts/run.sh

test-unit: deps $(UNIT_BINS)
	@scripts/run-tests.sh unit $(UNIT_BINS)
test-sim: deps $(SIM_BINS)
	@scripts/run-tests.sh sim $(SIM_BINS)
test-e2e: deps-test all
	@scripts/run-tests.sh e2e
test-tools: deps-test
	@scripts/run-tests.sh tools
# Include boundaries between layers (scripts/check-layers.py, docs/design.md).
check-layers:
	@$(PYTHON) scripts/check-layers.py
test: deps-test check-layers
	@$(MAKE) --no-print-directory all $(UNIT_BINS) $(SIM_BINS)
	@scripts/run-tests.sh all $(UNIT_BINS) -- $(SIM_BINS)

bench: deps $(BENCH_BINS)
	@for b in $(BENCH_BINS); do echo "== $$b"; $$b || exit 1; done
	@$(MAKE) --no-print-directory bench-guest
	@scripts/deps.sh debian
	@$(MAKE) --no-print-directory all
	@echo "== tests/bench/bench_disk.py"; $(PYTHON) tests/bench/bench_disk.py

# The guest-level benchmark: the guest kit under pagevisor vs booted directly
# by QEMU (scripts/bench-guest.py; sizes, time and results: docs/performance.md).
bench-guest: deps all
	@scripts/guest-kit.sh $(BUILD)/guest
	@$(PYTHON) scripts/bench-guest.py --csv $(BUILD)/bench-guest.csv $(BENCH_GUEST_ARGS)

# Memory-overcommit experiments (scripts/experiment.py --help): the default
# sweep (guest memory 384 MiB, workloads seq,rand of 256 MiB; local memory
# 100,75,50,25 % x readahead off,cluster:8,auto; the direct and direct-swap
# baselines; 28 boots) into $(BUILD)/experiment, then its tables and plots
# (scripts/exp-report.py). EXPERIMENT_ARGS adds or overrides options, e.g.
# EXPERIMENT_ARGS='--workloads seq,redis --repeats 3'; rerunning resumes.
experiment: deps all
	@scripts/guest-kit.sh $(BUILD)/guest
	@$(PYTHON) scripts/experiment.py --out $(BUILD)/experiment $(EXPERIMENT_ARGS)

fuzz:
	@scripts/deps.sh fuzz
	@$(MAKE) --no-print-directory $(FUZZ_BINS)
	@scripts/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

clean:
	rm -rf $(BUILD)
