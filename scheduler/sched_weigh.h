/* sched_weigh.h: Nova's RAM, CPU and disk weighers. Each weigher's raw
 * values (free RAM MB, free vCPUs with the allocation ratio, free disk MB)
 * are normalised over the hosts that passed the filters to [0, 1] (all 0
 * when they are equal), multiplied by [filter_scheduler]
 * ram/cpu/disk_weight_multiplier and summed; the highest weight wins, so a
 * negative multiplier stacks. Only the best k are kept, without sorting
 * the whole set. */
#ifndef TERN_SCHED_WEIGH_H
#define TERN_SCHED_WEIGH_H

#include <glib.h>

#include "scheduler/sched_host.h"

typedef struct {
    double ram, cpu, disk;
    /* Nova's ServerGroupSoftAffinityWeigher / SoftAntiAffinityWeigher:
     * [filter_scheduler] soft_affinity_weight_multiplier and
     * soft_anti_affinity_weight_multiplier. */
    double soft_affinity, soft_anti_affinity;
} TernSchedMultipliers;

typedef struct {
    double weight;
    guint idx;       /* index into the host array */
} TernSchedWeighed;

/* Raw values of one host, as Nova's HostState has them. */
static inline double
tern_sched_free_ram_mb(const TernSchedHost *h)
{
    return (double) ((gint64) h->memory_free_base - h->memory_used);
}
static inline double
tern_sched_free_vcpus(const TernSchedHost *h)
{
    return h->vcpus_ratio_total - (double) h->vcpus_used;
}
static inline double
tern_sched_free_disk_mb(const TernSchedHost *h)
{
    return (double) ((gint64) h->disk_free_base - h->disk_used) * 1024.0;
}
/* The three weighers' raw values of h, as the weighing functions below
 * read them (three doubles per host). */
static inline void
tern_sched_weigh_inputs(const TernSchedHost *h, double *w)
{
    w[0] = tern_sched_free_ram_mb(h);
    w[1] = tern_sched_free_vcpus(h);
    w[2] = tern_sched_free_disk_mb(h);
}

/* Weigh hosts[idx[0..n)] and write the best min(k, n) to out, best first
 * (ties keep the order of idx). Returns how many were written. */
guint tern_sched_weigh_top(const TernSchedMultipliers *m, const TernSchedHost *hosts,
                           const guint *idx, guint n, TernSchedWeighed *out, guint k);
/* The same from raw values already read (3 per host of idx, in order). */
guint tern_sched_weigh_top_raw(const TernSchedMultipliers *m, const double *raw, const guint *idx,
                               guint n, TernSchedWeighed *out, guint k);
/* The same plus one more weigher: extra (one raw value per host of idx,
 * or NULL) normalised as the others and multiplied by extra_mult (the soft
 * server-group weighers: members of the group on the host, negated for
 * soft-anti-affinity). */
guint tern_sched_weigh_top_extra(const TernSchedMultipliers *m, const double *raw,
                                 const double *extra, double extra_mult, const guint *idx,
                                 guint n, TernSchedWeighed *out, guint k);

#endif
