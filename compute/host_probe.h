/* host_probe.h: gather a host's facts (host_facts.h) from libvirt: the
 * capabilities, one domain capabilities document per guest (arch, virt
 * type) tern has a strategy for (asked for the strategy's default machine
 * type), node info, versions, and the size of the instances folder.
 *
 * Simulated hosts: libvirt's test driver reports i686 capabilities whatever
 * its node XML says and has no domain capabilities. With
 * [libvirt] host_facts_dir set (only allowed on the test driver), the
 * capabilities and domain capabilities come from files in that folder:
 *   capabilities.xml                       (required)
 *   domcapabilities-<arch>-<virttype>.xml  (or domcapabilities-<arch>.xml)
 *   host.ini                               (optional: [host] hypervisor_type,
 *                                           hypervisor_version, libvirt_version)
 * vCPUs and memory then come from the NUMA cells of capabilities.xml.
 * tests/data/hosts/{x86_64,power8,power9} are such folders. */
#ifndef TERN_HOST_PROBE_H
#define TERN_HOST_PROBE_H

#include <glib.h>
#include <libvirt/libvirt.h>

#include "compute/host_facts.h"

typedef struct {
    const char *facts_dir;       /* [libvirt] host_facts_dir; NULL or "" = ask libvirt */
    const char *instances_path;  /* [compute] instances_path (disk figures); may be NULL */
    const char *guest_endianness; /* [compute] guest_endianness; NULL = any */
} TernHostProbeOptions;

/* Probe the host behind conn. 0 + *facts, or -1 + error. */
int tern_host_probe(virConnectPtr conn, const TernHostProbeOptions *opts,
                    TernHostFacts **facts, GError **error);

/* Read host facts from a facts folder alone (no libvirt): what
 * tern_host_probe does with host_facts_dir, minus node info and hostname. */
TernHostFacts *tern_host_facts_load_dir(const char *dir, GError **error);

/* "10.0.2" -> 10000002 (libvirt's version encoding); 0 if malformed. */
guint64 tern_version_parse(const char *text);

#endif
