/* cpu_x86.c: the x86 CPU driver (x86_64, i686): cpu_map models with
 * inheritance as feature bitsets, compare and baseline with libvirt's
 * rules (src/cpu/cpu_x86.c: x86Compute, virCPUx86Baseline, x86Decode),
 * guest CPUs per cpu_mode, and their <cpu> XML.
 *
 * Every x86 feature in cpu_map is exactly one CPUID or MSR bit, distinct
 * from all others, so a bitset over features is the same as libvirt's
 * CPUID-level data (tests/unit/test-cpu-libvirt checks the expansion of
 * every model against libvirt itself). */
#include <string.h>

#include "cpu/cpu_db.h"

static const TernCpuArch x86_archs[] = { TERN_CPU_ARCH_X86_64, TERN_CPU_ARCH_I686 };

static gboolean
prop_is(xmlNode *node, const char *name, const char *value)
{
    g_autofree char *v = tern_cpu_xml_prop(node, name);
    return v && strcmp(v, value) == 0;
}

static int
x86_parse_model(TernCpuMap *map, xmlNode *node, const char *file, GError **error)
{
    g_autofree char *name = tern_cpu_xml_prop(node, "name");
    if (!name) {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_LOAD, "%s: a <model> has no name", file);
        return -1;
    }
    if (tern_cpu_map_model(map, name)) {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_LOAD,
                    "%s: CPU model %s is defined twice", file, name);
        return -1;
    }
    TernCpuModel *m = g_new0(TernCpuModel, 1);
    m->name = g_steal_pointer(&name);
    m->vendor = -1;
    m->decode_guest = TRUE;
    for (xmlNode *c = node->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        const char *tag = (const char *) c->name;
        g_autofree char *cname = tern_cpu_xml_prop(c, "name");
        if (strcmp(tag, "check") == 0) {
            m->check_compat = prop_is(c, "partial", "compat");
        } else if (strcmp(tag, "decode") == 0) {
            m->decode_guest = !prop_is(c, "guest", "off");
        } else if (strcmp(tag, "model") == 0) {
            const TernCpuModel *anc = tern_cpu_map_model(map, cname);
            if (!anc) {
                g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_LOAD,
                            "%s: ancestor model %s of %s is not defined before it",
                            file, cname ? cname : "(none)", m->name);
                goto fail;
            }
            m->vendor = anc->vendor;
            m->features = anc->features;
        } else if (strcmp(tag, "vendor") == 0) {
            m->vendor = tern_cpu_map_vendor(map, cname);
            if (m->vendor < 0) {
                g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_LOAD,
                            "%s: unknown vendor %s in model %s", file,
                            cname ? cname : "(none)", m->name);
                goto fail;
            }
        } else if (strcmp(tag, "feature") == 0) {
            int bit = tern_cpu_map_feature(map, cname);
            if (bit < 0) {
                g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_LOAD,
                            "%s: feature %s of model %s is not defined", file,
                            cname ? cname : "(none)", m->name);
                goto fail;
            }
            /* removed='yes': gone from the model, disabled explicitly in
             * guests; added='yes': newer QEMU has it, libvirt does not
             * count it as part of the model (so neither do we). */
            if (prop_is(c, "removed", "yes"))
                tern_cpu_set_add(&m->removed, (guint) bit);
            else if (!prop_is(c, "added", "yes"))
                tern_cpu_set_add(&m->features, (guint) bit);
        }
    }
    tern_cpu_map_add_model(map, m);
    return 0;
fail:
    g_free(m->name);
    g_free(m);
    return -1;
}

static int
x86_from_model(const TernCpuMap *map, TernCpu *cpu, const char *model,
               const TernCpuFeatureSet *req, const TernCpuFeatureSet *dis, GError **error)
{
    TernCpuFeatureSet base = { { 0 } };
    if (model) {
        const TernCpuModel *m = tern_cpu_map_model(map, model);
        if (!m) {
            g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_UNKNOWN_MODEL,
                        "unknown CPU model '%s' for %s (`virsh cpu-models %s` lists them)",
                        model, tern_cpu_arch_name(cpu->arch), tern_cpu_arch_name(cpu->arch));
            return -1;
        }
        g_free(cpu->model);
        cpu->model = g_strdup(m->name);
        base = m->features;
    }
    tern_cpu_set_union(&cpu->features, &base, req);
    tern_cpu_set_minus(&cpu->features, &cpu->features, dis);
    cpu->required = *req;
    cpu->disabled = *dis;
    return 0;
}

