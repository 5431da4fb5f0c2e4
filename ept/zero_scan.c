/*
 * frame_bytes_zero (ept/frame.h): whether memory already reads as zero.
 *
 * Eight words OR'ed per step, one branch per 64 bytes: on hardware a read
 * of a cache line at a time, under an emulator one translated block that
 * loops (a `repe scasq` would be one element per pass, like `rep stosq`).
 * The first non-zero line ends the scan, so memory with any residue near
 * its start (what firmware leaves) costs a few loads before the clear.
 */
#include "ept/frame.h"

bool frame_bytes_zero(const void *va, size_t bytes)
{
    const volatile uint64_t *w = va;
    const volatile uint64_t *end = w + bytes / sizeof(*w);

    for (; w < end; w += ZERO_SCAN_STEP / sizeof(*w)) {
        if (w[0] | w[1] | w[2] | w[3] | w[4] | w[5] | w[6] | w[7])
            return false;
    }
    return true;
}
