/* compute.h: the API of libtern_compute.a, what tern-compute's service
 * (compute_service.c, with the RPC handlers of rpc/) is built from.
 *
 * Start-up:
 *   uri = tern_libvirt_uri_from_config(conf);
 *   c = tern_libvirt_conn_open(uri, on_event, on_state, svc, &err);
 *       on_event(uuid, name, event, detail, power_state) runs on libvirt's
 *       event thread: queue a power-state report to the conductor there;
 *       on_state(FALSE/TRUE): libvirtd lost / back (re-read every domain).
 *   conn = tern_libvirt_conn_get(c, &err);              (virConnectClose after use)
 *   tern_host_probe(conn, &(TernHostProbeOptions){
 *       .facts_dir = [libvirt] host_facts_dir, .instances_path = [compute] instances_path },
 *       &facts, &err);
 *       facts->arch, vcpus, memory_mb, disk_gb, hypervisor_type/_version,
 *       tern_host_facts_supported_instances(facts) (Nova's list),
 *       facts->host_cpu_xml and each guest's domcaps_xml for cpu/.
 *   rules = tern_guest_os_rules_load([compute] guest_os_rules or
 *       tern_guest_os_rules_default_path(), &err);
 *   tern_guest_reconcile(conn, uuids the conductor lists for this host,
 *       &unknown, &missing, &err)          (report; never destroy)
 *
 * build_and_run_instance:
 *   disk = tern_instance_disk_create(instances_path, images_path, uuid,
 *       image id, flavor root_gb, &err);
 *   spec = tern_guest_spec_new(); fill uuid, name, virt_type ([libvirt]
 *       virt_type), vcpus, memory_mb, image properties (hw_*, os_distro),
 *       machine_type_defaults ([libvirt] hw_machine_type), cpu_xml (from
 *       cpu/), tern_guest_spec_add_disk(spec, disk, NULL), NICs;
 *   tern_compute_build_domain_xml(spec, facts, rules, &xml, &err)
 *       UNSUPPORTED: a rule the request breaks (report the fault so the
 *       conductor reschedules; nothing reached libvirt);
 *   tern_guest_boot(conn, xml, &err)      (nothing left defined on failure)
 *   on any failure: tern_guest_terminate(conn, uuid, instances_path, NULL).
 *
 * start_instance / stop_instance / reboot_instance (soft, hard) /
 * terminate_instance: tern_guest_start, tern_guest_stop (clean shutdown
 * timeout), tern_guest_reboot, tern_guest_terminate; tern_guest_power_state
 * for the state to report.
 *
 * Errors: every function returns 0 / -1 (or NULL) with a TERN_COMPUTE_ERROR
 * (compute_error.h) whose message an operator can act on. */
#ifndef TERN_COMPUTE_H
#define TERN_COMPUTE_H

#include "compute/arch/arch.h"
#include "compute/compute_error.h"
#include "compute/domain_xml.h"
#include "compute/guest_lifecycle.h"
#include "fleet/guest_os_rules.h"
#include "compute/guest_spec.h"
#include "compute/host_facts.h"
#include "compute/host_probe.h"
#include "compute/instance_disk.h"
#include "compute/libvirt_conn.h"

#endif
