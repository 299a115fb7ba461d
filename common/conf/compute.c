/* compute.c: options of [compute] and [conductor]. */
#include "common/config_opts.h"

const TernOpt tern_opts_compute[] = {
    { "compute", "instances_path", TERN_OPT_STRING, "/var/lib/tern/instances",
      "Folder of the instances' disks on a compute host." },
    { "compute", "images_path", TERN_OPT_STRING, "/var/lib/tern/images",
      "Folder of base images on a compute host: image <id> is the file <id> "
      "(or <id>.qcow2 / <id>.raw) there." },
    { "compute", "guest_os_rules", TERN_OPT_STRING, "",
      "tern's guest OS rules on top of osinfo-db (INI; see the shipped "
      "guest-os-rules.ini). Empty means the file installed with tern." },
    { "conductor", "workers", TERN_OPT_INT, "4",
      "Threads that run the conductor's task flows.", .min = 1, .max = 1024 },
    { NULL }
};
