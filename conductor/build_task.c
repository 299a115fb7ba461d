/* build_task.c: the build flow. Nova's ComputeTaskAPI
 * schedule_and_build_instances and build_instances (namespace
 * compute_task): record the instance (BUILDING / scheduling), ask the
 * scheduler (select_destinations 4.5, with alternates; the scheduler claims
 * the chosen host), set the instance's host and cast build_and_run_instance
 * (6.0) to compute.<host>. When a compute reports the build failed
 * (tern.instance_build_failed), its claim is released and the next alternate
 * is claimed and tried; once the alternates are used up the scheduler is
 * asked again without the hosts tried; after [scheduler] max_attempts hosts,
 * or when no host is valid, the instance goes to ERROR with a fault saying
 * why. */
#include "conductor.h"

#include <string.h>

#include "common/log.h"

#define LOG "tern.conductor.build"

typedef struct {
    gint ref;
    char *uuid;
    GMutex lock;              /* one step of the flow at a time */
    json_t *context;
    json_t *image;            /* dict, NULL: from the record */
    json_t *request_spec;     /* primitive, NULL: from the record */
    json_t *extra;            /* requested_networks, block_device_mapping, ... */
    json_t *alternates;       /* Selection primitives not tried yet */
    GPtrArray *tried;         /* hosts tried, in order */
    gint64 attempts;
    char *last_failure;
} TernBuildFlow;

static TernBuildFlow *
flow_ref(TernBuildFlow *f)
{
    g_atomic_int_inc(&f->ref);
    return f;
}

static void
flow_unref(TernBuildFlow *f)
{
    if (!f || !g_atomic_int_dec_and_test(&f->ref))
        return;
    g_free(f->uuid);
    g_mutex_clear(&f->lock);
    json_decref(f->context);
    json_decref(f->image);
    json_decref(f->request_spec);
    json_decref(f->extra);
    json_decref(f->alternates);
    g_ptr_array_unref(f->tried);
    g_free(f->last_failure);
    g_free(f);
}

/* The flow of an instance, created if absent (returns a reference). */
static TernBuildFlow *
flow_get(TernConductor *c, const char *uuid, gboolean create, gboolean *created)
{
    g_mutex_lock(&c->lock);
    TernBuildFlow *f = g_hash_table_lookup(c->builds, uuid);
    if (created)
        *created = FALSE;
    if (!f && create) {
        f = g_new0(TernBuildFlow, 1);
        f->ref = 1;   /* the table's */
        f->uuid = g_strdup(uuid);
        g_mutex_init(&f->lock);
        f->alternates = json_array();
        f->tried = g_ptr_array_new_with_free_func(g_free);
        g_hash_table_insert(c->builds, f->uuid, f);
        if (created)
            *created = TRUE;
    }
    if (f)
        flow_ref(f);
    g_mutex_unlock(&c->lock);
    return f;
}

void
tern_conductor_build_done(TernConductor *c, const char *instance_uuid)
{
    g_mutex_lock(&c->lock);
    TernBuildFlow *f = g_hash_table_lookup(c->builds, instance_uuid);
    if (f)
        g_hash_table_remove(c->builds, instance_uuid);
    g_mutex_unlock(&c->lock);
    flow_unref(f);
}

gboolean
tern_conductor_build_is_live(TernConductor *c, const char *instance_uuid)
{
    g_mutex_lock(&c->lock);
    gboolean live = g_hash_table_contains(c->builds, instance_uuid);
    g_mutex_unlock(&c->lock);
    return live;
}

void
tern_conductor_build_flows_free(TernConductor *c)
{
    if (!c->builds)
        return;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, c->builds);
    while (g_hash_table_iter_next(&it, NULL, &v))
        flow_unref(v);
    g_hash_table_unref(c->builds);
    c->builds = NULL;
}

