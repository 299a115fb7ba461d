/* db.h: tern's PostgreSQL inventory, the public API. This header is the
 * connection (libpq, parameterised statements only, reconnect after a server
 * restart, errors as GError); it includes the per-area headers, so callers
 * include only "db/db.h":
 *
 *   db/schema.h         numbered migrations: sync, version
 *   db/services.h       services (binary, host, heartbeat, disabled)
 *   db/compute_nodes.h  hosts: inventory, CPU, ratios, used amounts
 *   db/instances.h      instances and instance faults
 *   db/migrations.h     migration records (live migration, resize)
 *   db/claims.h         allocations: atomic claims, move claims, release
 *   db/server_groups.h  server groups: members, claims under the group rule
 *   db/changes.h        change feed: LISTEN/NOTIFY + "changes since id"
 *
 * Times are gint64 microseconds since the Unix epoch (g_get_real_time()'s
 * unit); 0 means "not set". UUIDs are canonical text; a malformed one is
 * refused by PostgreSQL (TERN_DB_ERROR_INVALID), never interpolated.
 *
 * Threads: a TernDb is one connection and must be used by one thread at a
 * time; open one per thread (or per process). */
#ifndef TERN_DB_H
#define TERN_DB_H

#include <glib.h>
#include <libpq-fe.h>

#include "common/config.h"

#define TERN_DB_ERROR (tern_db_error_quark())
GQuark tern_db_error_quark(void);
typedef enum {
    TERN_DB_ERROR_CONNECT,      /* cannot reach the server (after the retries) */
    TERN_DB_ERROR_QUERY,        /* the server refused a statement; the message has the SQLSTATE */
    TERN_DB_ERROR_NOT_FOUND,    /* no such row (host, uuid...) */
    TERN_DB_ERROR_NO_CAPACITY,  /* a claim was refused: the host lacks room */
    TERN_DB_ERROR_CONFLICT,     /* already exists, or an expected state/generation did not match */
    TERN_DB_ERROR_INVALID,      /* bad input refused by the server (malformed uuid, value out of range) */
    TERN_DB_ERROR_SCHEMA,       /* schema missing or older/newer than this build: run tern-manage db sync */
    TERN_DB_ERROR_GUEST_RULE,   /* a claim was refused: the host runs guests of the other endianness */
    TERN_DB_ERROR_GROUP_RULE,   /* a claim was refused: the server group policy forbids that host */
} TernDbErrorCode;

typedef struct _TernDb TernDb;

/* Connect to url (a libpq URL or conninfo string, passed to libpq as-is, so
 * sslmode/sslrootcert... are honoured). Retries max_retries times (-1 =
 * forever) every retry_interval seconds when the server is unreachable.
 * The password never appears in logs or error messages. */
TernDb *tern_db_open(const char *url, int max_retries, int retry_interval, GError **error);
/* The same from [database] connection, max_retries, retry_interval. */
TernDb *tern_db_open_config(const TernConfig *conf, GError **error);
void tern_db_close(TernDb *db);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TernDb, tern_db_close)

/* The URL with its password masked (for messages). */
const char *tern_db_url_masked(const TernDb *db);
/* How many times this connection was re-established after a failure. */
guint tern_db_reconnects(const TernDb *db);
/* The raw libpq connection (tests, COPY). Do not keep it across calls:
 * a reconnect may replace it. */
PGconn *tern_db_pgconn(TernDb *db);

/* --- Statements ---------------------------------------------------------
 * Every statement is parameterised: values travel as parameters ($1, $2...)
 * in text form, never inside the SQL text. */
typedef enum {
    TERN_DB_EXEC_DEFAULT = 0,
    /* Re-running the statement after the connection broke cannot apply it
     * twice (a read, an idempotent claim/release, an upsert): after a
     * reconnect it is run once more instead of failing. */
    TERN_DB_EXEC_RETRY_SAFE = 1 << 0,
} TernDbExecFlags;

/* Run sql with params (NULL entries are SQL NULLs). Returns the result
 * (PGRES_TUPLES_OK or PGRES_COMMAND_OK), or NULL with error set. */
PGresult *tern_db_exec(TernDb *db, const char *sql, int nparams, const char *const *params,
                       TernDbExecFlags flags, GError **error);
/* The same through a named prepared statement (prepared on first use on each
 * connection, and again after a reconnect). name must be a constant. */
PGresult *tern_db_exec_prepared(TernDb *db, const char *name, const char *sql, int nparams,
                                const char *const *params, TernDbExecFlags flags,
                                GError **error);
/* Run a statement for its effect only; 0 or -1. */
int tern_db_command(TernDb *db, const char *sql, int nparams, const char *const *params,
                    TernDbExecFlags flags, GError **error);

/* Run fn inside BEGIN ... COMMIT. fn returns 0 to commit, -1 (error set) to
 * roll back. If the connection breaks (and retry_safe), the whole
 * transaction is run again once after reconnecting: the server rolled the
 * first attempt back, so nothing is applied twice. */
typedef int (*TernDbTxnFunc)(TernDb *db, gpointer data, GError **error);
int tern_db_transaction(TernDb *db, gboolean retry_safe, TernDbTxnFunc fn, gpointer data,
                        GError **error);

/* PQclear for g_autoptr(PGresult). */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PGresult, PQclear)

/* Helpers to read a result: NULL-safe text, integers, booleans, times (the
 * query selects times as bigint microseconds), and string lists (the query
 * selects a text[] as to_json(col), read back as a GStrv). */
char *tern_db_get_text(const PGresult *r, int row, int col);           /* g_free; NULL if SQL NULL */
gint64 tern_db_get_int(const PGresult *r, int row, int col);           /* 0 if NULL */
double tern_db_get_float(const PGresult *r, int row, int col);         /* 0 if NULL */
gboolean tern_db_get_bool(const PGresult *r, int row, int col);        /* FALSE if NULL */
char **tern_db_get_strv(const PGresult *r, int row, int col);          /* g_strfreev; empty if NULL */
/* A JSON array of strings for a parameter (the statement turns it into a
 * text[] with ARRAY(SELECT jsonb_array_elements_text($n::jsonb))). */
char *tern_db_strv_to_json(const char *const *strv);

#include "db/schema.h"
#include "db/services.h"
#include "db/compute_nodes.h"
#include "db/instances.h"
#include "db/migrations.h"
#include "db/claims.h"
#include "db/server_groups.h"
#include "db/changes.h"

#endif
