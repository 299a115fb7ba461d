/* compute_writes.c: the database writes the conductor makes on behalf of
 * computes (which hold no database credentials): namespace `tern`, version
 * 1.0, exactly the table of docs/tern-rpc.md — service_report,
 * compute_node_report, instance_update, instance_fault_create,
 * instance_build_failed, instances_on_host, migration_update. Every handler
 * is safe to run twice with the same arguments. */
#include "conductor.h"

#include "common/log.h"

#define LOG "tern.conductor.writes"

static const char *
jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
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

/* A DB error as the Nova exception a caller expects. */
static void
db_error_to_remote(GError **error, GError *err, const char *not_found_cls, const char *what)
{
    if (g_error_matches(err, TERN_DB_ERROR, TERN_DB_ERROR_NOT_FOUND)
        || g_error_matches(err, TERN_DB_ERROR, TERN_DB_ERROR_INVALID)) {
        json_t *kw = json_object();
        if (g_strcmp0(not_found_cls, "InstanceNotFound") == 0)
            json_object_set_new(kw, "instance_id", json_string(what));
        else if (g_strcmp0(not_found_cls, "MigrationNotFound") == 0)
            json_object_set_new(kw, "migration_id", json_string(what));
        else
            json_object_set_new(kw, "host", json_string(what));
        tern_rpc_error_set_remote(error, "nova.exception", not_found_cls, kw, "%s", err->message);
    } else {
        g_propagate_error(error, g_error_copy(err));
    }
}

/* --- services and compute nodes ---------------------------------------------- */

static json_t *
do_service_report(const TernRpcRequest *req, gpointer user_data, GError **error)
{
    TernConductor *c = user_data;
    const char *binary, *host;
    if (need_str(req, "binary", &binary, error) < 0 || need_str(req, "host", &host, error) < 0)
        return NULL;
    TernDb *db = tern_conductor_db(c, error);
    if (!db)
        return NULL;
    const char *topic = g_str_has_prefix(binary, "tern-") ? binary + 5 : binary;
    if (g_strcmp0(topic, "compute") != 0 && g_strcmp0(topic, "scheduler") != 0
        && g_strcmp0(topic, "conductor") != 0)
        topic = "compute";
    if (tern_db_service_heartbeat(db, binary, host, topic, 0, NULL, error) < 0)
        return NULL;
    return json_null();
}

static char **
strv_from_json(json_t *arr)
{
    GPtrArray *a = g_ptr_array_new();
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
        if (json_is_string(v))
            g_ptr_array_add(a, g_strdup(json_string_value(v)));
    g_ptr_array_add(a, NULL);
    return (char **)g_ptr_array_free(a, FALSE);
}

