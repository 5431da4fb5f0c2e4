/*
 * The guest memory object and its fault path: the guest-physical equivalent
 * of Linux's mm_struct + find_vma -> handle_mm_fault -> do_anonymous_page /
 * do_wp_page / file fault (docs/design.md, "The fault path").
 *
 * A struct guest_mm owns: the region set (what the guest may touch and how
 * it is backed), the stage-2 table (what is mapped now), and references on
 * the pool frames those mappings use. It borrows the frame pool.
 *
 * Ownership rules (kept by every function here):
 *  - Each stage-2 leaf that maps a pool frame holds one reference on the
 *    frame (the head, for a 2 MiB leaf) and one rmap entry for its gpa.
 *  - The shared zero frame is pinned: leaves mapping it hold neither a
 *    reference nor an rmap entry. Staged images and passthrough host ranges
 *    are not pool frames (frame_of() == NULL) and are never written through
 *    a guest mapping unless the region says so (passthrough).
 *  - A leaf is writable only when the frame behind it may be modified by
 *    this gpa alone: never the zero frame, a staged image page, or a frame
 *    with more than one user.
 *
 * Not thread-safe: one vCPU, and the caller serialises monitor access.
 */
#ifndef PV_EPT_MM_H
#define PV_EPT_MM_H

#include "ept/fault_stats.h"
#include "ept/frame.h"
#include "ept/region.h"
#include "ept/s2pt.h"
#include "vmm/lib/types.h"

struct guest_mm;

/*
 * The swap policy's hooks (Linux: do_swap_page's swap cache and readahead,
 * lru_cache_add, free_swap_and_cache, direct reclaim). swap_init()
 * (swap/swap.h) installs one set, every hook filled in, with its swap
 * object as swap_ctx, which each hook gets as ctx. With swap_hooks NULL
 * (the default) none is called: a swap entry in the table is an error
 * outcome, there is no LRU and no reclaim, and swap entries dropped by an
 * unmap are nobody's concern.
 *
 * Re-entry. Only reclaim may call back into mm_*: it runs when no
 * resolution and no table walk is under way (before a fault is looked at,
 * and after an OOM resolution that changed nothing), and may change the
 * table through the reclaim operations (mm_frame_referenced,
 * mm_unmap_frame); never mm_handle_fault. swapin_done runs after a
 * resolution is complete and may call mm_map_swapped and
 * mm_frame_referenced alone. Every other hook runs in the
 * middle of a fault resolution or of an unmap walk, with the lookup's
 * result still in use: it must not call mm_* nor change the stage-2 table
 * (lookups are fine); they may allocate frames, do I/O, and put
 * references of their own (a mapped frame lives on its leaves').
 *
 * The frame pool's on_free hook (ept/frame.h) stays apart: it belongs to
 * the pool, a layer below guest_mm, and fires from every frame_put that
 * frees a frame, whoever calls it (the stage-2 code freeing table pages,
 * swap/ dropping its cache), not only from guest_mm's operations.
 */

/* The fault-around block the hypervisor runs with (mm->fault_around):
 * anon first touches mapped per fault (docs/decisions.md, "Fault-around";
 * tests/bench/bench_ept measures the same block). */
#define MM_FAULT_AROUND_PAGES 64

/* swapin's results when it hands back a frame: read from the device
 * (RES_SWAP_IN), or found in the swap cache without I/O (RES_SWAP_MINOR). */
#define MM_SWAPIN_MAJOR 0
#define MM_SWAPIN_MINOR 1

