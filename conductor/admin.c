/* admin.c: the conductor's admin methods for the `tern` CLI (namespace
 * tern_admin, version 1.0, the table of docs/tern-rpc.md): hosts with their
 * arch, CPU and usage, instances with their faults, server create / actions
 * / live migration, migrations with their progress. */
#include "conductor.h"

#include "common/log.h"

#define LOG "tern.conductor.admin"

static const char *
jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static json_t *
strv_json(char **v)
{
    json_t *a = json_array();
    for (guint i = 0; v && v[i]; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static json_t *
host_json(TernConductor *c, TernDb *db, const TernDbComputeNode *n, GHashTable *counts)
{
    g_autoptr(TernDbService) svc = NULL;
    gboolean up = tern_db_service_get(db, "tern-compute", n->host, &svc, NULL) == 0
                  && tern_db_service_is_up(svc, g_get_real_time(), (int)c->service_down_time);
    json_t *o = json_object();
    json_object_set_new(o, "host", json_string(n->host));
    json_object_set_new(o, "node", n->hypervisor_hostname ? json_string(n->hypervisor_hostname)
                                                          : json_null());
    json_object_set_new(o, "arch", n->arch ? json_string(n->arch) : json_null());
    json_object_set_new(o, "virt_type", json_string(g_ascii_strcasecmp(
        n->hypervisor_type ? n->hypervisor_type : "", "kvm") == 0 ? "kvm" : "qemu"));
    json_object_set_new(o, "hypervisor_type", n->hypervisor_type ? json_string(n->hypervisor_type)
                                                                 : json_null());
    json_object_set_new(o, "hypervisor_version", json_integer(n->hypervisor_version));
    json_object_set_new(o, "state", json_string(up ? "up" : "down"));
    json_object_set_new(o, "disabled", json_boolean(n->disabled));
    json_object_set_new(o, "disabled_reason", n->disabled_reason ? json_string(n->disabled_reason)
                                                                 : json_null());
    json_object_set_new(o, "cpu_model", n->cpu_model ? json_string(n->cpu_model) : json_null());
    json_object_set_new(o, "guest_cpu_model", n->guest_cpu_model ? json_string(n->guest_cpu_model)
                                                                 : json_null());
    json_object_set_new(o, "vcpus", json_integer(n->vcpus));
    json_object_set_new(o, "vcpus_used", json_integer(n->vcpus_used));
    json_object_set_new(o, "memory_mb", json_integer(n->memory_mb));
    json_object_set_new(o, "memory_mb_used", json_integer(n->memory_mb_used));
    json_object_set_new(o, "local_gb", json_integer(n->local_gb));
    json_object_set_new(o, "local_gb_used", json_integer(n->local_gb_used));
    json_object_set_new(o, "instances",
                        json_integer(GPOINTER_TO_INT(g_hash_table_lookup(counts, n->host))));
    return o;
}

static GHashTable *
instance_counts(TernDb *db, GError **error)
{
    g_autoptr(GPtrArray) list = NULL;
    if (tern_db_instance_list(db, NULL, &list, error) < 0)
        return NULL;
    GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < list->len; i++) {
        TernDbInstance *inst = list->pdata[i];
        if (!inst->host)
            continue;
        int n = GPOINTER_TO_INT(g_hash_table_lookup(h, inst->host));
        g_hash_table_replace(h, g_strdup(inst->host), GINT_TO_POINTER(n + 1));
    }
    return h;
}

static int
need_str(const TernRpcRequest *req, const char *key, const char **out, GError **error)
{
    *out = jstr(req->args, key);
    if (!*out || !**out) {
        g_set_error(error, TERN_CONDUCTOR_ERROR, TERN_CONDUCTOR_ERROR_INVALID,
                    "%s: argument %s (a string) is missing", req->method, key);
        return -1;
    }
    return 0;
}

static json_t *
do_host_list(const TernRpcRequest *req, gpointer user_data, GError **error)
{
    TernConductor *c = user_data;
    TernDb *db = tern_conductor_db(c, error);
    if (!db)
        return NULL;
    g_autoptr(GPtrArray) nodes = NULL;
    if (tern_db_compute_node_list(db, &nodes, error) < 0)
        return NULL;
    g_autoptr(GHashTable) counts = instance_counts(db, error);
    if (!counts)
        return NULL;
    json_t *out = json_array();
    for (guint i = 0; i < nodes->len; i++)
        json_array_append_new(out, host_json(c, db, nodes->pdata[i], counts));
    (void)req;
    return out;
}

static json_t *
host_details(TernConductor *c, TernDb *db, const char *host, GError **error)
{
    g_autoptr(TernDbComputeNode) n = NULL;
    g_autoptr(GError) err = NULL;
    if (tern_db_compute_node_get(db, host, &n, &err) < 0) {
        if (g_error_matches(err, TERN_DB_ERROR, TERN_DB_ERROR_NOT_FOUND))
            tern_rpc_error_set_remote(error, "nova.exception", "ComputeHostNotFound",
                                      json_pack("{s:s}", "host", host),
                                      "Compute host %s could not be found.", host);
        else
            g_propagate_error(error, g_steal_pointer(&err));
        return NULL;
    }
    g_autoptr(GHashTable) counts = instance_counts(db, error);
    if (!counts)
        return NULL;
    json_t *o = host_json(c, db, n, counts);
    json_object_set_new(o, "host_cpu", tern_conductor_json_parse(n->cpu_info));
    json_object_set_new(o, "guest_cpu", tern_conductor_json_parse(n->guest_cpu));
    json_object_set_new(o, "features", strv_json(n->cpu_features));
    json_object_set_new(o, "guest_features", strv_json(n->guest_cpu_features));
    /* Mitigation flags are CPU features; the guest CPU's are the ones guests get. */
    static const char *const mitigations[] = { "md-clear", "spec-ctrl", "ssbd", "ibpb", "stibp",
                                               "virt-ssbd", "amd-ssbd", "amd-no-ssb", "pcid",
                                               "arch-capabilities", "rdctl-no", "ibrs-all",
                                               "skip-l1dfl-vmentry", "mds-no", "pschange-mc-no",
                                               "taa-no", "tsx-ctrl", NULL };
    json_t *mit = json_array();
    for (guint i = 0; n->cpu_features && n->cpu_features[i]; i++)
        if (g_strv_contains(mitigations, n->cpu_features[i]))
            json_array_append_new(mit, json_string(n->cpu_features[i]));
    json_object_set_new(o, "mitigations", mit);
    json_object_set_new(o, "machine_types", strv_json(n->machine_types));
    json_t *si = json_array();
    for (guint i = 0; i < n->supported_instances->len; i++) {
        TernDbGuestType *t = n->supported_instances->pdata[i];
        json_array_append_new(si, json_pack("[sss]", t->arch, t->hv_type, t->vm_mode));
    }
    json_object_set_new(o, "supported_instances", si);
    json_object_set_new(o, "allocation_ratios",
                        json_pack("{s:f, s:f, s:f}", "cpu", n->cpu_allocation_ratio, "ram",
                                  n->ram_allocation_ratio, "disk", n->disk_allocation_ratio));
    /* The gates of tern's data (docs/fleet.md §1) for the host's guest
     * arches; what the compute reported of itself as reported_gates. */
    json_object_set_new(o, "gates", tern_conductor_gates_json(c, n));
    g_mutex_lock(&c->lock);
    json_t *gates = g_hash_table_lookup(c->gates, host);
    json_object_set_new(o, "reported_gates", gates ? json_deep_copy(gates) : json_object());
    json_t *unk = g_hash_table_lookup(c->unknown_domains, host);
    json_object_set_new(o, "unknown_domains", unk ? json_deep_copy(unk) : json_array());
    g_mutex_unlock(&c->lock);
    return o;
}

static json_t *
do_host_show(const TernRpcRequest *req, gpointer user_data, GError **error)
{
    TernConductor *c = user_data;
    const char *host;
    if (need_str(req, "host", &host, error) < 0)
        return NULL;
    TernDb *db = tern_conductor_db(c, error);
    if (!db)
        return NULL;
    return host_details(c, db, host, error);
}

static json_t *
do_host_set_enabled(const TernRpcRequest *req, gpointer user_data, GError **error)
{
    TernConductor *c = user_data;
    const char *host;
    if (need_str(req, "host", &host, error) < 0)
        return NULL;
    json_t *en = json_object_get(req->args, "enabled");
    if (!json_is_boolean(en)) {
        g_set_error(error, TERN_CONDUCTOR_ERROR, TERN_CONDUCTOR_ERROR_INVALID,
                    "host_set_enabled: enabled (a boolean) is missing");
        return NULL;
    }
    TernDb *db = tern_conductor_db(c, error);
    if (!db)
        return NULL;
    gboolean disabled = !json_is_true(en);
    const char *reason = disabled ? jstr(req->args, "reason") : NULL;
    g_autoptr(GError) err = NULL;
    if (tern_db_compute_node_set_disabled(db, host, disabled, reason, &err) < 0) {
        if (g_error_matches(err, TERN_DB_ERROR, TERN_DB_ERROR_NOT_FOUND))
            tern_rpc_error_set_remote(error, "nova.exception", "ComputeHostNotFound",
                                      json_pack("{s:s}", "host", host),
                                      "Compute host %s could not be found.", host);
        else
            g_propagate_error(error, g_steal_pointer(&err));
        return NULL;
    }
    tern_db_service_set_disabled(db, "tern-compute", host, disabled, reason, NULL);
    TERN_INFO(LOG, "host %s %s%s%s", host, disabled ? "disabled" : "enabled",
              reason ? ": " : "", reason ? reason : "");
    return host_details(c, db, host, error);
}

/* --- servers -------------------------------------------------------------------- */

static json_t *
do_server_create(const TernRpcRequest *req, gpointer user_data, GError **error)
{
    TernConductor *c = user_data;
    const char *name;
    if (need_str(req, "name", &name, error) < 0)
        return NULL;
    json_t *image = json_object_get(req->args, "image");
    json_t *flavor = json_object_get(req->args, "flavor");
    if (!json_is_object(image) || !json_is_object(flavor)
        || !json_is_integer(json_object_get(flavor, "vcpus"))
        || !json_is_integer(json_object_get(flavor, "memory_mb"))) {
        g_set_error(error, TERN_CONDUCTOR_ERROR, TERN_CONDUCTOR_ERROR_INVALID,
                    "server_create needs image (an object with id and properties) and flavor "
                    "(an object with at least vcpus and memory_mb)");
        return NULL;
    }
    json_t *cnt = json_object_get(req->args, "count");
    gint64 count = json_is_integer(cnt) ? json_integer_value(cnt) : 1;
    if (count < 1 || count > 100) {
        g_set_error(error, TERN_CONDUCTOR_ERROR, TERN_CONDUCTOR_ERROR_INVALID,
                    "server_create: count must be between 1 and 100");
        return NULL;
    }
    const char *host = jstr(req->args, "host");
    TernDb *db = tern_conductor_db(c, error);
    if (!db)
        return NULL;
    const char *project = jstr(req->context, "project_id");
    const char *user = jstr(req->context, "user_id");
    json_t *out = json_array();
    for (gint64 i = 0; i < count; i++) {
        g_autofree char *uuid = g_uuid_string_random();
        g_autofree char *iname = count > 1 ? g_strdup_printf("%s-%" G_GINT64_FORMAT, name, i + 1)
                                           : g_strdup(name);
        json_t *fd = json_deep_copy(flavor);
        if (!json_object_get(fd, "root_gb"))
            json_object_set_new(fd, "root_gb", json_integer(0));
        if (!json_object_get(fd, "ephemeral_gb"))
            json_object_set_new(fd, "ephemeral_gb", json_integer(0));
        json_t *d = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:o, s:s?}", "uuid", uuid,
                              "display_name", iname, "hostname", iname, "project_id", project,
                              "user_id", user, "flavor",
                              tern_conductor_nova_object("Flavor", fd), "image_ref",
                              jstr(image, "id"));
        g_autoptr(json_t) prim = tern_conductor_nova_object("Instance", d);
        g_autoptr(TernDbInstance) inst = NULL;
        if (tern_conductor_record_instance(c, db, prim, NULL, image, &inst, error) < 0) {
            json_decref(out);
            return NULL;
        }
        json_t *spec = NULL;
        if (host)
            spec = tern_conductor_request_spec(inst, NULL, host, NULL);
        tern_conductor_build_async(c, req->context, inst->uuid, image, spec);
        json_decref(spec);
        json_array_append_new(out, tern_conductor_instance_json(inst));
    }
    return out;
}

