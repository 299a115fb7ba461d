/* cpu_ppc64.c: the ppc64 CPU driver (ppc64le, ppc64). cpu_map gives
 * PVR-based models (POWER6 ... POWER10, e5500, e6500) and no features; a
 * guest's CPU is a POWER generation: host-model gives the host's own,
 * cpu_models=POWER8 (or power8) asks for that compatibility mode. A host of
 * generation n runs compat modes up to power<n> (libvirt's
 * ppc64CheckCompatibilityMode: compat <= host); host-passthrough guests
 * need the same generation. */
#include <stdio.h>
#include <string.h>

#include "cpu/cpu_db.h"

static const TernCpuArch ppc64_archs[] = { TERN_CPU_ARCH_PPC64LE, TERN_CPU_ARCH_PPC64 };

static guint
generation_of(const char *name)
{
    guint n = 0;
    char tail = 0;
    if (name && g_ascii_strncasecmp(name, "POWER", 5) == 0 &&
        sscanf(name + 5, "%u%c", &n, &tail) == 1)
        return n;
    return 0;
}

static int
ppc64_parse_model(TernCpuMap *map, xmlNode *node, const char *file, GError **error)
{
    g_autofree char *name = tern_cpu_xml_prop(node, "name");
    if (!name || tern_cpu_map_model(map, name)) {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_LOAD,
                    "%s: a <model> has no name or is defined twice", file);
        return -1;
    }
    TernCpuModel *m = g_new0(TernCpuModel, 1);
    m->name = g_steal_pointer(&name);
    m->vendor = -1;
    m->decode_guest = TRUE;
    m->generation = generation_of(m->name);
    m->pvrs = g_array_new(FALSE, TRUE, sizeof(TernCpuPvr));
    for (xmlNode *c = node->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (strcmp((const char *) c->name, "vendor") == 0) {
            g_autofree char *v = tern_cpu_xml_prop(c, "name");
            m->vendor = tern_cpu_map_vendor(map, v);
        } else if (strcmp((const char *) c->name, "pvr") == 0) {
            g_autofree char *value = tern_cpu_xml_prop(c, "value");
            g_autofree char *mask = tern_cpu_xml_prop(c, "mask");
            TernCpuPvr pvr = {
                value ? (guint32) g_ascii_strtoull(value, NULL, 0) : 0,
                mask ? (guint32) g_ascii_strtoull(mask, NULL, 0) : 0xffffffff,
            };
            g_array_append_val(m->pvrs, pvr);
        }
    }
    tern_cpu_map_add_model(map, m);
    return 0;
}

static int
ppc64_from_model(const TernCpuMap *map, TernCpu *cpu, const char *model,
                 const TernCpuFeatureSet *req, const TernCpuFeatureSet *dis, GError **error)
{
    if (!model)
        return 0;
    const TernCpuModel *m = tern_cpu_map_model(map, model);
    if (!m) {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_UNKNOWN_MODEL,
                    "unknown CPU model or compat mode '%s' for %s (POWER8, power9, ...)",
                    model, tern_cpu_arch_name(cpu->arch));
        return -1;
    }
    g_free(cpu->model);
    cpu->model = g_strdup(m->name);
    cpu->generation = m->generation;
    return 0;
}

static guint
oldest_generation(const TernCpuMap *map)
{
    guint min = 0;
    for (guint i = 0; i < map->models->len; i++) {
        const TernCpuModel *m = g_ptr_array_index(map->models, i);
        if (m->generation && (!min || m->generation < min))
            min = m->generation;
    }
    return min;
}

static int
ppc64_compare(const TernCpuMap *map, const TernCpu *host, const TernCpu *guest,
              TernCpuComparison *cmp)
{
    cmp->result = TERN_CPU_INCOMPATIBLE;
    if (!host->generation) {
        cmp->reason = g_strdup_printf("host CPU %s has no POWER compatibility modes",
                                      host->model ? host->model : "(unknown)");
        return 0;
    }
    if (!guest->generation) {
        if (guest->model && host->model && g_ascii_strcasecmp(guest->model, host->model) == 0)
            cmp->result = TERN_CPU_IDENTICAL;
        else
            cmp->reason = g_strdup_printf("host CPU model %s does not match required CPU model %s",
                                          host->model, guest->model ? guest->model : "(none)");
        return 0;
    }
    if (guest->mode == TERN_CPU_MODE_HOST_PASSTHROUGH && guest->generation != host->generation) {
        cmp->reason = g_strdup_printf("a host-passthrough POWER%u guest needs a POWER%u host, "
                                      "not %s", guest->generation, guest->generation, host->model);
        return 0;
    }
    if (guest->generation > host->generation) {
        cmp->reason = g_strdup_printf("host %s cannot run guests in compatibility mode power%u "
                                      "(it runs power%u to power%u)", host->model,
                                      guest->generation, oldest_generation(map),
                                      host->generation);
        return 0;
    }
    cmp->result = guest->generation == host->generation ? TERN_CPU_IDENTICAL : TERN_CPU_SUPERSET;
    return 0;
}

