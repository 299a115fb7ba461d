/* cpu_traits.c: CPU features as os-traits names, as Nova reports them
 * (nova/virt/libvirt/utils.py CPU_TRAITS_MAPPING and
 * cpu_features_to_traits), and traits back to features for requests.
 * The rows below are Nova's mapping (policy, not cpu_map data);
 * tests/unit/test-cpu-traits.py checks them against the installed
 * python3-nova, so a Nova change shows up as a failing test. */
#include <string.h>

#include "cpu/cpu_db.h"

const TernCpuTrait tern_cpu_traits_x86[] = {
    { "3dnow", "HW_CPU_X86_3DNOW" },
    { "abm", "HW_CPU_X86_ABM" },
    { "aes", "HW_CPU_X86_AESNI" },
    { "avx", "HW_CPU_X86_AVX" },
    { "avx2", "HW_CPU_X86_AVX2" },
    { "avx512bw", "HW_CPU_X86_AVX512BW" },
    { "avx512cd", "HW_CPU_X86_AVX512CD" },
    { "avx512dq", "HW_CPU_X86_AVX512DQ" },
    { "avx512er", "HW_CPU_X86_AVX512ER" },
    { "avx512f", "HW_CPU_X86_AVX512F" },
    { "avx512pf", "HW_CPU_X86_AVX512PF" },
    { "avx512vl", "HW_CPU_X86_AVX512VL" },
    { "avx512vnni", "HW_CPU_X86_AVX512VNNI" },
    { "avx512vbmi", "HW_CPU_X86_AVX512VBMI" },
    { "avx512ifma", "HW_CPU_X86_AVX512IFMA" },
    { "avx512vbmi2", "HW_CPU_X86_AVX512VBMI2" },
    { "avx512bitalg", "HW_CPU_X86_AVX512BITALG" },
    { "vaes", "HW_CPU_X86_AVX512VAES" },
    { "gfni", "HW_CPU_X86_AVX512GFNI" },
    { "vpclmulqdq", "HW_CPU_X86_AVX512VPCLMULQDQ" },
    { "avx512-vpopcntdq", "HW_CPU_X86_AVX512VPOPCNTDQ" },
    { "bmi1", "HW_CPU_X86_BMI" },
    { "bmi2", "HW_CPU_X86_BMI2" },
    { "pclmuldq", "HW_CPU_X86_CLMUL" },
    { "f16c", "HW_CPU_X86_F16C" },
    { "fma", "HW_CPU_X86_FMA3" },
    { "fma4", "HW_CPU_X86_FMA4" },
    { "mmx", "HW_CPU_X86_MMX" },
    { "mpx", "HW_CPU_X86_MPX" },
    { "sha-ni", "HW_CPU_X86_SHA" },
    { "sse", "HW_CPU_X86_SSE" },
    { "sse2", "HW_CPU_X86_SSE2" },
    /* Nova's key is 'sse3', a name libvirt never reports (it says 'pni'),
     * so Nova never sets this trait; neither do we. */
    { "sse3", "HW_CPU_X86_SSE3" },
    { "sse4.1", "HW_CPU_X86_SSE41" },
    { "sse4.2", "HW_CPU_X86_SSE42" },
    { "sse4a", "HW_CPU_X86_SSE4A" },
    { "ssse3", "HW_CPU_X86_SSSE3" },
    { "svm", "HW_CPU_X86_SVM" },
    { "svm", "HW_CPU_X86_AMD_SVM" },
    { "tbm", "HW_CPU_X86_TBM" },
    { "vmx", "HW_CPU_X86_VMX" },
    { "vmx", "HW_CPU_X86_INTEL_VMX" },
    { "xop", "HW_CPU_X86_XOP" },
    { NULL, NULL },
};

static GHashTable *
traits_of(const TernCpuDb *db, TernCpuArch arch, const TernCpuFeatureSet *features)
{
    GHashTable *traits = g_hash_table_new(g_str_hash, g_str_equal);
    const TernCpuArchDriver *drv = tern_cpu_driver_for_arch(arch);
    const TernCpuMap *map = tern_cpu_db_map(db, arch, NULL);
    for (const TernCpuTrait *t = drv && map ? drv->traits : NULL; t && t->feature; t++) {
        int bit = tern_cpu_map_feature(map, t->feature);
        gboolean on = bit >= 0 && tern_cpu_set_has(features, (guint) bit);
        g_hash_table_insert(traits, (gpointer) t->trait, GINT_TO_POINTER(on));
    }
    return traits;
}

GHashTable *
tern_cpu_traits(const TernCpuDb *db, const TernCpu *cpu)
{
    return traits_of(db, cpu->arch, &cpu->features);
}

GHashTable *
tern_cpu_config_traits(const TernCpuDb *db, const TernCpuHost *host, const TernCpuConfig *cfg,
                       GError **error)
{
    /* The guest CPU first: it applies Nova's option checks. */
    g_autoptr(TernCpu) guest = tern_cpu_guest_from_config(db, host, cfg, NULL, error);
    if (!guest)
        return NULL;
    TernCpuArch arch = host->cpu->arch;
    const TernCpuMap *map = tern_cpu_db_map(db, arch, error);
    TernCpuFeatureSet features = { { 0 } };
    switch (guest->mode) {
    case TERN_CPU_MODE_HOST_MODEL:
    case TERN_CPU_MODE_HOST_PASSTHROUGH:
        features = host->cpu->features;
        break;
    case TERN_CPU_MODE_CUSTOM:
        for (int i = 0; cfg->cpu_models[i]; i++) {
            const TernCpuModel *m = tern_cpu_map_model(map, cfg->cpu_models[i]);
            if (m)
                tern_cpu_set_union(&features, &features, &m->features);
        }
        break;
    case TERN_CPU_MODE_NONE:
    case TERN_CPU_MODE_HOST:
        features = guest->features;
        break;
    }
    if (guest->mode != TERN_CPU_MODE_NONE) {
        tern_cpu_set_union(&features, &features, &guest->required);
        tern_cpu_set_union(&features, &features, &guest->disabled);
    }
    return traits_of(db, arch, &features);
}

const char *
tern_cpu_trait_feature(const char *trait)
{
    for (const TernCpuTrait *t = tern_cpu_traits_x86; trait && t->feature; t++)
        if (strcmp(t->trait, trait) == 0)
            return t->feature;
    return NULL;
}

int
tern_cpu_features_for_traits(const TernCpuDb *db, TernCpuArch arch, const char *const *traits,
                             TernCpuFeatureSet *out, GError **error)
{
    const TernCpuMap *map = tern_cpu_db_map(db, arch, error);
    const TernCpuArchDriver *drv = tern_cpu_driver_for_arch(arch);
    if (!map)
        return -1;
    memset(out, 0, sizeof(*out));
    for (int i = 0; traits && traits[i]; i++) {
        for (const TernCpuTrait *t = drv->traits; t && t->feature; t++) {
            if (strcmp(t->trait, traits[i]) != 0)
                continue;
            int bit = tern_cpu_map_feature(map, t->feature);
            if (bit < 0) {
                g_set_error(error, TERN_CPU_ERROR, TERN_CPU_ERROR_UNKNOWN_FEATURE,
                            "trait %s needs CPU feature '%s', which libvirt's cpu_map for %s "
                            "does not define", traits[i], t->feature, tern_cpu_arch_name(arch));
                return -1;
            }
            tern_cpu_set_add(out, (guint) bit);
        }
    }
    return 0;
}
