/* schema.c: apply the numbered migrations (db/migrations/NNN_name.sql,
 * built in as a GResource) in order, under an advisory lock, and report the
 * version a database is at (table tern_schema_version). */
#include "db/db.h"
#include "db/db_private.h"

#include <gio/gio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

#define MODULE "tern.db"
#define RESOURCE_DIR "/org/tern/db/migrations"
/* pg_advisory_xact_lock key: "tern" in ASCII, one lock for every sync. */
#define SYNC_LOCK_KEY "1952805486"

GResource *tern_db_migrations_get_resource(void);

typedef struct {
    int version;
    char *name;       /* "001_initial.sql" */
} Migration;

static void
migration_free(Migration *m)
{
    g_free(m->name);
    g_free(m);
}

static gint
by_version(gconstpointer a, gconstpointer b)
{
    return (*(Migration *const *) a)->version - (*(Migration *const *) b)->version;
}

/* The built-in migrations, sorted by version. */
static GPtrArray *
migrations_list(void)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify) migration_free);
    g_auto(GStrv) names = g_resource_enumerate_children(tern_db_migrations_get_resource(),
                                                        RESOURCE_DIR, 0, NULL);
    for (int k = 0; names && names[k]; k++) {
        if (!g_str_has_suffix(names[k], ".sql") || !g_ascii_isdigit(names[k][0]))
            continue;
        Migration *m = g_new0(Migration, 1);
        m->version = atoi(names[k]);
        m->name = g_strdup(names[k]);
        g_ptr_array_add(out, m);
    }
    g_ptr_array_sort(out, by_version);
    return out;
}

int
tern_db_schema_latest(void)
{
    g_autoptr(GPtrArray) all = migrations_list();
    return all->len ? ((Migration *) all->pdata[all->len - 1])->version : 0;
}

static int
read_version(TernDb *db, int *version, GError **error)
{
    g_autoptr(PGresult) r = tern_db_exec(db,
        "SELECT CASE WHEN to_regclass('tern_schema_version') IS NULL THEN -1 END", 0, NULL,
        TERN_DB_EXEC_RETRY_SAFE, error);
    if (!r)
        return -1;
    if (!PQgetisnull(r, 0, 0)) {
        *version = 0;
        return 0;
    }
    g_autoptr(PGresult) v = tern_db_exec(db,
        "SELECT coalesce(max(version), 0) FROM tern_schema_version", 0, NULL,
        TERN_DB_EXEC_RETRY_SAFE, error);
    if (!v)
        return -1;
    *version = (int) tern_db_get_int(v, 0, 0);
    return 0;
}

int
tern_db_schema_version(TernDb *db, int *version, GError **error)
{
    return read_version(db, version, error);
}

typedef struct {
    GPtrArray *all;
    int from, to;
} SyncState;

static int
sync_txn(TernDb *db, gpointer data, GError **error)
{
    SyncState *s = data;
    /* Held until COMMIT: a second sync waits here, then finds nothing to do. */
    if (tern_db_command(db, "SELECT pg_advisory_xact_lock(" SYNC_LOCK_KEY ")", 0, NULL, 0,
                        error) < 0)
        return -1;
    if (tern_db_command(db,
            "CREATE TABLE IF NOT EXISTS tern_schema_version ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())", 0, NULL, 0, error) < 0)
        return -1;
    int current;
    if (read_version(db, &current, error) < 0)
        return -1;
    s->from = s->to = current;
    int latest = s->all->len ? ((Migration *) s->all->pdata[s->all->len - 1])->version : 0;
    if (current > latest) {
        g_set_error(error, TERN_DB_ERROR, TERN_DB_ERROR_SCHEMA,
                    "the database schema is at version %d, newer than this tern (%d): "
                    "upgrade tern", current, latest);
        return -1;
    }
    for (guint k = 0; k < s->all->len; k++) {
        Migration *m = s->all->pdata[k];
        if (m->version <= current)
            continue;
        g_autofree char *path = g_strdup_printf(RESOURCE_DIR "/%s", m->name);
        g_autoptr(GBytes) sql = g_resource_lookup_data(tern_db_migrations_get_resource(), path,
                                                       0, error);
        if (!sql)
            return -1;
        /* GResource data is NUL-terminated. */
        g_autoptr(GError) local = NULL;
        if (tern_db_exec_script(db, g_bytes_get_data(sql, NULL), &local) < 0) {
            g_set_error(error, TERN_DB_ERROR, local->code, "migration %s failed: %s", m->name,
                        local->message);
            return -1;
        }
        g_autofree char *v = g_strdup_printf("%d", m->version);
        const char *params[] = { v, m->name };
        if (tern_db_command(db, "INSERT INTO tern_schema_version (version, name) VALUES ($1, $2)",
                            2, params, 0, error) < 0)
            return -1;
        TERN_INFO(MODULE, "applied migration %s", m->name);
        s->to = m->version;
    }
    return 0;
}

int
tern_db_schema_sync(TernDb *db, int *from, int *to, GError **error)
{
    SyncState s = { .all = migrations_list() };
    /* The whole upgrade is one transaction: all of it or none of it. */
    int rc = tern_db_transaction(db, TRUE, sync_txn, &s, error);
    g_ptr_array_unref(s.all);
    if (rc < 0)
        return -1;
    if (from)
        *from = s.from;
    if (to)
        *to = s.to;
    return 0;
}

int
tern_db_schema_check(TernDb *db, GError **error)
{
    int v;
    if (read_version(db, &v, error) < 0)
        return -1;
    int latest = tern_db_schema_latest();
    if (v != latest) {
        g_set_error(error, TERN_DB_ERROR, TERN_DB_ERROR_SCHEMA,
                    "the database %s is at schema version %d but this tern needs %d: %s",
                    tern_db_url_masked(db), v, latest,
                    v < latest ? "run 'tern-manage db sync'" : "upgrade tern");
        return -1;
    }
    return 0;
}