static gint
x86_cmp_name(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static char *
x86_names(const TernCpuMap *map, const TernCpuFeatureSet *set)
{
    GString *s = g_string_new(NULL);
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    for (int i = tern_cpu_set_next(set, -1); i >= 0; i = tern_cpu_set_next(set, i))
        g_ptr_array_add(names, g_ptr_array_index(map->features, i));
    g_ptr_array_sort(names, x86_cmp_name);
    for (guint i = 0; i < names->len; i++)
        g_string_append_printf(s, "%s%s", i ? ", " : "", (char *) g_ptr_array_index(names, i));
    return g_string_free(s, FALSE);
}

/* libvirt's x86Compute for a guest CPU against a host CPU. */
static int
x86_compare(const TernCpuMap *map, const TernCpu *host, const TernCpu *guest,
            TernCpuComparison *cmp)
{
    if (guest->vendor && (!host->vendor || strcmp(guest->vendor, host->vendor) != 0)) {
        cmp->result = TERN_CPU_INCOMPATIBLE;
        cmp->reason = g_strdup_printf("host CPU vendor %s does not match required CPU vendor %s",
                                      host->vendor ? host->vendor : "(unknown)", guest->vendor);
        return 0;
    }
    TernCpuFeatureSet bad;
    tern_cpu_set_intersect(&bad, &guest->forbidden, &host->features);
    if (!tern_cpu_set_is_empty(&bad)) {
        g_autofree char *names = x86_names(map, &bad);
        cmp->result = TERN_CPU_INCOMPATIBLE;
        cmp->reason = g_strdup_printf("Host CPU provides forbidden features: %s", names);
        return 0;
    }
    /* forced features are the hypervisor's to give: not asked of the host */
    tern_cpu_set_minus(&cmp->missing, &guest->features, &host->features);
    tern_cpu_set_minus(&cmp->missing, &cmp->missing, &guest->forced);
    if (!tern_cpu_set_is_empty(&cmp->missing)) {
        g_autofree char *names = x86_names(map, &cmp->missing);
        cmp->result = TERN_CPU_INCOMPATIBLE;
        cmp->reason = g_strdup_printf("Host CPU does not provide required features: %s", names);
        return 0;
    }
    TernCpuFeatureSet extra;
    tern_cpu_set_minus(&extra, &host->features, &guest->features);
    tern_cpu_set_minus(&extra, &extra, &guest->disabled);
    tern_cpu_set_minus(&extra, &extra, &guest->forbidden);
    cmp->result = tern_cpu_set_is_empty(&extra) ? TERN_CPU_IDENTICAL : TERN_CPU_SUPERSET;
    return 0;
}

/* libvirt 11's virConnectCompareHypervisorCPU, measured (docs/cpu.md):
 * for a model QEMU reports usable, a versioned model (no <check
 * partial='compat'/>) is only checked for its explicitly required
 * features; a base model with none is accepted as it is; a base model
 * with required features gets the full compare. */
static gboolean
x86_compare_usable(const TernCpuMap *map, const TernCpu *hv, const TernCpu *guest,
                   TernCpuComparison *cmp)
{
    const TernCpuModel *m = tern_cpu_map_model(map, guest->model);
    if (!m)
        return FALSE;
    if (m->check_compat) {
        if (!tern_cpu_set_is_empty(&guest->required))
            return FALSE;
        cmp->result = TERN_CPU_SUPERSET;
        return TRUE;
    }
    tern_cpu_set_minus(&cmp->missing, &guest->required, &hv->features);
    if (tern_cpu_set_is_empty(&cmp->missing)) {
        cmp->result = TERN_CPU_SUPERSET;
    } else {
        g_autofree char *names = x86_names(map, &cmp->missing);
        cmp->result = TERN_CPU_INCOMPATIBLE;
        cmp->reason = g_strdup_printf("Host CPU does not provide required features: %s", names);
    }
    return TRUE;
}

/* A decode candidate's weight, as libvirt's
 * virCPUx86CompareCandidateFeatureList counts it (its loop bound shrinks as
 * it meets disabled features, which come after the required ones; we count
 * the same way so that we pick the same model). */
typedef struct {
    guint score;
    guint disabled;
} X86Weight;

static X86Weight
x86_weight(guint nreq, guint ndis)
{
    guint enabled = nreq + ndis, disabled = 0, penalty = 2;
    for (guint i = 0; i < enabled; i++) {
        if (i >= nreq) {
            enabled--;
            disabled += penalty++;
        }
    }
    return (X86Weight) { enabled + disabled, disabled };
}

typedef struct {
    const TernCpuModel *model;
    TernCpuFeatureSet req, dis;
    X86Weight w;
} X86Candidate;

/* libvirt's x86Decode for a guest CPU: the model that describes `data`
 * with the fewest explicit features, newest first, preferring `preferred`. */
static const TernCpuModel *
x86_decode(const TernCpuMap *map, const TernCpuFeatureSet *data, int vendor,
           const char *const *preferred, guint npref, TernCpuFeatureSet *req,
           TernCpuFeatureSet *dis)
{
    X86Candidate best = { 0 };
    for (int i = (int) map->models->len - 1; i >= 0; i--) {
        const TernCpuModel *m = g_ptr_array_index(map->models, i);
        if (!m->decode_guest)
            continue;
        if (vendor >= 0 && m->vendor >= 0 && vendor != m->vendor)
            continue;
        X86Candidate c = { .model = m };
        tern_cpu_set_minus(&c.req, data, &m->features);
        tern_cpu_set_minus(&c.dis, &m->features, data);
        TernCpuFeatureSet rem;
        tern_cpu_set_minus(&rem, &m->removed, &c.req);
        tern_cpu_set_union(&c.dis, &c.dis, &rem);
        c.w = x86_weight(tern_cpu_set_count(&c.req), tern_cpu_set_count(&c.dis));
        gboolean is_pref = FALSE;
        for (guint p = 0; p < npref; p++)
            if (strcmp(preferred[p], m->name) == 0)
                is_pref = TRUE;
        if (is_pref && npref == 1) {
            best = c;
            break;
        }
        if (!best.model ||
            c.w.score < best.w.score ||
            (c.w.score == best.w.score && c.w.disabled < best.w.disabled) ||
            (is_pref && c.w.disabled < best.w.disabled))
            best = c;
    }
    if (best.model) {
        *req = best.req;
        *dis = best.dis;
    }
    return best.model;
}

static TernCpu *
x86_baseline(const TernCpuMap *map, const TernCpu *const *hosts, guint n, GError **error)
{
    TernCpuFeatureSet base = hosts[0]->features;
    int vendor = -1;
    gboolean output_vendor = hosts[0]->vendor != NULL;
    g_autoptr(GPtrArray) names = g_ptr_array_new();

    if (hosts[0]->vendor && (vendor = tern_cpu_map_vendor(map, hosts[0]->vendor)) < 0) {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_INCOMPATIBLE,
                    "unknown CPU vendor %s", hosts[0]->vendor);
        return NULL;
    }
    for (guint i = 0; i < n; i++) {
        const TernCpu *h = hosts[i];
        if (h->model && !g_ptr_array_find_with_equal_func(names, h->model, g_str_equal, NULL))
            g_ptr_array_add(names, h->model);
        if (i == 0)
            continue;
        const TernCpuModel *m = tern_cpu_map_model(map, h->model);
        const char *mvendor = m && m->vendor >= 0 ? g_ptr_array_index(map->vendors, m->vendor) : NULL;
        if (h->vendor && mvendor && strcmp(h->vendor, mvendor) != 0) {
            g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_INCOMPATIBLE,
                        "CPU vendor %s of model %s differs from vendor %s",
                        mvendor, m->name, h->vendor);
            return NULL;
        }
        const char *vn = h->vendor;
        if (!vn) {
            output_vendor = FALSE;
            vn = mvendor;
        }
        if (vn) {
            int v = tern_cpu_map_vendor(map, vn);
            if (v < 0) {
                g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_INCOMPATIBLE,
                            "unknown CPU vendor %s", vn);
                return NULL;
            }
            if (vendor < 0) {
                vendor = v;
            } else if (vendor != v) {
                g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_INCOMPATIBLE,
                            "CPU vendors do not match (%s, %s): no common CPU",
                            (char *) g_ptr_array_index(map->vendors, vendor), vn);
                return NULL;
            }
        }
        tern_cpu_set_intersect(&base, &base, &h->features);
    }
    if (tern_cpu_set_is_empty(&base)) {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_INCOMPATIBLE,
                    "CPUs are incompatible: they share no feature");
        return NULL;
    }
    TernCpuFeatureSet req, dis;
    const TernCpuModel *m = x86_decode(map, &base, vendor, (const char *const *) names->pdata,
                                       names->len, &req, &dis);
    if (!m) {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_INCOMPATIBLE,
                    "no CPU model of cpu_map fits the common features");
        return NULL;
    }
    TernCpu *cpu = tern_cpu_new(hosts[0]->arch, TERN_CPU_MODE_CUSTOM);
    cpu->model = g_strdup(m->name);
    if (output_vendor && vendor >= 0)
        cpu->vendor = g_strdup(g_ptr_array_index(map->vendors, vendor));
    cpu->features = base;
    cpu->required = req;
    cpu->disabled = dis;
    return cpu;
}

