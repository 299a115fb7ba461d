/* cpu_featureset.h: a fixed-size bitset of CPU features, one bit per
 * feature of libvirt's cpu_map (bit i = the i-th <feature> of the arch's
 * features file). Fixed size so that a host's CPU is one flat value the
 * scheduler can copy, compare and AND without allocating. */
#ifndef TERN_CPU_FEATURESET_H
#define TERN_CPU_FEATURESET_H

#include <glib.h>

/* 8 x 64 = 512 features; cpu_map has 364 for x86. The loader refuses a
 * cpu_map with more features than this, naming the limit. */
#define TERN_CPU_SET_WORDS 8
#define TERN_CPU_SET_MAX (TERN_CPU_SET_WORDS * 64)

typedef struct {
    guint64 w[TERN_CPU_SET_WORDS];
} TernCpuFeatureSet;

static inline void
tern_cpu_set_add(TernCpuFeatureSet *s, guint i)
{
    s->w[i >> 6] |= G_GUINT64_CONSTANT(1) << (i & 63);
}

static inline void
tern_cpu_set_del(TernCpuFeatureSet *s, guint i)
{
    s->w[i >> 6] &= ~(G_GUINT64_CONSTANT(1) << (i & 63));
}

static inline gboolean
tern_cpu_set_has(const TernCpuFeatureSet *s, guint i)
{
    return (s->w[i >> 6] >> (i & 63)) & 1;
}

/* Is every feature of sub also in super? */
static inline gboolean
tern_cpu_set_is_subset(const TernCpuFeatureSet *sub, const TernCpuFeatureSet *super)
{
    guint64 miss = 0;
    for (int i = 0; i < TERN_CPU_SET_WORDS; i++)
        miss |= sub->w[i] & ~super->w[i];
    return miss == 0;
}

static inline gboolean
tern_cpu_set_equal(const TernCpuFeatureSet *a, const TernCpuFeatureSet *b)
{
    guint64 diff = 0;
    for (int i = 0; i < TERN_CPU_SET_WORDS; i++)
        diff |= a->w[i] ^ b->w[i];
    return diff == 0;
}

static inline gboolean
tern_cpu_set_is_empty(const TernCpuFeatureSet *s)
{
    guint64 any = 0;
    for (int i = 0; i < TERN_CPU_SET_WORDS; i++)
        any |= s->w[i];
    return any == 0;
}

/* out = a | b, a & b, a & ~b (out may alias a or b). */
void tern_cpu_set_union(TernCpuFeatureSet *out, const TernCpuFeatureSet *a, const TernCpuFeatureSet *b);
void tern_cpu_set_intersect(TernCpuFeatureSet *out, const TernCpuFeatureSet *a, const TernCpuFeatureSet *b);
void tern_cpu_set_minus(TernCpuFeatureSet *out, const TernCpuFeatureSet *a, const TernCpuFeatureSet *b);
guint tern_cpu_set_count(const TernCpuFeatureSet *s);
/* Index of the next set bit after `after` (-1 to start), or -1. */
int tern_cpu_set_next(const TernCpuFeatureSet *s, int after);

#endif
