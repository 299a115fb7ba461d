/* db_private.h: helpers shared by the files of db/ only: error mapping,
 * reconnect back-off, and a builder for statement parameters. */
#ifndef TERN_DB_PRIVATE_H
#define TERN_DB_PRIVATE_H

#include "db/db.h"

/* A libpq message with secrets masked and the trailing newline cut. */
char *tern_db_clean_message(const char *msg);
/* A GError (TERN_DB_ERROR, code from the SQLSTATE) from a failed result. */
void tern_db_set_result_error(const PGresult *r, GError **error);
/* Sleep before reconnect attempt number attempt. */
void tern_db_backoff(int attempt, int retry_interval);
/* PQconnectdb with retries; NULL with error set. */
PGconn *tern_db_connect_url(const char *url, const char *url_masked, int max_retries,
                            int retry_interval, GError **error);

/* Run a trusted multi-statement script (simple protocol, no parameters). */
int tern_db_exec_script(TernDb *db, const char *sql, GError **error);

/* SQL: a timestamptz column as bigint microseconds since the epoch. */
#define TERN_DB_US(col) "(extract(epoch from " col ") * 1000000)::int8"
/* SQL: parameter n (bigint microseconds, NULL for 0) as a timestamptz. */
#define TERN_DB_TS(n) "to_timestamp($" n "::float8 / 1000000)"

/* Statement parameters in text form; NULL entries are SQL NULLs. */
typedef struct {
    GPtrArray *v;
} TernDbParams;

TernDbParams *tern_db_params_new(void);
void tern_db_params_free(TernDbParams *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TernDbParams, tern_db_params_free)
void tern_db_params_text(TernDbParams *p, const char *s);
void tern_db_params_int(TernDbParams *p, gint64 v);
void tern_db_params_float(TernDbParams *p, double v);
void tern_db_params_bool(TernDbParams *p, gboolean v);
void tern_db_params_time(TernDbParams *p, gint64 us);   /* 0 -> NULL */
void tern_db_params_strv(TernDbParams *p, char **strv); /* JSON array */
#define TERN_DB_PARAMS_N(p) ((int) (p)->v->len)
#define TERN_DB_PARAMS_V(p) ((const char *const *) (p)->v->pdata)

/* Set TERN_DB_ERROR_NOT_FOUND "no WHAT KEY". */
void tern_db_set_not_found(GError **error, const char *what, const char *key);
/* Number of rows a command touched. */
gint64 tern_db_affected(const PGresult *r);

/* tern_db_claim_guest with the exec flags (0 inside a transaction: a
 * broken connection re-runs the whole transaction, not the statement). */
int tern_db_claim_in(TernDb *db, const char *consumer_uuid, const char *host,
                     const TernDbResources *req, const TernDbGuestRules *guest, int flags,
                     gboolean *already_held, GError **error);

#endif