void
tern_conductor_instance_error(TernConductor *c, TernDb *db, const char *instance_uuid,
                              const char *host, const char *message, const char *details)
{
    g_autoptr(GError) err = NULL;
    TernDbInstanceFault fault = {
        .instance_uuid = (char *)instance_uuid, .code = 500, .message = (char *)message,
        .details = (char *)details, .host = (char *)host,
    };
    if (tern_db_instance_fault_add(db, &fault, &err) < 0) {
        TERN_ERROR(LOG, "instance %s: cannot record fault: %s", instance_uuid, err->message);
        g_clear_error(&err);
    }
    if (tern_db_instance_update_states(db, instance_uuid, "error", NULL, -1, FALSE, NULL, &err) < 0)
        TERN_ERROR(LOG, "instance %s: cannot set ERROR: %s", instance_uuid, err->message);
    else
        TERN_WARN(LOG, "instance %s: ERROR: %s", instance_uuid, message);
    tern_conductor_build_done(c, instance_uuid);
}

/* --- recording -------------------------------------------------------------- */

static const char *
jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static json_t *
obj_data(json_t *prim)
{
    json_t *d = json_object_get(prim, "nova_object.data");
    return json_is_object(d) ? d : NULL;
}

int
tern_conductor_record_instance(TernConductor *c, TernDb *db, json_t *instance_prim,
                               json_t *flavor_prim, json_t *image, TernDbInstance **out,
                               GError **error)
{
    json_t *d = obj_data(instance_prim);
    if (!d || !jstr(d, "uuid")) {
        g_set_error(error, TERN_CONDUCTOR_ERROR, TERN_CONDUCTOR_ERROR_INVALID,
                    "the instance has no uuid (expected a nova Instance object)");
        return -1;
    }
    const char *uuid = jstr(d, "uuid");
    g_autoptr(GError) err = NULL;
    if (tern_db_instance_get(db, uuid, TRUE, out, &err) == 0)
        return 0;   /* recorded already: the same request delivered twice */
    if (!g_error_matches(err, TERN_DB_ERROR, TERN_DB_ERROR_NOT_FOUND)) {
        g_propagate_error(error, g_steal_pointer(&err));
        return -1;
    }
    g_clear_error(&err);

    json_t *fd = obj_data(json_object_get(d, "flavor"));
    if (!fd)
        fd = obj_data(flavor_prim);
    if (!fd) {
        g_set_error(error, TERN_CONDUCTOR_ERROR, TERN_CONDUCTOR_ERROR_INVALID,
                    "instance %s has no flavor (neither in the Instance nor in its RequestSpec)",
                    uuid);
        return -1;
    }
    json_t *props = json_object_get(image, "properties");
    if (!json_is_object(props))
        props = NULL;

    g_autoptr(TernDbInstance) inst = tern_db_instance_new();
    inst->uuid = g_strdup(uuid);
    inst->display_name = g_strdup(jstr(d, "display_name"));
    inst->hostname = g_strdup(jstr(d, "hostname"));
    inst->project_id = g_strdup(jstr(d, "project_id"));
    inst->user_id = g_strdup(jstr(d, "user_id"));
    inst->task_state = g_strdup("scheduling");
    inst->power_state = 0;
    json_t *fl = json_object();
    const char *keys[] = { "id", "name", "flavorid", "vcpus", "memory_mb", "root_gb",
                           "ephemeral_gb", "swap", "extra_specs", NULL };
    for (guint i = 0; keys[i]; i++)
        if (json_object_get(fd, keys[i]))
            json_object_set(fl, keys[i], json_object_get(fd, keys[i]));
    inst->flavor = json_dumps(fl, JSON_COMPACT);
    inst->vcpus = json_integer_value(json_object_get(fd, "vcpus"));
    inst->memory_mb = json_integer_value(json_object_get(fd, "memory_mb"));
    inst->root_gb = json_integer_value(json_object_get(fd, "root_gb"));
    inst->ephemeral_gb = json_integer_value(json_object_get(fd, "ephemeral_gb"));
    json_decref(fl);
    inst->image_ref = g_strdup(jstr(d, "image_ref") ? jstr(d, "image_ref") : jstr(image, "id"));
    inst->image_properties = json_dumps(props ? props : json_object(), JSON_COMPACT);
    const char *arch = props ? jstr(props, "hw_emulation_architecture") : NULL;
    if (!arch && props)
        arch = jstr(props, "hw_architecture");
    if (!arch)
        arch = jstr(d, "architecture");
    inst->arch = g_strdup(arch);
    inst->availability_zone = g_strdup(jstr(d, "availability_zone"));
    json_t *md = json_object_get(d, "metadata");
    inst->metadata = json_dumps(json_is_object(md) ? md : json_object(), JSON_COMPACT);
    if (tern_db_instance_create(db, inst, &err) < 0) {
        if (!g_error_matches(err, TERN_DB_ERROR, TERN_DB_ERROR_CONFLICT)) {
            g_propagate_error(error, g_steal_pointer(&err));
            return -1;
        }
        /* Created by a racing delivery of the same request. */
        return tern_db_instance_get(db, uuid, TRUE, out, error);
    }
    TERN_INFO(LOG, "instance %s (%s) recorded: %s, %" G_GINT64_FORMAT " vCPU, %" G_GINT64_FORMAT
              " MB", uuid, inst->display_name ? inst->display_name : "",
              inst->arch ? inst->arch : "any arch", inst->vcpus, inst->memory_mb);
    *out = g_steal_pointer(&inst);
    (void)c;
    return 0;
}

