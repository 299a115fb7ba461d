/* inventory_report.c: what tern-compute tells the conductor about its host
 * (compute_node_report's `node`, docs/tern-rpc.md): hypervisor, arch,
 * supported instances, sizes, Nova's cpu_info, host and guest CPU, machine
 * types, the migration address and per-arch gates. */
#include "compute/compute_manager.h"

#include "common/log.h"
#include "compute/arch/arch.h"
#include "compute/host_probe.h"

static json_t *
host_cpu_json(TernComputeManager *m)
{
    const TernCpu *cpu = m->cpu_host ? m->cpu_host->cpu : NULL;
    if (!cpu)
        return json_null();
    json_t *features = json_array();
    g_autoptr(GPtrArray) names = tern_cpu_feature_names(m->cpu_db, cpu->arch, &cpu->features);
    for (guint i = 0; names && i < names->len; i++)
        json_array_append_new(features, json_string(names->pdata[i]));
    json_t *o = json_pack("{s:s, s:s?, s:s?, s:o}", "arch", tern_cpu_arch_name(cpu->arch),
                          "vendor", cpu->vendor, "model", cpu->model, "features", features);
    if (cpu->generation)
        json_object_set_new(o, "generation", json_integer(cpu->generation));
    return o;
}

static json_t *
machine_types(const TernHostFacts *f)
{
    json_t *out = json_array();
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < f->guests->len; i++) {
        TernGuestFacts *g = f->guests->pdata[i];
        if (!tern_arch_driver_find(g->arch))
            continue;
        for (guint j = 0; j < g->machines->len; j++) {
            TernMachineType *mt = g->machines->pdata[j];
            if (!g_hash_table_add(seen, mt->name))
                continue;
            json_array_append_new(out, json_string(mt->name));
        }
    }
    return out;
}

/* Per-arch rules of a mixed fleet: a TCG ppc64le guest stalls after live
 * migration on QEMU older than 10 (docs/migration.md), so such hosts say
 * they cannot live-migrate emulated ppc64le guests. */
static json_t *
gates(TernComputeManager *m, const TernHostFacts *f)
{
    json_t *g = json_object();
    json_object_set_new(g, "live_migration", json_pack("{s:b, s:s}", "allowed", 1, "reason", ""));
    gboolean ppc_tcg = tern_host_facts_find_guest(f, "ppc64le", "qemu") != NULL;
    if (ppc_tcg) {
        gboolean ok = f->hypervisor_version >= 10000000;
        json_object_set_new(g, "live_migration_ppc64le_tcg",
                            json_pack("{s:b, s:s}", "allowed", ok, "reason",
                                      ok ? "" : "emulated (TCG) ppc64le guests stop after live "
                                                "migration on QEMU older than 10.0"));
    }
    return g;
}

/* The guest CPU the host offers, plus per arch it runs under TCG (virt
 * type qemu) the models QEMU can emulate there (domain capabilities'
 * custom models not marked usable='no'): an emulated guest gets one of
 * those, never the host's CPU (the scheduler's CpuModelFilter reads them). */
static json_t *
guest_cpu_json(TernComputeManager *m, const TernHostFacts *f)
{
    json_t *gc = tern_compute_cpu_json(m, m->guest_cpu, m->guest_cpu_xml);
    if (!json_is_object(gc))
        return gc;
    json_t *tcg = json_object();
    for (guint i = 0; f->guests && i < f->guests->len; i++) {
        const TernGuestFacts *g = f->guests->pdata[i];
        if (g_strcmp0(g->virt_type, "qemu") != 0 || !g->cpu_models_usable ||
            !g->cpu_models_usable->len || tern_cpu_arch_from_name(g->arch) == TERN_CPU_ARCH_NONE)
            continue;
        json_t *models = json_array();
        for (guint k = 0; k < g->cpu_models_usable->len; k++)
            json_array_append_new(models, json_string(g->cpu_models_usable->pdata[k]));
        json_object_set_new(tcg, g->arch, models);
    }
    json_object_set_new(gc, "tcg_models", tcg);
    return gc;
}

json_t *
tern_compute_node_json(TernComputeManager *m, GError **error)
{
    g_mutex_lock(&m->facts_lock);
    const TernHostFacts *f = m->facts;
    g_autofree char *cpu_info = m->cpu_host ? tern_cpu_info_json(m->cpu_db, m->cpu_host) : NULL;
    json_t *node = json_pack(
        "{s:s, s:s, s:I, s:s, s:s, s:o, s:I, s:I, s:I, s:s?, s:o, s:o, s:o, s:s, s:o}",
        "hypervisor_hostname", m->host,
        "hypervisor_type", f->hypervisor_type ? f->hypervisor_type : "QEMU",
        "hypervisor_version", (json_int_t)f->hypervisor_version,
        "virt_type", m->virt_type,
        "arch", f->arch,
        "supported_instances", tern_host_facts_supported_instances(f),
        "vcpus", (json_int_t)f->vcpus,
        "memory_mb", (json_int_t)f->memory_mb,
        "local_gb", (json_int_t)f->disk_gb,
        "cpu_info", cpu_info,
        "host_cpu", host_cpu_json(m),
        "guest_cpu", guest_cpu_json(m, f),
        "machine_types", machine_types(f),
        "migration_addr", m->migration_addr,
        "gates", gates(m, f));
    if (node && m->unknown_domains)
        json_object_set(node, "unknown_domains", m->unknown_domains);
    g_mutex_unlock(&m->facts_lock);
    if (!node)
        g_set_error(error, TERN_RPC_ERROR, TERN_RPC_ERROR_INVALID, "cannot encode the node report");
    return node;
}

int
tern_compute_report_node(TernComputeManager *m, GError **error)
{
    json_t *node = tern_compute_node_json(m, error);
    if (!node)
        return -1;
    g_autoptr(json_t) reply = tern_conductor_compute_node_report(m, node, error);
    if (!reply)
        return -1;
    TERN_DEBUG(TERN_COMPUTE_LOG, "compute_node_report answered, generation %" JSON_INTEGER_FORMAT,
               json_integer_value(json_object_get(reply, "generation")));
    return 0;
}
