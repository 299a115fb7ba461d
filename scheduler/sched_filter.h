/* sched_filter.h: host filters ([filter_scheduler] enabled_filters, Nova's
 * names where the meaning matches) and the pass that runs them in order over
 * the host set, counting how many hosts each removed so NoValidHost can say
 * which filter left nothing and why.
 *
 *   ComputeFilter            compute node enabled, service enabled and up
 *                            (heartbeat within [DEFAULT] service_down_time)
 *   AvailabilityZoneFilter   tern's schema has no host aggregates: every host
 *                            is in [DEFAULT] default_availability_zone; a
 *                            request for another zone matches no host
 *   ImagePropertiesFilter    hw_architecture / hw_emulation_architecture,
 *                            img_hv_type, hw_vm_mode against supported guest
 *                            types; a guest of another arch than the host's
 *                            only on a TCG-only host or when emulation is
 *                            asked; for a live migration the recorded
 *                            machine type must be offered
 *   RamFilter, CoreFilter, DiskFilter
 *                            used + requested <= (total - reserved) * ratio
 *   GuestOSArchFilter        the image's guest OS (os_distro, os_version)
 *                            is built for the arch the guest would have on
 *                            the host (hw_architecture, else the host's):
 *                            osinfo-db + guest-os-rules.ini
 *   CpuModelFilter           the CPU the guest needs (model, features, CPU
 *                            traits, mitigations) within the guest CPU the
 *                            host offers; for a guest the host runs under
 *                            TCG within one of the models QEMU emulates
 *                            there (guest_cpu.tcg_models); for a live
 *                            migration within the destination's host CPU
 * Before the filters (as Nova's host manager does): ignore_hosts (and the
 * source of a move), force_hosts / force_nodes, requested_destination. */
#ifndef TERN_SCHED_FILTER_H
#define TERN_SCHED_FILTER_H

#include <glib.h>

#include "scheduler/sched_host.h"
#include "scheduler/sched_request.h"

/* Per-pass state shared by the filters of one request. */
typedef struct {
    const TernSchedRequest *req;
    const TernCpuDb *cpudb;
    gint64 now;                 /* µs */
    int down_time;              /* seconds */
    gboolean az_ok;             /* the request's zone is the hosts' zone */
    /* CpuModelFilter: why hosts failed. */
    guint cpu_other_family, cpu_generation, cpu_vendor, cpu_forbidden, cpu_older;
    guint cpu_tcg, cpu_tcg_unknown;   /* emulated guest: no TCG model fits / none reported */
    /* CpuModelFilter per distinct CPU id (sched_host.h): the verdict for
     * this request (0 = not yet decided) and how many hosts it refused. */
    guint8 cpu_verdict[TERN_SCHED_CPU_IDS];
    guint cpu_fails[TERN_SCHED_CPU_IDS];
    guint32 missing[TERN_CPU_SET_MAX];
    /* Compute filter. */
    guint down, disabled;
    /* GuestOSArchFilter: hosts refused per guest arch (TernCpuArch). */
    guint os_refused[TERN_SCHED_ARCH_N];
    /* FeatureGatesFilter: the last gate's refusal (docs/fleet.md §1). */
    char gate_reason[512];
} TernSchedFilterCtx;

typedef gboolean (*TernSchedFilterFunc)(const TernSchedHost *h, TernSchedFilterCtx *ctx);
typedef void (*TernSchedFilterExplain)(TernSchedFilterCtx *ctx, GString *out);

/* FALSE when the filter keeps every host for this request (nothing asked
 * of it): the pass then leaves it out. */
typedef gboolean (*TernSchedFilterActive)(const TernSchedFilterCtx *ctx);

typedef struct {
    const char *name;
    TernSchedFilterFunc func;
    TernSchedFilterExplain explain;   /* may be NULL */
    TernSchedFilterActive active;     /* NULL: always run */
} TernSchedFilter;

/* The filter of that name, or NULL. */
const TernSchedFilter *tern_sched_filter_find(const char *name);
/* Filters by name, in order; an unknown name is TERN_SCHED_ERROR_CONFIG. */
GPtrArray *tern_sched_filters_from_names(const char *const *names, GError **error);

/* TRUE: run every filter through its function, host by host (the
 * reference the branch-free pass is tested against; tests only). */
extern gboolean tern_sched_filter_generic;

void tern_sched_filter_ctx_init(TernSchedFilterCtx *ctx, const TernSchedRequest *req,
                                const TernCpuDb *cpudb, gint64 now, int down_time,
                                const char *default_az);

/* Run the host-list rules then each filter over hosts[idx[0..n)], keeping
 * the survivors in idx (in order). Returns how many remain; reason (may be
 * NULL) receives "ComputeFilter removed 2 hosts; CpuModelFilter removed 7
 * hosts: missing md-clear (7)" for every step that removed hosts. */
guint tern_sched_filter_run(const GPtrArray *filters, const TernSchedHost *hosts, guint *idx,
                            guint n, TernSchedFilterCtx *ctx, GString *reason);
/* The same, also writing each survivor's raw weigher values (free RAM MB,
 * free vCPUs, free disk MB; 3 doubles per survivor, in survivor order) to
 * raw, read while the host is in cache (tern_sched_weigh_top_raw). */
guint tern_sched_filter_run_raw(const GPtrArray *filters, const TernSchedHost *hosts, guint *idx,
                                guint n, TernSchedFilterCtx *ctx, GString *reason, double *raw);

#endif
