/* cpu.c: the dispatcher. The only place that picks an arch driver
 * (cpu_x86.c, cpu_ppc64.c) by arch; everything here forwards to the driver
 * table after the arch-neutral checks. Also the TernCpu value helpers. */
#include <string.h>

#include "cpu/cpu_db.h"

static const TernCpuArchDriver *const drivers[] = {
    &tern_cpu_driver_x86,
    &tern_cpu_driver_ppc64,
    NULL,
};

static const struct {
    TernCpuArch arch;
    const char *name;
} arch_names[] = {
    { TERN_CPU_ARCH_I686, "i686" },
    { TERN_CPU_ARCH_X86_64, "x86_64" },
    { TERN_CPU_ARCH_PPC64, "ppc64" },
    { TERN_CPU_ARCH_PPC64LE, "ppc64le" },
};

const char *
tern_cpu_arch_name(TernCpuArch arch)
{
    for (guint i = 0; i < G_N_ELEMENTS(arch_names); i++)
        if (arch_names[i].arch == arch)
            return arch_names[i].name;
    return "none";
}

TernCpuArch
tern_cpu_arch_from_name(const char *name)
{
    for (guint i = 0; name && i < G_N_ELEMENTS(arch_names); i++)
        if (strcmp(arch_names[i].name, name) == 0)
            return arch_names[i].arch;
    return TERN_CPU_ARCH_NONE;
}

const char *
tern_cpu_mode_name(TernCpuMode mode)
{
    switch (mode) {
    case TERN_CPU_MODE_HOST: return "host";
    case TERN_CPU_MODE_HOST_MODEL: return "host-model";
    case TERN_CPU_MODE_HOST_PASSTHROUGH: return "host-passthrough";
    case TERN_CPU_MODE_CUSTOM: return "custom";
    case TERN_CPU_MODE_NONE: return "none";
    }
    return "?";
}

const TernCpuArchDriver *
tern_cpu_driver_for_arch(TernCpuArch arch)
{
    for (int d = 0; drivers[d]; d++)
        for (guint i = 0; i < drivers[d]->narchs; i++)
            if (drivers[d]->archs[i] == arch)
                return drivers[d];
    return NULL;
}

const TernCpuArchDriver *
tern_cpu_driver_for_map_name(const char *name)
{
    for (int d = 0; name && drivers[d]; d++)
        if (strcmp(drivers[d]->name, name) == 0)
            return drivers[d];
    return NULL;
}

TernCpu *
tern_cpu_new(TernCpuArch arch, TernCpuMode mode)
{
    TernCpu *cpu = g_new0(TernCpu, 1);
    cpu->arch = arch;
    cpu->mode = mode;
    return cpu;
}

TernCpu *
tern_cpu_copy(const TernCpu *cpu)
{
    TernCpu *c = g_memdup2(cpu, sizeof(*cpu));
    c->model = g_strdup(cpu->model);
    c->vendor = g_strdup(cpu->vendor);
    return c;
}

void
tern_cpu_free(TernCpu *cpu)
{
    if (!cpu)
        return;
    g_free(cpu->model);
    g_free(cpu->vendor);
    g_free(cpu);
}


/* Split "+a", "-b", "c" into required / disabled sets (lower-cased names
 * must be cpu_map features of the arch). */
int
tern_cpu_parse_flags(const TernCpuMap *map, TernCpuArch arch, const char *const *flags,
                     TernCpuFeatureSet *req, TernCpuFeatureSet *dis, GError **error)
{
    memset(req, 0, sizeof(*req));
    memset(dis, 0, sizeof(*dis));
    for (int i = 0; flags && flags[i]; i++) {
        g_autofree char *flag = g_ascii_strdown(flags[i], -1);
        g_strstrip(flag);
        const char *name = flag;
        gboolean off = FALSE;
        if (*name == '-') {
            off = TRUE;
            name++;
        } else if (*name == '+') {
            name++;
        }
        if (!*name)
            continue;
        int bit = tern_cpu_map_feature(map, name);
        if (bit < 0) {
            const char *canon = g_hash_table_lookup(map->feature_alias, name);
            g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_UNKNOWN_FEATURE,
                        "unknown CPU feature '%s' for %s%s%s%s", name, tern_cpu_arch_name(arch),
                        canon ? " (libvirt calls it '" : "", canon ? canon : "",
                        canon ? "')" : map->features->len ? "" : ": this arch has no CPU flags");
            return -1;
        }
        tern_cpu_set_add(off ? dis : req, (guint) bit);
        tern_cpu_set_del(off ? req : dis, (guint) bit);
    }
    return 0;
}

TernCpu *
tern_cpu_from_model(const TernCpuDb *db, TernCpuArch arch, TernCpuMode mode,
                    const char *model, const char *const *flags, GError **error)
{
    const TernCpuMap *map = tern_cpu_db_map(db, arch, error);
    TernCpuFeatureSet req, dis;
    if (!map || tern_cpu_parse_flags(map, arch, flags, &req, &dis, error) < 0)
        return NULL;
    g_autoptr(TernCpu) cpu = tern_cpu_new(arch, mode);
    if (map->driver->from_model(map, cpu, model, &req, &dis, error) < 0)
        return NULL;
    return g_steal_pointer(&cpu);
}

static gint
cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

GPtrArray *
tern_cpu_feature_names(const TernCpuDb *db, TernCpuArch arch, const TernCpuFeatureSet *set)
{
    GPtrArray *names = g_ptr_array_new();
    const TernCpuMap *map = tern_cpu_db_map(db, arch, NULL);
    guint n = map && map->features->len ? map->features->len - 1 : 0;
    for (int i = tern_cpu_set_next(set, -1); i >= 0; i = tern_cpu_set_next(set, i))
        if ((guint) i < n)
            g_ptr_array_add(names, g_ptr_array_index(map->features, i));
    g_ptr_array_sort(names, cmp_str);
    return names;
}

