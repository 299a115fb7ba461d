/* sched_filter.c: the filters, their table, and the pass that runs them
 * (branch-free for the common filters, filter by filter for the rest). */
#include "scheduler/sched_filter.h"

#include <string.h>

#include "scheduler/sched_error.h"
#include "scheduler/sched_weigh.h"

/* ---- the filters --------------------------------------------------------- */

static gboolean
compute_filter(const TernSchedHost *h, TernSchedFilterCtx *ctx)
{
    if (h->node_disabled || h->svc_disabled) {
        ctx->disabled++;
        return FALSE;
    }
    if (!tern_sched_host_is_up(h, ctx->now, ctx->down_time)) {
        ctx->down++;
        return FALSE;
    }
    return TRUE;
}

static void
compute_explain(TernSchedFilterCtx *ctx, GString *out)
{
    if (ctx->disabled)
        g_string_append_printf(out, "%s%u disabled", out->len ? ", " : "", ctx->disabled);
    if (ctx->down)
        g_string_append_printf(out, "%s%u down (no heartbeat for %d s)", out->len ? ", " : "",
                               ctx->down, ctx->down_time);
}

static gboolean
az_filter(const TernSchedHost *h, TernSchedFilterCtx *ctx)
{
    (void) h;
    return ctx->az_ok;
}

static void
az_explain(TernSchedFilterCtx *ctx, GString *out)
{
    g_string_append_printf(out, "no host is in availability zone %s",
                           ctx->req->availability_zone);
}

static gboolean
machine_type_offered(const TernSchedHost *h, const char *mt)
{
    g_autofree char *alias_q35 = NULL;
    for (char **m = h->machine_types; m && *m; m++) {
        if (strcmp(*m, mt) == 0)
            return TRUE;
        /* An alias ("q35", "pseries") is offered by any of its versions. */
        if (!strchr(mt, '.') && g_str_has_prefix(*m, mt) && (*m)[strlen(mt)] == '-')
            return TRUE;
        if (strcmp(mt, "q35") == 0 && g_str_has_prefix(*m, "pc-q35-"))
            return TRUE;
        if (strcmp(mt, "pc") == 0 && g_str_has_prefix(*m, "pc-i440fx-"))
            return TRUE;
    }
    return FALSE;
}

/* Arches one host runs natively (KVM): x86_64 runs i686; a POWER host runs
 * both ppc64 (big-endian) and ppc64le guests, which stay distinct arches. */
static inline guint
arch_family(guint arch)
{
    static const guint8 family[TERN_SCHED_ARCH_N] = {
        [TERN_CPU_ARCH_I686] = 1, [TERN_CPU_ARCH_X86_64] = 1,
        [TERN_CPU_ARCH_PPC64] = 2, [TERN_CPU_ARCH_PPC64LE] = 2,
    };
    return arch < TERN_SCHED_ARCH_N ? family[arch] : 0;
}

static gboolean
image_props_filter(const TernSchedHost *h, TernSchedFilterCtx *ctx)
{
    const TernSchedRequest *r = ctx->req;
    if (r->triples_mask) {
        if (!(h->triples & r->triples_mask))
            return FALSE;
        /* Another arch than the host's runs only emulated (TCG). */
        if (r->arch_name && !r->emulated && h->arch != r->arch && !h->tcg_only &&
            (!arch_family(r->arch) || arch_family(r->arch) != arch_family(h->arch)))
            return FALSE;
    }
    if (r->machine_type && !machine_type_offered(h, r->machine_type))
        return FALSE;
    return TRUE;
}

static void
image_props_explain(TernSchedFilterCtx *ctx, GString *out)
{
    const TernSchedRequest *r = ctx->req;
    g_string_append_printf(out, "no %s%s%s%s%s guest support", r->arch_name ? r->arch_name : "",
                           r->emulated ? " (emulated)" : "", r->hv_type ? " " : "",
                           r->hv_type ? r->hv_type : "", r->vm_mode ? r->vm_mode : "");
    if (r->machine_type)
        g_string_append_printf(out, " or no machine type %s", r->machine_type);
}