static TernCpu *
x86_guest(const TernCpuMap *map, const TernCpuHost *host, TernCpuMode mode,
          const char *const *models, const TernCpuFeatureSet *req, const TernCpuFeatureSet *dis,
          const TernCpuFeatureSet *wanted, GError **error)
{
    TernCpuArch arch = host ? host->cpu->arch : TERN_CPU_ARCH_X86_64;
    g_autoptr(TernCpu) cpu = tern_cpu_new(arch, mode);
    const TernCpu *base = NULL;
    const char *model = NULL;
    TernCpuFeatureSet none = { { 0 } };

    switch (mode) {
    case TERN_CPU_MODE_HOST_MODEL:
        base = tern_cpu_host_model_cpu(host);
        break;
    case TERN_CPU_MODE_HOST_PASSTHROUGH:
        base = host->cpu;
        break;
    case TERN_CPU_MODE_NONE:
        /* No <cpu>: QEMU's default model, as Nova assumes for traits. */
        model = arch == TERN_CPU_ARCH_I686 ? "qemu32" : "qemu64";
        req = dis = &none;
        break;
    case TERN_CPU_MODE_CUSTOM:
        for (int i = 0; models[i]; i++) {
            const TernCpuModel *m = tern_cpu_map_model(map, models[i]);
            if (!m) {
                g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_UNKNOWN_MODEL,
                            "Configured CPU model: %s is not correct, or your host CPU arch "
                            "does not support this model ([libvirt] cpu_models; `virsh "
                            "cpu-models %s` lists them)", models[i], tern_cpu_arch_name(arch));
                return NULL;
            }
            if (!wanted || tern_cpu_set_is_subset(wanted, &m->features)) {
                model = m->name;
                break;
            }
        }
        if (!model) {
            g_autofree char *want = x86_names(map, wanted);
            g_autofree char *list = g_strjoinv(", ", (char **) models);
            g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_INCOMPATIBLE,
                        "No CPU model match traits, models: %s, required flags: %s", list, want);
            return NULL;
        }
        break;
    case TERN_CPU_MODE_HOST:
        break;
    }
    if (base) {
        cpu->model = g_strdup(base->model);
        tern_cpu_set_union(&cpu->features, &base->features, req);
        tern_cpu_set_minus(&cpu->features, &cpu->features, dis);
        cpu->required = *req;
        cpu->disabled = *dis;
        return g_steal_pointer(&cpu);
    }
    if (x86_from_model(map, cpu, model, req, dis, error) < 0)
        return NULL;
    return g_steal_pointer(&cpu);
}