/* --- scheduling and casting ----------------------------------------------- */

/* The request spec to send: the flow's (or one from the record), with
 * ignore_hosts = the hosts tried. */
static json_t *
spec_for_attempt(TernBuildFlow *f, const TernDbInstance *inst)
{
    if (!f->request_spec) {
        g_autoptr(GPtrArray) ign = g_ptr_array_new();
        for (guint i = 0; i < f->tried->len; i++)
            g_ptr_array_add(ign, f->tried->pdata[i]);
        g_ptr_array_add(ign, NULL);
        return tern_conductor_request_spec(inst, (const char *const *)ign->pdata, NULL, NULL);
    }
    json_t *spec = json_deep_copy(f->request_spec);
    json_t *d = obj_data(spec);
    if (d) {
        json_object_set_new(d, "instance_uuid", json_string(inst->uuid));
        json_object_set_new(d, "num_instances", json_integer(1));
        json_t *ign = json_array();
        json_t *old = json_object_get(d, "ignore_hosts");
        size_t i;
        json_t *v;
        json_array_foreach(old, i, v)
            json_array_append(ign, v);
        for (guint k = 0; k < f->tried->len; k++)
            json_array_append_new(ign, json_string(f->tried->pdata[k]));
        json_object_set_new(d, "ignore_hosts", ign);
        json_t *changes = json_object_get(spec, "nova_object.changes");
        if (json_is_array(changes))
            json_array_append_new(changes, json_string("ignore_hosts"));
    }
    return spec;
}

/* The limits dict of a Selection (SchedulerLimits.to_dict()). */
static json_t *
selection_limits(json_t *sel)
{
    json_t *ld = obj_data(json_object_get(obj_data(sel), "limits"));
    json_t *out = json_object();
    const char *keys[] = { "vcpu", "memory_mb", "disk_gb", "numa_topology", NULL };
    for (guint i = 0; keys[i]; i++) {
        json_t *v = ld ? json_object_get(ld, keys[i]) : NULL;
        json_object_set(out, keys[i], v ? v : json_null());
    }
    return out;
}

/* Ask the scheduler: 0 and the selections for this instance, or -1. */
static int
select_destinations(TernConductor *c, TernBuildFlow *f, const TernDbInstance *inst,
                    json_t **selections, GError **error)
{
    json_t *spec = spec_for_attempt(f, inst);
    json_t *args = json_pack("{s:o, s:[s], s:b, s:b}", "spec_obj", spec, "instance_uuids",
                             inst->uuid, "return_objects", 1, "return_alternates", 1);
    TernRpcTarget target = { .topic = "scheduler", .version = "4.5" };
    g_autoptr(json_t) res = tern_rpc_call_full(c->client, &target, f->context,
                                               "select_destinations", args,
                                               (double)c->long_rpc_timeout,
                                               (double)c->rpc_timeout, error);
    json_decref(args);
    if (!res)
        return -1;
    json_t *mine = json_array_get(res, 0);
    if (!json_is_array(mine) || json_array_size(mine) == 0) {
        tern_conductor_remote_error(error, "NoValidHost", NULL,
                                    "the scheduler returned no host for instance %s", inst->uuid);
        return -1;
    }
    *selections = json_incref(mine);
    return 0;
}

