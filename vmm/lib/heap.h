/*
 * The hypervisor's boot-time allocator: a bump allocator over one range the
 * front end allocated before ExitBootServices (boot_info.heap_*). For
 * long-lived structures made once at start (VMCB, I/O and MSR bitmaps,
 * region pool, trace ring); nothing is ever freed. Memory comes zeroed.
 */
#ifndef PV_VMM_HEAP_H
#define PV_VMM_HEAP_H

#include <stddef.h>
#include <stdint.h>

void heap_init(uint64_t base, uint64_t size);
/* NULL (and an error line) when the heap is exhausted. */
void *heap_alloc(size_t size, size_t align, const char *what);
uint64_t heap_used(void);

#endif
