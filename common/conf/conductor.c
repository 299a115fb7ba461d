/* conductor.c: options of [conductor] (tern-conductor's flows and recovery). */
#include "common/config_opts.h"

const TernOpt tern_opts_conductor[] = {
    { "conductor", "stuck_build_timeout", TERN_OPT_INT, "600",
      "Seconds an instance may stay BUILDING without a change before the conductor "
      "reschedules it (still scheduling) or sets it to ERROR (cast to a compute that never answered).",
      .min = 1, .max = 86400 },
    { "conductor", "stuck_migration_timeout", TERN_OPT_INT, "900",
      "Seconds a live migration may go without a progress report before the conductor "
      "marks it error and restores the claims (the instance stays on its source).",
      .min = 1, .max = 86400 },
    { "conductor", "recovery_interval", TERN_OPT_INT, "60",
      "Seconds between two passes over stuck builds and migrations (one pass runs at start).",
      .min = 1, .max = 86400 },
    { "conductor", "change_feed_retention", TERN_OPT_INT, "24",
      "Hours the change feed (the changes table schedulers follow) keeps a record; each "
      "recovery pass deletes older ones. 0 keeps every record (prune with "
      "`tern-manage db prune-changes`). A scheduler whose feed connection was down for "
      "longer reloads its whole host cache.",
      .min = 0, .max = 87600 },
    { NULL }
};