static gint
cmp_str(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

static char **
sorted_strv(json_t *arr)
{
    char **v = strv_from_json(arr);
    qsort(v, g_strv_length(v), sizeof(char *), cmp_str);
    return v;
}

static json_t *
do_compute_node_report(const TernRpcRequest *req, gpointer user_data, GError **error)
{
    TernConductor *c = user_data;
    const char *host;
    if (need_str(req, "host", &host, error) < 0)
        return NULL;
    json_t *node = json_object_get(req->args, "node");
    if (!json_is_object(node)) {
        g_set_error(error, TERN_CONDUCTOR_ERROR, TERN_CONDUCTOR_ERROR_INVALID,
                    "compute_node_report: node (an object) is missing");
        return NULL;
    }
    TernDb *db = tern_conductor_db(c, error);
    if (!db)
        return NULL;
    g_autoptr(TernDbComputeNode) n = tern_db_compute_node_new();
    n->host = g_strdup(host);
    n->hypervisor_hostname = g_strdup(jstr(node, "hypervisor_hostname") ?
                                      jstr(node, "hypervisor_hostname") : host);
    n->hypervisor_type = g_strdup(jstr(node, "hypervisor_type") ? jstr(node, "hypervisor_type")
                                                                 : "QEMU");
    n->hypervisor_version = json_integer_value(json_object_get(node, "hypervisor_version"));
    n->arch = g_strdup(jstr(node, "arch"));
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(node, "supported_instances"), i, t) {
        if (!json_is_array(t) || json_array_size(t) < 3)
            continue;
        TernDbGuestType *gt = g_new0(TernDbGuestType, 1);
        gt->arch = g_strdup(json_string_value(json_array_get(t, 0)));
        gt->hv_type = g_strdup(json_string_value(json_array_get(t, 1)));
        gt->vm_mode = g_strdup(json_string_value(json_array_get(t, 2)));
        if (!gt->arch || !gt->hv_type || !gt->vm_mode) {
            tern_db_guest_type_free(gt);
            continue;
        }
        g_ptr_array_add(n->supported_instances, gt);
    }
    n->machine_types = strv_from_json(json_object_get(node, "machine_types"));
    n->cpu_info = g_strdup(jstr(node, "cpu_info") ? jstr(node, "cpu_info") : "{}");
    json_t *hc = json_object_get(node, "host_cpu");
    if (json_is_object(hc)) {
        n->cpu_model = g_strdup(jstr(hc, "model"));
        n->cpu_features = sorted_strv(json_object_get(hc, "features"));
    }
    json_t *gc = json_object_get(node, "guest_cpu");
    if (json_is_object(gc)) {
        n->guest_cpu = json_dumps(gc, JSON_COMPACT);
        n->guest_cpu_model = g_strdup(jstr(gc, "model"));
        n->guest_cpu_features = sorted_strv(json_object_get(gc, "features"));
    }
    n->vcpus = json_integer_value(json_object_get(node, "vcpus"));
    n->memory_mb = json_integer_value(json_object_get(node, "memory_mb"));
    n->local_gb = json_integer_value(json_object_get(node, "local_gb"));
    const char *ratios[] = { "cpu_allocation_ratio", "ram_allocation_ratio",
                             "disk_allocation_ratio", NULL };
    double *dst[] = { &n->cpu_allocation_ratio, &n->ram_allocation_ratio,
                      &n->disk_allocation_ratio };
    for (guint k = 0; ratios[k]; k++) {
        json_t *v = json_object_get(node, ratios[k]);
        if (json_is_number(v) && json_number_value(v) > 0)
            *dst[k] = json_number_value(v);
    }
    const char *reserved[] = { "reserved_vcpus", "reserved_memory_mb", "reserved_disk_gb", NULL };
    gint64 *rdst[] = { &n->reserved_vcpus, &n->reserved_memory_mb, &n->reserved_disk_gb };
    for (guint k = 0; reserved[k]; k++) {
        json_t *v = json_object_get(node, reserved[k]);
        if (json_is_integer(v) && json_integer_value(v) >= 0)
            *rdst[k] = json_integer_value(v);
    }
    if (tern_db_compute_node_update(db, n, error) < 0)
        return NULL;
    if (tern_db_service_heartbeat(db, "tern-compute", host, "compute", 0, NULL, error) < 0)
        return NULL;
    json_t *gates = json_object_get(node, "gates");
    g_mutex_lock(&c->lock);
    if (json_is_object(gates))
        g_hash_table_replace(c->gates, g_strdup(host), json_deep_copy(gates));
    else
        g_hash_table_remove(c->gates, host);
    /* Domains the compute found and no instance owns: kept for host_show
     * and logged when their list changes (never destroyed). */
    json_t *unk = json_object_get(node, "unknown_domains");
    json_t *prev = g_hash_table_lookup(c->unknown_domains, host);
    if (json_is_array(unk) && json_array_size(unk) > 0) {
        if (!prev || !json_equal(prev, unk)) {
            g_autofree char *text = json_dumps(unk, JSON_COMPACT);
            TERN_WARN(LOG, "host %s runs libvirt domains no instance owns: %s", host, text);
        }
        g_hash_table_replace(c->unknown_domains, g_strdup(host), json_deep_copy(unk));
    } else {
        g_hash_table_remove(c->unknown_domains, host);
    }
    g_mutex_unlock(&c->lock);
    TERN_DEBUG(LOG, "compute node %s reported (%s, %" G_GINT64_FORMAT " vCPU, generation %"
               G_GINT64_FORMAT ")", host, n->arch ? n->arch : "?", n->vcpus, n->generation);
    return json_pack("{s:s, s:I}", "host", host, "generation", (json_int_t)n->generation);
}

/* --- instances ------------------------------------------------------------ */

static gboolean
is_task_state_ok(json_t *v)
{
    return json_is_null(v) || json_is_string(v);
}

typedef struct {
    TernDbInstance *inst;     /* as read before the update */
    json_t *updates, *exp, *ts, *vs, *ps;
} InstanceUpdate;

