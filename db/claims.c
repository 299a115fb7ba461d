/* claims.c: atomic claims and releases of a host's resources, and move
 * claims for migrations.
 *
 * A claim is one statement: UPDATE compute_nodes ... WHERE used + req <=
 * capacity, then INSERT the allocation from the updated row. The row lock
 * the UPDATE takes serialises racing claims on one host, and PostgreSQL
 * re-checks the WHERE against the newest row after waiting for it (READ
 * COMMITTED), so two claims can never both fit into the last free room.
 * The unique (consumer, node) key makes a repeated claim a no-op: a
 * sequential repeat finds the allocation (NOT EXISTS), a concurrent one
 * fails on the key and its whole statement, usage update included, is
 * undone. */
#include "db/db.h"
#include "db/db_private.h"

#include <string.h>

void
tern_db_allocation_free(TernDbAllocation *a)
{
    if (!a)
        return;
    g_free(a->consumer_uuid);
    g_free(a->host);
    g_free(a);
}

static const char CLAIM_SQL[] =
    "WITH node AS ("
    " UPDATE compute_nodes n SET vcpus_used = n.vcpus_used + $3::int8,"
    "  memory_mb_used = n.memory_mb_used + $4::int8, local_gb_used = n.local_gb_used + $5::int8,"
    "  running_vms = n.running_vms + 1, generation = n.generation + 1, updated_at = now()"
    " WHERE n.host = $2::text"
    "  AND n.vcpus_used + $3::int8 <= floor((n.vcpus - n.reserved_vcpus) * n.cpu_allocation_ratio)"
    "  AND n.memory_mb_used + $4::int8 <="
    "      floor((n.memory_mb - n.reserved_memory_mb) * n.ram_allocation_ratio)"
    "  AND n.local_gb_used + $5::int8 <="
    "      floor((n.local_gb - n.reserved_disk_gb) * n.disk_allocation_ratio)"
    "  AND NOT EXISTS (SELECT 1 FROM allocations a"
    "                  WHERE a.consumer_uuid = $1::uuid AND a.node_id = n.id)"
    " RETURNING n.id),"
    " ins AS ("
    " INSERT INTO allocations (consumer_uuid, node_id, vcpus, memory_mb, disk_gb)"
    " SELECT $1::uuid, id, $3::int8, $4::int8, $5::int8 FROM node RETURNING id)"
    " SELECT count(*) FROM ins";

/* Why a claim inserted nothing: no such host, or the consumer holds it. */
static const char CLAIM_WHY_SQL[] =
    "SELECT (SELECT id FROM compute_nodes WHERE host = $2::text),"
    "  EXISTS (SELECT 1 FROM allocations a JOIN compute_nodes n ON n.id = a.node_id"
    "          WHERE a.consumer_uuid = $1::uuid AND n.host = $2::text)";

int
tern_db_claim(TernDb *db, const char *consumer_uuid, const char *host,
              const TernDbResources *req, gboolean *already_held, GError **error)
{
    if (already_held)
        *already_held = FALSE;
    if (!consumer_uuid || !host || !req) {
        g_set_error(error, TERN_DB_ERROR, TERN_DB_ERROR_INVALID,
                    "a claim needs a consumer uuid, a host and the resources");
        return -1;
    }
    if (req->vcpus < 0 || req->memory_mb < 0 || req->disk_gb < 0) {
        g_set_error(error, TERN_DB_ERROR, TERN_DB_ERROR_INVALID,
                    "cannot claim negative resources (vcpus %" G_GINT64_FORMAT
                    ", memory_mb %" G_GINT64_FORMAT ", disk_gb %" G_GINT64_FORMAT ")",
                    req->vcpus, req->memory_mb, req->disk_gb);
        return -1;
    }
    g_autoptr(TernDbParams) p = tern_db_params_new();
    tern_db_params_text(p, consumer_uuid);
    tern_db_params_text(p, host);
    tern_db_params_int(p, req->vcpus);
    tern_db_params_int(p, req->memory_mb);
    tern_db_params_int(p, req->disk_gb);
    g_autoptr(GError) local = NULL;
    /* Retry-safe: a repeat of an applied claim finds the allocation. */
    g_autoptr(PGresult) r = tern_db_exec_prepared(db, "tern_claim", CLAIM_SQL,
        TERN_DB_PARAMS_N(p), TERN_DB_PARAMS_V(p), TERN_DB_EXEC_RETRY_SAFE, &local);
    if (!r) {
        if (g_error_matches(local, TERN_DB_ERROR, TERN_DB_ERROR_CONFLICT)) {
            /* A concurrent claim for the same consumer and host won. */
            if (already_held)
                *already_held = TRUE;
            return 0;
        }
        g_propagate_error(error, g_steal_pointer(&local));
        return -1;
    }
    if (tern_db_get_int(r, 0, 0) == 1)
        return 0;
    /* Refused: find out why (off the hot path). */
    g_autoptr(PGresult) why = tern_db_exec_prepared(db, "tern_claim_why", CLAIM_WHY_SQL, 2,
                                                    TERN_DB_PARAMS_V(p), TERN_DB_EXEC_RETRY_SAFE,
                                                    error);
    if (!why)
        return -1;
    if (PQgetisnull(why, 0, 0)) {
        tern_db_set_not_found(error, "compute node", host);
        return -1;
    }
    if (tern_db_get_bool(why, 0, 1)) {
        if (already_held)
            *already_held = TRUE;
        return 0;
    }
    g_set_error(error, TERN_DB_ERROR, TERN_DB_ERROR_NO_CAPACITY,
                "host '%s' has no room for %" G_GINT64_FORMAT " vCPUs, %" G_GINT64_FORMAT
                " MB RAM, %" G_GINT64_FORMAT " GB disk", host, req->vcpus, req->memory_mb,
                req->disk_gb);
    return -1;
}

