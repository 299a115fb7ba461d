/* services.c: the services table: heartbeats, listing, disable/enable. */
#include "db/db.h"
#include "db/db_private.h"

#define SERVICE_COLS \
    "id, binary_name, host, topic, report_count, " TERN_DB_US("last_seen_up") ", disabled, " \
    "disabled_reason, forced_down, version, " TERN_DB_US("created_at") ", " \
    TERN_DB_US("updated_at")

void
tern_db_service_free(TernDbService *svc)
{
    if (!svc)
        return;
    g_free(svc->binary);
    g_free(svc->host);
    g_free(svc->topic);
    g_free(svc->disabled_reason);
    g_free(svc);
}

static TernDbService *
service_from_row(const PGresult *r, int row)
{
    TernDbService *s = g_new0(TernDbService, 1);
    s->id = tern_db_get_int(r, row, 0);
    s->binary = tern_db_get_text(r, row, 1);
    s->host = tern_db_get_text(r, row, 2);
    s->topic = tern_db_get_text(r, row, 3);
    s->report_count = tern_db_get_int(r, row, 4);
    s->last_seen_up = tern_db_get_int(r, row, 5);
    s->disabled = tern_db_get_bool(r, row, 6);
    s->disabled_reason = tern_db_get_text(r, row, 7);
    s->forced_down = tern_db_get_bool(r, row, 8);
    s->version = tern_db_get_int(r, row, 9);
    s->created_at = tern_db_get_int(r, row, 10);
    s->updated_at = tern_db_get_int(r, row, 11);
    return s;
}

int
tern_db_service_heartbeat(TernDb *db, const char *binary, const char *host, const char *topic,
                          gint64 version, TernDbService **out, GError **error)
{
    g_autoptr(TernDbParams) p = tern_db_params_new();
    tern_db_params_text(p, binary);
    tern_db_params_text(p, host);
    tern_db_params_text(p, topic);
    tern_db_params_int(p, version);
    /* Not retry-safe in the strict sense (report_count could count one
     * heartbeat twice), which is harmless: a heartbeat is a liveness mark. */
    g_autoptr(PGresult) r = tern_db_exec_prepared(db, "tern_service_heartbeat",
        "INSERT INTO services (binary_name, host, topic, version, report_count, last_seen_up)"
        " VALUES ($1, $2, $3, $4, 1, now())"
        " ON CONFLICT (binary_name, host) DO UPDATE SET"
        "  topic = EXCLUDED.topic, version = EXCLUDED.version,"
        "  report_count = services.report_count + 1, last_seen_up = now(), updated_at = now()"
        " RETURNING " SERVICE_COLS,
        TERN_DB_PARAMS_N(p), TERN_DB_PARAMS_V(p), TERN_DB_EXEC_RETRY_SAFE, error);
    if (!r)
        return -1;
    if (out)
        *out = service_from_row(r, 0);
    return 0;
}

int
tern_db_service_get(TernDb *db, const char *binary, const char *host, TernDbService **out,
                    GError **error)
{
    const char *params[] = { binary, host };
    g_autoptr(PGresult) r = tern_db_exec(db,
        "SELECT " SERVICE_COLS " FROM services WHERE binary_name = $1 AND host = $2",
        2, params, TERN_DB_EXEC_RETRY_SAFE, error);
    if (!r)
        return -1;
    if (PQntuples(r) == 0) {
        g_autofree char *key = g_strdup_printf("%s on %s", binary, host);
        tern_db_set_not_found(error, "service", key);
        return -1;
    }
    *out = service_from_row(r, 0);
    return 0;
}

int
tern_db_service_list(TernDb *db, const char *binary, GPtrArray **out, GError **error)
{
    const char *params[] = { binary };
    g_autoptr(PGresult) r = tern_db_exec(db,
        "SELECT " SERVICE_COLS " FROM services WHERE $1::text IS NULL OR binary_name = $1"
        " ORDER BY binary_name, host",
        1, params, TERN_DB_EXEC_RETRY_SAFE, error);
    if (!r)
        return -1;
    *out = g_ptr_array_new_with_free_func((GDestroyNotify) tern_db_service_free);
    for (int k = 0; k < PQntuples(r); k++)
        g_ptr_array_add(*out, service_from_row(r, k));
    return 0;
}

static int
update_one(TernDb *db, const char *sql, TernDbParams *p, const char *binary, const char *host,
           GError **error)
{
    g_autoptr(PGresult) r = tern_db_exec(db, sql, TERN_DB_PARAMS_N(p), TERN_DB_PARAMS_V(p),
                                         TERN_DB_EXEC_RETRY_SAFE, error);
    if (!r)
        return -1;
    if (tern_db_affected(r) == 0) {
        g_autofree char *key = g_strdup_printf("%s on %s", binary, host);
        tern_db_set_not_found(error, "service", key);
        return -1;
    }
    return 0;
}

int
tern_db_service_set_disabled(TernDb *db, const char *binary, const char *host,
                             gboolean disabled, const char *reason, GError **error)
{
    g_autoptr(TernDbParams) p = tern_db_params_new();
    tern_db_params_text(p, binary);
    tern_db_params_text(p, host);
    tern_db_params_bool(p, disabled);
    tern_db_params_text(p, disabled ? reason : NULL);
    return update_one(db,
        "UPDATE services SET disabled = $3, disabled_reason = $4, updated_at = now()"
        " WHERE binary_name = $1 AND host = $2", p, binary, host, error);
}

int
tern_db_service_set_forced_down(TernDb *db, const char *binary, const char *host,
                                gboolean forced_down, GError **error)
{
    g_autoptr(TernDbParams) p = tern_db_params_new();
    tern_db_params_text(p, binary);
    tern_db_params_text(p, host);
    tern_db_params_bool(p, forced_down);
    return update_one(db,
        "UPDATE services SET forced_down = $3, updated_at = now()"
        " WHERE binary_name = $1 AND host = $2", p, binary, host, error);
}

int
tern_db_service_delete(TernDb *db, const char *binary, const char *host, GError **error)
{
    g_autoptr(TernDbParams) p = tern_db_params_new();
    tern_db_params_text(p, binary);
    tern_db_params_text(p, host);
    return update_one(db, "DELETE FROM services WHERE binary_name = $1 AND host = $2",
                      p, binary, host, error);
}

gboolean
tern_db_service_is_up(const TernDbService *svc, gint64 now, int down_time)
{
    if (svc->forced_down || !svc->last_seen_up)
        return FALSE;
    return now - svc->last_seen_up <= (gint64) down_time * G_USEC_PER_SEC;
}
