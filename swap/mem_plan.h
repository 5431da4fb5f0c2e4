/*
 * The boot-time memory plan: every piece of hypervisor metadata whose size
 * follows from the configuration, computed in one place for both sides of
 * ExitBootServices. The UEFI front end (efi/main.c) allocates what the plan
 * says; the core (vmm/main.c) builds the frame pool and the swap metadata
 * in that memory and checks that what it needs is what was planned. Both
 * call mem_plan_for() with the same configuration, so they cannot disagree.
 *
 * Pieces:
 *  - pool_frames: the frame pool's size, exact: `frames` / 4K plus the
 *    shared zero frame.
 *  - frame_meta: frame descriptors, reverse-map items, allocator bitmap
 *    and per-2M-block counters (ept/frame.c), for a pool built from up to
 *    FRAME_RANGES_MAX host ranges. A separate allocation.
 *  - swap_cache, swap_area: the swap cache table (for pool_frames frames)
 *    and the swap area's slot map (for a disk of up to
 *    MEM_PLAN_SWAP_MAX_BYTES; the core refuses a larger one by name);
 *    swap_meta: all that swap_init() takes, laid out as swap/swap.c does.
 *  - heap: the core's boot-time heap: MEM_PLAN_HEAP_FIXED for the core's
 *    own tables (region pool, fault trace, legacy ROM, VMCB/VMCS and
 *    permission bitmaps, virtqueues, swap-disk self-check buffers) plus
 *    swap_meta and its page alignment.
 */
#ifndef PV_SWAP_MEM_PLAN_H
#define PV_SWAP_MEM_PLAN_H

#include "vmm/lib/types.h"

#define MEM_PLAN_HEAP_FIXED (4ull << 20)
#define MEM_PLAN_SWAP_MAX_BYTES (16ull << 30)
#define MEM_PLAN_SWAP_MAX_PAGES (MEM_PLAN_SWAP_MAX_BYTES / PAGE_SIZE)

struct mem_plan {
    uint64_t frames;      /* bytes of guest-backing frames asked for */
    bool swap_disk;       /* a swap disk may be attached */
    size_t pool_frames;   /* frames / 4K + the zero frame */
    size_t frame_meta;    /* bytes */
    size_t swap_cache;    /* bytes (part of swap_meta) */
    size_t swap_area;     /* bytes (part of swap_meta; 0 without a disk) */
    size_t swap_meta;     /* bytes swap_init() takes from the heap */
    size_t heap;          /* bytes */
};

/* The plan for `frames` bytes (a positive 4 KiB multiple, as the config
 * parser guarantees) with or without a swap disk. Returns -PV_EINVAL for a
 * size the parser would have refused. */
int mem_plan_for(uint64_t frames, bool swap_disk, struct mem_plan *p);

#endif
