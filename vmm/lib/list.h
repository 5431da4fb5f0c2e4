/* Intrusive doubly linked circular list (the Linux list_head idiom). */
#ifndef PV_EPT_LIST_H
#define PV_EPT_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct list_node {
    struct list_node *prev, *next;
};

#define container_of(ptr, type, member) \
    ((type *)((char *)(ptr) - offsetof(type, member)))

static inline void list_init(struct list_node *head)
{
    head->prev = head->next = head;
}

static inline bool list_empty(const struct list_node *head)
{
    return head->next == head;
}

static inline void list_insert_after(struct list_node *pos, struct list_node *n)
{
    n->prev = pos;
    n->next = pos->next;
    pos->next->prev = n;
    pos->next = n;
}

static inline void list_insert_before(struct list_node *pos, struct list_node *n)
{
    list_insert_after(pos->prev, n);
}

static inline void list_remove(struct list_node *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = n;
}

#define list_push_front(head, n) list_insert_after((head), (n))
#define list_push_back(head, n) list_insert_before((head), (n))

#endif
