/* compute_nodes.c: the compute_nodes table: a host's report (upsert by
 * host), reads for the scheduler's cache, disable/enable, delete. The used
 * amounts are written by claims.c only. */
#include "db/db.h"
#include "db/db_private.h"

#include <math.h>
#include <stdlib.h>
#include <jansson.h>

#define NODE_COLS \
    "id, uuid, host, hypervisor_hostname, hypervisor_type, hypervisor_version, arch, " \
    "supported_instances::text, to_json(machine_types), cpu_info::text, cpu_model, " \
    "to_json(cpu_features), guest_cpu::text, guest_cpu_model, to_json(guest_cpu_features), " \
    "vcpus, memory_mb, local_gb, reserved_vcpus, reserved_memory_mb, reserved_disk_gb, " \
    "cpu_allocation_ratio, ram_allocation_ratio, disk_allocation_ratio, " \
    "vcpus_used, memory_mb_used, local_gb_used, running_vms, generation, disabled, " \
    "disabled_reason, " TERN_DB_US("created_at") ", " TERN_DB_US("updated_at")

void
tern_db_guest_type_free(TernDbGuestType *t)
{
    if (!t)
        return;
    g_free(t->arch);
    g_free(t->hv_type);
    g_free(t->vm_mode);
    g_free(t);
}

TernDbComputeNode *
tern_db_compute_node_new(void)
{
    TernDbComputeNode *n = g_new0(TernDbComputeNode, 1);
    n->supported_instances = g_ptr_array_new_with_free_func((GDestroyNotify) tern_db_guest_type_free);
    n->cpu_allocation_ratio = n->ram_allocation_ratio = n->disk_allocation_ratio = 1.0;
    return n;
}

void
tern_db_compute_node_free(TernDbComputeNode *n)
{
    if (!n)
        return;
    g_free(n->uuid);
    g_free(n->host);
    g_free(n->hypervisor_hostname);
    g_free(n->hypervisor_type);
    g_free(n->arch);
    if (n->supported_instances)
        g_ptr_array_unref(n->supported_instances);
    g_strfreev(n->machine_types);
    g_free(n->cpu_info);
    g_free(n->cpu_model);
    g_strfreev(n->cpu_features);
    g_free(n->guest_cpu);
    g_free(n->guest_cpu_model);
    g_strfreev(n->guest_cpu_features);
    g_free(n->disabled_reason);
    g_free(n);
}

static gint64
capacity(gint64 total, gint64 reserved, double ratio)
{
    gint64 c = (gint64) floor((double) (total - reserved) * ratio);
    return c > 0 ? c : 0;
}

gint64
tern_db_compute_node_vcpus_capacity(const TernDbComputeNode *n)
{
    return capacity(n->vcpus, n->reserved_vcpus, n->cpu_allocation_ratio);
}

gint64
tern_db_compute_node_memory_capacity(const TernDbComputeNode *n)
{
    return capacity(n->memory_mb, n->reserved_memory_mb, n->ram_allocation_ratio);
}

gint64
tern_db_compute_node_disk_capacity(const TernDbComputeNode *n)
{
    return capacity(n->local_gb, n->reserved_disk_gb, n->disk_allocation_ratio);
}

/* [["x86_64","qemu","hvm"], ...] <-> TernDbGuestType array. */
static void
guest_types_parse(const char *text, GPtrArray *out)
{
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    size_t k;
    json_t *t;
    if (json_is_array(j))
        json_array_foreach(j, k, t) {
            if (!json_is_array(t) || json_array_size(t) != 3)
                continue;
            TernDbGuestType *g = g_new0(TernDbGuestType, 1);
            g->arch = g_strdup(json_string_value(json_array_get(t, 0)));
            g->hv_type = g_strdup(json_string_value(json_array_get(t, 1)));
            g->vm_mode = g_strdup(json_string_value(json_array_get(t, 2)));
            g_ptr_array_add(out, g);
        }
    json_decref(j);
}

static char *
guest_types_json(const GPtrArray *types)
{
    json_t *a = json_array();
    for (guint k = 0; types && k < types->len; k++) {
        const TernDbGuestType *g = types->pdata[k];
        json_array_append_new(a, json_pack("[s?s?s?]", g->arch, g->hv_type, g->vm_mode));
    }
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    char *out = g_strdup(s);
    free(s);
    return out;
}