/* A report of the launch already recorded (a build report delivered or
 * sent twice: a redelivered build, a compute's restart): ACTIVE on the same
 * host with the same guest CPU keeps its launched_at. */
static gboolean
same_launch(const TernDbInstance *inst, json_t *host, json_t *gcpu)
{
    if (inst->launched_at <= 0 || g_strcmp0(inst->vm_state, "active") != 0 || !inst->guest_cpu
        || (host && g_strcmp0(json_string_value(host), inst->host) != 0))
        return FALSE;
    if (!json_is_object(gcpu))
        return TRUE;
    g_autoptr(json_t) recorded = json_loads(inst->guest_cpu, 0, NULL);
    return recorded && json_equal(recorded, gcpu);
}

/* Every change of one instance_update in one transaction: the boot facts
 * and host first, the states (compare-and-set) last, so no reader sees an
 * ACTIVE instance without its guest CPU. */
static int
instance_update_txn(TernDb *db, gpointer data, GError **error)
{
    InstanceUpdate *u = data;
    TernDbInstance *inst = u->inst;
    json_t *host = json_object_get(u->updates, "host");
    json_t *node = json_object_get(u->updates, "node");
    if (host || node) {
        const char *h = host ? json_string_value(host) : inst->host;
        const char *n = node ? json_string_value(node) : inst->node;
        if (tern_db_instance_set_host(db, inst->uuid, h, n, error) < 0)
            return -1;
    }
    json_t *gcpu = json_object_get(u->updates, "guest_cpu");
    json_t *mt = json_object_get(u->updates, "machine_type");
    json_t *launched = json_object_get(u->updates, "launched_at");
    if ((json_is_object(gcpu) || launched) && !same_launch(inst, host, gcpu)) {
        /* The guest CPU it booted with (launched_at = now). */
        g_autofree char *text = json_is_object(gcpu) ? json_dumps(gcpu, JSON_COMPACT)
                                                     : g_strdup(inst->guest_cpu);
        if (tern_db_instance_set_launched(db, inst->uuid, text, error) < 0)
            return -1;
    }
    if (json_is_string(mt)) {
        /* The machine type it booted with, kept with its image properties as
         * "machine_type" (docs/tern-rpc.md): where the scheduler reads it. */
        const char *params[] = { inst->uuid, json_string_value(mt) };
        if (tern_db_command(db, "UPDATE instances SET image_properties = image_properties || "
                            "jsonb_build_object('machine_type', $2::text), updated_at = now() "
                            "WHERE uuid = $1::uuid", 2, params, TERN_DB_EXEC_DEFAULT, error) < 0)
            return -1;
    }
    if (u->exp || u->ts || u->vs || u->ps) {
        const char *expected = u->exp ? json_string_value(u->exp) : NULL;
        const char *new_ts = u->ts ? json_string_value(u->ts)
                                   : (u->exp ? expected : inst->task_state);
        if (tern_db_instance_update_states(db, inst->uuid,
                                           u->vs ? json_string_value(u->vs) : NULL, new_ts,
                                           u->ps ? json_integer_value(u->ps) : -1,
                                           u->exp != NULL, expected, error) < 0)
            return -1;
    }
    return 0;
}

/* A compute's "built and running" report (ACTIVE with launched_at) that
 * comes too late: the build was put in ERROR meanwhile (recovery, claims
 * released), or was rescheduled to (and maybe built on) another host, or
 * deleted. Writing it would make an
 * instance ACTIVE without a claim, or move it; the compute is answered the
 * instance as it is and removes its guest. */
static gboolean
is_stale_build_report(const TernDbInstance *inst, json_t *updates)
{
    const char *vs = json_string_value(json_object_get(updates, "vm_state"));
    const char *host = json_string_value(json_object_get(updates, "host"));
    if (g_strcmp0(vs, "active") != 0 || !json_object_get(updates, "launched_at"))
        return FALSE;
    if (g_strcmp0(inst->vm_state, "error") == 0)
        return TRUE;
    if (g_strcmp0(inst->vm_state, "building") == 0 && !inst->host)
        return TRUE;   /* taken back by recovery to be scheduled again */
    if (!inst->host || !host || g_strcmp0(inst->host, host) == 0)
        return FALSE;
    /* another host: building there, or ACTIVE there with no task (a
     * migration's destination reports with task_state migrating) */
    return g_strcmp0(inst->vm_state, "building") == 0
           || (g_strcmp0(inst->vm_state, "active") == 0 && !inst->task_state);
}

