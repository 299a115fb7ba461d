/* live_migrate_task.c: the live-migration flow. Nova's ComputeTaskAPI
 * live_migrate_instance / migrate_server(live=True) and tern_admin
 * server_live_migrate, with or without a target host.
 *
 *   1. the instance must be ACTIVE (or PAUSED) with no task; a migration
 *      record is created (queued) and the instance's task_state set to
 *      migrating (compare-and-set, so two requests cannot both start);
 *   2. the destination: the scheduler chooses (select_destinations with
 *      ignore_hosts = [source] and the _tern_move hints; it makes the move
 *      claim), or a forced host is checked here from the database — arch,
 *      hypervisor, the instance's recorded guest CPU against the host's CPU
 *      (cpu/), machine type — then move-claimed; a refusal names the reason
 *      (MigrationPreCheckError) before anything moves;
 *   3. preparing: the destination's check_can_live_migrate_destination (long
 *      call; the destination asks the source's check_can_live_migrate_source
 *      itself, as in Nova) returns the migrate data;
 *   4. the source is cast live_migration; from then on the computes report
 *      with tern.migration_update (running, progress, completed | failed |
 *      error) and tern_conductor_migration_finish() moves or restores the
 *      claims and the instance's host. */
#include "conductor.h"

#include <string.h>

#include "common/log.h"
#include "cpu/cpu.h"

#define LOG "tern.conductor.migrate"

static const char *
jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

gboolean
tern_conductor_migration_is_live(TernConductor *c, const char *migration_uuid)
{
    g_mutex_lock(&c->lock);
    gboolean live = g_hash_table_contains(c->live_migrations, migration_uuid);
    g_mutex_unlock(&c->lock);
    return live;
}

static void
live_set(TernConductor *c, const char *uuid, gboolean on)
{
    g_mutex_lock(&c->lock);
    if (on)
        g_hash_table_add(c->live_migrations, g_strdup(uuid));
    else
        g_hash_table_remove(c->live_migrations, uuid);
    g_mutex_unlock(&c->lock);
}

static void
precheck_error(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void
precheck_error(GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *reason = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    tern_rpc_error_set_remote(error, "nova.exception", "MigrationPreCheckError",
                              json_pack("{s:s}", "reason", reason),
                              "Migration pre-check error: %s", reason);
}

/* --- the forced-host checks -------------------------------------------------- */

/* The instance's guest CPU from its record (NULL and no error when there is
 * none, or when it cannot be read: the destination's own check decides). */
static TernCpu *
guest_cpu_from_json(const TernCpuDb *cpudb, const TernDbInstance *inst, const char *text,
                    TernCpuArch arch)
{
    if (!text)
        return NULL;
    g_autoptr(json_t) g = tern_conductor_json_parse(text);
    TernCpuArch garch = tern_cpu_arch_from_name(jstr(g, "arch"));
    if (garch == TERN_CPU_ARCH_NONE)
        garch = arch;
    g_autoptr(GError) err = NULL;
    const char *model = jstr(g, "model");
    if (model) {
        g_autoptr(GPtrArray) flags = g_ptr_array_new();
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(g, "features"), i, v)
            if (json_is_string(v))
                g_ptr_array_add(flags, (gpointer)json_string_value(v));
        g_ptr_array_add(flags, NULL);
        TernCpu *cpu = tern_cpu_from_model(cpudb, garch, TERN_CPU_MODE_CUSTOM, model,
                                           (const char *const *)flags->pdata, &err);
        if (cpu)
            return cpu;
        TERN_WARN(LOG, "instance %s: recorded guest CPU %s not usable here (%s)", inst->uuid,
                  model, err->message);
        g_clear_error(&err);
    }
    const char *xml = jstr(g, "xml");
    if (xml) {
        TernCpu *cpu = tern_cpu_from_xml(cpudb, xml, garch, &err);
        if (cpu && cpu->model)
            return cpu;
        if (cpu)
            tern_cpu_free(cpu);
        else
            TERN_WARN(LOG, "instance %s: recorded guest CPU XML not readable (%s)", inst->uuid,
                      err->message);
    }
    return NULL;
}

/* The machine type the instance booted with (image_properties'
 * "machine_type", recorded from the compute's instance_update), else the
 * one its image asks for; NULL when neither is known. */
