/* Bump allocator; see heap.h. */
#include "vmm/lib/heap.h"
#include "vmm/lib/log.h"

#include <string.h>

static uint64_t heap_base, heap_end, heap_next;

void heap_init(uint64_t base, uint64_t size)
{
    heap_base = heap_next = base;
    heap_end = base + size;
}

void *heap_alloc(size_t size, size_t align, const char *what)
{
    uint64_t p = (heap_next + align - 1) & ~((uint64_t)align - 1);
    if (p + size > heap_end || p + size < p) {
        pv_err("heap: no room for %s (%zu bytes; %llu of %llu used)", what, size,
               (unsigned long long)(heap_next - heap_base),
               (unsigned long long)(heap_end - heap_base));
        return NULL;
    }
    heap_next = p + size;
    void *v = (void *)(uintptr_t)p;
    memset(v, 0, size);
    return v;
}

uint64_t heap_used(void) { return heap_next - heap_base; }
