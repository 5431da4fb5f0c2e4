/* The boot-time memory plan; see mem_plan.h. */
#include "swap/mem_plan.h"

#include <string.h>

#include "ept/frame.h"
#include "swap/swap.h"
#include "swap/swap_area.h"
#include "swap/swap_cache.h"

int mem_plan_for(uint64_t frames, bool swap_disk, struct mem_plan *p)
{
    memset(p, 0, sizeof(*p));
    if (frames == 0 || !IS_ALIGNED(frames, PAGE_SIZE) || frames / PAGE_SIZE >= SIZE_MAX / 2)
        return -PV_EINVAL;
    p->frames = frames;
    p->swap_disk = swap_disk;
    p->pool_frames = (size_t)(frames / PAGE_SIZE) + 1;
    p->frame_meta = frame_pool_meta_size(p->pool_frames, FRAME_RANGES_MAX);
    p->swap_cache = swap_cache_meta_size(p->pool_frames);
    p->swap_area = swap_disk ? swap_area_meta_size(MEM_PLAN_SWAP_MAX_PAGES) : 0;
    p->swap_meta = swap_meta_size_for(p->pool_frames, swap_disk, MEM_PLAN_SWAP_MAX_PAGES);
    /* + one page: the core asks for swap_meta page aligned */
    p->heap = (size_t)MEM_PLAN_HEAP_FIXED + ALIGN_UP(p->swap_meta, PAGE_SIZE) + PAGE_SIZE;
    return PV_OK;
}
