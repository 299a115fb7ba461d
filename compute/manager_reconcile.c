/* manager_reconcile.c: restart safety and power-state sync. At start
 * (once the conductor answers) libvirt's domains are compared with the
 * instances the conductor says are on this host: domains no instance owns
 * are reported (logged, and listed as unknown_domains in the node report),
 * never destroyed; instances whose power state differs from libvirt's are
 * corrected through instance_update. Lifecycle events from libvirt keep
 * power states current afterwards, except while a handler (or a live
 * migration) is acting on the instance: the handler reports the state it
 * reached itself. */
#include "compute/compute_manager.h"

#include <string.h>

#include "common/log.h"
#include "compute/compute_error.h"
#include "compute/guest_lifecycle.h"

/* Events that arrive within this long after a handler finished with an
 * instance are its own echoes: the handler already reported the state. */
#define SETTLE_USEC (3 * G_USEC_PER_SEC)

/* TRUE if a handler of this process has acted on the instance. */
static gboolean
handled_here(TernComputeManager *m, const char *uuid)
{
    g_mutex_lock(&m->lock);
    gboolean seen = g_hash_table_contains(m->settled, uuid);
    g_mutex_unlock(&m->lock);
    return seen;
}

/* A build the restart of this tern-compute interrupted: the instance is
 * this host's and still BUILDING, yet no handler of this process builds it
 * (the cast was taken, and acked, by the process that died). Whatever that
 * process left (domain, disks) is removed and the build is handed back to
 * the conductor (a fault and instance_build_failed, retryable): it
 * releases this host's claim and reschedules. An instance the conductor's
 * recovery already put in ERROR that never launched gets its leftovers
 * removed the same way. Returns TRUE when it acted. */
static gboolean
clean_interrupted_build(TernComputeManager *m, virConnectPtr conn, json_t *inst)
{
    const char *uuid = json_string_value(json_object_get(inst, "uuid"));
    const char *vm = json_string_value(json_object_get(inst, "vm_state"));
    gboolean building = g_strcmp0(vm, "building") == 0;
    if (!uuid || (!building && !(g_strcmp0(vm, "error") == 0 &&
                                 json_is_false(json_object_get(inst, "launched")))))
        return FALSE;
    if (!building) {
        virDomainPtr dom = virDomainLookupByUUIDString(conn, uuid);
        if (!dom)
            return FALSE;
        virDomainFree(dom);
    }
    if (tern_compute_instance_is_busy(m, uuid) || (building && handled_here(m, uuid)))
        return FALSE;   /* a (redelivered) build of this process has it */
    tern_compute_instance_lock(m, uuid);
    if (building && handled_here(m, uuid)) {
        tern_compute_instance_unlock(m, uuid);
        return FALSE;
    }
    g_autoptr(GError) err = NULL;
    if (tern_guest_terminate(conn, uuid, m->instances_path, &err) < 0)
        TERN_WARN(TERN_COMPUTE_LOG, "instance %s: cleanup of an interrupted build: %s", uuid,
                  err->message);
    if (building) {
        g_autofree char *why = g_strdup_printf(
            "the build was interrupted by a restart of tern-compute on %s", m->host);
        TERN_WARN(TERN_COMPUTE_LOG, "instance %s: %s: leftovers removed, handed back to the "
                  "conductor", uuid, why);
        tern_conductor_instance_fault(m, NULL, uuid, 500, why, NULL);
        tern_conductor_build_failed(m, NULL, uuid, why, TRUE);
    } else {
        TERN_WARN(TERN_COMPUTE_LOG, "instance %s is in ERROR and never launched: the domain "
                  "and disks a build left on %s (its report lost or too late) are removed",
                  uuid, m->host);
    }
    tern_compute_instance_unlock(m, uuid);
    return TRUE;
}

/* A live migration from this host whose driver (this tern-compute's
 * migration thread) died with the previous process: resolved against
 * libvirt's truth. The domain is here with a migration job still running
 * (libvirtd went on alone): the job is aborted; the domain is here: the
 * migration failed, the guest stays (status error); the domain is gone from
 * here: libvirt finished moving it (status completed, the conductor moves
 * the instance and its claims to the destination). */
