/* fleet_gates.c: the conductor's side of the per-arch feature gates
 * (docs/fleet.md §1, fleet/gates.h). The gates are loaded at start with
 * the scheduler's options ([feature_gates] file, overrides) and checked
 * before anything is sent to a compute: a live migration on its source and
 * destination, a build's disk buses and display on the chosen host. The
 * same data gives `tern host show` its "gates" lines. */
#include "conductor.h"

#include <string.h>

#include "common/log.h"

#define LOG "tern.conductor.gates"

/* The display protocol tern's computes give every domain (compute/domain_xml.c). */
#define BUILD_DISPLAY "vnc"

int
tern_conductor_gates_load(TernConductor *c, const TernConfig *conf, GError **error)
{
    const char *path = tern_config_get_string(conf, "feature_gates", "file");
    if (!path || !*path)
        return 0;
    g_autoptr(GError) err = NULL;
    c->feature_gates = tern_gates_load_file(path, &err);
    if (!c->feature_gates) {
        if (g_error_matches(err, TERN_GATES_ERROR, TERN_GATES_ERROR_FILE) &&
            strcmp(path, "/etc/tern/feature-gates.ini") == 0) {
            TERN_WARN(LOG, "no feature gates: %s", err->message);
            return 0;
        }
        g_set_error(error, TERN_CONDUCTOR_ERROR, TERN_CONDUCTOR_ERROR_INVALID,
                    "[feature_gates] file: %s", err->message);
        return -1;
    }
    if (tern_gates_set_overrides(c->feature_gates,
                                 tern_config_get_list(conf, "feature_gates", "overrides"),
                                 &err) < 0) {
        g_set_error(error, TERN_CONDUCTOR_ERROR, TERN_CONDUCTOR_ERROR_INVALID, "%s",
                    err->message);
        return -1;
    }
    return 0;
}

const char *
tern_conductor_virt_type(const TernDbComputeNode *n, const char *arch)
{
    for (guint i = 0; n->supported_instances && i < n->supported_instances->len; i++) {
        const TernDbGuestType *t = n->supported_instances->pdata[i];
        if (g_strcmp0(t->arch, arch) == 0 && g_ascii_strcasecmp(t->hv_type, "kvm") == 0)
            return "kvm";
    }
    return "qemu";
}

int
tern_conductor_gates_check(TernConductor *c, const TernDbComputeNode *n, const char *arch,
                           const char *operation, GError **error)
{
    if (!c->feature_gates)
        return 0;
    if (!arch)
        arch = n->arch;
    return tern_gates_check(c->feature_gates, arch, tern_conductor_virt_type(n, arch),
                            n->hypervisor_version, operation, error);
}

int
tern_conductor_gates_check_migration(TernConductor *c, TernDb *db, const TernDbInstance *inst,
                                     const char *dest, GError **error)
{
    const char *hosts[] = { inst->host, dest };
    const char *role[] = { "source", "destination" };
    for (guint i = 0; i < G_N_ELEMENTS(hosts); i++) {
        if (!hosts[i])
            continue;
        g_autoptr(TernDbComputeNode) n = NULL;
        g_autoptr(GError) err = NULL;
        if (tern_db_compute_node_get(db, hosts[i], &n, &err) < 0) {
            if (g_error_matches(err, TERN_DB_ERROR, TERN_DB_ERROR_NOT_FOUND))
                continue;   /* the other checks name an unknown host */
            g_propagate_error(error, g_steal_pointer(&err));
            return -1;
        }
        if (tern_conductor_gates_check(c, n, inst->arch, "live_migration", &err) < 0) {
            g_autofree char *reason = g_strdup_printf("the %s host %s: %s", role[i], hosts[i],
                                                      err->message);
            tern_rpc_error_set_remote(error, "nova.exception", "MigrationPreCheckError",
                                      json_pack("{s:s}", "reason", reason),
                                      "Migration pre-check error: %s", reason);
            TERN_WARN(LOG, "live migration of instance %s refused: %s", inst->uuid, reason);
            return -1;
        }
    }
    return 0;
}

int
tern_conductor_gates_check_build(TernConductor *c, TernDb *db, const TernDbInstance *inst,
                                 const char *host, GError **error)
{
    if (!c->feature_gates)
        return 0;
    g_autoptr(TernDbComputeNode) n = NULL;
    if (tern_db_compute_node_get(db, host, &n, error) < 0)
        return -1;
    /* The operations the domain will need: the buses the image asks for
     * (unset: the arch's default, which the arch strategy only picks among
     * the buses its machine has) and the display. */
    g_autoptr(json_t) props = tern_conductor_json_parse(inst->image_properties);
    g_autoptr(GPtrArray) ops = g_ptr_array_new_with_free_func(g_free);
    const char *bus_props[] = { "hw_disk_bus", "hw_cdrom_bus" };
    for (guint i = 0; i < G_N_ELEMENTS(bus_props); i++) {
        json_t *v = json_object_get(props, bus_props[i]);
        if (json_is_string(v))
            g_ptr_array_add(ops, g_strdup_printf("disk_bus:%s", json_string_value(v)));
    }
    g_ptr_array_add(ops, g_strdup("display:" BUILD_DISPLAY));
    for (guint i = 0; i < ops->len; i++)
        if (tern_conductor_gates_check(c, n, inst->arch, ops->pdata[i], error) < 0)
            return -1;
    return 0;
}

json_t *
tern_conductor_gates_json(TernConductor *c, const TernDbComputeNode *n)
{
    json_t *out = json_array();
    if (!c->feature_gates) {
        json_array_append_new(out, json_string("no feature gates loaded ([feature_gates] file)"));
        return out;
    }
    g_autofree char *version = tern_gates_version_text(n->hypervisor_version);
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; n->supported_instances && i < n->supported_instances->len; i++) {
        const TernDbGuestType *t = n->supported_instances->pdata[i];
        if (!t->arch || !g_hash_table_add(seen, t->arch))
            continue;
        const char *vt = tern_conductor_virt_type(n, t->arch);
        g_autoptr(GPtrArray) v = tern_gates_verdicts(c->feature_gates, t->arch, vt,
                                                     n->hypervisor_version);
        for (guint k = 0; k < v->len; k++) {
            const TernGateVerdict *d = v->pdata[k];
            json_array_append_new(out, json_sprintf(
                "%s guests (%s, QEMU %s): %s %s by gate %s: %s", t->arch, vt, version,
                d->operation, d->overridden ? "allowed: overridden ([feature_gates] overrides)"
                                            : "refused", d->gate, d->reason));
        }
        json_array_append_new(out, json_sprintf("%s guests (%s, QEMU %s): %s allowed", t->arch,
                                                vt, version, v->len ? "every other operation"
                                                                    : "every operation"));
    }
    return out;
}