static const char *
sel_host(json_t *sel)
{
    return jstr(obj_data(sel), "service_host");
}

static const char *
sel_node(json_t *sel)
{
    return jstr(obj_data(sel), "nodename");
}

/* Cast build_and_run_instance for the chosen selection. */
static int
cast_build(TernConductor *c, TernBuildFlow *f, TernDb *db, const char *host, json_t *sel,
           GError **error)
{
    g_autoptr(TernDbInstance) inst = NULL;
    if (tern_db_instance_get(db, f->uuid, FALSE, &inst, error) < 0)
        return -1;
    json_t *retry_hosts = json_array();
    for (guint i = 0; i < f->tried->len; i++)
        json_array_append_new(retry_hosts, json_pack("[ss]", (char *)f->tried->pdata[i],
                                                     (char *)f->tried->pdata[i]));
    json_t *limits = selection_limits(sel);
    json_t *filter_props = json_pack("{s:{s:I, s:o}, s:O}", "retry", "num_attempts",
                                     (json_int_t)f->attempts, "hosts", retry_hosts,
                                     "limits", limits);
    json_t *args = json_object();
    json_object_set_new(args, "instance", tern_conductor_instance_primitive(inst));
    json_object_set_new(args, "image", f->image ? json_incref(f->image)
                                                : tern_conductor_image_dict(inst));
    json_object_set_new(args, "request_spec", spec_for_attempt(f, inst));
    json_object_set_new(args, "filter_properties", filter_props);
    json_object_set_new(args, "admin_password", json_null());
    json_object_set_new(args, "injected_files", json_array());
    json_object_set_new(args, "requested_networks", json_null());
    json_object_set_new(args, "security_groups", json_array());
    json_object_set_new(args, "block_device_mapping", json_null());
    json_object_set_new(args, "node", json_string(sel_node(sel) ? sel_node(sel) : host));
    json_object_set_new(args, "limits", limits);
    json_object_set(args, "host_list", f->alternates);
    json_object_set_new(args, "accel_uuids", json_array());
    if (f->extra)
        json_object_update(args, f->extra);
    g_autofree char *server = g_strdup(host);
    TernRpcTarget target = { .topic = "compute", .server = server, .version = "6.0" };
    int rc = tern_rpc_cast(c->client, &target, f->context, "build_and_run_instance", args, error);
    json_decref(args);
    return rc;
}

/* One step: choose the next host (an alternate, else the scheduler), claim
 * when needed, set the instance's host, cast. Loops over hosts that cannot
 * be claimed or cast to; ends with a cast or with the instance in ERROR.
 * Called with f->lock held. */
