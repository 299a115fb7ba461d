/* rabbit.c: options of [oslo_messaging_rabbit] (oslo.messaging's names). */
#include "common/config_opts.h"

const TernOpt tern_opts_rabbit[] = {
    { "oslo_messaging_rabbit", "ssl", TERN_OPT_BOOL, "false",
      "Connect to RabbitMQ over TLS, verifying its certificate." },
    { "oslo_messaging_rabbit", "ssl_ca_file", TERN_OPT_STRING, NULL,
      "CA certificates (PEM) that sign the broker's certificate; "
      "the system's CAs when unset." },
    { "oslo_messaging_rabbit", "ssl_cert_file", TERN_OPT_STRING, NULL,
      "Client certificate (PEM) presented to the broker." },
    { "oslo_messaging_rabbit", "ssl_key_file", TERN_OPT_STRING, NULL,
      "Private key (PEM) of the client certificate." },
    { "oslo_messaging_rabbit", "heartbeat_timeout_threshold", TERN_OPT_INT, "60",
      "AMQP heartbeat timeout in seconds (0 disables heartbeats).", .min = 0, .max = 3600 },
    { "oslo_messaging_rabbit", "rabbit_qos_prefetch_count", TERN_OPT_INT, "0",
      "Messages the broker may send before they are acknowledged (0 = no limit, as oslo).",
      .min = 0, .max = 65535 },
    { "oslo_messaging_rabbit", "rabbit_transient_queues_ttl", TERN_OPT_INT, "1800",
      "Seconds an unused reply or fanout queue lives (x-expires).", .min = 1, .max = 86400 },
    { "oslo_messaging_rabbit", "rabbit_retry_interval", TERN_OPT_FLOAT, "1.0",
      "Seconds before the first reconnection attempt.", .fmin = 0.0, .fmax = 3600.0 },
    { "oslo_messaging_rabbit", "rabbit_retry_backoff", TERN_OPT_FLOAT, "2.0",
      "Seconds added to the wait after each failed reconnection attempt.",
      .fmin = 0.0, .fmax = 3600.0 },
    { "oslo_messaging_rabbit", "rabbit_interval_max", TERN_OPT_FLOAT, "30.0",
      "Longest wait between reconnection attempts, in seconds.", .fmin = 0.0, .fmax = 3600.0 },
    { "oslo_messaging_rabbit", "amqp_durable_queues", TERN_OPT_BOOL, "false",
      "Declare the control exchange and topic queues durable. Must match the rest of the "
      "deployment (a mismatch is refused by RabbitMQ with PRECONDITION_FAILED)." },
    { "oslo_messaging_rabbit", "amqp_auto_delete", TERN_OPT_BOOL, "false",
      "Declare the control exchange and topic queues auto-delete (must match the deployment)." },
    { "oslo_messaging_rabbit", "rabbit_ha_queues", TERN_OPT_BOOL, "false",
      "Declare every queue with x-ha-policy: all (classic mirrored queues), as oslo does." },
    { "oslo_messaging_rabbit", "rabbit_quorum_queue", TERN_OPT_BOOL, "false",
      "Declare the topic queues as quorum queues (x-queue-type: quorum, durable), as oslo "
      "does. Not together with rabbit_ha_queues." },
    { "oslo_messaging_rabbit", "max_message_size", TERN_OPT_INT, "16777216",
      "Largest message body (bytes) a worker accepts; larger ones are refused.",
      .min = 1024, .max = 1073741824 },
    { NULL }
};
