/*
 * tests/unit/test_region.c runs these from tests/unit/test_region_set.c:
 * whole-set properties of ept/region.c (balance, iteration order, the
 * consistency check, the randomized model test, formatting, lookups and
 * gap search).
 */
#ifndef PV_TESTS_TEST_REGION_H
#define PV_TESTS_TEST_REGION_H

int test_region_set_setup(void **state);
void test_tree_stays_balanced(void **state);
void test_iteration_order(void **state);
void test_check_detects_corruption(void **state);
void test_random_low(void **state);
void test_random_top(void **state);
void test_format(void **state);
void test_find_lookup_boundaries(void **state);
void test_find_gap(void **state);

#endif
