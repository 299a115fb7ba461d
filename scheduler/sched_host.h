/* sched_host.h: one host as the scheduler keeps it in memory: small ints,
 * bitmasks and cpu/'s compact CPU form, so a filter pass over 100,000 hosts
 * is a tight loop without pointers to chase or strings to compare.
 *
 * Supported guest types (Nova's supported_instances triples (arch,
 * hypervisor type, vm mode)) are one bit each in a 64-bit mask, see
 * tern_sched_triple_bit(). */
#ifndef TERN_SCHED_HOST_H
#define TERN_SCHED_HOST_H

#include <glib.h>

#include "cpu/cpu.h"
#include "db/db.h"

/* Hypervisor types and vm modes of a triple. */
enum { TERN_SCHED_HV_QEMU = 0, TERN_SCHED_HV_KVM, TERN_SCHED_HV_OTHER, TERN_SCHED_HV_N };
enum { TERN_SCHED_VM_HVM = 0, TERN_SCHED_VM_OTHER, TERN_SCHED_VM_N };
#define TERN_SCHED_ARCH_N 5      /* TernCpuArch values; 0 (NONE) = an arch tern has no CPU driver for */

static inline guint64
tern_sched_triple_bit(guint arch, guint hv, guint vm)
{
    return G_GUINT64_CONSTANT(1) << ((arch * TERN_SCHED_HV_N + hv) * TERN_SCHED_VM_N + vm);
}
int tern_sched_hv_from_name(const char *name);   /* -1 if NULL */
int tern_sched_vm_from_name(const char *name);   /* -1 if NULL */

/* The first 64 bytes hold all that a filter pass and the weighers read of
 * most hosts, and the cache keeps hosts in one 64-byte aligned array (each
 * host a whole number of cache lines), so a pass reads one cache line per
 * host: usage and capacities in 32 bits (MB, GB and vCPUs: up to 2 PB of
 * RAM per host; larger values are clamped, tern_sched_clamp32), the guest
 * types in a 32-bit mask. */
typedef struct {
    /* ComputeFilter, ImagePropertiesFilter */
    guint8 arch;                /* TernCpuArch of the host */
    guint8 tcg_only;            /* offers no kvm guest type: every guest is emulated */
    guint8 node_disabled;       /* compute node disabled */
    guint8 svc_disabled;        /* service disabled or forced down */
    guint8 has_service;         /* a tern-compute services row exists */
    /* Small ids of guest_cpu and host_cpu among the distinct CPUs of the
     * fleet (tern_sched_cpu_id; 0 = none): CpuModelFilter decides once per
     * distinct CPU and request, and reads only these for most hosts. */
    guint16 guest_cpu_id, host_cpu_id;
    guint32 triples;            /* supported_instances, tern_sched_triple_bit() */
    gint64 last_seen_up;        /* service heartbeat, µs since the epoch */
    /* Ram/Core/DiskFilter and the weighers. Capacity = (total - reserved) *
     * ratio, as claims count it (tern_sched_host_finish). */
    gint32 memory_used, memory_cap;
    gint32 vcpus_used, vcpus_cap;
    gint32 disk_used, disk_cap;
    /* Weighers (Nova's HostState): free RAM = memory_free_base - used, free
     * vCPUs = vcpus_ratio_total - used, free disk = (disk_free_base - used) GB. */
    gint32 memory_free_base;    /* memory_mb - reserved_memory_mb */
    gint32 disk_free_base;      /* local_gb - reserved_disk_gb */
    double vcpus_ratio_total;   /* vcpus * cpu_ratio */
    /* ---- 64 bytes: the rest is read for few hosts ---- */
    /* CpuModelFilter: the guest CPU the host offers (new boots), compact.
     * family 0 = unknown. */
    TernCpuCompact guest_cpu;
    /* Inventory (limits, tern_sched_host_finish). */
    gint64 vcpus, memory_mb, local_gb;
    gint64 reserved_vcpus, reserved_memory_mb, reserved_disk_gb;
    double cpu_ratio, ram_ratio, disk_ratio;
    gint64 generation;
    /* The host CPU (what a live-migrated guest meets), compact. */
    TernCpuCompact host_cpu;
    char *host;                 /* service host */
    char *nodename;             /* hypervisor_hostname */
    char *uuid;                 /* compute node uuid */
    char **machine_types;       /* NULL-terminated */
    gint64 hv_version;          /* hypervisor (QEMU) version, libvirt's encoding; 0 unknown */
    /* CpuModelFilter for a guest the host runs under TCG (another arch
     * family, or hw_emulation_architecture): it gets one of the models QEMU
     * emulates, never the host's CPU. The compute reports them per arch
     * (guest_cpu.tcg_models, docs/tern-rpc.md); compact, each with its arch. */
    TernCpuCompact *tcg_cpus;
    guint tcg_ncpus;
    /* The database's fingerprint of everything but the usage when the row
     * was last read whole (tern_db_compute_node_usage; "" unknown): a
     * change with the same fingerprint is a claim or release, applied
     * from the usage columns alone (sched_sync.c). */
    char inventory_fp[33];
} __attribute__((aligned(64))) TernSchedHost;

