/* changes.h: the change feed that keeps a scheduler's host cache fresh
 * without re-reading every host.
 *
 * Triggers on compute_nodes, services, instances and migrations append one
 * row to the changes table per changed row (a monotonically increasing id,
 * the table, the row's key: host for compute_nodes and services, uuid for
 * instances and migrations, and the operation) and NOTIFY channel
 * "tern_changes" with it as JSON: {"id":42,"table":"compute_nodes",
 * "key":"host1","op":"UPDATE"}. A claim or release updates its host's
 * compute_nodes row, so it is a change of that host; its notification also
 * carries the node's new usage ("usage":[generation, vcpus_used,
 * memory_mb_used, local_gb_used]), so a reader need not read the row.
 *
 * A listener keeps its own connection. Its fd (PQsocket) goes into the
 * caller's main loop; when readable, tern_db_listener_read() returns the
 * new changes. If the connection broke, read reconnects, LISTENs again and
 * catches up from the changes table, so nothing is missed; a change may
 * then be delivered twice (consumers refresh a host, which is idempotent).
 * Ids are given when a row changes but delivered when its transaction
 * commits, so they can arrive slightly out of order. */
#ifndef TERN_DB_CHANGES_H
#define TERN_DB_CHANGES_H

#include <glib.h>

#include "common/config.h"

typedef struct _TernDb TernDb;

#define TERN_DB_CHANGES_CHANNEL "tern_changes"
/* The table of a change that stands for changes the listener can no longer
 * deliver (pruned from the table while its connection was down, or before
 * the id it was opened from): the reader must re-read everything it
 * follows. Such a change has id 0, key "" and op "RESYNC", and comes
 * first in its batch. */
#define TERN_DB_CHANGE_RESYNC "*"

typedef struct {
    gint64 id;
    char *table;     /* "compute_nodes", "services", "instances", "migrations",
                        or TERN_DB_CHANGE_RESYNC */
    char *key;       /* host or uuid */
    char *op;        /* "INSERT", "UPDATE", "DELETE" */
    gint64 at;       /* when (0 when it came from a notification) */
    /* A compute_nodes UPDATE that changed only what claims own (a claim or
     * a release), when it came from a notification: the node's new usage
     * (migration 004). FALSE for every other change and for changes read
     * back from the table: readers re-read the row. */
    gboolean has_usage;
    gint64 generation, vcpus_used, memory_mb_used, local_gb_used;
} TernDbChange;

void tern_db_change_free(TernDbChange *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TernDbChange, tern_db_change_free)

/* The newest change id given out (0 if none), pruned or not. */
int tern_db_changes_latest(TernDb *db, gint64 *id, GError **error);
/* Changes with id > since, oldest first, at most limit (<= 0: no limit). */
int tern_db_changes_since(TernDb *db, gint64 since, int limit, GPtrArray **out, GError **error);
/* Delete changes older than older_than (microseconds since the epoch), in
 * statements of 10,000 records. */
int tern_db_changes_prune(TernDb *db, gint64 older_than, guint *deleted, GError **error);

typedef struct _TernDbListener TernDbListener;

/* Connect (same URL and retries as tern_db_open) and LISTEN. Changes with
 * id > since are delivered by the first read (since < 0: only changes from
 * now on). */
TernDbListener *tern_db_listener_open(const char *url, int max_retries, int retry_interval,
                                      gint64 since, GError **error);
TernDbListener *tern_db_listener_open_config(const TernConfig *conf, gint64 since,
                                             GError **error);
void tern_db_listener_close(TernDbListener *l);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TernDbListener, tern_db_listener_close)

/* The socket to poll for input. It changes after a reconnect: fetch it
 * again after every tern_db_listener_read() and re-add the watch if it did. */
int tern_db_listener_fd(TernDbListener *l);
/* Consume input without blocking and return the changes that arrived
 * (array of TernDbChange*, possibly empty). Reconnects and catches up
 * after a broken connection. */
int tern_db_listener_read(TernDbListener *l, GPtrArray **out, GError **error);
/* Block up to timeout_ms for input, then read (tests, simple tools). */
int tern_db_listener_wait(TernDbListener *l, int timeout_ms, GPtrArray **out, GError **error);
/* The highest change id delivered so far. */
gint64 tern_db_listener_last_id(const TernDbListener *l);

/* Main-loop integration: called with the changes that arrived (error NULL),
 * or with error set when the connection broke and could not be restored
 * (the watch then tries again every retry_interval seconds). Return FALSE
 * to remove the watch. */
typedef gboolean (*TernDbChangesFunc)(TernDbListener *l, GPtrArray *changes,
                                      const GError *error, gpointer data);
/* Watch the listener in context (NULL: the default one): fn runs whenever
 * changes arrive; the watch follows the socket across reconnects. Returns
 * the source id (g_source_remove() it before closing the listener). */
guint tern_db_listener_add_watch(TernDbListener *l, GMainContext *context, TernDbChangesFunc fn,
                                 gpointer data, GDestroyNotify destroy);

#endif
