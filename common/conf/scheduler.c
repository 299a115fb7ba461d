/* scheduler.c: options of [scheduler] and [filter_scheduler] (Nova's names). */
#include "common/config_opts.h"

const TernOpt tern_opts_scheduler[] = {
    { "scheduler", "max_attempts", TERN_OPT_INT, "3",
      "Hosts to try for one instance: the chosen host plus alternates.", .min = 1, .max = 100 },
    { "filter_scheduler", "enabled_filters", TERN_OPT_LIST,
      "ComputeFilter,AvailabilityZoneFilter,ImagePropertiesFilter,RamFilter,CoreFilter,"
      "DiskFilter,GuestOSArchFilter,CpuModelFilter,ServerGroupAntiAffinityFilter,ServerGroupAffinityFilter,"
      "FeatureGatesFilter",
      "Filters a host must pass, in order." },
    { "filter_scheduler", "ram_weight_multiplier", TERN_OPT_FLOAT, "1.0",
      "Weight of free RAM; negative stacks instead of spreading.", .fmin = -1e6, .fmax = 1e6 },
    { "filter_scheduler", "cpu_weight_multiplier", TERN_OPT_FLOAT, "1.0",
      "Weight of free vCPUs; negative stacks instead of spreading.", .fmin = -1e6, .fmax = 1e6 },
    { "filter_scheduler", "disk_weight_multiplier", TERN_OPT_FLOAT, "1.0",
      "Weight of free disk; negative stacks instead of spreading.", .fmin = -1e6, .fmax = 1e6 },
    { "filter_scheduler", "host_subset_size", TERN_OPT_INT, "1",
      "Choose at random among this many best hosts.", .min = 1, .max = 1000 },
    { "filter_scheduler", "soft_affinity_weight_multiplier", TERN_OPT_FLOAT, "1.0",
      "Weight of the members of a soft-affinity server group already on a host.",
      .fmin = 0, .fmax = 1e6 },
    { "filter_scheduler", "soft_anti_affinity_weight_multiplier", TERN_OPT_FLOAT, "1.0",
      "Weight against the members of a soft-anti-affinity server group already on a host.",
      .fmin = 0, .fmax = 1e6 },
    { "filter_scheduler", "single_guest_endianness", TERN_OPT_BOOL, "false",
      "The PowerKVM rule: never place a POWER guest of one endianness (ppc64 big, "
      "ppc64le little) on a host that runs, or has claims in flight for, guests of the "
      "other; checked inside the claim, so racing schedulers obey it too." },
    { "feature_gates", "file", TERN_OPT_STRING, "/etc/tern/feature-gates.ini",
      "Per-arch feature gates (docs/fleet.md); the default file may be absent (then no "
      "gates, with a warning), a file set here must exist." },
    { "feature_gates", "overrides", TERN_OPT_LIST, "",
      "Gates to ignore, by name (e.g. ppc64le-tcg-live-migration): the operator takes "
      "the risk the gate's reason describes." },
    { NULL }
};
