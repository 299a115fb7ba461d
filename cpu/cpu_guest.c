/* cpu_guest.c: the guest CPU a host gives under [libvirt] cpu_mode,
 * cpu_models and cpu_model_extra_flags, with Nova Zed's semantics
 * (nova/virt/libvirt/driver.py _get_guest_cpu_model_config and
 * _check_cpu_compatibility): an unset cpu_mode is host-model; cpu_models
 * only with custom, and required there; models and flags case-insensitive;
 * "+flag"/"flag" require, "-flag" disables. Start-up validation is here too. */
#include <string.h>

#include "cpu/cpu_db.h"

static int
parse_mode(const char *s, TernCpuMode *mode, GError **error)
{
    if (!s || !*s)
        *mode = TERN_CPU_MODE_HOST_MODEL;   /* Nova's default for kvm and qemu */
    else if (strcmp(s, "host-model") == 0)
        *mode = TERN_CPU_MODE_HOST_MODEL;
    else if (strcmp(s, "host-passthrough") == 0)
        *mode = TERN_CPU_MODE_HOST_PASSTHROUGH;
    else if (strcmp(s, "custom") == 0)
        *mode = TERN_CPU_MODE_CUSTOM;
    else if (strcmp(s, "none") == 0)
        *mode = TERN_CPU_MODE_NONE;
    else {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_CONFIG,
                    "[libvirt] cpu_mode = %s: use host-model, host-passthrough, custom or none", s);
        return -1;
    }
    return 0;
}

static gboolean
has_items(const char *const *list)
{
    return list && list[0];
}

/* Nova's option checks (_check_cpu_compatibility's first part). */
static int
check_options(const TernCpuConfig *cfg, TernCpuMode mode, GError **error)
{
    if (mode != TERN_CPU_MODE_CUSTOM && has_items(cfg->cpu_models)) {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_CONFIG,
                    "[libvirt] cpu_models is only used with cpu_mode = custom (cpu_mode is %s): "
                    "remove cpu_models or set cpu_mode = custom", tern_cpu_mode_name(mode));
        return -1;
    }
    if (mode == TERN_CPU_MODE_CUSTOM && !has_items(cfg->cpu_models)) {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_CONFIG,
                    "[libvirt] cpu_models is required when cpu_mode = custom");
        return -1;
    }
    return 0;
}

TernCpu *
tern_cpu_guest_from_config(const TernCpuDb *db, const TernCpuHost *host,
                           const TernCpuConfig *cfg, const TernCpuFeatureSet *wanted,
                           GError **error)
{
    TernCpuMode mode;
    if (parse_mode(cfg->cpu_mode, &mode, error) < 0 || check_options(cfg, mode, error) < 0)
        return NULL;
    if (!host) {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_CONFIG,
                    "the guest CPU needs the host's CPU (capabilities XML)");
        return NULL;
    }
    return tern_cpu_guest_for_mode(db, host->cpu->arch, host, mode, cfg->cpu_models,
                                   mode == TERN_CPU_MODE_NONE ? NULL : cfg->cpu_model_extra_flags,
                                   wanted, error);
}

int
tern_cpu_validate_config(const TernCpuDb *db, const TernCpuHost *host,
                         const TernCpuConfig *cfg, GError **error)
{
    TernCpuMode mode;
    if (parse_mode(cfg->cpu_mode, &mode, error) < 0 || check_options(cfg, mode, error) < 0)
        return -1;
    if (mode == TERN_CPU_MODE_NONE)
        return 0;
    if (!host) {
        g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_CONFIG,
                    "validating the guest CPU needs the host's CPU (capabilities XML)");
        return -1;
    }
    /* What the guest CPU is checked against: the host-model CPU for named
     * models (what QEMU can give), the physical CPU for passthrough. */
    const TernCpu *against = mode == TERN_CPU_MODE_HOST_PASSTHROUGH
        ? host->cpu : tern_cpu_host_model_cpu(host);
    const char *const one_null[] = { NULL };
    const char *const *models = mode == TERN_CPU_MODE_CUSTOM ? cfg->cpu_models : one_null;
    for (int i = 0; mode != TERN_CPU_MODE_CUSTOM ? i == 0 : models[i] != NULL; i++) {
        const char *const only[] = { models[i], NULL };
        g_autoptr(GError) err = NULL;
        g_autoptr(TernCpu) guest = tern_cpu_guest_for_mode(db, host->cpu->arch, host, mode,
                                                           only, cfg->cpu_model_extra_flags,
                                                           NULL, &err);
        if (!guest) {
            g_propagate_error(error, g_steal_pointer(&err));
            return -1;
        }
        TernCpuComparison cmp;
        tern_cpu_compare(db, against, guest, &cmp, NULL);
        if (cmp.result == TERN_CPU_INCOMPATIBLE) {
            g_autofree char *flags = cfg->cpu_model_extra_flags
                ? g_strjoinv(",", (char **) cfg->cpu_model_extra_flags) : g_strdup("");
            g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_INCOMPATIBLE,
                        "Configured CPU model: %s and CPU flags '%s' are not compatible with "
                        "the host CPU %s: %s. Correct [libvirt] cpu_models / "
                        "cpu_model_extra_flags.",
                        guest->model ? guest->model : tern_cpu_mode_name(mode), flags,
                        against->model ? against->model : "(unknown)", cmp.reason);
            tern_cpu_comparison_clear(&cmp);
            return -1;
        }
        tern_cpu_comparison_clear(&cmp);
    }
    return 0;
}
