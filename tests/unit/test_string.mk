UNIT_TESTS += test_string
# vmm/lib/string.c is included by the test itself, under other names.
test_string_SRCS :=
