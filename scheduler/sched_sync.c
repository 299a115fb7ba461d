/* sched_sync.c: host cache <- PostgreSQL (full load, change feed,
 * heartbeat poll). */
#include "scheduler/sched_sync.h"

#include <string.h>


#include "common/log.h"
#include "db/db.h"

struct _TernSchedSync {
    TernSchedCache *cache;
    const TernCpuDb *cpudb;
    TernDb *db;
    TernDbListener *listener;
    gint64 heartbeat_since;     /* µs: newest heartbeat seen, minus a margin */
    guint watch;                /* tern_db_listener_add_watch, in ctx */
    GMainContext *ctx;
    GSource *timer;
};

#define HEARTBEAT_MARGIN (2 * G_USEC_PER_SEC)

static void
apply_service(TernSchedHost *h, gpointer data)
{
    tern_sched_host_set_service(h, data);
}

static int
load_all(TernSchedSync *s, GError **error)
{
    g_autoptr(GPtrArray) nodes = NULL;
    g_autoptr(GPtrArray) svcs = NULL;
    if (tern_db_compute_node_list(s->db, &nodes, error) < 0 ||
        tern_db_service_list(s->db, TERN_SCHED_COMPUTE_BINARY, &svcs, error) < 0)
        return -1;
    g_autoptr(GHashTable) by_host = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < svcs->len; i++) {
        TernDbService *svc = svcs->pdata[i];
        g_hash_table_insert(by_host, svc->host, svc);
        s->heartbeat_since = MAX(s->heartbeat_since, svc->last_seen_up - HEARTBEAT_MARGIN);
    }
    g_autoptr(GPtrArray) hosts = g_ptr_array_new_with_free_func((GDestroyNotify) tern_sched_host_free);
    for (guint i = 0; i < nodes->len; i++) {
        TernDbComputeNode *n = nodes->pdata[i];
        TernSchedHost *h = tern_sched_host_new();
        tern_sched_host_set_node(h, s->cpudb, n);
        tern_sched_host_set_service(h, g_hash_table_lookup(by_host, n->host));
        g_ptr_array_add(hosts, h);
    }
    tern_sched_cache_replace_all(s->cache, hosts);
    TERN_INFO("tern.scheduler", "host cache loaded: %u hosts, %u compute services", nodes->len,
              svcs->len);
    return 0;
}

int
tern_sched_sync_reload(TernSchedSync *s, GError **error)
{
    return load_all(s, error);
}

TernSchedSync *
tern_sched_sync_new(TernSchedCache *cache, const TernCpuDb *cpudb, const char *url,
                    int max_retries, int retry_interval, GError **error)
{
    g_autoptr(TernSchedSync) s = g_new0(TernSchedSync, 1);
    s->cache = cache;
    s->cpudb = cpudb;
    if (!(s->db = tern_db_open(url, max_retries, retry_interval, error)))
        return NULL;
    /* Listen from the newest change before loading, so nothing between the
     * load and the first read is missed (a change seen twice is harmless). */
    gint64 latest = 0;
    if (tern_db_changes_latest(s->db, &latest, error) < 0)
        return NULL;
    if (!(s->listener = tern_db_listener_open(url, max_retries, retry_interval, latest, error)))
        return NULL;
    if (load_all(s, error) < 0)
        return NULL;
    return g_steal_pointer(&s);
}

void
tern_sched_sync_free(TernSchedSync *s)
{
    if (!s)
        return;
    GSource *w = s->watch ? g_main_context_find_source_by_id(s->ctx, s->watch) : NULL;
    if (w)
        g_source_destroy(w);
    if (s->timer) {
        g_source_destroy(s->timer);
        g_source_unref(s->timer);
    }
    tern_db_listener_close(s->listener);
    tern_db_close(s->db);
    g_free(s);
}

/* A claim's or release's result for one cached host. */
typedef struct {
    gint64 generation, vcpus_used, memory_mb_used, local_gb_used;
    /* Read back from the row: applied only if the rest of the row is as
     * cached (same fingerprint). NULL: from a notification, which says it
     * is a claim or release; applied unless our copy is already as new (a
     * row read since, or this change seen twice): notifications of one row
     * arrive in commit order and its generation only grows. */
    const char *fingerprint;
    gboolean applied;
} Usage;

