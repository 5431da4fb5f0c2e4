/*
 * Stage-2 walker shared by EPT and NPT (contract: ept/s2pt.h).
 *
 * Table bookkeeping: each table page is a FRAME_TABLE pool frame whose
 * descriptor's mapcount counts the table's non-zero entries (tables, leaves,
 * swap entries). Every entry write goes through s2_set_entry() (s2pt_walk.h),
 * which keeps the count, so "the table became empty" is an O(1) test and
 * empty tables are freed at once (the root excepted). pt->shape counts table
 * pages added and freed, which is what keeps a struct s2_slot honest.
 *
 * Walks: an operation walks its path once (mask tests, s2pt_walk.h); only
 * when the path is incomplete (a missing table, a large leaf to split) does
 * it reserve table pages and go on from where the walk stopped.
 *
 * Failure atomicity: an operation first works out, without changing
 * anything, how many table pages it can need at most (missing levels on the
 * path, plus splits of large leaves at the edges of its range), takes them
 * all from the pool into a small reserve, and only then edits the tables;
 * what is left in the reserve goes back. So -PV_ENOMEM always means "nothing
 * changed".
 *
 * Invalidation: an operation collects the gpa span of every entry change
 * that needs one (see needs_inv()) and calls the hook once at the end with
 * the union of those spans, which never exceeds the operation's range.
 * Splitting a leaf keeps every translation as it was and needs none by
 * itself; the hook must therefore drop cached translations of any page size
 * that cover an address in its range (a split leaf's old large one too).
 *
 * Entry updates are single 64-bit stores; the only read-modify-write the
 * hardware can race with (A/D test-and-clear) is atomic. Concurrent splits
 * of leaves that running vCPUs may be setting A/D bits in are not handled:
 * the first version has one vCPU, and it is not running while the
 * hypervisor edits its tables.
 */
#include "ept/s2pt.h"

#include <string.h>

#include "ept/s2pt_walk.h"
#include "vmm/lib/log.h"

#define S2_RESERVE_MAX 8 /* two edges x (1G->2M->4K) plus a path, rounded up */

/* ---- small helpers ------------------------------------------------------ */

static int level_of_size(uint64_t size)
{
    for (int l = 1; l <= S2_LEAF_MAX_LEVEL; l++)
        if (size == s2_level_size(l))
            return l;
    return 0;
}

static bool range_ok(gpa_t gpa, uint64_t size)
{
    return size != 0 && IS_ALIGNED(gpa, PAGE_SIZE) && IS_ALIGNED(size, PAGE_SIZE) &&
           gpa < S2_GPA_LIMIT && size <= S2_GPA_LIMIT - gpa;
}

/* ---- table reserve ------------------------------------------------------ */

struct reserve {
    struct frame *f[S2_RESERVE_MAX];
    int n;
};

static int reserve_fill(struct s2pt *pt, struct reserve *r, int count)
{
    r->n = 0;
    if (count > S2_RESERVE_MAX)
        return -PV_EINVAL;
    while (r->n < count) {
        struct frame *f = frame_alloc_zeroed(pt->fp, FRAME_TABLE);
        if (!f) {
            while (r->n > 0)
                frame_put(pt->fp, r->f[--r->n]);
            return -PV_ENOMEM;
        }
        r->f[r->n++] = f;
    }
    return PV_OK;
}

/* A zeroed table page (0 when the reserve was sized wrong: a bug). */
static hpa_t reserve_take(struct s2pt *pt, struct reserve *r)
{
    if (r->n == 0) {
        pv_err("s2pt: table reserve exhausted");
        return 0;
    }
    pt->tables++;
    pt->shape++;
    return frame_hpa(pt->fp, r->f[--r->n]);
}

static void reserve_release(struct s2pt *pt, struct reserve *r)
{
    while (r->n > 0)
        frame_put(pt->fp, r->f[--r->n]);
}

static void table_free(struct s2pt *pt, hpa_t table)
{
    struct frame *f = frame_of(pt->fp, table);
    if (!f)
        return;
    f->mapcount = 0;
    frame_put(pt->fp, f);
    pt->tables--;
    pt->shape++;
}

