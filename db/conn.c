/* conn.c: the PostgreSQL connection: connect with retries, run
 * parameterised and prepared statements, reconnect after the server
 * restarted, transactions, and libpq errors turned into GErrors that carry
 * the SQLSTATE. The password never reaches a log line or an error. */
#include "db/db.h"
#include "db/db_private.h"

#include <string.h>
#include <jansson.h>

#include "common/log.h"
#include "common/mask.h"

#define MODULE "tern.db"

G_DEFINE_QUARK(tern-db-error-quark, tern_db_error)

struct _TernDb {
    PGconn *conn;
    char *url;
    char *url_masked;
    int max_retries;
    int retry_interval;
    GHashTable *prepared;     /* statement names prepared on this connection */
    guint reconnects;
    gboolean in_txn;          /* inside tern_db_transaction() */
    gboolean broken;          /* the last statement failed because the connection broke */
};

/* A libpq message on one line (libpq splits its hints over several, with
 * tabs), with the password masked. */
char *
tern_db_clean_message(const char *msg)
{
    g_autofree char *masked = tern_mask_text(msg ? msg : "");
    g_strchomp(masked);
    GString *s = g_string_new(NULL);
    for (const char *p = masked; *p; p++) {
        if (*p == '\n' || *p == '\t' || *p == '\r') {
            if (s->len && s->str[s->len - 1] != ' ')
                g_string_append_c(s, ' ');
        } else {
            g_string_append_c(s, *p);
        }
    }
    return g_string_free(s, FALSE);
}

static void
set_conn_error(TernDb *db, GError **error, const char *what)
{
    g_autofree char *msg = tern_db_clean_message(PQerrorMessage(db->conn));
    g_set_error(error, TERN_DB_ERROR, TERN_DB_ERROR_CONNECT, "database %s: %s: %s",
                db->url_masked, what, msg);
}

/* Map a failed result to a GError with a code callers can act on. */
void
tern_db_set_result_error(const PGresult *r, GError **error)
{
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char *primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    const char *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
    TernDbErrorCode code = TERN_DB_ERROR_QUERY;
    if (!state)
        state = "?????";
    if (strcmp(state, "23505") == 0)
        code = TERN_DB_ERROR_CONFLICT;            /* unique violation */
    else if (strncmp(state, "22", 2) == 0 || strcmp(state, "23514") == 0 ||
             strcmp(state, "23502") == 0 || strcmp(state, "23503") == 0)
        code = TERN_DB_ERROR_INVALID;             /* bad value, check, not null, foreign key */
    else if (strcmp(state, "42P01") == 0 || strcmp(state, "42703") == 0 ||
             strcmp(state, "42883") == 0)
        code = TERN_DB_ERROR_SCHEMA;              /* missing table/column/function */
    else if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)
        code = TERN_DB_ERROR_CONNECT;
    g_autofree char *p = tern_db_clean_message(primary ? primary : PQresultErrorMessage(r));
    g_autofree char *d = detail ? tern_db_clean_message(detail) : NULL;
    if (code == TERN_DB_ERROR_SCHEMA)
        g_set_error(error, TERN_DB_ERROR, code,
                    "database: %s (SQLSTATE %s); is the schema current? run 'tern-manage db sync'",
                    p, state);
    else if (d)
        g_set_error(error, TERN_DB_ERROR, code, "database: %s: %s (SQLSTATE %s)", p, d, state);
    else
        g_set_error(error, TERN_DB_ERROR, code, "database: %s (SQLSTATE %s)", p, state);
}

static void
notice_receiver(void *arg, const PGresult *r)
{
    g_autofree char *msg = tern_db_clean_message(PQresultErrorMessage(r));
    TERN_DEBUG(MODULE, "server notice: %s", msg);
}

/* Sleep before reconnect attempt k: 0.1 s doubling up to retry_interval. */
void
tern_db_backoff(int attempt, int retry_interval)
{
    double s = 0.1 * (double) (1u << MIN(attempt, 10));
    if (s > retry_interval)
        s = retry_interval;
    if (s > 0)
        g_usleep((gulong) (s * G_USEC_PER_SEC));
}

PGconn *
tern_db_connect_url(const char *url, const char *url_masked, int max_retries,
                    int retry_interval, GError **error)
{
    for (int attempt = 0;; attempt++) {
        PGconn *conn = PQconnectdb(url);
        if (conn && PQstatus(conn) == CONNECTION_OK) {
            PQsetNoticeReceiver(conn, notice_receiver, NULL);
            if (attempt > 0)
                TERN_INFO(MODULE, "connected to %s after %d retries", url_masked, attempt);
            return conn;
        }
        g_autofree char *msg = tern_db_clean_message(conn ? PQerrorMessage(conn) : "out of memory");
        PQfinish(conn);
        if (max_retries >= 0 && attempt >= max_retries) {
            g_set_error(error, TERN_DB_ERROR, TERN_DB_ERROR_CONNECT,
                        "cannot connect to database %s: %s", url_masked, msg);
            return NULL;
        }
        TERN_WARN(MODULE, "cannot connect to database %s (attempt %d): %s", url_masked,
                  attempt + 1, msg);
        tern_db_backoff(attempt, retry_interval);
    }
}