static void
build_step(TernConductor *c, TernBuildFlow *f)
{
    g_autoptr(GError) err = NULL;
    TernDb *db = tern_conductor_db(c, &err);
    if (!db) {
        TERN_ERROR(LOG, "instance %s: no database connection, build left to recovery: %s",
                   f->uuid, err->message);
        return;
    }
    for (;;) {
        g_autoptr(TernDbInstance) inst = NULL;
        if (tern_db_instance_get(db, f->uuid, FALSE, &inst, &err) < 0) {
            TERN_WARN(LOG, "instance %s: %s; build abandoned", f->uuid, err->message);
            tern_conductor_build_done(c, f->uuid);
            return;
        }
        if (g_strcmp0(inst->vm_state, "building") != 0) {
            TERN_INFO(LOG, "instance %s is %s, not building: nothing to do", f->uuid,
                      inst->vm_state);
            tern_conductor_build_done(c, f->uuid);
            return;
        }
        if (f->attempts >= c->max_attempts) {
            g_autoptr(GString) hosts = g_string_new(NULL);
            for (guint i = 0; i < f->tried->len; i++)
                g_string_append_printf(hosts, "%s%s", i ? ", " : "", (char *)f->tried->pdata[i]);
            g_autofree char *msg = g_strdup_printf("Exceeded maximum number of retries ([scheduler] max_attempts = %"
                                  G_GINT64_FORMAT "): the build failed on %s. Last failure: %s",
                                  c->max_attempts, hosts->str,
                                  f->last_failure ? f->last_failure : "unknown");
            tern_conductor_instance_error(c, db, f->uuid, NULL, msg, NULL);
            return;
        }
        json_t *sel = NULL;
        g_autoptr(json_t) fresh = NULL;
        if (json_array_size(f->alternates) > 0) {
            sel = json_incref(json_array_get(f->alternates, 0));
            json_array_remove(f->alternates, 0);
            const char *host = sel_host(sel);
            TernDbResources res;
            tern_conductor_instance_resources(inst, &res);
            if (!host || tern_db_claim(db, f->uuid, host, &res, NULL, &err) < 0) {
                TERN_INFO(LOG, "instance %s: alternate %s cannot be claimed: %s", f->uuid,
                          host ? host : "(none)", err ? err->message : "no host in selection");
                g_clear_error(&err);
                if (host)
                    g_ptr_array_add(f->tried, g_strdup(host));
                json_decref(sel);
                continue;
            }
        } else {
            if (select_destinations(c, f, inst, &fresh, &err) < 0) {
                const char *cls = tern_rpc_error_get_class(err);
                g_autofree char *msg = NULL;
                if (g_strcmp0(cls, "NoValidHost") == 0) {
                    /* The remote text is "NoValidHost: No valid host was found. <why>". */
                    const char *why = err->message;
                    if (g_str_has_prefix(why, "NoValidHost: "))
                        why += strlen("NoValidHost: ");
                    msg = g_strdup_printf("%s%s%s%s",
                                          g_str_has_prefix(why, "No valid host") ? ""
                                          : "No valid host was found. ", why,
                                          f->last_failure ? " Last build failure: " : "",
                                          f->last_failure ? f->last_failure : "");
                }
                else
                    msg = g_strdup_printf("Scheduling failed: %s", err->message);
                tern_conductor_instance_error(c, db, f->uuid, NULL, msg, NULL);
                return;
            }
            sel = json_incref(json_array_get(fresh, 0));
            json_decref(f->alternates);
            f->alternates = json_array();
            for (size_t i = 1; i < json_array_size(fresh); i++)
                json_array_append(f->alternates, json_array_get(fresh, i));
        }
        g_autofree char *host = g_strdup(sel_host(sel));
        f->attempts++;
        g_ptr_array_add(f->tried, g_strdup(host));
        if (!host) {
            json_decref(sel);
            continue;
        }
        if (tern_db_instance_set_host(db, f->uuid, host, sel_node(sel) ? sel_node(sel) : host,
                                      &err) < 0
            || cast_build(c, f, db, host, sel, &err) < 0) {
            TERN_WARN(LOG, "instance %s: cannot hand the build to %s: %s", f->uuid, host,
                      err->message);
            g_free(f->last_failure);
            f->last_failure = g_strdup_printf("cannot reach %s: %s", host, err->message);
            g_clear_error(&err);
            tern_db_release(db, f->uuid, host, NULL, NULL);
            json_decref(sel);
            continue;
        }
        TERN_INFO(LOG, "instance %s: build cast to %s (attempt %" G_GINT64_FORMAT " of %"
                  G_GINT64_FORMAT ", %zu alternates left)", f->uuid, host, f->attempts,
                  c->max_attempts, json_array_size(f->alternates));
        json_decref(sel);
        return;
    }
}