char *
tern_cpu_feature_list(const TernCpuDb *db, TernCpuArch arch, const TernCpuFeatureSet *set)
{
    g_autoptr(GPtrArray) names = tern_cpu_feature_names(db, arch, set);
    g_ptr_array_add(names, NULL);
    return g_strjoinv(", ", (char **) names->pdata);
}

int
tern_cpu_compare(const TernCpuDb *db, const TernCpu *host, const TernCpu *guest,
                 TernCpuComparison *cmp, GError **error)
{
    TernCpuComparison local = { 0 };
    TernCpuComparison *c = cmp ? cmp : &local;
    memset(c, 0, sizeof(*c));
    const TernCpuArchDriver *hd = tern_cpu_driver_for_arch(host->arch);
    const TernCpuArchDriver *gd = tern_cpu_driver_for_arch(guest->arch);
    if (!hd || !gd) {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_ARCH,
                    "no CPU support for arch %s",
                    tern_cpu_arch_name(hd ? guest->arch : host->arch));
        return -1;
    }
    if (hd != gd) {
        c->result = TERN_CPU_INCOMPATIBLE;
        c->reason = g_strdup_printf("guest CPU arch %s does not match host arch %s",
                                    tern_cpu_arch_name(guest->arch),
                                    tern_cpu_arch_name(host->arch));
    } else {
        hd->compare(&db->maps[hd->family], host, guest, c);
    }
    int r = (int) c->result;
    if (!cmp)
        tern_cpu_comparison_clear(&local);
    return r;
}

int
tern_cpu_compare_hypervisor(const TernCpuDb *db, const TernCpuHost *host, const TernCpu *guest,
                            TernCpuComparison *cmp, GError **error)
{
    const TernCpu *hv = tern_cpu_host_model_cpu(host);
    const TernCpuArchDriver *drv = tern_cpu_driver_for_arch(hv->arch);
    if (drv && drv->compare_usable && drv == tern_cpu_driver_for_arch(guest->arch) &&
        guest->mode == TERN_CPU_MODE_CUSTOM && guest->model && host->have_domcaps &&
        g_ptr_array_find_with_equal_func(host->usable_models, guest->model, g_str_equal, NULL)) {
        TernCpuComparison local = { 0 };
        TernCpuComparison *c = cmp ? cmp : &local;
        memset(c, 0, sizeof(*c));
        if (drv->compare_usable(&db->maps[drv->family], hv, guest, c)) {
            int r = (int) c->result;
            if (!cmp)
                tern_cpu_comparison_clear(&local);
            return r;
        }
        tern_cpu_comparison_clear(c);
    }
    return tern_cpu_compare(db, hv, guest, cmp, error);
}

TernCpu *
tern_cpu_baseline(const TernCpuDb *db, const TernCpu *const *hosts, guint n, GError **error)
{
    if (n == 0) {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_XML, "baseline of no CPUs");
        return NULL;
    }
    const TernCpuArchDriver *drv = tern_cpu_driver_for_arch(hosts[0]->arch);
    if (!drv) {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_ARCH, "no CPU support for arch %s",
                    tern_cpu_arch_name(hosts[0]->arch));
        return NULL;
    }
    for (guint i = 1; i < n; i++) {
        if (tern_cpu_driver_for_arch(hosts[i]->arch) != drv) {
            g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_INCOMPATIBLE,
                        "CPUs of different arches (%s, %s) have no common CPU",
                        tern_cpu_arch_name(hosts[0]->arch), tern_cpu_arch_name(hosts[i]->arch));
            return NULL;
        }
    }
    return drv->baseline(&db->maps[drv->family], hosts, n, error);
}

GPtrArray *
tern_cpu_compat_modes(const TernCpuDb *db, const TernCpu *host)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    const TernCpuArchDriver *drv = tern_cpu_driver_for_arch(host->arch);
    if (drv && drv->compat_modes)
        drv->compat_modes(&db->maps[drv->family], host, out);
    return out;
}

void
tern_cpu_compact(const TernCpuDb *db, const TernCpu *cpu, TernCpuCompact *out)
{
    memset(out, 0, sizeof(*out));
    const TernCpuArchDriver *drv = tern_cpu_driver_for_arch(cpu->arch);
    if (!drv)
        return;
    out->family = (guint8) drv->family;
    out->arch = (guint8) cpu->arch;
    drv->compact(&db->maps[drv->family], cpu, out);
}


TernCpu *
tern_cpu_guest_for_mode(const TernCpuDb *db, TernCpuArch arch, const TernCpuHost *host,
                        TernCpuMode mode, const char *const *models, const char *const *flags,
                        const TernCpuFeatureSet *wanted, GError **error)
{
    const TernCpuMap *map = tern_cpu_db_map(db, arch, error);
    TernCpuFeatureSet req, dis;
    if (!map || tern_cpu_parse_flags(map, arch, flags, &req, &dis, error) < 0)
        return NULL;
    return map->driver->guest(map, host, mode, models, &req, &dis, wanted, error);
}


void
tern_cpu_format_guest(const TernCpuDb *db, const TernCpu *cpu, xmlNode *node)
{
    const TernCpuArchDriver *drv = tern_cpu_driver_for_arch(cpu->arch);
    if (drv)
        drv->format_guest(&db->maps[drv->family], cpu, node);
}