struct mm_swap_hooks {
    /* A fault found the swap entry e at gpa. Bring its data into a pool
     * frame and hand it back in *f with one reference for the caller, and
     * return MM_SWAPIN_MAJOR or MM_SWAPIN_MINOR; or return a -PV_* error
     * (-PV_EIO, -PV_ECORRUPT, -PV_EINVAL: the entry names no data,
     * -PV_ENOMEM) with *f untouched and no reference taken. The fault path
     * maps the frame with the same install every other resolution uses
     * (read-only, or writable where exclusive allows: mm_swapped_rights),
     * then calls swapin_mapped; when that install fails it puts the
     * reference and the entry stays. */
    int (*swapin)(struct guest_mm *mm, gpa_t gpa, swp_entry_t e, struct frame **f,
                  void *ctx);
    /* swapin's frame f now maps gpa in place of the entry e (after
     * frame_added): the slot loses that user. minor: swapin returned
     * MM_SWAPIN_MINOR. */
    void (*swapin_mapped)(struct guest_mm *mm, struct frame *f, gpa_t gpa, swp_entry_t e,
                          bool minor, void *ctx);
    /* A pool frame now maps gpa with a 4 KiB leaf (anon-new, cow-zero,
     * cow-copy, file-copy, ROM tail copy, swap-in): put it on the LRU. */
    void (*frame_added)(struct guest_mm *mm, struct frame *f, gpa_t gpa, void *ctx);
    /* An unmap (mm_unmap_range, mm_destroy) removed the swap entry e that
     * was at gpa: the slot loses a user. */
    void (*entry_dropped)(struct guest_mm *mm, gpa_t gpa, swp_entry_t e, void *ctx);
    /* f, a FRAME_SWAPCACHE frame mapped at gpa, is written or about to be:
     * a write fault on a read-only leaf (cow), a write-fault swap-in mapped
     * writable, or a leaf whose stage-2 dirty bit says the guest wrote it.
     * Release the (now stale) slot copy if gpa is f's only mapping, so
     * that the frame is the page's only copy (cow-reuse). */
    void (*write_cached)(struct guest_mm *mm, struct frame *f, gpa_t gpa, void *ctx);
    /* f holds the data of entry e's slot and is about to be mapped in
     * place of e at a gpa where it maps nowhere else. True when e is the
     * slot's only user: nobody else can ever be handed f for that slot,
     * so the leaf may be writable (mm_swapped_rights). Optional (NULL:
     * swapped-in pages are always mapped read-only). */
    bool (*exclusive)(struct guest_mm *mm, const struct frame *f, swp_entry_t e, void *ctx);
    /* An unmap (mm_unmap_range, mm_destroy) removed gpa's leaf of f, a
     * FRAME_SWAPCACHE frame; the leaf's reference is still held and is put
     * right after: a cached copy nobody maps or names can go now. */
    void (*cached_unmapped)(struct guest_mm *mm, struct frame *f, gpa_t gpa, void *ctx);
    /* A major swap-in (swapin returned MM_SWAPIN_MAJOR) was mapped and
     * accounted (after swapin_mapped): the resolution is complete and no
     * lookup is in use any more. May call mm_map_swapped to hand the pages
     * its readahead brought in to the guest at once, and
     * mm_frame_referenced (the swap policy's walk detection forgets an
     * access), and nothing else of mm_*. Optional (NULL: not called). */
    void (*swapin_done)(struct guest_mm *mm, gpa_t gpa, void *ctx);
    /* Free frames. urgent false: called before a fault is resolved while
     * fewer than reclaim_low frames are free (direct reclaim); true: the
     * fault ran out of frames. Returns the frames freed; after an urgent
     * call that freed some, the fault is resolved once more. The one hook
     * that may re-enter mm_* (see above). */
    size_t (*reclaim)(struct guest_mm *mm, bool urgent, void *ctx);
};

struct guest_mm {
    struct region_set regions;
    struct s2pt s2;
    struct frame_pool *fp;
    /* Allow 2 MiB anon leaves. The boot path clears it under overcommit
     * (frames < memory), where one huge leaf could pin 512 frames. */
    bool huge_anon;
    struct fault_stats stats;
    struct fault_trace trace;
    const struct mm_swap_hooks *swap_hooks;
    void *swap_ctx;           /* the swap policy's object, each hook's ctx */
    size_t reclaim_low;       /* see mm_swap_hooks.reclaim */
    /* Fault-around block for anon first touches (ept/fault_around.c), in
     * pages: a power of two >= 2, or 0/1 for off (mm_init's default). */
    size_t fault_around;
    /* Where an ascending walk of writes over a file-private image would
     * copy next (mm_cow_around); 0: no walk seen. */
    gpa_t cow_next;
    /* Learn which frames hold code: a pool frame is mapped without
     * execute until the guest fetches from it; that fetch's fault grants
     * it (RES_EXEC) and marks the frame FRAME_EXEC, which reclaim keeps
     * longest (swap/reclaim.c) and swap keeps across a swap-out (the
     * slot's SLOT_EXEC). false (mm_init's default): leaves get the
     * region's rights. The boot path sets it where a stage-2 leaf can
     * say no-execute (EPT always; NPT with the host's EFER.NXE). */
    bool learn_exec;
};

