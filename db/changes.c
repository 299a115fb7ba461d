/* changes.c: the change feed: queries on the changes table, and a listener
 * connection that turns NOTIFY tern_changes into TernDbChange records,
 * reconnecting and catching up from the table when its connection broke. */
#include "db/db.h"
#include "db/db_private.h"

#include <poll.h>
#include <string.h>
#include <jansson.h>

#include "common/log.h"
#include "common/mask.h"

#define MODULE "tern.db"
/* After a reconnect, look this many ids back for changes whose transaction
 * committed after a later id was delivered. */
#define CATCHUP_SLACK 1000
/* Ids remembered to drop duplicates from notifications and catch-ups. */
#define RECENT_MAX 8192

void
tern_db_change_free(TernDbChange *c)
{
    if (!c)
        return;
    g_free(c->table);
    g_free(c->key);
    g_free(c->op);
    g_free(c);
}

/* The newest change id given out: the sequence's, which is also right
 * once the table was pruned empty (max(id) would be 0 then, and a catch-up
 * from 0 would take the pruned ids for lost changes). */
static const char NEWEST_SQL[] =
    "SELECT greatest((SELECT coalesce(max(id), 0) FROM changes),"
    " (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM changes_id_seq))";

static GPtrArray *
changes_new(void)
{
    return g_ptr_array_new_with_free_func((GDestroyNotify) tern_db_change_free);
}

static PGresult *
changes_query(PGconn *conn, gint64 since, int limit)
{
    char s[32], l[32];
    g_snprintf(s, sizeof s, "%" G_GINT64_FORMAT, since);
    g_snprintf(l, sizeof l, "%d", limit > 0 ? limit : G_MAXINT);
    const char *params[] = { s, l };
    return PQexecParams(conn,
        "SELECT id, tbl, key, op, " TERN_DB_US("created_at")
        " FROM changes WHERE id > $1::int8 ORDER BY id LIMIT $2::int8", 2, NULL, params, NULL,
        NULL, 0);
}

static void
changes_from_result(const PGresult *r, GPtrArray *out)
{
    for (int k = 0; k < PQntuples(r); k++) {
        TernDbChange *c = g_new0(TernDbChange, 1);
        c->id = tern_db_get_int(r, k, 0);
        c->table = tern_db_get_text(r, k, 1);
        c->key = tern_db_get_text(r, k, 2);
        c->op = tern_db_get_text(r, k, 3);
        c->at = tern_db_get_int(r, k, 4);
        g_ptr_array_add(out, c);
    }
}

int
tern_db_changes_latest(TernDb *db, gint64 *id, GError **error)
{
    g_autoptr(PGresult) r = tern_db_exec(db, NEWEST_SQL, 0, NULL, TERN_DB_EXEC_RETRY_SAFE, error);
    if (!r)
        return -1;
    *id = tern_db_get_int(r, 0, 0);
    return 0;
}

int
tern_db_changes_since(TernDb *db, gint64 since, int limit, GPtrArray **out, GError **error)
{
    char s[32], l[32];
    g_snprintf(s, sizeof s, "%" G_GINT64_FORMAT, since);
    g_snprintf(l, sizeof l, "%d", limit > 0 ? limit : G_MAXINT);
    const char *params[] = { s, l };
    g_autoptr(PGresult) r = tern_db_exec_prepared(db, "tern_changes_since",
        "SELECT id, tbl, key, op, " TERN_DB_US("created_at")
        " FROM changes WHERE id > $1::int8 ORDER BY id LIMIT $2::int8", 2, params,
        TERN_DB_EXEC_RETRY_SAFE, error);
    if (!r)
        return -1;
    *out = changes_new();
    changes_from_result(r, *out);
    return 0;
}

/* Records deleted per statement: a day of a busy cloud's claims is tens of
 * millions, and one DELETE of them all would be one long transaction. */
#define PRUNE_BATCH 10000

