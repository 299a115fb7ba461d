/* compute.c: options of [compute] and [conductor]. */
#include "common/config_opts.h"

static const char *const endianness_choices[] = { "any", "little", "big", NULL };

const TernOpt tern_opts_compute[] = {
    { "compute", "instances_path", TERN_OPT_STRING, "/var/lib/tern/instances",
      "Folder of the instances' disks on a compute host." },
    { "compute", "images_path", TERN_OPT_STRING, "/var/lib/tern/images",
      "Folder of base images on a compute host: image <id> is the file <id> "
      "(or <id>.qcow2 / <id>.raw) there." },
    { "compute", "guest_os_rules", TERN_OPT_STRING, "",
      "tern's guest OS rules on top of osinfo-db (INI; see the shipped "
      "guest-os-rules.ini; tern-scheduler reads it too, for GuestOSArchFilter). "
      "Empty means the file installed with tern." },
    { "compute", "guest_endianness", TERN_OPT_ENUM, "any",
      "Byte order of the guests this host may run: any, little or big. On POWER, "
      "little keeps ppc64le guests only and big ppc64 (big-endian) guests only, "
      "when all guests of a host must share one endianness (as PowerKVM "
      "required); supported_instances then lists only those arches.",
      .choices = endianness_choices },
    { "compute", "node_report_interval", TERN_OPT_INT, "60",
      "Seconds between a compute's compute_node_report (inventory) to the conductor; "
      "it also reports at start.", .min = 1, .max = 86400 },
    { "DEFAULT", "shutdown_timeout", TERN_OPT_INT, "60",
      "Seconds a clean stop waits for a guest to shut itself down before it is powered "
      "off (Nova's option).", .min = 0, .max = 86400 },
    { "conductor", "workers", TERN_OPT_INT, "4",
      "Threads that run the conductor's task flows.", .min = 1, .max = 1024 },
    { NULL }
};