/* ---- invalidation accumulator ------------------------------------------ */

struct inv {
    gpa_t lo, hi;
    bool need;
};

static void inv_add(struct inv *v, gpa_t gpa, uint64_t size)
{
    if (!v->need) {
        v->lo = gpa;
        v->hi = gpa + size;
        v->need = true;
        return;
    }
    if (gpa < v->lo)
        v->lo = gpa;
    if (gpa + size > v->hi)
        v->hi = gpa + size;
}

static void inv_flush(struct s2pt *pt, const struct inv *v)
{
    if (v->need)
        s2pt_invalidate(pt, S2_INV_RANGE, v->lo, v->hi - v->lo);
}

void s2pt_invalidate(struct s2pt *pt, enum s2_inv_scope scope, gpa_t gpa,
                     uint64_t size)
{
    pt->invalidations++;
    if (pt->invalidate)
        pt->invalidate(pt, scope, gpa, size, pt->inv_ctx);
}

/*
 * Replacing a present entry old by new needs an invalidation unless new
 * allows at least everything old did, on the same frame with the same
 * memory type and without losing an A/D bit (a cached translation would
 * otherwise keep the old meaning, or never set A/D again).
 */
static inline bool needs_inv(const struct s2pt *pt, uint64_t old, uint64_t new,
                             int level)
{
    const struct s2pt_format *fmt = pt->fmt;
    if (!s2_hw_present(fmt, old))
        return false;
    if (!s2_leaf(fmt, new, level) ||
        s2_leaf_addr(fmt, old, level) != s2_leaf_addr(fmt, new, level))
        return true; /* the common replacement (cow) stops here */
    if (fmt->memtype(old) != fmt->memtype(new))
        return true;
    if (fmt->rights(old) & ~fmt->rights(new))
        return true;
    return (old & s2_ad_bits(fmt) & ~new) != 0;
}

/* ---- walking ------------------------------------------------------------ */

/*
 * Find the entry that decides gpa: a leaf, swap entry or empty slot, at the
 * lowest level reached. Returns the table holding it and its level.
 */
static hpa_t walk(const struct s2pt *pt, gpa_t gpa, int *level_out)
{
    *level_out = S2_LEVELS;
    return s2_walk_from(pt, pt->root, level_out, gpa, 1);
}

/* Replace the large leaf in slot idx of table (at level) by a table of
 * leaves one level down that keep every translation, right and A/D bit. */
static bool split_leaf(struct s2pt *pt, hpa_t table, unsigned idx, int level,
                       struct reserve *r)
{
    const struct s2pt_format *fmt = pt->fmt;
    uint64_t e = s2_table_va(table)[idx];
    hpa_t child = reserve_take(pt, r);
    if (!child)
        return false;
    hpa_t base = s2_leaf_addr(fmt, e, level);
    uint32_t rights = fmt->rights(e);
    enum memtype mt = fmt->memtype(e);
    uint64_t keep = e & s2_ad_bits(fmt);
    uint64_t csize = s2_level_size(level - 1);
    uint64_t *c = s2_table_va(child);
    for (unsigned i = 0; i < S2_ENTRIES; i++)
        c[i] = fmt->make_leaf(base + i * csize, rights, mt, level - 1) | keep;
    frame_of(pt->fp, child)->mapcount = S2_ENTRIES;
    s2_set_entry(pt, table, idx, fmt->make_table(child));
    return true;
}

/*
 * Make sure a slot at level t exists for gpa, creating tables and splitting
 * larger leaves on the way (from r), starting at (table, level) on gpa's
 * path (the root and S2_LEVELS, or where a walk stopped). Returns the table
 * holding the slot, or 0 if the reserve ran dry (a sizing bug; tables stay
 * consistent).
 */