int
tern_db_changes_prune(TernDb *db, gint64 older_than, guint *deleted, GError **error)
{
    char t[32], n[16];
    g_snprintf(t, sizeof t, "%" G_GINT64_FORMAT, older_than);
    g_snprintf(n, sizeof n, "%d", PRUNE_BATCH);
    const char *params[] = { t, n };
    guint total = 0;
    for (;;) {
        g_autoptr(PGresult) r = tern_db_exec(db,
            "DELETE FROM changes WHERE id IN (SELECT id FROM changes WHERE created_at < "
            TERN_DB_TS("1") " LIMIT $2::int)", 2, params, TERN_DB_EXEC_RETRY_SAFE, error);
        if (!r)
            return -1;
        gint64 n_deleted = tern_db_affected(r);
        total += (guint) n_deleted;
        if (n_deleted < PRUNE_BATCH)
            break;
    }
    if (deleted)
        *deleted = total;
    return 0;
}

/* --- Listener ------------------------------------------------------------ */

struct _TernDbListener {
    PGconn *conn;
    char *url;
    char *url_masked;
    int max_retries;
    int retry_interval;
    gint64 last_id;
    gint64 catchup_from;      /* >= 0: query changes with id > this on the next read */
    gint64 catchup_seen;      /* the newest id delivered when the catch-up was due */
    GHashTable *recent;       /* ids delivered lately (gint64 keys) */
    GQueue recent_order;
};

static int
listen_on(TernDbListener *l, GError **error)
{
    PGresult *r = PQexec(l->conn, "LISTEN " TERN_DB_CHANGES_CHANNEL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        tern_db_set_result_error(r, error);
        PQclear(r);
        return -1;
    }
    PQclear(r);
    return 0;
}

static int
connect_and_listen(TernDbListener *l, GError **error)
{
    for (int attempt = 0;; attempt++) {
        g_autoptr(GError) local = NULL;
        PQfinish(l->conn);
        l->conn = tern_db_connect_url(l->url, l->url_masked, l->max_retries, l->retry_interval,
                                      &local);
        if (l->conn && listen_on(l, &local) == 0)
            return 0;
        /* Connected but LISTEN failed (the server went away again). */
        if (!l->conn || attempt >= 3) {
            g_propagate_error(error, g_steal_pointer(&local));
            return -1;
        }
        tern_db_backoff(attempt, l->retry_interval);
    }
}

TernDbListener *
tern_db_listener_open(const char *url, int max_retries, int retry_interval, gint64 since,
                      GError **error)
{
    if (!url || !*url) {
        g_set_error(error, TERN_DB_ERROR, TERN_DB_ERROR_CONNECT,
                    "no database configured: set [database] connection");
        return NULL;
    }
    tern_mask_add_secret(url);
    TernDbListener *l = g_new0(TernDbListener, 1);
    l->url = g_strdup(url);
    l->url_masked = tern_mask_text(url);
    l->max_retries = max_retries;
    l->retry_interval = retry_interval;
    l->recent = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    l->catchup_from = -1;
    if (connect_and_listen(l, error) < 0) {
        tern_db_listener_close(l);
        return NULL;
    }
    if (since >= 0) {
        l->last_id = since;
        l->catchup_from = since;
        l->catchup_seen = since;
    } else {
        /* LISTEN is active: anything newer than this will be notified. */
        PGresult *r = PQexec(l->conn, NEWEST_SQL);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            tern_db_set_result_error(r, error);
            PQclear(r);
            tern_db_listener_close(l);
            return NULL;
        }
        l->last_id = tern_db_get_int(r, 0, 0);
        PQclear(r);
    }
    return l;
}

TernDbListener *
tern_db_listener_open_config(const TernConfig *conf, gint64 since, GError **error)
{
    return tern_db_listener_open(tern_config_get_string(conf, "database", "connection"),
                                 (int) tern_config_get_int(conf, "database", "max_retries"),
                                 (int) tern_config_get_int(conf, "database", "retry_interval"),
                                 since, error);
}

void
tern_db_listener_close(TernDbListener *l)
{
    if (!l)
        return;
    PQfinish(l->conn);
    g_free(l->url);
    g_free(l->url_masked);
    if (l->recent)
        g_hash_table_destroy(l->recent);
    g_queue_clear(&l->recent_order);
    g_free(l);
}

int
tern_db_listener_fd(TernDbListener *l)
{
    return l->conn ? PQsocket(l->conn) : -1;
}

gint64
tern_db_listener_last_id(const TernDbListener *l)
{
    return l->last_id;
}

