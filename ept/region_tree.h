/*
 * Private to ept/region*.c: the AVL tree behind struct region_set.
 *
 * The tree is intrusive (rb_left/rb_right/rb_parent of struct region) and
 * keyed by start. rb_balance holds the height of the node's subtree (a leaf
 * is 1), so a descriptor sitting on the free list can be told apart by
 * REGION_TREE_FREE. Because the set never holds overlapping regions, ordering
 * by start is also ordering by end: callers may move a node's start or end in
 * place as long as it stays clear of its neighbours, without touching the tree.
 */
#ifndef PV_EPT_REGION_TREE_H
#define PV_EPT_REGION_TREE_H

#include "ept/region.h"

/* rb_balance of a descriptor that is on the free list, not in the tree. */
#define REGION_TREE_FREE (-1)

/* Link n (not in the tree, start not yet present) and rebalance. */
void region_tree_insert(struct region **root, struct region *n);

/* Unlink n (in the tree) and rebalance. n's linkage is left undefined. */
void region_tree_erase(struct region **root, struct region *n);

/* The node with the lowest end above addr (Linux find_vma), or NULL. */
struct region *region_tree_find(struct region *root, gpa_t addr);

/*
 * Verify parent pointers, strict start order, stored heights and the AVL
 * balance rule below root. Counts the nodes into *nodes and gives up (false)
 * beyond max_nodes, so a corrupted cycle cannot hang the check. On failure
 * *why names the first violation found.
 */
bool region_tree_check(const struct region *root, size_t max_nodes,
                       size_t *nodes, const char **why);

/* In-order neighbours through parent pointers; NULL past either end. */
struct region *region_tree_first(struct region *root);
struct region *region_tree_next(const struct region *n);

#endif