static hpa_t descend(struct s2pt *pt, gpa_t gpa, int t, struct reserve *r,
                     hpa_t table, int level)
{
    const struct s2pt_format *fmt = pt->fmt;
    for (; level > t; level--) {
        unsigned idx = s2_index(gpa, level);
        uint64_t e = s2_table_va(table)[idx];
        if (s2_leaf(fmt, e, level)) {
            if (!split_leaf(pt, table, idx, level, r))
                return 0;
        } else if (!s2_table(fmt, e, level)) {
            /* empty (a swap entry never sits above level 1) */
            hpa_t nt = reserve_take(pt, r);
            if (!nt)
                return 0;
            s2_set_entry(pt, table, idx, fmt->make_table(nt));
        }
        table = s2_table_addr(fmt, s2_table_va(table)[idx]);
    }
    return table;
}

/*
 * Complete gpa's path down to level t from where a walk towards t stopped
 * (table at level; level > t: a missing table or a larger leaf there),
 * reserving first the level - t table pages that can take. Returns the
 * table holding the level-t slot, or 0 with *rc set (nothing changed).
 */
static hpa_t complete_path(struct s2pt *pt, gpa_t gpa, int t, hpa_t table,
                           int level, int *rc)
{
    struct reserve r;
    *rc = reserve_fill(pt, &r, level - t);
    if (*rc)
        return 0;
    table = descend(pt, gpa, t, &r, table, level);
    reserve_release(pt, &r);
    if (!table)
        *rc = -PV_ENOMEM;
    return table;
}

/* ---- init / destroy ----------------------------------------------------- */

int s2pt_init(struct s2pt *pt, const struct s2pt_format *fmt,
              struct frame_pool *fp, bool use_ad, s2pt_invalidate_fn inv,
              void *inv_ctx)
{
    memset(pt, 0, sizeof(*pt));
    pt->fmt = fmt;
    pt->fp = fp;
    pt->use_ad = use_ad && fmt->ad_capable;
    pt->invalidate = inv;
    pt->inv_ctx = inv_ctx;
    struct frame *root = frame_alloc_zeroed(fp, FRAME_TABLE);
    if (!root)
        return -PV_ENOMEM;
    pt->root = frame_hpa(fp, root);
    pt->tables = 1;
    return PV_OK;
}

static void free_tree(struct s2pt *pt, hpa_t table, int level)
{
    uint64_t *t = s2_table_va(table);
    for (unsigned i = 0; level > 1 && i < S2_ENTRIES; i++)
        if (s2_table(pt->fmt, t[i], level))
            free_tree(pt, s2_table_addr(pt->fmt, t[i]), level - 1);
    table_free(pt, table);
}

void s2pt_destroy(struct s2pt *pt)
{
    if (!pt->root)
        return;
    free_tree(pt, pt->root, S2_LEVELS);
    pt->root = 0;
}

/* ---- map ---------------------------------------------------------------- */

/*
 * Write leaf new (mapping hpa) into slot idx of table at level, replacing
 * what is there (not a table): a leaf of the same page keeps its A/D
 * history; a replaced leaf the hardware may cache is added to v.
 */
static inline void install_leaf(struct s2pt *pt, hpa_t table, unsigned idx,
                                int level, uint64_t new, hpa_t hpa, gpa_t gpa,
                                struct inv *v)
{
    const struct s2pt_format *fmt = pt->fmt;
    uint64_t old = s2_table_va(table)[idx];
    if (s2_leaf(fmt, old, level)) {
        uint64_t size = s2_level_size(level);
        if (s2_leaf_addr(fmt, old, level) == hpa)
            new |= old & s2_ad_bits(fmt); /* same page: history still true */
        if (needs_inv(pt, old, new, level))
            inv_add(v, ALIGN_DOWN(gpa, size), size);
    }
    s2_set_entry(pt, table, idx, new);
}

