/*
 * Guest-physical regions (see ept/region.h): the Linux VMA operations —
 * find_vma, find_vma_intersection, insert with merging, munmap-style
 * shrink/split, get_unmapped_area — over an AVL tree (ept/region_tree.c) plus
 * an address-ordered list, with descriptors from a caller-provided pool.
 *
 * Every mutating operation validates and reserves what it needs (arguments,
 * overlap, a free descriptor) before it changes anything, so a failure
 * leaves the set exactly as it was.
 */
#include "ept/region.h"
#include "ept/region_tree.h"
#include "vmm/lib/fmt.h"
#include "vmm/lib/log.h"

#include <string.h>

static struct region *list_region(const struct list_node *n)
{
    return container_of(n, struct region, link);
}

/* ---- descriptor pool ----------------------------------------------------- */

static void pool_put(struct region_set *set, struct region *r)
{
    r->rb_left = r->rb_parent = NULL;
    r->rb_right = set->free;
    r->rb_balance = REGION_TREE_FREE;
    set->free = r;
}

static struct region *pool_get(struct region_set *set)
{
    struct region *r = set->free;

    if (r) {
        set->free = r->rb_right;
        r->rb_right = NULL;
    }
    return r;
}

static bool in_pool(const struct region_set *set, const struct region *r)
{
    uintptr_t base = (uintptr_t)set->pool, p = (uintptr_t)r;

    return p >= base && (p - base) / sizeof(*r) < set->pool_cap &&
           (p - base) % sizeof(*r) == 0;
}

void region_set_init(struct region_set *set, struct region *pool, size_t cap)
{
    set->root = NULL;
    list_init(&set->list);
    set->count = 0;
    set->pool = pool;
    set->pool_cap = cap;
    set->free = NULL;
    /* Push in reverse so descriptors are handed out in array order. */
    for (size_t i = cap; i-- > 0;) {
        memset(&pool[i], 0, sizeof(pool[i]));
        list_init(&pool[i].link);
        pool_put(set, &pool[i]);
    }
}

/* ---- lookups ------------------------------------------------------------- */

struct region *region_find(const struct region_set *set, gpa_t addr)
{
    return region_tree_find(set->root, addr);
}

struct region *region_lookup(const struct region_set *set, gpa_t addr)
{
    struct region *r = region_tree_find(set->root, addr);

    return r && r->start <= addr ? r : NULL;
}

struct region *region_find_intersection(const struct region_set *set,
                                        gpa_t start, gpa_t end)
{
    if (start >= end)
        return NULL;
    struct region *r = region_tree_find(set->root, start);
    return r && r->start < end ? r : NULL;
}

struct region *region_first(const struct region_set *set)
{
    return list_empty(&set->list) ? NULL : list_region(set->list.next);
}

struct region *region_next(const struct region_set *set, const struct region *r)
{
    return r->link.next == &set->list ? NULL : list_region(r->link.next);
}

static struct region *region_prev(const struct region_set *set,
                                  const struct region *r)
{
    return r->link.prev == &set->list ? NULL : list_region(r->link.prev);
}

static struct region *region_last(const struct region_set *set)
{
    return list_empty(&set->list) ? NULL : list_region(set->list.prev);
}

/* ---- merging ------------------------------------------------------------- */

static bool same_name(const char *a, const char *b)
{
    if (a == b)
        return true;
    return a && b && strcmp(a, b) == 0;
}

/*
 * May lo and hi (lo->end == hi->start) be one region? Only the backing
 * members that the kind gives meaning to are compared.
 */
static bool compatible(const struct region *lo, const struct region *hi)
{
    uint64_t len = lo->end - lo->start;

    if (lo->kind != hi->kind || lo->rights != hi->rights ||
        !same_name(lo->name, hi->name))
        return false;
    switch (lo->kind) {
    case REGION_ANON:
        return true;
    case REGION_FILE_PRIVATE:
    case REGION_ROM:
        return lo->backing.image.data == hi->backing.image.data &&
               lo->backing.image.size == hi->backing.image.size &&
               lo->backing.image.offset + len == hi->backing.image.offset;
    case REGION_PASSTHROUGH:
        return lo->backing.host.memtype == hi->backing.host.memtype &&
               lo->backing.host.hpa + len == hi->backing.host.hpa;
    case REGION_MMIO_EMULATED:
        return lo->backing.mmio.dev == hi->backing.mmio.dev &&
               lo->backing.mmio.ctx == hi->backing.mmio.ctx;
    case REGION_KIND_COUNT:
        break;
    }
    return false;
}

