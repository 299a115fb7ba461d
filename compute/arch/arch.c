/* arch.c: the only place that picks a guest strategy table by arch name. */
#include "compute/arch/arch.h"

#include "compute/compute_error.h"

extern const TernArchDriver tern_arch_x86_64;
extern const TernArchDriver tern_arch_ppc64le;
extern const TernArchDriver tern_arch_ppc64;

static const TernArchDriver *const drivers[] = {
    &tern_arch_x86_64,
    &tern_arch_ppc64le,
    &tern_arch_ppc64,
};

const TernArchDriver *
tern_arch_driver_find(const char *arch)
{
    if (!arch)
        return NULL;
    for (gsize i = 0; i < G_N_ELEMENTS(drivers); i++)
        if (tern_arch_strv_has(drivers[i]->arches, arch))
            return drivers[i];
    return NULL;
}

char *
tern_arch_driver_names(void)
{
    GString *s = g_string_new(NULL);
    for (gsize i = 0; i < G_N_ELEMENTS(drivers); i++)
        for (const char *const *a = drivers[i]->arches; *a; a++)
            g_string_append_printf(s, "%s%s", s->len ? ", " : "", *a);
    return g_string_free(s, FALSE);
}

const TernArchDriver *
tern_arch_driver_get(const char *arch, GError **error)
{
    const TernArchDriver *drv = tern_arch_driver_find(arch);
    if (!drv) {
        g_autofree char *names = tern_arch_driver_names();
        g_set_error(error, TERN_COMPUTE_ERROR, TERN_COMPUTE_ERROR_UNSUPPORTED,
                    "tern cannot build guests of arch '%s' (it has strategies for %s)",
                    arch ? arch : "(none)", names);
    }
    return drv;
}
