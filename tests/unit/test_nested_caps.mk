UNIT_TESTS += test_nested_caps
test_nested_caps_SRCS := vmm/arch/cpufeat_featctl.c vmm/vmx/vmx_controls.c
