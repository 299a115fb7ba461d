/* sched_request.h: what one select_destinations call asks for, read once
 * from Nova's RequestSpec into flat fields the filters test per host:
 * resources, the acceptable guest types as a mask, the CPU it needs in
 * cpu/'s compact form, host lists, and for a live migration the instance's
 * recorded guest CPU and machine type.
 *
 * CPU requests, from the flavor's extra specs and the image's properties:
 *   trait:HW_CPU_X86_<X>=required|forbidden   (Nova's CPU traits)
 *   image traits_required                      (Nova's image property)
 *   tern:cpu_model=Skylake-Client-IBRS         (a cpu_map model the guest needs)
 *   tern:cpu_flags=+md-clear,+pcid             (features the guest needs,
 *                                               e.g. mitigations)
 * Nova validates `hw:` extra specs at its API, so tern's own keys live
 * under `tern:`. */
#ifndef TERN_SCHED_REQUEST_H
#define TERN_SCHED_REQUEST_H

#include <glib.h>

#include "cpu/cpu.h"
#include "db/db.h"
#include "fleet/gates.h"
#include "fleet/guest_os_rules.h"
#include "rpc/object.h"

typedef struct {
    char *instance_uuid;
    gint64 num_instances;
    /* Per instance. */
    gint64 vcpus, memory_mb, disk_gb;
    /* ImagePropertiesFilter: the guest arch (NONE with arch_name set for an
     * arch tern has no CPU driver for), emulated (hw_emulation_architecture),
     * and the guest types a host must offer one of. */
    char *arch_name;
    TernCpuArch arch;
    gboolean emulated;
    char *hv_type, *vm_mode;
    guint64 triples_mask;       /* 0 = no constraint */
    char *availability_zone;
    /* CpuModelFilter. */
    gboolean has_cpu;
    TernCpuCompact cpu;         /* what the guest needs */
    TernCpuFeatureSet cpu_extra;   /* of which named on top of the model (flags, traits) */
    char *cpu_model;            /* the model asked / recorded (messages), or NULL */
    gboolean has_forbidden;
    TernCpuFeatureSet forbidden;
    char *cpu_desc;             /* "Skylake-Client-IBRS +md-clear" (messages) */
    /* Host lists (NULL-terminated or NULL). */
    char **force_hosts, **force_nodes, **ignore_hosts;
    char *dest_host, *dest_node;   /* requested_destination */
    /* scheduler_hints of tern's conductor (docs/tern-rpc.md). */
    gboolean hint_live_move;
    char *hint_migration_uuid;
    /* Live migration. */
    gboolean is_move;
    char *migration_uuid;       /* consumer of the move claim (may be NULL) */
    char *source_host;
    char *machine_type;         /* recorded machine type the destination must offer */
    /* Server group (RequestSpec.instance_group, else the "group" hint):
     * its uuid, Nova's policy name (NULL until known) and the hosts of its
     * members, host -> members there (the request's InstanceGroup.hosts and
     * the database's members, merged by the service). */
    char *group_uuid;
    char *group_policy;
    GHashTable *group_hosts;
    /* GuestOSArchFilter: the image's os_distro / os_version (Nova's
     * properties), the osinfo short id they resolve to (NULL: unknown to
     * osinfo-db and the overrides), and the arches that OS is built for
     * (os_any_arch: no list), one bit per TernCpuArch in os_arch_bits;
     * os_arch_ok answers for a requested arch tern has no CPU driver for.
     * os_checked: tern_sched_request_set_guest_os() has run. */
    char *os_distro, *os_version, *os_id;
    gboolean os_checked, os_any_arch, os_arch_ok;
    guint32 os_arch_bits;
    char *os_arches;            /* "i686, x86_64" (messages) */
    /* The feature gates (fleet/gates.h) the service applies, or NULL: a
     * live migration goes only to hosts whose gates allow it. Not owned. */
    const TernGates *gates;
} TernSchedRequest;

TernSchedRequest *tern_sched_request_new(void);
/* Count one more member of the request's group on host. */
void tern_sched_request_group_add_host(TernSchedRequest *r, const char *host, guint members);
void tern_sched_request_free(TernSchedRequest *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TernSchedRequest, tern_sched_request_free)

/* Read a RequestSpec object. Unknown models, features or traits are errors
 * (TERN_SCHED_ERROR_INVALID) naming them. */
TernSchedRequest *tern_sched_request_from_spec(const TernCpuDb *cpudb, const TernObject *spec,
                                               GError **error);

/* Turn r into a live migration of inst (its row from the database): same
 * arch as the instance, its recorded guest CPU (JSON {"arch","mode","model",
 * "features","xml"}) needed from the destination's host CPU, the source
 * host ignored, the recorded machine type (image property hw_machine_type)
 * needed. migration_uuid may be NULL. */
int tern_sched_request_set_move(TernSchedRequest *r, const TernCpuDb *cpudb,
                                const TernDbInstance *inst, const char *migration_uuid,
                                GError **error);

/* Resolve the request's guest OS against the rules (fleet/guest_os_rules.h):
 * os_distro as an osinfo short id ("debian11", "win10"), else os_distro +
 * os_version ("debian" + "11", "rhel" + "8.6"). rules NULL: not checked. */
void tern_sched_request_set_guest_os(TernSchedRequest *r, TernGuestOsRules *rules);

/* The guest-type mask for (arch, emulated, hv_type, vm_mode); exposed for
 * tests. arch_name NULL = any arch. */
guint64 tern_sched_request_triples_mask(const char *arch_name, gboolean emulated,
                                        const char *hv_type, const char *vm_mode);

#endif