void
tern_conductor_build(TernConductor *c, json_t *context, const char *instance_uuid,
                     json_t *image, json_t *request_spec, json_t *extra)
{
    gboolean created;
    TernBuildFlow *f = flow_get(c, instance_uuid, TRUE, &created);
    g_mutex_lock(&f->lock);
    if (!created && f->attempts > 0) {
        /* The same request twice: the flow is under way already. */
        TERN_INFO(LOG, "instance %s: build already under way (attempt %" G_GINT64_FORMAT ")",
                  instance_uuid, f->attempts);
    } else {
        if (!f->context)
            f->context = context ? json_deep_copy(context) : tern_rpc_context_new(NULL, NULL, TRUE);
        if (image && !f->image)
            f->image = json_deep_copy(image);
        if (json_is_object(request_spec) && !f->request_spec)
            f->request_spec = json_deep_copy(request_spec);
        if (extra && !f->extra)
            f->extra = json_deep_copy(extra);
        build_step(c, f);
    }
    g_mutex_unlock(&f->lock);
    flow_unref(f);
}

void
tern_conductor_build_failed(TernConductor *c, json_t *context, const char *instance_uuid,
                            const char *host, const char *reason, gboolean retryable)
{
    g_autoptr(GError) err = NULL;
    TernDb *db = tern_conductor_db(c, &err);
    if (!db) {
        TERN_ERROR(LOG, "instance %s: build failure on %s not handled (no database): %s",
                   instance_uuid, host, err->message);
        return;
    }
    gboolean created;
    TernBuildFlow *f = flow_get(c, instance_uuid, TRUE, &created);
    g_mutex_lock(&f->lock);
    g_autoptr(TernDbInstance) inst = NULL;
    if (tern_db_instance_get(db, instance_uuid, FALSE, &inst, &err) < 0) {
        TERN_WARN(LOG, "build failure of unknown instance %s: %s", instance_uuid, err->message);
        g_mutex_unlock(&f->lock);
        flow_unref(f);
        tern_conductor_build_done(c, instance_uuid);
        return;
    }
    if (g_strcmp0(inst->vm_state, "building") != 0 || (inst->host && host &&
                                                       g_strcmp0(inst->host, host) != 0)) {
        /* Reported twice, or about a host the build has left already. */
        TERN_INFO(LOG, "instance %s: build failure on %s ignored (instance is %s on %s)",
                  instance_uuid, host, inst->vm_state, inst->host ? inst->host : "no host");
        g_mutex_unlock(&f->lock);
        flow_unref(f);
        return;
    }
    if (created) {
        /* Not this process's flow (another conductor, or a restart): rebuild
         * what is known from the record. */
        f->context = context ? json_deep_copy(context) : tern_rpc_context_new(NULL, NULL, TRUE);
        g_autoptr(GPtrArray) faults = NULL;
        if (tern_db_instance_fault_list(db, instance_uuid, &faults, NULL) == 0)
            for (guint i = 0; i < faults->len; i++) {
                TernDbInstanceFault *ft = faults->pdata[i];
                if (ft->host) {
                    g_ptr_array_add(f->tried, g_strdup(ft->host));
                    f->attempts++;
                }
            }
    }
    g_free(f->last_failure);
    f->last_failure = g_strdup_printf("%s: %s", host ? host : "?", reason ? reason : "unknown");
    if (host)
        tern_db_release(db, instance_uuid, host, NULL, NULL);
    if (created && host) {
        g_ptr_array_add(f->tried, g_strdup(host));
        f->attempts++;
    }
    TernDbInstanceFault fault = {
        .instance_uuid = (char *)instance_uuid, .code = 500, .host = (char *)host,
        .message = f->last_failure,
    };
    fault.message = g_strdup_printf("Build failed on %s: %s", host ? host : "?",
                                    reason ? reason : "unknown");
    tern_db_instance_fault_add(db, &fault, NULL);
    g_free(fault.message);
    tern_db_instance_update_states(db, instance_uuid, "building", "scheduling", -1, FALSE, NULL,
                                   NULL);
    tern_db_instance_set_host(db, instance_uuid, NULL, NULL, NULL);
    TERN_WARN(LOG, "instance %s: build failed on %s (%s)%s", instance_uuid, host,
              reason ? reason : "unknown", retryable ? "; rescheduling" : "; not retryable");
    if (!retryable) {
        g_autofree char *msg = g_strdup_printf("Build failed on %s and cannot be retried: %s",
                                               host ? host : "?", reason ? reason : "unknown");
        tern_conductor_instance_error(c, db, instance_uuid, host, msg, NULL);
    } else {
        build_step(c, f);
    }
    g_mutex_unlock(&f->lock);
    flow_unref(f);
}