static gboolean
ram_filter(const TernSchedHost *h, TernSchedFilterCtx *ctx)
{
    return h->memory_used + ctx->req->memory_mb <= h->memory_cap;
}

static void
ram_explain(TernSchedFilterCtx *ctx, GString *out)
{
    g_string_append_printf(out, "less than %" G_GINT64_FORMAT " MB RAM free", ctx->req->memory_mb);
}

static gboolean
core_filter(const TernSchedHost *h, TernSchedFilterCtx *ctx)
{
    return h->vcpus_used + ctx->req->vcpus <= h->vcpus_cap;
}

static void
core_explain(TernSchedFilterCtx *ctx, GString *out)
{
    g_string_append_printf(out, "less than %" G_GINT64_FORMAT " vCPUs free", ctx->req->vcpus);
}

static gboolean
disk_filter(const TernSchedHost *h, TernSchedFilterCtx *ctx)
{
    return h->disk_used + ctx->req->disk_gb <= h->disk_cap;
}

static void
disk_explain(TernSchedFilterCtx *ctx, GString *out)
{
    g_string_append_printf(out, "less than %" G_GINT64_FORMAT " GB disk free", ctx->req->disk_gb);
}

/* Does the CPU c (offered) give what r needs? When not, adds `count` (the
 * number of hosts offering c; 0: do not count) to the reasons in ctx. */
static gboolean
cpu_gives(const TernCpuCompact *c, const TernSchedRequest *r, TernSchedFilterCtx *ctx,
          guint count)
{
    const TernCpuCompact *q = &r->cpu;
    if (q->vendor && q->vendor != c->vendor) {
        ctx->cpu_vendor += count;
        return FALSE;
    }
    if (q->gen_max > c->gen_max || (q->gen_exact && q->gen_max != c->gen_max)) {
        ctx->cpu_generation += count;
        return FALSE;
    }
    if (!tern_cpu_set_is_subset(&q->features, &c->features)) {
        if (!count)
            return FALSE;
        /* Features named on top of the model are counted one by one; the
         * model's own as "older than the model". */
        guint64 model_miss = 0;
        for (int w = 0; w < TERN_CPU_SET_WORDS; w++) {
            guint64 miss = q->features.w[w] & ~c->features.w[w];
            guint64 extra = miss & r->cpu_extra.w[w];
            model_miss |= miss & ~extra;
            while (extra) {
                ctx->missing[w * 64 + __builtin_ctzll(extra)] += count;
                extra &= extra - 1;
            }
        }
        if (model_miss)
            ctx->cpu_older += count;
        return FALSE;
    }
    if (r->has_forbidden) {
        TernCpuFeatureSet both;
        tern_cpu_set_intersect(&both, &r->forbidden, &c->features);
        if (!tern_cpu_set_is_empty(&both)) {
            ctx->cpu_forbidden += count;
            return FALSE;
        }
    }
    return TRUE;
}

/* The per-host rules: another arch family, TCG. */
static gboolean
cpu_filter_host(const TernSchedHost *h, TernSchedFilterCtx *ctx)
{
    const TernSchedRequest *r = ctx->req;
    const TernCpuCompact *c = r->is_move ? &h->host_cpu : &h->guest_cpu;
    const TernCpuCompact *q = &r->cpu;
    /* A guest the host runs under TCG (another arch family it emulates, or
     * emulation asked): it gets one of the models QEMU emulates there
     * (domain capabilities of that arch under virt type qemu), not the
     * host's CPU. A live migration only for a guest emulated already (its
     * recorded CPU against the destination's TCG models). */
    if ((!r->is_move || r->emulated) && q->arch &&
        (q->family != c->family || r->emulated) &&
        (h->triples & tern_sched_triple_bit(q->arch, TERN_SCHED_HV_QEMU, TERN_SCHED_VM_HVM))) {
        for (guint i = 0; i < h->tcg_ncpus; i++)
            if (h->tcg_cpus[i].family == q->family && cpu_gives(&h->tcg_cpus[i], r, ctx, 0))
                return TRUE;
        if (h->tcg_ncpus)
            ctx->cpu_tcg++;
        else
            ctx->cpu_tcg_unknown++;
        return FALSE;
    }
    if (q->family != c->family) {
        ctx->cpu_other_family++;
        return FALSE;
    }
    return cpu_gives(c, r, ctx, 1);
}