static TernDbComputeNode *
node_from_row(const PGresult *r, int row)
{
    TernDbComputeNode *n = tern_db_compute_node_new();
    int c = 0;
    n->id = tern_db_get_int(r, row, c++);
    n->uuid = tern_db_get_text(r, row, c++);
    n->host = tern_db_get_text(r, row, c++);
    n->hypervisor_hostname = tern_db_get_text(r, row, c++);
    n->hypervisor_type = tern_db_get_text(r, row, c++);
    n->hypervisor_version = tern_db_get_int(r, row, c++);
    n->arch = tern_db_get_text(r, row, c++);
    guest_types_parse(PQgetisnull(r, row, c) ? NULL : PQgetvalue(r, row, c), n->supported_instances);
    c++;
    n->machine_types = tern_db_get_strv(r, row, c++);
    n->cpu_info = tern_db_get_text(r, row, c++);
    n->cpu_model = tern_db_get_text(r, row, c++);
    n->cpu_features = tern_db_get_strv(r, row, c++);
    n->guest_cpu = tern_db_get_text(r, row, c++);
    n->guest_cpu_model = tern_db_get_text(r, row, c++);
    n->guest_cpu_features = tern_db_get_strv(r, row, c++);
    n->vcpus = tern_db_get_int(r, row, c++);
    n->memory_mb = tern_db_get_int(r, row, c++);
    n->local_gb = tern_db_get_int(r, row, c++);
    n->reserved_vcpus = tern_db_get_int(r, row, c++);
    n->reserved_memory_mb = tern_db_get_int(r, row, c++);
    n->reserved_disk_gb = tern_db_get_int(r, row, c++);
    n->cpu_allocation_ratio = tern_db_get_float(r, row, c++);
    n->ram_allocation_ratio = tern_db_get_float(r, row, c++);
    n->disk_allocation_ratio = tern_db_get_float(r, row, c++);
    n->vcpus_used = tern_db_get_int(r, row, c++);
    n->memory_mb_used = tern_db_get_int(r, row, c++);
    n->local_gb_used = tern_db_get_int(r, row, c++);
    n->running_vms = tern_db_get_int(r, row, c++);
    n->generation = tern_db_get_int(r, row, c++);
    n->disabled = tern_db_get_bool(r, row, c++);
    n->disabled_reason = tern_db_get_text(r, row, c++);
    n->created_at = tern_db_get_int(r, row, c++);
    n->updated_at = tern_db_get_int(r, row, c++);
    return n;
}

#define STRV_PARAM(n) "ARRAY(SELECT jsonb_array_elements_text($" n "::jsonb))"

