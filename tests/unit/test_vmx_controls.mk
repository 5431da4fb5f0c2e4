UNIT_TESTS += test_vmx_controls
test_vmx_controls_SRCS := vmm/vmx/vmx_controls.c vmm/vmx/vmx_cr.c
