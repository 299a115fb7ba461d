/* services.h: the services table: one row per (binary, host), e.g.
 * ("tern-compute", "host1"), with its heartbeat and disabled flag. */
#ifndef TERN_DB_SERVICES_H
#define TERN_DB_SERVICES_H

#include <glib.h>

typedef struct _TernDb TernDb;

typedef struct {
    gint64 id;
    char *binary;            /* "tern-compute", "tern-scheduler", "tern-conductor" */
    char *host;
    char *topic;             /* "compute", "scheduler", "conductor" */
    gint64 report_count;     /* heartbeats received */
    gint64 last_seen_up;     /* time of the last heartbeat */
    gboolean disabled;
    char *disabled_reason;   /* NULL when enabled */
    gboolean forced_down;
    gint64 version;          /* service version (Nova's SERVICE_VERSION) */
    gint64 created_at;
    gint64 updated_at;
} TernDbService;

void tern_db_service_free(TernDbService *svc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TernDbService, tern_db_service_free)

/* Record a heartbeat: creates the row on first report, then bumps
 * report_count and last_seen_up. The row is returned in out (may be NULL). */
int tern_db_service_heartbeat(TernDb *db, const char *binary, const char *host,
                              const char *topic, gint64 version, TernDbService **out,
                              GError **error);
/* TERN_DB_ERROR_NOT_FOUND if there is no such service. */
int tern_db_service_get(TernDb *db, const char *binary, const char *host,
                        TernDbService **out, GError **error);
/* Every service, by binary then host; binary may be NULL for all. The
 * array frees its TernDbService elements. */
int tern_db_service_list(TernDb *db, const char *binary, GPtrArray **out, GError **error);
/* Disable (with a reason, may be NULL) or enable. */
int tern_db_service_set_disabled(TernDb *db, const char *binary, const char *host,
                                 gboolean disabled, const char *reason, GError **error);
int tern_db_service_set_forced_down(TernDb *db, const char *binary, const char *host,
                                    gboolean forced_down, GError **error);
int tern_db_service_delete(TernDb *db, const char *binary, const char *host, GError **error);
/* Up: not forced down and a heartbeat within down_time seconds of now. */
gboolean tern_db_service_is_up(const TernDbService *svc, gint64 now, int down_time);

#endif