static void
x86_format_guest(const TernCpuMap *map, const TernCpu *cpu, xmlNode *node)
{
    xmlNewProp(node, BAD_CAST "mode", BAD_CAST tern_cpu_mode_name(cpu->mode));
    if (cpu->mode == TERN_CPU_MODE_CUSTOM) {
        xmlNewProp(node, BAD_CAST "match", BAD_CAST "exact");
        xmlNode *m = xmlNewTextChild(node, NULL, BAD_CAST "model", BAD_CAST cpu->model);
        xmlNewProp(m, BAD_CAST "fallback", BAD_CAST "forbid");
        if (cpu->vendor)
            xmlNewTextChild(node, NULL, BAD_CAST "vendor", BAD_CAST cpu->vendor);
    }
    tern_cpu_xml_add_features(map, node, "require", &cpu->required);
    tern_cpu_xml_add_features(map, node, "disable", &cpu->disabled);
    tern_cpu_xml_add_features(map, node, "forbid", &cpu->forbidden);
}

static void
x86_compact(const TernCpuMap *map, const TernCpu *cpu, TernCpuCompact *out)
{
    out->features = cpu->features;
    int v = tern_cpu_map_vendor(map, cpu->vendor);
    out->vendor = (guint16) (v + 1);
    const TernCpuModel *m = tern_cpu_map_model(map, cpu->model);
    guint i;
    if (m && g_ptr_array_find(map->models, m, &i))
        out->model = (guint16) (i + 1);
}

const TernCpuArchDriver tern_cpu_driver_x86 = {
    .name = "x86",
    .family = 1,
    .archs = x86_archs,
    .narchs = G_N_ELEMENTS(x86_archs),
    .parse_model = x86_parse_model,
    .from_model = x86_from_model,
    .compare = x86_compare,
    .compare_usable = x86_compare_usable,
    .baseline = x86_baseline,
    .guest = x86_guest,
    .format_guest = x86_format_guest,
    .traits = tern_cpu_traits_x86,
    .compact = x86_compact,
};