/* r's start moved up by delta: keep the backing addressed from the new start. */
static void advance_backing(struct region *r, uint64_t delta)
{
    switch (r->kind) {
    case REGION_FILE_PRIVATE:
    case REGION_ROM:
        r->backing.image.offset += delta;
        break;
    case REGION_PASSTHROUGH:
        r->backing.host.hpa += delta;
        break;
    case REGION_ANON:
    case REGION_MMIO_EMULATED:
    case REGION_KIND_COUNT:
        break;
    }
}

/* ---- insert / remove ----------------------------------------------------- */

static bool range_valid(gpa_t start, gpa_t end)
{
    return start < end && IS_ALIGNED(start, PAGE_SIZE) &&
           IS_ALIGNED(end, PAGE_SIZE);
}

/* Take r out of tree and list and give its descriptor back. */
static void unlink_region(struct region_set *set, struct region *r)
{
    region_tree_erase(&set->root, r);
    list_remove(&r->link);
    set->count--;
    pool_put(set, r);
}

/* Link r (fields filled) into tree and list; next is its successor or NULL. */
static void link_region(struct region_set *set, struct region *r,
                        struct region *next)
{
    region_tree_insert(&set->root, r);
    if (next)
        list_insert_before(&next->link, &r->link);
    else
        list_push_back(&set->list, &r->link);
    set->count++;
}

int region_insert(struct region_set *set, gpa_t start, gpa_t end,
                  uint32_t rights, enum region_kind kind,
                  const struct region_backing *backing, const char *name,
                  struct region **out)
{
    if (!range_valid(start, end) || (rights & ~ACC_RWX) ||
        (unsigned)kind >= REGION_KIND_COUNT)
        return -PV_EINVAL;

    /* next: the first region ending above start — it must begin at or past end. */
    struct region *next = region_tree_find(set->root, start);
    if (next && next->start < end)
        return -PV_EEXIST;
    struct region *prev = next ? region_prev(set, next) : region_last(set);

    struct region tmp;
    memset(&tmp, 0, sizeof(tmp));
    tmp.start = start;
    tmp.end = end;
    tmp.rights = rights;
    tmp.kind = kind;
    if (backing)
        tmp.backing = *backing;
    tmp.name = name;

    bool join_prev = prev && prev->end == start && compatible(prev, &tmp);
    bool join_next = next && next->start == end && compatible(&tmp, next);
    struct region *r;

    if (join_prev && join_next) {
        /* |--prev--|++new++|--next--| -> one region; next's descriptor freed. */
        gpa_t new_end = next->end;
        unlink_region(set, next);
        prev->end = new_end;
        r = prev;
    } else if (join_prev) {
        prev->end = end;
        r = prev;
    } else if (join_next) {
        /* The new range's backing is the one addressed from the new start. */
        next->start = start;
        next->backing = tmp.backing;
        r = next;
    } else {
        r = pool_get(set);
        if (!r)
            return -PV_ENOMEM;
        *r = tmp;
        link_region(set, r, next);
    }
    if (out)
        *out = r;
    return 0;
}

int region_remove(struct region_set *set, gpa_t start, gpa_t end)
{
    if (!range_valid(start, end))
        return -PV_EINVAL;

    struct region *r = region_tree_find(set->root, start);
    if (!r || r->start >= end)
        return 0;

    if (r->start < start && r->end > end) {
        /* |----r----| minus |xx| in the middle -> |-r-|  |-tail-| */
        struct region *tail = pool_get(set);
        if (!tail)
            return -PV_ENOMEM;
        *tail = *r; /* linkage is rewritten by link_region() */
        tail->start = end;
        advance_backing(tail, end - r->start);
        r->end = start;
        link_region(set, tail, region_next(set, r));
        return 0;
    }

    while (r && r->start < end) {
        struct region *next = region_next(set, r);
        if (r->start < start) {
            r->end = start;                        /* shrink back */
        } else if (r->end > end) {
            advance_backing(r, end - r->start);    /* shrink front */
            r->start = end;
        } else {
            unlink_region(set, r);                 /* wholly inside */
        }
        r = next;
    }
    return 0;
}