static gboolean
resolve_interrupted_migration(TernComputeManager *m, virConnectPtr conn, json_t *inst)
{
    const char *uuid = json_string_value(json_object_get(inst, "uuid"));
    json_t *mig = json_object_get(inst, "migration");
    const char *mig_uuid = json_string_value(json_object_get(mig, "uuid"));
    if (!uuid || !mig_uuid ||
        g_strcmp0(json_string_value(json_object_get(mig, "source_compute")), m->host) != 0 ||
        tern_compute_instance_is_busy(m, uuid) || handled_here(m, uuid))
        return FALSE;
    const char *status = "error";
    g_autofree char *why = NULL;
    virDomainPtr dom = virDomainLookupByUUIDString(conn, uuid);
    if (dom) {
        virDomainJobInfo job = { 0 };
        if (virDomainGetJobInfo(dom, &job) == 0 && job.type != VIR_DOMAIN_JOB_NONE) {
            TERN_WARN(TERN_COMPUTE_LOG, "instance %s: aborting the migration job libvirt still "
                      "runs for the previous tern-compute", uuid);
            virDomainAbortJob(dom);
        }
        virDomainFree(dom);
        why = g_strdup_printf("the migration was interrupted by a restart of tern-compute on "
                              "%s; the guest stayed on %s", m->host, m->host);
    } else {
        status = "completed";
        why = g_strdup_printf("tern-compute on %s restarted during the migration; libvirt had "
                              "moved the guest away (no domain left here)", m->host);
    }
    TERN_WARN(TERN_COMPUTE_LOG, "migration %s of instance %s: %s: %s", mig_uuid, uuid, status,
              why);
    g_autoptr(GError) err = NULL;
    json_t *u = g_strcmp0(status, "completed") == 0
                ? json_pack("{s:s, s:i}", "status", status, "progress", 100)
                : json_pack("{s:s, s:s}", "status", status, "error", why);
    g_autoptr(json_t) r = tern_conductor_migration_update(m, NULL, mig_uuid, u, &err);
    if (!r)
        TERN_WARN(TERN_COMPUTE_LOG, "migration %s: not reported: %s", mig_uuid, err->message);
    return r != NULL;
}

/* Periodic (with each node report once the start-up reconcile is done):
 * the domain of an instance the conductor has in ERROR and that never
 * launched is a build whose ACTIVE report did not get through (a broker
 * restart, the conductor's recovery first); it is removed. Whichever of
 * the report and the recovery won, the host ends as the database says. */
void
tern_compute_remove_leftovers(TernComputeManager *m)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(json_t) list = tern_conductor_instances_on_host(m, &err);
    if (!json_is_array(list))
        return;
    virConnectPtr conn = tern_compute_conn(m, &err);
    if (!conn)
        return;
    size_t i;
    json_t *inst;
    json_array_foreach(list, i, inst) {
        if (g_strcmp0(json_string_value(json_object_get(inst, "vm_state")), "error") == 0)
            clean_interrupted_build(m, conn, inst);
    }
    virConnectClose(conn);
}

