/* Swap-in readahead policy (see readahead.h for the definitions). */
#include "swap/readahead.h"

#include <string.h>

#include "vmm/lib/fmt.h"

static bool pow2(uint32_t x) { return x && !(x & (x - 1)); }

static uint64_t roundup_pow2(uint64_t x)
{
    uint64_t p = 1;
    while (p < x)
        p <<= 1;
    return p;
}

int ra_set_policy(struct ra_state *ra, enum ra_policy policy, uint32_t pages)
{
    if (pages == 0)
        pages = RA_DEFAULT_PAGES;
    switch (policy) {
    case RA_OFF:
        pages = 1;
        break;
    case RA_CLUSTER:
    case RA_AUTO:
        if (!pow2(pages) || pages > RA_MAX_PAGES)
            return -PV_EINVAL;
        break;
    default:
        return -PV_EINVAL;
    }
    ra->policy = policy;
    ra->pages = pages;
    ra->win = 1;
    ra->have_last = false;
    ra->last = 0;
    ra->last_key = 0;
    ra->stride = 0;
    ra->hits_since = 0;
    return 0;
}

int ra_init(struct ra_state *ra, enum ra_policy policy, uint32_t pages)
{
    memset(ra, 0, sizeof(*ra));
    return ra_set_policy(ra, policy, pages);
}

bool ra_by_gpa(const struct ra_state *ra) { return ra->policy == RA_AUTO; }

static struct ra_window clip(uint64_t start, uint64_t end, uint64_t lo, uint64_t hi,
                             bool by_gpa)
{
    struct ra_window w = { start < lo ? lo : start, end > hi ? hi : end, by_gpa };
    return w;
}

static uint64_t distance(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }

static bool is_stride(uint64_t d) { return d >= 1 && d <= RA_AUTO_STRIDE_MAX; }

/* The stride a step of d pages shows: d, or 0 (none) for a jump. */
static uint64_t step_of(uint64_t d) { return is_stride(d) ? d : 0; }

/* Auto: the new window size (see readahead.h). */
static uint32_t auto_size(struct ra_state *ra, uint64_t key)
{
    uint64_t h = ra->hits_since;
    uint64_t t;

    if (!ra->have_last)
        return 1;
    uint64_t d = distance(key, ra->last_key);
    uint64_t prev = ra->stride;
    ra->stride = step_of(d);
    if (h > 0) {
        uint64_t s = ra->stride ? ra->stride : 1;
        t = roundup_pow2((h + 1) * s + 1);
    } else if (ra->stride && prev) {
        t = roundup_pow2(d + 1);
        if (t < ra->pages)
            t = ra->pages;
    } else {
        t = 1;
    }
    if (t < ra->win / 2)
        t = ra->win / 2;
    if (t > RA_AUTO_MAX_PAGES)
        t = RA_AUTO_MAX_PAGES;
    if (t < 1)
        t = 1;
    return (uint32_t)t;
}

struct ra_window ra_plan(struct ra_state *ra, uint64_t key, uint64_t lo, uint64_t hi)
{
    ra->st.faults++;
    switch (ra->policy) {
    case RA_CLUSTER: {
        uint64_t start = ALIGN_DOWN(key, ra->pages);
        return clip(start, start + ra->pages, lo, hi, false);
    }
    case RA_AUTO: {
        uint32_t w = auto_size(ra, key);
        uint64_t start, end;
        if (ra->have_last && key > ra->last) {
            start = key;
            end = key + w;
        } else if (ra->have_last && key < ra->last) {
            end = key + 1;
            start = end >= w ? end - w : 0;
        } else {
            start = ALIGN_DOWN(key, w);
            end = start + w;
        }
        ra->win = w;
        ra->last = key;
        ra->last_key = key;
        ra->have_last = true;
        ra->hits_since = 0;
        return clip(start, end, lo, hi, true);
    }
    default:
        return clip(key, key + 1, lo, hi, false);
    }
}

void ra_note_hit(struct ra_state *ra, uint64_t page)
{
    ra->st.hits++;
    ra->hits_since++;
    ra->stride = step_of(distance(page, ra->last_key));
    ra->last_key = page;
}

void ra_note_miss(struct ra_state *ra) { ra->st.misses++; }

void ra_note_io(struct ra_state *ra, uint64_t pages_ahead, uint64_t requests)
{
    ra->st.pages += pages_ahead;
    ra->st.requests += requests;
}

void ra_describe(const struct ra_state *ra, char *buf, size_t len)
{
    switch (ra->policy) {
    case RA_CLUSTER:
        pv_snprintf(buf, len, "cluster:%u", ra->pages);
        break;
    case RA_AUTO:
        pv_snprintf(buf, len, "auto (start %u, window now %u)", ra->pages, ra->win);
        break;
    default:
        pv_snprintf(buf, len, "off");
        break;
    }
}
