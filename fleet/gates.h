/* gates.h: per-arch feature gates (docs/fleet.md §1): which of tern's
 * operations (live_migration, display:<protocol>, disk_bus:<bus>) a host
 * of (arch, virt type, hypervisor version) allows, read from a data file
 * (etc/tern/feature-gates.ini), with a reason an operator can act on.
 * Pure: GLib only, no daemon, no database, so the conductor, the scheduler
 * and the CLI all link it (libtern_fleet.a).
 *
 * A gate denies its operations where every condition it has matches:
 *
 *   [gate ppc64le-tcg-live-migration]
 *   arch = ppc64le              ; the guest arch (list)
 *   virt_type = qemu            ; qemu (TCG) or kvm (list; absent = any)
 *   version_min = 0.0.0         ; hypervisor (QEMU) version >= (absent = any)
 *   version_below = 10.0.0      ; hypervisor version <  (absent = any)
 *   deny = live_migration       ; operations (list)
 *   reason = ...
 *
 * Operations not denied by any gate are allowed. An operator overrides a
 * gate by name ([feature_gates] overrides). */
#ifndef TERN_FLEET_GATES_H
#define TERN_FLEET_GATES_H

#include <glib.h>

#define TERN_GATES_ERROR (tern_gates_error_quark())
GQuark tern_gates_error_quark(void);
typedef enum {
    TERN_GATES_ERROR_FILE,      /* cannot read the gates file */
    TERN_GATES_ERROR_INVALID,   /* a gate with a bad key, operation or version */
    TERN_GATES_ERROR_DENIED,    /* an operation a gate denies (the message has the reason) */
} TernGatesErrorCode;

/* Operations tern knows (a gate naming another is refused at load). */
extern const char *const tern_gates_operations[];

typedef struct _TernGates TernGates;

TernGates *tern_gates_load_file(const char *path, GError **error);
TernGates *tern_gates_load_data(const char *data, gsize len, GError **error);
void tern_gates_free(TernGates *g);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TernGates, tern_gates_free)

/* Ignore these gates (names without the "gate " prefix). An unknown name is
 * TERN_GATES_ERROR_INVALID (a typo must not silently keep a gate on). */
int tern_gates_set_overrides(TernGates *g, const char *const *names, GError **error);

/* "10.0.2" -> 10000002 (libvirt's encoding); -1 if malformed. */
gint64 tern_gates_parse_version(const char *text);

/* 0 when operation is allowed for a guest of arch under virt_type ("kvm" or
 * "qemu") on a hypervisor of that version (libvirt's encoding; 0 =
 * unknown: version conditions then match, the safe side); -1 with
 * TERN_GATES_ERROR_DENIED, the message naming the gate and its reason. */
int tern_gates_check(const TernGates *g, const char *arch, const char *virt_type,
                     gint64 hv_version, const char *operation, GError **error);

/* The gates that apply to such a host, one line each ("live_migration:
 * denied by ppc64le-tcg-live-migration: <reason>", "(overridden)" when
 * overridden), for `tern host show`. */
GPtrArray *tern_gates_describe(const TernGates *g, const char *arch, const char *virt_type,
                               gint64 hv_version);

/* One operation a gate denies on such a host, for `tern host show`:
 * pointers into g (valid while g lives). overridden: the gate is in
 * [feature_gates] overrides, so the operation is allowed after all. */
typedef struct {
    const char *operation;
    const char *gate;
    const char *reason;
    gboolean overridden;
} TernGateVerdict;

/* The denials (TernGateVerdict*, freed with the array) that apply to a
 * guest of arch under virt_type on a hypervisor of that version, in the
 * order of the file. Operations absent from it are allowed. */
GPtrArray *tern_gates_verdicts(const TernGates *g, const char *arch, const char *virt_type,
                               gint64 hv_version);

/* 10000002 -> "10.0.2" ("an unknown version" for 0). */
char *tern_gates_version_text(gint64 hv_version);

#endif
