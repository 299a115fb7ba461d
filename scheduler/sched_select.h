/* sched_select.h: select_destinations' core: for each instance, filter the
 * cached hosts, weigh the survivors, pick one at random among the best
 * [filter_scheduler] host_subset_size, claim it (a claim lost to another
 * scheduler moves on to the next host), and keep up to
 * [scheduler] max_attempts - 1 alternates (not claimed). Claims go through
 * callbacks so the core runs on in-memory hosts in unit tests and on
 * db/claims.h in the service. */
#ifndef TERN_SCHED_SELECT_H
#define TERN_SCHED_SELECT_H

#include <glib.h>

#include "scheduler/sched_cache.h"
#include "scheduler/sched_filter.h"
#include "scheduler/sched_request.h"
#include "scheduler/sched_weigh.h"

/* One host of the answer. */
typedef struct {
    char *host;
    char *nodename;
    char *uuid;                    /* compute node uuid */
    gint64 vcpus, memory_mb, disk_gb;   /* claimed (chosen) or asked (alternates) */
    gint64 vcpu_limit, memory_limit, disk_limit;  /* total * ratio (SchedulerLimits) */
    double weight;
    gint64 generation;             /* the host's generation when it was weighed */
} TernSchedPick;

void tern_sched_pick_free(TernSchedPick *p);

/* Claim r's resources on host for consumer (move: a move claim). Return 0,
 * or -1 with error; TERN_DB_ERROR_NO_CAPACITY means "lost the race, try the
 * next host", anything else fails the request. */
typedef int (*TernSchedClaimFunc)(const char *consumer, gboolean move, const char *host,
                                  const TernSchedRequest *r, gpointer data, GError **error);
/* Undo a claim (the request failed for a later instance). */
typedef void (*TernSchedReleaseFunc)(const char *consumer, gboolean move, const char *host,
                                     gpointer data);

typedef struct {
    GPtrArray *filters;            /* const TernSchedFilter* in order */
    TernSchedMultipliers mult;
    int host_subset_size;
    int max_attempts;
    int down_time;                 /* [DEFAULT] service_down_time */
    const char *default_az;
    const TernCpuDb *cpudb;
    TernSchedClaimFunc claim;      /* NULL: no claims */
    TernSchedReleaseFunc release;
    gpointer claim_data;
} TernSchedPolicy;

/* Answer r for instance_uuids (n of them; 0 = r->num_instances instances
 * without uuids, which are not claimed). out: one GPtrArray of
 * TernSchedPick* per instance, chosen first, then the alternates when
 * `alternates`. On failure: -1, every claim of this call released, and
 * TERN_SCHED_ERROR_NO_VALID_HOST with a reason naming which filters removed
 * how many hosts (or another error). */
int tern_sched_select(TernSchedCache *cache, const TernSchedPolicy *p, const TernSchedRequest *r,
                      const char *const *instance_uuids, guint n_uuids, gboolean alternates,
                      GPtrArray **out, GError **error);

#endif
