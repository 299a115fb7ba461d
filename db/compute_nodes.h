/* compute_nodes.h: one row per hypervisor host: what it is (hypervisor,
 * arch, the guests it can run, host CPU and the guest CPU it offers), its
 * inventory and allocation ratios, and how much of it is claimed.
 *
 * The used amounts (vcpus_used, memory_mb_used, local_gb_used) are owned by
 * claims (db/claims.h): tern_db_compute_node_update() never writes them.
 * Capacity of a resource, as in placement:
 *     (total - reserved) * allocation_ratio        (rounded down) */
#ifndef TERN_DB_COMPUTE_NODES_H
#define TERN_DB_COMPUTE_NODES_H

#include <glib.h>

typedef struct _TernDb TernDb;

/* One (arch, hypervisor type, vm mode) a host can run, Nova's
 * supported_instances triple: ("ppc64le", "qemu", "hvm"). */
typedef struct {
    char *arch;
    char *hv_type;
    char *vm_mode;
} TernDbGuestType;

typedef struct {
    gint64 id;
    char *uuid;                   /* compute node uuid (NULL on create: generated) */
    char *host;                   /* service host, unique */
    char *hypervisor_hostname;    /* node name (libvirt hostname) */
    char *hypervisor_type;        /* "QEMU", "KVM" */
    gint64 hypervisor_version;    /* libvirt's encoding, 10000000 = 10.0.0 */
    char *arch;                   /* host arch: "x86_64", "ppc64le" */
    GPtrArray *supported_instances; /* TernDbGuestType*, frees its elements */
    char **machine_types;         /* NULL-terminated: "pc-q35-10.0", "pseries-10.0" */
    /* Host CPU and the guest CPU the host offers under its config, as JSON
     * objects (arch, vendor, model, features, topology / compat mode), plus
     * their models and feature names (NULL-terminated, sorted) so a
     * scheduler loads them without parsing JSON. */
    char *cpu_info;               /* JSON */
    char *cpu_model;              /* host CPU model, e.g. "Skylake-Server-IBRS", "POWER9" */
    char **cpu_features;          /* host CPU feature names */
    char *guest_cpu;              /* JSON */
    char *guest_cpu_model;        /* the model guests get (host-model expansion or cpu_models) */
    char **guest_cpu_features;    /* features guests get */
    /* Inventory. */
    gint64 vcpus, memory_mb, local_gb;
    gint64 reserved_vcpus, reserved_memory_mb, reserved_disk_gb;
    double cpu_allocation_ratio, ram_allocation_ratio, disk_allocation_ratio;
    /* Claimed (read only here; see db/claims.h). */
    gint64 vcpus_used, memory_mb_used, local_gb_used;
    gint64 running_vms;
    /* Bumped on every change, inventory or claim. */
    gint64 generation;
    gboolean disabled;
    char *disabled_reason;
    gint64 created_at, updated_at;
} TernDbComputeNode;

TernDbComputeNode *tern_db_compute_node_new(void);  /* ratios 1.0, everything else empty */
void tern_db_compute_node_free(TernDbComputeNode *node);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TernDbComputeNode, tern_db_compute_node_free)
void tern_db_guest_type_free(TernDbGuestType *t);

/* Capacity of each resource: (total - reserved) * ratio, rounded down. */
gint64 tern_db_compute_node_vcpus_capacity(const TernDbComputeNode *node);
gint64 tern_db_compute_node_memory_capacity(const TernDbComputeNode *node);
gint64 tern_db_compute_node_disk_capacity(const TernDbComputeNode *node);

/* Create or update the host's row from a compute report (keyed by host):
 * every field but id, used amounts, running_vms, generation, disabled and
 * the times. On return node->id, uuid, generation, created_at and updated_at
 * are filled in. Lowering the inventory below what is claimed is allowed
 * (the host is then full until claims are released), as in Nova. */
int tern_db_compute_node_update(TernDb *db, TernDbComputeNode *node, GError **error);
/* TERN_DB_ERROR_NOT_FOUND if the host has no row. */
int tern_db_compute_node_get(TernDb *db, const char *host, TernDbComputeNode **out,
                             GError **error);
/* What claims and releases change on a node (generation, used amounts)
 * and a fingerprint (md5, hex) of the rest a scheduler reads (inventory,
 * ratios, CPUs, guest types, machine types, disabled): a reader that holds
 * the rest tells a claim or release (same fingerprint) from a new report
 * without reading the whole row. TERN_DB_ERROR_NOT_FOUND if no row. */
typedef struct {
    gint64 generation;
    gint64 vcpus_used, memory_mb_used, local_gb_used;
    char fingerprint[33];
} TernDbComputeNodeUsage;
int tern_db_compute_node_usage(TernDb *db, const char *host, TernDbComputeNodeUsage *out,
                               GError **error);
/* Every compute node ordered by host (array frees its elements). */
int tern_db_compute_node_list(TernDb *db, GPtrArray **out, GError **error);
int tern_db_compute_node_set_disabled(TernDb *db, const char *host, gboolean disabled,
                                      const char *reason, GError **error);
/* Refused (TERN_DB_ERROR_CONFLICT) while the host holds allocations. */
int tern_db_compute_node_delete(TernDb *db, const char *host, GError **error);

#endif
