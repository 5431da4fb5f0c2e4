/*
 * Monitor: swap and reclaim — `swap`, `lru`, `reclaim N`, `ra POLICY`.
 * Forced reclaim and the readahead switch go through swap/'s public calls
 * (swap_reclaim, swap_set_readahead), exactly as the fault path's own
 * reclaim would: the guest is paused, nothing else runs meanwhile.
 */
#include "ept/frame.h"
#include "swap/swap.h"
#include "vmm/monitor/mon.h"

#include <string.h>

#define RA_DESC_LEN 64
#define RECLAIM_MAX (1u << 24) /* frames one command may ask for */

static const struct swap *need_swap(const struct vcpu *v, const char *cmd)
{
    if (!v->swap)
        mon_out("%s: this guest runs without swap or reclaim", cmd);
    return v->swap;
}

/* Where a swap command starts: no arguments, and a swap object (NULL after
 * the one-line answer when either is missing). */
static const struct swap *swap_cmd_start(const struct vcpu *v, const struct mon_cmd *c, int argc)
{
    if (argc != 1) {
        mon_usage(c);
        return NULL;
    }
    return need_swap(v, c->name);
}

static enum mon_next cmd_swap(struct vcpu *v, const struct mon_cmd *c, int argc, char **argv)
{
    (void)argv;
    const struct swap *sw = swap_cmd_start(v, c, argc);
    if (!sw)
        return MON_STAY;
    const struct swap_area *a = &sw->area;
    if (a->dev)
        mon_out("swap device %s size %llu MiB slots %llu used %llu bad %llu", a->dev->name,
                (unsigned long long)((a->dev->sectors * a->dev->sector_size) >> 20),
                (unsigned long long)a->nslots, (unsigned long long)a->used,
                (unsigned long long)a->bad);
    else
        mon_out("swap device none (only all-zero pages are reclaimed)");
    mon_out("swap clusters %llu whole-free %llu taken %llu", (unsigned long long)a->nclusters,
            (unsigned long long)a->nwhole, (unsigned long long)a->st.clusters_taken);
    char ra[RA_DESC_LEN];
    ra_describe(&sw->ra, ra, sizeof(ra));
    mon_out("swap readahead %s", ra);
    mon_out("swap outs %llu ins %llu ins-minor %llu zero-recovered %llu clean-dropped %llu",
            (unsigned long long)sw->st.outs, (unsigned long long)sw->st.ins,
            (unsigned long long)sw->st.ins_minor, (unsigned long long)sw->st.zero_recovered,
            (unsigned long long)sw->st.clean_dropped);
    mon_out("swap errors write %llu read %llu checksum %llu full %llu refused-ins %llu",
            (unsigned long long)a->st.write_errors, (unsigned long long)a->st.read_errors,
            (unsigned long long)a->st.csum_errors, (unsigned long long)sw->st.swap_full,
            (unsigned long long)sw->st.in_errors);
    return MON_STAY;
}

static enum mon_next cmd_lru(struct vcpu *v, const struct mon_cmd *c, int argc, char **argv)
{
    (void)argv;
    const struct swap *sw = swap_cmd_start(v, c, argc);
    if (!sw)
        return MON_STAY;
    const struct lru *l = &sw->lru;
    mon_out("lru active %zu inactive %zu cached %zu", l->len[LRU_ACTIVE], l->len[LRU_INACTIVE],
            sw->cache.n);
    mon_out("lru added %llu removed %llu activated %llu deactivated %llu",
            (unsigned long long)l->added, (unsigned long long)l->removed,
            (unsigned long long)l->moved[LRU_ACTIVE], (unsigned long long)l->moved[LRU_INACTIVE]);
    mon_out("free %zu watermarks min %zu low %zu high %zu", frame_free_count(sw->fp),
            sw->wm.min, sw->wm.low, sw->wm.high);
    mon_out("reclaim direct %llu urgent %llu ticks %llu freed %llu scanned %llu referenced %llu",
            (unsigned long long)sw->st.direct, (unsigned long long)sw->st.urgent,
            (unsigned long long)sw->st.ticks, (unsigned long long)sw->st.freed,
            (unsigned long long)sw->st.scanned, (unsigned long long)sw->st.referenced);
    return MON_STAY;
}

static enum mon_next cmd_reclaim(struct vcpu *v, const struct mon_cmd *c, int argc, char **argv)
{
    uint64_t n;
    if (argc != 2 || !mon_parse_u64(argv[1], &n) || n == 0)
        return mon_usage(c);
    if (n > RECLAIM_MAX) {
        mon_out("reclaim: at most %u frames at a time", RECLAIM_MAX);
        return MON_STAY;
    }
    if (!need_swap(v, c->name))
        return MON_STAY;
    size_t before = frame_free_count(v->mm->fp);
    size_t freed = swap_reclaim(v->swap, (size_t)n);
    mon_out("reclaim freed %zu of %llu frames; free %zu -> %zu", freed, (unsigned long long)n,
            before, frame_free_count(v->mm->fp));
    return MON_STAY;
}

/* "off", "auto", "auto:N", "cluster", "cluster:N". */
static bool parse_ra(const char *s, enum ra_policy *policy, uint32_t *pages)
{
    const char *colon = strchr(s, ':');
    size_t n = colon ? (size_t)(colon - s) : strlen(s);
    *pages = 0;
    if (n == 3 && !memcmp(s, "off", 3) && !colon)
        *policy = RA_OFF;
    else if (n == 4 && !memcmp(s, "auto", 4))
        *policy = RA_AUTO;
    else if (n == 7 && !memcmp(s, "cluster", 7))
        *policy = RA_CLUSTER;
    else
        return false;
    if (colon) {
        uint64_t v;
        if (!mon_parse_u64(colon + 1, &v) || v == 0 || v > RA_MAX_PAGES)
            return false;
        *pages = (uint32_t)v;
    }
    return true;
}

static enum mon_next cmd_ra(struct vcpu *v, const struct mon_cmd *c, int argc, char **argv)
{
    if (argc != 2)
        return mon_usage(c);
    enum ra_policy policy;
    uint32_t pages;
    if (!parse_ra(argv[1], &policy, &pages)) {
        mon_out("ra: '%s': expected off, cluster[:N] or auto[:N] (N a power of 2 <= %u)",
                argv[1], RA_MAX_PAGES);
        return MON_STAY;
    }
    if (!need_swap(v, c->name))
        return MON_STAY;
    if (swap_set_readahead(v->swap, policy, pages) < 0) {
        mon_out("ra: '%s' refused (N must be a power of 2 <= %u)", argv[1], RA_MAX_PAGES);
        return MON_STAY;
    }
    char d[RA_DESC_LEN];
    ra_describe(&v->swap->ra, d, sizeof(d));
    mon_out("readahead %s", d);
    return MON_STAY;
}

const struct mon_cmd mon_cmds_swap[] = {
    { "swap", "", "swap device, slots, clusters, readahead, errors", cmd_swap },
    { "lru", "", "LRU list sizes, watermarks, reclaim activity", cmd_lru },
    { "reclaim", "N", "reclaim N frames now", cmd_reclaim },
    { "ra", "POLICY", "readahead policy: off, cluster[:N], auto[:N]", cmd_ra },
    { 0 },
};