/* Deliver c unless already delivered; takes ownership. */
static void
deliver(TernDbListener *l, TernDbChange *c, GPtrArray *out)
{
    if (g_hash_table_contains(l->recent, &c->id)) {
        tern_db_change_free(c);
        return;
    }
    gint64 *key = g_new(gint64, 1);
    *key = c->id;
    g_hash_table_add(l->recent, key);
    g_queue_push_tail(&l->recent_order, key);
    while (g_queue_get_length(&l->recent_order) > RECENT_MAX)
        g_hash_table_remove(l->recent, g_queue_pop_head(&l->recent_order));
    if (c->id > l->last_id)
        l->last_id = c->id;
    g_ptr_array_add(out, c);
}

static TernDbChange *
change_from_payload(const char *payload)
{
    json_t *j = json_loads(payload, 0, NULL);
    TernDbChange *c = NULL;
    if (json_is_object(j) && json_is_integer(json_object_get(j, "id"))) {
        c = g_new0(TernDbChange, 1);
        c->id = json_integer_value(json_object_get(j, "id"));
        c->table = g_strdup(json_string_value(json_object_get(j, "table")));
        c->key = g_strdup(json_string_value(json_object_get(j, "key")));
        c->op = g_strdup(json_string_value(json_object_get(j, "op")));
        json_t *u = json_object_get(j, "usage");
        if (json_is_array(u) && json_array_size(u) == 4) {
            gint64 v[4];
            gboolean ok = TRUE;
            for (size_t k = 0; k < 4; k++) {
                ok = ok && json_is_integer(json_array_get(u, k));
                v[k] = ok ? json_integer_value(json_array_get(u, k)) : 0;
            }
            if (ok) {
                c->has_usage = TRUE;
                c->generation = v[0];
                c->vcpus_used = v[1];
                c->memory_mb_used = v[2];
                c->local_gb_used = v[3];
            }
        }
    }
    json_decref(j);
    return c;
}

/* The smallest id the table can still deliver: its first record, or the
 * next id when it is empty. Changes with ids from last_id + 1 below it
 * were pruned (or their transactions rolled back: a harmless resync). */
static const char OLDEST_SQL[] =
    "SELECT coalesce((SELECT min(id) FROM changes),"
    " (SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM changes_id_seq))";

/* After a catch-up read: 1 if changes after last_id may be lost, 0 if not,
 * -1 if the query failed (r is set to its result). */
static int
catchup_gap(TernDbListener *l, gint64 last_id, PGresult **r)
{
    *r = PQexec(l->conn, OLDEST_SQL);
    if (PQresultStatus(*r) != PGRES_TUPLES_OK)
        return -1;
    gint64 oldest = tern_db_get_int(*r, 0, 0);
    PQclear(*r);
    *r = NULL;
    return oldest > last_id + 1;
}

static TernDbChange *
resync_change(void)
{
    TernDbChange *c = g_new0(TernDbChange, 1);
    c->table = g_strdup(TERN_DB_CHANGE_RESYNC);
    c->key = g_strdup("");
    c->op = g_strdup("RESYNC");
    return c;
}

static int
reconnect(TernDbListener *l, GError **error)
{
    TERN_WARN(MODULE, "change listener on %s: connection lost; reconnecting", l->url_masked);
    if (connect_and_listen(l, error) < 0)
        return -1;
    l->catchup_from = MAX(0, l->last_id - CATCHUP_SLACK);
    l->catchup_seen = l->last_id;
    TERN_INFO(MODULE, "change listener on %s: reconnected, catching up from change %" G_GINT64_FORMAT,
              l->url_masked, l->catchup_from);
    return 0;
}

