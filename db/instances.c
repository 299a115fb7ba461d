/* instances.c: the instances and instance_faults tables. */
#include "db/db.h"
#include "db/db_private.h"

#include "common/util.h"

#define INSTANCE_COLS \
    "id, uuid, display_name, hostname, project_id, user_id, host, node, vm_state, " \
    "task_state, power_state, flavor::text, vcpus, memory_mb, root_gb, ephemeral_gb, " \
    "image_ref, image_properties::text, arch, guest_cpu::text, availability_zone, " \
    "metadata::text, " TERN_DB_US("launched_at") ", " TERN_DB_US("terminated_at") ", " \
    TERN_DB_US("created_at") ", " TERN_DB_US("updated_at") ", " TERN_DB_US("deleted_at") \
    ", deleted"

TernDbInstance *
tern_db_instance_new(void)
{
    TernDbInstance *i = g_new0(TernDbInstance, 1);
    i->vm_state = g_strdup("building");
    return i;
}

void
tern_db_instance_free(TernDbInstance *i)
{
    if (!i)
        return;
    g_free(i->uuid);
    g_free(i->display_name);
    g_free(i->hostname);
    g_free(i->project_id);
    g_free(i->user_id);
    g_free(i->host);
    g_free(i->node);
    g_free(i->vm_state);
    g_free(i->task_state);
    g_free(i->flavor);
    g_free(i->image_ref);
    g_free(i->image_properties);
    g_free(i->arch);
    g_free(i->guest_cpu);
    g_free(i->availability_zone);
    g_free(i->metadata);
    g_free(i);
}

static TernDbInstance *
instance_from_row(const PGresult *r, int row)
{
    TernDbInstance *i = g_new0(TernDbInstance, 1);
    int c = 0;
    i->id = tern_db_get_int(r, row, c++);
    i->uuid = tern_db_get_text(r, row, c++);
    i->display_name = tern_db_get_text(r, row, c++);
    i->hostname = tern_db_get_text(r, row, c++);
    i->project_id = tern_db_get_text(r, row, c++);
    i->user_id = tern_db_get_text(r, row, c++);
    i->host = tern_db_get_text(r, row, c++);
    i->node = tern_db_get_text(r, row, c++);
    i->vm_state = tern_db_get_text(r, row, c++);
    i->task_state = tern_db_get_text(r, row, c++);
    i->power_state = tern_db_get_int(r, row, c++);
    i->flavor = tern_db_get_text(r, row, c++);
    i->vcpus = tern_db_get_int(r, row, c++);
    i->memory_mb = tern_db_get_int(r, row, c++);
    i->root_gb = tern_db_get_int(r, row, c++);
    i->ephemeral_gb = tern_db_get_int(r, row, c++);
    i->image_ref = tern_db_get_text(r, row, c++);
    i->image_properties = tern_db_get_text(r, row, c++);
    i->arch = tern_db_get_text(r, row, c++);
    i->guest_cpu = tern_db_get_text(r, row, c++);
    i->availability_zone = tern_db_get_text(r, row, c++);
    i->metadata = tern_db_get_text(r, row, c++);
    i->launched_at = tern_db_get_int(r, row, c++);
    i->terminated_at = tern_db_get_int(r, row, c++);
    i->created_at = tern_db_get_int(r, row, c++);
    i->updated_at = tern_db_get_int(r, row, c++);
    i->deleted_at = tern_db_get_int(r, row, c++);
    i->deleted = tern_db_get_bool(r, row, c++);
    return i;
}

