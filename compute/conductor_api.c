/* conductor_api.c: tern-compute's calls and casts to the conductor in
 * tern's own namespace (topic conductor, namespace tern, version 1.0;
 * docs/tern-rpc.md): what Nova's compute does through object indirection. */
#include "compute/compute_manager.h"

#include "common/log.h"

static const TernRpcTarget conductor_target = {
    .topic = "conductor", .namespace = "tern", .version = "1.0",
};

static json_t *
context_or_new(json_t *ctx)
{
    return ctx ? json_incref(ctx) : tern_rpc_context_new(NULL, NULL, TRUE);
}

static json_t *
call(TernComputeManager *m, json_t *ctx, const char *method, json_t *args, GError **error)
{
    g_autoptr(json_t) c = context_or_new(ctx);
    g_autoptr(json_t) a = args;
    return tern_rpc_call(m->client, &conductor_target, c, method, a, 0, error);
}

static int
cast(TernComputeManager *m, json_t *ctx, const char *method, json_t *args)
{
    g_autoptr(json_t) c = context_or_new(ctx);
    g_autoptr(json_t) a = args;
    g_autoptr(GError) err = NULL;
    if (tern_rpc_cast(m->client, &conductor_target, c, method, a, &err) < 0) {
        TERN_WARN(TERN_COMPUTE_LOG, "cannot send %s to the conductor: %s", method, err->message);
        return -1;
    }
    return 0;
}

json_t *
tern_conductor_instance_update(TernComputeManager *m, json_t *ctx, const char *uuid,
                               json_t *updates, gboolean expect_no_task, GError **error)
{
    json_t *args = json_pack("{s:s, s:o}", "instance_uuid", uuid, "updates", updates);
    if (expect_no_task)
        json_object_set_new(args, "expected_task_state", json_null());
    return call(m, ctx, "instance_update", args, error);
}

int
tern_conductor_instance_fault(TernComputeManager *m, json_t *ctx, const char *uuid, int code,
                              const char *message, const char *details)
{
    return cast(m, ctx, "instance_fault_create",
                json_pack("{s:s, s:i, s:s, s:s}", "instance_uuid", uuid, "code", code,
                          "message", message ? message : "", "details", details ? details : ""));
}

int
tern_conductor_build_failed(TernComputeManager *m, json_t *ctx, const char *uuid,
                            const char *reason, gboolean retryable)
{
    return cast(m, ctx, "instance_build_failed",
                json_pack("{s:s, s:s, s:s, s:b}", "instance_uuid", uuid, "host", m->host,
                          "reason", reason ? reason : "", "retryable", retryable));
}

json_t *
tern_conductor_instances_on_host(TernComputeManager *m, GError **error)
{
    return call(m, NULL, "instances_on_host", json_pack("{s:s}", "host", m->host), error);
}

json_t *
tern_conductor_migration_update(TernComputeManager *m, json_t *ctx, const char *migration_uuid,
                                json_t *updates, GError **error)
{
    return call(m, ctx, "migration_update",
                json_pack("{s:s, s:o}", "migration_uuid", migration_uuid, "updates", updates),
                error);
}

int
tern_conductor_service_report(TernComputeManager *m, GError **error)
{
    g_autoptr(json_t) c = tern_rpc_context_new(NULL, NULL, TRUE);
    g_autoptr(json_t) a = json_pack("{s:s, s:s}", "binary", "tern-compute", "host", m->host);
    return tern_rpc_cast(m->client, &conductor_target, c, "service_report", a, error);
}

json_t *
tern_conductor_compute_node_report(TernComputeManager *m, json_t *node, GError **error)
{
    return call(m, NULL, "compute_node_report",
                json_pack("{s:s, s:o}", "host", m->host, "node", node), error);
}
