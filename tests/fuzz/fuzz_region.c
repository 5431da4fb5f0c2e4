/*
 * libFuzzer target for ept/region.c: the input is a configuration byte (window
 * placement, pool size) followed by RM_OP_BYTES-byte operations — insert,
 * remove, find/lookup/intersection queries, gap searches, malformed calls —
 * each checked against the per-page brute-force model in
 * tests/unit/region_model.h and followed by region_set_check. Any
 * disagreement aborts.
 */
#include "tests/unit/region_model.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rm_harness h; /* too big for the fuzzer's stack frame budget */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    rm_harness_init(&h, data[0]);
    data++;
    size--;
    while (size > 0) {
        uint8_t op[RM_OP_BYTES] = { 0 };
        size_t n = size < RM_OP_BYTES ? size : RM_OP_BYTES;
        memcpy(op, data, n);
        data += n;
        size -= n;
        const char *err = rm_step(&h, op);
        if (err) {
            fprintf(stderr, "fuzz_region: %s (op %02x %02x %02x %02x %02x)\n",
                    err, op[0], op[1], op[2], op[3], op[4]);
            abort();
        }
    }
    return 0;
}
