/* schema.h: the schema's numbered migrations (db/migrations/NNN_name.sql,
 * built into the binary) and the version a database is at. */
#ifndef TERN_DB_SCHEMA_H
#define TERN_DB_SCHEMA_H

#include <glib.h>

typedef struct _TernDb TernDb;

/* The newest migration this build knows. */
int tern_db_schema_latest(void);
/* The version the database is at: 0 for an empty database. */
int tern_db_schema_version(TernDb *db, int *version, GError **error);
/* Apply every pending migration in order, each in its own transaction under
 * an advisory lock: idempotent, and safe when several run at once (the
 * later ones wait, then find nothing to do). from/to (may be NULL) receive
 * the versions before and after. A database newer than this build is an
 * error (TERN_DB_ERROR_SCHEMA). */
int tern_db_schema_sync(TernDb *db, int *from, int *to, GError **error);
/* Fail with TERN_DB_ERROR_SCHEMA unless the database is at
 * tern_db_schema_latest() (daemons call this at start-up). */
int tern_db_schema_check(TernDb *db, GError **error);

#endif