static const TernCpuModel *
model_of_generation(const TernCpuMap *map, guint gen)
{
    for (guint i = 0; i < map->models->len; i++) {
        const TernCpuModel *m = g_ptr_array_index(map->models, i);
        if (m->generation == gen)
            return m;
    }
    return NULL;
}

static TernCpu *
ppc64_baseline(const TernCpuMap *map, const TernCpu *const *hosts, guint n, GError **error)
{
    guint gen = 0;
    for (guint i = 0; i < n; i++) {
        if (!hosts[i]->generation) {
            g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_INCOMPATIBLE,
                        "CPU %s has no POWER compatibility modes: no common CPU",
                        hosts[i]->model ? hosts[i]->model : "(unknown)");
            return NULL;
        }
        if (!gen || hosts[i]->generation < gen)
            gen = hosts[i]->generation;
    }
    const TernCpuModel *m = model_of_generation(map, gen);
    TernCpu *cpu = tern_cpu_new(hosts[0]->arch, TERN_CPU_MODE_CUSTOM);
    cpu->model = g_strdup(m ? m->name : NULL);
    cpu->generation = gen;
    return cpu;
}

static TernCpu *
ppc64_guest(const TernCpuMap *map, const TernCpuHost *host, TernCpuMode mode,
            const char *const *models, const TernCpuFeatureSet *req, const TernCpuFeatureSet *dis,
            const TernCpuFeatureSet *wanted, GError **error)
{
    TernCpuArch arch = host ? host->cpu->arch : TERN_CPU_ARCH_PPC64LE;
    g_autoptr(TernCpu) cpu = tern_cpu_new(arch, mode);
    if (wanted && !tern_cpu_set_is_empty(wanted)) {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_INCOMPATIBLE,
                    "%s CPUs have no CPU feature flags to request", tern_cpu_arch_name(arch));
        return NULL;
    }
    if (mode == TERN_CPU_MODE_CUSTOM) {
        const TernCpuModel *m = tern_cpu_map_model(map, models[0]);
        if (!m || !m->generation) {
            g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_UNKNOWN_MODEL,
                        "Configured CPU model: %s is not a POWER compatibility mode this "
                        "host arch supports ([libvirt] cpu_models: POWER8, POWER9, POWER10)",
                        models[0]);
            return NULL;
        }
        cpu->model = g_strdup(m->name);
        cpu->generation = m->generation;
        return g_steal_pointer(&cpu);
    }
    /* host-model, host-passthrough, none: the host's own generation. */
    if (host) {
        cpu->model = g_strdup(host->cpu->model);
        cpu->generation = host->cpu->generation;
    }
    return g_steal_pointer(&cpu);
}

static void
ppc64_format_guest(const TernCpuMap *map, const TernCpu *cpu, xmlNode *node)
{
    if (cpu->mode == TERN_CPU_MODE_HOST_PASSTHROUGH) {
        xmlNewProp(node, BAD_CAST "mode", BAD_CAST "host-passthrough");
        return;
    }
    /* libvirt on ppc64: host-model with a <model> = that compatibility mode. */
    xmlNewProp(node, BAD_CAST "mode", BAD_CAST "host-model");
    if (cpu->mode == TERN_CPU_MODE_CUSTOM && cpu->generation) {
        g_autofree char *compat = g_strdup_printf("power%u", cpu->generation);
        xmlNode *m = xmlNewTextChild(node, NULL, BAD_CAST "model", BAD_CAST compat);
        xmlNewProp(m, BAD_CAST "fallback", BAD_CAST "forbid");
    }
}

static void
ppc64_compat_modes(const TernCpuMap *map, const TernCpu *host, GPtrArray *out)
{
    for (guint gen = oldest_generation(map); host->generation && gen <= host->generation; gen++)
        if (model_of_generation(map, gen))
            g_ptr_array_add(out, g_strdup_printf("power%u", gen));
}

static void
ppc64_compact(const TernCpuMap *map, const TernCpu *cpu, TernCpuCompact *out)
{
    out->gen_max = (guint8) cpu->generation;
    out->gen_exact = cpu->mode == TERN_CPU_MODE_HOST_PASSTHROUGH;
}

const TernCpuArchDriver tern_cpu_driver_ppc64 = {
    .name = "ppc64",
    .family = 2,
    .archs = ppc64_archs,
    .narchs = G_N_ELEMENTS(ppc64_archs),
    .parse_model = ppc64_parse_model,
    .from_model = ppc64_from_model,
    .compare = ppc64_compare,
    .baseline = ppc64_baseline,
    .guest = ppc64_guest,
    .format_guest = ppc64_format_guest,
    .compat_modes = ppc64_compat_modes,
    .compact = ppc64_compact,
};