static char *
instance_machine_type(const TernDbInstance *inst)
{
    g_autoptr(json_t) props = tern_conductor_json_parse(inst->image_properties);
    const char *mt = jstr(props, "machine_type");
    return g_strdup(mt ? mt : jstr(props, "hw_machine_type"));
}

/* A guest emulated (TCG) on another arch's host: Nova's
 * hw_emulation_architecture among its recorded image properties. */
static gboolean
instance_emulated(const TernDbInstance *inst)
{
    if (!inst->image_properties)
        return FALSE;
    g_autoptr(json_t) props = json_loads(inst->image_properties, 0, NULL);
    return jstr(props, "hw_emulation_architecture") != NULL;
}

static gboolean
machine_type_offered(const TernDbComputeNode *dest, const char *mt)
{
    if (!dest->machine_types || !dest->machine_types[0])
        return TRUE;   /* the host did not report its machine types */
    for (guint i = 0; dest->machine_types[i]; i++) {
        const char *d = dest->machine_types[i];
        if (g_strcmp0(d, mt) == 0)
            return TRUE;
        /* an alias (pc, q35, pseries) matches its versioned types */
        if (!strpbrk(mt, "0123456789") && g_str_has_prefix(d, mt))
            return TRUE;
    }
    return FALSE;
}

int
tern_conductor_check_host_for_instance(TernConductor *c, TernDb *db, const TernDbInstance *inst,
                                       const TernDbComputeNode *dest, GError **error)
{
    if (g_strcmp0(dest->host, inst->host) == 0) {
        precheck_error(error, "the instance is on host %s already", dest->host);
        return -1;
    }
    if (dest->disabled) {
        precheck_error(error, "host %s is disabled%s%s", dest->host,
                       dest->disabled_reason ? ": " : "",
                       dest->disabled_reason ? dest->disabled_reason : "");
        return -1;
    }
    g_autoptr(TernDbService) svc = NULL;
    if (tern_db_service_get(db, "tern-compute", dest->host, &svc, NULL) < 0
        || !tern_db_service_is_up(svc, g_get_real_time(), (int)c->service_down_time)) {
        precheck_error(error, "the compute service of host %s is down (no report within %"
                       G_GINT64_FORMAT " s)", dest->host, c->service_down_time);
        return -1;
    }
    g_autoptr(TernDbComputeNode) src = NULL;
    if (inst->host)
        tern_db_compute_node_get(db, inst->host, &src, NULL);
    if (src && g_strcmp0(src->arch, dest->arch) != 0) {
        precheck_error(error, "host %s is %s, the source host %s is %s: live migration needs "
                       "hosts of the same arch", dest->host, dest->arch ? dest->arch : "?",
                       src->host, src->arch ? src->arch : "?");
        return -1;
    }
    if (src && g_ascii_strcasecmp(src->hypervisor_type ? src->hypervisor_type : "",
                                  dest->hypervisor_type ? dest->hypervisor_type : "") != 0) {
        precheck_error(error, "host %s runs hypervisor %s, the source runs %s", dest->host,
                       dest->hypervisor_type ? dest->hypervisor_type : "?",
                       src->hypervisor_type ? src->hypervisor_type : "?");
        return -1;
    }
    if (inst->arch) {
        gboolean ok = FALSE;
        for (guint i = 0; i < dest->supported_instances->len; i++) {
            TernDbGuestType *t = dest->supported_instances->pdata[i];
            if (g_strcmp0(t->arch, inst->arch) == 0)
                ok = TRUE;
        }
        if (!ok) {
            precheck_error(error, "host %s cannot run %s guests", dest->host, inst->arch);
            return -1;
        }
    }
    g_autofree char *mt = instance_machine_type(inst);
    if (mt && !machine_type_offered(dest, mt)) {
        g_autofree char *offered = g_strjoinv(", ", dest->machine_types);
        precheck_error(error, "host %s does not offer machine type %s (it has %s)", dest->host,
                       mt, offered);
        return -1;
    }
    /* CPU: the destination's CPU must run the guest CPU the instance booted
     * with (or, with no record, the source host's CPU, as Nova does). An
     * emulated guest's CPU is QEMU's emulation, not the host's: arch and
     * machine type above, then the destination's own check decides. */
    if (instance_emulated(inst))
        return 0;
    g_autoptr(GError) err = NULL;
    const TernCpuDb *cpudb = tern_cpu_db_get(&err);
    TernCpuArch arch = tern_cpu_arch_from_name(dest->arch);
    if (!cpudb || arch == TERN_CPU_ARCH_NONE) {
        TERN_WARN(LOG, "no CPU check for host %s: %s", dest->host,
                  err ? err->message : "unknown arch");
        return 0;
    }
    g_autoptr(TernCpu) host_cpu = tern_cpu_from_info_json(cpudb, dest->cpu_info, &err);
    if (!host_cpu) {
        precheck_error(error, "host %s reported no readable CPU (%s)", dest->host, err->message);
        return -1;
    }
    /* The guest CPU: as recorded at boot; a host-model guest recorded without
     * its expansion has the CPU its source host offers to guests; failing
     * both, the source host's CPU (Nova's rule). */
    g_autoptr(TernCpu) guest = guest_cpu_from_json(cpudb, inst, inst->guest_cpu, arch);
    if (!guest && src)
        guest = guest_cpu_from_json(cpudb, inst, src->guest_cpu, arch);
    if (!guest && src && src->cpu_info) {
        g_autoptr(TernCpu) scpu = tern_cpu_from_info_json(cpudb, src->cpu_info, NULL);
        if (scpu && scpu->model) {
            scpu->mode = TERN_CPU_MODE_CUSTOM;
            guest = g_steal_pointer(&scpu);
        }
    }
    if (!guest)
        return 0;
    TernCpuComparison cmp = { 0 };
    if (tern_cpu_compare(cpudb, host_cpu, guest, &cmp, &err) < 0) {
        precheck_error(error, "cannot compare the instance's CPU with host %s: %s", dest->host,
                       err->message);
        return -1;
    }
    if (cmp.result == TERN_CPU_INCOMPATIBLE) {
        g_autofree char *missing = tern_cpu_feature_list(cpudb, arch, &cmp.missing);
        if (missing && *missing)
            precheck_error(error, "the CPU of host %s (%s) lacks features the instance's guest "
                           "CPU (%s) needs: %s", dest->host, host_cpu->model ? host_cpu->model : "?",
                           guest->model ? guest->model : "?", missing);
        else
            precheck_error(error, "the CPU of host %s (%s) cannot run the instance's guest CPU "
                           "(%s): %s", dest->host, host_cpu->model ? host_cpu->model : "?",
                           guest->model ? guest->model : "?",
                           cmp.reason ? cmp.reason : "incompatible");
        tern_cpu_comparison_clear(&cmp);
        return -1;
    }
    tern_cpu_comparison_clear(&cmp);
    return 0;
}