int s2pt_map(struct s2pt *pt, gpa_t gpa, hpa_t hpa, uint64_t size,
             uint32_t rights, enum memtype mt)
{
    const struct s2pt_format *fmt = pt->fmt;
    int t = level_of_size(size);
    if (!t || !IS_ALIGNED(gpa, size) || !IS_ALIGNED(hpa, size) ||
        gpa >= S2_GPA_LIMIT || (hpa & ~fmt->addr_mask) != 0)
        return -PV_EINVAL;

    /* A table in the slot only when the path already reached level t. */
    int level = S2_LEVELS;
    hpa_t table = s2_walk_from(pt, pt->root, &level, gpa, t);
    unsigned idx = s2_index(gpa, t);
    uint64_t old = level == t ? s2_table_va(table)[idx] : 0;
    if (s2_table(fmt, old, t) &&
        frame_of(pt->fp, s2_table_addr(fmt, old))->mapcount != 0)
        return -PV_EEXIST;
    if (level != t) {
        int rc;
        table = complete_path(pt, gpa, t, table, level, &rc);
        if (!table)
            return rc;
    }

    struct inv v = {0};
    if (s2_table(fmt, old, t)) {
        /* empty (checked above): paging-structure caches may hold it */
        s2_set_entry(pt, table, idx, 0);
        table_free(pt, s2_table_addr(fmt, old));
        inv_add(&v, gpa, size);
    }
    install_leaf(pt, table, idx, t, fmt->make_leaf(hpa, rights, mt, t), hpa,
                 gpa, &v);
    inv_flush(pt, &v);
    return PV_OK;
}

int s2pt_install_at(struct s2pt *pt, const struct s2_slot *slot, gpa_t gpa,
                    hpa_t hpa, uint32_t rights, enum memtype mt)
{
    const struct s2pt_format *fmt = pt->fmt;
    if (!slot || slot->level != 1 || slot->shape != pt->shape ||
        slot->page != gpa || !IS_ALIGNED(hpa, PAGE_SIZE) ||
        (hpa & ~fmt->addr_mask) != 0)
        return s2pt_map(pt, gpa, hpa, PAGE_SIZE, rights, mt);
    struct inv v = {0};
    install_leaf(pt, slot->table, slot->idx, 1,
                 fmt->make_leaf(hpa, rights, mt, 1), hpa, gpa, &v);
    inv_flush(pt, &v);
    return PV_OK;
}

/* ---- unmap / protect over a range -------------------------------------- */

struct range_op {
    bool unmap;            /* else protect */
    uint32_t rights;       /* protect */
    struct reserve res;
    struct inv inv;
    bool short_of_tables;
};

/* The leaf at entry e needs changing by op (protect skips no-op leaves). */
static bool op_changes_leaf(const struct s2pt *pt, const struct range_op *op,
                            uint64_t e)
{
    return op->unmap || pt->fmt->set_rights(e, op->rights) != e;
}

/* Splits the range edge at gpa forces: the leaf containing gpa, if larger
 * than the alignment of gpa, is split down to the level where gpa is a
 * boundary. */
static int edge_splits(const struct s2pt *pt, const struct range_op *op,
                       gpa_t edge)
{
    if (edge >= S2_GPA_LIMIT)
        return 0;
    int level;
    hpa_t table = walk(pt, edge, &level);
    uint64_t e = s2_table_va(table)[s2_index(edge, level)];
    if (level == 1 || !s2_leaf(pt->fmt, e, level) ||
        !op_changes_leaf(pt, op, e))
        return 0;
    int n = 0;
    for (int l = level; l > 1 && !IS_ALIGNED(edge, s2_level_size(l)); l--)
        n++;
    return n;
}

static void range_leaf(struct s2pt *pt, struct range_op *op, hpa_t table,
                       unsigned idx, int level, gpa_t eb)
{
    const struct s2pt_format *fmt = pt->fmt;
    uint64_t size = s2_level_size(level);
    uint64_t e = s2_table_va(table)[idx];
    if (op->unmap) {
        if (s2_hw_present(fmt, e))
            inv_add(&op->inv, eb, size);
        s2_set_entry(pt, table, idx, 0);
        return;
    }
    uint64_t n = fmt->set_rights(e, op->rights);
    if (n == e)
        return;
    if (needs_inv(pt, e, n, level))
        inv_add(&op->inv, eb, size);
    s2_set_entry(pt, table, idx, n);
}