int
tern_db_listener_read(TernDbListener *l, GPtrArray **out, GError **error)
{
    g_autoptr(GPtrArray) changes = changes_new();
    for (int attempt = 0;; attempt++) {
        gboolean ok = PQstatus(l->conn) == CONNECTION_OK && PQconsumeInput(l->conn) &&
                      PQstatus(l->conn) == CONNECTION_OK;
        if (ok) {
            PGnotify *n;
            while ((n = PQnotifies(l->conn))) {
                TernDbChange *c = change_from_payload(n->extra);
                if (c)
                    deliver(l, c, changes);
                else
                    TERN_WARN(MODULE, "ignoring a malformed change notification");
                PQfreemem(n);
            }
            if (l->catchup_from < 0)
                break;
            /* The rows first, then whether the table still reaches back
             * to last_id: a prune between the two only adds a resync. */
            gint64 seen = l->catchup_seen;
            PGresult *r = changes_query(l->conn, l->catchup_from, 0);
            int gap = -1;
            if (PQresultStatus(r) == PGRES_TUPLES_OK) {
                g_autoptr(GPtrArray) rows = changes_new();
                changes_from_result(r, rows);
                PQclear(r);
                gap = catchup_gap(l, seen, &r);
                if (gap >= 0) {
                    if (gap) {
                        TERN_WARN(MODULE, "change listener on %s: changes after %" G_GINT64_FORMAT
                                  " were pruned before they could be read; asking for a full "
                                  "reload", l->url_masked, seen);
                        g_ptr_array_insert(changes, 0, resync_change());
                    }
                    for (guint k = 0; k < rows->len; k++)
                        deliver(l, g_steal_pointer(&rows->pdata[k]), changes);
                    l->catchup_from = -1;
                    break;
                }
            }
            if (PQstatus(l->conn) == CONNECTION_OK) {
                tern_db_set_result_error(r, error);
                PQclear(r);
                return -1;
            }
            PQclear(r);
        }
        if (attempt > 0) {
            g_set_error(error, TERN_DB_ERROR, TERN_DB_ERROR_CONNECT,
                        "change listener on %s: connection lost again after reconnecting",
                        l->url_masked);
            return -1;
        }
        if (reconnect(l, error) < 0)
            return -1;
    }
    *out = g_steal_pointer(&changes);
    return 0;
}

int
tern_db_listener_wait(TernDbListener *l, int timeout_ms, GPtrArray **out, GError **error)
{
    struct pollfd pfd = { .fd = tern_db_listener_fd(l), .events = POLLIN };
    if (pfd.fd >= 0 && l->catchup_from < 0)
        poll(&pfd, 1, timeout_ms);
    return tern_db_listener_read(l, out, error);
}

/* --- Main-loop watch ------------------------------------------------------ */

typedef struct {
    GSource source;
    TernDbListener *l;
    int fd;
    gpointer tag;
} ListenerSource;

static void
watch_fd(ListenerSource *s)
{
    int fd = tern_db_listener_fd(s->l);
    if (fd == s->fd)
        return;
    if (s->tag)
        g_source_remove_unix_fd(&s->source, s->tag);
    s->tag = fd >= 0 ? g_source_add_unix_fd(&s->source, fd, G_IO_IN | G_IO_ERR | G_IO_HUP) : NULL;
    s->fd = fd;
}

static gboolean
listener_dispatch(GSource *source, GSourceFunc callback, gpointer data)
{
    ListenerSource *s = (ListenerSource *) source;
    TernDbChangesFunc fn = (TernDbChangesFunc) (void (*)(void)) callback;
    g_autoptr(GPtrArray) changes = NULL;
    g_autoptr(GError) error = NULL;
    int rc = tern_db_listener_read(s->l, &changes, &error);
    gboolean keep = TRUE;
    if (rc < 0 || changes->len > 0)
        keep = fn ? fn(s->l, rc < 0 ? NULL : changes, error, data) : FALSE;
    watch_fd(s);
    /* Without a socket (the server is still away), try again later. */
    g_source_set_ready_time(source, s->fd < 0 ? g_get_monotonic_time() +
                            MAX(1, s->l->retry_interval) * G_USEC_PER_SEC : -1);
    return keep;
}

static GSourceFuncs listener_funcs = {
    .dispatch = listener_dispatch,
};

guint
tern_db_listener_add_watch(TernDbListener *l, GMainContext *context, TernDbChangesFunc fn,
                           gpointer data, GDestroyNotify destroy)
{
    GSource *source = g_source_new(&listener_funcs, sizeof(ListenerSource));
    ListenerSource *s = (ListenerSource *) source;
    s->l = l;
    s->fd = -1;
    watch_fd(s);
    /* A catch-up is pending (opened with since >= 0): deliver it at once. */
    if (l->catchup_from >= 0)
        g_source_set_ready_time(source, 0);
    g_source_set_callback(source, (GSourceFunc) (void (*)(void)) fn, data, destroy);
    g_source_set_name(source, "tern-db-listener");
    guint id = g_source_attach(source, context);
    g_source_unref(source);
    return id;
}