/* --- finishing ----------------------------------------------------------------- */

int
tern_conductor_migration_finish(TernConductor *c, TernDb *db, TernDbMigration *m, GError **error)
{
    live_set(c, m->uuid, FALSE);
    if (g_strcmp0(m->status, "completed") == 0) {
        if (tern_db_move_confirm(db, m->uuid, m->instance_uuid, m->source_compute, error) < 0)
            return -1;
        /* its server group membership follows it (docs/fleet.md §5) */
        tern_db_group_member_move(db, m->instance_uuid, m->dest_compute, NULL);
        g_autoptr(TernDbInstance) inst = NULL;
        if (tern_db_instance_get(db, m->instance_uuid, FALSE, &inst, error) < 0)
            return -1;
        if (g_strcmp0(inst->host, m->dest_compute) != 0
            && tern_db_instance_set_host(db, m->instance_uuid, m->dest_compute,
                                         m->dest_node ? m->dest_node : m->dest_compute,
                                         error) < 0)
            return -1;
        tern_db_instance_update_states(db, m->instance_uuid, NULL, NULL, -1, TRUE, "migrating",
                                       NULL);
        TERN_INFO(LOG, "migration %s completed: instance %s now on %s", m->uuid,
                  m->instance_uuid, m->dest_compute);
        return 0;
    }
    if (tern_db_move_revert(db, m->uuid, error) < 0)
        return -1;
    tern_db_instance_update_states(db, m->instance_uuid, NULL, NULL, -1, TRUE, "migrating", NULL);
    TERN_INFO(LOG, "migration %s %s%s%s: instance %s stays on %s, destination claim released",
              m->uuid, m->status, m->error ? ": " : "", m->error ? m->error : "",
              m->instance_uuid, m->source_compute);
    return 0;
}

