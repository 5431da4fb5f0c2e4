/* Swap cache: slot -> frame hash table (see swap_cache.h). */
#include "swap/swap_cache.h"

#include <string.h>

#include "vmm/lib/log.h"

#define HASH_MUL 0x9e3779b97f4a7c15ull /* 2^64 / golden ratio */
#define MIN_CAP 16u
#define META_ALIGN 8u

static size_t cap_for(size_t nframes)
{
    size_t cap = MIN_CAP;
    while (cap < 2 * nframes)
        cap <<= 1;
    return cap;
}

size_t swap_cache_meta_size(size_t nframes)
{
    return cap_for(nframes) * sizeof(struct swap_cache_ent);
}

int swap_cache_init(struct swap_cache *c, void *mem, size_t mem_len, size_t nframes)
{
    memset(c, 0, sizeof(*c));
    size_t cap = cap_for(nframes);
    if (!mem || ((uintptr_t)mem % META_ALIGN) != 0 ||
        mem_len < cap * sizeof(struct swap_cache_ent))
        return -PV_EINVAL;
    c->tab = mem;
    c->cap = cap;
    memset(c->tab, 0, cap * sizeof(struct swap_cache_ent));
    return 0;
}

static size_t home(const struct swap_cache *c, uint64_t slot)
{
    return (size_t)((slot * HASH_MUL) >> 32) & (c->cap - 1);
}

/* Index of slot's entry, or of the empty entry where it would go. */
static size_t probe(const struct swap_cache *c, uint64_t slot)
{
    size_t i = home(c, slot);
    while (c->tab[i].f && c->tab[i].slot != slot)
        i = (i + 1) & (c->cap - 1);
    return i;
}

struct frame *swap_cache_lookup(struct swap_cache *c, uint64_t slot)
{
    c->lookups++;
    struct frame *f = c->tab[probe(c, slot)].f;
    c->hits += f != NULL;
    return f;
}

struct frame *swap_cache_peek(const struct swap_cache *c, uint64_t slot)
{
    return c->tab[probe(c, slot)].f;
}

int swap_cache_insert(struct swap_cache *c, uint64_t slot, struct frame *f)
{
    if (f->flags & FRAME_SWAPCACHE)
        return -PV_EEXIST;
    if (c->n + 1 >= c->cap)
        return -PV_ENOMEM; /* keep one empty entry: probing must stop */
    size_t i = probe(c, slot);
    if (c->tab[i].f)
        return -PV_EEXIST;
    c->tab[i].slot = slot;
    c->tab[i].f = f;
    c->n++;
    c->inserts++;
    frame_get(f);
    f->flags |= FRAME_SWAPCACHE;
    f->swap_slot = slot;
    return 0;
}

/* Backward-shift deletion: pull later members of the probe run into the
 * hole so that every entry stays reachable from its home. */
static void delete_at(struct swap_cache *c, size_t hole)
{
    size_t mask = c->cap - 1;
    size_t j = hole;
    for (;;) {
        j = (j + 1) & mask;
        if (!c->tab[j].f)
            break;
        size_t h = home(c, c->tab[j].slot);
        /* j's entry may move to hole if its home is not in (hole, j]. */
        bool stays = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j);
        if (!stays) {
            c->tab[hole] = c->tab[j];
            hole = j;
        }
    }
    c->tab[hole].f = NULL;
    c->tab[hole].slot = 0;
}

bool swap_cache_remove(struct swap_cache *c, struct frame_pool *fp, uint64_t slot)
{
    size_t i = probe(c, slot);
    struct frame *f = c->tab[i].f;
    if (!f)
        return false;
    delete_at(c, i);
    c->n--;
    c->removes++;
    f->flags &= ~FRAME_SWAPCACHE;
    f->swap_slot = SWAP_SLOT_NONE;
    frame_put(fp, f);
    return true;
}

bool swap_cache_check(const struct swap_cache *c)
{
    size_t n = 0;
    for (size_t i = 0; i < c->cap; i++) {
        const struct swap_cache_ent *e = &c->tab[i];
        if (!e->f)
            continue;
        n++;
        if (probe(c, e->slot) != i) {
            pv_err("swap_cache_check: slot %llu unreachable", (unsigned long long)e->slot);
            return false;
        }
        if (!(e->f->flags & FRAME_SWAPCACHE) || e->f->swap_slot != e->slot ||
            e->f->refcount == 0) {
            pv_err("swap_cache_check: frame of slot %llu does not point back",
                   (unsigned long long)e->slot);
            return false;
        }
    }
    if (n != c->n) {
        pv_err("swap_cache_check: %zu entries, counted %zu", c->n, n);
        return false;
    }
    return true;
}