G_STATIC_ASSERT(G_STRUCT_OFFSET(TernSchedHost, vcpus_ratio_total) + sizeof(double) <= 64);
G_STATIC_ASSERT(sizeof(TernSchedHost) % 64 == 0);
/* Every guest type has its bit in the host's 32-bit mask. */
G_STATIC_ASSERT(TERN_SCHED_ARCH_N * TERN_SCHED_HV_N * TERN_SCHED_VM_N <= 32);

/* A count of MB, GB or vCPUs as the host keeps it. */
static inline gint32
tern_sched_clamp32(gint64 v)
{
    return v > G_MAXINT32 ? G_MAXINT32 : v < G_MININT32 ? G_MININT32 : (gint32) v;
}

/* Hosts are 64-byte aligned (tern_sched_host_free frees them). */
TernSchedHost *tern_sched_host_new(void);
void tern_sched_host_free(TernSchedHost *h);
/* Free what h points to (not h itself). */
void tern_sched_host_clear(TernSchedHost *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TernSchedHost, tern_sched_host_free)

/* Fill h from a compute_nodes row (service fields are left as they are).
 * A CPU model cpu_map does not know leaves that compact at family 0 (the
 * host then passes no CPU request) and is logged. */
void tern_sched_host_set_node(TernSchedHost *h, const TernCpuDb *cpudb,
                              const TernDbComputeNode *node);
/* Capacities and weigher bases from the inventory fields (vcpus,
 * memory_mb, local_gb, reserved_*, *_ratio). */
void tern_sched_host_finish(TernSchedHost *h);
/* The TCG models of h from the guest_cpu JSON of its compute node row
 * ("tcg_models": {arch: [model, ...]}); models cpu_map does not know are
 * skipped. */
void tern_sched_host_set_tcg_models(TernSchedHost *h, const TernCpuDb *cpudb,
                                    const char *guest_cpu_json);

/* Service fields from a services row (NULL: no row). */
void tern_sched_host_set_service(TernSchedHost *h, const TernDbService *svc);

/* Is the service up at now (µs) with down_time seconds? */
static inline gboolean
tern_sched_host_is_up(const TernSchedHost *h, gint64 now, int down_time)
{
    return h->has_service && !h->svc_disabled &&
           now - h->last_seen_up <= (gint64) down_time * G_USEC_PER_SEC;
}

/* Distinct compact CPUs of the fleet get small ids, 1 .. TERN_SCHED_CPU_IDS - 1
 * (a fleet has few distinct CPUs; 0 once that many are known, or for an
 * unset CPU): the id of c, registering it. Entries are never dropped. */
#define TERN_SCHED_CPU_IDS 256
guint16 tern_sched_cpu_id(const TernCpuCompact *c);
/* The CPU of an id tern_sched_cpu_id returned (stable for the process). */
const TernCpuCompact *tern_sched_cpu_by_id(guint16 id);
/* Set h's guest_cpu_id and host_cpu_id from its compact CPUs (the cache
 * does it when a host enters it). */
void tern_sched_host_set_cpu_ids(TernSchedHost *h);

/* Compact CPU from a model and a full feature list (features NULL or empty:
 * the model's). mode is TERN_CPU_MODE_HOST for hosts. Returns FALSE (out
 * zeroed) when the model is unknown. */
gboolean tern_sched_cpu_compact(const TernCpuDb *cpudb, TernCpuArch arch, const char *model,
                                const char *const *features, TernCpuMode mode,
                                TernCpuCompact *out, GError **error);

#endif