/* The flow failed before the source was told to migrate: record why and
 * put everything back. */
static void
abort_before_move(TernConductor *c, TernDb *db, TernDbMigration *m, const char *status,
                  const char *reason)
{
    g_free(m->status);
    m->status = g_strdup(status);
    g_free(m->error);
    m->error = g_strdup(reason);
    /* claims and instance first, the record last (see migration_update) */
    g_autoptr(GError) err = NULL;
    if (tern_conductor_migration_finish(c, db, m, &err) < 0)
        TERN_ERROR(LOG, "migration %s: cannot restore claims: %s", m->uuid, err->message);
    tern_db_migration_set_status(db, m->uuid, status, reason, NULL);
}

/* --- the flow ------------------------------------------------------------------ */

static int
schedule_destination(TernConductor *c, json_t *context, const TernDbInstance *inst,
                     TernDbMigration *m, json_t *request_spec, char **host, char **node,
                     GError **error)
{
    const char *ignore[] = { inst->host, NULL };
    json_t *hints = json_pack("{s:[s], s:[s]}", "_tern_move", "live", "_tern_migration_uuid",
                              m->uuid);
    json_t *spec;
    json_t *d = json_object_get(request_spec, "nova_object.data");
    if (json_is_object(d)) {
        spec = json_deep_copy(request_spec);
        d = json_object_get(spec, "nova_object.data");
        json_object_set_new(d, "ignore_hosts", json_pack("[s]", inst->host));
        json_t *h = json_object_get(d, "scheduler_hints");
        if (!json_is_object(h))
            json_object_set_new(d, "scheduler_hints", hints);
        else {
            json_object_update(h, hints);
            json_decref(hints);
        }
        json_object_set_new(d, "instance_uuid", json_string(inst->uuid));
        json_object_set_new(d, "force_hosts", json_null());
        json_object_del(d, "requested_destination");
        json_t *changes = json_object_get(spec, "nova_object.changes");
        if (json_is_array(changes)) {
            json_array_append_new(changes, json_string("ignore_hosts"));
            json_array_append_new(changes, json_string("scheduler_hints"));
        }
    } else {
        spec = tern_conductor_request_spec(inst, ignore, NULL, hints);
    }
    json_t *args = json_pack("{s:o, s:[s], s:b, s:b}", "spec_obj", spec, "instance_uuids",
                             inst->uuid, "return_objects", 1, "return_alternates", 0);
    TernRpcTarget target = { .topic = "scheduler", .version = "4.5" };
    g_autoptr(json_t) res = tern_rpc_call_full(c->client, &target, context, "select_destinations",
                                               args, (double)c->long_rpc_timeout,
                                               (double)c->rpc_timeout, error);
    json_decref(args);
    if (!res)
        return -1;
    json_t *sel = json_array_get(json_array_get(res, 0), 0);
    json_t *sd = json_object_get(sel, "nova_object.data");
    if (!jstr(sd, "service_host")) {
        tern_conductor_remote_error(error, "NoValidHost", NULL,
                                    "the scheduler returned no host for instance %s", inst->uuid);
        return -1;
    }
    *host = g_strdup(jstr(sd, "service_host"));
    *node = g_strdup(jstr(sd, "nodename") ? jstr(sd, "nodename") : *host);
    return 0;
}