int
tern_db_compute_node_update(TernDb *db, TernDbComputeNode *node, GError **error)
{
    if (!node->host || !*node->host) {
        g_set_error(error, TERN_DB_ERROR, TERN_DB_ERROR_INVALID,
                    "a compute node needs a host name");
        return -1;
    }
    g_autoptr(TernDbParams) p = tern_db_params_new();
    tern_db_params_text(p, node->uuid);                        /* 1 */
    tern_db_params_text(p, node->host);
    tern_db_params_text(p, node->hypervisor_hostname);
    tern_db_params_text(p, node->hypervisor_type);
    tern_db_params_int(p, node->hypervisor_version);           /* 5 */
    tern_db_params_text(p, node->arch);
    g_ptr_array_add(p->v, guest_types_json(node->supported_instances));
    tern_db_params_strv(p, node->machine_types);
    tern_db_params_text(p, node->cpu_info);
    tern_db_params_text(p, node->cpu_model);                   /* 10 */
    tern_db_params_strv(p, node->cpu_features);
    tern_db_params_text(p, node->guest_cpu);
    tern_db_params_text(p, node->guest_cpu_model);
    tern_db_params_strv(p, node->guest_cpu_features);
    tern_db_params_int(p, node->vcpus);                        /* 15 */
    tern_db_params_int(p, node->memory_mb);
    tern_db_params_int(p, node->local_gb);
    tern_db_params_int(p, node->reserved_vcpus);
    tern_db_params_int(p, node->reserved_memory_mb);
    tern_db_params_int(p, node->reserved_disk_gb);             /* 20 */
    tern_db_params_float(p, node->cpu_allocation_ratio);
    tern_db_params_float(p, node->ram_allocation_ratio);
    tern_db_params_float(p, node->disk_allocation_ratio);
    /* An unchanged report changes nothing (no generation bump, no change
     * notification): the WHERE leaves the row alone and RETURNING is empty. */
    g_autoptr(PGresult) r = tern_db_exec_prepared(db, "tern_compute_node_update",
        "WITH up AS ("
        " INSERT INTO compute_nodes (uuid, host, hypervisor_hostname, hypervisor_type,"
        "  hypervisor_version, arch, supported_instances, machine_types, cpu_info, cpu_model,"
        "  cpu_features, guest_cpu, guest_cpu_model, guest_cpu_features, vcpus, memory_mb,"
        "  local_gb, reserved_vcpus, reserved_memory_mb, reserved_disk_gb,"
        "  cpu_allocation_ratio, ram_allocation_ratio, disk_allocation_ratio)"
        " VALUES (coalesce($1::uuid, gen_random_uuid()), $2, $3, $4, $5, $6, $7::jsonb,"
        "  " STRV_PARAM("8") ", $9::jsonb, $10, " STRV_PARAM("11") ", $12::jsonb, $13,"
        "  " STRV_PARAM("14") ", $15, $16, $17, $18, $19, $20, $21, $22, $23)"
        " ON CONFLICT (host) DO UPDATE SET"
        "  hypervisor_hostname = EXCLUDED.hypervisor_hostname,"
        "  hypervisor_type = EXCLUDED.hypervisor_type,"
        "  hypervisor_version = EXCLUDED.hypervisor_version, arch = EXCLUDED.arch,"
        "  supported_instances = EXCLUDED.supported_instances,"
        "  machine_types = EXCLUDED.machine_types, cpu_info = EXCLUDED.cpu_info,"
        "  cpu_model = EXCLUDED.cpu_model, cpu_features = EXCLUDED.cpu_features,"
        "  guest_cpu = EXCLUDED.guest_cpu, guest_cpu_model = EXCLUDED.guest_cpu_model,"
        "  guest_cpu_features = EXCLUDED.guest_cpu_features, vcpus = EXCLUDED.vcpus,"
        "  memory_mb = EXCLUDED.memory_mb, local_gb = EXCLUDED.local_gb,"
        "  reserved_vcpus = EXCLUDED.reserved_vcpus,"
        "  reserved_memory_mb = EXCLUDED.reserved_memory_mb,"
        "  reserved_disk_gb = EXCLUDED.reserved_disk_gb,"
        "  cpu_allocation_ratio = EXCLUDED.cpu_allocation_ratio,"
        "  ram_allocation_ratio = EXCLUDED.ram_allocation_ratio,"
        "  disk_allocation_ratio = EXCLUDED.disk_allocation_ratio,"
        "  generation = compute_nodes.generation + 1, updated_at = now()"
        " WHERE (compute_nodes.hypervisor_hostname, compute_nodes.hypervisor_type,"
        "  compute_nodes.hypervisor_version, compute_nodes.arch,"
        "  compute_nodes.supported_instances, compute_nodes.machine_types,"
        "  compute_nodes.cpu_info, compute_nodes.cpu_model, compute_nodes.cpu_features,"
        "  compute_nodes.guest_cpu, compute_nodes.guest_cpu_model,"
        "  compute_nodes.guest_cpu_features, compute_nodes.vcpus, compute_nodes.memory_mb,"
        "  compute_nodes.local_gb, compute_nodes.reserved_vcpus,"
        "  compute_nodes.reserved_memory_mb, compute_nodes.reserved_disk_gb,"
        "  compute_nodes.cpu_allocation_ratio, compute_nodes.ram_allocation_ratio,"
        "  compute_nodes.disk_allocation_ratio)"
        "  IS DISTINCT FROM (EXCLUDED.hypervisor_hostname, EXCLUDED.hypervisor_type,"
        "  EXCLUDED.hypervisor_version, EXCLUDED.arch, EXCLUDED.supported_instances,"
        "  EXCLUDED.machine_types, EXCLUDED.cpu_info, EXCLUDED.cpu_model,"
        "  EXCLUDED.cpu_features, EXCLUDED.guest_cpu, EXCLUDED.guest_cpu_model,"
        "  EXCLUDED.guest_cpu_features, EXCLUDED.vcpus, EXCLUDED.memory_mb,"
        "  EXCLUDED.local_gb, EXCLUDED.reserved_vcpus, EXCLUDED.reserved_memory_mb,"
        "  EXCLUDED.reserved_disk_gb, EXCLUDED.cpu_allocation_ratio,"
        "  EXCLUDED.ram_allocation_ratio, EXCLUDED.disk_allocation_ratio)"
        " RETURNING id)"
        " SELECT count(*) FROM up",
        TERN_DB_PARAMS_N(p), TERN_DB_PARAMS_V(p), TERN_DB_EXEC_RETRY_SAFE, error);
    if (!r)
        return -1;
    g_autoptr(TernDbComputeNode) stored = NULL;
    if (tern_db_compute_node_get(db, node->host, &stored, error) < 0)
        return -1;
    node->id = stored->id;
    g_free(node->uuid);
    node->uuid = g_strdup(stored->uuid);
    node->generation = stored->generation;
    node->created_at = stored->created_at;
    node->updated_at = stored->updated_at;
    return 0;
}

