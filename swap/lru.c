/* Active / inactive LRU lists (see lru.h). */
#include "swap/lru.h"

#include "vmm/lib/log.h"

#define NOT_LRU (FRAME_ZERO | FRAME_TABLE | FRAME_PINNED | FRAME_HUGE_HEAD | FRAME_HUGE_TAIL)

void lru_init(struct lru *l)
{
    for (int i = 0; i < LRU_NR; i++) {
        list_init(&l->head[i]);
        l->len[i] = 0;
        l->moved[i] = 0;
    }
    l->added = l->removed = 0;
}

bool lru_eligible(const struct frame *f)
{
    return (f->flags & FRAME_GUEST) && !(f->flags & NOT_LRU) && f->refcount > 0;
}

static enum lru_list list_of(const struct frame *f)
{
    return (f->flags & FRAME_ACTIVE) ? LRU_ACTIVE : LRU_INACTIVE;
}

void lru_add(struct lru *l, struct frame *f, enum lru_list which)
{
    if (f->flags & FRAME_LRU) {
        pv_err("lru: frame added twice");
        return;
    }
    list_push_front(&l->head[which], &f->lru);
    f->flags |= FRAME_LRU;
    if (which == LRU_ACTIVE)
        f->flags |= FRAME_ACTIVE;
    else
        f->flags &= ~FRAME_ACTIVE;
    l->len[which]++;
    l->added++;
}

void lru_del(struct lru *l, struct frame *f)
{
    if (!(f->flags & FRAME_LRU))
        return;
    list_remove(&f->lru);
    l->len[list_of(f)]--;
    f->flags &= ~(FRAME_LRU | FRAME_ACTIVE);
    l->removed++;
}

void lru_move(struct lru *l, struct frame *f, enum lru_list to)
{
    if (!(f->flags & FRAME_LRU))
        return;
    list_remove(&f->lru);
    l->len[list_of(f)]--;
    list_push_front(&l->head[to], &f->lru);
    if (to == LRU_ACTIVE)
        f->flags = (f->flags | FRAME_ACTIVE) & ~FRAME_ONCE;
    else
        f->flags &= ~FRAME_ACTIVE;
    l->len[to]++;
    l->moved[to]++;
}

void lru_move_tail(struct lru *l, struct frame *f)
{
    if (!(f->flags & FRAME_LRU))
        return;
    list_remove(&f->lru);
    l->len[list_of(f)]--;
    list_push_back(&l->head[LRU_INACTIVE], &f->lru);
    f->flags &= ~FRAME_ACTIVE;
    l->len[LRU_INACTIVE]++;
    l->moved[LRU_INACTIVE]++;
}

struct frame *lru_tail(const struct lru *l, enum lru_list which)
{
    const struct list_node *h = &l->head[which];
    if (list_empty(h))
        return NULL;
    return container_of(h->prev, struct frame, lru);
}

bool lru_check(const struct lru *l, const struct frame_pool *fp)
{
    for (int i = 0; i < LRU_NR; i++) {
        size_t n = 0;
        const struct list_node *h = &l->head[i];
        for (const struct list_node *p = h->next; p != h; p = p->next) {
            const struct frame *f = container_of(p, struct frame, lru);
            if (++n > fp->nframes || f < fp->desc || f >= fp->desc + fp->nframes) {
                pv_err("lru_check: list %d leaves the pool or loops", i);
                return false;
            }
            if (p->next->prev != p) {
                pv_err("lru_check: list %d links broken", i);
                return false;
            }
            if (!(f->flags & FRAME_LRU) || list_of(f) != (enum lru_list)i ||
                !lru_eligible(f)) {
                pv_err("lru_check: frame %zu on list %d has flags %#x refcount %u",
                       (size_t)(f - fp->desc), i, f->flags, f->refcount);
                return false;
            }
        }
        if (n != l->len[i]) {
            pv_err("lru_check: list %d has %zu frames, length says %zu", i, n, l->len[i]);
            return false;
        }
    }
    size_t flagged = 0;
    for (size_t k = 0; k < fp->nframes; k++)
        flagged += (fp->desc[k].flags & FRAME_LRU) != 0;
    if (flagged != lru_total(l)) {
        pv_err("lru_check: %zu frames flagged LRU, %zu listed", flagged, lru_total(l));
        return false;
    }
    return true;
}