TernDbMigration *
tern_conductor_live_migrate(TernConductor *c, json_t *context, const char *instance_uuid,
                            const char *target_host, json_t *block_migration,
                            json_t *request_spec, GError **error)
{
    TernDb *db = tern_conductor_db(c, error);
    if (!db)
        return NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(TernDbInstance) inst = NULL;
    if (tern_db_instance_get(db, instance_uuid, FALSE, &inst, &err) < 0) {
        tern_rpc_error_set_remote(error, "nova.exception", "InstanceNotFound",
                                  json_pack("{s:s}", "instance_id", instance_uuid),
                                  "Instance %s could not be found.", instance_uuid);
        return NULL;
    }
    if ((g_strcmp0(inst->vm_state, "active") != 0 && g_strcmp0(inst->vm_state, "paused") != 0)
        || inst->task_state || !inst->host) {
        tern_rpc_error_set_remote(error, "nova.exception", "InstanceInvalidState",
                                  json_pack("{s:s, s:s, s:s, s:s}", "attr", "vm_state", "state",
                                            inst->vm_state, "method", "live_migrate",
                                            "instance_uuid", instance_uuid),
                                  "Instance %s in vm_state %s, task_state %s%s cannot be "
                                  "live-migrated (it must be active or paused, with no task)",
                                  instance_uuid, inst->vm_state,
                                  inst->task_state ? inst->task_state : "none",
                                  inst->host ? "" : ", without a host");
        return NULL;
    }
    g_autoptr(TernDbMigration) m = tern_db_migration_new();
    m->instance_uuid = g_strdup(instance_uuid);
    m->source_compute = g_strdup(inst->host);
    m->source_node = g_strdup(inst->node ? inst->node : inst->host);
    g_free(m->status);   /* tern_db_migration_new's "accepted" */
    m->status = g_strdup("queued");
    if (tern_db_migration_create(db, m, error) < 0)
        return NULL;
    live_set(c, m->uuid, TRUE);
    /* The instance is now busy: a second request fails here. */
    if (tern_db_instance_update_states(db, instance_uuid, NULL, "migrating", -1, TRUE, NULL,
                                       &err) < 0) {
        g_autofree char *why = g_strdup_printf("instance %s is busy (another task started): %s",
                                               instance_uuid, err->message);
        tern_db_migration_set_status(db, m->uuid, "error", why, NULL);
        live_set(c, m->uuid, FALSE);
        tern_rpc_error_set_remote(error, "nova.exception", "InstanceInvalidState",
                                  json_pack("{s:s}", "instance_uuid", instance_uuid), "%s", why);
        return NULL;
    }
    g_autofree char *dest = NULL, *dest_node = NULL;
    if (target_host) {
        g_autoptr(TernDbComputeNode) node = NULL;
        if (tern_db_compute_node_get(db, target_host, &node, &err) < 0) {
            g_autofree char *why = g_strdup_printf("host %s is not a known compute host",
                                                   target_host);
            abort_before_move(c, db, m, "error", why);
            tern_rpc_error_set_remote(error, "nova.exception", "ComputeHostNotFound",
                                      json_pack("{s:s}", "host", target_host),
                                      "Compute host %s could not be found.", target_host);
            return NULL;
        }
        if (tern_conductor_check_host_for_instance(c, db, inst, node, error) < 0) {
            abort_before_move(c, db, m, "error", (*error)->message);
            return NULL;
        }
        dest = g_strdup(target_host);
        dest_node = g_strdup(node->hypervisor_hostname ? node->hypervisor_hostname : target_host);
    } else if (schedule_destination(c, context, inst, m, request_spec, &dest, &dest_node,
                                    &err) < 0) {
        abort_before_move(c, db, m, "error", err->message);
        if (tern_rpc_error_get_class(err))
            g_propagate_error(error, g_steal_pointer(&err));
        else
            tern_conductor_remote_error(error, "NoValidHost", NULL, "No valid host was found. %s",
                                        err->message);
        return NULL;
    }
    /* Feature gates on the source and the destination (fleet_gates.c). */
    if (tern_conductor_gates_check_migration(c, db, inst, dest, error) < 0) {
        abort_before_move(c, db, m, "error", (*error)->message);
        return NULL;
    }
    /* The destination hold (the scheduler made it already when it chose;
     * claiming again is a no-op then), under the guest's endianness and
     * server group rules (fleet_claims.c). */
    if (tern_conductor_move_claim(c, db, inst, m->uuid, dest, &err) < 0) {
        g_autofree char *why = g_strdup_printf("host %s cannot take the instance: %s", dest,
                                               err->message);
        abort_before_move(c, db, m, "error", why);
        precheck_error(error, "%s", why);
        return NULL;
    }
    g_free(m->dest_compute);
    m->dest_compute = g_strdup(dest);
    g_free(m->dest_node);
    m->dest_node = g_strdup(dest_node);
    g_free(m->status);
    m->status = g_strdup("preparing");
    if (tern_db_migration_save(db, m, error) < 0) {
        abort_before_move(c, db, m, "error", (*error)->message);
        return NULL;
    }
    TERN_INFO(LOG, "migration %s: instance %s from %s to %s%s: checking the destination",
              m->uuid, instance_uuid, inst->host, dest, target_host ? " (forced)" : "");

    /* The destination's check (it asks the source itself). */
    g_clear_pointer(&inst, tern_db_instance_free);
    if (tern_db_instance_get(db, instance_uuid, FALSE, &inst, error) < 0) {
        abort_before_move(c, db, m, "error", (*error)->message);
        return NULL;
    }
    json_t *bm = block_migration ? block_migration : json_null();
    json_t *args = json_pack("{s:o, s:O, s:n, s:o, s:n}", "instance",
                             tern_conductor_instance_primitive(inst), "block_migration", bm,
                             "disk_over_commit", "migration",
                             tern_conductor_migration_primitive(m), "limits");
    TernRpcTarget dtarget = { .topic = "compute", .server = dest, .version = "6.0" };
    g_autoptr(json_t) migrate_data = tern_rpc_call_full(c->client, &dtarget, context,
                                                        "check_can_live_migrate_destination", args,
                                                        (double)c->long_rpc_timeout,
                                                        (double)c->rpc_timeout, &err);
    json_decref(args);
    if (!migrate_data) {
        g_autofree char *why = g_strdup_printf("host %s refused the instance: %s", dest,
                                               err->message);
        abort_before_move(c, db, m, "error", why);
        precheck_error(error, "%s", why);
        return NULL;
    }
    /* Go: the source migrates and reports. */
    args = json_pack("{s:o, s:s, s:O, s:O, s:o}", "instance",
                     tern_conductor_instance_primitive(inst), "dest", dest, "block_migration", bm,
                     "migrate_data", migrate_data, "migration",
                     tern_conductor_migration_primitive(m));
    g_autofree char *src = g_strdup(inst->host);
    TernRpcTarget starget = { .topic = "compute", .server = src, .version = "6.0" };
    int rc = tern_rpc_cast(c->client, &starget, context, "live_migration", args, &err);
    json_decref(args);
    if (rc < 0) {
        g_autofree char *why = g_strdup_printf("cannot reach the source host %s: %s", src,
                                               err->message);
        abort_before_move(c, db, m, "error", why);
        precheck_error(error, "%s", why);
        return NULL;
    }
    live_set(c, m->uuid, FALSE);
    TERN_INFO(LOG, "migration %s: source %s told to migrate instance %s to %s", m->uuid, src,
              instance_uuid, dest);
    TernDbMigration *out = NULL;
    if (tern_db_migration_get(db, m->uuid, &out, error) < 0)
        return NULL;
    return out;
}

