/* guest_os_rules.h: which guest OS runs on which arch with which devices,
 * shared by tern-compute (domain XML) and tern-scheduler (GuestOSArchFilter),
 * read from data, not code: osinfo-db through libosinfo (the database of
 * virt-install; OSes derive from one another and list the arches they are
 * built for and the devices they drive), plus tern's own additions and
 * overrides in an INI file (etc/tern/guest-os-rules.ini, installed as
 * $(pkgdatadir)/guest-os-rules.ini) for what osinfo-db lacks: OSes newer
 * than the installed osinfo-db, display protocols an OS can no longer use,
 * the mapping of tern's device choices to osinfo-db device names.
 *
 * A request an OS cannot run (an arch it is not built for, a device it has
 * no driver for, a display protocol it cannot use) is refused with a
 * message that names the rule; an empty os_distro is not checked. */
#ifndef TERN_GUEST_OS_RULES_H
#define TERN_GUEST_OS_RULES_H

#include <glib.h>

#define TERN_GUEST_OS_ERROR (tern_guest_os_error_quark())
GQuark tern_guest_os_error_quark(void);
typedef enum {
    TERN_GUEST_OS_ERROR_IO,           /* osinfo-db cannot be loaded */
    TERN_GUEST_OS_ERROR_CONFIG,       /* the overrides file is unreadable or malformed */
    TERN_GUEST_OS_ERROR_UNSUPPORTED,  /* a request the guest OS cannot run (the message names the rule) */
} TernGuestOsError;

typedef struct _TernGuestOsRules TernGuestOsRules;

/* Load osinfo-db (libosinfo's default path) and the overrides file (NULL:
 * none). An error for an unreadable or malformed overrides file. */
TernGuestOsRules *tern_guest_os_rules_load(const char *overrides_path, GError **error);
void tern_guest_os_rules_free(TernGuestOsRules *rules);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TernGuestOsRules, tern_guest_os_rules_free)

/* The overrides file tern ships: $TERN_GUEST_OS_RULES, else the installed
 * $(pkgdatadir)/guest-os-rules.ini, else the source tree's copy. */
char *tern_guest_os_rules_default_path(void);

/* Is os_distro (an osinfo short id or one the overrides add) known? */
gboolean tern_guest_os_rules_known(TernGuestOsRules *rules, const char *os_distro);

/* The OS an image names: os_distro when it is a known id, else os_distro
 * followed by os_version (Glance's spelling: "debian" + "12" is debian12,
 * "ubuntu" + "22.04" is ubuntu22.04) when that is known; NULL when neither
 * is. Scheduler and compute resolve an image the same way. */
char *tern_guest_os_rules_resolve(TernGuestOsRules *rules, const char *os_distro,
                                  const char *os_version);

/* Check a request: the guest arch and its device choices, each written
 * "kind:name" with kind one of disk (a disk bus), scsi (SCSI controller
 * model), nic, video, graphics. 0, or -1 + an UNSUPPORTED error. */
int tern_guest_os_rules_check(TernGuestOsRules *rules, const char *os_distro, const char *arch,
                              const char *const *devices, GError **error);

/* Arches os_distro is built for (NULL-terminated, free with g_strfreev);
 * NULL when the data names none (then every arch is allowed). */
char **tern_guest_os_rules_arches(TernGuestOsRules *rules, const char *os_distro);

#endif
