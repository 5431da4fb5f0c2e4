/* Issue 14's readahead goal on the synthetic traces (see ra_goal.h). */
#include "tests/bench/ra_goal.h"

#include <stdio.h>

const struct rr_policy rg_policies[RG_NPOLICIES] = {
    [RG_OFF] = { "off", RA_OFF, 0 },
    [RG_CLUSTER8] = { "cluster:8", RA_CLUSTER, 8 },
    [RG_CLUSTER16] = { "cluster:16", RA_CLUSTER, 16 },
    [RG_AUTO] = { "auto", RA_AUTO, 8 },
};

bool rg_goal_met(const struct rs_spec *s, const struct rr_result res[RG_NPOLICIES], char *why,
                 size_t len)
{
    const struct rr_result *a = &res[RG_AUTO], *c = &res[RG_CLUSTER8], *o = &res[RG_OFF];
    switch (s->kind) {
    case RS_SEQ:
    case RS_DOWN:
    case RS_STRIDE: {
        bool ok = a->majors < c->majors && a->pages_read <= c->pages_read &&
                  a->requests <= c->requests;
        snprintf(why, len,
                 "auto majors %llu < cluster:8 %llu, read %llu <= %llu, requests %llu <= %llu",
                 (unsigned long long)a->majors, (unsigned long long)c->majors,
                 (unsigned long long)a->pages_read, (unsigned long long)c->pages_read,
                 (unsigned long long)a->requests, (unsigned long long)c->requests);
        return ok;
    }
    case RS_RANDOM:
        snprintf(why, len, "auto read %llu <= off %llu", (unsigned long long)a->pages_read,
                 (unsigned long long)o->pages_read);
        return a->pages_read <= o->pages_read;
    case RS_MIX:
        snprintf(why, len, "no goal (reported only)");
        return true;
    }
    snprintf(why, len, "unknown trace kind");
    return false;
}
