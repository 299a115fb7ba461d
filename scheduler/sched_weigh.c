/* sched_weigh.c: Nova's weighers with its normalisation, best k kept. */
#include "scheduler/sched_weigh.h"

typedef double (*RawFunc)(const TernSchedHost *h);

guint
tern_sched_weigh_top(const TernSchedMultipliers *m, TernSchedHost *const *hosts, const guint *idx,
                     guint n, TernSchedWeighed *out, guint k)
{
    if (n == 0 || k == 0)
        return 0;
    const RawFunc raw[3] = { tern_sched_free_ram_mb, tern_sched_free_vcpus,
                             tern_sched_free_disk_mb };
    const double mult[3] = { m->ram, m->cpu, m->disk };
    double lo[3], hi[3], scale[3];
    for (int w = 0; w < 3; w++) {
        lo[w] = G_MAXDOUBLE;
        hi[w] = -G_MAXDOUBLE;
    }
    /* Pass 1: min and max of each weigher (skipped when its multiplier is 0). */
    for (guint i = 0; i < n; i++) {
        const TernSchedHost *h = hosts[idx[i]];
        for (int w = 0; w < 3; w++) {
            if (mult[w] == 0.0)
                continue;
            double v = raw[w](h);
            if (v < lo[w])
                lo[w] = v;
            if (v > hi[w])
                hi[w] = v;
        }
    }
    for (int w = 0; w < 3; w++)
        scale[w] = (mult[w] != 0.0 && hi[w] > lo[w]) ? mult[w] / (hi[w] - lo[w]) : 0.0;

    /* Pass 2: weights, best k kept sorted by insertion. */
    guint have = 0;
    for (guint i = 0; i < n; i++) {
        const TernSchedHost *h = hosts[idx[i]];
        double wt = 0.0;
        for (int w = 0; w < 3; w++)
            if (scale[w] != 0.0)
                wt += (raw[w](h) - lo[w]) * scale[w];
        if (have == k && wt <= out[k - 1].weight)
            continue;
        guint pos = have < k ? have++ : k - 1;
        while (pos > 0 && out[pos - 1].weight < wt) {
            out[pos] = out[pos - 1];
            pos--;
        }
        out[pos].weight = wt;
        out[pos].idx = idx[i];
    }
    return have;
}