static void range_walk(struct s2pt *pt, struct range_op *op, hpa_t table,
                       int level, gpa_t lo, gpa_t hi)
{
    const struct s2pt_format *fmt = pt->fmt;
    uint64_t size = s2_level_size(level);
    uint64_t *t = s2_table_va(table);
    gpa_t eb = ALIGN_DOWN(lo, size);
    for (unsigned i = s2_index(lo, level); eb < hi && i < S2_ENTRIES;
         i++, eb += size) {
        gpa_t s = lo > eb ? lo : eb;
        gpa_t end = hi < eb + size ? hi : eb + size;
        uint64_t e = t[i];
        if (e == 0)
            continue;
        if (s2_leaf(fmt, e, level) && (s != eb || end != eb + size)) {
            if (!op_changes_leaf(pt, op, e))
                continue;
            if (!split_leaf(pt, table, i, level, &op->res)) {
                op->short_of_tables = true;
                continue;
            }
            e = t[i];
        }
        if (s2_table(fmt, e, level)) {
            hpa_t child = s2_table_addr(fmt, e);
            range_walk(pt, op, child, level - 1, s, end);
            if (frame_of(pt->fp, child)->mapcount == 0) {
                s2_set_entry(pt, table, i, 0);
                table_free(pt, child);
                inv_add(&op->inv, s, end - s);
            }
        } else if (s2_leaf(fmt, e, level)) {
            range_leaf(pt, op, table, i, level, eb);
        } else if (s2_swap(fmt, e) && op->unmap) {
            s2_set_entry(pt, table, i, 0);
        }
    }
}

static int range_op_run(struct s2pt *pt, struct range_op *op, gpa_t gpa,
                        uint64_t size)
{
    if (!range_ok(gpa, size))
        return -PV_EINVAL;
    int need = edge_splits(pt, op, gpa) + edge_splits(pt, op, gpa + size);
    int rc = reserve_fill(pt, &op->res, need);
    if (rc)
        return rc;
    range_walk(pt, op, pt->root, S2_LEVELS, gpa, gpa + size);
    reserve_release(pt, &op->res);
    inv_flush(pt, &op->inv);
    return op->short_of_tables ? -PV_ENOMEM : PV_OK;
}

int s2pt_unmap(struct s2pt *pt, gpa_t gpa, uint64_t size)
{
    struct range_op op = {.unmap = true};
    return range_op_run(pt, &op, gpa, size);
}

int s2pt_protect(struct s2pt *pt, gpa_t gpa, uint64_t size, uint32_t rights)
{
    struct range_op op = {.unmap = false, .rights = rights & ACC_RWX};
    return range_op_run(pt, &op, gpa, size);
}

/* ---- split / swap ------------------------------------------------------- */

int s2pt_split(struct s2pt *pt, gpa_t gpa, uint64_t to_size)
{
    int t = level_of_size(to_size);
    if (!t || t == 3 || gpa >= S2_GPA_LIMIT)
        return -PV_EINVAL;
    int level;
    hpa_t table = walk(pt, gpa, &level);
    uint64_t e = s2_table_va(table)[s2_index(gpa, level)];
    if (!s2_leaf(pt->fmt, e, level))
        return -PV_ENOENT;
    if (level <= t)
        return PV_OK;
    int rc;
    complete_path(pt, gpa, t, table, level, &rc);
    return rc;
}

int s2pt_set_swap(struct s2pt *pt, gpa_t gpa, swp_entry_t s)
{
    if (!IS_ALIGNED(gpa, PAGE_SIZE) || gpa >= S2_GPA_LIMIT ||
        (s & ~(swp_entry(SWP_TYPE_MASK, SWP_OFFSET_MASK))) != 0)
        return -PV_EINVAL;
    int level = S2_LEVELS, rc;
    hpa_t table = s2_walk_from(pt, pt->root, &level, gpa, 1);
    if (level != 1 && !(table = complete_path(pt, gpa, 1, table, level, &rc)))
        return rc;
    unsigned idx = s2_index(gpa, 1);
    uint64_t old = s2_table_va(table)[idx];
    s2_set_entry(pt, table, idx, pt->fmt->make_swap(s));
    if (s2_hw_present(pt->fmt, old))
        s2pt_invalidate(pt, S2_INV_RANGE, gpa, PAGE_SIZE);
    return PV_OK;
}
