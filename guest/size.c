/* Byte-size parsing and formatting for pagevisor.conf (see size.h). */
#include "guest/size.h"

#include <string.h>

#include "vmm/lib/types.h"
#include "vmm/lib/fmt.h"

#define DECIMAL_BASE 10u

/* Suffix letters and the shift each one means, largest first. */
static const struct {
    char upper;
    char lower;
    unsigned shift;
} suffixes[] = {
    { 'T', 't', 40 },
    { 'G', 'g', 30 },
    { 'M', 'm', 20 },
    { 'K', 'k', 10 },
};

#define NSUFFIXES (sizeof(suffixes) / sizeof(suffixes[0]))

/* The optional IEC tail after the suffix letter: "KiB", "MiB", ... */
static const char iec_tail[] = "iB";
#define IEC_TAIL_LEN (sizeof(iec_tail) - 1)

static int suffix_shift(const char *s, size_t len, unsigned *shift)
{
    if (len == 0) {
        *shift = 0;
        return 0;
    }
    for (size_t i = 0; i < NSUFFIXES; i++) {
        if (s[0] != suffixes[i].upper && s[0] != suffixes[i].lower)
            continue;
        if (len == 1 || (len == 1 + IEC_TAIL_LEN &&
                         memcmp(s + 1, iec_tail, IEC_TAIL_LEN) == 0)) {
            *shift = suffixes[i].shift;
            return 0;
        }
        return -PV_EINVAL;
    }
    return -PV_EINVAL;
}

int parse_size(const char *s, size_t len, uint64_t *out)
{
    if (!s || !out)
        return -PV_EINVAL;

    uint64_t v = 0;
    size_t i = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / DECIMAL_BASE)
            return -PV_EINVAL; /* overflow before scaling */
        v = v * DECIMAL_BASE + d;
        i++;
    }
    if (i == 0)
        return -PV_EINVAL; /* empty, sign, space or letter first */

    unsigned shift;
    if (suffix_shift(s + i, len - i, &shift) < 0)
        return -PV_EINVAL;
    if (v > (UINT64_MAX >> shift))
        return -PV_EINVAL; /* overflow after scaling */

    *out = v << shift;
    return 0;
}

int format_size(uint64_t v, char *buf, size_t len)
{
    if (v != 0) {
        for (size_t i = 0; i < NSUFFIXES; i++) {
            uint64_t unit = 1ull << suffixes[i].shift;
            if (IS_ALIGNED(v, unit))
                return pv_snprintf(buf, len, "%llu%c",
                                   (unsigned long long)(v >> suffixes[i].shift),
                                   suffixes[i].upper);
        }
    }
    return pv_snprintf(buf, len, "%llu", (unsigned long long)v);
}
