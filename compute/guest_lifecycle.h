/* guest_lifecycle.h: what tern-compute does to a guest on a libvirt
 * connection: boot (define + start), start, stop (clean shutdown within a
 * timeout, then power off), reboot (soft, hard), terminate (power off,
 * undefine, remove its disks), the power state, and the reconcile of
 * libvirt's domains with the instances the conductor says are on this
 * host (unknown domains are reported, never destroyed).
 *
 * Guests are named by instance uuid. Functions return 0 / -1 + a
 * TERN_COMPUTE_ERROR (NOT_FOUND when no domain has that uuid). */
#ifndef TERN_GUEST_LIFECYCLE_H
#define TERN_GUEST_LIFECYCLE_H

#include <glib.h>
#include <libvirt/libvirt.h>

/* Define the domain persistently and start it; if it does not start, it
 * is undefined again so nothing is left. */
int tern_guest_boot(virConnectPtr conn, const char *domain_xml, GError **error);
int tern_guest_start(virConnectPtr conn, const char *uuid, GError **error);
/* Ask the guest to shut down and wait up to timeout_s seconds, then power
 * it off (timeout_s 0: power off at once). Stopping a stopped guest is 0. */
int tern_guest_stop(virConnectPtr conn, const char *uuid, guint timeout_s, GError **error);
/* soft: the guest reboots itself (ACPI / guest agent); hard: power off
 * and start again. */
int tern_guest_reboot(virConnectPtr conn, const char *uuid, gboolean hard, GError **error);
/* Power off, undefine (managed save, snapshot metadata, NVRAM too) and, if
 * instances_path is set, remove instances_path/<uuid>. A missing domain is
 * not an error (terminate is idempotent). */
int tern_guest_terminate(virConnectPtr conn, const char *uuid, const char *instances_path,
                         GError **error);
/* Nova's power state (libvirt_conn.h TernPowerState). */
int tern_guest_power_state(virConnectPtr conn, const char *uuid, int *power_state,
                           GError **error);

typedef struct {
    char *uuid;
    char *name;
    int power_state;
} TernDomainInfo;
void tern_domain_info_free(TernDomainInfo *info);

/* Compare libvirt's domains (running or defined) with known_uuids (the
 * instances on this host): *unknown gets TernDomainInfo* for domains no
 * instance owns, *missing the uuids of instances without a domain. Nothing
 * is changed; each unknown domain is logged as a warning. */
int tern_guest_reconcile(virConnectPtr conn, const char *const *known_uuids,
                         GPtrArray **unknown, GPtrArray **missing, GError **error);

#endif