static json_t *
do_server_list(const TernRpcRequest *req, gpointer user_data, GError **error)
{
    TernConductor *c = user_data;
    TernDb *db = tern_conductor_db(c, error);
    if (!db)
        return NULL;
    g_autoptr(GPtrArray) list = NULL;
    if (tern_db_instance_list(db, jstr(req->args, "host"), &list, error) < 0)
        return NULL;
    json_t *out = json_array();
    for (guint i = 0; i < list->len; i++)
        json_array_append_new(out, tern_conductor_instance_json(list->pdata[i]));
    return out;
}

static int
find_instance(TernDb *db, const TernRpcRequest *req, TernDbInstance **out, GError **error)
{
    const char *uuid = jstr(req->args, "uuid");
    const char *name = jstr(req->args, "name");
    if (uuid && g_uuid_string_is_valid(uuid)) {
        g_autoptr(GError) err = NULL;
        if (tern_db_instance_get(db, uuid, FALSE, out, &err) == 0)
            return 0;
        if (!g_error_matches(err, TERN_DB_ERROR, TERN_DB_ERROR_NOT_FOUND)) {
            g_propagate_error(error, g_steal_pointer(&err));
            return -1;
        }
    } else if (uuid && !name) {
        name = uuid;   /* the CLI may pass a name where a uuid goes */
    }
    if (name) {
        g_autoptr(GPtrArray) list = NULL;
        if (tern_db_instance_list(db, NULL, &list, error) < 0)
            return -1;
        for (guint i = 0; i < list->len; i++) {
            TernDbInstance *inst = list->pdata[i];
            if (g_strcmp0(inst->display_name, name) == 0)
                return tern_db_instance_get(db, inst->uuid, FALSE, out, error);
        }
    }
    const char *what = uuid ? uuid : name ? name : "(none given)";
    tern_rpc_error_set_remote(error, "nova.exception", "InstanceNotFound",
                              json_pack("{s:s}", "instance_id", what),
                              "Instance %s could not be found.", what);
    return -1;
}