/* Parameters $2..$23: the mutable fields, in the order of MUTABLE_SET. */
static void
mutable_params(TernDbParams *p, const TernDbInstance *i)
{
    tern_db_params_text(p, i->display_name);     /* 2 */
    tern_db_params_text(p, i->hostname);
    tern_db_params_text(p, i->project_id);
    tern_db_params_text(p, i->user_id);
    tern_db_params_text(p, i->host);             /* 6 */
    tern_db_params_text(p, i->node);
    tern_db_params_text(p, i->vm_state ? i->vm_state : "building");
    tern_db_params_text(p, i->task_state);
    tern_db_params_int(p, i->power_state);       /* 10 */
    tern_db_params_text(p, i->flavor);
    tern_db_params_int(p, i->vcpus);
    tern_db_params_int(p, i->memory_mb);
    tern_db_params_int(p, i->root_gb);
    tern_db_params_int(p, i->ephemeral_gb);      /* 15 */
    tern_db_params_text(p, i->image_ref);
    tern_db_params_text(p, i->image_properties ? i->image_properties : "{}");
    tern_db_params_text(p, i->arch);
    tern_db_params_text(p, i->guest_cpu);
    tern_db_params_text(p, i->availability_zone); /* 20 */
    tern_db_params_text(p, i->metadata ? i->metadata : "{}");
    tern_db_params_time(p, i->launched_at);
    tern_db_params_time(p, i->terminated_at);    /* 23 */
}

int
tern_db_instance_create(TernDb *db, TernDbInstance *inst, GError **error)
{
    if (!inst->uuid)
        inst->uuid = tern_uuid_new();
    g_autoptr(TernDbParams) p = tern_db_params_new();
    tern_db_params_text(p, inst->uuid);
    mutable_params(p, inst);
    g_autoptr(PGresult) r = tern_db_exec(db,
        "INSERT INTO instances (uuid, display_name, hostname, project_id, user_id, host, node,"
        " vm_state, task_state, power_state, flavor, vcpus, memory_mb, root_gb, ephemeral_gb,"
        " image_ref, image_properties, arch, guest_cpu, availability_zone, metadata,"
        " launched_at, terminated_at)"
        " VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13, $14, $15,"
        "  $16, $17::jsonb, $18, $19::jsonb, $20, $21::jsonb, " TERN_DB_TS("22") ", "
        TERN_DB_TS("23") ")"
        " RETURNING id, " TERN_DB_US("created_at") ", " TERN_DB_US("updated_at"),
        TERN_DB_PARAMS_N(p), TERN_DB_PARAMS_V(p), 0, error);
    if (!r)
        return -1;
    inst->id = tern_db_get_int(r, 0, 0);
    inst->created_at = tern_db_get_int(r, 0, 1);
    inst->updated_at = tern_db_get_int(r, 0, 2);
    return 0;
}

int
tern_db_instance_get(TernDb *db, const char *uuid, gboolean with_deleted,
                     TernDbInstance **out, GError **error)
{
    const char *params[] = { uuid, with_deleted ? "true" : "false" };
    g_autoptr(PGresult) r = tern_db_exec_prepared(db, "tern_instance_get",
        "SELECT " INSTANCE_COLS " FROM instances WHERE uuid = $1::uuid AND ($2::bool OR NOT deleted)",
        2, params, TERN_DB_EXEC_RETRY_SAFE, error);
    if (!r)
        return -1;
    if (PQntuples(r) == 0) {
        tern_db_set_not_found(error, "instance", uuid);
        return -1;
    }
    *out = instance_from_row(r, 0);
    return 0;
}

int
tern_db_instance_list(TernDb *db, const char *host, GPtrArray **out, GError **error)
{
    const char *params[] = { host };
    g_autoptr(PGresult) r = tern_db_exec(db,
        "SELECT " INSTANCE_COLS " FROM instances WHERE NOT deleted"
        " AND ($1::text IS NULL OR host = $1::text) ORDER BY created_at, id",
        1, params, TERN_DB_EXEC_RETRY_SAFE, error);
    if (!r)
        return -1;
    *out = g_ptr_array_new_with_free_func((GDestroyNotify) tern_db_instance_free);
    for (int k = 0; k < PQntuples(r); k++)
        g_ptr_array_add(*out, instance_from_row(r, k));
    return 0;
}

