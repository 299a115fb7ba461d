/* default.c: options of [DEFAULT] and [upgrade_levels] (Nova's names). */
#include "common/config_opts.h"

const TernOpt tern_opts_default[] = {
    { "DEFAULT", "transport_url", TERN_OPT_STRING, "rabbit://",
      "The messaging bus, as oslo.messaging reads it: "
      "rabbit://user:pass@host:port[,user:pass@host2:port]/vhost. "
      "Use rabbits:// (or [oslo_messaging_rabbit] ssl) for TLS.", .secret = TRUE },
    { "DEFAULT", "control_exchange", TERN_OPT_STRING, "nova",
      "The AMQP exchange RPC topics are bound to; Nova uses nova." },
    { "DEFAULT", "host", TERN_OPT_STRING, NULL,
      "Name of this host on the bus and in the inventory (compute.<host>). "
      "Defaults to the machine's hostname." },
    { "DEFAULT", "debug", TERN_OPT_BOOL, "false", "Log at DEBUG level." },
    { "DEFAULT", "use_syslog", TERN_OPT_BOOL, "false",
      "Log to syslog (facility daemon) instead of standard error." },
    { "DEFAULT", "rpc_response_timeout", TERN_OPT_INT, "60",
      "Seconds to wait for the answer of an RPC call.", .min = 1, .max = 86400 },
    { "DEFAULT", "long_rpc_timeout", TERN_OPT_INT, "1800",
      "Seconds to wait for RPC calls that may take long (select_destinations, "
      "live-migration checks); the callee sends heartbeats meanwhile.", .min = 1, .max = 86400 },
    { "DEFAULT", "executor_thread_pool_size", TERN_OPT_INT, "64",
      "Workers that run RPC handlers which may block (libvirt, SQL).", .min = 1, .max = 4096 },
    { "DEFAULT", "report_interval", TERN_OPT_INT, "10",
      "Seconds between a service's heartbeats and a compute's inventory reports.",
      .min = 1, .max = 3600 },
    { "DEFAULT", "service_down_time", TERN_OPT_INT, "60",
      "A service whose last heartbeat is older than this many seconds is down.",
      .min = 1, .max = 86400 },
    { "DEFAULT", "default_availability_zone", TERN_OPT_STRING, "nova",
      "The availability zone of every compute host (tern has no host aggregates)." },
    { "DEFAULT", "cpu_allocation_ratio", TERN_OPT_FLOAT, "16.0",
      "Virtual CPUs per physical CPU a host may give out.", .fmin = 0.0, .fmax = 1000.0 },
    { "DEFAULT", "ram_allocation_ratio", TERN_OPT_FLOAT, "1.5",
      "Virtual RAM per physical RAM a host may give out.", .fmin = 0.0, .fmax = 1000.0 },
    { "DEFAULT", "disk_allocation_ratio", TERN_OPT_FLOAT, "1.0",
      "Virtual disk per physical disk a host may give out.", .fmin = 0.0, .fmax = 1000.0 },
    { "DEFAULT", "reserved_host_memory_mb", TERN_OPT_INT, "512",
      "Memory (MiB) kept for the host itself.", .min = 0, .max = G_MAXINT32 },
    { "DEFAULT", "reserved_host_disk_mb", TERN_OPT_INT, "0",
      "Disk (MiB) kept for the host itself.", .min = 0, .max = G_MAXINT32 },
    { "upgrade_levels", "compute", TERN_OPT_STRING, NULL,
      "Highest compute RPC API version to send (e.g. 6.1)." },
    { "upgrade_levels", "scheduler", TERN_OPT_STRING, NULL,
      "Highest scheduler RPC API version to send (e.g. 4.5)." },
    { "upgrade_levels", "conductor", TERN_OPT_STRING, NULL,
      "Highest conductor RPC API version to send (e.g. 3.0)." },
    { NULL }
};
