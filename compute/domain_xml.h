/* domain_xml.h: build a guest's libvirt domain XML from a TernGuestSpec and
 * the host's facts, through the guest arch's strategy (arch/arch.h) and the
 * guest OS rules (guest_os_rules.h).
 *
 * Every check runs before any XML is produced, so a request this host, its
 * hypervisor, tern's per-arch policy or the guest OS cannot take is refused
 * with a message naming the rule, before libvirt sees it. The XML is built
 * with libxml2: names, paths and command lines from the request are escaped,
 * never pasted into text. */
#ifndef TERN_DOMAIN_XML_H
#define TERN_DOMAIN_XML_H

#include <glib.h>

#include "fleet/guest_os_rules.h"
#include "compute/guest_spec.h"
#include "compute/host_facts.h"

/* Build the domain XML (no XML declaration, two-space indents) into *xml.
 * rules may be NULL (no OS rules). 0, or -1 + a TERN_COMPUTE_ERROR:
 * INVALID for a malformed request, UNSUPPORTED for a rule it breaks. */
int tern_compute_build_domain_xml(const TernGuestSpec *spec, const TernHostFacts *facts,
                                  TernGuestOsRules *rules, char **xml, GError **error);

#endif