enum { CPU_UNKNOWN = 0, CPU_PASS, CPU_FAIL, CPU_PER_HOST };

/* The verdict for CPU id (h's) and this request, decided at its first host. */
static inline guint8
cpu_verdict(const TernSchedHost *h, guint16 id, TernSchedFilterCtx *ctx)
{
    guint8 v = ctx->cpu_verdict[id];
    if (G_UNLIKELY(v == CPU_UNKNOWN)) {
        const TernSchedRequest *r = ctx->req;
        const TernCpuCompact *c = r->is_move ? &h->host_cpu : &h->guest_cpu;
        v = c->family != r->cpu.family ? CPU_PER_HOST
            : cpu_gives(c, r, ctx, 0) ? CPU_PASS : CPU_FAIL;
        ctx->cpu_verdict[id] = v;
    }
    return v;
}

/* Decided once per distinct CPU of the fleet (the host's CPU id) and
 * request; the reasons of the hosts refused that way are counted per id and
 * spelled out by cpu_explain. Hosts without an id, guests of another
 * family and emulated guests take the per-host rules. */
static gboolean
cpu_filter(const TernSchedHost *h, TernSchedFilterCtx *ctx)
{
    const TernSchedRequest *r = ctx->req;
    if (!r->has_cpu)
        return TRUE;
    guint16 id = r->is_move ? h->host_cpu_id : h->guest_cpu_id;
    if (id && !r->emulated) {
        guint8 v = cpu_verdict(h, id, ctx);
        if (v == CPU_PASS)
            return TRUE;
        if (v == CPU_FAIL) {
            ctx->cpu_fails[id]++;
            return FALSE;
        }
    }
    return cpu_filter_host(h, ctx);
}

static void
cpu_explain(TernSchedFilterCtx *ctx, GString *out)
{
    const TernSchedRequest *r = ctx->req;
    /* The hosts refused per distinct CPU: their reasons, times their number. */
    for (guint id = 1; id < TERN_SCHED_CPU_IDS; id++) {
        if (ctx->cpu_fails[id])
            cpu_gives(tern_sched_cpu_by_id((guint16) id), r, ctx, ctx->cpu_fails[id]);
        ctx->cpu_fails[id] = 0;
    }
    g_string_append_printf(out, "%s: ", r->cpu_desc ? r->cpu_desc : "requested CPU");
    gsize start = out->len;
    /* The features most hosts lacked, most first (at most 5). */
    const char *const *names = tern_cpu_db_features(ctx->cpudb, (TernCpuArch) r->cpu.arch);
    guint nnames = names ? g_strv_length((char **) names) : 0;
    gboolean shown[TERN_CPU_SET_MAX] = { FALSE };
    for (int k = 0; k < 5; k++) {
        int best = -1;
        for (guint i = 0; i < TERN_CPU_SET_MAX; i++)
            if (ctx->missing[i] && !shown[i] && (best < 0 || ctx->missing[i] > ctx->missing[best]))
                best = (int) i;
        if (best < 0)
            break;
        shown[best] = TRUE;
        g_string_append_printf(out, "%smissing %s (%u)", out->len > start ? ", " : "",
                               (guint) best < nnames ? names[best] : "?", ctx->missing[best]);
    }
    if (ctx->cpu_older)
        g_string_append_printf(out, "%sCPU without all features of %s (%u)",
                               out->len > start ? ", " : "",
                               r->cpu_model ? r->cpu_model : "the model", ctx->cpu_older);
    if (ctx->cpu_other_family)
        g_string_append_printf(out, "%sanother CPU architecture (%u)", out->len > start ? ", " : "",
                               ctx->cpu_other_family);
    if (ctx->cpu_generation)
        g_string_append_printf(out, "%solder or other POWER generation (%u)",
                               out->len > start ? ", " : "", ctx->cpu_generation);
    if (ctx->cpu_vendor)
        g_string_append_printf(out, "%sother vendor (%u)", out->len > start ? ", " : "",
                               ctx->cpu_vendor);
    if (ctx->cpu_forbidden)
        g_string_append_printf(out, "%shas a forbidden feature (%u)", out->len > start ? ", " : "",
                               ctx->cpu_forbidden);
    if (ctx->cpu_tcg)
        g_string_append_printf(out, "%sno CPU model QEMU emulates there under TCG gives it (%u)",
                               out->len > start ? ", " : "", ctx->cpu_tcg);
    if (ctx->cpu_tcg_unknown)
        g_string_append_printf(out, "%semulates the arch but reported no TCG CPU models (%u)",
                               out->len > start ? ", " : "", ctx->cpu_tcg_unknown);
}