TernDb *
tern_db_open(const char *url, int max_retries, int retry_interval, GError **error)
{
    if (!url || !*url) {
        g_set_error(error, TERN_DB_ERROR, TERN_DB_ERROR_CONNECT,
                    "no database configured: set [database] connection "
                    "(postgresql://user:password@host:port/dbname)");
        return NULL;
    }
    tern_mask_add_secret(url);
    g_autofree char *masked = tern_mask_text(url);
    PGconn *conn = tern_db_connect_url(url, masked, max_retries, retry_interval, error);
    if (!conn)
        return NULL;
    TernDb *db = g_new0(TernDb, 1);
    db->conn = conn;
    db->url = g_strdup(url);
    db->url_masked = g_steal_pointer(&masked);
    db->max_retries = max_retries;
    db->retry_interval = retry_interval;
    db->prepared = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    TERN_DEBUG(MODULE, "connected to %s (server %d)", db->url_masked, PQserverVersion(conn));
    return db;
}

TernDb *
tern_db_open_config(const TernConfig *conf, GError **error)
{
    return tern_db_open(tern_config_get_string(conf, "database", "connection"),
                        (int) tern_config_get_int(conf, "database", "max_retries"),
                        (int) tern_config_get_int(conf, "database", "retry_interval"), error);
}

void
tern_db_close(TernDb *db)
{
    if (!db)
        return;
    PQfinish(db->conn);
    g_hash_table_destroy(db->prepared);
    g_free(db->url);
    g_free(db->url_masked);
    g_free(db);
}

const char *
tern_db_url_masked(const TernDb *db)
{
    return db->url_masked;
}

guint
tern_db_reconnects(const TernDb *db)
{
    return db->reconnects;
}

PGconn *
tern_db_pgconn(TernDb *db)
{
    return db->conn;
}

/* Re-establish a broken connection: PQreset with back-off. */
static int
reconnect(TernDb *db, GError **error)
{
    g_hash_table_remove_all(db->prepared);
    for (int attempt = 0;; attempt++) {
        PQreset(db->conn);
        if (PQstatus(db->conn) == CONNECTION_OK) {
            PQsetNoticeReceiver(db->conn, notice_receiver, NULL);
            db->reconnects++;
            db->broken = FALSE;
            TERN_INFO(MODULE, "reconnected to %s", db->url_masked);
            return 0;
        }
        if (db->max_retries >= 0 && attempt >= db->max_retries) {
            set_conn_error(db, error, "cannot reconnect");
            return -1;
        }
        g_autofree char *msg = tern_db_clean_message(PQerrorMessage(db->conn));
        TERN_WARN(MODULE, "database %s: reconnect attempt %d failed: %s", db->url_masked,
                  attempt + 1, msg);
        tern_db_backoff(attempt, db->retry_interval);
    }
}

static PGresult *
run(TernDb *db, const char *name, const char *sql, int nparams, const char *const *params)
{
    if (!name)
        return PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    if (!g_hash_table_contains(db->prepared, name)) {
        PGresult *p = PQprepare(db->conn, name, sql, nparams, NULL);
        if (PQresultStatus(p) != PGRES_COMMAND_OK)
            return p;
        PQclear(p);
        g_hash_table_add(db->prepared, g_strdup(name));
    }
    return PQexecPrepared(db->conn, name, nparams, params, NULL, NULL, 0);
}

static PGresult *
exec_full(TernDb *db, const char *name, const char *sql, int nparams,
          const char *const *params, TernDbExecFlags flags, GError **error)
{
    for (int attempt = 0;; attempt++) {
        if (PQstatus(db->conn) != CONNECTION_OK) {
            if (db->in_txn) {
                db->broken = TRUE;
                set_conn_error(db, error, "connection lost inside a transaction");
                return NULL;
            }
            if (reconnect(db, error) < 0)
                return NULL;
        }
        PGresult *r = run(db, name, sql, nparams, params);
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
            return r;
        if (PQstatus(db->conn) == CONNECTION_OK) {
            tern_db_set_result_error(r, error);
            PQclear(r);
            return NULL;
        }
        /* The connection broke. Outside a transaction, reconnect; run the
         * statement again only if doing so cannot apply it twice. */
        db->broken = TRUE;
        g_autofree char *msg = tern_db_clean_message(r ? PQresultErrorMessage(r)
                                                       : PQerrorMessage(db->conn));
        PQclear(r);
        TERN_WARN(MODULE, "database %s: connection lost: %s", db->url_masked, msg);
        if (db->in_txn) {
            g_set_error(error, TERN_DB_ERROR, TERN_DB_ERROR_CONNECT,
                        "database %s: connection lost inside a transaction: %s",
                        db->url_masked, msg);
            return NULL;
        }
        if (reconnect(db, error) < 0)
            return NULL;
        if (!(flags & TERN_DB_EXEC_RETRY_SAFE) || attempt > 0) {
            g_set_error(error, TERN_DB_ERROR, TERN_DB_ERROR_CONNECT,
                        "database %s: connection lost while running a statement "
                        "(reconnected; it may or may not have been applied): %s",
                        db->url_masked, msg);
            return NULL;
        }
    }
}

