/* cpu_featureset.c: set operations on TernCpuFeatureSet (see the header). */
#include "cpu/cpu_featureset.h"

void
tern_cpu_set_union(TernCpuFeatureSet *out, const TernCpuFeatureSet *a, const TernCpuFeatureSet *b)
{
    for (int i = 0; i < TERN_CPU_SET_WORDS; i++)
        out->w[i] = a->w[i] | b->w[i];
}

void
tern_cpu_set_intersect(TernCpuFeatureSet *out, const TernCpuFeatureSet *a, const TernCpuFeatureSet *b)
{
    for (int i = 0; i < TERN_CPU_SET_WORDS; i++)
        out->w[i] = a->w[i] & b->w[i];
}

void
tern_cpu_set_minus(TernCpuFeatureSet *out, const TernCpuFeatureSet *a, const TernCpuFeatureSet *b)
{
    for (int i = 0; i < TERN_CPU_SET_WORDS; i++)
        out->w[i] = a->w[i] & ~b->w[i];
}

guint
tern_cpu_set_count(const TernCpuFeatureSet *s)
{
    guint n = 0;
    for (int i = 0; i < TERN_CPU_SET_WORDS; i++)
        n += (guint) __builtin_popcountll(s->w[i]);
    return n;
}

int
tern_cpu_set_next(const TernCpuFeatureSet *s, int after)
{
    for (int i = after + 1; i < TERN_CPU_SET_MAX; i++) {
        guint64 word = s->w[i >> 6] >> (i & 63);
        if (word == 0) {
            i = (i | 63);           /* skip the rest of this word */
            continue;
        }
        return i + __builtin_ctzll(word);
    }
    return -1;
}