/* GuestOSArchFilter: the guest OS must be built for the guest's arch on
 * that host: the requested one (hw_architecture or
 * hw_emulation_architecture), else the host's own (osinfo-db and tern's
 * guest-os-rules.ini, fleet/guest_os_rules.h). */
static gboolean
guest_os_filter(const TernSchedHost *h, TernSchedFilterCtx *ctx)
{
    const TernSchedRequest *r = ctx->req;
    if (!r->os_checked || r->os_any_arch)
        return TRUE;
    if (r->arch_name ? r->os_arch_ok : (gboolean) ((r->os_arch_bits >> h->arch) & 1))
        return TRUE;
    ctx->os_refused[r->arch_name ? r->arch : h->arch]++;
    return FALSE;
}

static void
guest_os_explain(TernSchedFilterCtx *ctx, GString *out)
{
    const TernSchedRequest *r = ctx->req;
    if (!r->os_id) {
        g_string_append_printf(out, "os_distro '%s'%s%s%s is unknown to osinfo-db and to tern's "
                               "guest OS rules (guest-os-rules.ini)", r->os_distro,
                               r->os_version ? " (os_version '" : "",
                               r->os_version ? r->os_version : "", r->os_version ? "')" : "");
        return;
    }
    g_string_append_printf(out, "guest OS %s is built for %s only, not for", r->os_id,
                           r->os_arches ? r->os_arches : "no arch");
    gboolean first = TRUE;
    for (guint a = 0; a < TERN_SCHED_ARCH_N; a++) {
        if (!ctx->os_refused[a])
            continue;
        const char *name = r->arch_name && a == r->arch ? r->arch_name
                           : a ? tern_cpu_arch_name((TernCpuArch) a) : "another arch";
        g_string_append_printf(out, "%s %s (%u)", first ? "" : ",", name, ctx->os_refused[a]);
        first = FALSE;
    }
}

/* Nova's ServerGroupAntiAffinityFilter / ServerGroupAffinityFilter: the
 * hosts of the group's members (the claim checks it again under the
 * group's row lock, db/server_groups.h). */
static gboolean
group_anti_affinity_filter(const TernSchedHost *h, TernSchedFilterCtx *ctx)
{
    const TernSchedRequest *r = ctx->req;
    if (!r->group_hosts || g_strcmp0(r->group_policy, "anti-affinity") != 0)
        return TRUE;
    return !g_hash_table_contains(r->group_hosts, h->host);
}

static void
group_anti_affinity_explain(TernSchedFilterCtx *ctx, GString *out)
{
    g_string_append_printf(out, "a member of anti-affinity server group %s is there",
                           ctx->req->group_uuid);
}

static gboolean
group_affinity_filter(const TernSchedHost *h, TernSchedFilterCtx *ctx)
{
    const TernSchedRequest *r = ctx->req;
    if (!r->group_hosts || !g_hash_table_size(r->group_hosts) ||
        g_strcmp0(r->group_policy, "affinity") != 0)
        return TRUE;
    return g_hash_table_contains(r->group_hosts, h->host);
}

static void
group_affinity_explain(TernSchedFilterCtx *ctx, GString *out)
{
    g_string_append_printf(out, "not the host of affinity server group %s's members",
                           ctx->req->group_uuid);
}

/* FeatureGatesFilter: a live migration only to hosts whose feature gates
 * (arch of the guest, kvm when the host runs it natively else qemu, the
 * host's QEMU version) allow live_migration. */
