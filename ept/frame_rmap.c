/*
 * Frame pool: the reverse map (see ept/frame.h for the contract).
 *
 * The first gpa of each frame is inline in the descriptor, so items from the
 * pool's fixed free list (carved by frame_pool_init*, ept/frame.c) are only
 * needed for frames mapped at two or more gpas (shared / COW frames), which
 * we expect to be a minority; running out is reported as -PV_ENOMEM.
 */
#include "ept/frame.h"

int frame_rmap_add(struct frame_pool *fp, struct frame *f, gpa_t gpa)
{
    if (f->mapcount == 0) {
        f->rmap = gpa;
        f->mapcount = 1;
        return PV_OK;
    }
    struct rmap_item *it = fp->rmap_free;
    if (!it)
        return -PV_ENOMEM;
    fp->rmap_free = it->next;
    fp->rmap_used++;
    it->gpa = gpa;
    it->next = f->rmap_more;
    f->rmap_more = it;
    f->mapcount++;
    return PV_OK;
}

int frame_rmap_del(struct frame_pool *fp, struct frame *f, gpa_t gpa)
{
    if (f->mapcount == 0)
        return -PV_ENOENT;
    struct rmap_item *victim;
    if (f->rmap == gpa) {
        victim = f->rmap_more;
        if (!victim) {
            f->mapcount = 0;
            return PV_OK;
        }
        f->rmap = victim->gpa; /* promote the first chained gpa inline */
        f->rmap_more = victim->next;
    } else {
        struct rmap_item **pp = &f->rmap_more;
        while (*pp && (*pp)->gpa != gpa)
            pp = &(*pp)->next;
        if (!*pp)
            return -PV_ENOENT;
        victim = *pp;
        *pp = victim->next;
    }
    victim->next = fp->rmap_free;
    fp->rmap_free = victim;
    fp->rmap_used--;
    f->mapcount--;
    return PV_OK;
}

size_t frame_rmap_get(const struct frame *f, gpa_t *out, size_t max)
{
    if (f->mapcount == 0)
        return 0;
    size_t n = 0;
    if (n < max)
        out[n] = f->rmap;
    n++;
    for (const struct rmap_item *it = f->rmap_more; it; it = it->next, n++)
        if (n < max)
            out[n] = it->gpa;
    return f->mapcount;
}

/* Every item of f goes back to the free list; f maps nothing any more. */
void frame_rmap_release(struct frame_pool *fp, struct frame *f)
{
    struct rmap_item *it = f->rmap_more;
    while (it) {
        struct rmap_item *next = it->next;
        it->next = fp->rmap_free;
        fp->rmap_free = it;
        fp->rmap_used--;
        it = next;
    }
    f->rmap_more = NULL;
    f->mapcount = 0;
}