int region_find_gap(const struct region_set *set, uint64_t size,
                    uint64_t align, gpa_t lo, gpa_t hi, gpa_t *out)
{
    if (size == 0 || align < PAGE_SIZE || (align & (align - 1)))
        return -PV_EINVAL;
    if (lo > UINT64_MAX - (align - 1))
        return -PV_ENOENT;

    gpa_t g = ALIGN_UP(lo, align);
    /*
     * Walk the regions from the first one ending above g: each one that
     * starts before g + size pushes the candidate past its end.
     */
    struct region *r = region_tree_find(set->root, g);
    for (;;) {
        if (g >= hi || hi - g < size)
            return -PV_ENOENT;
        if (!r || (r->start >= g && r->start - g >= size)) {
            *out = g;
            return 0;
        }
        if (r->end > UINT64_MAX - (align - 1))
            return -PV_ENOENT;
        g = ALIGN_UP(r->end, align);
        while (r && r->end <= g)
            r = region_next(set, r);
    }
}

/* ---- names and listings --------------------------------------------------- */

static const char *const kind_names[REGION_KIND_COUNT] = {
    [REGION_ANON] = "anon",
    [REGION_FILE_PRIVATE] = "file-private",
    [REGION_PASSTHROUGH] = "passthrough",
    [REGION_MMIO_EMULATED] = "mmio-emulated",
    [REGION_ROM] = "rom",
};

const char *region_kind_name(enum region_kind kind)
{
    if ((unsigned)kind >= REGION_KIND_COUNT)
        return "invalid";
    return kind_names[kind];
}

int region_format(const struct region *r, char *buf, size_t len)
{
    return pv_snprintf(buf, len, "[0x%010llx-0x%010llx) %c%c%c %s%s%s",
                       (unsigned long long)r->start,
                       (unsigned long long)r->end,
                       (r->rights & ACC_R) ? 'r' : '-',
                       (r->rights & ACC_W) ? 'w' : '-',
                       (r->rights & ACC_X) ? 'x' : '-',
                       region_kind_name(r->kind), r->name ? " " : "",
                       r->name ? r->name : "");
}

/* ---- consistency ---------------------------------------------------------- */

static bool check_fail(const char *why)
{
    pv_err("region_set_check: %s", why);
    return false;
}

static bool region_valid(const struct region_set *set, const struct region *r)
{
    return in_pool(set, r) && r->rb_balance >= 1 && range_valid(r->start, r->end) &&
           !(r->rights & ~ACC_RWX) && (unsigned)r->kind < REGION_KIND_COUNT;
}

bool region_set_check(const struct region_set *set)
{
    size_t nodes;
    const char *why;

    if (set->count > set->pool_cap)
        return check_fail("count exceeds the pool");
    if (!region_tree_check(set->root, set->count, &nodes, &why))
        return check_fail(why);
    if (nodes != set->count)
        return check_fail("tree holds fewer nodes than count");

    /* Walk tree (in order) and list together: same nodes, same order. */
    const struct list_node *l = set->list.next;
    const struct region *t = region_tree_first(set->root), *prev = NULL;
    for (size_t i = 0; i < set->count; i++) {
        if (l == &set->list)
            return check_fail("list shorter than count");
        const struct region *r = list_region(l);
        if (r != t)
            return check_fail("tree and list disagree");
        if (!region_valid(set, r))
            return check_fail("bad region descriptor");
        if (l->prev != (prev ? &prev->link : &set->list))
            return check_fail("list back link broken");
        if (prev && prev->end > r->start)
            return check_fail("regions overlap");
        prev = r;
        l = l->next;
        t = region_tree_next(t);
    }
    if (l != &set->list || t)
        return check_fail("list longer than count");
    if (set->list.prev != (prev ? &prev->link : &set->list))
        return check_fail("list tail link broken");

    /* Every descriptor not in the set is on the free list exactly once. */
    size_t nfree = 0;
    for (const struct region *f = set->free; f; f = f->rb_right) {
        if (++nfree > set->pool_cap - set->count)
            return check_fail("free list too long (or a cycle)");
        if (!in_pool(set, f) || f->rb_balance != REGION_TREE_FREE)
            return check_fail("bad descriptor on the free list");
    }
    if (nfree != set->pool_cap - set->count)
        return check_fail("descriptors lost from the free list");
    return true;
}