static void
apply_usage(TernSchedHost *h, gpointer data)
{
    Usage *us = data;
    if (us->fingerprint) {
        if (!h->inventory_fp[0] || strcmp(h->inventory_fp, us->fingerprint) != 0)
            return;
    } else if (h->generation >= us->generation) {
        us->applied = TRUE;
        return;
    }
    h->vcpus_used = tern_sched_clamp32(us->vcpus_used);
    h->memory_used = tern_sched_clamp32(us->memory_mb_used);
    h->disk_used = tern_sched_clamp32(us->local_gb_used);
    h->generation = us->generation;
    us->applied = TRUE;
}

/* A compute_nodes change: most are claims and releases (usage only), read
 * from the usage columns and a fingerprint of the rest; a new report (or a
 * host not cached yet) reads the whole row and the host's service. */
static int
refresh_node(TernSchedSync *s, const char *host, GError **error)
{
    g_autoptr(TernDbComputeNode) node = NULL;
    g_autoptr(GError) err = NULL;
    TernDbComputeNodeUsage u;
    if (tern_db_compute_node_usage(s->db, host, &u, &err) < 0) {
        if (g_error_matches(err, TERN_DB_ERROR, TERN_DB_ERROR_NOT_FOUND)) {
            tern_sched_cache_remove(s->cache, host);
            return 0;
        }
        g_propagate_error(error, g_steal_pointer(&err));
        return -1;
    }
    Usage us = { u.generation, u.vcpus_used, u.memory_mb_used, u.local_gb_used, u.fingerprint,
                 FALSE };
    if (tern_sched_cache_update(s->cache, host, apply_usage, &us) && us.applied)
        return 0;
    if (tern_db_compute_node_get(s->db, host, &node, &err) < 0) {
        if (g_error_matches(err, TERN_DB_ERROR, TERN_DB_ERROR_NOT_FOUND)) {
            tern_sched_cache_remove(s->cache, host);
            return 0;
        }
        g_propagate_error(error, g_steal_pointer(&err));
        return -1;
    }
    TernSchedHost *h = tern_sched_host_new();
    tern_sched_host_set_node(h, s->cpudb, node);
    /* The fingerprint read before the row: if the row changed in between,
     * the next change finds another fingerprint and reads it whole again. */
    g_strlcpy(h->inventory_fp, u.fingerprint, sizeof(h->inventory_fp));
    /* The service row may predate the node row (a compute's first heartbeat
     * can be written before its first inventory report): its change was
     * dropped while the host was not cached, so read it with the node. */
    g_autoptr(TernDbService) svc = NULL;
    if (tern_db_service_get(s->db, TERN_SCHED_COMPUTE_BINARY, host, &svc, &err) < 0 &&
        !g_error_matches(err, TERN_DB_ERROR, TERN_DB_ERROR_NOT_FOUND)) {
        tern_sched_host_free(h);
        g_propagate_error(error, g_steal_pointer(&err));
        return -1;
    }
    tern_sched_host_set_service(h, svc);
    tern_sched_cache_put(s->cache, h, FALSE);
    return 0;
}

static int
refresh_service(TernSchedSync *s, const char *host, GError **error)
{
    g_autoptr(TernDbService) svc = NULL;
    g_autoptr(GError) err = NULL;
    if (tern_db_service_get(s->db, TERN_SCHED_COMPUTE_BINARY, host, &svc, &err) < 0 &&
        !g_error_matches(err, TERN_DB_ERROR, TERN_DB_ERROR_NOT_FOUND)) {
        g_propagate_error(error, g_steal_pointer(&err));
        return -1;
    }
    tern_sched_cache_update(s->cache, host, apply_service, svc);
    return 0;
}

static int
apply_changes(TernSchedSync *s, GPtrArray *changes, GError **error)
{
    if (changes->len == 0)
        return 0;
    /* A resync comes first in its batch (changes were pruned unread). */
    if (changes->len > TERN_SCHED_SYNC_RELOAD_BATCH ||
        strcmp(((TernDbChange *) changes->pdata[0])->table, TERN_DB_CHANGE_RESYNC) == 0)
        return load_all(s, error);
    /* host -> the newest usage-carrying change, or NULL: read the row */
    g_autoptr(GHashTable) nodes = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) svcs = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < changes->len; i++) {
        TernDbChange *c = changes->pdata[i];
        if (strcmp(c->table, "compute_nodes") == 0) {
            gpointer prev = NULL;
            gboolean seen = g_hash_table_lookup_extended(nodes, c->key, NULL, &prev);
            if (!c->has_usage || (seen && !prev))
                g_hash_table_insert(nodes, c->key, NULL);
            else if (!seen || ((TernDbChange *) prev)->generation < c->generation)
                g_hash_table_insert(nodes, c->key, c);
        } else if (strcmp(c->table, "services") == 0) {
            g_hash_table_add(svcs, c->key);
        }
    }
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, nodes);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        const TernDbChange *c = value;
        if (c) {
            Usage us = { c->generation, c->vcpus_used, c->memory_mb_used, c->local_gb_used, NULL,
                         FALSE };
            if (tern_sched_cache_update(s->cache, key, apply_usage, &us) && us.applied)
                continue;
        }
        if (refresh_node(s, key, error) < 0)
            return -1;
    }
    g_hash_table_iter_init(&it, svcs);
    while (g_hash_table_iter_next(&it, &key, NULL))
        if (refresh_service(s, key, error) < 0)
            return -1;
    return 0;
}