int
tern_db_compute_node_get(TernDb *db, const char *host, TernDbComputeNode **out, GError **error)
{
    const char *params[] = { host };
    g_autoptr(PGresult) r = tern_db_exec_prepared(db, "tern_compute_node_get",
        "SELECT " NODE_COLS " FROM compute_nodes WHERE host = $1",
        1, params, TERN_DB_EXEC_RETRY_SAFE, error);
    if (!r)
        return -1;
    if (PQntuples(r) == 0) {
        tern_db_set_not_found(error, "compute node", host);
        return -1;
    }
    *out = node_from_row(r, 0);
    return 0;
}

int
tern_db_compute_node_usage(TernDb *db, const char *host, TernDbComputeNodeUsage *out,
                           GError **error)
{
    const char *params[] = { host };
    g_autoptr(PGresult) r = tern_db_exec_prepared(db, "tern_compute_node_usage",
        "SELECT generation, vcpus_used, memory_mb_used, local_gb_used,"
        " md5(row(uuid, hypervisor_hostname, hypervisor_type, hypervisor_version, arch,"
        "  supported_instances, machine_types, cpu_info, cpu_model, cpu_features, guest_cpu,"
        "  guest_cpu_model, guest_cpu_features, vcpus, memory_mb, local_gb, reserved_vcpus,"
        "  reserved_memory_mb, reserved_disk_gb, cpu_allocation_ratio, ram_allocation_ratio,"
        "  disk_allocation_ratio, disabled, disabled_reason)::text)"
        " FROM compute_nodes WHERE host = $1",
        1, params, TERN_DB_EXEC_RETRY_SAFE, error);
    if (!r)
        return -1;
    if (PQntuples(r) == 0) {
        tern_db_set_not_found(error, "compute node", host);
        return -1;
    }
    out->generation = tern_db_get_int(r, 0, 0);
    out->vcpus_used = tern_db_get_int(r, 0, 1);
    out->memory_mb_used = tern_db_get_int(r, 0, 2);
    out->local_gb_used = tern_db_get_int(r, 0, 3);
    g_strlcpy(out->fingerprint, PQgetvalue(r, 0, 4), sizeof(out->fingerprint));
    return 0;
}

int
tern_db_compute_node_list(TernDb *db, GPtrArray **out, GError **error)
{
    g_autoptr(PGresult) r = tern_db_exec(db,
        "SELECT " NODE_COLS " FROM compute_nodes ORDER BY host", 0, NULL,
        TERN_DB_EXEC_RETRY_SAFE, error);
    if (!r)
        return -1;
    *out = g_ptr_array_new_with_free_func((GDestroyNotify) tern_db_compute_node_free);
    for (int k = 0; k < PQntuples(r); k++)
        g_ptr_array_add(*out, node_from_row(r, k));
    return 0;
}

int
tern_db_compute_node_set_disabled(TernDb *db, const char *host, gboolean disabled,
                                  const char *reason, GError **error)
{
    g_autoptr(TernDbParams) p = tern_db_params_new();
    tern_db_params_text(p, host);
    tern_db_params_bool(p, disabled);
    tern_db_params_text(p, disabled ? reason : NULL);
    g_autoptr(PGresult) r = tern_db_exec(db,
        "UPDATE compute_nodes SET disabled = $2, disabled_reason = $3,"
        " generation = generation + 1, updated_at = now() WHERE host = $1",
        TERN_DB_PARAMS_N(p), TERN_DB_PARAMS_V(p), TERN_DB_EXEC_RETRY_SAFE, error);
    if (!r)
        return -1;
    if (tern_db_affected(r) == 0) {
        tern_db_set_not_found(error, "compute node", host);
        return -1;
    }
    return 0;
}

int
tern_db_compute_node_delete(TernDb *db, const char *host, GError **error)
{
    const char *params[] = { host };
    g_autoptr(GError) local = NULL;
    g_autoptr(PGresult) r = tern_db_exec(db, "DELETE FROM compute_nodes WHERE host = $1",
                                         1, params, TERN_DB_EXEC_RETRY_SAFE, &local);
    if (!r) {
        /* allocations.node_id references the node: still in use. */
        if (g_error_matches(local, TERN_DB_ERROR, TERN_DB_ERROR_INVALID))
            g_set_error(error, TERN_DB_ERROR, TERN_DB_ERROR_CONFLICT,
                        "compute node '%s' still holds allocations: release or migrate its "
                        "instances first", host);
        else
            g_propagate_error(error, g_steal_pointer(&local));
        return -1;
    }
    if (tern_db_affected(r) == 0) {
        tern_db_set_not_found(error, "compute node", host);
        return -1;
    }
    return 0;
}