/* A stage-2 fault as the vendor exit reports it. */
struct gpa_fault {
    gpa_t gpa;
    uint32_t access;       /* ACC_R / ACC_W / ACC_X attempted */
    uint32_t entry_rights; /* what the exit said the entry allowed; informational */
    uint64_t rip;
    uint64_t gla;
    bool gla_valid;
    /* The CPU was reading or updating the guest's own page tables on the
     * way to the instruction's access (NPF EXITINFO1 bit 33; EPT: linear
     * address valid, not the translation's final access). */
    bool table_walk;
};

enum fault_kind {
    FAULT_MAPPED = 0, /* a mapping now allows the access: re-execute */
    FAULT_RETRY,      /* nothing to change (spurious): re-execute */
    FAULT_MMIO,       /* emulate the access with the device model */
    FAULT_OPEN_BUS,   /* no region: reads return all-ones, writes are dropped */
    FAULT_DENIED,     /* region forbids the access (e.g. ROM write): drop it */
    FAULT_OOM,        /* out of frames: pause the guest */
    FAULT_ERROR,      /* cannot resolve (swap entry without swap): pause */
};

struct fault_outcome {
    enum fault_kind kind;
    enum fault_res res;
    /* The region hit (NULL for open bus); valid until the next region change. */
    const struct region *region;
    /* FAULT_MMIO: the device model and the offset of gpa inside the region. */
    uint32_t mmio_dev;
    void *mmio_ctx;
    uint64_t mmio_offset;
    /* FAULT_ERROR / FAULT_OOM: why, as a -PV_* error (never 0 for those
     * kinds; 0 for every other kind): -PV_ENOMEM for OOM; a swap-in's
     * -PV_EIO, -PV_ECORRUPT, -PV_EINVAL; -PV_ENOENT for a swap entry with
     * no swap installed; a table operation's error. */
    int err;
    /* The swap entry the fault found when it is the cause of err (the
     * swap-in or its install failed; the entry is still in the table);
     * 0 otherwise (0 is never a valid entry: slot 0 holds the header). */
    swp_entry_t swap;
};

/*
 * Set up an empty guest memory: regions drawn from region_pool[0..region_cap),
 * trace events kept in trace_buf[0..trace_cap) (may be NULL/0), a stage-2
 * table of format fmt whose invalidations go to inv(inv_ctx). huge_anon
 * starts true. Returns 0 or -PV_ENOMEM (no frame for the root table).
 */
int mm_init(struct guest_mm *mm, struct frame_pool *fp,
            const struct s2pt_format *fmt, bool use_ad,
            struct region *region_pool, size_t region_cap,
            struct fault_event *trace_buf, size_t trace_cap,
            s2pt_invalidate_fn inv, void *inv_ctx);

/* Unmap everything, put every frame the mappings held, free the tables.
 * Afterwards the pool has exactly the free frames it had before mm_init. */
void mm_destroy(struct guest_mm *mm);

/*
 * Region helpers: thin wrappers over region_insert with each kind's rights.
 *   anon         RWX  demand-zero RAM
 *   image        RWX  file-private: staged image, private copy on write;
 *                     image = hpa of image byte 0 (page aligned), offset =
 *                     image offset that start maps to, size = image length
 *   rom          R-X  staged image, writes denied
 *   passthrough  RW-  host range at hpa with memory type mt
 *   mmio         RW-  trapped, handed to device model dev/ctx
 * Return region_insert's result (0, -PV_EEXIST, -PV_EINVAL, -PV_ENOMEM).
 */
int mm_add_anon(struct guest_mm *mm, gpa_t start, gpa_t end, const char *name);
int mm_add_image(struct guest_mm *mm, gpa_t start, gpa_t end, hpa_t image,
                 uint64_t offset, uint64_t size, const char *name);
int mm_add_rom(struct guest_mm *mm, gpa_t start, gpa_t end, hpa_t image,
               uint64_t size, const char *name);
int mm_add_passthrough(struct guest_mm *mm, gpa_t start, gpa_t end, hpa_t hpa,
                       enum memtype mt, const char *name);
int mm_add_mmio(struct guest_mm *mm, gpa_t start, gpa_t end, uint32_t dev,
                void *ctx, const char *name);

/*
 * Drop every mapping in [start, end) (page aligned), putting the frames they
 * held; large leaves straddling an edge are split first. The regions are
 * untouched: the next access faults the page back in.
 */
int mm_unmap_range(struct guest_mm *mm, gpa_t start, gpa_t end);

