/*
 * Byte offsets of the guest registers in struct vcpu's gpr[] array (enum
 * gpr in vmm/vcpu.h: architectural order, 8 bytes each), for the backends'
 * entry/exit assembly (vmm/svm/svm_run.S, vmm/vmx/vmx_run.S). vmm/exit.c
 * checks at compile time that these match the enum.
 */
#ifndef PV_VMM_GPR_FRAME_H
#define PV_VMM_GPR_FRAME_H

#define GPR_OFF_RAX 0
#define GPR_OFF_RCX 8
#define GPR_OFF_RDX 16
#define GPR_OFF_RBX 24
#define GPR_OFF_RBP 40
#define GPR_OFF_RSI 48
#define GPR_OFF_RDI 56
#define GPR_OFF_R8 64
#define GPR_OFF_R9 72
#define GPR_OFF_R10 80
#define GPR_OFF_R11 88
#define GPR_OFF_R12 96
#define GPR_OFF_R13 104
#define GPR_OFF_R14 112
#define GPR_OFF_R15 120

#endif