static int
expect_one(PGresult *r, const char *uuid, GError **error)
{
    if (!r)
        return -1;
    gint64 n = tern_db_affected(r);
    PQclear(r);
    if (n == 0) {
        tern_db_set_not_found(error, "instance", uuid);
        return -1;
    }
    return 0;
}

int
tern_db_instance_save(TernDb *db, TernDbInstance *inst, GError **error)
{
    g_autoptr(TernDbParams) p = tern_db_params_new();
    tern_db_params_text(p, inst->uuid);
    mutable_params(p, inst);
    g_autoptr(PGresult) r = tern_db_exec(db,
        "UPDATE instances SET display_name = $2, hostname = $3, project_id = $4, user_id = $5,"
        " host = $6, node = $7, vm_state = $8, task_state = $9, power_state = $10,"
        " flavor = $11::jsonb, vcpus = $12, memory_mb = $13, root_gb = $14, ephemeral_gb = $15,"
        " image_ref = $16, image_properties = $17::jsonb, arch = $18, guest_cpu = $19::jsonb,"
        " availability_zone = $20, metadata = $21::jsonb, launched_at = " TERN_DB_TS("22") ","
        " terminated_at = " TERN_DB_TS("23") ", updated_at = now()"
        " WHERE uuid = $1::uuid RETURNING " TERN_DB_US("updated_at"),
        TERN_DB_PARAMS_N(p), TERN_DB_PARAMS_V(p), TERN_DB_EXEC_RETRY_SAFE, error);
    if (!r)
        return -1;
    if (PQntuples(r) == 0) {
        tern_db_set_not_found(error, "instance", inst->uuid);
        return -1;
    }
    inst->updated_at = tern_db_get_int(r, 0, 0);
    return 0;
}

int
tern_db_instance_update_states(TernDb *db, const char *uuid, const char *vm_state,
                               const char *task_state, gint64 power_state,
                               gboolean check_expected, const char *expected_task_state,
                               GError **error)
{
    g_autoptr(TernDbParams) p = tern_db_params_new();
    tern_db_params_text(p, uuid);
    tern_db_params_text(p, vm_state);
    tern_db_params_text(p, task_state);
    tern_db_params_int(p, power_state);
    tern_db_params_bool(p, check_expected);
    tern_db_params_text(p, expected_task_state);
    /* Not retry-safe: after a lost connection the repeat could fail the
     * expected_task_state check because the first attempt succeeded. */
    g_autoptr(PGresult) r = tern_db_exec(db,
        "WITH upd AS ("
        " UPDATE instances SET vm_state = coalesce($2, vm_state), task_state = $3,"
        "  power_state = CASE WHEN $4::int < 0 THEN power_state ELSE $4::int END,"
        "  updated_at = now()"
        " WHERE uuid = $1::uuid AND NOT deleted"
        "  AND (NOT $5::bool OR task_state IS NOT DISTINCT FROM $6::text)"
        " RETURNING id)"
        " SELECT (SELECT count(*) FROM upd),"
        "  (SELECT task_state FROM instances WHERE uuid = $1::uuid AND NOT deleted),"
        "  EXISTS (SELECT 1 FROM instances WHERE uuid = $1::uuid AND NOT deleted)",
        TERN_DB_PARAMS_N(p), TERN_DB_PARAMS_V(p), 0, error);
    if (!r)
        return -1;
    if (tern_db_get_int(r, 0, 0) == 1)
        return 0;
    if (!tern_db_get_bool(r, 0, 2)) {
        tern_db_set_not_found(error, "instance", uuid);
        return -1;
    }
    g_set_error(error, TERN_DB_ERROR, TERN_DB_ERROR_CONFLICT,
                "instance %s: unexpected task state: expected %s, found %s", uuid,
                expected_task_state ? expected_task_state : "none",
                PQgetisnull(r, 0, 1) ? "none" : PQgetvalue(r, 0, 1));
    return -1;
}