/* mm_unmap_range + region_remove. */
int mm_remove_range(struct guest_mm *mm, gpa_t start, gpa_t end);

/*
 * Resolve one stage-2 fault (see docs/design.md, "The fault path"). Everything
 * it has to say, failures included, is in *out (kind, resolution, err,
 * swap); every call is counted under exactly one resolution and traced.
 * The handler re-reads the table rather than trusting f->entry_rights: the
 * entry may have changed since the exit was taken.
 */
void mm_handle_fault(struct guest_mm *mm, const struct gpa_fault *f,
                     struct fault_outcome *out);

/*
 * Same-page merging: when a and b (any address inside the pages) are both
 * present 4 KiB anon mappings of distinct pool frames with identical
 * contents, map b to a's frame, make both read-only, and put b's frame.
 * Returns 0 when merged (or already sharing one frame), 1 when the contents
 * differ (nothing changed), -PV_EINVAL when either page is not eligible,
 * -PV_ENOMEM when an rmap item is missing (nothing changed).
 */
int mm_merge_pages(struct guest_mm *mm, gpa_t a, gpa_t b);

/*
 * Reclaim's operations on one pool frame's mappings, found through its rmap
 * (ept/unmap.c; Linux's folio_referenced and try_to_unmap): the only way
 * the swap policy changes the table. They call no swap hook: the caller is
 * the swap policy and accounts for the frame and the slot.
 */

/* Was f used through any of its mappings since the last call? Clears the
 * evidence of every mapping, so the next call sees only newer uses: the
 * accessed bit (test and clear) when the table tracks A/D; else the
 * rights-clearing fallback: a leaf with rights counts as used and loses
 * them (rights 0), so its next use faults and gets them back (reprotect). */
bool mm_frame_referenced(struct guest_mm *mm, struct frame *f);

/* What mm_unmap_frame leaves in place of each mapping. */
enum mm_unmap_to {
    MM_UNMAP_EMPTY, /* nothing: the next access faults the page in afresh */
    MM_UNMAP_ZERO,  /* f is all zero: empty where an untouched page reads
                     * as zero (anon), else the zero frame, read-only */
    MM_UNMAP_SWAP,  /* the swap entry e (its slot holds f's data) */
};

/*
 * Replace every mapping of f (each gpa in its rmap, which must map f with a
 * 4 KiB leaf) with `to`, in rmap order, putting each leaf's reference and
 * rmap entry: f is freed with the last one unless someone else holds a
 * reference (the swap cache). Each replaced leaf is invalidated. Returns 0
 * with *done = the mappings f had; or stops at the first failure and
 * returns it (-PV_ENOMEM: no table page; -PV_EINVAL: a gpa in the rmap does
 * not map f with a 4 KiB leaf, logged, or a bad `to`) with the *done
 * mappings before it replaced and f still mapped at the rest, which is
 * consistent.
 */
int mm_unmap_frame(struct guest_mm *mm, struct frame *f, enum mm_unmap_to to,
                   swp_entry_t e, size_t *done);

/*
 * Fault-around (ept/fault_around.c): after an anon-new write fault at page
 * in region r, map zeroed writable frames at the other pages of the
 * aligned mm->fault_around block in r whose entries are empty, while more
 * than reclaim_low + the block's frames are free. Returns the pages
 * mapped (counted in stats.around). Called by the fault path.
 */
size_t mm_fault_around(struct guest_mm *mm, const struct region *r, gpa_t page);

/*
 * The same for a read of a file-private region's image mapped straight from
 * it (file-map): map the other whole image pages of the block whose entries
 * are empty, read-only from the staged image (no frames). Returns the pages
 * mapped (counted in stats.around_file). Called by the fault path.
 */
size_t mm_file_around(struct guest_mm *mm, const struct region *r, gpa_t page);

/*
 * Copy-on-write around (ept/fault_around.c): a write to a page of a
 * file-private region mapped straight from its image, one page above the
 * last such write or copy, continues an ascending walk of writes (a guest
 * reusing the memory its kernel or initrd was loaded into). Give the
 * pages above it in its block that are still mapped straight from the
 * image a private writable copy each, with the frame budget of
 * mm_fault_around. Call before the faulting page's own copy is
 * installed. Returns the pages copied (counted in stats.around_cow).
 */
size_t mm_cow_around(struct guest_mm *mm, const struct region *r, gpa_t page);