static gboolean
gates_filter(const TernSchedHost *h, TernSchedFilterCtx *ctx)
{
    const TernSchedRequest *r = ctx->req;
    if (!r->is_move || !r->gates || !r->arch_name)
        return TRUE;
    gboolean kvm = r->arch != TERN_CPU_ARCH_NONE &&
        (h->triples & tern_sched_triple_bit(r->arch, TERN_SCHED_HV_KVM, TERN_SCHED_VM_HVM));
    g_autoptr(GError) err = NULL;
    if (tern_gates_check(r->gates, r->arch_name, kvm ? "kvm" : "qemu", h->hv_version,
                         "live_migration", &err) == 0)
        return TRUE;
    g_strlcpy(ctx->gate_reason, err->message, sizeof(ctx->gate_reason));
    return FALSE;
}

static void
gates_explain(TernSchedFilterCtx *ctx, GString *out)
{
    g_string_append(out, ctx->gate_reason);
}

/* ---- which filters a request needs ---------------------------------------- */

static gboolean
az_active(const TernSchedFilterCtx *ctx)
{
    return !ctx->az_ok;
}

static gboolean
image_props_active(const TernSchedFilterCtx *ctx)
{
    return ctx->req->triples_mask || ctx->req->machine_type;
}

static gboolean
guest_os_active(const TernSchedFilterCtx *ctx)
{
    return ctx->req->os_checked && !ctx->req->os_any_arch;
}

static gboolean
cpu_active(const TernSchedFilterCtx *ctx)
{
    return ctx->req->has_cpu;
}

static gboolean
group_anti_affinity_active(const TernSchedFilterCtx *ctx)
{
    const TernSchedRequest *r = ctx->req;
    return r->group_hosts && g_strcmp0(r->group_policy, "anti-affinity") == 0;
}

static gboolean
group_affinity_active(const TernSchedFilterCtx *ctx)
{
    const TernSchedRequest *r = ctx->req;
    return r->group_hosts && g_hash_table_size(r->group_hosts) &&
           g_strcmp0(r->group_policy, "affinity") == 0;
}

static gboolean
gates_active(const TernSchedFilterCtx *ctx)
{
    const TernSchedRequest *r = ctx->req;
    return r->is_move && r->gates && r->arch_name;
}

/* Positions in the table (the branch-free pass knows these filters). */
enum {
    F_COMPUTE, F_AZ, F_IMAGE_PROPS, F_RAM, F_CORE, F_DISK, F_GUEST_OS, F_CPU,
};

static const TernSchedFilter filters[] = {
    [F_COMPUTE] = { "ComputeFilter", compute_filter, compute_explain, NULL },
    [F_AZ] = { "AvailabilityZoneFilter", az_filter, az_explain, az_active },
    [F_IMAGE_PROPS] = { "ImagePropertiesFilter", image_props_filter, image_props_explain,
                        image_props_active },
    [F_RAM] = { "RamFilter", ram_filter, ram_explain, NULL },
    [F_CORE] = { "CoreFilter", core_filter, core_explain, NULL },
    [F_DISK] = { "DiskFilter", disk_filter, disk_explain, NULL },
    [F_GUEST_OS] = { "GuestOSArchFilter", guest_os_filter, guest_os_explain, guest_os_active },
    [F_CPU] = { "CpuModelFilter", cpu_filter, cpu_explain, cpu_active },
    { "ServerGroupAntiAffinityFilter", group_anti_affinity_filter, group_anti_affinity_explain,
      group_anti_affinity_active },
    { "ServerGroupAffinityFilter", group_affinity_filter, group_affinity_explain,
      group_affinity_active },
    { "FeatureGatesFilter", gates_filter, gates_explain, gates_active },
};

const TernSchedFilter *
tern_sched_filter_find(const char *name)
{
    for (guint i = 0; i < G_N_ELEMENTS(filters); i++)
        if (strcmp(filters[i].name, name) == 0)
            return &filters[i];
    return NULL;
}