/* --- ComputeTaskAPI handlers ------------------------------------------------------ */

static json_t *
run_from_compute_task(const TernRpcRequest *req, TernConductor *c, GError **error)
{
    json_t *instance = json_object_get(req->args, "instance");
    /* An Instance of a version tern reads, not any object with a uuid */
    g_autoptr(TernObject) obj = tern_object_from_primitive(instance, "Instance", error);
    if (!obj) {
        g_prefix_error(error, "%s: argument 'instance': ", req->method);
        return NULL;
    }
    const char *uuid = jstr(json_object_get(instance, "nova_object.data"), "uuid");
    if (!uuid) {
        g_set_error(error, TERN_CONDUCTOR_ERROR, TERN_CONDUCTOR_ERROR_INVALID,
                    "%s: instance (a nova Instance object with its uuid) is missing", req->method);
        return NULL;
    }
    const char *host = jstr(json_object_get(req->args, "scheduler_hint"), "host");
    g_autoptr(GError) err = NULL;
    g_autoptr(TernDbMigration) m = tern_conductor_live_migrate(
        c, req->context, uuid, host, json_object_get(req->args, "block_migration"),
        json_object_get(req->args, "request_spec"), &err);
    if (!m) {
        TERN_WARN(LOG, "live migration of %s%s%s refused: %s", uuid, host ? " to " : "",
                  host ? host : "", err->message);
        g_propagate_error(error, g_steal_pointer(&err));
        return NULL;
    }
    return json_null();
}

