/* migrations.h: migration records (live migration, cold migration,
 * resize, evacuation), Nova's migrations table. A migration's uuid is also
 * the consumer of the destination's resources during a move claim
 * (db/claims.h). Not to be confused with schema migrations (db/schema.h). */
#ifndef TERN_DB_MIGRATIONS_H
#define TERN_DB_MIGRATIONS_H

#include <glib.h>

typedef struct _TernDb TernDb;

typedef struct {
    gint64 id;
    char *uuid;
    char *instance_uuid;
    char *migration_type;     /* "live-migration", "migration", "resize", "evacuation" */
    char *source_compute, *source_node;
    char *dest_compute, *dest_node;
    char *status;             /* "accepted", "preparing", "running", "completed", "failed", "error", "cancelled" */
    gint64 progress;          /* 0..100 */
    gint64 memory_total, memory_processed, memory_remaining;  /* bytes */
    gint64 disk_total, disk_processed, disk_remaining;
    char *error;              /* why it failed, NULL otherwise */
    gint64 created_at, updated_at;
} TernDbMigration;

TernDbMigration *tern_db_migration_new(void);
void tern_db_migration_free(TernDbMigration *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TernDbMigration, tern_db_migration_free)

/* Insert; uuid may be NULL (generated). Fills id, uuid and times. */
int tern_db_migration_create(TernDb *db, TernDbMigration *m, GError **error);
int tern_db_migration_get(TernDb *db, const char *uuid, TernDbMigration **out, GError **error);
/* Migrations of an instance, newest first. */
int tern_db_migration_list_by_instance(TernDb *db, const char *instance_uuid, GPtrArray **out,
                                       GError **error);
/* Unfinished migrations (not completed/failed/error/cancelled) with host as
 * source or destination (host NULL: everywhere). */
int tern_db_migration_list_in_progress(TernDb *db, const char *host, GPtrArray **out,
                                       GError **error);
/* Set status (NULL keeps) and error text (NULL keeps). */
int tern_db_migration_set_status(TernDb *db, const char *uuid, const char *status,
                                 const char *error_text, GError **error);
/* Set progress figures (negative values keep the stored ones). */
int tern_db_migration_set_progress(TernDb *db, const char *uuid, gint64 progress,
                                   gint64 memory_total, gint64 memory_processed,
                                   gint64 memory_remaining, GError **error);
/* Write every mutable field of m by uuid. */
int tern_db_migration_save(TernDb *db, TernDbMigration *m, GError **error);

#endif