static json_t *
do_instance_update(const TernRpcRequest *req, gpointer user_data, GError **error)
{
    TernConductor *c = user_data;
    const char *uuid;
    if (need_str(req, "instance_uuid", &uuid, error) < 0)
        return NULL;
    json_t *updates = json_object_get(req->args, "updates");
    if (!json_is_object(updates)) {
        g_set_error(error, TERN_CONDUCTOR_ERROR, TERN_CONDUCTOR_ERROR_INVALID,
                    "instance_update: updates (an object) is missing");
        return NULL;
    }
    TernDb *db = tern_conductor_db(c, error);
    if (!db)
        return NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(TernDbInstance) inst = NULL;
    if (tern_db_instance_get(db, uuid, TRUE, &inst, &err) < 0) {
        db_error_to_remote(error, err, "InstanceNotFound", uuid);
        return NULL;
    }
    if (inst->deleted)   /* a report of a deleted instance (again): nothing to write */
        return tern_conductor_instance_json(inst);
    if (is_stale_build_report(inst, updates)) {
        json_t *h = json_object_get(updates, "host");
        TERN_WARN(LOG, "instance %s: build report from %s ignored: the instance is %s on %s "
                  "(a late or duplicate build; the compute removes its guest)", uuid,
                  json_is_string(h) ? json_string_value(h) : "?", inst->vm_state,
                  inst->host ? inst->host : "no host");
        return tern_conductor_instance_json(inst);
    }
    json_t *exp = json_object_get(req->args, "expected_task_state");
    json_t *ts = json_object_get(updates, "task_state");
    json_t *vs = json_object_get(updates, "vm_state");
    json_t *ps = json_object_get(updates, "power_state");
    if ((exp && !is_task_state_ok(exp)) || (ts && !is_task_state_ok(ts))
        || (vs && !json_is_string(vs)) || (ps && !json_is_integer(ps))) {
        g_set_error(error, TERN_CONDUCTOR_ERROR, TERN_CONDUCTOR_ERROR_INVALID,
                    "instance_update: vm_state must be a string, task_state and "
                    "expected_task_state a string or null, power_state an integer");
        return NULL;
    }
    InstanceUpdate u = { .inst = inst, .updates = updates, .exp = exp, .ts = ts, .vs = vs,
                         .ps = ps };
    if (tern_db_transaction(db, FALSE, instance_update_txn, &u, &err) < 0) {
        if (g_error_matches(err, TERN_DB_ERROR, TERN_DB_ERROR_CONFLICT)) {
            const char *expected = json_string_value(exp);
            g_autoptr(TernDbInstance) now = NULL;
            tern_db_instance_get(db, uuid, FALSE, &now, NULL);
            const char *actual = now ? now->task_state : inst->task_state;
            json_t *kw = json_pack("{s:s, s:s?, s:s?}", "instance_uuid", uuid,
                                   "expected", expected, "actual", actual);
            tern_rpc_error_set_remote(error, "nova.exception", "UnexpectedTaskStateError",
                                      kw, "Conflict updating instance %s. Expected: "
                                      "{'task_state': [%s]}. Actual: {'task_state': %s}",
                                      uuid, expected ? expected : "None",
                                      actual ? actual : "None");
            return NULL;
        }
        db_error_to_remote(error, err, "InstanceNotFound", uuid);
        return NULL;
    }
    g_autoptr(TernDbInstance) after = NULL;
    if (tern_db_instance_get(db, uuid, FALSE, &after, error) < 0)
        return NULL;
    if (g_strcmp0(after->vm_state, "building") != 0)
        tern_conductor_build_done(c, uuid);
    if (g_strcmp0(after->vm_state, "deleted") == 0) {
        /* The compute terminated it: free its resources, soft-delete the row. */
        if (tern_db_release(db, uuid, NULL, NULL, error) < 0
            || tern_db_group_member_remove(db, uuid, NULL, error) < 0
            || tern_db_instance_destroy(db, uuid, error) < 0)
            return NULL;
        TERN_INFO(LOG, "instance %s deleted on %s: claims released", uuid,
                  after->host ? after->host : "no host");
    }
    TERN_DEBUG(LOG, "instance %s updated: %s/%s power %" G_GINT64_FORMAT, uuid, after->vm_state,
               after->task_state ? after->task_state : "-", after->power_state);
    return tern_conductor_instance_json(after);
}

