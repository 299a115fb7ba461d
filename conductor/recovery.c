/* recovery.c: restart safety. A conductor killed in the middle of a flow
 * leaves records that no process drives any more; at start and every
 * [conductor] recovery_interval seconds, this moves them to a consistent
 * state:
 *
 *   - an instance BUILDING with no change for stuck_build_timeout seconds
 *     and no flow in this process working on it: still scheduling (no host,
 *     or a host but no cast known to this process) → its claims are released
 *     and it is scheduled again; handed to a compute that never answered
 *     (the compute died after it took the cast, or its report was lost) →
 *     ERROR with a fault saying so, claims released (a late report from that
 *     compute is then refused and the compute removes its guest);
 *   - a migration queued/preparing/running with no report for
 *     stuck_migration_timeout seconds and no flow in this process → error
 *     with the reason, the destination claim reverted, the instance left on
 *     its source with its task cleared.
 *
 *   - claims still held by a build in ERROR that never launched (a scheduler's claim
 *     made after the conductor gave up waiting for its answer) are released;
 *   - change-feed records older than [conductor] change_feed_retention hours
 *     are deleted (the feed grows by one record per claim).
 *
 * Several conductors may run this at once: each record is taken with one
 * conditional UPDATE (still stale → touched), so only one acts on it. */
#include "conductor.h"

#include "common/log.h"

#define LOG "tern.conductor.recovery"

/* Take a stale record: TRUE if this process got it. */
static gboolean
take_stale(TernDb *db, const char *sql, const char *uuid, gint64 timeout)
{
    g_autofree char *secs = g_strdup_printf("%" G_GINT64_FORMAT, timeout);
    const char *params[] = { uuid, secs };
    g_autoptr(GError) err = NULL;
    g_autoptr(PGresult) r = tern_db_exec(db, sql, 2, params, TERN_DB_EXEC_DEFAULT, &err);
    if (!r) {
        TERN_WARN(LOG, "cannot take %s: %s", uuid, err->message);
        return FALSE;
    }
    return g_strcmp0(PQcmdTuples(r), "1") == 0;
}

static void
recover_builds(TernConductor *c, TernDb *db)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) list = NULL;
    if (tern_db_instance_list(db, NULL, &list, &err) < 0) {
        TERN_WARN(LOG, "cannot list instances: %s", err->message);
        return;
    }
    gint64 now = g_get_real_time();
    for (guint i = 0; i < list->len; i++) {
        TernDbInstance *inst = list->pdata[i];
        if (g_strcmp0(inst->vm_state, "building") != 0
            || now - inst->updated_at < c->build_timeout * G_USEC_PER_SEC
            || tern_conductor_build_is_live(c, inst->uuid))
            continue;
        if (!take_stale(db,
                        "UPDATE instances SET updated_at = now() WHERE uuid = $1::uuid "
                        "AND NOT deleted AND vm_state = 'building' "
                        "AND updated_at < now() - make_interval(secs => $2::int)",
                        inst->uuid, c->build_timeout))
            continue;
        /* handed: this process cast it to inst->host (the record alone
         * cannot tell a cast from a claim made just before a crash) */
        gboolean handed = tern_conductor_build_is_handed(c, inst->uuid);
        if (!inst->host || (g_strcmp0(inst->task_state, "scheduling") == 0 && !handed)) {
            TERN_WARN(LOG, "instance %s has been scheduling for over %" G_GINT64_FORMAT
                      " s with no conductor driving it: scheduling it again", inst->uuid,
                      c->build_timeout);
            tern_db_release(db, inst->uuid, NULL, NULL, NULL);
            tern_db_instance_set_host(db, inst->uuid, NULL, NULL, NULL);
            tern_conductor_build_async(c, NULL, inst->uuid, NULL, NULL);
        } else {
            g_autofree char *msg = g_strdup_printf(
                "Build did not finish: handed to host %s but no report from its compute for "
                "over %" G_GINT64_FORMAT " s (task_state %s)", inst->host, c->build_timeout,
                inst->task_state ? inst->task_state : "none");
            tern_db_release(db, inst->uuid, NULL, NULL, NULL);
            tern_conductor_instance_error(c, db, inst->uuid, inst->host, msg, NULL);
        }
    }
}

