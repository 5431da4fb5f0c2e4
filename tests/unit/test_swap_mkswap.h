/*
 * What mkswap writes into page 0, for tests (the hypervisor never writes
 * swap headers). Used by unit tests, simulations and fuzzers.
 */
#ifndef PV_TESTS_UNIT_TEST_SWAP_MKSWAP_H
#define PV_TESTS_UNIT_TEST_SWAP_MKSWAP_H

#include <string.h>

#include "swap/swap_area.h"

static inline void swap_env_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* What mkswap writes into page 0 of a device of pages pages. */
static inline void swap_env_mkswap(uint8_t *page0, uint64_t pages, const uint32_t *bad,
                                   uint32_t nbad)
{
    memset(page0, 0, PAGE_SIZE);
    swap_env_put32(page0 + SWAP_HDR_VERSION, SWAP_VERSION);
    swap_env_put32(page0 + SWAP_HDR_LAST_PAGE, (uint32_t)(pages - 1));
    swap_env_put32(page0 + SWAP_HDR_NR_BADPAGES, nbad);
    for (unsigned i = 0; i < SWAP_HDR_UUID_LEN; i++)
        page0[SWAP_HDR_UUID + i] = (uint8_t)(0x10 + i);
    memcpy(page0 + SWAP_HDR_LABEL, "pvswap", 6);
    for (uint32_t i = 0; i < nbad; i++)
        swap_env_put32(page0 + SWAP_HDR_BADPAGES + 4 * i, bad[i]);
    memcpy(page0 + SWAP_HDR_SIGNATURE, SWAP_SIGNATURE, SWAP_SIGNATURE_LEN);
}

#endif
