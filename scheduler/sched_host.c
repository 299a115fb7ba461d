/* sched_host.c: building a scheduler host (compact CPU, guest-type mask,
 * capacities) from its database rows. */
#include "scheduler/sched_host.h"

#include <jansson.h>
#include <string.h>

#include "common/log.h"
#include "rpc/rpc.h"

int
tern_sched_hv_from_name(const char *name)
{
    if (!name)
        return -1;
    if (g_ascii_strcasecmp(name, "qemu") == 0)
        return TERN_SCHED_HV_QEMU;
    if (g_ascii_strcasecmp(name, "kvm") == 0)
        return TERN_SCHED_HV_KVM;
    return TERN_SCHED_HV_OTHER;
}

int
tern_sched_vm_from_name(const char *name)
{
    if (!name)
        return -1;
    return g_ascii_strcasecmp(name, "hvm") == 0 ? TERN_SCHED_VM_HVM : TERN_SCHED_VM_OTHER;
}

TernSchedHost *
tern_sched_host_new(void)
{
    return g_aligned_alloc0(1, sizeof(TernSchedHost), G_ALIGNOF(TernSchedHost));
}

void
tern_sched_host_clear(TernSchedHost *h)
{
    g_free(h->host);
    g_free(h->nodename);
    g_free(h->uuid);
    g_strfreev(h->machine_types);
    g_free(h->tcg_cpus);
    h->host = h->nodename = h->uuid = NULL;
    h->machine_types = NULL;
    h->tcg_cpus = NULL;
    h->tcg_ncpus = 0;
}

void
tern_sched_host_free(TernSchedHost *h)
{
    if (!h)
        return;
    tern_sched_host_clear(h);
    g_aligned_free(h);
}

gboolean
tern_sched_cpu_compact(const TernCpuDb *cpudb, TernCpuArch arch, const char *model,
                       const char *const *features, TernCpuMode mode, TernCpuCompact *out,
                       GError **error)
{
    memset(out, 0, sizeof(*out));
    if (arch == TERN_CPU_ARCH_NONE || !model || !*model) {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_UNKNOWN_MODEL, "no CPU model");
        return FALSE;
    }
    g_autoptr(TernCpu) cpu = tern_cpu_from_model(cpudb, arch, mode, model, NULL, error);
    if (!cpu)
        return FALSE;
    if (features && features[0]) {
        memset(&cpu->features, 0, sizeof(cpu->features));
        for (const char *const *f = features; *f; f++) {
            int i = tern_cpu_db_feature_index(cpudb, arch, *f);
            if (i >= 0)
                tern_cpu_set_add(&cpu->features, (guint) i);
        }
    }
    tern_cpu_compact(cpudb, cpu, out);
    return TRUE;
}

/* Hosts of one fleet share a few CPUs: their compact forms are computed
 * once per (arch, model, features) and remembered (bounded). */
#define MEMO_MAX 4096
static GMutex memo_lock;
static GHashTable *memo;   /* "arch|model|f1,f2" -> TernCpuCompact */

static gboolean
compact_memo(const TernCpuDb *cpudb, TernCpuArch arch, const char *model,
             const char *const *features, TernCpuCompact *out, GError **error)
{
    g_autoptr(GString) key = g_string_new(NULL);
    g_string_append_printf(key, "%d|%s|", (int) arch, model);
    for (const char *const *f = features; f && *f; f++) {
        g_string_append(key, *f);
        g_string_append_c(key, ',');
    }
    g_mutex_lock(&memo_lock);
    TernCpuCompact *hit = memo ? g_hash_table_lookup(memo, key->str) : NULL;
    if (hit)
        *out = *hit;
    g_mutex_unlock(&memo_lock);
    if (hit)
        return TRUE;
    if (!tern_sched_cpu_compact(cpudb, arch, model, features, TERN_CPU_MODE_HOST, out, error))
        return FALSE;
    g_mutex_lock(&memo_lock);
    if (!memo || g_hash_table_size(memo) >= MEMO_MAX) {
        if (memo)
            g_hash_table_unref(memo);
        memo = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    }
    g_hash_table_replace(memo, g_string_free(g_steal_pointer(&key), FALSE),
                         g_memdup2(out, sizeof(*out)));
    g_mutex_unlock(&memo_lock);
    return TRUE;
}