static json_t *
do_live_migrate_instance(const TernRpcRequest *req, gpointer user_data, GError **error)
{
    return run_from_compute_task(req, user_data, error);
}

static json_t *
do_migrate_server(const TernRpcRequest *req, gpointer user_data, GError **error)
{
    if (!json_is_true(json_object_get(req->args, "live"))) {
        tern_rpc_error_set_remote(error, "nova.exception", "MigrationError",
                                  json_pack("{s:s}", "reason", "tern does cold migration and "
                                            "resize not yet; only live=True"),
                                  "Migration error: tern does cold migration and resize not "
                                  "yet; only live=True");
        return NULL;
    }
    return run_from_compute_task(req, user_data, error);
}

/* --- tern_admin: abort / force-complete a running live migration ----------------- */

/* Cast Nova's live_migration_abort(instance, migration_id) or
 * live_migration_force_complete(instance) to the migration's source (as
 * Nova's API does). The compute ends the migration; its report
 * (migration_update: cancelled, or completed) finishes it here. */
static json_t *
migration_action(const TernRpcRequest *req, TernConductor *c, gboolean abort_it,
                 GError **error)
{
    const char *what = abort_it ? "abort" : "force-complete";
    const char *uuid = jstr(req->args, "uuid");
    if (!uuid || !g_uuid_string_is_valid(uuid)) {
        g_set_error(error, TERN_CONDUCTOR_ERROR, TERN_CONDUCTOR_ERROR_INVALID,
                    "%s: 'uuid' (the migration's uuid) is missing or not a uuid", req->method);
        return NULL;
    }
    g_autoptr(TernDbMigration) m = NULL;
    if (tern_conductor_migration_lookup(c, uuid, &m, error) < 0)
        return NULL;
    TernDb *db = tern_conductor_db(c, error);
    if (!db)
        return NULL;
    /* Nova: abort while queued/preparing/running, force-complete while running */
    gboolean ok = g_strcmp0(m->status, "running") == 0 ||
                  (abort_it && g_strcmp0(m->status, "preparing") == 0);
    if (!ok) {
        tern_rpc_error_set_remote(error, "nova.exception", "InvalidMigrationState",
                                  json_pack("{s:s, s:s, s:s, s:s}", "migration_id", uuid,
                                            "instance_uuid", m->instance_uuid, "state",
                                            m->status, "method", what),
                                  "Migration %s state of instance %s is %s. Cannot %s while "
                                  "the migration is in this state.", uuid, m->instance_uuid,
                                  m->status, what);
        return NULL;
    }
    g_autoptr(TernDbInstance) inst = NULL;
    if (tern_db_instance_get(db, m->instance_uuid, FALSE, &inst, error) < 0)
        return NULL;
    json_t *args = json_pack("{s:o}", "instance", tern_conductor_instance_primitive(inst));
    if (abort_it)
        json_object_set_new(args, "migration_id", json_integer(m->id));
    TernRpcTarget target = { .topic = "compute", .server = m->source_compute,
                             .version = "6.0" };
    int rc = tern_rpc_cast(c->client, &target, req->context,
                           abort_it ? "live_migration_abort" : "live_migration_force_complete",
                           args, error);
    json_decref(args);
    if (rc < 0)
        return NULL;
    TERN_INFO(LOG, "migration %s of %s: %s asked of %s", uuid, m->instance_uuid, what,
              m->source_compute);
    return tern_conductor_migration_json(m);
}

static json_t *
do_migration_abort(const TernRpcRequest *req, gpointer user_data, GError **error)
{
    return migration_action(req, user_data, TRUE, error);
}

static json_t *
do_migration_force_complete(const TernRpcRequest *req, gpointer user_data, GError **error)
{
    return migration_action(req, user_data, FALSE, error);
}

const TernRpcMethod tern_conductor_migrate_methods[] = {
    { "compute_task", "live_migrate_instance", "1.24", do_live_migrate_instance },
    { "compute_task", "migrate_server", "1.24", do_migrate_server },
    { "tern_admin", "migration_abort", "1.0", do_migration_abort },
    { "tern_admin", "migration_force_complete", "1.0", do_migration_force_complete },
    { NULL }
};