static void
recover_migrations(TernConductor *c, TernDb *db)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) list = NULL;
    if (tern_db_migration_list_in_progress(db, NULL, &list, &err) < 0) {
        TERN_WARN(LOG, "cannot list migrations: %s", err->message);
        return;
    }
    gint64 now = g_get_real_time();
    for (guint i = 0; i < list->len; i++) {
        TernDbMigration *m = list->pdata[i];
        if (now - m->updated_at < c->migration_timeout * G_USEC_PER_SEC
            || tern_conductor_migration_is_live(c, m->uuid))
            continue;
        if (!take_stale(db,
                        "UPDATE migrations SET updated_at = now() WHERE uuid = $1::uuid "
                        "AND status NOT IN ('completed', 'failed', 'error', 'cancelled') "
                        "AND updated_at < now() - make_interval(secs => $2::int)",
                        m->uuid, c->migration_timeout))
            continue;
        g_autofree char *why = NULL;
        if (g_strcmp0(m->status, "running") == 0)
            why = g_strdup_printf("no progress report from source %s for over %" G_GINT64_FORMAT
                                  " s (last progress %" G_GINT64_FORMAT "%%)",
                                  m->source_compute ? m->source_compute : "?",
                                  c->migration_timeout, m->progress);
        else
            why = g_strdup_printf("the flow stopped in status %s (conductor restarted or source "
                                  "%s never started it) and nothing was reported for %"
                                  G_GINT64_FORMAT " s", m->status ? m->status : "?",
                                  m->source_compute ? m->source_compute : "?",
                                  c->migration_timeout);
        TERN_WARN(LOG, "migration %s of instance %s: %s; marking it error", m->uuid,
                  m->instance_uuid, why);
        g_free(m->status);
        m->status = g_strdup("error");
        if (tern_conductor_migration_finish(c, db, m, &err) < 0) {
            TERN_ERROR(LOG, "migration %s: cannot restore claims: %s", m->uuid, err->message);
            g_clear_error(&err);
        }
        tern_db_migration_set_status(db, m->uuid, "error", why, NULL);
    }
}

/* Claims of instances in ERROR: a scheduler that claimed after the
 * conductor gave up on its answer (a reply lost in a broker restart). An
 * ERROR instance holds no claim (every path to ERROR releases them); what
 * is left after stuck_build_timeout is released. */
static void
recover_error_claims(TernConductor *c, TernDb *db)
{
    g_autofree char *secs = g_strdup_printf("%" G_GINT64_FORMAT, c->build_timeout);
    const char *params[] = { secs };
    g_autoptr(GError) err = NULL;
    g_autoptr(PGresult) r = tern_db_exec(db,
        "SELECT DISTINCT a.consumer_uuid::text FROM allocations a JOIN instances i "
        "ON i.uuid = a.consumer_uuid WHERE i.vm_state = 'error' AND NOT i.deleted "
        "AND i.launched_at IS NULL "
        "AND i.updated_at < now() - make_interval(secs => $1::int)",
        1, params, TERN_DB_EXEC_DEFAULT, &err);
    if (!r) {
        TERN_WARN(LOG, "cannot list the claims of ERROR instances: %s", err->message);
        return;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        const char *uuid = PQgetvalue(r, i, 0);
        if (tern_conductor_build_is_live(c, uuid))
            continue;
        TERN_WARN(LOG, "instance %s is in ERROR but still holds claims: released", uuid);
        tern_db_release(db, uuid, NULL, NULL, NULL);
    }
}

static void
prune_changes(TernConductor *c, TernDb *db)
{
    if (c->change_retention <= 0)
        return;
    g_autoptr(GError) err = NULL;
    guint deleted = 0;
    gint64 before = g_get_real_time() - c->change_retention * 3600 * G_USEC_PER_SEC;
    if (tern_db_changes_prune(db, before, &deleted, &err) < 0)
        TERN_WARN(LOG, "cannot prune the change feed: %s", err->message);
    else if (deleted > 0)
        TERN_INFO(LOG, "pruned %u change-feed record(s) older than %" G_GINT64_FORMAT " hour(s)",
                  deleted, c->change_retention);
}

void
tern_conductor_recover(TernConductor *c)
{
    g_autoptr(GError) err = NULL;
    TernDb *db = tern_conductor_db(c, &err);
    if (!db) {
        TERN_WARN(LOG, "recovery pass skipped: %s", err->message);
        return;
    }
    tern_db_service_heartbeat(db, "tern-conductor", c->host, "conductor", 0, NULL, NULL);
    recover_builds(c, db);
    recover_error_claims(c, db);
    recover_migrations(c, db);
    prune_changes(c, db);
}

static gpointer
recovery_main(gpointer data)
{
    TernConductor *c = data;
    g_mutex_lock(&c->recovery_lock);
    while (!c->stopping) {
        g_mutex_unlock(&c->recovery_lock);
        tern_conductor_recover(c);
        g_mutex_lock(&c->recovery_lock);
        gint64 until = g_get_monotonic_time() + c->recovery_interval * G_USEC_PER_SEC;
        while (!c->stopping)
            if (!g_cond_wait_until(&c->recovery_cond, &c->recovery_lock, until))
                break;
    }
    g_mutex_unlock(&c->recovery_lock);
    return NULL;
}

int
tern_conductor_recovery_start(TernConductor *c, GError **error)
{
    g_mutex_init(&c->recovery_lock);
    g_cond_init(&c->recovery_cond);
    c->recovery_thread = g_thread_try_new("tern-recovery", recovery_main, c, error);
    return c->recovery_thread ? 0 : -1;
}

void
tern_conductor_recovery_stop(TernConductor *c)
{
    if (!c->recovery_thread)
        return;
    g_mutex_lock(&c->recovery_lock);
    c->stopping = TRUE;
    g_cond_signal(&c->recovery_cond);
    g_mutex_unlock(&c->recovery_lock);
    g_thread_join(c->recovery_thread);
    c->recovery_thread = NULL;
}