static json_t *
do_server_show(const TernRpcRequest *req, gpointer user_data, GError **error)
{
    TernConductor *c = user_data;
    TernDb *db = tern_conductor_db(c, error);
    if (!db)
        return NULL;
    g_autoptr(TernDbInstance) inst = NULL;
    if (find_instance(db, req, &inst, error) < 0)
        return NULL;
    json_t *o = tern_conductor_instance_json(inst);
    g_autoptr(GPtrArray) faults = NULL;
    json_t *fa = json_array();
    if (tern_db_instance_fault_list(db, inst->uuid, &faults, NULL) == 0)
        for (guint i = 0; i < faults->len; i++) {
            TernDbInstanceFault *f = faults->pdata[i];
            json_array_append_new(fa, json_pack("{s:I, s:s?, s:s?, s:s?, s:I}", "code",
                                                (json_int_t)f->code, "message", f->message,
                                                "details", f->details, "host", f->host,
                                                "created_at", (json_int_t)f->created_at));
        }
    json_object_set_new(o, "faults", fa);
    return o;
}

static json_t *
do_server_action(const TernRpcRequest *req, gpointer user_data, GError **error)
{
    static const struct {
        const char *action, *method, *task_state;
    } actions[] = {
        { "start", "start_instance", "powering-on" },
        { "stop", "stop_instance", "powering-off" },
        { "reboot", "reboot_instance", "rebooting" },
        { "reboot_hard", "reboot_instance", "rebooting_hard" },
        { "delete", "terminate_instance", "deleting" },
    };
    TernConductor *c = user_data;
    const char *action;
    if (need_str(req, "action", &action, error) < 0)
        return NULL;
    guint k;
    for (k = 0; k < G_N_ELEMENTS(actions); k++)
        if (g_strcmp0(actions[k].action, action) == 0)
            break;
    if (k == G_N_ELEMENTS(actions)) {
        g_set_error(error, TERN_CONDUCTOR_ERROR, TERN_CONDUCTOR_ERROR_INVALID,
                    "server_action: unknown action '%s' (start, stop, reboot, reboot_hard, "
                    "delete)", action);
        return NULL;
    }
    TernDb *db = tern_conductor_db(c, error);
    if (!db)
        return NULL;
    g_autoptr(TernDbInstance) inst = NULL;
    if (find_instance(db, req, &inst, error) < 0)
        return NULL;
    if (!inst->host) {
        if (g_strcmp0(action, "delete") != 0) {
            tern_rpc_error_set_remote(error, "nova.exception", "InstanceInvalidState",
                                      json_pack("{s:s}", "instance_uuid", inst->uuid),
                                      "Instance %s has no host (vm_state %s): only delete is "
                                      "possible", inst->uuid, inst->vm_state);
            return NULL;
        }
        tern_conductor_build_done(c, inst->uuid);
        if (tern_db_release(db, inst->uuid, NULL, NULL, error) < 0
            || tern_db_group_member_remove(db, inst->uuid, NULL, error) < 0
            || tern_db_instance_destroy(db, inst->uuid, error) < 0)
            return NULL;
        return tern_conductor_instance_json(inst);
    }
    if (tern_db_instance_update_states(db, inst->uuid, NULL, actions[k].task_state, -1,
                                       g_strcmp0(action, "delete") != 0, NULL, NULL) < 0) {
        tern_rpc_error_set_remote(error, "nova.exception", "InstanceInvalidState",
                                  json_pack("{s:s}", "instance_uuid", inst->uuid),
                                  "Instance %s is busy (task_state %s)", inst->uuid,
                                  inst->task_state ? inst->task_state : "none");
        return NULL;
    }
    g_autofree char *iu = g_strdup(inst->uuid);
    g_clear_pointer(&inst, tern_db_instance_free);
    if (tern_db_instance_get(db, iu, FALSE, &inst, error) < 0)
        return NULL;
    json_t *args = json_pack("{s:o}", "instance", tern_conductor_instance_primitive(inst));
    if (g_strcmp0(actions[k].method, "stop_instance") == 0)
        json_object_set_new(args, "clean_shutdown", json_true());
    else if (g_strcmp0(actions[k].method, "reboot_instance") == 0) {
        json_object_set_new(args, "block_device_info", json_null());
        json_object_set_new(args, "reboot_type",
                            json_string(g_strcmp0(action, "reboot_hard") == 0 ? "HARD" : "SOFT"));
    } else if (g_strcmp0(actions[k].method, "terminate_instance") == 0)
        json_object_set_new(args, "bdms", json_null());
    TernRpcTarget target = { .topic = "compute", .server = inst->host, .version = "6.0" };
    int rc = tern_rpc_cast(c->client, &target, req->context, actions[k].method, args, error);
    json_decref(args);
    if (rc < 0)
        return NULL;
    return tern_conductor_instance_json(inst);
}

