/* Readahead replay over a model of guest memory (see ra_replay.h). */
#include "tests/bench/ra_replay.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NIL UINT32_MAX
#define LINE_MAX_LEN 256
#define CALIBRATE_PERMILLE 990u /* off must fault on 99 % of the entries */

enum page_state { PG_OUT, PG_IN, PG_RA };

/* The model: the pages taking part, by id (index into the sorted pages). */
struct model {
    uint64_t *page;           /* sorted distinct page numbers */
    uint32_t n;
    uint8_t *state;
    uint64_t *slot;           /* PG_OUT: its slot */
    uint32_t *prev, *next;    /* LRU list of resident pages */
    uint32_t head, tail;      /* head: most recent */
    uint32_t resident, capacity;
    uint32_t *slot_owner;     /* slot -> id + 1, 0 when free */
    uint64_t slot_len, next_slot;
    struct ra_state ra;
    struct rr_result *res;
};

void rr_trace_init(struct rr_trace *t, const char *name)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->name, sizeof(t->name), "%s", name);
}

void rr_trace_free(struct rr_trace *t)
{
    free(t->pages);
    t->pages = NULL;
    t->n = t->cap = 0;
}

int rr_trace_add(struct rr_trace *t, uint64_t page)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 256;
        uint64_t *p = realloc(t->pages, cap * sizeof(*p));
        if (!p)
            return -1;
        t->pages = p;
        t->cap = cap;
    }
    t->pages[t->n++] = page;
    return 0;
}

static bool parse_hex(const char *s, uint64_t *out, const char **end)
{
    char *e;
    if (!isxdigit((unsigned char)*s))
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, &e, 16);
    if (errno)
        return false;
    *out = v;
    *end = e;
    return true;
}

