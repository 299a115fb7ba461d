/* database.c: options of [database]. */
#include "common/config_opts.h"

const TernOpt tern_opts_database[] = {
    { "database", "connection", TERN_OPT_STRING, NULL,
      "The PostgreSQL inventory, as a libpq URL: "
      "postgresql://user:pass@host:port/dbname?sslmode=verify-full&sslrootcert=/path. "
      "Used by tern-conductor, tern-scheduler and tern-manage; tern-compute never "
      "connects to the database.", .secret = TRUE },
    { "database", "max_retries", TERN_OPT_INT, "10",
      "Times to retry connecting at start-up before giving up (-1 = forever).",
      .min = -1, .max = 100000 },
    { "database", "retry_interval", TERN_OPT_INT, "1",
      "Seconds between connection attempts.", .min = 0, .max = 3600 },
    { NULL }
};