GPtrArray *
tern_sched_filters_from_names(const char *const *names, GError **error)
{
    g_autoptr(GPtrArray) out = g_ptr_array_new();
    if (names && g_strv_length((char **) names) > 32) {
        g_set_error(error, TERN_SCHED_ERROR, TERN_SCHED_ERROR_CONFIG,
                    "[filter_scheduler] enabled_filters: more than 32 filters");
        return NULL;
    }
    for (const char *const *n = names; n && *n; n++) {
        const TernSchedFilter *f = tern_sched_filter_find(*n);
        if (!f) {
            g_autoptr(GString) known = g_string_new(NULL);
            for (guint i = 0; i < G_N_ELEMENTS(filters); i++)
                g_string_append_printf(known, "%s%s", i ? ", " : "", filters[i].name);
            g_set_error(error, TERN_SCHED_ERROR, TERN_SCHED_ERROR_CONFIG,
                        "[filter_scheduler] enabled_filters: unknown filter '%s' (tern has: %s)",
                        *n, known->str);
            return NULL;
        }
        g_ptr_array_add(out, (gpointer) f);
    }
    return g_steal_pointer(&out);
}

void
tern_sched_filter_ctx_init(TernSchedFilterCtx *ctx, const TernSchedRequest *req,
                           const TernCpuDb *cpudb, gint64 now, int down_time,
                           const char *default_az)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->req = req;
    ctx->cpudb = cpudb;
    ctx->now = now;
    ctx->down_time = down_time;
    ctx->az_ok = !req->availability_zone || !*req->availability_zone ||
                 g_strcmp0(req->availability_zone, default_az) == 0;
}

/* ---- the pass ------------------------------------------------------------ */

gboolean tern_sched_filter_generic = FALSE;

static gboolean
in_list(char *const *list, const char *s)
{
    for (; list && *list; list++)
        if (g_ascii_strcasecmp(*list, s) == 0)
            return TRUE;
    return FALSE;
}

static void
note(GString *reason, const char *what, guint removed, const char *detail)
{
    if (!reason || !removed)
        return;
    g_string_append_printf(reason, "%s%s removed %u host%s%s%s", reason->len ? "; " : "", what,
                           removed, removed == 1 ? "" : "s", detail && *detail ? ": " : "",
                           detail ? detail : "");
}

guint
tern_sched_filter_run(const GPtrArray *filters_, const TernSchedHost *hosts, guint *idx, guint n,
                      TernSchedFilterCtx *ctx, GString *reason)
{
    return tern_sched_filter_run_raw(filters_, hosts, idx, n, ctx, reason, NULL);
}

/* ---- the branch-free pass -------------------------------------------------- */

/* What the filters and weighers read of a host is its first cache line
 * (sched_host.h): ask for a later host's ahead of time. */
static inline void
prefetch_ahead(const TernSchedHost *hosts, const guint *idx, guint i, guint n)
{
    if (i + 8 < n)
        __builtin_prefetch(&hosts[idx[i + 8]]);
}

/* The pass's filters, each as its bit in a host's refusals (bit f = the
 * f-th filter run; 0 = not run). */
typedef struct {
    guint32 compute, az, image, ram, core, disk, os, cpu;
} FilterBits;

/* Can the pass below run these filters for r? Only the filters it knows,
 * no machine type (a string search) and no emulated guest (per-host CPU
 * rules for every host). */
static gboolean
filter_bits(const TernSchedFilter *const *used, guint nf, const TernSchedRequest *r,
            FilterBits *b)
{
    memset(b, 0, sizeof(*b));
    if (r->machine_type || r->emulated || nf > 31)
        return FALSE;
    for (guint f = 0; f < nf; f++) {
        guint32 bit = 1u << f;
        if (used[f] < filters || used[f] >= filters + G_N_ELEMENTS(filters))
            return FALSE;
        switch (used[f] - filters) {
        case F_COMPUTE: b->compute |= bit; break;
        case F_AZ: b->az |= bit; break;
        case F_IMAGE_PROPS: b->image |= bit; break;
        case F_RAM: b->ram |= bit; break;
        case F_CORE: b->core |= bit; break;
        case F_DISK: b->disk |= bit; break;
        case F_GUEST_OS: b->os |= bit; break;
        case F_CPU: b->cpu |= bit; break;
        default: return FALSE;
        }
    }
    /* a filter named twice: the generic pass */
    guint32 all = b->compute | b->az | b->image | b->ram | b->core | b->disk | b->os | b->cpu;
    return (guint) __builtin_popcount(all) == nf;
}

