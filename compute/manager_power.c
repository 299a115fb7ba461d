/* manager_power.c: start_instance, stop_instance, reboot_instance (SOFT,
 * HARD) and terminate_instance, Nova's ComputeManager methods. Each is
 * idempotent by instance uuid (a cast delivered twice does no harm) and
 * reports the state it reached with instance_update; a failure is recorded
 * as an instance fault. */
#include "compute/compute_manager.h"

#include <string.h>

#include "common/log.h"
#include "compute/compute_error.h"
#include "compute/guest_lifecycle.h"

typedef int (*PowerOp)(TernComputeManager *m, virConnectPtr conn, const char *uuid,
                       const TernRpcRequest *req, GError **error);

static json_t *
run_op(TernComputeManager *m, const TernRpcRequest *req, const char *what, PowerOp op,
       json_t *updates, GError **error)
{
    g_autoptr(json_t) u = updates;
    const char *arg_uuid = tern_compute_arg_uuid(req->args, "instance", error);
    if (!arg_uuid)
        return NULL;
    g_autofree char *uuid = g_strdup(arg_uuid);
    tern_compute_instance_lock(m, uuid);
    g_autoptr(GError) err = NULL;
    virConnectPtr conn = tern_compute_conn(m, &err);
    int rc = conn ? op(m, conn, uuid, req, &err) : -1;
    if (conn)
        virConnectClose(conn);
    if (rc == 0) {
        TERN_INFO(TERN_COMPUTE_LOG, "instance %s: %s done", uuid, what);
        g_autoptr(json_t) r = tern_conductor_instance_update(m, req->context, uuid,
                                                             json_incref(u), FALSE, &err);
        if (!r)
            TERN_WARN(TERN_COMPUTE_LOG, "instance %s: state after %s not reported: %s", uuid,
                      what, err->message);
    } else {
        TERN_ERROR(TERN_COMPUTE_LOG, "instance %s: %s failed: %s", uuid, what, err->message);
        g_autofree char *msg = g_strdup_printf("%s failed on %s: %s", what, m->host,
                                               err->message);
        tern_conductor_instance_fault(m, req->context, uuid, 500, msg, err->message);
        /* the instance leaves its task state; its power state is what libvirt says */
        virConnectPtr c2 = tern_compute_conn(m, NULL);
        int ps = TERN_POWER_NOSTATE;
        if (c2) {
            tern_guest_power_state(c2, uuid, &ps, NULL);
            virConnectClose(c2);
        }
        g_autoptr(json_t) r = tern_conductor_instance_update(
            m, req->context, uuid, json_pack("{s:n, s:i}", "task_state", "power_state", ps),
            FALSE, NULL);
    }
    tern_compute_instance_unlock(m, uuid);
    if (rc < 0 && req->is_call) {
        g_propagate_error(error, g_steal_pointer(&err));
        return NULL;
    }
    return json_null();
}

static int
op_start(TernComputeManager *m, virConnectPtr conn, const char *uuid, const TernRpcRequest *req,
         GError **error)
{
    return tern_guest_start(conn, uuid, error);
}

static int
op_stop(TernComputeManager *m, virConnectPtr conn, const char *uuid, const TernRpcRequest *req,
        GError **error)
{
    json_t *clean = json_object_get(req->args, "clean_shutdown");
    guint timeout = 0;
    if (!clean || json_is_true(clean))
        timeout = (guint)tern_config_get_int(m->conf, "DEFAULT", "shutdown_timeout");
    return tern_guest_stop(conn, uuid, timeout, error);
}

static int
op_reboot(TernComputeManager *m, virConnectPtr conn, const char *uuid, const TernRpcRequest *req,
          GError **error)
{
    const char *type = json_string_value(json_object_get(req->args, "reboot_type"));
    gboolean hard = g_strcmp0(type, "HARD") == 0;
    if (type && !hard && strcmp(type, "SOFT") != 0) {
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_INVALID,
                    "reboot_type must be SOFT or HARD, not '%s'", type);
        return -1;
    }
    int ps = TERN_POWER_NOSTATE;
    if (tern_guest_power_state(conn, uuid, &ps, error) < 0)
        return -1;
    /* a stopped guest cannot reboot itself: a soft reboot of it is a start (as Nova) */
    if (ps != TERN_POWER_RUNNING)
        return tern_guest_start(conn, uuid, error);
    if (tern_guest_reboot(conn, uuid, hard, error) < 0) {
        if (hard)
            return -1;
        /* the guest ignored the request: Nova falls back to a hard reboot */
        TERN_WARN(TERN_COMPUTE_LOG, "instance %s: soft reboot failed (%s), rebooting hard", uuid,
                  (*error)->message);
        g_clear_error(error);
        return tern_guest_reboot(conn, uuid, TRUE, error);
    }
    return 0;
}

static int
op_terminate(TernComputeManager *m, virConnectPtr conn, const char *uuid,
             const TernRpcRequest *req, GError **error)
{
    return tern_guest_terminate(conn, uuid, m->instances_path, error);
}

json_t *
tern_compute_start_instance(TernComputeManager *m, const TernRpcRequest *req, GError **error)
{
    return run_op(m, req, "start", op_start,
                  json_pack("{s:s, s:n, s:i}", "vm_state", "active", "task_state", "power_state",
                            TERN_POWER_RUNNING), error);
}

json_t *
tern_compute_stop_instance(TernComputeManager *m, const TernRpcRequest *req, GError **error)
{
    return run_op(m, req, "stop", op_stop,
                  json_pack("{s:s, s:n, s:i}", "vm_state", "stopped", "task_state", "power_state",
                            TERN_POWER_SHUTDOWN), error);
}

json_t *
tern_compute_reboot_instance(TernComputeManager *m, const TernRpcRequest *req, GError **error)
{
    return run_op(m, req, "reboot", op_reboot,
                  json_pack("{s:s, s:n, s:i}", "vm_state", "active", "task_state", "power_state",
                            TERN_POWER_RUNNING), error);
}

json_t *
tern_compute_terminate_instance(TernComputeManager *m, const TernRpcRequest *req, GError **error)
{
    return run_op(m, req, "terminate", op_terminate,
                  json_pack("{s:s, s:n, s:i}", "vm_state", "deleted", "task_state", "power_state",
                            TERN_POWER_NOSTATE), error);
}