/*
 * Readahead's operation (ept/map_swapped.c): map f, a swap-cache frame
 * (FRAME_SWAPCACHE, not FRAME_LOCKED: its data was read and verified)
 * holding the data of swap entry e, at gpa in place of e — the leaf the
 * fault path's swap resolution would write for a read (4 KiB, the rights
 * mm_swapped_rights gives, accessed and dirty bits clear), taking a
 * reference on f and an rmap entry for gpa.
 * Returns 0; -PV_ENOENT when gpa does not hold e (any more) or lies in no
 * swappable region (anon, file-private); -PV_EINVAL for a misaligned gpa
 * or a frame that is not cached and unlocked; -PV_ENOMEM (no rmap item or
 * table page). Nothing changed on failure. Calls no swap hook but the
 * exclusive question: the caller drops the entry's use of the slot.
 */
int mm_map_swapped(struct guest_mm *mm, gpa_t gpa, swp_entry_t e, struct frame *f);

/* A batch of them: result filled in per item; returns the items mapped. */
struct mm_swapped_map {
    gpa_t gpa;
    swp_entry_t e;
    struct frame *f;
    int result;               /* out: mm_map_swapped's */
};
size_t mm_map_swapped_batch(struct guest_mm *mm, struct mm_swapped_map *v, size_t n);

/* True when the table keeps accessed bits (mm_frame_referenced tests and
 * clears them); false: the rights-clearing fallback. */
bool mm_tracks_accessed(const struct guest_mm *mm);

/*
 * Guest memory access for the boot path: each page is faulted in exactly as
 * a guest access of that kind would be (through mm_handle_fault), then the
 * bytes are copied. Errors: -PV_ENOENT (no region: open bus), -PV_EINVAL
 * (access denied, or an emulated-MMIO region), -PV_ENOMEM (out of frames),
 * -PV_EIO (unresolvable entry). Bytes before the failing page were copied.
 */
int mm_write(struct guest_mm *mm, gpa_t gpa, const void *src, size_t len);
int mm_read(struct guest_mm *mm, gpa_t gpa, void *dst, size_t len);

/*
 * Device I/O into guest memory (vmm/vdev/): a device touches guest pages the
 * way the guest would, and holds them while it does.
 *
 * mm_is_ram: every byte of [gpa, gpa + len) lies in guest RAM (anon or
 * file-private regions): not ROM, MMIO, passthrough or open bus.
 *
 * mm_pin_page: fault the page holding gpa in exactly as a guest access
 * would (write: new frame, COW, swap-in, ...; read: zero-map, file-map,
 * swap-in) and hand back its host address in pin->va, valid until
 * mm_unpin_page. A 4 KiB pool frame is pinned: one reference and
 * FRAME_PINNED (counted in f->pins), so reclaim skips it and merging
 * leaves it alone; another fault in the meantime (even one that
 * copies-on-write this gpa) cannot free it. Errors: -PV_ENOENT (not RAM),
 * mm_write's others; *pin is then empty. Pins nest.
 */
struct mm_pin {
    void *va;           /* the page's bytes (page aligned) */
    struct frame *f;    /* the pinned frame; NULL when nothing needed one */
};
bool mm_is_ram(const struct guest_mm *mm, gpa_t gpa, uint64_t len);
int mm_pin_page(struct guest_mm *mm, gpa_t gpa, bool write, struct mm_pin *pin);
void mm_unpin_page(struct guest_mm *mm, struct mm_pin *pin);

/* Render counters / the last n trace events (see fault_stats.h). */
void mm_render_stats(const struct guest_mm *mm, emit_fn emit, void *ctx);
void mm_render_trace(const struct guest_mm *mm, size_t n, emit_fn emit,
                     void *ctx);
/* Frames in use known to hold guest code (FRAME_EXEC; learn_exec). A walk
 * of the whole pool: for reports, not for the fault path. */
size_t mm_code_frames(const struct guest_mm *mm);

/*
 * Region, frame pool and stage-2 consistency, plus mm's own invariants for
 * every present leaf: inside one region, the zero frame and staged images
 * never writable, a pool frame's ref held and this gpa in its rmap, writable
 * only when the frame is exclusively this gpa's; and the pool's rmap entries
 * are exactly this mm's leaves (the pool backs one guest). Logs the first
 * violations with pv_err; true when all hold. Walks every leaf: for tests
 * and the monitor, not for hot paths.
 */
bool mm_check(const struct guest_mm *mm);

#endif