static inline guint32
bit_if(guint32 bit, gboolean cond)
{
    return bit & (0u - (guint32) (cond != 0));
}

/* The same verdicts and counts as running each filter in turn until one
 * refuses (the generic loop), computed for every host without a branch
 * that depends on the host: in a mixed fleet where a host stops was a
 * mispredicted branch or two per host, most of the pass's time. Hosts
 * whose CPU needs the per-host rules (another CPU family, no CPU id) take
 * them. removed[f] counts the hosts filter f refused first. */
static guint
pass_branch_free(const FilterBits *b, const TernSchedHost *hosts, guint *idx, guint n,
                 TernSchedFilterCtx *ctx, guint *removed, double *raw)
{
    const TernSchedRequest *r = ctx->req;
    const gint64 now = ctx->now, down_us = (gint64) ctx->down_time * G_USEC_PER_SEC;
    const guint64 mask = r->triples_mask;
    const gboolean arch_rule = mask && r->arch_name;
    const guint req_family = arch_family(r->arch);
    const gboolean os_any = !r->os_checked || r->os_any_arch;
    const gboolean cpu_on = b->cpu && r->has_cpu;
    /* in locals: the compiler cannot keep ctx's fields in registers across
     * the stores to idx */
    const gint64 mem = r->memory_mb, vcpus = r->vcpus, disk = r->disk_gb;
    const gboolean az_ok = ctx->az_ok, is_move = r->is_move, by_arch_name = r->arch_name != NULL;
    const gboolean os_arch_ok = r->os_arch_ok;
    const guint32 os_arch_bits = r->os_arch_bits;
    const guint req_arch = r->arch;
    const guint32 before_cpu = b->cpu - 1;
    guint n_disabled = 0, n_down = 0;
    guint32 counts[32] = { 0 };   /* by the lowest refusing bit's index; 31: none */
    ctx->cpu_verdict[0] = CPU_PER_HOST;   /* no CPU id: the per-host rules */
    guint m = 0;
    for (guint i = 0; i < n; i++) {
        const TernSchedHost *h = &hosts[idx[i]];
        prefetch_ahead(hosts, idx, i, n);
        guint harch = h->arch < TERN_SCHED_ARCH_N ? h->arch : 0;
        gboolean disabled = h->node_disabled | h->svc_disabled;
        gboolean up = h->has_service & (now - h->last_seen_up <= down_us);
        gboolean image_ok = !mask ||
            (((h->triples & mask) != 0) &
             !(arch_rule & (h->arch != req_arch) & !h->tcg_only &
               (!req_family | (req_family != arch_family(harch)))));
        gboolean os_ok = os_any | (by_arch_name ? os_arch_ok
                                                : (gboolean) ((os_arch_bits >> harch) & 1));
        guint16 id = is_move ? h->host_cpu_id : h->guest_cpu_id;
        guint8 v = cpu_verdict(h, id, ctx);
        guint32 fails = bit_if(b->compute, disabled | !up) | bit_if(b->az, !az_ok) |
                        bit_if(b->image, !image_ok) |
                        bit_if(b->ram, h->memory_used + mem > h->memory_cap) |
                        bit_if(b->core, h->vcpus_used + vcpus > h->vcpus_cap) |
                        bit_if(b->disk, h->disk_used + disk > h->disk_cap) |
                        bit_if(b->os, !os_ok) | bit_if(b->cpu, cpu_on & (v == CPU_FAIL));
        /* The CPU filter is reached (nothing before it refused) and needs
         * the host's own rules, which count their reasons themselves. */
        if (G_UNLIKELY(cpu_on & (v == CPU_PER_HOST)) && !(fails & before_cpu) &&
            !cpu_filter_host(h, ctx))
            fails |= b->cpu;
        guint32 first = fails & (0u - fails);
        counts[__builtin_ctz(first | 0x80000000u)]++;
        gboolean by_compute = (first & b->compute) != 0;
        n_disabled += by_compute & disabled;
        n_down += by_compute & !disabled;
        ctx->os_refused[by_arch_name ? req_arch : harch] += (first & b->os) != 0;
        ctx->cpu_fails[id] += ((first & b->cpu) != 0) & (v == CPU_FAIL);
        idx[m] = idx[i];
        if (raw)
            tern_sched_weigh_inputs(h, &raw[(gsize) m * 3]);
        m += fails == 0;
    }
    for (guint f = 0; f < 31; f++)
        removed[f] += counts[f];
    ctx->disabled += n_disabled;
    ctx->down += n_down;
    return m;
}