/* Idempotent: the same fault delivered twice is recorded once, also when
 * two worker threads (or conductors) handle the two copies at once: the
 * instance's faults are compared and written under a transaction-scoped
 * advisory lock on its uuid. */
static int
fault_add_once_txn(TernDb *db, gpointer data, GError **error)
{
    TernDbInstanceFault *f = data;
    const char *params[] = { f->instance_uuid };
    g_autoptr(PGresult) r = tern_db_exec(db, "SELECT pg_advisory_xact_lock(hashtext($1))", 1,
                                         params, TERN_DB_EXEC_DEFAULT, error);
    if (!r)
        return -1;
    g_autoptr(GPtrArray) faults = NULL;
    if (tern_db_instance_fault_list(db, f->instance_uuid, &faults, NULL) == 0 && faults->len > 0) {
        TernDbInstanceFault *last = faults->pdata[0];
        if (last->code == f->code && g_strcmp0(last->message, f->message) == 0
            && g_strcmp0(last->details, f->details) == 0)
            return 0;
    }
    return tern_db_instance_fault_add(db, f, error);
}

static json_t *
do_instance_fault_create(const TernRpcRequest *req, gpointer user_data, GError **error)
{
    TernConductor *c = user_data;
    const char *uuid, *message;
    if (need_str(req, "instance_uuid", &uuid, error) < 0
        || need_str(req, "message", &message, error) < 0)
        return NULL;
    TernDb *db = tern_conductor_db(c, error);
    if (!db)
        return NULL;
    json_t *code = json_object_get(req->args, "code");
    TernDbInstanceFault f = {
        .instance_uuid = (char *)uuid,
        .code = json_is_integer(code) ? json_integer_value(code) : 500,
        .message = (char *)message,
        .details = (char *)jstr(req->args, "details"),
        .host = (char *)jstr(req->args, "host"),
    };
    if (tern_db_transaction(db, TRUE, fault_add_once_txn, &f, error) < 0)
        return NULL;
    return json_null();
}

static json_t *
do_instance_build_failed(const TernRpcRequest *req, gpointer user_data, GError **error)
{
    TernConductor *c = user_data;
    const char *uuid, *host;
    if (need_str(req, "instance_uuid", &uuid, error) < 0 || need_str(req, "host", &host, error) < 0)
        return NULL;
    json_t *retry = json_object_get(req->args, "retryable");
    tern_conductor_build_failed(c, req->context, uuid, host, jstr(req->args, "reason"),
                                retry ? json_is_true(retry) : TRUE);
    return json_null();
}

static json_t *
do_instances_on_host(const TernRpcRequest *req, gpointer user_data, GError **error)
{
    TernConductor *c = user_data;
    const char *host;
    if (need_str(req, "host", &host, error) < 0)
        return NULL;
    TernDb *db = tern_conductor_db(c, error);
    if (!db)
        return NULL;
    g_autoptr(GPtrArray) list = NULL;
    if (tern_db_instance_list(db, host, &list, error) < 0)
        return NULL;
    /* the unfinished migrations of this host's instances, for the compute
     * to resolve against libvirt when it restarts under one */
    g_autoptr(GPtrArray) migs = NULL;
    if (tern_db_migration_list_in_progress(db, host, &migs, NULL) < 0)
        migs = NULL;
    json_t *out = json_array();
    for (guint i = 0; i < list->len; i++) {
        TernDbInstance *inst = list->pdata[i];
        json_t *mig = NULL;
        for (guint k = 0; migs && k < migs->len && !mig; k++) {
            TernDbMigration *mg = migs->pdata[k];
            if (g_strcmp0(mg->instance_uuid, inst->uuid) == 0)
                mig = json_pack("{s:s, s:s?, s:s?, s:s?}", "uuid", mg->uuid, "status",
                                mg->status, "source_compute", mg->source_compute,
                                "dest_compute", mg->dest_compute);
        }
        json_array_append_new(out, json_pack("{s:s, s:s?, s:s?, s:s?, s:I, s:b}", "uuid",
                                             inst->uuid, "name", inst->display_name, "vm_state",
                                             inst->vm_state, "task_state", inst->task_state,
                                             "power_state", (json_int_t)inst->power_state,
                                             "launched", inst->launched_at > 0));
        if (mig)
            json_object_set_new(json_array_get(out, json_array_size(out) - 1), "migration", mig);
    }
    return out;
}

