/* libvirt.c: options of [libvirt] (Nova's names and meanings). */
#include "common/config_opts.h"

static const char *const virt_types[] = { "kvm", "qemu", NULL };
static const char *const cpu_modes[] = { "host-model", "host-passthrough", "custom", "none", NULL };
static const char *const timeout_actions[] = { "abort", "force_complete", NULL };

const TernOpt tern_opts_libvirt[] = {
    { "libvirt", "virt_type", TERN_OPT_ENUM, "kvm",
      "Hypervisor type of this host's guests: kvm, or qemu for TCG emulation.",
      .choices = virt_types },
    { "libvirt", "connection_uri", TERN_OPT_STRING, "",
      "libvirt URI to connect to; empty means the default for virt_type (qemu:///system)." },
    { "libvirt", "host_facts_dir", TERN_OPT_STRING, "",
      "Simulated hosts only: a folder of host facts read instead of asking libvirt, "
      "when connection_uri is libvirt's test driver (test:///...), whose own "
      "capabilities are always i686. It holds capabilities.xml, "
      "domcapabilities-<arch>-<virt_type>.xml (or domcapabilities-<arch>.xml) and "
      "optionally host.ini ([host] hypervisor_type, hypervisor_version, "
      "libvirt_version); vCPUs and memory come from the NUMA cells of "
      "capabilities.xml. tern ships x86_64, POWER8 and POWER9 hosts in "
      "tests/data/hosts/. Refused with any other libvirt driver." },
    { "libvirt", "cpu_mode", TERN_OPT_ENUM, NULL,
      "Guest CPU mode. Unset means host-model for kvm and qemu.", .choices = cpu_modes },
    { "libvirt", "cpu_models", TERN_OPT_LIST, "",
      "Ordered CPU models for cpu_mode=custom; the first that has every requested "
      "feature is used." },
    { "libvirt", "cpu_model_extra_flags", TERN_OPT_LIST, "",
      "CPU features to add (+flag or flag) or remove (-flag) on the guest CPU, "
      "e.g. pcid, ssbd, md-clear, -pdpe1gb. Case-insensitive." },
    { "libvirt", "hw_machine_type", TERN_OPT_LIST, "",
      "Machine type per guest arch, e.g. x86_64=q35,ppc64le=pseries." },
    { "libvirt", "live_migration_scheme", TERN_OPT_STRING, NULL,
      "URI scheme of the destination libvirt for live migration (tcp, tls, ssh)." },
    { "libvirt", "live_migration_inbound_addr", TERN_OPT_STRING, NULL,
      "Address other hosts use to reach this host for live migration." },
    { "libvirt", "live_migration_uri", TERN_OPT_STRING, NULL,
      "Deprecated in Nova: destination libvirt URI template with %s for the host." },
    { "libvirt", "live_migration_with_native_tls", TERN_OPT_BOOL, "false",
      "Encrypt the QEMU migration stream (memory and disks) with QEMU's own TLS "
      "(VIR_MIGRATE_TLS); each host's qemu.conf needs default_tls_x509_cert_dir "
      "(or migrate_tls_x509_cert_dir) with ca-cert.pem, server-cert.pem, server-key.pem, "
      "client-cert.pem and client-key.pem." },
    { "libvirt", "live_migration_bandwidth", TERN_OPT_INT, "0",
      "Largest migration bandwidth in MiB/s (0 = no limit).", .min = 0, .max = 1000000 },
    { "libvirt", "live_migration_downtime", TERN_OPT_INT, "500",
      "Largest downtime in milliseconds a live migration may cause.", .min = 100, .max = 600000 },
    { "libvirt", "live_migration_completion_timeout", TERN_OPT_INT, "800",
      "Seconds per GiB of guest memory after which a live migration times out "
      "(0 = never).", .min = 0, .max = 1000000 },
    { "libvirt", "live_migration_timeout_action", TERN_OPT_ENUM, "abort",
      "What to do when a live migration times out.", .choices = timeout_actions },
    { "libvirt", "live_migration_permit_auto_converge", TERN_OPT_BOOL, "false",
      "Let QEMU throttle the guest's vCPUs so a busy guest's migration can finish." },
    { "libvirt", "live_migration_permit_post_copy", TERN_OPT_BOOL, "false",
      "Let a live migration switch to post-copy when it does not converge." },
    { NULL }
};
