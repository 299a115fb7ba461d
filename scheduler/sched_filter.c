/* sched_filter.c: the filters, their table, and the pass that runs them. */
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
static guint
arch_family(guint arch)
{
    switch (arch) {
    case TERN_CPU_ARCH_I686:
    case TERN_CPU_ARCH_X86_64:
        return 1;
    case TERN_CPU_ARCH_PPC64:
    case TERN_CPU_ARCH_PPC64LE:
        return 2;
    default:
        return 0;
    }
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

static gboolean
cpu_filter(const TernSchedHost *h, TernSchedFilterCtx *ctx)
{
    const TernSchedRequest *r = ctx->req;
    if (!r->has_cpu)
        return TRUE;
    const TernCpuCompact *c = r->is_move ? &h->host_cpu : &h->guest_cpu;
    const TernCpuCompact *q = &r->cpu;
    if (q->family != c->family) {
        /* A guest of another arch family on a host that emulates it: TCG
         * offers that family's models. A live migration only for a guest
         * that is emulated already (the destination's own check decides). */
        if ((!r->is_move || r->emulated) && q->arch &&
            (h->triples & tern_sched_triple_bit(q->arch, TERN_SCHED_HV_QEMU, TERN_SCHED_VM_HVM)))
            return TRUE;
        ctx->cpu_other_family++;
        return FALSE;
    }
    if (q->vendor && q->vendor != c->vendor) {
        ctx->cpu_vendor++;
        return FALSE;
    }
    if (q->gen_max > c->gen_max || (q->gen_exact && q->gen_max != c->gen_max)) {
        ctx->cpu_generation++;
        return FALSE;
    }
    if (!tern_cpu_set_is_subset(&q->features, &c->features)) {
        /* Features named on top of the model are counted one by one; the
         * model's own as "older than the model". */
        guint64 model_miss = 0;
        for (int w = 0; w < TERN_CPU_SET_WORDS; w++) {
            guint64 miss = q->features.w[w] & ~c->features.w[w];
            guint64 extra = miss & r->cpu_extra.w[w];
            model_miss |= miss & ~extra;
            while (extra) {
                ctx->missing[w * 64 + __builtin_ctzll(extra)]++;
                extra &= extra - 1;
            }
        }
        if (model_miss)
            ctx->cpu_older++;
        return FALSE;
    }
    if (r->has_forbidden) {
        TernCpuFeatureSet both;
        tern_cpu_set_intersect(&both, &r->forbidden, &c->features);
        if (!tern_cpu_set_is_empty(&both)) {
            ctx->cpu_forbidden++;
            return FALSE;
        }
    }
    return TRUE;
}

static void
cpu_explain(TernSchedFilterCtx *ctx, GString *out)
{
    const TernSchedRequest *r = ctx->req;
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

static const TernSchedFilter filters[] = {
    { "ComputeFilter", compute_filter, compute_explain },
    { "AvailabilityZoneFilter", az_filter, az_explain },
    { "ImagePropertiesFilter", image_props_filter, image_props_explain },
    { "RamFilter", ram_filter, ram_explain },
    { "CoreFilter", core_filter, core_explain },
    { "DiskFilter", disk_filter, disk_explain },
    { "CpuModelFilter", cpu_filter, cpu_explain },
    { "ServerGroupAntiAffinityFilter", group_anti_affinity_filter, group_anti_affinity_explain },
    { "ServerGroupAffinityFilter", group_affinity_filter, group_affinity_explain },
    { "FeatureGatesFilter", gates_filter, gates_explain },
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
    guint nf = MIN(filters_->len, 32u);
    TernSchedFilterFunc funcs[32];
    guint removed[32] = { 0 };
    for (guint f = 0; f < nf; f++)
        funcs[f] = ((const TernSchedFilter *) filters_->pdata[f])->func;
    m = 0;
    for (guint i = 0; i < n; i++) {
        const TernSchedHost *h = &hosts[idx[i]];
        guint f = 0;
        while (f < nf && funcs[f](h, ctx))
            f++;
        if (f == nf) {
            if (raw) {
                double *v = &raw[(gsize) m * 3];
                v[0] = tern_sched_free_ram_mb(h);
                v[1] = tern_sched_free_vcpus(h);
                v[2] = tern_sched_free_disk_mb(h);
            }
            idx[m++] = idx[i];
        } else
            removed[f]++;
    }
    for (guint f = 0; reason && f < nf; f++) {
        if (!removed[f])
            continue;
        const TernSchedFilter *flt = filters_->pdata[f];
        g_autoptr(GString) detail = g_string_new(NULL);
        if (flt->explain)
            flt->explain(ctx, detail);
        note(reason, flt->name, removed[f], detail->str);
    }
    n = m;
    return n;
}
