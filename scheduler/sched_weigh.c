/* sched_weigh.c: Nova's weighers with its normalisation, best k kept. */
#include "scheduler/sched_weigh.h"

guint
tern_sched_weigh_top(const TernSchedMultipliers *m, const TernSchedHost *hosts, const guint *idx,
                     guint n, TernSchedWeighed *out, guint k)
{
    g_autofree double *raw = g_new(double, (gsize) MAX(n, 1) * 3);
    for (guint i = 0; i < n; i++)
        tern_sched_weigh_inputs(&hosts[idx[i]], &raw[(gsize) i * 3]);
    return tern_sched_weigh_top_raw(m, raw, idx, n, out, k);
}

guint
tern_sched_weigh_top_raw(const TernSchedMultipliers *m, const double *raw, const guint *idx,
                         guint n, TernSchedWeighed *out, guint k)
{
    return tern_sched_weigh_top_extra(m, raw, NULL, 0.0, idx, n, out, k);
}

guint
tern_sched_weigh_top_extra(const TernSchedMultipliers *m, const double *raw,
                           const double *extra, double extra_mult, const guint *idx,
                           guint n, TernSchedWeighed *out, guint k)
{
    if (n == 0 || k == 0)
        return 0;
    double xlo = G_MAXDOUBLE, xhi = -G_MAXDOUBLE, xscale = 0.0;
    for (guint i = 0; extra && i < n; i++) {
        xlo = MIN(xlo, extra[i]);
        xhi = MAX(xhi, extra[i]);
    }
    if (extra && extra_mult != 0.0 && xhi > xlo)
        xscale = extra_mult / (xhi - xlo);
    const double mult[3] = { m->ram, m->cpu, m->disk };
    double lo[3], hi[3], scale[3];
    for (int w = 0; w < 3; w++) {
        lo[w] = G_MAXDOUBLE;
        hi[w] = -G_MAXDOUBLE;
    }
    /* Pass 1: min and max of each weigher. */
    for (guint i = 0; i < n; i++) {
        const double *v = &raw[(gsize) i * 3];
        for (int w = 0; w < 3; w++) {
            lo[w] = MIN(lo[w], v[w]);
            hi[w] = MAX(hi[w], v[w]);
        }
    }
    for (int w = 0; w < 3; w++)
        scale[w] = (mult[w] != 0.0 && hi[w] > lo[w]) ? mult[w] / (hi[w] - lo[w]) : 0.0;

    /* Pass 2: weights, best k kept sorted by insertion. */
    guint have = 0;
    for (guint i = 0; i < n; i++) {
        const double *v = &raw[(gsize) i * 3];
        double wt = (v[0] - lo[0]) * scale[0] + (v[1] - lo[1]) * scale[1] +
                    (v[2] - lo[2]) * scale[2];
        if (xscale != 0.0)
            wt += (extra[i] - xlo) * xscale;
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