int
tern_compute_reconcile(TernComputeManager *m, GError **error)
{
    g_autoptr(json_t) list = tern_conductor_instances_on_host(m, error);
    if (!list)
        return -1;
    if (!json_is_array(list)) {
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_INVALID,
                    "instances_on_host did not answer a list");
        return -1;
    }
    virConnectPtr conn = tern_compute_conn(m, error);
    if (!conn)
        return -1;
    size_t i;
    json_t *inst;
    guint interrupted = 0;
    json_array_foreach(list, i, inst)
        if (clean_interrupted_build(m, conn, inst)) {
            json_object_set_new(inst, "cleaned", json_true());   /* nothing left to find */
            interrupted++;
        }
    guint migrations = 0;
    json_array_foreach(list, i, inst)
        if (resolve_interrupted_migration(m, conn, inst))
            migrations++;
    g_autoptr(GPtrArray) known = g_ptr_array_new();
    json_array_foreach(list, i, inst) {
        const char *uuid = json_string_value(json_object_get(inst, "uuid"));
        if (uuid && !json_object_get(inst, "cleaned"))
            g_ptr_array_add(known, (gpointer)uuid);
    }
    g_ptr_array_add(known, NULL);
    GPtrArray *unknown = NULL, *missing = NULL;
    if (tern_guest_reconcile(conn, (const char *const *)known->pdata, &unknown, &missing,
                             error) < 0) {
        virConnectClose(conn);
        return -1;
    }
    json_t *unk = json_array();
    for (guint j = 0; j < unknown->len; j++) {
        TernDomainInfo *d = unknown->pdata[j];
        TERN_WARN(TERN_COMPUTE_LOG, "libvirt domain %s (%s) belongs to no instance of host %s: "
                  "left as it is; remove it by hand if it is not wanted", d->name, d->uuid,
                  m->host);
        json_array_append_new(unk, json_pack("{s:s, s:s, s:i}", "uuid", d->uuid, "name",
                                             d->name ? d->name : "", "power_state",
                                             d->power_state));
    }
    g_mutex_lock(&m->facts_lock);
    if (m->unknown_domains)
        json_decref(m->unknown_domains);
    m->unknown_domains = unk;
    g_mutex_unlock(&m->facts_lock);

    guint corrected = 0;
    json_array_foreach(list, i, inst) {
        const char *uuid = json_string_value(json_object_get(inst, "uuid"));
        json_t *task = json_object_get(inst, "task_state");
        const char *vm = json_string_value(json_object_get(inst, "vm_state"));
        if (!uuid || (task && !json_is_null(task)) || tern_compute_instance_is_busy(m, uuid)
            || g_strcmp0(vm, "building") == 0 || json_object_get(inst, "cleaned"))
            continue;   /* a task in progress owns the instance's state (as Nova) */
        int ps = TERN_POWER_NOSTATE;
        g_autoptr(GError) err = NULL;
        if (tern_guest_power_state(conn, uuid, &ps, &err) < 0) {
            if (!g_error_matches(err, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_NOT_FOUND))
                continue;
            TERN_WARN(TERN_COMPUTE_LOG, "instance %s has no libvirt domain on %s", uuid, m->host);
            ps = TERN_POWER_NOSTATE;
        }
        json_int_t recorded = json_integer_value(json_object_get(inst, "power_state"));
        if (recorded == ps)
            continue;
        TERN_INFO(TERN_COMPUTE_LOG, "instance %s: power state %d in the database, %d in libvirt: "
                  "corrected", uuid, (int)recorded, ps);
        g_autoptr(json_t) r = tern_conductor_instance_update(
            m, NULL, uuid, json_pack("{s:i}", "power_state", ps), TRUE, &err);
        if (!r)
            TERN_WARN(TERN_COMPUTE_LOG, "instance %s: power state not corrected: %s", uuid,
                      err->message);
        else
            corrected++;
    }
    TERN_INFO(TERN_COMPUTE_LOG, "reconciled %zu instances with libvirt: %u unknown domains, "
              "%u instances without a domain, %u power states corrected, %u interrupted builds "
              "cleaned up, %u interrupted migrations resolved", json_array_size(list),
              unknown->len, missing->len, corrected, interrupted, migrations);
    g_ptr_array_unref(unknown);
    g_ptr_array_unref(missing);
    virConnectClose(conn);
    /* the unknown domains go out with the next node report at once */
    g_autoptr(GError) err = NULL;
    if (tern_compute_report_node(m, &err) < 0)
        TERN_WARN(TERN_COMPUTE_LOG, "compute_node_report: %s", err->message);
    return 0;
}

void
tern_compute_on_domain_event(const char *uuid, const char *name, int event, int detail,
                             int power_state, gpointer user_data)
{
    TernComputeManager *m = user_data;
    if (power_state < 0 || event == VIR_DOMAIN_EVENT_UNDEFINED || !uuid)
        return;
    TernComputeEvent *ev = g_new0(TernComputeEvent, 1);
    ev->uuid = g_strdup(uuid);
    ev->power_state = power_state;
    ev->event = event;
    g_thread_pool_push(m->events, ev, NULL);
}

void
tern_compute_on_conn_state(gboolean connected, gpointer user_data)
{
    TernComputeManager *m = user_data;
    if (connected)
        TERN_INFO(TERN_COMPUTE_LOG, "libvirt is back: power states are re-read at the next event");
    else
        TERN_WARN(TERN_COMPUTE_LOG, "libvirt connection lost on %s", m->host);
}

static gboolean
settled_recently(TernComputeManager *m, const char *uuid)
{
    g_mutex_lock(&m->lock);
    gint64 *when = g_hash_table_lookup(m->settled, uuid);
    gboolean recent = when && g_get_monotonic_time() - *when < SETTLE_USEC;
    g_mutex_unlock(&m->lock);
    return recent;
}

void
tern_compute_handle_event(TernComputeManager *m, TernComputeEvent *ev)
{
    g_autofree char *uuid = ev->uuid;
    g_free(ev);
    if (g_atomic_int_get(&m->stopping) || tern_compute_instance_is_busy(m, uuid) ||
        settled_recently(m, uuid))
        return;
    /* the state now, not the event's: events can arrive late */
    g_autoptr(GError) err = NULL;
    virConnectPtr conn = tern_compute_conn(m, &err);
    if (!conn)
        return;
    int ps = -1;
    int rc = tern_guest_power_state(conn, uuid, &ps, &err);
    virConnectClose(conn);
    if (rc < 0)
        return;   /* gone (migrated away, undefined): not this host's to report */
    g_autoptr(json_t) r = tern_conductor_instance_update(m, NULL, uuid,
                                                         json_pack("{s:i}", "power_state", ps),
                                                         TRUE, &err);
    if (!r)
        TERN_DEBUG(TERN_COMPUTE_LOG, "power state of %s not reported: %s", uuid, err->message);
    else
        TERN_INFO(TERN_COMPUTE_LOG, "instance %s: power state %d (libvirt event)", uuid, ps);
}