/* --- ComputeTaskAPI handlers -------------------------------------------------- */

static json_t *
do_schedule_and_build(const TernRpcRequest *req, gpointer user_data, GError **error)
{
    TernConductor *c = user_data;
    json_t *brs = json_object_get(req->args, "build_requests");
    json_t *specs = json_object_get(req->args, "request_specs");
    json_t *image = json_object_get(req->args, "image");
    if (!json_is_array(brs) || !json_is_array(specs)) {
        g_set_error(error, TERN_CONDUCTOR_ERROR, TERN_CONDUCTOR_ERROR_INVALID,
                    "schedule_and_build_instances needs build_requests and request_specs lists");
        return NULL;
    }
    TernDb *db = tern_conductor_db(c, error);
    if (!db)
        return NULL;
    json_t *extra = json_object();
    json_t *nets = json_object_get(req->args, "requested_networks");
    if (nets)
        json_object_set(extra, "requested_networks", nets);
    g_autoptr(GPtrArray) uuids = g_ptr_array_new_with_free_func(g_free);
    size_t i;
    json_t *br;
    json_array_foreach(brs, i, br) {
        json_t *spec = json_array_get(specs, i);
        json_t *instance = json_object_get(obj_data(br), "instance");
        g_autoptr(TernDbInstance) inst = NULL;
        g_autoptr(GError) err = NULL;
        if (tern_conductor_record_instance(c, db, instance,
                                           json_object_get(obj_data(spec), "flavor"),
                                           image, &inst, &err) < 0) {
            TERN_ERROR(LOG, "build request %zu not recorded: %s", i, err->message);
            continue;
        }
        g_ptr_array_add(uuids, g_strdup(inst->uuid));
        tern_conductor_build(c, req->context, inst->uuid, image, spec, extra);
    }
    json_decref(extra);
    return json_null();
}

static json_t *
do_build_instances(const TernRpcRequest *req, gpointer user_data, GError **error)
{
    TernConductor *c = user_data;
    json_t *instances = json_object_get(req->args, "instances");
    json_t *image = json_object_get(req->args, "image");
    json_t *spec = json_object_get(req->args, "request_spec");
    json_t *host_lists = json_object_get(req->args, "host_lists");
    if (!json_is_array(instances)) {
        g_set_error(error, TERN_CONDUCTOR_ERROR, TERN_CONDUCTOR_ERROR_INVALID,
                    "build_instances needs an instances list");
        return NULL;
    }
    TernDb *db = tern_conductor_db(c, error);
    if (!db)
        return NULL;
    size_t i;
    json_t *instance;
    json_array_foreach(instances, i, instance) {
        g_autoptr(TernDbInstance) inst = NULL;
        g_autoptr(GError) err = NULL;
        if (tern_conductor_record_instance(c, db, instance,
                                           json_object_get(obj_data(spec), "flavor"), image,
                                           &inst, &err) < 0) {
            TERN_ERROR(LOG, "build_instances: instance %zu not recorded: %s", i, err->message);
            continue;
        }
        json_t *hl = json_array_get(host_lists, i);
        if (json_is_array(hl) && json_array_size(hl) > 0) {
            /* A reschedule from a compute: its remaining alternates come first. */
            gboolean created;
            TernBuildFlow *f = flow_get(c, inst->uuid, TRUE, &created);
            g_mutex_lock(&f->lock);
            if (created || json_array_size(f->alternates) == 0) {
                json_decref(f->alternates);
                f->alternates = json_deep_copy(hl);
            }
            g_mutex_unlock(&f->lock);
            flow_unref(f);
        }
        tern_conductor_build(c, req->context, inst->uuid, image,
                             json_is_object(spec) ? spec : NULL, NULL);
    }
    return json_null();
}

const TernRpcMethod tern_conductor_build_methods[] = {
    { "compute_task", "schedule_and_build_instances", "1.24", do_schedule_and_build },
    { "compute_task", "build_instances", "1.24", do_build_instances },
    { NULL }
};
