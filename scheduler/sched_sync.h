/* sched_sync.h: keeps a TernSchedCache equal to PostgreSQL: a full load at
 * start, then db/changes.h's change feed (LISTEN/NOTIFY with catch-up) —
 * only the hosts that changed are read again — and a poll of recent service
 * heartbeats (heartbeats are not changes, see db/migrations/001_initial.sql),
 * which reads only the services whose heartbeat moved since the last poll.
 * Runs on one thread (the service's main loop) with its own connections. */
#ifndef TERN_SCHED_SYNC_H
#define TERN_SCHED_SYNC_H

#include <glib.h>

#include "common/config.h"
#include "scheduler/sched_cache.h"

/* The compute service's binary in the services table. */
#define TERN_SCHED_COMPUTE_BINARY "tern-compute"
/* A change batch larger than this reloads every host instead. */
#define TERN_SCHED_SYNC_RELOAD_BATCH 5000

typedef struct _TernSchedSync TernSchedSync;

/* Connect (url: libpq URL; retries as tern_db_open) and load every host. */
TernSchedSync *tern_sched_sync_new(TernSchedCache *cache, const TernCpuDb *cpudb,
                                   const char *url, int max_retries, int retry_interval,
                                   GError **error);
void tern_sched_sync_free(TernSchedSync *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TernSchedSync, tern_sched_sync_free)

/* Read everything again. */
int tern_sched_sync_reload(TernSchedSync *s, GError **error);
/* Apply the changes that arrived (non-blocking; wait_ms > 0 waits that long
 * for the first). */
int tern_sched_sync_changes(TernSchedSync *s, int wait_ms, GError **error);
/* Read the heartbeats that moved since the last poll. */
int tern_sched_sync_heartbeats(TernSchedSync *s, GError **error);

/* Run both from ctx: a watch on the listener's socket and a heartbeat poll
 * every interval_ms. */
void tern_sched_sync_attach(TernSchedSync *s, GMainContext *ctx, guint interval_ms);

#endif
