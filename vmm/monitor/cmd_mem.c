/*
 * Monitor: guest memory — `regions`, `gpa ADDR`, `frame HPA`, `x ADDR LEN`.
 *
 * Nothing here faults a page in or changes a mapping: `x` reads only
 * through present stage-2 leaves and reports swapped or untouched pages as
 * such, and never reads device memory (passthrough / emulated MMIO), whose
 * reads can have side effects.
 */
#include "ept/frame.h"
#include "ept/mm.h"
#include "vmm/lib/fmt.h"
#include "vmm/monitor/mon.h"

#define RMAP_SHOWN 8
#define DUMP_MAX 4096u    /* bytes one `x` shows */
#define DUMP_ROW 16u
#define ASCII_FIRST 0x20
#define ASCII_LAST 0x7E

static enum mon_next cmd_regions(struct vcpu *v, const struct mon_cmd *c, int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return mon_usage(c);
    const struct region_set *set = &v->mm->regions;
    char buf[160];
    mon_out("regions %zu", set->count);
    for (const struct region *r = region_first(set); r; r = region_next(set, r)) {
        region_format(r, buf, sizeof(buf));
        mon_out("  %s", buf);
    }
    return MON_STAY;
}

static const struct {
    uint32_t bit;
    const char *name;
} frame_flags[] = {
    { FRAME_ZERO, "zero" }, { FRAME_TABLE, "table" }, { FRAME_GUEST, "guest" },
    { FRAME_HUGE_HEAD, "huge-head" }, { FRAME_HUGE_TAIL, "huge-tail" },
    { FRAME_DIRTY, "dirty" }, { FRAME_LRU, "lru" }, { FRAME_ACTIVE, "active" },
    { FRAME_SWAPCACHE, "swapcache" }, { FRAME_LOCKED, "locked" },
    { FRAME_PINNED, "pinned" }, { FRAME_READAHEAD, "readahead" },
};

/* The descriptor of pool frame f, a few lines. */
static void show_frame(const struct frame_pool *fp, struct frame *f)
{
    char flags[128] = "";
    size_t n = 0;
    for (size_t i = 0; i < sizeof(frame_flags) / sizeof(frame_flags[0]); i++)
        if (f->flags & frame_flags[i].bit)
            n += (size_t)pv_snprintf(flags + n, sizeof(flags) - n, "%s%s", n ? "," : "",
                                     frame_flags[i].name);
    mon_out("frame hpa 0x%llx refcount %u mapcount %u flags %s",
            (unsigned long long)frame_hpa(fp, f), f->refcount, f->mapcount, n ? flags : "none");
    if (f->swap_slot == SWAP_SLOT_NONE)
        mon_out("  swap-slot none");
    else
        mon_out("  swap-slot %llu", (unsigned long long)f->swap_slot);
    mon_out("  lru %s", !(f->flags & FRAME_LRU) ? "none"
                        : (f->flags & FRAME_ACTIVE) ? "active" : "inactive");
    gpa_t gpas[RMAP_SHOWN];
    size_t k = frame_rmap_get(f, gpas, RMAP_SHOWN);
    char line[RMAP_SHOWN * 20 + 32];
    size_t m = (size_t)pv_snprintf(line, sizeof(line), "  rmap");
    if (k == 0)
        pv_snprintf(line + m, sizeof(line) - m, " none");
    for (size_t i = 0; i < k && m < sizeof(line); i++)
        m += (size_t)pv_snprintf(line + m, sizeof(line) - m, " 0x%llx",
                                 (unsigned long long)gpas[i]);
    if (f->mapcount > k && m < sizeof(line))
        pv_snprintf(line + m, sizeof(line) - m, " (+%u more)", f->mapcount - (unsigned)k);
    mon_out("%s", line);
}

static enum mon_next cmd_gpa(struct vcpu *v, const struct mon_cmd *c, int argc, char **argv)
{
    uint64_t gpa;
    if (argc != 2 || !mon_parse_u64(argv[1], &gpa))
        return mon_usage(c);
    struct guest_mm *mm = v->mm;
    const struct region *r = region_lookup(&mm->regions, gpa);
    char buf[160];
    if (r) {
        region_format(r, buf, sizeof(buf));
        mon_out("gpa 0x%llx region %s", (unsigned long long)gpa, buf);
    } else {
        mon_out("gpa 0x%llx region none (open bus)", (unsigned long long)gpa);
    }
    mon_out("walk:");
    s2pt_walk_render(&mm->s2, gpa, mon_emit, "  ");
    struct s2_info info;
    s2pt_lookup(&mm->s2, gpa, &info);
    if (info.state == S2_SWAP) {
        mon_out("swapped out: type %u slot %llu", swp_type(info.swap),
                (unsigned long long)swp_offset(info.swap));
        return MON_STAY;
    }
    if (info.state != S2_PRESENT) {
        mon_out("not mapped: the next access faults it in");
        return MON_STAY;
    }
    struct frame *f = frame_of(mm->fp, info.hpa);
    if (!f) {
        mon_out("hpa 0x%llx: not a pool frame (staged image or host range)",
                (unsigned long long)info.hpa);
        return MON_STAY;
    }
    show_frame(mm->fp, frame_head(mm->fp, f));
    return MON_STAY;
}

