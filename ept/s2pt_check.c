/*
 * Stage-2 diagnostics: the per-level walk rendering used by fault traces and
 * the monitor, and the structural check used by tests (ept/s2pt.h).
 *
 * Both decode entries with the format's function-pointer ops, the
 * reference encoding; the check also verifies that the walker's mask tests
 * (ept/s2pt_walk.h) agree with them on every entry of the table.
 */
#include "ept/s2pt.h"

#include "ept/s2pt_walk.h"
#include "vmm/lib/fmt.h"
#include "vmm/lib/log.h"

#define S2_LINE_LEN 160

static unsigned index_of(gpa_t gpa, int level) { return s2_index(gpa, level); }

static bool table_entry(const struct s2pt *pt, uint64_t e, int level)
{
    return level > 1 && pt->fmt->is_present(e) && !pt->fmt->is_leaf(e, level);
}

static const char *size_name(int level)
{
    static const char *const names[] = {"?", "4K", "2M", "1G", "512G"};
    return level >= 1 && level <= S2_LEVELS ? names[level] : names[0];
}

static const char *memtype_name(enum memtype mt)
{
    switch (mt) {
    case MT_UC: return "uc";
    case MT_WC: return "wc";
    case MT_WT: return "wt";
    case MT_WP: return "wp";
    case MT_WB: return "wb";
    }
    return "mt?";
}

/* Decoded meaning of entry e at level, into buf. */
static void describe(const struct s2pt *pt, uint64_t e, int level, char *buf,
                     size_t len)
{
    const struct s2pt_format *fmt = pt->fmt;
    if (e == 0) {
        pv_snprintf(buf, len, "none");
    } else if (fmt->is_swap(e)) {
        swp_entry_t s = fmt->swap_of(e);
        pv_snprintf(buf, len, "swap type %u offset %#llx", swp_type(s),
                    (unsigned long long)swp_offset(s));
    } else if (fmt->is_leaf(e, level)) {
        uint32_t r = fmt->rights(e);
        bool ad = fmt->ad_capable;
        pv_snprintf(buf, len, "leaf %s hpa %#llx %c%c%c %s%s%s%s",
                    size_name(level),
                    (unsigned long long)fmt->addr(e, level),
                    (r & ACC_R) ? 'r' : '-', (r & ACC_W) ? 'w' : '-',
                    (r & ACC_X) ? 'x' : '-', memtype_name(fmt->memtype(e)),
                    r ? "" : " noaccess",
                    ad && (e & fmt->accessed_bit) ? " A" : "",
                    ad && (e & fmt->dirty_bit) ? " D" : "");
    } else if (table_entry(pt, e, level)) {
        pv_snprintf(buf, len, "table %#llx",
                    (unsigned long long)fmt->addr(e, level));
    } else {
        pv_snprintf(buf, len, "invalid");
    }
}

void s2pt_walk_render(const struct s2pt *pt, gpa_t gpa,
                      void (*emit)(void *ctx, const char *line), void *ctx)
{
    char line[S2_LINE_LEN], what[S2_LINE_LEN - 48];
    if (!pt->root || gpa >= (1ull << S2_GPA_BITS)) {
        pv_snprintf(line, sizeof(line), "%s gpa %#llx: outside the table",
                    pt->fmt->name, (unsigned long long)gpa);
        emit(ctx, line);
        return;
    }
    hpa_t table = pt->root;
    for (int level = S2_LEVELS; level >= 1; level--) {
        unsigned idx = index_of(gpa, level);
        uint64_t e = ((const uint64_t *)hpa_va(table))[idx];
        describe(pt, e, level, what, sizeof(what));
        pv_snprintf(line, sizeof(line), "%s L%d [%3u] %#018llx %s",
                    pt->fmt->name, level, idx, (unsigned long long)e, what);
        emit(ctx, line);
        if (!table_entry(pt, e, level))
            break;
        table = pt->fmt->addr(e, level);
    }
}

/* ---- consistency -------------------------------------------------------- */

static bool fail(const struct s2pt *pt, const char *what, hpa_t table,
                 unsigned idx)
{
    pv_err("s2pt_check(%s): %s (table %#llx entry %u)", pt->fmt->name, what,
           (unsigned long long)table, idx);
    return false;
}

/* The mask tests of s2pt_walk.h give the ops' answers for entry e. */
static bool masks_agree(const struct s2pt *pt, uint64_t e, int level)
{
    const struct s2pt_format *fmt = pt->fmt;
    bool present = fmt->is_present(e), leaf = fmt->is_leaf(e, level);
    if (s2_present(fmt, e) != present || s2_leaf(fmt, e, level) != leaf ||
        s2_table(fmt, e, level) != table_entry(pt, e, level) ||
        s2_swap(fmt, e) != fmt->is_swap(e))
        return false;
    if (s2_hw_present(fmt, e) != (present && fmt->rights(e) != 0))
        return false;
    if (leaf && s2_leaf_addr(fmt, e, level) != fmt->addr(e, level))
        return false;
    return !table_entry(pt, e, level) ||
           s2_table_addr(fmt, e) == fmt->addr(e, level);
}

static bool check_table(const struct s2pt *pt, hpa_t table, int level,
                        uint64_t *ntables)
{
    const struct s2pt_format *fmt = pt->fmt;
    struct frame *f = frame_of(pt->fp, table);
    if (!f || !(f->flags & FRAME_TABLE) || f->refcount == 0 ||
        !IS_ALIGNED(table, PAGE_SIZE))
        return fail(pt, "table is not a FRAME_TABLE pool frame", table, 0);
    (*ntables)++;
    const uint64_t *t = hpa_va(table);
    uint32_t used = 0;
    for (unsigned i = 0; i < S2_ENTRIES; i++) {
        uint64_t e = t[i];
        if (e == 0)
            continue;
        used++;
        if (!masks_agree(pt, e, level))
            return fail(pt, "format masks disagree with its ops", table, i);
        if (fmt->is_swap(e)) {
            if (level != 1)
                return fail(pt, "swap entry above level 1", table, i);
            if (fmt->is_present(e))
                return fail(pt, "swap entry reads as present", table, i);
        } else if (fmt->is_leaf(e, level)) {
            if (!IS_ALIGNED(fmt->addr(e, level), s2_level_size(level)))
                return fail(pt, "unaligned leaf", table, i);
            if (!fmt->rights(e) && fmt->is_swap(e))
                return fail(pt, "no-access leaf reads as swap", table, i);
        } else if (table_entry(pt, e, level) && level < S2_LEVELS + 1) {
            if (level == S2_LEVELS && fmt->rights(e) == 0)
                return fail(pt, "root entry without rights", table, i);
            if (!check_table(pt, fmt->addr(e, level), level - 1, ntables))
                return false;
        } else {
            return fail(pt, "entry is neither table, leaf nor swap", table, i);
        }
    }
    if (used != f->mapcount)
        return fail(pt, "used-entry count differs", table, used);
    if (used == 0 && table != pt->root)
        return fail(pt, "empty non-root table", table, 0);
    return true;
}

bool s2pt_check(const struct s2pt *pt)
{
    if (!pt->root)
        return pt->tables == 0;
    uint64_t ntables = 0;
    if (!check_table(pt, pt->root, S2_LEVELS, &ntables))
        return false;
    if (ntables != pt->tables) {
        pv_err("s2pt_check(%s): %llu tables reachable, %llu counted",
               pt->fmt->name, (unsigned long long)ntables,
               (unsigned long long)pt->tables);
        return false;
    }
    return true;
}
