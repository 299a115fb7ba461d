/* sched_cache.h: the scheduler's in-memory host set. A flat array of hosts
 * (filters walk it in order) with a name index, guarded by a read-write
 * lock: request threads read it while the service's main loop applies
 * changes from the database (scheduler/sched_sync.c). Unit tests fill it
 * directly. */
#ifndef TERN_SCHED_CACHE_H
#define TERN_SCHED_CACHE_H

#include <glib.h>

#include "scheduler/sched_host.h"

typedef struct _TernSchedCache TernSchedCache;

TernSchedCache *tern_sched_cache_new(void);
void tern_sched_cache_free(TernSchedCache *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TernSchedCache, tern_sched_cache_free)

/* Readers: hold the read lock while using hosts. */
void tern_sched_cache_read_lock(TernSchedCache *c);
void tern_sched_cache_read_unlock(TernSchedCache *c);
/* The hosts, one contiguous array (borrowed; valid under the lock). */
TernSchedHost *tern_sched_cache_hosts(TernSchedCache *c, guint *n);

/* Writers take the write lock themselves. put takes h (its fields are
 * moved into the array and h is freed) and replaces a host of the same name
 * (keeping its service fields when keep_service). */
void tern_sched_cache_put(TernSchedCache *c, TernSchedHost *h, gboolean keep_service);
/* Remove a host by name; FALSE if absent. */
gboolean tern_sched_cache_remove(TernSchedCache *c, const char *host);
/* Replace every host at once (a full reload); takes the array's hosts. */
void tern_sched_cache_replace_all(TernSchedCache *c, GPtrArray *hosts);
/* Run fn on the named host under the write lock; FALSE if absent. */
typedef void (*TernSchedHostFunc)(TernSchedHost *h, gpointer data);
gboolean tern_sched_cache_update(TernSchedCache *c, const char *host, TernSchedHostFunc fn,
                                 gpointer data);
guint tern_sched_cache_size(TernSchedCache *c);
/* Many updates under one write lock: fn(host, data) for each name of hosts
 * (n of them) that is cached, with data = datas[i]. */
void tern_sched_cache_update_many(TernSchedCache *c, const char *const *hosts, gpointer *datas,
                                  guint n, TernSchedHostFunc fn);

#endif