static const char RELEASE_SQL[] =
    "WITH del AS ("
    " DELETE FROM allocations a USING compute_nodes n"
    " WHERE a.consumer_uuid = $1::uuid AND a.node_id = n.id"
    "  AND ($2::text IS NULL OR n.host = $2::text)"
    " RETURNING a.node_id, a.vcpus, a.memory_mb, a.disk_gb),"
    " upd AS ("
    " UPDATE compute_nodes n SET vcpus_used = n.vcpus_used - d.vcpus,"
    "  memory_mb_used = n.memory_mb_used - d.memory_mb, local_gb_used = n.local_gb_used - d.disk_gb,"
    "  running_vms = n.running_vms - d.cnt, generation = n.generation + 1, updated_at = now()"
    " FROM (SELECT node_id, sum(vcpus) AS vcpus, sum(memory_mb) AS memory_mb,"
    "        sum(disk_gb) AS disk_gb, count(*) AS cnt FROM del GROUP BY node_id) d"
    " WHERE n.id = d.node_id RETURNING n.id)"
    " SELECT (SELECT count(*) FROM del), (SELECT count(*) FROM upd)";

int
tern_db_release(TernDb *db, const char *consumer_uuid, const char *host, guint *released,
                GError **error)
{
    if (released)
        *released = 0;
    const char *params[] = { consumer_uuid, host };
    /* Retry-safe: a repeat finds nothing left to delete. */
    g_autoptr(PGresult) r = tern_db_exec_prepared(db, "tern_release", RELEASE_SQL, 2, params,
                                                  TERN_DB_EXEC_RETRY_SAFE, error);
    if (!r)
        return -1;
    if (released)
        *released = (guint) tern_db_get_int(r, 0, 0);
    return 0;
}

int
tern_db_move_claim(TernDb *db, const char *migration_uuid, const char *dest_host,
                   const TernDbResources *req, gboolean *already_held, GError **error)
{
    return tern_db_claim(db, migration_uuid, dest_host, req, already_held, error);
}

typedef struct {
    const char *migration_uuid;
    const char *instance_uuid;
    const char *source_host;
} ConfirmArgs;

static int
confirm_txn(TernDb *db, gpointer data, GError **error)
{
    ConfirmArgs *a = data;
    const char *rel[] = { a->instance_uuid, a->source_host };
    PGresult *r = tern_db_exec_prepared(db, "tern_release", RELEASE_SQL, 2, rel, 0, error);
    if (!r)
        return -1;
    PQclear(r);
    const char *swap[] = { a->migration_uuid, a->instance_uuid };
    r = tern_db_exec(db,
        "UPDATE allocations SET consumer_uuid = $2::uuid WHERE consumer_uuid = $1::uuid",
        2, swap, 0, error);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

int
tern_db_move_confirm(TernDb *db, const char *migration_uuid, const char *instance_uuid,
                     const char *source_host, GError **error)
{
    if (!migration_uuid || !instance_uuid || !source_host) {
        g_set_error(error, TERN_DB_ERROR, TERN_DB_ERROR_INVALID,
                    "confirming a move needs the migration, the instance and the source host");
        return -1;
    }
    ConfirmArgs a = { migration_uuid, instance_uuid, source_host };
    /* Both steps are idempotent: safe to run again after a lost connection. */
    return tern_db_transaction(db, TRUE, confirm_txn, &a, error);
}

int
tern_db_move_revert(TernDb *db, const char *migration_uuid, GError **error)
{
    return tern_db_release(db, migration_uuid, NULL, NULL, error);
}

int
tern_db_allocation_list(TernDb *db, const char *consumer_uuid, const char *host,
                        GPtrArray **out, GError **error)
{
    const char *params[] = { consumer_uuid, host };
    g_autoptr(PGresult) r = tern_db_exec(db,
        "SELECT a.id, a.consumer_uuid, n.host, a.vcpus, a.memory_mb, a.disk_gb, "
        TERN_DB_US("a.created_at")
        " FROM allocations a JOIN compute_nodes n ON n.id = a.node_id"
        " WHERE ($1::uuid IS NULL OR a.consumer_uuid = $1::uuid)"
        "  AND ($2::text IS NULL OR n.host = $2::text)"
        " ORDER BY n.host, a.consumer_uuid",
        2, params, TERN_DB_EXEC_RETRY_SAFE, error);
    if (!r)
        return -1;
    *out = g_ptr_array_new_with_free_func((GDestroyNotify) tern_db_allocation_free);
    for (int k = 0; k < PQntuples(r); k++) {
        TernDbAllocation *a = g_new0(TernDbAllocation, 1);
        a->id = tern_db_get_int(r, k, 0);
        a->consumer_uuid = tern_db_get_text(r, k, 1);
        a->host = tern_db_get_text(r, k, 2);
        a->vcpus = tern_db_get_int(r, k, 3);
        a->memory_mb = tern_db_get_int(r, k, 4);
        a->disk_gb = tern_db_get_int(r, k, 5);
        a->created_at = tern_db_get_int(r, k, 6);
        g_ptr_array_add(*out, a);
    }
    return 0;
}