int
tern_sched_sync_changes(TernSchedSync *s, int wait_ms, GError **error)
{
    g_autoptr(GPtrArray) changes = NULL;
    int rc = wait_ms > 0 ? tern_db_listener_wait(s->listener, wait_ms, &changes, error)
                         : tern_db_listener_read(s->listener, &changes, error);
    if (rc < 0)
        return -1;
    return apply_changes(s, changes, error);
}

typedef struct {
    gint64 last_seen_up;
} Beat;

static void
apply_beat(TernSchedHost *h, gpointer data)
{
    const Beat *b = data;
    if (b->last_seen_up > h->last_seen_up)
        h->last_seen_up = b->last_seen_up;
}

int
tern_sched_sync_heartbeats(TernSchedSync *s, GError **error)
{
    g_autofree char *since = g_strdup_printf("%" G_GINT64_FORMAT, s->heartbeat_since);
    const char *params[] = { TERN_SCHED_COMPUTE_BINARY, since };
    g_autoptr(PGresult) r = tern_db_exec_prepared(s->db, "tern_sched_heartbeats",
        "SELECT host, (extract(epoch FROM last_seen_up) * 1000000)::bigint FROM services"
        " WHERE binary_name = $1 AND last_seen_up > to_timestamp($2::bigint / 1000000.0)",
        2, params, TERN_DB_EXEC_RETRY_SAFE, error);
    if (!r)
        return -1;
    gint64 newest = 0;
    guint n = (guint) PQntuples(r);
    g_autofree const char **names = g_new(const char *, n + 1);
    g_autofree Beat *beats = g_new(Beat, n + 1);
    g_autofree gpointer *datas = g_new(gpointer, n + 1);
    for (guint i = 0; i < n; i++) {
        names[i] = PQgetvalue(r, (int) i, 0);
        beats[i].last_seen_up = tern_db_get_int(r, (int) i, 1);
        datas[i] = &beats[i];
        newest = MAX(newest, beats[i].last_seen_up);
    }
    /* One write lock for the whole poll, not one per host. */
    tern_sched_cache_update_many(s->cache, names, datas, n, apply_beat);
    if (newest - HEARTBEAT_MARGIN > s->heartbeat_since)
        s->heartbeat_since = newest - HEARTBEAT_MARGIN;
    return 0;
}

static gboolean
on_changes(TernDbListener *l, GPtrArray *changes, const GError *error, gpointer data)
{
    (void) l;
    TernSchedSync *s = data;
    g_autoptr(GError) err = NULL;
    if (error)
        TERN_WARN("tern.scheduler", "host cache: change feed: %s", error->message);
    else if (changes && apply_changes(s, changes, &err) < 0)
        TERN_WARN("tern.scheduler", "host cache: change feed: %s", err->message);
    return G_SOURCE_CONTINUE;
}

static gboolean
on_timer(gpointer data)
{
    TernSchedSync *s = data;
    g_autoptr(GError) err = NULL;
    if (tern_sched_sync_heartbeats(s, &err) < 0)
        TERN_WARN("tern.scheduler", "host cache: heartbeat poll: %s", err->message);
    return G_SOURCE_CONTINUE;
}

void
tern_sched_sync_attach(TernSchedSync *s, GMainContext *ctx, guint interval_ms)
{
    s->ctx = ctx;
    s->watch = tern_db_listener_add_watch(s->listener, ctx, on_changes, s, NULL);
    s->timer = g_timeout_source_new(interval_ms);
    g_source_set_callback(s->timer, on_timer, s, NULL);
    g_source_attach(s->timer, ctx);
}