PGresult *
tern_db_exec(TernDb *db, const char *sql, int nparams, const char *const *params,
             TernDbExecFlags flags, GError **error)
{
    return exec_full(db, NULL, sql, nparams, params, flags, error);
}

PGresult *
tern_db_exec_prepared(TernDb *db, const char *name, const char *sql, int nparams,
                      const char *const *params, TernDbExecFlags flags, GError **error)
{
    return exec_full(db, name, sql, nparams, params, flags, error);
}

int
tern_db_command(TernDb *db, const char *sql, int nparams, const char *const *params,
                TernDbExecFlags flags, GError **error)
{
    PGresult *r = tern_db_exec(db, sql, nparams, params, flags, error);
    PQclear(r);
    return r ? 0 : -1;
}

int
tern_db_transaction(TernDb *db, gboolean retry_safe, TernDbTxnFunc fn, gpointer data,
                    GError **error)
{
    g_return_val_if_fail(!db->in_txn, -1);
    for (int attempt = 0;; attempt++) {
        g_autoptr(GError) local = NULL;
        if (tern_db_command(db, "BEGIN", 0, NULL, TERN_DB_EXEC_RETRY_SAFE, error) < 0)
            return -1;
        db->in_txn = TRUE;
        db->broken = FALSE;
        int rc = fn(db, data, &local);
        if (rc == 0) {
            PGresult *r = tern_db_exec(db, "COMMIT", 0, NULL, 0, &local);
            /* COMMIT of a failed transaction reports ROLLBACK without error. */
            if (r && strcmp(PQcmdStatus(r), "ROLLBACK") == 0) {
                g_set_error(&local, TERN_DB_ERROR, TERN_DB_ERROR_QUERY,
                            "database: transaction was rolled back");
                rc = -1;
            } else if (!r) {
                rc = -1;
            }
            PQclear(r);
            if (rc == 0) {
                db->in_txn = FALSE;
                return 0;
            }
        }
        db->in_txn = FALSE;
        if (db->broken || PQstatus(db->conn) != CONNECTION_OK) {
            /* The server rolled the transaction back (or, if COMMIT itself
             * was lost, maybe not: only idempotent work is retried). */
            if (retry_safe && attempt == 0) {
                TERN_WARN(MODULE, "database %s: transaction interrupted (%s); running it again",
                          db->url_masked, local ? local->message : "connection lost");
                if (reconnect(db, error) < 0)
                    return -1;
                continue;
            }
        } else {
            PQclear(tern_db_exec(db, "ROLLBACK", 0, NULL, 0, NULL));
        }
        if (local)
            g_propagate_error(error, g_steal_pointer(&local));
        else
            g_set_error(error, TERN_DB_ERROR, TERN_DB_ERROR_QUERY, "database: transaction failed");
        return -1;
    }
}

/* --- Result helpers ------------------------------------------------------ */

char *
tern_db_get_text(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return NULL;
    return g_strdup(PQgetvalue(r, row, col));
}

gint64
tern_db_get_int(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return 0;
    return g_ascii_strtoll(PQgetvalue(r, row, col), NULL, 10);
}

double
tern_db_get_float(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return 0;
    return g_ascii_strtod(PQgetvalue(r, row, col), NULL);
}

gboolean
tern_db_get_bool(const PGresult *r, int row, int col)
{
    return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}

char **
tern_db_get_strv(const PGresult *r, int row, int col)
{
    GPtrArray *a = g_ptr_array_new();
    if (!PQgetisnull(r, row, col)) {
        json_t *j = json_loads(PQgetvalue(r, row, col), 0, NULL);
        size_t k;
        json_t *v;
        if (json_is_array(j))
            json_array_foreach(j, k, v)
                if (json_is_string(v))
                    g_ptr_array_add(a, g_strdup(json_string_value(v)));
        json_decref(j);
    }
    g_ptr_array_add(a, NULL);
    return (char **) g_ptr_array_free(a, FALSE);
}

char *
tern_db_strv_to_json(const char *const *strv)
{
    json_t *a = json_array();
    for (int k = 0; strv && strv[k]; k++)
        json_array_append_new(a, json_string(strv[k]));
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    char *out = g_strdup(s);
    free(s);
    return out;
}

/* A trusted multi-statement script (a migration file built into tern):
 * simple query protocol, no parameters. Only inside a transaction. */
int
tern_db_exec_script(TernDb *db, const char *sql, GError **error)
{
    PGresult *r = PQexec(db->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        PQclear(r);
        return 0;
    }
    if (PQstatus(db->conn) != CONNECTION_OK) {
        db->broken = TRUE;
        set_conn_error(db, error, "connection lost");
    } else {
        tern_db_set_result_error(r, error);
    }
    PQclear(r);
    return -1;
}