static json_t *
do_server_live_migrate(const TernRpcRequest *req, gpointer user_data, GError **error)
{
    TernConductor *c = user_data;
    TernDb *db = tern_conductor_db(c, error);
    if (!db)
        return NULL;
    g_autoptr(TernDbInstance) inst = NULL;
    if (find_instance(db, req, &inst, error) < 0)
        return NULL;
    g_autoptr(TernDbMigration) m = tern_conductor_live_migrate(c, req->context, inst->uuid,
                                                              jstr(req->args, "host"), NULL, NULL,
                                                              error);
    if (!m)
        return NULL;
    return tern_conductor_migration_json(m);
}

static json_t *
do_migration_list(const TernRpcRequest *req, gpointer user_data, GError **error)
{
    TernConductor *c = user_data;
    TernDb *db = tern_conductor_db(c, error);
    if (!db)
        return NULL;
    g_autoptr(GPtrArray) list = NULL;
    const char *iu = jstr(req->args, "instance_uuid");
    if (iu) {
        if (tern_db_migration_list_by_instance(db, iu, &list, error) < 0)
            return NULL;
    } else if (tern_db_migration_list_in_progress(db, NULL, &list, error) < 0) {
        return NULL;
    }
    json_t *out = json_array();
    for (guint i = 0; i < list->len; i++)
        json_array_append_new(out, tern_conductor_migration_json(list->pdata[i]));
    return out;
}

