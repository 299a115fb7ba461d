/* rpc_handlers.c: the methods tern-compute serves on compute.<host>:
 * Nova's ComputeManager names and arguments at version 6.1 (5.x answered
 * too: the same arguments for these methods), plus baseapi ping. */
#include "compute/compute_manager.h"

#define HANDLER(name) \
    static json_t *rpc_##name(const TernRpcRequest *req, gpointer data, GError **error) \
    { \
        return tern_compute_##name(data, req, error); \
    }

HANDLER(build_and_run_instance)
HANDLER(start_instance)
HANDLER(stop_instance)
HANDLER(reboot_instance)
HANDLER(terminate_instance)
HANDLER(check_can_live_migrate_destination)
HANDLER(check_can_live_migrate_source)
HANDLER(pre_live_migration)
HANDLER(live_migration)
HANDLER(post_live_migration_at_destination)
HANDLER(rollback_live_migration_at_destination)
HANDLER(live_migration_abort)
HANDLER(live_migration_force_complete)

static json_t *
rpc_ping(const TernRpcRequest *req, gpointer data, GError **error)
{
    json_t *arg = json_object_get(req->args, "arg");
    return json_pack("{s:s, s:O}", "service", "compute", "arg", arg ? arg : json_null());
}

#define METHOD(name) \
    { NULL, #name, "6.1", rpc_##name }, \
    { NULL, #name, "5.13", rpc_##name }

static const TernRpcMethod methods[] = {
    METHOD(build_and_run_instance),
    METHOD(start_instance),
    METHOD(stop_instance),
    METHOD(reboot_instance),
    METHOD(terminate_instance),
    METHOD(check_can_live_migrate_destination),
    METHOD(check_can_live_migrate_source),
    METHOD(pre_live_migration),
    METHOD(live_migration),
    METHOD(post_live_migration_at_destination),
    METHOD(rollback_live_migration_at_destination),
    METHOD(live_migration_abort),
    METHOD(live_migration_force_complete),
    { "baseapi", "ping", "1.1", rpc_ping },
    { NULL, NULL, NULL, NULL },
};

const TernRpcMethod *
tern_compute_rpc_methods(void)
{
    return methods;
}