/* The registry of distinct CPUs: append-only, ids index cpu_ids. */
static GMutex ids_lock;
static GHashTable *ids;                       /* TernCpuCompact* (in cpu_ids) -> id */
static TernCpuCompact cpu_ids[TERN_SCHED_CPU_IDS];
static guint n_ids = 1;                       /* id 0: none */

static guint
compact_hash(gconstpointer p)
{
    const guint8 *b = p;
    guint h = 2166136261u;                    /* FNV-1a over the flat form */
    for (gsize i = 0; i < sizeof(TernCpuCompact); i++)
        h = (h ^ b[i]) * 16777619u;
    return h;
}

static gboolean
compact_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, sizeof(TernCpuCompact)) == 0;
}

guint16
tern_sched_cpu_id(const TernCpuCompact *c)
{
    if (!c->family)
        return 0;
    g_mutex_lock(&ids_lock);
    if (!ids)
        ids = g_hash_table_new(compact_hash, compact_equal);
    guint id = GPOINTER_TO_UINT(g_hash_table_lookup(ids, c));
    if (!id && n_ids < TERN_SCHED_CPU_IDS) {
        id = n_ids++;
        cpu_ids[id] = *c;
        g_hash_table_insert(ids, &cpu_ids[id], GUINT_TO_POINTER(id));
    }
    g_mutex_unlock(&ids_lock);
    return (guint16) id;
}

const TernCpuCompact *
tern_sched_cpu_by_id(guint16 id)
{
    return id && id < TERN_SCHED_CPU_IDS ? &cpu_ids[id] : NULL;
}

void
tern_sched_host_set_cpu_ids(TernSchedHost *h)
{
    h->guest_cpu_id = tern_sched_cpu_id(&h->guest_cpu);
    h->host_cpu_id = tern_sched_cpu_id(&h->host_cpu);
}

static gint64
capacity(gint64 total, gint64 reserved, double ratio)
{
    gint64 c = (gint64) ((double) (total - reserved) * ratio);
    return c < 0 ? 0 : c;
}

void
tern_sched_host_set_node(TernSchedHost *h, const TernCpuDb *cpudb, const TernDbComputeNode *n)
{
    g_free(h->host);
    h->host = g_strdup(n->host);
    g_free(h->nodename);
    h->nodename = g_strdup(n->hypervisor_hostname ? n->hypervisor_hostname : n->host);
    g_free(h->uuid);
    h->uuid = g_strdup(n->uuid);
    h->hv_version = n->hypervisor_version;
    g_strfreev(h->machine_types);
    h->machine_types = g_strdupv(n->machine_types ? n->machine_types : (char *[]) { NULL });
    h->generation = n->generation;
    TernCpuArch arch = tern_cpu_arch_from_name(n->arch);
    h->arch = (guint8) arch;
    h->node_disabled = n->disabled ? 1 : 0;

    h->triples = 0;
    gboolean kvm = FALSE;
    for (guint i = 0; n->supported_instances && i < n->supported_instances->len; i++) {
        const TernDbGuestType *t = n->supported_instances->pdata[i];
        int hv = tern_sched_hv_from_name(t->hv_type);
        int vm = tern_sched_vm_from_name(t->vm_mode);
        if (hv < 0)
            hv = TERN_SCHED_HV_OTHER;
        if (vm < 0)
            vm = TERN_SCHED_VM_HVM;
        if (hv == TERN_SCHED_HV_KVM)
            kvm = TRUE;
        h->triples |= tern_sched_triple_bit(tern_cpu_arch_from_name(t->arch), (guint) hv,
                                            (guint) vm);
    }
    h->tcg_only = !kvm;

    h->vcpus = n->vcpus;
    h->memory_mb = n->memory_mb;
    h->local_gb = n->local_gb;
    h->reserved_vcpus = n->reserved_vcpus;
    h->reserved_memory_mb = n->reserved_memory_mb;
    h->reserved_disk_gb = n->reserved_disk_gb;
    h->cpu_ratio = n->cpu_allocation_ratio;
    h->ram_ratio = n->ram_allocation_ratio;
    h->disk_ratio = n->disk_allocation_ratio;
    tern_sched_host_finish(h);
    h->vcpus_used = tern_sched_clamp32(n->vcpus_used);
    h->memory_used = tern_sched_clamp32(n->memory_mb_used);
    h->disk_used = tern_sched_clamp32(n->local_gb_used);

    g_autoptr(GError) err = NULL;
    if (n->guest_cpu_model &&
        !compact_memo(cpudb, arch, n->guest_cpu_model,
                      (const char *const *) n->guest_cpu_features, &h->guest_cpu, &err)) {
        TERN_WARN("tern.scheduler", "host %s: guest CPU %s ignored: %s", n->host,
                  n->guest_cpu_model, err->message);
        g_clear_error(&err);
    } else if (!n->guest_cpu_model) {
        memset(&h->guest_cpu, 0, sizeof(h->guest_cpu));
    }
    if (n->cpu_model &&
        !compact_memo(cpudb, arch, n->cpu_model, (const char *const *) n->cpu_features,
                      &h->host_cpu, &err)) {
        TERN_WARN("tern.scheduler", "host %s: host CPU %s ignored: %s", n->host, n->cpu_model,
                  err->message);
    } else if (!n->cpu_model) {
        memset(&h->host_cpu, 0, sizeof(h->host_cpu));
    }
    /* A host that reported no guest CPU offers what its CPU is. */
    if (!h->guest_cpu.family)
        h->guest_cpu = h->host_cpu;
    tern_sched_host_set_tcg_models(h, cpudb, n->guest_cpu);
}