int
tern_conductor_migration_lookup(TernConductor *c, const char *uuid, TernDbMigration **out,
                                GError **error)
{
    TernDb *db = tern_conductor_db(c, error);
    if (!db)
        return -1;
    g_autoptr(GError) err = NULL;
    if (tern_db_migration_get(db, uuid, out, &err) < 0) {
        tern_rpc_error_set_remote(error, "nova.exception", "MigrationNotFound",
                                  json_pack("{s:s}", "migration_id", uuid),
                                  "Migration %s could not be found.", uuid);
        return -1;
    }
    return 0;
}

static json_t *
do_migration_show(const TernRpcRequest *req, gpointer user_data, GError **error)
{
    TernConductor *c = user_data;
    const char *uuid;
    if (need_str(req, "uuid", &uuid, error) < 0)
        return NULL;
    g_autoptr(TernDbMigration) m = NULL;
    if (tern_conductor_migration_lookup(c, uuid, &m, error) < 0)
        return NULL;
    return tern_conductor_migration_json(m);
}

const TernRpcMethod tern_conductor_admin_methods[] = {
    { "tern_admin", "host_list", "1.0", do_host_list },
    { "tern_admin", "host_show", "1.0", do_host_show },
    { "tern_admin", "host_set_enabled", "1.0", do_host_set_enabled },
    { "tern_admin", "server_create", "1.0", do_server_create },
    { "tern_admin", "server_list", "1.0", do_server_list },
    { "tern_admin", "server_show", "1.0", do_server_show },
    { "tern_admin", "server_action", "1.0", do_server_action },
    { "tern_admin", "server_live_migrate", "1.0", do_server_live_migrate },
    { "tern_admin", "migration_list", "1.0", do_migration_list },
    { "tern_admin", "migration_show", "1.0", do_migration_show },
    { NULL }
};