int
tern_db_instance_set_host(TernDb *db, const char *uuid, const char *host, const char *node,
                          GError **error)
{
    const char *params[] = { uuid, host, node };
    return expect_one(tern_db_exec(db,
        "UPDATE instances SET host = $2, node = $3, updated_at = now()"
        " WHERE uuid = $1::uuid AND NOT deleted", 3, params, TERN_DB_EXEC_RETRY_SAFE, error),
        uuid, error);
}

int
tern_db_instance_set_launched(TernDb *db, const char *uuid, const char *guest_cpu_json,
                              GError **error)
{
    const char *params[] = { uuid, guest_cpu_json };
    return expect_one(tern_db_exec(db,
        "UPDATE instances SET guest_cpu = $2::jsonb, launched_at = now(), updated_at = now()"
        " WHERE uuid = $1::uuid AND NOT deleted", 2, params, TERN_DB_EXEC_RETRY_SAFE, error),
        uuid, error);
}

int
tern_db_instance_destroy(TernDb *db, const char *uuid, GError **error)
{
    const char *params[] = { uuid };
    return expect_one(tern_db_exec(db,
        "UPDATE instances SET deleted = true,"
        " deleted_at = coalesce(deleted_at, now()), terminated_at = coalesce(terminated_at, now()),"
        " updated_at = now() WHERE uuid = $1::uuid", 1, params, TERN_DB_EXEC_RETRY_SAFE, error),
        uuid, error);
}

/* --- Faults --------------------------------------------------------------- */

void
tern_db_instance_fault_free(TernDbInstanceFault *f)
{
    if (!f)
        return;
    g_free(f->instance_uuid);
    g_free(f->message);
    g_free(f->details);
    g_free(f->host);
    g_free(f);
}

int
tern_db_instance_fault_add(TernDb *db, TernDbInstanceFault *fault, GError **error)
{
    g_autoptr(TernDbParams) p = tern_db_params_new();
    tern_db_params_text(p, fault->instance_uuid);
    tern_db_params_int(p, fault->code);
    tern_db_params_text(p, fault->message);
    tern_db_params_text(p, fault->details);
    tern_db_params_text(p, fault->host);
    g_autoptr(PGresult) r = tern_db_exec(db,
        "INSERT INTO instance_faults (instance_uuid, code, message, details, host)"
        " VALUES ($1::uuid, $2, $3, $4, $5) RETURNING id, " TERN_DB_US("created_at"),
        TERN_DB_PARAMS_N(p), TERN_DB_PARAMS_V(p), 0, error);
    if (!r)
        return -1;
    fault->id = tern_db_get_int(r, 0, 0);
    fault->created_at = tern_db_get_int(r, 0, 1);
    return 0;
}

int
tern_db_instance_fault_list(TernDb *db, const char *instance_uuid, GPtrArray **out,
                            GError **error)
{
    const char *params[] = { instance_uuid };
    g_autoptr(PGresult) r = tern_db_exec(db,
        "SELECT id, instance_uuid, code, message, details, host, " TERN_DB_US("created_at")
        " FROM instance_faults WHERE instance_uuid = $1::uuid ORDER BY created_at DESC, id DESC",
        1, params, TERN_DB_EXEC_RETRY_SAFE, error);
    if (!r)
        return -1;
    *out = g_ptr_array_new_with_free_func((GDestroyNotify) tern_db_instance_fault_free);
    for (int k = 0; k < PQntuples(r); k++) {
        TernDbInstanceFault *f = g_new0(TernDbInstanceFault, 1);
        f->id = tern_db_get_int(r, k, 0);
        f->instance_uuid = tern_db_get_text(r, k, 1);
        f->code = tern_db_get_int(r, k, 2);
        f->message = tern_db_get_text(r, k, 3);
        f->details = tern_db_get_text(r, k, 4);
        f->host = tern_db_get_text(r, k, 5);
        f->created_at = tern_db_get_int(r, k, 6);
        g_ptr_array_add(*out, f);
    }
    return 0;
}
