/* migrations.c: the migrations table (records of instance moves). */
#include "db/db.h"
#include "db/db_private.h"

#include "common/util.h"

#define MIGRATION_COLS \
    "id, uuid, instance_uuid, migration_type, source_compute, source_node, dest_compute, " \
    "dest_node, status, progress, memory_total, memory_processed, memory_remaining, " \
    "disk_total, disk_processed, disk_remaining, error, " TERN_DB_US("created_at") ", " \
    TERN_DB_US("updated_at")

#define UNFINISHED "status NOT IN ('completed', 'failed', 'error', 'cancelled')"

TernDbMigration *
tern_db_migration_new(void)
{
    TernDbMigration *m = g_new0(TernDbMigration, 1);
    m->migration_type = g_strdup("live-migration");
    m->status = g_strdup("accepted");
    return m;
}

void
tern_db_migration_free(TernDbMigration *m)
{
    if (!m)
        return;
    g_free(m->uuid);
    g_free(m->instance_uuid);
    g_free(m->migration_type);
    g_free(m->source_compute);
    g_free(m->source_node);
    g_free(m->dest_compute);
    g_free(m->dest_node);
    g_free(m->status);
    g_free(m->error);
    g_free(m);
}

static TernDbMigration *
migration_from_row(const PGresult *r, int row)
{
    TernDbMigration *m = g_new0(TernDbMigration, 1);
    int c = 0;
    m->id = tern_db_get_int(r, row, c++);
    m->uuid = tern_db_get_text(r, row, c++);
    m->instance_uuid = tern_db_get_text(r, row, c++);
    m->migration_type = tern_db_get_text(r, row, c++);
    m->source_compute = tern_db_get_text(r, row, c++);
    m->source_node = tern_db_get_text(r, row, c++);
    m->dest_compute = tern_db_get_text(r, row, c++);
    m->dest_node = tern_db_get_text(r, row, c++);
    m->status = tern_db_get_text(r, row, c++);
    m->progress = tern_db_get_int(r, row, c++);
    m->memory_total = tern_db_get_int(r, row, c++);
    m->memory_processed = tern_db_get_int(r, row, c++);
    m->memory_remaining = tern_db_get_int(r, row, c++);
    m->disk_total = tern_db_get_int(r, row, c++);
    m->disk_processed = tern_db_get_int(r, row, c++);
    m->disk_remaining = tern_db_get_int(r, row, c++);
    m->error = tern_db_get_text(r, row, c++);
    m->created_at = tern_db_get_int(r, row, c++);
    m->updated_at = tern_db_get_int(r, row, c++);
    return m;
}

static int
list(TernDb *db, const char *sql, int n, const char *const *params, GPtrArray **out,
     GError **error)
{
    g_autoptr(PGresult) r = tern_db_exec(db, sql, n, params, TERN_DB_EXEC_RETRY_SAFE, error);
    if (!r)
        return -1;
    *out = g_ptr_array_new_with_free_func((GDestroyNotify) tern_db_migration_free);
    for (int k = 0; k < PQntuples(r); k++)
        g_ptr_array_add(*out, migration_from_row(r, k));
    return 0;
}

/* $2..$16 in the order of the columns after uuid. */
static void
mutable_params(TernDbParams *p, const TernDbMigration *m)
{
    tern_db_params_text(p, m->instance_uuid);    /* 2 */
    tern_db_params_text(p, m->migration_type ? m->migration_type : "live-migration");
    tern_db_params_text(p, m->source_compute);
    tern_db_params_text(p, m->source_node);
    tern_db_params_text(p, m->dest_compute);     /* 6 */
    tern_db_params_text(p, m->dest_node);
    tern_db_params_text(p, m->status ? m->status : "accepted");
    tern_db_params_int(p, m->progress);
    tern_db_params_int(p, m->memory_total);      /* 10 */
    tern_db_params_int(p, m->memory_processed);
    tern_db_params_int(p, m->memory_remaining);
    tern_db_params_int(p, m->disk_total);
    tern_db_params_int(p, m->disk_processed);
    tern_db_params_int(p, m->disk_remaining);    /* 15 */
    tern_db_params_text(p, m->error);
}

int
tern_db_migration_create(TernDb *db, TernDbMigration *m, GError **error)
{
    if (!m->uuid)
        m->uuid = tern_uuid_new();
    g_autoptr(TernDbParams) p = tern_db_params_new();
    tern_db_params_text(p, m->uuid);
    mutable_params(p, m);
    g_autoptr(PGresult) r = tern_db_exec(db,
        "INSERT INTO migrations (uuid, instance_uuid, migration_type, source_compute,"
        " source_node, dest_compute, dest_node, status, progress, memory_total,"
        " memory_processed, memory_remaining, disk_total, disk_processed, disk_remaining, error)"
        " VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        " RETURNING id, " TERN_DB_US("created_at") ", " TERN_DB_US("updated_at"),
        TERN_DB_PARAMS_N(p), TERN_DB_PARAMS_V(p), 0, error);
    if (!r)
        return -1;
    m->id = tern_db_get_int(r, 0, 0);
    m->created_at = tern_db_get_int(r, 0, 1);
    m->updated_at = tern_db_get_int(r, 0, 2);
    return 0;
}