guint
tern_sched_filter_run_raw(const GPtrArray *filters_, const TernSchedHost *hosts, guint *idx,
                          guint n, TernSchedFilterCtx *ctx, GString *reason, double *raw)
{
    const TernSchedRequest *r = ctx->req;
    guint m;

    /* Host-list rules, in Nova's host manager order. */
    if (r->ignore_hosts || r->source_host) {
        m = 0;
        for (guint i = 0; i < n; i++) {
            const TernSchedHost *h = &hosts[idx[i]];
            if (!in_list(r->ignore_hosts, h->host) && g_strcmp0(r->source_host, h->host) != 0)
                idx[m++] = idx[i];
        }
        note(reason, r->is_move ? "ignore_hosts (and the source host)" : "ignore_hosts", n - m,
             NULL);
        n = m;
    }
    if (r->force_hosts || r->force_nodes) {
        m = 0;
        for (guint i = 0; i < n; i++) {
            const TernSchedHost *h = &hosts[idx[i]];
            if ((!r->force_hosts || in_list(r->force_hosts, h->host)) &&
                (!r->force_nodes || in_list(r->force_nodes, h->nodename)))
                idx[m++] = idx[i];
        }
        note(reason, "force_hosts/force_nodes", n - m, NULL);
        n = m;
    }
    if (r->dest_host || r->dest_node) {
        m = 0;
        for (guint i = 0; i < n; i++) {
            const TernSchedHost *h = &hosts[idx[i]];
            if ((!r->dest_host || strcmp(r->dest_host, h->host) == 0) &&
                (!r->dest_node || g_strcmp0(r->dest_node, h->nodename) == 0))
                idx[m++] = idx[i];
        }
        note(reason, "requested_destination", n - m, NULL);
        n = m;
    }

    /* One pass: each host goes through the filters in order until one
     * refuses it, which counts the host as that filter's (the same counts
     * as one pass per filter, with each host's fields read once). */
    /* Only the filters this request needs (the others keep every host). */
    guint nf = 0;
    TernSchedFilterFunc funcs[32];
    const TernSchedFilter *used[32];
    guint removed[32] = { 0 };   /* [31]: unused (the branch-free pass's "none") */
    for (guint f = 0; f < MIN(filters_->len, 32u); f++) {
        const TernSchedFilter *flt = filters_->pdata[f];
        if (flt->active && !flt->active(ctx))
            continue;
        used[nf] = flt;
        funcs[nf++] = flt->func;
    }
    FilterBits bits;
    if (!tern_sched_filter_generic && filter_bits(used, nf, r, &bits)) {
        n = pass_branch_free(&bits, hosts, idx, n, ctx, removed, raw);
        goto explain;
    }
    m = 0;
    for (guint i = 0; i < n; i++) {
        const TernSchedHost *h = &hosts[idx[i]];
        prefetch_ahead(hosts, idx, i, n);
        guint f = 0;
        while (f < nf && funcs[f](h, ctx))
            f++;
        if (f == nf) {
            if (raw)
                tern_sched_weigh_inputs(h, &raw[(gsize) m * 3]);
            idx[m++] = idx[i];
        } else
            removed[f]++;
    }
    n = m;
explain:
    for (guint f = 0; reason && f < nf; f++) {
        if (!removed[f])
            continue;
        const TernSchedFilter *flt = used[f];
        g_autoptr(GString) detail = g_string_new(NULL);
        if (flt->explain)
            flt->explain(ctx, detail);
        note(reason, flt->name, removed[f], detail->str);
    }
    return n;
}
