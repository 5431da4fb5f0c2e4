UNIT_TESTS += test_vmx_decode
test_vmx_decode_SRCS := vmm/vmx/vmx_decode.c vmm/vmx/vmx_guest_check.c vmm/vmx/vmx_cr.c