int
tern_db_migration_get(TernDb *db, const char *uuid, TernDbMigration **out, GError **error)
{
    const char *params[] = { uuid };
    g_autoptr(GPtrArray) a = NULL;
    if (list(db, "SELECT " MIGRATION_COLS " FROM migrations WHERE uuid = $1::uuid", 1, params,
             &a, error) < 0)
        return -1;
    if (a->len == 0) {
        tern_db_set_not_found(error, "migration", uuid);
        return -1;
    }
    *out = g_ptr_array_steal_index(a, 0);
    return 0;
}

int
tern_db_migration_list_by_instance(TernDb *db, const char *instance_uuid, GPtrArray **out,
                                   GError **error)
{
    const char *params[] = { instance_uuid };
    return list(db, "SELECT " MIGRATION_COLS " FROM migrations WHERE instance_uuid = $1::uuid"
                " ORDER BY created_at DESC, id DESC", 1, params, out, error);
}

int
tern_db_migration_list_in_progress(TernDb *db, const char *host, GPtrArray **out,
                                   GError **error)
{
    const char *params[] = { host };
    return list(db, "SELECT " MIGRATION_COLS " FROM migrations WHERE " UNFINISHED
                " AND ($1::text IS NULL OR source_compute = $1::text OR dest_compute = $1::text)"
                " ORDER BY created_at, id", 1, params, out, error);
}

static int
update_one(TernDb *db, const char *sql, TernDbParams *p, const char *uuid, GError **error)
{
    g_autoptr(PGresult) r = tern_db_exec(db, sql, TERN_DB_PARAMS_N(p), TERN_DB_PARAMS_V(p),
                                         TERN_DB_EXEC_RETRY_SAFE, error);
    if (!r)
        return -1;
    if (tern_db_affected(r) == 0) {
        tern_db_set_not_found(error, "migration", uuid);
        return -1;
    }
    return 0;
}

int
tern_db_migration_set_status(TernDb *db, const char *uuid, const char *status,
                             const char *error_text, GError **error)
{
    g_autoptr(TernDbParams) p = tern_db_params_new();
    tern_db_params_text(p, uuid);
    tern_db_params_text(p, status);
    tern_db_params_text(p, error_text);
    return update_one(db,
        "UPDATE migrations SET status = coalesce($2, status), error = coalesce($3, error),"
        " updated_at = now() WHERE uuid = $1::uuid", p, uuid, error);
}

int
tern_db_migration_set_progress(TernDb *db, const char *uuid, gint64 progress,
                               gint64 memory_total, gint64 memory_processed,
                               gint64 memory_remaining, GError **error)
{
    g_autoptr(TernDbParams) p = tern_db_params_new();
    tern_db_params_text(p, uuid);
    tern_db_params_int(p, progress);
    tern_db_params_int(p, memory_total);
    tern_db_params_int(p, memory_processed);
    tern_db_params_int(p, memory_remaining);
    return update_one(db,
        "UPDATE migrations SET"
        " progress = CASE WHEN $2::int8 < 0 THEN progress ELSE $2::int8 END,"
        " memory_total = CASE WHEN $3::int8 < 0 THEN memory_total ELSE $3::int8 END,"
        " memory_processed = CASE WHEN $4::int8 < 0 THEN memory_processed ELSE $4::int8 END,"
        " memory_remaining = CASE WHEN $5::int8 < 0 THEN memory_remaining ELSE $5::int8 END,"
        " updated_at = now() WHERE uuid = $1::uuid", p, uuid, error);
}

int
tern_db_migration_save(TernDb *db, TernDbMigration *m, GError **error)
{
    g_autoptr(TernDbParams) p = tern_db_params_new();
    tern_db_params_text(p, m->uuid);
    mutable_params(p, m);
    return update_one(db,
        "UPDATE migrations SET instance_uuid = $2::uuid, migration_type = $3,"
        " source_compute = $4, source_node = $5, dest_compute = $6, dest_node = $7,"
        " status = $8, progress = $9, memory_total = $10, memory_processed = $11,"
        " memory_remaining = $12, disk_total = $13, disk_processed = $14, disk_remaining = $15,"
        " error = $16, updated_at = now() WHERE uuid = $1::uuid", p, m->uuid, error);
}
