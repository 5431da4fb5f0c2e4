/*
 * Active and inactive LRU lists of guest frames (Linux's lruvec for
 * anonymous pages). Head = most recently added, tail = next to be looked
 * at. A frame on a list has FRAME_LRU, and FRAME_ACTIVE exactly when it is
 * on the active list. The lists hold no reference: a frame freed while
 * listed is taken off by lru_del() from the pool's on_free hook.
 *
 * Which frames are listed: 4 KiB guest frames (never tables, the zero
 * frame, pinned frames or 2 MiB blocks).
 */
#ifndef PV_SWAP_LRU_H
#define PV_SWAP_LRU_H

#include "ept/frame.h"

enum lru_list {
    LRU_INACTIVE = 0,
    LRU_ACTIVE = 1,
    LRU_NR,
};

struct lru {
    struct list_node head[LRU_NR];
    size_t len[LRU_NR];
    uint64_t added, removed, moved[LRU_NR]; /* moved[l]: moves onto list l */
};

void lru_init(struct lru *l);

/* Frames the lists may hold (see above). */
bool lru_eligible(const struct frame *f);

/* Put f (on no list) at the head of list which. */
void lru_add(struct lru *l, struct frame *f, enum lru_list which);
/* Move f (listed) to the inactive tail: the next frame reclaim looks at. */
void lru_move_tail(struct lru *l, struct frame *f);
/* Take f off its list (no-op when on none). */
void lru_del(struct lru *l, struct frame *f);
/* Move f (listed) to the head of list to. A frame moved to the active list
 * was used again: it loses FRAME_ONCE. */
void lru_move(struct lru *l, struct frame *f, enum lru_list to);
/* The tail of list which, or NULL when empty. */
struct frame *lru_tail(const struct lru *l, enum lru_list which);

static inline size_t lru_total(const struct lru *l)
{
    return l->len[LRU_INACTIVE] + l->len[LRU_ACTIVE];
}

/* Lengths and flags agree with the lists; every listed frame eligible and
 * in fp. */
bool lru_check(const struct lru *l, const struct frame_pool *fp);

#endif