static const char *skip_space(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

static bool line_end(const char *s)
{
    s = skip_space(s);
    return *s == '\0' || *s == '\n' || *s == '\r';
}

/* "PAGE", "PAGE+N" (N decimal, at most RR_MAX_RUN), either followed by
 * an optional " m": the first page and the count of pages after it. */
static bool parse_entry(const char *s, uint64_t *page, uint64_t *more)
{
    const char *e;
    *more = 0;
    if (!parse_hex(s, page, &e))
        return false;
    if (*e == '+') {
        char *ne;
        if (!isdigit((unsigned char)e[1]))
            return false;
        errno = 0;
        unsigned long long n = strtoull(e + 1, &ne, 10);
        if (errno || n > RR_MAX_RUN || *page + n < *page)
            return false;
        *more = n;
        e = ne;
    }
    e = skip_space(e);
    if (*e == 'm')
        e++;
    return line_end(e);
}

int rr_trace_parse(struct rr_trace *t, FILE *f, char *err, size_t errlen)
{
    char line[LINE_MAX_LEN];
    unsigned lineno = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        const char *s = skip_space(line), *e;
        uint64_t a, b;
        if (!strchr(line, '\n') && !feof(f)) {
            snprintf(err, errlen, "line %u: longer than %d characters", lineno,
                     LINE_MAX_LEN - 2);
            return -1;
        }
        if (*s == '#' || line_end(s))
            continue;
        if (!strncmp(s, "capacity", 8)) {
            char *ce;
            s = skip_space(s + 8);
            unsigned long v = strtoul(s, &ce, 10);
            if (ce == s || !line_end(ce) || v == 0 || v > UINT32_MAX) {
                snprintf(err, errlen, "line %u: capacity: expected a page count (1 or more)",
                         lineno);
                return -1;
            }
            t->capacity = (uint32_t)v;
        } else if (!strncmp(s, "swapped", 7)) {
            s = skip_space(s + 7);
            if (!parse_hex(s, &a, &e) || !parse_hex(skip_space(e), &b, &e) || !line_end(e) ||
                a >= b) {
                snprintf(err, errlen, "line %u: swapped: expected LO HI (hex pages, LO < HI)",
                         lineno);
                return -1;
            }
            t->swapped_lo = a;
            t->swapped_hi = b;
        } else if (parse_entry(s, &a, &b)) {
            for (uint64_t i = 0; i <= b; i++) {
                if (rr_trace_add(t, a + i) < 0) {
                    snprintf(err, errlen, "line %u: out of memory", lineno);
                    return -1;
                }
            }
        } else {
            snprintf(err, errlen, "line %u: expected a hex page number or PAGE+N "
                     "(optionally ' m'), 'capacity N' or 'swapped LO HI'", lineno);
            return -1;
        }
    }
    if (ferror(f)) {
        snprintf(err, errlen, "read error: %s", strerror(errno));
        return -1;
    }
    if (t->n == 0) {
        snprintf(err, errlen, "no trace entries");
        return -1;
    }
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint32_t lookup(const struct model *m, uint64_t page)
{
    uint32_t lo = 0, hi = m->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (m->page[mid] < page)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->n && m->page[lo] == page ? lo : NIL;
}

static void model_free(struct model *m)
{
    free(m->page);
    free(m->state);
    free(m->slot);
    free(m->prev);
    free(m->next);
    free(m->slot_owner);
}

static int model_init(struct model *m, const struct rr_trace *t, uint32_t capacity)
{
    memset(m, 0, sizeof(*m));
    uint64_t extra = t->swapped_hi - t->swapped_lo;
    size_t total = t->n + extra;
    if (total >= NIL)
        return -1;
    m->page = malloc(total * sizeof(*m->page));
    if (!m->page)
        return -1;
    memcpy(m->page, t->pages, t->n * sizeof(*m->page));
    for (uint64_t i = 0; i < extra; i++)
        m->page[t->n + i] = t->swapped_lo + i;
    qsort(m->page, total, sizeof(*m->page), cmp_u64);
    uint32_t n = 0;
    for (size_t i = 0; i < total; i++)
        if (n == 0 || m->page[n - 1] != m->page[i])
            m->page[n++] = m->page[i];
    m->n = n;
    m->state = malloc(n);
    m->slot = malloc(n * sizeof(*m->slot));
    m->prev = malloc(n * sizeof(*m->prev));
    m->next = malloc(n * sizeof(*m->next));
    m->slot_len = 2 * (uint64_t)n + 2;
    m->slot_owner = calloc(m->slot_len, sizeof(*m->slot_owner));
    if (!m->state || !m->slot || !m->prev || !m->next || !m->slot_owner) {
        model_free(m);
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) { /* slots 1.. in ascending gpa order */
        m->state[i] = PG_OUT;
        m->slot[i] = i + 1;
        m->slot_owner[i + 1] = i + 1;
    }
    m->next_slot = (uint64_t)n + 1;
    m->head = m->tail = NIL;
    m->capacity = capacity ? capacity : 1;
    return 0;
}

static void lru_unlink(struct model *m, uint32_t id)
{
    if (m->prev[id] != NIL)
        m->next[m->prev[id]] = m->next[id];
    else
        m->head = m->next[id];
    if (m->next[id] != NIL)
        m->prev[m->next[id]] = m->prev[id];
    else
        m->tail = m->prev[id];
}

static void lru_push(struct model *m, uint32_t id)
{
    m->prev[id] = NIL;
    m->next[id] = m->head;
    if (m->head != NIL)
        m->prev[m->head] = id;
    m->head = id;
    if (m->tail == NIL)
        m->tail = id;
}

/* Swap the least recently used page out to the next slot up. */
static int evict_one(struct model *m)
{
    uint32_t id = m->tail;
    lru_unlink(m, id);
    m->resident--;
    if (m->state[id] == PG_RA) {
        m->res->ra_dropped++;
        ra_note_miss(&m->ra);
    }
    if (m->next_slot >= m->slot_len) {
        uint64_t len = 2 * m->slot_len;
        uint32_t *o = realloc(m->slot_owner, len * sizeof(*o));
        if (!o)
            return -1;
        memset(o + m->slot_len, 0, (len - m->slot_len) * sizeof(*o));
        m->slot_owner = o;
        m->slot_len = len;
    }
    m->state[id] = PG_OUT;
    m->slot[id] = m->next_slot++;
    m->slot_owner[m->slot[id]] = id + 1;
    return 0;
}

/* Bring a swapped-out page in (its slot freed) as state st. */
static int bring_in(struct model *m, uint32_t id, enum page_state st)
{
    while (m->resident >= m->capacity)
        if (evict_one(m) < 0)
            return -1;
    m->slot_owner[m->slot[id]] = 0;
    m->state[id] = (uint8_t)st;
    lru_push(m, id);
    m->resident++;
    return 0;
}

/* The id swapped out at window key k, or NIL. */
static uint32_t window_page(const struct model *m, uint64_t k, bool by_gpa)
{
    uint32_t id;
    if (by_gpa) {
        id = lookup(m, k);
    } else {
        if (k >= m->slot_len || m->slot_owner[k] == 0)
            return NIL;
        id = m->slot_owner[k] - 1;
    }
    return id != NIL && m->state[id] == PG_OUT ? id : NIL;
}

static int major(struct model *m, uint32_t id)
{
    bool by_gpa = ra_by_gpa(&m->ra);
    uint64_t key = by_gpa ? m->page[id] : m->slot[id];
    uint64_t lo = by_gpa ? m->page[0] : 1;
    uint64_t hi = by_gpa ? m->page[m->n - 1] + 1 : m->next_slot;
    struct ra_window w = ra_plan(&m->ra, key, lo, hi);
    uint64_t span = w.end > w.start ? w.end - w.start : 0;
    uint32_t *ids = malloc((span + 1) * sizeof(*ids));
    uint64_t *slots = malloc((span + 1) * sizeof(*slots));
    if (!ids || !slots) {
        free(ids);
        free(slots);
        return -1;
    }
    uint32_t nread = 0;
    for (uint64_t k = w.start; k < w.end; k++) {
        uint32_t y = k == key ? NIL : window_page(m, k, by_gpa);
        if (y != NIL)
            ids[nread++] = y;
    }
    for (uint32_t i = 0; i < nread; i++)
        slots[i] = m->slot[ids[i]];
    slots[nread] = m->slot[id];
    qsort(slots, nread + 1, sizeof(*slots), cmp_u64);
    uint64_t requests = 1;
    for (uint32_t i = 1; i <= nread; i++)
        requests += slots[i] != slots[i - 1] + 1;
    int rc = 0;
    /* Readahead pages first, the faulting page last: the most recent. */
    for (uint32_t i = 0; i < nread && rc == 0; i++)
        if (m->state[ids[i]] == PG_OUT) /* not evicted again by this loop */
            rc = bring_in(m, ids[i], PG_RA);
    if (rc == 0)
        rc = bring_in(m, id, PG_IN);
    ra_note_io(&m->ra, nread, requests);
    m->res->majors++;
    m->res->ra_pages += nread;
    m->res->pages_read += nread + 1;
    m->res->requests += requests;
    free(ids);
    free(slots);
    return rc;
}

static int touch(struct model *m, uint64_t page)
{
    uint32_t id = lookup(m, page);
    m->res->accesses++;
    switch (m->state[id]) {
    case PG_OUT:
        return major(m, id);
    case PG_RA:
        m->state[id] = PG_IN;
        m->res->ra_hits++;
        ra_note_hit(&m->ra, page);
        break;
    default:
        m->res->resident++;
        break;
    }
    lru_unlink(m, id);
    lru_push(m, id);
    return 0;
}

static int replay_cap(const struct rr_trace *t, const struct rr_policy *p, uint32_t capacity,
                      struct rr_result *out)
{
    struct model m;
    memset(out, 0, sizeof(*out));
    if (model_init(&m, t, capacity) < 0)
        return -1;
    int rc = ra_init(&m.ra, p->policy, p->pages);
    m.res = out;
    out->capacity = m.capacity;
    for (size_t i = 0; i < t->n && rc == 0; i++)
        rc = touch(&m, t->pages[i]);
    out->st = m.ra.st;
    model_free(&m);
    return rc;
}

static uint32_t distinct(const struct rr_trace *t)
{
    struct model m;
    if (model_init(&m, t, 1) < 0)
        return 0;
    uint32_t n = m.n;
    model_free(&m);
    return n;
}

uint32_t rr_calibrate(const struct rr_trace *t)
{
    static const struct rr_policy off = { "off", RA_OFF, 0 };
    uint32_t lo = RR_MIN_CAPACITY, hi = distinct(t);
    uint64_t need = (t->n * CALIBRATE_PERMILLE + 999) / 1000;
    struct rr_result r;
    if (hi <= lo)
        return lo;
    /* LRU has the stack property: majors never grow with the capacity. */
    if (replay_cap(t, &off, lo, &r) < 0 || r.majors < need)
        return lo;
    while (lo < hi) { /* largest capacity in [lo, hi] meeting need */
        uint32_t mid = lo + (hi - lo + 1) / 2;
        if (replay_cap(t, &off, mid, &r) == 0 && r.majors >= need)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

int rr_replay(const struct rr_trace *t, const struct rr_policy *p, uint32_t capacity,
              struct rr_result *out)
{
    if (t->n == 0)
        return -1;
    if (!capacity)
        capacity = t->capacity ? t->capacity : rr_calibrate(t);
    return replay_cap(t, p, capacity, out);
}

double rr_accuracy(const struct rr_result *r)
{
    return r->ra_pages ? (double)r->ra_hits / (double)r->ra_pages : 0.0;
}

double rr_coverage(const struct rr_result *r)
{
    uint64_t d = r->ra_hits + r->majors;
    return d ? (double)r->ra_hits / (double)d : 0.0;
}