/* --- migrations ------------------------------------------------------------- */

static const char *const final_statuses[] = { "completed", "failed", "error", "cancelled", NULL };
static const char *const statuses[] = { "queued", "accepted", "preparing", "running",
                                        "completed", "failed", "error", "cancelled", NULL };

static json_t *
do_migration_update(const TernRpcRequest *req, gpointer user_data, GError **error)
{
    TernConductor *c = user_data;
    const char *uuid;
    if (need_str(req, "migration_uuid", &uuid, error) < 0)
        return NULL;
    json_t *u = json_object_get(req->args, "updates");
    if (!json_is_object(u)) {
        g_set_error(error, TERN_CONDUCTOR_ERROR, TERN_CONDUCTOR_ERROR_INVALID,
                    "migration_update: updates (an object) is missing");
        return NULL;
    }
    const char *status = jstr(u, "status");
    if (status && !g_strv_contains(statuses, status)) {
        g_set_error(error, TERN_CONDUCTOR_ERROR, TERN_CONDUCTOR_ERROR_INVALID,
                    "migration_update: unknown status '%s' (one of queued, preparing, running, "
                    "completed, failed, error, cancelled)", status);
        return NULL;
    }
    TernDb *db = tern_conductor_db(c, error);
    if (!db)
        return NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(TernDbMigration) m = NULL;
    if (tern_db_migration_get(db, uuid, &m, &err) < 0) {
        db_error_to_remote(error, err, "MigrationNotFound", uuid);
        return NULL;
    }
    gboolean was_final = g_strv_contains(final_statuses, m->status ? m->status : "");
    if (!was_final) {
        const char *ints[] = { "progress", "memory_total", "memory_processed", "memory_remaining",
                               "disk_total", "disk_processed", "disk_remaining", NULL };
        gint64 *dst[] = { &m->progress, &m->memory_total, &m->memory_processed,
                          &m->memory_remaining, &m->disk_total, &m->disk_processed,
                          &m->disk_remaining };
        for (guint k = 0; ints[k]; k++) {
            json_t *v = json_object_get(u, ints[k]);
            if (json_is_integer(v) && json_integer_value(v) >= 0)
                *dst[k] = json_integer_value(v);
        }
        if (m->progress > 100)
            m->progress = 100;
        if (status)
            g_free(m->status), m->status = g_strdup(status);
        if (jstr(u, "error"))
            g_free(m->error), m->error = g_strdup(jstr(u, "error"));
        if (g_strcmp0(m->status, "completed") == 0)
            m->progress = 100;
        /* A final status: claims and the instance first, the record last, so
         * whoever sees the migration completed sees the instance moved. */
        if (g_strv_contains(final_statuses, m->status ? m->status : "")
            && tern_conductor_migration_finish(c, db, m, error) < 0)
            return NULL;
        if (tern_db_migration_save(db, m, error) < 0)
            return NULL;
    } else {
        if (status && g_strcmp0(status, m->status) != 0)
            TERN_WARN(LOG, "migration %s is %s already; update to %s ignored", uuid, m->status,
                      status);
        /* Finishing is idempotent: a retry after a lost reply completes it. */
        if (tern_conductor_migration_finish(c, db, m, error) < 0)
            return NULL;
    }
    g_autoptr(TernDbMigration) after = NULL;
    if (tern_db_migration_get(db, uuid, &after, error) < 0)
        return NULL;
    return tern_conductor_migration_json(after);
}

const TernRpcMethod tern_conductor_compute_methods[] = {
    { "tern", "service_report", "1.0", do_service_report },
    { "tern", "compute_node_report", "1.0", do_compute_node_report },
    { "tern", "instance_update", "1.0", do_instance_update },
    { "tern", "instance_fault_create", "1.0", do_instance_fault_create },
    { "tern", "instance_build_failed", "1.0", do_instance_build_failed },
    { "tern", "instances_on_host", "1.0", do_instances_on_host },
    { "tern", "migration_update", "1.0", do_migration_update },
    { NULL }
};
