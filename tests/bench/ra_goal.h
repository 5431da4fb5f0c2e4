/*
 * The policies the readahead replay compares, and issue 14's goal for them
 * on the synthetic traces (ra_synth.h), as a property of replay results:
 *
 *   sequential and strided traces (seq, down, stride:S): auto beats
 *     cluster:8 — strictly fewer major faults (more of the swap-ins served
 *     by readahead) while reading no more pages and issuing no more device
 *     requests;
 *   random: auto reads no more pages than off;
 *   mix: no goal (reported only).
 */
#ifndef PV_TESTS_RA_GOAL_H
#define PV_TESTS_RA_GOAL_H

#include <stdbool.h>
#include <stddef.h>

#include "tests/bench/ra_replay.h"
#include "tests/bench/ra_synth.h"

/* Indices into rg_policies. */
enum { RG_OFF, RG_CLUSTER8, RG_CLUSTER16, RG_AUTO, RG_NPOLICIES };
extern const struct rr_policy rg_policies[RG_NPOLICIES];

#define RS_MAX_TRACES 16

/* Whether the goal holds for trace spec s given res[] (one per rg_policies,
 * same order); why: a sentence with the figures compared. */
bool rg_goal_met(const struct rs_spec *s, const struct rr_result res[RG_NPOLICIES], char *why,
                 size_t len);

#endif
