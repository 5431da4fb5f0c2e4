/*
 * Guest-physical regions: the guest's equivalent of Linux's VMAs.
 *
 * A region is [start, end) — both page aligned, start < end — with access
 * rights (ACC_*), a kind, and a backing. The set never holds two regions
 * that overlap. It is kept twice: in a balanced binary search tree keyed by
 * start (O(log n) lookups, like the mm_rb tree) and in an address-ordered
 * list (walks, neighbour access for merging, like vm_next/vm_prev).
 *
 * Storage: freestanding code has no malloc, so the set draws region
 * descriptors from a caller-provided array (region_set_init). Running out of
 * descriptors is reported as -PV_ENOMEM, never a corruption.
 *
 * Pointer stability: a struct region * returned by a lookup stays valid until
 * the next region_insert/region_remove on the same set.
 */
#ifndef PV_EPT_REGION_H
#define PV_EPT_REGION_H

#include "vmm/lib/list.h"
#include "vmm/lib/types.h"

enum region_kind {
    REGION_ANON = 0,      /* RAM: demand-zero, swappable */
    REGION_FILE_PRIVATE,  /* staged image (kernel, initrd): map read-only, copy on write */
    REGION_PASSTHROUGH,   /* identity-like mapping of a host range (ACPI, LAPIC, ...) */
    REGION_MMIO_EMULATED, /* trapped, decoded, handed to a device model */
    REGION_ROM,           /* read-only image; writes dropped */
    REGION_KIND_COUNT,
};

/*
 * What backs a region. Which member is meaningful depends on the kind:
 *  - FILE_PRIVATE and ROM use .image: the bytes of the staged image (an hpa,
 *    page aligned), the offset into the image that region->start maps to, and
 *    the image length. Pages past image_size read as zeros (partial last page
 *    zero-filled beyond the file's end).
 *  - PASSTHROUGH uses .host: host range base (region->start maps to .hpa)
 *    and the memory type for the stage-2 leaves.
 *  - MMIO_EMULATED uses .mmio: a device id and context for the device model.
 *  - ANON uses nothing.
 */
struct region_backing {
    struct {
        hpa_t data;       /* hpa of image byte 0 */
        uint64_t offset;  /* image offset that region->start maps to */
        uint64_t size;    /* image length in bytes */
    } image;
    struct {
        hpa_t hpa;        /* host address region->start maps to */
        enum memtype memtype;
    } host;
    struct {
        uint32_t dev;     /* device model id */
        void *ctx;
    } mmio;
};

/*
 * Field order: what the lookup descent reads at every node (start, end and
 * the two children; region_tree_find) comes first, in 32 bytes, so that a
 * visited node costs one cache line rather than two (unless its descriptor
 * starts in the last 24 bytes of a line). The rest is read once the region
 * is found, or by updates. Keep it so.
 */
struct region {
    gpa_t start, end;  /* [start, end), page aligned */
    /* set-private linkage, the tree's children (hot, see above) */
    struct region *rb_left, *rb_right;

    uint32_t rights;   /* ACC_R | ACC_W | ACC_X */
    enum region_kind kind;
    struct region_backing backing;
    const char *name;  /* for listings ("ram-low", "kernel", ...); not owned */

    /* set-private linkage */
    struct region *rb_parent;
    int rb_balance;    /* implementation's balance info (height or colour) */
    struct list_node link; /* address-ordered list */
};

struct region_set {
    struct region *root;     /* tree root */
    struct list_node list;   /* address-ordered */
    size_t count;
    struct region *pool;     /* descriptor storage */
    size_t pool_cap;
    struct region *free;     /* free descriptors, chained through rb_right */
};

/* Initialise an empty set drawing descriptors from pool[0..cap). */
void region_set_init(struct region_set *set, struct region *pool, size_t cap);

/*
 * Linux find_vma(): the first region with end > addr (it may start above
 * addr), or NULL.
 */
struct region *region_find(const struct region_set *set, gpa_t addr);

/* The region containing addr, or NULL. */
struct region *region_lookup(const struct region_set *set, gpa_t addr);

/* The first (lowest) region intersecting [start, end), or NULL. */
struct region *region_find_intersection(const struct region_set *set,
                                        gpa_t start, gpa_t end);

/*
 * Insert [start, end). Fails with -PV_EEXIST if it overlaps any region
 * (nothing is changed), -PV_EINVAL if unaligned or empty, -PV_ENOMEM if out
 * of descriptors. Merges with an adjacent neighbour on either side when they
 * are compatible: same kind, rights and name, and the backing continues
 * (images: same data, offset continuous; passthrough: hpa continuous, same
 * memtype; mmio: same dev and ctx; anon: always). On success *out (if
 * non-NULL) is the region that now covers [start, end).
 */
int region_insert(struct region_set *set, gpa_t start, gpa_t end,
                  uint32_t rights, enum region_kind kind,
                  const struct region_backing *backing, const char *name,
                  struct region **out);

/*
 * Remove [start, end) from whatever regions it covers: regions inside are
 * deleted, regions straddling an edge shrink, a region containing the whole
 * range is split in two (backing offsets adjusted). Parts of the range
 * covered by no region are ignored. Returns -PV_ENOMEM if a split needs a
 * descriptor and none is left (nothing is changed in that case).
 */
int region_remove(struct region_set *set, gpa_t start, gpa_t end);

/*
 * Find the lowest gap of at least size bytes, aligned to align (a power of
 * two >= PAGE_SIZE), inside [lo, hi). Returns 0 and *out = gap start, or
 * -PV_ENOENT.
 */
int region_find_gap(const struct region_set *set, uint64_t size,
                     uint64_t align, gpa_t lo, gpa_t hi, gpa_t *out);

/* Ordered iteration: first region, and the one after r (NULL at the end). */
struct region *region_first(const struct region_set *set);
struct region *region_next(const struct region_set *set, const struct region *r);

/* Names for kinds ("anon", "file-private", ...) and a one-line rendering:
 * "[0x0000100000-0x0040000000) rw- anon ram-low" into buf. */
const char *region_kind_name(enum region_kind kind);
int region_format(const struct region *r, char *buf, size_t len);

/*
 * Consistency check for tests and the monitor: tree order and balance, list
 * order, tree and list hold the same regions, no overlaps, count matches.
 * Returns true when consistent.
 */
bool region_set_check(const struct region_set *set);

#endif
