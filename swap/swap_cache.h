/*
 * The swap cache: swap slot -> frame holding that slot's data (Linux's
 * swapper address space). A frame is in it while
 *   - it is being written to its slot or read from it (FRAME_LOCKED),
 *   - it was read from its slot (swap-in, readahead) and is still clean:
 *     it may be mapped at the gpas whose entries named the slot (read-only,
 *     or writable and clean where exclusive: the stage-2 dirty bit tells),
 *     and reclaim can drop it again without I/O,
 * and leaves when it is dropped, freed, or written to (the slot copy is
 * then stale: the writer releases it).
 *
 * Contract kept by insert/remove: a cached frame has FRAME_SWAPCACHE set and
 * swap_slot == its slot, and the cache holds one reference on it (so the
 * frame outlives its last mapping while cached). A cached frame is never
 * mapped writable: its contents equal the slot's.
 *
 * Storage: an open-addressing table (linear probing, backward-shift
 * deletion, no tombstones) of a power-of-two capacity at least twice the
 * pool's frame count, so the load factor stays <= 1/2 even if every frame
 * were cached. Memory from the caller (swap_cache_meta_size).
 */
#ifndef PV_SWAP_SWAP_CACHE_H
#define PV_SWAP_SWAP_CACHE_H

#include "ept/frame.h"

struct swap_cache_ent {
    uint64_t slot;
    struct frame *f;          /* NULL: empty */
};

struct swap_cache {
    struct swap_cache_ent *tab;
    size_t cap;               /* power of two */
    size_t n;                 /* frames cached */
    uint64_t lookups, hits, inserts, removes;
};

/* Bytes of table for a pool of nframes frames. */
size_t swap_cache_meta_size(size_t nframes);

/* mem: swap_cache_meta_size(nframes) bytes, 8-byte aligned. */
int swap_cache_init(struct swap_cache *c, void *mem, size_t mem_len, size_t nframes);

/* The frame cached for slot, or NULL. */
struct frame *swap_cache_lookup(struct swap_cache *c, uint64_t slot);

/* Same, without counting a lookup (for checks and listings). */
struct frame *swap_cache_peek(const struct swap_cache *c, uint64_t slot);

/* Cache f for slot: takes a reference, sets FRAME_SWAPCACHE and swap_slot.
 * -PV_EEXIST if the slot (or f) is already cached, -PV_ENOMEM if full. */
int swap_cache_insert(struct swap_cache *c, uint64_t slot, struct frame *f);

/* Take slot's frame out: clears FRAME_SWAPCACHE / swap_slot and drops the
 * cache's reference (which may free the frame). Returns true when it was
 * cached. */
bool swap_cache_remove(struct swap_cache *c, struct frame_pool *fp, uint64_t slot);

/* Every entry found by probing from its home, each frame pointing back. */
bool swap_cache_check(const struct swap_cache *c);

#endif
