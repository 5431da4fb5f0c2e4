/*
 * AVL tree of regions keyed by start (the mm_rb tree of the Linux model; Linux
 * itself used an AVL tree for VMAs up to 2.4.9). Heights are stored in
 * rb_balance; every update retraces towards the root and stops as soon as a
 * subtree's height is what it was before, so insert and erase are O(log n).
 */
#include "ept/region_tree.h"

/*
 * An AVL tree of n nodes is at most about 1.44 * log2(n + 2) high, so no
 * pool that fits in memory gets near this; a deeper walk means a cycle.
 */
#define REGION_TREE_MAX_DEPTH 96

static int height(const struct region *n)
{
    return n ? n->rb_balance : 0;
}

static void fix_height(struct region *n)
{
    int hl = height(n->rb_left), hr = height(n->rb_right);
    n->rb_balance = 1 + (hl > hr ? hl : hr);
}

/* Make parent (or the root, when parent is NULL) point at new instead of old. */
static void replace_child(struct region **root, struct region *parent,
                          struct region *old, struct region *new)
{
    if (!parent)
        *root = new;
    else if (parent->rb_left == old)
        parent->rb_left = new;
    else
        parent->rb_right = new;
}

static struct region *rotate_left(struct region **root, struct region *x)
{
    struct region *y = x->rb_right;

    x->rb_right = y->rb_left;
    if (y->rb_left)
        y->rb_left->rb_parent = x;
    y->rb_parent = x->rb_parent;
    replace_child(root, x->rb_parent, x, y);
    y->rb_left = x;
    x->rb_parent = y;
    fix_height(x);
    fix_height(y);
    return y;
}

static struct region *rotate_right(struct region **root, struct region *x)
{
    struct region *y = x->rb_left;

    x->rb_left = y->rb_right;
    if (y->rb_right)
        y->rb_right->rb_parent = x;
    y->rb_parent = x->rb_parent;
    replace_child(root, x->rb_parent, x, y);
    y->rb_right = x;
    x->rb_parent = y;
    fix_height(x);
    fix_height(y);
    return y;
}

/* Restore the AVL rule at n (children already valid); returns the subtree root. */
static struct region *rebalance(struct region **root, struct region *n)
{
    int bal = height(n->rb_left) - height(n->rb_right);

    if (bal > 1) {
        struct region *l = n->rb_left;
        if (height(l->rb_left) < height(l->rb_right))
            rotate_left(root, l);
        return rotate_right(root, n);
    }
    if (bal < -1) {
        struct region *r = n->rb_right;
        if (height(r->rb_right) < height(r->rb_left))
            rotate_right(root, r);
        return rotate_left(root, n);
    }
    fix_height(n);
    return n;
}

/*
 * Walk up from n, whose subtree just changed. n's stored height is still the
 * pre-change one, so once a rebalanced subtree is as high as before, nothing
 * above it can have changed.
 */
static void retrace(struct region **root, struct region *n)
{
    while (n) {
        int before = n->rb_balance;
        struct region *top = rebalance(root, n);
        if (top->rb_balance == before)
            return;
        n = top->rb_parent;
    }
}

void region_tree_insert(struct region **root, struct region *n)
{
    struct region *parent = NULL;
    struct region **link = root;

    while (*link) {
        parent = *link;
        link = n->start < parent->start ? &parent->rb_left : &parent->rb_right;
    }
    n->rb_left = n->rb_right = NULL;
    n->rb_parent = parent;
    n->rb_balance = 1;
    *link = n;
    retrace(root, parent);
}

void region_tree_erase(struct region **root, struct region *n)
{
    struct region *from;

    if (!n->rb_left || !n->rb_right) {
        struct region *child = n->rb_left ? n->rb_left : n->rb_right;
        if (child)
            child->rb_parent = n->rb_parent;
        replace_child(root, n->rb_parent, n, child);
        from = n->rb_parent;
    } else {
        /* Two children: the in-order successor s takes n's place. */
        struct region *s = n->rb_right;
        while (s->rb_left)
            s = s->rb_left;
        if (s->rb_parent == n) {
            from = s;
        } else {
            from = s->rb_parent;
            from->rb_left = s->rb_right;
            if (s->rb_right)
                s->rb_right->rb_parent = from;
            s->rb_right = n->rb_right;
            n->rb_right->rb_parent = s;
        }
        s->rb_left = n->rb_left;
        n->rb_left->rb_parent = s;
        s->rb_parent = n->rb_parent;
        replace_child(root, n->rb_parent, n, s);
        /* s now roots what n rooted: it inherits n's pre-erase height. */
        s->rb_balance = n->rb_balance;
    }
    n->rb_left = n->rb_right = n->rb_parent = NULL;
    retrace(root, from);
}

/*
 * A node containing addr is the answer at once: regions do not overlap, so
 * every other region ending above addr starts at or after that node's end.
 */
struct region *region_tree_find(struct region *root, gpa_t addr)
{
    struct region *best = NULL;

    while (root) {
        if (root->end > addr) {
            best = root;
            if (root->start <= addr)
                break;
            root = root->rb_left;
        } else {
            root = root->rb_right;
        }
    }
    return best;
}

struct region *region_tree_first(struct region *root)
{
    if (!root)
        return NULL;
    while (root->rb_left)
        root = root->rb_left;
    return root;
}

struct region *region_tree_next(const struct region *n)
{
    if (n->rb_right)
        return region_tree_first(n->rb_right);
    while (n->rb_parent && n->rb_parent->rb_right == n)
        n = n->rb_parent;
    return n->rb_parent;
}

struct tree_check {
    size_t max_nodes, nodes;
    const char *why;
};

/*
 * Height of the subtree at n, or -1 on a violation. lo/hi are the nearest
 * ancestors n must sort after/before (NULL: unbounded).
 */
static int check_node(const struct region *n, const struct region *parent,
                      const struct region *lo, const struct region *hi,
                      int depth, struct tree_check *c)
{
    if (!n)
        return 0;
    if (depth > REGION_TREE_MAX_DEPTH || ++c->nodes > c->max_nodes) {
        c->why = "tree has more nodes than the set counts (or a cycle)";
        return -1;
    }
    if (n->rb_parent != parent) {
        c->why = "wrong parent pointer";
        return -1;
    }
    if ((lo && n->start <= lo->start) || (hi && n->start >= hi->start)) {
        c->why = "tree out of start order";
        return -1;
    }
    int hl = check_node(n->rb_left, n, lo, n, depth + 1, c);
    if (hl < 0)
        return -1;
    int hr = check_node(n->rb_right, n, n, hi, depth + 1, c);
    if (hr < 0)
        return -1;
    int h = 1 + (hl > hr ? hl : hr);
    if (n->rb_balance != h) {
        c->why = "stored height is wrong";
        return -1;
    }
    if (hl - hr > 1 || hr - hl > 1) {
        c->why = "AVL balance violated";
        return -1;
    }
    return h;
}

bool region_tree_check(const struct region *root, size_t max_nodes,
                       size_t *nodes, const char **why)
{
    struct tree_check c = { .max_nodes = max_nodes, .nodes = 0, .why = NULL };
    bool ok = check_node(root, NULL, NULL, NULL, 0, &c) >= 0;

    *nodes = c.nodes;
    *why = c.why;
    return ok;
}