static enum mon_next cmd_frame(struct vcpu *v, const struct mon_cmd *c, int argc, char **argv)
{
    uint64_t hpa;
    if (argc != 2 || !mon_parse_u64(argv[1], &hpa))
        return mon_usage(c);
    const struct frame_pool *fp = v->mm->fp;
    struct frame *f = frame_of(fp, hpa);
    if (!f) {
        mon_out("frame: 0x%llx is not in the frame pool [0x%llx-0x%llx)",
                (unsigned long long)hpa, (unsigned long long)fp->first,
                (unsigned long long)(fp->first + (uint64_t)fp->nframes * PAGE_SIZE));
        return MON_STAY;
    }
    show_frame(fp, f);
    return MON_STAY;
}

/* Rows of DUMP_ROW bytes of [gpa, gpa + len), which lies in one page at p. */
static void dump(gpa_t gpa, const uint8_t *p, size_t len)
{
    for (size_t off = 0; off < len; off += DUMP_ROW) {
        char hex[DUMP_ROW * 3 + 1], asc[DUMP_ROW + 1];
        size_t row = len - off < DUMP_ROW ? len - off : DUMP_ROW, h = 0;
        for (size_t i = 0; i < DUMP_ROW; i++) {
            if (i < row) {
                uint8_t b = p[off + i];
                h += (size_t)pv_snprintf(hex + h, sizeof(hex) - h, " %02x", b);
                asc[i] = b >= ASCII_FIRST && b <= ASCII_LAST ? (char)b : '.';
            } else {
                h += (size_t)pv_snprintf(hex + h, sizeof(hex) - h, "   ");
                asc[i] = 0;
            }
        }
        asc[row] = 0;
        mon_out("0x%012llx:%s  |%s|", (unsigned long long)(gpa + off), hex, asc);
    }
}

static enum mon_next cmd_x(struct vcpu *v, const struct mon_cmd *c, int argc, char **argv)
{
    uint64_t gpa, len;
    if (argc != 3 || !mon_parse_u64(argv[1], &gpa) || !mon_parse_size(argv[2], &len) ||
        len == 0)
        return mon_usage(c);
    if (len > DUMP_MAX) {
        mon_out("x: at most %u bytes at a time", DUMP_MAX);
        return MON_STAY;
    }
    if (gpa + len < gpa) {
        mon_out("x: 0x%llx + %llu runs past the end of the address space",
                (unsigned long long)gpa, (unsigned long long)len);
        return MON_STAY;
    }
    struct guest_mm *mm = v->mm;
    for (uint64_t end = gpa + len; gpa < end;) {
        uint64_t page_end = (gpa & ~(uint64_t)(PAGE_SIZE - 1)) + PAGE_SIZE;
        size_t n = (size_t)((end < page_end ? end : page_end) - gpa);
        const struct region *r = region_lookup(&mm->regions, gpa);
        if (!r) {
            mon_out("0x%012llx: no region (open bus)", (unsigned long long)gpa);
            return MON_STAY;
        }
        if (r->kind == REGION_PASSTHROUGH || r->kind == REGION_MMIO_EMULATED) {
            mon_out("0x%012llx: %s region: device memory is not read", (unsigned long long)gpa,
                    region_kind_name(r->kind));
            return MON_STAY;
        }
        struct s2_info info;
        s2pt_lookup(&mm->s2, gpa, &info);
        if (info.state == S2_SWAP)
            mon_out("0x%012llx: swapped out (slot %llu), not read in", (unsigned long long)gpa,
                    (unsigned long long)swp_offset(info.swap));
        else if (info.state != S2_PRESENT)
            mon_out("0x%012llx: not mapped yet (never touched)", (unsigned long long)gpa);
        else
            dump(gpa, (const uint8_t *)hpa_va(info.hpa) + (gpa & (PAGE_SIZE - 1)), n);
        gpa += n;
    }
    return MON_STAY;
}

const struct mon_cmd mon_cmds_mem[] = {
    { "regions", "", "the guest-physical regions (kind, rights, backing)", cmd_regions },
    { "gpa", "ADDR", "region, stage-2 walk and frame of a guest-physical address", cmd_gpa },
    { "frame", "HPA", "the descriptor of a pool frame", cmd_frame },
    { "x", "ADDR LEN", "hex dump of guest-physical memory (present pages only)", cmd_x },
    { 0 },
};