void
tern_sched_host_set_tcg_models(TernSchedHost *h, const TernCpuDb *cpudb,
                               const char *guest_cpu_json)
{
    g_clear_pointer(&h->tcg_cpus, g_free);
    h->tcg_ncpus = 0;
    if (!guest_cpu_json || !strstr(guest_cpu_json, "tcg_models"))
        return;
    g_autoptr(json_t) gc = json_loads(guest_cpu_json, 0, NULL);
    json_t *tcg = json_object_get(gc, "tcg_models");
    if (!json_is_object(tcg))
        return;
    g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(TernCpuCompact));
    const char *arch_name;
    json_t *models;
    json_object_foreach(tcg, arch_name, models) {
        TernCpuArch arch = tern_cpu_arch_from_name(arch_name);
        size_t i;
        json_t *m;
        json_array_foreach(models, i, m) {
            TernCpuCompact c;
            if (arch == TERN_CPU_ARCH_NONE || !json_is_string(m) || out->len >= 256)
                continue;
            g_autoptr(GError) err = NULL;
            if (compact_memo(cpudb, arch, json_string_value(m), NULL, &c, &err))
                g_array_append_val(out, c);
        }
    }
    h->tcg_ncpus = out->len;
    h->tcg_cpus = out->len ? (TernCpuCompact *) g_array_free(g_steal_pointer(&out), FALSE) : NULL;
}

void
tern_sched_host_finish(TernSchedHost *h)
{
    h->vcpus_cap = tern_sched_clamp32(capacity(h->vcpus, h->reserved_vcpus, h->cpu_ratio));
    h->memory_cap = tern_sched_clamp32(capacity(h->memory_mb, h->reserved_memory_mb,
                                                h->ram_ratio));
    h->disk_cap = tern_sched_clamp32(capacity(h->local_gb, h->reserved_disk_gb, h->disk_ratio));
    h->memory_free_base = tern_sched_clamp32(h->memory_mb - h->reserved_memory_mb);
    h->vcpus_ratio_total = (double) h->vcpus * h->cpu_ratio;
    h->disk_free_base = tern_sched_clamp32(h->local_gb - h->reserved_disk_gb);
}

void
tern_sched_host_set_service(TernSchedHost *h, const TernDbService *svc)
{
    h->has_service = svc != NULL;
    h->svc_disabled = svc && (svc->disabled || svc->forced_down);
    h->last_seen_up = svc ? svc->last_seen_up : 0;
}
