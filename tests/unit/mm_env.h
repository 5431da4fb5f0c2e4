/*
 * Test fixture for the guest_mm unit tests (test_mm.c, test_mm_ops.c): a
 * frame pool over a 2 MiB-aligned heap arena, a guest_mm on it, a counting
 * invalidation hook, and helpers to fault and to assert exact counters.
 * Include after <cmocka.h>.
 */
#ifndef PV_TESTS_UNIT_MM_ENV_H
#define PV_TESTS_UNIT_MM_ENV_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ept/mm.h"

#define MM_ENV_REGIONS 32
#define MM_ENV_TRACE 64
#define MM_ENV_ARENA (24u << 20) /* room for several whole 2 MiB blocks */

struct mm_env {
    const struct s2pt_format *fmt;
    void *arena;
    struct frame_pool fp;
    struct guest_mm mm;
    struct region regions[MM_ENV_REGIONS];
    struct fault_event trace[MM_ENV_TRACE];
    size_t free0;  /* pool free frames before mm_init */
    uint64_t inv;  /* invalidation hook calls */
};

static inline void mm_env_inv(struct s2pt *pt, enum s2_inv_scope scope,
                              gpa_t gpa, uint64_t size, void *ctx)
{
    (void)pt;
    (void)scope;
    (void)gpa;
    (void)size;
    ((struct mm_env *)ctx)->inv++;
}

/* Set up with an arena of arena_bytes and a trace ring of trace_cap events. */
static inline struct mm_env *mm_env_new_sized(const struct s2pt_format *fmt,
                                              size_t arena_bytes,
                                              size_t trace_cap)
{
    struct mm_env *env = calloc(1, sizeof(*env));
    assert_non_null(env);
    env->fmt = fmt;
    env->arena = aligned_alloc(HUGE_2M, ALIGN_UP(arena_bytes, HUGE_2M));
    assert_non_null(env->arena);
    /* Frames start as garbage, as host memory would: whatever the fault
     * path forgets to clear or copy shows. */
    memset(env->arena, 0xcc, ALIGN_UP(arena_bytes, HUGE_2M));
    assert_int_equal(frame_pool_init(&env->fp, va_hpa(env->arena), arena_bytes), 0);
    env->free0 = frame_free_count(&env->fp);
    assert_int_equal(mm_init(&env->mm, &env->fp, fmt, true, env->regions,
                             MM_ENV_REGIONS, env->trace, trace_cap, mm_env_inv,
                             env),
                     0);
    return env;
}

static inline struct mm_env *mm_env_new(const struct s2pt_format *fmt)
{
    return mm_env_new_sized(fmt, MM_ENV_ARENA, MM_ENV_TRACE);
}

/* Check consistency, destroy, and require the pool back to where it began. */
static inline void mm_env_free(struct mm_env *env)
{
    if (!mm_check(&env->mm))
        fail_msg("[%s] mm_check failed before destroy", env->fmt->name);
    mm_destroy(&env->mm);
    if (frame_free_count(&env->fp) != env->free0)
        fail_msg("[%s] destroy left %zu free frames, want %zu", env->fmt->name,
                 frame_free_count(&env->fp), env->free0);
    assert_true(frame_pool_check(&env->fp));
    free(env->arena);
    free(env);
}

static inline struct fault_outcome mm_env_fault(struct mm_env *env, gpa_t gpa,
                                                uint32_t access)
{
    struct gpa_fault f = { .gpa = gpa, .access = access, .rip = 0x1000 + gpa };
    struct fault_outcome o;
    memset(&o, 0xa5, sizeof(o));
    mm_handle_fault(&env->mm, &f, &o);
    return o;
}

/* Fault and require the outcome kind and resolution. */
static inline void mm_env_expect(struct mm_env *env, gpa_t gpa, uint32_t access,
                                 enum fault_kind kind, enum fault_res res)
{
    struct fault_outcome o = mm_env_fault(env, gpa, access);
    if (o.kind != kind || o.res != res)
        fail_msg("[%s] fault gpa 0x%llx acc %u: kind %d res %s, want kind %d res %s",
                 env->fmt->name, (unsigned long long)gpa, access, o.kind,
                 fault_res_name(o.res), kind, fault_res_name(res));
}

/*
 * Require the counters to be exactly want, written "zero-map=1 cow-zero=1":
 * every resolution not named must be 0, and the total must be the sum.
 */
static inline void mm_env_expect_stats(const struct mm_env *env, const char *want)
{
    uint64_t exp[RES_COUNT] = { 0 }, sum = 0;
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", want);
    for (char *tok = strtok(buf, " "); tok; tok = strtok(NULL, " ")) {
        char *eq = strchr(tok, '=');
        assert_non_null(eq);
        *eq = '\0';
        unsigned r;
        for (r = 0; r < RES_COUNT; r++)
            if (strcmp(fault_res_name(r), tok) == 0)
                break;
        if (r == RES_COUNT)
            fail_msg("unknown resolution '%s' in expectation", tok);
        exp[r] = strtoull(eq + 1, NULL, 10);
    }
    for (unsigned r = 0; r < RES_COUNT; r++) {
        sum += exp[r];
        if (env->mm.stats.count[r] != exp[r])
            fail_msg("[%s] fault %s = %llu, want %llu (expectation \"%s\")",
                     env->fmt->name, fault_res_name(r),
                     (unsigned long long)env->mm.stats.count[r],
                     (unsigned long long)exp[r], want);
    }
    if (env->mm.stats.total != sum)
        fail_msg("[%s] fault total %llu, want %llu", env->fmt->name,
                 (unsigned long long)env->mm.stats.total,
                 (unsigned long long)sum);
}

static inline struct s2_info mm_env_lookup(const struct mm_env *env, gpa_t gpa)
{
    struct s2_info e;
    assert_int_equal(s2pt_lookup(&env->mm.s2, gpa, &e), 0);
    return e;
}

/* The pool frame behind gpa's present leaf (the 4 KiB frame holding gpa;
 * the head for an unsplit 2 MiB leaf). */
static inline struct frame *mm_env_frame(const struct mm_env *env, gpa_t gpa)
{
    struct s2_info e = mm_env_lookup(env, gpa);
    assert_int_equal(e.state, S2_PRESENT);
    struct frame *f = frame_of(&env->fp, e.size == PAGE_SIZE ? e.hpa : e.leaf_hpa);
    assert_non_null(f);
    return f;
}

static inline uint8_t *mm_env_page(const struct mm_env *env, gpa_t gpa)
{
    struct s2_info e = mm_env_lookup(env, gpa);
    assert_int_equal(e.state, S2_PRESENT);
    return hpa_va(e.hpa);
}

/* Pool frames holding guest data: everything allocated since the pool was
 * set up, minus the stage-2 table pages (root included). */
static inline size_t mm_env_guest_frames(const struct mm_env *env)
{
    return env->free0 - frame_free_count(&env->fp) - (size_t)env->mm.s2.tables;
}

static inline hpa_t mm_env_zero_hpa(const struct mm_env *env)
{
    return frame_hpa(&env->fp, env->fp.zero);
}

/* Run body once per stage-2 format. */
#define MM_BOTH_FORMATS(name)                                                  \
    static void name##_both(void **state)                                      \
    {                                                                          \
        (void)state;                                                           \
        name(&s2pt_format_ept);                                                \
        name(&s2pt_format_npt);                                                \
    }

#endif
